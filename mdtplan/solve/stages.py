"""The lexicographic stage loop: each objective stage solved in turn in the same HiGHS
instance, holds keeping the earlier stages' optima, a clean-up LP after each MIP stage, and the
gap reported in the stage's own units.

Objectives are lexicographic sequences of stages (see :mod:`mdtplan.model.objective`); each
stage is warm-started from the previous stage's plan. One time limit covers them all
(:class:`~mdtplan.solve.budget.TimeBudget`: a stage followed by tie-breaks gets a share of
what is left, each MIP stage keeps some back for its clean-up LP).

The functions take the :class:`~mdtplan.solve.session.Session` whose HiGHS instance, compiled
arrays and stage vectors they work on.
"""

from __future__ import annotations

from dataclasses import dataclass
from time import perf_counter

import highspy
import numpy as np

from . import edit, patterns, relax
from .budget import TimeBudget, cancelled_now
from .highs import HIGHS_ABS_GAP, ONE_THREAD_ROWS, relative_gap, root_lp_solver
from .status import _RANK, SolveOptions, SolveResult, SolveStatus, map_status

INF = highspy.kHighsInf
_MS = highspy.HighsModelStatus
#: a tie-break stage left less than this is not started [s]
MIN_TIE_BREAK_S = 0.5
#: a stage proven over whole hubs (:mod:`mdtplan.solve.patterns`) within this relative gap
#: counts as optimal (the search's bound is taken a pound and 1e-7 below its optimum, to
#: stay valid whatever the rounding of its LPs and MIPs)
PROVEN_GAP = 1e-6


@dataclass(frozen=True)
class _Hold:
    """A lexicographic hold row of a session without a Pyomo model yet."""

    stage: str
    row: int | None


def stage_vectors(session) -> list[tuple[str, np.ndarray, float, object]]:
    """[(stage, cost vector, offset, hold constraint or None)] in lexicographic order."""
    m = session._source
    if not session.has_model:  # from_data: the direct build's vectors; holds by row
        k = session._compiled
        mm = session._mm
        start, stop = mm.row_spans.get("stage_optimum_held", (0, 0))
        held = {mm.keys["stage_optimum_held"][int(mm.row_member[i])]: i
                for i in range(start, stop)}
        last = len(k.stages) - 1
        return [(st, vec.copy(), 0.0, _Hold(st, held.get(st)) if i < last else None)
                for i, (st, vec) in enumerate(k.stages)]
    if not hasattr(m, "STAGES"):
        k = session._compiled
        return [("objective", k.c0.copy(), k.offset0, None)]
    from ..model.objective import STAGE_COMPONENTS

    out = []
    stages = list(m.STAGES)
    direct = session._compiled.stages
    for i, stage in enumerate(stages):
        expr = getattr(m, STAGE_COMPONENTS[stage])
        if direct is not None and direct[i][0] == stage:
            vec, off = direct[i][1].copy(), 0.0
        elif i == 0:
            k = session._compiled
            vec, off = k.c0.copy(), k.offset0
        else:
            vec, off = edit.vector(session, expr)
        hold = m.stage_optimum_held[stage] if i < len(stages) - 1 else None
        out.append((stage, vec, off, hold))
    n = session._ncols()
    return [(s, np.pad(v, (0, n - len(v))), o, h) for s, v, o, h in out]


def polish_reserve(session, options: SolveOptions) -> float:
    """Seconds kept back from a MIP stage for its clean-up LP (none for a pure integer
    model): a twentieth of the limit, at most 2 s."""
    if not session.is_mip or relax.integer_or_relaxed(session, session._ncols()).all():
        return 0.0
    return min(2.0, 0.05 * float(options.time_limit_s))


def polish(session, x: np.ndarray, budget: TimeBudget, stage: str = "",
           stages: list | None = None, options: SolveOptions | None = None,
           position: int = 0) -> np.ndarray:
    """Fix the integer columns at ``x`` and re-solve the LP for the continuous ones.

    A MIP solution's continuous values are only as exact as the solver's tolerances (an
    agency FTE of 2.000025 where 2 is optimal); with the integers fixed, the LP puts them
    at a vertex. Given the objective's ``stages`` (``session._stages``) and the ``position``
    of the one being polished, the same fixed plan is then made best for each later stage
    in turn, in what is left of ``budget``, every earlier stage held as the stage loop holds
    it (:func:`hold_value`, never looser than it held it): a plan whose hubs and staff are
    settled by the first goal runs its levers and agency as the later goals want even when
    those goals get no MIP time of their own (a what-if cut short after its first stage
    would otherwise keep whatever lever values the first goal's LP happened to end on).
    That plan is kept only if it stays within those holds (:func:`_keeps_holds`), else the
    stage's own clean-up is; every hold and the stage's costs are put back afterwards.
    Returns ``x`` unchanged when there is nothing continuous, no time left, or the first
    LP fails; a later LP that fails keeps what the earlier ones gave.
    """
    k = session._compiled
    n = session._ncols()
    ints = np.flatnonzero(relax.integer_or_relaxed(session, n))
    if len(ints) == n or budget.left() <= 1e-3:
        return x
    h = session.highs
    xi = np.round(x[ints])
    lo, hi = k.col_lower[ints], k.col_upper[ints]
    stages = list(stages or [])
    restore: list = []  # (hold, bound before)
    try:
        h.changeColsBounds(len(ints), ints.astype(np.int32), xi, xi)
        h.changeColsIntegrality(len(ints), ints.astype(np.int32),
                                np.zeros(len(ints), dtype=np.int32))
        session.handle.set_time_limit(budget.grant(f"polish {stage}".strip(), budget.left()),
                                      lp=True)
        session.handle.run()
        if h.getModelStatus() != _MS.kOptimal:
            return x
        y = np.asarray(h.getSolution().col_value, dtype=float)
        y[ints] = xi
        own = y
        for j in range(position + 1, len(stages)):
            if budget.left() <= 1e-3 or options is None:
                break
            if not _hold_all(session, stages[:j], y, options, restore):
                break  # nothing in HiGHS would keep an earlier stage's value
            nxt = np.pad(stages[j][1], (0, n - len(stages[j][1])))
            h.changeColsCost(n, np.arange(n, dtype=np.int32), nxt)
            session.handle.set_time_limit(budget.grant(f"polish {stages[j][0]}",
                                                       budget.left()), lp=True)
            session.handle.run()
            if h.getModelStatus() != _MS.kOptimal:
                break
            y = np.asarray(h.getSolution().col_value, dtype=float)
            y[ints] = xi
        return y if _keeps_holds(stages[:position + 1], y, own, restore, options) else own
    finally:
        h.changeColsBounds(len(ints), ints.astype(np.int32), lo, hi)
        h.changeColsIntegrality(len(ints), ints.astype(np.int32),
                                relax.highs_integrality(session, ints))
        for hold, before in reversed(restore):
            set_hold(session, hold, before)
        if restore:
            cost = np.pad(stages[position][1], (0, n - len(stages[position][1])))
            h.changeColsCost(n, np.arange(n, dtype=np.int32), cost)


def _value(vec: np.ndarray, offset: float, x: np.ndarray) -> float:
    """A stage's value at the plan ``x`` (its vector may be shorter than the columns)."""
    return float(vec @ x[: len(vec)] + offset)


def _hold_all(session, earlier: list, y: np.ndarray, options: SolveOptions,
              restore: list) -> bool:
    """Hold each of the ``earlier`` stages at its value at ``y`` as the stage loop would
    (:func:`hold_value`), never looser than it was held; each hold's bound before is noted
    in ``restore`` the first time. False when one of them has no row in HiGHS."""
    original = {id(hd): b for hd, b in restore}
    for i, (name, vec, off, hold) in enumerate(earlier):
        if hold is None or (isinstance(hold, _Hold) and hold.row is None):
            return False
        bound = hold_value(name, i, _value(vec, off, y), options)
        if id(hold) not in original:
            original[id(hold)] = hold_bound(session, hold)
            restore.append((hold, original[id(hold)]))
        set_hold(session, hold, min(bound, original[id(hold)]))
    return True


def _keeps_holds(upto: list, y: np.ndarray, own: np.ndarray, restore: list,
                 options: SolveOptions | None) -> bool:
    """Whether the later stages' LPs left the plan ``y`` as good as ``own`` (the stage's
    own clean-up) on every stage up to the one polished, within the stage loop's holds:
    an LP's answer is only as exact as its tolerances, and a plan a hair over an earlier
    hold would make the next stage's hold unreachable."""
    if y is own or options is None:
        return True
    before = {id(hd): b for hd, b in restore}
    for i, (name, vec, off, hold) in enumerate(upto):
        mine, theirs = _value(vec, off, y), _value(vec, off, own)
        limit = hold_value(name, i, theirs, options)
        if hold is not None and before.get(id(hold), INF) < INF:
            limit = min(limit, max(before[id(hold)], theirs))
        if mine > limit:
            return False
    return True


def bounded_below(session) -> bool:
    """Whether every stage's cost is bounded below on the column bounds."""
    k = session._compiled
    n = session._ncols()
    for _, vec, _, _ in session._stages:
        v = np.pad(vec, (0, n - len(vec)))
        if np.any((v > 0) & (k.col_lower <= -INF)) or np.any((v < 0) & (k.col_upper >= INF)):
            return False
    return True


def stage_gap(session, info, shift: float) -> tuple[float | None, float | None]:
    """(HiGHS's relative gap, dual bound in the stage's own units)."""
    if not session.is_mip:
        return 0.0, None
    bound = float(info.mip_dual_bound)
    if not np.isfinite(bound):
        return None, None
    gap = float(info.mip_gap)
    return (gap if np.isfinite(gap) else None), bound - shift


def gap_shift(session, stage: str) -> float:
    """Constant added to a stage's HiGHS objective so its relative gap means what users mean.

    ``unmet_hours`` is measured against demand *met*: HiGHS minimises
    ``unmet - total demand`` (= -demand met), so ``mip_gap`` 0.005 stops within 0.5% of the
    most demand that can be met, not within 0.5% of a small unmet figure (which would
    demand near-exact proofs). Every other stage: 0.
    """
    m = session._source
    if stage != "unmet_hours" or not hasattr(m, "mdtplan_index"):
        return 0.0
    return -float(m.mdtplan_index.demand.sum()) * float(session.param_value("demand_scale"))


#: how far HiGHS may leave an integer column from a whole number, and a row from its bound,
#: ten times its defaults (``mip_feasibility_tolerance``, ``primal_feasibility_tolerance``)
_INT_TOL, _ROW_TOL = 1e-5, 1e-6
#: below this the absolute gap is not worth asking for (the stage keeps HiGHS's own)
_MIN_WHOLE_GAP = 0.5


def whole_number_gap(session, vec: np.ndarray, offset: float) -> float | None:
    """The absolute gap that proves the stage ``vec`` (+ ``offset``) optimal when its value
    is a whole number on every plan, or None.

    The value is a whole number when every column it prices is integer, or an assignment
    solved as continuous where that is exact (:mod:`mdtplan.solve.relax`: the rounded plan
    is priced by whole areas, and the relaxation's optimum is the binary one's), and every
    price and the offset are whole numbers (a p-median's integral distances, population 1).
    A plan ``best`` with ``best - bound < 1`` then leaves no whole number between the bound
    and it. HiGHS finds this itself only when every priced column is integer, which the
    relaxed assignment is not. HiGHS's plan is only within its tolerances of the whole plan
    it stands for, so the gap is 1 less what those tolerances can move the value (an integer
    column ``1e-5`` off its whole number at each price; an area's shares ``1e-6`` off summing
    to 1 at its largest price); None when that leaves under :data:`_MIN_WHOLE_GAP` (pounds on
    whole FTE: the tolerances alone can move such a value by pounds).
    """
    if not session.is_mip:
        return None
    n = session._ncols()
    v = np.asarray(vec, dtype=float)[:n]
    nz = np.flatnonzero(v)
    if not len(nz) or not np.isfinite(offset) or abs(offset - round(offset)) > 1e-9:
        return None
    if not relax.integer_or_relaxed(session, n)[nz].all():
        return None
    if not np.all(np.abs(v[nz] - np.round(v[nz])) <= 1e-9):
        return None
    integer = session._compiled.integrality[:n] != 0
    slack = 0.0
    rel = getattr(session, "_relaxation", None)
    if rel is not None and rel.relaxed and len(rel.columns):
        keep = rel.columns < n
        integer = integer.copy()
        integer[rel.columns[keep]] = False  # continuous in HiGHS: priced per area below
        worst = np.zeros(int(rel.group.max()) + 1)
        np.maximum.at(worst, rel.group[keep], np.abs(v[rel.columns[keep]]))
        slack += _ROW_TOL * float(worst.sum())
    slack += _INT_TOL * float(np.abs(v[integer]).sum())
    gap = 1.0 - HIGHS_ABS_GAP - slack
    return gap if gap >= _MIN_WHOLE_GAP else None


def integral_bound(value: float, bound: float | None) -> float | None:
    """A whole-number stage's proven bound rounded up (its optimum is a whole number), never
    above the plan's ``value``."""
    if bound is None or not np.isfinite(bound):
        return bound
    return min(max(bound, float(np.ceil(bound - 1e-7))), value)


def hold_value(stage: str, position: int, value: float, options: SolveOptions) -> float:
    """The bound later stages must keep on this stage's quantity.

    The optimum plus a rounding tolerance; a cost stage that is itself a tie-break
    (``max_demand_met``'s second stage) may give up to the MIP gap, as its optimum is only
    known within that gap anyway.
    """
    tol = 1e-9 * abs(value) + 1e-6
    if stage == "cost_gbp" and position > 0:
        return value * (1.0 + max(float(options.mip_gap), 0.0)) + tol
    return value + tol


def hold_bound(session, hold) -> float:
    if isinstance(hold, _Hold):
        return float(session._hold_bounds.get(hold.stage, INF))
    return float(session.model.params.stage_optimum_bound[hold.index()].value)


def set_hold(session, hold, bound: float) -> None:
    hi = INF if bound >= INF else float(bound)
    if isinstance(hold, _Hold):  # no Pyomo model yet: remember the bound
        session._hold_bounds[hold.stage] = hi
        row = hold.row
    else:
        session.model.params.stage_optimum_bound[hold.index()].set_value(
            hi if hi < INF else float("inf"))
        row = session._compiled.row_of.get(id(hold))
        if row is None:  # the compiler dropped it: derive it from the model
            edit.refresh_row(session, hold)
            return
    if row is not None:  # a stage quantity's coefficients are constants: only its bound
        session.highs.changeRowBounds(row, float(session._compiled.row_lower[row]), hi)
        session._compiled.row_upper[row] = hi


def run(session, options: SolveOptions, budget: TimeBudget, start, state: dict, cancel,
        progress, cut_plan, bounded_below: bool, t_start: float) -> tuple[SolveResult, dict]:
    """Solve every stage of ``session`` in turn from ``start`` and load the best plan.

    ``state`` is the solve's, shared with the HiGHS callbacks (``stage``, ``shift``,
    ``cancelled``); ``cut_plan`` is what :meth:`RoundingCuts.plan
    <mdtplan.solve.cut_plan.RoundingCuts.plan>` decided (its rows are in HiGHS for the stages
    only); ``t_start`` is when the solve call began (``perf_counter`` [s]).

    Returns
    -------
    (SolveResult, dict)
        The result, and the bound each held stage was held at (stage -> value).
    """
    h = session.highs
    one_thread_before = session.handle.one_thread_runs
    stage_objectives: dict[str, float] = {}
    stage_status: dict[str, str] = {}
    stage_gaps: dict[str, float | None] = {}
    stage_bounds: dict[str, float | None] = {}
    stage_shift: dict[str, float] = {}
    statuses: list[SolveStatus] = []
    x_best: np.ndarray | None = None
    highs_seconds = 0.0
    nodes = 0
    primary_bound = None
    primary_gap = None
    message = ""
    held_at: dict[str, float] = {}
    session._cuts.add(session.highs, cut_plan, budget, progress, session._stages[0][0])
    try:
        for i, (stage, vec, offset, hold) in enumerate(session._stages):
            state["stage"] = stage
            if cancel is not None and cancel.is_set():
                state["cancelled"] = True
                break
            seconds = budget.stage_seconds(i, len(session._stages),
                                           polish_reserve(session, options))
            # a tie-break stage with under half a second would overrun it in presolve alone
            if i > 0 and seconds < MIN_TIE_BREAK_S:
                message = f"time limit reached before tie-break stage '{stage}'"
                statuses.append(SolveStatus.feasible_at_limit)
                break
            vec = np.pad(vec, (0, session._ncols() - len(vec)))
            whole_gap = whole_number_gap(session, vec, offset)
            session.handle.apply_options(options, budget.grant(f"stage {stage}", seconds),
                                         mip=session.is_mip, root_lp=_root_lp(session),
                                         abs_gap=whole_gap)
            h.changeColsCost(len(vec), np.arange(len(vec), dtype=np.int32), vec)
            shift = gap_shift(session, stage)
            state["shift"] = shift
            h.changeObjectiveOffset(offset + shift)
            t_search = perf_counter()
            found = patterns.stage_search(session, options, budget, i, vec, offset + shift,
                                          state, held_at, cancel, start=start)
            hubs_x, hubs_bound = (found[0], found[1] - shift) if found is not None \
                else (None, -np.inf)
            # every area at its cheapest allowed pair: travel's bound without a solve
            hubs_bound = max(hubs_bound, patterns.nearest_bound(session, vec, offset))
            state["floor"] = hubs_bound  # HiGHS's progress reports never fall below it
            hubs_proven = False
            if hubs_x is not None:
                hubs_value = _value(vec, offset, hubs_x)
                hubs_proven = bool(found[2].proven) and relative_gap(
                    hubs_value, hubs_bound, shift) <= max(float(options.mip_gap), PROVEN_GAP)
                if start is None or not isinstance(start, np.ndarray) \
                        or hubs_value < _value(vec, offset, start):
                    start = hubs_x
            if hubs_x is not None and progress is not None:
                _tell(progress, stage, hubs_value, hubs_bound, budget.elapsed(),
                      f"{stage}: {found[2].patterns:,} possible hubs, "
                      + ("proven best" if hubs_proven else "best set of them so far"))
            if hubs_proven:  # the stage is proven over whole hubs: HiGHS is not needed
                status = SolveStatus.optimal
                stage_status[stage] = status.value
                x = relax.round_plan(session, hubs_x)
                gap, bound = 0.0, hubs_bound
            else:
                if start is not None:
                    session.handle.set_start(start, session._ncols())
                if found is not None:  # the search took some of the stage's time: regrant
                    # what is left of the stage's share, so the later stages keep theirs
                    session.handle.set_time_limit(budget.grant(
                        f"stage {stage}", min(budget.stage_seconds(
                            i, len(session._stages), polish_reserve(session, options)),
                            max(seconds - (perf_counter() - t_search), MIN_TIE_BREAK_S))),
                        lp=False)
                t = perf_counter()
                try:
                    run_status = session.handle.run()
                except Exception as err:  # pragma: no cover - guard (cf. Pyomo #2920)
                    statuses.append(SolveStatus.error)
                    message = f"HiGHS raised during stage '{stage}': {err}"
                    break
                highs_seconds += perf_counter() - t
                model_status = h.getModelStatus()
                info = h.getInfo()
                has_sol = info.primal_solution_status == highspy.kSolutionStatusFeasible
                status = map_status(model_status, has_sol, bounded_below)
                if run_status == highspy.HighsStatus.kError and status.has_solution:
                    status = SolveStatus.error
                nodes += int(max(info.mip_node_count, 0)) if session.is_mip else 0
                stage_status[stage] = status.value
                if model_status == _MS.kInterrupt and cancel is not None and cancel.is_set():
                    state["cancelled"] = True
                if not status.has_solution:
                    if i == 0 or x_best is None:
                        statuses.append(status)
                        message = message or session.handle.status_message(stage, model_status)
                    else:
                        statuses.append(SolveStatus.feasible_at_limit)
                        message = f"tie-break stage '{stage}' found no better plan: " \
                                  f"{h.modelStatusToString(model_status)}"
                    break
                x = relax.round_plan(session, np.asarray(h.getSolution().col_value, dtype=float))
                gap, bound = stage_gap(session, info, shift)
                if np.isfinite(hubs_bound) and (bound is None or hubs_bound > bound):
                    bound = hubs_bound  # the whole hubs' bound is the stronger
            if session.is_mip and not cancelled_now(cancel):
                t = perf_counter()
                x = polish(session, x, budget, stage, session._stages, options, i)
                highs_seconds += perf_counter() - t
            x_best = x
            value = _value(vec, offset, x)
            stage_objectives[stage] = value
            if whole_gap is not None:
                bound = integral_bound(value, bound)
            if bound is not None:
                gap = relative_gap(value, bound, shift)
            stage_gaps[stage] = gap
            stage_bounds[stage] = bound if bound is not None and np.isfinite(bound) else None
            stage_shift[stage] = shift
            if i == 0:
                primary_bound, primary_gap = bound, gap
            statuses.append(status)
            if state["cancelled"]:
                break
            if hold is not None:
                held_at[stage] = hold_value(stage, i, value, options)
                set_hold(session, hold, held_at[stage])
            start = x
    finally:
        session._cuts.remove(session.highs)
        if session.is_mip:  # later solves on this instance (what-ifs, follow-ups) ask anew
            h.setOptionValue("mip_abs_gap", HIGHS_ABS_GAP)
    if x_best is not None:
        session._last_x = x_best
    highs_status = max(statuses, key=_RANK.__getitem__) if statuses else (
        SolveStatus.feasible_at_limit if x_best is not None else SolveStatus.no_solution)
    if x_best is not None and highs_status in (SolveStatus.infeasible, SolveStatus.error,
                                               SolveStatus.unbounded):
        # a later stage cannot make the problem infeasible: keep the earlier plan
        highs_status = SolveStatus.feasible_at_limit
    cancelled = bool(state["cancelled"])
    if cancelled:
        message = "cancelled"
        highs_status = (SolveStatus.feasible_at_limit if x_best is not None
                        else SolveStatus.no_solution)

    t = perf_counter()
    objective = None
    if x_best is not None:
        session._load(x_best)
        stage0, vec0, off0, _ = session._stages[0]
        objective = _value(vec0, off0, x_best)
        for stage, vec, off, _ in session._stages:
            stage_objectives[stage] = _value(vec, off, x_best)
            if stage_bounds.get(stage) is not None:  # the gap of the plan returned
                stage_gaps[stage] = relative_gap(stage_objectives[stage], stage_bounds[stage],
                                                 stage_shift[stage])
        if primary_bound is not None and np.isfinite(primary_bound):
            primary_gap = relative_gap(objective, primary_bound,
                                       gap_shift(session, session._stages[0][0]))
    load_seconds = perf_counter() - t
    session._last_status = highs_status
    if not message and highs_status == SolveStatus.optimal:
        message = "optimal"
    elif not message and highs_status == SolveStatus.feasible_at_limit:
        message = ("stopped at a limit with a plan, gap reported" if primary_gap is not None
                   else "stopped at a limit with a plan, before any bound: gap unknown")
    compile_s = 0.0 if session._solved_once else session.compile_seconds
    session._solved_once = True
    result = SolveResult(
        status=highs_status,
        objective=objective,
        mip_gap=primary_gap if x_best is not None else None,
        dual_bound=primary_bound,
        solve_seconds=perf_counter() - t_start + compile_s,
        build_seconds=getattr(session._source, "mdtplan_build_seconds", None),
        compile_seconds=compile_s,
        highs_run_seconds=highs_seconds,
        load_seconds=load_seconds,
        node_count=nodes,
        message=message,
        stage_objectives=stage_objectives,
        stage_status=stage_status,
        stage_gaps=stage_gaps,
        stage_bounds=stage_bounds,
        cancelled=cancelled,
        cuts_seconds=(session.cut_report["seconds"] if session.cut_report
                      and not session.cut_report["reused_from_last_solve"] else 0.0),
        notes=(one_thread_note(session.handle.threads),)
        if session.handle.one_thread_runs > one_thread_before else (),
    )
    return result, held_at


def one_thread_note(threads: int) -> str:
    """The warning of a solve whose MIP ran on one thread where more were asked."""
    return (f"HiGHS ran this model's MIP on one thread, not the {threads} set (solver.threads, "
            f"--threads): on a model of {ONE_THREAD_ROWS:,} rows or more, HiGHS's analytic-centre task (run beside "
            "its first LP, with no time limit) can outlast the time limit by tens of seconds "
            "with more threads, and its branch and bound uses one thread anyway "
            "(docs/solving.md, 'HiGHS options')")


def _tell(progress, stage: str, value: float, bound: float, elapsed: float,
          message: str) -> None:
    """A progress event for a plan found outside HiGHS (as HiGHS's callbacks make them)."""
    gap = relative_gap(value, bound) if np.isfinite(bound) else None
    try:
        progress({"stage": "solve", "objective_stage": stage, "event": "improving",
                  "primal": value, "dual": bound if np.isfinite(bound) else None, "gap": gap,
                  "elapsed_s": elapsed, "nodes": 0, "message": message})
    except Exception:  # noqa: BLE001 - a progress display never stops a solve
        pass


def _root_lp(session) -> str:
    """:func:`~mdtplan.solve.highs.root_lp_solver` for the session's model."""
    ix = getattr(session._source, "mdtplan_index", None)
    staffed = ix is not None and bool(ix.staff)
    return root_lp_solver(staffed, len(session._compiled.row_lower),
                          contiguous=session.has_constraint("catchment_contiguous"))

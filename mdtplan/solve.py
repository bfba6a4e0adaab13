"""Solve the Pyomo model of record with HiGHS, through highspy directly.

The model is compiled once to matrices with Pyomo's ``LinearStandardFormCompiler`` (mixed form:
rows keep their sense), or (:meth:`Session.from_data`) built straight from the data by
:mod:`mdtplan.model.matrix` (the same arrays, proven by :func:`compile_differences`, several
times faster, the Pyomo model built only on demand), and handed to ``highspy.Highs.passModel`` as numpy arrays. Owning the
HiGHS object gives us progress callbacks, cancellation, MIP starts and in-place re-solves, which
:class:`Session` exposes; :func:`solve` is the one-shot form.

Status is honest (:class:`SolveStatus`): the HiGHS model status is mapped before any value is
read, values are loaded into the Pyomo variables only when HiGHS holds a feasible solution, and
a cancelled solve *returns* (status ``feasible_at_limit`` when it had a plan, else
``no_solution``; ``cancelled=True``, message ``"cancelled"``) rather than raising, so the service
can keep the best plan found so far.

Objectives are lexicographic sequences of stages (see :mod:`mdtplan.model.objective`); each stage
is solved in turn in the same HiGHS object, warm-started from the previous stage's plan. The
first stage starts from a complete heuristic plan (:mod:`mdtplan.warm_start`), checked against
every row before HiGHS gets it. One time limit covers the whole solve (:class:`TimeBudget`).

Nothing here reads files or prints.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from time import perf_counter

import highspy
import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pyomo.common.collections import ComponentMap
from pyomo.repn import generate_standard_repn
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from . import cuts
from .errors import ModelError, Problem, SolveError
from .highs_pool import new_highs
from .highs_pool import scheduler as _scheduler

INF = highspy.kHighsInf
_MS = highspy.HighsModelStatus

ProgressFn = Callable[[dict], None]


class SolveStatus(str, Enum):
    """Coarse, honest outcome of a solve.

    ``optimal``: proven optimal within the requested MIP gap (every stage).
    ``feasible_at_limit``: a plan was found but a limit (time, cancel, ...) stopped the proof;
    the gap is reported. ``infeasible``: proven that no plan satisfies the rules.
    ``unbounded``: the objective can fall without limit (a modelling error).
    ``no_solution``: stopped at a limit before any plan was found. ``error``: the solver failed.
    """

    optimal = "optimal"
    feasible_at_limit = "feasible_at_limit"
    infeasible = "infeasible"
    unbounded = "unbounded"
    no_solution = "no_solution"
    error = "error"

    @property
    def has_solution(self) -> bool:
        return self in (SolveStatus.optimal, SolveStatus.feasible_at_limit)


@dataclass(frozen=True)
class SolveOptions:
    """What the solver may spend and how (from ``scenario.solver`` or the CLI).

    Parameters
    ----------
    time_limit_s : float
        Wall-clock limit for the whole solve [s]: the heuristic start, every lexicographic
        stage and its clean-up LP together, and on a session's first solve also building and
        compiling the model (:class:`TimeBudget`). Marginal values are extra.
    mip_gap : float
        Relative MIP gap at which a stage counts as optimal (0 = prove optimality).
    threads : int
        HiGHS threads.
    seed : int
        HiGHS random seed (same seed, same machine -> same answer).
    presolve : bool
        HiGHS presolve.
    warm_start : bool
        Give HiGHS a heuristic plan as a MIP start (:func:`greedy_start`; never changes the
        optimum, only the time).
    rounding_cuts : bool
        Add :mod:`mdtplan.cuts`'s valid inequalities (each hub's least rounding cost) to the
        solver's rows while a staffed ``min_cost``-like model is solved (never changes the
        optimum: they remove no plan; they raise the proven bound).
    """

    time_limit_s: float = 60.0
    mip_gap: float = 0.005
    threads: int = 2
    seed: int = 0
    presolve: bool = True
    warm_start: bool = True
    rounding_cuts: bool = True


@dataclass(frozen=True)
class SolveResult:
    """The solver's report.

    Attributes
    ----------
    status : SolveStatus
    objective : float or None
        The first (primary) stage's quantity at the returned plan [its units].
    mip_gap : float or None
        Relative gap of the primary stage: ``(objective - dual_bound) / |objective|``; for
        ``unmet_hours`` (``max_demand_met``) relative to the demand *met*,
        ``(objective - dual_bound) / (total demand - objective)``. ``None`` when no bound was
        proven.
    dual_bound : float or None
        Lower bound on the primary stage's optimum.
    solve_seconds : float
        Wall time of the solve call: compile + HiGHS + loading values [s].
    build_seconds, compile_seconds, highs_run_seconds, load_seconds : float
        Stage timings [s] (build is the model's, measured by ``build_model``).
    node_count : int
        Branch-and-bound nodes, all stages.
    message : str
    stage_objectives : dict
        Stage name -> its value at the returned plan (lexicographic order).
    stage_status : dict
        Stage name -> SolveStatus value of that stage's solve.
    stage_gaps : dict
        Stage name -> relative MIP gap of that stage.
    cancelled : bool
    cuts_seconds : float
        Time spent finding this solve's rounding cuts (:mod:`mdtplan.cuts`) [s]; 0 when they
        did not apply or were made by an earlier solve of the session.
    """

    status: SolveStatus
    objective: float | None = None
    mip_gap: float | None = None
    dual_bound: float | None = None
    solve_seconds: float = 0.0
    build_seconds: float | None = None
    compile_seconds: float = 0.0
    highs_run_seconds: float = 0.0
    load_seconds: float = 0.0
    node_count: int = 0
    message: str = ""
    stage_objectives: dict = field(default_factory=dict)
    stage_status: dict = field(default_factory=dict)
    stage_gaps: dict = field(default_factory=dict)
    cancelled: bool = False
    cuts_seconds: float = 0.0

    @property
    def has_solution(self) -> bool:
        """Whether values were loaded into the model (a plan exists)."""
        return self.status.has_solution

    @property
    def timings(self) -> dict:
        """Stage timings [s], keyed like the pipeline's (``build_s``, ``compile_s``, ...)."""
        out = {"compile_s": self.compile_seconds, "highs_s": self.highs_run_seconds,
               "load_s": self.load_seconds, "solve_s": self.solve_seconds}
        if self.build_seconds is not None:
            out["build_s"] = self.build_seconds
        if self.cuts_seconds:
            out["cuts_s"] = self.cuts_seconds
        return out


# --------------------------------------------------------------------------------------------
# Status mapping


_LIMITS = {_MS.kTimeLimit, _MS.kIterationLimit, _MS.kSolutionLimit, _MS.kObjectiveBound,
           _MS.kObjectiveTarget, _MS.kInterrupt, _MS.kMemoryLimit, _MS.kUnknown}
if hasattr(_MS, "kHighsInterrupt"):
    _LIMITS.add(_MS.kHighsInterrupt)
_ERRORS = {_MS.kNotset, _MS.kLoadError, _MS.kModelError, _MS.kPresolveError, _MS.kSolveError,
           _MS.kPostsolveError}


def map_status(model_status, has_solution: bool, bounded_below: bool = True) -> SolveStatus:
    """HiGHS model status -> :class:`SolveStatus` (checked before any value is read).

    ``kUnboundedOrInfeasible`` is reported ``infeasible`` when the objective is bounded below by
    construction (every cost >= 0 on variables with finite lower bounds, as in every mdtplan
    model), else ``unbounded``.
    """
    if model_status == _MS.kOptimal or model_status == _MS.kModelEmpty:
        return SolveStatus.optimal
    if model_status == _MS.kInfeasible:
        return SolveStatus.infeasible
    if model_status == _MS.kUnbounded:
        return SolveStatus.unbounded
    if model_status == _MS.kUnboundedOrInfeasible:
        return SolveStatus.infeasible if bounded_below else SolveStatus.unbounded
    if model_status in _LIMITS:
        return SolveStatus.feasible_at_limit if has_solution else SolveStatus.no_solution
    return SolveStatus.error


_RANK = {SolveStatus.optimal: 0, SolveStatus.feasible_at_limit: 1, SolveStatus.no_solution: 2,
         SolveStatus.unbounded: 3, SolveStatus.infeasible: 4, SolveStatus.error: 5}


# --------------------------------------------------------------------------------------------
# Compiling the Pyomo model to matrices


def _bound(v, default):
    return default if v is None else float(v)


@dataclass
class _Compiled:
    columns: list
    col_of: dict  # id(VarData) -> column (the VarData are held in ``columns``)
    col_lower: np.ndarray
    col_upper: np.ndarray
    integrality: np.ndarray
    rows: list
    row_of: dict  # id(ConstraintData) -> row (held in ``rows``)
    row_lower: np.ndarray
    row_upper: np.ndarray
    A: object
    c0: np.ndarray
    offset0: float
    #: every objective stage's cost vector (direct build only; else derived from Pyomo)
    stages: list | None = None


def compile_model(model) -> _Compiled:
    """Compile ``model`` to HiGHS arrays (columns, rows, CSC matrix, first objective).

    Rows come from ``LinearStandardFormCompiler(mixed_form=True)``; a constraint with two finite
    bounds (which it splits in two rows) is merged back into one ranged row, so every Pyomo
    constraint is exactly one HiGHS row (named by :attr:`rows`). Column bounds and integrality
    come from the variables.
    """
    active = [o for o in model.component_data_objects(pyo.Objective, active=True)]
    if len(active) != 1:
        raise ModelError(f"the model must have exactly one active objective, not {len(active)}")
    info = LinearStandardFormCompiler().write(model, mixed_form=True,
                                              set_sense=pyo.minimize)
    columns = list(info.columns)
    n = len(columns)
    col_lower = np.empty(n)
    col_upper = np.empty(n)
    integrality = np.zeros(n, dtype=np.int32)
    integer_domain: dict = {}
    for j, v in enumerate(columns):
        lb, ub = v.bounds
        col_lower[j] = _bound(lb, -INF)
        col_upper[j] = _bound(ub, INF)
        dom = v.domain
        is_int = integer_domain.get(id(dom))
        if is_int is None:
            is_int = integer_domain[id(dom)] = bool(v.is_integer())
        if is_int:
            integrality[j] = 1
    col_of = {id(v): j for j, v in enumerate(columns)}
    rhs = np.asarray(info.rhs, dtype=float)
    senses = np.fromiter((r.bound_type for r in info.rows), dtype=np.int64, count=len(info.rows))
    lower = np.where(senses >= 0, np.where(senses == 0, rhs, -INF), rhs)
    upper = np.where(senses <= 0, np.where(senses == 0, rhs, INF), rhs)
    A = info.A
    cons = [r.constraint for r in info.rows]
    dup = np.zeros(len(cons), dtype=bool)
    for i in range(1, len(cons)):
        if cons[i] is cons[i - 1]:
            dup[i] = True
    if dup.any():
        first = np.flatnonzero(dup) - 1
        lower[first] = np.maximum(lower[first], lower[dup])
        upper[first] = np.minimum(upper[first], upper[dup])
        keep = ~dup
        A = A.tocsr()[keep].tocsc()
        lower, upper = lower[keep], upper[keep]
        cons = [c for c, k in zip(cons, keep, strict=True) if k]
    row_of = {id(c): i for i, c in enumerate(cons)}
    A = A.tocsc()
    A.sort_indices()
    c = info.c
    c0 = np.asarray(c[[0], :].toarray()).reshape(-1) if c.shape[0] else np.zeros(n)
    offset0 = float(info.c_offset[0]) if len(info.c_offset) else 0.0
    return _Compiled(columns, col_of, col_lower, col_upper, integrality, cons, row_of, lower,
                     upper, A, c0, offset0)


# --------------------------------------------------------------------------------------------
# The direct build, proven equal to the Pyomo compile


def compile_differences(model, mm=None, compiled=None) -> list[str]:
    """How :func:`mdtplan.model.matrix.build_matrix` differs from Pyomo's compile of ``model`` (empty: none).

    Compares, in order, the columns and rows (component and index of each), column bounds,
    integrality, row bounds, the first objective and every coefficient of the matrix (exactly:
    the same float). ``model`` is a model from :func:`~mdtplan.model.build.build_model`, with
    its mutable parameters as they are now; ``compiled`` is its :func:`compile_model` when
    already made. The test suite and the benchmark (every instance) call it.
    """
    from .model.matrix import build_matrix, model_params

    k = compiled if compiled is not None else compile_model(model)
    mm = mm if mm is not None else build_matrix(model.mdtplan_data, model.mdtplan_index,
                                                model_params(model))
    def key(fam, member):
        return fam, mm.keys[fam][member]

    out = []
    pc = [(v.parent_component().local_name, v.index()) for v in k.columns]
    mc = [key(f, int(i)) for f, i in zip(mm.col_family, mm.col_member, strict=True)]
    if pc != mc:
        first = next((i for i, (a, b) in enumerate(zip(pc, mc, strict=False)) if a != b),
                     min(len(pc), len(mc)))
        out.append(f"columns: Pyomo {len(pc)}, direct {len(mc)}; first difference at {first}")
    pr = [(c.parent_component().local_name, c.index()) for c in k.rows]
    mr = [key(f, int(i)) for f, i in zip(mm.row_family, mm.row_member, strict=True)]
    if pr != mr:
        first = next((i for i, (a, b) in enumerate(zip(pr, mr, strict=False)) if a != b),
                     min(len(pr), len(mr)))
        out.append(f"rows: Pyomo {len(pr)}, direct {len(mr)}; first difference at {first}")
    if out:
        return out
    for name, a, b, names in (("column lower bounds", k.col_lower, mm.col_lower, pc),
                              ("column upper bounds", k.col_upper, mm.col_upper, pc),
                              ("integrality", k.integrality, mm.integrality, pc),
                              ("row lower bounds", k.row_lower, mm.row_lower, pr),
                              ("row upper bounds", k.row_upper, mm.row_upper, pr),
                              ("objective", k.c0, mm.c0, pc)):
        a, b = np.asarray(a, float), np.asarray(b, float)
        bad = np.flatnonzero(~((a == b) | (np.isnan(a) & np.isnan(b))))
        if len(bad):
            out.append(f"{name}: {len(bad)} differ, e.g. {names[bad[0]]}: Pyomo {a[bad[0]]}, "
                       f"direct {b[bad[0]]}")
    A = k.A.tocsc().copy()
    A.sort_indices()
    B = mm.A
    if not (np.array_equal(A.indptr, B.indptr) and np.array_equal(A.indices, B.indices)):
        out.append(f"matrix pattern: Pyomo {A.nnz} nonzeros, direct {B.nnz}")
    elif not np.array_equal(A.data, B.data):
        bad = np.flatnonzero(A.data != B.data)
        out.append(f"matrix values: {len(bad)} of {A.nnz} differ (largest relative "
                   f"{float(np.max(np.abs(A.data[bad] - B.data[bad]) / np.abs(A.data[bad]))):.3g})")
    return out


def _model_objects(model, mm) -> tuple[list, list]:
    """The Pyomo variables and constraints behind a direct build's columns and rows (each is
    its component's ``col_member``/``row_member``-th member)."""
    members: dict = {}

    def pick(families, positions):
        out = []
        for f, p in zip(families, positions.tolist(), strict=True):
            if f not in members:
                members[f] = list(model.component(f).values())
            out.append(members[f][p])
        return out

    return pick(mm.col_family, mm.col_member), pick(mm.row_family, mm.row_member)


def _linear(expr) -> tuple[list, list, float]:
    """(vars, coefficients, constant) of a linear Pyomo expression, parameters evaluated."""
    repn = generate_standard_repn(expr, compute_values=True, quadratic=False)
    if repn.nonlinear_expr is not None:
        raise ModelError("a stage quantity is not linear")
    return list(repn.linear_vars), [float(x) for x in repn.linear_coefs], float(repn.constant)


# --------------------------------------------------------------------------------------------
# Time


class TimeBudget:
    """What is left of a solve's time limit, and what each part of the solve was given.

    One solve (all its lexicographic stages, their clean-up LPs, the heuristic start and, on
    the first solve of a session, building and compiling the model) shares
    ``limit_s``. Every grant is logged in :attr:`log` (``run``, ``given_s``, ``left_s``) so
    tests can check that no part is ever given more than is left.

    Parameters
    ----------
    limit_s : float
        The solve's time limit [s].
    spent_s : float
        Already used before the solve started (build and compile) [s].
    clock : callable, optional
        Seconds from a monotonic clock (default ``time.perf_counter``).
    """

    #: share of what is left that a stage gets when later (tie-break) stages follow it
    STAGE_SHARE = 0.85

    def __init__(self, limit_s: float, spent_s: float = 0.0, clock=None):
        self.limit_s = float(limit_s)
        self._clock = clock or perf_counter
        self._t0 = self._clock() - float(spent_s)
        self.log: list[dict] = []

    def elapsed(self) -> float:
        return self._clock() - self._t0

    def left(self) -> float:
        """Seconds left [s], never negative."""
        return max(0.0, self.limit_s - self.elapsed())

    def grant(self, run: str, seconds: float) -> float:
        """Give ``run`` up to ``seconds``, never more than is left; logged."""
        left = self.left()
        given = min(max(float(seconds), 0.0), left)
        self.log.append({"run": run, "given_s": given, "left_s": left})
        return given

    def stage_seconds(self, position: int, count: int, reserve: float) -> float:
        """Time for lexicographic stage ``position`` of ``count``: what is left less
        ``reserve`` (its clean-up LP), and, when later stages follow, only
        :attr:`STAGE_SHARE` of that, so a stage stopped by the limit leaves its tie-breaks
        some time (a stage that finishes early leaves them the rest)."""
        usable = max(self.left() - reserve, 0.0)
        return usable if position >= count - 1 else usable * self.STAGE_SHARE


# --------------------------------------------------------------------------------------------
# The session


#: variable components of the model (the rest of a direct build's ``keys`` are constraints)
VAR_NAMES = ("open_site", "assign", "fte_steps", "agency_fte", "unmet_hours", "max_travel_cost")


class _Job:
    """Work that may run in a second thread while this one does other work: the heuristic
    start's search (Python and numpy, no solver) while this thread makes the rounding cuts
    (HiGHS site MIPs, which let go of the GIL while they solve), so the two share the
    machine's cores and the solve waits for the longer of them, not their sum. Each is made
    from the model alone, so the start and the rows are the ones made one after the other;
    every HiGHS run stays in the solve's own thread.

    ``fn(stop)`` is the work; ``stop()`` is true once :meth:`abandon` was called, a job
    that :meth:`tie` bound it to failed, or the caller's own stop says so. :meth:`start` runs
    it in a thread; :meth:`result` waits for it (or runs it here when it was never started,
    and once only) and raises what it raised. :attr:`seconds`: how long the work ran.
    """

    seconds = 0.0

    def __init__(self, fn: Callable, stop: Callable[[], bool] | None = None):
        self._fn = fn
        self._outer = stop
        self._abandoned = threading.Event()
        self._thread: threading.Thread | None = None
        self._done = False
        self._out = None
        self._err: BaseException | None = None
        self._tied: list[threading.Event] = []
        #: what the other side tells the work before it runs (e.g. the search's grant)
        self.context: dict = {}

    def tie(self, other: _Job) -> None:
        """Stop ``other`` at its next check when this job fails."""
        self._tied.append(other._abandoned)

    def stop(self) -> bool:
        return self._abandoned.is_set() or bool(self._outer is not None and self._outer())

    def _call(self) -> None:
        t = perf_counter()
        try:
            self._out = self._fn(self.stop)
        except BaseException as err:  # noqa: BLE001 - raised again by result()
            self._err = err
            for event in self._tied:
                event.set()
        finally:
            self.seconds = perf_counter() - t
            self._done = True

    def start(self) -> None:
        if self._thread is None and not self._done:
            self._thread = threading.Thread(target=self._call, name="mdtplan-start",
                                            daemon=True)
            self._thread.start()

    def abandon(self) -> None:
        """Ask the work to stop at its next check, and wait for it."""
        self._abandoned.set()
        if self._thread is not None:
            self._thread.join()

    def result(self):
        if self._thread is not None:
            self._thread.join()
        elif not self._done:
            self._call()
        if self._err is not None:
            raise self._err
        return self._out


@dataclass(frozen=True)
class _Hold:
    """A lexicographic hold row of a session without a Pyomo model yet."""

    stage: str
    row: int | None


@dataclass(eq=False)
class _ViewVar:
    """A variable of a :class:`ModelView` (what the MIP start heuristic reads and sets)."""

    family: str
    member: int
    lower: float | None = None
    upper: float | None = None


class _ViewFamily:
    """A variable component of a :class:`ModelView`; its members are made when asked for."""

    def __init__(self, name: str, keys: list, lower=None, upper=None):
        self._name, self._keys = name, keys
        self._lower, self._upper = lower, upper
        self._vars: list | None = None
        self._pos: dict | None = None

    def values(self):
        if self._vars is None:
            n = len(self._keys)
            lo = [None] * n if self._lower is None else self._lower
            up = [None] * n if self._upper is None else self._upper
            self._vars = [_ViewVar(self._name, i, lo[i], up[i]) for i in range(n)]
        return list(self._vars)

    def __getitem__(self, key):
        if self._pos is None:
            self._pos = {k: i for i, k in enumerate(self._keys)}
        if self._vars is None:
            self.values()
        return self._vars[self._pos[key]]

    def __len__(self):
        return len(self._keys)


class ModelView:
    """The model's data seen as :func:`mdtplan.warm_start.build_start` reads a built model
    (index, data, parameter values, the constraint components present, ``open_site``
    bounds), for a session whose Pyomo model is not built yet. Parameters hold their
    initial values (a session builds the Pyomo model before changing any)."""

    def __init__(self, data, ix, mm):
        self.mdtplan_index = ix
        self.mdtplan_data = data
        self.demand_scale = 1.0
        self.hub_population_lower = data.hub_population_min
        self.hub_population_upper = data.hub_population_max
        self.hub_count_lower = int(data.hub_count_min or 0)
        self.hub_count_upper = data.hub_count_max
        self.budget_cap_gbp = data.budget_cap_gbp
        self.STAGES = [stage for stage, _ in mm.stages]  # objective_stages(data, ix)
        for name in mm.keys:
            if name not in VAR_NAMES:
                setattr(self, name, True)  # only its presence is read
        status = data.sites["status"].astype(str)
        row_of = {s: i for i, s in enumerate(status.index.tolist())}
        if len(row_of) == len(status):  # by position (a reindex costs more than the rest)
            status = status.to_numpy()
            # a site id not in the table has no status (reindex: NaN): not required
            required = [s in row_of and status[row_of[s]] == "required" for s in ix.site_ids]
        else:
            required = status.reindex(ix.site_ids).to_numpy() == "required"
        self.open_site = _ViewFamily("open_site", ix.site_ids,
                                     lower=[1.0 if r else 0.0 for r in required],
                                     upper=[1.0] * len(ix.site_ids))
        self.assign = _ViewFamily("assign", ix.pairs)
        for name in ("fte_steps", "agency_fte", "unmet_hours"):
            setattr(self, name, _ViewFamily(name, ix.staff))
        if "max_travel_cost" in mm.keys:
            self.max_travel_cost = _ViewVar("max_travel_cost", 0)
        # per variable component: member -> column (-1 where the build dropped it)
        self._col: dict[str, np.ndarray] = {}
        for f, (start, stop) in mm.col_spans.items():
            col = np.full(len(mm.keys[f]), -1, dtype=np.int64)
            col[mm.col_member[start:stop]] = np.arange(start, stop)
            self._col[f] = col

    def column(self, var: _ViewVar) -> int | None:
        """The HiGHS column of ``var``, or None when the direct build dropped it."""
        col = self._col.get(var.family)
        j = -1 if col is None else int(col[var.member])
        return None if j < 0 else j

    def family_columns(self, family: str) -> np.ndarray | None:
        """The HiGHS column of every member of variable component ``family`` (-1 where the
        direct build dropped it), in the index's member order (``ix.site_ids`` for
        ``open_site``, ``ix.pairs`` for ``assign``, ``ix.staff`` for the staff families);
        None when the model has no such component."""
        return self._col.get(family)

    def start_columns(self, plan, complete: bool) -> dict:
        """A :class:`~mdtplan.warm_start.StartPlan` as ``{column: value}`` (as
        :func:`mdtplan.warm_start.start_values`; only hubs and assignment unless
        ``complete``)."""
        ix = self.mdtplan_index
        hit = np.zeros(len(ix.pairs))
        hit[plan.pair] = 1.0
        values = {"open_site": np.asarray(plan.is_open, dtype=float), "assign": hit}
        if complete and ix.staff:
            values.update(fte_steps=np.asarray(plan.steps, float),
                          agency_fte=np.asarray(plan.agency_fte, float),
                          unmet_hours=np.asarray(plan.unmet_hours, float))
        out: dict = {}
        for f, v in values.items():
            col = self._col.get(f)
            if col is None:
                continue
            keep = col >= 0
            out.update(zip(col[keep].tolist(), v[keep].tolist(), strict=True))
        if complete and "max_travel_cost" in self._col and self._col["max_travel_cost"][0] >= 0:
            out[int(self._col["max_travel_cost"][0])] = float(plan.max_travel)
        return out

    def values(self, x: np.ndarray, compiled) -> dict[str, np.ndarray]:
        """Each variable component's values from the solution ``x`` as :meth:`Session._load`
        would set them: integers rounded, clipped to the bounds; columns the build dropped at
        their lower bound (0 when none)."""
        ix = self.mdtplan_index
        n = len(compiled.col_lower)
        xi = np.asarray(x, dtype=float)[:n].copy()
        ints = compiled.integrality[:n].astype(bool)
        xi[ints] = np.round(xi[ints])
        xi = np.minimum(np.maximum(xi, compiled.col_lower[:n]), compiled.col_upper[:n])
        out = {"open_site": np.array([v.lower for v in self.open_site.values()], dtype=float),
               "assign": np.zeros(len(ix.pairs))}
        for name in ("fte_steps", "agency_fte", "unmet_hours"):
            out[name] = np.zeros(len(ix.staff))
        for f, col in self._col.items():
            if f in out:
                keep = col >= 0
                out[f][keep] = xi[col[keep]]
        return out


class Session:
    """A Pyomo model held in HiGHS for repeated, in-place solves.

    Parameters
    ----------
    model : ConcreteModel
        From :func:`mdtplan.model.build.build_model` (any linear Pyomo model with one active
        objective works; lexicographic stages need the mdtplan attributes).
    options : SolveOptions, optional

    Examples
    --------
    A budget sweep re-solves the same HiGHS model, each solve warm-started from the last::

        session = Session(build_model(data), SolveOptions(mip_gap=0))
        for cap in (40e6, 45e6, 50e6):
            session.set_param("budget_cap_gbp", cap)
            result = session.solve()
            tables = extract_tables(session.model, data)

    Notes
    -----
    * ``set_param`` changes a mutable Pyomo parameter and re-derives, from the Pyomo model, the
      rows that use it (:data:`mdtplan.model.build.PARAM_DEPENDENTS`): the Pyomo model stays the
      model of record and HiGHS follows it.
    * ``set_constraint_bounds`` and ``set_var_bounds`` do the same for bounds.
    * Each :meth:`solve` starts from the previous plan when it is still feasible.
    """

    def __init__(self, model, options: SolveOptions | None = None, *, _data=None, _ix=None):
        t0 = perf_counter()
        self._model = model
        self._view = None
        self._pending_x: np.ndarray | None = None
        self._hold_bounds: dict = {}
        self.options = options or SolveOptions()
        if model is None:  # from_data: the arrays now, the Pyomo model when something needs it
            from .model.build import index_data
            from .model.matrix import build_matrix, default_params

            ix = _ix if _ix is not None else index_data(_data)
            self._mm = build_matrix(_data, ix)
            #: the mutable parameters' values (changed in place by :meth:`set_param`)
            self._params = {k: v for k, v in default_params(_data, ix).items()
                            if k not in ("staff_fte_max", "stage_optimum_bound")}
            self._view = ModelView(_data, ix, self._mm)
            mm = self._mm
            self._compiled = _Compiled(
                None, {}, mm.col_lower.copy(), mm.col_upper.copy(),
                mm.integrality.astype(np.int32), None, {}, mm.row_lower.copy(),
                mm.row_upper.copy(), mm.A, mm.c0.copy(), float(mm.offset0), stages=mm.stages)
        else:
            self._mm = None
            self._compiled = compile_model(model)
        self.highs = new_highs()
        self._configure_base()
        k = self._compiled
        A = k.A
        status = self.highs.passModel(
            len(k.col_lower), len(k.row_lower), int(A.nnz), int(highspy.MatrixFormat.kColwise),
            int(highspy.ObjSense.kMinimize), k.offset0, k.c0, k.col_lower, k.col_upper,
            k.row_lower, k.row_upper, A.indptr.astype(np.int32), A.indices.astype(np.int32),
            A.data.astype(float), k.integrality)
        if status == highspy.HighsStatus.kError:
            raise SolveError("HiGHS refused the model (passModel failed)")
        self._stages = self._stage_vectors()
        self._edited = False  # rows or coefficients changed since the compile
        #: what the last MIP start was (see :meth:`_checked_start`), or None
        self.start_report: dict | None = None
        #: the time budget of the last solve (its log says what each run was given)
        self.budget: TimeBudget | None = None
        self._last_x: np.ndarray | None = None
        self._last_status: SolveStatus | None = None
        self._threads = int(self.options.threads)
        self.compile_seconds = perf_counter() - t0
        #: time spent building the Pyomo model later, on demand (``from_data`` sessions) [s]
        self.model_build_seconds = 0.0

    @classmethod
    def from_data(cls, data, options: SolveOptions | None = None, ix=None) -> Session:
        """A session on the direct build of ``data``, the Pyomo model built only on demand.

        HiGHS gets :func:`mdtplan.model.matrix.build_matrix`'s arrays (the very problem
        ``build_model(data)`` compiles to: :func:`compile_differences`); solving, the MIP start,
        the plan's tables (:meth:`tables`), holds, row duals and marginal values work on them.
        The Pyomo model of record is built the first time :attr:`model` is read (e.g. by
        :meth:`set_param`, :meth:`set_var_bounds` or :meth:`refresh`), with the session's
        holds and last plan loaded into it; from then on the session works as one made from it.
        Run :func:`mdtplan.model.build.check_data` first: nothing is checked here. ``ix`` is
        ``index_data(data)`` when already made.
        """
        return cls(None, options, _data=data, _ix=ix)

    @property
    def model(self):
        """The Pyomo model of record (built now if this session was made ``from_data``)."""
        if self._model is None:
            self._materialise()
        return self._model

    @property
    def has_model(self) -> bool:
        """Whether the Pyomo model exists yet (always, unless made ``from_data``)."""
        return self._model is not None

    def _materialise(self) -> None:
        from .model.build import build_model

        t = perf_counter()
        view, mm, k = self._view, self._mm, self._compiled
        m = build_model(view.mdtplan_data, check=False)
        from .model.build import set_demand_scale

        for name, value in self._params.items():  # numbers changed in place so far
            if name == "demand_scale":
                set_demand_scale(m, float(value))
            elif m.component(name) is not None:
                m.component(name).set_value(value)
        k.columns, k.rows = _model_objects(m, mm)
        k.col_of = {id(v): j for j, v in enumerate(k.columns)}
        k.row_of = {id(c): i for i, c in enumerate(k.rows)}
        for stage, bound in self._hold_bounds.items():
            m.stage_optimum_bound[stage].set_value(float(bound) if bound < INF
                                                   else float("inf"))
        self._stages = [(st, vec, off, m.stage_optimum_held[hold.stage]
                         if isinstance(hold, _Hold) else hold)
                        for st, vec, off, hold in self._stages]
        self._model = m
        self._view = None
        if self._pending_x is not None:
            x, self._pending_x = self._pending_x, None
            self._load(x)
        self.model_build_seconds = perf_counter() - t

    # -- set-up --------------------------------------------------------------------------------

    def _configure_base(self) -> None:
        h = self.highs
        # keep output on (so the MIP logging callback fires) but never print
        h.setOptionValue("output_flag", True)
        h.setOptionValue("log_to_console", False)
        h.setOptionValue("log_file", "")

    def _set_time_limit(self, seconds: float, *, lp: bool) -> None:
        """Allow ``seconds`` more for the next run.

        HiGHS times a MIP run on its own, but checks an LP run against its cumulative run
        clock (``getRunTime``), so an LP after a long MIP would stop at once without this.
        """
        seconds = max(float(seconds), 0.0)
        # a backstop for MIP phases that overrun HiGHS's own limit: interrupted at this time
        self._deadline = perf_counter() + seconds + self.DEADLINE_GRACE_S + 0.02 * seconds
        if lp:
            seconds += float(self.highs.getRunTime())
        self.highs.setOptionValue("time_limit", seconds)

    #: seconds past a run's time limit after which the MIP is interrupted (plus 2% of it)
    DEADLINE_GRACE_S = 1.0
    _deadline: float | None = None

    #: staffed models with at least this many rows solve their root LP by interior point
    IPM_ROOT_ROWS = 5000

    def _root_lp_solver(self) -> str:
        """``mip_lp_solver`` for the first (root) LP of a MIP: ``"ipm"`` for a staffed model
        of :attr:`IPM_ROOT_ROWS` rows or more, else HiGHS's choice (dual simplex).

        Measured on a 2-core machine, LP relaxations alone: staffed county models solve 2-5x
        faster by interior point (Kent LSOA, 29,700 rows: 12.5 s against 36 s; the demo
        0.5 s against 2.3 s); p-median roots 20x slower (pmed20: 29 s against 1.3 s). Later
        LPs always start from a basis (dual simplex).
        """
        ix = getattr(self._source, "mdtplan_index", None)
        staffed = ix is not None and bool(ix.staff)
        return "ipm" if staffed and len(self._compiled.row_lower) >= self.IPM_ROOT_ROWS \
            else "choose"

    def _apply_options(self, options: SolveOptions, time_limit: float) -> None:
        h = self.highs
        self._set_time_limit(time_limit, lp=not self.is_mip)
        h.setOptionValue("mip_rel_gap", float(options.mip_gap))
        h.setOptionValue("random_seed", int(options.seed))
        h.setOptionValue("presolve", "on" if options.presolve else "off")
        if self.is_mip:
            h.setOptionValue("mip_lp_solver", self._root_lp_solver())

    _solved_once = False

    def _run(self, threads: int | None = None):
        """``Highs.run`` with the thread count the process-wide HiGHS scheduler allows."""
        with _scheduler(int(threads or self._threads)) as granted:
            self.highs.setOptionValue("threads", granted)
            return self.highs.run()

    def _ncols(self) -> int:
        return len(self._compiled.col_lower)

    @property
    def _source(self):
        """The Pyomo model, or (``from_data``, before it is built) the view of its data."""
        return self._model if self._model is not None else self._view

    def _col_name(self, j: int) -> str:
        if self._model is None:
            return self._mm.col_name(int(j))
        return self._compiled.columns[j].name

    def _row_name(self, i: int) -> str:
        if self._model is None:
            return self._mm.row_name(int(i))
        return self._compiled.rows[i].name

    def _row_keys(self) -> list:
        """(constraint name, index) of every row, in order."""
        if self._model is None:
            mm = self._mm
            return [(f, mm.keys[f][p]) for f, p in zip(mm.row_family, mm.row_member.tolist(),
                                                       strict=True)]
        return [(c.parent_component().local_name, c.index()) for c in self._compiled.rows]

    def has_constraint(self, name: str) -> bool:
        """Whether the model has the constraint component ``name`` (rows or not)."""
        if self._model is None:
            return name in self._mm.keys and name not in VAR_NAMES
        return isinstance(self._model.component(name), pyo.Constraint)

    @property
    def stage_names(self) -> list[str]:
        """The objective's lexicographic stages, in order."""
        return [st for st, *_ in self._stages]

    def tables(self, data=None) -> dict[str, pd.DataFrame]:
        """The last plan as tables (:func:`extract_tables`), without building the Pyomo model
        when the session was made ``from_data``."""
        if self._model is not None:
            return extract_tables(self._model, data)
        if self._pending_x is None:
            raise SolveError("no plan to tabulate: solve first")
        view = self._view
        return tables_from_values(view.mdtplan_index, data if data is not None
                                  else view.mdtplan_data, view.values(self._pending_x,
                                                                      self._compiled),
                                  float(view.demand_scale))

    @property
    def is_mip(self) -> bool:
        return bool(self._compiled.integrality.any())

    def _column(self, var) -> int:
        """Column of ``var``, adding it to HiGHS (no row entries) if the compiler dropped it."""
        self._proof = None
        k = self._compiled
        j = k.col_of.get(id(var))
        if j is not None:
            return j
        lb, ub = var.bounds
        lo, hi = _bound(lb, -INF), _bound(ub, INF)
        self._edited = True
        self.highs.addCol(0.0, lo, hi, 0, np.zeros(0, np.int32), np.zeros(0))
        j = len(k.columns)
        if var.is_integer():
            self.highs.changeColIntegrality(j, highspy.HighsVarType.kInteger)
        k.columns.append(var)
        k.col_of[id(var)] = j
        k.col_lower = np.append(k.col_lower, lo)
        k.col_upper = np.append(k.col_upper, hi)
        k.integrality = np.append(k.integrality, np.int32(var.is_integer()))
        k.c0 = np.append(k.c0, 0.0)
        return j

    def _vector(self, expr) -> tuple[np.ndarray, float]:
        xs, coefs, const = _linear(expr)
        cols = [self._column(v) for v in xs]
        vec = np.zeros(self._ncols())
        np.add.at(vec, np.asarray(cols, dtype=np.int64), np.asarray(coefs))
        return vec, const

    def _stage_vectors(self) -> list[tuple[str, np.ndarray, float, object]]:
        """[(stage, cost vector, offset, hold constraint or None)] in lexicographic order."""
        m = self._source
        if self._model is None:  # from_data: the direct build's vectors; holds by row
            k = self._compiled
            mm = self._mm
            start, stop = mm.row_spans.get("stage_optimum_held", (0, 0))
            held = {mm.keys["stage_optimum_held"][int(mm.row_member[i])]: i
                    for i in range(start, stop)}
            last = len(k.stages) - 1
            return [(st, vec.copy(), 0.0, _Hold(st, held.get(st)) if i < last else None)
                    for i, (st, vec) in enumerate(k.stages)]
        if not hasattr(m, "STAGES"):
            k = self._compiled
            return [("objective", k.c0.copy(), k.offset0, None)]
        from .model.objective import STAGE_COMPONENTS

        out = []
        stages = list(m.STAGES)
        direct = self._compiled.stages
        for i, stage in enumerate(stages):
            expr = getattr(m, STAGE_COMPONENTS[stage])
            if direct is not None and direct[i][0] == stage:
                vec, off = direct[i][1].copy(), 0.0
            elif i == 0:
                k = self._compiled
                vec, off = k.c0.copy(), k.offset0
            else:
                vec, off = self._vector(expr)
            hold = m.stage_optimum_held[stage] if i < len(stages) - 1 else None
            out.append((stage, vec, off, hold))
        n = self._ncols()
        return [(s, np.pad(v, (0, n - len(v))), o, h) for s, v, o, h in out]

    # -- changing the model in place -------------------------------------------------------------

    def refresh(self, names: Iterable[str]) -> None:
        """Re-derive the HiGHS rows of the named constraints from the Pyomo model.

        Use after changing mutable parameters or constraint expressions by hand. Rows that the
        compiler had dropped (no variables at the time) are added.
        """
        self._proof = None
        for name in names:
            comp = self.model.component(name)
            if comp is None:
                continue
            for con in comp.values():
                self._refresh_row(con)

    def _refresh_row(self, con) -> None:
        h = self.highs
        k = self._compiled
        self._edited = True
        lb, body, ub = con.to_bounded_expression(evaluate_bounds=True)
        xs, coefs, const = _linear(body)
        lo = -INF if lb is None else float(lb) - const
        hi = INF if ub is None else float(ub) - const
        cols = [self._column(v) for v in xs]
        new = {}
        for j, a in zip(cols, coefs, strict=True):
            new[j] = new.get(j, 0.0) + a
        row = k.row_of.get(id(con))
        if row is None:
            if not new:
                if lo > 1e-9 or hi < -1e-9:
                    raise ModelError(f"constraint {con.name} became trivially infeasible")
                return
            idx = np.fromiter(new.keys(), np.int32, len(new))
            val = np.fromiter(new.values(), float, len(new))
            h.addRow(lo, hi, len(idx), idx, val)
            row = len(k.rows)
            k.rows.append(con)
            k.row_of[id(con)] = row
            k.row_lower = np.append(k.row_lower, lo)
            k.row_upper = np.append(k.row_upper, hi)
            return
        _, old_idx, old_val = h.getRowEntries(row)
        old = dict(zip(np.asarray(old_idx).tolist(), np.asarray(old_val).tolist(), strict=True))
        for j, a in new.items():
            if old.get(j) != a:
                h.changeCoeff(row, j, a)
        for j in old:
            if j not in new:
                h.changeCoeff(row, j, 0.0)
        h.changeRowBounds(row, lo, hi)
        k.row_lower[row] = lo
        k.row_upper[row] = hi

    def set_param(self, name: str, value, index=None) -> None:
        """Set a mutable parameter of the model and update the rows that use it.

        Parameters
        ----------
        name : str
            ``budget_cap_gbp``, ``hub_count_lower``, ``hub_count_upper``,
            ``hub_population_lower``, ``hub_population_upper``, ``demand_scale`` (also moves
            the staffing big-M ``staff_fte_max``), or any mutable Param of the model.
        value : float
        index : optional
            For indexed parameters.

        Raises
        ------
        ModelError
            If the parameter, or every constraint that uses it, is absent from the model (e.g.
            ``budget_cap_gbp`` when the base scenario set no cap: build the base with one).
        """
        from .model.build import PARAM_DEPENDENTS, set_demand_scale

        if not (name == "budget_cap_gbp" and index is None):
            self._proof = None  # only a budget cap change may leave the last plan proven
        if self._model is None and index is None and name in PARAM_DEPENDENTS \
                and name in self._params and self._set_param_direct(name, value):
            return
        m = self.model
        param = m.component(name)
        if param is None or not isinstance(param, pyo.Param) or not param.mutable:
            raise ModelError(f"the model has no mutable parameter '{name}'")
        dependents = [d for d in PARAM_DEPENDENTS.get(name, ()) if m.component(d) is not None]
        if name in PARAM_DEPENDENTS and not dependents:
            raise ModelError(Problem(None, None, name,
                                     f"no constraint of this model uses '{name}' "
                                     f"({', '.join(PARAM_DEPENDENTS[name])} absent)",
                                     "set the matching scenario key in the base scenario so "
                                     "the constraint is built"))
        if name == "demand_scale":
            set_demand_scale(m, float(value))
        elif index is None:
            param.set_value(value)
        else:
            param[index].set_value(value)
        if name not in PARAM_DEPENDENTS:
            dependents = [c.local_name for c in m.component_objects(pyo.Constraint, active=True)]
        self.refresh(dependents)

    #: at most this many changed coefficients are changed one by one; more: the model is
    #: handed over again
    DIRECT_COEFF_CHANGES = 10_000

    def _set_param_direct(self, name: str, value) -> bool:
        """:meth:`set_param` without a Pyomo model: the direct build made again with the new
        value and what changed handed to HiGHS (bounds and coefficients, or the whole model
        when many coefficients change). Returns False, changing nothing, when the change would
        alter which columns or rows exist (the caller then builds the Pyomo model)."""
        from .model.build import PARAM_DEPENDENTS
        from .model.matrix import build_matrix

        view, old = self._view, self._mm
        if not any(d in old.keys for d in PARAM_DEPENDENTS[name]):
            raise ModelError(Problem(None, None, name,
                                     f"no constraint of this model uses '{name}' "
                                     f"({', '.join(PARAM_DEPENDENTS[name])} absent)",
                                     "set the matching scenario key in the base scenario so "
                                     "the constraint is built"))
        params = {**self._params, name: value, "stage_optimum_bound": dict(self._hold_bounds)}
        mm = build_matrix(view.mdtplan_data, view.mdtplan_index, params)
        if (mm.col_family != old.col_family or mm.row_family != old.row_family
                or not np.array_equal(mm.col_member, old.col_member)
                or not np.array_equal(mm.row_member, old.row_member)):
            return False
        h, k = self.highs, self._compiled
        A, B = k.A, mm.A
        same_pattern = (np.array_equal(A.indptr, B.indptr)
                        and np.array_equal(A.indices, B.indices))
        changed = np.flatnonzero(A.data != B.data) if same_pattern else None
        if same_pattern and len(changed) <= self.DIRECT_COEFF_CHANGES:
            cols = np.searchsorted(B.indptr, changed, side="right") - 1
            for i, j, v in zip(B.indices[changed].tolist(), cols.tolist(),
                               B.data[changed].tolist(), strict=True):
                h.changeCoeff(int(i), int(j), float(v))
            rows = np.flatnonzero((k.row_lower != mm.row_lower) | (k.row_upper != mm.row_upper))
            if len(rows):
                h.changeRowsBounds(len(rows), rows.astype(np.int32), mm.row_lower[rows],
                                   mm.row_upper[rows])
        else:  # many coefficients: hand the model over again (the last plan still starts it)
            status = h.passModel(
                len(mm.col_lower), len(mm.row_lower), int(B.nnz),
                int(highspy.MatrixFormat.kColwise), int(highspy.ObjSense.kMinimize),
                k.offset0, k.c0, k.col_lower, k.col_upper, mm.row_lower, mm.row_upper,
                B.indptr.astype(np.int32), B.indices.astype(np.int32), B.data.astype(float),
                k.integrality)
            if status == highspy.HighsStatus.kError:
                raise SolveError("HiGHS refused the changed model (passModel failed)")
        k.A, k.row_lower, k.row_upper = B, mm.row_lower.copy(), mm.row_upper.copy()
        self._edited = False
        self._mm = mm
        self._params[name] = value
        setattr(view, name, value)  # what the MIP start heuristic reads
        return True

    def set_constraint_bounds(self, name: str, lower=None, upper=None, index=None) -> None:
        """Give a constraint new numeric bounds (in the Pyomo model and in HiGHS).

        ``lower``/``upper`` ``None`` mean unbounded on that side; with ``index`` ``None`` every
        member of an indexed constraint gets the bounds.
        """
        self._proof = None
        comp = self.model.component(name)
        if comp is None:
            raise ModelError(f"the model has no constraint '{name}'")
        members = comp.values() if index is None else [comp[index]]
        for con in members:
            _, body, _ = con.to_bounded_expression()
            con.set_value((lower, body, upper))
            self._refresh_row(con)

    def set_var_bounds(self, var, lower=None, upper=None) -> None:
        """New bounds for a variable (a VarData, e.g. ``m.open_site['S1']``), e.g. to force a
        site open (1, 1) or shut (0, 0)."""
        self._proof = None
        var.setlb(lower)
        var.setub(upper)
        j = self._column(var)
        lo, hi = _bound(lower, -INF), _bound(upper, INF)
        self.highs.changeColBounds(j, lo, hi)
        self._compiled.col_lower[j] = lo
        self._compiled.col_upper[j] = hi

    def refresh_objective(self) -> None:
        """Recompute every stage's cost vector from the model's stage quantities."""
        self._proof = None
        self._compiled.stages = None  # the direct build's vectors may no longer hold
        self._compiled.c0 = self._vector(self.model.component_data_objects(
            pyo.Objective, active=True).__next__().expr)[0]
        self._stages = self._stage_vectors()

    # -- solving ----------------------------------------------------------------------------------

    def solve(self, options: SolveOptions | None = None, *, progress: ProgressFn | None = None,
              cancel: threading.Event | None = None, warm_start=None) -> SolveResult:
        """Solve (again), stage by stage, and load the plan into the Pyomo variables.

        Parameters
        ----------
        options : SolveOptions, optional
            Defaults to the session's.
        progress : callable, optional
            Called with event dicts: ``stage`` (``"solve"``), ``objective_stage``, ``event``
            (``"improving"`` when a better plan is found, ``"log"`` on HiGHS's MIP log lines,
            ``"cuts"`` once the rounding cuts are made),
            ``primal``, ``dual``, ``gap``, ``elapsed_s``, ``nodes`` and ``message``. Exceptions
            it raises are swallowed (they must not unwind through HiGHS).
        cancel : threading.Event, optional
            When set, HiGHS is interrupted at its next callback; the result has
            ``cancelled=True`` and message ``"cancelled"``.
        warm_start : dict or bool, optional
            ``{column: value}`` or ``{VarData: value}`` MIP start; ``None`` uses the previous
            plan if there is one, else the greedy plan when ``options.warm_start``.
        """
        options = options or self.options
        self._threads = int(options.threads)
        t_start = perf_counter()
        unchanged = self._unchanged_result(options, t_start)
        if unchanged is not None:
            return unchanged
        # the first solve also pays for building and compiling the model
        setup = 0.0 if self._solved_once else self.compile_seconds + float(
            getattr(self._source, "mdtplan_build_seconds", 0.0) or 0.0)
        budget = self.budget = TimeBudget(float(options.time_limit_s), spent_s=setup)
        h = self.highs
        bounded_below = self._bounded_below()
        state = {"stage": None, "cancelled": False}
        self._install_callbacks(progress, cancel, state)

        # reset the lexicographic holds and start from the first stage's costs
        for _, _, _, hold in self._stages:
            if hold is not None:
                self._set_hold(hold, INF)
        # the rounding cuts are made while the heuristic start searches (when both are made)
        cut_plan = self._plan_cuts(options, budget, cancel)
        beside = cut_plan if isinstance(cut_plan, _Job) else None
        try:
            start = self._initial_start(options, warm_start, budget, cancel, beside=beside)
        except BaseException:
            if beside is not None:
                beside.abandon()
            raise

        stage_objectives: dict[str, float] = {}
        stage_status: dict[str, str] = {}
        stage_gaps: dict[str, float | None] = {}
        statuses: list[SolveStatus] = []
        x_best: np.ndarray | None = None
        highs_seconds = 0.0
        nodes = 0
        primary_bound = None
        primary_gap = None
        message = ""
        held_at: dict[str, float] = {}
        self._add_cuts(cut_plan, budget, progress)
        try:
            for i, (stage, vec, offset, hold) in enumerate(self._stages):
                state["stage"] = stage
                if cancel is not None and cancel.is_set():
                    state["cancelled"] = True
                    break
                seconds = budget.stage_seconds(i, len(self._stages), self._polish_reserve(options))
                if i > 0 and seconds <= 0:
                    message = f"time limit reached before tie-break stage '{stage}'"
                    statuses.append(SolveStatus.feasible_at_limit)
                    break
                self._apply_options(options, budget.grant(f"stage {stage}", seconds))
                vec = np.pad(vec, (0, self._ncols() - len(vec)))
                h.changeColsCost(len(vec), np.arange(len(vec), dtype=np.int32), vec)
                shift = self._gap_shift(stage)
                state["shift"] = shift
                h.changeObjectiveOffset(offset + shift)
                if start is not None:
                    self._set_start(start)
                t = perf_counter()
                try:
                    run_status = self._run()
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
                nodes += int(max(info.mip_node_count, 0)) if self.is_mip else 0
                stage_status[stage] = status.value
                if model_status == _MS.kInterrupt and cancel is not None and cancel.is_set():
                    state["cancelled"] = True
                if not status.has_solution:
                    if i == 0 or x_best is None:
                        statuses.append(status)
                        message = message or self._status_message(stage, model_status)
                    else:
                        statuses.append(SolveStatus.feasible_at_limit)
                        message = f"tie-break stage '{stage}' found no better plan: " \
                                  f"{h.modelStatusToString(model_status)}"
                    break
                x = np.asarray(h.getSolution().col_value, dtype=float)
                gap, bound = self._gap(info, shift)
                if self.is_mip and not cancelled_now(cancel):
                    t = perf_counter()
                    x = self._polish(x, budget, stage)
                    highs_seconds += perf_counter() - t
                x_best = x
                value = float(vec @ x[: len(vec)] + offset)
                stage_objectives[stage] = value
                if bound is not None:
                    gap = _relative_gap(value, bound, shift)
                stage_gaps[stage] = gap
                if i == 0:
                    primary_bound, primary_gap = bound, gap
                statuses.append(status)
                if state["cancelled"]:
                    break
                if hold is not None:
                    held_at[stage] = self._hold_value(stage, i, value, options)
                    self._set_hold(hold, held_at[stage])
                start = x
        finally:
            self._remove_cuts()
        if x_best is not None:
            self._last_x = x_best
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
            self._load(x_best)
            stage0, vec0, off0, _ = self._stages[0]
            objective = float(vec0 @ x_best[: len(vec0)] + off0)
            for stage, vec, off, _ in self._stages:
                stage_objectives[stage] = float(vec @ x_best[: len(vec)] + off)
            if primary_bound is not None and np.isfinite(primary_bound):
                primary_gap = _relative_gap(objective, primary_bound,
                                            self._gap_shift(self._stages[0][0]))
        load_seconds = perf_counter() - t
        self._last_status = highs_status
        if not message and highs_status == SolveStatus.optimal:
            message = "optimal"
        elif not message and highs_status == SolveStatus.feasible_at_limit:
            message = ("stopped at a limit with a plan, gap reported" if primary_gap is not None
                       else "stopped at a limit with a plan, before any bound: gap unknown")
        compile_s = 0.0 if self._solved_once else self.compile_seconds
        self._solved_once = True
        result = SolveResult(
            status=highs_status,
            objective=objective,
            mip_gap=primary_gap if x_best is not None else None,
            dual_bound=primary_bound,
            solve_seconds=perf_counter() - t_start + compile_s,
            build_seconds=getattr(self._source, "mdtplan_build_seconds", None),
            compile_seconds=compile_s,
            highs_run_seconds=highs_seconds,
            load_seconds=load_seconds,
            node_count=nodes,
            message=message,
            stage_objectives=stage_objectives,
            stage_status=stage_status,
            stage_gaps=stage_gaps,
            cancelled=cancelled,
            cuts_seconds=(self.cut_report["seconds"] if self.cut_report
                          and not self.cut_report["reused_from_last_solve"] else 0.0),
        )
        self._remember_proof(result, held_at, options)
        return result

    # -- re-solves that need no solver: a budget cap that provably changes nothing ---------------

    _proof: dict | None = None

    def _budget_row(self) -> int | None:
        """The HiGHS row of the budget cap (``budget_cap``), or None."""
        if self._mm is not None:
            start, stop = self._mm.row_spans.get("budget_cap", (0, 0))
            return start if stop > start else None
        con = self.model.component("budget_cap")
        if con is None:
            return None
        return self._compiled.row_of.get(id(con))

    def _remember_proof(self, result: SolveResult, held_at: dict, options: SolveOptions) -> None:
        """Keep what :meth:`_unchanged_result` needs when ``result`` is proven at every stage."""
        self._proof = None
        row = self._budget_row()
        if (row is None or result.status != SolveStatus.optimal or result.cancelled
                or self._last_x is None
                or len(result.stage_objectives) != len(self._stages)
                or any(v != SolveStatus.optimal.value for v in result.stage_status.values())):
            return
        self._proof = {"result": result, "row": row, "upper": float(self._compiled.row_upper[row]),
                       "lower": float(self._compiled.row_lower[row]), "held_at": dict(held_at),
                       "mip_gap": float(options.mip_gap)}

    def _unchanged_result(self, options: SolveOptions, t_start: float) -> SolveResult | None:
        """The last result again, when the only change since it was proven is the budget cap
        and that provably leaves its plan optimal at every stage (within the same gap).

        With ``x`` the proven plan, ``b`` the cap it was proven under and ``b'`` the new one
        (both as the budget row's upper bound), ``B(x)`` the budget row's activity:

        * ``b' < b``: the plans allowed now are a subset of those then; if ``B(x) <= b'``
          the plan is still allowed, so it is still the best at every stage (and every bound
          proven then still holds).
        * ``b' > b``: the new plans all have ``B > b``. Stage ``i`` keeps its optimum when
          (a) an earlier stage ``j`` costs at least ``B`` (its cost vector minus the budget
          row's is non-negative on non-negative columns) and was held at ``h_j <= b + offset``,
          so no new plan enters stage ``i``; or (b) stage ``i`` itself costs at least ``B``
          and its value is at most ``b + offset``, so every new plan is worse; or (c) its value
          is the least its cost vector can take on the column bounds.

        Returns None (solve as usual) in every other case.
        """
        proof = self._proof
        if proof is None or float(options.mip_gap) < proof["mip_gap"]:
            return None
        k, row = self._compiled, proof["row"]
        upper, lower = float(k.row_upper[row]), float(k.row_lower[row])
        if lower != proof["lower"]:
            return None
        x = np.asarray(self._last_x, float)  # the proven plan: only a solve changes it
        n = self._ncols()
        x = np.pad(x, (0, max(0, n - len(x))))[:n]
        _, cols, vals = self.highs.getRowEntries(row)
        a = np.zeros(n)
        a[np.asarray(cols, dtype=np.int64)] = np.asarray(vals, dtype=float)
        old = proof["upper"]
        result = proof["result"]
        if upper < old:
            ok = float(a @ x) <= upper + 1e-9 * max(1.0, abs(upper))
        elif upper > old:
            ok = self._stages_keep_optimum(a, old, result, proof["held_at"])
        else:
            ok = True
        if not ok:
            return None
        proof["upper"] = upper  # proven under the new cap now
        return replace(result, solve_seconds=perf_counter() - t_start, build_seconds=None,
                       compile_seconds=0.0, highs_run_seconds=0.0, load_seconds=0.0,
                       node_count=0, cuts_seconds=0.0,
                       message=f"{result.message} (the previous plan: proven unchanged by the "
                               f"new budget cap, no solver run)")

    def _stages_keep_optimum(self, a: np.ndarray, old_upper: float, result: SolveResult,
                             held_at: dict) -> bool:
        """Case ``b' > b`` of :meth:`_unchanged_result`: (a), (b) or (c) for every stage."""
        k = self._compiled
        n = self._ncols()
        lo, hi = k.col_lower[:n], k.col_upper[:n]
        shut_out = False  # an earlier stage's hold keeps every new plan out
        for stage, vec, off, _ in self._stages:
            v = np.pad(vec, (0, n - len(vec)))[:n]
            value = float(result.stage_objectives[stage])
            diff = v - a
            costs_at_least_budget = bool(np.all(diff >= -1e-12)
                                         and np.all(lo[diff > 1e-12] >= 0))
            least = (np.where(v > 0, lo, 0.0) @ v + np.where(v < 0, hi, 0.0) @ v
                     if np.all(np.isfinite(lo[v > 0])) and np.all(np.isfinite(hi[v < 0]))
                     else -INF) + off
            tol = 1e-9 * max(1.0, abs(value))
            if not (shut_out or (costs_at_least_budget and value <= old_upper + off + tol)
                    or value <= least + tol):
                return False
            held = held_at.get(stage)
            if costs_at_least_budget and held is not None and held < old_upper + off:
                shut_out = True
        return True

    # -- rounding cuts (solver rows while a solve runs; not part of the model) -------------------

    #: share of the time limit (and at most a fifth of what is left) the cuts' small MIPs
    #: may take
    CUT_SHARE = 0.15
    #: the cuts are made only when they could raise the bound by this share of the cost
    #: (:func:`mdtplan.cuts.hub_floors`'s ``min_share``)
    CUT_MIN_SHARE = 5e-4
    _cut_rows = 0
    _cut_cache: tuple | None = None
    #: what the last solve's rounding cuts were: ``rows``, ``sites_solved``, ``sites_reused``,
    #: ``seconds``, ``reused_from_last_solve``, ``given_up`` (why the probe gave them up, or
    #: ""); None when none applied
    cut_report: dict | None = None

    def _current(self, name: str):
        """A mutable parameter's value in force (view attribute or Pyomo Param)."""
        value = getattr(self._source, name, None)
        return value.value if hasattr(value, "is_parameter_type") else value

    def _family_columns(self, family: str, keys: list) -> np.ndarray:
        """The column of each member of a variable component (-1 where the build dropped it)."""
        if self._model is None:
            col = self._view.family_columns(family)
            if col is not None and len(col) != len(keys):  # pragma: no cover - guard
                raise ValueError(f"{family}: {len(keys)} keys for {len(col)} members")
            return np.full(len(keys), -1, np.int64) if col is None else col
        comp = self._model.component(family)
        col_of = self._compiled.col_of
        return np.fromiter((col_of.get(id(comp[key]), -1) for key in keys), np.int64,
                           len(keys))

    def _plan_cuts(self, options: SolveOptions, budget: TimeBudget, cancel=None):
        """What this solve does about :mod:`mdtplan.cuts`'s rows: ``None`` (none apply),
        ``"reuse"`` (the last solve's rows still hold: the band and the demand scale are
        unchanged), or a :class:`_Job` that makes them.

        The job's time is granted when it runs: :attr:`CUT_SHARE` of the limit, at most a
        fifth of what is left; made while the heuristic start searches (``job.context
        ["search_s"]``, its grant), as long as the search's grant when that is longer, since
        the solve waits for the search anyway (Kent LSOA at 60 s: 12 s instead of 9 s; sharing
        the cores with the search, the cuts' pace would otherwise give them up there now and
        then)."""
        self.cut_report = None
        source = self._source
        ix = getattr(source, "mdtplan_index", None)
        data = getattr(source, "mdtplan_data", None)
        if (not options.rounding_cuts or not self.is_mip or ix is None or data is None
                or not cuts.applies(data, ix)):
            return None
        key = (self._current("hub_population_lower"), self._current("hub_population_upper"),
               float(self._current("demand_scale") or 1.0), self._model is None)
        if self._cut_cache is not None and self._cut_cache[0] == key:
            return "reuse"
        open_col = self._family_columns("open_site", ix.site_ids)
        upper = np.where(open_col >= 0, self._compiled.col_upper[np.maximum(open_col, 0)], 0.0)
        assign_col = self._family_columns("assign", ix.pairs)
        staff_col = self._family_columns("fte_steps", ix.staff)

        def make(stop):
            share = max(self.CUT_SHARE * float(options.time_limit_s),
                        float(job.context.get("search_s", 0.0)))
            seconds = budget.grant("rounding cuts", min(share, 0.2 * budget.left()))
            if seconds <= 0:
                return None
            floors = cuts.hub_floors(data, ix, scale=key[2], population_min=key[0],
                                     population_max=key[1], closed=upper < 0.5,
                                     seconds=seconds, min_share=self.CUT_MIN_SHARE, stop=stop)
            return key, cuts.cut_rows(floors, ix, data, open_col, assign_col, staff_col), floors

        job = _Job(make, None if cancel is None else cancel.is_set)
        return job

    def _add_cuts(self, plan, budget: TimeBudget, progress: ProgressFn | None = None) -> None:
        """Append the rows :meth:`_plan_cuts` planned to HiGHS for this solve (made now
        when they were not made during the heuristic start's search)."""
        if plan is None:
            return
        reused = plan == "reuse"
        if not reused:
            made = plan.result()
            if made is None:  # no time left for them
                return
            self._cut_cache = made
        _, rows, floors = self._cut_cache
        starts, index, value, lower = rows
        self.cut_report = {"rows": 0, "sites_solved": floors.solved,
                           "sites_reused": floors.reused, "seconds": floors.seconds,
                           "reused_from_last_solve": reused, "given_up": floors.given_up}
        if len(starts):
            status = self.highs.addRows(len(starts), lower, np.full(len(starts), INF),
                                        len(index), starts, index, value)
            if status == highspy.HighsStatus.kError:  # pragma: no cover - guard
                return
            self._cut_rows = self.cut_report["rows"] = len(starts)
        if progress is not None and not reused and (len(starts) or floors.given_up):
            message = (f"rounding cuts: {len(starts)} hubs' least rounding cost "
                       f"({floors.seconds:.1f}s)" if len(starts) else
                       f"rounding cuts given up after {floors.seconds:.1f}s: "
                       f"{floors.given_up}")
            try:
                progress({"stage": "solve", "objective_stage": self._stages[0][0],
                          "event": "cuts", "primal": None, "dual": None, "gap": None,
                          "elapsed_s": budget.elapsed(), "nodes": 0, "message": message})
            except Exception:  # noqa: BLE001 - a progress sink must not stop the solve
                pass

    def _remove_cuts(self) -> None:
        """Take this solve's cut rows out of HiGHS again (they are the last rows)."""
        if not self._cut_rows:
            return
        n = int(self.highs.getNumRow())
        rows = np.arange(n - self._cut_rows, n, dtype=np.int32)
        self.highs.deleteRows(len(rows), rows)
        self._cut_rows = 0

    # -- helpers ------------------------------------------------------------------------------------

    def _polish_reserve(self, options: SolveOptions) -> float:
        """Seconds kept back from a MIP stage for its clean-up LP (none for a pure integer
        model): a twentieth of the limit, at most 2 s."""
        k = self._compiled
        if not self.is_mip or k.integrality[: self._ncols()].all():
            return 0.0
        return min(2.0, 0.05 * float(options.time_limit_s))

    def _polish(self, x: np.ndarray, budget: TimeBudget, stage: str = "") -> np.ndarray:
        """Fix the integer columns at ``x`` and re-solve the LP for the continuous ones.

        A MIP solution's continuous values are only as exact as the solver's tolerances (an
        agency FTE of 2.000025 where 2 is optimal); with the integers fixed, the LP puts them
        at a vertex. It may use what is left of ``budget``. Returns ``x`` unchanged when there
        is nothing continuous, no time left, or the LP fails.
        """
        k = self._compiled
        n = self._ncols()
        ints = np.flatnonzero(k.integrality[:n])
        if len(ints) == n or budget.left() <= 1e-3:
            return x
        h = self.highs
        xi = np.round(x[ints])
        lo, hi = k.col_lower[ints], k.col_upper[ints]
        try:
            h.changeColsBounds(len(ints), ints.astype(np.int32), xi, xi)
            h.changeColsIntegrality(len(ints), ints.astype(np.int32),
                                    np.zeros(len(ints), dtype=np.int32))
            self._set_time_limit(budget.grant(f"polish {stage}".strip(), budget.left()),
                                 lp=True)
            self._run()
            if h.getModelStatus() == _MS.kOptimal:
                y = np.asarray(h.getSolution().col_value, dtype=float)
                y[ints] = xi
                return y
            return x
        finally:
            h.changeColsBounds(len(ints), ints.astype(np.int32), lo, hi)
            h.changeColsIntegrality(len(ints), ints.astype(np.int32),
                                    k.integrality[ints].astype(np.int32))

    def _bounded_below(self) -> bool:
        """Whether every stage's cost is bounded below on the column bounds."""
        k = self._compiled
        n = self._ncols()
        for _, vec, _, _ in self._stages:
            v = np.pad(vec, (0, n - len(vec)))
            if np.any((v > 0) & (k.col_lower <= -INF)) or np.any((v < 0) & (k.col_upper >= INF)):
                return False
        return True

    def _status_message(self, stage: str, model_status) -> str:
        if model_status == _MS.kInfeasible or model_status == _MS.kUnboundedOrInfeasible:
            return "infeasible: no plan satisfies every rule"
        if model_status == _MS.kTimeLimit:
            return f"time limit reached before a plan was found (stage '{stage}')"
        return f"HiGHS: {self.highs.modelStatusToString(model_status)} (stage '{stage}')"

    def _gap(self, info, shift: float) -> tuple[float | None, float | None]:
        """(HiGHS's relative gap, dual bound in the stage's own units)."""
        if not self.is_mip:
            return 0.0, None
        bound = float(info.mip_dual_bound)
        if not np.isfinite(bound):
            return None, None
        gap = float(info.mip_gap)
        return (gap if np.isfinite(gap) else None), bound - shift

    def _gap_shift(self, stage: str) -> float:
        """Constant added to a stage's HiGHS objective so its relative gap means what users mean.

        ``unmet_hours`` is measured against demand *met*: HiGHS minimises
        ``unmet - total demand`` (= -demand met), so ``mip_gap`` 0.005 stops within 0.5% of the
        most demand that can be met, not within 0.5% of a small unmet figure (which would
        demand near-exact proofs). Every other stage: 0.
        """
        m = self._source
        if stage != "unmet_hours" or not hasattr(m, "mdtplan_index"):
            return 0.0
        return -float(m.mdtplan_index.demand.sum()) * float(pyo.value(m.demand_scale))

    @staticmethod
    def _hold_value(stage: str, position: int, value: float, options: SolveOptions) -> float:
        """The bound later stages must keep on this stage's quantity.

        The optimum plus a rounding tolerance; a cost stage that is itself a tie-break
        (``max_demand_met``'s second stage) may give up to the MIP gap, as its optimum is only
        known within that gap anyway.
        """
        tol = 1e-9 * abs(value) + 1e-6
        if stage == "cost_gbp" and position > 0:
            return value * (1.0 + max(float(options.mip_gap), 0.0)) + tol
        return value + tol

    def _hold_bound(self, hold) -> float:
        if isinstance(hold, _Hold):
            return float(self._hold_bounds.get(hold.stage, INF))
        return float(self.model.stage_optimum_bound[hold.index()].value)

    def _set_hold(self, hold, bound: float) -> None:
        hi = INF if bound >= INF else float(bound)
        if isinstance(hold, _Hold):  # no Pyomo model yet: remember the bound
            self._hold_bounds[hold.stage] = hi
            row = hold.row
        else:
            self.model.stage_optimum_bound[hold.index()].set_value(
                hi if hi < INF else float("inf"))
            row = self._compiled.row_of.get(id(hold))
            if row is None:  # the compiler dropped it: derive it from the model
                self._refresh_row(hold)
                return
        if row is not None:  # a stage quantity's coefficients are constants: only its bound
            self.highs.changeRowBounds(row, float(self._compiled.row_lower[row]), hi)
            self._compiled.row_upper[row] = hi

    def _initial_start(self, options: SolveOptions, warm_start, budget: TimeBudget | None = None,
                       cancel: threading.Event | None = None, beside: _Job | None = None):
        """The MIP start of a solve (see :meth:`solve`'s ``warm_start``). A heuristic plan's
        search runs in a second thread while this one runs ``beside`` (the rounding cuts)."""
        if not self.is_mip:
            return None
        if isinstance(warm_start, Mapping):
            return self._checked_start(self._start_from_mapping(warm_start), "given")
        if warm_start is False:
            return None
        if self._last_x is not None:
            return self._previous_or_fresh(options, budget, cancel, beside)
        if options.warm_start and hasattr(self._source, "mdtplan_index"):
            # a cancel ends the heuristic's search at once (the solve then stops before HiGHS)
            stop = None if cancel is None else cancel.is_set
            seconds = start_seconds(options)
            if budget is not None:
                seconds = budget.grant("heuristic start", min(seconds, 0.25 * budget.left()))
            if self._model is None:  # no Pyomo model: the plan straight to columns
                from .warm_start import build_start

                search = _Job(lambda halt: build_start(
                    self._view, max_seconds=seconds, seed=int(options.seed), stop=halt), stop)
            else:
                search = _Job(lambda halt: greedy_start(
                    self._model, max_seconds=seconds, seed=int(options.seed), stop=halt), stop)
            if beside is not None:  # the cuts here, while the search runs in a thread
                beside.context["search_s"] = seconds
                search.tie(beside)
                search.start()
                try:
                    beside.result()
                except BaseException:
                    search.abandon()
                    raise
            try:
                found = search.result()
            except BaseException:  # e.g. Ctrl-C while waiting: the search stops too
                search.abandon()
                raise
            t_check = perf_counter()
            if self._model is None:
                # already {column: value}, as _start_from_mapping would make it
                start = (None if found is None
                         else self._view.start_columns(found, complete=found.feasible)) or None
            else:
                start = self._start_from_mapping(found or {})
            start = self._checked_start(start, "heuristic")
            if self.start_report is not None:
                # the search's own time (not the cuts', when they took longer beside it)
                self.start_report["seconds"] = search.seconds + (perf_counter() - t_check)
                # made while a cancel was set: its search was cut short
                self.start_report["cancelled"] = cancelled_now(cancel)
            return start
        return None

    def _previous_or_fresh(self, options: SolveOptions, budget: TimeBudget | None,
                           cancel: threading.Event | None = None,
                           beside: _Job | None = None):
        """A re-solve's start: the previous plan, or a fresh heuristic plan for the new numbers
        when that one is feasible and better on the first stage (or the previous plan no
        longer fits). Starting from the previous plan alone can lock a short re-solve in: a
        raised budget cap leaves the old plan feasible but far from the new optimum."""
        n = self._ncols()
        prev_x = np.pad(np.asarray(self._last_x, float), (0, max(0, n - len(self._last_x))))[:n]
        prev = self._checked_start(prev_x, "previous plan")
        prev_report = self.start_report
        if not (options.warm_start and hasattr(self._source, "mdtplan_index")):
            return self._last_x
        self._last_x, saved = None, self._last_x
        try:
            fresh = self._initial_start(options, None, budget, cancel, beside)
        finally:
            self._last_x = saved
        fresh_report = self.start_report
        prev_ok = bool(prev_report and prev_report["feasible"])
        fresh_ok = bool(fresh_report and fresh_report["feasible"])
        # better by more than the slack the tie-break stages leave the first stage
        if fresh_ok and (not prev_ok or fresh_report["objective"] < prev_report["objective"]
                         - 1e-6 * max(1.0, abs(prev_report["objective"])) - 1e-4):
            return fresh
        self.start_report = prev_report
        return self._last_x if prev_ok else prev

    def _checked_start(self, start: dict | np.ndarray | None, source: str):
        """Check a MIP start against the compiled columns and rows; keep it whole when it is a
        complete feasible plan, else only its binary columns (HiGHS completes the rest).

        ``start`` is ``{column: value}``, or a value for every column (an array, as a
        re-solve's previous plan: no dict of every column is made); a complete feasible start
        comes back in the form it came in, anything else as ``{column: value}``.

        Sets :attr:`start_report`: ``source``, ``complete`` (every column given), ``feasible``
        (every bound, integrality and row holds, to 1e-6), ``objective`` (the first stage's
        value, when complete), ``violations`` (up to five row or column names); for the
        heuristic start :meth:`_initial_start` adds ``seconds`` and ``cancelled`` (a cancel
        cut its search short).
        """
        k = self._compiled
        n = self._ncols()
        if isinstance(start, np.ndarray):
            x = np.pad(np.asarray(start, float), (0, max(0, n - len(start))))[:n]
            given = np.ones(n, dtype=bool)
        else:
            if not start:
                self.start_report = None
                return None
            x = np.zeros(n)
            given = np.zeros(n, dtype=bool)
            idx = np.fromiter(start.keys(), np.int64, len(start))
            x[idx] = np.fromiter(start.values(), float, len(start))
            given[idx] = True
        report = {"source": source, "complete": bool(given.all()), "feasible": False,
                  "objective": None, "violations": []}
        self.start_report = report
        if not given.all():
            return start
        tol = 1e-6
        bad = [self._col_name(j) for j in np.flatnonzero(
            (x < k.col_lower[:n] - tol) | (x > k.col_upper[:n] + tol)
            | ((k.integrality[:n] != 0) & (np.abs(x - np.round(x)) > tol)))[:5]]
        rows = len(k.row_lower)
        A = self._matrix()
        act = A @ x if rows else np.zeros(0)
        scale = tol * np.maximum(1.0, np.abs(act))
        viol = np.flatnonzero((act < k.row_lower[:rows] - scale)
                              | (act > k.row_upper[:rows] + scale))
        bad += [self._row_name(i) for i in viol[:5]]
        report["violations"] = bad[:5]
        if bad:
            ints = np.flatnonzero(k.integrality[:n] != 0)
            binary = ints[(k.col_lower[ints] >= 0) & (k.col_upper[ints] <= 1)]
            return {int(j): float(x[j]) for j in binary}
        report["feasible"] = True
        if self._stages:
            _, vec, off, _ = self._stages[0]
            report["objective"] = float(vec @ x[: len(vec)] + off)
        if isinstance(start, np.ndarray):
            return x
        return dict(zip(range(n), x.tolist(), strict=True))

    def _matrix(self):
        """The constraint matrix as HiGHS holds it now (rows refreshed or added included)."""
        k = self._compiled
        lp = self.highs.getLp()
        if lp.num_row_ == k.A.shape[0] and lp.num_col_ == k.A.shape[1] and not self._edited:
            return k.A
        from scipy.sparse import csc_matrix

        m = lp.a_matrix_
        return csc_matrix((np.asarray(m.value_), np.asarray(m.index_), np.asarray(m.start_)),
                          shape=(lp.num_row_, lp.num_col_))

    def _start_from_mapping(self, mapping: dict):
        if not mapping:
            return None
        out = {}
        for key, val in mapping.items():
            if isinstance(key, _ViewVar):
                j = self._view.column(key)
            else:
                j = key if isinstance(key, (int, np.integer)) else self._compiled.col_of.get(
                    id(key))
            if j is not None:
                out[int(j)] = float(val)
        return out or None

    def _set_start(self, start) -> None:
        h = self.highs
        if isinstance(start, dict):
            idx = np.fromiter(start.keys(), np.int32, len(start))
            val = np.fromiter(start.values(), float, len(start))
            h.setSolution(len(idx), idx, val)
            return
        n = self._ncols()
        x = np.pad(np.asarray(start, float), (0, max(0, n - len(start))))[:n]
        sol = highspy.HighsSolution()
        sol.col_value = x
        sol.value_valid = True
        h.setSolution(sol)

    def _install_callbacks(self, progress, cancel, state) -> None:
        h = self.highs
        h.clearCallbacks() if hasattr(h, "clearCallbacks") else None
        if progress is not None:
            def _emit(kind, e):
                try:
                    d = e.data_out
                    shift = state.get("shift", 0.0)
                    primal = (float(d.mip_primal_bound) if kind == "log" else float(
                        d.objective_function_value)) - shift
                    dual = float(d.mip_dual_bound) - shift
                    gap = float(d.mip_gap)
                    elapsed = float(d.running_time)
                    event = {
                        "stage": "solve", "objective_stage": state["stage"], "event": kind,
                        "primal": primal if math.isfinite(primal) else None,
                        "dual": dual if math.isfinite(dual) else None,
                        "gap": gap if math.isfinite(gap) else None,
                        "elapsed_s": elapsed, "nodes": int(d.mip_node_count),
                    }
                    event["message"] = _progress_message(event)
                    progress(event)
                except Exception:  # noqa: BLE001 - never unwind through HiGHS
                    pass

            h.cbMipImprovingSolution.subscribe(lambda e: _emit("improving", e))
            h.cbMipLogging.subscribe(lambda e: _emit("log", e))
        def _cancelled() -> bool:
            if cancel is not None and cancel.is_set():
                state["cancelled"] = True
                return True
            return False

        # the flag is set either way: HiGHS keeps it from one run to the next
        def _interrupt(e):
            e.interrupt(_cancelled())

        def _mip_interrupt(e):
            stop = _cancelled()
            if not stop and self._deadline is not None and perf_counter() > self._deadline:
                state["overran"] = stop = True
            e.interrupt(stop)

        # the MIP check is cheap (nodes, cut rounds); LP iterations are checked only to cancel
        h.cbMipInterrupt.subscribe(_mip_interrupt)
        if cancel is not None:
            h.cbSimplexInterrupt.subscribe(_interrupt)
            h.cbIpmInterrupt.subscribe(_interrupt)

    def _load(self, x: np.ndarray) -> None:
        """Write ``x`` into the Pyomo variables (integers rounded); dropped variables get the
        bound their (non-negative) cost prefers, i.e. the lower bound, or 0 if free. Without a
        Pyomo model yet (``from_data``), kept until one is built."""
        if self._model is None:
            self._pending_x = np.asarray(x, dtype=float).copy()
            return
        k = self._compiled
        xi = x[: len(k.columns)].copy()
        ints = k.integrality[: len(xi)].astype(bool)
        xi[ints] = np.round(xi[ints])
        lo, hi = k.col_lower[: len(xi)], k.col_upper[: len(xi)]
        xi = np.minimum(np.maximum(xi, lo), hi)
        for v, val in zip(k.columns, xi.tolist(), strict=True):
            v.set_value(val, skip_validation=True)
        for v in self.model.component_data_objects(pyo.Var, descend_into=True):
            if id(v) in k.col_of or v.fixed:
                continue
            lb, ub = v.bounds
            v.set_value(lb if lb is not None else (ub if ub is not None and ub < 0 else 0.0),
                        skip_validation=True)

    # -- duals ------------------------------------------------------------------------------------

    def row_duals(self, names: Iterable[str] | None = None) -> dict[str, pd.Series]:
        """Row duals of the last solve (meaningful for an LP), by constraint name and index.

        Sign: the change in the objective per unit increase of the constraint's bound
        (for a ``<=`` budget cap under minimisation, a negative number is what one more unit of
        budget saves).
        """
        sol = self.highs.getSolution()
        duals = np.asarray(sol.row_dual, dtype=float)
        out: dict[str, dict] = {}
        wanted = None if names is None else set(names)
        for i, (name, key) in enumerate(self._row_keys()):
            if wanted is not None and name not in wanted:
                continue
            out.setdefault(name, {})[key] = duals[i] if i < len(duals) else np.nan
        return {n: pd.Series(v, dtype=float) for n, v in out.items()}

    def marginal_values(self, names: Iterable[str] = ("budget_cap",), stage: int = 0,
                        ) -> dict[str, pd.Series]:
        """Shadow prices with the plan's structure fixed: what one more unit of a bound buys.

        Fixes every binary column (hubs open, single-source assignment) at the last plan,
        relaxes general integers (FTE steps) to continuous, restores stage ``stage``'s objective
        with every hold released, solves that LP and returns its row duals (see
        :meth:`row_duals` for the sign). The session is restored afterwards. E.g. the budget
        cap's value under ``max_demand_met`` is the unmet hours saved per extra GBP (x 1e5 for
        "what one more GBP 100k buys").
        """
        if self._last_x is None:
            raise SolveError("solve first: marginal values need a plan")
        h = self.highs
        k = self._compiled
        n = self._ncols()
        x = np.pad(self._last_x, (0, max(0, n - len(self._last_x))))[:n]
        ints = np.flatnonzero(k.integrality[:n])
        binary = ints[(k.col_lower[ints] >= 0) & (k.col_upper[ints] <= 1)]
        holds = [hold for *_, hold in self._stages if hold is not None]
        saved_bounds = [self._hold_bound(hd) for hd in holds]
        try:
            for hd in holds:
                self._set_hold(hd, INF)
            _, vec, off, _ = self._stages[stage]
            vec = np.pad(vec, (0, n - len(vec)))
            h.changeColsCost(n, np.arange(n, dtype=np.int32), vec)
            h.changeObjectiveOffset(off)
            if len(binary):
                xb = np.round(x[binary])
                h.changeColsBounds(len(binary), binary.astype(np.int32), xb, xb)
            cont = np.full(len(ints), int(highspy.HighsVarType.kContinuous), dtype=np.int32)
            if len(ints):
                h.changeColsIntegrality(len(ints), ints.astype(np.int32), cont)
            self._set_time_limit(float(self.options.time_limit_s), lp=True)
            self._run()
            if h.getModelStatus() != _MS.kOptimal:
                raise SolveError(f"the fixed LP did not solve: "
                                 f"{h.modelStatusToString(h.getModelStatus())}")
            return self.row_duals(names)
        finally:
            if len(binary):
                h.changeColsBounds(len(binary), binary.astype(np.int32), k.col_lower[binary],
                                   k.col_upper[binary])
            if len(ints):
                h.changeColsIntegrality(len(ints), ints.astype(np.int32),
                                        k.integrality[ints].astype(np.int32))
            for hd, b in zip(holds, saved_bounds, strict=True):
                self._set_hold(hd, b)

    def close(self) -> None:
        """Free the HiGHS model."""
        self.highs.clear()


def _relative_gap(value: float, bound: float, shift: float = 0.0) -> float:
    """``(value - bound) / |value + shift|`` (0 when both are 0), never negative."""
    diff = max(0.0, value - bound)
    denom = abs(value + shift)
    if denom < 1e-10:
        return 0.0 if diff <= 1e-9 else 1.0
    return diff / denom


def start_seconds(options: SolveOptions) -> float:
    """Time the heuristic MIP start may take out of the solve's limit [s]: a fifth of it,
    between 0.5 s and 20 s (and never more than a quarter of what is left). The search
    stops sooner when it stops finding better plans."""
    return float(min(max(0.2 * float(options.time_limit_s), 0.5), 20.0))


def cancelled_now(cancel: threading.Event | None) -> bool:
    return cancel is not None and cancel.is_set()


def _progress_message(event: dict) -> str:
    parts = [f"{event['objective_stage']}:"]
    if event.get("primal") is not None:
        parts.append(f"best {event['primal']:,.6g}")
    if event.get("dual") is not None:
        parts.append(f"bound {event['dual']:,.6g}")
    if event.get("gap") is not None:
        parts.append(f"gap {100 * event['gap']:.2f}%")
    parts.append(f"{event['elapsed_s']:.1f}s")
    return " ".join(parts)


def solve(model, data=None, options: SolveOptions | None = None, *,
          progress: ProgressFn | None = None,
          cancel: threading.Event | None = None) -> SolveResult:
    """Solve ``model`` once with HiGHS and load the plan into it (when there is one).

    Parameters
    ----------
    model : ConcreteModel
        From :func:`mdtplan.model.build.build_model`.
    data : ModelData, optional
        Unused (kept so callers can pass what they built from); the model carries its data.
    options : SolveOptions, optional
    progress : callable, optional
        See :meth:`Session.solve`.
    cancel : threading.Event, optional
        See :meth:`Session.solve`.

    Returns
    -------
    SolveResult
        Never raises for infeasible, unbounded, limits or cancellation: read ``status``.
    """
    session = Session(model, options)
    try:
        return session.solve(progress=progress, cancel=cancel)
    finally:
        session.close()


# --------------------------------------------------------------------------------------------
# Warm start


def greedy_start(model, max_dense: int = 4_000_000, max_seconds: float = 5.0, seed: int = 0,
                 stop: Callable[[], bool] | None = None) -> ComponentMap | None:
    """A heuristic plan to start HiGHS from: ``{VarData: value}``, or ``None`` when none was
    found.

    The plan of :func:`mdtplan.warm_start.build_start`: hubs by greedy adding and swaps,
    areas packed into the population band, improved by local search on the plan's exact cost,
    staff rounded up to FTE steps with minimums and supervision, agency and unmet hours
    where supply and budget need them. Every variable is set when the plan keeps every rule
    the heuristic knows of; otherwise only ``open_site`` and ``assign`` (HiGHS completes the
    rest, or rejects the start). It is only a start: the optimum is never changed by it, only
    the time to reach it.

    Parameters
    ----------
    model : ConcreteModel
    max_dense : int
        Largest areas x sites the heuristic works on (it keeps a dense matrix).
    max_seconds : float
        Time for its search [s] (counted in deterministic units of work: the same model and
        seed give the same start on any machine).
    seed : int
        Seed of its random kicks.
    stop : callable, optional
        Polled during the search; true ends it at once with the best plan so far (a cancel).
    """
    from .warm_start import build_start, start_values

    plan = build_start(model, max_seconds=max_seconds, max_dense=max_dense, seed=seed,
                       stop=stop)
    if plan is None:
        return None
    values = start_values(model, plan)
    if not plan.feasible:
        keep = ComponentMap()
        for v in list(model.open_site.values()) + list(model.assign.values()):
            keep[v] = values[v]
        return keep
    return values


# --------------------------------------------------------------------------------------------
# Results extraction


def extract_tables(model, data=None) -> dict[str, pd.DataFrame]:
    """The solved decisions as plain tables (the only place results leave Pyomo).

    Returns
    -------
    dict of DataFrame
        ``assignment``: area_id, site_id, share (> 1e-9 only; 1 for single-source);
        ``hubs``: site_id, open (bool), one row per non-excluded site;
        ``staffing``: unit, kind (hub|pool), role, fte, agency_fte, unmet_hours,
        demand_hours [hours/year, scaled], one row per (open hub, core role) and
        (pool, specialist role).
    """
    ix = model.mdtplan_index

    def vals(comp, n):
        return np.fromiter((v.value if v.value is not None else 0.0 for v in comp.values()),
                           float, n)

    values = {"assign": vals(model.assign, len(ix.pairs)),
              "open_site": vals(model.open_site, len(ix.site_ids))}
    for name in ("fte_steps", "agency_fte", "unmet_hours"):
        values[name] = vals(getattr(model, name), len(ix.staff))
    return tables_from_values(ix, data if data is not None else model.mdtplan_data, values,
                              float(pyo.value(model.demand_scale)))


def tables_from_values(ix, data, values: dict, scale: float) -> dict[str, pd.DataFrame]:
    """:func:`extract_tables` from arrays: ``values`` maps ``assign`` (per pair),
    ``open_site`` (per site), ``fte_steps``, ``agency_fte`` and ``unmet_hours`` (per
    ``ix.staff``) to the plan's values; ``scale`` is the demand scale."""
    share = np.asarray(values["assign"], dtype=float).copy()
    if data.assignment == "single":
        share = np.round(share)
    share = np.clip(share, 0.0, 1.0)
    keep = share > 1e-9
    assignment = pd.DataFrame({
        "area_id": np.asarray(ix.area_ids, dtype=object)[ix.pair_area[keep]],
        "site_id": np.asarray(ix.site_ids, dtype=object)[ix.pair_site[keep]],
        "share": share[keep],
    })
    is_open = np.round(np.asarray(values["open_site"], dtype=float)) >= 1
    hubs = pd.DataFrame({"site_id": ix.site_ids, "open": is_open})
    rows = []
    if ix.staff:
        step = data.roles["fte_step"].astype(float).to_dict()
        col = {r: ix.roles.index(r) for r in ix.roles}
        site_open = dict(zip(ix.site_ids, is_open.tolist(), strict=True))
        # demand hours assigned to each unit
        site_hours = np.zeros((len(ix.site_ids), len(ix.roles)))
        np.add.at(site_hours, ix.pair_site, ix.demand[ix.pair_area] * share[:, None])
        pool_hours: dict = {}
        for p, ks in ix.pairs_by_pool.items():
            pool_hours[p] = (ix.demand[ix.pair_area[ks]] * share[ks, None]).sum(axis=0)
        site_pos = {s: i for i, s in enumerate(ix.site_ids)}
        steps = np.round(np.asarray(values["fte_steps"], dtype=float))
        agency = np.asarray(values["agency_fte"], dtype=float)
        unmet = np.asarray(values["unmet_hours"], dtype=float)
        for i, (u, r) in enumerate(ix.staff):
            is_hub = u in site_pos and r in ix.core_roles
            if is_hub and not site_open[u]:
                continue
            hours = (site_hours[site_pos[u], col[r]] if is_hub
                     else pool_hours.get(u, np.zeros(len(ix.roles)))[col[r]])
            rows.append({
                "unit": u, "kind": "hub" if is_hub else "pool", "role": r,
                "fte": step[r] * float(steps[i]),
                "agency_fte": float(agency[i]),
                "unmet_hours": float(unmet[i]),
                "demand_hours": float(hours) * scale,
            })
    # no staff rows: a copy of the empty table (cheaper than making one)
    staffing = pd.DataFrame(rows, columns=_STAFFING_COLUMNS) if rows else _NO_STAFFING.copy()
    return {"assignment": assignment, "hubs": hubs, "staffing": staffing}


_STAFFING_COLUMNS = ["unit", "kind", "role", "fte", "agency_fte", "unmet_hours", "demand_hours"]
_NO_STAFFING = pd.DataFrame([], columns=_STAFFING_COLUMNS)

"""A model held in HiGHS for repeated, in-place solves (:class:`Session`), and the one-shot
:func:`solve`.

The model is compiled once to arrays (:mod:`.compile`: Pyomo's ``LinearStandardFormCompiler``),
or (:meth:`Session.from_data`) built straight from the data by :mod:`mdtplan.model.matrix` (the
same arrays, proven by :func:`~mdtplan.solve.compile.compile_differences`, several times
faster, the Pyomo model built only on demand), and handed to ``highspy.Highs.passModel``. A
session owns what stays from one solve to the next -- the Pyomo model of record or the direct
build's view of it, the compiled arrays, the stage vectors and holds, the last plan -- and keeps
HiGHS in step with the model when it is edited in place (:mod:`.edit`:
:meth:`Session.set_param`, :meth:`Session.set_constraint_bounds`,
:meth:`Session.set_var_bounds`, :meth:`Session.refresh`).

A solve coordinates the parts: the HiGHS handle (:mod:`.highs`), the time budget
(:mod:`.budget`), the unchanged-plan proof (:mod:`.reuse`), the rounding cuts
(:mod:`.cut_plan`), the MIP start (:mod:`.mip_start`, :mod:`.start`), the lexicographic stage
loop (:mod:`.stages`) and the duals (:mod:`.duals`).

Nothing here reads files or prints.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import replace
from time import perf_counter

import highspy
import numpy as np
import pandas as pd
import pyomo.environ as pyo

from ..errors import SolveError
from . import duals, edit, mip_start, relax, stages
from .budget import TimeBudget
from .compile import _Compiled, _model_objects, compile_model
from .cut_plan import RoundingCuts
from .highs import Handle
from .job import Job
from .reuse import ModelEdit, PlanReuse
from .source import DirectSource, PyomoSource
from .stages import _Hold
from .status import ProgressFn, SolveOptions, SolveResult, SolveStatus
from .view import ModelView

INF = highspy.kHighsInf


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
      rows that use it (:func:`mdtplan.model.families.param_dependents`): the Pyomo model stays the
      model of record and HiGHS follows it.
    * ``set_constraint_bounds`` and ``set_var_bounds`` do the same for bounds.
    * Each :meth:`solve` starts from the previous plan when it is still feasible.
    """

    def __init__(self, model, options: SolveOptions | None = None, *, _data=None, _ix=None):
        t0 = perf_counter()
        #: whether the last plan still stands (:mod:`mdtplan.solve.reuse`): told every edit
        self._reuse = PlanReuse()
        #: where rows and columns come from (:mod:`.source`): the Pyomo model, or the direct
        #: build until something needs the Pyomo model
        self._src: DirectSource | PyomoSource
        self._hold_bounds: dict = {}
        self.options = options or SolveOptions()
        if model is None:  # from_data: the arrays now, the Pyomo model when something needs it
            from ..model.index import index_data
            from ..model.matrix import build_matrix, default_params

            ix = _ix if _ix is not None else index_data(_data)
            self._mm = build_matrix(_data, ix)
            # the mutable parameters' values (changed in place by :meth:`set_param`)
            params = {k: v for k, v in default_params(_data, ix).items()
                      if k not in ("staff_fte_max", "stage_optimum_bound")}
            self._src = DirectSource(_data, ix, self._mm, params)
            mm = self._mm
            self._compiled = _Compiled(
                None, {}, mm.col_lower.copy(), mm.col_upper.copy(),
                mm.integrality.astype(np.int32), None, {}, mm.row_lower.copy(),
                mm.row_upper.copy(), mm.A, mm.c0.copy(), float(mm.offset0), stages=mm.stages)
        else:
            self._mm = None
            self._src = PyomoSource(model)
            self._compiled = compile_model(model)
        #: the HiGHS instance and how it is run (options, time limit, callbacks, starts)
        self.handle = Handle(int(self.options.threads))
        self.highs = self.handle.highs
        k = self._compiled
        A = k.A
        status = self.highs.passModel(
            len(k.col_lower), len(k.row_lower), int(A.nnz), int(highspy.MatrixFormat.kColwise),
            int(highspy.ObjSense.kMinimize), k.offset0, k.c0, k.col_lower, k.col_upper,
            k.row_lower, k.row_upper, A.indptr.astype(np.int32), A.indices.astype(np.int32),
            A.data.astype(float), k.integrality)
        if status == highspy.HighsStatus.kError:
            raise SolveError("HiGHS refused the model (passModel failed)")
        self._stages = stages.stage_vectors(self)
        self._edited = False  # rows or coefficients changed since the compile
        #: what the last MIP start was (see :func:`mdtplan.solve.mip_start.checked_start`), or None
        self.start_report: dict | None = None
        #: the time budget of the last solve (its log says what each run was given)
        self.budget: TimeBudget | None = None
        self._last_x: np.ndarray | None = None
        self._last_status: SolveStatus | None = None
        #: the rounding cuts of the solves (:mod:`mdtplan.solve.cut_plan`)
        self._cuts = RoundingCuts()
        #: the last solve's continuous assignment (:mod:`mdtplan.solve.relax`), or None
        self._relaxation: relax.Relaxation | None = None
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
        if not self._src.has_model:
            self._materialise()
        return self._src.model

    @property
    def has_model(self) -> bool:
        """Whether the Pyomo model exists yet (always, unless made ``from_data``)."""
        return self._src.has_model

    @property
    def _model(self):
        """The Pyomo model, or None before a ``from_data`` session builds it."""
        return self._src.model if self._src.has_model else None

    @property
    def _view(self) -> ModelView | None:
        """The direct build's view, while there is no Pyomo model."""
        return None if self._src.has_model else self._src.view

    @property
    def _params(self) -> dict:
        """The scalar parameters in force of a direct build (empty once the Pyomo model holds
        them)."""
        return {} if self._src.has_model else self._src.params

    def _materialise(self) -> None:
        from ..model.build import build_model

        t = perf_counter()
        direct, mm, k = self._src, self._mm, self._compiled
        m = build_model(direct.view.mdtplan_data, check=False)
        from ..model.build import set_demand_scale

        for name, value in direct.params.items():  # numbers changed in place so far
            if name == "demand_scale":
                set_demand_scale(m, float(value))
            elif m.params.component(name) is not None:
                m.params.component(name).set_value(value)
        k.columns, k.rows = _model_objects(m, mm)
        k.col_of = {id(v): j for j, v in enumerate(k.columns)}
        k.row_of = {id(c): i for i, c in enumerate(k.rows)}
        for stage, bound in self._hold_bounds.items():
            m.params.stage_optimum_bound[stage].set_value(float(bound) if bound < INF
                                                          else float("inf"))
        self._stages = [(st, vec, off, m.stage_optimum_held[hold.stage]
                         if isinstance(hold, _Hold) else hold)
                        for st, vec, off, hold in self._stages]
        self._src = PyomoSource(m)
        if direct.pending_x is not None:
            self._load(direct.pending_x)
        self.model_build_seconds = perf_counter() - t

    _solved_once = False

    #: solve single assignment as continuous where that is provably exact
    #: (:mod:`mdtplan.solve.relax`); False keeps the binaries HiGHS would otherwise get
    relax_assignment = True

    @property
    def setup_seconds(self) -> float:
        """Building and compiling time the next solve counts in its limit (only the first
        solve of a session pays for them) [s]."""
        if self._solved_once:
            return 0.0
        return self.compile_seconds + float(
            getattr(self._source, "mdtplan_build_seconds", 0.0) or 0.0)

    def _ncols(self) -> int:
        return len(self._compiled.col_lower)

    @property
    def _source(self):
        """The Pyomo model, or (``from_data``, before it is built) the view of its data."""
        return self._src.holder

    def _col_name(self, j: int) -> str:
        return self._src.col_name(self._mm, self._compiled, j)

    def _row_name(self, i: int) -> str:
        return self._src.row_name(self._mm, self._compiled, i)

    def _row_keys(self) -> list:
        """(constraint name, index) of every row, in order."""
        return self._src.row_keys(self._mm, self._compiled)

    def has_constraint(self, name: str) -> bool:
        """Whether the model has the constraint component ``name`` (rows or not)."""
        return self._src.has_constraint(self._mm, name)

    @property
    def stage_names(self) -> list[str]:
        """The objective's lexicographic stages, in order."""
        return [st for st, *_ in self._stages]

    def tables(self, data=None) -> dict[str, pd.DataFrame]:
        """The last plan as tables (:func:`extract_tables`), without building the Pyomo model
        when the session was made ``from_data``."""
        return self._src.tables(self._compiled, data)

    @property
    def is_mip(self) -> bool:
        return bool(self._compiled.integrality.any())

    # -- changing the model in place -------------------------------------------------------------

    def refresh(self, names: Iterable[str]) -> None:
        """Re-derive the HiGHS rows of the named constraints from the Pyomo model.

        Use after changing mutable parameters or constraint expressions by hand. Rows that the
        compiler had dropped (no variables at the time) are added.
        """
        edit.refresh(self, names)

    def set_param(self, name: str, value, index=None) -> None:
        """Set a mutable parameter of the model and update the rows that use it.

        Parameters
        ----------
        name : str
            ``budget_cap_gbp``, ``hub_count_min``, ``hub_count_max``,
            ``hub_population_min``, ``hub_population_max``, ``demand_scale`` (also moves
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
        edit.set_param(self, name, value, index)

    #: at most this many changed coefficients are changed one by one; more: the model is
    #: handed over again (:func:`mdtplan.solve.edit.set_param`)
    DIRECT_COEFF_CHANGES = 10_000

    def set_constraint_bounds(self, name: str, lower=None, upper=None, index=None) -> None:
        """Give a constraint new numeric bounds (in the Pyomo model and in HiGHS).

        ``lower``/``upper`` ``None`` mean unbounded on that side; with ``index`` ``None`` every
        member of an indexed constraint gets the bounds.
        """
        edit.set_constraint_bounds(self, name, lower, upper, index)

    def set_var_bounds(self, var, lower=None, upper=None) -> None:
        """New bounds for a variable (a VarData, e.g. ``m.open_site['S1']``), e.g. to force a
        site open (1, 1) or shut (0, 0)."""
        edit.set_var_bounds(self, var, lower, upper)

    def refresh_objective(self) -> None:
        """Recompute every stage's cost vector from the model's stage quantities."""
        self._reuse.edited(ModelEdit("objective"))
        self._compiled.stages = None  # the direct build's vectors may no longer hold
        self._compiled.c0 = edit.vector(self, self.model.component_data_objects(
            pyo.Objective, active=True).__next__().expr)[0]
        self._stages = stages.stage_vectors(self)

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
        warm_start : dict, bool or PriorPlan, optional
            ``{column: value}`` or ``{VarData: value}`` MIP start; a
            :class:`~mdtplan.inputs.prior.PriorPlan` (an earlier plan by ids, e.g. another
            run's) is fitted to this model's rules and searched around by the heuristic
            start (a what-if; the result's ``start_from`` says how); ``None`` uses the
            previous plan if there is one, else the greedy plan when ``options.warm_start``.
        """
        options = options or self.options
        # reproducible: one thread (HiGHS's parallel parts then run in one order)
        self.handle.threads = 1 if options.reproducible else int(options.threads)
        t_start = perf_counter()
        unchanged = self._reuse.result_if_unchanged(
            options, t_start, compiled=self._compiled, highs=self.highs, plan=self._last_x,
            stages=self._stages)
        if unchanged is not None:
            return unchanged
        # the first solve also pays for building and compiling the model
        setup = 0.0 if self._solved_once else self.compile_seconds + float(
            getattr(self._source, "mdtplan_build_seconds", 0.0) or 0.0)
        # reproducible: no clock ends anything (the node limit does)
        limit = float("inf") if options.reproducible else float(options.time_limit_s)
        budget = self.budget = TimeBudget(limit, spent_s=setup)
        bounded_below = stages.bounded_below(self)
        state = {"stage": None, "cancelled": False}
        self.handle.install_callbacks(progress, cancel, state)

        # reset the lexicographic holds and start from the first stage's costs
        for _, _, _, hold in self._stages:
            if hold is not None:
                stages.set_hold(self, hold, INF)
        # the rounding cuts are made while the heuristic start searches (when both are made)
        cut_plan = self._cuts.plan(self, options, budget, cancel)
        beside = cut_plan if isinstance(cut_plan, Job) else None
        try:
            rel = relax.prepare(self, cuts=cut_plan is not None)  # logged by mdtplan.solve.relax
            start = mip_start.initial_start(self, options, warm_start, budget, cancel,
                                            beside=beside)
        except BaseException:
            if beside is not None:
                beside.abandon()
            raise
        result, held_at = stages.run(self, options, budget, start, state, cancel, progress,
                                     cut_plan, bounded_below, t_start)
        if rel.relaxed:
            result = replace(result, assignment_relaxed=True)
        report = self.start_report or {}
        if "prior" in report:
            result = replace(result, start_from={
                **report["prior"], "start_feasible": bool(report.get("feasible")),
                "start_objective": report.get("objective")})
        self._reuse.remember(result, held_at, options, row=self._budget_row(),
                             compiled=self._compiled, plan=self._last_x,
                             stage_count=len(self._stages))
        return result

    # -- what the parts read ---------------------------------------------------------------------

    @property
    def compiled(self) -> _Compiled:
        """The arrays HiGHS was given (columns, rows, bounds, integrality, matrix), kept in
        step with in-place edits; the rounding cuts are not in them."""
        return self._compiled

    @property
    def last_solution(self) -> np.ndarray | None:
        """The column values of the last plan found (HiGHS's columns), or None."""
        return self._last_x

    @property
    def reuse(self) -> PlanReuse:
        """Whether the last plan is proven to stand (:attr:`PlanReuse.proof
        <mdtplan.solve.reuse.PlanReuse.proof>`), or which edit or outcome left no proof
        (``invalidated_by``): a re-solve after only a new budget cap may then need no
        solver."""
        return self._reuse

    @property
    def relaxation_report(self) -> dict | None:
        """Whether the last solve gave HiGHS the assignment as continuous and why
        (:meth:`mdtplan.solve.relax.Relaxation.report`: ``relaxed``, ``reason``, ``columns``,
        ``areas_rounded``, ``objective_change``); None before a solve."""
        return None if self._relaxation is None else self._relaxation.report()

    @property
    def cut_report(self) -> dict | None:
        """What the last solve's rounding cuts were: ``rows``, ``sites_solved``,
        ``sites_reused``, ``seconds``, ``reused_from_last_solve``, ``given_up`` (why the probe
        gave them up, or ""); None when none applied."""
        return self._cuts.report

    @property
    def cut_rows(self) -> tuple | None:
        """The rounding cut rows last made, ``(starts, index, value, lower)`` as for
        ``Highs.addRows``, or None."""
        return self._cuts.rows

    def param_value(self, name: str):
        """A scalar mutable parameter's value in force (``Session.set_param`` names), or None
        when the model has no such parameter."""
        return self._src.param_value(name)

    def _budget_row(self) -> int | None:
        """The HiGHS row of the budget cap (``budget_cap``), or None."""
        if self._mm is not None:
            start, stop = self._mm.row_spans.get("budget_cap", (0, 0))
            return start if stop > start else None
        con = self.model.component("budget_cap")
        if con is None:
            return None
        return self._compiled.row_of.get(id(con))

    def _family_columns(self, family: str, keys: list) -> np.ndarray:
        """The column of each member of a variable component (-1 where the build dropped it)."""
        return self._src.family_columns(self._compiled, family, keys)

    def _load(self, x: np.ndarray) -> None:
        """Write ``x`` into the Pyomo variables (integers rounded; dropped variables at the
        bound their cost prefers). Without a Pyomo model yet (``from_data``), kept until one is
        built or the plan is tabulated."""
        self._src.load(self._compiled, x)

    # -- duals ------------------------------------------------------------------------------------

    def row_duals(self, names: Iterable[str] | None = None) -> dict[str, pd.Series]:
        """Row duals of the last solve, by constraint name and index
        (:func:`mdtplan.solve.duals.row_duals`)."""
        return duals.row_duals(self, names)

    def marginal_values(self, names: Iterable[str] = ("budget_cap",), stage: int = 0,
                        time_limit_s: float | None = None) -> dict[str, pd.Series]:
        """Shadow prices with the plan's structure fixed: what one more unit of a bound buys
        (:func:`mdtplan.solve.duals.marginal_values`; the session is restored afterwards)."""
        return duals.marginal_values(self, names, stage, time_limit_s)

    def close(self) -> None:
        """Free the HiGHS model."""
        self.handle.close()


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

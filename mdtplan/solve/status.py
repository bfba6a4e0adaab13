"""What a solve reports: its honest status, the options it was given and its result.

:class:`SolveStatus` is the coarse outcome (``optimal``, ``feasible_at_limit``, ``infeasible``,
``unbounded``, ``no_solution``, ``error``); :func:`map_status` turns a HiGHS model status into
it before any value is read. :class:`SolveOptions` is what the solver may spend and how;
:class:`SolveResult` is the typed report of one solve (timings [s], gap, stage values).

Nothing here runs a solver.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import Enum

import highspy

_MS = highspy.HighsModelStatus

#: a progress sink: called with event dicts (see :meth:`mdtplan.solve.Session.solve`)
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
        Add :mod:`mdtplan.solve.cuts`'s valid inequalities (each hub's least rounding cost) to the
        solver's rows while a staffed ``min_cost``-like model is solved (never changes the
        optimum: they remove no plan; they raise the proven bound).
    hub_patterns : bool
        On a small ``min_cost`` model with contiguous catchments, write down every hub it
        allows and solve the cost stage over whole hubs first (:mod:`mdtplan.solve.patterns`;
        never changes the optimum: its bound is a relaxation's, its plan the model's own);
        HiGHS then runs the stage only when that did not prove it. Off in reproducible mode.
    reproducible : bool
        Stop at work limits instead of seconds, so that the same model and seed give the same
        plan whatever the machine's load: every HiGHS MIP stops after ``node_limit``
        branch-and-bound nodes (``mip_max_nodes``) with no time limit, on one thread, with
        ``seed``; the heuristic start counts only its units of work
        (:data:`REPRODUCIBLE_START_S` worth); the rounding cuts (whose small MIPs are timed)
        are off. ``time_limit_s`` is then not used.
    node_limit : int
        Branch-and-bound nodes per MIP run in reproducible mode (each lexicographic stage,
        each re-solve).
    check_limit : int
        Reproducible mode: a MIP run is also interrupted after this many of HiGHS's interrupt
        checks made while it holds a plan (checks come at fixed points of its work: each cut
        round, heuristic and node), which bounds the root node, where no node is counted.
    """

    time_limit_s: float = 60.0
    mip_gap: float = 0.005
    threads: int = 2
    seed: int = 0
    presolve: bool = True
    warm_start: bool = True
    rounding_cuts: bool = True
    hub_patterns: bool = True
    reproducible: bool = False
    node_limit: int = 1000
    check_limit: int = 10

    def within(self, seconds: float) -> SolveOptions:
        """These options with ``time_limit_s`` set to a part's share of a run [s]; unchanged
        for an unbounded share, or in reproducible mode (its solves stop at work limits, not
        seconds)."""
        if self.reproducible or seconds == float("inf"):
            return self
        return replace(self, time_limit_s=max(float(seconds), 1e-3))

    def work_limits(self) -> dict | None:
        """What a reproducible solve stops at (``summary.json`` -> ``work_limits``), or None
        when it stops at seconds."""
        if not self.reproducible:
            return None
        return {"node_limit": int(self.node_limit), "check_limit": int(self.check_limit),
                "threads": 1, "seed": int(self.seed),
                "start_work_units": REPRODUCIBLE_START_S * START_UNITS_PER_SECOND,
                "rounding_cuts": False, "hub_patterns": False, "time_limit_s": None}


#: the heuristic start's work in reproducible mode, in seconds' worth of units at
#: :data:`START_UNITS_PER_SECOND` (the same units on every machine) [s]
REPRODUCIBLE_START_S = 5.0
#: the start's units of work per nominal second (``mdtplan.solve.start.instance._Work.RATE``)
START_UNITS_PER_SECOND = 2.5e7


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
        Stage name -> relative MIP gap of that stage, at the returned plan (a later stage may
        give up a little of an earlier one within its hold).
    stage_bounds : dict
        Stage name -> the best bound HiGHS proved for that stage, with the earlier stages held
        (``None`` where it proved none).
    cancelled : bool
    cuts_seconds : float
        Time spent finding this solve's rounding cuts (:mod:`mdtplan.solve.cuts`) [s]; 0 when they
        did not apply or were made by an earlier solve of the session.
    start_from : dict or None
        With an earlier plan given as the start (a what-if,
        :class:`~mdtplan.inputs.prior.PriorPlan`): where it came from and how it was used
        (``source``, ``matched``, ``hubs_kept``/``added``/``dropped``, ``areas_moved``,
        ``chosen``: the start kept has its hubs; ``start_feasible``, ``start_objective``: the
        start HiGHS was given, on the first stage). ``None`` otherwise.
    notes : tuple of str
        What the solve did other than asked, for the run's warnings (a large MIP run on one
        thread: :data:`~mdtplan.solve.highs.ONE_THREAD_ROWS`).
    assignment_relaxed : bool
        Whether HiGHS was given the single assignment as continuous, provably exact here, and
        the plan rounded back to one hub per area (:mod:`mdtplan.solve.relax`).
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
    stage_bounds: dict = field(default_factory=dict)
    cancelled: bool = False
    cuts_seconds: float = 0.0
    assignment_relaxed: bool = False
    start_from: dict | None = None
    notes: tuple = ()

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

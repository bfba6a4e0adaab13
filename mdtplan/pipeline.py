"""The pipeline: scenario -> inputs -> demand -> travel -> model -> solve -> results.

:func:`prepare` does everything up to the model data (what ``mdtplan validate`` checks);
:func:`run` goes on to build, solve and assemble results. The CLI, the HTTP service and sweeps
only call these. No stage here prints or writes files; progress goes to an optional callback.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from time import perf_counter

import pandas as pd

from .errors import Problem
from .scenario import Scenario

ProgressFn = Callable[[dict], None]


@dataclass(frozen=True)
class Prepared:
    """A scenario loaded and checked, ready to build: what ``validate`` reports on."""

    scenario: Scenario
    inputs: object
    demand_hours: pd.DataFrame
    pairs: pd.DataFrame
    data: object
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(self.inputs.warnings)


@dataclass(frozen=True)
class RunResult:
    """A finished run: the prepared inputs, the solver's report and the result tables."""

    prepared: Prepared
    solve_result: object
    results: object
    explanation: tuple[Problem, ...] = ()

    @property
    def status(self) -> str:
        return self.results.summary.status


def _emit(progress: ProgressFn | None, **event) -> None:
    if progress is not None:
        progress(event)


def prepare(scenario: Scenario, *, progress: ProgressFn | None = None) -> Prepared:
    """Load and check every input of ``scenario`` and compute demand and allowed pairs.

    Raises
    ------
    ScenarioError, InputError, ModelError
        With every problem found, each naming file, row and column.
    """
    from .demand import compute_demand
    from .inputs import load_inputs
    from .model.data import prepare_model_data
    from .travel import allowed_pairs

    timings: dict[str, float] = {}
    t = perf_counter()
    _emit(progress, stage="load", message="loading inputs")
    inputs = load_inputs(scenario)
    timings["load_s"] = perf_counter() - t

    t = perf_counter()
    if inputs.operating_model is not None:
        demand = compute_demand(inputs.areas, inputs.operating_model)
    else:
        demand = pd.DataFrame(index=inputs.areas.index)
    timings["demand_s"] = perf_counter() - t

    t = perf_counter()
    _emit(progress, stage="travel", message="computing travel")
    pairs = allowed_pairs(inputs)
    timings["travel_s"] = perf_counter() - t

    data = prepare_model_data(inputs, demand, pairs)
    return Prepared(scenario, inputs, demand, pairs, data, timings)


def solve_options_for(scenario: Scenario, **overrides):
    """SolveOptions from ``scenario.solver`` with CLI overrides (``None`` values ignored)."""
    from .solve import SolveOptions

    cfg = scenario.solver.model_dump()
    cfg.update({k: v for k, v in overrides.items() if v is not None})
    return SolveOptions(**{k: cfg[k] for k in SolveOptions.__dataclass_fields__ if k in cfg})


def run(scenario: Scenario, *, options=None, progress: ProgressFn | None = None,
        cancel: threading.Event | None = None, prepared: Prepared | None = None,
        explain: bool = True, marginals: bool = True) -> RunResult:
    """Solve one scenario end to end.

    Parameters
    ----------
    scenario : Scenario
    options : SolveOptions, optional
        Defaults to ``scenario.solver``.
    progress : callable, optional
        Receives event dicts (``stage``, ``message``, and while solving ``primal``, ``dual``,
        ``gap``, ``elapsed_s``).
    cancel : threading.Event, optional
        Set it to stop the solve; the best plan found so far (if any) is returned.
    prepared : Prepared, optional
        Re-use inputs already loaded by :func:`prepare`.
    explain : bool
        When the scenario is infeasible, diagnose which rules conflict (slower).
    marginals : bool
        With a plan, report what the binding rules are worth (one extra LP solve).

    Raises
    ------
    ScenarioError, InputError, ModelError
        Invalid input (exit 2).
    InfeasibleError
        Shown infeasible before solving, by counting (exit 3); the problems say why.
    """
    from .model.build import build_model
    from .results import build_results
    from .solve import Session, extract_tables

    prepared = prepared or prepare(scenario, progress=progress)
    options = options or solve_options_for(scenario)
    timings = dict(prepared.timings)

    t = perf_counter()
    _emit(progress, stage="build", message="building model")
    model = build_model(prepared.data)
    timings["build_s"] = perf_counter() - t

    _emit(progress, stage="solve", message="solving")
    session = Session(model, options)
    tables, marginal = None, None
    try:
        solve_result = session.solve(progress=progress, cancel=cancel)
        timings.update({k: v for k, v in solve_result.timings.items() if k != "build_s"})
        if solve_result.has_solution:
            t = perf_counter()
            tables = extract_tables(model, prepared.data)
            timings["extract_s"] = perf_counter() - t
            if marginals and not solve_result.cancelled:
                marginal = _marginals(session, prepared.data)
    finally:
        session.close()

    explanation: tuple[Problem, ...] = ()
    status = str(getattr(solve_result.status, "value", solve_result.status))
    if status == "infeasible" and explain:
        _emit(progress, stage="explain", message="finding which rules conflict")
        from .explain import explain_infeasible

        explanation = tuple(explain_infeasible(prepared.data, options))

    warnings = [str(w) for w in prepared.warnings]
    results = build_results(prepared.data, tables, solve_result,
                            sites_geo=prepared.inputs.sites, warnings=warnings)
    results = _with(results, timings=timings, marginal_values=marginal,
                    explanation=[p.to_dict() for p in explanation] or None)
    _emit(progress, stage="done", message=results.summary.status)
    return RunResult(prepared, solve_result, results, explanation)


def _marginals(session, data) -> dict | None:
    """Shadow prices of the plan, or the reason they are unavailable."""
    from .errors import SolveError
    from .explain import marginal_summary

    try:
        return marginal_summary(session, data)
    except SolveError as err:
        return {"unavailable": str(err)}


def _with(results, **changes):
    from dataclasses import replace

    return replace(results, summary=replace(results.summary, **changes))

"""One scenario: scenario -> inputs -> demand -> travel -> model -> solve -> results.

:func:`prepare` does everything up to the model data (what ``mdtplan validate`` checks);
:func:`run` goes on to build, solve and assemble results, then, when the scenario has a
``finance`` section, hands the finished run to :mod:`mdtplan.appraisal`. :func:`solve_session`
solves a model already built (what :mod:`mdtplan.variants` re-uses to run many variants of a
scenario). The CLI, the HTTP service and sweeps only call these. No stage here prints or writes
files; progress goes to an optional callback. :func:`~mdtplan.options.solve_options_for` is
importable from here too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from time import perf_counter
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .errors import InputError, Problem
from .options import solve_options_for
from .scenario import Scenario

if TYPE_CHECKING:
    from .inputs import Inputs
    from .model.data import ModelData
    from .results import Results
    from .solve import SolveResult

ProgressFn = Callable[[dict], None]


@dataclass(frozen=True)
class Prepared:
    """A scenario loaded and checked, ready to build: what ``validate`` reports on."""

    scenario: Scenario
    inputs: Inputs
    demand_hours: pd.DataFrame
    pairs: pd.DataFrame
    data: ModelData
    timings: dict[str, float] = field(default_factory=dict)
    #: the areas' neighbour graph (``area_a``, ``area_b``, ``kind``), when contiguous locality
    #: teams are asked for
    area_edges: pd.DataFrame | None = None

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(self.inputs.warnings)


@dataclass(frozen=True)
class RunResult:
    """A finished run: the prepared inputs, the solver's report and the result tables."""

    prepared: Prepared
    solve_result: SolveResult
    results: Results
    explanation: tuple[Problem, ...] = ()

    @property
    def status(self) -> str:
        return self.results.summary.report.status


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
    from .assemble import prepare_model_data
    from .demand import compute_demand, grow_population
    from .inputs import load_inputs
    from .travel import allowed_pairs

    if scenario.fidelity is not None:
        from .appraisal.fidelity import check_paths
        from .errors import ScenarioError

        problems = check_paths(scenario)
        if problems:
            raise ScenarioError(problems)
    timings: dict[str, float] = {}
    t = perf_counter()
    _emit(progress, stage="load", message="loading inputs")
    inputs = load_inputs(scenario)
    timings["load_s"] = perf_counter() - t

    t = perf_counter()
    inputs = _with_demand_changes(inputs, scenario)
    if inputs.operating_model is not None:
        areas = inputs.areas
        if scenario.demand.growth is not None and scenario.demand.growth.solve_for_year:
            areas = grow_population(areas, inputs.growth)   # solved for the later year
        demand = compute_demand(areas, inputs.operating_model)
        if scenario.demand.scale != 1.0:
            demand = demand * float(scenario.demand.scale)
    else:
        demand = pd.DataFrame(index=inputs.areas.index)
    timings["demand_s"] = perf_counter() - t

    t = perf_counter()
    _emit(progress, stage="travel", message="computing travel")
    pairs = allowed_pairs(inputs)
    timings["travel_s"] = perf_counter() - t

    data = prepare_model_data(inputs, demand, pairs)
    if scenario.localities is not None:
        from .localities import check_localities

        check_localities(scenario, inputs, data)
    t = perf_counter()
    edges = data.edges if data.edges is not None else _area_edges(inputs, scenario)
    timings["adjacency_s"] = perf_counter() - t
    return Prepared(scenario, inputs, demand, pairs, data, timings, edges)


def _area_edges(inputs, scenario: Scenario):
    """The areas' neighbour graph, for the locality teams and for counting each catchment's
    pieces in ``geography`` (built when the rule did not build it already). Without contiguity
    a graph the tool cannot join (a far island without ``areas.adjacency.links``) is no error:
    with locality teams asked for it is (their contiguity needs it); otherwise pieces are not
    counted. ``None`` for areas without geometry."""
    from .assemble import area_edges

    geometry = getattr(inputs.areas, "geometry", None)
    if geometry is None or not geometry.notna().any():
        return None
    try:
        return area_edges(inputs)
    except InputError:
        if scenario.localities is not None and scenario.localities.contiguous:
            raise
        return None


def _with_demand_changes(inputs, scenario: Scenario):
    """Inputs whose operating model carries the scenario's demand changes.

    ``demand.client_groups`` / ``demand.pathways`` multipliers, then each finance workstream's
    ``demand_change`` (client group or pathway id -> fractional change, e.g. -0.1 for 10% fewer
    contacts), so the plan is re-optimised under the staffing rules with the changed demand.
    """
    from dataclasses import replace

    from .appraisal.finance import workstream_demand_multipliers
    from .demand import adjust_operating_model

    om = inputs.operating_model
    if om is None:
        if scenario.demand.client_groups or scenario.demand.pathways:
            from .errors import ScenarioError
            raise ScenarioError([Problem(scenario.base_dir, None, "demand",
                                         "demand changes need an operating model",
                                         "set operating_model, or remove the demand section")])
        return inputs
    adjusted = adjust_operating_model(om, client_groups=scenario.demand.client_groups,
                                      pathways=scenario.demand.pathways, where="demand")
    groups, pathways = workstream_demand_multipliers(scenario, adjusted)
    adjusted = adjust_operating_model(adjusted, client_groups=groups, pathways=pathways,
                                      where="finance.workstreams[].demand_change")
    return inputs if adjusted is om else replace(inputs, operating_model=adjusted)


def run(scenario: Scenario, *, options=None, progress: ProgressFn | None = None,
        cancel: threading.Event | None = None, prepared: Prepared | None = None,
        explain: bool = True, marginals: bool = True, budget=None,
        start_from=None) -> RunResult:
    """Solve one scenario end to end.

    ``options.time_limit_s`` bounds the whole run after loading
    (:class:`~mdtplan.solve.budget.RunBudget`): building the model, the solve, and its
    follow-ups (locality teams, marginal values, the explanation of an infeasible scenario,
    today's configuration, the Monte Carlo re-solves, the growth check) each get a share of
    what is left when they start (:data:`~mdtplan.solve.budget.PART_WEIGHTS`); a part left
    too little is skipped and named in ``summary.json`` -> ``warnings`` and
    ``timings.skipped``; what each part was given and used is in ``timings.parts``. Loading
    the inputs (:func:`prepare`, unless ``prepared`` is given late) and writing the outputs
    are outside the limit. In reproducible mode (``options.reproducible``) nothing is timed:
    every solve stops at its node limit.

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
    budget : RunBudget, optional
        The run's time budget, already running (a Monte Carlo draw's share of its parent's);
        default: a new one of ``options.time_limit_s``.
    start_from : PriorPlan, optional
        An earlier plan to start from (a what-if: the same scenario with one thing changed;
        :func:`mdtplan.inputs.prior.read_prior` reads one from a previous run's folder).
        The heuristic start fits it to this scenario's rules and searches around it, so a
        short time limit gives a plan as good as a cold solve's at a long one;
        ``summary.json`` -> ``start_from`` says how it was used. The follow-ups (today's
        configuration, Monte Carlo, the growth check) start as usual.

    Raises
    ------
    ScenarioError, InputError, ModelError
        Invalid input (exit 2).
    InfeasibleError
        Shown infeasible before solving, by counting (exit 3); the problems say why.
    """
    from .model.checks import check_data
    from .model.index import index_data
    from .solve import Session
    from .solve.budget import RunBudget

    prepared = prepared or prepare(scenario, progress=progress)
    options = options or solve_options_for(scenario)
    budget = budget if budget is not None else RunBudget.for_options(options)
    _plan_parts(budget, scenario, prepared, marginals)
    timings = dict(prepared.timings)

    t = perf_counter()
    _emit(progress, stage="build", message="building model")
    ix = index_data(prepared.data)
    check_data(prepared.data, ix)
    timings["build_s"] = perf_counter() - t

    _emit(progress, stage="solve", message="solving")
    # the arrays straight from the data; the Pyomo model of record only if something needs it
    session = Session.from_data(prepared.data, options, ix=ix)
    budget.record("build", perf_counter() - t)
    try:
        result = solve_session(session, prepared, prepared.data, options=options,
                               progress=progress, cancel=cancel, explain=explain,
                               marginals=marginals, timings=timings, budget=budget,
                               start_from=start_from)
    finally:
        session.close()
    if scenario.finance is not None or prepared.data.levers is not None:
        from .appraisal import attach_finance

        result = attach_finance(result, run, options=options, progress=progress, cancel=cancel,
                                budget=budget)
    if _checks_growth(scenario):
        from .appraisal.growth import attach_growth_check

        seconds = budget.grant("growth_check")
        if seconds is not None:
            _emit(progress, stage="growth", message="checking the plan against "
                  f"{scenario.demand.growth.year}'s demand")
            from .errors import OutOfTime

            try:
                result = attach_growth_check(result, options.within(seconds))
            except OutOfTime as err:
                budget.skip("growth_check", f"it found {err.reason}")
            budget.done("growth_check")
    if scenario.fidelity is not None:
        from .appraisal import attach_fidelity

        result = attach_fidelity(result)
    result = _with_budget(result, budget)
    _emit(progress, stage="done", message=result.results.summary.report.status)
    return result


def earlier_plan(folder, source: str | None = None):
    """The plan a previous run wrote into ``folder`` (its ``hubs.csv`` and
    ``assignment.csv``), to start a what-if from (:func:`run`'s ``start_from``); ``source``
    names it in the run's report (default: the folder). Raises
    :class:`~mdtplan.errors.InputError` when the folder holds no usable plan
    (:func:`mdtplan.inputs.prior.read_prior`)."""
    from dataclasses import replace

    from .inputs.prior import read_prior

    prior = read_prior(folder)
    return prior if source is None else replace(prior, source=source)


def _checks_growth(scenario: Scenario) -> bool:
    return scenario.demand.growth is not None and not scenario.demand.growth.solve_for_year


def _plan_parts(budget, scenario: Scenario, prepared: Prepared, marginals: bool) -> None:
    """The parts of a run that share its time limit, in the order they run."""
    from .solve.budget import MONTE_CARLO_DRAWS_WEIGHED, PART_WEIGHTS

    budget.plan("solve")
    if scenario.localities is not None:
        budget.plan("localities")
    if marginals:
        budget.plan("marginal_values")
    finance = scenario.finance
    if finance is not None and finance.baseline is not None:
        budget.plan("baseline")
    if finance is not None and finance.monte_carlo is not None:
        mc = finance.monte_carlo
        om = prepared.inputs.operating_model
        levers = bool(finance.levers and om is not None and om.levers)
        if mc.solves > 0 and (mc.demand_rates or levers):
            budget.plan("monte_carlo", PART_WEIGHTS["monte_carlo_draw"]
                        * min(mc.solves, MONTE_CARLO_DRAWS_WEIGHED))
    if _checks_growth(scenario):
        budget.plan("growth_check")


def with_warnings(result: RunResult, texts) -> RunResult:
    """``result`` whose summary also carries each of ``texts`` among its warnings (once)."""
    from dataclasses import replace

    summary = result.results.summary
    warnings = tuple(summary.warnings) + tuple(dict.fromkeys(
        w for w in texts if w not in summary.warnings))
    summary = replace(summary, warnings=warnings)
    return replace(result, results=replace(result.results, summary=summary))


def _with_budget(result: RunResult, budget) -> RunResult:
    """``result`` whose summary has the budget's parts and skips in ``timings`` and a warning
    per skipped part."""
    from dataclasses import replace

    summary = result.results.summary
    timings = {**summary.report.timings, **budget.timings()}
    summary = replace(summary, report=replace(summary.report, timings=timings))
    return with_warnings(replace(result, results=replace(result.results, summary=summary)),
                         budget.warnings())


def solve_session(session, prepared: Prepared, data, *, options, progress=None, cancel=None,
                  explain: bool = True, marginals: bool = True,
                  timings: dict | None = None, budget=None, start_from=None) -> RunResult:
    """Solve a built model held in ``session`` and assemble the results (no build, no close).

    ``data`` is the :class:`~mdtplan.model.data.ModelData` the model currently stands for: the
    prepared data, or a copy whose numbers were changed in place (a sweep variant's budget,
    bands, counts or demand scale, set on the session with ``Session.set_param``).

    ``budget`` (:class:`~mdtplan.solve.budget.RunBudget`) is the run's; without one (a
    sweep's variant) the solve, its locality teams, marginal values and explanation share a
    new one of ``options.time_limit_s``. ``start_from`` (a
    :class:`~mdtplan.inputs.prior.PriorPlan`): see :func:`run`.
    """
    from dataclasses import replace

    from .results import build_results
    from .solve.budget import SOLVE_MARGIN, SOLVE_MARGIN_S, RunBudget

    if budget is None:
        budget = RunBudget.for_options(options)
        budget.plan("solve")
        if prepared.scenario.localities is not None:
            budget.plan("localities")
        if marginals:
            budget.plan("marginal_values")
    timings = dict(timings if timings is not None else prepared.timings)
    tables, marginal = None, None
    seconds = budget.grant("solve", minimum=0.0)
    # a margin for HiGHS's own overrun; the share counts from now, while a session's first
    # solve also counts its build (done already)
    seconds -= min(SOLVE_MARGIN * seconds, SOLVE_MARGIN_S)
    solve_result = session.solve(options.within(seconds + session.setup_seconds),
                                 progress=progress, cancel=cancel, warm_start=start_from)
    budget.done("solve")
    timings.update({k: v for k, v in solve_result.timings.items() if k != "build_s"})
    if solve_result.has_solution:
        t = perf_counter()
        tables = session.tables(data)
        timings["extract_s"] = perf_counter() - t
        if marginals and not solve_result.cancelled:
            marginal = _marginals(session, data, budget)
    budget.drop("marginal_values")

    explanation: tuple[Problem, ...] = ()
    status = str(getattr(solve_result.status, "value", solve_result.status))
    if status == "infeasible" and explain:
        from .explain import explain_infeasible

        budget.plan("explanation")
        seconds = budget.grant("explanation")
        if seconds is not None:
            _emit(progress, stage="explain", message="finding which rules conflict")
            explanation = tuple(explain_infeasible(
                data, options, time_budget_s=None if seconds == float("inf") else seconds))
            budget.done("explanation")

    warnings = [str(w) for w in prepared.warnings]
    results = build_results(data, tables, solve_result,
                            sites_geo=prepared.inputs.sites, warnings=warnings,
                            edges=prepared.area_edges)
    if prepared.scenario.localities is not None and tables is not None:
        # the teams are part of the plan: they may use all that is left (a share was too
        # little for Kent's 39 hubs); they stop when proven, leaving the rest to follow-ups
        budget.grant("localities", minimum=0.0)
        seconds = budget.left()
        _emit(progress, stage="localities", message="choosing locality teams")
        results, problems = _with_localities(prepared, data, results, solve_result,
                                             options.within(seconds), timings)
        budget.done("localities")
        if problems:
            explanation = problems
    budget.drop("localities")
    summary = results.summary
    summary = replace(summary, report=replace(summary.report, timings=timings,
                                              work_limits=options.work_limits()),
                      marginal_values=marginal, explanation=tuple(explanation) or None)
    result = RunResult(prepared, solve_result, replace(results, summary=summary), explanation)
    return with_warnings(_with_budget(result, budget), solve_result.notes)


def _with_localities(prepared: Prepared, data, results, solve_result, options, timings):
    """The second stage: the plan's open hubs grouped into locality teams.

    Returns the results with ``localities``, a ``locality`` column in ``hubs`` and
    ``assignment``, the teams' roles in the costs and FTE, the scenario's own ``budget.cap``
    (the model was held to it less the least the teams cost), and no problems; or, when the
    hubs form no teams, results without a plan whose status is ``infeasible`` (or
    ``no_solution``) and the problems saying why.
    """
    from dataclasses import replace

    from .localities import plan_teams
    from .results import build_results
    from .summary import Band, Localities

    scenario = prepared.scenario
    summary = results.summary
    spent = float(summary.costs.total_gbp or 0.0)
    # the share covers both solves of the teams
    teams = plan_teams(scenario, prepared.inputs, data, results.hubs, results.assignment,
                       prepared.area_edges, spent_gbp=spent,
                       time_limit_s=float(options.time_limit_s),
                       threads=1 if options.reproducible else int(options.threads or 1),
                       node_limit=options.node_limit if options.reproducible else None)
    timings["localities_s"] = teams.seconds
    if teams.localities is None:
        empty = build_results(data, None, solve_result, warnings=list(summary.warnings))
        message = (f"the hub plan found ({summary.hubs.count} hubs) forms no locality teams: "
                   + "; ".join(p.message for p in teams.problems))
        report = replace(empty.summary.report, status=teams.status, message=message,
                         objective=None, mip_gap=None)
        costs = replace(empty.summary.costs, budget_cap_gbp=scenario.budget.cap)
        return replace(empty, summary=replace(empty.summary, report=report, costs=costs)), \
            teams.problems

    hub_locality = teams.hub_locality
    hubs = results.hubs.assign(locality=results.hubs["site_id"].astype(str).map(hub_locality))
    assignment = results.assignment.assign(
        locality=results.assignment["site_id"].astype(str).map(hub_locality))
    extra = float(sum(teams.cost_by_role.values()))
    costs = summary.costs
    by_role = {**costs.by_role_gbp, **teams.cost_by_role}
    costs = replace(costs, total_gbp=spent + extra,
                    staff_gbp=float(costs.staff_gbp or 0.0) + extra, by_role_gbp=by_role,
                    budget_cap_gbp=scenario.budget.cap)
    workforce = replace(summary.workforce,
                        fte_by_role={**summary.workforce.fte_by_role, **teams.fte_by_role})
    people = teams.localities["population"].to_numpy(dtype=float)
    block = Localities(count=len(teams.localities),
                       population=Band(min=float(people.min()), median=float(np.median(people)),
                                       max=float(people.max())),
                       cost_gbp=extra, fte=float(sum(teams.fte_by_role.values())),
                       status=teams.status)
    summary = replace(summary, costs=costs, workforce=workforce, localities=block)
    return replace(results, hubs=hubs, assignment=assignment, localities=teams.localities,
                   summary=summary), ()


def _marginals(session, data, budget):
    """Shadow prices of the plan (a :class:`~mdtplan.summary.MarginalValues`), or the reason
    they are unavailable (no time left in the run's budget included)."""
    from .errors import SolveError
    from .explain import marginal_summary
    from .summary import MarginalValues

    seconds = budget.grant("marginal_values", minimum=0.2)  # one LP
    if seconds is None:
        return MarginalValues(unavailable="skipped: " + budget.skipped[-1]["reason"])
    try:
        return MarginalValues.from_dict(marginal_summary(
            session, data, time_limit_s=None if seconds == float("inf") else seconds))
    except SolveError as err:
        return MarginalValues(unavailable=str(err))
    finally:
        budget.done("marginal_values")

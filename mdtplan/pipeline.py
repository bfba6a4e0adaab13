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
    inputs = _with_demand_changes(inputs, scenario)
    if inputs.operating_model is not None:
        demand = compute_demand(inputs.areas, inputs.operating_model)
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
    return Prepared(scenario, inputs, demand, pairs, data, timings)


def _with_demand_changes(inputs, scenario: Scenario):
    """Inputs whose operating model carries the scenario's demand changes.

    ``demand.client_groups`` / ``demand.pathways`` multipliers, then each finance workstream's
    ``demand_change`` (client group or pathway id -> fractional change, e.g. -0.1 for 10% fewer
    contacts), so the plan is re-optimised under the staffing rules with the changed demand.
    """
    from dataclasses import replace

    from .demand import adjust_operating_model
    from .finance import workstream_demand_multipliers

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
    from .model.build import check_data, index_data
    from .solve import Session

    prepared = prepared or prepare(scenario, progress=progress)
    options = options or solve_options_for(scenario)
    timings = dict(prepared.timings)

    t = perf_counter()
    _emit(progress, stage="build", message="building model")
    ix = index_data(prepared.data)
    check_data(prepared.data, ix)
    timings["build_s"] = perf_counter() - t

    _emit(progress, stage="solve", message="solving")
    # the arrays straight from the data; the Pyomo model of record only if something needs it
    session = Session.from_data(prepared.data, options, ix=ix)
    try:
        result = solve_session(session, prepared, prepared.data, options=options,
                               progress=progress, cancel=cancel, explain=explain,
                               marginals=marginals, timings=timings)
    finally:
        session.close()
    if scenario.finance is not None:
        result = attach_finance(result, options=options, progress=progress, cancel=cancel)
    _emit(progress, stage="done", message=result.results.summary.status)
    return result


def attach_finance(result: RunResult, *, options=None, progress: ProgressFn | None = None,
                   cancel: threading.Event | None = None, baseline=None) -> RunResult:
    """Add the ``finance`` block, the baseline and the savings against it to a run's summary.

    * ``finance``: the savings table of the workstreams (:func:`mdtplan.finance.savings_table`),
      with ``monte_carlo`` percentiles when ``finance.monte_carlo`` is set; demand-rate draws
      are each a real re-solve of the scenario (``monte_carlo.solves`` of them), whose demand
      met, cost and savings against the baseline are reported as percentiles too.
    * ``baseline`` and ``savings`` (CONTRACT §5) when ``finance.baseline`` is set: today's
      configuration evaluated by the same model (:func:`mdtplan.baseline.evaluate_baseline`),
      and the plan's savings against it line by line (staff by role, agency, sites).

    ``baseline`` may pass an already evaluated :class:`~mdtplan.baseline.Baseline` (sweeps and
    Monte Carlo evaluate it once).
    """
    from .finance import monte_carlo_savings, plan_savings, savings_table

    prepared = result.prepared
    scenario = prepared.scenario
    om = prepared.inputs.operating_model  # demand adjusted; workstreams as written
    finance = savings_table(scenario, om)
    monte = monte_carlo_savings(scenario, om)
    summary = result.results.summary
    changes: dict = {}
    if scenario.finance.baseline is not None:
        if baseline is None:
            _emit(progress, stage="baseline", message="evaluating today's configuration")
            from .baseline import evaluate_baseline

            baseline = evaluate_baseline(prepared, options)
        changes["baseline"] = baseline.to_dict()
        if summary.total_cost is not None:
            changes["savings"] = plan_savings(baseline.summary, summary.to_dict())
    if monte is not None:
        draws = _demand_draws(result, options, progress, cancel, baseline)
        if draws is not None:
            monte["demand"] = draws
        finance["monte_carlo"] = monte
    changes["finance"] = finance
    from dataclasses import replace

    return replace(result, results=replace(result.results,
                                           summary=replace(summary, **changes)))


def _demand_draws(result: RunResult, options, progress, cancel, baseline) -> dict | None:
    """Re-solve the scenario under each demand-rate draw of ``finance.monte_carlo``."""
    from .finance import demand_draws, percentiles
    from .scenario import apply_overrides, parse_scenario

    scenario = result.prepared.scenario
    draws = demand_draws(scenario)
    if not draws:
        return None
    document = scenario.to_dict()
    # each draw is the plan under other demand; the baseline and the savings draws are the run's
    document["finance"] = {k: v for k, v in document["finance"].items()
                           if k not in ("monte_carlo", "baseline")}
    rows = []
    for i, overrides in enumerate(draws, start=1):
        if cancel is not None and cancel.is_set():
            break
        _emit(progress, stage="monte_carlo", message=f"demand draw {i} of {len(draws)}",
              done=i - 1, total=len(draws))
        variant = parse_scenario(apply_overrides(document, overrides), file=None,
                                 base_dir=scenario.base_dir)
        row = {"draw": i, **{k.rsplit(".", 1)[-1]: v for k, v in overrides.items()}}
        try:
            run_i = run(variant, options=options, cancel=cancel, explain=False,
                        marginals=False)
            s = run_i.results.summary
            row.update(status=s.status, total_cost=s.total_cost,
                       demand_met_share=s.demand_met_share, demand_hours=s.demand_hours)
            if baseline is not None and s.total_cost is not None:
                row["saving_vs_baseline"] = float(baseline.summary["total_cost"]) - s.total_cost
        except Exception as err:  # one failed draw is reported, it does not sink the rest
            row.update(status="error", error=str(err))
        rows.append(row)
    ok = [r for r in rows if r.get("total_cost") is not None]
    out = {"solves": len(rows), "failed": len(rows) - len(ok), "draws": rows,
           "demand_met_share": percentiles(r["demand_met_share"] for r in ok),
           "total_cost": percentiles(r["total_cost"] for r in ok),
           "demand_hours": percentiles(r["demand_hours"] for r in ok)}
    if baseline is not None:
        out["saving_vs_baseline"] = percentiles(r["saving_vs_baseline"] for r in ok)
    return out


def solve_session(session, prepared: Prepared, data, *, options, progress=None, cancel=None,
                  explain: bool = True, marginals: bool = True,
                  timings: dict | None = None) -> RunResult:
    """Solve a built model held in ``session`` and assemble the results (no build, no close).

    ``data`` is the :class:`~mdtplan.model.data.ModelData` the model currently stands for: the
    prepared data, or a copy whose numbers were changed in place (a sweep variant's budget,
    bands, counts or demand scale, set on the session with ``Session.set_param``).
    """
    from .results import build_results

    timings = dict(timings if timings is not None else prepared.timings)
    tables, marginal = None, None
    solve_result = session.solve(options, progress=progress, cancel=cancel)
    timings.update({k: v for k, v in solve_result.timings.items() if k != "build_s"})
    if solve_result.has_solution:
        t = perf_counter()
        tables = session.tables(data)
        timings["extract_s"] = perf_counter() - t
        if marginals and not solve_result.cancelled:
            marginal = _marginals(session, data)

    explanation: tuple[Problem, ...] = ()
    status = str(getattr(solve_result.status, "value", solve_result.status))
    if status == "infeasible" and explain:
        _emit(progress, stage="explain", message="finding which rules conflict")
        from .explain import explain_infeasible

        explanation = tuple(explain_infeasible(data, options))

    warnings = [str(w) for w in prepared.warnings]
    results = build_results(data, tables, solve_result,
                            sites_geo=prepared.inputs.sites, warnings=warnings)
    results = _with(results, timings=timings, marginal_values=marginal,
                    explanation=[p.to_dict() for p in explanation] or None)
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


# --------------------------------------------------------------------------------------------
# Variants of one scenario, re-using one built model (sweeps)

#: scenario key -> the model parameters (``Session.set_param``) it sets; a variant that differs
#: from the built model only in these keys (and ``solver.*``) is re-solved in place.
IN_PLACE_KEYS: dict[str, tuple[str, ...]] = {
    "budget.cap": ("budget_cap_gbp",),
    "hubs.count.min": ("hub_count_lower",),
    "hubs.count.max": ("hub_count_upper",),
    "hubs.count.exactly": ("hub_count_lower", "hub_count_upper"),
    "hubs.population.min": ("hub_population_lower",),
    "hubs.population.max": ("hub_population_upper",),
    "demand.scale": ("demand_scale",),
}


@dataclass(frozen=True)
class VariantRun:
    """One variant of :func:`run_variants`: its overrides and its result, or why it has none.

    Attributes
    ----------
    overrides : dict
        Dotted scenario key -> value, applied to the base scenario.
    scenario : Scenario or None
        The variant's scenario (``None`` when the overrides do not validate).
    result : RunResult or None
        ``None`` when an error stopped the variant before a solve finished.
    error : str or None
        What went wrong (invalid overrides, shown infeasible by counting, cancelled, ...).
    status : str
        The solve's status (``optimal``, ``feasible_at_limit``, ``infeasible``, ``no_solution``,
        ``error``), or ``invalid`` (overrides rejected), ``cancelled`` (not run).
    reused : bool
        Whether the variant was solved on a model already built (numbers changed in place).
    """

    overrides: dict
    scenario: Scenario | None
    result: RunResult | None = None
    error: str | None = None
    status: str = "error"
    reused: bool = False


def variant_scenario(scenario: Scenario, overrides: dict) -> Scenario:
    """``scenario`` with dotted-key ``overrides`` applied and validated again.

    ``hubs.count.exactly`` replaces the whole count band (the base's ``min``/``max`` are
    dropped), since ``exactly`` and ``min``/``max`` cannot be given together.

    Raises
    ------
    ScenarioError
        The overridden document breaks the schema (the key path is the problem's column).
    """
    from .scenario import apply_overrides, parse_scenario

    document = scenario.to_dict()
    if "hubs.count.exactly" in overrides:
        document.setdefault("hubs", {})["count"] = {}
    return parse_scenario(apply_overrides(document, dict(overrides)), file=None,
                          base_dir=scenario.base_dir)


def in_place_values(scenario: Scenario) -> dict[str, float | None]:
    """The numbers a built model can change in place, as model parameter -> value.

    Keys are ``Session.set_param`` names (``budget_cap_gbp`` [GBP/year], ``hub_count_lower``,
    ``hub_count_upper``, ``hub_population_lower``, ``hub_population_upper`` [people],
    ``demand_scale``).
    """
    lower, upper = scenario.hubs.count.bounds()
    band = scenario.hubs.population
    return {"budget_cap_gbp": scenario.budget.cap, "hub_count_lower": int(lower or 0),
            "hub_count_upper": upper, "hub_population_lower": band.min,
            "hub_population_upper": band.max, "demand_scale": float(scenario.demand.scale)}


def structure_key(scenario: Scenario) -> str:
    """A text equal for two scenarios exactly when one built model serves both.

    The document without the in-place numbers (:data:`IN_PLACE_KEYS`) and without ``solver``
    (which only changes the solve options), but with which of those numbers are absent: a
    constraint is built only when its bound is given (``hub_count_min`` only for a minimum
    above 0), so a base without a budget cap cannot take one in place.
    """
    import json

    document = scenario.to_dict()
    document.pop("solver", None)
    document.get("budget", {}).pop("cap", None)
    hubs = document.get("hubs", {})
    hubs.pop("count", None)
    hubs.pop("population", None)
    document.get("demand", {}).pop("scale", None)
    values = in_place_values(scenario)
    document["_constraints"] = {
        "budget_cap": values["budget_cap_gbp"] is not None,
        "hub_count_min": values["hub_count_lower"] > 0,
        "hub_count_max": values["hub_count_upper"] is not None,
        "hub_population_min": values["hub_population_lower"] is not None,
        "hub_population_max": values["hub_population_upper"] is not None,
    }
    return json.dumps(document, sort_keys=True, default=str)


def run_variants(scenario: Scenario, overrides_list: list[dict], *, options=None,
                 progress: ProgressFn | None = None, cancel: threading.Event | None = None,
                 explain: bool = False, marginals: bool = False) -> list[VariantRun]:
    """Solve variants of ``scenario``, building a model once and re-solving it in place.

    The first variant is prepared and built; each next variant whose :func:`structure_key`
    matches has only its budget cap, hub count or population bounds and demand scale set on
    the same HiGHS model (``Session.set_param``) and is re-solved from the previous plan (a
    warm start). A variant of another structure builds a new model, which the following
    variants then share; a variant the model cannot take in place (``ModelError``) is built
    on its own. Order matters: ascending budget caps keep each previous plan feasible.

    Parameters
    ----------
    scenario : Scenario
        The base scenario (paths resolved, as :func:`~mdtplan.scenario.load_scenario` gives).
    overrides_list : list of dict
        One dict of dotted scenario keys -> values per variant (``{"budget.cap": 2e7}``).
    options : SolveOptions, optional
        For every variant; defaults to each variant's ``solver`` section.
    progress : callable, optional
        Receives ``{"stage": "variant", "index", "total", "message"}`` before each variant,
        then that variant's solve events.
    cancel : threading.Event, optional
        Set it to stop: the running solve returns what it has, later variants are
        ``cancelled``.
    explain : bool
        Diagnose infeasible variants (slow: a re-solve per rule family); off in sweeps.
    marginals : bool
        Shadow prices for each plan (one extra LP solve each).

    Returns
    -------
    list of VariantRun
        In the order of ``overrides_list``. Errors stay in their variant: one failed variant
        (invalid overrides, shown infeasible by counting, a solver failure) does not stop
        the others. The finance block is not computed for variants (a sweep adds today's
        cost and the saving against it to its rows: :func:`mdtplan.sweep.run_chunk`).
    """
    from .errors import MdtplanError, ScenarioError

    runs: list[VariantRun] = []
    state: dict = {"session": None, "key": None, "prepared": None, "values": None}
    total = len(overrides_list)
    try:
        for index, overrides in enumerate(overrides_list):
            overrides = dict(overrides)
            try:
                variant = variant_scenario(scenario, overrides)
            except ScenarioError as err:
                runs.append(VariantRun(overrides, None, error=_error_text(err),
                                       status="invalid"))
                continue
            if cancel is not None and cancel.is_set():
                runs.append(VariantRun(overrides, variant, error="cancelled before it started",
                                       status="cancelled"))
                continue
            _emit(progress, stage="variant", index=index, total=total,
                  message=f"variant {index + 1} of {total}")
            opts = options or solve_options_for(variant)
            try:
                run_ = _solve_variant(variant, opts, state, progress, cancel, explain, marginals)
            except MdtplanError as err:
                run_ = (None, _error_text(err), _error_status(err), False)
            except Exception as err:  # noqa: BLE001 - one variant's failure is its row's
                _drop_session(state)  # its state is unknown now: the next variant rebuilds
                run_ = (None, f"unexpected error: {type(err).__name__}: {err}", "error", False)
            result, error, status, reused = run_
            if result is not None:
                status = result.status
                if result.solve_result.cancelled:
                    status, error = "cancelled", "cancelled while solving"
                elif status not in ("optimal", "feasible_at_limit"):
                    error = result.results.summary.message or status
            runs.append(VariantRun(overrides, variant, result, error, status, reused))
    finally:
        _drop_session(state)
    return runs


def _solve_variant(variant, options, state, progress, cancel, explain, marginals):
    """(result, error, status, reused) for one variant, re-using ``state``'s model if it can."""
    from dataclasses import replace

    from .errors import ModelError

    key = structure_key(variant)
    values = in_place_values(variant)
    reused = state["session"] is not None and state["key"] == key
    if not reused:
        _drop_session(state)
        _build_session(variant, options, state, progress)
    session, base = state["session"], state["prepared"]
    current = state["values"]
    for name, value in values.items():
        if value == current[name]:
            continue
        try:
            if name == "demand_scale":
                session.set_param(name, value / float(base.scenario.demand.scale))
            else:
                session.set_param(name, value)
        except ModelError:
            # this model cannot take the variant in place: build it on its own
            return _solve_fresh(variant, options, progress, cancel, explain, marginals)
        current[name] = value
    ratio = values["demand_scale"] / float(base.scenario.demand.scale)
    demand = base.demand_hours * ratio if ratio != 1.0 else base.demand_hours
    data = replace(base.data, budget_cap_gbp=values["budget_cap_gbp"],
                   hub_count_min=values["hub_count_lower"],
                   hub_count_max=values["hub_count_upper"],
                   hub_population_min=values["hub_population_lower"],
                   hub_population_max=values["hub_population_upper"],
                   demand_hours=(base.data.demand_hours * ratio if ratio != 1.0
                                 else base.data.demand_hours))
    prepared = replace(base, scenario=variant, demand_hours=demand, data=data)
    timings = dict(base.timings) if not reused else {}
    if not reused:
        timings["build_s"] = state["build_s"]
    result = solve_session(session, prepared, data, options=options, progress=progress,
                           cancel=cancel, explain=explain, marginals=marginals, timings=timings)
    return result, None, result.status, reused


def _build_session(variant, options, state, progress) -> None:
    from .model.build import check_data, index_data
    from .solve import Session

    prepared = prepare(variant, progress=progress)
    t = perf_counter()
    _emit(progress, stage="build", message="building model")
    ix = index_data(prepared.data)
    check_data(prepared.data, ix)
    state.update(session=Session.from_data(prepared.data, options, ix=ix), key=structure_key(variant),
                 prepared=prepared, values=in_place_values(variant),
                 build_s=perf_counter() - t)


def _solve_fresh(variant, options, progress, cancel, explain, marginals):
    """(result, error, status, reused) for a variant built on its own model (then closed)."""
    state: dict = {"session": None}
    try:
        return _solve_variant(variant, options, state, progress, cancel, explain, marginals)
    finally:
        _drop_session(state)


def _drop_session(state: dict) -> None:
    session = state.get("session")
    state.update(session=None, key=None, prepared=None, values=None)
    if session is not None:
        session.close()


def _error_status(err) -> str:
    from .errors import InfeasibleError

    return "infeasible" if isinstance(err, InfeasibleError) else "error"


def _error_text(err) -> str:
    problems = [p for p in err.problems if p.severity == "error"] or err.problems
    return "; ".join(str(p) for p in problems) or str(err)

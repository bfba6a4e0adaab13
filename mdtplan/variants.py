"""Variants of one scenario, solved on one built model changed in place (what sweeps run).

A variant is the base scenario with dotted-key overrides (:func:`variant_scenario`). Variants
that differ only in the numbers of :data:`IN_PLACE_KEYS` (and ``solver.*``) share one
:func:`structure_key`, so :func:`run_variants` builds their model once, sets each variant's
numbers on it (:func:`in_place_values`, ``Session.set_param``) and re-solves from the previous
plan. Each solve goes through :func:`mdtplan.pipeline.solve_session`, as a single run's does;
the finance appraisal is not computed here (a sweep adds today's cost to its rows).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from time import perf_counter
from typing import TYPE_CHECKING

from .options import solve_options_for
from .pipeline import Prepared, ProgressFn, RunResult, _emit, prepare, solve_session
from .scenario import Scenario

if TYPE_CHECKING:
    from .solve import Session

#: scenario key -> the model parameters (``Session.set_param``) it sets; a variant that differs
#: from the built model only in these keys (and ``solver.*``) is re-solved in place.
IN_PLACE_KEYS: dict[str, tuple[str, ...]] = {
    "budget.cap": ("budget_cap_gbp",),
    "hubs.count.min": ("hub_count_min",),
    "hubs.count.max": ("hub_count_max",),
    "hubs.count.exactly": ("hub_count_min", "hub_count_max"),
    "hubs.population.min": ("hub_population_min",),
    "hubs.population.max": ("hub_population_max",),
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

    Keys are ``Session.set_param`` names (``budget_cap_gbp`` [GBP/year], ``hub_count_min``,
    ``hub_count_max``, ``hub_population_min``, ``hub_population_max`` [people],
    ``demand_scale``).
    """
    lower, upper = scenario.hubs.count.bounds()
    band = scenario.hubs.population
    cap = scenario.budget.cap
    if scenario.localities is not None:  # as assemble.prepare_model_data tells the hub plan
        teams = scenario.localities.count.bounds()[0]
        lower = max(int(lower or 0), teams)
        if cap is not None and scenario.operating_model:
            from .operating_model import load_operating_model, locality_team_cost_gbp

            per_team = locality_team_cost_gbp(scenario.localities,
                                              load_operating_model(scenario.operating_model))
            cap = max(0.0, float(cap) - teams * per_team)
    return {"budget_cap_gbp": cap, "hub_count_min": int(lower or 0),
            "hub_count_max": upper, "hub_population_min": band.min,
            "hub_population_max": band.max, "demand_scale": float(scenario.demand.scale)}


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
        "hub_count_min": values["hub_count_min"] > 0,
        "hub_count_max": values["hub_count_max"] is not None,
        "hub_population_min": values["hub_population_min"] is not None,
        "hub_population_max": values["hub_population_max"] is not None,
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
    total = len(overrides_list)
    with _ModelSlot() as slot:
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
                run_ = _solve_variant(variant, opts, slot, progress, cancel, explain, marginals)
            except MdtplanError as err:
                run_ = (None, _error_text(err), _error_status(err), False)
            except Exception as err:  # noqa: BLE001 - one variant's failure is its row's
                slot.drop()  # the model's state is unknown now: the next variant rebuilds
                run_ = (None, f"unexpected error: {type(err).__name__}: {err}", "error", False)
            result, error, status, reused = run_
            if result is not None:
                status = result.status
                if result.solve_result.cancelled:
                    status, error = "cancelled", "cancelled while solving"
                elif status not in ("optimal", "feasible_at_limit"):
                    error = result.results.summary.report.message or status
            runs.append(VariantRun(overrides, variant, result, error, status, reused))
    return runs


@dataclass
class _SharedModel:
    """A model built for one structure and kept open for the variants that share it.

    Attributes
    ----------
    session : mdtplan.solve.Session
        The built model, inside HiGHS.
    key : str
        The :func:`structure_key` of the scenario it was built for.
    prepared : Prepared
        That scenario, prepared (its data are the numbers the model was built with).
    values : dict
        The in-place numbers the model holds now (:func:`in_place_values`'s keys), updated as
        variants set theirs.
    build_s : float
        Checking the data and building the model [s].
    """

    session: Session
    key: str
    prepared: Prepared
    values: dict[str, float | None]
    build_s: float


class _ModelSlot:
    """Holds at most one :class:`_SharedModel`, rebuilt when a variant's structure differs.

    A context manager: the model still open at the end is closed.
    """

    def __init__(self) -> None:
        self.model: _SharedModel | None = None

    def __enter__(self) -> _ModelSlot:
        return self

    def __exit__(self, *exc) -> None:
        self.drop()

    def take(self, variant: Scenario, options, progress) -> tuple[_SharedModel, bool]:
        """The model for ``variant``: the open one if its structure matches (then ``True``),
        else a new one built for ``variant`` (the open one closed first)."""
        if self.model is not None and self.model.key == structure_key(variant):
            return self.model, True
        self.drop()
        self.model = _build_model(variant, options, progress)
        return self.model, False

    def drop(self) -> None:
        """Close the open model, if any."""
        model, self.model = self.model, None
        if model is not None:
            model.session.close()


def _solve_variant(variant, options, slot: _ModelSlot, progress, cancel, explain,
                   marginals) -> tuple[RunResult | None, str | None, str, bool]:
    """(result, error, status, reused) for one variant, re-using ``slot``'s model if it can."""
    from dataclasses import replace

    from .errors import ModelError

    values = in_place_values(variant)
    shared, reused = slot.take(variant, options, progress)
    session, base, current = shared.session, shared.prepared, shared.values
    for name, value in values.items():
        if value == current[name]:
            continue
        if name == "demand_scale" and base.data.visits_per_demand_hour and \
                base.data.mileage_gbp_per_mile:
            # staff mileage is priced on the built demand: more demand, more miles, so a new
            # demand scale is a model of its own
            return _solve_fresh(variant, options, progress, cancel, explain, marginals)
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
                   hub_count_min=values["hub_count_min"],
                   hub_count_max=values["hub_count_max"],
                   hub_population_min=values["hub_population_min"],
                   hub_population_max=values["hub_population_max"],
                   demand_hours=(base.data.demand_hours * ratio if ratio != 1.0
                                 else base.data.demand_hours))
    prepared = replace(base, scenario=variant, demand_hours=demand, data=data)
    timings = dict(base.timings) if not reused else {}
    if not reused:
        timings["build_s"] = shared.build_s
    result = solve_session(session, prepared, data, options=options, progress=progress,
                           cancel=cancel, explain=explain, marginals=marginals, timings=timings)
    return result, None, result.status, reused


def _build_model(variant: Scenario, options, progress) -> _SharedModel:
    """Prepare ``variant``, check its data and build its model in HiGHS."""
    from .model.checks import check_data
    from .model.index import index_data
    from .solve import Session

    prepared = prepare(variant, progress=progress)
    t = perf_counter()
    _emit(progress, stage="build", message="building model")
    ix = index_data(prepared.data)
    check_data(prepared.data, ix)
    session = Session.from_data(prepared.data, options, ix=ix)
    return _SharedModel(session=session, key=structure_key(variant), prepared=prepared,
                        values=in_place_values(variant), build_s=perf_counter() - t)


def _solve_fresh(variant, options, progress, cancel, explain, marginals):
    """(result, error, status, reused) for a variant built on its own model (then closed)."""
    with _ModelSlot() as slot:
        return _solve_variant(variant, options, slot, progress, cancel, explain, marginals)


def _error_status(err) -> str:
    from .errors import InfeasibleError

    return "infeasible" if isinstance(err, InfeasibleError) else "error"


def _error_text(err) -> str:
    problems = [p for p in err.problems if p.severity == "error"] or err.problems
    return "; ".join(str(p) for p in problems) or str(err)

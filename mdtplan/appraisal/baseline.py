"""Today's configuration, costed and evaluated by the same model with its decisions fixed.

The baseline is the scenario's sites whose ``status`` is ``existing`` or ``required`` (or the
ids listed in ``finance.baseline.sites``), staffed exactly as the workforce table says (permanent
and agency FTE at each unit; vacant posts cost nothing and serve no one). Each area is served by
its nearest baseline site (``finance.baseline.assignment: nearest``, the default) or by whichever
baseline site meets most demand (``free``); the hub bands, count, travel limit and budget cap of
the *new* design do not bind today's configuration: they are evaluated afterwards and each rule
today's configuration breaks is reported (``violations``).

The model is the model of record (:func:`mdtplan.model.build.build_model`) built over the
baseline sites with the design rules deactivated, FTE and agency FTE fixed by their bounds (to
0.01 FTE) and the objective ``max_demand_met``: the solve then only works out which demand today's
staff can meet, which it cannot (unmet hours by role), and what it costs.

Demand is the scenario's demand *before* the finance workstreams change it (the workstreams are
what the plan is measured on), but with the scenario's ``demand`` section applied (the world the
plan faces).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from ..errors import OutOfTime, Problem, ScenarioError
from ..summary import BaselineSummary, Demand, RuleBreach

FTE_RESOLUTION = 0.01
"""Baseline FTE are held to this step [FTE] (the roles' own steps do not apply to today's staff)."""


@dataclass(frozen=True)
class Baseline:
    """The evaluated baseline: its summary (``summary.json``'s ``baseline`` block, with the
    rules today breaks, the areas no site reaches and the vacant posts) and its tables."""

    summary: BaselineSummary
    staffing: pd.DataFrame
    assignment: pd.DataFrame


def baseline_sites(prepared) -> list[str]:
    """The baseline's site ids (``finance.baseline.sites``, else existing and required sites)."""
    scenario = prepared.scenario
    cfg = scenario.finance.baseline
    sites = prepared.inputs.sites
    if cfg.sites is not None:
        unknown = [s for s in cfg.sites if s not in sites.index]
        if unknown:
            raise ScenarioError([Problem(None, None, "finance.baseline.sites",
                                         f"{len(unknown)} id(s) are not sites of the scenario: "
                                         f"{', '.join(unknown[:10])}",
                                         "list site ids from the sites table")])
        return list(dict.fromkeys(str(s) for s in cfg.sites))
    status = sites["status"].astype(str)
    chosen = list(sites.index[status.isin(["existing", "required"])].astype(str))
    if not chosen:
        raise ScenarioError([Problem(None, None, "finance.baseline",
                                     "no site has status 'existing' or 'required', so there is "
                                     "no configuration of today to compare with",
                                     "give today's sites a status of 'existing' in the sites "
                                     "table, or list them under finance.baseline.sites")])
    return chosen


def _baseline_demand(prepared) -> pd.DataFrame:
    """Demand with the scenario's ``demand`` section (its growth when ``solve_for_year``)
    but without the workstreams' changes."""
    from ..demand import adjust_operating_model, compute_demand, grow_population
    from ..operating_model import load_operating_model

    scenario = prepared.scenario
    om = load_operating_model(scenario.operating_model)
    om = adjust_operating_model(om, client_groups=scenario.demand.client_groups,
                                pathways=scenario.demand.pathways, where="demand")
    areas = prepared.inputs.areas
    growth = scenario.demand.growth
    if growth is not None and growth.solve_for_year:
        areas = grow_population(areas, prepared.inputs.growth)
    demand = compute_demand(areas, om)
    return demand * float(scenario.demand.scale)


def _pairs(prepared, sites: list[str], assignment: str) -> pd.DataFrame:
    """Pairs from every area to the baseline sites, with no travel limit (today's reach)."""
    inputs = prepared.inputs
    sub = inputs.sites.loc[sites].copy()
    sub["status"] = "required"
    pairs = _lenient_pairs(inputs, sub)
    if assignment == "nearest" and len(pairs):
        pairs = pairs.sort_values(["area_id", "travel_cost", "site_id"], kind="stable")
        pairs = pairs.drop_duplicates("area_id", keep="first")
    return pairs.reset_index(drop=True)


def _lenient_pairs(inputs, sub) -> pd.DataFrame:
    """Allowed pairs to the baseline sites, without a travel limit; unreachable areas dropped."""
    from ..errors import InputError
    from ..travel import compute_allowed_pairs

    scenario = inputs.scenario
    try:
        return compute_allowed_pairs(inputs.areas, sub, inputs.travel, scenario.travel, None)
    except InputError:
        # a travel table that leaves some areas without a baseline site: keep the others
        travel = inputs.travel
        reachable = travel.loc[travel["site_id"].isin(sub.index), "area_id"].unique()
        areas = inputs.areas.loc[inputs.areas.index.isin(reachable)]
        return compute_allowed_pairs(areas, sub, travel, scenario.travel, None)


def _fixed_staff(prepared, data, staff: list) -> tuple[dict, dict, dict]:
    """Workforce FTE per (unit, role): total in post (permanent + agency), agency, vacant."""
    wf = prepared.inputs.workforce
    if wf is None or not len(wf):
        raise ScenarioError([Problem(None, None, "finance.baseline",
                                     "a baseline needs today's staff, but the scenario has no "
                                     "workforce table",
                                     "add a workforce section (unit, role, fte, contract)")])
    wf = wf.assign(unit=wf["unit"].astype(str), role=wf["role"].astype(str),
                   contract=wf["contract"].astype(str))
    in_post = wf[wf["contract"].isin(["permanent", "agency"])]
    total = in_post.groupby(["unit", "role"])["fte"].sum().to_dict()
    agency = wf[wf["contract"] == "agency"].groupby(["unit", "role"])["fte"].sum().to_dict()
    vacant = wf[wf["contract"] == "vacant"].groupby("role")["fte"].sum().to_dict()
    known = set(staff)
    missing = sorted(k for k, v in total.items() if v > 0 and k not in known)
    if missing:
        file = prepared.scenario.workforce.path if prepared.scenario.workforce else None
        shown = ", ".join(f"{u}/{r}" for u, r in missing[:8])
        raise ScenarioError([Problem(file, shown, "unit",
                                     f"{len(missing)} unit/role row(s) of today's staff are not "
                                     "at a baseline site or pool (core roles belong to a "
                                     "baseline site, specialists to a pool that serves it)",
                                     "give those sites status 'existing', list them under "
                                     "finance.baseline.sites, or fix the unit")])
    return total, agency, {k: float(v) for k, v in vacant.items()}


@dataclass(frozen=True)
class FixedEvaluation:
    """A fixed configuration (sites open, areas' sites, staff) evaluated by the model.

    Attributes
    ----------
    results : mdtplan.results.Results
        The model's results over the configuration's sites and reachable areas.
    demand : Demand
        All the demand given [hours/year], areas no site reaches counted as unmet.
    violations : list of RuleBreach
        Design rules the configuration breaks (and areas beyond the travel limit).
    unserved : list of str
        Areas no site of the configuration reaches.
    roles : DataFrame
        The roles of the model data (``productive_hours_per_fte`` …).
    """

    results: object
    demand: Demand
    violations: list
    unserved: list
    roles: pd.DataFrame


def evaluate_fixed(prepared, *, sites: list[str], pairs: pd.DataFrame, demand: pd.DataFrame,
                   staff, options=None, site_cost_gbp: float | None = None,
                   shares: dict | None = None) -> FixedEvaluation:
    """Evaluate a configuration with its decisions fixed: which demand its staff can meet.

    The model of record (:func:`mdtplan.model.build.build_model`) is built over ``sites``
    (all open) and ``pairs`` with the design rules deactivated (evaluated, not held), FTE and
    agency FTE fixed by their bounds (to :data:`FTE_RESOLUTION`) and the objective
    ``max_demand_met``; the solve works out the demand met, the unmet hours by role and the
    cost. Today's configuration (:func:`evaluate_baseline`) and a plan checked against a later
    year's demand (:mod:`mdtplan.appraisal.growth`) are both evaluated here.

    Parameters
    ----------
    prepared : mdtplan.pipeline.Prepared
    sites : list of str
        The open sites.
    pairs : DataFrame
        ``area_id``, ``site_id``, ``travel_cost``: the allowed assignments (no travel limit
        applies to them).
    demand : DataFrame
        Areas x roles [hours/year]; areas without a pair count as unmet.
    staff : callable
        ``staff(keys)`` with the model's (unit, role) staff keys returns ``(total, agency)``,
        dicts of FTE in post (permanent + agency) and of agency FTE by key [FTE].
    options : SolveOptions, optional
    site_cost_gbp : float, optional
        The sites' cost in all [GBP/year], spread evenly; else the sites' own fixed costs.
    shares : dict, optional
        (area, site) -> share of the area served there, fixed (a split plan's catchments).

    Raises
    ------
    ScenarioError
        When the configuration cannot be evaluated (no solution).
    """
    import pyomo.environ as pyo

    from ..assemble import prepare_model_data
    from ..model.build import build_model, design_rules
    from ..model.index import index_data
    from ..options import solve_options_for
    from ..results import build_results
    from ..solve import Session, extract_tables

    scenario = prepared.scenario
    served = pd.Index(pairs["area_id"].astype(str).unique())
    unserved = [str(a) for a in demand.index.astype(str) if a not in set(served)]

    inputs = prepared.inputs
    sites_b = inputs.sites.loc[sites].copy()
    sites_b["status"] = "required"
    if site_cost_gbp is not None:
        sites_b["fixed_cost_gbp"] = float(site_cost_gbp) / max(len(sites_b), 1)
    sites_b["opening_cost_gbp"] = 0.0
    areas_b = inputs.areas.loc[inputs.areas.index.astype(str).isin(served)]
    inputs_b = replace(inputs, sites=sites_b, areas=areas_b)
    data = prepare_model_data(inputs_b, demand.loc[areas_b.index], pairs)
    roles = data.roles.copy()
    roles["fte_step"] = FTE_RESOLUTION
    roles["max_agency_share"] = 1.0
    # the design's bands, count and cap are built (then deactivated) so that what the
    # configuration breaks can be reported
    # (its staff are fixed: how their shortfall falls on hubs is reported, not held)
    # a fixed configuration runs no levers: today's runs none of the new design's (their
    # savings are what the plan is measured on), and a plan's own lever people are not
    # re-decided when it is checked against a later year's demand
    data = replace(data, roles=roles, objective="max_demand_met", max_travel=None,
                   max_shortfall_spread=None, levers=None)

    ix = index_data(data)
    total, agency = staff(ix.staff)
    model = build_model(data, check=False)
    # design rules are evaluated, not held; "no staff at a closed hub" is moot with every
    # site open (and its big-M, sized to the demand a hub can reach, would cap the fixed
    # staff); contiguous catchments (hubs.contiguous) are a rule of a new design, not held of
    # a fixed one (sites in one area would share a root) and not counted in rows (their flow
    # means nothing once its rows are off: pieces per catchment say it better)
    for name in (*design_rules(), "staff_only_at_open_hubs", "catchment_contiguous",
                 "catchment_flow_capacity", "catchment_reach"):
        con = getattr(model, name, None)
        if con is not None:
            con.deactivate()
    for s in model.SITES:
        model.open_site[s].setlb(1)
        model.open_site[s].setub(1)
    for key in model.STAFF:
        steps = int(round(total.get(key, 0.0) / FTE_RESOLUTION))
        model.fte_steps[key].setlb(steps)
        model.fte_steps[key].setub(steps)
        a = min(float(agency.get(key, 0.0)), steps * FTE_RESOLUTION)
        model.agency_fte[key].setlb(a)
        model.agency_fte[key].setub(a)
    for key, share in (shares or {}).items():
        if key in model.assign:
            model.assign[key].setlb(float(share))
            model.assign[key].setub(float(share))

    options = options or solve_options_for(scenario)
    session = Session(model, options)
    try:
        result = session.solve()
        if not result.has_solution and result.status.value == "no_solution":
            raise OutOfTime(f"no plan within {float(options.time_limit_s):.1f} s "
                            f"({result.message})")
        if not result.has_solution:
            raise ScenarioError([Problem(None, None, "finance.baseline",
                                         f"the fixed configuration could not be evaluated "
                                         f"({result.status.value}: {result.message})",
                                         "check the workforce table and the sites")])
        tables = extract_tables(model, data)
        violations = _violations(model, pyo)
        violations += _travel_violations(pairs, tables["assignment"], scenario)
    finally:
        session.close()

    results = build_results(data, tables, result, sites_geo=inputs.sites,
                            edges=getattr(prepared, "area_edges", None))
    plan = results.summary
    # areas no site can reach: all their demand is unmet
    lost = demand.loc[demand.index.astype(str).isin(unserved)].sum()
    full_total = float(demand.to_numpy().sum())
    unmet = {r: float(plan.demand.unmet_hours_by_role.get(r, 0.0)) + float(lost.get(r, 0.0))
             for r in data.roles.index}
    met_share = (1.0 - sum(unmet.values()) / full_total) if full_total > 0 else None
    geo = plan.geography
    if (geo is not None and geo.staff_travel and plan.demand.met_share is not None
            and abs(plan.demand.hours + float(lost.sum()) - full_total) <= 1e-6 * full_total):
        # unmet hours include the trips: count demand met as the plan does (a short unit is
        # short of its visits alike), the unreachable areas' demand unmet
        met_share = plan.demand.met_share * plan.demand.hours / full_total
    return FixedEvaluation(results=results,
                           demand=Demand(hours=full_total, unmet_hours_by_role=unmet,
                                         met_share=met_share),
                           violations=violations, unserved=unserved, roles=data.roles)


def evaluate_baseline(prepared, options=None) -> Baseline:
    """Cost and evaluate today's configuration (see the module docstring).

    Parameters
    ----------
    prepared : mdtplan.pipeline.Prepared
        The scenario, loaded (it must have ``finance.baseline`` and a workforce table).
    options : SolveOptions, optional

    Returns
    -------
    Baseline

    Raises
    ------
    ScenarioError
        No baseline sites, no workforce table, or staff at units outside the baseline.
    """
    scenario = prepared.scenario
    cfg = scenario.finance.baseline
    sites = baseline_sites(prepared)
    demand = _baseline_demand(prepared)
    pairs = _pairs(prepared, sites, cfg.assignment)
    vacant: dict = {}

    def staff(keys):
        total, agency, found = _fixed_staff(prepared, None, keys)
        vacant.update(found)
        return total, agency

    fixed = evaluate_fixed(prepared, sites=sites, pairs=pairs, demand=demand, staff=staff,
                           options=options, site_cost_gbp=cfg.site_cost_gbp)
    results = fixed.results
    plan = results.summary
    summary = BaselineSummary(
        name=f"{scenario.name} (baseline)",
        # the block carries no stages, timings, relaxation or work limits (BASELINE_KEYS)
        report=replace(plan.report, objective_name="baseline", stage_objectives={},
                       timings={}, stages=(), assignment_relaxed=None, work_limits=None),
        costs=replace(plan.costs, budget_cap_gbp=None),
        demand=fixed.demand,
        workforce=plan.workforce, hubs=plan.hubs, travel=plan.travel,
        sites=tuple(sites), assignment=cfg.assignment, violations=tuple(fixed.violations),
        unserved_areas=tuple(fixed.unserved), vacant_fte_by_role=vacant,
        geography=plan.geography)
    return Baseline(summary=summary, staffing=results.staffing, assignment=results.assignment)


def _violations(model, pyo) -> list[RuleBreach]:
    """Each deactivated design rule today's configuration breaks: count and worst example."""
    from ..model.build import design_rules

    out = []
    for name in design_rules():
        con = getattr(model, name, None)
        if con is None:
            continue
        worst, count = None, 0
        for idx, cd in con.items():
            body = pyo.value(cd.body)
            lo = pyo.value(cd.lower) if cd.has_lb() else None
            up = pyo.value(cd.upper) if cd.has_ub() else None
            excess = 0.0
            if lo is not None and body < lo - 1e-6 * max(1.0, abs(lo)):
                excess = lo - body
            if up is not None and body > up + 1e-6 * max(1.0, abs(up)):
                excess = body - up
            if excess > 0:
                count += 1
                if worst is None or excess > worst[0]:
                    worst = (excess, idx, body, lo, up)
        if count:
            excess, idx, body, lo, up = worst
            out.append(RuleBreach(rule=name, count=count, worst_index=_index_text(idx),
                                  value=float(body), lower=_num(lo), upper=_num(up),
                                  by=float(excess)))
    return out


def _travel_violations(pairs, assignment, scenario) -> list[RuleBreach]:
    """Areas whose baseline site lies beyond ``hubs.max_travel_minutes`` (in the travel unit)."""
    from ..travel import travel_limit

    limit = travel_limit(scenario.travel, scenario.hubs.max_travel_minutes)
    if limit is None:
        return []
    used = assignment[assignment["share"] > 1e-9].merge(pairs, on=["area_id", "site_id"])
    far = used[used["travel_cost"] > limit * (1 + 1e-9)]
    if far.empty:
        return []
    worst = far.loc[far["travel_cost"].idxmax()]
    return [RuleBreach(rule="max_travel_minutes", count=int(far["area_id"].nunique()),
                       worst_index=f"{worst['area_id']}/{worst['site_id']}",
                       value=float(worst["travel_cost"]), lower=None, upper=float(limit),
                       by=float(worst["travel_cost"] - limit))]


def _num(v):
    return None if v is None else float(v)


def _index_text(idx) -> str | None:
    if idx is None:
        return None
    if isinstance(idx, tuple):
        return "/".join(str(i) for i in idx)
    return str(idx)



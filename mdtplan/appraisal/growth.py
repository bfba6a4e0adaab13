"""A plan checked against a later year's demand (``demand.growth``; ``growth_check``).

The plan was solved on the base year's demand. Here its open hubs, its catchments (each
area's hub and, for a split plan, its share) and its FTE (permanent and agency) are held
fixed, the areas' age bands are grown by the growth table's multipliers for
``demand.growth.year`` (:func:`mdtplan.demand.grow_population`), and the same model works out
how much of that year's demand the plan's staff meet
(:func:`mdtplan.appraisal.baseline.evaluate_fixed`, the machinery that evaluates today's
configuration). The hours short by role, divided by the role's productive hours per FTE, are
the extra FTE the plan would need (before FTE steps, hub minimums and supervision).
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from ..summary import GrowthCheck


def growth_demand(prepared) -> pd.DataFrame:
    """Areas x roles demand in ``demand.growth.year`` [hours/year], with the operating model
    the plan was solved with (the scenario's demand changes and workstreams) and
    ``demand.scale``."""
    from ..demand import compute_demand, grow_population

    inputs = prepared.inputs
    areas = grow_population(inputs.areas, inputs.growth)
    demand = compute_demand(areas, inputs.operating_model)
    return demand * float(prepared.scenario.demand.scale)


def check_growth(result, options=None) -> GrowthCheck | None:
    """The plan of ``result`` against ``demand.growth.year``'s demand.

    Parameters
    ----------
    result : mdtplan.pipeline.RunResult
        A finished run whose scenario has ``demand.growth``.
    options : SolveOptions, optional

    Returns
    -------
    GrowthCheck or None
        ``None`` without a plan (nothing to check) or with ``solve_for_year`` (the plan was
        solved for that year).
    """
    from .baseline import evaluate_fixed

    prepared = result.prepared
    growth = prepared.scenario.demand.growth
    results = result.results
    if growth is None or growth.solve_for_year or results.summary.costs.total_gbp is None:
        return None
    hubs = [str(s) for s in results.hubs["site_id"]]
    assignment = results.assignment
    used = assignment[assignment["share"] > 1e-9]
    pairs = prepared.pairs.merge(used[["area_id", "site_id"]].astype(str),
                                 on=["area_id", "site_id"])
    shares = None
    if prepared.scenario.hubs.assignment == "split":
        shares = {(str(a), str(s)): float(v) for a, s, v in
                  used[["area_id", "site_id", "share"]].itertuples(index=False)}
    staffing = results.staffing
    # the plan's lever people keep their staff: only the rest of the FTE meets the later demand
    prod = prepared.data.roles["productive_hours_per_fte"].astype(float)
    lever = (staffing["lever_hours"].fillna(0.0) if "lever_hours" in staffing
             else pd.Series(0.0, index=staffing.index))
    total = {(str(u), str(r)): max(0.0, float(f) - float(h) / float(prod.get(r, 1.0)))
             for u, r, f, h in zip(staffing["unit"], staffing["role"], staffing["fte"], lever,
                                   strict=True)}
    agency = {(str(u), str(r)): float(f) for u, r, f in
              staffing[["unit", "role", "agency_fte"]].fillna(0.0).itertuples(index=False)}

    def staff(keys):
        return total, agency

    later = growth_demand(prepared)
    fixed = evaluate_fixed(prepared, sites=hubs, pairs=pairs, demand=later, staff=staff,
                           options=options, shares=shares)
    base = _base_hours(results.summary)
    hours_per_fte = fixed.roles["productive_hours_per_fte"]
    unmet = fixed.demand.unmet_hours_by_role
    extra = {r: float(unmet.get(r, 0.0)) / float(hours_per_fte[r]) for r in unmet}
    evaluated = fixed.results.summary
    return GrowthCheck(year=int(growth.year), demand_hours=fixed.demand.hours,
                       base_demand_hours=base, demand_met_share=fixed.demand.met_share,
                       unmet_hours_by_role=dict(unmet), extra_fte_needed_by_role=extra,
                       status=evaluated.report.status, message=evaluated.report.message)


def _base_hours(summary) -> float:
    return float(summary.demand.hours) if summary.demand.hours is not None else float("nan")


def attach_growth_check(result, options=None):
    """``result`` with its summary's ``growth_check`` set (see :func:`check_growth`)."""
    check = check_growth(result, options)
    if check is None:
        return result
    summary = replace(result.results.summary, growth_check=check)
    return replace(result, results=replace(result.results, summary=summary))

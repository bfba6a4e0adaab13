"""Solved decisions -> the plain tables and the summary users read (CONTRACT §5).

The input is the decision tables extracted from the solved model (no Pyomo here):

- ``assignment``: area_id, site_id, share
- ``hubs``: site_id, open (bool)
- ``staffing``: unit, role, fte, agency_fte, demand_hours, unmet_hours

plus the :class:`~mdtplan.model.data.ModelData` they came from and the loaded inputs (for names
and coordinates). Nothing here writes files.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Summary:
    """The headline figures of one solve (``summary.json``)."""

    name: str
    status: str
    objective: float | None
    objective_name: str
    mip_gap: float | None
    solve_seconds: float
    total_cost: float | None
    staff_cost: float | None
    agency_cost: float | None
    site_cost: float | None
    cost_by_role: dict[str, float]
    budget_cap: float | None
    demand_hours: float
    demand_met_share: float | None
    unmet_hours_by_role: dict[str, float]
    fte_by_role: dict[str, float]
    hubs_open: int
    population_per_hub: dict[str, float]
    travel: dict[str, float | None]
    travel_unit: str
    message: str = ""
    stage_objectives: dict[str, float] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    savings: dict[str, Any] | None = None
    finance: dict[str, Any] | None = None
    explanation: list[dict] | None = None
    marginal_values: dict[str, Any] | None = None
    agency_cost_by_role: dict[str, float] = field(default_factory=dict)
    baseline: dict[str, Any] | None = None

    def to_dict(self) -> dict:
        return _jsonable(asdict(self))


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return None if not np.isfinite(v) else v
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


@dataclass(frozen=True)
class Results:
    """Output tables of a solve, keyed by source ids (they join back to the inputs)."""

    hubs: pd.DataFrame
    assignment: pd.DataFrame
    staffing: pd.DataFrame
    summary: Summary


def _weights(data) -> pd.Series:
    return data.areas["population"].astype(float)


def build_results(data, tables: dict[str, pd.DataFrame] | None, solve_result, *,
                  sites_geo: pd.DataFrame | None = None, warnings: list[str] | None = None,
                  ) -> Results:
    """Assemble the output tables and the summary.

    Parameters
    ----------
    data : ModelData
        What the model was built from.
    tables : dict of DataFrame or None
        ``assignment``, ``hubs``, ``staffing`` from the solved model; ``None`` when no solution
        was found (infeasible, no solution at the limit, cancelled).
    solve_result : SolveResult
        Status, objective, gap, timings.
    sites_geo : DataFrame, optional
        The loaded sites with ``lon``/``lat`` (for ``hubs.csv``).
    """
    status = getattr(solve_result.status, "value", str(solve_result.status))
    roles = data.roles
    weights = _weights(data)
    demand_total = float(data.demand_hours.to_numpy().sum()) if data.demand_hours.size else 0.0
    timings = dict(getattr(solve_result, "timings", {}) or {})
    base = dict(
        name=data.name,
        status=status,
        objective=_opt_float(solve_result.objective),
        objective_name=data.objective,
        mip_gap=_opt_float(solve_result.mip_gap),
        solve_seconds=float(solve_result.solve_seconds or 0.0),
        budget_cap=data.budget_cap_gbp,
        demand_hours=demand_total,
        travel_unit=data.travel_unit,
        message=solve_result.message or "",
        stage_objectives=dict(getattr(solve_result, "stage_objectives", {}) or {}),
        timings=timings,
        warnings=list(warnings or []),
    )
    if tables is None:
        empty = pd.DataFrame()
        summary = Summary(total_cost=None, staff_cost=None, agency_cost=None, site_cost=None,
                          cost_by_role={}, demand_met_share=None, unmet_hours_by_role={},
                          fte_by_role={}, hubs_open=0, population_per_hub={},
                          travel={"mean": None, "max": None}, **base)
        return Results(empty, empty, empty, summary)

    assign = tables["assignment"].copy()
    assign = assign[assign["share"] > 1e-9]
    travel_lookup = data.pairs.set_index(["area_id", "site_id"])["travel_cost"]
    assign["travel_cost"] = travel_lookup.reindex(
        pd.MultiIndex.from_frame(assign[["area_id", "site_id"]])).to_numpy()
    assign = assign.sort_values(["area_id", "share"], ascending=[True, False],
                                ignore_index=True)

    hubs_open = tables["hubs"].loc[tables["hubs"]["open"].astype(bool), "site_id"].astype(str)
    served = assign.assign(w=assign["area_id"].map(weights).to_numpy() * assign["share"])
    pop_by_site = served.groupby("site_id")["w"].sum()
    areas_by_site = served.groupby("site_id")["area_id"].nunique()

    staffing = tables["staffing"].copy()
    if not staffing.empty:
        prod = staffing["role"].map(roles["productive_hours_per_fte"]).astype(float)
        cost = staffing["role"].map(roles["cost_gbp_per_fte"]).astype(float)
        premium = staffing["role"].map(roles["agency_premium"]).astype(float)
        staffing["capacity_hours"] = staffing["fte"] * prod
        staffing["staff_cost"] = staffing["fte"] * cost
        staffing["agency_cost"] = staffing["agency_fte"] * cost * premium
        staffing["cost"] = staffing["staff_cost"] + staffing["agency_cost"]
        staffing = staffing[["unit", "role", "fte", "agency_fte", "demand_hours",
                             "capacity_hours", "unmet_hours", "cost", "staff_cost",
                             "agency_cost"]]
    else:
        staffing = pd.DataFrame(columns=["unit", "role", "fte", "agency_fte", "demand_hours",
                                         "capacity_hours", "unmet_hours", "cost", "staff_cost",
                                         "agency_cost"])

    sites = data.sites.loc[hubs_open]
    site_cost_each = sites["fixed_cost_gbp"].astype(float) + np.where(
        sites["status"].eq("candidate"), sites["opening_cost_gbp"].astype(float), 0.0)

    core = staffing[staffing["unit"].isin(hubs_open)]
    core_delivered = (core["demand_hours"] - core["unmet_hours"]).groupby(core["unit"]).sum()
    core_capacity = core["capacity_hours"].groupby(core["unit"]).sum()
    hubs = pd.DataFrame({"site_id": hubs_open.to_numpy()})
    hubs["name"] = hubs["site_id"].map(data.sites["name"]).astype(str)
    if sites_geo is not None and "lon" in sites_geo:
        hubs["lon"] = hubs["site_id"].map(sites_geo["lon"]).astype(float)
        hubs["lat"] = hubs["site_id"].map(sites_geo["lat"]).astype(float)
    else:
        hubs["lon"] = np.nan
        hubs["lat"] = np.nan
    hubs["status"] = hubs["site_id"].map(data.sites["status"])
    hubs["pool"] = hubs["site_id"].map(data.sites["pool"])
    hubs["population"] = hubs["site_id"].map(pop_by_site).fillna(0.0).astype(float)
    hubs["areas"] = hubs["site_id"].map(areas_by_site).fillna(0).astype(int)
    if len(core_capacity):
        util = core_delivered.reindex(hubs["site_id"]).to_numpy() / core_capacity.reindex(
            hubs["site_id"]).replace(0, np.nan).to_numpy()
    else:
        cap = hubs["site_id"].map(data.sites["capacity"]).astype(float)
        if cap.notna().any():
            util = (hubs["population"] / cap).to_numpy()
        elif data.hub_population_max:
            util = (hubs["population"] / data.hub_population_max).to_numpy()
        else:
            util = np.full(len(hubs), np.nan)
    hubs["utilisation"] = util
    hubs["fte"] = hubs["site_id"].map(core.groupby("unit")["fte"].sum()).fillna(0.0)
    hubs["site_cost"] = site_cost_each.reindex(hubs["site_id"]).to_numpy()
    hubs = hubs.sort_values("site_id", ignore_index=True)

    # travel, weighted by population (or per area when weights are all zero)
    w = assign["area_id"].map(weights).to_numpy() * assign["share"].to_numpy()
    tc = assign["travel_cost"].to_numpy(dtype=float)
    travel_mean = float((w * tc).sum() / w.sum()) if w.sum() > 0 else (
        float(tc.mean()) if len(tc) else None)
    travel = {"mean": travel_mean, "max": float(tc.max()) if len(tc) else None}

    unmet_by_role = staffing.groupby("role")["unmet_hours"].sum().reindex(roles.index,
                                                                        fill_value=0.0)
    fte_by_role = staffing.groupby("role")["fte"].sum().reindex(roles.index, fill_value=0.0)
    cost_by_role = staffing.groupby("role")["cost"].sum().reindex(roles.index, fill_value=0.0)
    agency_by_role = staffing.groupby("role")["agency_cost"].sum().reindex(roles.index,
                                                                           fill_value=0.0)
    staff_cost = float(staffing["staff_cost"].sum())
    agency_cost = float(staffing["agency_cost"].sum())
    site_cost = float(site_cost_each.sum())
    unmet_total = float(unmet_by_role.sum())
    pph = hubs["population"]
    summary = Summary(
        total_cost=staff_cost + agency_cost + site_cost,
        staff_cost=staff_cost,
        agency_cost=agency_cost,
        site_cost=site_cost,
        cost_by_role={k: float(v) for k, v in cost_by_role.items()},
        agency_cost_by_role={k: float(v) for k, v in agency_by_role.items()},
        demand_met_share=(1.0 - unmet_total / demand_total) if demand_total > 0 else None,
        unmet_hours_by_role={k: float(v) for k, v in unmet_by_role.items()},
        fte_by_role={k: float(v) for k, v in fte_by_role.items()},
        hubs_open=int(len(hubs)),
        population_per_hub=({"min": float(pph.min()), "median": float(pph.median()),
                             "max": float(pph.max())} if len(pph) else {}),
        travel=travel,
        **base,
    )
    return Results(hubs=hubs, assignment=assign, staffing=staffing, summary=summary)


def _opt_float(v) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if np.isfinite(f) else None

"""Solved decisions -> the plain tables and the summary users read (CONTRACT §5).

The input is the decision tables extracted from the solved model (no Pyomo here):

- ``assignment``: area_id, site_id, share
- ``hubs``: site_id, open (bool)
- ``staffing``: unit, role, fte, agency_fte, demand_hours, unmet_hours

plus the :class:`~mdtplan.model.data.ModelData` they came from and the loaded inputs (for names
and coordinates). The summary is a :class:`~mdtplan.summary.Summary` made of typed blocks
(importable from here too). Nothing here writes files.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionDtype, take
from pandas.errors import InvalidIndexError

from .geography import geography_of
from .summary import (
    Band,
    Costs,
    Demand,
    Geography,
    Hubs,
    Shortfall,
    SolverReport,
    Summary,
    Travel,
    Workforce,
)

__all__ = ["STAFFING_COLUMNS", "Results", "Summary", "build_results"]


@dataclass(frozen=True)
class Results:
    """Output tables of a solve, keyed by source ids (they join back to the inputs).

    ``localities``: one row per locality team (``localities.csv``), with a ``localities``
    section; ``hubs`` and ``assignment`` then carry a ``locality`` column. ``levers``: with
    levers, the people each hub reaches (``lever_id``, ``site_id``, ``people``); the staffing
    table's ``lever_hours`` are the hours they need. ``baseline_assignment``: with
    ``finance.baseline``, today's configuration's areas and sites (``area_id``, ``site_id``,
    ``share``, ``travel_cost``; ``baseline_assignment.csv``), so the map can show what today
    breaks area by area.
    """

    hubs: pd.DataFrame
    assignment: pd.DataFrame
    staffing: pd.DataFrame
    summary: Summary
    localities: pd.DataFrame | None = None
    levers: pd.DataFrame | None = None
    baseline_assignment: pd.DataFrame | None = None


def _positions(index: pd.Index, keys: list) -> np.ndarray:
    """Position of each key in ``index`` (-1 where absent), as ``index.get_indexer(keys)``.

    A dict does it: for the few hundred keys of a plan that is many times cheaper than a
    pandas lookup, and no slower for large tables.

    Raises
    ------
    pandas.errors.InvalidIndexError
        ``index`` holds a label twice (as the pandas lookup would).
    """
    where = {k: i for i, k in enumerate(index.tolist())}
    if len(where) != len(index):
        raise InvalidIndexError("Reindexing only valid with uniquely valued Index objects")
    return np.fromiter((where.get(k, -1) for k in keys), np.intp, len(keys))


def _lookup(column: pd.Series, positions: np.ndarray):
    """``keys.map(column)`` given the keys' positions in ``column.index`` (-1: not there).

    Parameters
    ----------
    column : Series
        Values by label.
    positions : ndarray of int
        ``column.index.get_indexer(keys)``.

    Returns
    -------
    ndarray or ExtensionArray
        ``column``'s values at ``positions``, missing where -1, in the array type and dtype
        ``Series.map`` gives (both take the values the same way).
    """
    values = column.array if isinstance(column.dtype, ExtensionDtype) else column.to_numpy()
    return take(values, np.asarray(positions, dtype=np.intp), allow_fill=True)


def _assignment(data, table: pd.DataFrame) -> pd.DataFrame:
    """The plan's assignment rows with a share above 1e-9, each with its pair's
    ``travel_cost`` [travel unit] (NaN for a pair not in ``data.pairs``), sorted by area and
    then share, largest first (ties keep their order), on a fresh 0..n-1 index.

    Parameters
    ----------
    data : ModelData
    table : DataFrame
        ``area_id``, ``site_id``, ``share`` (and any other columns, kept).

    Raises
    ------
    ValueError
        ``data.pairs`` names an (area, site) pair twice (the message of a pandas reindex).
    """
    share = table["share"].to_numpy()
    area = table["area_id"].tolist()
    # by area id (str: by code point, as pandas sorts them), then share down; sorted() is
    # stable, as pandas' sort on two keys
    order = sorted(np.flatnonzero(share > 1e-9).tolist(), key=lambda i: (area[i], -share[i]))
    assign = table.take(order)
    assign.index = pd.RangeIndex(len(order))
    pairs = data.pairs
    row_of = dict(zip(zip(pairs["area_id"].tolist(), pairs["site_id"].tolist(), strict=True),
                      range(len(pairs)), strict=True))
    if len(row_of) != len(pairs):
        raise ValueError("cannot handle a non-unique multi-index!")
    site = table["site_id"].tolist()
    pos = np.fromiter((row_of.get((area[i], site[i]), -1) for i in order), np.intp, len(order))
    assign["travel_cost"] = _lookup(pairs["travel_cost"], pos)
    return assign


#: the ``staffing`` table's columns
STAFFING_COLUMNS = ["unit", "role", "fte", "agency_fte", "demand_hours", "capacity_hours",
                    "unmet_hours", "cost", "staff_cost", "agency_cost", "travel_hours",
                    "mileage_miles", "mileage_gbp", "lever_hours"]
#: a plan without staff rows: copied (making an empty frame costs more than copying one)
_NO_STAFFING = pd.DataFrame(columns=STAFFING_COLUMNS)


def _staffing(table: pd.DataFrame, roles: pd.DataFrame,
              mileage_gbp_per_mile: float = 0.0) -> pd.DataFrame:
    """The staffing rows with each role's capacity and costs (see :func:`build_results`);
    staff travel hours and mileage (0 where the table has none)."""
    if table.empty:
        return _NO_STAFFING.copy()
    staffing = table.copy()
    for c in ("travel_hours", "mileage_miles", "lever_hours"):
        if c not in staffing:
            staffing[c] = 0.0
    staffing["mileage_gbp"] = staffing["mileage_miles"] * float(mileage_gbp_per_mile)
    pos = _positions(roles.index, staffing["role"].tolist())
    prod, cost, premium = (
        pd.Series(_lookup(roles[c], pos), index=staffing.index).astype(float)
        for c in ("productive_hours_per_fte", "cost_gbp_per_fte", "agency_premium"))
    staffing["capacity_hours"] = staffing["fte"] * prod
    staffing["staff_cost"] = staffing["fte"] * cost
    staffing["agency_cost"] = staffing["agency_fte"] * cost * premium
    staffing["cost"] = staffing["staff_cost"] + staffing["agency_cost"]
    return staffing[STAFFING_COLUMNS]


def _site_cost(sites: pd.DataFrame, positions: np.ndarray) -> np.ndarray:
    """Annual cost of each site at ``positions`` in ``sites`` [GBP/year]: fixed cost, plus
    the opening cost of a candidate (NaN where a cost is missing)."""
    fixed = _lookup(sites["fixed_cost_gbp"], positions).astype(float)
    opening = _lookup(sites["opening_cost_gbp"], positions).astype(float)
    candidate = np.asarray(_lookup(sites["status"], positions), dtype=object) == "candidate"
    return fixed + np.where(candidate, opening, 0.0)


def pair_trips(data, assign: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Staff travel of each assignment row: (hours, miles) a year, times its share.

    A pair's visits a year are ``sum_r d[a, r] x visits[r]``; each takes the pair's
    ``round_trip_hours`` and ``round_trip_miles``. Zeros without staff travel.
    """
    n = len(assign)
    visits = getattr(data, "visits_per_demand_hour", None) or {}
    pairs = data.pairs
    if not visits or not n or "round_trip_hours" not in pairs:
        return np.zeros(n), np.zeros(n)
    v = pd.Series(visits, dtype=float).reindex(data.demand_hours.columns).fillna(0.0)
    per_area = data.demand_hours.astype(float).to_numpy() @ v.to_numpy()
    area_pos = _positions(data.demand_hours.index, assign["area_id"].tolist())
    trips = np.where(area_pos >= 0, per_area[np.maximum(area_pos, 0)], 0.0)
    key = pd.MultiIndex.from_arrays([pairs["area_id"].astype(str), pairs["site_id"].astype(str)])
    pos = key.get_indexer(pd.MultiIndex.from_arrays([assign["area_id"].astype(str),
                                                     assign["site_id"].astype(str)]))
    share = assign["share"].to_numpy(dtype=float) * (pos >= 0)
    hours = pairs["round_trip_hours"].to_numpy(dtype=float)[np.maximum(pos, 0)]
    miles = (pairs["round_trip_miles"].to_numpy(dtype=float)[np.maximum(pos, 0)]
             if "round_trip_miles" in pairs else np.zeros(n))
    return trips * hours * share, trips * miles * share


def build_results(data, tables: dict[str, pd.DataFrame] | None, solve_result, *,
                  sites_geo: pd.DataFrame | None = None, warnings: list[str] | None = None,
                  edges: pd.DataFrame | None = None) -> Results:
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
        The loaded sites with ``lon``/``lat`` (for ``hubs.csv``) and ``x``/``y`` in EPSG:27700
        (for the hubs' separation in ``geography``).
    edges : DataFrame, optional
        The area adjacency (``area_a``, ``area_b``) for the pieces of each catchment in
        ``geography``.

    Notes
    -----
    A plan has a few hundred rows, so lookups go by dict and positions rather than one pandas
    call per column (each costs more than the whole plan's arithmetic); the tables, dtypes and
    sums are those of the pandas operations they replace (``tests/test_results.py``).
    """
    status = getattr(solve_result.status, "value", str(solve_result.status))
    roles = data.roles
    demand_total = float(data.demand_hours.to_numpy().sum()) if data.demand_hours.size else 0.0
    timings = dict(getattr(solve_result, "timings", {}) or {})
    report = SolverReport(
        status=status,
        objective=_opt_float(solve_result.objective),
        objective_name=data.objective,
        mip_gap=_opt_float(solve_result.mip_gap),
        solve_seconds=float(solve_result.solve_seconds or 0.0),
        message=solve_result.message or "",
        stage_objectives=dict(getattr(solve_result, "stage_objectives", {}) or {}),
        timings=timings,
        stages=_stages(solve_result),
        assignment_relaxed=getattr(solve_result, "assignment_relaxed", None),
        start_from=getattr(solve_result, "start_from", None),
    )
    base = dict(name=data.name, report=report, warnings=tuple(warnings or ()))
    travel_unit = data.travel_unit
    if tables is None:
        empty = pd.DataFrame()
        summary = Summary(costs=Costs(total_gbp=None, staff_gbp=None, agency_gbp=None,
                                      site_gbp=None, budget_cap_gbp=data.budget_cap_gbp),
                          geography=Geography(staff_travel=_staff_travel_on(data)),
                          demand=Demand(hours=demand_total, met_share=None),
                          workforce=Workforce(), hubs=Hubs(count=0),
                          travel=Travel(mean=None, max=None, unit=travel_unit), **base)
        return Results(empty, empty, empty, summary)

    assign = _assignment(data, tables["assignment"])
    hub_table = tables["hubs"]
    is_open = hub_table["open"].to_numpy(dtype=bool)
    hub_ids = [str(s) for s, o in zip(hub_table["site_id"].tolist(), is_open, strict=True)
               if o]
    n_hubs = len(hub_ids)
    site_pos = _positions(data.sites.index, hub_ids)
    if (site_pos < 0).any():
        data.sites.loc[hub_ids]  # raises KeyError naming the unknown sites
    # weight served at each open hub (summed as pandas would) and the areas it serves
    area_ids = assign["area_id"].tolist()
    weights = data.areas["population"]
    w = (_lookup(weights, _positions(weights.index, area_ids)).astype(float)
         * assign["share"].to_numpy())
    site_ids = assign["site_id"].array
    # grouped by site id, as before: pandas picks its summation by how the groups lie
    by_site = pd.Series(w).groupby(site_ids).sum()
    by_site = dict(zip(by_site.index.tolist(), by_site.tolist(), strict=True))
    population = np.array([by_site.get(h, 0.0) for h in hub_ids], dtype=float)
    population[np.isnan(population)] = 0.0  # as fillna(0.0)
    hub_pos = {s: i for i, s in enumerate(hub_ids)}
    served = {(hub_pos[s], a) for s, a in zip(site_ids.tolist(), area_ids, strict=True)
              if s in hub_pos}
    hub_areas = np.bincount(np.fromiter((h for h, _ in served), np.intp, len(served)),
                            minlength=n_hubs).astype(int)

    staffing = _staffing(tables["staffing"], roles, data.mileage_gbp_per_mile)
    trip_hours, trip_miles = pair_trips(data, assign)
    hub_trips = {h: [0.0, 0.0] for h in hub_ids}
    for s, th, tm in zip(site_ids.tolist(), trip_hours.tolist(), trip_miles.tolist(),
                         strict=True):
        if s in hub_trips:
            hub_trips[s][0] += th
            hub_trips[s][1] += tm
    site_cost_each = _site_cost(data.sites, site_pos)
    core = staffing[staffing["unit"].isin(hub_ids)] if len(staffing) else staffing
    if len(core):
        # one grouping, each column summed on its own (as pandas sums one column)
        by_unit = core.assign(delivered=core["demand_hours"] - core["unmet_hours"]).groupby(
            "unit")
        hub_fte = by_unit["fte"].sum().reindex(hub_ids).fillna(0.0).to_numpy()
        util = by_unit["delivered"].sum().reindex(hub_ids).to_numpy() / by_unit[
            "capacity_hours"].sum().reindex(hub_ids).replace(0, np.nan).to_numpy()
    else:
        hub_fte = np.zeros(n_hubs)
        cap = _lookup(data.sites["capacity"], site_pos).astype(float)
        if (~np.isnan(cap)).any():
            util = population / cap
        elif data.hub_population_max:
            util = population / data.hub_population_max
        else:
            util = np.full(n_hubs, np.nan)

    core_roles = [r for r in roles.index if str(roles.at[r, "kind"]) == "core"] \
        if len(roles) else []
    met_share, shortfall = _shortfall(data, staffing, hub_ids, core_roles)

    if sites_geo is not None and "lon" in sites_geo:
        geo_pos = _positions(sites_geo.index, hub_ids)
        lon = _lookup(sites_geo["lon"], geo_pos).astype(float)
        lat = _lookup(sites_geo["lat"], geo_pos).astype(float)
    else:
        lon = lat = np.full(n_hubs, np.nan)
    order = np.array(sorted(range(n_hubs), key=hub_ids.__getitem__), dtype=np.intp)
    hubs = pd.DataFrame({
        "site_id": np.array(hub_ids, dtype=object)[order],
        "name": pd.Series(_lookup(data.sites["name"], site_pos[order])).astype(str).array,
        "lon": lon[order],
        "lat": lat[order],
        "status": _lookup(data.sites["status"], site_pos[order]),
        "pool": pd.array(_hub_pools(data, assign, hub_ids, site_pos)[order], dtype="string"),
        "population": population[order],
        "areas": hub_areas[order],
        "utilisation": util[order],
        "fte": hub_fte[order],
        "site_cost": site_cost_each[order],
        "travel_hours": np.array([hub_trips[h][0] for h in hub_ids], dtype=float)[order],
        "mileage_gbp": np.array([hub_trips[h][1] for h in hub_ids], dtype=float)[order]
        * float(data.mileage_gbp_per_mile),
        "demand_met_share": met_share[order],
    })

    # travel, weighted by population (or per area when weights are all zero)
    tc = assign["travel_cost"].to_numpy(dtype=float)
    travel_mean = float((w * tc).sum() / w.sum()) if w.sum() > 0 else (
        float(tc.mean()) if len(tc) else None)

    if len(staffing):
        by = staffing.groupby("role")
        by_role = {c: {k: float(v) for k, v in by[c].sum().reindex(roles.index,
                                                                  fill_value=0.0).items()}
                   for c in ("unmet_hours", "fte", "cost", "agency_cost")}
        staff_cost = float(staffing["staff_cost"].sum())
        agency_cost = float(staffing["agency_cost"].sum())
    else:  # sums over no rows
        by_role = {c: dict.fromkeys(roles.index, 0.0)
                   for c in ("unmet_hours", "fte", "cost", "agency_cost")}
        staff_cost = agency_cost = 0.0
    site_cost = float(np.nansum(site_cost_each))  # as Series.sum: NaN skipped
    unmet_total = float(np.nansum(np.fromiter(by_role["unmet_hours"].values(), float)))
    travel_hours = float(staffing["travel_hours"].sum()) if len(staffing) else 0.0
    mileage_miles = float(staffing["mileage_miles"].sum()) if len(staffing) else 0.0
    mileage_gbp = float(staffing["mileage_gbp"].sum()) if len(staffing) else 0.0
    met_share = (1.0 - unmet_total / demand_total) if demand_total > 0 else None
    if travel_hours > 0 and demand_total > 0:
        # a unit short of hours is short of its visits alike: it meets the share
        # 1 - unmet / (demand + travel) of its people's demand
        need = (staffing["demand_hours"] + staffing["travel_hours"]).to_numpy(dtype=float)
        short = np.divide(staffing["unmet_hours"].to_numpy(dtype=float), need,
                          out=np.zeros(len(need)), where=need > 0)
        met = float((staffing["demand_hours"].to_numpy(dtype=float) * (1.0 - short)).sum())
        met_share = met / float(staffing["demand_hours"].sum())
    pph = hubs["population"].to_numpy()  # NaN skipped, as Series.min, median and max
    summary = Summary(
        costs=Costs(total_gbp=staff_cost + agency_cost + site_cost + mileage_gbp,
                    staff_gbp=staff_cost, mileage_gbp=mileage_gbp,
                    agency_gbp=agency_cost, site_gbp=site_cost, by_role_gbp=by_role["cost"],
                    agency_by_role_gbp=by_role["agency_cost"],
                    budget_cap_gbp=data.budget_cap_gbp),
        demand=Demand(hours=demand_total,
                      met_share=met_share,
                      unmet_hours_by_role=by_role["unmet_hours"]),
        workforce=Workforce(fte_by_role=by_role["fte"]),
        hubs=Hubs(count=int(len(hubs)),
                  population=(Band(min=float(np.nanmin(pph)), median=float(np.nanmedian(pph)),
                                   max=float(np.nanmax(pph))) if len(pph) else None)),
        travel=Travel(mean=travel_mean, max=float(tc.max()) if len(tc) else None,
                      unit=travel_unit),
        geography=geography_of(data, assign, hub_ids, edges=edges, sites_xy=sites_geo,
                               travel_hours=travel_hours, mileage_miles=mileage_miles,
                               mileage_gbp=mileage_gbp, staff_travel=_staff_travel_on(data)),
        shortfall=shortfall,
        **base,
    )
    return Results(hubs=hubs, assignment=assign, staffing=staffing, summary=summary,
                   levers=tables.get("levers"))


def _hub_pools(data, assign: pd.DataFrame, hub_ids: list, site_pos: np.ndarray) -> np.ndarray:
    """Each hub's specialist pool: the site's own (a ``pool`` column of the sites) or, where
    pools follow the areas (``pools.by: area_group``), the pool of the areas it serves (the
    one serving the most people when they differ); ``None`` without pools."""
    own = _lookup(data.sites["pool"], site_pos)
    pool = np.array([None if pd.isna(v) else str(v) for v in own], dtype=object)
    pairs = data.pairs
    if "pool" not in pairs or assign.empty or not pd.isna(pd.Series(own, dtype=object)).any() \
            or not pairs["pool"].notna().any():
        return pool
    pools = pairs["pool"].dropna().unique()
    if len(pools) == 1:  # one pool for every pair: each hub serving an area is in it
        serving = set(assign.loc[assign["share"] > 0, "site_id"].astype(str))
        for i, hub in enumerate(hub_ids):
            if pool[i] is None and str(hub) in serving:
                pool[i] = str(pools[0])
        return pool
    by_pair = pairs.assign(area_id=pairs["area_id"].astype(str),
                           site_id=pairs["site_id"].astype(str)).set_index(
        ["area_id", "site_id"])["pool"]
    a = assign[["area_id", "site_id", "share"]].astype({"area_id": str, "site_id": str})
    a["pool"] = by_pair.reindex(pd.MultiIndex.from_frame(a[["area_id", "site_id"]])).to_numpy()
    weight = data.areas["population"] if "population" in data.areas else None
    a["people"] = a["share"] * (a["area_id"].map(weight.rename(index=str)).fillna(1.0)
                                if weight is not None else 1.0)
    best = (a.dropna(subset=["pool"]).groupby(["site_id", "pool"])["people"].sum()
            .reset_index().sort_values(["site_id", "people"], ascending=[True, False])
            .drop_duplicates("site_id").set_index("site_id")["pool"])
    for i, hub in enumerate(hub_ids):
        if pool[i] is None and hub in best.index:
            pool[i] = str(best[hub])
    return pool


def _stages(solve_result) -> tuple[dict, ...]:
    """``stages``: each lexicographic stage solved, with its objective at the plan, its proved
    bound and gap, and its status."""
    objectives = dict(getattr(solve_result, "stage_objectives", {}) or {})
    status = dict(getattr(solve_result, "stage_status", {}) or {})
    gaps = dict(getattr(solve_result, "stage_gaps", {}) or {})
    bounds = dict(getattr(solve_result, "stage_bounds", {}) or {})
    return tuple({"name": name, "objective": _opt_float(objectives.get(name)),
                  "bound": _opt_float(bounds.get(name)), "gap": _opt_float(gaps.get(name)),
                  "status": status[name]}
                 for name in status)


def _staff_travel_on(data) -> bool:
    return bool(getattr(data, "visits_per_demand_hour", None)) and "round_trip_hours" in data.pairs


#: resolution of the fair-shortfall rule's overall share (``hub_shortfall_spread.RESOLUTION``):
#: a hub this close to the limit is held at it
_SPREAD_RESOLUTION = 2.0 ** -10


def _shortfall(data, staffing: pd.DataFrame, hub_ids: list, core: list
               ) -> tuple[np.ndarray, Shortfall | None]:
    """Each open hub's share of core demand met (NaN without core demand), and the
    ``shortfall`` block under ``max_demand_met`` (see :class:`~mdtplan.summary.Shortfall`)."""
    n = len(hub_ids)
    share = np.full(n, np.nan)
    if not core or not len(staffing):
        return share, None
    rows = staffing[staffing["role"].isin(core) & staffing["unit"].isin(hub_ids)]
    by = rows.groupby("unit")[["demand_hours", "unmet_hours"]].sum().reindex(hub_ids)
    d = by["demand_hours"].to_numpy(dtype=float)
    u = by["unmet_hours"].fillna(0.0).to_numpy(dtype=float)
    has = np.nan_to_num(d) > 0
    share[has] = 1.0 - u[has] / d[has]
    if data.objective != "max_demand_met" or not has.any():
        return share, None
    total_d, total_u = float(np.nansum(d)), float(u.sum())
    overall = 1.0 - total_u / total_d
    spread = data.max_shortfall_spread
    low = int(np.nanargmin(np.where(has, share, np.nan)))
    at = () if spread is None else tuple(
        h for h, v, ok in zip(hub_ids, share.tolist(), has.tolist(), strict=True)
        if ok and v <= overall - spread + _SPREAD_RESOLUTION + 1e-9)
    gap = (rows["unmet_hours"] - (rows["demand_hours"] - rows["capacity_hours"]).clip(lower=0))
    held = float(gap.clip(lower=0).sum()) if spread is not None else 0.0
    held = held if held > 0.5 else 0.0
    if spread is None:
        words = (f"The fair-shortfall rule is off (hubs.max_shortfall_spread: null): hubs meet "
                 f"{np.nanmin(share[has]):.1%} to {np.nanmax(share[has]):.1%} of their demand, "
                 f"overall {overall:.1%}.")
    elif at:
        names = ", ".join(at[:5]) + (f" and {len(at) - 5} more" if len(at) > 5 else "")
        words = (f"The fair-shortfall rule binds: hub{'s' if len(at) > 1 else ''} {names} "
                 f"{'are' if len(at) > 1 else 'is'} held to at least {overall - spread:.1%} of "
                 f"{'their' if len(at) > 1 else 'its'} core demand met (overall {overall:.1%} "
                 f"less {100 * spread:g} points). Without it the plan could meet more demand "
                 f"overall or travel less by leaving {'these hubs' if len(at) > 1 else 'it'} "
                 "further behind; solve with hubs.max_shortfall_spread: null to see how much.")
        if held:
            words += (f" {held:,.0f} hours a year are counted unmet at better-served hubs "
                      "whose staff could deliver them: no move of staff keeps the rule, so "
                      "those hubs are held back.")
    else:
        words = (f"No hub is at the fair-shortfall limit: the lowest ({hub_ids[low]}) meets "
                 f"{share[low]:.1%} of its core demand, {100 * (overall - share[low]):.1f} "
                 f"points below the overall {overall:.1%} (the limit is {100 * spread:g}).")
    return share, Shortfall(overall_share=overall, max_spread=spread,
                            lowest_hub_share=float(share[low]), lowest_hub=hub_ids[low],
                            hubs_at_limit=at, binds=bool(at), held_back_hours=held,
                            explanation=words)


def _opt_float(v) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if np.isfinite(f) else None

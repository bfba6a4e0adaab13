"""An independent checker of solved plans: every rule re-checked with pandas, no Pyomo.

:func:`check_plan` takes the :class:`~mdtplan.model.data.ModelData` a model was built from and the
result tables (``mdtplan.solve.extract_tables``) and returns the list of violations (empty when
the plan keeps every rule). It re-derives everything from the data — demand per unit, costs,
populations — and never reads anything the solver computed other than the decisions.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

TOL = 1e-6


def _site_cost(sites: pd.DataFrame) -> pd.Series:
    opening = np.where(sites["status"].astype(str) == "candidate",
                       sites["opening_cost_gbp"].astype(float).fillna(0.0), 0.0)
    return sites["fixed_cost_gbp"].astype(float).fillna(0.0) + opening


def _close(a: float, b: float, tol: float) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def check_plan(data, tables: dict, *, tol: float = TOL, demand_scale: float = 1.0) -> list[str]:
    """Re-check every rule of the model on a solved plan.

    Parameters
    ----------
    data : ModelData
    tables : dict of DataFrame
        ``assignment`` (area_id, site_id, share), ``hubs`` (site_id, open) and ``staffing``
        (unit, role, fte, agency_fte, unmet_hours, demand_hours).
    tol : float
        Relative tolerance.
    demand_scale : float
        The model's ``demand_scale`` (1 unless a sweep changed it).

    Returns
    -------
    list of str
        One line per violation.
    """
    out: list[str] = []
    assign = tables["assignment"].copy()
    hubs = tables["hubs"].copy()
    staffing = tables["staffing"].copy()
    areas = data.areas
    sites = data.sites
    roles = data.roles
    weight = areas["population"].astype(float)

    open_sites = set(hubs.loc[hubs["open"].astype(bool), "site_id"].astype(str))
    status = sites["status"].astype(str)

    # -- assignment -------------------------------------------------------------------------
    if ((assign["share"] < -tol) | (assign["share"] > 1 + tol)).any():
        out.append("a share lies outside [0, 1]")
    if data.assignment == "single":
        frac = assign[(assign["share"] - assign["share"].round()).abs() > tol]
        if len(frac):
            out.append(f"single assignment has fractional shares: {frac.head(3).to_dict('records')}")
    served = assign.groupby("area_id")["share"].sum().reindex(areas.index, fill_value=0.0)
    bad = served[(served - 1.0).abs() > tol]
    for a, v in bad.head(5).items():
        out.append(f"area_served_once: area {a} is served {v:.6g} times")
    allowed = set(zip(data.pairs["area_id"].astype(str), data.pairs["site_id"].astype(str),
                      strict=True))
    used = assign[assign["share"] > tol]
    if data.serve_own_area and "area_id" in sites:
        share = assign.set_index(["area_id", "site_id"])["share"]
        for s in sorted(open_sites):
            own = sites["area_id"].get(s)
            if isinstance(own, str) and float(share.get((own, s), 0.0)) < 1 - tol:
                out.append(f"hub_serves_own_area: hub {s} does not serve its own area {own}")
    if getattr(data, "contiguous", False) and data.edges is not None:
        out += _contiguity_violations(data, used, open_sites)
    for a, s in zip(used["area_id"].astype(str), used["site_id"].astype(str), strict=True):
        if (a, s) not in allowed:
            out.append(f"pair ({a}, {s}) is not an allowed pair")
        if s not in open_sites:
            out.append(f"assign_only_open: area {a} is assigned to closed site {s}")
        if status.get(s) == "excluded":
            out.append(f"area {a} is assigned to excluded site {s}")
    if data.max_travel is not None and len(used):
        tc = data.pairs.set_index(["area_id", "site_id"])["travel_cost"]
        t = tc.reindex(pd.MultiIndex.from_frame(used[["area_id", "site_id"]].astype(str)))
        far = t[t > data.max_travel * (1 + tol)]
        if len(far):
            out.append(f"travel reach: {len(far)} assignment(s) beyond {data.max_travel}")

    # -- hubs -----------------------------------------------------------------------------------
    for s in sites.index[status == "required"]:
        if s not in open_sites:
            out.append(f"required site {s} is not open")
    for s in sites.index[status == "excluded"]:
        if s in open_sites:
            out.append(f"excluded site {s} is open")
    km = data.hub_min_separation_km
    if km and km > 0 and "easting_m" in sites:
        xy = sites.loc[sorted(open_sites), ["easting_m", "northing_m"]].astype(float).dropna()
        ids, pts = xy.index.tolist(), xy.to_numpy()
        for i in range(len(ids)):
            d = np.hypot(*(pts[i + 1:] - pts[i]).T) / 1000.0
            for j in np.flatnonzero(d < km * (1 - tol)):
                out.append(f"hub_separation: hubs {ids[i]} and {ids[i + 1 + j]} are "
                           f"{d[j]:.3f} km apart < {km} km")
    n_open = len(open_sites)
    if n_open < (data.hub_count_min or 0):
        out.append(f"hub_count_min: {n_open} hubs open, at least {data.hub_count_min} required")
    if data.hub_count_max is not None and n_open > data.hub_count_max:
        out.append(f"hub_count_max: {n_open} hubs open, at most {data.hub_count_max} allowed")
    pop = (used.assign(w=used["area_id"].map(weight) * used["share"])
           .groupby("site_id")["w"].sum())
    # a split share is exact only to the solver's tolerance (about 1e-6 each): a hub's
    # population may be off by that much of every weight in its sum
    reach = used.assign(w=used["area_id"].map(weight)).groupby("site_id")["w"].sum()
    for s in open_sites:
        p = float(pop.get(s, 0.0))
        slack = tol * float(reach.get(s, 0.0)) + tol
        if data.hub_population_min is not None and \
                p < data.hub_population_min * (1 - tol) - slack:
            out.append(f"hub_population_min: hub {s} serves {p:.6g} < {data.hub_population_min}")
        if data.hub_population_max is not None and \
                p > data.hub_population_max * (1 + tol) + slack:
            out.append(f"hub_population_max: hub {s} serves {p:.6g} > {data.hub_population_max}")
        cap = float(sites.at[s, "capacity"]) if s in sites.index else math.nan
        if math.isfinite(cap) and p > cap * (1 + tol) + slack:
            out.append(f"site_capacity: site {s} holds {p:.6g} > capacity {cap:.6g}")

    # -- staffing -------------------------------------------------------------------------------
    core = [r for r in roles.index if roles.at[r, "kind"] == "core"]
    special = [r for r in roles.index if roles.at[r, "kind"] == "specialist"]
    objective_unmet_allowed = data.objective == "max_demand_met"
    staff_cost = 0.0
    if len(roles):
        demand = data.demand_hours.reindex(index=areas.index, columns=list(roles.index)).fillna(
            0.0) * demand_scale
        d_used = used.join(demand, on="area_id")
        # staff travel: each visit is a round trip from the pair's site (ModelData only)
        trip_hours = _pair_column(data, used, "round_trip_hours")
        visits = dict(data.visits_per_demand_hour) if trip_hours is not None else {}
        for r in roles.index:
            d_used[f"travel::{r}"] = (d_used[r] * float(visits.get(r, 0.0))
                                      * (trip_hours if trip_hours is not None else 0.0))
        # core demand per (site, role)
        core_need, travel_need = {}, {}
        for r in core:
            core_need.update({(s, r): v for s, v in
                              (d_used[r] * d_used["share"]).groupby(d_used["site_id"]).sum()
                              .items()})
            travel_need.update({(s, r): v for s, v in
                                (d_used[f"travel::{r}"] * d_used["share"]).groupby(
                                    d_used["site_id"]).sum().items()})
        # specialist demand per (pool, role), pools from the pairs
        pool_of = data.pairs.assign(area_id=data.pairs["area_id"].astype(str),
                                    site_id=data.pairs["site_id"].astype(str)).set_index(
            ["area_id", "site_id"])["pool"]
        d_used = d_used.assign(pool=pool_of.reindex(pd.MultiIndex.from_frame(
            d_used[["area_id", "site_id"]].astype(str))).to_numpy())
        spec_need = {}
        for r in special:
            spec_need.update({(p, r): v for p, v in
                              (d_used[r] * d_used["share"]).groupby(d_used["pool"]).sum().items()})
            travel_need.update({(p, r): v for p, v in
                                (d_used[f"travel::{r}"] * d_used["share"]).groupby(
                                    d_used["pool"]).sum().items()})
        lever_need, lever_out = _lever_hours(data, tables, used, open_sites, tol)
        out += lever_out
        st = staffing.set_index(["unit", "role"]) if len(staffing) else None

        def _row(u, r):
            if st is None or (u, r) not in st.index:
                return None
            return st.loc[(u, r)]

        # every unit with demand must appear
        for (u, r), need in list(core_need.items()) + list(spec_need.items()):
            if need > tol and _row(u, r) is None:
                out.append(f"demand coverage: unit {u} role {r} has {need:.6g} h of demand "
                           "but no staffing row")
        if st is not None:
            for (u, r), row in st.iterrows():
                fte, agency, unmet = float(row["fte"]), float(row["agency_fte"]), float(
                    row["unmet_hours"])
                step = float(roles.at[r, "fte_step"])
                prod = float(roles.at[r, "productive_hours_per_fte"])
                if fte < -tol or agency < -tol or unmet < -tol:
                    out.append(f"negative staffing at {u}/{r}")
                if abs(fte / step - round(fte / step)) > 1e-6:
                    out.append(f"fte_step: {u}/{r} fte {fte} is not a multiple of {step}")
                is_core = r in core
                need = core_need.get((u, r), 0.0) if is_core else spec_need.get((u, r), 0.0)
                # a solver leaves shares within ~1e-7 of 0 or 1: allow that much of the role's
                # total demand, in hours, on top of the relative tolerance
                slack = 1e-6 * float(data.demand_hours[r].sum()) if r in data.demand_hours \
                    else 0.0
                if abs(float(row["demand_hours"]) - need) > slack and not _close(
                        float(row["demand_hours"]), need, 1e-6):
                    out.append(f"demand_hours of {u}/{r} is {row['demand_hours']:.6g}, "
                               f"the assignment gives {need:.6g}")
                travel = travel_need.get((u, r), 0.0)
                if "travel_hours" in row.index and abs(float(row["travel_hours"]) - travel) > \
                        slack and not _close(float(row["travel_hours"]), travel, 1e-6):
                    out.append(f"travel_hours of {u}/{r} is {row['travel_hours']:.6g}, "
                               f"the assignment gives {travel:.6g}")
                need = need + travel  # the visits' round trips are work too
                lever = lever_need.get((u, r), 0.0)
                if "lever_hours" in row.index and abs(float(row["lever_hours"]) - lever) > \
                        tol * max(1.0, abs(lever)):
                    out.append(f"lever_hours of {u}/{r} is {row['lever_hours']:.6g}, the "
                               f"levers' people give {lever:.6g}")
                need = need + lever  # the people the hub's levers reach (negative: freed)
                if prod * fte + unmet < need * (1 - tol) - tol:
                    out.append(f"demand coverage: {u}/{r} delivers {prod * fte:.6g} h + unmet "
                               f"{unmet:.6g} < demand and travel {need:.6g}")
                if not objective_unmet_allowed and unmet > tol * max(1.0, need):
                    out.append(f"unmet hours {unmet:.6g} at {u}/{r} under {data.objective}")
                if is_core:
                    if u not in open_sites and fte > tol:
                        out.append(f"staff at closed hub {u} ({r} {fte})")
                    mn = float(roles.at[r, "min_fte_per_hub"])
                    if u in open_sites and fte < mn - tol:
                        out.append(f"core_minimum_fte: {u}/{r} has {fte} < {mn}")
                share = float(roles.at[r, "max_agency_share"])
                if agency > share * fte + tol:
                    out.append(f"agency_share_max: {u}/{r} agency {agency:.6g} > "
                               f"{share} x {fte}")
                cost = float(roles.at[r, "cost_gbp_per_fte"])
                staff_cost += cost * fte + cost * float(roles.at[r, "agency_premium"]) * agency
            # every open hub has its core minimum, even without a staffing row
            for s in open_sites:
                for r in core:
                    mn = float(roles.at[r, "min_fte_per_hub"])
                    if mn > tol and _row(s, r) is None:
                        out.append(f"core_minimum_fte: open hub {s} has no {r} row")
            # capacity_fte
            core_rows = staffing[staffing["role"].isin(core)]
            by_unit = core_rows.groupby("unit")["fte"].sum()
            for s, total in by_unit.items():
                if s in sites.index:
                    cap = float(sites.at[s, "capacity_fte"])
                    if math.isfinite(cap) and total > cap + tol:
                        out.append(f"site_capacity_fte: hub {s} has {total} FTE > {cap}")
            # supply
            for r, supply in data.supply_fte.items():
                rows = staffing[staffing["role"] == r]
                permanent = float((rows["fte"] - rows["agency_fte"]).sum())
                if permanent > supply + tol:
                    out.append(f"workforce_supply: {r} permanent {permanent:.6g} > {supply}")
            # supervision, within each unit
            fte_of = staffing.set_index(["unit", "role"])["fte"]
            units = staffing["unit"].unique()
            for rule in data.supervision:
                for u in units:
                    if (u, rule.supervisor) not in fte_of.index:
                        continue
                    load = sum(float(fte_of.get((u, r), 0.0)) for r in rule.supervises
                               if r != rule.supervisor)
                    have = float(fte_of[(u, rule.supervisor)]) * rule.max_ratio
                    if have < load - tol:
                        out.append(f"supervision: {u} {rule.supervisor} x {rule.max_ratio} = "
                                   f"{have:.6g} < supervised {load:.6g}")

    # -- fair shortfall: each hub's share of core demand met against the plan's -----------------
    if (data.max_shortfall_spread is not None and objective_unmet_allowed and core
            and len(staffing)):
        need = data.demand_hours.reindex(columns=core).fillna(0.0).to_numpy().sum() * demand_scale
        hub_rows = staffing[staffing["role"].isin(core)
                            & staffing["unit"].astype(str).isin(open_sites)]
        if need > 0:
            overall = 1.0 - float(hub_rows["unmet_hours"].sum()) / need
            floor = overall - data.max_shortfall_spread
            by = hub_rows.groupby("unit")[["demand_hours", "unmet_hours"]].sum()
            for u, row in by.iterrows():
                d = float(row["demand_hours"])
                if d > tol and 1.0 - float(row["unmet_hours"]) / d < floor - tol:
                    out.append(f"hub_shortfall_spread: hub {u} has "
                               f"{1 - float(row['unmet_hours']) / d:.1%} of its demand met, "
                               f"below overall {overall:.1%} less "
                               f"{100 * data.max_shortfall_spread:.1f} points ({floor:.1%})")

    # -- budget ---------------------------------------------------------------------------------
    if data.budget_cap_gbp is not None:
        site_cost = float(_site_cost(sites.loc[sorted(open_sites)]).sum()) if open_sites else 0.0
        total = staff_cost + site_cost + plan_mileage_gbp(data, tables)
        if total > data.budget_cap_gbp * (1 + tol) + tol:
            out.append(f"budget_cap: cost {total:,.2f} > cap {data.budget_cap_gbp:,.2f}")
    return out


def _lever_hours(data, tables: dict, used: pd.DataFrame, open_sites: set, tol: float):
    """Hours the levers' people need per (unit, role), and the reach rule re-checked: a hub
    reaches at most the lever's share of the cohort of the areas it serves. A hub's specialist
    unit is the pool of its pairs (its own area's pair's where they lie in several)."""
    lv = getattr(data, "levers", None)
    table = tables.get("levers")
    if lv is None:
        return {}, []
    if table is None:
        return {}, ["levers: the model has levers but no levers table was given to check"]
    if not len(table):
        return {}, []
    out = []
    cohort = lv.cohort.copy()
    cohort.index = cohort.index.astype(str)
    roles = data.roles
    pairs = data.pairs.assign(area_id=data.pairs["area_id"].astype(str),
                              site_id=data.pairs["site_id"].astype(str))
    own = data.sites["area_id"] if "area_id" in data.sites else pd.Series(dtype=object)
    need: dict = {}
    for _, row in table.iterrows():
        k, s, people = str(row["lever_id"]), str(row["site_id"]), float(row["people"])
        if people < -tol:
            out.append(f"lever_reach: {k} at {s} reaches {people} < 0 people")
        if people > tol and s not in open_sites:
            out.append(f"lever_reach: {k} runs at closed site {s}")
        served = used[used["site_id"].astype(str) == s]
        reach = float((served["area_id"].astype(str).map(cohort[k]).fillna(0.0)
                       * served["share"]).sum()) * float(lv.max_share[k])
        if people > reach * (1 + tol) + tol:
            out.append(f"lever_reach: {k} at {s} reaches {people:.6g} people > its share of "
                       f"the catchment's cohort {reach:.6g}")
        pools = set(pairs.loc[pairs["site_id"] == s, "pool"].dropna().astype(str))
        if len(pools) > 1:
            a = own.get(s)
            mine = pairs[(pairs["site_id"] == s) & (pairs["area_id"] == str(a))]["pool"]
            pools = {str(mine.iloc[0])} if len(mine) and pd.notna(mine.iloc[0]) else set()
        for r in roles.index:
            h = float(lv.hours.at[k, r]) if r in lv.hours.columns else 0.0
            if h == 0.0:
                continue
            unit = s if roles.at[r, "kind"] == "core" else (next(iter(pools)) if pools
                                                            else None)
            if unit is not None:
                need[unit, r] = need.get((unit, r), 0.0) + h * people
    return need, out


def _pair_column(data, used: pd.DataFrame, column: str):
    """``data.pairs[column]`` for each row of ``used`` (area_id, site_id), or None when the
    pairs have no such column or there is no staff travel."""
    if column not in data.pairs or not getattr(data, "visits_per_demand_hour", None):
        return None
    col = data.pairs.assign(area_id=data.pairs["area_id"].astype(str),
                            site_id=data.pairs["site_id"].astype(str)).set_index(
        ["area_id", "site_id"])[column]
    return col.reindex(pd.MultiIndex.from_frame(
        used[["area_id", "site_id"]].astype(str))).to_numpy(dtype=float)


def plan_mileage_gbp(data, tables: dict) -> float:
    """Staff mileage of a plan [GBP/year]: each pair's visits (demand x visits per demand
    hour) x its round trip in miles x the rate x the share, re-derived from ModelData."""
    a = tables["assignment"]
    miles = _pair_column(data, a, "round_trip_miles")
    if miles is None or not data.mileage_gbp_per_mile or not len(a):
        return 0.0
    visits = pd.Series(data.visits_per_demand_hour, dtype=float).reindex(
        data.demand_hours.columns).fillna(0.0)
    per_area = data.demand_hours.astype(float) @ visits
    trips = a["area_id"].astype(str).map(per_area).fillna(0.0).to_numpy(dtype=float)
    return float((trips * miles * a["share"].to_numpy(dtype=float)).sum()
                 * data.mileage_gbp_per_mile)


def plan_cost_gbp(data, tables: dict) -> float:
    """Staff + agency premium + site cost + staff mileage of a plan [GBP/year] (no travel
    priced per unit)."""
    roles = data.roles
    staffing = tables["staffing"]
    cost = 0.0
    for _, row in staffing.iterrows():
        c = float(roles.at[row["role"], "cost_gbp_per_fte"])
        cost += c * float(row["fte"]) + c * float(roles.at[row["role"], "agency_premium"]) * float(
            row["agency_fte"])
    hubs = tables["hubs"]
    open_sites = list(hubs.loc[hubs["open"].astype(bool), "site_id"].astype(str))
    if open_sites:
        cost += float(_site_cost(data.sites.loc[open_sites]).sum())
    return cost + plan_mileage_gbp(data, tables)


def plan_travel(data, tables: dict) -> float:
    """Total travel of a plan as the model counts it (weighted by population or not)."""
    a = tables["assignment"]
    tc = data.pairs.assign(area_id=data.pairs["area_id"].astype(str),
                           site_id=data.pairs["site_id"].astype(str)).set_index(
        ["area_id", "site_id"])["travel_cost"]
    t = tc.reindex(pd.MultiIndex.from_frame(a[["area_id", "site_id"]].astype(str))).to_numpy()
    w = a["area_id"].map(data.areas["population"]).to_numpy(dtype=float) \
        if data.travel_weight_by_population else np.ones(len(a))
    return float((t * w * a["share"].to_numpy()).sum())


def plan_unmet_hours(tables: dict) -> float:
    """Total unmet hours of a plan [hours/year]."""
    s = tables["staffing"]
    return float(s["unmet_hours"].sum()) if len(s) else 0.0


def check_localities(data, hubs: pd.DataFrame, assignment: pd.DataFrame,
                     localities: pd.DataFrame, edges: pd.DataFrame | None, *, count_min: int = 0,
                     count_max: int | None = None, population_min: float | None = None,
                     population_max: float | None = None, contiguous: bool = True,
                     areas_within_pool: bool = False, tol: float = TOL) -> list[str]:
    """Re-check the locality teams from the files (``hubs.csv``, ``assignment.csv`` and
    ``localities.csv``, each with its ``locality`` column) and the areas' neighbour graph.

    Every open hub is in exactly one team named in ``localities.csv``; each area goes with its
    hub's team; the number of teams and each team's people (re-summed from the assignment and
    the areas' populations) lie in their bands; a team's hubs share one pool (each hub's pool:
    the pool of the pairs serving most of its people); with ``contiguous``, a team's hubs are
    connected, two hubs being neighbours when they serve neighbouring areas (or share one).
    With ``areas_within_pool`` (``localities.within_pools`` under ``pools.by: area_group``),
    every area a team serves is in the team's pool too.
    """
    out: list[str] = []
    hub_ids = hubs["site_id"].astype(str).tolist()
    team_of = dict(zip(hub_ids, hubs["locality"].tolist(), strict=True))
    teams = localities.set_index(localities["locality_id"].astype(str))
    for h, t in team_of.items():
        if not isinstance(t, str) or t not in teams.index:
            out.append(f"localities: hub {h} is in no team of localities.csv ({t!r})")
    for t, row in teams.iterrows():
        listed = sorted(str(row["hub_ids"]).split())
        held = sorted(h for h, x in team_of.items() if x == t)
        if listed != held:
            out.append(f"localities: team {t} lists hubs {listed}, hubs.csv puts {held} in it")
        if int(row["hubs"]) != len(held):
            out.append(f"localities: team {t} counts {row['hubs']} hubs, has {len(held)}")
    used = assignment[assignment["share"] > tol]
    for a, s, t in zip(used["area_id"], used["site_id"].astype(str), used["locality"],
                       strict=True):
        if team_of.get(s) != t:
            out.append(f"localities: area {a} served by {s} is marked {t}, its hub's team is "
                       f"{team_of.get(s)}")
    n = len(teams)
    if n < count_min or (count_max is not None and n > count_max):
        out.append(f"localities.count: {n} teams, outside {count_min}..{count_max}")
    weight = data.areas["population"].astype(float)
    people = (used["area_id"].astype(str).map(weight) * used["share"]).groupby(
        used["site_id"].astype(str).map(team_of)).sum()
    for t in teams.index:
        p = float(people.get(t, 0.0))
        if population_min is not None and p < population_min * (1 - tol) - tol:
            out.append(f"localities.population: team {t} holds {p:,.0f} < {population_min:,.0f}")
        if population_max is not None and p > population_max * (1 + tol) + tol:
            out.append(f"localities.population: team {t} holds {p:,.0f} > {population_max:,.0f}")
        if not _close(p, float(teams.at[t, "population"]), 1e-6):
            out.append(f"localities: team {t} reports {teams.at[t, 'population']} people, the "
                       f"assignment gives {p:.6g}")
    # pools: the pool serving most of each hub's people
    pool = data.pairs.assign(area_id=data.pairs["area_id"].astype(str),
                             site_id=data.pairs["site_id"].astype(str)).set_index(
        ["area_id", "site_id"])["pool"]
    u = used.assign(area_id=used["area_id"].astype(str), site_id=used["site_id"].astype(str))
    u = u.assign(pool=[p if isinstance(p, str) else "all" for p in pool.reindex(
        pd.MultiIndex.from_frame(u[["area_id", "site_id"]])).astype(object)],
        people=u["area_id"].map(weight) * u["share"])
    by = u.groupby(["site_id", "pool"])["people"].sum()
    hub_pool = {}
    for s in hub_ids:
        if s in by.index.get_level_values(0):
            b = by.loc[s]
            hub_pool[s] = sorted(b.index[b == b.max()])[0]
    for t in teams.index:
        pools = {hub_pool.get(h) for h, x in team_of.items() if x == t}
        if len(pools) > 1:
            out.append(f"localities: team {t} spans pools {sorted(map(str, pools))}")
        if str(teams.at[t, "pool"]) not in pools:
            out.append(f"localities: team {t} says pool {teams.at[t, 'pool']}, its hubs are in "
                       f"{sorted(map(str, pools))}")
    if areas_within_pool:
        team_pool = u["site_id"].map(team_of).map(teams["pool"].astype(str))
        off = u[u["pool"].to_numpy() != team_pool.to_numpy()]
        for a, t in zip(off["area_id"], team_pool[off.index], strict=True):
            out.append(f"localities.within_pools: area {a} of team {t} lies in another pool")
    if contiguous:
        hubs_of: dict[str, set] = {}
        for a, s in zip(u["area_id"], u["site_id"], strict=True):
            hubs_of.setdefault(a, set()).add(s)
        nbr: dict[str, set] = {h: set() for h in hub_ids}
        pairs = [(a, a) for a in hubs_of]
        if edges is not None:
            pairs += list(zip(edges["area_a"].astype(str), edges["area_b"].astype(str),
                              strict=True))
        for x, y in pairs:
            for h in hubs_of.get(x, ()):
                for g in hubs_of.get(y, ()):
                    if h != g:
                        nbr[h].add(g)
                        nbr[g].add(h)
        for t in teams.index:
            members = {h for h, x in team_of.items() if x == t}
            if not members:
                continue
            seen, todo = set(), [min(members)]
            while todo:
                h = todo.pop()
                if h in seen:
                    continue
                seen.add(h)
                todo += [g for g in nbr[h] if g in members and g not in seen]
            if seen != members:
                out.append(f"localities.contiguous: team {t} falls apart: "
                           f"{sorted(members - seen)} not reached from {min(members)}")
    return out


def _root(data, s: str) -> str | None:
    """The area hub ``s``'s catchment must hold: the area it stands in when it may serve it,
    else the area it may serve at least travel (first by id on a tie)."""
    pairs = data.pairs[data.pairs["site_id"].astype(str) == s]
    if not len(pairs):
        return None
    own = data.sites["area_id"].get(s) if "area_id" in data.sites else None
    if isinstance(own, str) and (pairs["area_id"].astype(str) == own).any():
        return own
    order = {a: i for i, a in enumerate(data.areas.index.astype(str))}
    best = pairs.assign(pos=pairs["area_id"].astype(str).map(order)).sort_values(
        ["travel_cost", "pos"])
    return str(best["area_id"].iloc[0])


def _contiguity_violations(data, used: pd.DataFrame, open_sites: set) -> list[str]:
    """``catchment_contiguous``: each open hub's areas (any share) are one piece of the
    neighbour graph ``data.edges`` holding the hub's root area (a breadth-first walk)."""
    out = []
    nbrs: dict[str, set] = {}
    for a, b in zip(data.edges["area_a"].astype(str), data.edges["area_b"].astype(str),
                    strict=True):
        nbrs.setdefault(a, set()).add(b)
        nbrs.setdefault(b, set()).add(a)
    by_site = used.groupby(used["site_id"].astype(str))["area_id"].apply(
        lambda x: set(x.astype(str)))
    for s in sorted(open_sites):
        areas = by_site.get(s, set())
        if not areas:
            continue
        root = _root(data, s)
        if root not in areas:
            out.append(f"catchment_contiguous: hub {s} does not hold its own area {root}")
            continue
        seen, todo = {root}, [root]
        while todo:
            v = todo.pop()
            for w in nbrs.get(v, ()):
                if w in areas and w not in seen:
                    seen.add(w)
                    todo.append(w)
        if seen != areas:
            out.append(f"catchment_contiguous: hub {s}'s catchment is in pieces "
                       f"({len(areas - seen)} of its {len(areas)} areas apart from {root})")
    return out


def catchment_pieces_on_the_map(areas, assignment: pd.DataFrame, edges: pd.DataFrame | None = None,
                                buffer_m: float = 0.5) -> pd.Series:
    """Pieces of each hub's catchment as drawn: the union of its polygons (each grown by
    ``buffer_m`` to close slivers) counted in parts, parts joined by the non-boundary edges of
    ``edges`` (islands joined to their nearest, the user's links) counted as one. Shapely only:
    an independent path from :mod:`mdtplan.adjacency`. A corner touch counts as joined here
    (the rook rule of the model is stricter).

    Parameters
    ----------
    areas : GeoDataFrame
        Index area id; polygons in EPSG:27700.
    assignment : DataFrame
        ``area_id``, ``site_id``, ``share``.
    """
    import shapely

    used = assignment[assignment["share"].astype(float) > 1e-6]
    extra = (edges[edges["kind"] != "boundary"] if edges is not None
             else pd.DataFrame(columns=["area_a", "area_b"]))
    out = {}
    geoms = areas.geometry
    for s, group in used.groupby(used["site_id"].astype(str)):
        ids = list(group["area_id"].astype(str))
        union = shapely.unary_union(shapely.buffer(np.asarray(geoms.loc[ids].values), buffer_m))
        parts = list(getattr(union, "geoms", [union]))
        # which part holds each area; an area that is itself in pieces (a MultiPolygon:
        # islands, saltmarsh) joins all the parts it lies in: those pieces are the area's own,
        # not the plan's
        part_of = {}
        label = list(range(len(parts)))
        for a in ids:
            pt = geoms.loc[a].representative_point()
            part_of[a] = next(i for i, g in enumerate(parts) if g.covers(pt))
            for i, g in enumerate(parts):
                if i != part_of[a] and g.intersects(geoms.loc[a]):
                    label[_find(label, i)] = _find(label, part_of[a])
        inside = set(ids)
        for a, b in zip(extra["area_a"].astype(str), extra["area_b"].astype(str), strict=True):
            if a in inside and b in inside:
                label[_find(label, part_of[a])] = _find(label, part_of[b])
        out[s] = len({_find(label, i) for i in range(len(parts))})
    return pd.Series(out, name="pieces", dtype=int)


def _find(label: list, i: int) -> int:
    """Union-find: the representative of ``i``."""
    while label[i] != i:
        label[i] = label[label[i]]
        i = label[i]
    return i

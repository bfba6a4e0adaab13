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
        # core demand per (site, role)
        core_need = {}
        for r in core:
            core_need.update({(s, r): v for s, v in
                              (d_used[r] * d_used["share"]).groupby(d_used["site_id"]).sum()
                              .items()})
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
                if prod * fte + unmet < need * (1 - tol) - tol:
                    out.append(f"demand coverage: {u}/{r} delivers {prod * fte:.6g} h + unmet "
                               f"{unmet:.6g} < demand {need:.6g}")
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
        total = staff_cost + site_cost
        if total > data.budget_cap_gbp * (1 + tol) + tol:
            out.append(f"budget_cap: cost {total:,.2f} > cap {data.budget_cap_gbp:,.2f}")
    return out


def plan_cost_gbp(data, tables: dict) -> float:
    """Staff + agency premium + site cost of a plan [GBP/year] (no travel)."""
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
    return cost


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

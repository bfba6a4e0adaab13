"""A solved plan as plain tables: the only place results leave Pyomo (or the solver's arrays).

:func:`extract_tables` reads a solved Pyomo model; :func:`tables_from_values` makes the same
tables from per-component arrays (a session made from data, no Pyomo model built).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyomo.environ as pyo


def extract_tables(model, data=None) -> dict[str, pd.DataFrame]:
    """The solved decisions as plain tables (the only place results leave Pyomo).

    Returns
    -------
    dict of DataFrame
        ``assignment``: area_id, site_id, share (> 1e-9 only; 1 for single-source);
        ``hubs``: site_id, open (bool), one row per non-excluded site;
        ``staffing``: unit, kind (hub|pool), role, fte, agency_fte, unmet_hours,
        demand_hours [hours/year, scaled], travel_hours (staff travel to the areas served,
        on top of demand_hours; unmet_hours is short of their sum) [hours/year, scaled],
        mileage_miles [miles/year, at demand scale 1], one row per (open hub, core role)
        and (pool, specialist role).
    """
    ix = model.mdtplan_index

    def vals(comp, n):
        return np.fromiter((v.value if v.value is not None else 0.0 for v in comp.values()),
                           float, n)

    values = {"assign": vals(model.assign, len(ix.pairs)),
              "open_site": vals(model.open_site, len(ix.site_ids))}
    for name in ("fte_steps", "agency_fte", "unmet_hours"):
        values[name] = vals(getattr(model, name), len(ix.staff))
    if model.component("lever_people") is not None:
        values["lever_people"] = vals(model.lever_people, len(model.lever_people))
    return tables_from_values(ix, data if data is not None else model.mdtplan_data, values,
                              float(pyo.value(model.params.demand_scale)))


def tables_from_values(ix, data, values: dict, scale: float) -> dict[str, pd.DataFrame]:
    """:func:`extract_tables` from arrays: ``values`` maps ``assign`` (per pair),
    ``open_site`` (per site), ``fte_steps``, ``agency_fte`` and ``unmet_hours`` (per
    ``ix.staff``) to the plan's values; ``scale`` is the demand scale."""
    share = np.asarray(values["assign"], dtype=float).copy()
    if data.assignment == "single":
        share = np.round(share)
    share = np.clip(share, 0.0, 1.0)
    keep = share > 1e-9
    assignment = pd.DataFrame({
        "area_id": np.asarray(ix.area_ids, dtype=object)[ix.pair_area[keep]],
        "site_id": np.asarray(ix.site_ids, dtype=object)[ix.pair_site[keep]],
        "share": share[keep],
    })
    is_open = np.round(np.asarray(values["open_site"], dtype=float)) >= 1
    hubs = pd.DataFrame({"site_id": ix.site_ids, "open": is_open})
    rows = []
    if ix.staff:
        step = data.roles["fte_step"].astype(float).to_dict()
        col = {r: ix.roles.index(r) for r in ix.roles}
        site_open = dict(zip(ix.site_ids, is_open.tolist(), strict=True))
        # demand hours assigned to each unit
        site_hours = np.zeros((len(ix.site_ids), len(ix.roles)))
        np.add.at(site_hours, ix.pair_site, ix.demand[ix.pair_area] * share[:, None])
        pool_hours: dict = {}
        for p, ks in ix.pairs_by_pool.items():
            pool_hours[p] = (ix.demand[ix.pair_area[ks]] * share[ks, None]).sum(axis=0)
        # staff travel to the areas each unit serves: hours and miles
        trips = {"hours": ix.pair_travel_hours(), "miles": ix.pair_role_miles()}
        site_trips, pool_trips = {}, {}
        for what, per_pair in trips.items():
            site_trips[what] = np.zeros((len(ix.site_ids), len(ix.roles)))
            np.add.at(site_trips[what], ix.pair_site, per_pair * share[:, None])
            pool_trips[what] = {p: (per_pair[ks] * share[ks, None]).sum(axis=0)
                                for p, ks in ix.pairs_by_pool.items()}
        site_pos = {s: i for i, s in enumerate(ix.site_ids)}
        steps = np.round(np.asarray(values["fte_steps"], dtype=float))
        agency = np.asarray(values["agency_fte"], dtype=float)
        unmet = np.asarray(values["unmet_hours"], dtype=float)
        for i, (u, r) in enumerate(ix.staff):
            is_hub = u in site_pos and r in ix.core_roles
            if is_hub and not site_open[u]:
                continue
            hours = (site_hours[site_pos[u], col[r]] if is_hub
                     else pool_hours.get(u, np.zeros(len(ix.roles)))[col[r]])
            travel, miles = (
                (site_trips[w][site_pos[u], col[r]] if is_hub
                 else pool_trips[w].get(u, np.zeros(len(ix.roles)))[col[r]])
                for w in ("hours", "miles"))
            rows.append({
                "unit": u, "kind": "hub" if is_hub else "pool", "role": r,
                "fte": step[r] * float(steps[i]),
                "agency_fte": float(agency[i]),
                "unmet_hours": float(unmet[i]),
                "demand_hours": float(hours) * scale,
                "travel_hours": float(travel) * scale,
                "mileage_miles": float(miles),
            })
    # no staff rows: a copy of the empty table (cheaper than making one)
    staffing = pd.DataFrame(rows, columns=_STAFFING_COLUMNS) if rows else _NO_STAFFING.copy()
    out = {"assignment": assignment, "hubs": hubs, "staffing": staffing}
    levers = _lever_tables(ix, data, values, staffing)
    if levers is not None:
        out["levers"] = levers
    return out


def _lever_tables(ix, data, values, staffing):
    """``levers``: lever_id, site_id, people [people/year] per (lever, hub) reached (> 1e-9);
    the staffing table gains ``lever_hours`` (the hours those people need of each role at
    each unit) in place. None without levers."""
    from ..model.families.lever_reach import lever_index, staff_terms

    li = lever_index(data, ix)
    if li is None:
        return None
    q = np.asarray(values.get("lever_people", np.zeros(len(li.keys))), dtype=float)
    q = np.where(q > 1e-6, q, 0.0)  # a solver's dust on a continuous column: no one
    hours: dict = {}
    for kind in ("core", "pool"):
        for unit, r, n, h in staff_terms(data, ix, kind):
            hours[unit, r] = hours.get((unit, r), 0.0) + h * float(q[n])
    if len(staffing):
        staffing["lever_hours"] = [hours.get((u, r), 0.0) for u, r in
                                   zip(staffing["unit"], staffing["role"], strict=True)]
    keep = q > 0
    return pd.DataFrame({"lever_id": [li.keys[n][0] for n in np.flatnonzero(keep)],
                         "site_id": [li.keys[n][1] for n in np.flatnonzero(keep)],
                         "people": q[keep]})


_STAFFING_COLUMNS = ["unit", "kind", "role", "fte", "agency_fte", "unmet_hours", "demand_hours",
                     "travel_hours", "mileage_miles"]
_NO_STAFFING = pd.DataFrame([], columns=_STAFFING_COLUMNS)

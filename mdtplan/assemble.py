"""Assemble the model's data: loaded inputs, demand and allowed pairs into a ModelData.

The last stage before the model (``inputs -> demand -> travel -> assemble -> model``): it reads
the scenario and the operating model once and hands ``model/`` plain typed tables and numbers
(:class:`~mdtplan.model.data.ModelData`), so nothing in ``model/`` reads a scenario.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .adjacency import area_adjacency
from .errors import ModelError, Problem, ScenarioError
from .model.data import ROLE_COLUMNS, LeverData, ModelData, SupervisionRule, empty_roles
from .operating_model import locality_team_cost_gbp

if TYPE_CHECKING:
    from .inputs import Inputs
    from .operating_model import OperatingModel, Pools


def roles_table(operating_model: OperatingModel | None) -> pd.DataFrame:
    """The operating model's hub and pool roles as a table indexed by ``role_id`` (columns of
    ModelData). Roles of ``kind: locality`` are staffed per locality team, after the hub plan
    (:mod:`mdtplan.localities`), so the model never sees them."""
    hub_roles = [] if operating_model is None else [
        r for r in operating_model.roles if r.kind != "locality"]
    if not hub_roles:
        return empty_roles()
    rows = [{"role_id": r.id, **{c: getattr(r, c) for c in ROLE_COLUMNS}} for r in hub_roles]
    return pd.DataFrame(rows).set_index("role_id")


def pair_pools(pairs: pd.DataFrame, areas: pd.DataFrame, sites: pd.DataFrame,
               pools_config: Pools | None) -> tuple[pd.Series, list]:
    """The specialist pool serving each allowed pair.

    Parameters
    ----------
    pairs : DataFrame
        ``area_id``, ``site_id``.
    areas : DataFrame
        Index ``area_id``; column ``group``.
    sites : DataFrame
        Index ``site_id``; column ``pool``.
    pools_config : operating_model.Pools or None
        ``by: site`` -> the site's ``pool``; ``by: area_group`` -> the area's ``group``, or the
        named pool in ``groups`` that lists it; ``by: single`` (or ``None``) -> ``"all"``.

    Returns
    -------
    pool : Series
        Aligned with ``pairs`` (str, <NA> where no pool could be found).
    problems : list of Problem
        One per site/area without a pool (only meaningful when specialist roles exist).
    """
    by = getattr(pools_config, "by", "single") if pools_config is not None else "single"
    problems: list[Problem] = []
    if by == "site":
        pool_of_site = sites["pool"] if "pool" in sites else pd.Series(pd.NA, index=sites.index)
        pool = pairs["site_id"].map(pool_of_site)
        missing = sorted(set(pairs.loc[pool.isna(), "site_id"]))
        for s in missing[:20]:
            problems.append(Problem("sites", str(s), "pool",
                                    "site has no specialist pool (pools.by is 'site')",
                                    "map the sites' pool column, or use pools.by: single"))
    elif by == "area_group":
        group = pairs["area_id"].map(areas["group"]) if "group" in areas else pd.Series(
            pd.NA, index=pairs.index)
        if pools_config.groups:
            lookup = {g: name for name, groups in pools_config.groups.items() for g in groups}
            pool = group.map(lambda g: lookup.get(g, pd.NA) if isinstance(g, str) else pd.NA)
        else:
            pool = group
        missing = sorted(set(pairs.loc[pool.isna(), "area_id"]))
        for a in missing[:20]:
            problems.append(Problem("areas", str(a), "group",
                                    "area's group is in no specialist pool "
                                    "(pools.by is 'area_group')",
                                    "map the areas' group column, or list the group in "
                                    "pools.groups"))
    else:
        pool = pd.Series("all", index=pairs.index)
    pool = pool.astype("string")
    return pool, problems


def pairs_within_own_pool(pairs: pd.DataFrame, sites: pd.DataFrame) -> pd.DataFrame:
    """The pairs whose area lies in the pool of the area its site stands in.

    With locality teams nested in pools by area group (``localities.within_pools``), a hub
    serves only areas of its own area's pool, so each hub, and each team, lies wholly in one
    pool. Sites in no area (or in an area without a pool) keep all their pairs.

    Parameters
    ----------
    pairs : DataFrame
        ``area_id``, ``site_id``, ``pool`` (the area's pool, ``pools.by: area_group``).
    sites : DataFrame
        Index ``site_id``; column ``area_id`` (the area the site stands in, or <NA>).

    Examples
    --------
    >>> pairs = pd.DataFrame({"area_id": ["a", "b", "b"], "site_id": ["s", "s", "t"],
    ...                       "pool": ["East", "West", "West"]})
    >>> sites = pd.DataFrame({"area_id": ["a", "b"]}, index=["s", "t"])
    >>> pairs_within_own_pool(pairs, sites)[["area_id", "site_id"]].values.tolist()
    [['a', 's'], ['b', 't']]
    """
    area_pool = pairs.drop_duplicates("area_id").set_index("area_id")["pool"]
    own = sites["area_id"].map(area_pool) if "area_id" in sites else pd.Series(
        pd.NA, index=sites.index)
    site_pool = pairs["site_id"].map(own).astype("string")
    keep = site_pool.isna() | (site_pool == pairs["pool"].astype("string"))
    return pairs[keep.fillna(False).to_numpy()].reset_index(drop=True)


def site_areas(areas, sites) -> pd.Series:
    """The area each site stands in: the area whose polygon holds the site's point.

    Parameters
    ----------
    areas : GeoDataFrame
        Index ``area_id``; polygons in EPSG:27700 (points or no geometry: no area holds a site).
    sites : GeoDataFrame
        Index ``site_id``; points in EPSG:27700 (or none).

    Returns
    -------
    Series
        Index ``site_id``, the area id (str), <NA> for a site in no area's polygon. A site on a
        boundary between areas takes the first of them by id.
    """
    out = pd.Series(pd.NA, index=sites.index.astype(str), dtype="string", name="area_id")
    if (getattr(areas, "geometry", None) is None or getattr(sites, "geometry", None) is None
            or not len(areas) or not len(sites)):
        return out
    polygons = areas[areas.geometry.notna() & areas.geom_type.isin(["Polygon", "MultiPolygon"])]
    points = sites[sites.geometry.notna()]
    if polygons.empty or points.empty:
        return out
    import geopandas as gpd

    left = gpd.GeoDataFrame({"site_id": points.index.astype(str)}, geometry=points.geometry.values,
                            crs=points.crs)
    right = gpd.GeoDataFrame({"area_id": polygons.index.astype(str)},
                             geometry=polygons.geometry.values, crs=polygons.crs)
    hit = gpd.sjoin(left, right, how="inner", predicate="intersects")
    first = hit.sort_values(["site_id", "area_id"]).drop_duplicates("site_id")
    out.loc[first["site_id"].to_numpy()] = first["area_id"].to_numpy()
    return out


#: kilometres in a statute mile
KM_PER_MILE = 1.609344


def staff_travel(pairs: pd.DataFrame, travel_config, operating_model) -> tuple[pd.DataFrame, dict]:
    """Each pair's visit round trip, and each role's visits per demand hour.

    Parameters
    ----------
    pairs : DataFrame
        ``travel_cost`` [``travel_config.unit``].
    travel_config : scenario.TravelConfig
        ``unit``, ``speed_kmh`` and ``staff_travel``.
    operating_model : OperatingModel or None
        Each role's ``visit_share`` and ``visits_per_contact_hour``.

    Returns
    -------
    pairs : DataFrame
        With ``round_trip_hours`` [h] (``2 x minutes / 60``) and ``round_trip_miles`` [miles]
        (``2 x km / 1.609344``) when staff travel applies; unchanged otherwise.
    visits : dict
        role id -> ``visit_share x visits_per_contact_hour`` [visits per demand hour], only
        roles that visit; empty when staff travel is off, the travel unit is ``units`` or no
        role visits.

    Examples
    --------
    A pair 15 minutes away at 40 km/h: a round trip of half an hour and 10 km (6.2 miles).

    >>> from types import SimpleNamespace as NS
    >>> om = NS(roles=[NS(id="sw", visit_share=0.2, visits_per_contact_hour=1.0)])
    >>> cfg = NS(unit="minutes", speed_kmh=40.0, staff_travel=True)
    >>> p, v = staff_travel(pd.DataFrame({"travel_cost": [15.0]}), cfg, om)
    >>> round(float(p["round_trip_hours"][0]), 3), round(float(p["round_trip_miles"][0]), 3), v
    (0.5, 6.214, {'sw': 0.2})
    """
    if (travel_config is None or not travel_config.staff_travel or travel_config.unit == "units"
            or operating_model is None):
        return pairs, {}
    visits = {r.id: float(r.visit_share) * float(r.visits_per_contact_hour)
              for r in operating_model.roles}
    visits = {r: v for r, v in visits.items() if v > 0}
    if not visits:
        return pairs, {}
    cost = pairs["travel_cost"].to_numpy(dtype=float)
    speed = float(travel_config.speed_kmh)
    if travel_config.unit == "km":
        km, minutes = cost, cost / speed * 60.0
    else:
        km, minutes = cost / 60.0 * speed, cost
    out = pairs.copy()
    out["round_trip_hours"] = 2.0 * minutes / 60.0
    out["round_trip_miles"] = 2.0 * km / KM_PER_MILE
    return out, visits


def site_coordinates(sites) -> pd.DataFrame:
    """Each site's point as ``easting_m``, ``northing_m`` [m, EPSG:27700]; NaN where a site
    has no point (a table without coordinates, as the OR-Library problems)."""
    out = pd.DataFrame({"easting_m": np.nan, "northing_m": np.nan},
                       index=pd.Index(sites.index.astype(str), name="site_id"))
    geometry = getattr(sites, "geometry", None) if "geometry" in getattr(sites, "columns", ()) \
        else None
    if geometry is None or not len(sites):
        return out
    points = geometry.notna().to_numpy() & (geometry.geom_type == "Point").to_numpy()
    if points.any():
        out.loc[out.index[points], "easting_m"] = geometry[points].x.to_numpy(dtype=float)
        out.loc[out.index[points], "northing_m"] = geometry[points].y.to_numpy(dtype=float)
    return out


def prepare_model_data(inputs: Inputs, demand_hours: pd.DataFrame, pairs: pd.DataFrame) -> ModelData:
    """Turn loaded inputs, the demand table and the allowed pairs into :class:`ModelData`.

    Parameters
    ----------
    inputs : mdtplan.inputs.Inputs
        Loaded, canonical inputs (scenario, operating model, areas, sites, workforce).
    demand_hours : DataFrame
        Index ``area_id``, one column per role id [hours/year] (from :mod:`mdtplan.demand`).
        Areas missing from it get zero demand; roles missing get zero demand.
    pairs : DataFrame
        Allowed pairs ``area_id``, ``site_id``, ``travel_cost`` [travel unit] (from
        :mod:`mdtplan.travel`). Pairs to excluded sites are dropped here.

    Returns
    -------
    ModelData

    Raises
    ------
    ModelError
        When a specialist role has demand but some pair has no pool to serve it.

    Notes
    -----
    ============================= ==================================================================
    pool                          ``operating_model.pools``: ``by: site`` the site's ``pool``;
                                  ``by: area_group`` the area's ``group`` (or the named pool in
                                  ``pools.groups`` containing it); ``by: single`` ``"all"``.
    supply_fte[r]                 permanent FTE of role r in the workforce table (all units) plus
                                  ``rules.hiring_limit_fte[r]``; only roles with a hiring limit are
                                  limited (the others are absent, i.e. unlimited).
    hub_count_min, hub_count_max  ``hubs.count`` (``exactly`` gives both); with ``localities``, at
                                  least ``localities.count.min`` hubs (a team is whole hubs).
    budget_cap_gbp                ``budget.cap``, less the roles of ``localities.count.min`` teams
                                  (the teams are costed after the hub plan, within the cap).
    max_travel                    ``hubs.max_travel_minutes`` (already applied to ``pairs``).
    visits_per_demand_hour        staff travel (:func:`staff_travel`): the pairs gain
                                  ``round_trip_hours`` and ``round_trip_miles``.
    ============================= ==================================================================
    """
    scenario = inputs.scenario
    om = inputs.operating_model

    areas_in = inputs.areas
    areas = pd.DataFrame(index=pd.Index(areas_in.index.astype(str), name="area_id"))
    areas["population"] = pd.to_numeric(areas_in["population"], errors="coerce").fillna(
        0.0).astype(float).to_numpy()
    if "group" in areas_in:
        areas["group"] = areas_in["group"].astype("string").to_numpy()
    else:
        areas["group"] = pd.array([pd.NA] * len(areas), dtype="string")

    sites_in = inputs.sites
    sites = pd.DataFrame(index=pd.Index(sites_in.index.astype(str), name="site_id"))

    def _col(name, default):
        if name in sites_in:
            return sites_in[name].to_numpy()
        return [default] * len(sites)

    sites["name"] = _col("name", None)
    sites["name"] = sites["name"].where(sites["name"].notna(), sites.index.to_series())
    sites["status"] = pd.Series(_col("status", "candidate"), index=sites.index).fillna(
        "candidate").astype(str)
    for c in ("fixed_cost_gbp", "opening_cost_gbp"):
        sites[c] = pd.to_numeric(pd.Series(_col(c, 0.0), index=sites.index),
                                 errors="coerce").fillna(0.0).astype(float)
    for c in ("capacity", "capacity_fte"):
        sites[c] = pd.to_numeric(pd.Series(_col(c, float("nan")), index=sites.index),
                                 errors="coerce").astype(float)
    sites["pool"] = pd.Series(_col("pool", pd.NA), index=sites.index).astype("string")
    sites["area_id"] = site_areas(areas_in, sites_in).reindex(sites.index).astype("string")
    xy = site_coordinates(sites_in)
    sites["easting_m"] = xy["easting_m"].reindex(sites.index).to_numpy(dtype=float)
    sites["northing_m"] = xy["northing_m"].reindex(sites.index).to_numpy(dtype=float)

    roles = roles_table(om)
    role_ids = list(roles.index)
    demand = (demand_hours.reindex(index=areas.index, columns=role_ids).fillna(0.0)
              .astype(float)) if role_ids else pd.DataFrame(index=areas.index)
    demand.index.name = "area_id"

    excluded = set(sites.index[sites["status"] == "excluded"])
    p = pairs[["area_id", "site_id", "travel_cost"]].copy()
    p["area_id"] = p["area_id"].astype(str)
    p["site_id"] = p["site_id"].astype(str)
    p["travel_cost"] = p["travel_cost"].astype(float)
    p = p[~p["site_id"].isin(excluded)].reset_index(drop=True)

    p, visits = staff_travel(p, scenario.travel, om)
    visits = {r: v for r, v in visits.items() if r in role_ids}

    pool, problems = pair_pools(p, areas, sites, om.pools if om is not None else None)
    p["pool"] = pool.to_numpy()
    if (scenario.localities is not None and scenario.localities.within_pools
            and om is not None and om.pools.by == "area_group"):
        p = pairs_within_own_pool(p, sites)
    specialists = list(roles.index[roles["kind"] == "specialist"])
    if specialists and problems:
        needs = demand[specialists].sum(axis=1) > 0
        no_pool = p.loc[p["pool"].isna(), "area_id"]
        if needs.reindex(no_pool.unique(), fill_value=False).any():
            raise ModelError(problems)

    supply: dict[str, float] = {}
    if om is not None and om.rules.hiring_limit_fte:
        permanent = pd.Series(dtype=float)
        wf = inputs.workforce
        if wf is not None and len(wf):
            keep = wf["contract"].astype(str) == "permanent"
            permanent = wf.loc[keep].groupby("role")["fte"].sum().astype(float)
        for r, limit in om.rules.hiring_limit_fte.items():
            supply[r] = float(permanent.get(r, 0.0)) + float(limit)

    supervision = tuple(
        SupervisionRule(s.supervisor, tuple(s.supervises), float(s.max_ratio))
        for s in (om.rules.supervision if om is not None else [])
    )
    count_min, count_max = scenario.hubs.count.bounds()
    band = scenario.hubs.population
    budget_cap = scenario.budget.cap
    if scenario.localities is not None:
        # the teams are chosen after the hub plan: what the plan can be told of them first
        teams_min = scenario.localities.count.bounds()[0]
        count_min = max(int(count_min or 0), int(teams_min))
        if budget_cap is not None:
            per_team = locality_team_cost_gbp(scenario.localities, om)
            budget_cap = max(0.0, float(budget_cap) - teams_min * per_team)
    return ModelData(
        name=scenario.name,
        areas=areas,
        demand_hours=demand,
        sites=sites,
        pairs=p,
        roles=roles,
        supply_fte=supply,
        supervision=supervision,
        hub_count_min=int(count_min or 0),
        hub_count_max=None if count_max is None else int(count_max),
        hub_population_min=band.min,
        hub_population_max=band.max,
        budget_cap_gbp=budget_cap,
        assignment=scenario.hubs.assignment,
        objective=scenario.objective,
        travel_cost_gbp_per_unit=float(scenario.travel.cost_gbp_per_unit),
        travel_weight_by_population=bool(scenario.travel.weight_by_population),
        travel_unit=scenario.travel.unit,
        max_travel=scenario.hubs.max_travel_minutes,
        serve_own_area=bool(scenario.hubs.serve_own_area),
        contiguous=bool(scenario.hubs.contiguous),
        edges=area_edges(inputs) if scenario.hubs.contiguous else None,
        visits_per_demand_hour=visits,
        mileage_gbp_per_mile=float(scenario.travel.mileage_gbp_per_mile) if visits else 0.0,
        hub_min_separation_km=scenario.hubs.min_separation_km or None,
        max_shortfall_spread=scenario.hubs.max_shortfall_spread,
        levers=lever_data(inputs),
    )


def lever_data(inputs: Inputs) -> LeverData | None:
    """The operating model's levers for the model (:mod:`mdtplan.care`) at their most likely
    level; None when it has none or ``finance.levers`` is off."""
    from .care import flow_contacts, lever_table

    om, finance = inputs.operating_model, inputs.scenario.finance
    pins = dict(finance.lever_values) if finance is not None else {}
    known = {lv.id for lv in om.levers} if om is not None else set()
    unknown = sorted(set(pins) - known)
    if unknown:
        raise ScenarioError([Problem(None, None, f"finance.lever_values.{k}",
                                     f"'{k}' is not a lever of the operating model",
                                     f"levers are {sorted(known) or 'none'}")
                             for k in unknown])
    if om is None or not om.levers or (finance is not None and not finance.levers):
        return None
    table = lever_table(flow_contacts(inputs.areas, om), om, pins=pins)
    cohort = table.cohort.copy()
    cohort.index = pd.Index(cohort.index.astype(str), name="area_id")
    return LeverData(cohort=cohort, hours=table.hours,
                     saving_gbp=table.saving_gbp["most_likely"],
                     max_share=table.share["most_likely"])


def area_edges(inputs: Inputs) -> pd.DataFrame:
    """The areas' neighbour graph (:func:`mdtplan.adjacency.area_adjacency`) with the scenario's
    ``areas.adjacency`` links and join distance."""
    cfg = inputs.scenario.areas
    return area_adjacency(inputs.areas, links=cfg.adjacency.links,
                          join_within_km=cfg.adjacency.join_within_km, file=cfg.path)

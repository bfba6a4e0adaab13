"""Assemble the model's data: loaded inputs, demand and allowed pairs into a ModelData.

The last stage before the model (``inputs -> demand -> travel -> assemble -> model``): it reads
the scenario and the operating model once and hands ``model/`` plain typed tables and numbers
(:class:`~mdtplan.model.data.ModelData`), so nothing in ``model/`` reads a scenario.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from .adjacency import area_adjacency
from .errors import ModelError, Problem
from .model.data import ROLE_COLUMNS, ModelData, SupervisionRule, empty_roles

if TYPE_CHECKING:
    from .inputs import Inputs
    from .operating_model import OperatingModel, Pools


def roles_table(operating_model: OperatingModel | None) -> pd.DataFrame:
    """The operating model's roles as a table indexed by ``role_id`` (columns of ModelData)."""
    if operating_model is None or not operating_model.roles:
        return empty_roles()
    rows = [{"role_id": r.id, **{c: getattr(r, c) for c in ROLE_COLUMNS}}
            for r in operating_model.roles]
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
    hub_count_min, hub_count_max  ``hubs.count`` (``exactly`` gives both).
    max_travel                    ``hubs.max_travel_minutes`` (already applied to ``pairs``).
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

    pool, problems = pair_pools(p, areas, sites, om.pools if om is not None else None)
    p["pool"] = pool.to_numpy()
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
        budget_cap_gbp=scenario.budget.cap,
        assignment=scenario.hubs.assignment,
        objective=scenario.objective,
        travel_cost_gbp_per_unit=float(scenario.travel.cost_gbp_per_unit),
        travel_weight_by_population=bool(scenario.travel.weight_by_population),
        travel_unit=scenario.travel.unit,
        max_travel=scenario.hubs.max_travel_minutes,
        serve_own_area=bool(scenario.hubs.serve_own_area),
        contiguous=bool(scenario.hubs.contiguous),
        edges=area_edges(inputs) if scenario.hubs.contiguous else None,
    )


def area_edges(inputs: Inputs) -> pd.DataFrame:
    """The areas' neighbour graph (:func:`mdtplan.adjacency.area_adjacency`) with the scenario's
    ``areas.adjacency`` links and join distance."""
    cfg = inputs.scenario.areas
    return area_adjacency(inputs.areas, links=cfg.adjacency.links,
                          join_within_km=cfg.adjacency.join_within_km, file=cfg.path)

"""The data the optimisation model is built from: plain tables, no files, no geometry.

:func:`prepare_model_data` turns loaded :class:`~mdtplan.inputs.Inputs`, the demand table and the
allowed pairs into a :class:`ModelData`. Tests and the OR-Library converter may also build a
``ModelData`` directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class SupervisionRule:
    """``supervisor`` FTE x ``max_ratio`` >= sum of ``supervises`` FTE in each unit."""

    supervisor: str
    supervises: tuple[str, ...]
    max_ratio: float


@dataclass(frozen=True)
class ModelData:
    """Everything :func:`mdtplan.model.build.build_model` needs.

    Attributes
    ----------
    name : str
        Scenario name.
    areas : DataFrame
        Index ``area_id`` (str). Columns ``population`` (float weight [people, or demand units
        in the classic problems]) and ``group`` (str or <NA>).
    demand_hours : DataFrame
        Index ``area_id`` (same order as ``areas``), one float column per role id [hours/year].
        No columns when there are no roles.
    sites : DataFrame
        Index ``site_id`` (str). Columns ``name``, ``status`` (candidate|existing|required|
        excluded), ``fixed_cost_gbp``, ``opening_cost_gbp`` [GBP/year], ``capacity`` [weight
        units, NaN = none], ``capacity_fte`` [FTE, NaN = none], ``pool`` (str or <NA>).
    pairs : DataFrame
        Allowed (area, site) pairs only: ``area_id``, ``site_id``, ``travel_cost`` [travel
        unit], ``pool`` (the specialist pool that serves the area when it is assigned to the
        site). Excluded sites never appear.
    roles : DataFrame
        Index ``role_id``. Columns ``name``, ``kind`` (core|specialist), ``cost_gbp_per_fte``,
        ``agency_premium``, ``productive_hours_per_fte``, ``min_fte_per_hub``, ``fte_step``,
        ``max_agency_share``.
    supply_fte : dict
        role id -> most permanent FTE that can be employed (today's permanent + hiring limit).
        Roles absent are unlimited.
    supervision : tuple of SupervisionRule
    hub_count_min, hub_count_max : int, int or None
    hub_population_min, hub_population_max : float or None
        Band on the population (weight) served by each open hub.
    budget_cap_gbp : float or None
        Annual cap on staff cost (agency at its premium) plus site fixed and opening costs.
    assignment : {"single", "split"}
    objective : {"max_demand_met", "min_cost", "min_travel", "min_max_travel"}
    travel_cost_gbp_per_unit : float
        Money per unit of travel in ``min_cost`` (0 = travel not costed).
    travel_weight_by_population : bool
        Whether travel counts once per person (True) or once per area (False).
    travel_unit : str
    max_travel : float or None
        The reach limit already applied to ``pairs`` (for reporting).
    """

    name: str
    areas: pd.DataFrame
    demand_hours: pd.DataFrame
    sites: pd.DataFrame
    pairs: pd.DataFrame
    roles: pd.DataFrame
    supply_fte: dict[str, float] = field(default_factory=dict)
    supervision: tuple[SupervisionRule, ...] = ()
    hub_count_min: int = 0
    hub_count_max: int | None = None
    hub_population_min: float | None = None
    hub_population_max: float | None = None
    budget_cap_gbp: float | None = None
    assignment: str = "single"
    objective: str = "max_demand_met"
    travel_cost_gbp_per_unit: float = 0.0
    travel_weight_by_population: bool = True
    travel_unit: str = "minutes"
    max_travel: float | None = None


# --------------------------------------------------------------------------------------------
# Inputs -> ModelData

_ROLE_COLUMNS = ("name", "kind", "cost_gbp_per_fte", "agency_premium", "productive_hours_per_fte",
                 "min_fte_per_hub", "fte_step", "max_agency_share")


def empty_roles() -> pd.DataFrame:
    """A roles table with no rows and the :class:`ModelData` columns (the classic problems)."""
    roles = pd.DataFrame({c: pd.Series(dtype=object if c in ("name", "kind") else float)
                          for c in _ROLE_COLUMNS})
    roles.index = pd.Index([], name="role_id", dtype=object)
    return roles


def roles_table(operating_model) -> pd.DataFrame:
    """The operating model's roles as a table indexed by ``role_id`` (columns of ModelData)."""
    if operating_model is None or not operating_model.roles:
        return empty_roles()
    rows = [{"role_id": r.id, **{c: getattr(r, c) for c in _ROLE_COLUMNS}}
            for r in operating_model.roles]
    return pd.DataFrame(rows).set_index("role_id")


def pair_pools(pairs: pd.DataFrame, areas: pd.DataFrame, sites: pd.DataFrame,
               pools_config) -> tuple[pd.Series, list]:
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
    from ..errors import Problem

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


def prepare_model_data(inputs, demand_hours: pd.DataFrame, pairs: pd.DataFrame) -> ModelData:
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
    from ..errors import ModelError

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
    )

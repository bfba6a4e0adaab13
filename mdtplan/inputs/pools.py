"""Specialist pools: their names as the operating model's ``pools.by`` defines them, and the
checks that every area or site belongs to one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from .problems import _ids_text, _listing, _Problems, _says

if TYPE_CHECKING:
    from ..operating_model import OperatingModel
    from ..scenario import Scenario

SINGLE_POOL = "all"


def pool_names(operating_model: OperatingModel | None, areas: pd.DataFrame | None,
               sites: pd.DataFrame | None) -> list[str]:
    """Names of the specialist pools, as the operating model's ``pools.by`` defines them.

    Parameters
    ----------
    operating_model : OperatingModel or None
    areas, sites : DataFrame or None
        Canonical areas (``group`` column) and sites (``pool`` column).

    Returns
    -------
    list of str
        ``[SINGLE_POOL]`` for ``by: single`` (and without an operating model); the keys of
        ``pools.groups`` or the distinct area groups for ``by: area_group``; the distinct site
        pools for ``by: site``.
    """
    if operating_model is None or operating_model.pools.by == "single":
        return [SINGLE_POOL]
    pools = operating_model.pools
    if pools.by == "area_group":
        if pools.groups:
            return list(pools.groups)
        return [] if areas is None else [str(v) for v in pd.unique(areas["group"].dropna())]
    return [] if sites is None else [str(v) for v in pd.unique(sites["pool"].dropna())]


def _check_pools(om: OperatingModel | None, scenario: Scenario, areas, sites,
                 p: _Problems) -> None:
    if om is None:
        return
    pools = om.pools
    if pools.by == "site":
        if scenario.sites.pool is None:
            p.error(scenario.sites.path, None, "sites.pool",
                    f"the operating model '{om.name}' pools specialists by site, but sites.pool "
                    "names no column", "map sites.pool to the column naming each site's pool")
        elif sites is not None:
            blank = sites["pool"].isna().to_numpy() & (sites["status"] != "excluded").to_numpy()
            if blank.any():
                ids = sites.index.to_numpy()[blank]
                p.error(scenario.sites.path, _ids_text(ids), scenario.sites.pool,
                        f"{_says(len(ids), 'site', 'has', 'have')} no pool: {_listing(ids)}",
                        "give every site that is not excluded a pool")
    elif pools.by == "area_group":
        if scenario.areas.group is None:
            p.error(scenario.areas.path, None, "areas.group",
                    f"the operating model '{om.name}' pools specialists by area group, but "
                    "areas.group names no column",
                    "map areas.group to the district (or other group) column")
        elif areas is not None:
            blank = areas["group"].isna().to_numpy()
            if blank.any():
                ids = areas.index.to_numpy()[blank]
                p.error(scenario.areas.path, _ids_text(ids), scenario.areas.group,
                        f"{_says(len(ids), 'area', 'has', 'have')} no group, so no specialist "
                        "pool: "
                        f"{_listing(ids)}", "fill in every area's group")
            if pools.groups:
                covered = {g for values in pools.groups.values() for g in values}
                groups = pd.unique(areas["group"].dropna())
                unmapped = [g for g in groups if g not in covered]
                if unmapped:
                    p.error(om.source, None, "pools.groups",
                            f"{_says(len(unmapped), 'area group', 'belongs', 'belong')} to no "
                            "pool: "
                            f"{_listing(unmapped)}",
                            f"add each to one of the pools {_listing(list(pools.groups))} in "
                            "the operating model (values must match areas.group exactly)")

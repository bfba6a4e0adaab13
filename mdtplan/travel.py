"""Travel costs between areas and sites, and the allowed (area, site) pairs.

Travel comes from the user's table (``travel.path``: pairs missing from it are not allowed) or is
straight-line distance in EPSG:27700 between the area's representative point and the site,
times a circuity factor:

.. math::

    \\text{km}_{as} = \\frac{\\lVert p_a - p_s \\rVert}{1000} \\cdot c, \\qquad
    \\text{minutes}_{as} = \\frac{\\text{km}_{as}}{v} \\cdot 60

with :math:`c` = ``travel.circuity`` and :math:`v` = ``travel.speed_kmh``. A pair is allowed
when its cost is within the reach limit (``hubs.max_travel_minutes``, see :func:`travel_limit`).
Straight-line pairs are found with a k-d tree (only pairs within reach are ever formed); with no
limit every pair is kept (a dense, vectorised computation). Excluded sites never appear.

This module imports no Pyomo.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from .errors import InputError, Problem

if TYPE_CHECKING:
    from .inputs import Inputs
    from .scenario import TravelConfig

LIMIT_KEY = "hubs.max_travel_minutes"
_UNIT_LABEL = {"minutes": "min", "km": "km", "units": "units"}


def straight_line_cost(distance_m, unit: str = "minutes", circuity: float = 1.3,
                       speed_kmh: float = 40.0):
    """Travel cost of a straight-line distance.

    Parameters
    ----------
    distance_m : numeric
        Straight-line distance in EPSG:27700 [m].
    unit : {"minutes", "km"}
        The cost unit.
    circuity : float
        Road distance over straight-line distance [-].
    speed_kmh : float
        Average travel speed [km/h]; used for minutes only.

    Returns
    -------
    numeric
        ``distance_m / 1000 * circuity`` [km], or that divided by ``speed_kmh`` times 60 [min].

    Examples
    --------
    >>> straight_line_cost(10_000, "minutes", circuity=1.2, speed_kmh=40)
    18.0
    >>> straight_line_cost(10_000, "km", circuity=1.2)
    12.0
    """
    km = np.asarray(distance_m, dtype=float) / 1000.0 * circuity
    cost = km / speed_kmh * 60.0 if unit == "minutes" else km
    return float(cost) if np.ndim(cost) == 0 else cost


def travel_limit(config: TravelConfig | None, max_travel_minutes: float | None) -> float | None:
    """The reach limit in the travel unit.

    Parameters
    ----------
    config : TravelConfig or None
        ``None`` means minutes.
    max_travel_minutes : float or None
        ``hubs.max_travel_minutes`` [min]; ``None`` means no limit.

    Returns
    -------
    float or None
        The limit in ``config.unit``: minutes as given; for ``km``, the distance covered in that
        time at ``config.speed_kmh`` (``minutes * speed_kmh / 60``); for ``units`` (abstract
        units of a travel table, e.g. the OR-Library problems) the number as given.

    Examples
    --------
    >>> travel_limit(None, 30)
    30.0
    """
    if max_travel_minutes is None:
        return None
    if config is not None and config.unit == "km":
        return float(max_travel_minutes) * config.speed_kmh / 60.0
    return float(max_travel_minutes)


def _limit_text(limit: float, unit: str, max_travel_minutes: float | None) -> str:
    text = f"{limit:g} {_UNIT_LABEL.get(unit, unit)}"
    if unit == "km" and max_travel_minutes is not None:
        text += f" ({max_travel_minutes:g} min)"
    return text


def _examples(ids, limit: int = 10) -> str:
    ids = [str(i) for i in ids]
    text = ", ".join(ids[:limit])
    return text + (f", … and {len(ids) - limit} more ({len(ids)} in all)"
                   if len(ids) > limit else "")


def _row_text(ids) -> str:
    ids = [str(i) for i in ids]
    return ids[0] if len(ids) == 1 else f"{ids[0]} and {len(ids) - 1} more"


def _usable_sites(sites: pd.DataFrame) -> pd.DataFrame:
    if "status" in sites.columns:
        return sites.loc[(sites["status"] != "excluded").to_numpy()]
    return sites


def _finish(area_pos: np.ndarray, site_pos: np.ndarray, cost: np.ndarray,
            area_ids: np.ndarray, site_ids: np.ndarray) -> pd.DataFrame:
    order = np.lexsort((site_pos, cost, area_pos))
    return pd.DataFrame({
        "area_id": pd.array(area_ids[area_pos[order]], dtype="str"),
        "site_id": pd.array(site_ids[site_pos[order]], dtype="str"),
        "travel_cost": cost[order].astype(float),
    })


def _unreachable(area_ids, nearest_site, nearest_cost, limit, unit, max_travel_minutes,
                 ) -> list[Problem]:
    label = _UNIT_LABEL.get(unit, unit)
    within = _limit_text(limit, unit, max_travel_minutes) if limit is not None else None
    problems = []
    for area, site, cost in zip(area_ids, nearest_site, nearest_cost, strict=True):
        if site is None:
            problems.append(Problem(None, str(area), "travel.path",
                                    f"area {area} has no row in the travel table for any site "
                                    "that is not excluded, so no site can serve it",
                                    "add travel rows for it, or remove the area"))
        else:
            problems.append(Problem(None, str(area), LIMIT_KEY,
                                    f"area {area} has no site within {within}; the nearest is "
                                    f"{site} at {cost:.1f} {label}",
                                    "raise hubs.max_travel_minutes or add a site"))
    return problems


def pairs_from_table(areas: pd.DataFrame, sites: pd.DataFrame, table: pd.DataFrame, *,
                     limit: float | None = None, unit: str = "minutes",
                     max_travel_minutes: float | None = None) -> pd.DataFrame:
    """Allowed pairs from a travel table.

    Parameters
    ----------
    areas : DataFrame
        Index ``area_id``; the order of the result.
    sites : DataFrame
        Index ``site_id``; optional ``status`` (rows ``excluded`` are dropped).
    table : DataFrame
        ``area_id``, ``site_id``, ``travel_cost`` [travel unit].
    limit : float or None
        Largest allowed cost [travel unit]; ``None`` keeps every row.
    unit : str
        The travel unit (for messages).
    max_travel_minutes : float or None
        The scenario's limit as written (for messages).

    Raises
    ------
    InputError
        If the table names areas or sites not in ``areas``/``sites``, or any area has no
        allowed pair (one problem per such area, naming its cheapest site).
    """
    area_ids = areas.index.to_numpy(dtype=object)
    site_ids = sites.index.to_numpy(dtype=object)
    area_pos = areas.index.get_indexer(table["area_id"])
    site_pos = sites.index.get_indexer(table["site_id"])
    problems = []
    for what, pos, column in (("area", area_pos, "area_id"), ("site", site_pos, "site_id")):
        if (pos < 0).any():
            unknown = pd.unique(table[column].to_numpy()[pos < 0])
            problems.append(Problem(None, _row_text(unknown), column,
                                    f"the travel table names {len(unknown)} {what}(s) that are "
                                    f"not among the {what}s: {_examples(unknown)}",
                                    f"use the {what} ids of the {what}s file"))
    if problems:
        raise InputError(problems)
    usable = np.ones(len(site_ids), dtype=bool)
    if "status" in sites.columns:
        usable = (sites["status"] != "excluded").to_numpy()
    cost = table["travel_cost"].to_numpy(dtype=float)
    open_row = usable[site_pos]
    keep = open_row & (cost <= limit if limit is not None else True)
    reached = np.zeros(len(area_ids), dtype=bool)
    reached[area_pos[keep]] = True
    if not reached.all():
        missing = np.flatnonzero(~reached)
        # cheapest usable site of each unreached area (beyond the limit)
        candidates = pd.DataFrame({"a": area_pos[open_row], "s": site_pos[open_row],
                                   "c": cost[open_row]})
        candidates = candidates.loc[candidates["a"].isin(missing)]
        best = candidates.sort_values(["c", "s"]).drop_duplicates("a").set_index("a")
        nearest_site = [site_ids[best.at[a, "s"]] if a in best.index else None for a in missing]
        nearest_cost = [float(best.at[a, "c"]) if a in best.index else np.nan for a in missing]
        raise InputError(_unreachable(area_ids[missing], nearest_site, nearest_cost,
                                      limit, unit, max_travel_minutes))
    return _finish(area_pos[keep], site_pos[keep], cost[keep], area_ids, site_ids)


def pairs_straight_line(areas: pd.DataFrame, sites: pd.DataFrame, *, unit: str = "minutes",
                        circuity: float = 1.3, speed_kmh: float = 40.0,
                        limit: float | None = None,
                        max_travel_minutes: float | None = None) -> pd.DataFrame:
    """Allowed pairs by straight-line distance, vectorised.

    Parameters
    ----------
    areas : DataFrame
        Index ``area_id``; columns ``x``, ``y`` [m, EPSG:27700].
    sites : DataFrame
        Index ``site_id``; columns ``x``, ``y`` [m, EPSG:27700], optional ``status``
        (``excluded`` rows are dropped).
    unit : {"minutes", "km"}
    circuity : float
        Road over straight-line distance [-].
    speed_kmh : float
        [km/h].
    limit : float or None
        Largest allowed cost [unit]; ``None`` keeps all pairs (dense).
    max_travel_minutes : float or None
        The scenario's limit as written (for messages).

    Notes
    -----
    With a limit, a k-d tree of the sites is searched within the radius the limit allows
    (``scipy.spatial.cKDTree.sparse_distance_matrix``); the distances of those candidates are
    then recomputed with ``numpy.hypot`` and filtered on cost, so the result equals a brute-force
    computation with :func:`straight_line_cost` exactly.

    Raises
    ------
    InputError
        If coordinates are missing, ``unit`` is not minutes or km, or an area has no site within
        reach (one problem per such area, naming its nearest site and that site's cost).
    """
    if unit not in ("minutes", "km"):
        raise InputError(Problem(None, None, "travel.unit",
                                 f"straight-line travel is in minutes or km, not '{unit}'",
                                 "set travel.unit: minutes or km, or give a travel table"))
    usable = _usable_sites(sites)
    area_ids = areas.index.to_numpy(dtype=object)
    site_ids = usable.index.to_numpy(dtype=object)
    area_xy = np.column_stack([areas["x"].to_numpy(dtype=float),
                               areas["y"].to_numpy(dtype=float)])
    site_xy = np.column_stack([usable["x"].to_numpy(dtype=float),
                               usable["y"].to_numpy(dtype=float)])
    problems = []
    for what, ids, xy in (("area", area_ids, area_xy), ("site", site_ids, site_xy)):
        lost = ~np.isfinite(xy).all(axis=1)
        if lost.any():
            problems.append(Problem(None, _row_text(ids[lost]), "geometry",
                                    f"{lost.sum()} {what}(s) have no coordinates, so "
                                    f"straight-line travel cannot be measured: "
                                    f"{_examples(ids[lost])}",
                                    "give them a geometry or coordinates, or give a travel "
                                    "table (travel.path)"))
    if len(site_ids) == 0:
        problems.append(Problem(None, None, "sites.status", "every site is excluded, so no "
                                "area can be served", "allow at least one site"))
    if problems:
        raise InputError(problems)

    def cost_of(a_pos, s_pos):
        d = np.hypot(area_xy[a_pos, 0] - site_xy[s_pos, 0], area_xy[a_pos, 1] - site_xy[s_pos, 1])
        return np.asarray(straight_line_cost(d, unit, circuity, speed_kmh), dtype=float)

    if limit is None:
        a_pos = np.repeat(np.arange(len(area_ids)), len(site_ids))
        s_pos = np.tile(np.arange(len(site_ids)), len(area_ids))
        return _finish(a_pos, s_pos, cost_of(a_pos, s_pos), area_ids, site_ids)

    per_metre = float(straight_line_cost(1.0, unit, circuity, speed_kmh))
    radius_m = limit / per_metre
    radius_m = radius_m * (1 + 1e-9) + 1e-6  # never miss a pair at the limit to rounding
    area_tree = cKDTree(area_xy)
    site_tree = cKDTree(site_xy)
    found = area_tree.sparse_distance_matrix(site_tree, radius_m, output_type="ndarray")
    a_pos = found["i"].astype(np.int64)
    s_pos = found["j"].astype(np.int64)
    cost = cost_of(a_pos, s_pos)
    keep = cost <= limit
    a_pos, s_pos, cost = a_pos[keep], s_pos[keep], cost[keep]
    reached = np.zeros(len(area_ids), dtype=bool)
    reached[a_pos] = True
    if not reached.all():
        missing = np.flatnonzero(~reached)
        _, nearest = site_tree.query(area_xy[missing], k=1)
        nearest_cost = cost_of(missing, np.asarray(nearest, dtype=np.int64))
        raise InputError(_unreachable(area_ids[missing], list(site_ids[nearest]),
                                      list(nearest_cost), limit, unit, max_travel_minutes))
    return _finish(a_pos, s_pos, cost, area_ids, site_ids)


def compute_allowed_pairs(areas: pd.DataFrame, sites: pd.DataFrame,
                          table: pd.DataFrame | None = None,
                          config: TravelConfig | None = None,
                          max_travel_minutes: float | None = None) -> pd.DataFrame:
    """Allowed (area, site) pairs and their travel cost, without an :class:`Inputs`.

    Parameters
    ----------
    areas : DataFrame
        Index ``area_id``; ``x``, ``y`` [m, EPSG:27700] for straight-line travel.
    sites : DataFrame
        Index ``site_id``; ``x``, ``y`` [m] for straight-line travel; optional ``status``.
    table : DataFrame or None
        ``area_id``, ``site_id``, ``travel_cost`` [``config.unit``]; ``None`` for straight-line.
    config : TravelConfig or None
        Unit, circuity and speed (defaults: minutes, 1.3, 40 km/h).
    max_travel_minutes : float or None
        ``hubs.max_travel_minutes`` [min]; converted by :func:`travel_limit`.

    Returns
    -------
    DataFrame
        ``area_id``, ``site_id`` (str), ``travel_cost`` (float, in ``config.unit``), sorted by
        the order of ``areas`` then by cost (then by site order). Excluded sites never appear.

    Raises
    ------
    InputError
        Every area with no site in reach, each naming its nearest site and that site's cost.
    """
    from .scenario import TravelConfig

    config = config if config is not None else TravelConfig()
    limit = travel_limit(config, max_travel_minutes)
    if table is not None:
        return pairs_from_table(areas, sites, table, limit=limit, unit=config.unit,
                                max_travel_minutes=max_travel_minutes)
    return pairs_straight_line(areas, sites, unit=config.unit, circuity=config.circuity,
                               speed_kmh=config.speed_kmh, limit=limit,
                               max_travel_minutes=max_travel_minutes)


def allowed_pairs(inputs: Inputs) -> pd.DataFrame:
    """The allowed (area, site) pairs of a loaded scenario.

    Parameters
    ----------
    inputs : Inputs
        From :func:`mdtplan.inputs.load_inputs`.

    Returns
    -------
    DataFrame
        ``area_id``, ``site_id``, ``travel_cost`` (float, in ``scenario.travel.unit``), sorted
        by (the order of ``inputs.areas``, ``travel_cost``). Excluded sites never appear; only
        pairs within ``hubs.max_travel_minutes`` are kept (the limit applies to a travel table's
        costs too).

    Raises
    ------
    InputError
        Naming every area with no site in reach, its nearest site and that site's cost, e.g.
        ``area E02005040 has no site within 30 min; the nearest is G82001 at 34.2 min``.
    """
    scenario = inputs.scenario
    return compute_allowed_pairs(inputs.areas, inputs.sites, inputs.travel, scenario.travel,
                                 scenario.hubs.max_travel_minutes)

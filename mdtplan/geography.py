"""How a plan looks on the map, in figures: the ``geography`` block of ``summary.json``.

A planner's first look at a plan is its map. These figures say what the map shows, so that a
script (or a reviewer) can tell a believable plan from one a planner would reject without
opening it:

- **pieces per catchment**: the connected pieces of each open hub's areas in the area
  adjacency graph (:func:`mdtplan.adjacency.catchment_pieces`) (areas sharing a boundary, plus the links for islands, bridges and ferries);
  1 everywhere means every catchment is one patch;
- **share of areas at their nearest open hub**: areas whose hub (the one serving the largest
  share) is, by travel, the nearest open hub they may use;
- **hubs not serving their own area**: open hubs whose own area (the area their site stands in)
  is not served by them whole;
- **minimum hub separation**: the distance between the two closest open hubs [km], straight
  line in EPSG:27700;
- **staff travel**: the hours staff spend travelling to visits and the mileage paid.

Everything is computed from the result tables and the model's data; nothing here solves or
writes files.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from .adjacency import catchment_pieces
from .summary import Geography

__all__ = ["geography_of", "hubs_not_serving_own_area",
           "min_hub_separation", "nearest_open_hub_share"]

#: a share below this is not serving the area
_SHARE_TOL = 1e-6


def nearest_open_hub_share(assignment: pd.DataFrame, pairs: pd.DataFrame,
                           open_hubs: list[str]) -> float | None:
    """Share of areas whose hub is the nearest open hub they may use (ties count as nearest).

    Parameters
    ----------
    assignment : DataFrame
        ``area_id``, ``site_id``, ``share``; an area's hub is the one serving its largest share.
    pairs : DataFrame
        The allowed pairs: ``area_id``, ``site_id``, ``travel_cost``.
    open_hubs : list of str

    Returns
    -------
    float or None
        ``None`` when no area is served.
    """
    if assignment.empty:
        return None
    main = (assignment.sort_values(["area_id", "share"], ascending=[True, False], kind="stable")
            .drop_duplicates("area_id"))
    area = pairs["area_id"].astype(str).to_numpy()
    site = pairs["site_id"].astype(str).to_numpy()
    cost = pairs["travel_cost"].to_numpy(dtype=float)
    codes, areas = pd.factorize(area)
    best = np.full(len(areas), np.inf)
    usable = np.isin(site, np.asarray(list(open_hubs), dtype=str))
    np.minimum.at(best, codes[usable], cost[usable])
    pair_at = pd.MultiIndex.from_arrays([area, site]).get_indexer(
        pd.MultiIndex.from_arrays([main["area_id"].astype(str).to_numpy(),
                                   main["site_id"].astype(str).to_numpy()]))
    assigned = np.where(pair_at >= 0, cost[np.maximum(pair_at, 0)], np.nan)
    nearest = np.full(len(main), np.nan)
    seen = pair_at >= 0
    nearest[seen] = best[codes[pair_at[seen]]]
    at = assigned <= nearest + 1e-9 * np.maximum(1.0, np.abs(nearest))
    return float(at.mean())


def hubs_not_serving_own_area(assignment: pd.DataFrame, own_area: pd.Series,
                              open_hubs: list[str]) -> list[str] | None:
    """Open hubs that do not serve the area they stand in whole.

    Parameters
    ----------
    assignment : DataFrame
        ``area_id``, ``site_id``, ``share``.
    own_area : Series
        site id -> the area the site stands in (<NA>: none).
    open_hubs : list of str

    Returns
    -------
    list of str or None
        Sorted site ids; ``None`` when no open hub stands in an area (nothing to judge).
    """
    judged = [s for s in open_hubs if isinstance(own_area.get(s), str)]
    if not judged:
        return None
    share = assignment.groupby([assignment["area_id"].astype(str),
                                assignment["site_id"].astype(str)])["share"].sum()
    return sorted(s for s in judged
                  if float(share.get((own_area[s], s), 0.0)) < 1.0 - _SHARE_TOL)


def min_hub_separation(xy: pd.DataFrame, open_hubs: list[str]
                       ) -> tuple[float | None, tuple[str, str] | None]:
    """The two closest open hubs and their distance.

    Parameters
    ----------
    xy : DataFrame
        Index site id; ``x``, ``y`` in EPSG:27700 [m] (NaN: no coordinates).
    open_hubs : list of str

    Returns
    -------
    km : float or None
        Straight-line distance [km]; ``None`` with fewer than two located hubs.
    pair : tuple of str or None
        The two hubs, in id order.
    """
    if xy is None or not {"x", "y"} <= set(xy.columns):
        return None, None
    hubs = np.asarray(sorted(open_hubs), dtype=object)
    at = xy.index.get_indexer(hubs)
    hubs, at = hubs[at >= 0], at[at >= 0]
    pts = np.column_stack([xy["x"].to_numpy(dtype=float)[at], xy["y"].to_numpy(dtype=float)[at]])
    located = np.isfinite(pts).all(axis=1)
    hubs, pts = hubs[located], pts[located]
    if len(pts) < 2:
        return None, None
    dist, idx = cKDTree(pts).query(pts, k=2)
    i = int(np.argmin(dist[:, 1]))
    a, b = sorted((str(hubs[i]), str(hubs[int(idx[i, 1])])))
    return float(dist[i, 1]) / 1000.0, (a, b)


def geography_of(data, assignment: pd.DataFrame, open_hubs: list[str], *,
                 edges: pd.DataFrame | None = None, sites_xy: pd.DataFrame | None = None,
                 travel_hours: float | None = None, mileage_miles: float | None = None,
                 mileage_gbp: float | None = None, staff_travel: bool = False) -> Geography:
    """The ``geography`` block of a solved plan.

    Parameters
    ----------
    data : ModelData
        ``pairs`` (travel between areas and sites) and ``sites`` (``area_id`` where known).
    assignment : DataFrame
        ``area_id``, ``site_id``, ``share``.
    open_hubs : list of str
    edges : DataFrame, optional
        The area adjacency (``area_a``, ``area_b``); without it pieces are not counted.
    sites_xy : DataFrame, optional
        Sites' ``x``, ``y`` in EPSG:27700 [m]; without them the separation is not measured.
    travel_hours, mileage_miles, mileage_gbp : float, optional
        The plan's staff travel on visits [h/yr, miles/yr, GBP/yr] (:mod:`mdtplan.results`
        sums them from the staffing table).
    staff_travel : bool
        Whether staff travel was part of the work.
    """
    pieces = (None if edges is None else
              {str(k): int(v) for k, v in catchment_pieces(assignment, edges).items()})
    own = data.sites["area_id"] if "area_id" in data.sites else None
    km, pair = min_hub_separation(sites_xy, open_hubs)
    return Geography(
        pieces_per_catchment=pieces,
        catchments_in_pieces=(None if pieces is None
                              else sum(1 for p in pieces.values() if p > 1)),
        share_areas_at_nearest_open_hub=nearest_open_hub_share(assignment, data.pairs,
                                                               open_hubs),
        hubs_not_serving_own_area=(None if own is None else hubs_not_serving_own_area(
            assignment, own, open_hubs)),
        min_hub_separation_km=km,
        closest_hubs=pair,
        travel_hours=travel_hours, mileage_miles=mileage_miles, mileage_gbp=mileage_gbp,
        staff_travel=bool(staff_travel),
    )

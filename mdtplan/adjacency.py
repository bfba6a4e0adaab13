"""Which small areas are neighbours: the graph a contiguous catchment must be connected in.

Three kinds of undirected edge, in one table ``area_a, area_b, kind`` (``area_a < area_b``):

=========== ===========================================================================
``boundary`` two polygons share a stretch of boundary of positive length (rook adjacency: a
             single shared corner is not enough, since a catchment joined only at a corner
             would look like two pieces on a map): one polygon's boundary runs within
             ``tolerance_m`` (0.5 m: reprojection noise, slivers of generalised boundaries) of
             the other polygon for at least ``min_shared_m`` (10 m).
``nearest``  added by the tool: areas given as points are joined by their Delaunay
             triangulation; a group of areas touching no other (an island, or a cluster of
             islands) is joined to the nearest other group by its closest pair of areas, so that
             the joins form a minimum spanning set (Borůvka's rounds), up to ``join_within_km``.
``link``     the user's own (``areas.adjacency.links``): bridges, ferries, causeways.
=========== ===========================================================================

A group still apart after the joins (farther than ``join_within_km`` from every other group) is an
:class:`~mdtplan.errors.InputError` naming the areas of the smaller side, with the hint to add a
link. Only the scenario's own areas are ever looked at (the file's other rows are already gone).

This module imports no Pyomo; it needs shapely 2 (STRtree) and scipy.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from .errors import InputError, Problem

KEY = "areas.adjacency"
#: default reach of an automatic join between groups of areas [km]
JOIN_WITHIN_KM = 10.0
EDGE_COLUMNS = ["area_a", "area_b", "kind"]


def _empty() -> pd.DataFrame:
    return pd.DataFrame({"area_a": pd.Series(dtype=str), "area_b": pd.Series(dtype=str),
                         "kind": pd.Series(dtype=str)})


def _ordered(a: np.ndarray, b: np.ndarray, ids: np.ndarray, kind: str) -> pd.DataFrame:
    """Edges between positions ``a`` and ``b`` as ids, smaller id first, one row per pair."""
    if len(a) == 0:
        return _empty()
    ia, ib = ids[np.asarray(a, dtype=np.int64)], ids[np.asarray(b, dtype=np.int64)]
    lo, hi = np.where(ia < ib, ia, ib), np.where(ia < ib, ib, ia)
    out = pd.DataFrame({"area_a": lo, "area_b": hi, "kind": kind})
    return out[out["area_a"] != out["area_b"]].drop_duplicates(["area_a", "area_b"])


def boundary_pairs(geoms: np.ndarray, tolerance_m: float = 0.5,
                   min_shared_m: float = 10.0) -> tuple[np.ndarray, np.ndarray]:
    """Positions of polygon pairs that share a boundary of positive length (rook).

    Parameters
    ----------
    geoms : array of shapely geometries
        Polygons in a metric CRS (EPSG:27700) [m].
    tolerance_m : float
        How far apart two boundaries may run and still count as shared (slivers) [m].
    min_shared_m : float
        The least length of one polygon's boundary running within ``tolerance_m`` of the other
        [m]. A corner touch runs there for about ``2 * tolerance_m`` (up to ~5 m at the sharpest
        corners of Kent's LSOA boundaries) and is not counted; so is a shared edge shorter than
        about 10 m, which on a map looks like a corner too.

    Returns
    -------
    (ndarray, ndarray)
        Positions ``i < j`` of each neighbouring pair.
    """
    import shapely

    n = len(geoms)
    if n < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    tree = shapely.STRtree(geoms)
    i, j = tree.query(geoms, predicate="dwithin", distance=tolerance_m)
    keep = i < j
    i, j = i[keep], j[keep]
    if not len(i):
        return i, j
    rings = shapely.boundary(geoms)
    near = shapely.buffer(geoms, tolerance_m, quad_segs=2)
    shared = shapely.length(shapely.intersection(rings[i], near[j]))
    keep = shared >= min_shared_m
    return i[keep], j[keep]


def point_pairs(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of neighbouring points: the edges of their Delaunay triangulation.

    Fewer than three points, or points on one line, get no edges here (the joins between groups
    then link them as a chain of nearest neighbours).
    """
    if len(xy) < 3:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    from scipy.spatial import Delaunay, QhullError

    try:
        tri = Delaunay(xy)
    except QhullError:  # collinear or repeated points
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    s = tri.simplices
    a = np.concatenate([s[:, 0], s[:, 1], s[:, 2]])
    b = np.concatenate([s[:, 1], s[:, 2], s[:, 0]])
    return np.minimum(a, b), np.maximum(a, b)


def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    g = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    return connected_components(g, directed=False)[1]


def _join_groups(geoms: np.ndarray, a: np.ndarray, b: np.ndarray, ids: np.ndarray,
                 join_within_m: float, file: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Borůvka rounds: each group joins its nearest other group by its closest pair of areas.

    Returns the positions of the joins; raises when a group is beyond ``join_within_m`` of all
    others.
    """
    import shapely

    n = len(geoms)
    ja, jb = [], []
    while True:
        label = _components(n, np.concatenate([a, *ja]).astype(np.int64),
                            np.concatenate([b, *jb]).astype(np.int64))
        groups = np.unique(label)
        if len(groups) <= 1:
            break
        best: dict[int, tuple[float, int, int]] = {}
        for g in groups:
            inside = np.flatnonzero(label == g)
            outside = np.flatnonzero(label != g)
            tree = shapely.STRtree(geoms[outside])
            (src, dst), dist = tree.query_nearest(geoms[inside], return_distance=True,
                                                  all_matches=False)
            k = int(np.argmin(dist))
            best[int(g)] = (float(dist[k]), int(inside[src[k]]), int(outside[dst[k]]))
        far = {g: v for g, v in best.items() if v[0] > join_within_m}
        if far:
            # name the smallest group that is too far from every other
            g = min(far, key=lambda g: (int((label == g).sum()), g))
            members = sorted(ids[label == g].tolist())
            shown = ", ".join(members[:12]) + (f" and {len(members) - 12} more"
                                               if len(members) > 12 else "")
            dist_km, i, j = far[g][0] / 1000.0, far[g][1], far[g][2]
            raise InputError([Problem(
                file, None, f"{KEY}.links",
                f"area(s) {shown} touch no other area and the nearest other area "
                f"({ids[j]}, from {ids[i]}) is {dist_km:.1f} km away, beyond "
                f"{KEY}.join_within_km = {join_within_m / 1000.0:g}",
                f"add a link for the bridge or ferry, e.g. {KEY}.links: [[{ids[i]}, {ids[j]}]], "
                f"or raise {KEY}.join_within_km")])
        seen = set()
        for _, i, j in best.values():
            key = (min(i, j), max(i, j))
            if key not in seen:
                seen.add(key)
                ja.append(np.array([key[0]]))
                jb.append(np.array([key[1]]))
    if not ja:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(ja).astype(np.int64), np.concatenate(jb).astype(np.int64)


def area_adjacency(areas, links: Sequence[Sequence[str]] | None = None,
                   join_within_km: float = JOIN_WITHIN_KM, tolerance_m: float = 0.5,
                   min_shared_m: float = 10.0, file: str | None = None) -> pd.DataFrame:
    """The neighbour graph of the areas.

    Parameters
    ----------
    areas : GeoDataFrame
        Index ``area_id``; polygons or points in EPSG:27700 [m].
    links : list of [area_id, area_id], optional
        The user's own edges (bridges, ferries); unknown ids are an error naming them.
    join_within_km : float
        How far apart two groups of areas may lie and still be joined automatically [km].
    tolerance_m, min_shared_m : float
        See :func:`boundary_pairs` [m].
    file : str, optional
        The areas' file, for error messages.

    Returns
    -------
    DataFrame
        ``area_a``, ``area_b`` (ids, ``area_a < area_b``), ``kind`` (``boundary``, ``nearest``
        or ``link``), one row per neighbouring pair, sorted.

    Raises
    ------
    InputError
        An id in ``links`` that is not an area; an area without geometry; a group of areas
        farther than ``join_within_km`` from all others.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> squares = gpd.GeoDataFrame(geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000),
    ...                                      box(2000, 1000, 3000, 2000)],
    ...                            index=["a", "b", "c"], crs="EPSG:27700")
    >>> area_adjacency(squares).values.tolist()   # b and c meet at a corner only
    [['a', 'b', 'boundary'], ['b', 'c', 'nearest']]
    """
    ids = np.asarray(areas.index.astype(str))
    n = len(ids)
    problems: list[Problem] = []
    pos = {a: i for i, a in enumerate(ids)}
    la, lb = [], []
    for k, pair in enumerate(links or []):
        unknown = [str(x) for x in pair if str(x) not in pos]
        if unknown:
            problems.append(Problem(None, None, f"{KEY}.links[{k}]",
                                    f"link names area(s) not in the scenario: "
                                    f"{', '.join(unknown)}",
                                    "use ids of the areas kept by areas.where"))
        elif len(pair) != 2 or str(pair[0]) == str(pair[1]):
            problems.append(Problem(None, None, f"{KEY}.links[{k}]",
                                    "a link names two different areas", None))
        else:
            la.append(pos[str(pair[0])])
            lb.append(pos[str(pair[1])])
    geoms = np.asarray(getattr(areas, "geometry", pd.Series([None] * n)).values, dtype=object)
    missing = [ids[i] for i in range(n) if geoms[i] is None or geoms[i].is_empty]
    if missing:
        problems.append(Problem(file, ", ".join(missing[:12]), "geometry",
                                f"{len(missing)} area(s) have no geometry, so their neighbours "
                                "are unknown", "give every area a polygon or point, or set "
                                "hubs.contiguous: false"))
    if problems:
        raise InputError(problems)
    if n == 0:
        return _empty()
    import shapely

    kinds = shapely.get_type_id(geoms)
    polygon = np.isin(kinds, [3, 6])  # Polygon, MultiPolygon
    parts = []
    pi = np.flatnonzero(polygon)
    if len(pi) > 1:
        a, b = boundary_pairs(geoms[pi], tolerance_m, min_shared_m)
        parts.append(_ordered(pi[a], pi[b], ids, "boundary"))
    if (~polygon).any():
        xy = np.column_stack([shapely.get_x(shapely.point_on_surface(geoms)),
                              shapely.get_y(shapely.point_on_surface(geoms))])
        a, b = point_pairs(xy)
        touch = ~polygon[a] | ~polygon[b]
        parts.append(_ordered(a[touch], b[touch], ids, "nearest"))
    parts.append(_ordered(np.array(la), np.array(lb), ids, "link"))
    edges = pd.concat(parts, ignore_index=True) if parts else _empty()
    edges = edges.drop_duplicates(["area_a", "area_b"], keep="last")  # a link wins its pair
    a = edges["area_a"].map(pos).to_numpy(np.int64)
    b = edges["area_b"].map(pos).to_numpy(np.int64)
    ja, jb = _join_groups(geoms, a, b, ids, join_within_km * 1000.0, file)
    edges = pd.concat([edges, _ordered(ja, jb, ids, "nearest")], ignore_index=True)
    edges = edges.drop_duplicates(["area_a", "area_b"])
    return edges.sort_values(["area_a", "area_b"]).reset_index(drop=True)[EDGE_COLUMNS]


def catchment_pieces(assignment: pd.DataFrame, edges: pd.DataFrame,
                     sites: Iterable[str] | None = None) -> pd.Series:
    """Pieces of each hub's catchment: connected components of its areas in the neighbour graph.

    Parameters
    ----------
    assignment : DataFrame
        ``area_id``, ``site_id`` and optionally ``share`` (rows with ``share`` <= 1e-6 are
        ignored: a split area belongs to every hub that serves a part of it).
    edges : DataFrame
        ``area_a``, ``area_b`` (from :func:`area_adjacency`).
    sites : iterable of str, optional
        Sites to report (0 pieces for one with no areas); by default those in ``assignment``.

    Returns
    -------
    Series
        Index ``site_id``, number of pieces (int).

    Examples
    --------
    >>> import pandas as pd
    >>> edges = pd.DataFrame({"area_a": ["a", "b"], "area_b": ["b", "c"]})
    >>> plan = pd.DataFrame({"area_id": ["a", "b", "c"], "site_id": ["s", "t", "s"]})
    >>> catchment_pieces(plan, edges).to_dict()
    {'s': 2, 't': 1}
    """
    a = assignment
    if "share" in a:
        a = a[a["share"].astype(float) > 1e-6]
    a = a[["area_id", "site_id"]].astype(str).drop_duplicates().reset_index(drop=True)
    node = pd.Series(np.arange(len(a)), index=pd.MultiIndex.from_frame(a))
    e = edges[["area_a", "area_b"]].astype(str)
    m = (e.merge(a, left_on="area_a", right_on="area_id")
         .merge(a, left_on=["area_b", "site_id"], right_on=["area_id", "site_id"],
                suffixes=("", "_b")))
    u = node.reindex(pd.MultiIndex.from_arrays([m["area_a"], m["site_id"]])).to_numpy(np.int64)
    v = node.reindex(pd.MultiIndex.from_arrays([m["area_b"], m["site_id"]])).to_numpy(np.int64)
    label = _components(len(a), u, v)
    pieces = pd.Series(label, index=a["site_id"].to_numpy()).groupby(level=0).nunique()
    pieces.index.name = "site_id"
    keep = list(dict.fromkeys(str(s) for s in sites)) if sites is not None else list(pieces.index)
    return pieces.reindex(keep, fill_value=0).astype(int).rename("pieces")

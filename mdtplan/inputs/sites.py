"""Loading the sites table: status, costs, capacities, name, kind, pool and a point per site.

A polygon site is placed at its representative point (as a warning). Sites far outside the
areas' extent are errors (:data:`FAR_OUTSIDE_M`). The result is indexed by ``site_id`` (see
:class:`~mdtplan.inputs.Inputs`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .columns import _column_values, _missing_column, _text_values
from .geometry import (
    BNG,
    _geometry_of,
    _lonlat,
    _prepare_geometry,
    _representative_xy,
    _split_geometry,
    _warn_outside_gb,
)
from .ids import _check_ids, _labels, _read_main
from .problems import _ids_text, _listing, _plural, _Problems, _says, _show
from .values import _to_number
from .where import _apply_where

if TYPE_CHECKING:
    from ..scenario import SitesConfig

SITE_STATUSES = ("candidate", "existing", "required", "excluded")
FAR_OUTSIDE_M = 50_000.0
"""Sites further than this outside the areas' bounding box (EPSG:27700) are errors [m]."""


def _load_sites(cfg: SitesConfig, has_table: bool, p: _Problems,
                ) -> tuple[gpd.GeoDataFrame, set[str]] | None:
    file = cfg.path
    read = _read_main(cfg, "sites", p)
    if read is None:
        return None
    frame, raw_ids = read
    frame, geometry_crs = _split_geometry(frame, cfg, "sites", "points", has_table, p)
    where = dict(cfg.where or {})
    for column in list(where):
        if column not in frame.columns:
            where.pop(column)
            _missing_column(p, file, f"sites.where.{column}", column, frame.columns)
    frame = _apply_where(frame, where, "sites", file, p)
    if frame.empty:
        return None
    labels = _labels(frame)
    _check_ids(frame, cfg.id, file, "site", p)

    ok = True
    if cfg.status is not None:
        status_text = _text_values(frame, cfg.status, "sites.status", file, p)
        if status_text is None:
            ok = False
            status = None
        else:
            status = status_text.str.lower().fillna("candidate").to_numpy(dtype=object)
            unknown = ~np.isin(status, SITE_STATUSES)
            if unknown.any():
                shown = [f"{lab}={_show(v)}" for lab, v in
                         zip(labels[unknown], frame[cfg.status].to_numpy()[unknown], strict=True)]
                p.error(file, _ids_text(labels[unknown]), cfg.status,
                        f"{_plural(int(unknown.sum()), 'site')} with an unknown status: "
                        f"{_listing(shown)}",
                        f"use one of {', '.join(SITE_STATUSES)} (blank means candidate)")
    else:
        status = np.full(len(frame), "candidate", dtype=object)
    # an excluded site's blank cost is no matter (it is never opened): it reads as 0
    excluded = (status == "excluded") if status is not None else None
    numbers: dict[str, np.ndarray | None] = {}
    for canonical, column, key, required, default in (
        ("fixed_cost_gbp", cfg.fixed_cost, "sites.fixed_cost", True, 0.0),
        ("opening_cost_gbp", cfg.opening_cost, "sites.opening_cost", True, 0.0),
        ("capacity", cfg.capacity, "sites.capacity", False, np.nan),
        ("capacity_fte", cfg.capacity_fte, "sites.capacity_fte", False, np.nan),
    ):
        values = _column_values(frame, column, key, file, p, what="site", labels=labels,
                                required=required, default=default, skip=excluded)
        if values is not None and required and excluded is not None:
            values = np.where(excluded & np.isnan(values), 0.0, values)
        numbers[canonical] = values
        if values is None:
            ok = False
        elif column is not None and not required:
            blank = _to_number(frame[column])[1]
            if blank.any():
                p.warn(file, _ids_text(labels[blank]), column,
                       f"{_says(int(blank.sum()), 'site', 'has', 'have')} no {canonical} "
                       f"(blank), which means no limit: {_listing(labels[blank])}",
                       "fill in a number if there is a limit")
    name = _text_values(frame, cfg.name, "sites.name", file, p)
    kind = _text_values(frame, cfg.kind, "sites.kind", file, p)
    pool = _text_values(frame, cfg.pool, "sites.pool", file, p)
    if not ok or name is None or kind is None or pool is None:
        return None

    xs = np.full(len(frame), np.nan)
    ys = np.full(len(frame), np.nan)
    points = np.full(len(frame), None, dtype=object)
    geometry = _geometry_of(frame, cfg, "sites", geometry_crs, labels, p)
    if geometry is False:
        return None
    if geometry is not None:
        projected = _prepare_geometry(geometry, file, "sites", labels, "site", p)
        if projected is None:
            return None
        values = projected.to_numpy()
        present = ~(shapely.is_missing(values) | shapely.is_empty(values))
        not_point = present & (shapely.get_type_id(values) != shapely.GeometryType.POINT)
        if not_point.any():
            p.warn(file, _ids_text(labels[not_point]), "geometry",
                   f"{_says(int(not_point.sum()), 'site', 'is not a point', 'are not points')}"
                   " (e.g. polygons); each is placed at its representative point (a point "
                   f"inside it): {_listing(labels[not_point])}",
                   "give sites as points to be exact")
        xs, ys = _representative_xy(projected)
        points[present] = shapely.points(xs[present], ys[present])
        _warn_outside_gb(xs, ys, labels, file, "site", p)
    lon, lat = _lonlat(xs, ys)

    ids = frame["__id"].to_numpy(dtype=object)
    out = pd.DataFrame(index=pd.Index(ids, name="site_id", dtype="str"))
    name_values = name.to_numpy(dtype=object)
    out["name"] = pd.array(np.where(pd.isna(name_values), ids, name_values), dtype="str")
    out["kind"] = pd.array(kind.to_numpy(dtype=object), dtype="str")
    out["status"] = pd.array(status, dtype="str")
    for canonical, values in numbers.items():
        out[canonical] = values
    out["pool"] = pd.array(pool.to_numpy(dtype=object), dtype="str")
    out["x"] = xs
    out["y"] = ys
    out["lon"] = lon
    out["lat"] = lat
    sites = gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(points, index=out.index, crs=BNG),
                             crs=BNG)
    return sites, raw_ids


def _check_sites_near_areas(areas: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, file,
                            p: _Problems) -> None:
    """Sites more than :data:`FAR_OUTSIDE_M` outside the areas' bounding box are errors."""
    geoms = areas.geometry.to_numpy()
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not present.any():
        return
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms[present])
    xs, ys = sites["x"].to_numpy(), sites["y"].to_numpy()
    dx = np.maximum(np.maximum(xmin - xs, xs - xmax), 0.0)
    dy = np.maximum(np.maximum(ymin - ys, ys - ymax), 0.0)
    outside_m = np.hypot(dx, dy)
    far = (outside_m > FAR_OUTSIDE_M) & (sites["status"].to_numpy() != "excluded")
    if far.any():
        ids = sites.index.to_numpy()[far]
        shown = [f"{i} ({d / 1000:.0f} km out, lon {lo:.4f}, lat {la:.4f})" for i, d, lo, la in
                 zip(ids, outside_m[far], sites["lon"].to_numpy()[far],
                     sites["lat"].to_numpy()[far], strict=True)]
        p.error(file, _ids_text(ids), "geometry",
                f"{_says(int(far.sum()), 'site', 'lies', 'lie')} more than "
                f"{FAR_OUTSIDE_M / 1000:.0f} km outside the areas' extent: {_listing(shown)}",
                "check lon/lat order or the CRS (or mark far sites status: excluded)")

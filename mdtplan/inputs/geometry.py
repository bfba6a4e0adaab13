"""Geometry of areas and sites: points from ``coords``, checks and repairs, reprojection to
EPSG:27700.

A file's own geometry, or points made from its ``coords`` columns, is checked (CRS present,
geometry present and placeable), repaired with ``make_valid`` where invalid (as a warning), and
reprojected to :data:`BNG`. Each geometry's representative point gives ``x``, ``y`` [m] and
``lon``, ``lat`` [deg]; points outside Great Britain are reported as a warning.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from .columns import _missing_column
from .problems import _ids_text, _listing, _plural, _Problems, _says, _show
from .readers import _has_geometry, _plain
from .values import _number_hint, _to_number

if TYPE_CHECKING:
    from ..scenario import Coordinates

BNG = "EPSG:27700"
WGS84 = "EPSG:4326"
GB_LONLAT_BOUNDS = (-9.01, 49.75, 2.01, 61.01)
"""EPSG:27700's area of use (west, south, east, north) [deg]."""


def _points_from_coords(frame, coords: Coordinates, file, key, labels, p) -> gpd.GeoSeries | None:
    """Point geometry (in the CSV's CRS) from the ``coords`` columns; None if unusable."""
    ok = True
    for axis in ("x", "y"):
        column = getattr(coords, axis)
        if column not in frame.columns:
            _missing_column(p, file, f"{key}.coords.{axis}", column, frame.columns)
            ok = False
    try:
        crs = pyproj.CRS.from_user_input(coords.crs)
    except pyproj.exceptions.CRSError:
        p.error(file, None, f"{key}.coords.crs", f"'{coords.crs}' is not a coordinate "
                "reference system", "use EPSG:4326 for lon/lat or EPSG:27700 for "
                "easting/northing")
        return None
    if not ok:
        return None
    xs, xmiss, xbad = _to_number(frame[coords.x])
    ys, ymiss, ybad = _to_number(frame[coords.y])
    for column, miss, bad, raw in ((coords.x, xmiss, xbad, frame[coords.x]),
                                   (coords.y, ymiss, ybad, frame[coords.y])):
        if bad.any():
            shown = [f"{lab}={_show(v)}" for lab, v in zip(labels[bad], raw[bad], strict=True)]
            p.error(file, _ids_text(labels[bad]), column,
                    f"{_plural(int(bad.sum()), 'coordinate')} not a number: {_listing(shown)}",
                    _number_hint(raw[bad]))
        if miss.any():
            p.error(file, _ids_text(labels[miss]), column,
                    f"{_plural(int(miss.sum()), 'row')} with no coordinate: "
                    f"{_listing(labels[miss])}", "fill in the coordinates, or remove the rows")
    failed = bool(xbad.any() or ybad.any() or xmiss.any() or ymiss.any())
    if crs.is_geographic:
        out = (np.abs(xs) > 180) | (np.abs(ys) > 90)
        if out.any():
            looks_bng = bool(np.nanmin(np.abs(np.r_[xs[out], ys[out]])) > 1000)
            hint = (f"these look like easting/northing: set {key}.coords.crs: EPSG:27700"
                    if looks_bng else "check lon/lat order or the CRS")
            p.error(file, _ids_text(labels[out]), f"{coords.x}, {coords.y}",
                    f"{_plural(int(out.sum()), 'point')} outside the range of longitude "
                    f"(-180..180) and latitude (-90..90): {_listing(labels[out])}", hint)
            failed = True
    if failed:
        return None
    good = np.isfinite(xs) & np.isfinite(ys)
    geometry = np.full(len(frame), None, dtype=object)
    geometry[good] = shapely.points(xs[good], ys[good])
    return gpd.GeoSeries(geometry, index=frame.index, crs=crs)


def _prepare_geometry(geometry: gpd.GeoSeries, file, key, labels, what: str,
                      p: _Problems) -> gpd.GeoSeries | None:
    """Check, repair and reproject geometry to EPSG:27700; None if it cannot be used."""
    if geometry.crs is None:
        p.error(file, None, f"{key}.path", "the file has no CRS (coordinate reference system)",
                "set it (e.g. add a .prj file beside a shapefile, or save the layer with its "
                "CRS from QGIS), or give point coordinates with a CSV and coords.crs")
        return None
    values = geometry.to_numpy()
    missing = shapely.is_missing(values) | shapely.is_empty(values)
    if missing.all():
        p.error(file, None, f"{key}.path", f"no {what} has a geometry",
                "check it is the right file or layer")
        return None
    if missing.any():
        p.error(file, _ids_text(labels[missing]), "geometry",
                f"{_plural(int(missing.sum()), what)} with an empty or missing geometry: "
                f"{_listing(labels[missing])}", "draw or fill in their shape, or remove them")
    invalid = ~missing & ~shapely.is_valid(values)
    if invalid.any():
        values = values.copy()
        values[invalid] = shapely.make_valid(values[invalid])
        p.warn(file, _ids_text(labels[invalid]), "geometry",
               f"{_plural(int(invalid.sum()), what)} had an invalid geometry (e.g. a "
               f"self-intersection), repaired with make_valid and kept: "
               f"{_listing(labels[invalid])}",
               "check their shapes, or repair them at source (QGIS: Fix geometries)")
    geometry = gpd.GeoSeries(values, index=geometry.index, crs=geometry.crs)
    try:
        projected = geometry.to_crs(BNG)
    except (pyproj.exceptions.CRSError, pyproj.exceptions.ProjError) as err:
        p.error(file, None, f"{key}.path", f"cannot reproject from {geometry.crs} to "
                f"{BNG}: {err}", "save the file in a standard CRS (EPSG:4326 or EPSG:27700)")
        return None
    bounds = shapely.bounds(projected.to_numpy())
    broken = ~missing & ~np.isfinite(bounds).all(axis=1)
    if broken.any():
        p.error(file, _ids_text(labels[broken]), "geometry",
                f"{_plural(int(broken.sum()), what)} cannot be placed in EPSG:27700: "
                f"{_listing(labels[broken])}", "check lon/lat order or the CRS")
        projected = projected.where(~broken, None)
    return projected


def _representative_xy(geometry: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray]:
    """Representative point [m] of each geometry (the point itself for points); NaN if none."""
    values = geometry.to_numpy()
    ok = ~(shapely.is_missing(values) | shapely.is_empty(values))
    xs = np.full(len(values), np.nan)
    ys = np.full(len(values), np.nan)
    if ok.any():
        points = shapely.point_on_surface(values[ok])
        xs[ok] = shapely.get_x(points)
        ys[ok] = shapely.get_y(points)
    return xs, ys


@functools.lru_cache(maxsize=1)
def _to_lonlat() -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(BNG, WGS84, always_xy=True)


def _lonlat(xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """EPSG:27700 [m] -> lon, lat [deg] (NaN stays NaN)."""
    lon = np.full(len(xs), np.nan)
    lat = np.full(len(xs), np.nan)
    known = np.isfinite(xs) & np.isfinite(ys)
    if known.any():
        lon[known], lat[known] = _to_lonlat().transform(xs[known], ys[known])
    return lon, lat


def _warn_outside_gb(xs, ys, labels, file, what, p: _Problems) -> None:
    lon, lat = _lonlat(xs, ys)
    west, south, east, north = GB_LONLAT_BOUNDS
    known = np.isfinite(lon) & np.isfinite(lat)
    outside = known & ((lon < west - 1) | (lon > east + 1) | (lat < south - 1)
                       | (lat > north + 1))
    if outside.any():
        p.warn(file, _ids_text(labels[outside]), "geometry",
               f"{_says(int(outside.sum()), what, 'lies', 'lie')} outside Great Britain, where "
               f"distances in EPSG:27700 are distorted: {_listing(labels[outside])}",
               "check lon/lat order or the CRS")


def _split_geometry(frame: pd.DataFrame, cfg, key: str, what: str, has_table: bool,
                    p: _Problems) -> tuple[pd.DataFrame, Any]:
    """Attributes as a plain frame (file geometry kept in ``__geometry``) and the file's CRS."""
    has_geometry = _has_geometry(frame)
    crs = frame.crs if has_geometry else None
    if cfg.coords is not None and has_geometry:
        p.warn(cfg.path, None, f"{key}.coords", f"the file has its own geometry, but "
               f"{key}.coords is set, so points are made from the coords columns instead",
               f"remove {key}.coords to use the file's {what}")
    if cfg.coords is None and not has_geometry and not has_table:
        p.error(cfg.path, None, f"{key}.coords", f"the {key} file has no geometry and no "
                "coordinates, and there is no travel table",
                f"set {key}.coords: {{x: ..., y: ..., crs: ...}}, use a geodata file, or "
                "give a travel table (travel.path)")
    plain = _plain(frame)
    if has_geometry and cfg.coords is None:
        plain["__geometry"] = frame.geometry.to_numpy()
    return plain, crs


def _geometry_of(frame: pd.DataFrame, cfg, key: str, crs, labels, p: _Problems):
    """The kept rows' geometry in its source CRS; None without any; False if unusable."""
    if cfg.coords is not None:
        geometry = _points_from_coords(frame, cfg.coords, cfg.path, key, labels, p)
        return False if geometry is None else geometry
    if "__geometry" in frame.columns:
        return gpd.GeoSeries(frame["__geometry"].to_numpy(), index=frame.index, crs=crs)
    return None

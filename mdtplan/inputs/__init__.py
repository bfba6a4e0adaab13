"""Loading areas, sites, travel, workforce and the operating model (CONTRACT §3).

:func:`load_inputs` reads every file a scenario names, maps its columns (only as the scenario
says: nothing is guessed), checks them, reprojects geometry to EPSG:27700 and returns a frozen
:class:`Inputs` in canonical form. Every problem found in every file is gathered and raised
once, as one :class:`~mdtplan.errors.InputError`; repairs (a geometry made valid, a polygon site
turned into a point) are kept as warnings in :attr:`Inputs.warnings`, never applied silently.

Formats
-------
GeoPackage (``layer`` names the layer; required when the file has several), GeoJSON, Shapefile
(``.shp``, or a zipped one), FlatGeobuf, GeoParquet (``.parquet``/``.geoparquet``; a plain
Parquet file is read as a table), and CSV/TSV. A table with ``coords: {x, y, crs}`` becomes
points (``EPSG:4326`` lon/lat or ``EPSG:27700`` easting/northing); ``coords`` take precedence over
a file's own geometry. A CSV without coordinates is allowed for areas and sites only when a travel
table is given (the classic OR-Library problems have no geometry).

Rules
-----
* Ids are kept as the source strings (CSV files are read as text, so ``00123`` stays
  ``00123``); whitespace around an id is removed and reported. Integer-valued ids in a numeric
  column of a geodata file are written without a decimal point (``12.0`` -> ``12``).
* CSV cells are text; numbers are parsed per mapped column. Blank cells and ``NA``, ``N/A``,
  ``NaN``, ``null``, ``None``, ``#N/A`` count as missing. ``1,234`` is not a number (the
  message says to remove thousands separators).
* ``where: {column: [values]}`` keeps rows whose column holds one of the values. Values compare
  by meaning across types: ``true`` matches a boolean column, and the text ``True``/``true``;
  ``5`` matches ``5``, ``5.0`` and the text ``"5"``; text matches text exactly (case-sensitive,
  after trimming spaces); ``null`` matches a blank cell. Filters on columns of the main file are
  applied before joins, the rest after joins. Several columns must all match. Rows removed by
  ``where`` are not checked further.
* ``areas.tables`` are joined on the id (left join). A column already present in the main file
  (or an earlier table) is taken from there; the later table's copy is ignored. A joined table's
  geometry is ignored. Every kept area must match a row of every joined table; ids of a joined
  table that match no kept area are reported once, as a warning.
* Site ``status``: ``candidate`` | ``existing`` | ``required`` | ``excluded``, case-insensitive;
  a blank status means ``candidate``. ``fixed_cost``/``opening_cost`` must be given for every site
  that is not excluded (write 0; an excluded site's blank reads as 0); a blank
  ``capacity``/``capacity_fte`` means no limit (reported as a warning).
* Pools: the single pool of ``pools.by: single`` is named :data:`SINGLE_POOL`; with
  ``pools.by: area_group`` the pool names are the keys of ``pools.groups``, or else the group
  values; with ``pools.by: site`` the sites' ``pool`` values. A workforce ``unit`` is a site id
  or one of these pool names.
"""

from __future__ import annotations

import difflib
import functools
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from pyarrow import ArrowException

from ..errors import InputError, Problem

if TYPE_CHECKING:
    from ..operating_model import OperatingModel
    from ..scenario import AreasConfig, Coordinates, Scenario, SitesConfig, TravelConfig

BNG = "EPSG:27700"
WGS84 = "EPSG:4326"
SITE_STATUSES = ("candidate", "existing", "required", "excluded")
CONTRACTS = ("permanent", "agency", "vacant")
SINGLE_POOL = "all"
FAR_OUTSIDE_M = 50_000.0
"""Sites further than this outside the areas' bounding box (EPSG:27700) are errors [m]."""
MAX_LISTED = 10
"""How many ids a message lists before saying how many more there are."""

GEO_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp", ".zip", ".fgb")
PARQUET_SUFFIXES = (".parquet", ".geoparquet")
CSV_SUFFIXES = (".csv", ".tsv", ".txt")
NA_TEXT = ("", "NA", "N/A", "n/a", "NaN", "nan", "null", "NULL", "None", "#N/A")
GB_LONLAT_BOUNDS = (-9.01, 49.75, 2.01, 61.01)
"""EPSG:27700's area of use (west, south, east, north) [deg]."""
RESERVED_COLUMNS = ("population", "name", "group", "deprivation", "x", "y", "geometry",
                    "lon", "lat")

_READ_ERRORS = (OSError, ValueError, RuntimeError, UnicodeError, ArrowException)


@dataclass(frozen=True)
class Inputs:
    """Everything a scenario names, loaded, checked and put in canonical form.

    Attributes
    ----------
    scenario : Scenario
        The scenario the inputs were loaded for (paths absolute).
    operating_model : OperatingModel or None
        ``None`` for scenarios without roles (the classic location problems).
    areas : geopandas.GeoDataFrame
        Index ``area_id`` (the source id strings, unique). Columns: one float column per
        population band, named by the band (``age_18_64`` …, or ``all``); ``population``
        (the ``areas.headcount`` column where mapped, else the bands' sum) [people];
        ``name`` (str; the id where unmapped); ``group`` (str or <NA>);
        ``deprivation`` (float or NaN); ``demand_override__<role>`` (float hours/year, NaN = no
        override) for each mapped override; ``x``, ``y``: representative point in EPSG:27700 [m]
        (NaN when the file has no geometry); ``geometry`` in EPSG:27700 (may be all-None for a
        CSV without coordinates when a travel table is given).
    sites : geopandas.GeoDataFrame
        Index ``site_id`` (str, unique). Columns: ``name`` (str), ``kind`` (str or <NA>),
        ``status`` (``candidate`` | ``existing`` | ``required`` | ``excluded``),
        ``fixed_cost_gbp`` [GBP/year, 0 if unmapped], ``opening_cost_gbp`` [GBP/year, 0],
        ``capacity`` [population/demand units, NaN = none], ``capacity_fte`` [FTE, NaN = none],
        ``pool`` (str or <NA>), ``x``, ``y`` [m, EPSG:27700], ``lon``, ``lat`` [deg, EPSG:4326],
        ``geometry`` (points, EPSG:27700; None without coordinates).
    travel : pandas.DataFrame or None
        The user's travel table: ``area_id``, ``site_id`` (str), ``travel_cost`` (float, in
        ``scenario.travel.unit``). ``None`` when travel is straight-line.
    workforce : pandas.DataFrame or None
        ``unit`` (site id or pool name, str), ``role`` (str), ``fte`` (float),
        ``contract`` (``permanent`` | ``agency`` | ``vacant``).
    warnings : tuple of Problem
        Repairs and oddities reported, never silently applied (e.g. geometry made valid).

    Notes
    -----
    String columns use pandas' default ``str`` dtype, whose missing value is NaN (shown as
    <NA> above): test with ``isna()``.
    """

    scenario: Scenario
    operating_model: OperatingModel | None
    areas: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    travel: pd.DataFrame | None = None
    workforce: pd.DataFrame | None = None
    warnings: tuple[Problem, ...] = field(default_factory=tuple)


# --------------------------------------------------------------------------------------------
# Small helpers


class _Problems:
    """Gathers errors and warnings while loading."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def error(self, file, row, column, message, hint=None) -> None:
        self.items.append(Problem(_s(file), _s(row), _s(column), message, hint, "error"))

    def warn(self, file, row, column, message, hint=None) -> None:
        self.items.append(Problem(_s(file), _s(row), _s(column), message, hint, "warning"))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.items if p.severity != "error"]


def _s(value) -> str | None:
    return None if value is None else str(value)


def _listing(items, limit: int = MAX_LISTED) -> str:
    """``a, b, c`` or ``a, b, … and 12 more (22 in all)``."""
    items = [str(i) for i in items]
    head = ", ".join(items[:limit])
    if len(items) > limit:
        head += f", … and {len(items) - limit} more ({len(items)} in all)"
    return head


def _rows_text(rows) -> str:
    """Row field for a Problem: ``7``, ``rows 3 and 7``, or ``rows 3, 7 and 4 more``."""
    rows = [int(r) for r in rows]
    if len(rows) == 1:
        return str(rows[0])
    if len(rows) == 2:
        return f"rows {rows[0]} and {rows[1]}"
    return f"rows {rows[0]}, {rows[1]} and {len(rows) - 2} more"


def _ids_text(ids) -> str:
    """Row field for a Problem about some ids: ``E1``, or ``E1 and 4 more`` (the message lists
    them)."""
    ids = [str(i) for i in ids]
    return ids[0] if len(ids) == 1 else f"{ids[0]} and {len(ids) - 1} more"


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _says(n: int, word: str, verb: str, verb_plural: str) -> str:
    """``1 id appears`` / ``2 ids appear``."""
    return f"{_plural(n, word)} {verb if n == 1 else verb_plural}"


def _blank(series: pd.Series) -> pd.Series:
    """True where a cell is missing or blank text."""
    missing = series.isna()
    if pd.api.types.is_string_dtype(series) or series.dtype == object:
        text = series.astype("str").str.strip()
        missing = missing | text.isin(NA_TEXT)
    return missing


def _id_strings(series: pd.Series) -> tuple[pd.Series, int]:
    """Ids as trimmed strings (NaN where blank) and the number of ids that were trimmed."""
    if pd.api.types.is_bool_dtype(series):
        text = series.astype("str")
    elif pd.api.types.is_integer_dtype(series):
        text = series.astype("str")
    elif pd.api.types.is_float_dtype(series):
        values = series.to_numpy(dtype=float)
        integral = np.isfinite(values) & (np.mod(values, 1.0) == 0) & (np.abs(values) < 2**53)
        text = series.astype("str")
        if integral.any():
            as_int = pd.Series(values[integral].astype(np.int64), index=series.index[integral])
            text = text.copy()
            text.loc[integral] = as_int.astype("str")
        text = text.where(np.isfinite(values))
    else:
        text = series.astype("str")
    stripped = text.str.strip()
    trimmed = int(((stripped != text) & text.notna()).sum())
    stripped = stripped.where(stripped.notna() & (stripped != ""))
    return stripped.astype("str"), trimmed


def _to_number(series: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse a column as numbers.

    Returns
    -------
    values : ndarray of float
        NaN where missing or not a number.
    missing : ndarray of bool
        Blank or NA cells.
    bad : ndarray of bool
        Cells holding something that is not a finite number (text, true/false, inf).
    """
    n = len(series)
    if pd.api.types.is_bool_dtype(series):
        missing = series.isna().to_numpy()
        return np.full(n, np.nan), missing, ~missing
    if pd.api.types.is_numeric_dtype(series):
        values = series.to_numpy(dtype=float, na_value=np.nan)
        missing = np.isnan(values)
        bad = ~missing & ~np.isfinite(values)
        return np.where(bad, np.nan, values), missing, bad
    text = series.astype("str").str.strip()
    missing = (text.isna() | text.isin(NA_TEXT)).to_numpy()
    parsed = pd.to_numeric(text.where(~missing), errors="coerce").to_numpy(dtype=float,
                                                                          na_value=np.nan)
    bad = ~missing & ~np.isfinite(parsed)
    return np.where(bad, np.nan, parsed), missing, bad


_THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d*)?$")


def _number_hint(bad_values) -> str:
    if any(_THOUSANDS.match(str(v).strip()) for v in bad_values):
        return "write plain numbers without thousands separators (1234, not 1,234)"
    return "write a plain number in each cell (e.g. 1234 or 12.5)"


def _show(value) -> str:
    text = str(value)
    return repr(text[:40] + "…") if len(text) > 40 else repr(text)


def _missing_column(p: _Problems, file, key: str, column: str, present, *,
                    extra_files=()) -> None:
    """Report a mapped column absent from the file, with the nearest names present."""
    present = [c for c in present if not str(c).startswith("__")]
    same_case = [c for c in present if c.lower() == column.lower() and c != column]
    close = difflib.get_close_matches(column, present, n=3, cutoff=0.6)
    suggestions = same_case + [c for c in close if c not in same_case]
    where = "the file" if not extra_files else "the file or its joined tables"
    if len(present) == 1 and any(sep in present[0] for sep in (";", "\t", "|")):
        hint = ("the file seems to use another separator than commas; save it as "
                "comma-separated CSV")
    elif suggestions:
        hint = (f"did you mean {' or '.join(repr(s) for s in suggestions)}? "
                f"Set {key} to the column's exact name")
    else:
        hint = f"set {key} to one of the columns present: {_listing(present, 20)}"
    p.error(file, None, key, f"column '{column}' (scenario key {key}) is not in {where}", hint)


def _where_mask(series: pd.Series, values: list[Any]) -> np.ndarray:
    """Rows whose value is one of ``values``, compared by meaning across types."""
    bools: set[bool] = set()
    nums: set[float] = set()
    texts: set[str] = set()
    want_null = False
    for v in values:
        if v is None:
            want_null = True
        elif isinstance(v, bool):
            bools.add(v)
        elif isinstance(v, (int, float)):
            if math.isfinite(v):
                nums.add(float(v))
        else:
            t = str(v).strip()
            texts.add(t)
            if t.lower() in ("true", "false"):
                bools.add(t.lower() == "true")
            else:
                try:
                    number = float(t)
                except ValueError:
                    pass
                else:
                    if math.isfinite(number):
                        nums.add(number)
    blank = _blank(series).to_numpy()
    mask = blank & want_null
    if pd.api.types.is_bool_dtype(series):
        return mask | series.isin(list(bools)).to_numpy()
    if pd.api.types.is_numeric_dtype(series):
        values_f = series.to_numpy(dtype=float, na_value=np.nan)
        return mask | np.isin(values_f, list(nums))
    text = series.astype("str").str.strip()
    hit = text.isin(list(texts)).to_numpy(dtype=bool, na_value=False)
    if bools:
        lower = text.str.lower()
        as_bool = (lower.isin(["true"] if True in bools else [])
                   | lower.isin(["false"] if False in bools else []))
        hit = hit | as_bool.to_numpy(dtype=bool, na_value=False)
    if nums:
        parsed = pd.to_numeric(text.where(~blank), errors="coerce")
        hit = hit | np.isin(parsed.to_numpy(dtype=float, na_value=np.nan), list(nums))
    return mask | (hit & ~blank)


# --------------------------------------------------------------------------------------------
# Reading files


def _read_file(path: str, layer: str | None, key: str, p: _Problems) -> pd.DataFrame | None:
    """Read any supported file into a (Geo)DataFrame; report and return None on failure."""
    file = path
    pth = Path(path)
    if not pth.exists():
        p.error(file, None, f"{key}.path", "file not found",
                "check the path; relative paths resolve against the scenario file's folder")
        return None
    if pth.is_dir():
        p.error(file, None, f"{key}.path", "this is a folder, not a file",
                "name the data file itself (e.g. areas.gpkg)")
        return None
    if pth.stat().st_size == 0:
        p.error(file, None, f"{key}.path", "the file is empty", "export the data again")
        return None
    suffix = pth.suffix.lower()
    try:
        if suffix in CSV_SUFFIXES:
            if layer is not None:
                p.warn(file, None, f"{key}.layer", f"a {suffix} file has no layers, so "
                       f"layer '{layer}' is ignored", "remove the layer key")
            frame = _read_csv(pth, p)
        elif suffix in PARQUET_SUFFIXES:
            frame = _read_parquet(pth)
        elif suffix in GEO_SUFFIXES:
            frame = _read_geo(pth, layer, key, p)
        else:
            p.error(file, None, f"{key}.path", f"unsupported file type '{suffix or pth.name}'",
                    "use a GeoPackage (.gpkg), GeoJSON (.geojson), Shapefile (.shp), "
                    "GeoParquet (.parquet) or CSV (.csv) file")
            return None
    except _READ_ERRORS as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        hint = "check that the file is complete and of the type its extension says"
        if "Expected" in first and "fields" in first:
            hint = ("every line must have as many fields as the header; quote values that "
                    "contain commas")
        p.error(file, None, f"{key}.path", f"cannot read the file: {first}", hint)
        return None
    if frame is None:
        return None
    frame.columns = [str(c) for c in frame.columns]
    if len(frame) == 0:
        p.error(file, None, f"{key}.path", "the file has no data rows",
                "check it is the right file, and that it was exported with its rows")
        return None
    return frame


def _read_csv(path: Path, p: _Problems) -> pd.DataFrame | None:
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    options = dict(dtype=str, keep_default_na=False, sep=sep)
    try:
        frame = pd.read_csv(path, encoding="utf-8-sig", **options)
    except UnicodeDecodeError:
        frame = pd.read_csv(path, encoding="cp1252", **options)
        p.warn(str(path), None, None, "the file is not UTF-8; it was read as Windows-1252 "
               "(Excel's default)", "save it as 'CSV UTF-8' to be sure of accented names")
    except pd.errors.EmptyDataError:
        p.error(str(path), None, None, "the file is empty (no header line)",
                "export the data again, with a header line of column names")
        return None
    stripped = [str(c).strip() for c in frame.columns]
    repeated = sorted({c for c in stripped if stripped.count(c) > 1})
    if repeated:
        p.error(str(path), None, None, f"column names repeat: {_listing(repeated)}",
                "give each column a distinct name")
        return None
    frame.columns = stripped
    return frame


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    metadata = pq.read_schema(path).metadata or {}
    if b"geo" in metadata:
        return gpd.read_parquet(path)
    return pd.read_parquet(path)


def _read_geo(path: Path, layer: str | None, key: str, p: _Problems) -> pd.DataFrame | None:
    import pyogrio

    layers = [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    if layer is not None and layer not in layers:
        p.error(str(path), None, f"{key}.layer", f"there is no layer '{layer}' in the file",
                f"the layers are: {_listing(layers)}")
        return None
    if layer is None and len(layers) > 1:
        p.error(str(path), None, f"{key}.layer",
                f"the file has {len(layers)} layers, so say which one to read",
                f"set {key}.layer to one of: {_listing(layers)}")
        return None
    if not layers:
        p.error(str(path), None, f"{key}.path", "the file has no layers",
                "export the data again")
        return None
    return pyogrio.read_dataframe(path, layer=layer if layer is not None else layers[0])


def _has_geometry(frame: pd.DataFrame) -> bool:
    return isinstance(frame, gpd.GeoDataFrame) and frame._geometry_column_name in frame.columns


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """The attribute columns of a (Geo)DataFrame, as a plain DataFrame."""
    if _has_geometry(frame):
        return pd.DataFrame(frame.drop(columns=frame._geometry_column_name))
    return pd.DataFrame(frame)


# --------------------------------------------------------------------------------------------
# Geometry


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


# --------------------------------------------------------------------------------------------
# Shared steps for areas and sites


def _read_main(cfg, key: str, p: _Problems) -> tuple[pd.DataFrame, set[str]] | None:
    frame = _read_file(cfg.path, cfg.layer, key, p)
    if frame is None:
        return None
    if cfg.id not in frame.columns:
        _missing_column(p, cfg.path, f"{key}.id", cfg.id, frame.columns)
        return None
    ids, trimmed = _id_strings(frame[cfg.id])
    if trimmed:
        p.warn(cfg.path, None, cfg.id, f"{_plural(trimmed, 'id')} had spaces around them, "
               "which were removed", "remove the spaces at source")
    frame = frame.copy()
    frame["__id"] = ids.to_numpy()
    frame["__row"] = np.arange(1, len(frame) + 1)
    return frame, set(ids.dropna())


def _apply_where(frame: pd.DataFrame, where: dict, key: str, file, p: _Problems,
                 ) -> pd.DataFrame:
    for column, values in where.items():
        mask = _where_mask(frame[column], values)
        if not mask.any():
            present = pd.unique(frame[column].astype("str").dropna())
            p.error(file, None, f"{key}.where.{column}",
                    f"where {column} in {values!r} keeps no rows",
                    f"the values in '{column}' include: {_listing(present)}")
            return frame.iloc[0:0]
        frame = frame.loc[mask]
    return frame


def _labels(frame: pd.DataFrame) -> np.ndarray:
    """Id of each row, or ``row N`` where the id is blank."""
    ids = frame["__id"].astype(object)
    rows = "row " + frame["__row"].astype("str")
    return ids.where(ids.notna(), rows).to_numpy(dtype=object)


def _check_ids(frame: pd.DataFrame, id_column: str, file, what: str, p: _Problems) -> None:
    blank = frame["__id"].isna().to_numpy()
    if blank.any():
        rows = frame["__row"].to_numpy()[blank]
        p.error(file, _rows_text(rows), id_column,
                f"{_plural(int(blank.sum()), what)} with a blank id (data "
                f"{'row' if len(rows) == 1 else 'rows'} {_listing(rows)}, counting from 1 "
                "below the header)",
                "give every row an id, or remove the rows")
    ids = frame["__id"]
    dup = ids.duplicated(keep=False).to_numpy() & ~blank
    if dup.any():
        repeated = pd.unique(ids[dup])
        p.error(file, _ids_text(repeated), id_column,
                f"{_says(len(repeated), 'id', 'appears', 'appear')} more than once: "
                f"{_listing(repeated)}",
                f"each {what} must have one row; remove or merge the repeats")


def _column_values(frame, column: str | None, key: str, file, p, *, what, labels,
                   required: bool, allow_negative: bool = False, default=np.nan,
                   extra_files=(), skip=None) -> np.ndarray | None:
    """A mapped numeric column as floats, reporting non-numbers, blanks and negatives.

    ``skip`` marks rows whose blanks are already explained (an area missing from a join).
    """
    if column is None:
        return np.full(len(frame), default, dtype=float)
    if column not in frame.columns:
        _missing_column(p, file, key, column, frame.columns, extra_files=extra_files)
        return None
    raw = frame[column]
    values, missing, bad = _to_number(raw)
    if bad.any():
        shown = [f"{lab}={_show(v)}" for lab, v in zip(labels[bad], raw[bad], strict=True)]
        p.error(file, _ids_text(labels[bad]), column,
                f"{_plural(int(bad.sum()), what)} with a value that is not a number "
                f"({key}): {_listing(shown)}", _number_hint(raw[bad]))
    if skip is not None:
        missing = missing & ~skip
    if required and missing.any():
        p.error(file, _ids_text(labels[missing]), column,
                f"{_plural(int(missing.sum()), what)} with no value ({key}): "
                f"{_listing(labels[missing])}",
                "fill in every cell (write 0 where the value is zero)")
    if not allow_negative:
        negative = values < 0
        if negative.any():
            shown = [f"{lab}={v:g}" for lab, v in zip(labels[negative], values[negative],
                                                     strict=True)]
            p.error(file, _ids_text(labels[negative]), column,
                    f"{_plural(int(negative.sum()), what)} with a negative value ({key}): "
                    f"{_listing(shown)}", "values must be 0 or more; fix the source data")
    return values


def _text_values(frame, column: str | None, key: str, file, p, *, extra_files=(),
                 ) -> pd.Series | None:
    """A mapped text column, trimmed, NaN where blank; None if the column is missing."""
    if column is None:
        return pd.Series(np.nan, index=frame.index, dtype="str")
    if column not in frame.columns:
        _missing_column(p, file, key, column, frame.columns, extra_files=extra_files)
        return None
    raw = frame[column]
    text = raw.astype("str").str.strip()
    return text.where(~_blank(raw) & (text != "")).astype("str")


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


# --------------------------------------------------------------------------------------------
# Areas


def _used_bands(om: OperatingModel) -> set[str]:
    used: set[str] = set()
    for group in om.demand.client_groups:
        used.update(group.rate_per_1000)
    return used


def _join_tables(frame: pd.DataFrame, cfg: AreasConfig, p: _Problems,
                 ) -> tuple[pd.DataFrame, list[tuple[int, str, pd.Series]], bool]:
    """Left-join each of ``areas.tables`` on the id.

    Columns already present are kept from the earlier table. Returns the joined frame (with a
    ``__in<i>`` marker per table), each table's ids, and whether any table could not be read.
    """
    incomplete = False
    joined: list[tuple[int, str, pd.Series]] = []
    for i, table in enumerate(cfg.tables):
        key = f"areas.tables.{i}"
        right = _read_file(table.path, table.layer, key, p)
        if right is None:
            incomplete = True
            continue
        right = _plain(right)
        if table.id not in right.columns:
            _missing_column(p, table.path, f"{key}.id", table.id, right.columns)
            incomplete = True
            continue
        ids, trimmed = _id_strings(right[table.id])
        if trimmed:
            p.warn(table.path, None, table.id, f"{_plural(trimmed, 'id')} had spaces around "
                   "them, which were removed", "remove the spaces at source")
        blank = ids.isna().to_numpy()
        if blank.any():
            rows = np.flatnonzero(blank) + 1
            p.warn(table.path, _rows_text(rows), table.id,
                   f"{_plural(int(blank.sum()), 'row')} with a blank id cannot join to any "
                   f"area and {'is' if blank.sum() == 1 else 'are'} ignored (data "
                   f"{'row' if len(rows) == 1 else 'rows'} {_listing(rows)})",
                   "give them ids, or remove them (e.g. a totals row)")
        dup = ids.duplicated(keep=False).to_numpy() & ~blank
        if dup.any():
            repeated = pd.unique(ids[dup])
            p.error(table.path, _ids_text(repeated), table.id,
                    f"{_says(len(repeated), 'id', 'appears', 'appear')} more than once in this "
                    f"joined table, so the join would be ambiguous: {_listing(repeated)}",
                    "keep one row per id")
        keep = ~blank & ~ids.duplicated().to_numpy()
        new_columns = [c for c in right.columns if c not in frame.columns]
        addition = right.loc[keep, new_columns].copy()
        addition["__id"] = ids.to_numpy()[keep]
        addition[f"__in{i}"] = True
        frame = frame.merge(addition, on="__id", how="left")
        joined.append((i, table.path, addition["__id"]))

    return frame, joined, incomplete


def _load_areas(cfg: AreasConfig, om: OperatingModel | None, has_table: bool,
                p: _Problems) -> tuple[gpd.GeoDataFrame, set[str]] | None:
    file = cfg.path
    read = _read_main(cfg, "areas", p)
    if read is None:
        return None
    frame, raw_ids = read
    frame, geometry_crs = _split_geometry(frame, cfg, "areas", "shapes", has_table, p)
    where = dict(cfg.where or {})
    first = {k: v for k, v in where.items() if k in frame.columns}
    frame = _apply_where(frame, first, "areas", file, p)
    if frame.empty:
        return None

    frame, joined, incomplete = _join_tables(frame, cfg, p)

    later = {k: v for k, v in where.items() if k not in first}
    for column in list(later):
        if column not in frame.columns:
            later.pop(column)
            if not incomplete:
                _missing_column(p, file, f"areas.where.{column}", column, frame.columns,
                                extra_files=cfg.tables)
    frame = _apply_where(frame, later, "areas", file, p)
    if frame.empty:
        return None

    labels = _labels(frame)
    _check_ids(frame, cfg.id, file, "area", p)
    final_ids = set(frame["__id"].dropna())
    unjoined = np.zeros(len(frame), dtype=bool)
    for i, path, right_ids in joined:
        missed = (frame[f"__in{i}"].isna() & frame["__id"].notna()).to_numpy()
        unjoined |= missed
        if missed.any():
            p.error(path, _ids_text(labels[missed]), cfg.tables[i].id,
                    f"{_plural(int(missed.sum()), 'area')} of {Path(file).name} "
                    f"{'has' if missed.sum() == 1 else 'have'} no row in "
                    f"this joined table: {_listing(labels[missed])}",
                    "add their rows, use the table of the same geography and year, or filter "
                    "the areas with areas.where")
        extra = [v for v in pd.unique(right_ids) if v not in final_ids]
        if extra:
            verb = "matches no kept area and is" if len(extra) == 1 else \
                "match no kept area and are"
            p.warn(path, None, cfg.tables[i].id,
                   f"{_plural(len(extra), 'id')} of this joined table {verb} not used: "
                   f"{_listing(extra)}",
                   "normal when a wider (e.g. national) table is joined to some areas")

    extra_files = tuple(cfg.tables)
    if incomplete:
        # a joined table could not be read: its columns are unknown, so do not report them
        def present(column):
            return column is None or column in frame.columns
    else:
        def present(column):
            return True

    # population bands
    bands = cfg.population_columns()
    ok = True
    for band in bands:
        if band in RESERVED_COLUMNS or band.startswith("demand_override__"):
            p.error(None, None, f"areas.population.{band}", f"'{band}' cannot name a "
                    "population band (it is a canonical column name)",
                    "name bands after the operating model's age_bands, e.g. age_85_plus")
            ok = False
    if om is not None:
        missing_bands = sorted(_used_bands(om) - set(bands))
        for band in missing_bands:
            p.error(None, None, "areas.population",
                    f"the operating model '{om.name}' has demand rates for age band '{band}', "
                    "but areas.population does not map it to a column",
                    f"add '{band}: <column>' under areas.population")
        unused = sorted(set(bands) - _used_bands(om))
        if unused:
            shown = _listing([f"'{band}'" for band in unused])
            p.warn(None, None, "areas.population",
                   f"population bands {shown} are mapped but the operating model '{om.name}' "
                   "has no demand rate for them: they count in hub population but generate no "
                   "demand", "remove them from areas.population if that is not meant")
    population: dict[str, np.ndarray] = {}
    for band, column in bands.items():
        key = "areas.population" if band == "all" and isinstance(cfg.population, str) \
            else f"areas.population.{band}"
        if not present(column):
            ok = False
            continue
        values = _column_values(frame, column, key, file, p, what="area", labels=labels,
                                required=True, extra_files=extra_files, skip=unjoined)
        if values is None:
            ok = False
        else:
            population[band] = values

    headcount = None
    if cfg.headcount is not None and present(cfg.headcount):
        headcount = _column_values(frame, cfg.headcount, "areas.headcount", file, p,
                                   what="area", labels=labels, required=True,
                                   extra_files=extra_files, skip=unjoined)
        if headcount is None:
            ok = False
    elif cfg.headcount is not None:
        ok = False

    name = _text_values(frame, cfg.name, "areas.name", file, p, extra_files=extra_files) \
        if present(cfg.name) else None
    group = _text_values(frame, cfg.group, "areas.group", file, p, extra_files=extra_files) \
        if present(cfg.group) else None
    deprivation = None
    if present(cfg.deprivation):
        deprivation = _column_values(frame, cfg.deprivation, "areas.deprivation", file, p,
                                     what="area", labels=labels, required=False,
                                     allow_negative=True, extra_files=extra_files)
        if cfg.deprivation is not None and deprivation is not None:
            blank = np.isnan(deprivation) & ~_to_number(frame[cfg.deprivation])[2]
            if blank.any():
                p.warn(file, _ids_text(labels[blank]), cfg.deprivation,
                       f"{_says(int(blank.sum()), 'area', 'has', 'have')} no deprivation "
                       "score, so demand there is not adjusted for deprivation: "
                       f"{_listing(labels[blank])}",
                       "fill in the scores if they exist")
    overrides: dict[str, np.ndarray] = {}
    roles = {r.id for r in om.roles} if om is not None else set()
    for role, column in (cfg.demand_override or {}).items():
        key = f"areas.demand_override.{role}"
        if role not in roles:
            p.error(None, None, key, f"demand_override names role '{role}', which is not a "
                    "role of the operating model" if om is not None else
                    f"demand_override names role '{role}', but the scenario has no "
                    "operating model", f"use one of the roles: {_listing(sorted(roles))}"
                    if roles else "set operating_model, or remove areas.demand_override")
            ok = False
            continue
        if not present(column):
            continue
        values = _column_values(frame, column, key, file, p, what="area", labels=labels,
                                required=False, extra_files=extra_files)
        if values is not None:
            overrides[role] = values

    if not ok or name is None or group is None or deprivation is None:
        return None

    # geometry
    xs = np.full(len(frame), np.nan)
    ys = np.full(len(frame), np.nan)
    projected = None
    geometry = _geometry_of(frame, cfg, "areas", geometry_crs, labels, p)
    if geometry is False:
        return None
    if geometry is not None:
        projected = _prepare_geometry(geometry, file, "areas", labels, "area", p)
        if projected is None:
            return None
        xs, ys = _representative_xy(projected)
        _warn_outside_gb(xs, ys, labels, file, "area", p)

    ids = frame["__id"].to_numpy(dtype=object)
    out = pd.DataFrame(index=pd.Index(ids, name="area_id", dtype="str"))
    for band, values in population.items():
        out[band] = values
    out["population"] = np.sum(np.vstack(list(population.values())), axis=0) \
        if population else 0.0
    if headcount is not None:
        out["population"] = headcount
    name_values = name.to_numpy(dtype=object)
    blank_names = pd.isna(name_values)
    if cfg.name is not None and blank_names.any():
        p.warn(file, _ids_text(labels[blank_names]), cfg.name,
               f"{_says(int(blank_names.sum()), 'area', 'has', 'have')} no name, so the id "
               f"is used: {_listing(labels[blank_names])}", None)
    out["name"] = pd.array(np.where(blank_names, ids, name_values), dtype="str")
    out["group"] = pd.array(group.to_numpy(dtype=object), dtype="str")
    out["deprivation"] = deprivation
    for role, values in overrides.items():
        out[f"demand_override__{role}"] = values
    out["x"] = xs
    out["y"] = ys
    geoms = projected.to_numpy() if projected is not None else [None] * len(out)
    areas = gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geoms, index=out.index, crs=BNG),
                             crs=BNG)
    return areas, raw_ids


# --------------------------------------------------------------------------------------------
# Sites


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


# --------------------------------------------------------------------------------------------
# Pools, travel table, workforce


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


def _load_travel_table(cfg: TravelConfig, areas, area_raw_ids, sites, site_raw_ids,
                       p: _Problems) -> pd.DataFrame | None:
    file = cfg.path
    frame = _read_file(file, None, "travel", p)
    if frame is None:
        return None
    frame = _plain(frame)
    ok = True
    for key, column in (("travel.area_id", cfg.area_id), ("travel.site_id", cfg.site_id),
                        ("travel.cost", cfg.cost)):
        if column not in frame.columns:
            _missing_column(p, file, key, column, frame.columns)
            ok = False
    if not ok:
        return None
    rows = np.arange(1, len(frame) + 1)
    labels = np.array([f"row {r}" for r in rows], dtype=object) if len(rows) <= 50_000 else \
        ("row " + pd.Series(rows).astype("str")).to_numpy(dtype=object)
    area_ids, _ = _id_strings(frame[cfg.area_id])
    site_ids, _ = _id_strings(frame[cfg.site_id])
    for column, ids in ((cfg.area_id, area_ids), (cfg.site_id, site_ids)):
        blank = ids.isna().to_numpy()
        if blank.any():
            p.error(file, _rows_text(rows[blank]), column,
                    f"{_plural(int(blank.sum()), 'row')} with a blank id: data rows "
                    f"{_listing(rows[blank])}", "fill in the id, or remove the rows")
    cost = _column_values(frame, cfg.cost, "travel.cost", file, p, what="row", labels=labels,
                          required=True)
    keep = area_ids.notna().to_numpy() & site_ids.notna().to_numpy()
    for what, column, ids, kept, raw in (
        ("area", cfg.area_id, area_ids, areas, area_raw_ids),
        ("site", cfg.site_id, site_ids, sites, site_raw_ids),
    ):
        if kept is None:
            continue
        known = ids.isin(kept.index).to_numpy()
        in_file = ids.isin(raw).to_numpy()
        unknown = ~in_file & ids.notna().to_numpy()
        if unknown.any():
            names = pd.unique(ids[unknown])
            p.error(file, _ids_text(names), column,
                    f"{_says(int(unknown.sum()), 'row', 'names', 'name')} "
                    f"{_says(len(names), what, 'that is', 'that are')} not in the {what}s "
                    f"file: {_listing(names)}",
                    f"use the {what} ids of the {what}s file (same geography and year)")
        filtered = in_file & ~known
        if filtered.any():
            names = pd.unique(ids[filtered])
            p.warn(file, None, column,
                   f"{_says(int(filtered.sum()), 'row', 'names', 'name')} "
                   f"{_plural(len(names), what)} "
                   f"removed by {what}s.where (or not kept); those rows are not used: "
                   f"{_listing(names)}", None)
        keep &= known
    pairs = pd.DataFrame({"area_id": area_ids.to_numpy(), "site_id": site_ids.to_numpy()})
    dup = pairs.duplicated(keep=False).to_numpy() & pairs.notna().all(axis=1).to_numpy()
    if dup.any():
        repeated = pairs.loc[dup].drop_duplicates()
        shown = [f"({a}, {s})" for a, s in zip(repeated["area_id"], repeated["site_id"],
                                               strict=True)]
        p.error(file, _rows_text(rows[dup]), f"{cfg.area_id}, {cfg.site_id}",
                f"{_says(len(repeated), 'area-site pair', 'appears', 'appear')} more than once: "
                f"{_listing(shown)}", "keep one travel cost per pair")
    if cost is None:
        return None
    table = pd.DataFrame({
        "area_id": pd.array(area_ids.to_numpy()[keep], dtype="str"),
        "site_id": pd.array(site_ids.to_numpy()[keep], dtype="str"),
        "travel_cost": cost[keep].astype(float),
    })
    return table


def _load_workforce(scenario: Scenario, om: OperatingModel | None, areas, sites,
                    p: _Problems) -> pd.DataFrame | None:
    cfg = scenario.workforce
    file = cfg.path
    frame = _read_file(file, None, "workforce", p)
    if frame is None:
        return None
    frame = _plain(frame)
    ok = True
    for key, column in (("workforce.unit", cfg.unit), ("workforce.role", cfg.role),
                        ("workforce.fte", cfg.fte), ("workforce.contract", cfg.contract)):
        if column not in frame.columns:
            _missing_column(p, file, key, column, frame.columns)
            ok = False
    if not ok:
        return None
    rows = np.arange(1, len(frame) + 1)
    labels = np.array([f"row {r}" for r in rows], dtype=object)
    unit, _ = _id_strings(frame[cfg.unit])
    role = _text_values(frame, cfg.role, "workforce.role", file, p)
    contract = _text_values(frame, cfg.contract, "workforce.contract", file, p).str.lower()
    fte = _column_values(frame, cfg.fte, "workforce.fte", file, p, what="row", labels=labels,
                         required=True)
    for column, values, what in ((cfg.unit, unit, "unit"), (cfg.role, role, "role"),
                                 (cfg.contract, contract, "contract")):
        blank = values.isna().to_numpy()
        if blank.any():
            p.error(file, _rows_text(rows[blank]), column,
                    f"{_plural(int(blank.sum()), 'row')} with no {what}: data rows "
                    f"{_listing(rows[blank])}", "fill in every cell, or remove the rows")
    roles = [r.id for r in om.roles] if om is not None else []
    bad_role = role.notna().to_numpy() & ~role.isin(roles).to_numpy()
    if bad_role.any():
        names = pd.unique(role[bad_role])
        p.error(file, _rows_text(rows[bad_role]), cfg.role,
                f"{_plural(len(names), 'role')} not in the operating model: {_listing(names)}",
                f"use the operating model's role ids: {_listing(roles)}" if roles else
                "the scenario has no operating_model, so it has no roles; set one")
    bad_contract = contract.notna().to_numpy() & ~contract.isin(CONTRACTS).to_numpy()
    if bad_contract.any():
        shown = [f"row {r}={_show(v)}" for r, v in
                 zip(rows[bad_contract], frame[cfg.contract].to_numpy()[bad_contract],
                     strict=True)]
        p.error(file, _rows_text(rows[bad_contract]), cfg.contract,
                f"{_plural(int(bad_contract.sum()), 'row')} with an unknown contract: "
                f"{_listing(shown)}", f"use one of {', '.join(CONTRACTS)}")
    if sites is not None and (areas is not None or om is None or om.pools.by != "area_group"):
        units = set(sites.index) | set(pool_names(om, areas, sites))
        bad_unit = unit.notna().to_numpy() & ~unit.isin(units).to_numpy()
        if bad_unit.any():
            names = pd.unique(unit[bad_unit])
            p.error(file, _rows_text(rows[bad_unit]), cfg.unit,
                    f"{_says(len(names), 'unit', 'is', 'are')} neither a site id nor a pool name: "
                    f"{_listing(names)}",
                    f"use a site id of the sites file or a pool: "
                    f"{_listing(pool_names(om, areas, sites))}")
    if fte is None:
        return None
    return pd.DataFrame({
        "unit": pd.array(unit.to_numpy(dtype=object), dtype="str"),
        "role": pd.array(role.to_numpy(dtype=object), dtype="str"),
        "fte": fte.astype(float),
        "contract": pd.array(contract.to_numpy(dtype=object), dtype="str"),
    })


# --------------------------------------------------------------------------------------------
# The stage


def load_inputs(scenario: Scenario) -> Inputs:
    """Load, check and canonicalise every file a scenario names.

    Parameters
    ----------
    scenario : Scenario
        A scenario whose paths are absolute (as :func:`mdtplan.scenario.load_scenario` or
        ``parse_scenario(..., base_dir=...)`` return it).

    Returns
    -------
    Inputs
        Areas and sites in EPSG:27700, the travel table and workforce if given, and the
        warnings (repairs, unused rows) in ``warnings``.

    Raises
    ------
    ScenarioError
        If the operating model file is missing or malformed.
    InputError
        Carrying every problem found in every file (warnings included after the errors).
    """
    from ..operating_model import load_operating_model

    om = load_operating_model(scenario.operating_model) if scenario.operating_model else None
    p = _Problems()
    has_table = scenario.travel.path is not None
    if not has_table and scenario.travel.unit == "units":
        p.error(None, None, "travel.unit", "travel.unit 'units' needs a travel table "
                "(straight-line travel is in minutes or km)",
                "set travel.path, or travel.unit: minutes or km")
    areas_loaded = _load_areas(scenario.areas, om, has_table, p)
    sites_loaded = _load_sites(scenario.sites, has_table, p)
    areas, area_raw_ids = areas_loaded if areas_loaded else (None, set())
    sites, site_raw_ids = sites_loaded if sites_loaded else (None, set())
    if areas is not None and sites is not None:
        _check_sites_near_areas(areas, sites, scenario.sites.path, p)
    _check_pools(om, scenario, areas, sites, p)
    travel = None
    if has_table:
        travel = _load_travel_table(scenario.travel, areas, area_raw_ids, sites, site_raw_ids, p)
    workforce = None
    if scenario.workforce is not None:
        workforce = _load_workforce(scenario, om, areas, sites, p)
    if p.errors or areas is None or sites is None:
        problems = p.errors + p.warnings
        if not p.errors:  # pragma: no cover - every early return reports an error
            problems.insert(0, Problem(None, None, None, "the inputs could not be loaded"))
        raise InputError(problems)
    return Inputs(scenario=scenario, operating_model=om, areas=areas, sites=sites,
                  travel=travel, workforce=workforce, warnings=tuple(p.warnings))

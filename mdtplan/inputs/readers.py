"""Reading files: CSV/TSV, GeoPackage, GeoJSON, Shapefile (or a zipped one), FlatGeobuf and
(Geo)Parquet, into a (Geo)DataFrame.

A file that is missing, empty, of an unknown type, unreadable, or without data rows is reported
against the scenario key that names it (``areas.path``, ``sites.layer`` …) and read as ``None``.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
from pyarrow import ArrowException

from .problems import _listing, _Problems

GEO_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp", ".zip", ".fgb")
PARQUET_SUFFIXES = (".parquet", ".geoparquet")
CSV_SUFFIXES = (".csv", ".tsv", ".txt")
_READ_ERRORS = (OSError, ValueError, RuntimeError, UnicodeError, ArrowException)
MAX_UNZIPPED_BYTES = 2 * 1024**3
"""Largest a zipped file may grow when unpacked [bytes] (2 GiB: all England's LSOAs as a
Shapefile are about 0.5 GiB), checked from the archive's directory before anything is read."""
MAX_ZIP_RATIO = 200
"""Largest ratio of unpacked to packed size of a zip member (a zip bomb packs far tighter)."""
MAX_FEATURES = 2_000_000
"""Most rows (features) a table or layer may have; counted before it is read whole."""


def check_archive(path: Path) -> None:
    """Refuse a zip whose unpacked size or packing ratio is beyond reason, before unpacking.

    Raises
    ------
    ValueError
        Saying how large the archive would be and the limit.
    """
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile as err:
        raise ValueError(f"not a readable zip file ({err})") from None
    total = sum(m.file_size for m in members)
    if total > MAX_UNZIPPED_BYTES:
        raise ValueError(f"unpacks to {total:,} bytes, more than {MAX_UNZIPPED_BYTES:,}: "
                         "give the layer as a GeoPackage, or fewer areas")
    for m in members:
        if m.compress_size and m.file_size / m.compress_size > MAX_ZIP_RATIO:
            raise ValueError(f"'{m.filename}' packs {m.file_size / m.compress_size:,.0f} to 1, "
                             "far beyond real data: refused as a zip bomb")
        if m.filename.lower().endswith(".zip"):
            raise ValueError(f"holds another zip ('{m.filename}'): give the Shapefile's own "
                             "files in one zip")


def check_feature_count(path: Path, layer: str | None) -> int | None:
    """The layer's feature count as its file declares it (no rows read), refused above
    :data:`MAX_FEATURES`; ``None`` when the format does not say."""
    import pyogrio

    info = pyogrio.read_info(path, layer=layer)
    count = int(info.get("features", -1))
    if count > MAX_FEATURES:
        raise ValueError(f"has {count:,} features, more than {MAX_FEATURES:,}")
    return count if count >= 0 else None


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
    # pandas renames a repeated name ('fte', 'fte.1'): look at the header line as written
    header = _header_names(path, sep) or stripped
    repeated = sorted({c for c in header if header.count(c) > 1})
    if repeated:
        p.error(str(path), None, None, f"column names repeat: {_listing(repeated)}",
                "give each column a distinct name")
        return None
    frame.columns = stripped
    return frame


def _header_names(path: Path, sep: str) -> list[str] | None:
    """The CSV's column names as its header line writes them (stripped), or None."""
    import csv

    for encoding in ("utf-8-sig", "cp1252"):
        try:
            with open(path, newline="", encoding=encoding) as f:
                row = next(csv.reader(f, delimiter=sep), None)
            return None if row is None else [c.strip() for c in row]
        except UnicodeDecodeError:
            continue
        except csv.Error:
            return None
    return None


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    rows = pq.read_metadata(path).num_rows
    if rows > MAX_FEATURES:
        raise ValueError(f"has {rows:,} rows, more than {MAX_FEATURES:,}")
    metadata = pq.read_schema(path).metadata or {}
    if b"geo" in metadata:
        return gpd.read_parquet(path)
    return pd.read_parquet(path)


def _read_geo(path: Path, layer: str | None, key: str, p: _Problems) -> pd.DataFrame | None:
    import pyogrio

    if path.suffix.lower() == ".zip":
        check_archive(path)
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
    chosen = layer if layer is not None else layers[0]
    check_feature_count(path, chosen)
    return pyogrio.read_dataframe(path, layer=chosen)


def _has_geometry(frame: pd.DataFrame) -> bool:
    return isinstance(frame, gpd.GeoDataFrame) and frame._geometry_column_name in frame.columns


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """The attribute columns of a (Geo)DataFrame, as a plain DataFrame."""
    if _has_geometry(frame):
        return pd.DataFrame(frame.drop(columns=frame._geometry_column_name))
    return pd.DataFrame(frame)

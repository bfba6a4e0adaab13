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

Modules
-------
=================  =============================================================================
``load``           :func:`load_inputs`, the stage, and :class:`Inputs`, what it returns
``areas``          the areas table, with its joined ``areas.tables``
``sites``          the sites table, and the check that sites lie near the areas
``travel_table``   the user's travel table (``travel.path``)
``workforce``      the workforce table (``workforce.path``)
``pools``          specialist pool names (:func:`pool_names`) and their checks
``readers``        file formats: CSV/TSV, GeoPackage, GeoJSON, Shapefile/zip, FlatGeobuf, Parquet
``geometry``       points from ``coords``, geometry checks and repairs, reprojection to EPSG:27700
``ids``            the id column of the areas and sites files: row labels, blank and repeated ids
``columns``        mapped columns read as numbers or text, or reported as missing
``values``         cell values: blanks, ids, numbers
``where``          the ``where`` filters
``problems``       the problems gathered while loading, and the words that report them
=================  =============================================================================
"""

from .areas import RESERVED_COLUMNS
from .geometry import BNG, GB_LONLAT_BOUNDS, WGS84
from .load import Inputs, load_inputs
from .pools import SINGLE_POOL, pool_names
from .problems import MAX_LISTED
from .readers import CSV_SUFFIXES, GEO_SUFFIXES, PARQUET_SUFFIXES
from .sites import FAR_OUTSIDE_M, SITE_STATUSES
from .values import NA_TEXT
from .workforce import CONTRACTS

__all__ = [
    "BNG",
    "CONTRACTS",
    "CSV_SUFFIXES",
    "FAR_OUTSIDE_M",
    "GB_LONLAT_BOUNDS",
    "GEO_SUFFIXES",
    "MAX_LISTED",
    "NA_TEXT",
    "PARQUET_SUFFIXES",
    "RESERVED_COLUMNS",
    "SINGLE_POOL",
    "SITE_STATUSES",
    "WGS84",
    "Inputs",
    "load_inputs",
    "pool_names",
]

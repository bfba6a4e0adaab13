"""Uploaded files in a new scenario: which file plays which part, and which column means what.

A planner uploads their own areas and sites (and optionally today's workforce, a travel table
and a table joined to the areas, such as populations kept apart from the shapes); the mapping
page then asks which column of each holds the scenario's keys (:data:`PARTS`), with guesses
from the column names (:func:`guess`), and :func:`sections` turns the answers into the
scenario's ``areas``, ``sites``, ``workforce`` and ``travel`` sections.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .forms import FormProblems


@dataclass(frozen=True)
class Column:
    """A scenario key read from a column: its key under the section, label and guesses.

    ``patterns`` are regular expressions tried in order on the column names made lower case
    with everything but letters and digits removed (``LSOA21CD`` → ``lsoa21cd``,
    ``pop_18_64`` → ``pop1864``); the first that matches a column not yet taken wins.
    """

    key: str
    label: str
    patterns: tuple[str, ...] = ()
    required: bool = False
    hint: str = ""

    def field(self, part: str) -> str:
        return f"{part}-{self.key.replace('.', '-')}"


@dataclass(frozen=True)
class Part:
    """A file's part in the scenario (areas, sites, …) and the columns it maps."""

    name: str
    label: str
    hint: str
    accept: str
    required: bool
    columns: tuple[Column, ...]


AREA_ID = (r"^(lsoa|msoa|oa|lad|ward|dz|iz)\d*(cd|code)$", r"^area(code|id)$",
           r"^(code|id|geocode|gsscode|areacd)$", r"(cd|code)$", r"id$")
GEO = ".gpkg,.geojson,.json,.fgb,.zip,.parquet,.geoparquet"

PARTS: dict[str, Part] = {p.name: p for p in (
    Part("areas", "Small areas", "Where people live, one row per small area (LSOA, MSOA, ward): "
         "a GeoPackage, GeoJSON, zipped Shapefile or GeoParquet with their boundaries.",
         GEO + ",.csv", True, (
             Column("id", "Area code", AREA_ID, True, "Unique in the file, e.g. LSOA21CD."),
             Column("name", "Area name", (r"^(lsoa|msoa|oa|lad|ward)\d*(nm|name)$",
                                          r"^areaname$", r"^name$")),
             Column("group", "District (group)", (
                 r"^(district|districtname|laname|localauthority|localauthorityname|borough|"
                 r"group|locality)$", r"^lad\d*(nm|name)$"),
                 hint="Specialist pools and reports group the areas by it."),
             Column("population.age_18_64", "People aged 18 to 64", (r"18(to)?64",)),
             Column("population.age_65_74", "People aged 65 to 74", (r"65(to)?74",)),
             Column("population.age_75_84", "People aged 75 to 84", (r"75(to)?84",)),
             Column("population.age_85_plus", "People aged 85 and over",
                    (r"85(plus|over|andover)?$",)),
             Column("total", "All people (one column)", (
                 r"^(poptotal|totalpop|totalpopulation|population|pop|allages|total|"
                 r"usualresidents|allpeople)$",),
                 hint="With the age bands: the people counted in a hub's population band "
                      "(all ages). Without them: the population the plan serves."),
             Column("deprivation", "Deprivation score", (
                 r"^imd\d*score$", r"^(imd|deprivation|deprivationscore)$", r"imd.*score")),
         )),
    Part("areas_table", "A table joined to the areas (optional)",
         "Populations or deprivation kept apart from the boundaries: a CSV with the same area "
         "codes, joined on them. Its columns are offered beside the areas' own.",
         ".csv,.tsv,.parquet", False, (
             Column("id", "Area code in this table", AREA_ID, True,
                    "The column holding the same codes as the areas' code column."),
         )),
    Part("sites", "Candidate sites", "Places a hub could be: a CSV with coordinates "
         "(easting and northing, or longitude and latitude), or points as geodata.",
         ".csv,.tsv," + GEO, True, (
             Column("id", "Site code", (
                 r"^(siteid|sitecode|practicecode|odscode|orgcode|code|id)$", r"(id|code|cd)$"),
                 True),
             Column("name", "Site name", (r"^(name|sitename|practicename|orgname)$",
                                          r"name$")),
             Column("coords.x", "Easting or longitude (CSV)", (
                 r"^(easting|eastings|bngx)$", r"^(lon|long|longitude|lng|x)$"),
                 hint="Not needed when the file holds point geometry."),
             Column("coords.y", "Northing or latitude (CSV)", (
                 r"^(northing|northings|bngy)$", r"^(lat|latitude|y)$")),
             Column("status", "Status", (r"^(status|sitestatus)$",),
                    hint="candidate, existing, required or excluded (blank: candidate)."),
             Column("fixed_cost", "Yearly cost of a hub there (£)", (
                 r"^(fixedcost|fixedcostgbp|sitecost|annualcost)$",)),
             Column("capacity_fte", "Most staff it can hold (FTE)", (
                 r"^(capacityfte|capacity|maxfte)$",)),
         )),
    Part("workforce", "Today's workforce (optional)", "Funded posts today: a CSV with the "
         "site (or pool), role, FTE and contract of each post.", ".csv,.tsv", False, (
             Column("unit", "Site or pool", (r"^(unit|siteid|site|pool|hub|team|base)$",),
                    True),
             Column("role", "Role", (r"^(role|roleid|jobrole)$",), True),
             Column("fte", "FTE", (r"^(fte|wte|ftes)$",), True),
             Column("contract", "Contract", (r"^(contract|contracttype|employment)$",), True,
                    "permanent, agency or vacant."),
         )),
    Part("travel", "Travel times (optional)", "A CSV of area code, site code and minutes; "
         "without it, straight-line distance × 1.3 at 40 km/h.", ".csv,.tsv,.parquet", False, (
             Column("area_id", "Area code", (r"^(areaid|areacode|origin|from)$",) + AREA_ID[:1],
                    True),
             Column("site_id", "Site code", (r"^(siteid|sitecode|destination|to)$",), True),
             Column("cost", "Minutes", (r"^(minutes|mins|time|traveltime|traveltimeminutes|"
                                        r"duration)$",), True),
         )),
)}
CRS_CHOICES = [("EPSG:27700", "British National Grid"),
               ("EPSG:4326", "Longitude and latitude")]


def _normal(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def guess(part: str, columns: list[str]) -> dict[str, str]:
    """The column guessed for each of a part's keys, by name.

    Examples
    --------
    >>> guess("areas", ["LSOA21CD", "LSOA21NM", "pop_18_64", "IMD_Score"])["id"]
    'LSOA21CD'
    >>> g = guess("sites", ["site_id", "name", "easting", "northing", "lon", "lat"])
    >>> g["coords.x"], g["coords.y"], g["crs"]
    ('easting', 'northing', 'EPSG:27700')
    """
    spec = PARTS[part]
    normal = [(c, _normal(c)) for c in columns]
    taken: set[str] = set()
    out: dict[str, str] = {}
    for col in spec.columns:
        for pattern in col.patterns:
            hit = next((c for c, n in normal if c not in taken and re.search(pattern, n)), None)
            if hit is not None:
                out[col.key] = hit
                taken.add(hit)
                break
    if part == "sites":
        x, y = out.get("coords.x"), out.get("coords.y")
        grid = x is not None and _normal(x).startswith(("east", "bng"))
        if x is not None and y is not None and grid != _normal(y).startswith(("north", "bng")):
            out.pop("coords.y")  # easting with latitude: no pair
        out["crs"] = "EPSG:27700" if grid else "EPSG:4326"
    return out


def _set(section: dict, key: str, value) -> None:
    node = section
    parts = key.split(".")
    for p in parts[:-1]:
        node = node.setdefault(p, {})
    node[parts[-1]] = value


def sections(form: dict[str, str], files: dict[str, str], layers: dict[str, str | None],
             columns: dict[str, list[str]]) -> dict:
    """The scenario's file sections from the mapping form.

    Parameters
    ----------
    form : dict
        The form's values (``areas-id``, ``sites-coords-x``, ``areas-where-column``, …).
    files : dict
        Dataset id of each uploaded part (``areas``, ``sites``, …).
    layers : dict
        The layer chosen of each part (``None``: the file's only or first layer).
    columns : dict
        Columns of each part's chosen layer, to check the answers against.

    Raises
    ------
    FormProblems
        A required column not chosen, or one the file does not have, named by its field.
    """
    problems: list[tuple[str | None, str]] = []
    out: dict = {}
    for name, spec in PARTS.items():
        if name not in files or name == "areas_table":
            continue
        section: dict = {"path": files[name]}
        if layers.get(name):
            section["layer"] = layers[name]
        known = set(columns.get(name, []))
        if name == "areas" and "areas_table" in files:
            known |= set(columns.get("areas_table", []))
        for col in spec.columns:
            field = col.field(name)
            value = (form.get(field) or "").strip()
            if not value:
                if col.required:
                    problems.append((field, f"{spec.label}: choose the column that holds the "
                                            f"{col.label.lower()}"))
                continue
            if value not in known:
                problems.append((field, f"{spec.label}: no column '{value}' in the file"))
                continue
            _set(section, col.key, value)
        if name == "areas":
            bands = section.pop("population", None)
            total = section.pop("total", None)
            if bands:
                section["population"] = bands
                if total:
                    section["headcount"] = total
            elif total:
                section["population"] = total
            else:
                problems.append(("areas-population-age_18_64",
                                 "Small areas: choose the population columns (the age bands, "
                                 "or one column of all people)"))
            if "areas_table" in files:
                table_id = (form.get("areas_table-id") or "").strip()
                if table_id not in set(columns.get("areas_table", [])):
                    problems.append(("areas_table-id", "Joined table: choose the column holding "
                                                       "the area codes"))
                else:
                    section["tables"] = [{"path": files["areas_table"], "id": table_id}]
        if name == "sites" and "coords" in section:
            coords = section["coords"]
            if "x" not in coords or "y" not in coords:
                problems.append(("sites-coords-x", "Candidate sites: choose both coordinate "
                                                   "columns, or neither for point geometry"))
            else:
                crs = form.get("sites-crs") or "EPSG:4326"
                coords["crs"] = crs if crs in dict(CRS_CHOICES) else "EPSG:4326"
        if name == "travel":
            section["unit"] = "minutes"
        if name in ("areas", "sites"):
            where_column = (form.get(f"{name}-where-column") or "").strip()
            where_value = (form.get(f"{name}-where-value") or "").strip()
            if where_column:
                if where_column not in known:
                    problems.append((f"{name}-where-column",
                                     f"{spec.label}: no column '{where_column}' in the file"))
                elif not where_value:
                    problems.append((f"{name}-where-value", f"{spec.label}: give the value "
                                                            "of the rows to keep"))
                else:
                    section["where"] = {where_column: [v.strip() for v in
                                                       where_value.split(",") if v.strip()]}
        out[name] = section
    if problems:
        raise FormProblems(problems)
    return out


def field_of_problem(problem: dict, files: dict[str, str], form: dict[str, str]) -> str | None:
    """The mapping field a loader's problem is about: the select whose column it names in
    its file, else the file's own field (``None`` when it names no file of ours)."""
    text = " ".join(str(problem.get(k) or "") for k in ("file", "column"))
    column = problem.get("column") or ""
    for name, dataset in files.items():
        if dataset not in text and not column.startswith(f"{name}."):
            continue
        message = str(problem.get("message") or "")
        for col in PARTS[name].columns:  # the key named in the message or as the column
            if f"{name}.{col.key}" in (column, *re.findall(r"[\w.]+", message)):
                return col.field(name)
        for col in PARTS[name].columns:  # else the select that chose the column
            if column and form.get(col.field(name)) == column:
                return col.field(name)
        return f"{name}-file"
    return None


def problem_text(problem: dict, filenames: dict[str, str]) -> str:
    """A loader's problem as ``mdtplan validate`` prints it (file, row, column: what, what
    to do), the stored file named as the planner uploaded it."""
    from mdtplan.errors import Problem

    fields = {k: problem.get(k) for k in ("file", "row", "column", "message", "hint")}
    for stored, original in filenames.items():
        for k in ("file", "message", "hint"):
            if isinstance(fields[k], str):
                fields[k] = fields[k].replace(stored, original)
    return str(Problem(**fields))

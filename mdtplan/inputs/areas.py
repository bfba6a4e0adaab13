"""Loading the areas table: the main file, its joined ``areas.tables``, and the canonical areas.

Population bands (checked against the operating model's demand rates), headcount, name, group,
deprivation and demand overrides are read from their mapped columns; geometry is reprojected to
EPSG:27700. The result is indexed by ``area_id`` (see :class:`~mdtplan.inputs.Inputs`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from .columns import _column_values, _missing_column, _text_values
from .geometry import (
    BNG,
    _geometry_of,
    _prepare_geometry,
    _representative_xy,
    _split_geometry,
    _warn_outside_gb,
)
from .ids import _check_ids, _labels, _read_main
from .problems import _ids_text, _listing, _plural, _Problems, _rows_text, _says
from .readers import _plain, _read_file
from .values import _id_strings, _to_number
from .where import _apply_where

if TYPE_CHECKING:
    from ..operating_model import OperatingModel
    from ..scenario import AreasConfig

RESERVED_COLUMNS = ("population", "name", "group", "deprivation", "x", "y", "geometry",
                    "lon", "lat")

MAX_AREA_POPULATION = 10_000_000
"""Most people one small area can hold (more than any English council's whole population:
Birmingham's is about 1.2 million); above it a value is a data error (a total, a unit mix-up)."""
POPULATION_HINT = ("an area's population above ten million is a data error: check that the "
                   "column holds people per area (not a total or another measure)")


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
                                required=True, extra_files=extra_files, skip=unjoined,
                                maximum=MAX_AREA_POPULATION, maximum_hint=POPULATION_HINT)
        if values is None:
            ok = False
        else:
            population[band] = values

    headcount = None
    if cfg.headcount is not None and present(cfg.headcount):
        headcount = _column_values(frame, cfg.headcount, "areas.headcount", file, p,
                                   what="area", labels=labels, required=True,
                                   extra_files=extra_files, skip=unjoined,
                                   maximum=MAX_AREA_POPULATION, maximum_hint=POPULATION_HINT)
        if headcount is None:
            ok = False
    elif cfg.headcount is not None:
        ok = False

    name = _text_values(frame, cfg.name, "areas.name", file, p, extra_files=extra_files) \
        if present(cfg.name) else None
    group = _text_values(frame, cfg.group, "areas.group", file, p, extra_files=extra_files) \
        if present(cfg.group) else None
    deprivation = None
    dep = cfg.deprivation_column
    dep_col = dep.column if dep is not None else None
    if present(dep_col):
        deprivation = _column_values(frame, dep_col, "areas.deprivation", file, p,
                                     what="area", labels=labels, required=False,
                                     allow_negative=True, extra_files=extra_files)
        if dep_col is not None and deprivation is not None:
            blank = np.isnan(deprivation) & ~_to_number(frame[dep_col])[2]
            if blank.any():
                p.warn(file, _ids_text(labels[blank]), dep_col,
                       f"{_says(int(blank.sum()), 'area', 'has', 'have')} no deprivation "
                       "score, so demand there is not adjusted for deprivation: "
                       f"{_listing(labels[blank])}",
                       "fill in the scores if they exist")
            deprivation = _deprivation_score(deprivation, dep, file, p)
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

    if deprivation is False:
        return None
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


def _deprivation_score(values: np.ndarray, dep, file, p):
    """``values`` of the deprivation column checked against its declared kind and turned into
    the score the operating model's multiplier uses (:mod:`mdtplan.inputs.deprivation`);
    ``False`` (an error recorded) when they do not fit the kind or cannot be turned."""
    from .deprivation import decile_to_score, kind_problem, rank_to_score

    kinds = {"score": "an IMD score", "rank": "a national LSOA rank",
             "decile": "a national decile"}
    problem = kind_problem(values, dep.kind, dep.index)
    if problem is not None:
        others = [k for k in ("score", "rank", "decile") if k != dep.kind]
        p.error(file, None, dep.column,
                f"areas.deprivation: column '{dep.column}' is declared {kinds[dep.kind]} "
                f"(kind: {dep.kind}) but {problem}",
                f"name the column that holds the kind declared, or declare what this one "
                f"holds: deprivation: {{column: {dep.column}, kind: {others[0]} or "
                f"{others[1]}, index: IMD2019 or IMD2025}}")
        return False
    if dep.kind == "score":
        return values
    if dep.index != "IMD2025":
        p.error(file, None, dep.column,
                f"areas.deprivation: {dep.index} {dep.kind}s cannot be turned into the score "
                "the operating model's deprivation multiplier uses: no national "
                f"{dep.index} LSOA score table is held to map them",
                "give a score column instead (e.g. the IMD 2019 population-weighted MSOA "
                "score, kind: score), or IMD2025 ranks or deciles")
        return False
    convert = rank_to_score if dep.kind == "rank" else decile_to_score
    out = np.full(len(values), np.nan)
    known = np.isfinite(values)
    out[known] = convert(values[known], dep.index)
    return out

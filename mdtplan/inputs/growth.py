"""Loading the population growth table (``demand.growth.path``): multipliers per age band and
year, optionally per area group (district).

The table has a ``year`` column and one column per age band of the operating model; each cell
is the band's population in that year as a multiple of the areas' own population (the base
year of the areas table) [-]. An ``area_group`` column, when present, gives one row per group
and year: every area group of the scenario must then have its row for the chosen year. The
loader returns each area's multipliers for ``demand.growth.year``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .problems import _listing, _Problems, _rows_text
from .readers import _plain, _read_file

if TYPE_CHECKING:
    from ..operating_model import OperatingModel
    from ..scenario import Scenario

GROUP_COLUMN = "area_group"
"""The optional column of a growth table naming the area group (district) of a row."""


def _load_growth(scenario: Scenario, om: OperatingModel | None, areas,
                 p: _Problems) -> pd.DataFrame | None:
    """Each area's population multipliers for ``demand.growth.year``.

    Returns
    -------
    DataFrame or None
        Index ``area_id`` (the areas'), one float column per age band [-]; ``None`` when the
        table has errors (reported on ``p``).
    """
    cfg = scenario.demand.growth
    file = cfg.path
    if om is None:
        p.error(file, None, "demand.growth", "growth per age band needs an operating model "
                "(its age bands)", "set operating_model, or remove demand.growth")
        return None
    frame = _read_file(file, None, "demand.growth", p)
    if frame is None:
        return None
    frame = _plain(frame)
    bands = list(om.age_bands)
    missing = [c for c in ("year", *bands) if c not in frame.columns]
    if missing:
        p.error(file, None, ", ".join(missing),
                f"the growth table has no column {_listing(missing)}",
                f"give a 'year' column and one column per age band of the operating model: "
                f"{', '.join(bands)} (population as a multiple of the base year's)")
        return None
    rows = np.arange(2, len(frame) + 2)            # the file's line numbers (header is 1)
    by_group = GROUP_COLUMN in frame.columns
    ok = True
    years = _number(frame["year"])
    bad = years.isna().to_numpy() | (years.fillna(0) % 1 != 0).to_numpy()
    if bad.any():
        p.error(file, _rows_text(rows[bad]), "year", "the year is not a whole number",
                "write the year as e.g. 2030")
        ok = False
    values = {}
    for band in bands:
        v = _number(frame[band])
        blank = v.isna().to_numpy()
        if blank.any():
            p.error(file, _rows_text(rows[blank]), band,
                    "the multiplier is missing or not a number",
                    "give the band's population as a multiple of the base year's, e.g. 1.08")
            ok = False
        negative = (v < 0).to_numpy()
        if negative.any():
            p.error(file, _rows_text(rows[negative]), band, "the multiplier is negative",
                    "a population multiplier is 0 or more (1 = the base year's population)")
            ok = False
        values[band] = v
    groups = _text(frame[GROUP_COLUMN]) if by_group else None
    if by_group:
        blank = (groups.isna() | (groups == "")).to_numpy()
        if blank.any():
            p.error(file, _rows_text(rows[blank]), GROUP_COLUMN, "the area group is blank",
                    "name the area group of every row (as the areas' group column)")
            ok = False
    if not ok:
        return None
    key = pd.DataFrame({"year": years.astype(int)})
    if by_group:
        key[GROUP_COLUMN] = groups.to_numpy()
    twice = key.duplicated(keep=False).to_numpy()
    if twice.any():
        p.error(file, _rows_text(rows[twice]), "year",
                "the same year is given twice" + (" for one area group" if by_group else ""),
                "give each year once" + (" per area group" if by_group else ""))
        return None
    chosen = (key["year"] == cfg.year).to_numpy()
    if not chosen.any():
        p.error(file, None, "year", f"the table has no row for year {cfg.year} "
                f"(demand.growth.year); its years are "
                f"{_listing(sorted(key['year'].unique()))}",
                "add that year's row, or set demand.growth.year to one of them")
        return None
    table = pd.DataFrame({b: values[b].to_numpy(dtype=float) for b in bands})
    if not by_group:
        row = table[chosen].iloc[0]
        return pd.DataFrame(np.tile(row.to_numpy(), (len(areas), 1)), index=areas.index,
                            columns=bands)
    lookup = table[chosen].set_index(pd.Index(key.loc[chosen, GROUP_COLUMN], name=None))
    area_group = areas["group"] if "group" in areas else pd.Series(pd.NA, index=areas.index)
    if area_group.isna().all():
        p.error(file, None, GROUP_COLUMN, "the growth table has rows per area group, but the "
                "areas have no group", "map areas.group, or drop the area_group column")
        return None
    uncovered = sorted({str(g) for g in area_group.dropna().unique()} - set(lookup.index))
    if uncovered or area_group.isna().any():
        what = _listing(uncovered) if uncovered else "areas without a group"
        p.error(file, None, GROUP_COLUMN, f"no row for year {cfg.year} for area group(s) "
                f"{what}", "add a row for every area group (as the areas' group column)")
        return None
    out = lookup.reindex(area_group.astype(str).to_numpy())
    out.index = areas.index
    return out


def _text(column: pd.Series) -> pd.Series:
    """A column as trimmed text (blank cells as <NA>)."""
    return column.astype("string").str.strip().replace("", pd.NA)


def _number(column: pd.Series) -> pd.Series:
    """A column as floats (NaN where blank or not a number)."""
    return pd.to_numeric(_text(column).astype(object), errors="coerce").astype(float)

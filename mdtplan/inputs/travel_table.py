"""Loading the user's travel table (``travel.path``): one travel cost per area-site pair.

Ids must be those of the areas and sites files; rows naming areas or sites removed by ``where``
are dropped (as a warning), repeated pairs are errors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .columns import _column_values, _missing_column
from .problems import _ids_text, _listing, _plural, _Problems, _rows_text, _says
from .readers import _plain, _read_file
from .values import _id_strings

if TYPE_CHECKING:
    from ..scenario import TravelConfig


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

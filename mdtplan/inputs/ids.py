"""The id column of the areas and sites files: read with each row's number, labelled, checked.

Ids are kept as the source strings. A row is labelled by its id, or ``row N`` (counting from 1
below the header) where the id is blank; blank and repeated ids are errors.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .columns import _missing_column
from .problems import _ids_text, _listing, _plural, _Problems, _rows_text, _says
from .readers import _read_file
from .values import _id_strings


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

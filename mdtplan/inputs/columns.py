"""Mapped columns: a scenario key's column read as numbers or text, or reported as missing.

A column the scenario maps but the file lacks is reported with the nearest names present. A
numeric column reports its non-numbers, blanks (when required) and negatives, each with the ids
of the rows at fault.
"""

from __future__ import annotations

import difflib

import numpy as np
import pandas as pd

from .problems import _ids_text, _listing, _plural, _Problems, _show
from .values import _blank, _number_hint, _to_number


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


def _column_values(frame, column: str | None, key: str, file, p, *, what, labels,
                   required: bool, allow_negative: bool = False, default=np.nan,
                   extra_files=(), skip=None, maximum: float | None = None,
                   maximum_hint: str | None = None) -> np.ndarray | None:
    """A mapped numeric column as floats, reporting non-numbers, blanks and negatives.

    ``skip`` marks rows whose blanks are already explained (an area missing from a join);
    ``maximum`` is the most a value can be before it is an error in the data (a population
    of 1e15), reported with the rows' ids and ``maximum_hint``.
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
    if maximum is not None:
        huge = values > maximum
        if huge.any():
            shown = [f"{lab}={v:g}" for lab, v in zip(labels[huge], values[huge], strict=True)]
            p.error(file, _ids_text(labels[huge]), column,
                    f"{_plural(int(huge.sum()), what)} with a value above {maximum:,.0f} "
                    f"({key}): {_listing(shown)}",
                    maximum_hint or "check the column and its units in the source data")
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

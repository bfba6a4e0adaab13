"""Parsing cell values: blanks, ids and numbers.

CSV cells arrive as text and geodata columns with their own dtypes; these helpers give every
loader the same reading of them. Blank cells and the :data:`NA_TEXT` spellings count as missing,
ids become trimmed strings (``12.0`` -> ``12``), and a number column is parsed into floats with
masks of the missing and the bad cells.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

NA_TEXT = ("", "NA", "N/A", "n/a", "NaN", "nan", "null", "NULL", "None", "#N/A")


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

"""The ``where: {column: [values]}`` filters of the areas and sites files.

Values compare by meaning across types (``true`` matches a boolean column and the text
``True``; ``5`` matches ``5``, ``5.0`` and ``"5"``; ``null`` matches a blank cell). A filter that
keeps no rows is an error that lists the values the column does hold.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .problems import _listing, _Problems
from .values import _blank


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

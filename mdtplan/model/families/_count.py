"""The number of open hubs, shared by the minimum and maximum count families."""

from __future__ import annotations

import numpy as np
from pyomo.core.expr.numeric_expr import LinearExpression


def open_hubs(m):
    """``sum_s open_site[s]`` as one linear expression."""
    return LinearExpression(constant=0.0, linear_coefs=[1.0] * len(m.SITES),
                            linear_vars=list(m.open_site.values()))


def count_row(cols, R, name, lower, upper) -> None:
    """One row ``lower <= sum_s open_site[s] <= upper``."""
    n = cols.n_site
    R.add(name, 1, np.zeros(n), cols.open_cols(), np.ones(n), lower, upper, [None])


def describe_count(side: str):
    """The explanation of a hub count bound that cannot hold (``side``: min or max)."""
    low = side == "min"

    def describe(amount, idx, approx, where, data):
        bound = data.hub_count_min if low else data.hub_count_max
        k = int(round(amount))
        return (None, f"hubs.count.{side}",
                f"{'at least' if low else 'at most'} {bound} hubs cannot be met: the other "
                f"rules need {'fewer' if low else 'more'} hubs ({approx}{k} "
                f"{'fewer' if low else 'more'})",
                f"set hubs.count.{side} to {(bound or 0) - k if low else (bound or 0) + k}")

    return describe

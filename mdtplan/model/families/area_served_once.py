r"""Every area is served exactly once.

.. math:: \sum_{s:(a,s)\in PAIRS} assign_{a,s} = 1 \quad \forall a \in AREAS

With binary ``assign`` the area goes to one hub; with ``split`` its shares sum to one. Areas
without any allowed pair are caught before building (``check_data``). A rule of the model's
structure: never relaxed in explanations.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

from .base import Family

NAME = "area_served_once"


def add_area_served_once(m, data, ix) -> None:
    """Declare ``m.area_served_once`` over the areas with an allowed pair."""
    areas = [a for a in ix.area_ids if a in ix.pairs_by_area]
    if not areas:
        return
    assign = list(m.assign.values())
    by_area = ix.pairs_by_area

    def _area_served_once_rule(m, a):
        ks = by_area[a]
        return LinearExpression(constant=0.0, linear_coefs=[1.0] * len(ks),
                                linear_vars=[assign[k] for k in ks]) == 1.0

    m.area_served_once = pyo.Constraint(areas, rule=_area_served_once_rule)


def area_served_once_rows(cols, R) -> None:
    """The same rows: one per served area, ``1 <= sum assign <= 1``."""
    areas, row_of_pair = cols.served_pairs()
    if areas:
        R.add(NAME, len(areas), row_of_pair, cols.assign_cols, np.ones(cols.n_pair), 1.0, 1.0,
              areas)


FAMILY = Family(NAME, "every area served once", add_area_served_once, area_served_once_rows)

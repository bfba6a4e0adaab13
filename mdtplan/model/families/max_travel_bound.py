r"""The p-center epigraph: no area's travel exceeds ``max_travel_cost``.

.. math:: T \ge \sum_{s} t_{a,s}\, assign_{a,s} \quad \forall a \in AREAS

Built (with its variable :math:`T`, ``max_travel_cost`` [travel unit]) only when the objective
has a ``max_travel`` stage (``min_max_travel``); unweighted.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

from .base import INF, Family

NAME = "max_travel_bound"


def add_max_travel_bound(m, data, ix) -> None:
    """Declare ``m.max_travel_cost`` and ``m.max_travel_bound`` for a ``max_travel`` stage."""
    if data.objective != "min_max_travel":  # the one objective with a max_travel stage
        return
    m.max_travel_cost = pyo.Var(domain=pyo.NonNegativeReals, doc="[travel unit]")
    assign = list(m.assign.values())
    by_area = ix.pairs_by_area
    travel = ix.travel_cost
    areas = [a for a in ix.area_ids if a in by_area]
    if not areas:
        return

    def _max_travel_bound_rule(m, a):
        ks = by_area[a]
        return LinearExpression(
            constant=0.0, linear_coefs=[1.0] + [-float(t) for t in travel[ks]],
            linear_vars=[m.max_travel_cost] + [assign[k] for k in ks]) >= 0.0

    m.max_travel_bound = pyo.Constraint(areas, rule=_max_travel_bound_rule)


def max_travel_bound_rows(cols, R) -> None:
    if "max_travel" not in cols.stages:
        return
    areas, row_of_pair = cols.served_pairs()
    if not areas:
        return
    n = len(areas)
    R.add(NAME, n, np.concatenate([np.arange(n), row_of_pair]),
          np.concatenate([np.full(n, cols.offset["max_travel_cost"]), cols.assign_cols]),
          np.concatenate([np.ones(n), -cols.ix.travel_cost.astype(float)]), 0.0, INF, areas)


FAMILY = Family(NAME, "longest travel", add_max_travel_bound, max_travel_bound_rows,
                baseline_rank=11)

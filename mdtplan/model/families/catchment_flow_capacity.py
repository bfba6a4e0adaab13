r"""Flow of a contiguous catchment runs only through the catchment's own areas.

.. math:: f_{s,i,j} \le M_s\, assign_{j,s} \quad \forall (s, i, j) \in ARCS

The arc capacities of Shirabe's flow (:mod:`.catchment_contiguous`, which declares the flow
``contiguity_flow`` over ``ARCS`` and holds the formulation): an arc may carry flow only into an
area its hub serves, :math:`M_s` the hub's allowed areas less one. Built with
``catchment_contiguous`` (``hubs.contiguous``), never relaxed on its own.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from .base import INF, Family
from .catchment_contiguous import CAPACITY, VAR, _balance_members, contiguity_index

NAME = CAPACITY


def add_catchment_flow_capacity(m, data, ix) -> None:
    """Declare ``m.catchment_flow_capacity`` over the arcs (after ``catchment_contiguous``)."""
    ci = contiguity_index(data, ix)
    if ci is None or m.component(VAR) is None:
        return
    assign = list(m.assign.values())
    flow = list(m.contiguity_flow.values())
    big = ci.big_m.tolist()
    arc_site, arc_to = ci.arc_site.tolist(), ci.arc_to.tolist()
    arc_of = {k: n for n, k in enumerate(ci.keys)}

    def _catchment_flow_capacity_rule(m, s, a, b):
        n = arc_of[(s, a, b)]
        return flow[n] - big[arc_site[n]] * assign[arc_to[n]] <= 0.0

    m.catchment_flow_capacity = pyo.Constraint(m.ARCS, rule=_catchment_flow_capacity_rule)


def catchment_flow_capacity_rows(cols, R) -> None:
    ix = cols.ix
    ci = contiguity_index(cols.data, ix)
    if ci is None or not len(_balance_members(ix, ci)):
        return
    n = len(ci.keys)
    rr = np.arange(n)
    R.add(CAPACITY, n, np.concatenate([rr, rr]),
          np.concatenate([cols.offset[VAR] + rr, cols.assign_cols[ci.arc_to]]),
          np.concatenate([np.ones(n), -ci.big_m[ci.arc_site]]), -INF, 0.0, ci.keys)


FAMILY = Family(NAME, "flow only through a catchment's own areas", add_catchment_flow_capacity,
                catchment_flow_capacity_rows)

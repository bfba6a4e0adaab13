r"""A contiguous catchment reaches an area only along a chain of areas that fits the band.

.. math:: L_{a,s}\, assign_{a,s} \le pop_{max} \quad \forall (a, s) \in PAIRS,\ L_{a,s} < \infty

:math:`L_{a,s}` is the least population of a chain of areas :math:`s` may serve, from its own
area :math:`r(s)` to :math:`a`, both ends included (a node-weighted shortest path, Dijkstra). A
connected catchment holding :math:`r(s)` and :math:`a` holds such a chain, so a pair whose
lightest chain is heavier than the band's maximum can never be used: valid for every plan of
``catchment_contiguous`` (no optimum changes), it fixes those pairs at 0 before HiGHS branches —
the shortest-path idea of Validi, Buchanan and Lykhovyd (2022) with population as the length.
:math:`pop_{max}` is the mutable parameter ``hub_population_max``, so a sweep over the band
refreshes these rows. Built with ``hubs.contiguous`` and a band maximum.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from .base import INF, Family
from .catchment_contiguous import contiguity_index

NAME = "catchment_reach"


def reach_pairs(data, ix) -> tuple[np.ndarray, np.ndarray]:
    """Pair positions with a row, and each one's lightest chain :math:`L` [weight]."""
    ci = contiguity_index(data, ix)
    if ci is None or data.hub_population_max is None or ci.chain_weight is None:
        return np.zeros(0, np.int64), np.zeros(0)
    k = np.flatnonzero(np.isfinite(ci.chain_weight) & (ci.chain_weight > 0))
    return k, ci.chain_weight[k]


def add_catchment_reach(m, data, ix) -> None:
    """Declare ``m.catchment_reach`` over the pairs a chain from their hub's own area reaches."""
    k, chain = reach_pairs(data, ix)
    if not len(k):
        return
    upper = m.params.hub_population_max
    assign = list(m.assign.values())
    row = {ix.pairs[p]: (int(p), float(c)) for p, c in zip(k.tolist(), chain.tolist(),
                                                           strict=True)}

    def _catchment_reach_rule(m, a, s):
        p, c = row[(a, s)]
        return c * assign[p] <= upper

    m.catchment_reach = pyo.Constraint([ix.pairs[p] for p in k.tolist()],
                                       rule=_catchment_reach_rule)


def catchment_reach_rows(cols, R) -> None:
    k, chain = reach_pairs(cols.data, cols.ix)
    if not len(k):
        return
    n = len(k)
    R.add(NAME, n, np.arange(n), cols.assign_cols[k], chain, -INF,
          float(cols.params["hub_population_max"]), [cols.ix.pairs[p] for p in k.tolist()])


def describe(amount, idx, approx, where, data):
    return (where, "hubs.contiguous",
            f"{len(idx)} area(s) would have to join a hub through a chain of areas above the "
            "population maximum",
            "widen the population band, or set hubs.contiguous: false")


FAMILY = Family(NAME, "a catchment reaches an area along a chain within the band",
                add_catchment_reach, catchment_reach_rows, params=("hub_population_max",),
                slack_unit=1_000.0, explain_rank=13, describe=describe)

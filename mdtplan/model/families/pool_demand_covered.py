r"""Specialist demand of the pairs a pool serves is delivered by the pool, or unmet.

.. math:: h_r\, fte_{p,r} + unmet_{p,r} \ge \lambda
          \sum_{(a,s) \in PAIRS: pool_{a,s} = p} d_{a,r} (1 + v_r \tau_{a,s})\, assign_{a,s}
          \quad \forall p \in POOLS, r \in SPECIALIST\_ROLES

Specialists travel from the hub the area is assigned to (:math:`\tau_{a,s}`, as the core roles).
Explanations relax it through the unmet hours (``demand_covered``), not row by row.
"""

from __future__ import annotations

import numpy as np

from ._demand import add_demand_covered, demand_rows
from .base import Family
from .lever_reach import staff_terms, unit_lever_terms

NAME = "pool_demand_covered"


def add_pool_demand_covered(m, data, ix) -> None:
    """Declare ``m.pool_demand_covered`` over (pool, specialist role) with demand."""
    if not ix.specialist_roles or not ix.pools:
        return
    units = {p: ix.pairs_by_pool[p] for p in ix.pools}
    add_demand_covered(m, data, ix, NAME, units, ix.specialist_roles,
                       unit_lever_terms(m, data, ix, "pool"))


def pool_demand_covered_rows(cols, R) -> None:
    ix = cols.ix
    ns = len(ix.specialist_roles)
    if not ns or not ix.pools:
        return
    pool_pos = {q: i for i, q in enumerate(ix.pools)}
    pool_of_pair = np.array([pool_pos.get(v, -1) if v is not None else -1
                             for v in ix.pair_pool], dtype=np.int64)
    demand_rows(cols, R, NAME, pool_of_pair,
                cols.n_core_staff + np.arange(len(ix.pools)) * ns, ix.specialist_roles,
                ix.pools, staff_terms(cols.data, ix, "pool"))


FAMILY = Family(NAME, "specialist demand delivered by pools", add_pool_demand_covered,
                pool_demand_covered_rows, params=("demand_scale",))

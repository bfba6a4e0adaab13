r"""An area may be assigned only to an open hub (disaggregated, strong form).

.. math:: assign_{a,s} \le open\_site_s \quad \forall (a,s) \in PAIRS

One row per pair rather than the aggregated :math:`\sum_a assign_{a,s} \le |A|\,open_s`: its LP
relaxation is much tighter (the strong formulation of facility location). A rule of the
model's structure: never relaxed in explanations.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from .base import INF, Family

NAME = "assign_only_open"


def add_assign_only_open(m, data, ix) -> None:
    """Declare ``m.assign_only_open`` over ``PAIRS``."""
    if not ix.pairs:
        return
    assign = m.assign
    open_site = m.open_site

    def _assign_only_open_rule(m, a, s):
        return assign[a, s] <= open_site[s]

    m.assign_only_open = pyo.Constraint(m.PAIRS, rule=_assign_only_open_rule)


def assign_only_open_rows(cols, R) -> None:
    """The same rows: ``assign - open_site <= 0`` per pair."""
    n = cols.n_pair
    if not n:
        return
    k = np.arange(n)
    R.add(NAME, n, np.concatenate([k, k]),
          np.concatenate([cols.assign_cols, cols.open_cols(cols.ix.pair_site)]),
          np.concatenate([np.ones(n), -np.ones(n)]), -INF, 0.0, cols.ix.pairs)


FAMILY = Family(NAME, "areas served only by open hubs", add_assign_only_open,
                assign_only_open_rows)

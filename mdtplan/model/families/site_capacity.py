r"""A site holds no more than its capacity, and nothing when closed.

.. math:: \sum_{a} w_a\, assign_{a,s} \le capacity_s\, open\_site_s
          \quad \forall s: capacity_s < \infty

``capacity`` (the sites table) is in weight units: population, or demand in the capacitated
facility location problem.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from ._served import served_weight, served_weight_rows
from .base import INF, Family

NAME = "site_capacity"


def _capacity(data, ix):
    return data.sites["capacity"].reindex(ix.site_ids).astype(float)


def add_site_capacity(m, data, ix) -> None:
    """Declare ``m.site_capacity`` over the sites with a finite capacity."""
    cap = _capacity(data, ix)
    sites = [s for s in ix.site_ids if np.isfinite(cap[s])]
    if not sites:
        return
    assign = list(m.assign.values())

    def _site_capacity_rule(m, s):
        return served_weight(assign, ix, s, -float(cap[s]), m.open_site[s]) <= 0.0

    m.site_capacity = pyo.Constraint(sites, rule=_site_capacity_rule)


def site_capacity_rows(cols, R) -> None:
    cap = _capacity(cols.data, cols.ix).to_numpy() if cols.n_site else np.zeros(0)
    finite = np.isfinite(cap)
    if finite.any():
        served_weight_rows(cols, R, NAME, finite, -cap[finite], -INF, 0.0)


FAMILY = Family(NAME, "site capacity", add_site_capacity, site_capacity_rows,
                slack_unit=1_000.0, explain_rank=3, baseline_rank=5)

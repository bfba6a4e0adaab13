r"""Core demand assigned to a hub is delivered by its staff, or counted as unmet.

.. math:: h_r\, fte_{s,r} + unmet_{s,r} \ge \lambda \sum_{a} d_{a,r} (1 + v_r \tau_{a,s})\,
          assign_{a,s} \quad \forall s, r \in CORE\_ROLES

:math:`h_r` productive hours per FTE [h/yr], :math:`d_{a,r}` demand hours [h/yr],
:math:`v_r` the role's visits per demand hour and :math:`\tau_{a,s}` the round trip [h] (staff
travel; 0 without it),
:math:`\lambda` the mutable ``demand_scale`` (1). The hours of the people the hub's levers reach
join the right-hand side (:mod:`.lever_reach`). Only (s, r) the site's reachable areas create
demand for. Explanations relax it through the unmet hours (``demand_covered``), not row by row.
"""

from __future__ import annotations

import numpy as np

from ._demand import add_demand_covered, demand_rows
from .base import Family
from .lever_reach import staff_terms, unit_lever_terms

NAME = "core_demand_covered"


def add_core_demand_covered(m, data, ix) -> None:
    """Declare ``m.core_demand_covered`` over (site, core role) with demand."""
    if not ix.core_roles:
        return
    units = {s: ix.pairs_by_site[s] for s in ix.site_ids if s in ix.pairs_by_site}
    add_demand_covered(m, data, ix, NAME, units, ix.core_roles,
                       unit_lever_terms(m, data, ix, "core"))


def core_demand_covered_rows(cols, R) -> None:
    ix = cols.ix
    nc = len(ix.core_roles)
    if not nc:
        return
    # units: the sites some area may use, in site order
    has_pairs = np.zeros(cols.n_site, dtype=bool)
    has_pairs[ix.pair_site] = True
    unit_pos = np.full(cols.n_site, -1, dtype=np.int64)
    unit_pos[has_pairs] = np.arange(int(has_pairs.sum()))
    demand_rows(cols, R, NAME, unit_pos[ix.pair_site], np.flatnonzero(has_pairs) * nc,
                ix.core_roles,
                [s for s, h in zip(ix.site_ids, has_pairs.tolist(), strict=True) if h],
                staff_terms(cols.data, ix, "core"))


FAMILY = Family(NAME, "core demand delivered by hub staff", add_core_demand_covered,
                core_demand_covered_rows, params=("demand_scale",))

r"""A hub holds no more core FTE than its capacity.

.. math:: \sum_{r \in CORE\_ROLES} fte_{s,r} \le capacity\_fte_s\, open\_site_s
          \quad \forall s: capacity\_fte_s < \infty
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

from .base import INF, Family

NAME = "site_capacity_fte"


def add_site_capacity_fte(m, data, ix) -> None:
    """Declare ``m.site_capacity_fte`` over the sites with a finite FTE capacity."""
    if not ix.core_roles:
        return
    cap = data.sites["capacity_fte"].reindex(ix.site_ids).astype(float)
    sites = [s for s in ix.site_ids if np.isfinite(cap[s])]
    if not sites:
        return
    step = data.roles["fte_step"].astype(float).to_dict()
    core = ix.core_roles

    def _site_capacity_fte_rule(m, s):
        return LinearExpression(
            constant=0.0, linear_coefs=[step[r] for r in core] + [-float(cap[s])],
            linear_vars=[m.fte_steps[s, r] for r in core] + [m.open_site[s]]) <= 0.0

    m.site_capacity_fte = pyo.Constraint(sites, rule=_site_capacity_fte_rule)


def site_capacity_fte_rows(cols, R) -> None:
    ix = cols.ix
    if not ix.core_roles or not cols.n_site:
        return
    cap_fte = cols.data.sites["capacity_fte"].reindex(ix.site_ids).astype(float).to_numpy()
    fin = np.isfinite(cap_fte)
    if not fin.any():
        return
    fte, site, j, core_step = cols.core_staff()
    pos = np.full(cols.n_site, -1, dtype=np.int64)
    pos[fin] = np.arange(int(fin.sum()))
    keep = fin[site]
    n = int(fin.sum())
    R.add(NAME, n, np.concatenate([pos[site[keep]], np.arange(n)]),
          np.concatenate([fte[keep], cols.open_cols(fin)]),
          np.concatenate([core_step[j[keep]], -cap_fte[fin]]), -INF, 0.0,
          [s for s, f in zip(ix.site_ids, fin.tolist(), strict=True) if f])


FAMILY = Family(NAME, "site FTE capacity", add_site_capacity_fte, site_capacity_fte_rows,
                slack_unit=1.0, explain_rank=6, baseline_rank=6)

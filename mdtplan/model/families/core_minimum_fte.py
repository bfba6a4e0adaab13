r"""Every open hub has its MDT: at least the minimum FTE of each core role.

.. math:: fte_{s,r} \ge min\_fte\_per\_hub_r\, open\_site_s
          \quad \forall s, r \in CORE\_ROLES: min\_fte\_per\_hub_r > 0

(Specialists sit in pools, so ``min_fte_per_hub`` applies to core roles only.)
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

from .base import INF, Family

NAME = "core_minimum_fte"


def add_core_minimum_fte(m, data, ix) -> None:
    """Declare ``m.core_minimum_fte`` over (site, core role) with a minimum."""
    if not ix.core_roles:
        return
    mins = data.roles["min_fte_per_hub"].astype(float).to_dict()
    step = data.roles["fte_step"].astype(float).to_dict()
    index = [(s, r) for s in ix.site_ids for r in ix.core_roles if mins[r] > 0]
    if not index:
        return

    def _core_minimum_fte_rule(m, s, r):
        return LinearExpression(constant=0.0, linear_coefs=[step[r], -mins[r]],
                                linear_vars=[m.fte_steps[s, r], m.open_site[s]]) >= 0.0

    m.core_minimum_fte = pyo.Constraint(index, rule=_core_minimum_fte_rule)


def core_minimum_fte_rows(cols, R) -> None:
    ix = cols.ix
    core = ix.core_roles
    if not core or not cols.n_site:
        return
    r_min = cols.role_values("min_fte_per_hub")
    mins = np.array([r_min[r] for r in core], dtype=float)
    fte, site, j, core_step = cols.core_staff()
    has = mins[j] > 0
    if not has.any():
        return
    n = int(has.sum())
    rr = np.arange(n)
    R.add(NAME, n, np.concatenate([rr, rr]),
          np.concatenate([fte[has], cols.open_cols(site[has])]),
          np.concatenate([core_step[j[has]], -mins[j[has]]]), 0.0, INF,
          [(ix.site_ids[i], core[k]) for i, k in zip(site[has].tolist(), j[has].tolist(),
                                                     strict=True)])


def describe(amount, idx, approx, where, data):
    return (where, "roles.min_fte_per_hub",
            f"the minimum MDT cannot be staffed in every open hub: short by {approx}"
            f"{amount:,.1f} FTE in {len(idx)} hub/role(s)",
            "lower min_fte_per_hub, or raise the budget or supply")


FAMILY = Family(NAME, "minimum MDT staffing per hub", add_core_minimum_fte,
                core_minimum_fte_rows, slack_unit=1.0, explain_rank=7, describe=describe,
                baseline_rank=7)

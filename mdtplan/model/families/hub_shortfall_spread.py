r"""Fair shortfall: no hub's share of core demand met falls more than a spread below the plan's.

Under ``max_demand_met`` with ``hubs.max_shortfall_spread`` :math:`s` set: for every hub
:math:`j`, with :math:`D_j` its core demand hours (all core roles, of the areas it serves),
:math:`U_j` its core unmet hours, :math:`D` and :math:`U` the same over the whole plan,

.. math:: \frac{U_j}{D_j} \le \frac{U}{D} + s
          \quad\Longleftrightarrow\quad 1 - \frac{U_j}{D_j} \ge \Big(1 - \frac{U}{D}\Big) - s

Specialist (pool) hours are not a hub's: both sides count core roles only. :math:`D` is a
constant (every area is served once), but :math:`D_j\, U/D` is bilinear. The overall unmet share
is taken to a resolution of :math:`\varepsilon = 2^{-B}` (:data:`BITS` :math:`= B = 10`,
:math:`\varepsilon` = 0.098 percentage point) as a binary expansion
:math:`\sigma = \sum_{b=1}^{B} 2^{-b}\delta_b \le U/D`, and each product :math:`D_j \delta_b` is
a continuous :math:`y_{j,b}` held by two rows (McCormick with a binary, exact):

.. math::
    \lambda D \sum_b 2^{-b} \delta_b - \sum_{j, r \in CORE} unmet_{j,r} &\le 0
        &\quad& \text{(shortfall\_level)} \\
    D_j - \sum_a d_a\, assign_{a,j} &\le 0 && \text{(hub\_core\_demand\_max)} \\
    y_{j,b} - D_j \le 0, \qquad y_{j,b} - \bar D_j\, \delta_b &\le 0
        && \text{(hub\_level\_max, hub\_level\_bit)} \\
    \sum_{r \in CORE} unmet_{j,r} - \lambda \sum_b 2^{-b} y_{j,b} - \lambda s D_j &\le 0
        && \text{(hub\_shortfall\_spread)}

The first three lines are the family ``shortfall_level``
(:mod:`~mdtplan.model.families.shortfall_level`, which declares the variables); the last is this
one. :math:`d_a` is area :math:`a`'s core demand [h/yr] unscaled, :math:`\lambda` the mutable
``demand_scale``, :math:`\bar D_j` the core demand of every area site :math:`j` may serve. Every
row only caps :math:`\sigma`, :math:`D_j` and :math:`y_{j,b}` from above, and a larger value only
loosens the rule, so a plan is allowed exactly when
:math:`\max_j U_j/D_j \le \lfloor U/D \rfloor_\varepsilon + s`: every allowed plan keeps the rule
as stated, and every plan within :math:`s - \varepsilon` is allowed. The rows are per hub and
bit (:math:`2B + 2` per hub, one more overall), not per pair; :math:`B` binaries in all. It holds
for ``split`` assignment too (:math:`D_j` is linear in the shares). A closed hub has
:math:`D_j = 0`, so its unmet hours are held at 0 (it has no demand to leave unmet).
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

from .base import INF, Family
from .shortfall_level import BITS, RESOLUTION, spread_index, var_cols

__all__ = ["BITS", "FAMILY", "NAME", "RESOLUTION", "add_hub_shortfall_spread",
           "hub_shortfall_spread_rows"]

NAME = "hub_shortfall_spread"


# --------------------------------------------------------------------------------------------
# The rule


def add_hub_shortfall_spread(m, data, ix) -> None:
    """Declare ``m.hub_shortfall_spread`` over the hubs with core demand in reach."""
    sp = spread_index(data, ix)
    if sp is None:
        return
    scale = m.params.demand_scale
    bits = sp.bits
    weights = [2.0 ** -b for b in bits] + [sp.spread]

    def _hub_shortfall_spread_rule(m, s):
        unmet = [m.unmet_hours[s, r] for r in ix.core_roles]
        level = [m.hub_level_hours[s, b] for b in bits] + [m.hub_core_demand[s]]
        return (LinearExpression(constant=0.0, linear_coefs=[1.0] * len(unmet),
                                 linear_vars=unmet)
                - scale * LinearExpression(constant=0.0, linear_coefs=weights,
                                           linear_vars=level) <= 0.0)

    m.hub_shortfall_spread = pyo.Constraint(sp.hubs, rule=_hub_shortfall_spread_rule)


def hub_shortfall_spread_rows(cols, R) -> None:
    ix = cols.ix
    sp = spread_index(cols.data, ix)
    if sp is None:
        return
    lam = float(cols.params["demand_scale"])
    nh, nb, nc = len(sp.hubs), BITS, len(ix.core_roles)
    unmet = (cols.offset["unmet_hours"] + sp.hub_pos[:, None] * nc + np.arange(nc)[None, :])
    lev = var_cols(cols, "hub_level_hours", nh * nb).reshape(nh, nb)
    dem = var_cols(cols, "hub_core_demand", nh)
    w = -lam * np.concatenate([2.0 ** -np.arange(1, nb + 1), [sp.spread]])
    c = np.concatenate([unmet, lev, dem[:, None]], axis=1)
    v = np.concatenate([np.ones((nh, nc)), np.broadcast_to(w, (nh, nb + 1))], axis=1)
    R.add(NAME, nh, np.repeat(np.arange(nh), c.shape[1]), c.ravel(), v.ravel(), -INF, 0.0,
          sp.hubs)


def describe(amount, idx, approx, where, data):
    return (where, "hubs.max_shortfall_spread",
            f"{len(idx)} hub(s) cannot be held within {data.max_shortfall_spread:.1%} of the "
            f"plan's share of demand met (by {approx}{amount:,.0f} hours a year)",
            "raise hubs.max_shortfall_spread (null turns it off), or the budget cap or supply")


FAMILY = Family(NAME, "fair shortfall between hubs", add_hub_shortfall_spread,
                hub_shortfall_spread_rows, params=("demand_scale",), slack_unit=100.0,
                explain_rank=13, describe=describe)

"""Hub size: the population band, site capacity, and how many hubs open."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression


def add_hub_size_constraints(m, data, ix) -> None:
    """Add ``hub_population_min``, ``hub_population_max``, ``site_capacity``,
    ``hub_count_min`` and ``hub_count_max`` (each only when its bound is given)."""
    add_hub_population_min(m, data, ix)
    add_hub_population_max(m, data, ix)
    add_site_capacity(m, data, ix)
    add_hub_count_min(m, data)
    add_hub_count_max(m, data)


def _served_weight(assign, ix, s, extra_coef, extra_var):
    """``sum_a w_a assign[a,s] + extra_coef * extra_var`` as one linear expression.

    ``assign`` is the list of ``m.assign`` in PAIRS order (positions match the index).
    """
    ks = ix.pairs_by_site.get(s, np.zeros(0, dtype=int))
    w = ix.weight[ix.pair_area[ks]]
    coefs = [float(x) for x in w] + [extra_coef]
    return LinearExpression(constant=0.0, linear_coefs=coefs,
                            linear_vars=[assign[k] for k in ks] + [extra_var])


def add_hub_population_min(m, data, ix) -> None:
    r"""An open hub serves at least the band's minimum population.

    .. math:: \sum_{a} w_a\, assign_{a,s} \ge pop_{min}\, open\_site_s \quad \forall s

    :math:`w_a` is the area's population (weight); ``pop_min`` is the mutable parameter
    ``hub_population_lower``.
    """
    if data.hub_population_min is None or not ix.site_ids:
        return
    lower = m.hub_population_lower
    assign = list(m.assign.values())

    def _hub_population_min_rule(m, s):
        return _served_weight(assign, ix, s, -lower, m.open_site[s]) >= 0.0

    m.hub_population_min = pyo.Constraint(m.SITES, rule=_hub_population_min_rule)


def add_hub_population_max(m, data, ix) -> None:
    r"""An open hub serves at most the band's maximum population.

    .. math:: \sum_{a} w_a\, assign_{a,s} \le pop_{max}\, open\_site_s \quad \forall s

    ``pop_max`` is the mutable parameter ``hub_population_upper``.
    """
    if data.hub_population_max is None or not ix.site_ids:
        return
    upper = m.hub_population_upper
    assign = list(m.assign.values())

    def _hub_population_max_rule(m, s):
        return _served_weight(assign, ix, s, -upper, m.open_site[s]) <= 0.0

    m.hub_population_max = pyo.Constraint(m.SITES, rule=_hub_population_max_rule)


def add_site_capacity(m, data, ix) -> None:
    r"""A site holds no more than its capacity, and nothing when closed.

    .. math:: \sum_{a} w_a\, assign_{a,s} \le capacity_s\, open\_site_s
              \quad \forall s: capacity_s < \infty

    ``capacity`` is in weight units (population, or demand in the capacitated facility
    location problem).
    """
    cap = data.sites["capacity"].reindex(ix.site_ids).astype(float)
    sites = [s for s in ix.site_ids if np.isfinite(cap[s])]
    if not sites:
        return
    assign = list(m.assign.values())

    def _site_capacity_rule(m, s):
        return _served_weight(assign, ix, s, -float(cap[s]), m.open_site[s]) <= 0.0

    m.site_capacity = pyo.Constraint(sites, rule=_site_capacity_rule)


def add_hub_count_min(m, data) -> None:
    r"""At least the minimum number of hubs open.

    .. math:: \sum_s open\_site_s \ge count_{min}

    Built when ``hub_count_min`` > 0; the bound is the mutable parameter ``hub_count_lower``.
    """
    if not data.hub_count_min or not len(m.SITES):
        return
    total = LinearExpression(constant=0.0, linear_coefs=[1.0] * len(m.SITES),
                             linear_vars=list(m.open_site.values()))
    m.hub_count_min = pyo.Constraint(expr=total >= m.hub_count_lower)


def add_hub_count_max(m, data) -> None:
    r"""At most the maximum number of hubs open.

    .. math:: \sum_s open\_site_s \le count_{max}

    With ``hubs.count.exactly: p`` both this and ``hub_count_min`` hold p (the p-median).
    The bound is the mutable parameter ``hub_count_upper``.
    """
    if data.hub_count_max is None or not len(m.SITES):
        return
    total = LinearExpression(constant=0.0, linear_coefs=[1.0] * len(m.SITES),
                             linear_vars=list(m.open_site.values()))
    m.hub_count_max = pyo.Constraint(expr=total <= m.hub_count_upper)


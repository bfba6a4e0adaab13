"""Assignment: every area is served once, and only by open hubs.

Both families are indexed over the sparse allowed pairs (``PAIRS``); pairs that are not allowed
(beyond the travel limit, or to excluded sites) never become variables.
"""

from __future__ import annotations

import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression


def add_assignment_constraints(m, data, ix) -> None:
    """Add ``area_served_once`` and ``assign_only_open``."""
    add_area_served_once(m, ix)
    add_assign_only_open(m, ix)


def add_area_served_once(m, ix) -> None:
    r"""Each area is served exactly once.

    .. math:: \sum_{s:(a,s)\in PAIRS} assign_{a,s} = 1 \quad \forall a \in AREAS

    With binary ``assign`` the area goes to one hub; with ``split`` its shares sum to one.
    Areas without any allowed pair are caught before building (``check_data``).
    """
    areas = [a for a in ix.area_ids if a in ix.pairs_by_area]
    if not areas:
        return
    assign = list(m.assign.values())
    by_area = ix.pairs_by_area

    def _area_served_once_rule(m, a):
        ks = by_area[a]
        return LinearExpression(constant=0.0, linear_coefs=[1.0] * len(ks),
                                linear_vars=[assign[k] for k in ks]) == 1.0

    m.area_served_once = pyo.Constraint(areas, rule=_area_served_once_rule)


def add_assign_only_open(m, ix) -> None:
    r"""An area may be assigned only to an open hub (disaggregated, strong form).

    .. math:: assign_{a,s} \le open\_site_s \quad \forall (a,s) \in PAIRS

    One row per pair rather than the aggregated :math:`\sum_a assign_{a,s} \le |A|\,open_s`:
    its LP relaxation is much tighter (the strong formulation of facility location).
    """
    if not ix.pairs:
        return
    assign = m.assign
    open_site = m.open_site

    def _assign_only_open_rule(m, a, s):
        return assign[a, s] <= open_site[s]

    m.assign_only_open = pyo.Constraint(m.PAIRS, rule=_assign_only_open_rule)

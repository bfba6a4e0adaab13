r"""Enough supervisors in each unit for the staff they supervise.

.. math:: ratio_k\, fte_{u,sup_k} \ge \sum_{r \in supervises_k: (u,r) \in STAFF} fte_{u,r}
          \quad \forall k, u: (u, sup_k) \in STAFF

Supervision is within a unit: a hub's supervisor supervises that hub's core staff, a pool's its
specialists; supervised roles not staffed in the unit do not count there.
"""

from __future__ import annotations

import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

from .base import INF, Family

NAME = "supervision_ratio"


def _index(data, ix) -> list:
    """(unit, rule position) of every unit with the rule's supervisor and someone to supervise."""
    staff = set(ix.staff)
    units = list(dict.fromkeys(u for u, _ in ix.staff))
    return [(u, k) for k, rule in enumerate(data.supervision) for u in units
            if (u, rule.supervisor) in staff and any((u, r) in staff for r in rule.supervises)]


def _supervised(rule, u, staff) -> list:
    return [r for r in rule.supervises if (u, r) in staff and r != rule.supervisor]


def add_supervision_ratio(m, data, ix) -> None:
    """Declare ``m.supervision_ratio`` over (unit, rule)."""
    if not data.supervision or not ix.staff:
        return
    index = _index(data, ix)
    if not index:
        return
    staff = set(ix.staff)
    step = data.roles["fte_step"].astype(float).to_dict()
    rules = data.supervision

    def _supervision_ratio_rule(m, u, k):
        rule = rules[k]
        sup = _supervised(rule, u, staff)
        coefs = [rule.max_ratio * step[rule.supervisor]] + [-step[r] for r in sup]
        xs = [m.fte_steps[u, rule.supervisor]] + [m.fte_steps[u, r] for r in sup]
        return LinearExpression(constant=0.0, linear_coefs=coefs, linear_vars=xs) >= 0.0

    m.supervision_ratio = pyo.Constraint(index, rule=_supervision_ratio_rule)


def supervision_ratio_rows(cols, R) -> None:
    data, ix = cols.data, cols.ix
    if not data.supervision or not cols.n_staff:
        return
    index = _index(data, ix)
    if not index:
        return
    staff_pos = {key: i for i, key in enumerate(ix.staff)}
    step = cols.role_values("fte_step")
    o_fte = cols.offset["fte_steps"]
    rows, col, vals = [], [], []
    for q, (u, k) in enumerate(index):
        rule = data.supervision[k]
        sup = _supervised(rule, u, staff_pos)
        rows += [q] * (1 + len(sup))
        col += [o_fte + staff_pos[u, rule.supervisor]] + [o_fte + staff_pos[u, r] for r in sup]
        vals += [rule.max_ratio * step[rule.supervisor]] + [-step[r] for r in sup]
    R.add(NAME, len(index), rows, col, vals, 0.0, INF, index)


FAMILY = Family(NAME, "supervision ratio", add_supervision_ratio, supervision_ratio_rows,
                slack_unit=1.0, explain_rank=9, baseline_rank=9)

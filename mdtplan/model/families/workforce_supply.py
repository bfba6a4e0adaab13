r"""Permanent FTE of a role within its supply (today's permanent staff + hiring limit).

.. math:: \sum_{u} (fte_{u,r} - agency\_fte_{u,r}) \le supply_r \quad \forall r: supply_r < \infty

Beyond the supply, the role must be filled by agency staff (at the premium, within
``max_agency_share``) or its demand goes unmet.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

from .base import INF, Family

NAME = "workforce_supply"


def _units_of(ix) -> dict:
    """role -> the staff positions holding it, in ``STAFF`` order."""
    out: dict = {}
    for i, (_, r) in enumerate(ix.staff):
        out.setdefault(r, []).append(i)
    return out


def add_workforce_supply(m, data, ix) -> None:
    """Declare ``m.workforce_supply`` over the roles with a supply limit."""
    if not data.supply_fte or not ix.staff:
        return
    step = data.roles["fte_step"].astype(float).to_dict()
    units_of = {r: [ix.staff[i][0] for i in pos] for r, pos in _units_of(ix).items()}
    roles = [r for r in data.supply_fte if r in units_of]
    if not roles:
        return

    def _workforce_supply_rule(m, r):
        units = units_of[r]
        coefs = [step[r]] * len(units) + [-1.0] * len(units)
        xs = [m.fte_steps[u, r] for u in units] + [m.agency_fte[u, r] for u in units]
        return LinearExpression(constant=0.0, linear_coefs=coefs, linear_vars=xs) <= float(
            data.supply_fte[r])

    m.workforce_supply = pyo.Constraint(roles, rule=_workforce_supply_rule)


def workforce_supply_rows(cols, R) -> None:
    data = cols.data
    if not data.supply_fte or not cols.n_staff:
        return
    units_of = _units_of(cols.ix)
    roles = [r for r in data.supply_fte if r in units_of]
    if not roles:
        return
    step = cols.role_values("fte_step")
    rows, col, vals = [], [], []
    for q, r in enumerate(roles):
        st = np.asarray(units_of[r], dtype=np.int64)
        rows += [np.full(2 * len(st), q)]
        col += [cols.offset["fte_steps"] + st, cols.offset["agency_fte"] + st]
        vals += [np.full(len(st), step[r]), -np.ones(len(st))]
    R.add(NAME, len(roles), np.concatenate(rows), np.concatenate(col), np.concatenate(vals),
          -INF, np.array([float(data.supply_fte[r]) for r in roles]), roles)


def describe(amount, idx, approx, where, data):
    parts = ", ".join(f"{r}: {v:,.1f} FTE" for r, v in idx.items())
    return (where, "workforce",
            f"staff needed exceed today's staff plus the hiring limit by {approx}{parts}",
            "raise rules.hiring_limit_fte, allow agency staff, or lower min_fte_per_hub")


FAMILY = Family(NAME, "workforce supply (today's staff plus hiring limit)", add_workforce_supply,
                workforce_supply_rows, slack_unit=1.0, explain_rank=8, describe=describe,
                baseline_rank=10)

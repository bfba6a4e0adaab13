"""Workforce: the permanent staff a role can employ, across all units."""

from __future__ import annotations

import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression


def add_workforce_constraints(m, data, ix) -> None:
    """Add ``workforce_supply`` for the roles with a supply limit."""
    add_workforce_supply(m, data, ix)


def add_workforce_supply(m, data, ix) -> None:
    r"""Permanent FTE of a role within its supply (today's permanent staff + hiring limit).

    .. math:: \sum_{u} (fte_{u,r} - agency\_fte_{u,r}) \le supply_r
              \quad \forall r: supply_r < \infty

    Beyond the supply, the role must be filled by agency staff (at the premium, within
    ``max_agency_share``) or its demand goes unmet.
    """
    if not data.supply_fte or not ix.staff:
        return
    step = data.roles["fte_step"].astype(float).to_dict()
    units_of: dict = {}
    for u, r in ix.staff:
        units_of.setdefault(r, []).append(u)
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

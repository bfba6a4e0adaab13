"""Demand covered by a staffing unit's hours, shared by the core (hub) and pool families.

A pair's demand is the area's, plus, with staff travel, the visits' round trips from the site
(:meth:`mdtplan.model.index.ModelIndex.pair_demand`): a far area asks more hours of its hub.
Pooled specialists travel from the hub the area is assigned to, so the same pair factor
applies to their roles.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

from .base import INF


def _demand_terms(assign, ix, ks, col):
    d = ix.pair_demand(ks, [col])[:, 0]
    nz = d > 0
    return [float(x) for x in d[nz]], [assign[k] for k in ks[nz]]


def add_demand_covered(m, data, ix, name: str, units: dict, roles: list,
                       lever_terms: dict | None = None) -> None:
    """Add constraint ``name``: staff hours of each (unit, role) + unmet >= scaled demand
    (travel included) + the hours of the lever people the unit's hubs reach.

    ``units`` maps each staffing unit (hub or pool) to the positions of the pairs whose demand
    it serves; ``lever_terms`` maps (unit, role) to the levers' (hours, ``lever_people``)
    (:func:`~.lever_reach.unit_lever_terms`). Rows are made only where that demand is
    non-zero or a lever needs the role there, units in ``units`` order, roles in ``roles``
    order.
    """
    prod = data.roles["productive_hours_per_fte"].astype(float).to_dict()
    step = data.roles["fte_step"].astype(float).to_dict()
    assign = list(m.assign.values())
    lever_terms = lever_terms or {}
    terms = {}
    for u, ks in units.items():
        for r in roles:
            coefs, xs = _demand_terms(assign, ix, ks, ix.roles.index(r))
            if coefs or (u, r) in lever_terms:
                terms[u, r] = (coefs, xs)
    if not terms:
        return
    scale = m.params.demand_scale

    def _demand_covered_rule(m, u, r):
        coefs, xs = terms[u, r]
        supply = LinearExpression(constant=0.0, linear_coefs=[prod[r] * step[r], 1.0],
                                  linear_vars=[m.fte_steps[u, r], m.unmet_hours[u, r]])
        demand = LinearExpression(constant=0.0, linear_coefs=coefs, linear_vars=xs)
        if (u, r) in lever_terms:
            lc, lx = lever_terms[u, r]
            return supply - scale * demand - LinearExpression(
                constant=0.0, linear_coefs=lc, linear_vars=lx) >= 0.0
        return supply - scale * demand >= 0.0

    m.add_component(name, pyo.Constraint(list(terms), rule=_demand_covered_rule))


def demand_rows(cols, R, name, unit_of_pair, unit_base, role_names, unit_names,
                levers=None) -> None:
    """Rows (unit, role) with demand or lever hours, unit-major: ``prod*step fte + unmet -
    scale * sum of the demand of the unit's pairs x assign - sum of lever hours x
    lever_people >= 0``.

    ``unit_of_pair`` is each pair's unit (-1: none), ``unit_base`` each unit's first staff
    position; ``levers`` the (unit, role, key, hours) terms of
    :func:`~.lever_reach.staff_terms` (units named as in ``unit_names``).
    """
    ix = cols.ix
    nr, n_units = len(role_names), len(unit_base)
    if not nr or not n_units:
        return
    r_prod, r_step = cols.role_values("productive_hours_per_fte"), cols.role_values("fte_step")
    k = np.flatnonzero(unit_of_pair >= 0)
    d = ix.pair_demand(k, [ix.roles.index(r) for r in role_names])
    key = unit_of_pair[k][:, None] * nr + np.arange(nr)[None, :]
    nz = d > 0
    present = np.zeros(n_units * nr, dtype=bool)
    present[key[nz]] = True
    lever_key = np.zeros(0, np.int64)
    if levers:
        upos = {u: i for i, u in enumerate(unit_names)}
        rpos = {r: j for j, r in enumerate(role_names)}
        lever_key = np.array([upos[u] * nr + rpos[r] for u, r, _, _ in levers], np.int64)
        lever_col = cols.offset["lever_people"] + np.array([n for _, _, n, _ in levers],
                                                           np.int64)
        lever_val = -np.array([h for _, _, _, h in levers], float)
        present[lever_key] = True
    row_of = np.cumsum(present) - 1
    n = int(present.sum())
    if not n:  # no demand anywhere: Pyomo builds no component either
        return
    keys = np.flatnonzero(present)
    unit, j = keys // nr, keys % nr
    staff = np.asarray(unit_base, dtype=np.int64)[unit] + j
    prod_step = np.array([r_prod[r] * r_step[r] for r in role_names])[j]
    rr = np.arange(n)
    o_fte, o_un, o_assign = (cols.offset["fte_steps"], cols.offset["unmet_hours"],
                             cols.offset["assign"])
    extra_r, extra_c, extra_v = [], [], []
    if len(lever_key):
        extra_r, extra_c, extra_v = [row_of[lever_key]], [lever_col], [lever_val]
    R.add(name, n,
          np.concatenate([rr, rr, row_of[key[nz]], *extra_r]),
          np.concatenate([o_fte + staff, o_un + staff,
                          o_assign + np.broadcast_to(k[:, None], key.shape)[nz], *extra_c]),
          np.concatenate([prod_step, np.ones(n), -float(cols.params["demand_scale"]) * d[nz],
                          *extra_v]),
          0.0, INF,
          [(unit_names[u], role_names[r]) for u, r in zip(unit.tolist(), j.tolist(),
                                                          strict=True)])

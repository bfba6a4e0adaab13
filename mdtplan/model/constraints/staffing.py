"""Staffing: core MDT staff at each open hub, specialists in pools, demand covered or unmet.

Units are hubs (sites) for ``core`` roles and pools for ``specialist`` roles; ``STAFF`` holds the
(unit, role) pairs. ``fte[u, r] = fte_step_r * fte_steps[u, r]`` [FTE]; ``agency_fte[u, r]`` is
the agency part of it; ``unmet_hours[u, r]`` the demand left unserved [hours/year].
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression


def add_staffing_constraints(m, data, ix) -> None:
    """Add the staffing families (each returns early when its index is empty)."""
    add_staff_only_at_open_hubs(m, data, ix)
    add_site_capacity_fte(m, data, ix)
    add_core_minimum_fte(m, data, ix)
    add_core_demand_covered(m, data, ix)
    add_pool_demand_covered(m, data, ix)
    add_agency_share_max(m, data, ix)
    add_supervision_ratio(m, data, ix)


def _core_reach_hours(ix, scale: float) -> np.ndarray:
    """Demand hours of every area each site may serve, per core role [hours/year]:
    shape (sites, core roles)."""
    cols = [ix.roles.index(r) for r in ix.core_roles]
    d = ix.demand[ix.pair_area][:, cols] if len(ix.pair_area) else np.zeros((0, len(cols)))
    out = np.zeros((len(ix.site_ids), len(cols)))
    for j in range(len(cols)):
        out[:, j] = np.bincount(ix.pair_site, weights=d[:, j], minlength=len(ix.site_ids))
    return out * scale


def staff_fte_max_values(data, ix, scale: float = 1.0) -> dict:
    """A tight upper bound M on the core FTE a hub can ever need, per (site, core role) [FTE].

    ``M = max(min_fte_per_hub, step_up(reachable demand / productive hours))``, then raised so a
    supervisor can supervise the others' M (rules applied until nothing changes). No optimal
    plan staffs a hub above M: more FTE than the demand the hub can reach only adds cost.
    """
    if not ix.core_roles:
        return {}
    core = list(ix.core_roles)
    roles = data.roles.reindex(core)
    step = roles["fte_step"].astype(float).to_numpy()
    prod = roles["productive_hours_per_fte"].astype(float).to_numpy()
    mins = roles["min_fte_per_hub"].astype(float).to_numpy()
    hours = _core_reach_hours(ix, scale)

    def step_up(x, st):  # smallest multiple of st >= x, with a little rounding slack
        return np.where(x > 0, np.ceil(x / st - 1e-9) * st, 0.0)

    out = np.maximum(step_up(mins, step)[None, :], step_up(hours / prod[None, :], step))
    pos = {r: j for j, r in enumerate(core)}
    rules = [rule for rule in data.supervision if rule.supervisor in pos]
    for _ in range(len(rules) + 1):
        changed = False
        for rule in rules:
            j = pos[rule.supervisor]
            subs = [pos[r] for r in rule.supervises if r in pos]
            load = out[:, subs].sum(axis=1) if subs else np.zeros(len(out))
            want = step_up(load / rule.max_ratio, step[j])
            raise_ = want > out[:, j] + 1e-9
            if raise_.any():
                out[raise_, j] = want[raise_]
                changed = True
        if not changed:
            break
    return {(s, r): float(out[i, j]) for i, s in enumerate(ix.site_ids)
            for j, r in enumerate(core)}


def _fte(m, u, r, step):
    return step * m.fte_steps[u, r]


def add_staff_only_at_open_hubs(m, data, ix) -> None:
    r"""Core staff only at open hubs, within a tight big-M.

    .. math:: fte_{s,r} \le M_{s,r}\, open\_site_s \quad \forall s, r \in CORE\_ROLES

    :math:`M_{s,r}` (the mutable parameter ``staff_fte_max``) is from
    :func:`staff_fte_max_values`: what the demand the site can reach could ever need.
    """
    if not ix.core_roles or not ix.site_ids:
        return
    index = [(s, r) for s in ix.site_ids for r in ix.core_roles]
    m.staff_fte_max = pyo.Param(index, mutable=True,
                                initialize=staff_fte_max_values(data, ix, 1.0), doc="[FTE]")
    step = data.roles["fte_step"].astype(float).to_dict()

    def _staff_only_at_open_hubs_rule(m, s, r):
        return LinearExpression(constant=0.0, linear_coefs=[step[r], -m.staff_fte_max[s, r]],
                                linear_vars=[m.fte_steps[s, r], m.open_site[s]]) <= 0.0

    m.staff_only_at_open_hubs = pyo.Constraint(index, rule=_staff_only_at_open_hubs_rule)


def add_site_capacity_fte(m, data, ix) -> None:
    r"""A hub holds no more core FTE than its capacity.

    .. math:: \sum_{r \in CORE\_ROLES} fte_{s,r} \le capacity\_fte_s\, open\_site_s
              \quad \forall s: capacity\_fte_s < \infty
    """
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


def add_core_minimum_fte(m, data, ix) -> None:
    r"""Every open hub has its MDT: at least the minimum FTE of each core role.

    .. math:: fte_{s,r} \ge min\_fte\_per\_hub_r\, open\_site_s
              \quad \forall s, r \in CORE\_ROLES: min\_fte\_per\_hub_r > 0

    (Specialists sit in pools, so ``min_fte_per_hub`` applies to core roles only.)
    """
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


def _demand_terms(assign, ix, ks, col):
    d = ix.demand[ix.pair_area[ks], col]
    nz = d > 0
    return [float(x) for x in d[nz]], [assign[k] for k in ks[nz]]


def _add_demand_covered(m, data, ix, name: str, units: dict, roles: list) -> None:
    """Add constraint ``name``: staff hours of each (unit, role) + unmet >= scaled demand.

    ``units`` maps each staffing unit (hub or pool) to the positions of the pairs whose demand
    it serves; rows are made only where that demand is non-zero.
    """
    prod = data.roles["productive_hours_per_fte"].astype(float).to_dict()
    step = data.roles["fte_step"].astype(float).to_dict()
    assign = list(m.assign.values())
    terms = {}
    for u, ks in units.items():
        for r in roles:
            coefs, xs = _demand_terms(assign, ix, ks, ix.roles.index(r))
            if coefs:
                terms[u, r] = (coefs, xs)
    if not terms:
        return
    scale = m.demand_scale

    def _demand_covered_rule(m, u, r):
        coefs, xs = terms[u, r]
        supply = LinearExpression(constant=0.0, linear_coefs=[prod[r] * step[r], 1.0],
                                  linear_vars=[m.fte_steps[u, r], m.unmet_hours[u, r]])
        demand = LinearExpression(constant=0.0, linear_coefs=coefs, linear_vars=xs)
        return supply - scale * demand >= 0.0

    m.add_component(name, pyo.Constraint(list(terms), rule=_demand_covered_rule))


def add_core_demand_covered(m, data, ix) -> None:
    r"""Core demand assigned to a hub is delivered by its staff, or counted as unmet.

    .. math:: h_r\, fte_{s,r} + unmet_{s,r} \ge \lambda \sum_{a} d_{a,r}\, assign_{a,s}
              \quad \forall s, r \in CORE\_ROLES

    :math:`h_r` productive hours per FTE [h/yr], :math:`d_{a,r}` demand hours [h/yr],
    :math:`\lambda` the mutable ``demand_scale`` (1). Only (s, r) the site's reachable areas
    create demand for.
    """
    if not ix.core_roles:
        return
    units = {s: ix.pairs_by_site[s] for s in ix.site_ids if s in ix.pairs_by_site}
    _add_demand_covered(m, data, ix, "core_demand_covered", units, ix.core_roles)


def add_pool_demand_covered(m, data, ix) -> None:
    r"""Specialist demand of the pairs a pool serves is delivered by the pool, or unmet.

    .. math:: h_r\, fte_{p,r} + unmet_{p,r} \ge \lambda
              \sum_{(a,s) \in PAIRS: pool_{a,s} = p} d_{a,r}\, assign_{a,s}
              \quad \forall p \in POOLS, r \in SPECIALIST\_ROLES
    """
    if not ix.specialist_roles or not ix.pools:
        return
    units = {p: ix.pairs_by_pool[p] for p in ix.pools}
    _add_demand_covered(m, data, ix, "pool_demand_covered", units, ix.specialist_roles)


def add_agency_share_max(m, data, ix) -> None:
    r"""Agency staff are part of the unit's FTE, at most the role's share of it.

    .. math:: agency\_fte_{u,r} \le share_r\, fte_{u,r}
              \quad \forall (u,r) \in STAFF: share_r > 0

    (With ``max_agency_share`` 0 the variable's bounds are (0, 0) instead.)
    """
    if not ix.staff:
        return
    share = data.roles["max_agency_share"].astype(float).to_dict()
    step = data.roles["fte_step"].astype(float).to_dict()
    index = [(u, r) for u, r in ix.staff if share[r] > 0]
    if not index:
        return

    def _agency_share_max_rule(m, u, r):
        return LinearExpression(constant=0.0, linear_coefs=[1.0, -share[r] * step[r]],
                                linear_vars=[m.agency_fte[u, r], m.fte_steps[u, r]]) <= 0.0

    m.agency_share_max = pyo.Constraint(index, rule=_agency_share_max_rule)


def add_supervision_ratio(m, data, ix) -> None:
    r"""Enough supervisors in each unit for the staff they supervise.

    .. math:: ratio_k\, fte_{u,sup_k} \ge \sum_{r \in supervises_k: (u,r) \in STAFF} fte_{u,r}
              \quad \forall k, u: (u, sup_k) \in STAFF

    Supervision is within a unit: a hub's supervisor supervises that hub's core staff, a pool's
    its specialists; supervised roles not staffed in the unit do not count there.
    """
    if not data.supervision or not ix.staff:
        return
    staff = set(ix.staff)
    step = data.roles["fte_step"].astype(float).to_dict()
    units = list(dict.fromkeys(u for u, _ in ix.staff))
    index = []
    for k, rule in enumerate(data.supervision):
        for u in units:
            if (u, rule.supervisor) in staff and any((u, r) in staff for r in rule.supervises):
                index.append((u, k))
    if not index:
        return
    rules = data.supervision

    def _supervision_ratio_rule(m, u, k):
        rule = rules[k]
        sup = [r for r in rule.supervises if (u, r) in staff and r != rule.supervisor]
        coefs = [rule.max_ratio * step[rule.supervisor]] + [-step[r] for r in sup]
        xs = [m.fte_steps[u, rule.supervisor]] + [m.fte_steps[u, r] for r in sup]
        return LinearExpression(constant=0.0, linear_coefs=coefs, linear_vars=xs) >= 0.0

    m.supervision_ratio = pyo.Constraint(index, rule=_supervision_ratio_rule)

"""Staffing in the heuristic start: one unit's FTE steps and cost, vectorised over any leading
dimensions (:func:`unit_steps`, :func:`unit_cost`), and a whole plan's steps, agency, unmet
hours and budget (:func:`_staffing`, :func:`_supply_agency`, :func:`_fit_limits`).
"""

from __future__ import annotations

import math

import numpy as np

from .instance import _STEP_EPS, _Instance, _Roles


def unit_steps(hours: np.ndarray, roles: _Roles, positions: np.ndarray,
               minimum: bool, need: bool = False):
    """FTE steps a unit needs for ``hours`` of demand of the roles at ``positions``.

    Rounded up to whole steps (``ceil(hours / (productive hours x step))``), at least the
    roles' minimum when ``minimum`` (an open hub), supervisors raised until every supervision
    ratio among these roles holds.

    Parameters
    ----------
    hours : ndarray, shape (..., len(positions))
        Demand hours of each role [hours/year].
    roles : _Roles
    positions : ndarray of int
        The roles of the unit (core roles for a hub, specialist roles for a pool).
    minimum : bool
        Apply the per-hub minimum.
    need : bool
        Also return the fractional requirement behind each count of steps.

    Returns
    -------
    ndarray, same shape as ``hours``
        Whole numbers of steps; with ``need``, ``(steps, requirement)`` where the requirement
        is the larger of demand / (hours per step) and, for a supervisor, the steps the
        supervision ratio asks for the unrounded requirement of the staff it supervises
        (before rounding up and before the minimum) [steps].

    Examples
    --------
    >>> r = _Roles(step=np.array([0.5, 1.0]), prod=np.array([1000.0, 1000.0]),
    ...            cost=np.zeros(2), premium=np.zeros(2), share=np.zeros(2),
    ...            min_steps=np.array([4.0, 1.0]), core=np.array([0, 1]),
    ...            spec=np.array([], int), rules=[(1, np.array([0]), 8.0)])
    >>> unit_steps(np.array([[6100.0, 0.0]]), r, r.core, True).tolist()  # 6.5 FTE, 1 manager
    [[13.0, 1.0]]
    >>> unit_steps(np.array([[8100.0, 0.0]]), r, r.core, True).tolist()  # 8.5 FTE: 2 managers
    [[17.0, 2.0]]
    """
    step = roles.step[positions]
    per_step = roles.prod[positions] * step
    x = np.divide(hours, per_step, out=np.zeros_like(hours, dtype=float),
                  where=per_step > 0)
    x = np.maximum(x, 0.0)
    steps = np.ceil(x - _STEP_EPS).clip(min=0.0)
    if minimum:
        steps = np.maximum(steps, roles.min_steps[positions])
    rules = _local_rules(roles, positions)
    for _ in range(len(rules) + 1):
        changed = False
        for sup, inside, ratio in rules:
            load = (steps[..., inside] * step[inside]).sum(axis=-1)
            want = np.ceil(load / (ratio * step[sup]) - _STEP_EPS).clip(min=0.0)
            if np.any(want > steps[..., sup]):
                steps[..., sup] = np.maximum(steps[..., sup], want)
                changed = True
        if not changed:
            break
    if not need:
        return steps
    # the requirement behind a supervisor: what the unrounded staff it supervises ask for
    for sup, inside, ratio in rules:
        load = (x[..., inside] * step[inside]).sum(axis=-1)
        x[..., sup] = np.maximum(x[..., sup], load / (ratio * step[sup]))
    return steps, x


def _local_rules(roles: _Roles, positions: np.ndarray) -> list:
    """Supervision rules among the roles at ``positions``, by position in ``positions``
    (cached on ``roles``)."""
    key = tuple(int(p) for p in positions)
    rules = roles.cache.get(key)
    if rules is None:
        local = {p: i for i, p in enumerate(key)}
        rules = []
        for sup, subs, ratio in roles.rules:
            if int(sup) in local:
                inside = [local[int(x)] for x in subs if int(x) in local]
                if inside:
                    rules.append((local[int(sup)], np.asarray(inside), ratio))
        roles.cache[key] = rules
    return rules


def unit_cost(steps: np.ndarray, roles: _Roles, positions: np.ndarray) -> np.ndarray:
    """Annual cost of ``steps`` (no agency) [GBP/year]."""
    return (steps * (roles.step[positions] * roles.cost[positions])).sum(axis=-1)



def _staffing(inst: _Instance, ix, is_open: np.ndarray, pair: np.ndarray,
              extra_site: np.ndarray | None = None, extra_pool: np.ndarray | None = None):
    """(steps, hours) per ``ix.staff`` entry for the plan, before budget and supply;
    ``extra_site`` (sites x roles) and ``extra_pool`` (pools x roles) add hours, e.g. the
    levers' people [hours/year]."""
    n_staff = len(ix.staff)
    steps = np.zeros(n_staff)
    hours = np.zeros(n_staff)
    if not n_staff:
        return steps, hours
    r = inst.roles
    site = inst.pair_site[pair]
    H = np.zeros((inst.n_s, len(ix.roles)))
    d = inst.pair_demand[pair]  # the areas' demand, with the trips from this site
    np.add.at(H, site, d)
    Q = np.zeros((max(inst.n_pools, 1), len(ix.roles)))
    pools = inst.pair_pool[pair]
    has = pools >= 0
    np.add.at(Q, pools[has], d[has])
    if extra_site is not None:
        H = H + extra_site
    if extra_pool is not None and inst.n_pools:
        Q = Q + extra_pool
    hub_steps = unit_steps(H[:, r.core], r, r.core, True) if len(r.core) else None
    pool_steps = unit_steps(Q[:, r.spec], r, r.spec, False) if len(r.spec) else None
    site_pos = {s: i for i, s in enumerate(ix.site_ids)}
    pool_pos = {p: i for i, p in enumerate(ix.pools)}
    role_pos = {x: i for i, x in enumerate(ix.roles)}
    core_col = {int(p): c for c, p in enumerate(r.core)}
    spec_col = {int(p): c for c, p in enumerate(r.spec)}
    for i, (u, role) in enumerate(ix.staff):
        rp = role_pos[role]
        if u in site_pos and rp in core_col:
            s = site_pos[u]
            hours[i] = H[s, rp]
            steps[i] = hub_steps[s, core_col[rp]] if is_open[s] else 0.0
        elif u in pool_pos and rp in spec_col:
            p = pool_pos[u]
            hours[i] = Q[p, rp]
            steps[i] = pool_steps[p, spec_col[rp]]
    return steps, hours


def _unit_groups(ix) -> dict:
    """unit -> positions in ``ix.staff``."""
    out: dict = {}
    for i, (u, _) in enumerate(ix.staff):
        out.setdefault(u, []).append(i)
    return out


def _supply_agency(inst: _Instance, ix, steps: np.ndarray) -> np.ndarray | None:
    """Least agency FTE that keeps each role's permanent FTE within its supply (spread in
    proportion to each unit's FTE), or ``None`` when the agency share cannot cover it."""
    agency = np.zeros(len(steps))
    if not np.isfinite(inst.supply).any():
        return agency
    role_pos = {x: i for i, x in enumerate(ix.roles)}
    rp = np.array([role_pos[r] for _, r in ix.staff], dtype=int)
    fte = steps * inst.roles.step[rp]
    for r in np.flatnonzero(np.isfinite(inst.supply)):
        mine = rp == r
        total = float(fte[mine].sum())
        excess = total - inst.supply[r]
        if excess <= 1e-9:
            continue
        frac = excess / total
        if frac > inst.roles.share[r] + 1e-12:
            return None
        agency[mine] = fte[mine] * frac
    return agency


def _plan_cost(inst: _Instance, ix, is_open, pair, steps, agency) -> float:
    role_pos = {x: i for i, x in enumerate(ix.roles)}
    rp = np.array([role_pos[r] for _, r in ix.staff], dtype=int)
    r = inst.roles
    cost = float((steps * r.step[rp] * r.cost[rp]).sum()) if len(rp) else 0.0
    cost += float((agency * r.cost[rp] * r.premium[rp]).sum()) if len(rp) else 0.0
    return cost + float(inst.site_cost[is_open].sum()) + float(inst.pair_mileage[pair].sum())


def _short_roles(inst: _Instance, ix, steps: np.ndarray) -> np.ndarray:
    """Per ``ix.staff`` entry: whether its role's supply cannot be kept even with agency at
    the role's full share."""
    role_pos = {x: i for i, x in enumerate(ix.roles)}
    rp = np.array([role_pos[r] for _, r in ix.staff], dtype=int)
    fte = steps * inst.roles.step[rp]
    total = np.bincount(rp, weights=fte, minlength=len(ix.roles))
    permanent_max = total * (1.0 - inst.roles.share)
    short = permanent_max > inst.supply + 1e-9
    return short[rp]


def _fit_limits(inst: _Instance, ix, is_open, pair, steps, hours):
    """Cut FTE steps (``max_demand_met``) until the plan keeps the budget cap and every
    role's supply (agency covering the rest, within its share).

    Each round cuts the step that loses the fewest demand hours per GBP saved (only steps of
    roles short of supply while any is), never below a hub's minimum nor below what a
    supervisor must supervise; a role left with more staff than its demand is then cut back
    to its demand. Returns the new steps, or ``None`` when the limits cannot be met this way.
    """
    role_pos = {x: i for i, x in enumerate(ix.roles)}
    rp = np.array([role_pos[r] for _, r in ix.staff], dtype=int)
    r = inst.roles
    steps = steps.copy()
    site_pos = {s: i for i, s in enumerate(ix.site_ids)}
    is_hub = np.array([u in site_pos for u, _ in ix.staff], dtype=bool)
    floor_min = np.where(is_hub, r.min_steps[rp], 0.0)
    groups = {u: np.asarray(m) for u, m in _unit_groups(ix).items()}
    unit_of = [u for u, _ in ix.staff]
    step_cost = r.step[rp] * r.cost[rp]
    per_step_hours = r.prod[rp] * r.step[rp]
    budget = np.inf if inst.budget is None else inst.budget

    def floors():
        # the least each entry may hold: its minimum, and for supervisors what they supervise
        f = floor_min.copy()
        for members in groups.values():
            local = {int(rp[i]): i for i in members}
            for sup, subs, ratio in r.rules:
                if int(sup) not in local:
                    continue
                inside = [local[int(x)] for x in subs if int(x) in local]
                if not inside:
                    continue
                load = float((steps[inside] * r.step[rp[inside]]).sum())
                i = local[int(sup)]
                f[i] = max(f[i], math.ceil(load / (ratio * r.step[sup]) - _STEP_EPS))
        return f

    for _ in range(int(steps.sum()) + 10):
        agency = _supply_agency(inst, ix, steps)
        if agency is not None and _plan_cost(inst, ix, is_open, pair, steps, agency) <= budget:
            return steps
        can = steps > floors() + 0.5
        if agency is None:
            can &= _short_roles(inst, ix, steps)
        if not can.any():
            return None
        covered = np.minimum(hours, per_step_hours * steps)
        lost = covered - np.minimum(hours, per_step_hours * (steps - 1))
        i = int(np.argmin(np.where(can, lost / np.maximum(step_cost, 1e-9), np.inf)))
        steps[i] -= 1
        # roles of this unit left above their demand (a supervisor freed of supervision)
        f = floors()
        for j in groups[unit_of[i]]:
            if per_step_hours[j] > 0 and steps[j] > f[j]:
                need = math.ceil(hours[j] / per_step_hours[j] - _STEP_EPS)
                steps[j] = max(f[j], min(steps[j], need))
    return None

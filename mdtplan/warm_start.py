"""A complete MIP start: a heuristic plan with every variable of the model set.

HiGHS takes a MIP start as its first incumbent only when the start is feasible. A start that
sets some variables only is *completed* by a sub-MIP over the rest (up to
``mip_max_start_nodes`` nodes): on Kent's 902 LSOAs that sub-MIP ran for 47 s and found
nothing, and the plan HiGHS then found on its own cost 4.5 times the one built here. So the
start built here sets every variable:

1. **Hubs** (:func:`_choose_hubs`): required sites, then greedy adding by the travel (or cost)
   saved, improved by one-out-one-in swaps (Teitz and Bart's vertex substitution); the count
   is the fewest the band allows (or, with priced travel, as many as pay for themselves).
2. **Assignment** (:func:`_assign_within_room`): each area to the nearest open hub with room,
   then hubs below the band minimum take areas from hubs that can spare them.
3. **Local search** (:class:`_Search`): areas are moved (one at a time, or two swapped between
   hubs) while the plan gets better on the objective's own terms: first the band and capacity
   shortfalls (so a packing the greedy step could not find is repaired), then the first
   stage's quantity computed exactly (each hub's staff rounded up to FTE steps, minimums and
   supervision included), then the next stage's. Several hub counts are tried, each within
   the time allowed; the best plan is kept and improved by iterated local search (random
   kicks of a few areas, :func:`_perturb`); a last search without the potential lets the
   next stage (travel) decide between plans of equal cost.
4. **Staffing** (:func:`_staffing`): each unit's FTE steps rounded up from its assigned demand,
   at least the role's minimum, supervisors raised until every supervision ratio holds;
   agency only where a supply limit binds (within the agency share); unmet hours 0, or, for
   ``max_demand_met`` under a budget cap or supply limits, the steps that cost most per
   hour of demand met are cut until the plan keeps them (:func:`_fit_limits`);
   ``max_travel_cost`` is the longest trip.

The start is only a start: it never changes the optimum, only the time to reach it.
:class:`mdtplan.solve.Session` checks it against every compiled row before handing it to
HiGHS, and gives only the hubs and assignment when it is not feasible.

Nothing here reads files, prints or calls a solver.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from time import perf_counter

import numpy as np
import pyomo.environ as pyo

#: tolerance on rounding demand up to FTE steps (steps are whole numbers)
_STEP_EPS = 1e-9


class _Work:
    """A deterministic budget for the search: units of work (numbers evaluated), so the
    same model gives the same start on any machine; a wall-clock backstop (twice the
    seconds, plus half a second) only guards a badly overloaded one. ``stop`` (a callable,
    e.g. a cancel flag's ``is_set``) ends the budget at once when it returns true.

    ``seconds`` are turned into units at :attr:`RATE`; every evaluation also costs
    :attr:`PER_CALL` (numpy's overhead per call dominates on county-sized models). Both were
    fitted on a 2-core machine (Kent LSOA and MSOA, Leicestershire, the demo: within about
    30%).
    """

    RATE = 2.5e7  # units per second
    PER_CALL = 3.0e4  # units per evaluation

    def __init__(self, seconds: float, stop: Callable[[], bool] | None = None):
        self.limit = max(float(seconds), 0.0) * self.RATE
        self.used = 0.0
        self._hard = perf_counter() + 2.0 * max(float(seconds), 0.0) + 0.5
        self.stop = stop
        self.stopped = False

    def spend(self, units: float) -> None:
        self.used += float(units) + self.PER_CALL

    def mark(self, share: float) -> float:
        """The unit count at which ``share`` of what is left will be used."""
        return self.used + max(self.limit - self.used, 0.0) * share

    def over(self, mark: float | None = None) -> bool:
        """Whether ``mark`` (default: the whole budget) is reached, or ``stop`` said so."""
        if self.stopped or (self.stop is not None and self.stop()):
            self.stopped = True
            return True
        return self.used >= (self.limit if mark is None else mark) or perf_counter() > self._hard


@dataclass
class _Roles:
    """Role parameters as arrays in ``ix.roles`` order, and supervision by position."""

    step: np.ndarray
    prod: np.ndarray
    cost: np.ndarray
    premium: np.ndarray
    share: np.ndarray
    min_steps: np.ndarray  # core roles' minimum per open hub [steps]; 0 for specialists
    core: np.ndarray  # positions of core roles
    spec: np.ndarray  # positions of specialist roles
    rules: list  # (supervisor position, supervised positions, ratio)
    cache: dict = field(default_factory=dict)


@dataclass
class _Instance:
    """The model's data and current parameter values, as arrays for the heuristic."""

    n_a: int
    n_s: int
    pair_area: np.ndarray
    pair_site: np.ndarray
    pair_travel: np.ndarray  # travel cost of each pair (unweighted) [travel unit]
    pair_coef: np.ndarray  # coefficient of each pair in total_travel
    pair_pool: np.ndarray  # pool position of each pair, -1 where none
    n_pools: int
    weight: np.ndarray
    room: np.ndarray  # most weight each site may serve (band max, capacity)
    pmin: float
    k_lo: int
    k_hi: int
    must_open: np.ndarray
    may_open: np.ndarray
    site_cost: np.ndarray  # GBP/year when open
    cap_fte: np.ndarray  # core FTE capacity per site (inf = none)
    demand: np.ndarray  # (areas, roles) [hours/year], scaled
    roles: _Roles
    price: float  # GBP per unit of travel in the cost stage
    stages: list
    budget: float | None
    supply: np.ndarray  # per role, inf = unlimited
    unmet_allowed: bool
    dense_cost: np.ndarray | None = None  # (areas, sites) travel coefficient, inf = not allowed
    pair_index: np.ndarray | None = None  # (areas, sites) pair position, -1 = not allowed


def _value(param, default=None):
    v = pyo.value(param, exception=False)
    return default if v is None else v


def _instance(model) -> _Instance:
    """Read ``model`` (data, index and the current values of its mutable parameters)."""
    from .model.families.budget_cap import site_cost_gbp
    from .model.objective import objective_stages, travel_coefficients

    ix = model.mdtplan_index
    data = model.mdtplan_data
    n_a, n_s = len(ix.area_ids), len(ix.site_ids)
    scale = float(_value(model.demand_scale, 1.0))
    roles = data.roles
    R = len(ix.roles)

    def col(name, default=0.0):
        if not R:
            return np.zeros(0)
        return roles[name].reindex(ix.roles).astype(float).fillna(default).to_numpy()

    kind = roles["kind"].reindex(ix.roles).astype(str).to_numpy() if R else np.array([])
    step = col("fte_step", 1.0)
    core = np.flatnonzero(kind == "core")
    spec = np.flatnonzero(kind == "specialist")
    min_steps = np.zeros(R)
    if len(core):
        mins = col("min_fte_per_hub")
        min_steps[core] = np.ceil(mins[core] / step[core] - _STEP_EPS).clip(min=0)
    pos = {r: i for i, r in enumerate(ix.roles)}
    rules = []
    for rule in data.supervision:
        if rule.supervisor in pos:
            subs = [pos[r] for r in rule.supervises if r in pos and r != rule.supervisor]
            rules.append((pos[rule.supervisor], np.asarray(subs, dtype=int),
                          float(rule.max_ratio)))
    role_arrays = _Roles(step=step, prod=col("productive_hours_per_fte", 1.0),
                         cost=col("cost_gbp_per_fte"), premium=col("agency_premium"),
                         share=col("max_agency_share"), min_steps=min_steps, core=core,
                         spec=spec, rules=rules)

    row_of = {s: i for i, s in enumerate(data.sites.index.tolist())}
    if len(row_of) == len(data.sites) and all(s in row_of for s in ix.site_ids):
        rows = [row_of[s] for s in ix.site_ids]  # by position: a reindex costs more

        def site_column(name):
            return data.sites[name].astype(float).to_numpy()[rows]
    else:
        sites = data.sites.reindex(ix.site_ids)

        def site_column(name):
            return sites[name].astype(float).to_numpy()
    cap = site_column("capacity")
    room = np.where(np.isnan(cap), np.inf, cap)
    pmax = _value(model.hub_population_upper) if hasattr(model, "hub_population_max") else None
    if pmax is not None:
        room = np.minimum(room, float(pmax))
    pmin = _value(model.hub_population_lower) if hasattr(model, "hub_population_min") else None
    cap_fte = site_column("capacity_fte")
    cap_fte = np.where(np.isnan(cap_fte), np.inf, cap_fte)
    lb = np.array([_value(v.lower, 0.0) for v in model.open_site.values()], dtype=float)
    ub = np.array([_value(v.upper, 1.0) for v in model.open_site.values()], dtype=float)
    must_open, may_open = lb > 0.5, ub > 0.5
    k_lo = int(_value(model.hub_count_lower, 0) or 0) if hasattr(model, "hub_count_min") else 0
    k_hi = n_s
    if hasattr(model, "hub_count_max") and _value(model.hub_count_upper) is not None:
        k_hi = min(k_hi, int(_value(model.hub_count_upper)))
    pools = {p: i for i, p in enumerate(ix.pools)}
    pair_pool = (np.array([pools.get(p, -1) if p is not None else -1 for p in ix.pair_pool],
                          dtype=int) if pools else np.full(len(ix.pair_pool), -1, dtype=int))
    supply = np.full(R, np.inf)
    for r, v in data.supply_fte.items():
        if r in pos:
            supply[pos[r]] = float(v)
    budget = _value(model.budget_cap_gbp) if hasattr(model, "budget_cap") else None
    stages = list(model.STAGES) if hasattr(model, "STAGES") else objective_stages(data, ix)
    price = float(data.travel_cost_gbp_per_unit or 0.0)
    return _Instance(
        n_a=n_a, n_s=n_s, pair_area=ix.pair_area, pair_site=ix.pair_site,
        pair_travel=np.asarray(ix.travel_cost, dtype=float),
        pair_coef=np.asarray(travel_coefficients(data, ix), dtype=float),
        pair_pool=pair_pool, n_pools=len(ix.pools), weight=np.asarray(ix.weight, float),
        room=room, pmin=float(pmin) if pmin else 0.0, k_lo=k_lo, k_hi=k_hi,
        must_open=must_open, may_open=may_open,
        site_cost=site_cost_gbp(data, ix.site_ids), cap_fte=cap_fte,
        demand=np.asarray(ix.demand, dtype=float) * scale, roles=role_arrays, price=price,
        stages=stages, budget=None if budget is None else float(budget), supply=supply,
        unmet_allowed=data.objective == "max_demand_met")


# --------------------------------------------------------------------------------------------
# Staffing of one unit, vectorised over any leading dimensions


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


# --------------------------------------------------------------------------------------------
# Hubs and a first assignment


def _dense_cost(inst: _Instance) -> np.ndarray:
    if inst.dense_cost is None:
        cost = inst.pair_coef * (inst.price if _priced(inst) else 1.0)
        D = np.full((inst.n_a, inst.n_s), np.inf)
        D[inst.pair_area, inst.pair_site] = cost
        inst.dense_cost = D
    return inst.dense_cost


def _priced(inst: _Instance) -> bool:
    return inst.stages[0] == "cost_gbp" and inst.price > 0


def _count_range(inst: _Instance) -> tuple[int, int]:
    total = float(inst.weight.sum())
    k_lo = max(inst.k_lo, int(inst.must_open.sum()))
    finite = inst.room[np.isfinite(inst.room)]
    if len(finite) == inst.n_s and inst.n_s:
        k_lo = max(k_lo, math.ceil(total / float(finite.max()) - 1e-9))
    k_hi = min(inst.k_hi, int(inst.may_open.sum()))
    if inst.pmin > 0:
        k_hi = min(k_hi, max(int(total // inst.pmin), int(inst.must_open.sum())))
    return k_lo, k_hi


def _choose_hubs(inst: _Instance, target: int | None, work: _Work | None = None) -> np.ndarray:
    """Open sites: required ones, then greedy adding by what each saves, then swaps.

    ``target`` None: add while a site pays for itself (priced travel), at least ``k_lo``.
    """
    D = _dense_cost(inst)
    finite = np.isfinite(D)
    big = float(np.nanmax(np.where(finite, D, np.nan))) * 10 + 1 if finite.any() else 1.0
    Dm = np.where(finite, D, big)
    site_cost = inst.site_cost if _priced(inst) else np.zeros(inst.n_s)
    k_lo, k_hi = _count_range(inst)
    is_open = inst.must_open.copy()
    best = Dm[:, is_open].min(axis=1) if is_open.any() else np.full(inst.n_a, big * 10)
    goal = k_hi if target is None else target
    while is_open.sum() < goal:
        gain = np.maximum(best[:, None] - Dm, 0.0).sum(axis=0) - site_cost
        gain[is_open | ~inst.may_open] = -np.inf
        s = int(np.argmax(gain))
        if not np.isfinite(gain[s]):
            break
        if target is None and is_open.sum() >= k_lo and gain[s] <= 0 and (best < big).all():
            break
        is_open[s] = True
        best = np.minimum(best, Dm[:, s])
    _interchange(Dm, is_open, site_cost, inst.must_open, inst.may_open, work)
    return is_open


def _interchange(Dm: np.ndarray, is_open: np.ndarray, site_cost: np.ndarray,
                 keep_open: np.ndarray, may_open: np.ndarray | None = None,
                 work: _Work | None = None) -> None:
    """Improve ``is_open`` in place by best-improvement swaps (one site out, one in).

    The cost is ``sum_a min_{s open} Dm[a, s] + sum_{s open} site_cost[s]`` (the plan's cost
    when every area goes to its nearest open site): Teitz and Bart's vertex substitution.
    """
    rows = np.arange(Dm.shape[0])
    allowed = np.ones(len(is_open), bool) if may_open is None else may_open
    work = work or _Work(2.0)
    while not work.over():
        open_idx = np.flatnonzero(is_open)
        closed = np.flatnonzero(~is_open & allowed)
        if len(open_idx) < 1 or len(closed) < 1:
            return
        sub = Dm[:, open_idx]
        if len(open_idx) > 1:
            two = np.argpartition(sub, 1, axis=1)[:, :2]
            a, b = sub[rows, two[:, 0]], sub[rows, two[:, 1]]
            first = np.where(a <= b, two[:, 0], two[:, 1])
            d1, d2 = np.minimum(a, b), np.maximum(a, b)
        else:
            first = np.zeros(len(rows), dtype=int)
            d1 = sub[:, 0]
            d2 = np.full(len(rows), Dm.max() * 10 + 1)
        c1 = open_idx[first]
        Dc = Dm[:, closed]
        work.spend(Dc.size * 3)
        with_j = np.minimum(d1[:, None], Dc)
        base = with_j.sum(axis=0) - d1.sum() + site_cost[closed]
        best_delta, move = -1e-9 * max(1.0, float(d1.sum())), None
        for i in open_idx:
            if keep_open[i]:
                continue
            lose = c1 == i
            delta = base - site_cost[i]
            if lose.any():
                delta = delta + (np.minimum(d2[lose, None], Dc[lose]) - with_j[lose]).sum(axis=0)
            j = int(np.argmin(delta))
            if delta[j] < best_delta:
                best_delta, move = float(delta[j]), (i, closed[j])
        if move is None:
            return
        is_open[move[0]] = False
        is_open[move[1]] = True


def _assign_within_room(D: np.ndarray, weight: np.ndarray, is_open: np.ndarray,
                        room: np.ndarray, pmin: float | None) -> np.ndarray | None:
    """Each area to one open site within ``room``, every open site at least ``pmin``.

    Areas with the fewest open hubs in reach first (then the heaviest), each to its nearest
    open site with room; then, while a hub is under ``pmin``, move to it the area whose move
    costs least among those whose hub stays at or above ``pmin`` (the total shortfall falls
    with every move, so this ends). ``None`` when an area cannot be placed or a shortfall
    cannot be repaired.
    """
    n_a, n_s = D.shape
    load = np.zeros(n_s)
    chosen = np.full(n_a, -1)
    options = (np.isfinite(D) & is_open[None, :]).sum(axis=1)
    for a in np.lexsort((-weight, options)):  # fewest open hubs in reach first, then heaviest
        order = np.argsort(np.where(is_open, D[a], np.inf), kind="stable")
        for s in order:
            if not is_open[s] or not np.isfinite(D[a, s]):
                break
            if load[s] + weight[a] <= room[s] + 1e-9:
                chosen[a] = s
                load[s] += weight[a]
                break
        if chosen[a] < 0:
            return None
    if not pmin:
        return chosen
    rows = np.arange(n_a)
    for _ in range(4 * n_a + 10):
        short = np.flatnonzero(is_open & (load < pmin - 1e-9))
        if not len(short):
            return chosen
        s = short[np.argmax(pmin - load[short])]
        spare = load[chosen] - weight >= pmin - 1e-9
        ok = (np.isfinite(D[:, s]) & (chosen != s) & spare
              & (load[s] + weight <= room[s] + 1e-9) & (weight > 0))
        if not ok.any():
            return None
        extra = np.where(ok, D[:, s] - D[rows, chosen], np.inf)
        a = int(np.argmin(extra))
        load[chosen[a]] -= weight[a]
        load[s] += weight[a]
        chosen[a] = s
    return None


def _nearest_open(D: np.ndarray, is_open: np.ndarray) -> np.ndarray | None:
    """Each area to its nearest open site, room ignored (``None`` if one has none in reach)."""
    Do = np.where(is_open[None, :], D, np.inf)
    chosen = np.argmin(Do, axis=1)
    if not np.isfinite(Do[np.arange(D.shape[0]), chosen]).all():
        return None
    return chosen


# --------------------------------------------------------------------------------------------
# Local search on the plan's exact objective


def swap_pairs(s: np.ndarray, t: np.ndarray, n_sites: int) -> tuple[np.ndarray, np.ndarray]:
    """Every swap of two candidate moves: positions ``(i, j)`` with ``i`` a move from hub
    ``s[i]`` to ``t[i]`` and ``j`` one the other way (``s[j] == t[i]``, ``t[j] == s[i]``),
    ``s[i] < t[i]``.

    ``s``, ``t``: the moves sorted by ``(s, t)``. Returned grouped by ``(s, t)`` in that order,
    then by ``i``, then by ``j`` (the order the search ranks ties in). Made with whole-array
    operations: the search asks for it on every sweep (about a third of a county start's
    time went on doing it hub pair by hub pair).
    """
    key = s.astype(np.int64) * n_sites + t
    if not len(key):
        empty = np.zeros(0, np.int64)
        return empty, empty
    cuts = np.flatnonzero(np.diff(key)) + 1
    begin = np.r_[0, cuts]
    end = np.r_[cuts, len(key)]
    gs, gt = s[begin].astype(np.int64), t[begin].astype(np.int64)
    other = np.searchsorted(key[begin], gt * n_sites + gs)
    other = np.minimum(other, len(begin) - 1)
    ok = (gs < gt) & (key[begin][other] == gt * n_sites + gs)
    if not ok.any():
        empty = np.zeros(0, np.int64)
        return empty, empty
    b1, n1 = begin[ok], (end - begin)[ok]
    b2, n2 = begin[other[ok]], (end - begin)[other[ok]]
    size = n1 * n2
    first = np.repeat(np.cumsum(size) - size, size)
    local = np.arange(int(size.sum()), dtype=np.int64) - first
    across = np.repeat(n2, size)
    return np.repeat(b1, size) + local // across, np.repeat(b2, size) + local % across


class _Search:
    """Moves areas between open hubs while the plan improves.

    Moves are ranked lexicographically on: the band and capacity shortfall; the first stage's
    quantity; then, for a cost stage, a *potential* (below); then the next stage's quantity.
    The hubs stay open (no move empties one). Staff cost is computed exactly: a hub's cost is
    :func:`unit_cost` of :func:`unit_steps` of its demand.

    The cost of a hub is a staircase in its demand, flat between FTE steps, so single moves
    rarely change it. The potential, ``-sum (cost of a step) x fill^2`` over each unit's roles
    (``fill`` in (0, 1] is how much of its last FTE step a role uses, 0 where the minimum
    decides), falls when a nearly empty last step empties further and a nearly full one
    fills: it walks the search along the flat parts of the staircase towards plans where
    whole steps (a team manager for eight practitioners, above all) are saved.
    """

    def __init__(self, inst: _Instance, is_open: np.ndarray, chosen: np.ndarray,
                 supervision_caps: dict | None = None, work: _Work | None = None,
                 potential: bool = True):
        self.inst = inst
        self.potential = potential  # rank on the potential (else straight to the next stage)
        self.work = work or _Work(10.0)
        # rule position -> most supervised FTE a hub should hold (a target, not a rule)
        self.caps = supervision_caps or {}
        self.is_open = is_open
        self.chosen = chosen.copy()
        r = inst.roles
        self.core, self.spec = r.core, r.spec
        self.d_core = inst.demand[:, self.core]
        self.d_spec = inst.demand[:, self.spec]
        if inst.pair_index is None:
            inst.pair_index = np.full((inst.n_a, inst.n_s), -1, dtype=np.int64)
            inst.pair_index[inst.pair_area, inst.pair_site] = np.arange(len(inst.pair_area))
        self.cur_pair = inst.pair_index[np.arange(inst.n_a), self.chosen]
        self.packing = (np.isfinite(inst.room).any() or inst.pmin > 0
                        or bool(len(self.core) or len(self.spec)))
        primary = inst.stages[0]
        self.cost_first = primary in ("cost_gbp", "unmet_hours")
        self.max_travel = (float(inst.pair_travel[self.cur_pair].max())
                           if primary == "max_travel" else None)
        self._recount()

    # the state ------------------------------------------------------------------------------
    def _recount(self) -> None:
        inst = self.inst
        n_s = inst.n_s
        self.load = np.bincount(self.chosen, weights=inst.weight, minlength=n_s)
        self.count = np.bincount(self.chosen, minlength=n_s)
        self.H = np.zeros((n_s, len(self.core)))
        np.add.at(self.H, self.chosen, self.d_core)
        self.Q = np.zeros((max(inst.n_pools, 1), len(self.spec)))
        pools = inst.pair_pool[self.cur_pair]
        has = pools >= 0
        np.add.at(self.Q, pools[has], self.d_spec[has])
        self.hub_cost, self.hub_phi, self.hub_tv = self._hub_eval(self.H)
        self.hub_cost[~self.is_open] = 0.0
        self.hub_phi[~self.is_open] = 0.0
        self.hub_tv[~self.is_open] = 0.0
        self.pool_cost, self.pool_phi, _ = self._pool_eval(self.Q)

    def _eval(self, hours, positions, minimum, caps=None):
        """(cost, potential, supervision target excess [FTE]) of units with ``hours`` of the
        roles at ``positions``."""
        z = np.zeros(hours.shape[:-1])
        if not len(positions):
            return z, z.copy(), z.copy()
        r = self.inst.roles
        steps, need = unit_steps(hours, r, positions, minimum, need=True)
        cost = unit_cost(steps, r, positions)
        floor = r.min_steps[positions] if minimum else 0.0
        fill = np.where(steps > floor, need - (steps - 1.0), 0.0).clip(0.0, 1.0)
        phi = -(fill * fill * (r.step[positions] * r.cost[positions])).sum(axis=-1)
        excess = z.copy()
        if caps:
            local = {int(p): i for i, p in enumerate(positions)}
            for rule, cap in caps.items():
                _, subs, _ = r.rules[rule]
                inside = [local[int(x)] for x in subs if int(x) in local]
                load = (steps[..., inside] * r.step[positions][inside]).sum(axis=-1)
                excess = excess + np.maximum(load - cap, 0.0)
        return cost, phi, excess

    def _hub_eval(self, H):
        return self._eval(H, self.core, True, self.caps)

    def _pool_eval(self, Q):
        return self._eval(Q, self.spec, False)

    def _hub_fte(self, H):
        if not len(self.core):
            return np.zeros(H.shape[:-1])
        steps = unit_steps(H, self.inst.roles, self.core, True)
        return (steps * self.inst.roles.step[self.core]).sum(axis=-1)

    def _violation(self, load, s, H=None):
        """Band and capacity shortfall of hub(s) ``s`` at ``load`` (and core demand ``H``)."""
        inst = self.inst
        v = np.maximum(load - inst.room[s], 0.0) + np.maximum(inst.pmin - load, 0.0)
        if H is not None and np.isfinite(inst.cap_fte[s]).any():
            cap = inst.cap_fte[s]
            over = np.maximum(self._hub_fte(H) - cap, 0.0)
            v = v + np.where(np.isfinite(cap), over, 0.0) * 1e3
        return v

    def totals(self) -> tuple[float, float, float]:
        """(shortfall, first stage, second stage) of the current plan."""
        inst = self.inst
        open_idx = np.flatnonzero(self.is_open)
        v = float(self._violation(self.load[open_idx], open_idx, self.H[open_idx]).sum())
        travel = float(inst.pair_coef[self.cur_pair].sum())
        cost = float(self.hub_cost.sum() + self.pool_cost.sum()
                     + inst.site_cost[self.is_open].sum() + inst.price * travel)
        values = {"cost_gbp": cost, "travel": travel, "unmet_hours": cost,
                  "max_travel": float(inst.pair_travel[self.cur_pair].max())}
        first = values[inst.stages[0]]
        second = values[inst.stages[1]] if len(inst.stages) > 1 else 0.0
        if inst.stages[0] == "max_travel":
            second = travel
        return v, first, second

    def _keys(self, dv, dtv, dcost, dphi, dtravel) -> list:
        """Deltas in the order moves are ranked on."""
        total_cost = dcost + self.inst.price * dtravel
        if not self.potential:
            dphi = np.zeros_like(dphi)
        if self.cost_first:
            return [dv, dtv, total_cost, dphi, dtravel]
        # travel first (max_travel: the longest trip is held by the candidate filter)
        return [dv, dtravel, total_cost, dphi]

    # moves ----------------------------------------------------------------------------------
    def _candidates(self):
        """Allowed pairs to an open hub other than the area's own (relocation targets)."""
        inst = self.inst
        a, t = inst.pair_area, inst.pair_site
        ok = self.is_open[t] & (t != self.chosen[a]) & (self.count[self.chosen[a]] > 1)
        if self.max_travel is not None:
            ok &= inst.pair_travel <= self.max_travel + 1e-12
        return np.flatnonzero(ok)

    def relocate(self, mark: float) -> int:
        """Best-improvement relocations, applied in batches on distinct hubs, until none
        improves or the work ``mark`` is reached."""
        inst = self.inst
        moves = 0
        while not self.work.over(mark):
            k = self._candidates()
            if not len(k):
                break
            self.work.spend(len(k) * (len(self.core) + 4))
            a = inst.pair_area[k]
            t = inst.pair_site[k]
            s = self.chosen[a]
            w = inst.weight[a]
            dc = self.d_core[a]
            Hs, Ht = self.H[s] - dc, self.H[t] + dc
            dv = (self._violation(self.load[s] - w, s, Hs)
                  + self._violation(self.load[t] + w, t, Ht)
                  - self._violation(self.load[s], s, self.H[s])
                  - self._violation(self.load[t], t, self.H[t]))
            cs, ps, es = self._hub_eval(Hs)
            ct, pt, et = self._hub_eval(Ht)
            dcost = cs - self.hub_cost[s] + ct - self.hub_cost[t]
            dphi = ps - self.hub_phi[s] + pt - self.hub_phi[t]
            dtv = es - self.hub_tv[s] + et - self.hub_tv[t]
            p_old = inst.pair_pool[self.cur_pair[a]]
            p_new = inst.pair_pool[k]
            moved = (p_old != p_new) & (p_old >= 0) & (p_new >= 0)
            if moved.any() and len(self.spec):
                m = np.flatnonzero(moved)
                ds = self.d_spec[a[m]]
                c_o, f_o, _ = self._pool_eval(self.Q[p_old[m]] - ds)
                c_n, f_n, _ = self._pool_eval(self.Q[p_new[m]] + ds)
                dcost[m] += (c_o - self.pool_cost[p_old[m]] + c_n - self.pool_cost[p_new[m]])
                dphi[m] += (f_o - self.pool_phi[p_old[m]] + f_n - self.pool_phi[p_new[m]])
            dtravel = inst.pair_coef[k] - inst.pair_coef[self.cur_pair[a]]
            order = _improving(self._keys(dv, dtv, dcost, dphi, dtravel), self._tolerances())
            if not len(order):
                break
            touched = np.zeros(inst.n_s, dtype=bool)
            pools_touched = np.zeros(max(inst.n_pools, 1), dtype=bool)
            batch = []
            for i in order:
                si, ti = s[i], t[i]
                if touched[si] or touched[ti]:
                    continue
                if moved[i] and (pools_touched[p_old[i]] or pools_touched[p_new[i]]):
                    continue
                touched[si] = touched[ti] = True
                if moved[i]:
                    pools_touched[p_old[i]] = pools_touched[p_new[i]] = True
                batch.append(i)
            for i in batch:
                self._move(int(a[i]), int(t[i]), int(k[i]))
            moves += len(batch)
            self._refresh(np.unique(np.concatenate([s[batch], t[batch]])))
        return moves

    def swap(self, mark: float, chunk: int = 400_000) -> int:
        """One sweep of swaps (area a at hub s <-> area b at hub t, each allowed at the
        other's hub), all candidate pairs evaluated at once, the best applied first on
        distinct hubs; returns the number applied."""
        inst = self.inst
        k = self._candidates_any()
        if not len(k):
            return 0
        a = inst.pair_area[k]
        s = self.chosen[a]
        t = inst.pair_site[k]
        order = np.lexsort((t, s))
        a, s, t, k = a[order], s[order], t[order], k[order]
        ia, ib = swap_pairs(s, t, inst.n_s)
        if not len(ia):
            return 0
        if len(ia) > chunk:  # keep memory bounded: the best candidates by travel first
            keep = np.argsort(inst.pair_coef[k[ia]] + inst.pair_coef[k[ib]], kind="stable")
            ia, ib = ia[keep[:chunk]], ib[keep[:chunk]]
        self.work.spend(len(ia) * 2 * (len(self.core) + 4))
        A, kA, B, kB = a[ia], k[ia], a[ib], k[ib]
        si, ti = s[ia], t[ia]
        dA, dB = self.d_core[A], self.d_core[B]
        Hs = self.H[si] - dA + dB
        Ht = self.H[ti] + dA - dB
        wA, wB = inst.weight[A], inst.weight[B]
        dv = (self._violation(self.load[si] - wA + wB, si, Hs)
              + self._violation(self.load[ti] + wA - wB, ti, Ht)
              - self._violation(self.load[si], si, self.H[si])
              - self._violation(self.load[ti], ti, self.H[ti]))
        cs, ps, es = self._hub_eval(Hs)
        ct, pt, et = self._hub_eval(Ht)
        dcost = cs + ct - self.hub_cost[si] - self.hub_cost[ti]
        dphi = ps + pt - self.hub_phi[si] - self.hub_phi[ti]
        dtv = es + et - self.hub_tv[si] - self.hub_tv[ti]
        coef = inst.pair_coef
        dtravel = (coef[kA] - coef[self.cur_pair[A]]) + (coef[kB] - coef[self.cur_pair[B]])
        best = _improving(self._keys(dv, dtv, dcost, dphi, dtravel), self._tolerances())
        if not len(best):
            return 0
        touched = np.zeros(inst.n_s, dtype=bool)
        applied = 0
        for i in best:
            x, y = si[i], ti[i]
            if touched[x] or touched[y]:
                continue
            touched[x] = touched[y] = True
            self._move(int(A[i]), int(y), int(kA[i]))
            self._move(int(B[i]), int(x), int(kB[i]))
            applied += 1
        self._refresh(np.flatnonzero(touched))
        return applied

    def _candidates_any(self):
        inst = self.inst
        a, t = inst.pair_area, inst.pair_site
        same_pool = inst.pair_pool == inst.pair_pool[self.cur_pair[a]]
        ok = self.is_open[t] & (t != self.chosen[a]) & same_pool
        if self.max_travel is not None:
            ok &= inst.pair_travel <= self.max_travel + 1e-12
        return np.flatnonzero(ok)

    def _move(self, a: int, t: int, k: int) -> None:
        inst = self.inst
        s = int(self.chosen[a])
        w = inst.weight[a]
        self.load[s] -= w
        self.load[t] += w
        self.count[s] -= 1
        self.count[t] += 1
        self.H[s] -= self.d_core[a]
        self.H[t] += self.d_core[a]
        p_old, p_new = inst.pair_pool[self.cur_pair[a]], inst.pair_pool[k]
        if p_old != p_new and len(self.spec):
            if p_old >= 0:
                self.Q[p_old] -= self.d_spec[a]
            if p_new >= 0:
                self.Q[p_new] += self.d_spec[a]
        self.chosen[a] = t
        self.cur_pair[a] = k

    def _refresh(self, hubs: np.ndarray) -> None:
        hubs = np.asarray(hubs, dtype=int)
        if len(hubs):
            self.hub_cost[hubs], self.hub_phi[hubs], self.hub_tv[hubs] = self._hub_eval(
                self.H[hubs])
        self.pool_cost, self.pool_phi, _ = self._pool_eval(self.Q)

    def _tolerances(self) -> list:
        v, first, second = self.totals()
        cost = float(self.hub_cost.sum() + self.pool_cost.sum())
        travel = float(self.inst.pair_coef[self.cur_pair].sum())
        t_cost = 1e-9 * max(1.0, abs(cost))
        t_travel = 1e-9 * max(1.0, abs(travel))
        if self.cost_first:
            return [1e-9, 1e-9, t_cost, t_cost, t_travel]
        return [1e-9, t_travel, t_cost, t_cost]

    def run(self, mark: float) -> None:
        """Relocations until none improves, then a sweep of swaps; repeat while either helps
        (until the work ``mark`` is reached)."""
        while not self.work.over(mark):
            self.relocate(mark)
            if not self.packing or self.work.over(mark) or not self.swap(mark):
                break  # without bands, capacities or staff, nearest is best: swaps cannot help


def _improving(keys: list, tols: list) -> np.ndarray:
    """Positions of improving moves, best first, lexicographically on ``keys`` (deltas; each
    within its tolerance of 0 counts as 0)."""
    rounded = [np.where(np.abs(k) <= t, 0.0, k) for k, t in zip(keys, tols, strict=True)]
    better = np.zeros(len(rounded[0]), dtype=bool)
    tied = np.ones(len(rounded[0]), dtype=bool)
    for k in rounded:
        better |= tied & (k < 0)
        tied &= k == 0
    idx = np.flatnonzero(better)
    if not len(idx):
        return idx
    return idx[np.lexsort([k[idx] for k in reversed(rounded)])]


# --------------------------------------------------------------------------------------------
# Staffing, agency, unmet hours and the budget


@dataclass
class StartPlan:
    """A complete heuristic plan (positions as in the model's index).

    Attributes
    ----------
    is_open : ndarray of bool, shape (sites,)
    chosen : ndarray of int, shape (areas,)
        Site position serving each area.
    pair : ndarray of int, shape (areas,)
        Pair position of each area's assignment.
    steps : ndarray, shape (len(ix.staff),)
        FTE steps of each (unit, role) in ``ix.staff`` order.
    agency_fte, unmet_hours : ndarray, shape (len(ix.staff),)
    max_travel : float
        Longest trip [travel unit].
    objective : tuple
        (shortfall, first stage, second stage) as the search saw them.
    feasible : bool
        Whether every rule the heuristic knows of holds (the session still checks the rows).
    seconds : float
        Time it took [s].
    notes : list of str
        Why the plan is not feasible, when it is not.
    stopped : bool
        Whether ``stop`` ended the search early (the plan is the best found until then).
    work_used : float
        Units of work the search spent (deterministic; see ``_Work``).
    """

    is_open: np.ndarray
    chosen: np.ndarray
    pair: np.ndarray
    steps: np.ndarray
    agency_fte: np.ndarray
    unmet_hours: np.ndarray
    max_travel: float
    objective: tuple
    feasible: bool
    seconds: float = 0.0
    notes: list = field(default_factory=list)
    stopped: bool = False
    work_used: float = 0.0


def _staffing(inst: _Instance, ix, is_open: np.ndarray, pair: np.ndarray):
    """(steps, hours) per ``ix.staff`` entry for the plan, before budget and supply."""
    n_staff = len(ix.staff)
    steps = np.zeros(n_staff)
    hours = np.zeros(n_staff)
    if not n_staff:
        return steps, hours
    r = inst.roles
    area = inst.pair_area[pair]
    site = inst.pair_site[pair]
    H = np.zeros((inst.n_s, len(ix.roles)))
    np.add.at(H, site, inst.demand[area])
    Q = np.zeros((max(inst.n_pools, 1), len(ix.roles)))
    pools = inst.pair_pool[pair]
    has = pools >= 0
    np.add.at(Q, pools[has], inst.demand[area[has]])
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
    return cost + float(inst.site_cost[is_open].sum())


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


# --------------------------------------------------------------------------------------------
# The whole start


def _counts_to_try(inst: _Instance, k_lo: int, k_hi: int, most: int = 4) -> list:
    """Hub counts to try, best guess first, each with its supervision targets (or ``None``).

    With priced travel the count is left to the greedy step (``None``). With travel first,
    the most hubs first. Otherwise each count is scored by what its average hub would cost
    (staff unrounded, supervisors rounded up: the team manager a hub of that size needs), and
    the ``most`` cheapest are tried; the supervision target of a count is the supervised FTE
    its average hub's supervisors can take (the local search aims every hub at it).
    """
    if _priced(inst):
        return [(None, None)]
    if inst.stages[0] in ("travel", "max_travel"):
        return [(k, None) for k in range(k_hi, max(k_lo, k_hi - most + 1) - 1, -1)]
    r = inst.roles
    core = r.core
    ks = np.arange(max(k_lo, 1), k_hi + 1)
    if not len(ks):
        return []
    if not len(core):
        return [(int(k), None) for k in ks[:most]]
    total = inst.demand[:, core].sum(axis=0)
    avg = total[None, :] / ks[:, None]
    steps, need = unit_steps(avg, r, core, True, need=True)
    local = {int(p): i for i, p in enumerate(core)}
    sup_rules = {i: local[int(sup)] for i, (sup, _, _) in enumerate(r.rules)
                 if int(sup) in local}
    sups = sorted(set(sup_rules.values()))
    smooth = np.maximum(need, r.min_steps[core])
    if sups:
        smooth[:, sups] = steps[:, sups]
    per_hub = (smooth * (r.step[core] * r.cost[core])).sum(axis=1)
    estimate = ks * per_hub
    order = np.argsort(estimate, kind="stable")[:most]
    out = []
    for i in order:
        caps = {rule: float(steps[i, j] * r.rules[rule][2] * r.step[core][j])
                for rule, j in sup_rules.items()}
        out.append((int(ks[i]), caps or None))
    return out


def build_start(model, *, max_seconds: float = 10.0, max_dense: int = 4_000_000,
                seed: int = 0, stop: Callable[[], bool] | None = None) -> StartPlan | None:
    """A complete heuristic plan for ``model`` (see the module docstring).

    Parameters
    ----------
    model : ConcreteModel
        From :func:`mdtplan.model.build.build_model`; the current values of its mutable
        parameters (band, count, budget, demand scale) and of the ``open_site`` bounds are
        used.
    max_seconds : float
        Time for the search (hub counts tried and local search) [s]; the construction of a
        first plan is not cut short.
    max_dense : int
        Largest areas x sites for the dense travel matrix the hub choice uses.
    seed : int
        Seed of the random kicks of the iterated local search (same seed, same start).
    stop : callable, optional
        Polled as the search goes (e.g. a cancel flag's ``is_set``); when it returns true the
        search ends at once and the best plan so far is returned (the first plan is always
        made: it takes a fraction of a second).

    Returns
    -------
    StartPlan or None
        ``None`` when no assignment was found (e.g. an area with no open site in reach).
    """
    t0 = perf_counter()
    work = _Work(0.8 * max_seconds, stop)  # the last fifth: the final search without the potential
    ix = model.mdtplan_index
    if not ix.area_ids or not ix.site_ids or not len(ix.pairs):
        return None
    if len(ix.area_ids) * len(ix.site_ids) > max_dense:
        return None
    inst = _instance(model)
    k_lo, k_hi = _count_range(inst)
    if k_lo > k_hi:
        return None
    counts = _counts_to_try(inst, k_lo, k_hi)
    best: _Search | None = None
    best_key = None
    D = _dense_cost(inst)
    for n, (target, caps) in enumerate(counts):
        if best is not None and work.over():
            break
        is_open = _choose_hubs(inst, target, work)
        chosen = _assign_within_room(D, inst.weight, is_open, inst.room, inst.pmin)
        if chosen is None:
            chosen = _nearest_open(D, is_open)
        if chosen is None:
            continue
        # share the work left between this count and the ones still to try
        share = 1.0 / (len(counts) - n)
        search = _Search(inst, is_open, chosen, caps, work)
        if caps:  # first towards the supervision targets, then on the plan's own terms
            search.run(work.mark(0.6 * share))
            search = _Search(inst, is_open, search.chosen, None, work)
            share = 0.4 * share / (1.0 - 0.6 * share)
        search.run(work.mark(share))
        key = search.totals()
        if best_key is None or _better(key, best_key):
            best, best_key = search, key
    if best is None:
        return None
    if not work.over():
        best.run(work.mark(1.0))
        best_key = best.totals()
    # kicks pay where the first stage is the staircase of staff costs (or travel with staff);
    # not for unmet hours, whose search only follows cost as a proxy
    staffed = bool(len(inst.roles.core) or len(inst.roles.spec))
    if staffed and inst.stages[0] in ("cost_gbp", "travel"):
        best, best_key = _perturb(inst, best, best_key, work, seed)
    if staffed and best.cost_first and len(inst.stages) > 1 and not work.stopped:
        # last, without the potential: at the same cost, the next stage (travel) decides
        final = _Search(inst, best.is_open, best.chosen, None, _Work(0.2 * max_seconds, stop),
                        potential=False)
        final.run(final.work.mark(1.0))
        best, best_key = final, final.totals()
    stopped = work.stopped or best.work.stopped
    work_used = work.used + (best.work.used if best.work is not work else 0.0)
    is_open, chosen, pair = best.is_open, best.chosen, best.cur_pair
    steps, hours = _staffing(inst, ix, is_open, pair)
    notes = []
    feasible = best_key[0] <= 1e-9
    if not feasible:
        notes.append("band or capacity shortfall left")
    agency = _supply_agency(inst, ix, steps)
    unmet = np.zeros(len(steps))
    role_pos = {x: i for i, x in enumerate(ix.roles)}
    rp = np.array([role_pos[r] for _, r in ix.staff], dtype=int)
    over = agency is None or (inst.budget is not None and _plan_cost(
        inst, ix, is_open, pair, steps, agency) > inst.budget)
    if inst.unmet_allowed and over:
        cut = _fit_limits(inst, ix, is_open, pair, steps, hours)
        if cut is None:
            feasible = False
            notes.append("could not fit the budget and supply")
        else:
            steps = cut
            agency = _supply_agency(inst, ix, steps)
    if agency is None:
        feasible = False
        notes.append("supply limits exceed the agency share")
        agency = np.zeros(len(steps))
    if len(steps):
        capacity = inst.roles.prod[rp] * inst.roles.step[rp] * steps
        unmet = np.maximum(hours - capacity, 0.0)
        if not inst.unmet_allowed and (unmet > 1e-6).any():
            feasible = False
            notes.append("demand left unmet")
            unmet[:] = 0.0
    if inst.budget is not None and _plan_cost(inst, ix, is_open, pair, steps, agency) > (
            inst.budget + 1e-6):
        feasible = False
        notes.append("over the budget cap")
    max_travel = float(inst.pair_travel[pair].max())
    return StartPlan(is_open=is_open.copy(), chosen=chosen.copy(), pair=pair.copy(),
                     steps=steps, agency_fte=agency, unmet_hours=unmet, max_travel=max_travel,
                     objective=best_key, feasible=feasible, seconds=perf_counter() - t0,
                     notes=notes, stopped=stopped, work_used=work_used)


def _perturb(inst: _Instance, best: _Search, best_key: tuple, work: _Work, seed: int,
             max_stall: int = 40) -> tuple:
    """Iterated local search: move a few random areas to other open hubs in reach, search
    again, keep the result when it is better; stop when the work is spent or ``max_stall``
    kicks in a row found nothing better.

    The staircase of staff costs has many local optima that single moves and swaps cannot
    leave; a kick of about one area in eighty (two to ten) is enough to leave one.
    """
    rng = np.random.default_rng(seed)
    size = int(min(10, max(2, inst.n_a // 80)))
    stall = 0
    while not work.over() and stall < max_stall:
        trial = _Search(inst, best.is_open, best.chosen, None, work)
        for a in rng.choice(inst.n_a, size=min(size, inst.n_a), replace=False):
            row = inst.pair_index[a]
            sites = np.flatnonzero((row >= 0) & best.is_open)
            sites = sites[sites != trial.chosen[a]]
            if len(sites) and trial.count[trial.chosen[a]] > 1:
                t = int(rng.choice(sites))
                trial._move(int(a), t, int(row[t]))
        trial._recount()
        trial.run(work.mark(1.0))
        key = trial.totals()
        if _better(key, best_key):
            best, best_key, stall = trial, key, 0
        else:
            stall += 1
    return best, best_key


def _better(a: tuple, b: tuple) -> bool:
    """Lexicographic comparison with a relative tolerance on each term."""
    for x, y in zip(a, b, strict=True):
        tol = 1e-9 * max(1.0, abs(x), abs(y))
        if x < y - tol:
            return True
        if x > y + tol:
            return False
    return False


def start_values(model, plan: StartPlan) -> dict:
    """``{VarData: value}`` for every variable of ``model`` the plan sets."""
    from pyomo.common.collections import ComponentMap

    ix = model.mdtplan_index
    out = ComponentMap()
    for s_i, v in enumerate(model.open_site.values()):
        out[v] = 1.0 if plan.is_open[s_i] else 0.0
    hit = np.zeros(len(ix.pairs), dtype=bool)
    hit[plan.pair] = True
    for k, v in enumerate(model.assign.values()):
        out[v] = 1.0 if hit[k] else 0.0
    if ix.staff:
        for i, key in enumerate(ix.staff):
            out[model.fte_steps[key]] = float(plan.steps[i])
            out[model.agency_fte[key]] = float(plan.agency_fte[i])
            out[model.unmet_hours[key]] = float(plan.unmet_hours[i])
    if hasattr(model, "max_travel_cost"):
        out[model.max_travel_cost] = plan.max_travel
    return out

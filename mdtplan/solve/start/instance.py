"""What the heuristic start reads (:class:`StartInput`: data, index, the parameters in force,
the ``open_site`` bounds, the stages), the arrays it works on (:func:`_instance`) and the
deterministic work budget of the search (:class:`_Work`).

:meth:`StartInput.of_model` is the one place the start reads a built Pyomo model; a session on
the direct build makes its ``StartInput`` from its own arrays
(:meth:`mdtplan.solve.view.ModelView.start_input`). Everything else in
:mod:`mdtplan.solve.start` works on plain arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from time import perf_counter
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ...model.data import ModelData
    from ...model.index import ModelIndex

#: tolerance on rounding demand up to FTE steps (steps are whole numbers)
_STEP_EPS = 1e-9


class _Work:
    """A deterministic budget for the search: units of work (numbers evaluated), so the
    same model gives the same start on any machine; a wall-clock backstop (twice the
    seconds, plus half a second) only guards a badly overloaded one (``hard=False`` drops it:
    then only the units count, whatever the machine's load). ``stop`` (a callable,
    e.g. a cancel flag's ``is_set``) ends the budget at once when it returns true.

    ``seconds`` are turned into units at :attr:`RATE`; every evaluation also costs
    :attr:`PER_CALL` (numpy's overhead per call dominates on county-sized models). Both were
    fitted on a 2-core machine (Kent LSOA and MSOA, Leicestershire, the demo: within about
    30%).
    """

    RATE = 2.5e7  # units per second
    PER_CALL = 3.0e4  # units per evaluation

    def __init__(self, seconds: float, stop: Callable[[], bool] | None = None,
                 hard: bool = True):
        self.limit = max(float(seconds), 0.0) * self.RATE
        self.used = 0.0
        # without the backstop (``hard`` false: a reproducible solve) only units count
        self._hard = (perf_counter() + 2.0 * max(float(seconds), 0.0) + 0.5 if hard
                      else float("inf"))
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
    pair_demand: np.ndarray  # (pairs, roles) [hours/year], scaled, staff travel included
    pair_mileage: np.ndarray  # mileage of each pair when assigned [GBP/year]
    travel: bool  # staff travel: a pair's demand depends on its site
    roles: _Roles
    price: float  # GBP per unit of travel in the cost stage
    stages: list
    budget: float | None
    supply: np.ndarray  # per role, inf = unlimited
    unmet_allowed: bool
    own_area: np.ndarray | None = None  # per site: the area it must serve when open, -1 = none
    conflict: np.ndarray | None = None  # (sites, sites) bool: too close to both open (hub_separation)
    # hubs.contiguous: per site the root area (-1 none), and the neighbour graph as CSR over
    # area positions (None when the rule is off)
    root: np.ndarray | None = None
    nbr_ptr: np.ndarray | None = None
    nbr: np.ndarray | None = None
    dense_cost: np.ndarray | None = None  # (areas, sites) travel coefficient, inf = not allowed
    pair_index: np.ndarray | None = None  # (areas, sites) pair position, -1 = not allowed


@dataclass(frozen=True)
class StartInput:
    """What the heuristic start reads of a model: its data and index, the values in force of
    its mutable parameters, the ``open_site`` bounds and the objective's stages. Plain values:
    the search never touches a model.

    Attributes
    ----------
    data : ModelData
    ix : ModelIndex
    params : dict
        The mutable parameters by their one name (:func:`mdtplan.model.matrix.default_params`
        keys); a rule whose parameter is ``None`` is not in the model.
    site_lower, site_upper : ndarray, shape (sites,)
        ``open_site`` bounds (a required site has lower 1; a site a caller closed, upper 0).
    stages : list of str
        The objective's lexicographic stages.
    """

    data: ModelData
    ix: ModelIndex
    params: dict
    site_lower: np.ndarray
    site_upper: np.ndarray
    stages: list

    @classmethod
    def of_model(cls, model) -> StartInput:
        """Read a built Pyomo model (its parameters and bounds as they are now)."""
        from ...model.matrix import model_params
        from ...model.objective import objective_stages

        data, ix = model.mdtplan_data, model.mdtplan_index
        sites = list(model.open_site.values())
        lower = np.array([0.0 if v.lb is None else float(v.lb) for v in sites], dtype=float)
        upper = np.array([1.0 if v.ub is None else float(v.ub) for v in sites], dtype=float)
        stages = (list(model.STAGES) if model.component("STAGES") is not None
                  else objective_stages(data, ix))
        return cls(data, ix, model_params(model), lower, upper, stages)


def _instance(inp: StartInput) -> _Instance:
    """The arrays of the search, from ``inp``."""
    from ...model.families.budget_cap import site_cost_gbp
    from ...model.objective import travel_coefficients

    ix, data, params = inp.ix, inp.data, inp.params
    n_a, n_s = len(ix.area_ids), len(ix.site_ids)
    scale = float(params.get("demand_scale") or 1.0)
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
    pmax = params.get("hub_population_max")
    if pmax is not None:
        room = np.minimum(room, float(pmax))
    pmin = params.get("hub_population_min")
    cap_fte = site_column("capacity_fte")
    cap_fte = np.where(np.isnan(cap_fte), np.inf, cap_fte)
    must_open, may_open = inp.site_lower > 0.5, inp.site_upper > 0.5
    k_lo = int(params.get("hub_count_min") or 0)
    k_hi = n_s
    if params.get("hub_count_max") is not None:
        k_hi = min(k_hi, int(params["hub_count_max"]))
    pools = {p: i for i, p in enumerate(ix.pools)}
    pair_pool = (np.array([pools.get(p, -1) if p is not None else -1 for p in ix.pair_pool],
                          dtype=int) if pools else np.full(len(ix.pair_pool), -1, dtype=int))
    supply = np.full(R, np.inf)
    for r, v in data.supply_fte.items():
        if r in pos:
            supply[pos[r]] = float(v)
    budget = params.get("budget_cap_gbp")
    stages = list(inp.stages)
    price = float(data.travel_cost_gbp_per_unit or 0.0)
    mileage = ix.pair_mileage_gbp()
    return _Instance(
        n_a=n_a, n_s=n_s, pair_area=ix.pair_area, pair_site=ix.pair_site,
        pair_travel=np.asarray(ix.travel_cost, dtype=float),
        pair_coef=np.asarray(travel_coefficients(data, ix), dtype=float),
        pair_pool=pair_pool, n_pools=len(ix.pools), weight=np.asarray(ix.weight, float),
        room=room, pmin=float(pmin) if pmin else 0.0, k_lo=k_lo, k_hi=k_hi,
        must_open=must_open, may_open=may_open,
        site_cost=site_cost_gbp(data, ix.site_ids), cap_fte=cap_fte,
        demand=np.asarray(ix.demand, dtype=float) * scale,
        pair_demand=np.asarray(ix.pair_demand(), dtype=float) * scale,
        pair_mileage=(np.zeros(len(ix.pair_area)) if mileage is None
                      else np.asarray(mileage, dtype=float)),
        travel=ix.travel_factor is not None, roles=role_arrays, price=price,
        stages=stages, budget=None if budget is None else float(budget), supply=supply,
        unmet_allowed=data.objective == "max_demand_met",
        **{"own_area": _own_areas(data, ix), "conflict": _conflicts(data, ix),
           **_contiguity(data, ix)})


def _conflicts(data, ix) -> np.ndarray | None:
    """Sites x sites, true where two sites stand closer than ``hubs.min_separation_km``
    (``hub_separation``: never both open); None when no two do."""
    from ...model.families.hub_separation import conflict_pairs

    ij, _ = conflict_pairs(data, ix)
    if not len(ij):
        return None
    n = len(ix.site_ids)
    out = np.zeros((n, n), dtype=bool)
    out[ij[:, 0], ij[:, 1]] = True
    out[ij[:, 1], ij[:, 0]] = True
    return out


def _contiguity(data, ix) -> dict:
    """``root``, ``nbr_ptr``, ``nbr`` of :class:`_Instance` for ``hubs.contiguous``; the roots
    are the areas open hubs must serve (``own_area``), too."""
    from ...model.families.catchment_contiguous import contiguity_index

    ci = contiguity_index(data, ix)
    if ci is None:
        return {}
    n_a = len(ix.area_ids)
    root = np.where(ci.root_pair >= 0, ix.pair_area[np.maximum(ci.root_pair, 0)], -1)
    pos = {a: i for i, a in enumerate(ix.area_ids)}
    e = data.edges
    u = np.fromiter((pos.get(str(a), -1) for a in e["area_a"]), np.int64, len(e))
    v = np.fromiter((pos.get(str(b), -1) for b in e["area_b"]), np.int64, len(e))
    ok = (u >= 0) & (v >= 0)
    u, v = np.concatenate([u[ok], v[ok]]), np.concatenate([v[ok], u[ok]])
    order = np.lexsort((v, u))
    u, v = u[order], v[order]
    ptr = np.searchsorted(u, np.arange(n_a + 1)).astype(np.int64)
    return {"root": root.astype(np.int64), "nbr_ptr": ptr, "nbr": v, "own_area": root}


def plan_flows(inp: StartInput, pair: np.ndarray) -> np.ndarray | None:
    """The ``contiguity_flow`` values that prove a plan's catchments connected (``None`` when
    the model has no such variable)."""
    from ...model.families.catchment_contiguous import tree_flows

    return tree_flows(inp.data, inp.ix, pair)


def _own_areas(data, ix) -> np.ndarray:
    """Per site, the position of the area an open hub there must serve
    (``hub_serves_own_area``), -1 where the rule does not hold it."""
    from ...model.families.hub_serves_own_area import own_pairs

    out = np.full(len(ix.site_ids), -1, dtype=np.int64)
    sites, pos = own_pairs(data, ix)
    if sites:
        site_pos = {s: i for i, s in enumerate(ix.site_ids)}
        keep = pos >= 0
        out[[site_pos[s] for s, k in zip(sites, keep.tolist(), strict=True) if k]] = \
            ix.pair_area[pos[keep]]
    return out


def shortfall_values(inp: StartInput, share: np.ndarray, unmet: np.ndarray):
    """The fair-shortfall rule's variables for a plan (``share`` per pair, ``unmet`` per
    ``ix.staff``), whether the plan keeps the rule and its unmet hours (raised where the rule
    needs hours held back); None when the rule is not built
    (:func:`mdtplan.model.families.shortfall_level.start_values`)."""
    from ...model.families.shortfall_level import start_values

    return start_values(inp.data, inp.ix, float(inp.params.get("demand_scale") or 1.0), share,
                        unmet)


def lever_reach(inp: StartInput, inst: _Instance, is_open: np.ndarray, pair: np.ndarray):
    """The most people each ``lever_people`` key may reach in a heuristic plan (the lever's
    share of its open hub's catchment cohort), each lever's worth per person (its care saving
    less the staff it needs at the roles' average cost per hour [GBP/year]) and each key's
    lever position; None without levers."""
    from ...model.families.lever_reach import lever_index

    ix = inp.ix
    li = lever_index(inp.data, ix)
    if li is None or not li.keys:
        return None
    roles = inp.data.roles.reindex(ix.roles)
    per_hour = (roles["cost_gbp_per_fte"].astype(float)
                / roles["productive_hours_per_fte"].astype(float)).to_numpy()
    worth = li.saving_gbp - li.hours @ per_hour
    cohort = np.zeros((inst.n_s, li.pair_cohort.shape[1]))
    np.add.at(cohort, inst.pair_site[pair], li.pair_cohort[pair])
    most = np.where(is_open[li.key_site],
                    li.share[li.key_lever] * cohort[li.key_site, li.key_lever], 0.0)
    return most, worth, li.key_lever.copy()


def lever_fill(inp: StartInput, inst: _Instance, is_open: np.ndarray, pair: np.ndarray,
               people: np.ndarray | None = None):
    """The levers in a heuristic plan: by default every hub reaches the whole most likely
    share of its catchment's cohort of each lever whose care saving per person exceeds the
    staff it needs, none of the others (``people`` gives the people per key instead).

    Returns
    -------
    (people, extra_site, extra_pool, saving) or None
        ``people`` per ``lever_people`` key; the hours they need per (site, role) and
        (pool, role) [hours/year]; the care they save [GBP/year]. None without levers.
    """
    from ...model.families.lever_reach import lever_index

    reach = lever_reach(inp, inst, is_open, pair)
    if reach is None:
        return None
    ix = inp.ix
    li = lever_index(inp.data, ix)
    most, worth, _ = reach
    if people is None:
        people = np.where(worth[li.key_lever] > 0, most, 0.0)
    extra_site = np.zeros((inst.n_s, len(ix.roles)))
    extra_pool = np.zeros((max(inst.n_pools, 1), len(ix.roles)))
    pool_pos = {p: i for i, p in enumerate(ix.pools)}
    core = set(ix.core_roles)
    for n in np.flatnonzero(people > 0):
        k, s_i = int(li.key_lever[n]), int(li.key_site[n])
        for j, r in enumerate(ix.roles):
            h = li.hours[k, j] * people[n]
            if h == 0.0:
                continue
            if r in core:
                extra_site[s_i, j] += h
            elif li.site_pool[s_i] in pool_pos:
                extra_pool[pool_pos[li.site_pool[s_i]], j] += h
    saving = float((people * li.saving_gbp[li.key_lever]).sum())
    return people, extra_site, extra_pool, saving


def _better(a: tuple, b: tuple) -> bool:
    """Lexicographic comparison with a relative tolerance on each term."""
    for x, y in zip(a, b, strict=True):
        tol = 1e-9 * max(1.0, abs(x), abs(y))
        if x < y - tol:
            return True
        if x > y + tol:
            return False
    return False

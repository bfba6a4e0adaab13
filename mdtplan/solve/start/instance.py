"""The model read into arrays for the heuristic start: its data, index and the current values
of its mutable parameters (:func:`_instance`), and the deterministic work budget of the search
(:class:`_Work`).

This is the one place the start reads a model (a built Pyomo model or a
:class:`mdtplan.solve.view.ModelView`); everything else in :mod:`mdtplan.solve.start` works on
the arrays of :class:`_Instance`.
"""

from __future__ import annotations

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
    from ...model.families.budget_cap import site_cost_gbp
    from ...model.objective import objective_stages, travel_coefficients

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

"""Build the Pyomo model of record from :class:`~mdtplan.model.data.ModelData`.

:func:`build_model` reads like a table of contents: cheap feasibility checks, the index (the
allowed pairs grouped once), sets, parameters, variables, then one call per constraint family and
the objective. The constraints come from the registered rule families
(:mod:`mdtplan.model.families`), one module each, in build order. Nothing here reads a file or
calls a solver.

Decisions
---------
=============================== ======================================================================
``open_site[s]``                binary; required sites have bounds (1, 1); excluded sites are not in
                                ``SITES``
``assign[a, s]``                over the allowed ``PAIRS`` only; binary (``single``) or in [0, 1]
                                (``split``)
``fte_steps[u, r]``             integer >= 0 over ``STAFF``: (hub, core role) and (pool, specialist
                                role); ``fte[u, r] = fte_step_r * fte_steps[u, r]`` [FTE] (an
                                Expression)
``agency_fte[u, r]``            >= 0 [FTE], the agency part of ``fte`` (bounds (0, 0) when
                                ``max_agency_share`` is 0)
``unmet_hours[u, r]``           >= 0 [hours/year]; bounds (0, 0) unless the objective is
                                ``max_demand_met``
``max_travel_cost``             only for ``min_max_travel`` [travel unit]
=============================== ======================================================================

Mutable parameters (a re-solve may change them in place, see :class:`mdtplan.solve.Session`):
``budget_cap_gbp``, ``hub_count_lower``, ``hub_count_upper``, ``hub_population_lower``,
``hub_population_upper``, ``demand_scale`` (with ``staff_fte_max``, which follows it) and
``stage_optimum_bound``. :data:`PARAM_DEPENDENTS` says which constraints each one enters.
"""

from __future__ import annotations

from dataclasses import dataclass
from time import perf_counter

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC

from ..errors import InfeasibleError, ModelError, Problem
from . import families
from .data import ModelData
from .families.staff_only_at_open_hubs import staff_fte_max_values
from .objective import OBJECTIVES, add_objective

#: mutable parameter -> the constraints whose rows it enters (from the registered families;
#: :func:`mdtplan.model.families.param_dependents` reads the registry at call time)
PARAM_DEPENDENTS: dict[str, tuple[str, ...]] = families.param_dependents()

STATUSES = ("candidate", "existing", "required", "excluded")


def design_rules() -> tuple[str, ...]:
    """Constraint names of the rules of a new design that today's configuration (the baseline)
    is evaluated against rather than held to, in the order breaches are reported (the
    registered families with a ``baseline_rank``)."""
    return tuple(f.name for f in families.design_rules())


@dataclass(frozen=True)
class ModelIndex:
    """The sparse index of a model, as numpy arrays, built once from ``ModelData``.

    Attributes
    ----------
    area_ids, site_ids : list of str
        ``AREAS`` and ``SITES`` (excluded sites left out), in data order.
    pairs : list of tuple
        ``PAIRS`` as (area_id, site_id), in ``data.pairs`` order (less excluded sites).
    pair_area, pair_site : ndarray of int
        Position of each pair's area in ``area_ids`` and site in ``site_ids``.
    travel_cost : ndarray
        Travel of each pair [travel unit].
    pair_pool : ndarray of object
        Specialist pool of each pair (None where none).
    weight : ndarray
        Population (weight) of each area [people or demand units].
    pairs_by_area, pairs_by_site, pairs_by_pool : dict of str -> ndarray of int
        Positions of the pairs of each area, site and pool (grouped once).
    roles, core_roles, specialist_roles : list of str
    pools : list of str
        Pools that serve at least one pair (only when there are specialist roles).
    staff : list of tuple
        ``STAFF``: (site, core role) for every site, then (pool, specialist role).
    demand : ndarray, shape (areas, roles)
        Demand hours [hours/year], columns in ``roles`` order.
    """

    area_ids: list
    site_ids: list
    pairs: list
    pair_area: np.ndarray
    pair_site: np.ndarray
    travel_cost: np.ndarray
    pair_pool: np.ndarray
    weight: np.ndarray
    pairs_by_area: dict
    pairs_by_site: dict
    pairs_by_pool: dict
    roles: list
    core_roles: list
    specialist_roles: list
    pools: list
    staff: list
    demand: np.ndarray

    def role_column(self, role: str) -> np.ndarray:
        """Demand hours of ``role`` per area [hours/year]."""
        return self.demand[:, self.roles.index(role)]


def _group_positions(keys: np.ndarray) -> dict:
    """key -> positions holding it, computed with one stable sort."""
    if len(keys) == 0:
        return {}
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    cuts = np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1
    starts = np.concatenate([[0], cuts])
    ends = np.concatenate([cuts, [len(keys)]])
    return {sorted_keys[b]: order[b:e] for b, e in zip(starts, ends, strict=True)}


def index_data(data: ModelData) -> ModelIndex:
    """Group the allowed pairs once and put the data into numpy arrays (no model yet)."""
    area_ids = [str(a) for a in data.areas.index]
    sites = data.sites
    site_ids = [str(s) for s, st in zip(sites.index, sites["status"], strict=True)
                if st != "excluded"]
    site_pos = {s: i for i, s in enumerate(site_ids)}
    area_pos = {a: i for i, a in enumerate(area_ids)}
    pairs = data.pairs
    p_area = pairs["area_id"].astype(str).to_numpy()
    p_site = pairs["site_id"].astype(str).to_numpy()
    pair_site = np.fromiter((site_pos.get(s, -1) for s in p_site), np.int64, len(p_site))
    keep = pair_site >= 0  # pairs of excluded (or unknown) sites are left out
    p_area, p_site, pair_site = p_area[keep], p_site[keep], pair_site[keep]
    pair_area = np.fromiter((area_pos.get(a, -1) for a in p_area), np.int64, len(p_area))
    travel = pairs["travel_cost"].to_numpy(dtype=float)[keep]
    if "pool" in pairs and isinstance(pairs["pool"].dtype, pd.StringDtype):
        # strings, missing as None: what the loop below makes of a string column
        pool = pairs["pool"].to_numpy(dtype=object, na_value=None)[keep]
    elif "pool" in pairs:
        pool = pairs["pool"].astype(object).to_numpy()[keep]
        pool = np.array([None if (v is None or v is pd.NA or (isinstance(v, float) and
                                                                np.isnan(v))) else str(v)
                         for v in pool], dtype=object)
    else:
        pool = np.full(len(p_area), None, dtype=object)
    roles = [str(r) for r in data.roles.index]
    kinds = data.roles["kind"].astype(str).to_numpy() if len(roles) else np.array([])
    core = [r for r, k in zip(roles, kinds, strict=True) if k == "core"]
    specialist = [r for r, k in zip(roles, kinds, strict=True) if k == "specialist"]
    by_pool = {}
    pools: list = []
    if specialist:
        has = np.array([v is not None for v in pool], dtype=bool)
        by_pool = {str(k): np.flatnonzero(has)[v] for k, v in
                   _group_positions(pool[has].astype(str)).items()} if has.any() else {}
        pools = sorted(by_pool)
    staff = [(s, r) for s in site_ids for r in core] + [(p, r) for p in pools for r in specialist]
    demand = (data.demand_hours.reindex(index=data.areas.index, columns=roles).fillna(0.0)
              .to_numpy(dtype=float) if roles else np.zeros((len(area_ids), 0)))
    by_area_pos = _group_positions(pair_area)
    by_site_pos = _group_positions(pair_site)
    return ModelIndex(
        area_ids=area_ids,
        site_ids=site_ids,
        pairs=list(zip(p_area.tolist(), p_site.tolist(), strict=True)),
        pair_area=pair_area,
        pair_site=pair_site,
        travel_cost=travel,
        pair_pool=pool,
        weight=data.areas["population"].to_numpy(dtype=float),
        pairs_by_area={area_ids[k]: v for k, v in by_area_pos.items()},
        pairs_by_site={site_ids[k]: v for k, v in by_site_pos.items()},
        pairs_by_pool=by_pool,
        roles=roles,
        core_roles=core,
        specialist_roles=specialist,
        pools=pools,
        staff=staff,
        demand=demand,
    )


# --------------------------------------------------------------------------------------------
# Checks before building


def _fmt(x: float) -> str:
    return f"{x:,.6g}"


def check_data(data: ModelData, ix: ModelIndex | None = None) -> None:
    """Cheap checks before building: malformed data, and problems provably infeasible.

    Raises
    ------
    ModelError
        The data cannot make a model (unknown objective, negative weights, a pool named like a
        site, a pair naming an unknown area, ...).
    InfeasibleError
        No plan can satisfy the rules, shown by counting (numbers quoted): more hubs required
        than sites; population above what the most hubs can hold; below what the fewest must
        hold; an area with no allowed site.
    """
    bad: list[Problem] = []
    if data.objective not in OBJECTIVES:
        bad.append(Problem(None, None, "objective", f"unknown objective '{data.objective}'",
                           f"use one of {', '.join(OBJECTIVES)}"))
    if data.assignment not in ("single", "split"):
        bad.append(Problem(None, None, "hubs.assignment",
                           f"unknown assignment '{data.assignment}'", "use single or split"))
    status = data.sites["status"].astype(str).to_numpy()
    unknown_status = set(status.tolist()) - set(STATUSES)
    if unknown_status:
        bad.append(Problem("sites", None, "status", f"unknown status {sorted(unknown_status)}",
                           f"use one of {', '.join(STATUSES)}"))
    weights = data.areas["population"].to_numpy(dtype=float)
    if not np.isfinite(weights).all() or (weights < 0).any():
        bad.append(Problem("areas", None, "population",
                           "population (weight) must be finite and non-negative"))
    if len(data.pairs) and not np.isfinite(data.pairs["travel_cost"].to_numpy(float)).all():
        bad.append(Problem("travel", None, "travel_cost", "travel cost must be finite"))
    if ix is not None and len(ix.pairs) == len(data.pairs) and (ix.pair_area >= 0).all():
        # the index placed every pair's area and (not excluded) site: none is unknown
        unknown_areas = unknown_sites = set()
    else:
        # unique() first: iterating every pair's id (arrow strings) cost 0.8 s on 224,000 pairs
        unknown_areas = (set(data.pairs["area_id"].astype(str).unique())
                         - set(data.areas.index.astype(str)))
        unknown_sites = (set(data.pairs["site_id"].astype(str).unique())
                         - set(data.sites.index.astype(str)))
    if unknown_areas:
        bad.append(Problem("travel", ", ".join(sorted(unknown_areas)[:5]), "area_id",
                           f"{len(unknown_areas)} pair(s) name areas not in the areas table"))
    if unknown_sites:
        bad.append(Problem("travel", ", ".join(sorted(unknown_sites)[:5]), "site_id",
                           f"{len(unknown_sites)} pair(s) name sites not in the sites table"))
    roles = set(data.roles.index)
    for r in set(data.supply_fte) - roles:
        bad.append(Problem(None, r, "rules.hiring_limit_fte", "supply limit for an unknown role"))
    for rule in data.supervision:
        for r in (rule.supervisor, *rule.supervises):
            if r not in roles:
                bad.append(Problem(None, r, "rules.supervision", "unknown role in a rule"))
    if len(data.roles):
        for col in ("cost_gbp_per_fte", "productive_hours_per_fte", "fte_step"):
            if (data.roles[col].astype(float) <= 0).any():
                bad.append(Problem("operating_model", None, f"roles.{col}", "must be positive"))
        d = data.demand_hours.to_numpy(dtype=float)
        if d.size and (not np.isfinite(d).all() or (d < 0).any()):
            bad.append(Problem(None, None, "demand_hours", "demand must be finite, >= 0"))
    if bad:
        raise ModelError(bad)

    ix = ix or index_data(data)
    if ix.specialist_roles:
        clash = set(ix.pools) & set(ix.site_ids)
        if clash:
            raise ModelError(Problem("sites", ", ".join(sorted(clash)[:5]), "pool",
                                     "a specialist pool has the same id as a site",
                                     "rename the pool (staffing units must be unambiguous)"))
        no_pool = np.array([v is None for v in ix.pair_pool], dtype=bool)
        spec_cols = [ix.roles.index(r) for r in ix.specialist_roles]
        needs = ix.demand[:, spec_cols].sum(axis=1) > 0
        if no_pool.any() and needs[ix.pair_area[no_pool]].any():
            areas = sorted({ix.area_ids[a] for a in ix.pair_area[no_pool]})
            raise ModelError(Problem("areas", ", ".join(areas[:5]), "pool",
                                     f"{len(areas)} area(s) have specialist demand but a pair "
                                     "with no specialist pool",
                                     "set operating_model.pools, or the sites' pool column"))

    problems: list[Problem] = []
    served = set(ix.pairs_by_area)
    lonely = [a for a in ix.area_ids if a not in served]
    if lonely:
        reach = f" within {_fmt(data.max_travel)} {data.travel_unit}" if data.max_travel else ""
        problems.append(Problem("areas", ", ".join(lonely[:5]), None,
                                f"{len(lonely)} area(s) have no allowed site{reach}",
                                "raise hubs.max_travel_minutes, add sites, or check the "
                                "travel table"))
    n_sites = len(ix.site_ids)
    n_required = int((status == "required").sum())
    cmin, cmax = int(data.hub_count_min or 0), data.hub_count_max
    if cmin > n_sites:
        problems.append(Problem(None, None, "hubs.count.min",
                                f"at least {cmin} hubs are required but only {n_sites} sites "
                                "are not excluded", "lower hubs.count.min or add sites"))
    if cmax is not None and n_required > cmax:
        problems.append(Problem(None, None, "hubs.count.max",
                                f"{n_required} sites are 'required' but at most {cmax} hubs "
                                "may open", "raise hubs.count.max"))
    total = float(weights.sum())
    pmin, pmax = data.hub_population_min, data.hub_population_max
    k_max = n_sites if cmax is None else min(cmax, n_sites)
    row_of = {s: i for i, s in enumerate(data.sites.index.tolist())}
    rows = [row_of.get(s, -1) for s in ix.site_ids]
    if -1 in rows or len(row_of) != len(data.sites):  # as .loc: raises, or repeats rows
        cap = data.sites.loc[ix.site_ids, "capacity"].to_numpy(dtype=float) if n_sites else \
            np.zeros(0)
    else:  # by position: a .loc selection cost a millisecond
        cap = data.sites["capacity"].to_numpy(dtype=float)[rows]
    per_site = np.where(np.isnan(cap), np.inf, cap)
    if pmax is not None:
        per_site = np.minimum(per_site, pmax)
    if k_max and np.isfinite(per_site).all():
        most = float(np.sort(per_site)[::-1][:k_max].sum())
        if total > most * (1 + 1e-9) + 1e-9:
            what = []
            if pmax is not None:
                what.append(f"hubs.population.max {_fmt(pmax)}")
            if np.isfinite(cap).any():
                what.append("site capacities")
            problems.append(Problem(None, None, "hubs.population.max" if pmax is not None
                                    else "sites.capacity",
                                    f"total population {_fmt(total)} exceeds what {k_max} hubs "
                                    f"can hold ({_fmt(most)}, from {' and '.join(what)})",
                                    "raise the population band or capacities, or allow more "
                                    "hubs"))
    if pmin is not None and pmin > 0:
        k_min = max(cmin, n_required)
        if total < k_min * pmin * (1 - 1e-9) - 1e-9:
            problems.append(Problem(None, None, "hubs.population.min",
                                    f"total population {_fmt(total)} is below {k_min} hubs x "
                                    f"hubs.population.min {_fmt(pmin)} = {_fmt(k_min * pmin)}",
                                    "lower hubs.population.min or hubs.count.min"))
    if problems:
        raise InfeasibleError(problems)


# --------------------------------------------------------------------------------------------
# The model


def _add_sets(m, data: ModelData, ix: ModelIndex) -> None:
    m.AREAS = pyo.Set(initialize=ix.area_ids, ordered=True)
    m.SITES = pyo.Set(initialize=ix.site_ids, ordered=True)
    m.PAIRS = pyo.Set(initialize=ix.pairs, dimen=2, ordered=True)
    m.ROLES = pyo.Set(initialize=ix.roles, ordered=True)
    m.CORE_ROLES = pyo.Set(initialize=ix.core_roles, ordered=True)
    m.SPECIALIST_ROLES = pyo.Set(initialize=ix.specialist_roles, ordered=True)
    m.POOLS = pyo.Set(initialize=ix.pools, ordered=True)
    m.STAFF = pyo.Set(initialize=ix.staff, dimen=2, ordered=True)


def _add_params(m, data: ModelData) -> None:
    total = float(data.areas["population"].sum())
    m.budget_cap_gbp = pyo.Param(mutable=True, within=pyo.Any,
                                 initialize=data.budget_cap_gbp, doc="[GBP/year]")
    m.hub_count_lower = pyo.Param(mutable=True, within=pyo.Any,
                                  initialize=int(data.hub_count_min or 0))
    m.hub_count_upper = pyo.Param(mutable=True, within=pyo.Any, initialize=data.hub_count_max)
    m.hub_population_lower = pyo.Param(mutable=True, within=pyo.Any,
                                       initialize=data.hub_population_min, doc="[people]")
    m.hub_population_upper = pyo.Param(mutable=True, within=pyo.Any,
                                       initialize=data.hub_population_max, doc="[people]")
    m.demand_scale = pyo.Param(mutable=True, initialize=1.0, doc="multiplies demand_hours")
    m.total_population = pyo.Param(initialize=total, doc="[people]")


def _add_variables(m, data: ModelData, ix: ModelIndex) -> None:
    status = data.sites["status"].astype(str)

    def _open_site_bounds(m, s):
        return (1, 1) if status[s] == "required" else (0, 1)

    m.open_site = pyo.Var(m.SITES, domain=pyo.Binary, bounds=_open_site_bounds)
    m.assign = pyo.Var(m.PAIRS, domain=pyo.Binary if data.assignment == "single"
                       else pyo.UnitInterval)
    roles = data.roles
    step = roles["fte_step"].astype(float).to_dict() if len(roles) else {}
    share = roles["max_agency_share"].astype(float).to_dict() if len(roles) else {}
    unmet_free = data.objective == "max_demand_met"

    m.fte_steps = pyo.Var(m.STAFF, domain=pyo.NonNegativeIntegers,
                          doc="staff in units of the role's fte_step")

    def _fte_rule(m, u, r):
        return step[r] * m.fte_steps[u, r]

    m.fte = pyo.Expression(m.STAFF, rule=_fte_rule, doc="[FTE]")

    def _agency_bounds(m, u, r):
        return (0, 0) if share[r] <= 0 else (0, None)

    m.agency_fte = pyo.Var(m.STAFF, domain=pyo.NonNegativeReals, bounds=_agency_bounds,
                           doc="[FTE], the agency part of fte")
    m.unmet_hours = pyo.Var(m.STAFF, domain=pyo.NonNegativeReals,
                            bounds=(0, None) if unmet_free else (0, 0), doc="[hours/year]")


def build_model(data: ModelData, *, check: bool = True) -> pyo.ConcreteModel:
    """Build the Pyomo model of record for ``data``.

    Parameters
    ----------
    data : ModelData
    check : bool
        Run :func:`check_data` first (cheap; raises before any model is built).

    Returns
    -------
    pyomo.environ.ConcreteModel
        With ``m.mdtplan_index`` (the :class:`ModelIndex`), ``m.mdtplan_data`` (``data``) and
        ``m.mdtplan_build_seconds`` attached, which :mod:`mdtplan.solve` uses.

    Raises
    ------
    ModelError, InfeasibleError
        From :func:`check_data`.
    """
    t0 = perf_counter()
    ix = index_data(data)
    if check:
        check_data(data, ix)
    with PauseGC():  # the build makes many small objects; collecting them mid-way is wasted
        m = _build(data, ix)
    m.mdtplan_build_seconds = perf_counter() - t0
    return m


def _build(data: ModelData, ix: ModelIndex) -> pyo.ConcreteModel:
    m = pyo.ConcreteModel(name=data.name)
    m.mdtplan_index = ix
    m.mdtplan_data = data
    _add_sets(m, data, ix)
    _add_params(m, data)
    _add_variables(m, data, ix)
    for family in families.registry():  # each declares its constraint, in build order
        family.add(m, data, ix)
    add_objective(m, data, ix)
    return m


def set_demand_scale(m, scale: float) -> None:
    """Scale every demand hour by ``scale`` in place, with the staffing big-M that follows it.

    Change only the Pyomo parameters; a :class:`mdtplan.solve.Session` pushes them to HiGHS
    (``session.set_param("demand_scale", scale)`` calls this).
    """
    m.demand_scale.set_value(float(scale))
    if hasattr(m, "staff_fte_max"):
        values = staff_fte_max_values(m.mdtplan_data, m.mdtplan_index, float(scale))
        for key, v in values.items():
            if key in m.staff_fte_max:
                m.staff_fte_max[key].set_value(v)

"""Rounding cuts: what staffing a hub in whole FTE steps costs at least, told to the LP.

The LP relaxation staffs a hub with exactly the FTE its demand needs (2.15 care navigators,
0.27 of a team manager) and so under-states every hub's cost: a real hub staffs whole
``fte_step`` s, its minimum MDT, and enough managers for the staff they supervise. On county
models this rounding is most of the MIP gap (Kent LSOA: about GBP 16,000 a year for every open
hub). For each candidate site ``s`` this module finds ``omega_s``, a lower bound on that waste
over *every* hub the site could run, and the solver adds the valid inequality

.. math:: \\sum_{r \\in CORE} c_r\\, step_r\\, fte\\_steps_{s,r}
          - \\sum_{a} \\pi_a\\, assign_{a,s} - \\omega_s\\, open\\_site_s \\ge 0

where :math:`c_r` is the role's cost per FTE [GBP/yr] and :math:`\\pi_a` what area ``a``'s
demand costs at the LP's rates (its demand FTE at cost, supervision included; see
:func:`area_linear_cost`). ``omega_s`` is the optimum (HiGHS's proven dual bound, less a small
tolerance) of a small MIP over the site's hubs -- areas it may serve taken fractionally, whole
FTE steps, demand covered, the population band, the minimum MDT, supervision -- whose objective
is the left-hand side above. Every constraint of that MIP is one of the model's (or a
relaxation of one), so any plan of the model satisfies the inequality: the cut removes no plan,
only fractional points of the relaxation. A closed site has no staff and no areas (0 >= 0).

With staff travel an area's demand at a site includes the trips from that site, so each
site's MIP and cut take the demand of the site's own pairs (:math:`\\pi_{a,s}`), and no site
borrows another's bound.

With levers (:mod:`mdtplan.model.families.lever_reach`) the people :math:`q_{k,s}` a hub
reaches need (or, negative, free) :math:`\\eta_{k,r}` hours of its staff each, and each is
worth :math:`\\gamma_k` of care spend avoided to the cost stage. A hub whose levers free hours
may staff below its areas' demand, so the cut bounds what the cost stage counts for the hub,
its staff less its levers' savings:

.. math:: \\sum_{r} c_r\\, step_r\\, fte\\_steps_{s,r} - \\sum_k \\gamma_k\\, q_{k,s}
          - \\sum_{a} \\pi'_{a,s}\\, assign_{a,s} - \\omega_s\\, open\\_site_s \\ge 0

with :math:`\\pi'_a = \\pi_a + \\sum_k \\sigma_k c_{k,a} (\\rho_k - \\gamma_k)` over the levers
that save more than their hours cost at the LP's rates (:math:`\\rho_k`,
:func:`lever_linear_cost`): what the area costs with its levers run in full, as the LP runs
them. Each site's MIP then carries the hub's lever columns and their reach rows (at most the
lever's share of its areas' cohort), so ``omega`` is the rounding no choice of reach avoids
(counting the hours alone, a lever's continuous reach could fill every step exactly).

Valid only where demand must be met (no unmet hours: every objective but
``max_demand_met``). The cuts are solver rows, like the cuts HiGHS makes itself: they are not
part of the model of record, which stays the problem :mod:`mdtplan.model` builds.
"""

from __future__ import annotations

from dataclasses import dataclass
from time import perf_counter

import highspy
import numpy as np

from .highs import new_highs, run

#: absolute [GBP/yr] and relative slack taken off each proven bound, so numerical error in the
#: small MIPs can never make a cut remove a plan
OMEGA_ABS_TOL = 1.0
OMEGA_REL_TOL = 1e-6

#: each site's small MIP stops at this time limit [s] (its proven dual bound is still valid)
SITE_LIMIT_S = 0.5


@dataclass(frozen=True)
class HubFloors:
    """The cuts' numbers for one set of parameters.

    Attributes
    ----------
    omega : ndarray
        Per site (``ix.site_ids`` order) the proven least rounding cost of any hub there
        [GBP/yr]; NaN where none was computed (no time, no areas, or no feasible hub).
    pi : ndarray
        Per area (``ix.area_ids`` order) its demand's cost at the LP's rates [GBP/yr].
    solved, reused : int
        Sites whose MIP was solved; sites that took a bound from a site that can run every hub
        they can (the same or more areas, no tighter capacity).
    seconds : float
    given_up : str
        Why the probe gave the cuts up (then ``omega`` is all NaN), or ``""``.
    pi_pair : ndarray or None
        With staff travel, each pair's core demand (trips from its site included) at the LP's
        rates [GBP/yr]: the cut's coefficient of ``assign`` (else ``pi`` of the pair's area).
    saving : ndarray or None
        With levers, per lever the care spend one person reached avoids [GBP/person]: the
        cut's coefficient of ``lever_people`` is ``-saving`` of its lever (then ``pi_pair``
        holds every pair's rate, levers included).
    """

    omega: np.ndarray
    pi: np.ndarray
    solved: int
    reused: int
    seconds: float
    given_up: str = ""
    pi_pair: np.ndarray | None = None
    saving: np.ndarray | None = None


def _donor(i: int, areas: frozenset, done: list, cap: np.ndarray, cap_fte: np.ndarray):
    """A site already done whose hubs include every hub site ``i`` can run, or None."""
    return next((j for j, a in done if areas <= a and cap[j] >= cap[i]
                 and cap_fte[j] >= cap_fte[i]), None)


def _solves_needed(order: list, reach: dict, cap: np.ndarray, cap_fte: np.ndarray) -> int:
    """How many sites of ``order`` need a MIP of their own (the others borrow a bound), when
    every MIP finds one."""
    done: list = []
    for i in order:
        areas = frozenset(reach[i].tolist())
        if _donor(i, areas, done, cap, cap_fte) is None:
            done.append((i, areas))
    return len(done)


def applies(data, ix) -> bool:
    """Whether rounding cuts are valid and useful: hubs staffed with core roles, demand that
    must be met (not ``max_demand_met``) and roles with a cost. With levers, the cuts need the
    levers' index (:func:`hub_floors`'s ``levers``)."""
    if not ix.core_roles or data.objective == "max_demand_met" or not len(ix.pairs):
        return False
    costs = data.roles.reindex(list(ix.core_roles))["cost_gbp_per_fte"].astype(float)
    return bool((costs > 0).any())


def _core_arrays(data, ix):
    core = list(ix.core_roles)
    roles = data.roles.reindex(core)
    step = roles["fte_step"].astype(float).to_numpy()
    prod = roles["productive_hours_per_fte"].astype(float).to_numpy()
    cost = roles["cost_gbp_per_fte"].astype(float).to_numpy()
    mins = roles["min_fte_per_hub"].astype(float).to_numpy()
    demand = ix.demand[:, [ix.roles.index(r) for r in core]].astype(float)
    pos = {r: j for j, r in enumerate(core)}
    rules = []
    for rule in data.supervision:
        if rule.supervisor in pos:
            subs = [pos[r] for r in rule.supervises if r in pos and r != rule.supervisor]
            if subs:
                rules.append((pos[rule.supervisor], subs, float(rule.max_ratio)))
    return core, step, prod, cost, mins, demand, rules


def area_linear_cost(data, ix, scale: float = 1.0) -> np.ndarray:
    """What each area's core demand costs at the LP relaxation's rates [GBP/yr].

    Its demand FTE (hours / productive hours) at each role's cost; for a supervising role the
    largest of its own demand and its share of supervising the others under each of its rules
    (FTE / ratio), chosen once for the whole model by which is largest in total. Any ``pi`` gives a valid cut (omega
    is computed against it); these rates make the cut tight where the LP is loose.
    """
    _, _, prod, cost, _, demand, rules = _core_arrays(data, ix)
    return _linear_cost(demand, prod, cost, rules, scale)


def _linear_cost(demand, prod, cost, rules, scale, like=None) -> np.ndarray:
    """:func:`area_linear_cost` of the rows of ``demand`` (areas, or pairs with their trips,
    or levers' hours per person); each supervising role's term is chosen on ``like`` (default
    ``demand`` itself), so levers are costed as the areas are."""
    per_fte = np.where(prod > 0, prod, np.inf)[None, :]
    fte = scale * demand / per_fte
    choose = fte if like is None else like / per_fte
    pi = fte @ cost
    for j in dict.fromkeys(j for j, _, _ in rules):  # each supervising role once
        terms = [fte[:, j]] + [fte[:, subs].sum(axis=1) / ratio
                               for k, subs, ratio in rules if k == j]
        sizes = [float(choose[:, j].sum())] + [float(choose[:, subs].sum()) / ratio
                                               for k, subs, ratio in rules if k == j]
        best = terms[int(np.argmax(sizes))]
        pi += cost[j] * (best - fte[:, j])
    return pi


def lever_linear_cost(levers, data, ix) -> np.ndarray:
    """Per lever, what one person reached costs in core staff hours at the rates of
    :func:`area_linear_cost` [GBP/person] (negative: the hours it frees)."""
    _, _, prod, cost, _, demand, rules = _core_arrays(data, ix)
    eta = levers.hours[:, [ix.roles.index(r) for r in ix.core_roles]].astype(float)
    return _linear_cost(eta, prod, cost, rules, 1.0, like=demand)


def _site_levers(levers, i: int, ks: np.ndarray, ix):
    """The lever columns of site ``i``'s MIP: ``(keys, core hours per person (keys x core
    roles), reach coefficients (keys x the site's pairs ``ks``: -share x cohort), upper
    bounds)``; None without levers there."""
    if levers is None:
        return None
    keys = np.flatnonzero(levers.key_site == i)
    if not len(keys):
        return None
    k = levers.key_lever[keys]
    core = [ix.roles.index(r) for r in ix.core_roles]
    eta = levers.hours[np.ix_(k, core)].astype(float)
    reach = -(levers.share[k][:, None] * levers.pair_cohort[np.ix_(ks, k)].T)
    return keys, eta, reach, -reach.sum(axis=1)


def site_rows(d, weight, eta, reach, step, prod, rules, band, fte_cap):
    """The rows of one site's hub MIP over columns ``[x (areas or pairs), n (core steps), q
    (lever people)]``: demand covered per core role with demand or lever hours (``d``: demand
    hours, areas x roles, scaled; ``eta``: lever hours per person, keys x roles), each lever's
    reach (``reach``: -share x cohort, keys x areas), the band on ``weight``, supervision
    (``rules``), the FTE capacity. Returns ``(A, lower, upper)``, ``A`` in CSC form."""
    from scipy.sparse import csc_matrix

    n, nr = d.shape
    nq = len(reach)
    entries_r, entries_c, entries_v, lower, upper = [], [], [], [], []
    row = 0
    for j in range(nr):
        nz = np.flatnonzero(d[:, j] > 0)
        lz = np.flatnonzero(eta[:, j] != 0)
        if not len(nz) and not len(lz):
            continue
        entries_r += [row] * (len(nz) + 1 + len(lz))
        entries_c += nz.tolist() + [n + j] + (n + nr + lz).tolist()
        entries_v += (-d[nz, j]).tolist() + [prod[j] * step[j]] + (-eta[lz, j]).tolist()
        lower.append(0.0)
        upper.append(np.inf)
        row += 1
    for q in range(nq):
        nz = np.flatnonzero(reach[q] != 0)
        entries_r += [row] * (len(nz) + 1)
        entries_c += nz.tolist() + [n + nr + q]
        entries_v += reach[q, nz].tolist() + [1.0]
        lower.append(-np.inf)
        upper.append(0.0)
        row += 1
    band_lo, band_hi = band
    if band_lo > 0 or np.isfinite(band_hi):
        nz = np.flatnonzero(weight > 0)
        entries_r += [row] * len(nz)
        entries_c += nz.tolist()
        entries_v += weight[nz].tolist()
        lower.append(band_lo)
        upper.append(band_hi)
        row += 1
    for j, subs, ratio in rules:
        entries_r += [row] * (len(subs) + 1)
        entries_c += [n + j] + [n + s for s in subs]
        entries_v += [ratio * step[j]] + [-step[s] for s in subs]
        lower.append(0.0)
        upper.append(np.inf)
        row += 1
    if np.isfinite(fte_cap):
        entries_r += [row] * nr
        entries_c += [n + j for j in range(nr)]
        entries_v += step.tolist()
        lower.append(-np.inf)
        upper.append(float(fte_cap))
        row += 1
    A = csc_matrix((np.asarray(entries_v, float), (np.asarray(entries_r, np.int64),
                                                   np.asarray(entries_c, np.int64))),
                   shape=(row, n + nr + nq))
    return A, np.asarray(lower, float), np.asarray(upper, float)


def _site_mip(rows_d, weight, pi, step, prod, cost, mins, rules, band, fte_cap, scale,
              time_limit, lever=None):
    """The least ``sum_r c_r step_r n_r - sum_a pi_a x_a - sum_k gamma_k q_k`` over hubs at
    one site; its proven lower bound [GBP/yr], or None (infeasible, or no bound).

    ``lever``: ``(eta, reach, upper, gamma)`` of the site's lever columns ``q`` (core hours
    per person, keys x roles; reach coefficients, keys x areas; most people; saving per
    person), or None."""
    n, nr = rows_d.shape
    eta, reach, q_upper, gamma = (lever if lever is not None else
                                (np.zeros((0, nr)), np.zeros((0, n)), np.zeros(0), np.zeros(0)))
    nq = len(q_upper)
    ncol = n + nr + nq
    lo_n = np.ceil(np.maximum(mins, 0.0) / step - 1e-9)
    A, lower, upper = site_rows(scale * rows_d, weight, eta, reach, step, prod, rules, band,
                                fte_cap)
    row = A.shape[0]
    h = new_highs()
    h.setOptionValue("time_limit", float(max(time_limit, 0.01)))
    h.setOptionValue("mip_rel_gap", 1e-4)
    integrality = np.r_[np.zeros(n, np.int32), np.ones(nr, np.int32), np.zeros(nq, np.int32)]
    status = h.passModel(
        ncol, row, int(A.nnz), int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMinimize), 0.0, np.r_[-pi, cost * step, -gamma],
        np.r_[np.zeros(n), lo_n, np.zeros(nq)],
        np.r_[np.ones(n), np.full(nr, np.inf), q_upper],
        lower, upper, A.indptr.astype(np.int32),
        A.indices.astype(np.int32), A.data.astype(float), integrality)
    if status == highspy.HighsStatus.kError:
        return None
    run(h, 1)
    ms = h.getModelStatus()
    if ms in (highspy.HighsModelStatus.kInfeasible,
              highspy.HighsModelStatus.kUnboundedOrInfeasible):
        return None
    bound = float(h.getInfo().mip_dual_bound)
    if not np.isfinite(bound):
        return None
    return bound - OMEGA_ABS_TOL - OMEGA_REL_TOL * abs(bound)


#: sites solved before the cuts' worth is judged (:func:`hub_floors`'s ``min_share``)
PROBE_SITES = 6


def hubs_expected(data, ix, population_max=None) -> int:
    """How many hubs a plan will open at least, by counting: the scenario's minimum, and the
    population over the band's maximum."""
    n = int(data.hub_count_min or 0)
    if population_max is not None and float(population_max) > 0:
        n = max(n, int(np.ceil(float(ix.weight.sum()) / float(population_max) - 1e-9)))
    return max(n, 1)


def site_order(data, ix, closed=None, probe: bool = False):
    """The sites :func:`hub_floors` walks, in its order: ``(order, reach, cap, cap_fte)``.

    ``order``: positions in ``ix.site_ids`` of the sites that can open and reach an area, most
    areas first (so that smaller sites can borrow a bound), after the :data:`PROBE_SITES`
    probe sites (spread over the sizes: the largest alone would under-state omega) when
    ``probe`` and there are more sites than that; ``reach``: position -> its areas' positions;
    ``cap``, ``cap_fte``: per site, infinite where none is set.
    """
    sites = data.sites.reindex(ix.site_ids)
    cap = sites["capacity"].astype(float).to_numpy() if "capacity" in sites else \
        np.full(len(ix.site_ids), np.nan)
    cap_fte = sites["capacity_fte"].astype(float).to_numpy() if "capacity_fte" in sites else \
        np.full(len(ix.site_ids), np.nan)
    cap = np.where(np.isfinite(cap), cap, np.inf)
    cap_fte = np.where(np.isfinite(cap_fte), cap_fte, np.inf)
    reach = {}
    for i, s in enumerate(ix.site_ids):
        if s in ix.pairs_by_site and not (closed is not None and closed[i]):
            reach[i] = np.unique(ix.pair_area[ix.pairs_by_site[s]])
    order = sorted(reach, key=lambda i: -len(reach[i]))
    if probe and len(order) > PROBE_SITES:
        picks = np.unique(np.linspace(0, len(order) - 1, PROBE_SITES).round().astype(int))
        first = [order[p] for p in picks]
        order = first + [i for i in order if i not in set(first)]
    return order, reach, cap, cap_fte


def hub_floors(data, ix, *, scale: float = 1.0, population_min=None, population_max=None,
               closed=None, seconds: float = 10.0, min_share: float | None = None,
               stop=None, clock=perf_counter, levers=None) -> HubFloors:
    """``omega`` for every site that can open, within ``seconds``.

    Parameters
    ----------
    data : ModelData
    ix : ModelIndex
    scale : float
        The demand scale in force (``demand_scale``).
    population_min, population_max : float or None
        The population band in force (``hub_population_min``/``upper``).
    closed : array of bool, optional
        Sites that cannot open (no cut needed).
    seconds : float
        Time for all sites; sites not reached get NaN (no cut). Sites with the most areas go
        first, so that sites whose hubs are a subset of theirs take their bound unsolved (a
        site that can run every hub another can has a bound no larger).
    min_share : float, optional
        Give the cuts up after :data:`PROBE_SITES` sites (``omega`` all NaN, ``given_up``
        says why) when their median ``omega`` times :func:`hubs_expected` is below this share
        of all areas' cost at LP rates: the cuts could not move the bound by that much, so
        their time is better left to the solver (England's MSOAs under a 400,000 band: about
        GBP 2,500 a hub, 0.02%); or when the probe's pace says every site would not be done
        within ``seconds``: with cuts on some sites only, the LP moves its hubs to the others,
        and the seconds are the solver's root LP's (the synthetic MDT L at 120 s: 229 of its
        250 sites to solve at about 0.17 s each, in 18 s; cuts on the 69 reached left HiGHS
        too little time to finish its root LP, a 90% gap instead of 4.1%).
    stop : callable, optional
        Checked before each site's MIP; when it returns True the sites not reached get NaN
        (e.g. a service's cancel).
    levers : LeverIndex, optional
        The levers' index (:func:`mdtplan.model.families.lever_reach.lever_index`); required
        when the scenario has levers (their hours change what a hub must staff).
    """
    t0 = clock()
    core, step, prod, cost, mins, demand, rules = _core_arrays(data, ix)
    pi = area_linear_cost(data, ix, scale)
    lv = getattr(data, "levers", None)
    if levers is None and lv is not None and len(lv.cohort.columns):
        raise ValueError("hub_floors: the scenario has levers; pass their index (levers=)")
    # staff travel: an area's demand at a site depends on the site (its trips), so each site's
    # MIP takes its own pairs' demand, and no site may lend its bound to another
    travel = ix.travel_factor is not None
    pi_pair = pair_d = None
    if travel:
        pair_d = ix.pair_demand(None, [ix.roles.index(r) for r in core]).astype(float)
        pi_pair = _linear_cost(pair_d, prod, cost, rules, scale)
    saving = None
    if levers is not None:
        # each pair's rate with its area's levers run in full (where that is worth it)
        saving = levers.saving_gbp.astype(float)
        rho = lever_linear_cost(levers, data, ix)
        full = np.where(saving > rho, levers.share * (rho - saving), 0.0)
        base = pi_pair if travel else pi[ix.pair_area]
        pi_pair = base + levers.pair_cohort @ full
    lo = float(population_min or 0.0)
    hi = float(population_max) if population_max is not None else np.inf
    omega = np.full(len(ix.site_ids), np.nan)
    order, reach, cap, cap_fte = site_order(data, ix, closed, probe=min_share is not None)
    done: list[tuple[int, frozenset]] = []
    solved = reused = 0
    given_up = ""
    for i in order:
        areas = frozenset(reach[i].tolist())
        donor = None if travel else _donor(i, areas, done, cap, cap_fte)
        if donor is not None:
            omega[i] = omega[donor]
            reused += 1
            continue
        left = seconds - (clock() - t0)
        if left <= 0 or (stop is not None and stop()):
            break
        ks = ix.pairs_by_site[ix.site_ids[i]]
        ks = ks[np.argsort(ix.pair_area[ks], kind="stable")]  # one pair per area, area order
        a = ix.pair_area[ks]
        rows_d = pair_d[ks] if travel else demand[a]
        rates = pi[a] if pi_pair is None else pi_pair[ks]
        site_lv = _site_levers(levers, i, ks, ix)
        value = _site_mip(rows_d, ix.weight[a], rates, step, prod, cost, mins, rules,
                          (lo, min(hi, cap[i])), cap_fte[i], scale,
                          min(SITE_LIMIT_S, left),
                          None if site_lv is None else (*site_lv[1:], saving[
                              levers.key_lever[site_lv[0]]]))
        solved += 1
        if value is not None:
            omega[i] = value
            done.append((i, areas))
        if min_share is not None and solved == PROBE_SITES:
            probe = np.nan_to_num(omega[order[: order.index(i) + 1]], nan=0.0)
            worth = float(np.median(probe)) * hubs_expected(data, ix, population_max)
            elapsed = clock() - t0
            needed = len(order) if travel else _solves_needed(order, reach, cap, cap_fte)
            if worth < min_share * float(max(pi.sum(), 0.0)):
                given_up = "too small to move the bound"
            elif elapsed + elapsed / solved * (needed - solved) > seconds:
                given_up = (f"{needed} sites would take about {elapsed / solved * needed:.0f} s"
                            f", more than the {seconds:.0f} s they may have")
            if given_up:
                omega[:] = np.nan
                break
    return HubFloors(omega=omega, pi=pi, solved=solved, reused=reused,
                     seconds=clock() - t0, given_up=given_up, pi_pair=pi_pair, saving=saving)


def cut_rows(floors: HubFloors, ix, data, open_col: np.ndarray, assign_col: np.ndarray,
             steps_col: np.ndarray, levers=None, lever_col: np.ndarray | None = None):
    """The cuts as CSR rows over the solver's columns.

    ``open_col`` (per site), ``assign_col`` (per pair), ``steps_col`` (per ``ix.staff``
    member) and, with levers, ``lever_col`` (per key of ``levers``, the index
    :func:`hub_floors` was given) give each variable's column, -1 where the build dropped
    it. A site with a dropped column, or with ``omega`` not positive, gets no cut.

    Returns
    -------
    (starts, index, value, lower) : arrays for ``Highs.addRows`` (upper bounds are +inf)
    """
    core = list(ix.core_roles)
    roles = data.roles.reindex(core)
    coef = (roles["cost_gbp_per_fte"].astype(float) * roles["fte_step"].astype(float)).to_numpy()
    staff_pos = {key: p for p, key in enumerate(ix.staff)}
    starts, index, value = [0], [], []
    for i, s in enumerate(ix.site_ids):
        om = floors.omega[i]
        if not np.isfinite(om) or om <= 0 or s not in ix.pairs_by_site:
            continue
        ks = ix.pairs_by_site[s]
        cols_s = [steps_col[staff_pos[(s, r)]] if (s, r) in staff_pos else -1 for r in core]
        cols_a = assign_col[ks]
        keys = (np.flatnonzero(levers.key_site == i) if floors.saving is not None
                else np.zeros(0, np.int64))
        cols_q = lever_col[keys] if len(keys) else np.zeros(0, np.int64)
        if open_col[i] < 0 or min(cols_s) < 0 or (cols_a < 0).any() or (cols_q < 0).any():
            continue
        index += cols_s + cols_a.tolist() + cols_q.tolist() + [int(open_col[i])]
        rates = (floors.pi[ix.pair_area[ks]] if floors.pi_pair is None
                 else floors.pi_pair[ks])
        q_rates = floors.saving[levers.key_lever[keys]] if len(keys) else np.zeros(0)
        value += coef.tolist() + (-rates).tolist() + (-q_rates).tolist() + [-float(om)]
        starts.append(len(index))
    n = len(starts) - 1
    return (np.asarray(starts[:-1], np.int32), np.asarray(index, np.int32),
            np.asarray(value, float), np.zeros(n))

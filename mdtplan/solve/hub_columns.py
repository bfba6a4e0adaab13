"""A lower bound on the cost stage from hub columns (Dantzig-Wolfe decomposition).

The compact model's LP relaxation staffs fractional hubs with fractional FTE, so its bound
misses the whole-FTE steps every real hub rounds up to (York: the plan's FTE are above the
LP's by about a quarter of a step per hub and role); no cut of one hub sees that rounding,
because any one hub's areas can be chosen to fill its steps almost exactly
(:mod:`mdtplan.solve.cuts`). Here every column *is* a hub: one site, its areas taken whole,
its core staff in whole steps with the minimum MDT, supervision, the population band, the
FTE capacity and its levers' reach, costed exactly; the master LP chooses hubs so that every
area is served once, a site runs at most one hub, the hub count holds and each specialist
pool's FTE (continuous) covers its hours:

.. math:: \\min \\sum_p c_p \\lambda_p + \\sum_{u,r} c_{u,r} N_{u,r} \\quad
          \\sum_{p \\ni a} \\lambda_p = 1,\\; \\sum_{p \\in s} \\lambda_p \\le 1,\\;
          n^{min} \\le \\sum_p \\lambda_p \\le n^{max},\\;
          h_{u,r} N_{u,r} \\ge \\sum_p g_{p,u,r} \\lambda_p

Columns are priced by a small MIP per site (the areas' duals, the pools' hour prices); at any
duals :math:`\\pi` the Lagrangian bound :math:`L(\\pi) = \\sum_a \\mu_a + \\kappa n^{min|max}
+ \\sum_s \\min(0, \\underline{price}_s(\\pi) - \\kappa)` (with each pricing MIP's proven
dual bound) is a valid lower bound on the cost stage, so the bound holds whenever the search
stops. Duals are smoothed towards the best so far (Wentges), starting from the compact LP's
when given. Between the rounds of MIPs, cheap rounds add each site's greedy hub (its areas by
their worth at the duals less their staff at the LP's rates, within the band), costed
exactly; they prove nothing, so a round of MIPs follows when they find no column or every
:data:`EXACT_EVERY` rounds.

It is a relaxation of the model: the rules a hub column does not carry are dropped
(contiguity, the hub's own area, hub separation, workforce supply and agency, the budget cap,
pool steps and minimums, supervision across pools), which only lowers the bound; any other
column with a cost in the stage must cost nothing below zero (:func:`hub_costs` checks). It
knows no model: the caller gives the stage's costs by column (:class:`HubCosts`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from time import perf_counter

import highspy
import numpy as np
from scipy.sparse import csc_matrix

from .cuts import _core_arrays, _linear_cost, _site_levers, site_rows
from .highs import new_highs, run

INF = highspy.kHighsInf
#: the restricted master's cost of leaving an area (or the hub count's minimum) uncovered
_ARTIFICIAL = 1e9
#: a round of MIPs (which proves the bound) after this many rounds of greedy hubs at most
EXACT_EVERY = 4
#: absolute [GBP] and relative slack taken off each bound (numerical error of the MIPs)
BOUND_ABS_TOL = 1.0
BOUND_REL_TOL = 1e-6


@dataclass(frozen=True)
class HubCosts:
    """The stage's cost of each variable a hub column holds.

    Attributes
    ----------
    pair : ndarray
        Per pair (``ix.pairs``): the cost of ``assign`` (staff mileage) [GBP/yr].
    site : ndarray
        Per site: the cost of ``open_site``; NaN where the site cannot open.
    step : ndarray, shape (sites, core roles)
        The cost of one FTE step of each core role at each site [GBP/yr].
    pool_step : ndarray
        Per pool staff key (``ix.staff`` after the sites' core staff): one step's cost.
    lever : ndarray or None
        Per lever key (``lever_index(...).keys``): the cost of one person reached (minus
        the saving) [GBP/person].
    offset : float
        The stage's constant.
    required : ndarray of bool or None
        Per site: it must open (its ``open_site`` fixed at 1).
    """

    pair: np.ndarray
    site: np.ndarray
    step: np.ndarray
    pool_step: np.ndarray
    lever: np.ndarray | None
    offset: float = 0.0
    required: np.ndarray | None = None


#: the variables a hub column or the master holds; any other column must not cost below 0
HELD = ("open_site", "assign", "fte_steps", "lever_people")


def hub_costs(ix, c: np.ndarray, offset: float, columns: dict, col_upper: np.ndarray,
              levers=None, col_lower: np.ndarray | None = None) -> HubCosts | str:
    """The stage's costs by hub variable, or why no bound can be made (a string).

    ``c`` (the stage's cost per solver column), ``columns`` (family -> the solver column of
    each member, -1 where dropped, for every family of the model), ``col_upper`` and
    ``col_lower`` (sites that must open).
    """
    for family, cols in columns.items():
        if family in HELD:
            continue
        cols = cols[cols >= 0]
        if len(cols) and (c[cols] < 0).any():
            return f"'{family}' has a negative cost in the stage"
    n_site = len(ix.site_ids)
    open_c = columns["open_site"]
    site = np.full(n_site, np.nan)
    ok = open_c >= 0
    site[ok] = np.where(col_upper[open_c[ok]] >= 0.5, c[open_c[ok]], np.nan)
    required = np.zeros(n_site, dtype=bool)
    if col_lower is not None:
        required[ok] = col_lower[open_c[ok]] >= 0.5
    assign = columns["assign"]
    if (assign < 0).any():
        return "some assignment columns were dropped"
    core = list(ix.core_roles)
    staff = columns["fte_steps"]
    pos = {key: p for p, key in enumerate(ix.staff)}
    step = np.full((n_site, len(core)), np.nan)
    for i, s in enumerate(ix.site_ids):
        for j, r in enumerate(core):
            p = pos.get((s, r))
            if p is not None and staff[p] >= 0:
                step[i, j] = c[staff[p]]
    n_core = n_site * len(core)
    pool_cols = staff[n_core:]
    pool_step = np.where(pool_cols >= 0, c[np.maximum(pool_cols, 0)], np.nan)
    lever = None
    if levers is not None and levers.keys:
        lc = columns.get("lever_people")
        if lc is None or (lc < 0).any():
            return "some lever columns were dropped"
        lever = c[lc]
    return HubCosts(pair=c[assign], site=site, step=step, pool_step=pool_step, lever=lever,
                    offset=float(offset), required=required)


def nearest_bound(ix, costs: HubCosts, allowed: np.ndarray) -> float:
    """A stage's least value in closed form: every area served once (a rule of every model)
    at the least its allowed pairs (``allowed``, per pair) cost, every site that may open at
    its cost where that is negative, every site that must open at its cost, and nothing
    else below nought. ``-inf`` where something else may cost less than nought (staff
    steps or levers with a negative cost: the cost stage's savings) or an area has no
    allowed pair.

    Weak where hubs' staff or the hub count decide the value; on a stage of staff travel
    (minutes from the hub to each area) it is the travel with every area at its nearest
    site, a bound that needs no solve."""
    parts = [costs.step, costs.pool_step] + ([] if costs.lever is None else [costs.lever])
    if any(np.nan_to_num(np.asarray(v, float), nan=0.0).min(initial=0.0) < 0 for v in parts):
        return -np.inf
    n_a = len(ix.area_ids)
    least = np.full(n_a, np.inf)
    np.minimum.at(least, ix.pair_area, np.where(allowed, costs.pair, np.inf))
    if not np.isfinite(least).all():
        return -np.inf
    site = np.nan_to_num(costs.site, nan=0.0)
    must = np.zeros(len(site), dtype=bool) if costs.required is None else costs.required
    return float(costs.offset + least.sum() + np.minimum(site[~must], 0.0).sum()
                 + site[must].sum())


@dataclass
class ColumnBound:
    """What the column search proved.

    Attributes
    ----------
    bound : float
        The best Lagrangian bound on the stage [GBP/yr] (``-inf``: none yet).
    master : float
        The restricted master LP's last value (the bound the search converges to).
    rounds, columns : int
        Master LPs solved (each followed by a round of pricing); columns made.
    cheap_rounds : int
        Rounds priced by greedy hubs only (no bound from them).
    converged : bool
        No column prices out: ``bound`` is the decomposition's own (to the MIPs' gaps).
    seconds : float
    history : list of (seconds, bound)
        Each rise of the bound.
    """

    bound: float = -np.inf
    master: float = np.inf
    rounds: int = 0
    cheap_rounds: int = 0
    columns: int = 0
    converged: bool = False
    seconds: float = 0.0
    history: list = field(default_factory=list)


class _Problem:
    """The arrays the pricing MIPs and the master share."""

    def __init__(self, data, ix, costs: HubCosts, scale, band, counts, levers):
        core, step, prod, cost_fte, mins, _, rules = _core_arrays(data, ix)
        self.ix, self.costs, self.scale = ix, costs, float(scale)
        self.step, self.prod, self.rules = step, prod, rules
        self.lo_n = np.ceil(np.maximum(mins, 0.0) / step - 1e-9)
        self.core_pos = [ix.roles.index(r) for r in core]
        self.spec = list(ix.specialist_roles)
        spec_pos = [ix.roles.index(r) for r in self.spec]
        self.pair_d = ix.pair_demand(None, self.core_pos).astype(float) * self.scale
        self.pair_spec = (ix.pair_demand(None, spec_pos).astype(float) * self.scale
                          if self.spec else np.zeros((len(ix.pairs), 0)))
        # each pair's core staff at the LP's rates: the greedy pricing's estimate
        self.pair_rate = _linear_cost(self.pair_d, prod, cost_fte, rules, 1.0)
        n_core = len(ix.site_ids) * len(core)
        self.pool_keys = list(ix.staff[n_core:])
        self.pk = {k: i for i, k in enumerate(self.pool_keys)}
        roles = data.roles
        self.pool_cap = np.array([float(roles.at[r, "productive_hours_per_fte"])
                                  * float(roles.at[r, "fte_step"]) for _, r in self.pool_keys])
        self.pool_cost = np.nan_to_num(costs.pool_step, nan=0.0)
        # each pair's pool key per specialist role (-1: none)
        self.pair_pk = np.array([[self.pk.get((u, r), -1) for r in self.spec]
                                 for u in ix.pair_pool], dtype=np.int64).reshape(
            len(ix.pairs), len(self.spec))
        sites = data.sites.reindex(ix.site_ids)
        cap = (sites["capacity"].astype(float).to_numpy() if "capacity" in sites
               else np.full(len(ix.site_ids), np.nan))
        cap_fte = (sites["capacity_fte"].astype(float).to_numpy() if "capacity_fte" in sites
                   else np.full(len(ix.site_ids), np.nan))
        self.cap = np.where(np.isfinite(cap), cap, np.inf)
        self.cap_fte = np.where(np.isfinite(cap_fte), cap_fte, np.inf)
        self.band = band
        self.count_min = float(counts[0] or 0.0)
        self.count_max = float(counts[1]) if counts[1] is not None else np.inf
        self.binary = data.assignment == "single"
        self.required = (np.zeros(len(ix.site_ids), dtype=bool) if costs.required is None
                         else np.asarray(costs.required, dtype=bool))
        self.levers = levers
        self.sites = {}
        for i, s in enumerate(ix.site_ids):
            if s in ix.pairs_by_site and np.isfinite(costs.site[i]) \
                    and np.isfinite(costs.step[i]).all():
                ks = ix.pairs_by_site[s]
                self.sites[i] = ks[np.argsort(ix.pair_area[ks], kind="stable")]
        self.site_lever = {}
        if levers is not None and levers.keys:
            for i, ks in self.sites.items():
                found = _site_levers(levers, i, ks, ix)
                if found is None:
                    continue
                keys, eta, reach, q_up = found
                k = levers.key_lever[keys]
                spec_h = (levers.hours[np.ix_(k, spec_pos)] if self.spec
                          else np.zeros((len(k), 0)))
                pool = levers.site_pool[i]
                pks = np.array([self.pk.get((pool, r), -1) for r in self.spec], np.int64)
                self.site_lever[i] = (keys, eta, spec_h, pks, reach, q_up)

    def price(self, i: int, mu: np.ndarray, pool_price: np.ndarray, limit: float,
              fix: np.ndarray | None = None):
        """Site ``i``'s least ``cost - sum mu x + pool hours x pool price``: ``(bound, value,
        column)``; value and column None without a plan; None when no hub is possible."""
        ix, costs = self.ix, self.costs
        ks = self.sites[i]
        n, nr = len(ks), len(self.core_pos)
        lv = self.site_lever.get(i)
        nq = 0 if lv is None else len(lv[0])
        a = ix.pair_area[ks]
        pp = np.where(self.pair_pk[ks] >= 0, pool_price[np.maximum(self.pair_pk[ks], 0)], 0.0)
        xcost = costs.pair[ks] - mu[a] + (self.pair_spec[ks] * pp).sum(axis=1)
        qcost, q_up = np.zeros(nq), np.zeros(0)
        eta, reach = np.zeros((0, nr)), np.zeros((0, n))
        if lv is not None:
            keys, eta, spec_h, pks, reach, q_up = lv
            qcost = costs.lever[keys] + spec_h @ np.where(pks >= 0, pool_price[np.maximum(pks, 0)],
                                                          0.0)
        A, lo, up = site_rows(self.pair_d[ks], ix.weight[a], eta, reach, self.step, self.prod,
                              self.rules, (self.band[0], min(self.band[1], self.cap[i])),
                              self.cap_fte[i])
        row, ncol = A.shape
        x_lo, x_up = np.zeros(n), np.ones(n)
        if fix is not None:
            x_lo, x_up = fix.astype(float), fix.astype(float)
        h = new_highs()
        h.setOptionValue("time_limit", float(max(limit, 0.01)))
        h.setOptionValue("mip_rel_gap", 1e-6)
        integ = np.r_[np.full(n, int(self.binary), np.int32), np.ones(nr, np.int32),
                      np.zeros(nq, np.int32)]
        h.passModel(ncol, row, int(A.nnz), int(highspy.MatrixFormat.kColwise),
                    int(highspy.ObjSense.kMinimize), float(costs.site[i]),
                    np.r_[xcost, costs.step[i], qcost],
                    np.r_[x_lo, self.lo_n, np.zeros(nq)],
                    np.r_[x_up, np.full(nr, INF), q_up],
                    lo, up, A.indptr.astype(np.int32),
                    A.indices.astype(np.int32), A.data.astype(float), integ)
        run(h, 1)
        ms = h.getModelStatus()
        if ms in (highspy.HighsModelStatus.kInfeasible,
                  highspy.HighsModelStatus.kUnboundedOrInfeasible):
            return None
        info = h.getInfo()
        bound = float(info.mip_dual_bound)
        if ms == highspy.HighsModelStatus.kOptimal and not np.isfinite(bound):
            bound = float(info.objective_function_value)  # solved in presolve
        bound = bound if np.isfinite(bound) else -np.inf
        if info.primal_solution_status != highspy.kSolutionStatusFeasible:
            return bound, None, None
        x = np.asarray(h.getSolution().col_value, dtype=float)
        take = x[:n] > 1e-9
        share = np.clip(x[:n], 0.0, 1.0)
        n_steps = np.round(x[n:n + nr])
        q = x[n + nr:]
        cost = float(costs.site[i] + costs.pair[ks] @ share + costs.step[i] @ n_steps
                     + (0.0 if lv is None else costs.lever[lv[0]] @ q))
        hours = np.zeros(len(self.pool_keys))
        for col_j in range(len(self.spec)):
            pk = self.pair_pk[ks, col_j]
            m = take & (pk >= 0)
            np.add.at(hours, pk[m], self.pair_spec[ks[m], col_j] * share[m])
            if lv is not None and lv[3][col_j] >= 0:
                hours[lv[3][col_j]] += float(lv[2][:, col_j] @ q)
        column = (i, a[take], share[take], cost, hours)
        return bound, float(info.objective_function_value), column


def _greedy(P: _Problem, i: int, mu: np.ndarray, pool_price: np.ndarray):
    """The areas a hub at site ``i`` would take by their worth at these duals less their
    cost at the LP's rates, best first, within the band (a mask over the site's pairs), or
    None when the band cannot be met."""
    ix = P.ix
    ks = P.sites[i]
    a = ix.pair_area[ks]
    pp = np.where(P.pair_pk[ks] >= 0, pool_price[np.maximum(P.pair_pk[ks], 0)], 0.0)
    worth = mu[a] - P.costs.pair[ks] - (P.pair_spec[ks] * pp).sum(axis=1) - P.pair_rate[ks]
    w = ix.weight[a]
    lo, hi = P.band[0], min(P.band[1], P.cap[i])
    take = np.zeros(len(ks), dtype=bool)
    pop = 0.0
    for j in np.argsort(-worth, kind="stable"):
        if pop + w[j] > hi:
            continue
        if worth[j] > 0 or pop < lo:
            take[j] = True
            pop += w[j]
    return take if take.any() and pop >= lo else None


def _master(P: _Problem, columns: list):
    """The restricted master LP: (value, area duals, site duals, count dual, pool duals,
    uncovered)."""
    ix = P.ix
    n_a, n_s, n_p = len(ix.area_ids), len(ix.site_ids), len(P.pool_keys)
    n_rows = n_a + n_s + 1 + n_p
    count_row, pool_row = n_a + n_s, n_a + n_s + 1
    # artificial columns (areas, the count's minimum, sites that must open), then pool FTE
    art_rows = list(range(n_a)) + [count_row] + (n_a + np.flatnonzero(P.required)).tolist()
    n_art = len(art_rows)
    n_cols = n_art + n_p + len(columns)
    er = art_rows + list(range(pool_row, pool_row + n_p))
    ec = list(range(n_art + n_p))
    ev = [1.0] * n_art + P.pool_cap.tolist()
    cost = [_ARTIFICIAL] * n_art + P.pool_cost.tolist()
    for j, (i, areas, share, c, hours) in enumerate(columns):
        cj = n_art + n_p + j
        nz = np.flatnonzero(hours)
        er += areas.tolist() + [n_a + i, count_row] + (pool_row + nz).tolist()
        ec += [cj] * (len(areas) + 2 + len(nz))
        ev += share.tolist() + [1.0, 1.0] + (-hours[nz]).tolist()
        cost.append(c)
    A = csc_matrix((np.asarray(ev, float), (np.asarray(er, np.int64), np.asarray(ec, np.int64))),
                   shape=(n_rows, n_cols))
    lo = np.r_[np.ones(n_a), np.where(P.required, 1.0, -INF), [P.count_min], np.zeros(n_p)]
    up = np.r_[np.ones(n_a), np.ones(n_s), [P.count_max if np.isfinite(P.count_max) else INF],
               np.full(n_p, INF)]
    h = new_highs()
    h.passModel(n_cols, n_rows, int(A.nnz), int(highspy.MatrixFormat.kColwise),
                int(highspy.ObjSense.kMinimize), 0.0, np.asarray(cost, float),
                np.zeros(n_cols), np.full(n_cols, INF), lo, up, A.indptr.astype(np.int32),
                A.indices.astype(np.int32), A.data.astype(float), np.zeros(n_cols, np.int32))
    run(h, 1)
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    sol = h.getSolution()
    y = np.asarray(sol.row_dual, dtype=float)
    x = np.asarray(sol.col_value, dtype=float)
    return (float(h.getInfo().objective_function_value), y[:n_a], y[n_a:n_a + n_s],
            float(y[count_row]), y[pool_row:], float(x[:n_art].sum()))


def column_bound(data, ix, costs: HubCosts, *, scale: float = 1.0, population_min=None,
                 population_max=None, count_min=None, count_max=None, levers=None,
                 plan: dict | None = None, duals: tuple | None = None, seconds: float = 60.0,
                 price_s: float = 0.5, alpha: float = 0.7, stop=None,
                 clock=perf_counter) -> ColumnBound:
    """The column search's lower bound on the stage whose costs are ``costs``.

    Parameters
    ----------
    scale, population_min, population_max, count_min, count_max
        The demand scale, band and hub counts in force.
    levers : LeverIndex, optional
        Required when the scenario has levers.
    plan : dict, optional
        Site position -> the area positions of a plan's hub: its hubs are the first columns.
    duals : (area duals, pool duals, count dual), optional
        A first guess of the duals (e.g. the compact LP's): the first pricing round is made
        at them.
    seconds, price_s
        Time for the whole search, and at most for one pricing MIP [s].
    alpha : float
        Smoothing of the duals towards the best so far (0: none).
    stop : callable, optional
        Checked between pricing MIPs: the search ends with the bound so far.
    """
    t0 = clock()
    out = ColumnBound()
    lv = getattr(data, "levers", None)
    if levers is None and lv is not None and len(lv.cohort.columns):
        raise ValueError("column_bound: the scenario has levers; pass their index (levers=)")
    band = (float(population_min or 0.0),
            float(population_max) if population_max is not None else np.inf)
    P = _Problem(data, ix, costs, scale, band, (count_min, count_max), levers)
    n_a = len(ix.area_ids)
    columns: list = []

    def left() -> float:
        return seconds - (clock() - t0)

    def halted() -> bool:
        return left() <= 0 or (stop is not None and stop())

    if plan:
        for i, areas in plan.items():
            if i not in P.sites or halted():
                continue
            fix = np.isin(ix.pair_area[P.sites[i]], np.asarray(list(areas)))
            r = P.price(i, np.zeros(n_a), np.zeros(len(P.pool_keys)), min(price_s, left()), fix)
            if r is not None and r[2] is not None:
                columns.append(r[2])
    pool_top = np.where(P.pool_cap > 0, P.pool_cost / np.where(P.pool_cap > 0, P.pool_cap, 1.0),
                        0.0)
    centre = None
    if duals is not None:
        centre = (np.asarray(duals[0], float), np.clip(np.asarray(duals[1], float), 0.0, pool_top),
                  float(duals[2]))
    first = centre is not None
    mispriced = False
    exact_due = True  # the first round proves (at the duals given, or the first master's)
    while not halted():
        m = _master(P, columns)
        if m is None:
            break
        z, mu, nu, kappa, pool_dual, uncovered = m
        out.master, out.rounds = z + costs.offset, out.rounds + 1
        if not exact_due and not first:
            # a cheap round: each site's greedy hub, costed exactly; a MIP round (which
            # proves the bound) only when these find nothing or every few rounds
            added = 0
            for i in P.sites:
                if halted():
                    break
                take = _greedy(P, i, mu, pool_dual)
                if take is None:
                    continue
                r = P.price(i, mu, pool_dual, min(price_s, left()), take)
                if r is None or r[2] is None:
                    continue
                _, areas, share, c, hours = r[2]
                rc = c - mu[areas] @ share + pool_dual @ hours - nu[i] - kappa
                if rc < -1e-6 * max(1.0, abs(c)):
                    columns.append(r[2])
                    added += 1
            out.cheap_rounds += 1
            exact_due = added == 0 or out.cheap_rounds % EXACT_EVERY == 0
            continue
        exact_due = False
        smooth = centre is not None and not mispriced and (first or uncovered < 1e-9)
        if smooth:
            a = 1.0 if first else alpha
            mu_p = a * centre[0] + (1 - a) * mu
            pd_p = a * centre[1] + (1 - a) * pool_dual
            kap_p = a * centre[2] + (1 - a) * kappa
        else:
            mu_p, pd_p, kap_p = mu, pool_dual, kappa
        first = False
        pd_p = np.clip(pd_p, 0.0, pool_top)  # every pool FTE's reduced cost >= 0
        if kap_p < 0 and not np.isfinite(P.count_max):
            kap_p = 0.0
        lagrange = float(mu_p.sum()) + kap_p * (P.count_min if kap_p >= 0 else P.count_max)
        added, complete = 0, True
        for i in P.sites:
            if halted():
                complete = False
                break
            r = P.price(i, mu_p, pd_p, min(price_s, left()))
            if r is None:
                if P.required[i]:
                    lagrange = -np.inf  # no hub where one must open: no bound to claim
                continue
            bound, _, column = r
            # a site that must open runs exactly one hub; any other one at most
            lagrange += (bound - kap_p) if P.required[i] else min(0.0, bound - kap_p)
            if column is not None:
                _, areas, share, c, hours = column
                rc = c - mu[areas] @ share + pool_dual @ hours - nu[i] - kappa
                if rc < -1e-6 * max(1.0, abs(c)):
                    columns.append(column)
                    added += 1
        if complete and np.isfinite(lagrange):
            value = lagrange + costs.offset
            value -= BOUND_ABS_TOL + BOUND_REL_TOL * abs(value)
            if value > out.bound:
                out.bound = value
                out.history.append((clock() - t0, value))
                centre = (mu_p.copy(), pd_p.copy(), kap_p)
        mispriced = False
        if complete and added == 0:
            if smooth:
                mispriced = True  # the next round prices at the master's own duals
                exact_due = True
                continue
            out.converged = uncovered < 1e-9
            break
    out.columns = len(columns)
    out.seconds = clock() - t0
    return out


def matrix_columns(mm) -> dict:
    """Family -> the column of each member (-1 where dropped) of a direct build
    (:class:`mdtplan.model.matrix.MatrixModel`)."""
    out = {}
    for family, (start, stop) in mm.col_spans.items():
        col = np.full(len(mm.keys[family]), -1, dtype=np.int64)
        col[mm.col_member[start:stop]] = np.arange(start, stop)
        out[family] = col
    for family in HELD:
        if family not in out and family in mm.keys:
            out[family] = np.full(len(mm.keys[family]), -1, dtype=np.int64)
    return out


def relaxation(mm, time_limit: float | None = None) -> highspy.Highs:
    """A quiet HiGHS holding the LP relaxation of a direct build's first stage (not run)."""
    h = new_highs()
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    A = mm.A
    h.passModel(len(mm.col_lower), len(mm.row_lower), int(A.nnz),
                int(highspy.MatrixFormat.kColwise), int(highspy.ObjSense.kMinimize),
                float(mm.offset0), mm.c0, mm.col_lower, mm.col_upper, mm.row_lower,
                mm.row_upper, A.indptr.astype(np.int32), A.indices.astype(np.int32),
                A.data.astype(float), np.zeros(len(mm.col_lower), np.int32))
    return h


def compact_duals(mm, ix, time_limit: float = 60.0):
    """The compact LP relaxation's duals as :func:`column_bound`'s first guess: (area
    duals, pool duals, count dual), or None when the LP is not solved in time."""
    h = relaxation(mm, time_limit)
    run(h, 1)
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    y = np.asarray(h.getSolution().row_dual, dtype=float)
    spans = mm.row_spans
    mu = np.zeros(len(ix.area_ids))
    apos = {a: i for i, a in enumerate(ix.area_ids)}
    if "area_served_once" in spans:
        lo, hi = spans["area_served_once"]
        keys = mm.keys["area_served_once"]
        for r in range(lo, hi):
            mu[apos[keys[mm.row_member[r]]]] = y[r]
    n_core = len(ix.site_ids) * len(ix.core_roles)
    pk = {k: i for i, k in enumerate(ix.staff[n_core:])}
    pool = np.zeros(len(pk))
    if "pool_demand_covered" in spans:
        lo, hi = spans["pool_demand_covered"]
        keys = mm.keys["pool_demand_covered"]
        for r in range(lo, hi):
            j = pk.get(tuple(keys[mm.row_member[r]]))
            if j is not None:
                pool[j] = y[r]
    kappa = sum(float(y[slice(*spans[n])].sum()) for n in ("hub_count_min", "hub_count_max")
                if n in spans)
    return mu, pool, kappa

"""The cost stage solved by its hubs: every possible hub enumerated, the best set proven.

Where catchments must be contiguous and hold their hub's own area, a hub is one *pattern*: a
site and a connected set of the areas it may serve, holding its root area, within the
population band. On a small model there are few enough (York's 24 MSOAs: 12,841) to write
them all down, and then the cost stage is a set-partitioning problem over whole hubs
(:mod:`mdtplan.solve.hub_columns`'s master, as a MIP, over every column there is): its
optimum is a bound the compact model's LP cannot give, because it prices every hub's
whole-FTE steps exactly (the compact LP spreads fractional FTE over fractional hubs).

The search, each step exact:

1. Every pattern (:func:`enumerate_patterns`: connected sets grown from the root, each once).
2. A lower bound of each pattern's cost in closed form (:func:`pattern_floors`: each core
   role at the whole steps its areas' hours need, supervision on those, every lever at its
   reach with no staff for it), on all patterns at once.
3. The master's LP on those floors: its value ``z`` bounds the stage and each pattern's
   reduced cost ``rc`` says how much any plan using it costs above ``z`` at least.
4. Patterns with ``rc <= delta`` are costed exactly (each hub's own small MIP, with its
   levers), and the master MIP over them (specialist pools in whole steps, the hub count,
   hub separation, sites that must open) gives ``z*``. When ``z* <= z + delta`` no plan with
   another pattern can be cheaper, so ``z*`` is the optimum of the master; else ``delta``
   grows to ``z* - z`` and step 4 runs again.

Three things make the master MIP smaller and faster, each exact: a hub no better than
another hub of the same areas in everything the MIP sees (:class:`_Dominance`) is left out
of it; a later stage (travel, the cost held) keeps only the hubs whose reduced cost in the
cost stage's last LP fits within the cost held (:meth:`Search._within_hold`: no plan
within the hold can use another); the start's plan, where few enough hubs price below its
value, sets ``delta`` at once, and a MIP run for its proof from a known plan runs without
HiGHS's own searches for plans (:data:`PROOF_OFF`). The master LP is raised by subset-row
cuts (:class:`_Cuts`: of any three areas, at most one hub of a plan holds two or more), which
every plan meets, so ``z`` is higher and fewer patterns lie within ``delta``.

On a larger model (Kent's 182 MSOAs: 163,476 patterns) the LP is solved over a working set
of patterns grown by pricing (:meth:`Search._lp`), and where too many patterns lie within
``delta`` to prove, the MIP takes the likeliest (least reduced cost, with the hubs of the
plan the stage starts from): a plan and the LP's bound, not a proof.

The master is a relaxation of the model (the rules no hub column carries are dropped, as in
:mod:`mdtplan.solve.hub_columns`: workforce supply, agency, the pools' minimums, supervision
in pools, and the specialist hours levers need; the hours levers could free in a pool are
taken off at the levers' whole reach; the budget cap holds each hub at the least it
could cost in it), so ``z*`` is a valid
lower bound on the cost stage; the master's hubs, handed to the full model with their areas
fixed, give a plan, and when that plan costs ``z*`` it is proven optimal.
"""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass, field
from time import perf_counter

import highspy
import numpy as np
from scipy.sparse import csc_matrix, csr_matrix, hstack, vstack

from . import hub_columns as hc
from .highs import new_highs, run
from .mip_start import dense_start

_log = logging.getLogger(__name__)
INF = highspy.kHighsInf
#: at most this many patterns are written down (beyond it the method does not apply)
MAX_PATTERNS = 250_000
#: HiGHS's searches for plans that a master MIP run for its proof does without: on York's
#: master (24 areas, 3,368 hubs) they took 7 of its 16 s, and the plan comes from the MIP
#: before (or the stage's start) anyway
PROOF_OFF = ("mip_heuristic_run_rins", "mip_heuristic_run_rens",
             "mip_heuristic_run_root_reduced_cost", "mip_heuristic_run_feasibility_jump")
#: the most patterns a master MIP takes: where more lie within ``delta`` of the master LP,
#: the MIP takes the ``BEST_PATTERNS`` of least reduced cost instead (a plan, and a proof
#: only when every pattern left out costs more above the LP than the plan does)
MAX_MIP = 8_000
BEST_PATTERNS = 3_000
#: ... after this share of the search's time, the best patterns at the LP's prices as
#: they are (the rest is the MIP's)
BEST_AFTER = 0.5
#: ... and they are costed until this share of it at most (then the best costed ones)
BEST_UNTIL = 0.7
#: over more patterns than this, the master LP is solved over a working set that grows
#: by the patterns the LP's prices favour (column generation over the written-down hubs)
FULL_LP = 20_000
#: the most patterns the working set grows by between two of its LPs
LP_ADD = 5_000
#: the first delta, relative to the master LP's value
FIRST_DELTA = 0.005
#: the first master MIP, before any plan is known, looks for one only: this long at least
#: [s], or this share of the search's time
FIRST_MIP_S = 1.0
FIRST_MIP_SHARE = 0.15
#: a hub is costed without its MIP when its site runs at most this many levers and its
#: staffing has at most this many whole-step choices between the least and the most it
#: could need
MAX_STEP_LEVERS = 4
MAX_STEP_POINTS = 256
#: ... or more levers where they use the hours of at most this many core roles and their
#: programme's dual has at most this many candidate points (:meth:`_HubCost._site_duals`)
MAX_DUAL_ROLES = 5
MAX_DUAL_POINTS = 5_000
#: patterns costed exactly between two master LPs
PRICE_BATCH = 10_000
#: subset-row cuts on the master LP (:class:`_Cuts`): at most this many a round, this many
#: in all (every stage's together), each broken by more than this; rounds stop when the
#: last raised the LP by less than ``CUT_TAIL`` of its value, or after ``CUT_SHARE`` of the
#: search's time. Kent's cost stage (2026-12-07): the first 50 cuts raised its LP bound from
#: £41.77m to £41.83m, 300 to £41.88m (its best plan £42.02m: a proven gap of 0.56% down to
#: 0.46% and 0.33%); in the search's time, rounds of 100 took it to £41.86m, rounds of 50 to
#: £41.83m (Leicestershire and York: no worse)
CUT_BATCH = 100
MAX_CUTS = 600
CUT_VIOLATION = 0.02
CUT_TAIL = 2e-5
CUT_SHARE = 0.5
#: ... and start once a round of costing hubs raised the LP by at most this share of it
CUT_FROM = 0.005
#: tolerance taken off each bound (numerical error of the LP and MIPs)
BOUND_REL_TOL = 2e-7
BOUND_ABS_TOL = 0.01


@dataclass
class Patterns:
    """Every hub a model allows: ``site[p]`` and its pairs ``pairs[indptr[p]:indptr[p+1]]``
    (positions in ``ix.pairs``)."""

    site: np.ndarray
    indptr: np.ndarray
    pairs: np.ndarray

    def __len__(self) -> int:
        return len(self.site)

    def incidence(self, n_pairs: int) -> csr_matrix:
        """Patterns x pairs, 1 where the pattern holds the pair."""
        return csr_matrix((np.ones(len(self.pairs)), self.pairs, self.indptr),
                          shape=(len(self.site), n_pairs))


@dataclass
class PatternResult:
    """What the search proved.

    Attributes
    ----------
    bound : float
        A lower bound on the stage [its unit]; ``-inf`` when none was made.
    plan : dict or None
        Site position -> the pair positions of its hub, of the master's best set of hubs.
    proven : bool
        ``bound`` is the master's optimum (not cut short by the time).
    patterns, costed : int
        Patterns written down; patterns costed exactly.
    seconds : float
    reason : str
        Why there is no bound (empty when there is one).
    log : list of str
    """

    bound: float = -np.inf
    plan: dict | None = None
    proven: bool = False
    patterns: int = 0
    costed: int = 0
    seconds: float = 0.0
    reason: str = ""
    log: list = field(default_factory=list)


def enumerate_patterns(problem, ix, root_pair: np.ndarray, arcs: tuple,
                       limit: int = MAX_PATTERNS) -> Patterns | None:
    """Every connected set of a site's pairs holding its root pair, within the population
    band (the band's top at most the site's capacity), for every site of ``problem`` (a
    :class:`~mdtplan.solve.hub_columns._Problem`); None when there are more than ``limit``.

    ``arcs`` is ``(arc_from, arc_to, arc_site)`` in pair positions (the contiguity index).
    Each set is made once: a set grows only by neighbours not yet ruled out (the extension
    sets of Wernicke's ESU).
    """
    arc_from, arc_to, arc_site = arcs
    w = ix.weight
    lo = problem.band[0]
    sites, indptr, pairs = [], [0], []
    order = np.argsort(arc_site, kind="stable")
    starts = np.searchsorted(arc_site[order], np.arange(len(ix.site_ids) + 1))
    for i in problem.sites:
        root = int(root_pair[i])
        if root < 0:
            continue
        hi = min(problem.band[1], problem.cap[i])
        sel = order[starts[i]:starts[i + 1]]
        nb: dict[int, list] = {}
        for a, b in zip(arc_from[sel].tolist(), arc_to[sel].tolist(), strict=True):
            nb.setdefault(a, []).append(b)
        w_root = float(w[ix.pair_area[root]])
        if w_root > hi:
            continue
        # iterative ESU: (set, extension, excluded, population)
        stack = [((root,), tuple(nb.get(root, ())), frozenset(), w_root)]
        while stack:
            members, ext, excl, pop = stack.pop()
            if pop >= lo - 1e-9:
                sites.append(i)
                pairs.extend(members)
                indptr.append(len(pairs))
                if len(sites) > limit:
                    return None
            inside = set(members)
            for j, v in enumerate(ext):
                wv = float(w[ix.pair_area[v]])
                if pop + wv > hi + 1e-9:
                    continue
                ruled = excl | frozenset(ext[:j])
                more = tuple(u for u in nb.get(v, ()) if u not in inside and u not in ruled
                             and u not in ext)
                stack.append((members + (v,), ext[j + 1:] + more, ruled, pop + wv))
    return Patterns(np.asarray(sites, dtype=np.int64), np.asarray(indptr, dtype=np.int64),
                    np.asarray(pairs, dtype=np.int64))


def _lever_pair_terms(problem, ix):
    """Per pair, from the levers of its site: the most they save per pair served (each lever
    at its share of the pair's cohort, at its cost net of the saving where that is
    negative), the hours per core role they could free (levers with negative hours), and
    the core hours of running every lever worth running in full, shape (pairs, core roles)."""
    n_pairs, nr = len(ix.pairs), len(problem.core_pos)
    save = np.zeros(n_pairs)
    freed = np.zeros((n_pairs, nr))
    full = np.zeros((n_pairs, nr))
    levers = problem.levers
    if levers is None or not levers.keys or problem.costs.lever is None:
        return save, freed, full
    eta = levers.hours[:, problem.core_pos]
    for n, (k, s) in enumerate(zip(levers.key_lever.tolist(), levers.key_site.tolist(),
                                   strict=True)):
        ks = ix.pairs_by_site.get(ix.site_ids[s])
        if ks is None or not len(ks):
            continue
        people = levers.share[k] * levers.pair_cohort[ks, k]
        g = float(problem.costs.lever[n])
        save[ks] += min(0.0, g) * people
        freed[ks] += people[:, None] * np.maximum(0.0, -eta[k])[None, :]
        if g < 0:
            full[ks] += people[:, None] * eta[k][None, :]
    return save, freed, full


def _steps(P, need: np.ndarray) -> np.ndarray:
    """The fewest whole steps of each core role for ``need`` hours (patterns x roles), with
    each role's minimum and supervision."""
    per_step = P.prod * P.step
    with np.errstate(divide="ignore", invalid="ignore"):
        n = np.where(per_step > 0, np.ceil(np.maximum(need, 0.0) / per_step - 1e-9), 0.0)
    n = np.maximum(n, P.lo_n[None, :])
    for _ in range(2):  # supervision (a supervisor of supervisors settles in two passes)
        for j, subs, ratio in P.rules:
            sup = (n[:, subs] * P.step[subs]).sum(axis=1) / (ratio * P.step[j])
            n[:, j] = np.maximum(n[:, j], np.ceil(sup - 1e-9))
    return n


def pattern_floors(problem, ix, pats: Patterns, costs=None,
                   levers: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """A lower bound of each pattern's cost in the stage, and the cost of one hub on it (so
    an upper bound), all at once; NaN where the pattern cannot be a hub (its least staff
    exceed the site's FTE capacity), and an upper bound of NaN where that one hub does not
    fit.

    Floor: any hub on the pattern needs, of each core role, at least the whole steps its
    areas' hours less what its levers could free need, and its supervisors at least their
    ratio of those; its levers save at most their whole reach, with no staff for it. The hub
    costed: every lever worth running at its whole reach, and the steps that needs. Where
    the two are equal the pattern's cost is known without its MIP. ``costs``: another row's
    costs by hub variable (default the stage's); ``levers=False``: without the levers'
    savings (a row in which they have no term)."""
    M = pats.incidence(len(ix.pairs))
    P = problem
    costs = P.costs if costs is None else costs
    save, freed, full = _lever_pair_terms(P, ix)
    if not levers:
        save = np.zeros_like(save)  # a row with no lever term (the budget cap)
    demand = np.asarray(M @ P.pair_d)
    n = _steps(P, demand - np.asarray(M @ freed))
    n_full = _steps(P, demand + np.asarray(M @ full))
    steps = np.nan_to_num(costs.step[pats.site], nan=0.0)
    fixed = (np.nan_to_num(costs.site[pats.site], nan=0.0) + np.asarray(M @ costs.pair)
             + np.asarray(M @ save))
    cost = fixed + (steps * n).sum(axis=1)
    upper = fixed + (steps * n_full).sum(axis=1)
    cap = P.cap_fte[pats.site] + 1e-9
    cost[(n * P.step[None, :]).sum(axis=1) > cap] = np.nan
    upper[(n_full * P.step[None, :]).sum(axis=1) > cap] = np.nan
    upper[np.isnan(cost)] = np.nan
    return cost, upper


def _pair_pool_hours(problem, ix) -> np.ndarray:
    """Per pair and pool, shape (pairs, pools): the specialist hours the pair's area brings
    to the pool, less the most its site's levers could free in it (levers with negative
    specialist hours, each at its share of the area's cohort, in the pool of the site's own
    area). Levers that need specialist hours are left out (only lowers it): a lower bound of
    what serving the pair asks of each pool."""
    P = problem
    out = np.zeros((len(ix.pairs), len(P.pool_keys)))
    if not len(P.pool_keys):
        return out
    for j in range(len(P.spec)):
        pk = P.pair_pk[:, j]
        ok = np.flatnonzero(pk >= 0)
        np.add.at(out, (ok, pk[ok]), P.pair_spec[ok, j])
    levers = P.levers
    if levers is None or not levers.keys or not len(P.spec):
        return out
    spec_pos = [ix.roles.index(r) for r in P.spec]
    for k, s in zip(levers.key_lever.tolist(), levers.key_site.tolist(), strict=True):
        frees = np.maximum(0.0, -levers.hours[k, spec_pos])
        ks = ix.pairs_by_site.get(ix.site_ids[s])
        if not frees.any() or ks is None or not len(ks):
            continue
        pool = levers.site_pool[s]
        people = levers.share[k] * levers.pair_cohort[ks, k]
        for j, r in enumerate(P.spec):
            u = P.pk.get((pool, r), -1)
            if frees[j] > 0 and u >= 0:
                out[ks, u] -= people * frees[j]
    return out


def pool_floor_steps(problem, ix, pair_hours: np.ndarray | None = None) -> np.ndarray:
    """Per pool key (``problem.pool_keys``): the whole steps its least possible hours need.

    Every area is served once, so a pool gets at least, from each area, the least hours any
    hub that may serve it would send it, less what that hub's levers could free (zero where
    a hub of another pool may serve it): with one pool for the whole model and no levers,
    its hours are the same in every plan. ``pair_hours``: :func:`_pair_pool_hours`, when
    made already."""
    P = problem
    n_u = len(P.pool_keys)
    if not n_u:
        return np.zeros(0)
    G = _pair_pool_hours(P, ix) if pair_hours is None else pair_hours
    least = np.full((len(ix.area_ids), n_u), np.inf)
    np.minimum.at(least, ix.pair_area, G)
    out = np.where(np.isfinite(least), least, 0.0).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        steps = np.where(P.pool_cap > 0, np.ceil(out / P.pool_cap - 1e-7), 0.0)
    return np.maximum(steps, 0.0)


class _HubCost:
    """The least cost of one hub on a pattern: its site, its areas, its core staff in whole
    steps (minimums, supervision, FTE capacity) and its levers (each within the reach of the
    pattern's areas), at no price for specialist hours (the master's pools carry the areas'
    ones; the levers' own are dropped, which only lowers it). Worked out from the whole-step
    staffings where that is small (:meth:`_by_steps`), else by the hub's own MIP."""

    def __init__(self, problem, ix):
        self.P, self.ix = problem, ix
        self.where: dict[int, np.ndarray] = {}
        self.vertices: dict[int, tuple] = {}
        self.duals: dict[int, tuple | None] = {}

    def __call__(self, i: int, pairs: np.ndarray, limit: float) -> float:
        """A lower bound of the cost (exact, or its MIP's proven bound; ``inf``: no hub on
        these areas)."""
        exact = self._by_steps(i, pairs)
        if exact is not None:
            return exact
        return self._by_mip(i, pairs, limit)

    def _site_vertices(self, i: int):
        """Per site with levers: the rows bounding its levers' people (each core role's
        hours that levers use, then ``q >= 0``, then ``q <= U``) and, for every choice of as
        many of them as there are levers that meet in one point, the inverse that gives the
        point: ``(G, senses, combos, inverses)``."""
        got = self.vertices.get(i)
        if got is not None:
            return got
        P = self.P
        keys, eta, *_ = P.site_lever[i]
        nq = len(keys)
        roles = np.flatnonzero((eta != 0).any(axis=0))
        G = np.r_[eta[:, roles].T, -np.eye(nq), np.eye(nq)]  # G q <= b
        combos, inverses = [], []
        for c in itertools.combinations(range(len(G)), nq):
            sub = G[list(c)]
            if abs(np.linalg.det(sub)) > 1e-9:
                combos.append(c)
                inverses.append(np.linalg.inv(sub))
        got = (G, roles, np.asarray(combos, dtype=np.int64).reshape(len(combos), nq),
               np.asarray(inverses, float).reshape(len(combos), nq, nq))
        self.vertices[i] = got
        return got

    def _by_steps(self, i: int, pairs: np.ndarray) -> float | None:
        """The exact least cost without a MIP: every whole-step staffing between the hours'
        own (levers freeing all they can) and the hours with every lever's use in full, each
        with its levers' best people (a linear programme: in at most
        :data:`MAX_STEP_LEVERS` levers solved at its vertices, in more on a few roles by its
        dual, :meth:`_by_dual`); None where there are too many staffings or roles."""
        P = self.P
        nr = len(P.core_pos)
        demand = P.pair_d[pairs].sum(axis=0)
        const = float(P.costs.site[i] + P.costs.pair[pairs].sum())
        lv = P.site_lever.get(i)
        if lv is None:
            eta, q_up, g = np.zeros((0, nr)), np.zeros(0), np.zeros(0)
        else:
            where = self._where(i)
            keys, eta, _, _, reach, _ = lv
            if len(keys) > MAX_STEP_LEVERS and self._site_duals(i) is None:
                return None
            q_up = -reach[:, where[pairs]].sum(axis=1)
            g = P.costs.lever[keys]
        per_step = P.prod * P.step
        low = demand - (np.maximum(0.0, -eta) * q_up[:, None]).sum(axis=0)
        high = demand + (np.maximum(0.0, eta) * q_up[:, None]).sum(axis=0)
        lo_n = _steps(P, low[None, :])[0]
        hi_n = _steps(P, high[None, :])[0]
        ranges = [np.arange(lo_n[j], hi_n[j] + 1) for j in range(nr)]
        if np.prod([len(r) for r in ranges]) > MAX_STEP_POINTS:
            return None
        staffings = self._staffings(i, ranges)
        if len(q_up) > MAX_STEP_LEVERS:  # many levers on a few roles: by the dual
            return const + self._by_dual(i, staffings, demand, eta, q_up, g)
        best = np.inf
        cost_step = P.costs.step[i]
        lever_floor = float(np.minimum(g, 0.0) @ q_up)  # the levers save at most this
        for n in staffings:
            staff = float(cost_step @ n)
            if staff + lever_floor >= best:
                continue
            slack = per_step * n - demand  # hours left for (or needed from) the levers
            if not len(q_up):
                if (slack >= -1e-9).all():
                    best = staff
                continue
            G, roles, combos, inverses = self._site_vertices(i)
            others = np.setdiff1d(np.arange(nr), roles)
            if (slack[others] < -1e-9).any():
                continue  # no lever touches a role short of hours
            b = np.r_[slack[roles], np.zeros(len(q_up)), q_up]
            if not len(combos):
                continue
            points = np.einsum("cij,cj->ci", inverses, b[combos])
            feasible = (points @ G.T <= b[None, :] + 1e-7 * (1.0 + np.abs(b))[None, :]).all(axis=1)
            if not feasible.any():
                continue
            best = min(best, staff + float((points[feasible] @ g).min()))
        return const + best if np.isfinite(best) else np.inf

    def _staffings(self, i: int, ranges: list) -> np.ndarray:
        """Every whole-step staffing in ``ranges`` (one range of steps per core role) that
        meets the supervision ratios and site ``i``'s FTE capacity, one per row, in the
        order of :func:`itertools.product`."""
        P = self.P
        n = np.array(list(itertools.product(*ranges)), float).reshape(-1, len(ranges))
        ok = (P.step[None, :] * n).sum(axis=1) <= P.cap_fte[i] + 1e-9
        for j, subs, ratio in P.rules:
            ok &= ratio * P.step[j] * n[:, j] >= (P.step[subs][None, :] * n[:, subs]).sum(
                axis=1) - 1e-9
        return n[ok]

    def _by_dual(self, i: int, n: np.ndarray, demand: np.ndarray, eta: np.ndarray,
                 q_up: np.ndarray, g: np.ndarray) -> float:
        """The least staff and levers' cost over the whole-step staffings ``n`` (one per
        row) at once, the levers' programme of each by its dual (:meth:`_site_duals`);
        ``inf`` when none has a plan."""
        P = self.P
        roles, lam, rays = self._site_duals(i)
        slack = (P.prod * P.step)[None, :] * n - demand[None, :]
        ok = (np.delete(slack, roles, axis=1) >= -1e-9).all(axis=1)  # no lever helps there
        n, slack = n[ok], slack[ok][:, roles]
        if not len(n):
            return np.inf
        E = eta[:, roles]
        use = rays @ E.T  # per ray and lever: the homogeneous part, where the levers can't cover
        h = -(slack @ rays.T) + (np.minimum(0.0, use) * q_up[None, :]).sum(axis=1)[None, :]
        tol = 1e-7 * (1.0 + np.abs(slack @ rays.T)
                      + (np.abs(use) * q_up[None, :]).sum(axis=1)[None, :])
        ok = ~(h > tol).any(axis=1)
        if not ok.any():
            return np.inf
        value = (-(slack[ok] @ lam.T)
                 + (np.minimum(0.0, g[None, :] + lam @ E.T) * q_up[None, :]).sum(axis=1)[None, :])
        return float((n[ok] @ P.costs.step[i] + value.max(axis=1)).min())

    def _site_duals(self, i: int):
        """For a site whose levers use the hours of at most :data:`MAX_DUAL_ROLES` core
        roles: ``(roles, points, rays)``, where the Lagrangian dual of the levers'
        programme can peak and the directions that say it has no plan.

        The programme, at a whole-step staffing with ``s`` hours left per role, is
        ``min g.q`` over ``E q <= s``, ``0 <= q <= U``; its dual, ``max over lambda >= 0 of
        -lambda.s + sum_k U_k min(0, g_k + lambda.E_k)``, is concave and piecewise linear:
        it peaks where as many of the planes ``g_k + lambda.E_k = 0`` and ``lambda_r = 0``
        as there are roles meet (``points``), and it grows without end, so the programme
        has no plan, exactly when its homogeneous part is positive on one of the lines where
        one fewer of the planes through 0 meet (``rays``, Farkas). Both depend on the site
        alone, not on ``s`` or ``U``. None where there are too many roles or choices."""
        if i in self.duals:
            return self.duals[i]
        P = self.P
        keys, eta, *_ = P.site_lever[i]
        g = P.costs.lever[keys]
        roles = np.flatnonzero((eta != 0).any(axis=0))
        R = len(roles)
        out = None
        if 0 < R <= MAX_DUAL_ROLES and math.comb(len(keys) + R, R) <= MAX_DUAL_POINTS:
            E = eta[:, roles]  # levers x roles
            normals = np.r_[E, np.eye(R)]
            offsets = np.r_[g, np.zeros(R)]
            points = []
            for c in itertools.combinations(range(len(normals)), R):
                A = normals[list(c)]
                if abs(np.linalg.det(A)) <= 1e-12:
                    continue
                lam = np.linalg.solve(A, -offsets[list(c)])
                if (lam >= -1e-9).all():
                    points.append(np.maximum(lam, 0.0))
            rays = []
            for c in itertools.combinations(range(len(normals)), R - 1):
                A = normals[list(c)].reshape(R - 1, R)
                _, sv, vt = np.linalg.svd(np.r_[A, np.zeros((1, R))])
                if R > 1 and sv[R - 2] <= 1e-12:
                    continue  # the planes do not meet in one line
                for d in (vt[-1], -vt[-1]):
                    if (d >= -1e-12).all():
                        rays.append(np.maximum(d, 0.0))
            out = (roles, np.unique(np.asarray(points, float).reshape(-1, R), axis=0),
                   np.unique(np.asarray(rays, float).reshape(-1, R), axis=0))
        self.duals[i] = out
        return out

    def _where(self, i: int) -> np.ndarray:
        where = self.where.get(i)
        if where is None:
            where = np.full(len(self.ix.pairs), -1, dtype=np.int64)
            where[self.P.sites[i]] = np.arange(len(self.P.sites[i]))
            self.where[i] = where
        return where

    def _by_mip(self, i: int, pairs: np.ndarray, limit: float) -> float:
        """The hub's own MIP (:meth:`~mdtplan.solve.hub_columns._Problem.price`, its areas
        fixed, no price on areas or pools): its proven bound, at most its plan's value."""
        P = self.P
        fix = np.isin(P.sites[i], pairs)
        r = P.price(i, np.zeros(len(self.ix.area_ids)), np.zeros(len(P.pool_keys)), limit, fix)
        if r is None:
            return np.inf
        bound, value, _ = r
        return bound if value is None else min(bound, value)


class _Master:
    """The set-partitioning master over a subset of patterns (rows: areas once, a site at
    most one hub (sites that must open: one), the hub count, each pool's whole steps cover
    its hours, each clique of close sites at most one hub)."""

    def __init__(self, problem, ix, pats: Patterns, cliques: list):
        self.P, self.ix, self.pats = problem, ix, pats
        self.n_a, self.n_s = len(ix.area_ids), len(ix.site_ids)
        self.n_p = len(problem.pool_keys)
        self.cliques = cliques
        base = self.n_a + self.n_s + 1 + self.n_p
        self.n_rows = base + len(cliques)
        # each pattern's specialist hours per pool, less what its levers could free there
        pair_hours = _pair_pool_hours(problem, ix)
        pool_hours = (np.asarray(pats.incidence(len(ix.pairs)) @ pair_hours) if self.n_p
                      else np.zeros((len(pats), 0)))
        self.pool_hours = pool_hours
        self.pool_lo = pool_floor_steps(problem, ix, pair_hours)
        # every pattern's column, made once (the solves take the chosen ones)
        n_pat = len(pats)
        counts = np.diff(pats.indptr)
        col = [np.repeat(np.arange(n_pat), counts), np.arange(n_pat), np.arange(n_pat)]
        row = [ix.pair_area[pats.pairs], self.n_a + pats.site,
               np.full(n_pat, self.n_a + self.n_s)]
        val = [np.ones(len(pats.pairs)), np.ones(n_pat), np.ones(n_pat)]
        pr, pc = np.nonzero(pool_hours.T != 0)  # pool u, pattern p (levers may free hours)
        row.append(self.n_a + self.n_s + 1 + pr)
        col.append(pc)
        val.append(-pool_hours[pc, pr])
        for q, c in enumerate(cliques):
            at = np.flatnonzero(np.isin(pats.site, np.asarray(c)))
            row.append(np.full(len(at), base + q))
            col.append(at)
            val.append(np.ones(len(at)))
        self.block = csc_matrix((np.concatenate(val), (np.concatenate(row).astype(np.int64),
                                                        np.concatenate(col).astype(np.int64))),
                                shape=(self.n_rows, n_pat))
        self.pool_block = csc_matrix(
            (problem.pool_cap, (self.n_a + self.n_s + 1 + np.arange(self.n_p),
                                np.arange(self.n_p))), shape=(self.n_rows, self.n_p))

    def row_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The master's rows' lower and upper bounds (without the stage's extra rows)."""
        P, n_a, n_s, n_p = self.P, self.n_a, self.n_s, self.n_p
        n_q = len(self.cliques)
        lo = np.r_[np.ones(n_a), np.where(P.required, 1.0, 0.0), [P.count_min], np.zeros(n_p),
                   np.zeros(n_q)]
        up = np.r_[np.ones(n_a), np.ones(n_s),
                   [P.count_max if np.isfinite(P.count_max) else INF], np.full(n_p, INF),
                   np.ones(n_q)]
        return lo, up

    def solve(self, chosen: np.ndarray, cost: np.ndarray, *, integer: bool, seconds: float,
              start: np.ndarray | None = None, pool_objective: np.ndarray | None = None,
              rows: list | None = None, prove: bool = False, keep: _WarmLP | None = None,
              cuts: csr_matrix | None = None):
        """``(status, value, dual bound, x, row duals, column duals)`` over the patterns
        ``chosen`` at ``cost`` (one per chosen pattern); ``start``: patterns of a plan to
        start the MIP from (all among ``chosen``); ``rows``: more rows ``(per pool step, per
        chosen pattern, most)``; ``prove``: the MIP is to prove its optimum (HiGHS's
        searches for plans off: :data:`PROOF_OFF`); ``keep``: a :class:`_WarmLP` that keeps
        the LP's HiGHS; ``cuts``: subset-row cuts (:class:`_Cuts`, one row over every
        pattern each, at most 1), after ``rows`` (their duals follow them in order)."""
        P = self.P
        n_p = self.n_p
        A = hstack([self.pool_block, self.block[:, chosen]], format="csc")
        n_cols = A.shape[1]
        lo, up = self.row_bounds()
        n_rows = self.n_rows
        for pool_coef, coef, limit in rows or ():  # the cost held, the budget cap
            row = csc_matrix(np.r_[pool_coef, np.asarray(coef, float)][None, :])
            A = vstack([A, row], format="csc")
            lo, up = np.r_[lo, -INF], np.r_[up, float(limit)]
            n_rows += 1
        if cuts is not None and cuts.shape[0]:
            C = cuts[:, chosen]
            A = vstack([A, hstack([csr_matrix((C.shape[0], n_p)), C])], format="csc")
            lo, up = np.r_[lo, np.full(C.shape[0], -INF)], np.r_[up, np.ones(C.shape[0])]
            n_rows += C.shape[0]
        pool_objective = P.pool_cost if pool_objective is None else pool_objective
        h = new_highs()
        h.setOptionValue("time_limit", float(max(seconds, 0.05)))
        if integer:
            h.setOptionValue("mip_rel_gap", 0.0)
            h.setOptionValue("mip_abs_gap", 0.0)
            for name in PROOF_OFF if prove else ():
                h.setOptionValue(name, False)
        h.passModel(n_cols, n_rows, int(A.nnz), int(highspy.MatrixFormat.kColwise),
                    int(highspy.ObjSense.kMinimize), 0.0,
                    np.r_[pool_objective, np.asarray(cost, float)],
                    np.r_[self.pool_lo, np.zeros(len(chosen))],
                    np.r_[np.full(n_p, INF), np.ones(len(chosen))], lo, up,
                    A.indptr.astype(np.int32), A.indices.astype(np.int32),
                    A.data.astype(float), np.full(n_cols, int(integer), np.int32))
        if integer and start is not None and len(start):
            at = np.flatnonzero(np.isin(chosen, start))
            h.setSolution(len(at), (n_p + at).astype(np.int32), np.ones(len(at)))
        run(h, 1)
        if keep is not None:
            keep.h = h
        ms = h.getModelStatus()
        info = h.getInfo()
        sol = h.getSolution()
        x = np.asarray(sol.col_value, dtype=float)
        if integer:
            bound = float(info.mip_dual_bound)
            if ms == highspy.HighsModelStatus.kOptimal and not np.isfinite(bound):
                bound = float(info.objective_function_value)
            has = info.primal_solution_status == highspy.kSolutionStatusFeasible
            return ms, (float(info.objective_function_value) if has else np.inf), bound, \
                (x if has else None), None, None
        return ms, float(info.objective_function_value), float(info.objective_function_value), \
            x, np.asarray(sol.row_dual, dtype=float), np.asarray(sol.col_dual, dtype=float)


class _WarmLP:
    """The master LP over a working set of patterns kept in one HiGHS from one solve to the
    next within a stage: patterns joining the set are added as columns, costs (and the
    extra rows' coefficients) changed in place, and the simplex starts from the last basis.
    A working set that drops a pattern is built anew."""

    def __init__(self, master: _Master):
        self.master = master
        self.h: highspy.Highs | None = None
        self.cols = np.zeros(0, dtype=np.int64)  # the pattern of each column after the pools
        self.coefs = np.zeros((0, 0))  # the extra rows' coefficients, one row per extra row
        self.n_cuts = 0  # the cut rows it has, after the extra rows

    def solve(self, work: np.ndarray, cost: np.ndarray, pool_objective: np.ndarray,
              rows: list, seconds: float, cuts: csr_matrix | None = None):
        """Like :meth:`_Master.solve` as an LP over ``work`` (sorted), ``cost`` one per
        pattern of ``work``; ``cuts`` only grow between two solves (new ones are added as
        rows)."""
        master = self.master
        n_p = master.n_p
        n_cuts = 0 if cuts is None else cuts.shape[0]
        coefs = np.array([np.asarray(coef, float) for _, coef, _ in rows]).reshape(
            len(rows), len(work))
        if self.h is None or len(self.coefs) != len(rows) or n_cuts < self.n_cuts or \
                not np.isin(self.cols, work, assume_unique=True).all():
            ms, z, _, x, row_dual, col_dual = master.solve(
                work, cost, integer=False, seconds=seconds, pool_objective=pool_objective,
                rows=rows, keep=self, cuts=cuts)
            self.cols, self.coefs, self.n_cuts = np.array(work), coefs, n_cuts
            return ms, z, z, x, row_dual, col_dual
        h = self.h
        if n_cuts > self.n_cuts:  # new cuts: rows over the columns it has
            C = cuts[self.n_cuts:][:, self.cols].tocsr()
            h.addRows(C.shape[0], np.full(C.shape[0], -INF), np.ones(C.shape[0]), int(C.nnz),
                      C.indptr.astype(np.int32), (C.indices + n_p).astype(np.int32),
                      C.data.astype(float))
            self.n_cuts = n_cuts
        at = np.searchsorted(work, self.cols)  # each column's place in work
        new = np.setdiff1d(work, self.cols, assume_unique=True)
        if len(new):
            where = np.searchsorted(work, new)
            parts = [master.block[:, new], csc_matrix(coefs[:, where])]
            if n_cuts:
                parts.append(cuts[:, new])
            B = vstack(parts, format="csc")
            h.addCols(len(new), cost[where], np.zeros(len(new)), np.ones(len(new)),
                      int(B.nnz), B.indptr.astype(np.int32), B.indices.astype(np.int32),
                      B.data.astype(float))
            self.cols = np.r_[self.cols, new]
            self.coefs = np.c_[self.coefs, coefs[:, where]]
            at = np.r_[at, where]
        idx = np.arange(n_p, n_p + len(self.cols), dtype=np.int32)
        h.changeColsCost(len(idx), idx, np.asarray(cost, float)[at])
        for q in range(len(rows)):  # the cost held: a pattern's cost may have risen
            changed = np.flatnonzero(self.coefs[q] != coefs[q, at])
            for j in changed.tolist():
                h.changeCoeff(master.n_rows + q, n_p + j, float(coefs[q, at[j]]))
            self.coefs[q, changed] = coefs[q, at[changed]]
            h.changeRowBounds(master.n_rows + q, -INF, float(rows[q][2]))
        # HiGHS checks an LP against its run clock, which counts every solve of this HiGHS
        h.setOptionValue("time_limit", float(max(seconds, 0.05)) + float(h.getRunTime()))
        run(h, 1)
        ms = h.getModelStatus()
        z = float(h.getInfo().objective_function_value)
        sol = h.getSolution()
        x, cd = np.asarray(sol.col_value, float), np.asarray(sol.col_dual, float)
        order = n_p + np.argsort(at)  # the columns in work's order
        return ms, z, z, np.r_[x[:n_p], x[order]], np.asarray(sol.row_dual, float), \
            np.r_[cd[:n_p], cd[order]]


class _Cuts:
    """Subset-row cuts on the master (Jepsen, Petersen, Spoorendonk and Pisinger, Operations
    Research 56(2), 2008): of any three areas, a plan has at most one hub holding two or
    more of them, since each area is served once. Every plan of the master meets them, so
    they hold in every stage; the LP, which spreads fractions of hubs over the same areas,
    breaks them. A row per cut over every pattern (1 where the pattern holds two or more of
    its three areas), kept from one stage to the next."""

    def __init__(self, master: _Master):
        self.areas = master.block[:master.n_a].tocsr()  # area x pattern, 1 where it serves it
        self.rows = csr_matrix((0, self.areas.shape[1]))
        self.triples: set = set()

    def __len__(self) -> int:
        return self.rows.shape[0]

    def separate(self, cols: np.ndarray, x: np.ndarray, most: int) -> int:
        """Add the (at most ``most``) cuts the LP solution ``x`` (one value per pattern of
        ``cols``) breaks the most, by more than :data:`CUT_VIOLATION`; how many were added."""
        frac = (x > 1e-6) & (x < 1 - 1e-6)
        if most <= 0 or frac.sum() < 3:
            return 0
        xf = x[frac]
        F = self.areas[:, cols[frac]].T.tocsr()
        touched = np.flatnonzero(np.diff(F.tocsc().indptr))
        F = F[:, touched].toarray()
        # pair[i, j]: the LP's hubs holding both areas; for a third area k, the hubs holding
        # two or more of the three are pair[i, j] + pair[i, k] + pair[j, k] less twice those
        # holding all three
        pair = F.T @ (F * xf[:, None])
        found = []
        for i, j in zip(*np.nonzero(np.triu(pair, 1) > 1e-6), strict=True):
            three = (xf * F[:, i] * F[:, j]) @ F
            lhs = pair[i, j] + pair[i] + pair[j] - 2.0 * three
            lhs[:j + 1] = 0.0  # each triple once: i < j < k
            for k in np.flatnonzero(lhs > 1.0 + CUT_VIOLATION).tolist():
                t = (int(touched[i]), int(touched[j]), int(touched[k]))
                if t not in self.triples:
                    found.append((-lhs[k], t))
        if not found:
            return 0
        found.sort()
        picked = [t for _, t in found[:most]]
        self.triples.update(picked)
        rows = []
        for t in picked:
            held = np.asarray(self.areas[list(t)].sum(axis=0)).ravel()
            rows.append(csr_matrix((held >= 2).astype(float)))
        self.rows = vstack([self.rows] + rows, format="csr")
        return len(picked)


class Search:
    """The patterns of a model with what is known of their costs, kept from one stage to
    the next (:meth:`stage`)."""

    def __init__(self, problem, ix, pats: Patterns, cliques: list, budget=None):
        self.problem, self.ix, self.pats = problem, ix, pats
        self.floors, upper = pattern_floors(problem, ix, pats)
        #: the budget cap's row over the hubs: (each pattern's least cost in it, each pool
        #: step's, the cap less what no hub holds), or None
        self.budget = None
        if budget is not None:
            row_costs, limit = budget
            self.budget = (pattern_floors(problem, ix, pats, row_costs, levers=False)[0],
                           np.nan_to_num(row_costs.pool_step, nan=0.0), float(limit))
        self.ok = np.flatnonzero(np.isfinite(self.floors))
        self.master = _Master(problem, ix, pats, cliques)
        self.cost = self.floors.copy()  # a lower bound of each pattern's cost; exact once costed
        # known without a MIP where one hub costs its floor
        self.exact = np.isfinite(upper) & (upper <= self.floors + 1e-9 * np.abs(self.floors)
                                           + 1e-6)
        self.hub_cost = _HubCost(problem, ix)
        self.costed = 0
        #: the large LP's working set of patterns (:meth:`_lp`), kept between its solves
        self._work: np.ndarray | None = None
        #: (site, its sorted pairs) -> pattern, made when a plan is first mapped back
        self._lookup: dict | None = None
        self._dominance = _Dominance(ix, pats, cliques, problem.required)
        #: subset-row cuts found so far (valid in every stage)
        self.cuts = _Cuts(self.master)
        #: the cost stage's last master LP: (its value, each pattern's reduced cost), which
        #: shuts out of a later stage every hub no plan within the cost held can use
        self._cost_lp: tuple[float, np.ndarray] | None = None

    def _cost_exactly(self, todo: np.ndarray, left, price_s: float) -> None:
        pats = self.pats
        for p in todo.tolist():
            if left() <= 0:
                break
            best = self.hub_cost(int(pats.site[p]), pats.pairs[pats.indptr[p]:pats.indptr[p + 1]],
                                 min(price_s, max(left(), 0.01)))
            self.exact[p] = True
            self.costed += 1
            # never below the closed-form floor (both are lower bounds); inf: no hub here
            self.cost[p] = max(best, self.floors[p]) if np.isfinite(best) or best > 0 \
                else self.floors[p]
        self.ok = self.ok[np.isfinite(self.cost[self.ok])]

    def stage(self, seconds: float, objective: tuple | None = None, hold: float | None = None,
              price_s: float = 1.0, known: np.ndarray | None = None,
              clock=perf_counter) -> PatternResult:
        """The master's optimum of a stage (see the module docstring) within ``seconds``; the
        bound holds whenever the search stops.

        ``objective``: ``(per pattern, per pool step, constant)`` of a later stage whose
        value a hub's areas decide (None: the cost stage itself); ``hold``: the most the
        cost stage may be (its value held, as the stage loop holds it); ``known``: the
        patterns of a plan known to meet every row (the last stage's), always among the
        likeliest and the MIP's start."""
        t0 = clock()
        pats, master, problem = self.pats, self.master, self.problem
        out = PatternResult(patterns=len(pats))
        cost_offset = problem.costs.offset
        if objective is None:
            obj, pool_obj, offset = None, problem.pool_cost, cost_offset
        else:
            obj, pool_obj, offset = objective
        hold_rhs = None if hold is None else float(hold) - cost_offset

        def left() -> float:
            return seconds - (clock() - t0)

        def until(share: float):  # the time left before a share of the search's time
            return lambda: min(left(), share * seconds - (clock() - t0))

        def cost_then_again(todo, deadline, z, lp_s):  # the LP is solved again after it
            done = self.costed
            self._cost_exactly(todo, deadline, price_s)
            out.log.append(f"[{clock() - t0:.1f} s] LP {z + offset:,.0f} ({lp_s:.1f} s), "
                           f"{self.costed - done:,} costed")

        def values(chosen):
            return self.cost[chosen] if obj is None else obj[chosen]

        def extra(chosen):
            out_rows = []
            if hold_rhs is not None:
                out_rows.append((problem.pool_cost, self.cost[chosen], hold_rhs))
            if self.budget is not None:
                out_rows.append((self.budget[1], self.budget[0][chosen], self.budget[2]))
            return out_rows

        delta = None
        incumbent = None  # the patterns of the best set so far
        upper = np.inf  # its value in the master
        cutting, cut_z = True, None  # cut rounds go on; the LP's value at the last one
        z_last = None  # the LP's value the round before
        if known is not None and len(known):
            self._cost_exactly(known[~self.exact[known]], left, price_s)
            known = np.sort(known) if np.isfinite(self.cost[known]).all() else None
        short_done = False  # the short MIP that looks for a first plan has run
        costed0 = self.costed
        warm = _WarmLP(master)  # the large LP's HiGHS, kept through the stage
        allowed = self._within_hold(hold_rhs) if obj is not None else None
        if allowed is not None:
            out.log.append(f"{int(allowed.sum()):,} hubs within the cost held")
        while left() > 0:
            ok = self.ok if allowed is None else self.ok[allowed[self.ok]]
            t_lp = clock()
            ms, z, x_lp, row_dual, col_dual = self._lp(ok, values, extra, pool_obj, left,
                                                        warm, self.cuts.rows)
            lp_s = clock() - t_lp
            if ms != highspy.HighsModelStatus.kOptimal:
                if ms == highspy.HighsModelStatus.kInfeasible:
                    out.reason = "no set of hubs covers every area within the rules"
                elif not out.reason:
                    out.reason = "the master LP was not solved in time"
                break
            rc = np.full(len(pats), np.inf)
            rc[ok] = np.maximum(col_dual[master.n_p:], 0.0)
            if obj is None:
                self._cost_lp = (z, rc.copy())
            out.bound = max(out.bound, _safe(z + offset))  # the LP's value bounds the stage
            if delta is None:
                delta = FIRST_DELTA * max(abs(z), 1.0)
                out.log.append(f"{len(pats):,} hubs possible, {len(ok):,} within capacity; "
                               f"master LP {z + offset:,.0f}")
                # the start's plan, where few enough hubs price below its value, sets delta:
                # the MIP over them is the proof, and the short MIP is not needed
                zk = self._value_of(known, values, pool_obj, extra, left)
                if np.isfinite(zk) and np.count_nonzero(rc[ok] <= zk - z) <= MAX_MIP:
                    delta = max(delta, (zk - z) * (1 + 1e-6))
                    incumbent, short_done, upper = known, True, zk
                    out.log.append(f"the start's hubs {zk + offset:,.0f}: delta {delta:,.0f}")
            elif np.isfinite(upper):  # cuts raised the LP: a plan of the best value's hubs
                delta = min(delta, max((upper - z) * (1 + 1e-6), 0.0))  # all lie within
            # subset-row cuts the LP breaks, while each round raises it enough
            added = 0
            if cutting and cut_z is not None and z - cut_z < CUT_TAIL * max(abs(z), 1.0):
                cutting = False
            # once costing hubs no longer moves the LP much (before, its support changes)
            settled = z_last is not None and z - z_last <= CUT_FROM * max(abs(z), 1.0)
            z_last = z
            if cutting and settled and len(self.cuts) < MAX_CUTS \
                    and clock() - t0 < CUT_SHARE * seconds:
                added = self.cuts.separate(ok, x_lp[master.n_p:],
                                           min(CUT_BATCH, MAX_CUTS - len(self.cuts)))
                if added:
                    cut_z = z
                    out.log.append(f"[{clock() - t0:.1f} s] LP {z + offset:,.0f} "
                                   f"({lp_s:.1f} s), {added} subset-row cuts")
            chosen = ok[rc[ok] <= delta]
            # a large model (its LP over a working set) turns to its likeliest hubs when too
            # many lie within delta, or when half the time went before they were costed
            large = len(ok) > FULL_LP
            whole = len(chosen) <= MAX_MIP and not (
                large and clock() - t0 >= BEST_AFTER * seconds
                and not self.exact[chosen].all())
            if not whole:
                # too many to prove: the LP first, every hub it uses costed exactly ...
                used = ok[x_lp[master.n_p:] > 1e-9]
                todo = used[~self.exact[used]]
                if len(todo) and clock() - t0 < BEST_AFTER * seconds:
                    rest = ok[~self.exact[ok]]
                    todo = np.union1d(todo, rest[np.argsort(rc[rest], kind="stable")
                                                 [:BEST_PATTERNS]])
                    cost_then_again(todo, until(BEST_AFTER), z, lp_s)
                    continue
                if added:
                    continue  # the LP again with its new cuts
                # ... then the hubs of least reduced cost, at the LP's prices
                shift = (1.0 if obj is None else 0.0) - \
                    (row_dual[master.n_rows] if hold_rhs is not None else 0.0)
                chosen = self._best(ok, rc, BEST_PATTERNS, shift, until(BEST_UNTIL), price_s)
                if known is not None and len(known):  # a plan among them, the MIP's start
                    chosen = np.union1d(chosen, known)  # (the best so far where there is one)
                    incumbent = known if incumbent is None else incumbent
                if not len(chosen):
                    break
            todo = chosen[~self.exact[chosen]]
            if len(todo):  # cost the likeliest exactly, then solve the LP again
                todo = todo[np.argsort(rc[todo], kind="stable")][:PRICE_BATCH]
                cost_then_again(todo, until(BEST_AFTER) if large else left, z, lp_s)
                continue
            if added:
                continue  # the LP again with its new cuts
            t_mip = clock()
            # without a plan yet, a short MIP finds one (its value sets delta), not a proof
            first = whole and incumbent is None and not short_done
            short_done = short_done or whole
            mip_start = incumbent
            if first and known is not None and len(known):  # the start's plan starts it
                chosen, mip_start = np.union1d(chosen, known), known
            elif mip_start is not None:  # the best plan so far is among them (and starts it)
                chosen = np.union1d(chosen, mip_start)
            within = chosen  # the gate is over the hubs outside these
            chosen = self._dominance.keep(chosen, self._criteria(chosen, values, hold_rhs),
                                          master.pool_hours[chosen], mip_start)
            ms, zi, zb, x, _, _ = master.solve(
                chosen, values(chosen), integer=True,
                seconds=min(left(), max(FIRST_MIP_S, FIRST_MIP_SHARE * seconds)) if first
                else left(), start=mip_start, pool_objective=pool_obj,
                rows=extra(chosen), prove=whole and mip_start is not None)
            # (the LP's cuts stay out of the MIP: on York's they made HiGHS slower, its
            # three MIPs 4.5, 3.9 and 3.5 s without them, 6.1, 6.6 and 6.6 s with them)
            out.log.append(f"[{clock() - t0:.1f} s] master MIP over {len(chosen):,} hubs "
                           f"({len(within) - len(chosen):,} more, each no better than one of them): "
                           f"{clock() - t_mip:.1f} s")
            # a plan with a hub left out costs at least the LP plus that hub's reduced cost
            outside = np.setdiff1d(ok, within, assume_unique=True)
            gate = z + (float(rc[outside].min()) if len(outside) else np.inf)
            if x is None and ms == highspy.HighsModelStatus.kInfeasible:
                zi = np.inf
            if zi <= gate + 1e-9 * max(1.0, abs(gate)) \
                    and ms == highspy.HighsModelStatus.kOptimal:
                out.bound = _safe(zi + offset)
                out.proven = True
                out.plan = _plan(pats, chosen, x, master.n_p)
                out.log.append(f"master LP {z + offset:,.0f}; {len(chosen):,} hubs within "
                               f"{delta:,.0f} of it: optimum {zi + offset:,.0f}")
                break
            # any plan with a hub outside ``chosen`` is above the gate; inside, zb at least
            out.bound = max(out.bound, _safe(min(gate, zb) + offset))
            if x is not None:
                out.plan = _plan(pats, chosen, x, master.n_p)
                incumbent = chosen[np.flatnonzero(x[master.n_p:] > 0.5)]
                upper = min(upper, zi)
            if not whole:
                out.log.append(f"best set of the {len(chosen):,} likeliest hubs "
                               f"{zi + offset:,.0f}; master LP {z + offset:,.0f}")
                break  # a plan and the LP's bound: HiGHS goes on from them
            if ms not in (highspy.HighsModelStatus.kOptimal,
                          highspy.HighsModelStatus.kInfeasible):
                if not first or left() <= 0:
                    break  # out of time in the MIP
                if x is None:
                    continue  # the short MIP found no plan: the next one runs to the end
            if not np.isfinite(zi) and len(chosen) == len(ok):
                out.reason = "no set of hubs meets the rules"
                break
            delta = max(delta, (zi - z) * (1 + 1e-6)) if np.isfinite(zi) else 2.0 * delta
            out.log.append(f"best set {zi + offset:,.0f} above the gate: delta now {delta:,.0f}")
        out.costed = self.costed - costed0
        out.seconds = clock() - t0
        return out

    def _value_of(self, known, values, pool_obj, extra, left) -> float:
        """The master's value of the plan of patterns ``known`` (its pool steps the least
        that cover it), inf without one."""
        if known is None or not len(known) or left() <= 0:
            return np.inf
        ms, zk, _, x, _, _ = self.master.solve(known, values(known), integer=True,
                                               seconds=min(left(), 1.0),
                                               pool_objective=pool_obj, rows=extra(known))
        return float(zk) if x is not None and ms == highspy.HighsModelStatus.kOptimal \
            else np.inf

    def _criteria(self, chosen, values, hold_rhs) -> np.ndarray:
        """Per pattern of ``chosen``, what the stage's master MIP asks of it besides its
        areas, its site and its pool hours: its value, its cost where the cost is held, its
        budget row's coefficient where a cap holds; less is better in each."""
        out = [np.asarray(values(chosen), float)]
        if hold_rhs is not None:
            out.append(self.cost[chosen])
        if self.budget is not None:
            out.append(self.budget[0][chosen])
        return np.column_stack(out)

    def _within_hold(self, hold_rhs: float | None) -> np.ndarray | None:
        """Which patterns a plan whose cost is at most ``hold_rhs`` (the master's units) may
        use, by the cost stage's last LP (None: no cost held or no such LP): a plan costs at
        least that LP's value plus the reduced cost of each pattern it uses (its prices are
        a dual solution; a pattern's cost then was a lower bound of its cost now)."""
        if hold_rhs is None or self._cost_lp is None:
            return None
        z, rc = self._cost_lp
        slack = hold_rhs - z
        return rc <= slack + 1e-7 * max(1.0, abs(z), abs(hold_rhs))

    def patterns_of(self, x, columns: dict) -> np.ndarray | None:
        """The patterns of a whole plan ``x`` of the model (its open sites and their areas;
        an array over the solver columns, or ``{column: value}``), or None when one of its
        hubs is not a pattern (or there is no plan)."""
        if x is None or not len(x):
            return None
        open_c, assign_c = columns["open_site"], columns["assign"]
        n = max(int(max(open_c.max(initial=-1), assign_c.max(initial=-1))) + 1,
                max(x) + 1 if isinstance(x, dict) else len(x))
        x, _ = dense_start(x, n)
        pats, ix = self.pats, self.ix
        where = np.flatnonzero(assign_c >= 0)
        pairs = where[x[assign_c[where]] > 0.5]
        sites = np.flatnonzero((open_c >= 0) & (x[np.maximum(open_c, 0)] > 0.5))
        if self._lookup is None:
            self._lookup = {(int(pats.site[p]),
                             np.sort(pats.pairs[pats.indptr[p]:pats.indptr[p + 1]]).tobytes()): p
                            for p in range(len(pats))}
        out = []
        by_site = ix.pair_site[pairs]
        for i in sites.tolist():
            key = (i, np.sort(pairs[by_site == i]).astype(pats.pairs.dtype).tobytes())
            p = self._lookup.get(key)
            if p is None:
                return None
            out.append(p)
        return np.asarray(out, dtype=np.int64)

    def _lp(self, ok, values, extra, pool_obj, left, warm: _WarmLP | None = None,
            cuts: csr_matrix | None = None):
        """The master LP over the patterns ``ok``: ``(status, value, x, row duals, column
        duals)``, the column parts over the pools then ``ok``. Over more than
        :data:`FULL_LP` patterns it is solved over a working set, priced against every
        pattern and grown by those of negative reduced cost until there are none (in
        ``warm``'s HiGHS, kept from the last solve, where given). ``cuts``: subset-row cuts
        (:class:`_Cuts`'s rows), their prices in every reduced cost."""
        master = self.master
        n_p = master.n_p

        def solve(work):  # in the kept HiGHS where there is one
            if warm is not None:
                return warm.solve(work, values(work), pool_obj, extra(work), left(), cuts)
            return master.solve(work, values(work), integer=False, seconds=left(),
                                pool_objective=pool_obj, rows=extra(work), cuts=cuts)

        if len(ok) <= FULL_LP:
            ms, z, _, x, row_dual, col_dual = solve(ok)
            return ms, z, x, row_dual, col_dual
        work = self._work
        work = ok if work is None else np.intersect1d(work, ok, assume_unique=True)
        A = master.block[:, ok].T.tocsr()
        C = cuts[:, ok].T.tocsr() if cuts is not None and cuts.shape[0] else None
        while True:
            ms, z, _, x, row_dual, col_dual = solve(work)
            if ms != highspy.HighsModelStatus.kOptimal:
                if len(work) == len(ok) or left() <= 0:
                    return ms, z, None, None, None
                work = ok  # the working set has no plan (a hold, a cap): all of them once
                continue
            y = row_dual[:master.n_rows]
            rc = values(ok) - A @ y
            more = extra(ok)
            for q, (_, coef, _) in enumerate(more):
                rc -= np.asarray(coef, float) * row_dual[master.n_rows + q]
            if C is not None:
                rc -= C @ row_dual[master.n_rows + len(more):]
            if len(work) == len(ok):  # solved over all: keep the likeliest as the working set
                self._work = np.union1d(ok[x[n_p:] > 1e-9],
                                        ok[np.argsort(rc, kind="stable")[:FULL_LP]])
                return ms, z, x, row_dual, np.r_[col_dual[:n_p], rc]
            add = np.setdiff1d(ok[rc < -1e-7 * max(1.0, abs(z))], work, assume_unique=True)
            if not len(add):
                break
            if left() <= 0:  # the working set's LP is no bound until no hub prices out
                return highspy.HighsModelStatus.kTimeLimit, z, None, None, None
            add = add[np.argsort(rc[np.searchsorted(ok, add)], kind="stable")[:LP_ADD]]
            work = np.union1d(work, add)
        self._work = work
        xs = np.zeros(n_p + len(ok))
        xs[:n_p] = x[:n_p]
        xs[n_p + np.searchsorted(ok, work)] = x[n_p:]
        cd = np.r_[col_dual[:n_p], rc]
        return ms, z, xs, row_dual, cd

    def _best(self, ok, rc, k: int, shift: float, left, price_s: float):
        """The ``k`` patterns of least reduced cost ``rc`` (updated in place), each costed
        exactly: costing a pattern raises its reduced cost by ``shift`` a pound (the LP's
        prices held). When the time runs out first, the ``k`` best of those costed."""
        while True:
            ok = ok[np.isfinite(self.cost[ok])]
            top = ok[np.argsort(rc[ok], kind="stable")[:k]]
            todo = top[~self.exact[top]]
            if not len(todo):
                return top
            if left() <= 0:
                known = ok[self.exact[ok]]
                return known[np.argsort(rc[known], kind="stable")[:k]]
            before = self.cost[todo].copy()
            self._cost_exactly(todo, left, price_s)
            rise = self.cost[todo] - before
            rc[todo] = np.where(np.isfinite(rise), rc[todo] + rise * shift, np.inf)

    def stage_objective(self, costs) -> tuple | None:
        """``(per pattern, per pool step, constant)`` of a later stage from its
        :class:`~mdtplan.solve.hub_columns.HubCosts`, or None when a hub's areas do not decide
        its value (it prices staff or levers)."""
        if np.nan_to_num(costs.step[list(self.problem.sites)], nan=0.0).any():
            return None
        if costs.lever is not None and np.any(costs.lever != 0):
            return None
        M = self.pats.incidence(len(self.ix.pairs))
        site = np.nan_to_num(costs.site[self.pats.site], nan=0.0)
        return (site + np.asarray(M @ costs.pair), np.nan_to_num(costs.pool_step, nan=0.0),
                float(costs.offset))


class _Dominance:
    """Hubs of one area set that another hub of the same areas makes unneeded in a master
    MIP: where hub ``p`` is no worse than hub ``q`` in every respect the MIP sees (its value,
    every other row's coefficient, each pool's hours) and ``p``'s site is kept apart from no
    site that ``q``'s is not (among sites that can open beside them: not those whose own
    area is in the set), any plan with ``q`` stays a plan, no worse, with ``p`` in its place.
    A site that must open keeps its hubs."""

    def __init__(self, ix, pats: Patterns, cliques: list, required: np.ndarray):
        self.pats = pats
        n_s = len(ix.site_ids)
        self.required = np.asarray(required, dtype=bool)
        # each area set's key (the sum of its areas' random words), checked exactly later
        words = np.random.default_rng(0).integers(1, 2**63, len(ix.area_ids), dtype=np.int64)
        self.area = ix.pair_area[pats.pairs]
        self.key = (np.add.reduceat(words[self.area].view(np.uint64), pats.indptr[:-1])
                    if len(pats) else np.zeros(0, np.uint64))
        # a site's own area is the first of each of its patterns (the root)
        self.root_area = np.full(n_s, -1, dtype=np.int64)
        self.root_area[pats.site] = self.area[pats.indptr[:-1]]
        self.apart = np.zeros((n_s, n_s), dtype=bool)
        for c in cliques:
            c = np.asarray(c, dtype=np.int64)
            self.apart[np.ix_(c, c)] = True
        np.fill_diagonal(self.apart, False)

    def keep(self, chosen: np.ndarray, crit: np.ndarray, pool_hours: np.ndarray,
             always: np.ndarray | None = None) -> np.ndarray:
        """``chosen`` without the hubs another of them dominates (``crit``: per chosen hub,
        the values to keep low; ``always``: hubs kept whatever, a plan's)."""
        if len(chosen) < 2:
            return chosen
        pats = self.pats
        score = np.column_stack([crit, pool_hours]) if pool_hours.size else crit
        order = np.argsort(self.key[chosen], kind="stable")
        keys = self.key[chosen][order]
        cut = np.flatnonzero(np.diff(keys)) + 1
        drop = np.zeros(len(chosen), dtype=bool)
        for group in np.split(order, cut):
            if len(group) < 2:
                continue
            for a_i in group.tolist():
                q = int(chosen[a_i])
                if self.required[pats.site[q]]:
                    continue
                areas_q = np.sort(self.area[pats.indptr[q]:pats.indptr[q + 1]])
                inside = np.isin(self.root_area, areas_q)
                nq = self.apart[pats.site[q]] & ~inside
                for b_i in group.tolist():
                    if b_i == a_i or drop[b_i]:
                        continue
                    p = int(chosen[b_i])
                    le = score[b_i] <= score[a_i]
                    if not le.all():
                        continue
                    np_ = self.apart[pats.site[p]] & ~inside
                    if (np_ & ~nq).any():
                        continue
                    same = (score[b_i] == score[a_i]).all() and (np_ == nq).all()
                    if same and b_i > a_i:
                        continue  # ties: the first of them stays
                    areas_p = np.sort(self.area[pats.indptr[p]:pats.indptr[p + 1]])
                    if len(areas_p) == len(areas_q) and (areas_p == areas_q).all():
                        drop[a_i] = True
                        break
        if always is not None and len(always):
            drop &= ~np.isin(chosen, always)
        return chosen[~drop]


def _safe(value: float) -> float:
    return value - BOUND_ABS_TOL - BOUND_REL_TOL * abs(value)


def _plan(pats: Patterns, use: np.ndarray, x: np.ndarray, n_p: int) -> dict:
    picked = use[np.flatnonzero(x[n_p:] > 0.5)]
    return {int(pats.site[p]): pats.pairs[pats.indptr[p]:pats.indptr[p + 1]].copy()
            for p in picked.tolist()}


def applies(data) -> str:
    """Why the search cannot run on ``data`` (empty when it can)."""
    if not getattr(data, "contiguous", False) or getattr(data, "edges", None) is None:
        return "catchments are not held contiguous (every subset of areas would be a hub)"
    if data.assignment != "single":
        return "areas may be split between hubs"
    if data.objective != "min_cost":
        return f"the first goal is {data.objective}, not cost"
    # a rule the master does not hold that can shut its plan out: HiGHS needs the time then
    if data.supply_fte:
        return "workforce supply limits (the hubs' plan may break them: HiGHS searches)"
    return ""


def search(data, ix, c: np.ndarray, offset: float, columns: dict, col_lower: np.ndarray,
           col_upper: np.ndarray, *, levers=None, scale: float = 1.0, population_min=None,
           population_max=None, count_min=None, count_max=None, seconds: float = 30.0,
           limit: int | None = None, keep: dict | None = None, budget: tuple | None = None,
           start: np.ndarray | None = None, clock=perf_counter) -> PatternResult:
    """The pattern search on a model's cost stage: ``c`` and ``offset`` the stage's costs per
    solver column, ``columns`` family -> solver column of each member
    (:func:`~mdtplan.solve.hub_columns.matrix_columns`), the columns' bounds (closed sites,
    sites that must open); the demand scale, band and hub counts in force (default: the
    data's). ``keep``: a dict that gets the :class:`Search` (``"patterns"``), for the
    later stages. ``budget``: the budget cap's row, ``(its coefficient per solver column,
    its upper bound)``. ``start``: a whole plan of the model (solver columns), whose hubs
    join the likeliest when there are too many to prove."""
    from ..model.families.catchment_contiguous import contiguity_index
    from ..model.families.hub_separation import conflict_cliques

    t0 = clock()
    why = applies(data)
    if why:
        return PatternResult(reason=why)
    costs = hc.hub_costs(ix, c, offset, columns, col_upper, levers, col_lower)
    if isinstance(costs, str):
        return PatternResult(reason=costs)
    ci = contiguity_index(data, ix)
    if ci is None:
        return PatternResult(reason="no neighbour graph")
    lo = data.hub_population_min if population_min is None else population_min
    hi = data.hub_population_max if population_max is None else population_max
    band = (float(lo or 0.0), float(hi) if hi is not None else np.inf)
    counts = (data.hub_count_min if count_min is None else count_min,
              data.hub_count_max if count_max is None else count_max)
    problem = hc._Problem(data, ix, costs, scale, band, counts, levers)
    limit = MAX_PATTERNS if limit is None else int(limit)
    pats = enumerate_patterns(problem, ix, ci.root_pair, (ci.arc_from, ci.arc_to, ci.arc_site),
                              limit)
    if pats is None:
        return PatternResult(reason=f"more than {limit:,} possible hubs",
                             seconds=clock() - t0)
    cap = None
    if budget is not None:
        row_costs = hc.hub_costs(ix, np.asarray(budget[0], float), 0.0, columns, col_upper,
                                 levers, col_lower)
        if isinstance(row_costs, str):
            return PatternResult(reason=f"the budget cap's row: {row_costs}",
                                 seconds=clock() - t0)
        cap = (row_costs, float(budget[1]))
    kept = Search(problem, ix, pats, conflict_cliques(data, ix), budget=cap)
    if keep is not None:
        keep["patterns"] = kept  # for the later stages
    known = kept.patterns_of(start, columns)
    out = kept.stage(seconds - (clock() - t0), known=known, clock=clock)
    out.seconds = clock() - t0
    return out


#: the share of a solve's time the search may take before HiGHS gets the cost stage
SHARE = 0.8


def stage_search(session, options, budget, position: int, vec: np.ndarray, offset: float,
                 state: dict, held: dict, cancel=None, start=None):
    """The pattern search on one of ``session``'s stages, before HiGHS runs it: ``(x, bound,
    result)`` with ``x`` the master's hubs as a whole plan of the model (its areas fixed,
    the rest solved by HiGHS in the stage's costs; None without one), or None where the
    search does not apply (see :func:`applies`; also: a session edited beyond its
    parameters, or reproducible mode, whose solves no clock may change).

    The first stage (cost) writes the patterns down and keeps them in ``state`` (the
    solve's); a later stage is searched when a hub's areas decide its value (travel) and
    the cost stage is held (``held``: stage -> the value it is held at). ``start``: the
    plan the stage starts from (an array or ``{column: value}``), whose hubs join the
    likeliest where there are too many to prove."""
    direct = _direct(session)
    if (direct is None or direct[0] is None or not session.is_mip
            or getattr(options, "reproducible", False)
            or not getattr(options, "hub_patterns", True) or applies(direct[0])):
        return None
    if cancel is not None and cancel.is_set():
        return None
    data, ix, mm, columns, levers = direct
    k = session._compiled
    n = len(mm.col_lower)
    if position == 0:
        seconds = budget.grant("hub patterns", SHARE * budget.left())
        if seconds < 1.0:
            return None
        cap_row = None
        row = session._budget_row()
        if row is not None:
            cap_row = (np.asarray(k.A[row, :n].todense()).ravel(), float(k.row_upper[row]))
        res = search(data, ix, vec[:n], offset, columns, k.col_lower[:n], k.col_upper[:n],
                     levers=levers, scale=float(session.param_value("demand_scale") or 1.0),
                     population_min=session.param_value("hub_population_min"),
                     population_max=session.param_value("hub_population_max"),
                     count_min=session.param_value("hub_count_min"),
                     count_max=session.param_value("hub_count_max"), seconds=seconds,
                     keep=state, budget=cap_row, start=start)
    else:
        kept = state.get("patterns")
        if kept is None or "cost_gbp" not in held:
            return None
        _log.info("hub patterns: stage %d, %.1f s left", position, budget.left())
        costs = hc.hub_costs(ix, vec[:n], offset, columns, k.col_upper[:n], levers,
                             k.col_lower[:n])
        objective = None if isinstance(costs, str) else kept.stage_objective(costs)
        if objective is None:
            return None
        seconds = budget.grant("hub patterns", SHARE * budget.left())
        if seconds < 1.0:
            return None
        res = kept.stage(seconds, objective, hold=held["cost_gbp"],
                         known=kept.patterns_of(start, columns))
    for line in res.log:
        _log.info("hub patterns: %s", line)
    if res.reason:
        _log.info("hub patterns: %s", res.reason)
    x = None
    if res.plan is not None and budget.left() > 0:
        x = fixed_plan(session, columns, ix, res.plan, min(budget.left(), 10.0))
        _log.info("hub patterns: %s", "the hubs' plan in the whole model: no plan found"
                  if x is None else f"the hubs' plan in the whole model: "
                  f"{float(vec[:len(x)] @ x) + offset:,.0f}")
    return x, res.bound, res


def _direct(session):
    """``(data, index, matrix, its columns by family, the lever index)`` of a session on the
    direct build of its data, unedited beyond its parameters (None otherwise: the hubs'
    costs are read from that matrix). Made once a session: every stage's search and bound
    reads the same."""
    source = session._source
    ix = getattr(source, "mdtplan_index", None)
    mm = getattr(session, "_mm", None)
    if ix is None or mm is None or session.has_model or session._edited:
        return None
    kept = session.__dict__.get("_direct_parts")
    if kept is not None and kept[2] is mm:
        return kept
    from ..model.families.lever_reach import lever_index

    data = getattr(source, "mdtplan_data", None)
    kept = (data, ix, mm, hc.matrix_columns(mm),
            lever_index(data, ix) if data is not None else None)
    session.__dict__["_direct_parts"] = kept
    return kept


def nearest_bound(session, vec: np.ndarray, offset: float) -> float:
    """:func:`~mdtplan.solve.hub_columns.nearest_bound` of ``session``'s stage ``vec`` (+
    ``offset``): every area at its cheapest allowed pair (on a travel stage, its nearest
    site); ``-inf`` where it does not apply (a session edited beyond its parameters, a
    model without its matrix, a stage that something else can make cheaper)."""
    direct = _direct(session)
    if direct is None:
        return -np.inf
    _, ix, mm, columns, levers = direct
    k = session._compiled
    n = len(mm.col_lower)
    if np.any(vec[n:] < 0):  # a column the model's matrix does not have
        return -np.inf
    costs = hc.hub_costs(ix, vec[:n], offset, columns, k.col_upper[:n], levers,
                         k.col_lower[:n])
    if isinstance(costs, str):
        return -np.inf
    assign = columns["assign"]
    return hc.nearest_bound(ix, costs, k.col_upper[assign] > 0.5)


def fixed_plan(session, columns: dict, ix, plan: dict, seconds: float):
    """``plan``'s hubs (site position -> pair positions) solved in ``session``'s HiGHS with
    its open sites and assignment fixed (the stage's costs as set): the whole plan, or None
    when the model has none on those hubs. The bounds are put back."""
    h = session.highs
    k = session._compiled
    open_c, assign_c = columns["open_site"], columns["assign"]
    pick = np.zeros(len(ix.pairs))
    for ks in plan.values():
        pick[ks] = 1.0
    sites = np.zeros(len(ix.site_ids))
    sites[list(plan)] = 1.0
    cols = np.r_[open_c[open_c >= 0], assign_c[assign_c >= 0]].astype(np.int32)
    vals = np.r_[sites[open_c >= 0], pick[assign_c >= 0]]
    lower, upper = k.col_lower[cols].copy(), k.col_upper[cols].copy()
    try:
        h.changeColsBounds(len(cols), cols, vals, vals)
        session.handle.set_time_limit(max(seconds, 0.1), lp=False)
        session.handle.quiet = True  # its first plans are not the search's: not reported
        session.handle.run()
        info = h.getInfo()
        if info.primal_solution_status != highspy.kSolutionStatusFeasible:
            return None
        return np.asarray(h.getSolution().col_value, dtype=float)
    finally:
        session.handle.quiet = False
        h.changeColsBounds(len(cols), cols, lower, upper)

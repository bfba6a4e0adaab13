"""Locality teams of whole hubs: a small MIP over the open hubs of a solved plan, in HiGHS.

The hub plan is fixed (the first stage); this second stage groups its open hubs into teams.
Arrays in, positions out: it knows nothing of scenarios, files or Pyomo.

Variables: ``z[j, k]`` = 1 when hub *j* is in the team led by hub *k* (*j*, *k* in one pool;
``z[k, k]`` = 1 makes *k* a lead); with ``contiguous``, a flow ``f[k, i, j]`` >= 0 on each arc
(*i*, *j*) of the hub graph within *k*'s pool (hubs are neighbours when their catchments touch)::

    sum_k z[j, k] = 1                                  every hub in exactly one team
    z[j, k] <= z[k, k]                                 only a lead has members
    P_min z[k, k] <= sum_j pop[j] z[j, k] <= P_max z[k, k]      the team's population band
    C_min <= sum_k z[k, k] <= C_max                    the count band (all pools)
    sum_i f[k, i, j] - sum_l f[k, j, l] = z[j, k]      (j != k) a member takes one unit of flow
    f[k, i, j] <= (n - 1) z[i, k],  f[k, i, j] <= (n - 1) z[j, k],  f[k, i, k] = 0

so every member is reached from its lead through members only (single-commodity flow, *n* the
pool's hubs). Two objectives, lexicographically: first the fewest teams (each costs its
locality roles), then, with that count fixed, the most compact teams: the least
``sum pop[j] * km[j, k] * z[j, k]`` (people x km from each hub to its lead hub). Ties left after
both go as HiGHS finds them.

Both solves start from a grouping made by :mod:`mdtplan.solve.teams_start` (milliseconds),
so a busy machine or a short time limit still gives teams; when that grouping already has the
fewest teams its units' populations allow (``ceil(T / P_max)`` per unit, and ``C_min``), the
first solve is proven without a search and the second gets all the time.
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np
from scipy.sparse import csc_matrix

from .highs import new_highs, run
from .teams_start import start_teams, tree_flow

_MS = highspy.HighsModelStatus
INF = highspy.kHighsInf


@dataclass(frozen=True)
class LocalityPlan:
    """What the locality MIP found.

    Attributes
    ----------
    status : str
        ``optimal``, ``feasible_at_limit``, ``infeasible`` or ``no_solution``.
    lead : ndarray of int or None
        Per hub, the position of its team's lead hub (``lead[k] == k`` for a lead).
    teams : int
    compactness : float or None
        ``sum pop x km`` to the lead hubs [people km].
    seconds : float
    """

    status: str
    lead: np.ndarray | None
    teams: int = 0
    compactness: float | None = None
    seconds: float = 0.0


def _pool_pairs(pools: list[str]) -> list[tuple[int, int]]:
    by: dict[str, list[int]] = {}
    for j, p in enumerate(pools):
        by.setdefault(p, []).append(j)
    return [(j, k) for members in by.values() for k in members for j in members]


def plan_localities(population, pools, edges, km, *, count_min: int = 0,
                    count_max: int | None = None, population_min: float | None = None,
                    population_max: float | None = None, contiguous: bool = True,
                    most: bool = False,
                    time_limit_s: float = 60.0, threads: int = 1,
                    node_limit: int | None = None) -> LocalityPlan:
    """Group hubs into locality teams (see the module's formulation).

    Parameters
    ----------
    population : array of float
        People served by each hub [people].
    pools : list of str
        Each hub's specialist pool; a team never spans two.
    edges : iterable of (int, int)
        Neighbouring hubs, by position (either order; repeats ignored).
    km : 2-d array of float
        Distance between hubs [km] (for compactness only).
    count_min, count_max : int
        Band on the number of teams.
    population_min, population_max : float, optional
        Band on each team's population [people].
    contiguous : bool
        Whether a team's hubs must be connected in the hub graph.
    most : bool
        Find the most teams instead of the fewest (and skip compactness): what
        :mod:`mdtplan.localities` asks when it explains a count band no plan meets.
    time_limit_s : float
        For both solves together [s]: the first (fewest teams) may take half, the second
        (compactness) what is left.
    node_limit : int, optional
        Reproducible mode: each solve stops after this many branch-and-bound nodes, with no
        time limit (``time_limit_s`` unused).

    Returns
    -------
    LocalityPlan

    Examples
    --------
    Four hubs in a row, 10,000 people each, teams of 20,000: two teams, each two neighbours.

    >>> import numpy as np
    >>> km = np.abs(np.subtract.outer(np.arange(4.0), np.arange(4.0)))
    >>> plan = plan_localities([1e4] * 4, ["A"] * 4, [(0, 1), (1, 2), (2, 3)], km,
    ...                        population_min=2e4, population_max=2e4)
    >>> plan.status, plan.teams, sorted({(min(j, int(plan.lead[j])) // 2) for j in range(4)})
    ('optimal', 2, [0, 1])
    """
    from time import perf_counter

    start = perf_counter()
    pop = np.asarray(population, dtype=float)
    n = len(pop)
    if n == 0:
        return LocalityPlan("infeasible" if count_min > 0 else "optimal", np.zeros(0, int))
    pairs = _pool_pairs(list(pools))
    col_of = {jk: c for c, jk in enumerate(pairs)}
    nz = len(pairs)
    size = {p: list(pools).count(p) for p in set(pools)}
    arcs: set[tuple[int, int]] = set()
    for a, b in edges:
        a, b = int(a), int(b)
        if a != b and pools[a] == pools[b]:
            arcs.add((a, b))
            arcs.add((b, a))
    arcs_by_pool: dict[str, list[tuple[int, int]]] = {}
    for a, b in sorted(arcs):
        arcs_by_pool.setdefault(pools[a], []).append((a, b))
    flow: list[tuple[int, int, int]] = []  # (lead k, i, j)
    if contiguous:
        for k in range(n):
            if size[pools[k]] > 1:
                flow += [(k, i, j) for i, j in arcs_by_pool.get(pools[k], []) if j != k]
    ncol = nz + len(flow)

    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    lower: list[float] = []
    upper: list[float] = []

    def row(entries, lo, hi):
        r = len(lower)
        for c, v in entries:
            rows.append(r)
            cols.append(c)
            vals.append(v)
        lower.append(lo)
        upper.append(hi)

    members: dict[int, list[int]] = {k: [] for k in range(n)}
    for j, k in col_of:
        members[k].append(j)
    for j in range(n):  # every hub in exactly one team
        row([(col_of[(j, k)], 1.0) for k in range(n) if (j, k) in col_of], 1.0, 1.0)
    for (j, k), c in col_of.items():  # only a lead has members
        if j != k:
            row([(c, 1.0), (col_of[(k, k)], -1.0)], -INF, 0.0)
    for k in range(n):  # the team's population band
        terms = [(col_of[(j, k)], pop[j]) for j in members[k] if j != k]
        lead = col_of[(k, k)]
        if population_min:
            row(terms + [(lead, pop[k] - population_min)], 0.0, INF)
        if population_max is not None:
            row(terms + [(lead, pop[k] - population_max)], -INF, 0.0)
    count_row = len(lower)
    row([(col_of[(k, k)], 1.0) for k in range(n)], float(count_min),
        INF if count_max is None else float(count_max))
    if flow:
        into: dict[tuple[int, int], list[int]] = {}
        out_of: dict[tuple[int, int], list[int]] = {}
        for f, (k, i, j) in enumerate(flow):
            c = nz + f
            into.setdefault((k, j), []).append(c)
            out_of.setdefault((k, i), []).append(c)
            big = float(size[pools[k]] - 1)
            row([(c, 1.0), (col_of[(i, k)], -big)], -INF, 0.0)
            row([(c, 1.0), (col_of[(j, k)], -big)], -INF, 0.0)
        for (j, k), c in col_of.items():
            if j != k:
                row([(x, 1.0) for x in into.get((k, j), [])]
                    + [(x, -1.0) for x in out_of.get((k, j), [])] + [(c, -1.0)], 0.0, 0.0)

    nrow = len(lower)
    A = csc_matrix((np.asarray(vals, float), (np.asarray(rows, np.int64),
                                              np.asarray(cols, np.int64))), shape=(nrow, ncol))
    A.sort_indices()
    col_upper = np.r_[np.ones(nz), np.full(len(flow), INF)]
    integrality = np.r_[np.ones(nz, np.int32), np.zeros(len(flow), np.int32)]
    lead_cost = np.zeros(ncol)
    for (j, k), c in col_of.items():
        if j == k:
            lead_cost[c] = -1.0 if most else 1.0
    compact_cost = np.zeros(ncol)
    for (j, k), c in col_of.items():
        compact_cost[c] = pop[j] * float(km[j][k])

    def solve(cost, row_lo, row_hi, hint=None, seconds=None):
        h = new_highs()
        if node_limit is not None:
            h.setOptionValue("mip_max_nodes", int(node_limit))
        else:
            h.setOptionValue("time_limit", float(max(seconds, 0.01)))
        h.setOptionValue("mip_rel_gap", 1e-6)
        h.setOptionValue("random_seed", 0)
        h.passModel(ncol, nrow, int(A.nnz), int(highspy.MatrixFormat.kColwise),
                    int(highspy.ObjSense.kMinimize), 0.0, cost, np.zeros(ncol), col_upper,
                    np.asarray(row_lo, float), np.asarray(row_hi, float),
                    A.indptr.astype(np.int32), A.indices.astype(np.int32),
                    A.data.astype(float), integrality)
        if hint is not None:
            sol = highspy.HighsSolution()
            sol.col_value = list(hint)
            sol.value_valid = True
            h.setSolution(sol)
        run(h, threads)
        ms = h.getModelStatus()
        has = h.getInfo().primal_solution_status == 2
        if ms in (_MS.kInfeasible, _MS.kUnboundedOrInfeasible):
            return "infeasible", None
        if not has:
            return "no_solution", None
        x = np.asarray(h.getSolution().col_value, float)
        return ("optimal" if ms == _MS.kOptimal else "feasible_at_limit"), x

    lo, hi = np.asarray(lower), np.asarray(upper)
    first, fewest = (None, 0) if most else start_teams(
        pop, pools, edges, km, count_min=count_min, count_max=count_max,
        population_min=population_min, population_max=population_max,
        contiguous=contiguous)
    x0 = None
    if first is not None:
        x0 = np.zeros(ncol)
        for j, k in enumerate(first):
            x0[col_of[(j, int(k))]] = 1.0
        if flow:
            flow_col = {fk: nz + f for f, fk in enumerate(flow)}
            nbrs: dict[int, set[int]] = {}
            for a, b in arcs:
                nbrs.setdefault(a, set()).add(b)
            for key, value in tree_flow(first, lambda i: nbrs.get(i, set())).items():
                x0[flow_col[key]] = value
    if x0 is not None and len(set(first.tolist())) <= fewest:
        status, x = "optimal", x0  # the fewest teams the populations allow: proven
    else:
        status, x = solve(lead_cost, lo, hi, hint=x0,
                          seconds=time_limit_s if most else time_limit_s / 2)
        if x is None and x0 is not None and status == "no_solution":
            status, x = "feasible_at_limit", x0
    if x is None:
        return LocalityPlan(status, None, seconds=perf_counter() - start)
    teams = int(round(sum(x[col_of[(k, k)]] for k in range(n))))
    if most:
        lead = np.array([next(k for k in range(n) if (j, k) in col_of and x[col_of[(j, k)]] > 0.5)
                         for j in range(n)])
        return LocalityPlan(status, lead, teams, None, perf_counter() - start)
    lo2, hi2 = lo.copy(), hi.copy()
    lo2[count_row] = hi2[count_row] = float(teams)
    status2, x2 = solve(compact_cost, lo2, hi2, hint=x,
                        seconds=time_limit_s - (perf_counter() - start))
    if x2 is not None:
        x = x2
    if status2 != "optimal":  # the second objective not proven (or not even improved)
        status = "feasible_at_limit"
    lead = np.full(n, -1, dtype=int)
    for (j, k), c in col_of.items():
        if x[c] > 0.5:
            lead[j] = k
    compact = float(sum(compact_cost[c] * (x[c] > 0.5) for c in range(nz)))
    return LocalityPlan(status, lead, teams, compact, perf_counter() - start)

"""A start for the locality-team MIP: hubs grown into connected teams within the band.

The MIP of :mod:`mdtplan.solve.localities` proves the fewest teams, but HiGHS can take many
seconds to find its *first* grouping of a county's hubs (Kent's 39 hubs in two pools: none in
6 s on a quiet machine, one at about 8 s). A planner's run must not end without teams because
the machine was busy, so the MIP is started from a grouping made here, in milliseconds:

1. Each pool (and, with contiguity, each connected piece of a pool's hub graph) is a *unit*;
   no team spans two. A unit of ``T`` people needs at least ``ceil(T / P_max)`` teams and
   holds at most ``floor(T / P_min)`` (the count bounds used below and, by
   :mod:`mdtplan.solve.localities`, to prove the fewest teams without a search).
2. For a count ``k``, ``k`` seed hubs far apart (farthest-point, from a random first seed)
   grow by turns, the smallest team first, each taking the unassigned neighbour nearest its
   seed while it stays within ``P_max`` (districting by region growing).
3. A repair moves single boundary hubs from a team outside the band to a neighbouring team
   (or takes one from a neighbour), keeping both teams connected, until every team is in the
   band, or gives up.
4. Several random restarts per count, the fewest teams first; counts are then raised in the
   units that allow it until the scenario's count band is met.

Arrays in, positions out; no solver. The result is a start, never a claim of optimality.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

#: random restarts per unit and team count
RESTARTS = 24


def _neighbours(n: int, edges, pools, contiguous: bool) -> list[set[int]]:
    nb: list[set[int]] = [set() for _ in range(n)]
    if contiguous:
        for a, b in edges:
            a, b = int(a), int(b)
            if a != b and pools[a] == pools[b]:
                nb[a].add(b)
                nb[b].add(a)
    else:
        by: dict[str, list[int]] = {}
        for j, p in enumerate(pools):
            by.setdefault(p, []).append(j)
        for members in by.values():
            for j in members:
                nb[j] = set(members) - {j}
    return nb


def units(pools, neighbours: list[set[int]]) -> list[list[int]]:
    """The pieces no team can span: each pool's connected pieces of the hub graph (a whole
    pool when teams need not touch, since then every pair of its hubs are neighbours)."""
    n = len(pools)
    seen = [False] * n
    out: list[list[int]] = []
    for s in range(n):
        if seen[s]:
            continue
        seen[s] = True
        piece, todo = [s], deque([s])
        while todo:
            i = todo.popleft()
            for j in neighbours[i]:
                if not seen[j]:
                    seen[j] = True
                    piece.append(j)
                    todo.append(j)
        out.append(sorted(piece))
    return out


def count_bounds(total: float, size: int, population_min, population_max) -> tuple[int, int]:
    """The fewest and most teams a unit of ``total`` people and ``size`` hubs can form."""
    tol = 1e-9 * max(total, 1.0)
    low = 1 if population_max is None else max(1, math.ceil(total / population_max - tol))
    high = size if not population_min else min(size, math.floor(total / population_min + tol))
    return low, high


def _connected(team: set[int], neighbours) -> bool:
    if len(team) <= 1:
        return True
    start = next(iter(team))
    seen, todo = {start}, [start]
    while todo:
        i = todo.pop()
        for j in neighbours[i]:
            if j in team and j not in seen:
                seen.add(j)
                todo.append(j)
    return len(seen) == len(team)


def _partition(unit, k, pop, km, neighbours, pmin, pmax, rng) -> list[set[int]] | None:
    """One try at ``k`` connected teams of ``unit`` within the band, or ``None``."""
    lo = pmin or 0.0
    hi = math.inf if pmax is None else pmax
    eps = 1e-9 * max(float(pop[unit].sum()), 1.0)
    seeds = [int(rng.choice(unit))]
    while len(seeds) < k:
        far = km[np.ix_(unit, seeds)].min(axis=1) * rng.uniform(0.8, 1.0, len(unit))
        far[[unit.index(s) for s in seeds]] = -1.0
        seeds.append(unit[int(np.argmax(far))])
    team_of = {s: t for t, s in enumerate(seeds)}
    teams = [{s} for s in seeds]
    size = [float(pop[s]) for s in seeds]
    left = set(unit) - set(seeds)
    while left:
        grown = False
        for t in sorted(range(k), key=lambda t: size[t]):
            options = [j for i in teams[t] for j in neighbours[i] if j in left]
            fits = [j for j in options if size[t] + pop[j] <= hi + eps]
            if fits:
                j = min(fits, key=lambda j: km[j, seeds[t]])
                teams[t].add(j)
                team_of[j] = t
                size[t] += pop[j]
                left.discard(j)
                grown = True
                break
        if not grown:  # nothing fits: the smallest team that touches a left hub takes it
            touching = [(size[t], t, j) for t in range(k) for i in teams[t]
                        for j in neighbours[i] if j in left]
            if not touching:
                return None
            _, t, j = min(touching)
            teams[t].add(j)
            team_of[j] = t
            size[t] += pop[j]
            left.discard(j)

    def bad(t):
        return max(size[t] - hi, lo - size[t], 0.0)

    for _ in range(8 * len(unit)):
        worst = max(range(k), key=bad)
        if bad(worst) <= eps:
            return teams
        moves = []
        for t in range(k):
            for j in teams[t]:
                if len(teams[t]) == 1:
                    continue
                for s in {team_of[i] for i in neighbours[j] if i in team_of} - {t}:
                    if t != worst and s != worst:
                        continue
                    before = bad(t) + bad(s)
                    size[t] -= pop[j]
                    size[s] += pop[j]
                    after = bad(t) + bad(s)
                    size[t] += pop[j]
                    size[s] -= pop[j]
                    if after < before - eps:
                        moves.append((after - before, rng.random(), j, t, s))
        moves.sort()
        for _, _, j, t, s in moves:
            if _connected(teams[t] - {j}, neighbours):
                teams[t].discard(j)
                teams[s].add(j)
                team_of[j] = s
                size[t] -= pop[j]
                size[s] += pop[j]
                break
        else:
            return None
    return teams if max(bad(t) for t in range(k)) <= eps else None


def _lead(team, pop, km) -> int:
    """The team's hub nearest its people (the least ``sum pop x km``; the MIP's second
    objective)."""
    members = sorted(team)
    cost = [sum(pop[j] * km[j, k] for j in members) for k in members]
    return members[int(np.argmin(cost))]


def start_teams(population, pools, edges, km, *, count_min: int = 0,
                count_max: int | None = None, population_min: float | None = None,
                population_max: float | None = None, contiguous: bool = True,
                seed: int = 0) -> tuple[np.ndarray | None, int]:
    """A grouping of hubs into teams that meets every rule, or none found.

    Parameters are those of :func:`mdtplan.solve.localities.plan_localities`.

    Returns
    -------
    lead : ndarray of int or None
        Per hub, the position of its team's lead hub; ``None`` when no grouping was found
        (which proves nothing: the MIP decides).
    fewest : int
        A lower bound on the number of teams (every unit's fewest, and ``count_min``).

    Examples
    --------
    Six hubs in a row of 10,000 people, teams of 20,000-30,000: two teams, each in one piece.

    >>> import numpy as np
    >>> km = np.abs(np.subtract.outer(np.arange(6.0), np.arange(6.0)))
    >>> lead, fewest = start_teams([1e4] * 6, ["P"] * 6, [(i, i + 1) for i in range(5)], km,
    ...                            population_min=2e4, population_max=3e4)
    >>> fewest, len(set(lead.tolist()))
    (2, 2)
    """
    pop = np.asarray(population, dtype=float)
    n = len(pop)
    km = np.asarray(km, dtype=float)
    pools = list(pools)
    neighbours = _neighbours(n, edges, pools, contiguous)
    pieces = units(pools, neighbours)
    bounds = [count_bounds(float(pop[u].sum()), len(u), population_min, population_max)
              for u in pieces]
    fewest = max(int(count_min), sum(b[0] for b in bounds))
    if n == 0 or any(lo > hi for lo, hi in bounds):
        return None, fewest
    if population_max is not None and pop.max() > population_max * (1 + 1e-9):
        return None, fewest
    rng = np.random.default_rng(seed)
    cache: dict[tuple[int, int], list[set[int]] | None] = {}

    def grouping(u: int, k: int):
        if (u, k) not in cache:
            found = None
            for _ in range(RESTARTS if k > 1 else 1):
                found = _partition(pieces[u], k, pop, km, neighbours, population_min,
                                   population_max, rng)
                if found is not None:
                    break
            cache[(u, k)] = found
        return cache[(u, k)]

    chosen: dict[int, int] = {}
    for u, (lo, hi) in enumerate(bounds):
        k = next((k for k in range(lo, hi + 1) if grouping(u, k) is not None), None)
        if k is None:
            return None, fewest
        chosen[u] = k
    while sum(chosen.values()) < count_min:  # more teams where a unit allows them
        raised = False
        for u in sorted(chosen, key=lambda u: -float(pop[pieces[u]].sum()) / chosen[u]):
            k = chosen[u] + 1
            if k <= bounds[u][1] and grouping(u, k) is not None:
                chosen[u] = k
                raised = True
                break
        if not raised:
            return None, fewest
    if count_max is not None and sum(chosen.values()) > count_max:
        return None, fewest
    lead = np.full(n, -1, dtype=int)
    for u, k in chosen.items():
        for team in grouping(u, k):
            head = _lead(team, pop, km)
            for j in team:
                lead[j] = head
    return lead, fewest


def tree_flow(lead: np.ndarray, neighbours_of) -> dict[tuple[int, int, int], float]:
    """Flow values for a grouping (the MIP's contiguity columns): within each team, a
    breadth-first tree from its lead carries to each member the number of members below it,
    so each member keeps one unit. Keys ``(lead, i, j)``; arcs without flow are left out."""
    flow: dict[tuple[int, int, int], float] = {}
    teams: dict[int, set[int]] = {}
    for j, k in enumerate(lead):
        teams.setdefault(int(k), set()).add(j)
    for k, team in teams.items():
        parent, order, todo = {k: None}, [k], deque([k])
        while todo:
            i = todo.popleft()
            for j in sorted(neighbours_of(i)):
                if j in team and j not in parent:
                    parent[j] = i
                    order.append(j)
                    todo.append(j)
        below = {j: 1 for j in order}
        for j in reversed(order[1:]):
            below[parent[j]] += below[j]
            flow[(k, parent[j], j)] = float(below[j])
    return flow

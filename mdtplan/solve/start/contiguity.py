"""Contiguous catchments for the heuristic start (``hubs.contiguous``): regions grown from each
open hub's own area over the neighbour graph (:func:`grow`), and the tests that keep a move
from splitting a catchment (:func:`cut_areas`, :func:`touching`, :func:`connected`).

The graph is the areas' neighbour graph as CSR arrays over area positions (``ptr``, ``nbr``);
a hub's *root* is the area its catchment must hold (see
:mod:`mdtplan.model.families.catchment_contiguous`).
"""

from __future__ import annotations

import heapq

import numpy as np


def _seed(D: np.ndarray, weight: np.ndarray, is_open: np.ndarray, root: np.ndarray):
    """Each open hub holding its root area: (chosen per area, load per site, open hubs), or
    ``None`` when a hub has no root it may serve or two open hubs share one."""
    chosen = np.full(D.shape[0], -1, dtype=np.int64)
    load = np.zeros(D.shape[1])
    hubs = np.flatnonzero(is_open)
    if len(hubs) == 0:
        return None
    for s in hubs:
        r = int(root[s])
        if r < 0 or chosen[r] >= 0 or not np.isfinite(D[r, s]):
            return None
        chosen[r] = s
        load[s] += weight[r]
    return chosen, load, hubs


def grow_balanced(D: np.ndarray, weight: np.ndarray, is_open: np.ndarray, room: np.ndarray,
                  root: np.ndarray, ptr: np.ndarray, nbr: np.ndarray) -> np.ndarray | None:
    """Like :func:`grow`, but the hub with the least population so far takes the next area
    (its cheapest touching one): catchments grow evenly, so a hub hemmed in by its neighbours
    still reaches the band's minimum."""
    seeded = _seed(D, weight, is_open, root)
    if seeded is None:
        return None
    chosen, load, hubs = seeded
    front: dict[int, list] = {}
    for s in hubs:
        front[int(s)] = []
        _push(front[int(s)], D, chosen, ptr, nbr, int(root[s]), int(s))
    turn = [(float(load[s]), int(s)) for s in hubs]
    heapq.heapify(turn)
    while turn:
        _, s = heapq.heappop(turn)
        heap = front[s]
        while heap and chosen[heap[0][1]] >= 0:
            heapq.heappop(heap)
        if not heap:
            continue  # this hub can grow no further
        _, b, _ = heapq.heappop(heap)
        chosen[b] = s
        load[s] += weight[b]
        _push(heap, D, chosen, ptr, nbr, b, s)
        heapq.heappush(turn, (float(load[s]), s))
    if (chosen >= 0).all():
        return chosen
    return _carve(D, chosen, is_open, root, ptr, nbr)


def grow(D: np.ndarray, weight: np.ndarray, is_open: np.ndarray, room: np.ndarray,
         root: np.ndarray, ptr: np.ndarray, nbr: np.ndarray) -> np.ndarray | None:
    """Each area to an open hub, every catchment connected and holding its hub's root.

    Regions grow from the open hubs' roots at once, cheapest first (Dijkstra-like on
    ``D[a, s]``, the travel of the area to the hub): an area joins the hub whose region
    touches it and reaches it at least cost, while the hub has ``room``; areas left over
    then join any touching hub, room ignored (the local search repairs the band); areas
    still left (enclosed by hubs that may not serve them) are reached by carving a chain
    (:func:`_carve`).

    Returns
    -------
    ndarray or None
        Site position per area; ``None`` when an area is reached by no open hub's region (or
        two open hubs share a root).
    """
    seeded = _seed(D, weight, is_open, root)
    if seeded is None:
        return None
    chosen, load, _ = seeded
    return _grow_from(D, weight, chosen, load, is_open, room, root, ptr, nbr)


def regrow(D: np.ndarray, weight: np.ndarray, earlier: np.ndarray, is_open: np.ndarray,
           room: np.ndarray, root: np.ndarray, ptr: np.ndarray,
           nbr: np.ndarray) -> np.ndarray | None:
    """An earlier assignment (a what-if's) made whole again after hubs closed or opened: each
    open hub keeps the piece of its earlier catchment that holds its root (a new hub starts
    from its root alone), and the areas left over are grown into as :func:`grow` does, from
    the catchments that touch them. Most areas keep their hub; ``None`` as for :func:`grow`.

    ``earlier``: site position per area (-1, or a closed site, where it has none now).
    """
    hubs = np.flatnonzero(is_open)
    if len(hubs) == 0:
        return None
    chosen = np.where((earlier >= 0) & is_open[np.clip(earlier, 0, None)], earlier, -1)
    chosen = chosen.astype(np.int64)
    for s in hubs:  # every hub holds its root (taken from whoever had it)
        r = int(root[s])
        if r < 0 or not np.isfinite(D[r, s]) or (chosen[r] >= 0 and is_open[chosen[r]]
                                                 and root[chosen[r]] == r and chosen[r] != s):
            return None
        chosen[r] = s
    for s in hubs:  # only the piece holding the root stays
        members = np.flatnonzero(chosen == s)
        keep = _reach(chosen, int(s), int(root[s]), ptr, nbr)
        if len(keep) < len(members):
            chosen[[m for m in members.tolist() if m not in keep]] = -1
    load = np.bincount(chosen[chosen >= 0], weights=weight[chosen >= 0],
                       minlength=D.shape[1]).astype(float)
    return _grow_from(D, weight, chosen, load, is_open, room, root, ptr, nbr)


def _grow_from(D, weight, chosen, load, is_open, room, root, ptr, nbr) -> np.ndarray | None:
    """Grow the catchments of ``chosen`` (-1: not yet placed) into the areas left, cheapest
    first, within ``room`` and then regardless; leftovers by :func:`_carve`."""
    for respect_room in (True, False):
        heap = []
        for a in np.flatnonzero(chosen >= 0):
            _push(heap, D, chosen, ptr, nbr, int(a), int(chosen[a]))
        while heap:
            _, b, s = heapq.heappop(heap)
            if chosen[b] >= 0:
                continue
            if respect_room and load[s] + weight[b] > room[s] + 1e-9:
                continue
            chosen[b] = s
            load[s] += weight[b]
            _push(heap, D, chosen, ptr, nbr, b, s)
        if (chosen >= 0).all():
            return chosen
    return _carve(D, chosen, is_open, root, ptr, nbr)


def _carve(D, chosen, is_open, root, ptr, nbr) -> np.ndarray | None:
    """Place the areas growth left over (enclosed by hubs that may not serve them): for each,
    the hub that may serve it and reaches it through the fewest areas of other hubs takes that
    chain of areas (breadth-first over areas it may serve, never another hub's root); pieces
    this cuts off other catchments are left over in turn. ``None`` when it does not settle."""
    n_a = len(chosen)
    hubs = np.flatnonzero(is_open)
    is_root = np.zeros(n_a, dtype=bool)
    is_root[root[hubs]] = True
    for _ in range(4 * n_a + 10):
        left = np.flatnonzero(chosen < 0)
        if not len(left):
            return chosen
        b = int(left[0])
        best = None
        for s in hubs:
            if not np.isfinite(D[b, s]):
                continue
            prev = {b: -1}
            queue = [b]
            end = -1
            for v in queue:  # breadth-first: the chain with the fewest areas
                if chosen[v] == s:
                    end = v
                    break
                for w in nbr[ptr[v]:ptr[v + 1]]:
                    w = int(w)
                    if w in prev or not np.isfinite(D[w, s]) or (is_root[w] and chosen[w] != s):
                        continue
                    prev[w] = v
                    queue.append(w)
            if end < 0:
                continue
            chain = []
            v = prev[end]
            while v != -1:
                chain.append(v)
                v = prev[v]
            taken = sum(1 for v in chain if chosen[v] >= 0)
            key = (taken, len(chain), float(D[b, s]))
            if best is None or key < best[0]:
                best = (key, int(s), chain)
        if best is None:
            return None
        _, s, chain = best
        losers = {int(chosen[v]) for v in chain if chosen[v] >= 0}
        chosen[np.asarray(chain, dtype=np.int64)] = s
        for t in losers:  # keep each loser's piece that holds its root
            members = np.flatnonzero(chosen == t)
            keep = _reach(chosen, t, int(root[t]), ptr, nbr)
            chosen[[m for m in members.tolist() if m not in keep]] = -1
    return None


def _reach(chosen, s: int, start: int, ptr, nbr) -> set:
    seen = {start}
    todo = [start]
    while todo:
        v = todo.pop()
        for w in nbr[ptr[v]:ptr[v + 1]]:
            w = int(w)
            if w not in seen and chosen[w] == s:
                seen.add(w)
                todo.append(w)
    return seen


def _push(heap, D, chosen, ptr, nbr, a: int, s: int) -> None:
    for b in nbr[ptr[a]:ptr[a + 1]]:
        if chosen[b] < 0 and np.isfinite(D[b, s]):
            heapq.heappush(heap, (float(D[b, s]), int(b), int(s)))


def cut_areas(chosen: np.ndarray, ptr: np.ndarray, nbr: np.ndarray) -> np.ndarray:
    """Areas whose leaving would split their catchment: the articulation points of each
    catchment's own graph (Hopcroft and Tarjan, iteratively)."""
    n = len(chosen)
    disc = np.full(n, -1, dtype=np.int64)
    low = np.zeros(n, dtype=np.int64)
    cut = np.zeros(n, dtype=bool)
    t = 0
    for start in range(n):
        if disc[start] >= 0:
            continue
        disc[start] = low[start] = t
        t += 1
        children = 0
        stack = [(start, -1, int(ptr[start]))]
        while stack:
            v, parent, i = stack[-1]
            end = int(ptr[v + 1])
            while i < end and chosen[nbr[i]] != chosen[v]:
                i += 1
            if i < end:
                w = int(nbr[i])
                stack[-1] = (v, parent, i + 1)
                if disc[w] < 0:
                    disc[w] = low[w] = t
                    t += 1
                    if v == start:
                        children += 1
                    stack.append((w, v, int(ptr[w])))
                elif w != parent:
                    low[v] = min(low[v], disc[w])
            else:
                stack.pop()
                if parent >= 0:
                    low[parent] = min(low[parent], low[v])
                    if parent != start and low[v] >= disc[parent]:
                        cut[parent] = True
        if children > 1:
            cut[start] = True
    return cut


def touching(chosen: np.ndarray, ptr: np.ndarray, nbr: np.ndarray, areas: np.ndarray,
             sites: np.ndarray, n_sites: int) -> np.ndarray:
    """Whether each area ``areas[i]`` has a neighbour served by ``sites[i]``."""
    src = np.repeat(np.arange(len(chosen)), np.diff(ptr))
    have = np.unique(src.astype(np.int64) * n_sites + chosen[nbr])
    return np.isin(np.asarray(areas, np.int64) * n_sites + sites, have)


def connected(chosen: np.ndarray, s: int, root: int, ptr: np.ndarray, nbr: np.ndarray) -> bool:
    """Whether hub ``s``'s areas form one piece holding ``root``."""
    members = np.flatnonzero(chosen == s)
    if root < 0 or chosen[root] != s:
        return len(members) == 0
    return len(_reach(chosen, s, root, ptr, nbr)) == len(members)


def all_connected(chosen: np.ndarray, is_open: np.ndarray, root: np.ndarray, ptr: np.ndarray,
                  nbr: np.ndarray) -> bool:
    """Whether every open hub's catchment is one piece holding its root."""
    return all(connected(chosen, int(s), int(root[s]), ptr, nbr)
               for s in np.flatnonzero(is_open))

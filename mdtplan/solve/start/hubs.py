"""Hubs and a first assignment for the heuristic start: required sites, greedy adding and
one-out-one-in swaps (:func:`_choose_hubs`), then each area to the nearest open hub with room
(:func:`_assign_within_room`).
"""

from __future__ import annotations

import math

import numpy as np

from .instance import _Instance, _Work


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
        gain[is_open | ~inst.may_open | too_close(inst, is_open)] = -np.inf
        if inst.root is not None:  # one open hub per root area (contiguous catchments)
            gain[np.isin(inst.root, inst.root[is_open])] = -np.inf
        s = int(np.argmax(gain))
        if not np.isfinite(gain[s]):
            break
        if target is None and is_open.sum() >= k_lo and gain[s] <= 0 and (best < big).all():
            break
        is_open[s] = True
        best = np.minimum(best, Dm[:, s])
    _interchange(Dm, is_open, site_cost, inst.must_open, inst.may_open, work, inst.conflict,
                 inst.root)
    return is_open


def too_close(inst: _Instance, is_open: np.ndarray) -> np.ndarray:
    """Per site, whether it stands closer than ``hubs.min_separation_km`` to an open hub
    (``hub_separation``: it may not open beside it)."""
    if inst.conflict is None:
        return np.zeros(inst.n_s, dtype=bool)
    return inst.conflict[:, is_open].any(axis=1)


def _interchange(Dm: np.ndarray, is_open: np.ndarray, site_cost: np.ndarray,
                 keep_open: np.ndarray, may_open: np.ndarray | None = None,
                 work: _Work | None = None, conflict: np.ndarray | None = None,
                 root: np.ndarray | None = None) -> None:
    """Improve ``is_open`` in place by best-improvement swaps (one site out, one in).

    The cost is ``sum_a min_{s open} Dm[a, s] + sum_{s open} site_cost[s]`` (the plan's cost
    when every area goes to its nearest open site): Teitz and Bart's vertex substitution.
    With ``conflict`` (sites x sites, ``hub_separation``) a site comes in only when no open
    site but the one going out stands too close to it.
    With ``root`` (contiguous catchments) no site comes in whose root area an open hub holds.
    """
    rows = np.arange(Dm.shape[0])
    allowed = np.ones(len(is_open), bool) if may_open is None else may_open
    work = work or _Work(2.0)
    while not work.over():
        open_idx = np.flatnonzero(is_open)
        free = allowed if root is None else allowed & ~np.isin(root, root[is_open])
        closed = np.flatnonzero(~is_open & free)
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
        if conflict is not None:
            near = conflict[np.ix_(closed, open_idx)]  # closed x open
            n_near = near.sum(axis=1)
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
            if conflict is not None:  # only sites whose one close open hub (if any) is i
                col = int(np.searchsorted(open_idx, i))
                delta = np.where(n_near - near[:, col] > 0, np.inf, delta)
            j = int(np.argmin(delta))
            if delta[j] < best_delta:
                best_delta, move = float(delta[j]), (i, closed[j])
        if move is None:
            return
        is_open[move[0]] = False
        is_open[move[1]] = True


def pinned(inst: _Instance, is_open: np.ndarray) -> np.ndarray:
    """Per area, the open hub that stands in it and so must serve it
    (``hub_serves_own_area``), -1 for an area free to go to any hub."""
    pin = np.full(inst.n_a, -1, dtype=np.int64)
    own = inst.own_area
    if own is not None:
        s = np.flatnonzero(is_open & (own >= 0))
        pin[own[s]] = s
    return pin


def _assign_within_room(D: np.ndarray, weight: np.ndarray, is_open: np.ndarray,
                        room: np.ndarray, pmin: float | None,
                        pin: np.ndarray | None = None) -> np.ndarray | None:
    """Each area to one open site within ``room``, every open site at least ``pmin``.

    Areas with the fewest open hubs in reach first (then the heaviest), each to its nearest
    open site with room; then, while a hub is under ``pmin``, move to it the area whose move
    costs least among those whose hub stays at or above ``pmin`` (the total shortfall falls
    with every move, so this ends). ``None`` when an area cannot be placed or a shortfall
    cannot be repaired. Areas ``pin`` holds (an open hub stands in them) go to that hub first
    and are never moved.
    """
    n_a, n_s = D.shape
    load = np.zeros(n_s)
    chosen = np.full(n_a, -1)
    held = np.zeros(n_a, dtype=bool) if pin is None else pin >= 0
    if held.any():
        chosen[held] = pin[held]
        np.add.at(load, pin[held], weight[held])
    options = (np.isfinite(D) & is_open[None, :]).sum(axis=1)
    for a in np.lexsort((-weight, options)):  # fewest open hubs in reach first, then heaviest
        if held[a]:
            continue
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
        ok = (np.isfinite(D[:, s]) & (chosen != s) & spare & ~held
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

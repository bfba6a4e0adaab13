"""Local search on the plan's exact objective: areas moved one at a time or swapped between
hubs while the plan gets better (:class:`_Search`).
"""

from __future__ import annotations

import numpy as np

from .contiguity import connected, cut_areas, touching
from .hubs import pinned
from .instance import _Instance, _Work
from .staffing import unit_cost, unit_steps


def swap_pairs(s: np.ndarray, t: np.ndarray, n_sites: int) -> tuple[np.ndarray, np.ndarray]:
    """Every swap of two candidate moves: positions ``(i, j)`` with ``i`` a move from hub
    ``s[i]`` to ``t[i]`` and ``j`` one the other way (``s[j] == t[i]``, ``t[j] == s[i]``),
    ``s[i] < t[i]``.

    ``s``, ``t``: the moves sorted by ``(s, t)``. Returned grouped by ``(s, t)`` in that order,
    then by ``i``, then by ``j`` (the order the search ranks ties in). Made with whole-array
    operations: the search asks for it on every sweep (about a third of a county start's
    time went on doing it hub pair by hub pair).
    """
    key = s.astype(np.int64) * n_sites + t
    if not len(key):
        empty = np.zeros(0, np.int64)
        return empty, empty
    cuts = np.flatnonzero(np.diff(key)) + 1
    begin = np.r_[0, cuts]
    end = np.r_[cuts, len(key)]
    gs, gt = s[begin].astype(np.int64), t[begin].astype(np.int64)
    other = np.searchsorted(key[begin], gt * n_sites + gs)
    other = np.minimum(other, len(begin) - 1)
    ok = (gs < gt) & (key[begin][other] == gt * n_sites + gs)
    if not ok.any():
        empty = np.zeros(0, np.int64)
        return empty, empty
    b1, n1 = begin[ok], (end - begin)[ok]
    b2, n2 = begin[other[ok]], (end - begin)[other[ok]]
    size = n1 * n2
    first = np.repeat(np.cumsum(size) - size, size)
    local = np.arange(int(size.sum()), dtype=np.int64) - first
    across = np.repeat(n2, size)
    return np.repeat(b1, size) + local // across, np.repeat(b2, size) + local % across


class _Search:
    """Moves areas between open hubs while the plan improves.

    Moves are ranked lexicographically on: the band and capacity shortfall; the first stage's
    quantity; then, for a cost stage, a *potential* (below); then the next stage's quantity.
    The hubs stay open (no move empties one). Staff cost is computed exactly: a hub's cost is
    :func:`unit_cost` of :func:`unit_steps` of its demand.

    The cost of a hub is a staircase in its demand, flat between FTE steps, so single moves
    rarely change it. The potential, ``-sum (cost of a step) x fill^2`` over each unit's roles
    (``fill`` in (0, 1] is how much of its last FTE step a role uses, 0 where the minimum
    decides), falls when a nearly empty last step empties further and a nearly full one
    fills: it walks the search along the flat parts of the staircase towards plans where
    whole steps (a team manager for eight practitioners, above all) are saved.
    """

    def __init__(self, inst: _Instance, is_open: np.ndarray, chosen: np.ndarray,
                 supervision_caps: dict | None = None, work: _Work | None = None,
                 potential: bool = True):
        self.inst = inst
        self.potential = potential  # rank on the potential (else straight to the next stage)
        self.work = work or _Work(10.0)
        # rule position -> most supervised FTE a hub should hold (a target, not a rule)
        self.caps = supervision_caps or {}
        self.is_open = is_open
        self.chosen = chosen.copy()
        r = inst.roles
        self.core, self.spec = r.core, r.spec
        # demand by pair: with staff travel an area asks more of a far hub than a near one
        self.d_core = inst.pair_demand[:, self.core]
        self.d_spec = inst.pair_demand[:, self.spec]
        self.travel = bool(inst.travel)
        if inst.pair_index is None:
            inst.pair_index = np.full((inst.n_a, inst.n_s), -1, dtype=np.int64)
            inst.pair_index[inst.pair_area, inst.pair_site] = np.arange(len(inst.pair_area))
        self.cur_pair = inst.pair_index[np.arange(inst.n_a), self.chosen]
        self.packing = (np.isfinite(inst.room).any() or inst.pmin > 0
                        or bool(len(self.core) or len(self.spec)))
        primary = inst.stages[0]
        self.cost_first = primary in ("cost_gbp", "unmet_hours")
        #: areas an open hub stands in: they stay with it (``hub_serves_own_area``)
        self.held = pinned(inst, is_open) >= 0
        self.max_travel = (float(inst.pair_travel[self.cur_pair].max())
                           if primary == "max_travel" else None)
        self._recount()

    # the state ------------------------------------------------------------------------------
    def _recount(self) -> None:
        inst = self.inst
        n_s = inst.n_s
        self.load = np.bincount(self.chosen, weights=inst.weight, minlength=n_s)
        self.count = np.bincount(self.chosen, minlength=n_s)
        self.H = np.zeros((n_s, len(self.core)))
        np.add.at(self.H, self.chosen, self.d_core[self.cur_pair])
        self.Q = np.zeros((max(inst.n_pools, 1), len(self.spec)))
        pools = inst.pair_pool[self.cur_pair]
        has = pools >= 0
        np.add.at(self.Q, pools[has], self.d_spec[self.cur_pair[has]])
        self.hub_cost, self.hub_phi, self.hub_tv = self._hub_eval(self.H)
        self.hub_cost[~self.is_open] = 0.0
        self.hub_phi[~self.is_open] = 0.0
        self.hub_tv[~self.is_open] = 0.0
        self.pool_cost, self.pool_phi, _ = self._pool_eval(self.Q)

    def _eval(self, hours, positions, minimum, caps=None):
        """(cost, potential, supervision target excess [FTE]) of units with ``hours`` of the
        roles at ``positions``."""
        z = np.zeros(hours.shape[:-1])
        if not len(positions):
            return z, z.copy(), z.copy()
        r = self.inst.roles
        steps, need = unit_steps(hours, r, positions, minimum, need=True)
        cost = unit_cost(steps, r, positions)
        floor = r.min_steps[positions] if minimum else 0.0
        fill = np.where(steps > floor, need - (steps - 1.0), 0.0).clip(0.0, 1.0)
        phi = -(fill * fill * (r.step[positions] * r.cost[positions])).sum(axis=-1)
        excess = z.copy()
        if caps:
            local = {int(p): i for i, p in enumerate(positions)}
            for rule, cap in caps.items():
                _, subs, _ = r.rules[rule]
                inside = [local[int(x)] for x in subs if int(x) in local]
                load = (steps[..., inside] * r.step[positions][inside]).sum(axis=-1)
                excess = excess + np.maximum(load - cap, 0.0)
        return cost, phi, excess

    def _hub_eval(self, H):
        return self._eval(H, self.core, True, self.caps)

    def _pool_eval(self, Q):
        return self._eval(Q, self.spec, False)

    def _hub_fte(self, H):
        if not len(self.core):
            return np.zeros(H.shape[:-1])
        steps = unit_steps(H, self.inst.roles, self.core, True)
        return (steps * self.inst.roles.step[self.core]).sum(axis=-1)

    def _violation(self, load, s, H=None):
        """Band and capacity shortfall of hub(s) ``s`` at ``load`` (and core demand ``H``)."""
        inst = self.inst
        v = np.maximum(load - inst.room[s], 0.0) + np.maximum(inst.pmin - load, 0.0)
        if H is not None and np.isfinite(inst.cap_fte[s]).any():
            cap = inst.cap_fte[s]
            over = np.maximum(self._hub_fte(H) - cap, 0.0)
            v = v + np.where(np.isfinite(cap), over, 0.0) * 1e3
        return v

    def totals(self) -> tuple[float, float, float]:
        """(shortfall, first stage, second stage) of the current plan."""
        inst = self.inst
        open_idx = np.flatnonzero(self.is_open)
        v = float(self._violation(self.load[open_idx], open_idx, self.H[open_idx]).sum())
        travel = float(inst.pair_coef[self.cur_pair].sum())
        cost = float(self.hub_cost.sum() + self.pool_cost.sum()
                     + inst.site_cost[self.is_open].sum() + inst.price * travel
                     + inst.pair_mileage[self.cur_pair].sum())
        values = {"cost_gbp": cost, "travel": travel, "unmet_hours": cost,
                  "max_travel": float(inst.pair_travel[self.cur_pair].max())}
        first = values[inst.stages[0]]
        second = values[inst.stages[1]] if len(inst.stages) > 1 else 0.0
        if inst.stages[0] == "max_travel":
            second = travel
        return v, first, second

    def _keys(self, dv, dtv, dcost, dphi, dtravel) -> list:
        """Deltas in the order moves are ranked on."""
        total_cost = dcost + self.inst.price * dtravel
        if not self.potential:
            dphi = np.zeros_like(dphi)
        if self.cost_first:
            return [dv, dtv, total_cost, dphi, dtravel]
        # travel first (max_travel: the longest trip is held by the candidate filter)
        return [dv, dtravel, total_cost, dphi]

    # moves ----------------------------------------------------------------------------------
    def _candidates(self):
        """Allowed pairs to an open hub other than the area's own (relocation targets)."""
        inst = self.inst
        a, t = inst.pair_area, inst.pair_site
        ok = (self.is_open[t] & (t != self.chosen[a]) & (self.count[self.chosen[a]] > 1)
              & ~self.held[a])
        if self.max_travel is not None:
            ok &= inst.pair_travel <= self.max_travel + 1e-12
        k = np.flatnonzero(ok)
        if inst.root is not None and len(k):  # only to a hub whose catchment it touches
            k = k[touching(self.chosen, inst.nbr_ptr, inst.nbr, inst.pair_area[k],
                           inst.pair_site[k], inst.n_s)]
        return k

    def relocate(self, mark: float) -> int:
        """Best-improvement relocations, applied in batches on distinct hubs, until none
        improves or the work ``mark`` is reached."""
        inst = self.inst
        moves = 0
        while not self.work.over(mark):
            k = self._candidates()
            if not len(k):
                break
            self.work.spend(len(k) * (len(self.core) + 4))
            a = inst.pair_area[k]
            t = inst.pair_site[k]
            s = self.chosen[a]
            w = inst.weight[a]
            old = self.cur_pair[a]
            Hs, Ht = self.H[s] - self.d_core[old], self.H[t] + self.d_core[k]
            dv = (self._violation(self.load[s] - w, s, Hs)
                  + self._violation(self.load[t] + w, t, Ht)
                  - self._violation(self.load[s], s, self.H[s])
                  - self._violation(self.load[t], t, self.H[t]))
            cs, ps, es = self._hub_eval(Hs)
            ct, pt, et = self._hub_eval(Ht)
            dcost = cs - self.hub_cost[s] + ct - self.hub_cost[t]
            dphi = ps - self.hub_phi[s] + pt - self.hub_phi[t]
            dtv = es - self.hub_tv[s] + et - self.hub_tv[t]
            p_old = inst.pair_pool[old]
            p_new = inst.pair_pool[k]
            moved = (p_old != p_new) & (p_old >= 0) & (p_new >= 0)
            if moved.any() and len(self.spec):
                m = np.flatnonzero(moved)
                c_o, f_o, _ = self._pool_eval(self.Q[p_old[m]] - self.d_spec[old[m]])
                c_n, f_n, _ = self._pool_eval(self.Q[p_new[m]] + self.d_spec[k[m]])
                dcost[m] += (c_o - self.pool_cost[p_old[m]] + c_n - self.pool_cost[p_new[m]])
                dphi[m] += (f_o - self.pool_phi[p_old[m]] + f_n - self.pool_phi[p_new[m]])
            if self.travel and len(self.spec):
                # the same pool, from another hub: its specialists' trips change
                m = np.flatnonzero((p_old == p_new) & (p_old >= 0))
                if len(m):
                    c_n, f_n, _ = self._pool_eval(self.Q[p_old[m]] - self.d_spec[old[m]]
                                                  + self.d_spec[k[m]])
                    dcost[m] += c_n - self.pool_cost[p_old[m]]
                    dphi[m] += f_n - self.pool_phi[p_old[m]]
            dcost = dcost + inst.pair_mileage[k] - inst.pair_mileage[old]
            dtravel = inst.pair_coef[k] - inst.pair_coef[self.cur_pair[a]]
            order = _improving(self._keys(dv, dtv, dcost, dphi, dtravel), self._tolerances())
            if not len(order):
                break
            touched = np.zeros(inst.n_s, dtype=bool)
            pools_touched = np.zeros(max(inst.n_pools, 1), dtype=bool)
            # an area whose leaving would split its catchment stays (hubs.contiguous)
            cut = (cut_areas(self.chosen, inst.nbr_ptr, inst.nbr) if inst.root is not None
                   else None)
            batch = []
            for i in order:
                si, ti = s[i], t[i]
                if touched[si] or touched[ti]:
                    continue
                if cut is not None and cut[a[i]]:
                    continue
                if moved[i] and (pools_touched[p_old[i]] or pools_touched[p_new[i]]):
                    continue
                touched[si] = touched[ti] = True
                if moved[i]:
                    pools_touched[p_old[i]] = pools_touched[p_new[i]] = True
                batch.append(i)
            if not batch:
                break
            for i in batch:
                self._move(int(a[i]), int(t[i]), int(k[i]))
            moves += len(batch)
            self._refresh(np.unique(np.concatenate([s[batch], t[batch]])))
        return moves

    def swap(self, mark: float, chunk: int = 400_000) -> int:
        """One sweep of swaps (area a at hub s <-> area b at hub t, each allowed at the
        other's hub), all candidate pairs evaluated at once, the best applied first on
        distinct hubs; returns the number applied."""
        inst = self.inst
        k = self._candidates_any()
        if not len(k):
            return 0
        a = inst.pair_area[k]
        s = self.chosen[a]
        t = inst.pair_site[k]
        order = np.lexsort((t, s))
        a, s, t, k = a[order], s[order], t[order], k[order]
        ia, ib = swap_pairs(s, t, inst.n_s)
        if not len(ia):
            return 0
        if len(ia) > chunk:  # keep memory bounded: the best candidates by travel first
            keep = np.argsort(inst.pair_coef[k[ia]] + inst.pair_coef[k[ib]], kind="stable")
            ia, ib = ia[keep[:chunk]], ib[keep[:chunk]]
        self.work.spend(len(ia) * 2 * (len(self.core) + 4))
        A, kA, B, kB = a[ia], k[ia], a[ib], k[ib]
        si, ti = s[ia], t[ia]
        oA, oB = self.cur_pair[A], self.cur_pair[B]
        Hs = self.H[si] - self.d_core[oA] + self.d_core[kB]
        Ht = self.H[ti] - self.d_core[oB] + self.d_core[kA]
        wA, wB = inst.weight[A], inst.weight[B]
        dv = (self._violation(self.load[si] - wA + wB, si, Hs)
              + self._violation(self.load[ti] + wA - wB, ti, Ht)
              - self._violation(self.load[si], si, self.H[si])
              - self._violation(self.load[ti], ti, self.H[ti]))
        cs, ps, es = self._hub_eval(Hs)
        ct, pt, et = self._hub_eval(Ht)
        dcost = cs + ct - self.hub_cost[si] - self.hub_cost[ti]
        dphi = ps + pt - self.hub_phi[si] - self.hub_phi[ti]
        dtv = es + et - self.hub_tv[si] - self.hub_tv[ti]
        if self.travel:
            dcost = dcost + (inst.pair_mileage[kA] - inst.pair_mileage[oA]
                             + inst.pair_mileage[kB] - inst.pair_mileage[oB])
            if len(self.spec):  # each area keeps its pool; its specialists' trips change
                pA, pB = inst.pair_pool[oA], inst.pair_pool[oB]
                gA = self.d_spec[kA] - self.d_spec[oA]
                gB = self.d_spec[kB] - self.d_spec[oB]
                same = (pA == pB) & (pA >= 0)
                for pool, delta, m in ((pA, gA + gB, same), (pA, gA, (pA >= 0) & ~same),
                                       (pB, gB, (pB >= 0) & ~same)):
                    m = np.flatnonzero(m)
                    if len(m):
                        c_n, f_n, _ = self._pool_eval(self.Q[pool[m]] + delta[m])
                        dcost[m] += c_n - self.pool_cost[pool[m]]
                        dphi[m] += f_n - self.pool_phi[pool[m]]
        coef = inst.pair_coef
        dtravel = (coef[kA] - coef[self.cur_pair[A]]) + (coef[kB] - coef[self.cur_pair[B]])
        best = _improving(self._keys(dv, dtv, dcost, dphi, dtravel), self._tolerances())
        if not len(best):
            return 0
        touched = np.zeros(inst.n_s, dtype=bool)
        applied = 0
        checks = 0
        for i in best:
            x, y = si[i], ti[i]
            if touched[x] or touched[y]:
                continue
            if inst.root is not None and checks >= 200:
                break
            self._move(int(A[i]), int(y), int(kA[i]))
            self._move(int(B[i]), int(x), int(kB[i]))
            if inst.root is not None:  # keep both catchments in one piece
                checks += 1
                if not (connected(self.chosen, int(x), int(inst.root[x]), inst.nbr_ptr, inst.nbr)
                        and connected(self.chosen, int(y), int(inst.root[y]), inst.nbr_ptr,
                                      inst.nbr)):
                    self._move(int(A[i]), int(x), int(inst.pair_index[A[i], x]))
                    self._move(int(B[i]), int(y), int(inst.pair_index[B[i], y]))
                    continue
            touched[x] = touched[y] = True
            applied += 1
        self._refresh(np.flatnonzero(touched))
        return applied

    def _candidates_any(self):
        inst = self.inst
        a, t = inst.pair_area, inst.pair_site
        same_pool = inst.pair_pool == inst.pair_pool[self.cur_pair[a]]
        ok = self.is_open[t] & (t != self.chosen[a]) & same_pool & ~self.held[a]
        if self.max_travel is not None:
            ok &= inst.pair_travel <= self.max_travel + 1e-12
        return np.flatnonzero(ok)

    def _move(self, a: int, t: int, k: int) -> None:
        inst = self.inst
        s = int(self.chosen[a])
        w = inst.weight[a]
        self.load[s] -= w
        self.load[t] += w
        self.count[s] -= 1
        self.count[t] += 1
        old = self.cur_pair[a]
        self.H[s] -= self.d_core[old]
        self.H[t] += self.d_core[k]
        p_old, p_new = inst.pair_pool[old], inst.pair_pool[k]
        if (p_old != p_new or self.travel) and len(self.spec):
            if p_old >= 0:
                self.Q[p_old] -= self.d_spec[old]
            if p_new >= 0:
                self.Q[p_new] += self.d_spec[k]
        self.chosen[a] = t
        self.cur_pair[a] = k

    def _refresh(self, hubs: np.ndarray) -> None:
        hubs = np.asarray(hubs, dtype=int)
        if len(hubs):
            self.hub_cost[hubs], self.hub_phi[hubs], self.hub_tv[hubs] = self._hub_eval(
                self.H[hubs])
        self.pool_cost, self.pool_phi, _ = self._pool_eval(self.Q)

    def _tolerances(self) -> list:
        v, first, second = self.totals()
        cost = float(self.hub_cost.sum() + self.pool_cost.sum())
        travel = float(self.inst.pair_coef[self.cur_pair].sum())
        t_cost = 1e-9 * max(1.0, abs(cost))
        t_travel = 1e-9 * max(1.0, abs(travel))
        if self.cost_first:
            return [1e-9, 1e-9, t_cost, t_cost, t_travel]
        return [1e-9, t_travel, t_cost, t_cost]

    def repair_band(self, mark: float) -> int:
        """Contiguous catchments (``hubs.contiguous``): while a hub is outside the band, hand
        over whole pieces: an area on the border of two catchments moves together with the
        part of its catchment that its leaving would cut off from the hub's own area (single
        moves cannot take an area that holds a corridor together). The move that leaves the
        least shortfall is made first; returns the number made."""
        inst = self.inst
        if inst.root is None:
            return 0
        ptr, nbr = inst.nbr_ptr, inst.nbr
        made = 0
        while not self.work.over(mark):
            open_idx = np.flatnonzero(self.is_open)
            v_now = self._violation(self.load[open_idx], open_idx)
            if v_now.sum() <= 1e-9:
                break
            bad = set(open_idx[v_now > 1e-9].tolist())
            src = np.repeat(np.arange(inst.n_a), np.diff(ptr))
            border = np.flatnonzero((self.chosen[src] != self.chosen[nbr])
                                    & self.is_open[self.chosen[nbr]])
            best = None
            tried = set()
            units = 0.0
            for e in border.tolist():
                a, t = int(src[e]), int(self.chosen[nbr[e]])
                s_ = int(self.chosen[a])
                if (a, t) in tried or self.held[a] or not (s_ in bad or t in bad):
                    continue
                tried.add((a, t))
                if inst.pair_index[a, t] < 0:
                    continue
                piece = self._piece(a, s_)
                if piece is None or (inst.pair_index[piece, t] < 0).any():
                    continue
                w = float(inst.weight[piece].sum())
                units += len(piece) + self.inst.n_a
                before = float(self._violation(self.load[[s_, t]], np.array([s_, t])).sum())
                after = float(self._violation(np.array([self.load[s_] - w, self.load[t] + w]),
                                              np.array([s_, t])).sum())
                if after < before - 1e-9:
                    travel = float(inst.pair_coef[inst.pair_index[piece, t]].sum()
                                   - inst.pair_coef[self.cur_pair[piece]].sum())
                    key = (after - before, travel)
                    if best is None or key < best[0]:
                        best = (key, piece, s_, t)
            self.work.spend(units)
            if best is None:
                break
            _, piece, s_, t = best
            for a in piece.tolist():
                self._move(int(a), t, int(inst.pair_index[a, t]))
            self._refresh(np.array([s_, t]))
            made += 1
        return made

    def _piece(self, a: int, s: int) -> np.ndarray | None:
        """Area ``a`` with the part of hub ``s``'s catchment that its leaving would cut off
        from the hub's root (``None`` when that would empty the hub)."""
        inst = self.inst
        ptr, nbr = inst.nbr_ptr, inst.nbr
        root = int(inst.root[s])
        if root == a:
            return None
        seen = {root}
        todo = [root]
        while todo:
            v = todo.pop()
            for w in nbr[ptr[v]:ptr[v + 1]]:
                w = int(w)
                if w != a and w not in seen and self.chosen[w] == s:
                    seen.add(w)
                    todo.append(w)
        members = np.flatnonzero(self.chosen == s)
        piece = np.array([m for m in members.tolist() if m not in seen], dtype=np.int64)
        return piece if len(piece) < len(members) else None

    def run(self, mark: float) -> None:
        """Relocations until none improves, then a sweep of swaps; repeat while either helps
        (until the work ``mark`` is reached). With contiguous catchments, whole pieces are
        handed over first while a hub is outside the band (:meth:`repair_band`)."""
        self.repair_band(mark)
        while not self.work.over(mark):
            self.relocate(mark)
            if not self.packing or self.work.over(mark) or not self.swap(mark):
                break  # without bands, capacities or staff, nearest is best: swaps cannot help


def _improving(keys: list, tols: list) -> np.ndarray:
    """Positions of improving moves, best first, lexicographically on ``keys`` (deltas; each
    within its tolerance of 0 counts as 0)."""
    rounded = [np.where(np.abs(k) <= t, 0.0, k) for k, t in zip(keys, tols, strict=True)]
    better = np.zeros(len(rounded[0]), dtype=bool)
    tied = np.ones(len(rounded[0]), dtype=bool)
    for k in rounded:
        better |= tied & (k < 0)
        tied &= k == 0
    idx = np.flatnonzero(better)
    if not len(idx):
        return idx
    return idx[np.lexsort([k[idx] for k in reversed(rounded)])]

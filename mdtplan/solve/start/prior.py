"""A plan of an earlier run as the heuristic start's first candidate (a what-if).

A planner who changes one thing of a solved plan (the budget cap, the hub count or band, a
site's status) wants the changed plan at once, and it is usually close to the one they have:
most hubs stay and most areas keep their hub. :class:`mdtplan.inputs.prior.PriorPlan` holds
that plan by ids (so it can come from another process: a previous run's ``hubs.csv`` and
``assignment.csv``, or a stored job's result); :func:`prior_candidate` makes it fit the
changed rules and searches around it, and :func:`~.search.build_start` keeps it when it
beats the fresh candidates.

Fitting it to the rules (:func:`prior_candidate`): sites the scenario no longer allows to open
are closed and required ones opened; as many hubs as before, within the count's limits now: a
closed hub's catchment moves whole to a candidate site inside it (:func:`relocate`), else
hubs are added where they save most or dropped where their areas cost least more elsewhere
(:func:`fit_count`); when hubs closed, a fit with only the hubs left, and when fewer are
allowed, a fit dropping the least populous, are searched too. Areas whose hub went are
assigned again (nearest open hub; with contiguous catchments each hub keeps the piece of its
catchment holding its own area and its neighbours grow into the rest); the local search then
repairs bands and capacity and lowers the plan's cost on the scenario's own terms.

Nothing here reads files or calls a solver.
"""

from __future__ import annotations

import numpy as np

from .contiguity import all_connected, grow, regrow
from .hubs import _dense_cost, _nearest_open, pinned, too_close
from .instance import _better, _Instance, _Work
from .moves import _Search


def fit_count(inst: _Instance, is_open: np.ndarray, k_lo: int, k_hi: int) -> np.ndarray:
    """``is_open`` with hubs added or dropped until the count is within ``[k_lo, k_hi]``.

    Added: the site that saves most (each area's cost to its nearest open hub), as
    :func:`~.hubs._choose_hubs` adds, never beside an open hub (``hub_separation``) nor in an
    area another hub stands in (contiguous catchments). Dropped: the open hub, not required,
    whose areas cost least more from their next open hub.
    """
    D = _dense_cost(inst)
    finite = np.isfinite(D)
    big = float(np.nanmax(np.where(finite, D, np.nan))) * 10 + 1 if finite.any() else 1.0
    Dm = np.where(finite, D, big)
    is_open = is_open.copy()
    while is_open.sum() < k_lo:
        best = Dm[:, is_open].min(axis=1) if is_open.any() else np.full(inst.n_a, big * 10)
        gain = np.maximum(best[:, None] - Dm, 0.0).sum(axis=0)
        gain[is_open | ~inst.may_open | too_close(inst, is_open)] = -np.inf
        if inst.root is not None:
            gain[np.isin(inst.root, inst.root[is_open])] = -np.inf
        s = int(np.argmax(gain))
        if not np.isfinite(gain[s]):
            break
        is_open[s] = True
    while is_open.sum() > k_hi:
        open_idx = np.flatnonzero(is_open)
        loss = drop_loss(Dm[:, open_idx])
        loss[inst.must_open[open_idx]] = np.inf
        n = int(np.argmin(loss))
        if not np.isfinite(loss[n]):
            break
        is_open[open_idx[n]] = False
    return is_open


def drop_loss(cost: np.ndarray) -> np.ndarray:
    """Per column (an open hub) of ``cost`` (areas x open hubs), what its areas would cost
    more from their next hub if it closed: each area's second-best less its best, counted for
    its best hub (ties: 0, wherever counted); ``inf`` for the only hub. One pass, not one per
    hub (a county's start drops hubs at O(hubs x areas) each, not O(hubs² x areas))."""
    n_a, n_h = cost.shape
    if n_h < 2:
        return np.full(n_h, np.inf)
    two = np.argpartition(cost, 1, axis=1)[:, :2]
    rows = np.arange(n_a)
    c0, c1 = cost[rows, two[:, 0]], cost[rows, two[:, 1]]
    best = np.where(c0 <= c1, two[:, 0], two[:, 1])
    return np.bincount(best, weights=np.abs(c1 - c0), minlength=n_h).astype(float)


def prior_candidate(inst: _Instance, ix, prior, work: _Work, k_lo: int, k_hi: int,
                    share: float = 0.5) -> tuple[_Search | None, tuple | None, dict]:
    """The earlier plan made to fit the rules now in force, then searched for ``share`` of
    the work left: ``(search, its key, report)``; ``(None, None, report)`` when none of its
    hubs is in this model or its areas cannot be placed. ``prior`` is a
    :class:`mdtplan.inputs.prior.PriorPlan` (only its ``positions(ix)`` is read). ``report``
    holds ``matched`` (see :meth:`~mdtplan.inputs.prior.PriorPlan.positions`),
    ``hubs_kept``, ``hubs_added``, ``hubs_dropped`` (the earlier hubs not open now, closed
    here or not sites of this model) and ``areas_moved`` (areas whose hub the fitted plan
    changed before the search).

    When the change closed some of its hubs, two fits are searched, each with half the work,
    and the better kept: as many hubs as before (each closed hub's catchment moved whole to a
    site inside it, :func:`relocate`, or else a hub added where it saves most: the demo
    without its most populous hub met 14% less demand when it was not replaced) and only the
    hubs left. When fewer hubs are allowed than it had, the hubs dropped are those whose areas
    cost least more from their next hub, and, in another fit, the least populous.
    """
    was_open, chosen, matched = prior.positions(ix)
    report = {"matched": matched}
    if not was_open.any():
        return None, None, report
    is_open = (was_open & inst.may_open) | inst.must_open
    # a site the scenario excludes may be missing from the model: the plan's own count
    n_before = max(int(matched["sites_given"]), int(was_open.sum()))
    target = max(k_lo, min(n_before, k_hi))
    # as many hubs as before: a closed hub's catchment kept whole from a site inside it,
    # else a hub added where it saves most
    moved_open, moved = relocate(inst, is_open, chosen, prior.catchments(ix))
    fits = [(moved_open, moved, target)]
    left = max(k_lo, min(int(is_open.sum()), k_hi))
    if left < target:  # ... or only the hubs left
        fits.append((is_open, chosen, left))
    if int(is_open.sum()) > k_hi:  # fewer hubs allowed: also drop the least populous ones
        people = np.bincount(chosen[chosen >= 0], weights=inst.weight[chosen >= 0],
                             minlength=inst.n_s)
        order = [int(h) for h in np.flatnonzero(is_open)[np.argsort(
            people[is_open], kind="stable")] if not inst.must_open[h]]
        fewest = is_open.copy()
        fewest[order[:int(is_open.sum()) - k_hi]] = False
        fits.append((fewest, chosen, k_hi))
    best = None
    for n, (opened, assigned, count) in enumerate(fits):
        got = _fitted(inst, was_open, opened, assigned, count, k_hi, work,
                      share / (len(fits) - n), chosen)
        if got is not None and (best is None or _better(got[1], best[1])):
            best = got
    if best is None:
        return None, None, report
    search, key, fit = best
    fit["hubs_dropped"] = n_before - fit["hubs_kept"]
    report.update(fit)
    return search, key, report


def relocate(inst: _Instance, is_open: np.ndarray, chosen: np.ndarray,
             catchments: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each earlier catchment whose hub is not open now (closed by the change, or no site of
    this model) moved whole to the site that serves it at least cost among those that may
    open, are in reach of every one of its areas and, with contiguous catchments, stand in
    one of its areas (the hub moves to another building of the same patch, whose people
    stay within the band as they were); ``(is_open, chosen)`` with those sites open and the
    catchments' areas given to them. Catchments with no such site are left to the fits."""
    is_open, chosen = is_open.copy(), chosen.copy()
    D = _dense_cost(inst)
    served = (chosen >= 0) & is_open[np.clip(chosen, 0, None)]
    for k in np.unique(catchments[catchments >= 0]):
        region = np.flatnonzero(catchments == k)
        if served[region].any():
            continue  # its hub is open (or some of its areas went elsewhere): nothing to move
        ok = inst.may_open & ~is_open & np.isfinite(D[region]).all(axis=0)
        ok &= ~too_close(inst, is_open)
        if inst.root is not None:
            ok &= np.isin(inst.root, region) & ~np.isin(inst.root, inst.root[is_open])
        if not ok.any():
            continue
        cost = np.where(ok, D[region].sum(axis=0), np.inf)
        s = int(np.argmin(cost))
        is_open[s] = True
        chosen[region] = s
        served[region] = True
    return is_open, chosen


def _fitted(inst: _Instance, was_open, is_open, chosen, target: int, k_hi: int, work: _Work,
            share: float, earlier: np.ndarray):
    """One fit of the earlier plan (``target`` hubs, within ``k_hi``), searched for
    ``share`` of the work left: ``(search, key, report)`` or None; ``earlier``: each area's
    hub in the earlier plan (``areas_moved`` counts the areas given another)."""
    is_open = fit_count(inst, is_open, target, k_hi)
    if not is_open.any():
        return None
    report = {"hubs_kept": int((is_open & was_open).sum()),
              "hubs_added": int((is_open & ~was_open).sum())}
    D = _dense_cost(inst)
    rows = np.arange(inst.n_a)
    at = np.clip(chosen, 0, None)
    valid = (chosen >= 0) & is_open[at] & np.isfinite(D[rows, at])
    if inst.root is not None:
        if not (valid.all() and all_connected(chosen, is_open, inst.root, inst.nbr_ptr, inst.nbr)):
            # keep what still connects, grow the neighbours into the rest (Kent without one
            # hub: growing every catchment afresh left no plan in 60 s, nor did a cold solve)
            grown = regrow(D, inst.weight, chosen, is_open, inst.room, inst.root,
                           inst.nbr_ptr, inst.nbr)
            chosen = grown if grown is not None else grow(
                D, inst.weight, is_open, inst.room, inst.root, inst.nbr_ptr, inst.nbr)
    elif not valid.all():
        near = _nearest_open(D, is_open)
        chosen = None if near is None else np.where(valid, chosen, near)
    if chosen is None:
        return None
    pin = pinned(inst, is_open)
    chosen = np.where(pin >= 0, pin, chosen)
    report["areas_moved"] = int((chosen != earlier).sum())
    search = _Search(inst, is_open, chosen, None, work)
    search.run(work.mark(share))
    return search, search.totals(), report

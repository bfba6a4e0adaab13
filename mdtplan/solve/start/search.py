"""The whole heuristic start: hub counts tried, each searched, the best improved by iterated
local search, then staffed (:func:`build_start`, giving a :class:`StartPlan`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from time import perf_counter

import numpy as np

from .contiguity import all_connected, connected, grow, grow_balanced, regrow
from .hubs import (
    _assign_within_room,
    _choose_hubs,
    _count_range,
    _dense_cost,
    _nearest_open,
    _priced,
    pinned,
    too_close,
)
from .instance import (
    StartInput,
    _better,
    _Instance,
    _instance,
    _Work,
    lever_fill,
    lever_reach,
    plan_flows,
    shortfall_values,
)
from .moves import _Search
from .prior import prior_candidate
from .staffing import _fit_limits, _plan_cost, _staffing, _supply_agency, unit_steps


@dataclass
class StartPlan:
    """A complete heuristic plan (positions as in the model's index).

    Attributes
    ----------
    is_open : ndarray of bool, shape (sites,)
    chosen : ndarray of int, shape (areas,)
        Site position serving each area.
    pair : ndarray of int, shape (areas,)
        Pair position of each area's assignment.
    steps : ndarray, shape (len(ix.staff),)
        FTE steps of each (unit, role) in ``ix.staff`` order.
    agency_fte, unmet_hours : ndarray, shape (len(ix.staff),)
    max_travel : float
        Longest trip [travel unit].
    objective : tuple
        (shortfall, first stage, second stage) as the search saw them.
    feasible : bool
        Whether every rule the heuristic knows of holds (the session still checks the rows).
    seconds : float
        Time it took [s].
    notes : list of str
        Why the plan is not feasible, when it is not.
    stopped : bool
        Whether ``stop`` ended the search early (the plan is the best found until then).
    work_used : float
        Units of work the search spent (deterministic; see ``_Work``).
    flows : ndarray or None
        ``contiguity_flow`` per arc (``hubs.contiguous``): each catchment's tree from its
        root, carrying the areas below each arc; ``None`` when the rule is off.
    whole : bool
        Whether to hand the plan to HiGHS whole when feasible. False when the fair-shortfall
        repair held hours back at better-served hubs: such a plan is feasible but poor, and
        HiGHS does much better completing the staffing itself from the hubs and areas (the
        demo under its cap: 92.6% of demand met at 30 s from the hubs and areas, 64.0% from
        the whole plan).
    """

    is_open: np.ndarray
    chosen: np.ndarray
    pair: np.ndarray
    steps: np.ndarray
    agency_fte: np.ndarray
    unmet_hours: np.ndarray
    max_travel: float
    objective: tuple
    feasible: bool
    seconds: float = 0.0
    notes: list = field(default_factory=list)
    stopped: bool = False
    work_used: float = 0.0
    whole: bool = True
    #: values of variable components some rules declare (e.g. the fair-shortfall level),
    #: by component, in key order
    extra: dict = field(default_factory=dict)
    flows: np.ndarray | None = None
    #: with an earlier plan given (:class:`mdtplan.inputs.prior.PriorPlan`): how it was fitted to the
    #: rules now in force (:func:`~.prior.prior_candidate`'s report) and ``chosen``, whether
    #: the plan returned grew from it rather than from a fresh candidate
    prior: dict | None = None


def _counts_to_try(inst: _Instance, k_lo: int, k_hi: int, most: int = 4) -> list:
    """Hub counts to try, best guess first, each with its supervision targets (or ``None``).

    With priced travel the count is left to the greedy step (``None``). With travel first,
    the most hubs first. Otherwise each count is scored by what its average hub would cost
    (staff unrounded, supervisors rounded up: the team manager a hub of that size needs), and
    the ``most`` cheapest are tried; the supervision target of a count is the supervised FTE
    its average hub's supervisors can take (the local search aims every hub at it).
    """
    if _priced(inst):
        return [(None, None)]
    if inst.stages[0] in ("travel", "max_travel"):
        return [(k, None) for k in range(k_hi, max(k_lo, k_hi - most + 1) - 1, -1)]
    r = inst.roles
    core = r.core
    ks = np.arange(max(k_lo, 1), k_hi + 1)
    if not len(ks):
        return []
    if not len(core):
        return [(int(k), None) for k in ks[:most]]
    total = inst.demand[:, core].sum(axis=0)
    avg = total[None, :] / ks[:, None]
    steps, need = unit_steps(avg, r, core, True, need=True)
    local = {int(p): i for i, p in enumerate(core)}
    sup_rules = {i: local[int(sup)] for i, (sup, _, _) in enumerate(r.rules)
                 if int(sup) in local}
    sups = sorted(set(sup_rules.values()))
    smooth = np.maximum(need, r.min_steps[core])
    if sups:
        smooth[:, sups] = steps[:, sups]
    per_hub = (smooth * (r.step[core] * r.cost[core])).sum(axis=1)
    estimate = ks * per_hub
    order = np.argsort(estimate, kind="stable")[:most]
    out = []
    for i in order:
        caps = {rule: float(steps[i, j] * r.rules[rule][2] * r.step[core][j])
                for rule, j in sup_rules.items()}
        out.append((int(ks[i]), caps or None))
    return out


def build_start(inp: StartInput, *, max_seconds: float = 10.0, max_dense: int = 4_000_000,
                seed: int = 0, stop: Callable[[], bool] | None = None,
                deterministic: bool = False, prior=None) -> StartPlan | None:
    """A complete heuristic plan for ``model`` (see the module docstring).

    Parameters
    ----------
    inp : StartInput
        The model's data, index, parameters in force (band, count, budget, demand scale),
        ``open_site`` bounds and stages (:meth:`StartInput.of_model` reads a built model).
    max_seconds : float
        Time for the search (hub counts tried and local search) [s]; the construction of a
        first plan is not cut short.
    max_dense : int
        Largest areas x sites for the dense travel matrix the hub choice uses.
    seed : int
        Seed of the random kicks of the iterated local search (same seed, same start).
    stop : callable, optional
        Polled as the search goes (e.g. a cancel flag's ``is_set``); when it returns true the
        search ends at once and the best plan so far is returned (the first plan is always
        made: it takes a fraction of a second).
    deterministic : bool
        Count only the units of work, without the wall-clock backstop (a reproducible solve:
        the same start whatever the machine's load).
    prior : mdtplan.inputs.prior.PriorPlan, optional
        An earlier plan (a what-if): fitted to the rules now in force and searched first,
        with half the work; the fresh candidates share the rest and the best is kept
        (:func:`~.prior.prior_candidate`).

    Returns
    -------
    StartPlan or None
        ``None`` when no assignment was found (e.g. an area with no open site in reach).
    """
    t0 = perf_counter()
    hard = not deterministic
    # the last fifth: the final search without the potential
    work = _Work(0.8 * max_seconds, stop, hard)
    ix = inp.ix
    if not ix.area_ids or not ix.site_ids or not len(ix.pairs):
        return None
    if len(ix.area_ids) * len(ix.site_ids) > max_dense:
        return None
    inst = _instance(inp)
    k_lo, k_hi = _count_range(inst)
    if k_lo > k_hi:
        return None
    prior_best = prior_key = prior_report = None
    if prior is not None:
        prior_best, prior_key, prior_report = prior_candidate(inst, ix, prior, work, k_lo, k_hi)
    counts = _counts_to_try(inst, k_lo, k_hi)
    best, best_key = _best_over_counts(inst, counts, work, max_seconds, stop, hard)
    if prior_best is not None and (best is None or not _better(best_key, prior_key)):
        best, best_key = prior_best, prior_key
    if best is not None and best_key[0] > 1e-9 and inst.travel and not work.over():
        # staff travel changes what each move costs, not the bands: when the search with the
        # trips priced leaves a hub outside its band, search the places without them and
        # price the trips on that plan (Kent's 182 MSOAs with contiguity needed it)
        plain = replace(inst, travel=False, pair_demand=inst.demand[inst.pair_area],
                        pair_mileage=np.zeros_like(inst.pair_mileage))
        alt, alt_key = _best_over_counts(plain, counts, work, max_seconds, stop, hard)
        if alt is not None and alt_key[0] <= 1e-9:
            again = _Search(inst, alt.is_open, alt.chosen, None, work)
            again.run(work.mark(0.5))
            if _better(again.totals(), best_key):
                best, best_key = again, again.totals()
    if best is not None and best_key[0] > 1e-9 and inst.root is not None and not work.over():
        best, best_key = _split_or_merge(inst, best, best_key, work, k_lo, k_hi)
    if best is None:
        return None
    if not work.over():
        best.run(work.mark(1.0))
        best_key = best.totals()
    # kicks pay where the first stage is the staircase of staff costs (or travel with staff);
    # not for unmet hours, whose search only follows cost as a proxy
    staffed = bool(len(inst.roles.core) or len(inst.roles.spec))
    if staffed and inst.stages[0] in ("cost_gbp", "travel"):
        best, best_key = _perturb(inst, best, best_key, work, seed)
    if staffed and best.cost_first and len(inst.stages) > 1 and not work.stopped:
        # last, without the potential: at the same cost, the next stage (travel) decides
        final = _Search(inst, best.is_open, best.chosen, None,
                        _Work(0.2 * max_seconds, stop, hard),
                        potential=False)
        final.run(final.work.mark(1.0))
        best, best_key = final, final.totals()
    stopped = work.stopped or best.work.stopped
    work_used = work.used + (best.work.used if best.work is not work else 0.0)
    is_open, chosen, pair = best.is_open, best.chosen, best.cur_pair
    steps, hours = _staffing(inst, ix, is_open, pair)
    levers = _with_levers(inp, inst, ix, is_open, pair, steps)
    people = None
    if levers is not None:
        people, steps, hours = levers
    notes = []
    feasible = best_key[0] <= 1e-9
    if not feasible:
        notes.append("band or capacity shortfall left")
    agency = _supply_agency(inst, ix, steps)
    unmet = np.zeros(len(steps))
    role_pos = {x: i for i, x in enumerate(ix.roles)}
    rp = np.array([role_pos[r] for _, r in ix.staff], dtype=int)
    over = agency is None or (inst.budget is not None and _plan_cost(
        inst, ix, is_open, pair, steps, agency) > inst.budget)
    if inst.unmet_allowed and over:
        cut = _fit_limits(inst, ix, is_open, pair, steps, hours)
        if cut is None:
            feasible = False
            notes.append("could not fit the budget and supply")
        else:
            steps = cut
            agency = _supply_agency(inst, ix, steps)
    if agency is None:
        feasible = False
        notes.append("supply limits exceed the agency share")
        agency = np.zeros(len(steps))
    if len(steps):
        capacity = inst.roles.prod[rp] * inst.roles.step[rp] * steps
        unmet = np.maximum(hours - capacity, 0.0)
        if not inst.unmet_allowed and (unmet > 1e-6).any():
            feasible = False
            notes.append("demand left unmet")
            unmet[:] = 0.0
    if inst.budget is not None and _plan_cost(inst, ix, is_open, pair, steps, agency) > (
            inst.budget + 1e-6):
        feasible = False
        notes.append("over the budget cap")
    max_travel = float(inst.pair_travel[pair].max())
    whole = True
    extra = {}
    if people is not None:
        extra["lever_people"] = people
    share = np.zeros(len(ix.pairs))
    share[pair] = 1.0
    spread = shortfall_values(inp, share, unmet)
    if spread is not None:
        extra, keeps, held = spread
        if not keeps:
            feasible = False
            notes.append("a hub's share of demand met is below the fair-shortfall limit")
        elif (held > unmet + 1e-9).any():
            notes.append("hours counted unmet at better-served hubs to keep the fair-shortfall "
                         "rule")
            unmet = held
            whole = False
    flows = None
    if inst.root is not None:
        if not all_connected(chosen, is_open, inst.root, inst.nbr_ptr, inst.nbr):
            feasible = False
            notes.append("a catchment in pieces")
        flows = plan_flows(inp, pair)
    return StartPlan(is_open=is_open.copy(), chosen=chosen.copy(), pair=pair.copy(),
                     steps=steps, agency_fte=agency, unmet_hours=unmet, max_travel=max_travel,
                     objective=best_key, feasible=feasible, seconds=perf_counter() - t0,
                     notes=notes, stopped=stopped, work_used=work_used, extra=extra,
                     flows=flows, whole=whole,
                     prior=None if prior_report is None else {
                         **prior_report, "chosen": _grew_from(best, prior_best)})


def _grew_from(best, prior_best) -> bool:
    """Whether the plan kept in the end (``best``, perhaps improved since) has the hubs of the
    earlier plan's candidate (the local search and its kicks never change the hubs)."""
    return prior_best is not None and bool(np.array_equal(best.is_open, prior_best.is_open))


#: shares of a lever's reach the start tries, largest first, when all of it does not fit
_LEVER_FRACTIONS = (1.0, 0.75, 0.5, 0.35, 0.2, 0.1)


def _with_levers(inp, inst, ix, is_open, pair, steps):
    """The plan with its hubs running the levers that pay, re-staffed: levers are added one
    at a time, the best worth per person first, each at the largest share of its reach
    (:data:`_LEVER_FRACTIONS`) that keeps the budget cap and the supply and lowers the cost
    net of the care saved; ``(people, steps, hours)``. With no lever taken, the people are
    all 0 and the staffing the plan's own. None without levers."""
    reach = lever_reach(inp, inst, is_open, pair)
    if reach is None:
        return None
    most, worth, key_lever = reach
    hours0 = _staffing(inst, ix, is_open, pair)[1]
    agency0 = _supply_agency(inst, ix, steps)
    best_people = np.zeros_like(most)
    best = (_plan_cost(inst, ix, is_open, pair, steps, agency0) if agency0 is not None
            else float("inf"), steps, hours0)

    def evaluate(people):
        fill = lever_fill(inp, inst, is_open, pair, people)
        _, extra_site, extra_pool, saving = fill
        steps_l, hours_l = _staffing(inst, ix, is_open, pair, extra_site, extra_pool)
        agency_l = _supply_agency(inst, ix, steps_l)
        if agency_l is None:
            return None
        cost_l = _plan_cost(inst, ix, is_open, pair, steps_l, agency_l)
        if inst.budget is not None and cost_l > inst.budget + 1e-6:
            return None
        return cost_l - saving, steps_l, hours_l

    for k in np.argsort(-worth, kind="stable"):
        if worth[k] <= 0:
            break
        mine = key_lever == k
        if not (most[mine] > 0).any():
            continue
        for frac in _LEVER_FRACTIONS:
            trial = best_people.copy()
            trial[mine] = frac * most[mine]
            got = evaluate(trial)
            if got is not None and got[0] < best[0] - 1e-6:
                best, best_people = got, trial
                break
    return best_people, best[1], best[2]


def _best_over_counts(inst: _Instance, counts, work: _Work, max_seconds: float,
                      stop, hard: bool = True) -> tuple:
    """The best search over the hub counts to try: (``_Search``, its key), or (None, None)."""
    best: _Search | None = None
    best_key = None
    D = _dense_cost(inst)
    for n, (target, caps) in enumerate(counts):
        if best is not None and work.over():
            break
        is_open = _choose_hubs(inst, target, work)
        pin = pinned(inst, is_open)
        if inst.root is not None:  # regions grown from each hub's own area
            chosen = grow(D, inst.weight, is_open, inst.room, inst.root, inst.nbr_ptr, inst.nbr)
        else:
            chosen = _assign_within_room(D, inst.weight, is_open, inst.room, inst.pmin, pin)
        if chosen is None:
            chosen = _nearest_open(D, is_open)
        if chosen is None:
            continue
        chosen = np.where(pin >= 0, pin, chosen)  # the areas open hubs stand in, always
        # share the work left between this count and the ones still to try
        share = 1.0 / (len(counts) - n)
        search = _Search(inst, is_open, chosen, caps, work)
        if caps:  # first towards the supervision targets, then on the plan's own terms
            search.run(work.mark(0.6 * share))
            search = _Search(inst, is_open, search.chosen, None, work)
            share = 0.4 * share / (1.0 - 0.6 * share)
        search.run(work.mark(share))
        key = search.totals()
        if key[0] > 1e-9 and inst.root is not None and not work.stopped:
            # contiguous and outside the band: grow evenly, then other hubs, on a budget of
            # their own (the search above may have spent this count's share)
            extra = _Work(0.3 * max_seconds / len(counts), stop, hard)
            even = grow_balanced(D, inst.weight, is_open, inst.room, inst.root, inst.nbr_ptr,
                                 inst.nbr)
            if even is not None:
                trial = _Search(inst, is_open, even, None, extra)
                trial.run(extra.mark(0.3))
                if _better(trial.totals(), key):
                    search, key = trial, trial.totals()
            if key[0] > 1e-9:
                search, key = _other_hubs(inst, D, target, search, key, extra)
            work.stopped = work.stopped or extra.stopped  # a stop is asked for once
        if best_key is None or _better(key, best_key):
            best, best_key = search, key
    return best, best_key


def _split_or_merge(inst: _Instance, best: _Search, key: tuple, work: _Work, k_lo: int,
                    k_hi: int, rounds: int = 4, tries: int = 6) -> tuple:
    """Contiguous catchments left outside the band: a hub over the maximum (hemmed in, its
    areas reachable by no neighbour with room) is split, a candidate site inside its
    catchment opened and the two grown over it again; a hub under the minimum is closed and
    its neighbours grow into its areas (:func:`~.contiguity.regrow`), as far as the hub
    count allows. Each change is kept when the search after it is better. Kent at 37 hubs
    (at most 38): one hub at 51,688 people, split into two, left no one outside the band."""
    D = _dense_cost(inst)
    for _ in range(rounds):
        if key[0] <= 1e-9 or work.over():
            break
        open_idx = np.flatnonzero(best.is_open)
        load = best.load[open_idx]
        over = open_idx[load > inst.room[open_idx] + 1e-9]
        under = open_idx[(load < inst.pmin - 1e-9) & ~inst.must_open[open_idx]]
        trials = []
        n_open = len(open_idx)
        if len(over) and n_open < k_hi:
            h = int(over[np.argmax(best.load[over] - inst.room[over])])
            region = np.flatnonzero(best.chosen == h)
            cands = np.flatnonzero(inst.may_open & ~best.is_open & np.isin(inst.root, region)
                                   & ~np.isin(inst.root, inst.root[best.is_open])
                                   & ~too_close(inst, best.is_open))
            cands = cands[np.argsort(D[inst.root[h], cands], kind="stable")][:tries]
            for c in cands:
                is_open = best.is_open.copy()
                is_open[c] = True
                chosen = best.chosen.copy()
                chosen[region] = -1
                chosen[inst.root[h]] = h
                trials.append((is_open, chosen))
        elif len(under) and n_open > k_lo:
            for h in under[np.argsort(best.load[under], kind="stable")][:tries]:
                is_open = best.is_open.copy()
                is_open[h] = False
                trials.append((is_open, best.chosen))
        found = None
        for n, (is_open, chosen) in enumerate(trials):
            if work.over():
                break
            grown = regrow(D, inst.weight, chosen, is_open, inst.room, inst.root, inst.nbr_ptr,
                           inst.nbr)
            if grown is None:
                continue
            trial = _Search(inst, is_open, grown, None, work)
            trial.run(work.mark(0.5 / (len(trials) - n)))
            k = trial.totals()
            if found is None or _better(k, found[1]):
                found = (trial, k)
        if found is None or not _better(found[1], key):
            break
        best, key = found
    return best, key


def _other_hubs(inst: _Instance, D: np.ndarray, target, search: _Search, key: tuple,
                work: _Work, tries: int = 6) -> tuple:
    """Contiguous catchments: a hub left outside the band is often hemmed in by its
    neighbours; close it (and never reopen it in these tries), choose the hubs again, grow
    and search, and keep the best plan."""
    banned = np.zeros(inst.n_s, dtype=bool)
    last = search
    for _ in range(tries):
        if key[0] <= 1e-9 or work.over():
            break
        open_idx = np.flatnonzero(last.is_open)
        v = last._violation(last.load[open_idx], open_idx)
        worst = open_idx[v > 1e-9]
        worst = worst[~inst.must_open[worst]]
        banned |= np.isin(inst.root, inst.root[worst])  # sites in the same area grow alike
        trial_inst = replace(inst, may_open=inst.may_open & ~banned)
        is_open = _choose_hubs(trial_inst, target, work)
        chosen = grow_balanced(D, inst.weight, is_open, inst.room, inst.root, inst.nbr_ptr,
                               inst.nbr)
        if chosen is None:
            continue
        trial = last = _Search(inst, is_open, chosen, None, work)
        trial.run(work.mark(1.0 / tries))
        k = trial.totals()
        if _better(k, key):
            search, key = trial, k
    return search, key


def _perturb(inst: _Instance, best: _Search, best_key: tuple, work: _Work, seed: int,
             max_stall: int = 40) -> tuple:
    """Iterated local search: move a few random areas to other open hubs in reach, search
    again, keep the result when it is better; stop when the work is spent or ``max_stall``
    kicks in a row found nothing better.

    The staircase of staff costs has many local optima that single moves and swaps cannot
    leave; a kick of about one area in eighty (two to ten) is enough to leave one.
    """
    rng = np.random.default_rng(seed)
    size = int(min(10, max(2, inst.n_a // 80)))
    stall = 0
    while not work.over() and stall < max_stall:
        trial = _Search(inst, best.is_open, best.chosen, None, work)
        for a in rng.choice(inst.n_a, size=min(size, inst.n_a), replace=False):
            row = inst.pair_index[a]
            sites = np.flatnonzero((row >= 0) & best.is_open)
            sites = sites[sites != trial.chosen[a]]
            if len(sites) and trial.count[trial.chosen[a]] > 1 and not trial.held[a]:
                t = int(rng.choice(sites))
                s = int(trial.chosen[a])
                trial._move(int(a), t, int(row[t]))
                if inst.root is not None and not (
                        connected(trial.chosen, s, int(inst.root[s]), inst.nbr_ptr, inst.nbr)
                        and connected(trial.chosen, t, int(inst.root[t]), inst.nbr_ptr,
                                      inst.nbr)):
                    trial._move(int(a), s, int(inst.pair_index[a, s]))  # would split: undo
        trial._recount()
        trial.run(work.mark(1.0))
        key = trial.totals()
        if _better(key, best_key):
            best, best_key, stall = trial, key, 0
        else:
            stall += 1
    return best, best_key

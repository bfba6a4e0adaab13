"""A what-if's start from an earlier plan (mdtplan.solve.start.prior, mdtplan.inputs.prior).

The earlier plan is fitted to the rules now in force (closed sites shut, the hub count within
its limits) and searched around; the plan returned keeps every rule (tests/checker.py), keeps
what the change did not touch, and is never worse than the earlier plan when nothing changed.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from checker import check_plan

from mdtplan.inputs.prior import PriorPlan
from mdtplan.model.build import build_model
from mdtplan.solve import Session, SolveOptions, extract_tables
from mdtplan.solve.start import StartInput, build_start, start_values
from model import random_data


def _data(seed: int):
    return random_data(np.random.default_rng(seed), n_areas=36, n_sites=9, n_roles=3,
                       objective="min_cost", assignment="single", band=True, budget=False,
                       count=True, capacity=False, supply=False, reach=None)


@pytest.fixture(scope="module")
def solved():
    """A random instance whose fresh start is feasible with three hubs or more, fewer of them
    required, and that start (the 'earlier plan')."""
    for seed in range(40):
        data = _data(seed)
        required = int((data.sites["status"] == "required").sum())
        model = build_model(data)
        plan = build_start(StartInput.of_model(model), max_seconds=1.0)
        if plan is not None and plan.feasible and plan.is_open.sum() >= max(3, required + 1):
            return data, model, plan
    pytest.fail("no random instance with a feasible start of three hubs or more")


def _prior(model, plan, source="the test's plan") -> PriorPlan:
    ix = model.mdtplan_index
    sites = [ix.site_ids[j] for j in np.flatnonzero(plan.is_open)]
    serving = {ix.area_ids[i]: ix.site_ids[int(s)] for i, s in enumerate(plan.chosen)}
    return PriorPlan(open_sites=tuple(sites), serving=serving, source=source)


def _tables(model, data, plan):
    for var, value in start_values(model, plan).items():
        var.set_value(value, skip_validation=True)
    return extract_tables(model, data)


def test_nothing_changed_keeps_the_earlier_plan_or_better(solved):
    data, model, plan = solved
    again = build_start(StartInput.of_model(model), max_seconds=1.0,
                        prior=_prior(model, plan))
    assert again.feasible and check_plan(data, _tables(model, data, again)) == []
    report = again.prior
    n = int(plan.is_open.sum())
    assert report["matched"] == {"sites": n, "sites_given": n, "areas": len(plan.chosen),
                                 "areas_given": len(plan.chosen)}
    assert (report["hubs_kept"], report["hubs_added"], report["hubs_dropped"]) == (n, 0, 0)
    assert report["areas_moved"] == 0
    # the search around it only improves: never worse on the first stage
    assert again.objective[1] <= plan.objective[1] * (1 + 1e-9) + 1e-6


def test_a_lower_hub_count_drops_one_hub_and_keeps_the_others(solved):
    data, model, plan = solved
    n = int(plan.is_open.sum())
    fewer = replace(data, hub_count_max=n - 1, hub_count_min=min(data.hub_count_min, n - 1),
                    hub_population_max=None, hub_population_min=None)
    m2 = build_model(fewer)
    got = build_start(StartInput.of_model(m2), max_seconds=1.0, prior=_prior(model, plan))
    assert got is not None and got.feasible, got and got.notes
    assert check_plan(fewer, _tables(m2, fewer, got)) == []
    assert got.is_open.sum() <= n - 1
    assert got.prior["hubs_dropped"] >= 1 and got.prior["hubs_added"] == 0
    if got.prior["chosen"]:  # the plan kept grew from the earlier one: a subset of its hubs
        assert not (got.is_open & ~plan.is_open).any()


def test_a_closed_site_is_shut_and_its_areas_served_elsewhere(solved):
    data, model, plan = solved
    status = data.sites["status"]
    open_ids = [model.mdtplan_index.site_ids[j] for j in np.flatnonzero(plan.is_open)]
    shut = next(s for s in open_ids if status[s] != "required")
    inp = StartInput.of_model(model)
    j = list(model.mdtplan_index.site_ids).index(shut)
    inp.site_upper[j] = 0.0  # as a site the scenario excludes
    got = build_start(inp, max_seconds=1.0, prior=_prior(model, plan))
    assert got is not None and not got.is_open[j]
    assert (got.chosen != j).all()
    assert got.prior["hubs_kept"] >= int(plan.is_open.sum()) - 1 - got.prior["hubs_dropped"]
    assert got.prior["areas_moved"] >= int((plan.chosen == j).sum())  # its areas, at least


def test_a_plan_of_other_ids_is_counted_and_the_fresh_start_used(solved):
    data, model, plan = solved
    stranger = PriorPlan(open_sites=("X1", "X2"), serving={"Z9": "X1"}, source="elsewhere")
    got = build_start(StartInput.of_model(model), max_seconds=1.0, prior=stranger)
    assert got.prior["matched"] == {"sites": 0, "sites_given": 2, "areas": 0, "areas_given": 1}
    assert got.prior["chosen"] is False
    assert got.feasible


def test_a_session_started_from_an_earlier_plan_says_so(solved):
    data, model, plan = solved
    session = Session(build_model(data), SolveOptions(mip_gap=0.0, threads=1,
                                                      time_limit_s=30.0))
    try:
        result = session.solve(warm_start=_prior(model, plan, "out/base"))
    finally:
        session.close()
    assert result.has_solution
    started = result.start_from
    assert started["source"] == "out/base" and started["chosen"] is True
    assert started["start_feasible"] is True
    # the start handed over is the earlier plan's (or better) on the first stage
    assert started["start_objective"] <= plan.objective[1] * (1 + 1e-6) + 1e-4
    assert result.objective <= started["start_objective"] + 1e-6


def test_regrow_keeps_the_catchments_a_closed_hub_did_not_touch():
    """Nine areas in a row, hubs standing in areas 1, 4 and 7, each serving three; the middle
    hub closes: its areas go to the neighbours' catchments, which stay in one piece, and no
    other area changes hub."""
    from mdtplan.solve.start.contiguity import all_connected, regrow

    n = 9
    ptr = np.array([0] + [int(i > 0) + int(i < n - 1) for i in range(n)]).cumsum()
    nbr = np.array([j for i in range(n) for j in (i - 1, i + 1) if 0 <= j < n])
    root = np.array([1, 4, 7])
    D = np.abs(np.arange(n)[:, None] - root[None, :]).astype(float)
    earlier = np.repeat([0, 1, 2], 3)
    is_open = np.array([True, False, True])
    got = regrow(D, np.ones(n), earlier, is_open, np.full(3, np.inf), root, ptr, nbr)
    assert got is not None and all_connected(got, is_open, root, ptr, nbr)
    assert got[:3].tolist() == [0, 0, 0] and got[6:].tolist() == [2, 2, 2]
    assert got[3] == 0 and got[5] == 2 and got[4] in (0, 2)
    # a hub opened where another's catchment was: it takes its own area, and the piece cut
    # off from the other hub's root is grown into again
    opened = np.array([True, True, True])
    earlier = np.array([0, 0, 0, 0, 0, 0, 2, 2, 2])  # hub 0 served 0-5 while hub 1 was shut
    got = regrow(D, np.ones(n), earlier, opened, np.full(3, np.inf), root, ptr, nbr)
    assert got is not None and all_connected(got, opened, root, ptr, nbr)
    assert got[4] == 1 and got[:4].tolist() == [0, 0, 0, 0] and got[6:].tolist() == [2, 2, 2]


def test_a_closed_hubs_catchment_moves_whole_to_a_site_inside_it():
    """Nine areas in a row; hubs in areas 1, 4 and 7 serve three each; the hub in area 4
    closes and a candidate stands in area 5, inside its catchment: the candidate opens and
    takes the catchment whole (its people stay within the band as they were), and a
    catchment whose hub is still open is left alone."""
    from types import SimpleNamespace

    from mdtplan.solve.start.prior import relocate

    n = 9
    root = np.array([1, 4, 7, 5, 0])  # sites 3 (area 5) and 4 (area 0) are candidates
    D = np.abs(np.arange(n)[:, None] - root[None, :]).astype(float)
    inst = SimpleNamespace(dense_cost=D, conflict=None, root=root, n_a=n, n_s=5,
                           may_open=np.array([True, False, True, True, True]))
    earlier = np.repeat([0, 1, 2], 3)
    catchments = earlier.copy()  # the earlier plan's hubs in order: sites 0, 1, 2
    is_open = np.array([True, False, True, False, False])
    chosen = np.where(is_open[earlier], earlier, -1)
    opened, assigned = relocate(inst, is_open, chosen, catchments)
    assert opened.tolist() == [True, False, True, True, False]
    assert assigned.tolist() == [0, 0, 0, 3, 3, 3, 2, 2, 2]
    # with no site inside the closed catchment, nothing moves (the fits add or drop hubs)
    inst.may_open = np.array([True, False, True, False, True])
    opened, assigned = relocate(inst, is_open, chosen, catchments)
    assert opened.tolist() == is_open.tolist() and (assigned[3:6] == -1).all()


@pytest.mark.parametrize("seed", range(20))
def test_drop_loss_is_what_closing_each_hub_costs(seed):
    """One pass over the areas gives, for every open hub, what its areas cost more from their
    next hub: the same as closing each hub in turn (ties and repeated costs included)."""
    from mdtplan.solve.start.prior import drop_loss

    rng = np.random.default_rng(seed)
    n_a, n_h = int(rng.integers(1, 30)), int(rng.integers(1, 7))
    cost = rng.integers(0, 6, size=(n_a, n_h)).astype(float)  # small integers: many ties
    brute = np.array([np.delete(cost, h, axis=1).min(axis=1).sum() - cost.min(axis=1).sum()
                      if n_h > 1 else np.inf for h in range(n_h)])
    np.testing.assert_allclose(drop_loss(cost), brute)

"""Single assignment solved as continuous where that is provably exact (mdtplan.solve.relax).

Against the binary model on random instances (the same optimum at every stage, the rounded plan
feasible and single-assigned, by the independent checker); the rounding itself on a hand-made
fractional plan; and one test per rule family that reads the assignment, which must keep the
binaries.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from mdtplan.model.checks import check_data
from mdtplan.model.data import LeverData, empty_roles
from mdtplan.model.index import index_data
from mdtplan.solve import Session, SolveOptions
from mdtplan.solve.relax import plan_relaxation, round_plan
from tests.checker import check_plan

from . import random_data, tiny_data

OPTS = SolveOptions(mip_gap=0.0, time_limit_s=60.0, threads=1)


def _uncoupled(seed: int, objective: str) -> object:
    """A random location problem that no rule but the structure and the objective couples:
    no roles, no band, no capacity; integer travel so that ties happen."""
    rng = np.random.default_rng(seed)
    data = random_data(rng, n_areas=int(rng.integers(5, 16)), n_sites=int(rng.integers(2, 7)),
                       n_roles=0, objective=objective, assignment="single", band=False,
                       budget=False, count=True, capacity=False, supply=False,
                       reach=18.0 if rng.random() < 0.5 else None)
    pairs = data.pairs.copy()
    pairs["travel_cost"] = np.round(pairs["travel_cost"] / 5.0)  # many ties
    return replace(data, pairs=pairs, travel_cost_gbp_per_unit=float(rng.choice([0.0, 2.0])))


def _solve(data, relax: bool):
    ix = index_data(data)
    check_data(data, ix)
    session = Session.from_data(data, OPTS, ix=ix)
    session.relax_assignment = relax
    try:
        result = session.solve()
        tables = session.tables(data) if result.has_solution else None
        return result, tables, session.relaxation_report
    finally:
        session.close()


@pytest.mark.parametrize("seed", range(12))
def test_the_relaxed_model_has_the_binary_optimum_and_a_single_assigned_plan(seed):
    data = _uncoupled(seed, ("min_travel", "min_cost")[seed % 2])
    relaxed, tables, report = _solve(data, True)
    binary, _, binary_report = _solve(data, False)
    assert report["relaxed"] and relaxed.assignment_relaxed, report
    assert not binary_report["relaxed"] and not binary.assignment_relaxed
    assert relaxed.status.value == binary.status.value == "optimal"
    for stage, value in binary.stage_objectives.items():  # every stage, not only the first
        assert relaxed.stage_objectives[stage] == pytest.approx(value, rel=1e-9, abs=1e-6)
    assert report["objective_change"] <= 1e-6
    share = tables["assignment"]["share"].to_numpy(dtype=float)
    assert np.all(share == 1.0)  # one hub per area, whole
    assert tables["assignment"]["area_id"].is_unique
    assert set(tables["assignment"]["area_id"]) == set(data.areas.index)
    assert check_plan(data, tables) == []


def test_an_orlib_p_median_is_relaxed_and_solved_to_its_optimum(orlib_dir):
    from mdtplan.orlib import pmed_model_data, read_pmed

    data = pmed_model_data(read_pmed(orlib_dir / "pmed" / "pmed1.txt"))
    result, tables, report = _solve(data, True)
    assert report["relaxed"]
    assert report["columns"] == 100 * 100
    assert result.objective == pytest.approx(5819)
    assert check_plan(data, tables) == []
    assert np.all(tables["assignment"]["share"].to_numpy() == 1.0)


def test_rounding_sends_each_area_to_its_nearest_open_hub_among_those_it_uses():
    data = _uncoupled(3, "min_travel")
    session = Session.from_data(data, OPTS)
    try:
        from mdtplan.solve import relax

        rel = relax.prepare(session)
        assert rel.relaxed
        ix = session._source.mdtplan_index
        n = len(session.compiled.col_lower)
        x = np.zeros(n)
        x[session._family_columns("open_site", ix.site_ids)] = 1.0  # every hub open
        cols = session._family_columns("assign", ix.pairs)
        for ks in ix.pairs_by_area.values():
            x[cols[ks]] = 1.0 / len(ks)  # spread evenly over every hub it may use
        before = session._stages[0][1] @ x
        y = round_plan(session, x)
        for ks in ix.pairs_by_area.values():
            got = y[cols[ks]]
            assert sorted(got.tolist())[-1] == 1.0 and got.sum() == 1.0
            travel = ix.travel_cost[ks]
            chosen = int(np.flatnonzero(got)[0])
            assert travel[chosen] == travel.min()
            assert chosen == int(np.argmin(travel))  # ties: the first pair in order
        assert session._stages[0][1] @ y <= before + 1e-9
        # a hub it does not use is never chosen, even when nearer
        area, ks = next((a, k) for a, k in ix.pairs_by_area.items() if len(k) > 1)
        near = int(np.argmin(ix.travel_cost[ks]))
        x[cols[ks]] = 0.0
        far = [j for j in range(len(ks)) if j != near]
        x[cols[ks[far]]] = 1.0 / len(far)
        y = round_plan(session, x)
        assert y[cols[ks[near]]] == 0.0 and y[cols[ks]].sum() == 1.0
    finally:
        session.close()


# -- the binaries stay whenever a rule reads the assignment -------------------------------------


def _plain():
    """tiny_data without roles: a location problem the relaxation applies to."""
    base = tiny_data()
    return replace(base, roles=empty_roles(), demand_hours=pd.DataFrame(index=base.areas.index),
                   objective="min_travel", hub_count_min=1, hub_count_max=1)


def _verdict(data):
    session = Session.from_data(data, OPTS)
    try:
        return plan_relaxation(session)
    finally:
        session.close()


def test_the_plain_problem_is_relaxed():
    rel = _verdict(_plain())
    assert rel.relaxed, rel.reason


def _sites_in_areas(data):
    sites = data.sites.copy()
    sites["area_id"] = pd.array(["A1", "A3"], dtype="string")
    return sites


def _edges():
    return pd.DataFrame({"area_a": ["A1", "A2"], "area_b": ["A2", "A3"], "kind": "boundary"})


def _levers(data):
    ids = ["L1"]
    return LeverData(cohort=pd.DataFrame({"L1": [10.0, 20.0, 30.0]}, index=data.areas.index),
                     hours=pd.DataFrame({"sw": [2.0]}, index=ids),
                     saving_gbp=pd.Series([1000.0], index=ids),
                     max_share=pd.Series([0.5], index=ids))


COUPLED = {
    # family name expected in the reason -> the data that builds it
    "hub_population_min": lambda d: replace(d, hub_population_min=5_000.0),
    "hub_population_max": lambda d: replace(d, hub_population_max=50_000.0),
    "site_capacity": lambda d: replace(d, sites=d.sites.assign(capacity=[40_000.0, 40_000.0])),
    "site_capacity_fte": lambda d: replace(
        tiny_data(objective="min_travel"),
        sites=tiny_data().sites.assign(capacity_fte=[20.0, 20.0])),
    "core_demand_covered": lambda d: tiny_data(objective="min_travel"),
    "pool_demand_covered": lambda d: tiny_data(objective="min_travel"),
    "hub_serves_own_area": lambda d: replace(d, serve_own_area=True,
                                             sites=_sites_in_areas(d)),
    "catchment_contiguous": lambda d: replace(d, contiguous=True, edges=_edges(),
                                              sites=_sites_in_areas(d)),
    "max_travel_bound": lambda d: replace(d, objective="min_max_travel"),
    "hub_shortfall_spread": lambda d: tiny_data(objective="max_demand_met",
                                                max_shortfall_spread=0.1),
    "lever_reach": lambda d: replace(tiny_data(objective="min_cost"),
                                     levers=_levers(tiny_data())),
}


@pytest.mark.parametrize("family", sorted(COUPLED))
def test_a_rule_that_reads_the_assignment_keeps_it_binary(family):
    data = COUPLED[family](_plain())
    ix = index_data(data)
    session = Session.from_data(data, OPTS, ix=ix)
    try:
        families = set(session._mm.row_family)
        rel = plan_relaxation(session)
    finally:
        session.close()
    assert family in families, f"{family} was not built: {sorted(families)}"
    assert not rel.relaxed
    assert "read" in rel.reason


def test_split_assignment_is_already_continuous():
    rel = _verdict(replace(_plain(), assignment="split"))
    assert not rel.relaxed and "split" in rel.reason


def test_a_coupled_model_solves_with_its_binaries():
    """With a band, the solve reports no relaxation and the plan is the binary model's."""
    data = replace(_plain(), hub_population_max=50_000.0, hub_count_max=2)
    result, tables, report = _solve(data, True)
    assert result.has_solution and not result.assignment_relaxed
    assert not report["relaxed"] and "hub_population_max" in report["reason"]
    assert check_plan(data, tables) == []


def test_a_session_on_the_pyomo_model_is_relaxed_the_same_way():
    from mdtplan.model.build import build_model

    data = _uncoupled(5, "min_cost")
    session = Session(build_model(data), OPTS)
    try:
        result = session.solve()
        report = session.relaxation_report
        tables = session.tables(data)
    finally:
        session.close()
    binary, _, _ = _solve(data, False)
    assert report["relaxed"] and result.assignment_relaxed
    assert result.objective == pytest.approx(binary.objective, rel=1e-9, abs=1e-6)
    assert check_plan(data, tables) == []


def _integral_pmedian(seed: int):
    """A random p-median of whole-number distances (population 1): its objective is a whole
    number on every plan, and its optimum is found by trying every set of p hubs."""
    from itertools import combinations

    from mdtplan.orlib import PMedianInstance, pmed_model_data

    rng = np.random.default_rng(seed)
    n, p = int(rng.integers(8, 14)), int(rng.integers(2, 4))
    xy = rng.random((n, 2)) * 50
    dist = np.ceil(np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1)))
    best = min(dist[:, list(c)].min(axis=1).sum() for c in combinations(range(n), p))
    return pmed_model_data(PMedianInstance(f"int{seed}", n, p, dist)), float(best)


@pytest.mark.parametrize("seed", range(8))
def test_a_whole_number_objective_is_proven_with_an_absolute_gap_under_one(seed):
    """The relaxed p-median's travel stage is a whole number on every plan HiGHS keeps, so
    the stage is solved with an absolute gap just under 1 (exact: no whole number lies
    between the bound and the plan) and its bound rounded up: the optimum of every subset
    of p hubs, proven (gap 0, bound = plan)."""
    from mdtplan.solve.stages import whole_number_gap

    data, best = _integral_pmedian(seed)
    ix = index_data(data)
    check_data(data, ix)
    session = Session.from_data(data, OPTS, ix=ix)
    try:
        result = session.solve()
        stage, vec, offset, _ = session._stages[0]
        gap = whole_number_gap(session, vec, offset)
        assert stage == "travel" and gap is not None and 0.99 < gap < 1.0
        assert session.relaxation_report["relaxed"]
        assert result.status.value == "optimal"
        assert result.objective == pytest.approx(best, abs=1e-6)
        assert result.stage_gaps["travel"] == 0.0
        assert result.stage_bounds["travel"] == pytest.approx(best, abs=1e-6)
        # later solves on the same instance are asked HiGHS's own absolute gap again
        got = session.highs.getOptionValue("mip_abs_gap")
        assert (got[1] if isinstance(got, tuple) else got) == pytest.approx(1e-6)
    finally:
        session.close()


def test_an_objective_with_fractional_prices_or_large_prices_is_not_given_the_gap():
    from mdtplan.solve.stages import integral_bound, whole_number_gap

    data, _ = _integral_pmedian(0)
    pairs = data.pairs.copy()
    pairs["travel_cost"] = pairs["travel_cost"] + 0.5  # half units: not whole
    session = Session.from_data(replace(data, pairs=pairs), OPTS)
    try:
        _, vec, offset, _ = session._stages[0]
        assert whole_number_gap(session, vec, offset) is None
        assert whole_number_gap(session, np.round(vec), 0.0) is not None
        assert whole_number_gap(session, np.round(vec), 0.5) is None  # a fractional constant
    finally:
        session.close()
    # whole pounds on whole FTE steps: a whole number, but HiGHS's tolerances alone can move
    # it by more than the gap would allow, so the stage keeps HiGHS's own
    session = Session.from_data(tiny_data(), OPTS)
    try:
        stage, vec, offset, _ = session._stages[0]
        assert stage == "cost_gbp" and whole_number_gap(session, vec, offset) is None
        assert whole_number_gap(session, vec / 10_000.0, 0.0) is not None  # small prices
    finally:
        session.close()
    assert integral_bound(10.0, 9.2) == 10.0  # the optimum is whole: at least 10
    assert integral_bound(12.0, 9.2) == 10.0
    assert integral_bound(12.0, 9.0) == 9.0
    assert integral_bound(12.0, None) is None

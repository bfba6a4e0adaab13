"""Assignment: served once, only open hubs, single vs split (tiny fixture, see __init__)."""

from __future__ import annotations

import pytest
from checker import check_plan, plan_cost_gbp, plan_travel

from mdtplan.solve import SolveStatus

from . import solve_data, tiny_data


def test_min_cost_opens_one_hub_and_breaks_the_tie_on_travel():
    # One hub costs 580,000 (sw 6 FTE + ot 3 FTE + one site); two cost 680,000. S1 and S2 tie
    # on cost; the travel stage picks S2 (550,000 person-minutes against S1's 1,000,000).
    result, tables, _ = solve_data(tiny_data())
    assert result.status is SolveStatus.optimal
    assert result.objective == pytest.approx(580_000)
    assert result.stage_objectives["travel"] == pytest.approx(550_000)
    assert check_plan(tiny_data(), tables) == []
    hubs = tables["hubs"]
    assert list(hubs.loc[hubs["open"], "site_id"]) == ["S2"]
    assert set(tables["assignment"]["site_id"]) == {"S2"}
    assert plan_cost_gbp(tiny_data(), tables) == pytest.approx(580_000)
    assert plan_travel(tiny_data(), tables) == pytest.approx(550_000)


def test_every_area_served_exactly_once_single():
    _, tables, _ = solve_data(tiny_data(objective="min_travel"))
    shares = tables["assignment"].groupby("area_id")["share"].sum()
    assert (shares == 1.0).all()
    assert set(tables["assignment"]["share"]) == {1.0}


def test_min_travel_opens_both_hubs_and_sends_each_area_to_its_nearest():
    # With no count limit min_travel opens both: A1->S1 (5), A2 tie (10), A3->S2 (5):
    # 10,000*5 + 20,000*10 + 30,000*5 = 400,000. The cost stage then settles A2 (no cost
    # difference: sw hours 3,000 either way) and the plan costs 680,000.
    data = tiny_data(objective="min_travel")
    result, tables, _ = solve_data(data)
    assert result.objective == pytest.approx(400_000)
    assert result.stage_objectives["cost_gbp"] == pytest.approx(680_000)
    got = dict(zip(tables["assignment"]["area_id"], tables["assignment"]["site_id"],
                   strict=True))
    assert got["A1"] == "S1" and got["A3"] == "S2"
    assert check_plan(data, tables) == []


def test_assign_only_open_with_one_hub_forced():
    # exactly one hub: min_travel picks S2 (550,000 < 1,000,000) and every area goes there
    data = tiny_data(objective="min_travel", hub_count_min=1, hub_count_max=1)
    result, tables, _ = solve_data(data)
    assert result.objective == pytest.approx(550_000)
    assert set(tables["assignment"]["site_id"]) == {"S2"}
    assert check_plan(data, tables) == []


def test_split_assignment_divides_an_area():
    # Band max 25,000 per hub with split shares: 60,000 people need 3 hubs' worth... only two
    # sites, so cap at 30,000: A3 (30,000) fills S2, A1+A2 (30,000) fill S1. With max 28,000
    # single assignment is infeasible (A3 alone is 30,000) but split works: A3 must divide.
    single = tiny_data(objective="min_travel", hub_population_max=30_000.0)
    result, tables, _ = solve_data(single)
    assert result.status is SolveStatus.optimal
    # A1,A2 -> S1 (50,000 + 200,000), A3 -> S2 (150,000)
    assert result.objective == pytest.approx(400_000)

    data = tiny_data(objective="min_travel", hub_population_max=31_000.0, assignment="split",
                     hub_population_min=29_000.0)
    result, tables, _ = solve_data(data)
    assert result.status is SolveStatus.optimal
    assert check_plan(data, tables) == []
    shares = tables["assignment"].groupby("area_id")["share"].sum()
    assert shares.round(9).eq(1.0).all()


def test_p_center_minimises_the_longest_trip():
    # both hubs: the longest trip is A2's 10 minutes; one hub: S2 (A1 travels 20) beats S1
    # (A3 travels 25). Ties on the longest trip are broken by total travel, then cost.
    data = tiny_data(objective="min_max_travel")
    result, tables, _ = solve_data(data)
    assert result.objective == pytest.approx(10)
    assert result.stage_objectives["travel"] == pytest.approx(400_000)
    assert list(result.stage_objectives) == ["max_travel", "travel", "cost_gbp"]
    assert check_plan(data, tables) == []
    one = tiny_data(objective="min_max_travel", hub_count_min=1, hub_count_max=1)
    result, tables, _ = solve_data(one)
    assert result.objective == pytest.approx(20)
    assert list(tables["hubs"].loc[tables["hubs"]["open"], "site_id"]) == ["S2"]

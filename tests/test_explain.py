"""Why no plan exists, and what binding rules are worth (worked out on the tiny instance).

See tests/model/__init__.py for the instance: one hub staffed for all demand costs 580,000;
sw 6 FTE, ot 3 FTE.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from model import tiny_data, with_roles

from mdtplan.explain import budget_floor, explain_infeasible, marginal_summary
from mdtplan.model.build import build_model
from mdtplan.solve import Session, SolveOptions, SolveStatus

OPTS = SolveOptions(time_limit_s=20, mip_gap=0.0)


def _solve_status(data):
    session = Session(build_model(data), OPTS)
    try:
        return session.solve().status
    finally:
        session.close()


def test_budget_too_small_names_the_budget_and_the_shortfall():
    data = tiny_data(budget_cap_gbp=300_000.0)  # min_cost: all demand must be met
    assert _solve_status(data) == SolveStatus.infeasible
    problems = explain_infeasible(data, OPTS)
    budget = [p for p in problems if p.column == "budget.cap"]
    assert budget, [str(p) for p in problems]
    # least cost of a plan meeting every other rule is 580,000: short by 280,000
    assert "£280,000 below" in budget[0].message
    assert "£580,000" in budget[0].hint


def test_unreachable_band_names_the_population_minimum():
    # A1 may only go to S1 and A2 only to S2; A3 (30,000) joins one of them. So one hub serves
    # 10,000 or 20,000 people: a 25,000 minimum with two hubs cannot hold, although counting
    # alone (60,000 >= 2 x 25,000) does not show it. Best: S1 {A1, A3} 40,000, S2 {A2} 20,000,
    # 5,000 short.
    data = tiny_data(hub_population_min=25_000.0, hub_count_min=2, hub_count_max=2)
    drop = (((data.pairs.area_id == "A2") & (data.pairs.site_id == "S1"))
            | ((data.pairs.area_id == "A1") & (data.pairs.site_id == "S2")))
    data = replace(data, pairs=data.pairs[~drop].reset_index(drop=True))
    assert _solve_status(data) == SolveStatus.infeasible
    problems = explain_infeasible(data, OPTS)
    band = [p for p in problems if p.column == "hubs.population.min"]
    assert band, [str(p) for p in problems]
    assert "5,000" in band[0].message            # S2 falls 5,000 people short
    assert "S2" in (band[0].row or "")
    assert "20,000" in band[0].hint              # the minimum that would work


def test_short_supply_names_the_workforce_and_the_gap():
    # 6 sw FTE are needed; 4 can be employed and no agency staff may be used
    data = with_roles(tiny_data(supply_fte={"sw": 4.0}), max_agency_share={"sw": 0.0})
    assert _solve_status(data) == SolveStatus.infeasible
    problems = explain_infeasible(data, OPTS)
    supply = [p for p in problems if p.column == "workforce"]
    assert supply, [str(p) for p in problems]
    assert "sw: 2.0 FTE" in supply[0].message


def test_counting_conflicts_come_back_without_solving():
    data = tiny_data(hub_population_max=20_000.0, hub_count_max=2)  # 60,000 > 2 x 20,000
    problems = explain_infeasible(data, OPTS)
    assert problems[0].column == "hubs.population.max"
    assert "60,000" in problems[0].message


def test_budget_floor_is_a_lower_bound():
    data = tiny_data()
    cost, k = budget_floor(data)
    assert k == 1
    assert cost == pytest.approx(1 * 50_000 + 100_000)  # 1 sw minimum + the cheapest site
    assert cost <= 580_000


def test_marginal_value_of_budget_under_max_demand_met():
    # 400,000: one hub (100,000) leaves 300,000 for staff; every extra 100,000 buys 2 sw FTE
    # (or 1.67 ot FTE) = about 2,000 hours of unmet demand met, with the plan's hubs fixed.
    data = tiny_data(objective="max_demand_met", budget_cap_gbp=400_000.0)
    session = Session(build_model(data), OPTS)
    try:
        res = session.solve()
        assert res.has_solution
        out = marginal_summary(session, data)
    finally:
        session.close()
    change = out["per_100k_budget"]["change"]
    assert change == pytest.approx(-2_000.0, rel=0.2)
    assert out["binding"]["budget_cap"]["rows_binding"] == 1

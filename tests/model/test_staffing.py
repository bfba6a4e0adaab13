"""Staffing: MDT minimum, demand coverage, capacity FTE, agency, supervision."""

from __future__ import annotations

import numpy as np
import pytest
from checker import check_plan

from mdtplan.solve import SolveStatus

from . import add_team_manager, solve_data, tiny_data, with_roles, with_sites


def test_demand_is_covered_in_fte_steps():
    # one hub (S2): sw 6,000 h / 1,000 h = 6 FTE; ot 3,000 h = 3 FTE in the pool "all"
    _, tables, _ = solve_data(tiny_data())
    staff = tables["staffing"].set_index(["unit", "role"])
    assert staff.loc[("S2", "sw"), "fte"] == 6.0
    assert staff.loc[("all", "ot"), "fte"] == 3.0
    assert staff["unmet_hours"].sum() == 0.0
    assert staff.loc[("S2", "sw"), "demand_hours"] == pytest.approx(6000)


def test_fte_rounds_up_to_the_step():
    # ot step 0.5 -> demand 3,100 h needs 3.5 FTE (210,000), cost 300k + 210k + 100k
    data = tiny_data()
    demand = data.demand_hours.copy()
    demand.loc["A1", "ot"] = 600.0
    from dataclasses import replace
    data = replace(data, demand_hours=demand)
    result, tables, _ = solve_data(data)
    assert result.objective == pytest.approx(610_000)
    assert check_plan(data, tables) == []


def test_core_minimum_fte_at_every_open_hub():
    # band forces two hubs; sw min 4 FTE per hub: S1 4 (needs 3), S2 4 (needs 3): 8 sw FTE,
    # 400,000 + ot 180,000 + sites 200,000 = 780,000
    data = with_roles(tiny_data(hub_population_max=40_000.0), min_fte_per_hub={"sw": 4.0})
    result, tables, _ = solve_data(data)
    assert result.objective == pytest.approx(780_000)
    sw = tables["staffing"].query("role == 'sw'").set_index("unit")["fte"]
    assert sw["S1"] == 4.0 and sw["S2"] == 4.0
    assert check_plan(data, tables) == []


def test_site_capacity_fte_moves_the_hub():
    # S2 holds at most 5 core FTE but a lone hub needs 6 sw: S1 alone (580,000) beats two hubs
    data = with_sites(tiny_data(), capacity_fte=[np.nan, 5.0])
    result, tables, _ = solve_data(data)
    assert result.objective == pytest.approx(580_000)
    assert list(tables["hubs"].loc[tables["hubs"]["open"], "site_id"]) == ["S1"]
    assert check_plan(data, tables) == []


def test_workforce_supply_is_filled_by_agency_at_a_premium():
    # only 4 permanent sw can be employed; 2 more come from an agency at +50%:
    # 6 x 50,000 + 2 x 25,000 + ot 180,000 + site 100,000 = 630,000
    data = with_roles(tiny_data(supply_fte={"sw": 4.0}), agency_premium={"sw": 0.5})
    result, tables, _ = solve_data(data)
    assert result.objective == pytest.approx(630_000)
    sw = tables["staffing"].query("role == 'sw'").iloc[0]
    assert sw["fte"] == 6.0 and sw["agency_fte"] == pytest.approx(2.0)
    assert check_plan(data, tables) == []


def test_agency_share_limit_can_make_it_infeasible():
    # agency at most 20% of 6 FTE = 1.2 < the 2 FTE needed beyond supply, and min_cost must
    # meet all demand: infeasible, reported as such, nothing loaded, nothing raised
    data = with_roles(tiny_data(supply_fte={"sw": 4.0}),
                      agency_premium={"sw": 0.5}, max_agency_share={"sw": 0.2})
    result, tables, model = solve_data(data)
    assert result.status is SolveStatus.infeasible
    assert tables is None
    assert result.objective is None
    assert all(v.value is None for v in model.assign.values())


def test_supervision_ratio_within_the_hub():
    # tm supervises sw at 1:4: 6 sw need 1.5 tm (step 0.5) = 105,000 more: 685,000
    data = add_team_manager(tiny_data(), ratio=4.0)
    result, tables, _ = solve_data(data)
    assert result.objective == pytest.approx(685_000)
    tm = tables["staffing"].query("role == 'tm'")
    assert tm["fte"].sum() == 1.5
    assert check_plan(data, tables) == []

"""Levers: the optimisation decides how far each goes under the staffing and budget rules.

On the tiny instance (tests/model/__init__.py) one hub, S2, serves everyone for 580,000: sw 6 FTE
(6,000 h), ot 3 FTE (pool "all"), site 100,000.
"""

from __future__ import annotations

import pytest
from checker import check_plan

from mdtplan.model.build import build_model
from mdtplan.solve import compile_differences

from . import solve_data, tiny_data, with_levers

REABLE = {"cohort": [10.0, 20.0, 30.0], "hours": {"sw": 10.0}, "saving": 6000.0, "share": 0.5}


def _people(tables) -> float:
    return float(tables["levers"]["people"].sum()) if "levers" in tables else 0.0


def test_a_lever_goes_as_far_as_its_share_when_it_pays():
    # 30 people (half of 60) x 10 sw h = 300 h: one more sw FTE (50,000) for 180,000 saved:
    # 580,000 + 50,000 - 180,000 = 450,000
    data = with_levers(tiny_data(), {"reable": REABLE})
    result, tables, _ = solve_data(data)
    assert result.objective == pytest.approx(450_000)
    assert _people(tables) == pytest.approx(30.0)
    staff = tables["staffing"].set_index(["unit", "role"])
    assert staff.loc[("S2", "sw"), "fte"] == 7.0
    assert staff.loc[("S2", "sw"), "lever_hours"] == pytest.approx(300.0)
    assert check_plan(data, tables) == []


def test_the_budget_cap_holds_a_lever_back():
    # the extra sw FTE would take staff and sites to 630,000: over a 600,000 cap, no one is
    # reached and the plan is the one without the lever
    data = with_levers(tiny_data(budget_cap_gbp=600_000.0), {"reable": REABLE})
    result, tables, _ = solve_data(data)
    assert result.objective == pytest.approx(580_000)
    assert _people(tables) == pytest.approx(0.0)


def test_a_lever_that_costs_more_staff_than_it_saves_is_not_taken():
    lever = {**REABLE, "saving": 1000.0}  # 30 people save 30,000 but need a 50,000 FTE
    result, tables, _ = solve_data(with_levers(tiny_data(), {"reable": lever}))
    assert result.objective == pytest.approx(580_000)
    assert _people(tables) == pytest.approx(0.0)


def test_a_lever_that_frees_hours_lowers_the_staff():
    # 30 people x 40 sw h freed: sw 4,800 h -> 5 FTE: 580,000 - 50,000 = 530,000 (no saving)
    lever = {"cohort": [10.0, 20.0, 30.0], "hours": {"sw": -40.0}, "saving": 0.0,
             "share": 0.5}
    data = with_levers(tiny_data(), {"shift": lever})
    result, tables, _ = solve_data(data)
    assert result.objective == pytest.approx(530_000)
    staff = tables["staffing"].set_index(["unit", "role"])
    assert staff.loc[("S2", "sw"), "fte"] == 5.0
    assert check_plan(data, tables) == []


def test_specialist_hours_of_a_lever_fall_on_the_hub_pool():
    # 30 people x 5 ot h = 150 h: ot 3,150 h -> 3.5 FTE (+30,000); sw as the first test:
    # 580,000 + 50,000 + 30,000 - 180,000 = 480,000
    lever = {**REABLE, "hours": {"sw": 10.0, "ot": 5.0}}
    data = with_levers(tiny_data(), {"reable": lever})
    result, tables, _ = solve_data(data)
    assert result.objective == pytest.approx(480_000)
    staff = tables["staffing"].set_index(["unit", "role"])
    assert staff.loc[("all", "ot"), "fte"] == 3.5
    assert staff.loc[("all", "ot"), "lever_hours"] == pytest.approx(150.0)


def test_the_reach_follows_the_catchments():
    # two hubs forced by a 40,000 band: S1 serves A1+A2 (30 people), S2 A3 (30 people);
    # each reaches half of its own catchment's cohort
    data = with_levers(tiny_data(hub_population_max=40_000.0), {"reable": REABLE})
    _, tables, _ = solve_data(data)
    by_site = tables["levers"].set_index("site_id")["people"]
    assign = tables["assignment"].set_index("area_id")["site_id"]
    cohort = dict(zip(["A1", "A2", "A3"], REABLE["cohort"], strict=True))
    for site, people in by_site.items():
        served = sum(c for a, c in cohort.items() if assign[a] == site)
        assert people <= 0.5 * served + 1e-6
    assert by_site.sum() == pytest.approx(30.0)
    assert check_plan(data, tables) == []


def test_both_builds_are_the_same_problem_with_levers():
    lever = {**REABLE, "hours": {"sw": 10.0, "ot": -2.0}}
    for objective in ("min_cost", "max_demand_met"):
        data = with_levers(tiny_data(objective=objective, hub_population_max=40_000.0),
                           {"reable": lever, "other": {**REABLE, "cohort": [0.0, 5.0, 0.0]}})
        assert compile_differences(build_model(data)) == []


def test_rounding_cuts_apply_when_a_lever_frees_hours():
    # the cuts once stood down here (a hub reaching its people may staff below its areas'
    # demand); they now carry the hub's lever columns: tests/test_cuts.py checks them (no
    # plan removed on random instances with levers that free and need hours)
    from mdtplan.model.index import index_data
    from mdtplan.solve.cuts import applies

    freeing = {"cohort": [10.0, 20.0, 30.0], "hours": {"sw": -40.0}, "saving": 500.0,
               "share": 0.5}
    data = with_levers(tiny_data(), {"shift": freeing, "reable": REABLE})
    assert applies(data, index_data(data))
    assert not applies(with_levers(tiny_data(objective="max_demand_met"), {"shift": freeing}),
                       index_data(data))


def test_the_heuristic_start_runs_the_levers_that_pay():
    from mdtplan.solve import extract_tables
    from mdtplan.solve.start import StartInput, build_start, start_values

    data = with_levers(tiny_data(), {"reable": REABLE,
                                     "costly": {**REABLE, "saving": 100.0}})
    model = build_model(data)
    plan = build_start(StartInput.of_model(model), max_seconds=1.0)
    assert plan.feasible
    people = dict(zip(model.lever_people.keys(), plan.extra["lever_people"], strict=True))
    # the hub serving everyone reaches half of the 60 people of the lever that pays; the lever
    # whose saving is below its staff's cost is left alone
    assert sum(v for (k, _), v in people.items() if k == "reable") == pytest.approx(30.0)
    assert sum(v for (k, _), v in people.items() if k == "costly") == 0.0
    for var, value in start_values(model, plan).items():
        var.set_value(value, skip_validation=True)
    assert check_plan(data, extract_tables(model, data)) == []

"""Staff travel is part of the work (``travel.staff_travel``), on the tiny instance.

Social workers make 0.25 visits per demand hour (``visits_per_demand_hour``); each visit is a
round trip from the hub, ``2 t / 60`` hours and ``2 t x 0.5`` miles (30 mph). One hub serves
all three areas (the other site excluded), so the hub's sw FTE is worked out by hand:

    hub   trip hours                                           sw hours   sw FTE (step 0.5)
    S1    0.25 x (1000 x 10 + 2000 x 20 + 3000 x 50) / 60 = 833.3   6,833.3   7.0
    S2    0.25 x (1000 x 40 + 2000 x 20 + 3000 x 10) / 60 = 458.3   6,458.3   6.5

and without travel both need 6.0 (6,000 h at 1,000 h per FTE). The far hub (S1: A3 is 25
minutes away) needs a whole FTE more, the near one half an FTE.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from checker import check_plan, plan_cost_gbp, plan_mileage_gbp

from mdtplan.errors import ScenarioError
from mdtplan.model.build import build_model
from mdtplan.model.matrix import build_matrix
from mdtplan.results import build_results
from mdtplan.solve import SolveStatus, compile_differences

from . import solve_data, tiny_data, with_roles

VISITS = 0.25  # sw visits per demand hour
RATE = 0.45  # GBP per mile
MILES_PER_MINUTE = 0.5


def _travel(data, visits=VISITS, rate=RATE):
    pairs = data.pairs.copy()
    pairs["round_trip_hours"] = 2.0 * pairs["travel_cost"] / 60.0
    pairs["round_trip_miles"] = 2.0 * pairs["travel_cost"] * MILES_PER_MINUTE
    return replace(data, pairs=pairs, visits_per_demand_hour={"sw": visits},
                   mileage_gbp_per_mile=rate)


def _one_hub(site: str, travel: bool = True, **changes):
    data = with_roles(tiny_data(**changes), fte_step={"sw": 0.5})
    sites = data.sites.copy()
    sites["status"] = ["required" if s == site else "excluded" for s in sites.index]
    data = replace(data, sites=sites)
    return _travel(data) if travel else data


def _by_hand(site: str):
    """(sw travel hours, sw FTE, mileage GBP) of one hub serving every area."""
    data = tiny_data()
    t = data.pairs[data.pairs["site_id"] == site].set_index("area_id")["travel_cost"]
    d = data.demand_hours["sw"]
    trips = VISITS * d  # visits a year
    hours = float((trips * 2 * t / 60).sum())
    fte = math.ceil((float(d.sum()) + hours) / 1000.0 / 0.5 - 1e-9) * 0.5
    miles = float((trips * 2 * t * MILES_PER_MINUTE).sum())
    return hours, fte, miles * RATE


@pytest.mark.parametrize(("site", "fte"), [("S1", 7.0), ("S2", 6.5)])
def test_travel_raises_a_far_hubs_fte_as_computed_by_hand(site, fte):
    hours, by_hand, mileage = _by_hand(site)
    assert by_hand == fte  # the table in the module docstring
    result, tables, _ = solve_data(_one_hub(site))
    assert result.status == SolveStatus.optimal
    sw = tables["staffing"].query("unit == @site and role == 'sw'").iloc[0]
    assert sw["fte"] == pytest.approx(fte)
    assert sw["travel_hours"] == pytest.approx(hours)
    assert sw["demand_hours"] == pytest.approx(6000.0)  # people's demand, travel apart
    # without staff travel the same hub needs 6 FTE
    _, plain, _ = solve_data(_one_hub(site, travel=False))
    assert plain["staffing"].query("unit == @site and role == 'sw'")["fte"].item() == 6.0
    # the objective (cost) counts the mileage; the checker agrees from ModelData alone
    data = _one_hub(site)
    assert plan_mileage_gbp(data, tables) == pytest.approx(mileage)
    assert result.objective == pytest.approx(plan_cost_gbp(data, tables))
    assert check_plan(data, tables) == []


def test_outputs_show_travel_hours_and_mileage_per_hub_and_role():
    data = _one_hub("S1")
    result, tables, _ = solve_data(data)
    hours, _, mileage = _by_hand("S1")
    res = build_results(data, tables, result)
    hub = res.hubs.set_index("site_id").loc["S1"]
    assert hub["travel_hours"] == pytest.approx(hours)
    assert hub["mileage_gbp"] == pytest.approx(mileage)
    sw = res.staffing.set_index(["unit", "role"]).loc[("S1", "sw")]
    assert sw["mileage_gbp"] == pytest.approx(mileage)
    geo = res.summary.geography
    assert geo.staff_travel and geo.travel_hours == pytest.approx(hours)
    assert geo.mileage_gbp == pytest.approx(mileage)
    assert res.summary.costs.mileage_gbp == pytest.approx(mileage)
    costs = res.summary.costs
    assert costs.total_gbp == pytest.approx(costs.staff_gbp + costs.agency_gbp + costs.site_gbp
                                            + mileage)
    doc = res.summary.to_dict()
    assert doc["geography"]["mileage_gbp"] == pytest.approx(mileage)
    assert doc["mileage_cost"] == pytest.approx(mileage)


def test_min_cost_sends_an_area_to_the_hub_its_trips_cost_least_from():
    # both hubs open (required), A2 is 10 minutes from either: without travel the plan may
    # put it at either hub; with travel whichever way it goes must be the cheaper; the far
    # areas go to their near hub (A1 to S1, A3 to S2) because their trips cost hours and miles
    data = tiny_data(objective="min_cost")
    sites = data.sites.copy()
    sites["status"] = "required"
    data = _travel(replace(data, sites=sites))
    result, tables, _ = solve_data(data)
    assert result.status == SolveStatus.optimal
    at = tables["assignment"].set_index("area_id")["site_id"]
    assert at["A1"] == "S1" and at["A3"] == "S2"
    assert check_plan(data, tables) == []


def test_mileage_counts_against_the_budget_cap():
    data = _one_hub("S1")
    result, tables, _ = solve_data(data)
    _, _, mileage = _by_hand("S1")
    cost = plan_cost_gbp(data, tables)
    # a cap that the staff and site alone would keep, but not with the miles
    tight = replace(data, budget_cap_gbp=cost - mileage / 2)
    assert solve_data(tight)[0].status == SolveStatus.infeasible
    assert solve_data(replace(data, budget_cap_gbp=cost + 1.0))[0].status == \
        SolveStatus.optimal


def test_without_staff_travel_the_model_is_the_one_before():
    # no visit rates (staff_travel false) or no round trips: the same problem, coefficient
    # for coefficient, as a ModelData that never heard of staff travel
    plain = tiny_data(budget_cap_gbp=1e7)
    on = _travel(plain)
    for off in (replace(on, visits_per_demand_hour={}, mileage_gbp_per_mile=0.0),
                replace(on, pairs=plain.pairs)):
        a, b = build_matrix(off), build_matrix(plain)
        assert a.A.shape == b.A.shape and (a.A != b.A).nnz == 0
        assert np.array_equal(a.row_lower, b.row_lower)
        assert np.array_equal(a.row_upper, b.row_upper)
        assert all(n == m and np.array_equal(x, y)
                   for (n, x), (m, y) in zip(a.stages, b.stages, strict=True))
    assert (build_matrix(on).A != build_matrix(plain).A).nnz > 0


@pytest.mark.parametrize("assignment", ["single", "split"])
@pytest.mark.parametrize("objective", ["min_cost", "max_demand_met"])
def test_the_direct_build_has_the_same_rows(assignment, objective):
    data = _travel(tiny_data(assignment=assignment, objective=objective, budget_cap_gbp=9e5),
                   visits=0.3)
    data = replace(data, visits_per_demand_hour={"sw": 0.3, "ot": 0.1})  # specialists travel
    assert compile_differences(build_model(data)) == []


def test_the_heuristic_start_staffs_the_trips():
    from mdtplan.solve.start import StartInput, build_start

    data = _one_hub("S1")
    plan = build_start(StartInput.of_model(build_model(data)), max_seconds=1.0)
    assert plan.feasible
    from mdtplan.model.index import index_data

    ix = index_data(data)
    assert plan.steps[ix.staff.index(("S1", "sw"))] * 0.5 == 7.0


def test_scenario_and_operating_model_refuse_nonsense(tmp_path):
    from mdtplan.operating_model import load_operating_model
    from mdtplan.scenario import TravelConfig

    with pytest.raises(ValueError, match="less than or equal to 5"):
        TravelConfig(mileage_gbp_per_mile=45)  # pence given as pounds
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        TravelConfig(mileage_gbp_per_mile=-0.45)
    assert TravelConfig().staff_travel and TravelConfig().mileage_gbp_per_mile == 0.45
    text = open("models/default.yaml", encoding="utf-8").read().replace(
        "visit_share: 0.17", "visit_share: 1.7", 1)
    (tmp_path / "om.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_operating_model(tmp_path / "om.yaml")
    assert any(p.column == "roles.0.visit_share" for p in err.value.problems)


def test_assemble_converts_minutes_and_km_and_leaves_units_alone():
    from types import SimpleNamespace as NS

    import pandas as pd

    from mdtplan.assemble import staff_travel

    om = NS(roles=[NS(id="sw", visit_share=0.5, visits_per_contact_hour=0.8),
                   NS(id="tm", visit_share=0.0, visits_per_contact_hour=1.0)])
    pairs = pd.DataFrame({"travel_cost": [12.0]})
    p, v = staff_travel(pairs, NS(unit="km", speed_kmh=48.0, staff_travel=True), om)
    assert v == {"sw": 0.4}
    assert p["round_trip_hours"][0] == pytest.approx(0.5)  # 12 km at 48 km/h, twice
    assert p["round_trip_miles"][0] == pytest.approx(24 / 1.609344)
    for cfg in (NS(unit="units", speed_kmh=40.0, staff_travel=True),
                NS(unit="minutes", speed_kmh=40.0, staff_travel=False)):
        p, v = staff_travel(pairs, cfg, om)
        assert v == {} and "round_trip_hours" not in p

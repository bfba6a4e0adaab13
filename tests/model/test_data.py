"""prepare_model_data: Inputs + demand + pairs -> ModelData (pools, supply, settings)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mdtplan.assemble import prepare_model_data
from mdtplan.errors import ModelError
from mdtplan.inputs import Inputs
from mdtplan.operating_model import OperatingModel
from mdtplan.scenario import parse_scenario

OM = {
    "name": "t", "age_bands": ["all"],
    "roles": [
        {"id": "sw", "name": "SW", "kind": "core", "cost_gbp_per_fte": 50000,
         "productive_hours_per_fte": 1000, "min_fte_per_hub": 1},
        {"id": "ot", "name": "OT", "kind": "specialist", "cost_gbp_per_fte": 60000,
         "productive_hours_per_fte": 1000},
    ],
    "demand": {"client_groups": [{"id": "g", "rate_per_1000": {"all": 10},
                                  "hours_per_contact": {"sw": 1, "ot": 1}}]},
    "rules": {"hiring_limit_fte": {"sw": 2.5},
              "supervision": [{"supervisor": "sw", "supervises": ["sw"], "max_ratio": 8}]},
}


def _inputs(pools=None, **scenario_changes):
    om = dict(OM)
    if pools is not None:
        om["pools"] = pools
    scenario = parse_scenario({
        "name": "prep", "areas": {"path": "a.csv", "id": "id", "population": "pop"},
        "sites": {"path": "s.csv", "id": "id"},
        "hubs": {"count": {"min": 1, "max": 2}, "population": {"min": 100, "max": 5000},
                 "max_travel_minutes": 30, "assignment": "split"},
        "budget": {"cap": 1e6}, "objective": "min_cost",
        "travel": {"cost_gbp_per_unit": 2.0, "weight_by_population": False},
        **scenario_changes})
    areas = pd.DataFrame({"population": [1000.0, 2000.0, 3000.0],
                          "group": ["Dover", "Thanet", "Ashford"]},
                         index=pd.Index(["A1", "A2", "A3"], name="area_id"))
    sites = pd.DataFrame({"name": ["One", "Two", "Three"],
                          "status": ["candidate", "existing", "excluded"],
                          "fixed_cost_gbp": [10.0, 20.0, 30.0], "opening_cost_gbp": 0.0,
                          "capacity": np.nan, "capacity_fte": np.nan,
                          "pool": ["east", "west", "west"]},
                         index=pd.Index(["S1", "S2", "S3"], name="site_id"))
    workforce = pd.DataFrame({"unit": ["S1", "S2", "east"], "role": ["sw", "sw", "ot"],
                              "fte": [3.0, 1.5, 2.0],
                              "contract": ["permanent", "agency", "permanent"]})
    return Inputs(scenario=scenario, operating_model=OperatingModel.model_validate(om),
                  areas=areas, sites=sites, workforce=workforce)


DEMAND = pd.DataFrame({"sw": [10.0, 20.0, 30.0], "ot": [1.0, 2.0, 3.0]},
                      index=pd.Index(["A1", "A2", "A3"], name="area_id"))
PAIRS = pd.DataFrame({"area_id": ["A1", "A1", "A2", "A3", "A3"],
                      "site_id": ["S1", "S3", "S2", "S2", "S1"],
                      "travel_cost": [5.0, 6.0, 7.0, 8.0, 9.0]})


def test_settings_roles_supply_and_excluded_pairs():
    data = prepare_model_data(_inputs(), DEMAND, PAIRS)
    assert (data.hub_count_min, data.hub_count_max) == (1, 2)
    assert (data.hub_population_min, data.hub_population_max) == (100, 5000)
    assert data.budget_cap_gbp == 1e6 and data.assignment == "split"
    assert data.objective == "min_cost" and data.max_travel == 30
    assert data.travel_cost_gbp_per_unit == 2.0 and data.travel_weight_by_population is False
    assert list(data.roles.index) == ["sw", "ot"]
    assert data.roles.at["ot", "kind"] == "specialist"
    # supply: permanent sw 3 (the agency 1.5 does not count) + hiring limit 2.5; ot unlimited
    assert data.supply_fte == {"sw": 5.5}
    assert data.supervision[0].supervisor == "sw"
    # the pair to the excluded site S3 is dropped
    assert "S3" not in set(data.pairs["site_id"])
    assert len(data.pairs) == 4
    assert list(data.demand_hours.columns) == ["sw", "ot"]
    assert (data.pairs["pool"] == "all").all()  # default pools.by: single


def test_pools_by_site():
    data = prepare_model_data(_inputs(pools={"by": "site"}), DEMAND, PAIRS)
    pool = dict(zip(zip(data.pairs["area_id"], data.pairs["site_id"], strict=True),
                    data.pairs["pool"], strict=True))
    assert pool[("A1", "S1")] == "east" and pool[("A2", "S2")] == "west"


def test_pools_by_named_area_groups():
    pools = {"by": "area_group", "groups": {"East": ["Dover", "Thanet"], "West": ["Ashford"]}}
    data = prepare_model_data(_inputs(pools=pools), DEMAND, PAIRS)
    by_area = data.pairs.groupby("area_id")["pool"].first()
    assert by_area.to_dict() == {"A1": "East", "A2": "East", "A3": "West"}


def test_pools_by_area_group_itself():
    data = prepare_model_data(_inputs(pools={"by": "area_group"}), DEMAND, PAIRS)
    assert data.pairs.groupby("area_id")["pool"].first()["A3"] == "Ashford"


def test_area_in_no_pool_is_an_error():
    pools = {"by": "area_group", "groups": {"East": ["Dover", "Thanet"]}}
    with pytest.raises(ModelError, match="A3"):
        prepare_model_data(_inputs(pools=pools), DEMAND, PAIRS)


def test_prepared_data_builds_and_solves():
    from . import solve_data
    data = prepare_model_data(_inputs(pools={"by": "site"}), DEMAND, PAIRS)
    result, tables, _ = solve_data(data)
    assert result.has_solution
    from checker import check_plan
    assert check_plan(data, tables) == []


def test_each_site_stands_in_the_area_whose_polygon_holds_it():
    # the demo county: every site is inside the county, so each has an area, and that
    # area's polygon holds the site's point; a site moved out to sea has none
    from shapely.geometry import Point

    from mdtplan.assemble import site_areas
    from mdtplan.inputs import load_inputs
    from mdtplan.resources import demo_scenario
    from mdtplan.scenario import load_scenario

    inputs = load_inputs(load_scenario(demo_scenario()))
    own = site_areas(inputs.areas, inputs.sites)
    assert own.notna().all() and len(own) == len(inputs.sites)
    for site, area in own.items():
        assert inputs.areas.geometry[area].intersects(inputs.sites.geometry[site])
    sites = inputs.sites.copy()
    sites.loc[sites.index[0], "geometry"] = Point(0.0, 0.0)  # off the Scilly Isles, at sea
    assert site_areas(inputs.areas, sites).isna().sum() == 1

"""Locality teams, the second tier (``localities``): the MIP on hand-sized hub rows, the checks
before solving, the second stage through the pipeline and its files, and Kent (slow)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import yaml
from checker import check_localities, check_plan
from shapely.geometry import box

from mdtplan.errors import ScenarioError
from mdtplan.outputs import read_result_dir, write_outputs
from mdtplan.pipeline import prepare, run
from mdtplan.scenario import load_scenario
from mdtplan.solve.localities import plan_localities

ROOT = Path(__file__).resolve().parents[1]


def _row_km(n: int) -> np.ndarray:
    x = np.arange(float(n))
    return np.abs(np.subtract.outer(x, x))


def _chain(n: int) -> list[tuple[int, int]]:
    return [(i, i + 1) for i in range(n - 1)]


# -- the MIP, by hand -------------------------------------------------------------------------

def test_a_row_of_six_hubs_forms_three_neighbouring_pairs():
    # 10,000 people each, teams of exactly 20,000: the only contiguous split of a path
    plan = plan_localities([1e4] * 6, ["P"] * 6, _chain(6), _row_km(6), population_min=2e4,
                           population_max=2e4)
    assert plan.status == "optimal" and plan.teams == 3
    teams = {frozenset(np.flatnonzero(plan.lead == k)) for k in set(plan.lead)}
    assert teams == {frozenset({0, 1}), frozenset({2, 3}), frozenset({4, 5})}


def test_fewest_teams_first_then_the_most_compact():
    # up to 30,000 a team: two teams of three (fewest); the lead is each team's middle hub
    plan = plan_localities([1e4] * 6, ["P"] * 6, _chain(6), _row_km(6), population_max=3e4)
    assert plan.teams == 2
    assert sorted(set(plan.lead.tolist())) == [1, 4]
    assert plan.compactness == pytest.approx(4 * 1e4 * 1.0)


def test_contiguity_keeps_apart_hubs_that_do_not_touch():
    # hubs 0 and 2 hold 10,000 each, hub 1 20,000, in a path 0-1-2; teams of exactly 20,000:
    # {1} and {0, 2}, but 0 and 2 are not neighbours
    args = ([1e4, 2e4, 1e4], ["P"] * 3, _chain(3), _row_km(3))
    band = dict(population_min=2e4, population_max=2e4)
    assert plan_localities(*args, **band).status == "infeasible"
    loose = plan_localities(*args, **band, contiguous=False)
    assert loose.status == "optimal" and loose.lead[0] == loose.lead[2] != loose.lead[1]


def test_a_team_never_spans_two_pools():
    # hubs 2 and 3 touch, but lie in different pools: without pools the best is {0,1},{2,3}
    plan = plan_localities([1e4] * 4, ["A", "A", "B", "B"], _chain(4), _row_km(4),
                           population_max=3e4)
    teams = {frozenset(np.flatnonzero(plan.lead == k)) for k in set(plan.lead)}
    assert teams == {frozenset({0, 1}), frozenset({2, 3})}
    loose = plan_localities([1e4] * 4, ["A", "A", "A", "A"], _chain(4), _row_km(4),
                            population_max=3e4)
    assert loose.teams == 2  # the same count; one pool only shows the rule is not vacuous
    one = plan_localities([1e4] * 4, ["A"] * 4, _chain(4), _row_km(4), population_max=4e4)
    assert one.teams == 1
    two = plan_localities([1e4] * 4, ["A", "A", "B", "B"], _chain(4), _row_km(4),
                          population_max=4e4)
    assert two.teams == 2


def test_the_count_band_binds_and_most_finds_the_most():
    args = ([1e4] * 6, ["P"] * 6, _chain(6), _row_km(6))
    assert plan_localities(*args, population_max=3e4, count_min=4).teams == 4
    assert plan_localities(*args, population_max=3e4, count_max=1).status == "infeasible"
    assert plan_localities(*args, population_min=2e4, most=True).teams == 3


# -- a hand-sized county through the pipeline -------------------------------------------------

def _county(tmp_path: Path, localities: dict | None, *, hubs: dict | None = None,
            budget: float | None = None) -> Path:
    """Six 1 km squares in a row; 10,000 adults each (four age bands); a site at each centre; pools A (areas
    1-3) and B (4-6); hubs of exactly one area (10,000 people), so six hubs, each a neighbour
    of the next."""
    cells = [box(550000 + 1000 * i, 150000, 551000 + 1000 * i, 151000) for i in range(6)]
    areas = gpd.GeoDataFrame({"area_code": [f"A{i + 1}" for i in range(6)],
                              "district": ["A"] * 3 + ["B"] * 3,
                              "pop_18_64": [7000] * 6, "pop_65_74": [1500] * 6,
                              "pop_75_84": [1000] * 6, "pop_85_plus": [500] * 6},
                             geometry=cells, crs="EPSG:27700")
    areas.to_file(tmp_path / "areas.gpkg", layer="areas", driver="GPKG")
    pd.DataFrame({"site_id": [f"S{i + 1}" for i in range(6)],
                  "easting": [550500 + 1000 * i for i in range(6)],
                  "northing": [150500] * 6}).to_csv(tmp_path / "sites.csv", index=False)
    model = yaml.safe_load((ROOT / "models" / "default.yaml").read_text())
    model["pools"] = {"by": "area_group"}
    model["roles"].append({"id": "locality_manager", "name": "Locality manager",
                           "kind": "locality", "cost_gbp_per_fte": 80000,
                           "productive_hours_per_fte": 1540, "fte_step": 1.0})
    (tmp_path / "model.yaml").write_text(yaml.safe_dump(model))
    doc = {"name": "row", "operating_model": "model.yaml",
           "areas": {"path": "areas.gpkg", "layer": "areas", "id": "area_code",
                     "group": "district",
                     "population": {b: f"pop_{b[4:]}" for b in
                                    ("age_18_64", "age_65_74", "age_75_84", "age_85_plus")}},
           "sites": {"path": "sites.csv", "id": "site_id",
                     "coords": {"x": "easting", "y": "northing", "crs": "EPSG:27700"}},
           "hubs": hubs or {"population": {"min": 10000, "max": 10000},
                            "max_travel_minutes": 5},
           "objective": "min_cost", "solver": {"time_limit_s": 30, "threads": 1}}
    # the sites stand 1 km apart: hubs of one area each need no separation rule
    doc["hubs"].setdefault("min_separation_km", 0)
    if localities is not None:
        doc["localities"] = localities
    if budget is not None:
        doc["budget"] = {"cap": budget}
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


ROLES = [{"role": "locality_manager", "fte_per_team": 1.0}]


def test_the_row_county_gets_its_two_pools_as_teams_and_the_files_say_so(tmp_path):
    scen = load_scenario(_county(tmp_path, {"count": {"exactly": 2},
                                            "population": {"max": 30000}, "roles": ROLES}))
    result = run(scen, explain=False, marginals=False)
    assert result.status == "optimal"
    res = result.results
    teams = res.localities
    assert sorted(teams["hub_ids"]) == ["S1 S2 S3", "S4 S5 S6"]
    assert sorted(teams["name"]) == ["A 1", "B 1"] and set(teams["pool"]) == {"A", "B"}
    assert teams["population"].tolist() == [30000.0, 30000.0]
    assert res.hubs["locality"].notna().all() and res.assignment["locality"].notna().all()
    # the teams' roles are costed inside the total
    s = res.summary
    assert s.localities.count == 2 and s.localities.cost_gbp == 160000.0
    assert s.costs.by_role_gbp["locality_manager"] == 160000.0
    assert s.workforce.fte_by_role["locality_manager"] == 2.0
    hub_only = sum(v for r, v in s.costs.by_role_gbp.items() if r != "locality_manager")
    assert s.costs.total_gbp == pytest.approx(hub_only + 160000.0 + s.costs.site_gbp)

    out = tmp_path / "out"
    write_outputs(res, out, inputs=result.prepared.inputs, scenario_doc=scen.to_dict())
    saved = read_result_dir(out)
    import openpyxl

    book = openpyxl.load_workbook(out / "summary.xlsx")
    assert book["Locality teams"].max_row == 3  # a header and two teams
    roles = {r[0]: r[3] for r in book["Cost by role"].iter_rows(min_row=2, values_only=True)}
    assert roles["locality_manager (locality teams)"] == 160000.0
    assert list(saved["localities"].columns) == ["locality_id", "name", "pool", "lead_hub",
                                                 "hubs", "hub_ids", "areas", "population",
                                                 "fte", "cost"]
    assert "locality" in saved["hubs"] and "locality" in saved["assignment"]
    assert json.loads((out / "summary.json").read_text())["localities"]["count"] == 2
    assert "Locality teams" in (out / "map.html").read_text()
    prepared = result.prepared
    assert check_localities(prepared.data, saved["hubs"], saved["assignment"],
                            saved["localities"], prepared.area_edges, count_min=2, count_max=2,
                            population_max=30000, areas_within_pool=True) == []
    # and the checker notices a team that falls apart
    broken = saved["localities"].copy()
    hubs = saved["hubs"].copy()
    hubs.loc[hubs["site_id"] == "S2", "locality"] = "L02"
    errs = check_localities(prepared.data, hubs, saved["assignment"], broken,
                            prepared.area_edges, count_min=2, count_max=2)
    assert any("falls apart" in e or "spans pools" in e for e in errs)


def test_the_count_band_binds_and_the_hub_plan_still_keeps_every_rule(tmp_path):
    scen = load_scenario(_county(tmp_path, {"count": {"min": 5}, "population": {"max": 20000},
                                            "roles": ROLES}))
    result = run(scen, explain=False, marginals=False)
    assert result.status == "optimal"
    teams = result.results.localities
    assert len(teams) == 5  # pools of three hubs: 2 + 2 teams at least, one more to reach 5
    assert teams["hubs"].max() <= 2
    # the hub plan under the teams keeps every rule of the hub model
    data, res = result.prepared.data, result.results
    tables = {"assignment": res.assignment[["area_id", "site_id", "share"]],
              "hubs": pd.DataFrame({"site_id": data.sites.index,
                                    "open": data.sites.index.isin(res.hubs["site_id"])}),
              "staffing": res.staffing, "levers": res.levers}
    assert check_plan(data, tables) == []


def test_a_second_stage_without_teams_is_infeasible_and_says_which_pool(tmp_path):
    # each pool holds 30,000 people in hubs of 10,000: no team can hold exactly 20,000 of
    # one pool's three hubs and leave a team for the third
    scen = load_scenario(_county(tmp_path, {"population": {"min": 20000, "max": 20000},
                                            "roles": ROLES}))
    result = run(scen, explain=False, marginals=False)
    assert result.status == "infeasible"
    assert result.results.localities is None and result.results.hubs.empty
    words = " ".join(p.message for p in result.explanation)
    assert "pool A" in words and "pool B" in words and "20,000-20,000" in words


def test_a_count_band_the_pools_cannot_meet_is_explained_with_each_pools_range(tmp_path):
    scen = load_scenario(_county(tmp_path, {"count": {"min": 3}, "population": {"min": 15000},
                                            "roles": ROLES}))
    result = run(scen, explain=False, marginals=False)
    assert result.status == "infeasible"
    (problem,) = result.explanation
    assert problem.column == "localities.count"
    assert "A 1-1" in problem.message and "B 1-1" in problem.message


def test_the_cli_exits_3_when_the_hubs_form_no_teams(tmp_path):
    from typer.testing import CliRunner

    from mdtplan.cli import app

    path = _county(tmp_path, {"population": {"min": 20000, "max": 20000}, "roles": ROLES})
    got = CliRunner().invoke(app, ["solve", str(path), "--out", str(tmp_path / "o")])
    assert got.exit_code == 3, got.output
    assert "pool A" in got.output


# -- refused before solving -------------------------------------------------------------------

@pytest.mark.parametrize(("localities", "extra", "column", "words"), [
    ({"count": {"min": 4}, "roles": ROLES}, {"hubs": {"count": {"max": 3}}},
     "localities.count.min", "hubs.count.max is 3"),
    ({"count": {"min": 7}, "roles": ROLES}, {}, "localities.count.min",
     "only 6 candidate sites"),
    ({"population": {"max": 5000}, "roles": ROLES}, {}, "localities.population.max",
     "hubs.population.min"),
    ({"count": {"min": 4}, "population": {"min": 20000}, "roles": ROLES}, {},
     "localities.count.min", "the areas hold 60,000"),
    ({"roles": [{"role": "nobody"}]}, {}, "localities.roles.0.role", "is not a role"),
    ({"roles": [{"role": "social_worker"}]}, {}, "localities.roles.0.role",
     "is a core role"),
    ({"count": {"min": 3}, "roles": ROLES}, {"budget": 200000}, "budget.cap", "£240,000"),
])
def test_impossible_localities_are_refused_before_solving(tmp_path, localities, extra, column,
                                                          words):
    hubs = {"population": {"min": 10000, "max": 10000}, "max_travel_minutes": 5,
            **extra.get("hubs", {})}
    scen = load_scenario(_county(tmp_path, localities, hubs=hubs, budget=extra.get("budget")))
    with pytest.raises(ScenarioError) as err:
        prepare(scen)
    hit = [p for p in err.value.problems if p.column == column]
    assert hit and words in hit[0].message, err.value.problems
    assert hit[0].hint


def test_a_locality_role_takes_no_demand_and_is_not_staffed_per_hub(tmp_path):
    scen = load_scenario(_county(tmp_path, {"roles": ROLES}))
    prepared = prepare(scen)
    assert "locality_manager" not in prepared.data.roles.index
    assert prepared.data.hub_count_min == 0
    model = yaml.safe_load((tmp_path / "model.yaml").read_text())
    model["demand"]["client_groups"][0].setdefault("hours_per_contact", {})
    from mdtplan.operating_model import OperatingModel

    group = model["demand"]["client_groups"][0]
    if "pathways" in group:
        model["demand"]["pathways"][0]["hours_per_contact"]["locality_manager"] = 1.0
        group.pop("hours_per_contact")
    else:
        group["hours_per_contact"]["locality_manager"] = 1.0
    with pytest.raises(ValueError, match="unknown roles"):
        OperatingModel.model_validate(model)


def test_the_hub_plan_is_told_the_least_count_and_cost_of_the_teams(tmp_path):
    scen = load_scenario(_county(tmp_path, {"count": {"min": 3}, "roles": ROLES},
                                 budget=5e6))
    data = prepare(scen).data
    assert data.hub_count_min == 3
    assert data.budget_cap_gbp == pytest.approx(5e6 - 3 * 80000)


def test_within_pools_keeps_each_hub_to_its_own_areas_pool(tmp_path):
    hubs = {"population": {"min": 10000, "max": 20000}, "max_travel_minutes": 5}
    pairs = prepare(load_scenario(_county(tmp_path, {"roles": ROLES}, hubs=hubs))).data.pairs
    crossing = {(a, s) for a, s in zip(pairs["area_id"], pairs["site_id"], strict=True)
                if (a[1] in "123") != (s[1] in "123")}
    assert crossing == set()
    loose = prepare(load_scenario(_county(tmp_path, {"roles": ROLES, "within_pools": False},
                                          hubs=hubs))).data.pairs
    assert ("A4", "S3") in set(zip(loose["area_id"], loose["site_id"], strict=True))


# -- Kent -------------------------------------------------------------------------------------

@pytest.mark.slow
def test_kent_has_at_least_nine_contiguous_locality_teams_in_east_and_west(shared_data,
                                                                           tmp_path):
    scen = load_scenario(ROOT / "examples" / "kent.yaml",
                         ["solver.time_limit_s=100", "solver.threads=1"])  # whole run
    scen = scen.model_copy(update={"finance": None})
    result = run(scen, explain=False, marginals=False)
    assert result.status in ("optimal", "feasible_at_limit")
    out = tmp_path / "kent"
    write_outputs(result.results, out, inputs=result.prepared.inputs, workbook=False,
                  map_html=False, scenario_doc=scen.to_dict())
    saved = read_result_dir(out)
    teams = saved["localities"]
    assert len(teams) >= 9 and set(teams["pool"]) == {"East", "West"}
    loc = scen.localities
    prepared = result.prepared
    assert check_localities(prepared.data, saved["hubs"], saved["assignment"], teams,
                            prepared.area_edges, count_min=9,
                            population_min=loc.population.min,
                            population_max=loc.population.max, areas_within_pool=True) == []


def test_a_sweep_variant_solved_in_place_is_told_the_teams_as_the_build_is(tmp_path):
    from mdtplan.variants import in_place_values

    scen = load_scenario(_county(tmp_path, {"count": {"min": 3}, "roles": ROLES},
                                 budget=5e6))
    data = prepare(scen).data
    values = in_place_values(scen)
    assert values["hub_count_min"] == data.hub_count_min == 3
    assert values["budget_cap_gbp"] == pytest.approx(data.budget_cap_gbp)

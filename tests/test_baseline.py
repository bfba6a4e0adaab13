"""Today's configuration (mdtplan.appraisal.baseline) on the demo, re-checked from the input files."""

from __future__ import annotations

import pandas as pd
import pytest

from mdtplan.appraisal.baseline import evaluate_baseline
from mdtplan.errors import ScenarioError
from mdtplan.operating_model import load_operating_model
from mdtplan.pipeline import prepare
from mdtplan.scenario import load_scenario


@pytest.fixture(scope="module")
def demo(repo_root):
    scenario = load_scenario(repo_root / "examples" / "demo.yaml")
    prepared = prepare(scenario)
    return prepared, evaluate_baseline(prepared)


def _files(repo_root):
    wf = pd.read_csv(repo_root / "geodata" / "demo_workforce.csv", dtype={"unit": str})
    sites = pd.read_csv(repo_root / "geodata" / "demo_sites.csv", dtype={"site_id": str})
    om = load_operating_model(repo_root / "models" / "default.yaml")
    roles = pd.DataFrame([r.model_dump() for r in om.roles]).set_index("id")
    return wf, sites, roles


def test_baseline_staff_and_cost_are_todays(demo, repo_root):
    prepared, base = demo
    wf, sites, roles = _files(repo_root)
    in_post = wf[wf["contract"].isin(["permanent", "agency"])]
    want_fte = in_post.groupby("role")["fte"].sum()
    got_fte = pd.Series(base.summary.workforce.fte_by_role)
    assert got_fte.reindex(want_fte.index).to_numpy() == pytest.approx(want_fte.to_numpy())
    assert got_fte.drop(want_fte.index).sum() == 0          # no specialists today in the demo
    staff = (in_post["fte"] * in_post["role"].map(roles["cost_gbp_per_fte"])).sum()
    agency = wf[wf["contract"] == "agency"]
    premium = (agency["fte"] * agency["role"].map(roles["cost_gbp_per_fte"] *
                                                  roles["agency_premium"])).sum()
    staffed = sorted(wf["unit"].unique())
    assert list(base.summary.sites) == staffed                  # existing + required = staffed
    site_cost = sites.set_index("site_id").loc[staffed, "fixed_cost"].sum()
    assert base.summary.costs.staff_gbp == pytest.approx(staff)
    assert base.summary.costs.agency_gbp == pytest.approx(premium)
    assert base.summary.costs.site_gbp == pytest.approx(site_cost)
    # today's staff drive to their visits too (travel.staff_travel, on in the demo)
    mileage = base.summary.costs.mileage_gbp
    assert mileage > 0
    assert base.summary.costs.total_gbp == pytest.approx(staff + premium + site_cost + mileage)
    vacant = wf[wf["contract"] == "vacant"].groupby("role")["fte"].sum()
    assert base.summary.vacant_fte_by_role == pytest.approx(vacant.to_dict())


def test_each_area_goes_to_its_nearest_site_and_unmet_is_what_staff_cannot_cover(demo):
    prepared, base = demo
    pairs = prepared.pairs
    a = base.assignment.set_index("area_id")
    assert len(a) == len(prepared.data.areas) and (a["share"] == 1).all()
    sites = set(base.summary.sites)
    # nearest baseline site, from straight-line travel without the design's travel limit
    from mdtplan.travel import compute_allowed_pairs

    inputs = prepared.inputs
    full = compute_allowed_pairs(inputs.areas, inputs.sites.loc[sorted(sites)], None,
                                 prepared.scenario.travel, None)
    nearest = full.sort_values(["area_id", "travel_cost"]).groupby("area_id")["travel_cost"].min()
    assert a["travel_cost"].to_numpy() == pytest.approx(nearest.reindex(a.index).to_numpy())
    del pairs
    st = base.staffing
    # staff travel: the visits' round trips are work today too
    need = st["demand_hours"] + st["travel_hours"]
    assert (st["travel_hours"] > 0).any()
    shortfall = (need - st["capacity_hours"]).clip(lower=0)
    assert st["unmet_hours"].to_numpy() == pytest.approx(shortfall.to_numpy(), abs=1e-3)
    total = prepared.demand_hours.to_numpy().sum()
    # workstream demand changes apply to the plan, not to today
    assert base.summary.demand.hours > total
    # a unit short of hours is short of its visits alike
    met = (st["demand_hours"] * (1 - st["unmet_hours"] / need.where(need > 0)).fillna(1)).sum()
    assert base.summary.demand.met_share == pytest.approx(met / base.summary.demand.hours)


def test_design_rules_today_breaks_are_reported(repo_root):
    scenario = load_scenario(repo_root / "examples" / "demo.yaml",
                             ["hubs.population.max=80000"])
    base = evaluate_baseline(prepare(scenario))
    data_pop = prepare(scenario).data.areas["population"]
    pop = base.assignment.assign(p=base.assignment["area_id"].map(data_pop)).groupby(
        "site_id")["p"].sum()
    over = pop[pop > 80000]
    assert len(over) >= 1                                     # the demo has big catchments
    rule = {v.rule: v for v in base.summary.violations}["hub_population_max"]
    assert rule.count == len(over)
    assert rule.worst_index == over.idxmax()
    assert rule.by == pytest.approx(over.max() - 80000)
    # today's sites are further than the design's travel limit for some areas
    tight = load_scenario(repo_root / "examples" / "demo.yaml", ["hubs.max_travel_minutes=30"])
    base = evaluate_baseline(prepare(tight))
    far = base.assignment[base.assignment["travel_cost"] > 30]
    travel = {v.rule: v for v in base.summary.violations}["max_travel_minutes"]
    assert travel.count == len(far) > 0
    assert travel.value == pytest.approx(far["travel_cost"].max())


@pytest.mark.parametrize("override, column, words", [
    (["finance.baseline.sites=[S01, NOPE]"], "finance.baseline.sites", "NOPE"),
    (["finance.baseline.sites=[S01, S09]"], "unit", "not at a baseline site"),
    (["workforce=null"], "finance.baseline", "no workforce table"),
])
def test_baseline_errors_name_the_key(repo_root, override, column, words):
    scenario = load_scenario(repo_root / "examples" / "demo.yaml", override)
    with pytest.raises(ScenarioError) as err:
        evaluate_baseline(prepare(scenario))
    problem = err.value.problems[0]
    assert problem.column == column and words in problem.message + str(problem.row)

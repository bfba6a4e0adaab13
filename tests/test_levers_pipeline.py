"""Levers end to end: a real scenario (Demoshire's Greystow district) whose operating model has
care pathways and levers; the savings are the model's and move with the budget cap and the
hiring limits, with the rule that holds them back named."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml
from checker import check_plan

from mdtplan.outputs.files import write_outputs
from mdtplan.pipeline import prepare, run
from mdtplan.scenario import parse_scenario

CARE = {
    "settings": [
        {"id": "home_care", "cost_gbp_per_week": 264, "duration_weeks": 100},
        {"id": "residential", "cost_gbp_per_week": 900, "duration_weeks": 110},
    ],
    "outcomes": {"assessments_older_people": {"home_care": 0.3, "residential": 0.1},
                 "reablement": {"home_care": 0.2, "residential": 0.03}},
}
LEVERS = [{
    "id": "reablement_first", "name": "Reablement before long-term support",
    "divert": {"from": "assessments_older_people", "to": "reablement"},
    "share": {"low": 0.04, "most_likely": 0.05, "high": 0.06},
    "outcomes": {"low": {"home_care": 0.25, "residential": 0.04},
                 "high": {"home_care": 0.15, "residential": 0.02}},
    "hours_per_person": {"social_worker": 4.0}}]


def _scenario(repo_root, tmp_path, *, hiring=None, cap=None, monte_carlo=None,
              objective="min_cost"):
    model = yaml.safe_load((repo_root / "models" / "default.yaml").read_text())
    model["care"], model["levers"] = CARE, LEVERS
    if hiring is not None:
        model.setdefault("rules", {})["hiring_limit_fte"] = hiring
        for role in model["roles"]:  # no agency to fill the gap
            if role["id"] in hiring:
                role["max_agency_share"] = 0.0
    (tmp_path / "model.yaml").write_text(yaml.safe_dump(model))
    geo = repo_root / "geodata"
    doc = {
        "name": "greystow", "operating_model": str(tmp_path / "model.yaml"),
        "areas": {"path": str(geo / "demo_areas.gpkg"), "layer": "areas", "id": "area_code",
                  "where": {"district": ["Greystow"]}, "deprivation": "imd_score",
                  "population": {"age_18_64": "pop_18_64", "age_65_74": "pop_65_74",
                                 "age_75_84": "pop_75_84", "age_85_plus": "pop_85_plus"}},
        "sites": {"path": str(geo / "demo_sites.csv"), "id": "site_id",
                  "coords": {"x": "easting", "y": "northing", "crs": "EPSG:27700"},
                  "where": {"district": ["Greystow"]}, "fixed_cost": "fixed_cost"},
        "hubs": {"count": {"min": 1, "max": 2}, "max_travel_minutes": 40,
                 "min_separation_km": 0},
        "objective": objective,
        "solver": {"time_limit_s": 30, "mip_gap": 0.0, "threads": 1},
        "finance": {"investment": 100000, "required_ratio": 1.5},
    }
    if cap is not None:
        doc["budget"] = {"cap": cap}
    if monte_carlo is not None:
        doc["finance"]["monte_carlo"] = monte_carlo
    return parse_scenario(doc, file=None, base_dir=str(tmp_path))


def _made(result):
    return result.results.summary.finance.model_savings


@pytest.fixture(scope="module")
def free(repo_root, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("free")
    result = run(_scenario(repo_root, tmp), explain=False, marginals=False)
    assert result.status == "optimal"
    return result, tmp


def test_the_model_makes_the_savings(free):
    result, tmp = free
    made = _made(result)
    line = made.lines[0]
    # without a cap the lever pays (its care saving is far above its staff) and reaches its
    # whole most likely share of the older people assessed in Greystow
    assert line.people == pytest.approx(line.max_people, rel=1e-6) and line.people > 0
    assert line.held_back_by is None
    assert made.total["low"] < made.total["most_likely"] < made.total["high"]
    fin = result.results.summary.finance
    assert fin.lines[0].source == "model" and fin.totals.total.most_likely == pytest.approx(
        made.total["most_likely"])
    assert check_plan(result.prepared.data, {
        "hubs": _hub_table(result), "assignment": result.results.assignment,
        "staffing": result.results.staffing, "levers": result.results.levers}) == []
    out = write_outputs(result.results, tmp / "out", map_html=False, workbook=False)
    doc = json.loads(out["summary"].read_text())
    assert doc["finance"]["model_savings"]["total"]["most_likely"] == pytest.approx(
        made.total["most_likely"])
    assert "levers" in out and out["levers"].read_text().startswith("lever_id,")


def test_the_divert_lever_s_saving_builds_up_over_the_years(free):
    """No phasing in the operating model: the lever's is derived from the settings' stays
    (mdtplan.care.divert_phasing), and the years, NPV and payback use it."""
    from mdtplan.care import divert_phasing

    result, tmp = free
    om = result.prepared.inputs.operating_model
    line = _made(result).lines[0]
    want = divert_phasing(om.levers[0], om)
    assert line.phasing_source == "derived" and tuple(line.phasing) == pytest.approx(want)
    assert 0 < line.phasing[0] < line.phasing[1] < 1 and line.phasing[-1] == 1.0
    fin = result.results.summary.finance
    assert fin.lines[0].phasing == pytest.approx(want)
    for row in fin.by_year:   # the only line, nothing already in the plan
        assert row.saving.most_likely == pytest.approx(
            line.saving["most_likely"] * want[min(row.year, len(want)) - 1])
    doc = json.loads(write_outputs(result.results, tmp / "phased", map_html=False,
                                   workbook=False)["summary"].read_text())
    made = doc["finance"]["model_savings"]["lines"][0]
    assert made["phasing_source"] == "derived" and made["phasing"] == pytest.approx(list(want))
    # the CLI's table says so in words
    from mdtplan.cli import _model_savings_rows
    rows = dict(_model_savings_rows(_made(result)))
    assert rows["    builds up"].startswith(f"year 1 {want[0]:.0%}, year 2 {want[1]:.0%}")
    most = next(i for i, p in enumerate(want, start=1) if p >= 0.95)
    assert want[most - 2] < 0.95 and f"; 95% by year {most} " in rows["    builds up"]


def test_a_typed_phasing_is_kept(repo_root, tmp_path):
    sc = _scenario(repo_root, tmp_path)
    model = yaml.safe_load((tmp_path / "model.yaml").read_text())
    model["levers"][0]["phasing"] = [0.5, 1.0]
    (tmp_path / "model.yaml").write_text(yaml.safe_dump(model))
    result = run(sc, explain=False, marginals=False)
    line = _made(result).lines[0]
    assert (line.phasing_source, tuple(line.phasing)) == ("typed", (0.5, 1.0))
    assert result.results.summary.finance.lines[0].phasing == (0.5, 1.0)


def _hub_table(result):
    hubs = result.results.hubs
    data = result.prepared.data
    return pd.DataFrame({"site_id": list(data.sites.index),
                         "open": [s in set(hubs["site_id"]) for s in data.sites.index]})


def test_a_cap_below_the_plan_lowers_the_saving_and_names_the_cap(free, repo_root, tmp_path):
    result, _ = free
    cost = result.results.summary.costs.total_gbp
    # take away half of what the lever's reablement workers cost: the plan without the lever
    # still fits, the whole lever no longer does
    roles = result.prepared.data.roles
    hours = _made(result).lines[0].staff_hours["reablement_worker"]
    lever_staff = hours / roles.at["reablement_worker", "productive_hours_per_fte"] \
        * roles.at["reablement_worker", "cost_gbp_per_fte"]
    tight = run(_scenario(repo_root, tmp_path, cap=cost - 0.5 * lever_staff), explain=False,
                marginals=False)
    assert tight.status in ("optimal", "feasible_at_limit")
    before, after = _made(result), _made(tight)
    assert after.total["most_likely"] < before.total["most_likely"]
    line = after.lines[0]
    assert line.people < line.max_people
    assert "budget cap" in line.held_back_by
    assert line.one_more_fte["role"] == "reablement_worker"
    assert line.one_more_fte["saving_gbp"] > 0


def test_a_hiring_limit_lowers_the_saving_and_is_named(free, repo_root, tmp_path):
    result, _ = free
    staff = result.results.staffing
    have = float(staff.loc[staff["role"] == "reablement_worker", "fte"].sum())
    lever = float(staff.loc[staff["role"] == "reablement_worker", "lever_hours"].sum()) / 1540
    assert lever > 0.5  # the lever needs more than one step of reablement workers
    # at most half a post fewer reablement workers than the plan had, and no agency: the
    # areas' own demand still fits, the lever's people do not all
    limited = run(_scenario(repo_root, tmp_path, hiring={"reablement_worker": have - 0.5}),
                  explain=False, marginals=False)
    assert limited.status == "optimal"
    after = _made(limited)
    assert after.total["most_likely"] < _made(result).total["most_likely"]
    line = after.lines[0]
    assert line.people < line.max_people - 1e-6
    assert "hiring limit of reablement_worker" in line.held_back_by


def test_lever_values_can_be_pinned_and_unknown_levers_are_refused(repo_root, tmp_path):
    from mdtplan.errors import ScenarioError

    sc = _scenario(repo_root, tmp_path)
    doc = sc.to_dict()
    doc["finance"]["lever_values"] = {"reablement_first": {"share": 0.01}}
    pinned = prepare(parse_scenario(doc, file=None, base_dir=str(tmp_path)))
    assert float(pinned.data.levers.max_share["reablement_first"]) == 0.01
    doc["finance"]["lever_values"] = {"nothing": {"share": 0.01}}
    with pytest.raises(ScenarioError) as err:
        prepare(parse_scenario(doc, file=None, base_dir=str(tmp_path)))
    assert "finance.lever_values.nothing" in str(err.value)


def test_monte_carlo_redraws_the_levers_reproducibly(repo_root, tmp_path):
    from mdtplan.appraisal.levers import lever_draws

    mc = {"draws": 200, "seed": 11, "solves": 4}
    sc = _scenario(repo_root, tmp_path, monte_carlo=mc)
    om = prepare(sc).inputs.operating_model
    a, b = lever_draws(sc, om), lever_draws(sc, om)
    assert a == b and len(a) == 4
    shares = [d["finance.lever_values.reablement_first.share"] for d in a]
    assert all(0.04 <= x <= 0.06 for x in shares) and len(set(shares)) == 4
    other = lever_draws(_scenario(repo_root, tmp_path, monte_carlo={**mc, "seed": 12}), om)
    assert other != a
    result = run(sc, explain=False, marginals=False)
    demand = result.results.summary.finance.monte_carlo.demand
    assert demand.solves == 4 and demand.model_savings.n == 4
    assert demand.probability_passes is not None
    drawn = [row.rates["lever.reablement_first.share"] for row in demand.draws]
    assert drawn == pytest.approx(shares)
    # every draw is a real re-solve: its savings follow its drawn share (one hub or two, the
    # same catchments: more share, more people, more saving)
    order = sorted(range(4), key=lambda i: shares[i])
    savings = [demand.draws[i].model_savings for i in order]
    assert savings == sorted(savings) or max(savings) > min(savings)


def test_the_workbook_shows_the_levers_live(free):
    import openpyxl

    from mdtplan.outputs.workbook import MODEL_SAVINGS_COLUMNS, write_workbook

    result, tmp = free
    path = write_workbook(result.results, tmp / "levers.xlsx")
    values = openpyxl.load_workbook(path, data_only=True)
    formulas = openpyxl.load_workbook(path)
    rows = list(values["Model savings"].iter_rows(values_only=True))
    assert list(rows[0]) == MODEL_SAVINGS_COLUMNS
    line = _made(result).lines[0]
    head = MODEL_SAVINGS_COLUMNS.index
    assert rows[1][head("Id")] == line.id
    assert rows[1][head("Saving most likely")] == pytest.approx(line.saving["most_likely"])
    # the saving is the care saved less the staff, as a formula over the row
    assert formulas["Model savings"]["O2"].value == "=I2-L2"
    # the savings table's lever line is the Model savings sheet's, marked as the model's
    savings = [list(r) for r in formulas["Savings"].iter_rows(min_row=2, max_row=2,
                                                            values_only=True)][0]
    assert savings[2] == "='Model savings'!O2" and savings[7] == "model"


def test_a_budget_sweep_shows_the_savings_against_the_cap(free, repo_root, tmp_path):
    from mdtplan.sweep import parse_vary, run_sweep

    result, _ = free
    cost = result.results.summary.costs.total_gbp
    made = _made(result).total["most_likely"]
    roles = result.prepared.data.roles
    hours = _made(result).lines[0].staff_hours["reablement_worker"]
    lever_staff = hours / roles.at["reablement_worker", "productive_hours_per_fte"] \
        * roles.at["reablement_worker", "cost_gbp_per_fte"]
    caps = [cost - 0.5 * lever_staff, cost + 1.0]
    sweep = run_sweep(_scenario(repo_root, tmp_path),
                      [parse_vary(f"budget.cap={caps[0]:.0f},{caps[1]:.0f}")], serial=True)
    table = sweep.table().sort_values("budget.cap")
    assert list(table["status"]) == ["optimal", "optimal"]
    low, high = table["model_savings"].tolist()
    # the tighter cap realises less; with room for the lever's staff, all of it
    assert low < high and high == pytest.approx(made, rel=1e-6)


def test_validate_lists_the_levers_before_any_solve(repo_root, tmp_path):
    from typer.testing import CliRunner

    from mdtplan.cli import app

    doc = _scenario(repo_root, tmp_path).to_dict()
    path = tmp_path / "greystow.yaml"
    path.write_text(yaml.safe_dump(doc))
    r = CliRunner().invoke(app, ["validate", str(path)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())
    prepared = prepare(_scenario(repo_root, tmp_path))
    cohort = float(prepared.data.levers.cohort["reablement_first"].sum())
    assert "Levers (most likely;" in text and "Reablement" in text   # the table wraps cells
    assert f"{cohort:,.0f}" in text and f"{0.05 * cohort:,.0f}" in text
    # and what each flow leads to before any lever: the older people assessed enter long-term
    # support 0.3 + 0.1 of the time, stay 100 and 110 weeks, at £264 and £900 a week
    assert "Care pathways (steady state" in text
    n = cohort
    spend = n * (0.3 * 264 * 100 + 0.1 * 900 * 110)
    people = n * (0.3 * 100 + 0.1 * 110) / 52
    assert (f"│ {n:,.0f} │ {0.4 * n:,.0f} │ {people:,.0f} │ £{spend:,.0f} │") in text


def test_a_plan_cut_short_after_its_first_goal_runs_its_levers_as_its_cost_goal_would(
        repo_root, tmp_path):
    """A what-if cut short after its first goal (``max_demand_met``: demand met, then cost)
    keeps the hubs and staff that goal chose; the clean-up LP of that goal, with them fixed,
    also makes the plan's levers (continuous) what the cost goal would make them, holding the
    demand met, and puts the holds back as they were. Before, the levers were wherever the first
    goal's LP ended (the demo's what-if at 5 s: £6.70m of savings where the same hubs and
    staff give £8.83m)."""
    import numpy as np

    from mdtplan.solve import stages
    from mdtplan.solve.budget import TimeBudget
    from mdtplan.solve.session import Session
    from mdtplan.solve.status import SolveOptions

    data = prepare(_scenario(repo_root, tmp_path, objective="max_demand_met")).data
    options = SolveOptions(mip_gap=0.0, threads=1, time_limit_s=30)
    session = Session.from_data(data, options)
    assert session.solve(options).status.value == "optimal"
    best = session._last_x.copy()
    (first, v0, o0, hold0), (second, v1, o1, hold1) = session._stages[:2]
    assert (first, second) == ("unmet_hours", "cost_gbp") and hold0 is not None
    lo, hi = session._mm.col_spans["lever_people"]
    assert best[lo:hi].sum() > 0  # the cost goal runs the lever
    # the same plan with its levers at nothing: what the first goal alone may end on
    cut = best.copy()
    cut[lo:hi] = 0.0
    value = lambda vec, off, x: float(vec @ x[: len(vec)] + off)  # noqa: E731
    assert value(v1, o1, cut) > value(v1, o1, best) + 1.0

    before = [stages.hold_bound(session, h) for h in (hold0, hold1) if h is not None]
    alone = stages.polish(session, cut, TimeBudget(30), first)
    both = stages.polish(session, cut, TimeBudget(30), first, session._stages, options, 0)
    assert value(v0, o0, both) == pytest.approx(value(v0, o0, best), abs=1e-3)
    assert value(v1, o1, both) == pytest.approx(value(v1, o1, best), rel=1e-7)
    assert both[lo:hi].sum() == pytest.approx(best[lo:hi].sum(), rel=1e-6)
    assert value(v1, o1, alone) >= value(v1, o1, both) * (1 - 1e-8)
    # the holds are as they were and the first goal's costs are back: the next goal may run
    assert [stages.hold_bound(session, h) for h in (hold0, hold1) if h is not None] == before
    costs = np.asarray(session.highs.getLp().col_cost_, dtype=float)
    assert np.allclose(costs[: len(v0)], v0)

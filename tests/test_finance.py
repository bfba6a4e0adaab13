"""The savings table, Monte Carlo draws and demand changes of mdtplan.appraisal.finance (no solve)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mdtplan.appraisal.finance import (
    demand_draws,
    monte_carlo_savings,
    percentiles,
    plan_savings,
    sample_range,
    savings_table,
    workstream_demand_multipliers,
)
from mdtplan.errors import ScenarioError
from mdtplan.operating_model import load_operating_model
from mdtplan.scenario import FinanceConfig, apply_overrides, load_scenario, read_document
from mdtplan.summary import BaselineSummary, Percentiles, Range, Summary

M = 1e6


class _Scenario:
    """A scenario stand-in: just the sections finance reads."""

    def __init__(self, finance: dict, demand: dict | None = None):
        from mdtplan.scenario import DemandConfig

        self.finance = FinanceConfig.model_validate(finance)
        self.demand = DemandConfig.model_validate(demand or {})


def _lines(*ranges, cashable=True):
    return [{"name": f"W{i}", "low": lo, "high": hi, "cashable": cashable}
            for i, (lo, hi) in enumerate(ranges)]


def test_leicestershire_table_from_its_example(repo_root):
    scenario = load_scenario(repo_root / "examples" / "leicestershire.yaml")
    t = savings_table(scenario, load_operating_model(scenario.operating_model))
    assert len(t.lines) == 7
    assert t.totals.total.low == pytest.approx(10.45 * M)
    assert t.totals.overall.high == pytest.approx(12.6 * M)
    # most likely defaults to mid-range, line by line
    assert t.totals.total.most_likely == pytest.approx((10.45 + 13.85) / 2 * M)
    assert t.payback_year == Range(low=1, most_likely=1, high=1)


def test_ratio_basis_and_pass_fail_are_computed_not_copied():
    base = {"investment": 4e6, "required_ratio": 1.5,
            "workstreams": _lines((5e6, 7e6)) + _lines((2e6, 2e6), cashable=False)}
    cash = savings_table(_Scenario(base))
    assert cash.benefit_to_investment.low == pytest.approx(5 / 4)
    assert cash.passes == Range(low=False, most_likely=True, high=True)
    total = savings_table(_Scenario({**base, "ratio_basis": "total"}))
    assert total.benefit_to_investment.low == pytest.approx(7 / 4)
    assert total.passes.low is True
    no_required = savings_table(_Scenario({**base, "required_ratio": None}))
    assert no_required.passes == Range(low=None, most_likely=None, high=None)


def test_already_in_plan_is_deducted_from_cashable_and_overall_only():
    t = savings_table(_Scenario({"already_in_plan": 1e6,
                                 "workstreams": _lines((4e6, 6e6))
                                 + _lines((1e6, 1e6), cashable=False)}))
    assert t.totals.cashable_net.low == pytest.approx(3e6)
    assert t.totals.overall.high == pytest.approx(6e6)
    assert t.totals.quality.low == pytest.approx(1e6)    # untouched


def test_phasing_sets_the_payback_year():
    t = savings_table(_Scenario({"investment": 2e6, "years": 4, "workstreams": [
        {"name": "slow", "low": 1e6, "high": 1e6, "phasing": [0.25, 0.5, 1.0]}]}))
    # cumulative: 0.25, 0.75, 1.75, 2.75 (m)
    assert [r.cumulative.low for r in t.by_year] == pytest.approx(
        [0.25e6, 0.75e6, 1.75e6, 2.75e6])
    assert t.payback_year.low == 4
    never = savings_table(_Scenario({"investment": 9e6, "years": 3,
                                     "workstreams": _lines((1e6, 1e6))}))
    assert never.payback_year.high is None


def test_workstream_range_is_validated():
    with pytest.raises(Exception, match="most_likely"):
        FinanceConfig.model_validate({"workstreams": [
            {"name": "x", "low": 5, "high": 9, "most_likely": 10}]})
    with pytest.raises(Exception, match="above high"):
        FinanceConfig.model_validate({"workstreams": [{"name": "x", "low": 9, "high": 5}]})


@settings(max_examples=60, deadline=None)
@given(low=st.floats(0, 1e7), width=st.floats(0, 1e7), m=st.floats(0, 1),
       dist=st.sampled_from(["pert", "triangular"]), seed=st.integers(0, 2**32 - 1))
def test_draws_lie_within_the_range(low, width, m, dist, seed):
    high = low + width
    mode = low + m * width
    x = sample_range(np.random.default_rng(seed), low, mode, high, 500, dist)
    assert x.min() >= low - 1e-9 * max(1, high) and x.max() <= high + 1e-9 * max(1, high)


def test_pert_mean_and_mode_follow_the_most_likely_value():
    rng = np.random.default_rng(3)
    x = sample_range(rng, 0.0, 1.0, 10.0, 200_000, "pert")
    assert x.mean() == pytest.approx((0 + 4 * 1 + 10) / 6, rel=0.01)
    t = sample_range(rng, 0.0, 1.0, 10.0, 200_000, "triangular")
    assert t.mean() == pytest.approx((0 + 1 + 10) / 3, rel=0.01)


def test_monte_carlo_is_reproducible_and_within_bounds(repo_root):
    scenario = load_scenario(repo_root / "examples" / "leicestershire.yaml")
    om = load_operating_model(scenario.operating_model)
    a = monte_carlo_savings(scenario, om)
    b = monte_carlo_savings(scenario, om)
    assert a == b                                         # same seed, same percentiles
    table = savings_table(scenario, om)
    pairs = [(a.percentiles.total, table.totals.total),
             (a.percentiles.cashable, table.totals.cashable),
             (a.percentiles.quality, table.totals.quality),
             (a.percentiles.cashable_net, table.totals.cashable_net),
             (a.percentiles.overall, table.totals.overall)]
    for p, figure in pairs:
        assert figure.low <= p.p10 <= p.p50 <= p.p90 <= figure.high, figure
    # independent lines: the sum concentrates, so P10 of the ratio clears 1.5 though the
    # all-low corner (1.45x) does not, and the share passing agrees with the percentiles
    ratio = a.percentiles.benefit_to_investment
    assert ratio.p10 > 1.5 > table.benefit_to_investment.low
    assert a.probability_passes >= 0.9
    other = load_scenario(repo_root / "examples" / "leicestershire.yaml",
                          ["finance.monte_carlo.seed=99"])
    c = monte_carlo_savings(other, om)
    assert c.percentiles.total.p50 != a.percentiles.total.p50


def test_demand_draws_are_seeded_overrides_within_their_ranges():
    s = _Scenario({"monte_carlo": {"seed": 4, "solves": 7, "demand_rates": {
        "reablement": {"low": 0.9, "high": 1.2}, "reviews_older_people": {"low": 1, "high": 1}}}},
        demand={"client_groups": {"reablement": 2.0}})
    draws = demand_draws(s)
    assert len(draws) == 7 and draws == demand_draws(s)
    for d in draws:   # the scenario's own multiplier is kept under the drawn one
        assert 1.8 <= d["demand.client_groups.reablement"] <= 2.4
        assert d["demand.client_groups.reviews_older_people"] == 1.0


def test_percentiles_of_nothing_are_empty():
    assert percentiles([]) == Percentiles(p10=None, p50=None, p90=None, mean=None, n=0)
    assert percentiles([]).to_dict() == {"p10": None, "p50": None, "p90": None, "mean": None,
                                         "n": 0}


def test_plan_savings_lines_add_up_to_the_total():
    base = {"cost_by_role": {"sw": 110.0, "ot": 50.0}, "agency_cost_by_role": {"sw": 10.0},
            "agency_cost": 10.0, "site_cost": 40.0, "total_cost": 200.0}
    plan = {"cost_by_role": {"sw": 90.0, "ot": 60.0}, "agency_cost_by_role": {},
            "agency_cost": 0.0, "site_cost": 30.0, "total_cost": 180.0}
    s = plan_savings(BaselineSummary.from_dict(base), Summary.from_dict(plan))
    lines = {ln.line: ln.saving_gbp for ln in s.lines}
    assert lines == {"staff: sw": 10.0, "staff: ot": -10.0, "agency premium": 10.0,
                     "sites": 10.0}
    assert s.total.saving_gbp == sum(lines.values()) == 20.0


def test_workstream_demand_change_names_its_key(repo_root):
    doc = read_document(repo_root / "examples" / "demo.yaml")
    om = load_operating_model(repo_root / "models" / "default.yaml")
    bad = apply_overrides(doc, {"finance.workstreams.0.demand_change": {"no_such_group": -0.1}})
    from mdtplan.scenario import parse_scenario

    scenario = parse_scenario(bad, file="demo.yaml", base_dir=repo_root / "examples")
    with pytest.raises(ScenarioError) as err:
        workstream_demand_multipliers(scenario, om)
    problem = err.value.problems[0]
    assert problem.column == "finance.workstreams[0].demand_change.no_such_group"
    assert "requests_for_support" in problem.hint
    ok = parse_scenario(doc, file="demo.yaml", base_dir=repo_root / "examples")
    groups, paths = workstream_demand_multipliers(ok, om)
    assert groups == {"requests_for_support": pytest.approx(0.97)} and paths == {}


def test_demand_changes_reach_the_model_data(repo_root):
    """A workstream's demand change and the scenario's demand section change the hours."""
    from mdtplan.pipeline import prepare

    path = repo_root / "examples" / "demo.yaml"
    plain = prepare(load_scenario(path, ["finance.workstreams.0.demand_change=null"]))
    changed = prepare(load_scenario(path))
    scaled = prepare(load_scenario(path, ["finance.workstreams.0.demand_change=null",
                                          "demand.scale=1.1"]))
    a, b = plain.demand_hours.to_numpy().sum(), changed.demand_hours.to_numpy().sum()
    assert b < a
    assert scaled.demand_hours.to_numpy().sum() == pytest.approx(1.1 * a)
    with pytest.raises(ScenarioError, match="not a client group"):
        prepare(load_scenario(path, ["demand.client_groups.nobody=1.2"]))

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


def _published_lines(scenario, om) -> list:
    """The council's published table as the savings lines the model makes: each fidelity row
    of a lever at its published range (most likely mid-range), cashable as the lever is. The
    finance arithmetic is checked on these; the levers' own figures lie inside the ranges
    (tests/test_council_levers.py)."""
    from mdtplan.summary import Line

    cashable = {lv.id: lv.cashable for lv in om.levers}
    lines = []
    for fig in scenario.fidelity.figures:
        if fig.model and "lines[id=" in fig.model:
            lever = fig.model.split("[id=", 1)[1].rstrip("]")
            low, high = fig.published.low, fig.published.high
            lines.append(Line(name=fig.figure, low=low, high=high, most_likely=(low + high) / 2,
                              cashable=cashable[lever], source="model", id=lever))
    return lines


def _leicestershire(repo_root, overrides=None):
    scenario = load_scenario(repo_root / "examples" / "leicestershire.yaml", overrides)
    om = load_operating_model(scenario.operating_model)
    return scenario, om, _published_lines(scenario, om)


def test_leicestershire_table_from_its_example(repo_root):
    scenario, om, lines = _leicestershire(repo_root)
    t = savings_table(scenario, om, lines)
    assert len(t.lines) == 7 and {ln.source for ln in t.lines} == {"model"}
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
    scenario, om, lines = _leicestershire(repo_root)
    a = monte_carlo_savings(scenario, om, lines)
    b = monte_carlo_savings(scenario, om, lines)
    assert a == b                                         # same seed, same percentiles
    table = savings_table(scenario, om, lines)
    pairs = [(a.percentiles.total, table.totals.total),
             (a.percentiles.cashable, table.totals.cashable),
             (a.percentiles.quality, table.totals.quality),
             (a.percentiles.cashable_net, table.totals.cashable_net),
             (a.percentiles.overall, table.totals.overall)]
    for p, figure in pairs:
        assert figure.low <= p.p10 <= p.p50 <= p.p90 <= figure.high, figure
    # on the stricter cashable-net reading, independent lines: the sum concentrates, so P10 of
    # the ratio clears 1.5 though the all-low corner (1.45x) does not, and the share passing
    # agrees with the percentiles
    strict, _, _ = _leicestershire(repo_root, ["finance.ratio_basis=cashable_net"])
    s = monte_carlo_savings(strict, om, lines)
    ratio = s.percentiles.benefit_to_investment
    assert ratio.p10 > 1.5 > savings_table(strict, om, lines).benefit_to_investment.low
    assert s.probability_passes >= 0.9
    # the council's reading (the total): every draw passes, the low corner is 2.32x
    assert a.probability_passes == 1.0
    assert a.percentiles.benefit_to_investment.p10 > table.benefit_to_investment.low > 2.3
    other, _, _ = _leicestershire(repo_root, ["finance.monte_carlo.seed=99"])
    c = monte_carlo_savings(other, om, lines)
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


# --------------------------------------------------------------------------------------------
# The council's reading of the fee test, the fee clause, years, NPV and payback


def test_leicestershire_fee_test_in_the_councils_reading(repo_root):
    """"recurrent annualised benefit greater than 1.5 times the one-off fee": the total."""
    scenario, om, lines = _leicestershire(repo_root)
    t = savings_table(scenario, om, lines)
    assert t.ratio_basis == "total"
    assert t.benefit_to_investment.low == pytest.approx(10.45 / 4.5)      # 2.32x
    assert t.passes == Range(low=True, most_likely=True, high=True)
    readings = {r.basis: r for r in t.ratio_readings}
    assert [r.basis for r in t.ratio_readings if r.chosen] == ["total"]
    cash = readings["cashable_net"]
    assert cash.benefit.low == pytest.approx(6.54 * M)
    assert cash.ratio.low == pytest.approx(6.54 / 4.5)                    # 1.45x
    assert cash.passes == Range(low=False, most_likely=True, high=True)
    assert readings["total_net"].ratio.low == pytest.approx(9.2 / 4.5)
    assert readings["total_net"].passes.low is True
    # on the total no reduction is due
    assert t.fee_clause.fee == 4.5 * M and t.fee_clause.basis == "total"
    assert t.fee_after_reduction == Range(low=4.5 * M, most_likely=4.5 * M, high=4.5 * M)
    # on the cashable-net reading the low end's fee falls to 6.54 / 1.5 = 4.36m; the most
    # likely cashable net, (7.79 + 10.43) / 2 - 1.25 = 7.86m, clears 1.5 x 4.5m: no reduction
    strict, _, _ = _leicestershire(repo_root, ["finance.fee_clause.basis=cashable_net"])
    s = savings_table(strict, om, lines)
    assert s.fee_after_reduction.low == pytest.approx(4.36 * M)
    assert s.fee_after_reduction.most_likely == pytest.approx(4.5 * M)
    assert s.to_dict()["fee_after_reduction"]["low"] == pytest.approx(4.36 * M)


def test_fee_clause_defaults_to_the_investment_and_the_required_ratio():
    base = {"investment": 4.5e6, "required_ratio": 1.5,
            "workstreams": [{"name": "A", "low": 6.54e6, "most_likely": 7e6, "high": 9e6}]}
    t = savings_table(_Scenario({**base, "fee_clause": {}}))
    assert t.fee_clause.fee == 4.5e6 and t.fee_clause.required_ratio == 1.5
    assert t.fee_clause.basis == "cashable_net"
    # low: 6.54 / 1.5 = 4.36m; most likely: 7 / 1.5 = 4.667m > 4.5m, no reduction
    assert t.fee_after_reduction.low == pytest.approx(4.36e6)
    assert t.fee_after_reduction.most_likely == pytest.approx(4.5e6)
    # a fee of its own, at 2x: 9 / 2 = 4.5m < 5m at the high end
    own = savings_table(_Scenario({**base, "fee_clause": {"fee": 5e6, "required_ratio": 2}}))
    assert own.fee_after_reduction == Range(low=pytest.approx(3.27e6),
                                            most_likely=pytest.approx(3.5e6),
                                            high=pytest.approx(4.5e6))
    assert savings_table(_Scenario(base)).fee_after_reduction is None
    assert "fee_after_reduction" not in savings_table(_Scenario(base)).to_dict()
    with pytest.raises(Exception, match="fee_clause needs a ratio"):
        FinanceConfig.model_validate({"investment": 1, "fee_clause": {"fee": 1}})


def test_npv_and_net_position_of_phased_savings_and_investment():
    """By hand: investment 1,000 spent 60% / 40%; a saving of 500 reached half in year 1."""
    t = savings_table(_Scenario({
        "investment": 1000, "investment_phasing": [0.6, 0.4], "years": 3,
        "discount_rate": 0.10,
        "workstreams": [{"name": "A", "low": 500, "high": 500, "phasing": [0.5, 1.0]}]}))
    rows = t.by_year
    assert [r.investment for r in rows] == pytest.approx([600, 400, 0])
    assert [r.cumulative_investment for r in rows] == pytest.approx([600, 1000, 1000])
    assert [r.saving.low for r in rows] == pytest.approx([250, 500, 500])
    # net position: cumulative savings less cumulative investment
    assert [r.net.low for r in rows] == pytest.approx([250 - 600, 750 - 1000, 1250 - 1000])
    assert [r.discount_factor for r in rows] == pytest.approx([1 / 1.1, 1 / 1.21, 1 / 1.331])
    # flows -350, +100, +500, year 1 discounted once
    assert t.npv.most_likely == pytest.approx(-350 / 1.1 + 100 / 1.1**2 + 500 / 1.1**3)
    assert t.npv.most_likely == pytest.approx(140.1202, abs=1e-4)
    assert sum(r.present_value.low for r in rows) == pytest.approx(t.npv.low)
    assert t.payback_year.low == 3
    # year 1 undiscounted (the Green Book's year 0)
    t0 = savings_table(_Scenario({
        "investment": 1000, "investment_phasing": [0.6, 0.4], "years": 3,
        "discount_rate": 0.10, "discount_year_one": 0,
        "workstreams": [{"name": "A", "low": 500, "high": 500, "phasing": [0.5, 1.0]}]}))
    assert t0.npv.low == pytest.approx(-350 + 100 / 1.1 + 500 / 1.21)
    row = t.to_dict()["by_year"][0]
    assert row["investment"] == 600 and row["present_value_low"] == pytest.approx(-350 / 1.1)


def test_npv_defaults_to_the_green_book_rate_and_all_investment_in_year_one():
    t = savings_table(_Scenario({"investment": 4e6, "years": 2,
                                 "workstreams": _lines((3e6, 3e6))}))
    assert t.discount_rate == 0.035 and t.investment_phasing == (1.0,)
    assert t.npv.low == pytest.approx((3e6 - 4e6) / 1.035 + 3e6 / 1.035**2)
    assert t.to_dict()["npv"]["high"] == pytest.approx(t.npv.high)


def test_payback_year_uses_the_phased_investment():
    def payback(saving, phasing, years=4):
        return savings_table(_Scenario({
            "investment": 2e6, "investment_phasing": phasing, "years": years,
            "workstreams": _lines((saving, saving))})).payback_year.low

    # 1.5m a year against 1m + 1m: net 0.5m, then 1m -> paid back in year 1
    assert payback(1.5e6, [0.5, 0.5]) == 1
    # 0.8m a year: -0.2m, -0.4m, +0.4m -> year 3
    assert payback(0.8e6, [0.5, 0.5]) == 3
    # 0.5m a year against 0.4m then 1.6m: +0.1m, -1.0m, -0.5m, 0 -> year 4, not year 1 (the
    # position dips again when the rest is spent)
    assert payback(0.5e6, [0.2, 0.8]) == 4
    # all in year 1 (the default): 2m / 0.8m a year -> cumulative 0.8, 1.6, 2.4 -> year 3
    assert payback(0.8e6, None) == 3
    # nothing spent in year 1: no payback before any investment
    assert payback(3e6, [0.0, 1.0]) == 2
    assert payback(0.1e6, [1.0], years=3) is None


def test_investment_phasing_must_sum_to_one_and_fit_the_years(repo_root):
    from mdtplan.scenario import parse_scenario

    doc = read_document(repo_root / "examples" / "demo.yaml")
    bad = apply_overrides(doc, {"finance.investment_phasing": [0.5, 0.4]})
    with pytest.raises(ScenarioError) as err:
        parse_scenario(bad, file="demo.yaml", base_dir=repo_root / "examples")
    problem = err.value.problems[0]
    assert problem.file == "demo.yaml"
    assert problem.column == "finance.investment_phasing"
    assert "sum to 0.9" in problem.message
    ok = apply_overrides(doc, {"finance.investment_phasing": [0.5, 0.3, 0.2]})
    parse_scenario(ok, file="demo.yaml", base_dir=repo_root / "examples")
    within = apply_overrides(doc, {"finance.investment_phasing": [0.5, 0.5000000001]})
    parse_scenario(within, file="demo.yaml", base_dir=repo_root / "examples")
    long = apply_overrides(doc, {"finance.investment_phasing": [0.5, 0.5], "finance.years": 1})
    with pytest.raises(ScenarioError, match="investment_phasing has 2 shares"):
        parse_scenario(long, file="demo.yaml", base_dir=repo_root / "examples")


def test_labels_and_definitions_name_every_figure():
    t = savings_table(_Scenario({"investment": 1e6, "baseline": {},
                                 "workstreams": _lines((2e6, 2e6))}))
    doc = t.to_dict()
    assert doc["labels"]["cost_against_today"] == "Cost against today"
    assert doc["labels"]["totals.total"] == "Savings (workstreams)"
    assert "not the workstream savings" in doc["definitions"]["cost_against_today"]
    for key in ("net_of_investment", "npv", "payback_year", "benefit_to_investment"):
        assert doc["definitions"][key].endswith(".") and key in doc["labels"]
    # figures the scenario does not have are not defined
    assert "fee_after_reduction" not in doc["labels"]
    assert "cost_against_today" not in savings_table(
        _Scenario({"workstreams": _lines((1, 1))})).labels


def test_finance_block_round_trips_through_summary_json():
    from mdtplan.summary import FinanceAppraisal

    t = savings_table(_Scenario({"investment": 1e6, "investment_phasing": [0.5, 0.5],
                                 "required_ratio": 1.5, "fee_clause": {},
                                 "workstreams": _lines((1e6, 2e6))}))
    back = FinanceAppraisal.from_dict(t.to_dict())
    assert back == t

"""Finance as a user runs it: `mdtplan solve` with a baseline and Monte Carlo demand draws,
then `mdtplan compare --csv`."""

from __future__ import annotations

import csv
import json

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from mdtplan.cli import app
from mdtplan.pipeline import prepare
from mdtplan.scenario import load_scenario

# Fast, honest settings for the demo: the cheapest plan that meets all demand (no cap), to a 5%
# gap or 4 s; two demand draws, each a real re-solve under drawn contact rates.
FAST = ["objective=min_cost", "budget.cap=null", "solver.mip_gap=0.05",
        "finance.monte_carlo.solves=2", "finance.monte_carlo.draws=2000"]
RATES = ("finance.monte_carlo.demand_rates={reablement: {low: 0.8, high: 1.3}, "
         "assessments_older_people: {low: 0.9, most_likely: 1.0, high: 1.2}}")


@pytest.fixture(scope="module")
def solved(tmp_path_factory, repo_root):
    out = tmp_path_factory.mktemp("demo_finance")
    args = ["solve", str(repo_root / "examples" / "demo.yaml"), "--out", str(out),
            "--time-limit", "20"]  # one limit for the solve, baseline and both draws
    for item in [*FAST, RATES]:
        args += ["--set", item]
    r = CliRunner().invoke(app, args, catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "Cost against today" in r.output and "Benefit to investment" in r.output
    summary = json.loads((out / "summary.json").read_text())
    return out, summary, r.output


@pytest.mark.slow
def test_each_demand_draw_is_a_real_resolve_of_its_own_demand(solved, repo_root):
    out, summary, _ = solved
    demand = summary["finance"]["monte_carlo"]["demand"]
    assert demand["solves"] == 2 and demand["failed"] == 0
    hours = []
    for draw in demand["draws"]:
        assert draw["status"] in ("optimal", "feasible_at_limit")
        overrides = [*FAST, "finance.monte_carlo=null",
                     f"demand.client_groups.reablement={draw['reablement']}",
                     "demand.client_groups.assessments_older_people="
                     f"{draw['assessments_older_people']}"]
        assert 0.8 <= draw["reablement"] <= 1.3
        assert 0.9 <= draw["assessments_older_people"] <= 1.2
        want = prepare(load_scenario(repo_root / "examples" / "demo.yaml", overrides))
        assert draw["demand_hours"] == pytest.approx(want.demand_hours.to_numpy().sum())
        # the plan meets the drawn demand (min_cost meets all of it): a real re-solve
        assert draw["demand_met_share"] == pytest.approx(1.0)
        assert draw["saving_vs_baseline"] == pytest.approx(
            summary["baseline"]["total_cost"] - draw["total_cost"])
        hours.append(draw["demand_hours"])
    assert hours[0] != hours[1]
    p = demand["total_cost"]
    costs = [d["total_cost"] for d in demand["draws"]]
    assert min(costs) <= p["p10"] <= p["p50"] <= p["p90"] <= max(costs)


def test_workbook_carries_the_baseline_and_monte_carlo(solved):
    out, summary, _ = solved
    wb = load_workbook(out / "summary.xlsx")
    assert {"Baseline vs scenario", "Savings", "Savings by year", "Monte Carlo",
            "Cost by hub"} <= set(wb.sheetnames)
    mc = wb["Monte Carlo"]
    labels = [mc.cell(r, 1).value for r in range(1, mc.max_row + 1)]
    assert "Demand draws (each a re-solve)" in labels
    row = labels.index("Demand met") + 1
    assert mc.cell(row, 3).value == pytest.approx(
        summary["finance"]["monte_carlo"]["demand"]["demand_met_share"]["p50"])
    assert mc.freeze_panes == "A2"
    hub = wb["Cost by hub"]
    assert hub.cell(hub.max_row, 1).value == "Total"
    assert str(hub.cell(hub.max_row, 2).value).startswith("=SUM(B2:B")
    # the formulas' stored values are summary.json's figures
    stored = load_workbook(out / "summary.xlsx", data_only=True)
    years, fin = stored["Savings by year"], summary["finance"]
    labels = [years.cell(r, 1).value for r in range(1, years.max_row + 1)]
    top = labels.index("Year") + 1
    heads = {years.cell(top, c).value: c for c in range(1, years.max_column + 1)}
    for row in fin["by_year"]:
        r = top + row["year"]
        assert wb["Savings by year"].cell(r, heads["Net position low"]).value.startswith("=")
        assert years.cell(r, heads["Net position low"]).value == pytest.approx(row["net_low"])
        assert years.cell(r, heads["Present value high"]).value == pytest.approx(
            row["present_value_high"])
    npv = labels.index("Net present value (sum of present values)") + 1
    assert years.cell(npv, heads["Present value most likely"]).value == pytest.approx(
        fin["npv"]["most_likely"])
    base = stored["Baseline vs scenario"]
    last = [base.cell(r, 1).value for r in range(1, base.max_row + 1)].index(
        "Cost against today (plan less today)") + 1
    assert base.cell(last, 4).value == pytest.approx(-summary["savings"]["total"]["saving_gbp"])


def test_savings_waterfall_is_drawn_and_adds_up(solved):
    from mdtplan.outputs.plots import waterfall_steps
    from mdtplan.summary import Summary

    out, summary, _ = solved
    png = out / "savings_waterfall.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    bars = waterfall_steps(Summary.from_dict(summary))
    for panel, end in (("workstreams", summary["finance"]["net_of_investment"]["most_likely"]),
                       ("baseline", summary["total_cost"])):
        rows = [b for b in bars if b["panel"] == panel]
        steps = sum(b["value"] for b in rows if b["kind"] == "step")
        first = rows[0]["value"] if rows[0]["kind"] == "total" else 0.0
        assert rows[-1]["kind"] == "total"
        assert first + steps == pytest.approx(rows[-1]["value"]) == pytest.approx(end)


def test_compare_writes_the_side_by_side_table(solved, tmp_path):
    out, summary, _ = solved
    target = tmp_path / "compare.csv"
    r = CliRunner().invoke(app, ["compare", str(out), str(out), "--csv", str(target)],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    rows = {row[0]: row[1:] for row in csv.reader(target.open(encoding="utf-8"))}
    # the plan's cost less today's: the saving against today with its sign turned
    assert float(rows["Cost against today (plan's cost less today's)"][0]) == pytest.approx(
        -summary["savings"]["total"]["saving_gbp"])
    assert float(rows["Savings (workstreams), low"][0]) == pytest.approx(
        summary["finance"]["totals"]["total"]["low"])
    assert float(rows["Net present value, most likely"][0]) == pytest.approx(
        summary["finance"]["npv"]["most_likely"])
    assert float(rows["Net of investment, most likely"][1]) == pytest.approx(
        summary["finance"]["net_of_investment"]["most_likely"])
    assert float(rows["Total cost"][0]) == pytest.approx(summary["total_cost"])


def test_the_table_says_which_figure_is_which(solved):
    """Cost against today, the workstream savings and the net of investment are different
    calculations: each row says which, and a note under the table explains them."""
    from mdtplan.cli import _finance_rows
    from mdtplan.summary import Summary

    out, summary, text = solved
    rows = dict(_finance_rows(Summary.from_dict(summary)))
    cost = summary["total_cost"] - summary["baseline"]["total_cost"]
    sign, words = ("+", "the plan costs more") if cost > 0 else ("−", "the plan costs less")
    met = summary["savings"]["demand_met_share"]
    assert rows["Cost against today (plan less today)"] == (
        f"{sign}£{abs(cost):,.0f} a year: {words}, meeting {met['scenario']:.1%} of demand "
        f"against today's {met['baseline']:.1%}")
    fin = summary["finance"]
    assert rows["Savings (workstreams), low – likely – high"].startswith(
        f"£{fin['totals']['total']['low']:,.0f} – ")
    assert rows["Net of investment (one year), cashable less in plan"].endswith(
        f" – £{fin['net_of_investment']['high']:,.0f}")
    assert rows["Net present value, 5 years at 3.5%"].startswith(
        f"+£{fin['npv']['low']:,.0f} – ")
    flat = " ".join(text.split())
    note = flat[flat.index("What each finance figure is"):]
    for key in ("cost_against_today", "totals.total", "net_of_investment", "npv"):
        label = summary["finance"]["labels"][key]
        words = " ".join(summary["finance"]["definitions"][key].split())
        assert f"{label}: {words}" in note, key

"""Every example solves as a user runs it, and every rule holds when re-checked independently
from the input and the output files only (tests/checker.py, pandas, no Pyomo)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from checker import catchment_pieces_on_the_map, check_plan
from typer.testing import CliRunner

from mdtplan.cli import app
from mdtplan.pipeline import prepare
from mdtplan.scenario import load_scenario, parse_scenario

#: the slow tier: each council example is a real solve of 20-60 s on two cores
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]

# (example, time limit [s] for the test run); Kent has its own test below
# Medway 45 s: on a loaded 2-core CI worker its baseline (today's configuration, 0.3 s quiet)
# was twice left without a plan at 30 s, since the dual-simplex root LP (session 13)
EXAMPLES = [("demo", 30), ("medway", 45), ("leicestershire", 40), ("york", 20)]


def solve_and_check(name: str, limit: float, out: Path) -> tuple[dict, pd.DataFrame, dict]:
    """Solve an example with the CLI, re-check every rule, and check its finance outputs."""
    r = CliRunner().invoke(app, ["solve", str(REPO / "examples" / f"{name}.yaml"), "--out",
                                 str(out), "--time-limit", str(limit)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] in ("optimal", "feasible_at_limit")
    # the inputs again, from the scenario exactly as solved (written beside the outputs)
    scenario = parse_scenario(json.loads((out / "scenario.json").read_text()))
    prepared = prepare(scenario)
    data = prepared.data
    read = {"dtype": {"area_id": str, "site_id": str, "unit": str}}
    hubs = pd.read_csv(out / "hubs.csv", **read)
    tables = {
        "assignment": pd.read_csv(out / "assignment.csv", **read),
        "hubs": pd.DataFrame({"site_id": data.sites.index.astype(str),
                              "open": data.sites.index.isin(hubs["site_id"])}),
        "staffing": pd.read_csv(out / "staffing.csv", **read).fillna(0.0),
    }
    if (out / "levers.csv").is_file():  # the people each hub's levers reach
        levers = pd.read_csv(out / "levers.csv", dtype={"lever_id": str, "site_id": str})
        tables["levers"] = levers.dropna(subset=["site_id"])
    violations = check_plan(data, tables)
    assert violations == [], violations[:10]
    # what the map shows (issue 18): one piece per catchment, every hub in its own area, hubs
    # at least the separation apart
    geo = summary["geography"]
    assert geo["catchments_in_pieces"] == 0, geo["pieces_per_catchment"]
    assert set(geo["pieces_per_catchment"]) == set(hubs["site_id"])
    assert geo["hubs_not_serving_own_area"] in ([], None)
    if summary["hubs_open"] > 1:
        assert geo["min_hub_separation_km"] >= scenario.hubs.min_separation_km - 1e-9
    assert all(s["gap"] is None or s["gap"] >= 0 for s in summary["stages"])
    if scenario.hubs.contiguous:  # one piece on the map too (shapely, not the model's graph)
        pieces = catchment_pieces_on_the_map(prepared.inputs.areas, tables["assignment"],
                                             data.edges)
        assert len(pieces) == len(hubs) and (pieces == 1).all(), pieces[pieces > 1]
    check_finance(name, summary, out / "summary.xlsx")
    return summary, hubs, tables


M = 1e6
# Each council's published savings table (⚠ seed figures: see the operating models): the
# finance block's low and high must lie within it, {figure: (low, high)} [GBP/year]
# (Leicestershire's and York's lines are the model's levers, calibrated to the ranges; York's
# single figure within ±10%, models/README.md "Levers: York"; Kent's levers are checked below)
PUBLISHED = {
    "leicestershire": {"total": (10.45 * M, 13.85 * M), "cashable": (7.79 * M, 10.43 * M),
                       "cashable_net": (6.54 * M, 9.18 * M), "quality": (2.66 * M, 3.42 * M),
                       "overall": (9.2 * M, 12.6 * M)},
    "york": {"total": (0.9 * 1.264 * M, 1.1 * 1.264 * M)},
}


def _evaluated(xlsx: Path) -> dict:
    """Every cell of the workbook with its formulas calculated (the ``formulas`` package)."""
    import formulas

    solution = formulas.ExcelModel().loads(str(xlsx)).finish().calculate()
    out = {}
    for key, value in solution.items():
        sheet_cell = key.split("]", 1)[-1]            # SHEET'!B12
        sheet, _, cell = sheet_cell.rpartition("!")
        out[(sheet.strip("'").upper(), cell)] = getattr(value, "value", value)[0][0]
    return out


def _savings_rows(xlsx: Path) -> dict:
    """Savings sheet label -> (B, C, D) evaluated: low, most likely, high."""
    from openpyxl import load_workbook

    cells = _evaluated(xlsx)
    ws = load_workbook(xlsx)["Savings"]
    return {ws.cell(r, 1).value: tuple(cells.get(("SAVINGS", f"{c}{r}")) for c in "BCD")
            for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value}


def check_finance(name: str, summary: dict, xlsx: Path) -> None:
    finance = summary.get("finance")
    assert finance is not None                   # every example has a baseline at least
    check_baseline(name, summary, xlsx)
    for figure, (low, high) in PUBLISHED.get(name, {}).items():
        got = finance["totals"][figure]
        assert low * (1 - 1e-9) <= got["low"] <= got["high"] <= high * (1 + 1e-9), figure
    rows = _savings_rows(xlsx)
    labels = {"total": "Total savings", "cashable": "Cashable",
              "quality": "Quality (non-cashable)",
              "cashable_net": "Cashable, less already in plan",
              "overall": "Overall (total less already in plan)"}
    for figure, label in labels.items():         # the workbook's formulas give the same table
        want = finance["totals"][figure]
        assert rows[label] == pytest.approx((want["low"], want["most_likely"], want["high"]))
    net = next(v for k, v in rows.items() if k.startswith("Net of investment"))
    assert net == pytest.approx(tuple(finance["net_of_investment"][lv]
                                      for lv in ("low", "most_likely", "high")))
    if name == "leicestershire":
        assert finance["already_in_plan"] == pytest.approx(1.25 * M)
        assert finance["investment"] == pytest.approx(4.5 * M)
        assert finance["required_ratio"] == 1.5
        # the council's reading: the total recurrent benefit, the model's £10.98m / 4.5m =
        # 2.44x (2.32x on the published low end)
        ratio = finance["benefit_to_investment"]
        assert finance["ratio_basis"] == "total"
        assert ratio["low"] == pytest.approx(finance["totals"]["total"]["low"] / (4.5 * M))
        assert ratio["low"] > 10.45 / 4.5
        assert finance["passes"] == {"low": True, "most_likely": True, "high": True}
        assert rows["Test"] == ("pass", "pass", "pass")
        # the stricter reading, cashable less already in plan: the model's low end, £8.22m
        # less £1.25m, is 1.55x (the published low end, 1.45x, fails)
        strict = next(r for r in finance["ratio_readings"] if r["basis"] == "cashable_net")
        assert strict["ratio"]["low"] == pytest.approx(
            (finance["totals"]["cashable"]["low"] - 1.25 * M) / (4.5 * M))
        assert strict["ratio"]["low"] > 6.54 / 4.5
        assert finance["fee_after_reduction"]["low"] == pytest.approx(4.5 * M)
        mc = finance["monte_carlo"]["percentiles"]["cashable_net"]
        assert 6.54 * M <= mc["p10"] <= mc["p50"] <= mc["p90"] <= 9.18 * M
    if name == "kent":   # the saving is the model's levers, calibrated to £9.8m within 5%
        assert finance["investment"] == pytest.approx(4 * M)
        made = finance["model_savings"]["total"]["most_likely"]
        assert made == pytest.approx(9.8 * M, rel=0.05)
        assert finance["net_of_investment"]["most_likely"] == pytest.approx(made - 4 * M)
    if name == "york":
        # the model's levers, calibrated within 1% of the published figures at most likely
        lines = {ln["name"]: ln["most_likely"] for ln in finance["lines"]}
        assert lines == pytest.approx({"Community support": 696_000, "Nursing care": 467_000,
                                       "Residential care": 101_000}, rel=0.01)
        assert {ln["source"] for ln in finance["lines"]} == {"model"}


def check_baseline(name: str, summary: dict, xlsx: Path) -> None:
    """Every example has today's configuration and the plan's savings against it, line by line
    (the council examples' from examples/data/<council>_workforce.csv)."""
    savings, baseline = summary["savings"], summary["baseline"]
    assert baseline is not None and savings is not None, (summary["warnings"],
                                                          summary["timings"].get("parts"))
    assert baseline["total_cost"] > 0 and baseline["status"] == "optimal"
    assert 0 < baseline["demand_met_share"] <= 1
    if name != "demo":
        scenario = load_scenario(REPO / "examples" / f"{name}.yaml")
        assert baseline["sites"] == scenario.finance.baseline.sites
        wf = pd.read_csv(REPO / "examples" / "data" / f"{name}_workforce.csv")
        in_post = wf[wf["contract"] != "vacant"].groupby("role")["fte"].sum()
        got = pd.Series(baseline["fte_by_role"])
        assert got.reindex(in_post.index).to_numpy() == pytest.approx(in_post.to_numpy())
    assert savings["total"]["baseline_gbp"] == pytest.approx(baseline["total_cost"])
    assert savings["total"]["scenario_gbp"] == pytest.approx(summary["total_cost"])
    assert sum(ln["saving_gbp"] for ln in savings["lines"]) == pytest.approx(
        savings["total"]["saving_gbp"])
    cells = _evaluated(xlsx)
    from openpyxl import load_workbook
    ws = load_workbook(xlsx)["Baseline vs scenario"]
    total_row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == "Total")
    assert ws.cell(total_row, 4).value.startswith("=SUM(")
    assert cells[("BASELINE VS SCENARIO", f"D{total_row}")] == pytest.approx(
        savings["total"]["saving_gbp"])


@pytest.mark.parametrize("name, limit", EXAMPLES)
def test_example_solves_and_every_rule_holds(tmp_path, name, limit):
    summary, hubs, tables = solve_and_check(name, limit, tmp_path / name)
    assert summary["hubs_open"] == len(hubs) > 0
    assert summary["demand_met_share"] > 0.9


def test_kent_opens_nine_or_more_hubs_of_30k_to_50k_with_east_west_pools(tmp_path):
    # 100 s for the whole run: the solve's share is about 60 s once the baseline, the growth
    # check, the locality teams and the marginal values have theirs (mdtplan.solve.budget)
    summary, hubs, tables = solve_and_check("kent", 100, tmp_path / "kent")
    assert summary["hubs_open"] >= 9
    assert 32 <= summary["hubs_open"] <= 53          # KCC's 1.59m people / 30,000-50,000
    assert hubs["population"].between(30_000 - 1e-6, 50_000 + 1e-6).all()
    assert hubs["population"].sum() == pytest.approx(1_589_057)   # all ages (headcount)
    units = set(tables["staffing"]["unit"])
    assert {"East", "West"} <= units                  # specialists pooled East and West
    # Kent's plan checked against 2030's demand (demand.growth: examples/data/kent_growth.csv)
    check = summary["growth_check"]
    assert check["year"] == 2030 and check["demand_hours"] > check["base_demand_hours"]
    assert check["demand_met_share"] < 1
    assert sum(check["extra_fte_needed_by_role"].values()) > 0
    pooled = tables["staffing"][tables["staffing"]["unit"].isin(["East", "West"])]
    assert set(pooled["role"]) == {"safeguarding", "mental_health", "sensory", "autism",
                                   "quality_improvement"}

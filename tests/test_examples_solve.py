"""Every example solves as a user runs it, and every rule holds when re-checked independently
from the input and the output files only (tests/checker.py, pandas, no Pyomo)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from checker import check_plan
from typer.testing import CliRunner

from mdtplan.cli import app
from mdtplan.pipeline import prepare
from mdtplan.scenario import parse_scenario

REPO = Path(__file__).resolve().parents[1]

# (example, time limit [s] for the test run); Kent has its own test below
EXAMPLES = [("demo", 30), ("medway", 30), ("leicestershire", 40), ("york", 20)]


def solve_and_check(name: str, limit: float, out: Path) -> tuple[dict, pd.DataFrame, dict]:
    r = CliRunner().invoke(app, ["solve", str(REPO / "examples" / f"{name}.yaml"), "--out",
                                 str(out), "--time-limit", str(limit)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] in ("optimal", "feasible_at_limit")
    # the inputs again, from the scenario exactly as solved (written beside the outputs)
    scenario = parse_scenario(json.loads((out / "scenario.json").read_text()))
    data = prepare(scenario).data
    read = {"dtype": {"area_id": str, "site_id": str, "unit": str}}
    hubs = pd.read_csv(out / "hubs.csv", **read)
    tables = {
        "assignment": pd.read_csv(out / "assignment.csv", **read),
        "hubs": pd.DataFrame({"site_id": data.sites.index.astype(str),
                              "open": data.sites.index.isin(hubs["site_id"])}),
        "staffing": pd.read_csv(out / "staffing.csv", **read).fillna(0.0),
    }
    violations = check_plan(data, tables)
    assert violations == [], violations[:10]
    return summary, hubs, tables


@pytest.mark.parametrize("name, limit", EXAMPLES)
def test_example_solves_and_every_rule_holds(tmp_path, name, limit):
    summary, hubs, tables = solve_and_check(name, limit, tmp_path / name)
    assert summary["hubs_open"] == len(hubs) > 0
    assert summary["demand_met_share"] > 0.9


def test_kent_opens_nine_or_more_hubs_of_30k_to_50k_with_east_west_pools(tmp_path):
    summary, hubs, tables = solve_and_check("kent", 60, tmp_path / "kent")
    assert summary["hubs_open"] >= 9
    assert 32 <= summary["hubs_open"] <= 53          # KCC's 1.59m people / 30,000-50,000
    assert hubs["population"].between(30_000 - 1e-6, 50_000 + 1e-6).all()
    assert hubs["population"].sum() == pytest.approx(1_589_057)   # all ages (headcount)
    units = set(tables["staffing"]["unit"])
    assert {"East", "West"} <= units                  # specialists pooled East and West
    pooled = tables["staffing"][tables["staffing"]["unit"].isin(["East", "West"])]
    assert set(pooled["role"]) == {"safeguarding", "mental_health", "sensory", "autism",
                                   "quality_improvement"}

"""Sweeps (``mdtplan sweep``, mdtplan/sweep.py, variants.run_variants, outputs/plots.py).

The solving tests use the demo county with settings that make every solve small and proven
optimal (see ``FAST``): the sweep machinery is what is under test, and a proof of optimality
is what makes "demand met never falls as the budget rises" a property the test may assert.
"""

from __future__ import annotations

import json
import struct
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from checker import check_plan
from typer.testing import CliRunner

from mdtplan import pipeline, variants
from mdtplan.cli import app
from mdtplan.errors import Problem, ScenarioError
from mdtplan.outputs.plots import frontier, pareto_mask
from mdtplan.scenario import load_scenario
from mdtplan.sweep import (
    build_grid,
    parse_vary,
    plan_chunks,
    run_sweep,
    validate_variants,
    write_sweep,
)

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "examples" / "demo.yaml"

# The demo at its own settings takes about 60 s a solve (358 areas, 8-20 hubs, a 1% gap at
# the limit). These overrides keep the demo's data, operating model and rules but make each
# solve small enough to be *proven* optimal (mip_gap 0) in well under a second:
# * the 34 areas of Greystow, its smallest district (53,455 adults);
# * exactly one hub: the required County Hall site (S01) is always open, so the site choice
#   is settled and the sweep is about staffing under the cap (a knapsack of FTE steps);
# * no population band (one 53k-adult hub is outside 30-50k) and a 90-minute reach, so
#   County Hall may serve every Greystow area;
# * no finance section (the savings tests put the demo's back).
# With every stage proven optimal, each row's unmet hours is the least possible under its
# cap, and a plan within one cap is within every larger cap: demand met cannot fall as the
# budget rises, whatever the chunking. (Warm starts alone would only promise that within a
# chunk.) The time limit is a safety net, never reached (the test asserts status optimal).
FAST = ["solver.mip_gap=0", "solver.time_limit_s=60", "finance=null",
        "areas.where={district: [Greystow]}", "hubs.count.min=null", "hubs.count.max=null",
        "hubs.count.exactly=1", "hubs.population.min=null", "hubs.population.max=null",
        "hubs.max_travel_minutes=90"]
# 24 caps from £0.3m (below one hub's minimum staff: infeasible) to £3.2m (all demand met,
# with the staff's travel to visits from the one hub counted)
CAPS = "budget.cap=0.3e6:3.2e6:24"


@pytest.fixture(scope="module")
def fast_demo():
    return load_scenario(DEMO, FAST)


@pytest.fixture(scope="module")
def fast_data(fast_demo):
    return pipeline.prepare(fast_demo).data


@pytest.fixture(scope="module")
def serial_budget_sweep(fast_demo):
    return run_sweep(fast_demo, [parse_vary(CAPS)], serial=True, chunk_size=6,
                     keep_plans=True)


# --------------------------------------------------------------------------------------------
# --vary and the grid


def test_parse_vary_ranges_lists_and_integer_keys():
    assert parse_vary("budget.cap=20e6:30e6:3").values == (20e6, 25e6, 30e6)
    assert parse_vary("budget.cap=2.5e7").values == (25e6,)
    assert parse_vary("budget.cap=1e6:9e6:1").values == (1e6,)
    counts = parse_vary("hubs.count.max=8:12:3").values
    assert counts == (8, 10, 12) and all(type(v) is int for v in counts)
    assert parse_vary("hubs.count.exactly=4,6").values == (4, 6)
    assert parse_vary("objective=min_cost, max_demand_met").values == ("min_cost",
                                                                       "max_demand_met")
    assert parse_vary("sites.coords.crs=EPSG:27700").values == ("EPSG:27700",)
    floats = parse_vary("demand.scale=0.9:1.1:3").values
    assert floats == pytest.approx((0.9, 1.0, 1.1)) and floats[-1] == 1.1


@pytest.mark.parametrize("text, says", [
    ("budget.cap", "no '='"),
    ("=1,2", "key is empty"),
    ("budget..cap=1", "empty part"),
    ("budget.cap=", "no values"),
    ("budget.cap=1e6:2e6", "exactly START:STOP:N"),
    ("budget.cap=1e6:2e6:0", "N must be 1 or more"),
    ("budget.cap=1e6:2e6:2.5", "whole number of values"),
    ("hubs.count.max=8:12:4", "takes whole numbers"),
    ("budget.cap=1e6,,2e6", "empty value"),
    ("budget.cap=1e6,1e6", "listed twice"),
])
def test_malformed_vary_is_a_scenario_error_naming_the_text(text, says):
    with pytest.raises(ScenarioError) as err:
        parse_vary(text)
    message = str(err.value)
    assert f"'{text}'" in message and says in message and "--vary" in message


def test_grid_is_the_cartesian_product_in_vary_order():
    grid = build_grid([parse_vary("budget.cap=1,2"), parse_vary("hubs.count.max=3:5:2")])
    assert grid == [{"budget.cap": 1, "hubs.count.max": 3}, {"budget.cap": 1,
                                                              "hubs.count.max": 5},
                    {"budget.cap": 2, "hubs.count.max": 3}, {"budget.cap": 2,
                                                              "hubs.count.max": 5}]
    with pytest.raises(ScenarioError, match="varied twice"):
        build_grid([parse_vary("budget.cap=1,2"), parse_vary("budget.cap=3")])


def test_unknown_keys_and_bad_values_are_caught_by_validating_each_variant(fast_demo):
    with pytest.raises(ScenarioError) as err:
        validate_variants(fast_demo, build_grid([parse_vary("budget.capp=1e6,2e6")]))
    problem = err.value.problems[0]
    assert problem.column == "budget.capp" and "unknown key" in problem.message
    assert problem.row == "every variant"
    # one bad value among good ones: only that variant is invalid
    out = validate_variants(fast_demo, build_grid([parse_vary("budget.cap=-1,1e6")]))
    assert isinstance(out[0], ScenarioError) and "budget.cap" in str(out[0])
    assert out[1].budget.cap == 1e6


def test_exactly_replaces_the_count_band():
    base = load_scenario(DEMO)                        # count {min: 8, max: 20}
    variant = variants.variant_scenario(base, {"hubs.count.exactly": 10})
    assert variant.hubs.count.bounds() == (10, 10)


def test_chunks_group_by_structure_ascend_in_budget_and_ignore_workers(fast_demo):
    grid = build_grid([parse_vary("objective=max_demand_met,min_cost"),
                       parse_vary("budget.cap=3e6,1e6,2e6"), parse_vary("demand.scale=1,1.2")])
    variants = validate_variants(fast_demo, grid)
    chunks = plan_chunks(variants, chunk_size=2)
    assert chunks == plan_chunks(variants, chunk_size=2)
    assert sorted(i for c in chunks for i in c) == list(range(len(grid)))
    for chunk in chunks:
        objectives = {grid[i]["objective"] for i in chunk}
        assert len(objectives) == 1                   # one built model per chunk
    # within a structure: each demand scale's caps ascend, one after another
    first = [i for c in chunks for i in c if grid[i]["objective"] == "max_demand_met"]
    assert [(grid[i]["demand.scale"], grid[i]["budget.cap"]) for i in first] == [
        (1, 1e6), (1, 2e6), (1, 3e6), (1.2, 1e6), (1.2, 2e6), (1.2, 3e6)]
    assert [len(c) for c in chunks] == [2, 2, 2, 2, 2, 2]


def test_pareto_mask():
    # budget cap (lower better) vs demand met (higher better)
    assert pareto_mask([1, 2, 3, 4], [0.5, 0.8, 1.0, 1.0]).tolist() == [True, True, True,
                                                                        False]
    # a point beaten on both axes; ties are both efficient; NaN never is
    assert pareto_mask([1, 2, 2, 3, np.nan], [0.6, 0.5, 0.9, 0.9, 1.0]).tolist() == [
        True, False, True, False, False]
    # hubs open (lower better) vs travel (lower better)
    assert pareto_mask([2, 3, 4, 5], [30, 20, 25, 10], y_better="low").tolist() == [
        True, True, False, True]


def test_frontier_kinds():
    table = pd.DataFrame({"variant": [0, 1], "hubs.count.exactly": [2, 3],
                          "status": ["optimal", "infeasible"], "hubs_open": [2, None],
                          "travel_mean": [20.0, None], "travel_max": [40.0, None],
                          "objective": [1.0, None]})
    front = frontier(table, ["hubs.count.exactly"])
    assert (front.kind, front.x, front.y) == ("hubs", "hubs_open", "travel_mean")
    assert front.pareto.tolist() == [True, False]
    generic = frontier(table.rename(columns={"hubs.count.exactly": "demand.scale"}),
                       ["demand.scale"])
    assert (generic.kind, generic.x, generic.y) == ("generic", "demand.scale", "objective")


# --------------------------------------------------------------------------------------------
# Solving


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", head[16:24])


@pytest.mark.slow
def test_budget_sweep_on_dask_equals_the_serial_run_and_every_plan_holds(
        serial_budget_sweep, fast_demo, fast_data, tmp_path):
    from distributed import Client, LocalCluster

    serial = serial_budget_sweep
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        dask = run_sweep(fast_demo, [parse_vary(CAPS)], client=client, chunk_size=6,
                         keep_plans=True)
        # the chunks ran on both worker processes
        assert len(client.scheduler_info()["workers"]) == 2
    assert dask.chunks == serial.chunks and len(serial.chunks) == 4
    a, b = serial.table(), dask.table()
    assert len(a) == 24
    timings = ["solve_seconds"]
    pd.testing.assert_frame_equal(a.drop(columns=timings), b.drop(columns=timings))

    # every cap below the least staffed hub is infeasible; from there on every solve is
    # proven optimal, and demand met never falls as the budget rises
    a = a.sort_values("budget.cap")
    solved = a[a["status"] != "infeasible"]
    assert (solved["status"] == "optimal").all() and len(solved) >= 20
    assert (solved["mip_gap"].fillna(0) <= 1e-6).all()          # HiGHS proves within 1e-6
    assert a["status"].iloc[:len(a) - len(solved)].eq("infeasible").all()
    met = solved["demand_met_share"].to_numpy()
    assert (np.diff(met) >= -1e-9).all(), met
    assert met[0] < 0.5 and met[-1] == pytest.approx(1.0)   # the frontier is not flat
    assert (solved["total_cost"] <= solved["budget.cap"] * (1 + 1e-9)).all()
    # one model per chunk, re-used in place for the rest of it
    assert a.groupby("chunk")["reused"].apply(lambda r: int((~r).sum())).eq(1).all()

    # every cell's plan keeps every rule (tests/checker.py, pandas only)
    assert sorted(dask.plans) == sorted(solved["variant"])
    for variant, plan in dask.plans.items():
        cap = float(a.loc[a["variant"] == variant, "budget.cap"].iloc[0])
        violations = check_plan(replace(fast_data, budget_cap_gbp=cap), plan)
        assert violations == [], (cap, violations[:5])

    written = write_sweep(dask, tmp_path / "sweep", name="demo")
    width, height = _png_size(written["png"])
    assert 400 <= width <= 3000 and 300 <= height <= 3000
    assert 10_000 < written["png"].stat().st_size < 2_000_000
    assert "<svg" in written["html"].read_text()
    csv = pd.read_csv(written["csv"])
    assert list(csv.columns[:2]) == ["variant", "budget.cap"] and len(csv) == 24
    doc = json.loads(written["json"].read_text())
    efficient = doc["frontier"]["pareto_variants"]
    # caps that buy no more demand met than a smaller one are not efficient
    full = solved[solved["demand_met_share"] >= 1 - 1e-9]
    assert int(full["variant"].iloc[0]) in efficient
    assert not set(full["variant"].iloc[1:]) & set(efficient)


@pytest.mark.parametrize("staff_travel", [False, True])
def test_in_place_variants_equal_fresh_builds(fast_demo, staff_travel):
    base = variants.variant_scenario(fast_demo, {"travel.staff_travel": staff_travel})
    overrides = [{"budget.cap": 1.0e6}, {"budget.cap": 1.8e6},
                 {"budget.cap": 1.8e6, "demand.scale": 1.3}]
    runs = variants.run_variants(base, overrides)
    # with staff travel, mileage is priced on the built demand: a new demand scale is built
    assert [r.reused for r in runs] == [False, True, not staff_travel]
    for ov, r in zip(overrides, runs, strict=True):
        fresh = pipeline.run(variants.variant_scenario(base, ov), explain=False,
                             marginals=False)
        s, f = r.result.results.summary, fresh.results.summary
        assert r.status == fresh.status == "optimal"
        # the same optimum; its unmet hours may differ by HiGHS's feasibility tolerance
        # (1e-9 relative seen with contiguity's flow columns)
        assert s.report.objective == pytest.approx(f.report.objective, rel=1e-8, abs=1e-6)
        assert s.costs.total_gbp == pytest.approx(f.costs.total_gbp, rel=1e-9)
        assert s.demand.hours == pytest.approx(f.demand.hours, rel=1e-12)
        plan = {"assignment": r.result.results.assignment,
                "hubs": r.result.results.hubs.assign(open=True),
                "staffing": r.result.results.staffing, "levers": r.result.results.levers}
        assert check_plan(fresh.prepared.data, plan) == []


def test_one_bad_variant_is_reported_in_its_row_and_the_others_solve(fast_demo, monkeypatch):
    # an invalid value, a cap below any plan, a solve that raises, and two good caps, all
    # in one chunk
    real = variants.solve_session

    def flaky(session, prepared, data, **kw):
        if data.budget_cap_gbp == 1.2e6:
            raise RuntimeError("solver crashed")
        return real(session, prepared, data, **kw)

    monkeypatch.setattr(variants, "solve_session", flaky)
    result = run_sweep(fast_demo, [parse_vary("budget.cap=-1,0.1e6,1.2e6,1.5e6,2e6")],
                       serial=True)
    rows = {r["budget.cap"]: r for r in result.rows}
    assert rows[-1]["status"] == "invalid" and "budget.cap" in rows[-1]["error"]
    assert rows[0.1e6]["status"] == "infeasible" and rows[0.1e6]["error"]
    assert rows[0.1e6]["demand_met_share"] is None
    assert rows[1.2e6]["status"] == "error" and "solver crashed" in rows[1.2e6]["error"]
    for cap in (1.5e6, 2e6):
        assert rows[cap]["status"] == "optimal" and rows[cap]["error"] is None
        assert rows[cap]["demand_met_share"] > 0.5
    # after a crash the next variant builds its model afresh
    assert rows[1.5e6]["reused"] is False and rows[2e6]["reused"] is True
    assert result.solved == 2 and len(result.chunks) == 1


@pytest.mark.slow
def test_rows_carry_the_saving_against_today_when_the_scenario_has_a_baseline():
    # the demo's finance section (baseline: today's staffed sites and workforce) kept: each
    # row with a plan has today's cost and its saving against it, as a solve of that
    # variant alone reports them
    with_finance = load_scenario(DEMO, [s for s in FAST if s != "finance=null"])
    result = run_sweep(with_finance, [parse_vary("budget.cap=0.1e6,1.5e6,2.6e6"),
                                      parse_vary("demand.scale=1,1.2")], serial=True)
    rows = {(r["budget.cap"], r["demand.scale"]): r for r in result.rows}
    assert rows[(0.1e6, 1)]["status"] == "infeasible"
    assert rows[(0.1e6, 1)]["baseline_cost"] is None
    assert rows[(0.1e6, 1)]["saving_vs_baseline"] is None
    for key in [(1.5e6, 1), (2.6e6, 1.2)]:
        row = rows[key]
        alone = pipeline.run(variants.variant_scenario(
            with_finance, {"budget.cap": key[0], "demand.scale": key[1]}), explain=False,
            marginals=False).results.summary
        assert row["status"] == "optimal"
        assert row["baseline_cost"] == pytest.approx(alone.baseline.costs.total_gbp, rel=1e-9)
        assert row["saving_vs_baseline"] == pytest.approx(alone.savings.total.saving_gbp,
                                                          rel=1e-9)
        assert row["saving_vs_baseline"] == pytest.approx(
            row["baseline_cost"] - row["total_cost"], rel=1e-12)
    # without a finance section the columns are there, empty
    plain = run_sweep(load_scenario(DEMO, FAST), [parse_vary("budget.cap=2.6e6")], serial=True)
    assert plain.rows[0]["status"] == "optimal"
    assert plain.rows[0]["baseline_cost"] is None and plain.rows[0]["saving_vs_baseline"] is None


def test_a_baseline_that_cannot_be_evaluated_is_said_in_the_row_and_the_plan_kept(monkeypatch):
    import mdtplan.appraisal.baseline as baseline

    def broken(prepared, options=None):
        raise ScenarioError([Problem(None, None, "finance.baseline",
                                     "no workforce table", "give inputs.workforce")])

    monkeypatch.setattr(baseline, "evaluate_baseline", broken)
    with_finance = load_scenario(DEMO, [s for s in FAST if s != "finance=null"])
    row = run_sweep(with_finance, [parse_vary("budget.cap=2.6e6")], serial=True).rows[0]
    assert row["status"] == "optimal" and row["total_cost"] is not None
    assert row["baseline_cost"] is None
    assert "baseline not evaluated" in row["error"] and "no workforce table" in row["error"]


def test_cancelled_sweep_reports_the_variants_it_did_not_solve(fast_demo):
    cancel = threading.Event()
    cancel.set()
    result = run_sweep(fast_demo, [parse_vary("budget.cap=1e6,2e6")], serial=True,
                       cancel=cancel)
    assert result.cancelled
    assert [r["status"] for r in result.rows] == ["cancelled", "cancelled"]


def test_an_interrupted_dask_sweep_keeps_the_variants_it_solved(fast_demo, monkeypatch):
    """Ctrl-C on a Dask sweep: the running chunk is told to stop, hands back the variants it
    solved (kept, with their figures) and marks the rest cancelled (no objective)."""
    from distributed import Client, LocalCluster

    cancel = threading.Event()
    real = variants._solve_variant
    solved = []

    def solve_then_interrupt(variant, options, slot, progress, worker_cancel, *rest):
        out = real(variant, options, slot, progress, worker_cancel, *rest)
        solved.append(1)
        if len(solved) == 2:  # the user presses Ctrl-C after the second solve...
            cancel.set()
            assert worker_cancel.wait(20)  # ...and the chunk on the worker hears of it
        return out

    monkeypatch.setattr(variants, "_solve_variant", solve_then_interrupt)
    # threads, not processes: the worker runs the patched function in this process
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        result = run_sweep(fast_demo, [parse_vary("budget.cap=2.6e6:3.2e6:6")], client=client,
                           chunk_size=6, cancel=cancel)
    assert result.cancelled and len(result.chunks) == 1
    statuses = [r["status"] for r in result.rows]
    assert statuses == ["optimal", "optimal"] + ["cancelled"] * 4, statuses
    assert all(r["total_cost"] is not None and r["objective"] is not None
               for r in result.rows[:2])
    assert all(r["objective"] is None and r["total_cost"] is None and r["mip_gap"] is None
               for r in result.rows[2:])


# --------------------------------------------------------------------------------------------
# The command


def _cli(*args):
    sets = [a for s in FAST for a in ("--set", s)]
    return CliRunner().invoke(app, ["sweep", str(DEMO), *sets, *[str(a) for a in args]],
                              catch_exceptions=False)


def test_cli_serial_sweep_writes_the_table_and_frontier(tmp_path):
    out = tmp_path / "sw"
    r = _cli("--vary", "budget.cap=0.1e6,1e6,2.4e6", "--vary", "demand.scale=1,1.1",
             "--serial", "--chunk-size", "3", "--out", out)
    assert r.exit_code == 0, r.output
    assert "changed in place on one model: budget.cap, demand.scale" in " ".join(
        r.output.split())
    table = pd.read_csv(out / "sweep.csv")
    assert list(table.columns) == [
        "variant", "budget.cap", "demand.scale", "status", "objective", "total_cost",
        "demand_met_share", "unmet_hours", "hubs_open", "travel_mean", "travel_max",
        "mip_gap", "solve_seconds", "reused", "chunk", "error", "baseline_cost",
        "saving_vs_baseline", "model_savings"]
    assert table["status"].tolist() == ["infeasible", "infeasible", "optimal", "optimal",
                                        "optimal", "optimal"]
    # more demand, same cap: less of it met
    met = table.set_index(["budget.cap", "demand.scale"])["demand_met_share"]
    assert met[(1e6, 1.1)] < met[(1e6, 1.0)]
    assert (out / "frontier.png").stat().st_size > 10_000
    assert json.loads((out / "sweep.json").read_text())["mode"] == "serial"


def test_cli_sweep_shows_the_saving_against_today_with_a_baseline(tmp_path, monkeypatch):
    from rich.console import Console

    import mdtplan.cli

    # a console wide enough for every column, whatever the terminal the tests run in
    monkeypatch.setattr(mdtplan.cli, "console", Console(width=200))
    sets = [a for s in FAST if s != "finance=null" for a in ("--set", s)]
    out = tmp_path / "fin"
    r = CliRunner().invoke(app, ["sweep", str(DEMO), *sets, "--vary", "budget.cap=2.6e6",
                                 "--serial", "--out", str(out)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "saving vs today" in r.output
    row = pd.read_csv(out / "sweep.csv").iloc[0]
    assert row["saving_vs_baseline"] == pytest.approx(row["baseline_cost"] - row["total_cost"])
    assert f"£{row['saving_vs_baseline']:,.0f}" in r.output


def test_cli_exit_codes_for_bad_input_and_no_plan(tmp_path):
    r = _cli("--vary", "budget.cap=1e6:2e6", "--serial", "--out", tmp_path / "a")
    assert r.exit_code == 2 and "START:STOP:N" in r.output
    r = _cli("--vary", "hubs.count.maximum=1,2", "--serial", "--out", tmp_path / "b")
    assert r.exit_code == 2 and "hubs.count.maximum" in r.output
    r = _cli("--vary", "budget.cap=1e5,2e5", "--serial", "--out", tmp_path / "c")
    assert r.exit_code == 3, r.output
    assert pd.read_csv(tmp_path / "c" / "sweep.csv")["status"].eq("infeasible").all()

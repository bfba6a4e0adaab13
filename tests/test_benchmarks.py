"""The benchmark suite (benchmarks/): a quick run on tiny instances, the synthetic generator,
instance selection and the ``mdtplan bench`` command's wiring.

The run really spawns a process per method and solves pmed1 (three methods), cap61 and the
tiny synthetic MDT model XS (floor and mdtplan) with one HiGHS thread; the ``resolve`` method
runs on its smallest instance (the demo's Greystow under a budget cap).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # benchmarks/ runs from the checkout, it is not installed
    sys.path.insert(0, str(REPO))

from benchmarks import synthetic  # noqa: E402
from benchmarks.instances import QUICK, select, shared_dir  # noqa: E402
from benchmarks.runner import (  # noqa: E402
    COLUMNS,
    SuiteOptions,
    median_run,
    run_suite,
    write_report,
)

SHARED = shared_dir(REPO)


def _row(rows, instance, method):
    found = [r for r in rows if r["instance"] == instance and r["method"] == method]
    assert len(found) == 1, f"{instance}/{method}: {found}"
    return found[0]


@pytest.mark.slow
def test_quick_run(tmp_path):
    """One run (it spawns seven solver processes, so it is one test, not one per check)."""
    instances = select(["pmed1", "cap61", "mdt-XS"], quick=True, shared=SHARED,
                       time_limit_s=30.0)
    rows = run_suite(instances, tmp_path, SHARED, SuiteOptions(threads=1, seed=0))
    paths = write_report(rows, tmp_path, {"date": "test", "threads": 1, "seed": 0})
    _check_every_method_where_the_problem_exists(rows)
    _check_published_optima(rows)
    _check_floor_and_mdtplan_agree(rows)
    _check_direct_build_is_the_same_problem(rows)
    _check_timings_and_memory(rows)
    _check_report_files(rows, paths)


def _check_every_method_where_the_problem_exists(rows):
    methods = {(r["instance"], r["method"]) for r in rows}
    assert methods == {("pmed1", "floor"), ("pmed1", "mdtplan"), ("pmed1", "spopt"),
                       ("cap61", "floor"), ("cap61", "mdtplan"),
                       ("mdt-XS", "floor"), ("mdt-XS", "mdtplan")}
    for r in rows:
        assert r["status"] not in ("error", "killed"), r


def _check_published_optima(rows):
    for inst, optimum in (("pmed1", 5819.0), ("cap61", 932615.75)):
        for r in rows:
            if r["instance"] == inst:
                assert r["published_optimum"] == pytest.approx(optimum)
                assert r["objective"] == pytest.approx(optimum, rel=1e-6), r
                assert r["matches"] is True
    assert _row(rows, "mdt-XS", "mdtplan")["published_optimum"] is None


def _check_floor_and_mdtplan_agree(rows):
    """The floor solves the very matrix mdtplan hands over (MDT) or the textbook formulation
    (OR-Library): the primary objectives are equal."""
    for inst in ("pmed1", "cap61", "mdt-XS"):
        floor, ours = _row(rows, inst, "floor"), _row(rows, inst, "mdtplan")
        assert floor["status"] == "optimal"
        assert floor["objective"] == pytest.approx(ours["objective"], rel=1e-6), inst
    # the MDT floor was handed mdtplan's own matrix
    assert _row(rows, "mdt-XS", "floor")["nnz"] > 1000


def _check_direct_build_is_the_same_problem(rows):
    """Every instance's mdtplan row says the direct build equals the Pyomo compile."""
    for r in rows:
        if r["method"] == "mdtplan":
            assert r["same_problem"] is True, r
        else:
            assert r.get("same_problem") is None


def _check_timings_and_memory(rows):
    for r in rows:
        if r["method"] == "mdtplan":  # the first stage's root bound and every stage's gap
            assert r["root_bound"] is not None and r["root_bound"] <= r["objective"] + 1e-6, r
            assert r["stage_gaps"] and all(part.rsplit(" ", 1)[1].endswith("%")
                                           for part in r["stage_gaps"].split(", ")), r
            assert (r["proof_s"] is not None) == (r["status"] == "optimal")
            if r["status"] == "optimal":
                assert 0 < r["to_1pct_s"] <= r["proof_s"] + 1e-6
    for r in rows:
        assert r["build_s"] > 0 and r["solve_s"] > 0
        assert r["total_s"] == pytest.approx(r["build_s"] + r["solve_s"], rel=1e-6, abs=1e-6)
        assert 0 < r["highs_s"] <= r["total_s"] + 1e-6
        assert r["overhead_s"] == pytest.approx(r["total_s"] - r["highs_s"])
        assert r["peak_mem_mb"] >= r["base_mem_mb"] > 10
        assert r["nnz"] > 0
    for inst in ("pmed1", "cap61", "mdt-XS"):
        assert _row(rows, inst, "floor")["ratio_to_floor"] == pytest.approx(1.0)
        ours = _row(rows, inst, "mdtplan")
        assert ours["ratio_to_floor"] == pytest.approx(
            ours["total_s"] / _row(rows, inst, "floor")["total_s"])
        assert ours["read_s"] > 0


def _check_report_files(rows, paths):
    with paths["csv"].open(newline="") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames) == COLUMNS
        table = list(reader)
    assert len(table) == len(rows) == 7
    assert {r["method"] for r in table} == {"floor", "mdtplan", "spopt"}
    assert [r for r in table if r["instance"] == "pmed1"][0]["matches"] == "True"
    text = paths["markdown"].read_text()
    assert "| pmed1 | spopt |" in text and "## Summary" in text
    assert paths["plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert paths["plot"].stat().st_size > 10_000


def test_median_run_keeps_the_middle_time_and_counts_the_runs():
    rows = [{"total_s": 3.0, "tag": "c"}, {"total_s": 1.0, "tag": "a"},
            {"total_s": 2.0, "tag": "b"}]
    assert median_run(rows) == {"total_s": 2.0, "tag": "b", "runs": 3}
    assert median_run(rows + [{"total_s": 4.0, "tag": "d"}])["tag"] == "b"  # lower middle
    failed = {"total_s": None, "status": "error"}
    assert median_run(rows + [failed]) == {**failed, "runs": 4}


@pytest.mark.slow
def test_repeat_runs_short_instances_again_and_keeps_the_median(tmp_path):
    instances = select(["cap61"], quick=False, shared=SHARED, time_limit_s=30.0)
    options = SuiteOptions(threads=1, seed=0, methods=("floor", "mdtplan"), repeat=3)
    rows = run_suite(instances, tmp_path / "a", SHARED, options)
    floor, ours = _row(rows, "cap61", "floor"), _row(rows, "cap61", "mdtplan")
    assert floor["runs"] == ours["runs"] == 3
    assert ours["ratio_to_floor"] == pytest.approx(ours["total_s"] / floor["total_s"])
    assert ours["matches"] is True and ours["same_problem"] is True
    # an instance whose first runs are not short runs once
    once = run_suite(instances, tmp_path / "b", SHARED,
                     SuiteOptions(threads=1, seed=0, methods=("floor", "mdtplan"), repeat=3,
                                  repeat_below_s=1e-6))
    assert [r["runs"] for r in once] == [1, 1]


def test_resolve_method(tmp_path):
    """The ``resolve`` method on its smallest instance (the demo's Greystow under a cap, each
    solve proven optimal in about a second): it runs in its own process, the re-solve on the
    kept model and the cold build-and-solve reach the same plan value, the cap binds, and the
    columns are written. Timings are only checked for being there, never for their size."""
    instances = select(["resolve-greystow"], quick=True, shared=SHARED, time_limit_s=60.0)
    rows = run_suite(instances, tmp_path, SHARED, SuiteOptions(threads=1, seed=0))
    paths = write_report(rows, tmp_path, {"date": "test", "threads": 1, "seed": 0})
    row = _row(rows, "resolve-greystow", "resolve")
    assert len(rows) == 1 and row["kind"] == "resolve"
    assert row["status"] == row["cold_status"] == row["base_status"] == "optimal", row
    assert row["same_objective"] is True, row
    assert row["objective"] == pytest.approx(row["cold_objective"], rel=1e-6)
    assert row["cap_binds"] is True and row["objective"] > 0  # demand left unmet: it binds
    # a larger cap meets at least as much demand (fewer unmet hours) as the base cap
    assert row["objective"] <= row["base_objective"] + 1e-6
    assert row["variant_cap_gbp"] == pytest.approx(row["base_cap_gbp"] * 1.02)
    for key in ("base_s", "resolve_s", "cold_s", "read_s", "resolve_highs_s"):
        assert row[key] > 0, key
    assert row["resolve_ratio"] == pytest.approx(row["resolve_s"] / row["cold_s"])
    assert row["nnz"] > 1000 and row["peak_mem_mb"] >= row["base_mem_mb"] > 10
    assert not row.get("message"), row
    with paths["csv"].open(newline="") as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == 1
    for key in ("resolve_s", "cold_s", "resolve_ratio"):
        assert float(table[0][key]) > 0, key
    assert table[0]["same_objective"] == "True"
    text = paths["markdown"].read_text()
    assert "## Re-solve with the model kept" in text
    assert "| resolve-greystow | 2,000,000 → 2,040,000 | yes |" in text
    assert "median_resolve_ratio" in text


@pytest.mark.slow
def test_whatif_method(tmp_path):
    """The ``whatif`` method on the demo with one hub fewer, at a short limit: the base, the
    cold run and the what-if from the base plan run in one process; the what-if started from
    the base plan (dropping a hub), its limit was a fifth of the cold run's time, and the
    columns and the Markdown section are written. Quality is reported, not asserted (a
    short limit on a shared machine)."""
    # 30 s: the what-if gets a fifth of the cold run's time (6 s); at 20 s a loaded CI worker
    # once left its start no time to fit the base plan to one hub fewer (no plan in 4 s)
    instances = select(["whatif-demo-count"], quick=True, shared=SHARED, time_limit_s=30.0)
    rows = run_suite(instances, tmp_path, SHARED, SuiteOptions(threads=1, seed=0))
    paths = write_report(rows, tmp_path, {"date": "test", "threads": 1, "seed": 0})
    row = _row(rows, "whatif-demo-count", "whatif")
    assert row["status"] in ("optimal", "feasible_at_limit"), row
    assert row["cold_status"] in ("optimal", "feasible_at_limit"), row
    assert row["stage"] == "unmet_hours"
    assert row["resolve_ratio"] == pytest.approx(row["resolve_s"] / row["cold_s"])
    assert row["within_1pct"] == (row["vs_cold"] <= 0.01)
    assert "at most" in row["message"] and "hubs_dropped 1" in row["message"], row
    text = paths["markdown"].read_text()
    assert "## What-ifs from a solved plan" in text and "| whatif-demo-count |" in text


@pytest.mark.parametrize("name", ["cap61", "mdt-XS"])
def test_mdtplan_method_imports_what_a_run_uses_before_its_clock(tmp_path, name):
    """A module first imported inside ``pipeline.run`` would be timed as solving (and, where
    bytecode is not cached, compiled); ``run_mdtplan`` imports them all first."""
    import subprocess

    from benchmarks.instances import prepare_instance

    instance = select([name], quick=True, shared=SHARED, time_limit_s=30.0)[0]
    scenario = prepare_instance(instance, tmp_path, SHARED)
    code = f"""
import json, sys
import mdtplan.pipeline
from benchmarks.methods import run_mdtplan

real_run, seen = mdtplan.pipeline.run, {{}}

def run(*args, **kwargs):
    before = set(sys.modules)
    out = real_run(*args, **kwargs)
    seen["late"] = sorted(m for m in set(sys.modules) - before if m.startswith("mdtplan"))
    return out

mdtplan.pipeline.run = run
run_mdtplan({{"scenario": {str(scenario)!r}, "settings": {{"time_limit_s": 30.0}}}})
print(json.dumps(seen["late"]))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_synthetic_generator_is_deterministic(tmp_path):
    a = synthetic.write_mdt_scenario("S", tmp_path / "a", seed=3).parent
    b = synthetic.write_mdt_scenario("S", tmp_path / "b", seed=3).parent
    c = synthetic.write_mdt_scenario("S", tmp_path / "c", seed=4).parent
    names = sorted(p.name for p in a.iterdir())
    assert names == ["areas.csv", "operating_model.yaml", "scenario.yaml", "sites.csv"]
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "areas.csv").read_bytes() != (c / "areas.csv").read_bytes()
    assert (a / "sites.csv").read_bytes() != (c / "sites.csv").read_bytes()


@pytest.mark.parametrize("name, areas, sites", [("S", 500, 80), ("XL", 4000, 400)])
def test_synthetic_sizes_are_as_named(tmp_path, name, areas, sites):
    folder = synthetic.write_mdt_scenario(name, tmp_path).parent
    area_rows = (folder / "areas.csv").read_text().splitlines()
    site_rows = (folder / "sites.csv").read_text().splitlines()
    assert len(area_rows) - 1 == areas and len(site_rows) - 1 == sites
    assert len({r.split(",")[0] for r in area_rows[1:]}) == areas
    model = yaml.safe_load((folder / "operating_model.yaml").read_text())
    kinds = [r["kind"] for r in model["roles"]]
    assert len(kinds) == 10 and kinds.count("specialist") == 5
    assert model["pools"] == {"by": "area_group"}
    districts = {r.split(",")[1] for r in area_rows[1:]}
    assert len(districts) == synthetic.SIZES[name].districts


def test_the_kent_lsoa_instance_reads_its_inputs(tmp_path, shared_data):
    """The instance is examples/kent.yaml with overrides: every file it names must still be
    found from its own folder (a relative path the example gained once broke it)."""
    from benchmarks.instances import write_kent_lsoa_scenario
    from mdtplan.inputs import load_inputs
    from mdtplan.pipeline import prepare
    from mdtplan.scenario import load_scenario

    scenario = load_scenario(write_kent_lsoa_scenario(tmp_path, shared_data.parent))
    inputs = load_inputs(scenario)
    assert len(inputs.areas) == 902 and len(inputs.sites) > 180
    assert scenario.workforce is None and scenario.finance is None
    assert scenario.demand is None or scenario.demand.growth is None
    assert scenario.localities is None
    prepared = prepare(scenario)      # every rule checked against the default operating model
    assert len(prepared.data.areas) == 902


def test_selection():
    quick = select(None, quick=True, shared=SHARED)
    assert [i.name for i in quick] == list(QUICK)
    full = select(["pmed", "cap", "mdt"], quick=False, shared=SHARED)
    assert len([i for i in full if i.kind == "pmed"]) == 20
    assert len([i for i in full if i.kind == "cap"]) == 32
    assert [i.name for i in full if i.kind == "mdt"] == ["mdt-S", "mdt-M", "mdt-L", "mdt-XL"]
    assert all(i.source.is_file() for i in full if i.kind in ("pmed", "cap"))
    assert select(["england"], quick=False, shared=SHARED)[0].time_limit_s == 600
    assert [i.name for i in select(["resolve"], quick=False, shared=SHARED)] == [
        "resolve-XS", "resolve-XS-slack", "resolve-greystow"]
    assert [i.name for i in select(["resolve"], quick=True, shared=SHARED)] == ["resolve-XS"]
    assert all(i.methods == ("resolve",) for i in select(["resolve"], quick=False,
                                                          shared=SHARED))
    whatif = select(["whatif"], quick=False, shared=SHARED)
    assert [i.name for i in whatif] == [
        "whatif-demo-cap", "whatif-demo-count", "whatif-demo-band", "whatif-demo-site",
        "whatif-kent-count", "whatif-kent-band", "whatif-kent-site"]
    assert all(i.methods == ("whatif",) and i.extra["change"] == i.name.split("-")[2]
               for i in whatif)
    with pytest.raises(ValueError, match="neither a kind"):
        select(["pmed99"], quick=False, shared=SHARED)


def test_bench_command_rejects_bad_options():
    from mdtplan.cli import app

    result = CliRunner().invoke(app, ["bench", "--only", "nonsense"])
    assert result.exit_code == 2
    assert "neither a kind" in result.output
    result = CliRunner().invoke(app, ["bench", "--methods", "gurobi"])
    assert result.exit_code == 2
    assert "--methods" in result.output
    result = CliRunner().invoke(app, ["bench", "--only", "cap61", "--repeat", "0"])
    assert result.exit_code == 2
    assert "--repeat must be at least 1" in result.output


def test_bench_command_outside_a_checkout(tmp_path, monkeypatch):
    from mdtplan import cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "__file__", str(tmp_path / "site-packages" / "mdtplan" / "cli.py"))
    result = CliRunner().invoke(cli.app, ["bench", "--quick"])
    assert result.exit_code == 1
    assert "source checkout" in result.output


# -- the council examples with and without the plan rules (benchmarks/council.py) -----------

def test_council_rows_get_ratios_to_their_plain_runs_and_a_table(tmp_path):
    from benchmarks import council

    rows = [
        {"example": "york", "variant": "rules", "limit_s": 60.0, "wall_s": 30.0,
         "status": "feasible_at_limit", "total_cost": 102.0, "worst_gap": 0.02},
        {"example": "york", "variant": "plain", "limit_s": 60.0, "wall_s": 20.0,
         "status": "optimal", "total_cost": 100.0, "worst_gap": 0.0},
        {"example": "kent", "variant": "rules", "limit_s": 60.0, "wall_s": 60.0,
         "status": "feasible_at_limit", "total_cost": 5.0},
    ]
    council.add_ratios(rows)
    assert rows[0]["time_ratio"] == pytest.approx(1.5)
    assert rows[0]["cost_ratio"] == pytest.approx(1.02)
    assert "time_ratio" not in rows[1] and "time_ratio" not in rows[2]  # no plain run: no ratio
    csv_path, md = council.write_report(rows, tmp_path)
    table = md.read_text().splitlines()
    assert table[0].startswith("| example | variant |") and len(table) == 2 + len(rows)
    assert "1.500x" in table[2] and "2.00%" in table[2]
    with csv_path.open() as fh:
        assert [r["variant"] for r in csv.DictReader(fh)] == ["rules", "plain", "rules"]


def test_council_plain_switches_off_every_plan_rule_the_scenario_knows():
    from benchmarks import council
    from mdtplan.scenario import load_scenario

    s = load_scenario(REPO / "examples" / "kent.yaml", dict(council.PLAIN))
    assert not s.hubs.contiguous and not s.hubs.serve_own_area
    assert not s.hubs.min_separation_km and s.hubs.max_shortfall_spread is None
    assert not s.travel.staff_travel and s.localities is None
    shipped = load_scenario(REPO / "examples" / "kent.yaml")
    assert shipped.hubs.contiguous and shipped.localities is not None


# -- the hub-column bound against HiGHS's (benchmarks/columns.py) ---------------------------

@pytest.mark.slow
def test_columns_benchmark_on_york(tmp_path):
    """York solved for 10 s, then the column search for 10 s: both bounds below the plan, the
    gaps and their ratio from them, a row in both files."""
    from benchmarks import columns

    assert columns.main(["--only", "york", "--limit", "10", "--out", str(tmp_path),
                         "--shared", str(SHARED)]) == 0
    with (tmp_path / "columns.csv").open() as fh:
        (row,) = list(csv.DictReader(fh))
    plan, highs, cols = (float(row[k]) for k in ("plan", "highs_bound", "columns_bound"))
    assert highs <= plan and cols <= plan
    assert float(row["columns_gap"]) == pytest.approx((plan - cols) / plan)
    assert float(row["gap_ratio"]) == pytest.approx(
        float(row["columns_gap"]) / float(row["highs_gap"]))
    assert int(row["rounds"]) >= 1 and int(row["hub_columns"]) >= 5  # the plan's hubs at least
    assert (tmp_path / "columns.md").read_text().count("| york |") == 1


def test_columns_benchmark_refuses_an_unknown_example():
    from benchmarks import columns

    with pytest.raises(SystemExit):
        columns.main(["--only", "nowhere"])

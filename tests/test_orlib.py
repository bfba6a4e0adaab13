"""OR-Library benchmarks: every instance solves to its published optimum, in its own units.

pmed1-pmed20 (uncapacitated p-median) and cap61-cap134 (capacitated warehouse location,
splittable) go through the same path as a scenario: ``to_model_data`` -> ``build_model`` ->
``solve`` with a zero MIP gap. The optima are in ``../shared/benchmarks/orlib/optima.csv``.
"""

from __future__ import annotations

import csv
import itertools
import json
import subprocess
import sys
from pathlib import Path
from time import perf_counter

import numpy as np
import pytest
import yaml
from checker import check_plan

from mdtplan.errors import InputError
from mdtplan.model.build import build_model
from mdtplan.orlib import (
    CapInstance,
    cap_model_data,
    kind_of,
    read_cap,
    read_pmed,
    to_model_data,
    write_scenario,
)
from mdtplan.solve import SolveOptions, SolveStatus, extract_tables, solve

ORLIB = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks" / "orlib"

# the slow tier: 10 s to minutes each on a 2-core machine (pmed16 and pmed17 prove at a
# 160,000-row root); pmed1-5 and 7-10 keep the published optima in the fast tier
SLOW = {"pmed6", *(f"pmed{i}" for i in range(11, 21))}


def _optima() -> list[tuple[str, str, float]]:
    path = ORLIB / "optima.csv"
    if not path.exists():
        return []
    with path.open() as f:
        return [(r["instance"], r["problem"], float(r["optimum"])) for r in csv.DictReader(f)]


def _param(name, problem, optimum):
    marks = [pytest.mark.slow] if name in SLOW else []
    return pytest.param(name, problem, optimum, id=name, marks=marks)


@pytest.mark.parametrize("name,problem,optimum",
                         [_param(*row) for row in _optima()])
def test_published_optimum(orlib_dir, name, problem, optimum):
    folder = "pmed" if problem == "p-median" else "cap"
    data = to_model_data(orlib_dir / folder / f"{name}.txt")
    model = build_model(data)
    result = solve(model, data, SolveOptions(mip_gap=0.0, time_limit_s=1800.0, threads=2))
    assert result.status is SolveStatus.optimal, result.message
    assert result.objective == pytest.approx(optimum, rel=1e-6)
    assert check_plan(data, extract_tables(model, data)) == []


def test_every_listed_instance_is_tested(orlib_dir):
    names = {r[0] for r in _optima()}
    files = {p.stem for p in (orlib_dir / "pmed").glob("pmed*.txt")} | {
        p.stem for p in (orlib_dir / "cap").glob("cap*.txt")}
    assert len(names) == 52
    assert names <= files


# ---------------------------------------------------------------------------------------------
# Readers


def test_read_pmed_last_duplicate_edge_holds(tmp_path):
    # 1-2 is given twice: the last (cost 3) holds, so d(1,3) = 3 + 4 = 7, not 10 + 4
    f = tmp_path / "pmedx.txt"
    f.write_text(" 3 3 1\n 1 2 10\n 2 3 4\n 2 1 3\n")
    inst = read_pmed(f)
    assert (inst.n, inst.p) == (3, 1)
    assert inst.distance[0, 2] == 7 and inst.distance[2, 0] == 7
    assert inst.distance[0, 1] == 3


def test_read_pmed_pmed1_shape(orlib_dir):
    inst = read_pmed(orlib_dir / "pmed" / "pmed1.txt")
    assert inst.distance.shape == (100, 100)
    assert np.allclose(inst.distance, inst.distance.T)
    assert (np.diag(inst.distance) == 0).all()


def test_read_cap_stream_and_placeholder(tmp_path, orlib_dir):
    inst = read_cap(orlib_dir / "cap" / "cap71.txt")
    assert inst.allocation_cost.shape == (50, 16)
    assert inst.capacity[0] == 58268 and inst.fixed_cost[0] == 7500
    # capa/b/c write the word 'capacity': it must be given
    f = tmp_path / "capx.txt"
    f.write_text("2 2\ncapacity 10\ncapacity 20\n5 1 2\n5 3 4\n")
    with pytest.raises(InputError, match="placeholder"):
        read_cap(f)
    inst = read_cap(f, capacity=8)
    assert list(inst.capacity) == [8, 8]
    assert list(inst.demand) == [5, 5]
    assert inst.allocation_cost.tolist() == [[1, 2], [3, 4]]


def test_kind_of_names():
    assert kind_of("x/pmed7.txt") == "pmed"
    assert kind_of("cap101.txt") == "cap"
    with pytest.raises(InputError):
        kind_of("foo.txt")


# ---------------------------------------------------------------------------------------------
# Single-source CFLP


def _brute_force_single_source(inst: CapInstance) -> float:
    n, m = inst.allocation_cost.shape
    best = np.inf
    for choice in itertools.product(range(m), repeat=n):
        load = np.zeros(m)
        np.add.at(load, list(choice), inst.demand)
        if (load > inst.capacity + 1e-9).any():
            continue
        used = sorted(set(choice))
        cost = inst.fixed_cost[used].sum() + sum(inst.allocation_cost[j, s]
                                                 for j, s in enumerate(choice))
        best = min(best, cost)
    return float(best)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_single_source_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    n, m = 6, 3
    inst = CapInstance(f"tiny{seed}", capacity=rng.integers(8, 16, m).astype(float),
                       fixed_cost=rng.integers(10, 60, m).astype(float),
                       demand=rng.integers(1, 6, n).astype(float),
                       allocation_cost=rng.integers(1, 40, (n, m)).astype(float))
    expected = _brute_force_single_source(inst)
    data = cap_model_data(inst, assignment="single")
    result = solve(build_model(data), data, SolveOptions(mip_gap=0.0))
    if not np.isfinite(expected):
        assert result.status is SolveStatus.infeasible
        return
    assert result.objective == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("name", ["cap71", "cap101", "cap131"])
def test_single_source_costs_at_least_split(orlib_dir, name):
    inst = read_cap(orlib_dir / "cap" / f"{name}.txt")
    results = {}
    for assignment in ("split", "single"):
        data = cap_model_data(inst, assignment=assignment)
        model = build_model(data)
        results[assignment] = solve(model, data, SolveOptions(mip_gap=0.0, time_limit_s=600))
        assert results[assignment].status is SolveStatus.optimal
        tables = extract_tables(model, data)
        assert check_plan(data, tables) == []
        if assignment == "single":
            assert set(tables["assignment"]["share"]) == {1.0}
    assert results["single"].objective >= results["split"].objective * (1 - 1e-9)


# ---------------------------------------------------------------------------------------------
# Scenario folders


def test_write_scenario_pmed(tmp_path, orlib_dir):
    target = write_scenario(orlib_dir / "pmed" / "pmed1.txt", tmp_path / "pmed1")
    doc = yaml.safe_load(target.read_text())
    assert doc["objective"] == "min_travel"
    assert doc["hubs"] == {"count": {"exactly": 5}, "assignment": "single"}
    assert doc["travel"]["weight_by_population"] is True
    assert "operating_model" not in doc
    import pandas as pd
    travel = pd.read_csv(tmp_path / "pmed1" / "travel.csv")
    assert list(travel.columns) == ["area_id", "site_id", "cost"]
    assert len(travel) == 100 * 100
    areas = pd.read_csv(tmp_path / "pmed1" / "areas.csv")
    assert list(areas.columns) == ["id", "weight"] and (areas["weight"] == 1).all()
    from mdtplan.scenario import load_scenario
    scenario = load_scenario(target)
    assert scenario.hubs.count.bounds() == (5, 5)


def test_write_scenario_cap_keeps_exact_costs(tmp_path, orlib_dir):
    src = orlib_dir / "cap" / "cap71.txt"
    target = write_scenario(src, tmp_path / "cap71")
    doc = yaml.safe_load(target.read_text())
    assert doc["objective"] == "min_cost"
    assert doc["hubs"]["assignment"] == "split"
    assert doc["travel"]["cost_gbp_per_unit"] == 1.0
    assert doc["travel"]["weight_by_population"] is False
    assert doc["sites"]["fixed_cost"] == "fixed_cost" and doc["sites"]["capacity"] == "capacity"
    import pandas as pd
    travel = pd.read_csv(tmp_path / "cap71" / "travel.csv")
    inst = read_cap(src)
    assert np.array_equal(travel["cost"].to_numpy().reshape(50, 16), inst.allocation_cost)
    sites = pd.read_csv(tmp_path / "cap71" / "sites.csv")
    assert list(sites.columns) == ["id", "fixed_cost", "capacity"]
    from mdtplan.scenario import load_scenario
    load_scenario(target)
    # --capacity overrides every warehouse's capacity
    write_scenario(src, tmp_path / "cap71b", capacity=12345)
    assert (pd.read_csv(tmp_path / "cap71b" / "sites.csv")["capacity"] == 12345).all()


@pytest.mark.slow
def test_a_solve_returns_within_its_time_limit_on_pmed6(tmp_path, orlib_dir):
    """``mdtplan solve`` on pmed6 (one thread, its heuristic start, a 60 s limit) comes back
    within its limit with a plan. HiGHS 1.16.0 did not: about 12 s in, with the start in hand,
    its MIP restarts ("11.0% inactive integer columns, restarting") and the restart's presolve
    (``HPresolve::strengthenInequalities``) ran for minutes without looking at the time limit
    or the interrupt callback, so neither the limit nor a cancel could end the solve (1.15.1:
    optimal in about 18 s). The pin in pyproject.toml keeps it out; this is the check to run
    against a newer HiGHS before lifting it."""
    scenario = write_scenario(orlib_dir / "pmed" / "pmed6.txt", tmp_path / "pmed6")
    limit = 60
    t0 = perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, "-c", "from mdtplan.cli import app; app()", "solve", str(scenario),
             "--time-limit", str(limit), "--threads", "1", "--out", str(tmp_path / "out")],
            capture_output=True, text=True, timeout=4 * limit)
    except subprocess.TimeoutExpired:
        pytest.fail(f"mdtplan solve with --time-limit {limit} still running after "
                    f"{4 * limit} s (HiGHS ignoring its time limit)")
    elapsed = perf_counter() - t0
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["status"] in ("optimal", "feasible_at_limit"), summary["message"]
    assert summary["solve_seconds"] <= limit + 5, summary["solve_seconds"]
    assert elapsed <= 2 * limit + 30

"""The typed summary (mdtplan.summary): ``summary.json`` read into blocks and written back
exactly (the same keys, in the same order, the same values and nulls).

``tests/data/summaries/*.json`` are real ``summary.json`` files written before the summary was
typed (main at f75398a, ``PYTHONPATH=/work/main mdtplan solve ... --threads 1``): ``demo`` and
``york`` at ``--time-limit 15``, ``kent`` at ``--time-limit 20``, ``demo_mc`` the demo with
Monte Carlo demand-rate re-solves (the settings of ``tests/test_finance_cli.py``, limit 15 s)
and ``demo_infeasible`` the demo with ``--set budget.cap=1000000`` (an explanation, no plan).
``tests/data/summary_keys_demo.json`` is the demo's ordered key paths from the same run (how
it was made is in the file).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from mdtplan.errors import Problem
from mdtplan.summary import (
    SUMMARY_KEYS,
    Band,
    Costs,
    Demand,
    Hubs,
    MarginalValues,
    SolverReport,
    Summary,
    Travel,
    Workforce,
)

DATA = Path(__file__).resolve().parent / "data"
SAVED = sorted((DATA / "summaries").glob("*.json"))

#: mappings whose keys depend on the solve (which stages ran, which rows bind): their keys are
#: not compared with the stored list
LEAVES = {"timings", "marginal_values.binding", "marginal_values.per_extra_fte.best_unit_value",
          "geography.pieces_per_catchment", "baseline.geography.pieces_per_catchment"}


def key_paths(obj, prefix: str = "") -> list[str]:
    """Every key path of a JSON document in order; a list's items as ``[]``, their paths
    merged in first-seen order; the keys under :data:`LEAVES` left out."""
    out = []
    if isinstance(obj, dict) and prefix not in LEAVES:
        for k, v in obj.items():
            p = f"{prefix}.{k}" if prefix else k
            out.append(p)
            out += key_paths(v, p)
    elif isinstance(obj, list):
        for item in obj:
            out += key_paths(item, prefix + "[]")
    return list(dict.fromkeys(out))


def minimal() -> Summary:
    """A solve that found nothing: every optional part empty."""
    return Summary(
        name="nothing", report=SolverReport(status="no_solution", objective=None,
                                            objective_name="min_cost", mip_gap=None,
                                            solve_seconds=0.0),
        costs=Costs(total_gbp=None, staff_gbp=None, agency_gbp=None, site_gbp=None),
        demand=Demand(hours=0.0, met_share=None), workforce=Workforce(), hubs=Hubs(count=0),
        travel=Travel(mean=None, max=None, unit="minutes"))


# ---------------------------------------------------------------------------------------------
# Round trips


def test_the_stored_summaries_are_there():
    assert {p.stem for p in SAVED} == {"demo", "york", "kent", "demo_mc", "demo_infeasible"}


@pytest.mark.parametrize("path", SAVED, ids=[p.stem for p in SAVED])
def test_a_real_summary_reads_back_and_writes_out_exactly(path):
    text = path.read_text()
    doc = json.loads(text)
    summary = Summary.from_dict(doc)
    assert summary.to_dict() == doc
    assert json.dumps(summary.to_dict(), indent=2, allow_nan=False) + "\n" == text  # key order
    assert Summary.from_dict(summary.to_dict()) == summary
    assert list(doc) == list(SUMMARY_KEYS)


def test_the_stored_summaries_have_every_block():
    docs = {p.stem: Summary.from_dict(json.loads(p.read_text())) for p in SAVED}
    mc = docs["demo_mc"].finance.monte_carlo
    assert mc.demand is not None and mc.demand.draws and mc.probability_passes is not None
    assert docs["demo"].baseline.violations and docs["demo"].savings.lines
    assert docs["demo"].marginal_values.per_100k_budget is not None
    assert docs["demo_infeasible"].explanation and docs["demo_infeasible"].hubs.population is None
    assert all(isinstance(p, Problem) for p in docs["demo_infeasible"].explanation)
    assert docs["york"].baseline is None and docs["york"].warnings


def test_a_minimal_summary_round_trips():
    s = minimal()
    doc = s.to_dict()
    assert list(doc) == list(SUMMARY_KEYS)
    assert doc["population_per_hub"] == {} and doc["travel"] == {"mean": None, "max": None}
    assert doc["marginal_values"] is None and doc["finance"] is None and doc["warnings"] == []
    assert Summary.from_dict(doc) == s
    assert Summary.from_dict(json.loads(json.dumps(doc))) == s


def test_empty_marginal_values_and_non_finite_numbers_are_written_as_before():
    s = replace(minimal(), marginal_values=MarginalValues(),
                hubs=Hubs(count=1, population=Band(min=float("nan"), median=1.0,
                                                   max=float("inf"))))
    doc = s.to_dict()
    assert doc["marginal_values"] == {}
    assert doc["population_per_hub"] == {"min": None, "median": 1.0, "max": None}
    assert MarginalValues(unavailable="no duals").to_dict() == {"unavailable": "no duals"}


def test_a_partial_document_reads_with_nones():
    # the service stores summaries; an older or partial one still reads
    s = Summary.from_dict({"status": "optimal", "total_cost": 20.9e6,
                           "savings": {"total": {"baseline_gbp": 24.5e6, "scenario_gbp": 20.9e6,
                                                 "saving_gbp": 3.6e6}}})
    assert (s.report.status, s.costs.total_gbp, s.hubs.count, s.travel.mean) == (
        "optimal", 20.9e6, None, None)
    assert s.savings.total.saving_gbp == 3.6e6 and s.savings.lines == ()
    assert s.finance is None and s.baseline is None


# ---------------------------------------------------------------------------------------------
# A real run: the typed summary in memory, and the demo's keys against main's (slow: two demo
# solves with a baseline, about 35 s on two cores: one 15 s limit covers each run's solve,
# baseline and Monte Carlo draws)


RATES = ("finance.monte_carlo.demand_rates={reablement: {low: 0.8, high: 1.3}, "
         "assessments_older_people: {low: 0.9, most_likely: 1.0, high: 1.2}}")
RUNS = {
    "demo": [],
    "demo_mc": ["objective=min_cost", "budget.cap=null", "solver.mip_gap=0.05",
                "finance.monte_carlo.solves=2", "finance.monte_carlo.draws=2000", RATES],
}


@pytest.fixture(scope="module")
def solved(repo_root, tmp_path_factory):
    """``solved(name)``: (the run's summary, its folder, the summary read back), solved once."""
    from mdtplan.outputs import read_result_dir, write_outputs
    from mdtplan.pipeline import run
    from mdtplan.scenario import load_scenario

    done = {}

    def get(name):
        if name not in done:
            scenario = load_scenario(repo_root / "examples" / "demo.yaml",
                                     [*RUNS[name], "solver.time_limit_s=15", "solver.threads=1"])
            results = run(scenario).results
            out = tmp_path_factory.mktemp(name)
            write_outputs(results, out, map_html=False, workbook=False)
            done[name] = results.summary, out, read_result_dir(out)["summary"]
        return done[name]

    return get


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(RUNS))
def test_a_run_summary_round_trips_in_memory(solved, name):
    summary, out, read_back = solved(name)
    assert summary.finance is not None and summary.baseline is not None
    assert (summary.finance.monte_carlo.demand is not None) == (name == "demo_mc")
    assert Summary.from_dict(summary.to_dict()) == summary
    assert read_back == summary                          # read_result_dir gives it back typed
    assert read_back.to_dict() == json.loads((out / "summary.json").read_text())


@pytest.mark.slow
def test_the_demo_summary_keys_are_those_of_main(solved):
    _, out, _ = solved("demo")
    want = json.loads((DATA / "summary_keys_demo.json").read_text())["keys"]
    assert key_paths(json.loads((out / "summary.json").read_text())) == want

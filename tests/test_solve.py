"""The HiGHS hand-over: statuses, progress, cancel, warm start and in-place re-solves."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from checker import check_plan
from model import no_roles, solve_data, tiny_data, with_sites

from mdtplan.model.build import build_model
from mdtplan.model.index import index_data
from mdtplan.orlib import to_model_data
from mdtplan.solve import (
    Session,
    SolveOptions,
    SolveStatus,
    compile_model,
    extract_tables,
    solve,
    tables_from_values,
)


@pytest.fixture(scope="module")
def pmed(orlib_dir):
    def _load(name):
        return to_model_data(orlib_dir / "pmed" / f"{name}.txt")
    return _load


def test_compiled_rows_are_the_pyomo_constraints():
    # every Pyomo constraint is exactly one HiGHS row, with its own bounds
    model = build_model(tiny_data(hub_population_max=40_000.0))
    k = compile_model(model)
    names = {c.parent_component().local_name for c in k.rows}
    assert {"area_served_once", "assign_only_open", "hub_population_max",
            "core_demand_covered", "pool_demand_covered", "core_minimum_fte"} <= names
    assert len(k.rows) == len({id(c) for c in k.rows})
    assert k.A.shape == (len(k.rows), len(k.columns))


def test_progress_callback_sees_the_mip(pmed):
    data = pmed("pmed2")
    events = []
    result = solve(build_model(data), data, SolveOptions(mip_gap=0.0),
                   progress=events.append)
    assert result.status is SolveStatus.optimal
    assert result.objective == pytest.approx(4093)
    assert events, "no progress event"
    assert {"stage", "objective_stage", "event", "primal", "dual", "gap", "elapsed_s",
            "message"} <= set(events[-1])
    assert any(e["event"] == "improving" for e in events)
    assert events[-1]["objective_stage"] == "travel"


@pytest.mark.slow
def test_cancel_stops_a_long_solve_quickly(pmed):
    # pmed16 takes minutes to prove; cancel as soon as the first plan is reported
    data = pmed("pmed16")
    model = build_model(data)
    cancel = threading.Event()
    when = {}

    def progress(event):
        if not cancel.is_set():
            when["set"] = time.perf_counter()
            cancel.set()

    result = solve(model, data, SolveOptions(mip_gap=0.0, time_limit_s=300.0),
                   progress=progress, cancel=cancel)
    stopped = time.perf_counter()
    assert result.cancelled
    assert result.message == "cancelled"
    assert result.status in (SolveStatus.feasible_at_limit, SolveStatus.no_solution)
    assert stopped - when["set"] < 30.0
    if result.status is SolveStatus.feasible_at_limit:
        assert result.objective >= 8162 - 1e-6


def test_cancel_before_start_returns_no_solution():
    cancel = threading.Event()
    cancel.set()
    data = tiny_data()
    result = solve(build_model(data), data, SolveOptions(), cancel=cancel)
    assert result.cancelled and result.status is SolveStatus.no_solution
    assert result.objective is None


@pytest.mark.slow
def test_time_limit_reports_feasible_at_limit_with_a_gap(pmed):
    data = pmed("pmed16")
    result = solve(build_model(data), data, SolveOptions(mip_gap=0.0, time_limit_s=3.0))
    assert result.status is SolveStatus.feasible_at_limit
    assert result.objective is not None and result.objective >= 8162 - 1e-6
    if result.dual_bound is not None:
        assert result.mip_gap == pytest.approx(
            (result.objective - result.dual_bound) / result.objective)
        assert result.mip_gap > 0
    else:
        assert result.mip_gap is None and "gap unknown" in result.message


@pytest.mark.parametrize("name", ["pmed1", "pmed4"])
def test_warm_start_does_not_change_the_optimum(pmed, name):
    data = pmed(name)
    cold = solve(build_model(data), data, SolveOptions(mip_gap=0.0, warm_start=False))
    warm = solve(build_model(data), data, SolveOptions(mip_gap=0.0, warm_start=True))
    assert cold.status is warm.status is SolveStatus.optimal
    assert warm.objective == pytest.approx(cold.objective, rel=1e-9)


def test_warm_start_on_a_staffed_instance():
    data = tiny_data(objective="max_demand_met", budget_cap_gbp=480_000.0)
    cold, _, _ = solve_data(data, warm_start=False)
    warm, tables, _ = solve_data(data, warm_start=True)
    assert warm.stage_objectives == pytest.approx(cold.stage_objectives)
    assert check_plan(data, tables) == []


@pytest.mark.parametrize("cap", [420_000.0, 520_000.0, 700_000.0])
def test_in_place_budget_change_equals_a_cold_solve(cap):
    data = tiny_data(objective="max_demand_met", budget_cap_gbp=480_000.0)
    model = build_model(data)
    session = Session(model, SolveOptions(mip_gap=0.0))
    first = session.solve()
    assert first.objective == pytest.approx(2000)
    session.set_param("budget_cap_gbp", cap)
    again = session.solve()
    cold, tables, _ = solve_data(replace(data, budget_cap_gbp=cap))
    assert again.status is cold.status
    assert again.stage_objectives == pytest.approx(cold.stage_objectives)
    assert check_plan(replace(data, budget_cap_gbp=cap), extract_tables(model, data)) == []
    session.close()


def test_in_place_band_count_and_demand_changes():
    data = tiny_data(hub_population_max=60_000.0, hub_count_min=1, hub_count_max=2)
    session = Session(build_model(data), SolveOptions(mip_gap=0.0))
    assert session.solve().objective == pytest.approx(580_000)
    # the band now forces two hubs (see test_hub_size)
    session.set_param("hub_population_max", 40_000.0)
    assert session.solve().objective == pytest.approx(680_000)
    # ... and so does the count
    session.set_param("hub_population_max", 60_000.0)
    session.set_param("hub_count_min", 2)
    assert session.solve().objective == pytest.approx(680_000)
    session.set_param("hub_count_min", 1)
    # double the demand: one hub, sw 12 FTE + ot 6 FTE = 600k + 360k + 100k
    session.set_param("demand_scale", 2.0)
    result = session.solve()
    assert result.objective == pytest.approx(1_060_000)
    tables = extract_tables(session.model)
    assert check_plan(data, tables, demand_scale=2.0) == []


def test_set_param_on_an_absent_constraint_says_so():
    session = Session(build_model(tiny_data()), SolveOptions())
    with pytest.raises(Exception, match="budget_cap"):
        session.set_param("budget_cap_gbp", 1e6)


def test_var_bounds_and_constraint_bounds_in_place():
    data = tiny_data()
    session = Session(build_model(data), SolveOptions(mip_gap=0.0))
    assert session.solve().stage_objectives["travel"] == pytest.approx(550_000)
    m = session.model
    session.set_var_bounds(m.open_site["S2"], 0, 0)   # shut S2: S1 serves all
    result = session.solve()
    assert result.objective == pytest.approx(580_000)
    assert result.stage_objectives["travel"] == pytest.approx(1_000_000)
    cold, _, _ = solve_data(with_sites(data, status=["candidate", "excluded"]))
    assert result.objective == pytest.approx(cold.objective)


def test_infeasible_is_reported_not_raised():
    result, tables, model = solve_data(tiny_data(budget_cap_gbp=100.0))
    assert result.status is SolveStatus.infeasible
    assert not result.has_solution and tables is None
    assert result.objective is None and result.mip_gap is None
    assert all(v.value is None for v in model.open_site.values())


def test_marginal_value_of_the_budget():
    # max_demand_met at cap 480,000 with the plan fixed (S2 open, all areas there) and FTE
    # continuous: each extra GBP buys sw or ot hours; ot is the short role (2,000 h unmet) at
    # 1,000 h per 60,000, so one more GBP saves 1/60 h: the dual is -1/60 h per GBP.
    data = tiny_data(objective="max_demand_met", budget_cap_gbp=480_000.0)
    session = Session(build_model(data), SolveOptions(mip_gap=0.0))
    session.solve()
    duals = session.marginal_values(["budget_cap"])
    assert duals["budget_cap"].iloc[0] == pytest.approx(-1 / 60, rel=1e-6)
    # the session still solves as before
    assert session.solve().objective == pytest.approx(2000)


def test_timings_are_reported():
    result, _, _ = solve_data(tiny_data())
    t = result.timings
    assert {"build_s", "compile_s", "highs_s", "load_s", "solve_s"} <= set(t)
    assert all(v >= 0 for v in t.values())


def test_lp_after_a_long_mip_still_gets_its_time():
    """HiGHS checks LP runs against its cumulative clock: marginal values after a solve that
    used its whole time limit must still be computed (regression)."""
    import time

    from model import tiny_data

    from mdtplan.explain import marginal_summary
    from mdtplan.model.build import build_model
    from mdtplan.solve import Session, SolveOptions

    data = tiny_data(objective="max_demand_met", budget_cap_gbp=400_000.0)
    session = Session(build_model(data), SolveOptions(time_limit_s=1.0, mip_gap=0.0))
    try:
        assert session.solve().has_solution
        # pretend the MIP ran for longer than the whole limit, as on a real county
        deadline = time.perf_counter() + 1.2
        while session.highs.getRunTime() < 1.2 and time.perf_counter() < deadline + 5:
            session.highs.run()
        assert session.highs.getRunTime() > session.options.time_limit_s
        out = marginal_summary(session, data)
    finally:
        session.close()
    assert "unavailable" not in out
    assert out["per_100k_budget"]["change"] < 0


def test_a_plan_without_staff_has_an_empty_staffing_table_of_its_own():
    data = no_roles(tiny_data())
    ix = index_data(data)
    values = {"assign": np.ones(len(ix.pairs)), "open_site": np.ones(len(ix.site_ids)),
              "fte_steps": np.zeros(0), "agency_fte": np.zeros(0), "unmet_hours": np.zeros(0)}
    first = tables_from_values(ix, data, values, 1.0)["staffing"]
    expected = pd.DataFrame([], columns=["unit", "kind", "role", "fte", "agency_fte",
                                         "unmet_hours", "demand_hours", "travel_hours",
                                         "mileage_miles"])
    pd.testing.assert_frame_equal(first, expected, check_index_type=True,
                                  check_column_type=True)
    first["extra"] = 1.0  # a caller's change stays in its own table
    second = tables_from_values(ix, data, values, 1.0)["staffing"]
    pd.testing.assert_frame_equal(second, expected, check_index_type=True,
                                  check_column_type=True)


def test_every_stage_reports_its_bound_and_gap():
    """``stages`` in summary.json: each lexicographic stage with the bound HiGHS proved for it
    (earlier stages held) and the gap of the plan returned; proved optimal, every gap is ~0 and
    no bound lies beyond its stage's objective."""
    from mdtplan.results import build_results

    data = tiny_data(objective="max_demand_met", budget_cap_gbp=480_000.0)
    result, tables, _ = solve_data(data, warm_start=False)
    assert result.status is SolveStatus.optimal
    assert len(result.stage_status) >= 2            # demand met, then cost, then travel
    stages = build_results(data, tables, result).summary.report.stages
    assert [s["name"] for s in stages] == list(result.stage_status)
    for s in stages:
        assert s["status"] == "optimal"
        assert s["objective"] == pytest.approx(result.stage_objectives[s["name"]])
        assert s["bound"] is not None and s["gap"] is not None
        assert s["gap"] <= 1e-4
        assert s["bound"] <= s["objective"] + 1e-6 * max(1.0, abs(s["objective"]))


def test_a_stage_stopped_at_its_limit_reports_a_positive_gap(pmed):
    from mdtplan.results import build_results

    data = pmed("pmed16")
    result = solve(build_model(data), data, SolveOptions(mip_gap=0.0, time_limit_s=3.0))
    assert result.status is SolveStatus.feasible_at_limit
    model_tables = None
    stages = build_results(data, model_tables, result).summary.report.stages
    first = stages[0]
    assert first["status"] == "feasible_at_limit"
    if first["bound"] is not None:
        assert first["gap"] == pytest.approx(result.mip_gap)
        assert first["gap"] > 0

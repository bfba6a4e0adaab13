"""The heuristic MIP start (mdtplan.solve.start) and the solve's time budget.

The start must be a complete plan that keeps every rule (re-checked independently by
tests/checker.py and against every compiled row), HiGHS must take it as its first incumbent,
it must never change an optimum, and the same model must give the same start. The time
budget must never give a part of the solve more than is left of its limit.
"""

from __future__ import annotations

import importlib
import threading
from pathlib import Path

import highspy
import numpy as np
import pytest
from checker import check_plan
from model import add_team_manager, random_data, solve_data, tiny_data, with_roles

from mdtplan.errors import InfeasibleError
from mdtplan.model.build import build_model
from mdtplan.solve import Session, SolveOptions, SolveStatus, TimeBudget, extract_tables
from mdtplan.solve.mip_start import checked_start
from mdtplan.solve.start import StartInput, build_start, start_values, unit_steps

REPO = Path(__file__).resolve().parents[1]

#: the parts of a solve that read the clock (the time budget, the HiGHS handle's deadline, the
#: stage loop, the start's thread, ...): a fake clock replaces it in all of them
_SOLVE_CLOCKS = [importlib.import_module(f"mdtplan.solve.{name}") for name in
                 ("budget", "highs", "job", "mip_start", "reuse", "session", "stages")]


def _freeze_start_clock(monkeypatch):
    """Switch the start's wall-clock backstop off (a frozen clock): units of work only."""
    from mdtplan.solve.start import instance, search

    for module in (instance, search):
        monkeypatch.setattr(module, "perf_counter", lambda: 0.0)


def _plan_tables(model, data, plan):
    """Load the heuristic plan into the model's variables and extract the result tables."""
    for var, value in start_values(model, plan).items():
        var.set_value(value, skip_validation=True)
    return extract_tables(model, data)


# ---------------------------------------------------------------------------------------------
# Staffing of one unit


def test_unit_steps_round_up_keep_minimums_and_supervision():
    # sw: 1,000 h/FTE, step 1, minimum 1; tm supervises sw at 4 (see model.add_team_manager)
    data = add_team_manager(tiny_data(), ratio=4.0)
    model = build_model(data)
    from mdtplan.solve.start.instance import _instance

    roles = _instance(StartInput.of_model(model)).roles
    core = roles.core  # sw, tm
    sw, tm = list(model.mdtplan_index.roles).index("sw"), list(
        model.mdtplan_index.roles).index("tm")
    col = {int(p): i for i, p in enumerate(core)}
    hours = np.zeros((4, len(core)))
    hours[:, col[sw]] = [0.0, 1.0, 4000.0, 4000.5]
    steps = unit_steps(hours, roles, core, minimum=True)
    # sw: the minimum 1, then 1 (just above 0), 4 (exactly), 5 (just above 4)
    assert steps[:, col[sw]].tolist() == [1.0, 1.0, 4.0, 5.0]
    # tm (step 0.5, ratio 4): 1 sw -> 0.25 FTE -> 1 step; 4 -> 2 steps; 5 -> 1.25 FTE -> 3
    assert steps[:, col[tm]].tolist() == [1.0, 1.0, 2.0, 3.0]
    # a pool (no minimum) with no demand needs nobody
    assert unit_steps(np.zeros((1, len(core))), roles, core, minimum=False).sum() == 0


# ---------------------------------------------------------------------------------------------
# The start is a complete plan that keeps every rule


TINY_CASES = {
    "min_cost": {},
    "min_travel": {"objective": "min_travel"},
    "min_max_travel": {"objective": "min_max_travel"},
    "max_demand_met under a cap": {"objective": "max_demand_met", "budget_cap_gbp": 480_000.0},
    "band forces two hubs": {"hub_population_max": 40_000.0},
    "split": {"assignment": "split", "hub_population_max": 31_000.0,
              "hub_population_min": 29_000.0, "objective": "min_travel"},
}


@pytest.mark.parametrize("changes", TINY_CASES.values(), ids=TINY_CASES.keys())
def test_tiny_start_is_complete_feasible_and_keeps_the_optimum(changes):
    data = tiny_data(**changes)
    model = build_model(data)
    plan = build_start(StartInput.of_model(model), max_seconds=1.0)
    assert plan is not None and plan.feasible, plan and plan.notes
    assert check_plan(data, _plan_tables(model, data, plan)) == []

    session = Session(build_model(data), SolveOptions(mip_gap=0.0, threads=1))
    warm = session.solve()
    report = session.start_report
    assert report["complete"] and report["feasible"], report
    # the start changes no optimum, and is no better than it (the later stages may move the
    # first one's quantity within its hold tolerance, 1e-6)
    cold, _, _ = solve_data(data, warm_start=False)
    assert warm.status is cold.status is SolveStatus.optimal
    assert warm.stage_objectives == pytest.approx(cold.stage_objectives)
    assert report["objective"] >= warm.objective - 1e-5
    session.close()


def test_supervision_and_minimum_staff_in_the_start():
    data = add_team_manager(with_roles(tiny_data(hub_population_max=40_000.0),
                                       min_fte_per_hub={"sw": 2.0}), ratio=2.0)
    model = build_model(data)
    plan = build_start(StartInput.of_model(model), max_seconds=1.0)
    tables = _plan_tables(model, data, plan)
    assert plan.feasible and check_plan(data, tables) == []
    staff = tables["staffing"].set_index(["unit", "role"])["fte"]
    for hub in tables["hubs"].loc[tables["hubs"]["open"], "site_id"]:
        assert staff[hub, "sw"] >= 2.0
        assert staff[hub, "tm"] * 2.0 >= staff[hub, "sw"] - 1e-9


def test_budget_is_met_by_cutting_staff_for_max_demand_met():
    # 480,000 buys one hub's minimum plus part of the demand: the start leaves hours unmet
    # within the cap rather than breaking it
    data = tiny_data(objective="max_demand_met", budget_cap_gbp=480_000.0)
    model = build_model(data)
    plan = build_start(StartInput.of_model(model), max_seconds=1.0)
    tables = _plan_tables(model, data, plan)
    assert plan.feasible and check_plan(data, tables) == []
    assert tables["staffing"]["unmet_hours"].sum() > 0


def _random_cases():
    kinds = [dict(objective=o, assignment=a, band=b, budget=bu, count=c, capacity=cap,
                  supply=su, reach=r)
             for o, a, b, bu, c, cap, su, r in [
                 ("min_cost", "single", True, False, True, False, False, None),
                 ("min_cost", "single", True, True, False, True, True, 18.0),
                 ("min_cost", "split", False, False, True, True, False, None),
                 ("max_demand_met", "single", True, True, True, False, True, None),
                 ("max_demand_met", "split", False, True, False, True, False, 18.0),
                 ("min_travel", "single", True, False, True, False, False, 18.0),
                 ("min_max_travel", "single", False, False, True, True, False, None),
             ]]
    return [(seed, kind) for seed in range(6) for kind in kinds]


@pytest.mark.parametrize("seed,kind", _random_cases())
def test_random_start_keeps_every_rule_it_claims(seed, kind):
    rng = np.random.default_rng(seed)
    data = random_data(rng, n_areas=int(rng.integers(4, 12)), n_sites=int(rng.integers(2, 6)),
                       n_roles=int(rng.integers(0, 4)), **kind)
    try:
        model = build_model(data)
    except InfeasibleError:
        return
    plan = build_start(StartInput.of_model(model), max_seconds=0.5)
    if plan is None or not plan.feasible:
        return  # the session then passes hubs and assignment only (checked below)
    assert check_plan(data, _plan_tables(model, data, plan)) == []
    session = Session(build_model(data), SolveOptions(mip_gap=0.0, threads=1,
                                                      time_limit_s=20.0))
    result = session.solve()
    assert session.start_report["complete"] and session.start_report["feasible"]
    assert result.status is SolveStatus.optimal
    # the later stages may use the hold's tolerance on the first (stages.hold_value: 1e-6
    # plus 1e-9 of the value) and an LP's feasibility tolerance beside it
    assert session.start_report["objective"] >= result.objective - 2e-6 * max(
        1.0, abs(result.objective))
    session.close()


def test_an_infeasible_start_is_cut_to_its_binaries():
    # a start that breaks a row is not handed over whole: only the binary columns remain
    data = tiny_data()
    session = Session(build_model(data), SolveOptions(mip_gap=0.0, threads=1))
    k = session.compiled
    x = {j: 0.0 for j in range(len(k.columns))}  # nobody assigned: area_served_once broken
    start = checked_start(session, x, "given")
    assert not session.start_report["feasible"]
    assert any("area_served_once" in v for v in session.start_report["violations"])
    assert set(start) == {j for j in range(len(k.columns)) if k.integrality[j]
                          and k.col_lower[j] >= 0 and k.col_upper[j] <= 1}
    session.close()


# ---------------------------------------------------------------------------------------------
# A county: complete, accepted by HiGHS as its first incumbent, deterministic


@pytest.fixture(scope="module")
def medway(shared_data):
    from mdtplan.pipeline import prepare
    from mdtplan.scenario import load_scenario

    return prepare(load_scenario(REPO / "examples" / "medway.yaml")).data


def test_county_start_is_taken_by_highs_as_its_first_plan(medway):
    model = build_model(medway)
    # HiGHS's presolve of Medway's 29,000 flow columns must finish before it reports the
    # start: a long limit for a busy machine, and the solve cancelled as soon as HiGHS
    # reports its first plan (so the test takes seconds when the machine is quiet)
    session = Session(model, SolveOptions(time_limit_s=120.0, mip_gap=0.0, threads=1))
    events = []
    cancel = threading.Event()

    def seen(event):
        events.append(event)
        if event.get("event") == "improving":
            cancel.set()

    result = session.solve(progress=seen, cancel=cancel)
    report = session.start_report
    assert report["complete"] and report["feasible"], report
    improving = [e for e in events if e["event"] == "improving"]
    # HiGHS reports the start as its first incumbent, in the first stage's own units
    assert improving and improving[0]["objective_stage"] == "cost_gbp"
    assert improving[0]["primal"] == pytest.approx(report["objective"], rel=1e-9)
    assert result.has_solution and result.objective <= report["objective"] + 1e-6
    assert check_plan(medway, extract_tables(model, medway)) == []
    session.close()


def test_same_model_same_start(medway, monkeypatch):
    # the search is limited by units of work, not the clock: with the clock's backstop
    # switched off (a frozen clock) two builds must agree exactly
    _freeze_start_clock(monkeypatch)
    one = build_start(StartInput.of_model(build_model(medway)), max_seconds=1.0, seed=3)
    two = build_start(StartInput.of_model(build_model(medway)), max_seconds=1.0, seed=3)
    assert one.feasible and two.feasible
    assert np.array_equal(one.chosen, two.chosen) and np.array_equal(one.steps, two.steps)
    assert one.objective == two.objective


def test_a_stop_ends_the_search_at_once_and_still_gives_a_whole_plan(medway, monkeypatch):
    # a cancel must not wait for the search's budget (up to 20 s): the search polls ``stop``
    # and, once it says so, ends with the best plan it has (every area assigned)
    _freeze_start_clock(monkeypatch)  # units of work only
    full = build_start(StartInput.of_model(build_model(medway)), max_seconds=1.0, seed=3)
    polls = []

    def stop():
        polls.append(1)
        return len(polls) > 3

    cut = build_start(StartInput.of_model(build_model(medway)), max_seconds=1.0, seed=3, stop=stop)
    assert not full.stopped and cut.stopped
    assert len(polls) == 4  # once it said stop, it is not asked again
    assert cut.work_used < 0.25 * full.work_used
    n_areas = len(medway.areas)
    assert len(cut.chosen) == n_areas and (cut.chosen >= 0).all()
    assert cut.is_open[cut.chosen].all()


class _CancelAfter(threading.Event):
    """A cancel flag that sets itself at its ``polls + 1``-th look."""

    def __init__(self, polls: int):
        super().__init__()
        self.polls, self.looks = polls, 0

    def is_set(self) -> bool:
        self.looks += 1
        if self.looks > self.polls:
            self.set()
        return super().is_set()


def test_a_cancel_during_the_heuristic_start_stops_the_solve_before_highs(medway):
    from mdtplan.model.index import index_data

    # 100 s: the start alone may take 20 s; set during it, the cancel ends it and HiGHS never
    # runs
    session = Session.from_data(medway, SolveOptions(time_limit_s=100.0, threads=1),
                                ix=index_data(medway))
    cancel = _CancelAfter(polls=5)
    result = session.solve(cancel=cancel)
    assert result.cancelled and result.message == "cancelled"
    assert session.start_report is not None and session.start_report["cancelled"]
    assert result.highs_run_seconds == 0.0
    session.close()


# ---------------------------------------------------------------------------------------------
# The time budget


def test_time_budget_never_grants_more_than_is_left():
    now = [100.0]
    budget = TimeBudget(10.0, spent_s=3.0, clock=lambda: now[0])
    assert budget.left() == pytest.approx(7.0)
    assert budget.grant("a", 5.0) == pytest.approx(5.0)
    now[0] += 5.0
    assert budget.grant("b", 5.0) == pytest.approx(2.0)  # only 2 s left
    now[0] += 4.0
    assert budget.left() == 0.0 and budget.grant("c", 1.0) == 0.0
    assert all(g["given_s"] <= g["left_s"] + 1e-12 for g in budget.log)
    # a stage with tie-breaks after it leaves them a share; the last stage takes the rest
    fresh = TimeBudget(10.0, clock=lambda: 0.0)
    assert fresh.stage_seconds(0, 2, reserve=1.0) == pytest.approx(9.0 * TimeBudget.STAGE_SHARE)
    assert fresh.stage_seconds(1, 2, reserve=1.0) == pytest.approx(9.0)


class _FakeClock:
    """A clock that moves only when told."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.mark.parametrize("limit,setup", [(10.0, 0.0), (10.0, 4.0), (10.0, 9.5), (1.0, 0.2)])
def test_every_part_of_a_solve_fits_in_what_is_left(monkeypatch, limit, setup):
    """Worst case: build and compile took ``setup`` seconds and every part of the solve (the
    heuristic start, each stage, each clean-up LP) uses all the time it is given; the solve
    must still end within its limit, and no part may be given more than is left."""
    clock = _FakeClock()
    for module in _SOLVE_CLOCKS:  # every part of a solve reads the same clock
        monkeypatch.setattr(module, "perf_counter", clock)
    real_grant = TimeBudget.grant

    def grant_and_use_it_all(self, run, seconds):
        given = real_grant(self, run, seconds)
        clock.now += given
        return given

    monkeypatch.setattr(TimeBudget, "grant", grant_and_use_it_all)
    data = add_team_manager(tiny_data(objective="max_demand_met", budget_cap_gbp=520_000.0))
    model = build_model(data)
    model.mdtplan_build_seconds = setup / 2
    session = Session(model, SolveOptions(time_limit_s=limit, mip_gap=0.0, threads=1))
    session.compile_seconds = setup / 2
    result = session.solve()
    log = session.budget.log
    assert [g["run"] for g in log][:2] == ["heuristic start", "stage unmet_hours"]
    assert all(g["given_s"] <= g["left_s"] + 1e-9 for g in log)
    assert session.budget.elapsed() <= limit + 1e-9
    if setup < limit / 2:
        assert result.has_solution
        assert any(g["run"].startswith("polish") for g in log)
        # the first stage left its tie-breaks a share of the time
        assert log[1]["given_s"] < log[1]["left_s"]
    session.close()


def test_highs_options_reach_every_stage(monkeypatch):
    data = add_team_manager(tiny_data(objective="max_demand_met", budget_cap_gbp=520_000.0))
    options = SolveOptions(time_limit_s=30.0, mip_gap=0.01, threads=1, seed=7, presolve=False)
    session = Session(build_model(data), options)
    seen = []
    real_run = session.handle.run

    def recording_run(threads=None):
        h = session.highs
        status = real_run(threads)
        seen.append({name: h.getOptionValue(name)[1] for name in
                     ("mip_rel_gap", "random_seed", "presolve", "threads", "time_limit")})
        return status

    monkeypatch.setattr(session.handle, "run", recording_run)
    result = session.solve()
    assert result.has_solution and len(result.stage_status) == 3  # unmet, cost, travel
    assert len(seen) >= 3
    for opts in seen:
        assert opts["mip_rel_gap"] == pytest.approx(0.01)
        assert opts["random_seed"] == 7
        assert opts["presolve"] == "off"
        assert opts["threads"] == 1
        assert 0.0 <= opts["time_limit"] <= 30.0 + session.highs.getRunTime()
    session.close()


def test_first_solve_counts_build_and_compile():
    data = tiny_data()
    model = build_model(data)
    model.mdtplan_build_seconds = 50.0  # pretend the build took most of the limit
    session = Session(model, SolveOptions(time_limit_s=60.0, mip_gap=0.0, threads=1))
    session.solve()
    first = session.budget.log
    assert first[0]["left_s"] <= 10.0 + 1e-6  # 60 - 50 - compile
    session.solve()  # a re-solve pays for neither
    assert session.budget.log[0]["left_s"] > 50.0
    session.close()


@pytest.mark.slow
def test_a_mip_that_overruns_its_limit_is_interrupted(orlib_dir, monkeypatch):
    """The backstop: HiGHS is given far more time than the budget allows (as when one of its
    phases overruns its own limit); the interrupt callback still stops it at the deadline."""
    from mdtplan.orlib import to_model_data

    data = to_model_data(orlib_dir / "pmed" / "pmed16.txt")  # minutes to prove
    session = Session(build_model(data), SolveOptions(time_limit_s=2.0, mip_gap=0.0,
                                                      threads=1))
    real = session.handle.set_time_limit

    def generous(seconds, *, lp):
        real(seconds, lp=lp)  # sets the deadline from the budget
        session.highs.setOptionValue("time_limit", 1000.0)  # HiGHS's own limit: far away

    monkeypatch.setattr(session.handle, "set_time_limit", generous)
    result = session.solve()
    assert session.highs.getModelStatus() == highspy.HighsModelStatus.kInterrupt
    assert result.status is SolveStatus.feasible_at_limit and not result.cancelled
    assert result.objective is not None and result.objective >= 8162 - 1e-6
    # HiGHS keeps the interrupt flag between runs: the next run must not stop at once. It
    # ends at its own limit, or (a loaded machine, where a phase overran that) by the
    # backstop after it: either way not before HiGHS had its time
    monkeypatch.setattr(session.handle, "set_time_limit", real)
    again = session.solve()
    granted = [g["given_s"] for g in session.budget.log if g["run"].startswith("stage")]
    assert session.highs.getModelStatus() in (highspy.HighsModelStatus.kTimeLimit,
                                              highspy.HighsModelStatus.kInterrupt)
    assert again.highs_run_seconds >= 0.9 * sum(granted) > 0
    assert again.status is SolveStatus.feasible_at_limit and not again.cancelled
    session.close()


@pytest.mark.parametrize("lazy", [False, True])
def test_a_re_solve_starts_from_the_better_of_the_previous_plan_and_a_fresh_one(lazy):
    # a raised cap leaves the old plan feasible but poor: the fresh heuristic plan for the new
    # numbers is better and is the one HiGHS starts from; with the numbers unchanged the
    # previous plan (an optimum) is kept
    data = tiny_data(budget_cap_gbp=300_000.0, objective="max_demand_met")
    options = SolveOptions(mip_gap=0.0, threads=1, time_limit_s=20.0)
    session = Session.from_data(data, options) if lazy else Session(build_model(data), options)
    first = session.solve()
    assert first.status is SolveStatus.optimal and first.objective > 0  # demand left unmet
    same = session.solve()  # nothing changed: the proven plan, no solver run
    assert same.highs_run_seconds == 0.0 and same.objective == pytest.approx(first.objective)
    session.set_param("demand_scale", 1.0)  # a change (to the same number): solved again
    session.solve()
    assert session.start_report["source"] == "previous plan"
    assert session.start_report["objective"] == pytest.approx(first.objective)
    session.set_param("budget_cap_gbp", 2_000_000.0)
    again = session.solve()
    report = session.start_report
    assert report["source"] == "heuristic" and report["feasible"]
    assert report["objective"] < first.objective  # better than the previous plan
    assert again.status is SolveStatus.optimal and again.objective == pytest.approx(0.0)
    session.close()


def _swap_pairs_one_by_one(s, t, n_sites):
    """The hub-pair-by-hub-pair loop :func:`mdtplan.solve.start.swap_pairs` replaced."""
    if not len(s):
        return np.zeros(0, int), np.zeros(0, int)
    key = s * n_sites + t
    cuts = np.flatnonzero(np.diff(key)) + 1
    begin = np.r_[0, cuts]
    end = np.r_[cuts, len(key)]
    where = {int(key[b]): (b, e) for b, e in zip(begin, end, strict=True)}
    ia, ib = [], []
    for b, e in zip(begin, end, strict=True):
        si, ti = int(s[b]), int(t[b])
        other = where.get(ti * n_sites + si)
        if si >= ti or other is None:
            continue
        b2, e2 = other
        ia.append(np.repeat(np.arange(b, e), e2 - b2))
        ib.append(np.tile(np.arange(b2, e2), e - b))
    if not ia:
        return np.zeros(0, int), np.zeros(0, int)
    return np.concatenate(ia), np.concatenate(ib)


@pytest.mark.parametrize("seed", range(40))
def test_swap_pairs_are_the_pairs_of_the_one_by_one_loop(seed):
    from mdtplan.solve.start import swap_pairs

    rng = np.random.default_rng(seed)
    n_sites = int(rng.integers(1, 12))
    n = int(rng.integers(0, 300))
    s = rng.integers(0, n_sites, n)
    t = rng.integers(0, n_sites, n)
    keep = s != t
    s, t = s[keep], t[keep]
    order = np.lexsort((t, s))
    s, t = s[order], t[order]
    got = swap_pairs(s, t, n_sites)
    want = _swap_pairs_one_by_one(s, t, n_sites)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)
    if len(got[0]):  # every pair is a move and its way back
        assert (s[got[0]] == t[got[1]]).all() and (t[got[0]] == s[got[1]]).all()
        assert (s[got[0]] < t[got[0]]).all()

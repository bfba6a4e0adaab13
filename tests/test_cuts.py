"""Rounding cuts (mdtplan.solve.cuts): valid (no plan removed), tight where the LP is loose, and
solver rows only (the session's model stays the model of record)."""

from __future__ import annotations

from dataclasses import replace

import highspy
import numpy as np
import pandas as pd
import pytest
from model import random_data, roles_frame, tiny_data, with_levers

from mdtplan.model.build import build_model
from mdtplan.model.checks import check_data
from mdtplan.model.data import SupervisionRule
from mdtplan.model.families.lever_reach import lever_index
from mdtplan.model.index import index_data
from mdtplan.model.matrix import build_matrix
from mdtplan.solve import Session, SolveOptions, cuts
from mdtplan.solve.cut_plan import RoundingCuts


def _one_hub(demand_hours: float, step: float = 1.0, minimum: float = 0.0):
    """One area, one site, one core role; the band forces the area onto the hub."""
    roles = roles_frame([{"role_id": "sw", "name": "Social worker", "kind": "core",
                          "cost_gbp_per_fte": 50_000.0, "productive_hours_per_fte": 1000.0,
                          "min_fte_per_hub": minimum, "fte_step": step}])
    data = tiny_data(roles=roles)
    areas = data.areas.iloc[:1]
    demand = pd.DataFrame({"sw": [demand_hours]}, index=areas.index)
    sites = data.sites.iloc[:1]
    pairs = data.pairs[(data.pairs.area_id == "A1") & (data.pairs.site_id == "S1")]
    pop = float(areas["population"].iloc[0])
    return replace(data, areas=areas, demand_hours=demand, sites=sites, pairs=pairs,
                   hub_population_min=pop, hub_population_max=pop)


def _floors(data, **kw):
    ix = index_data(data)
    return ix, cuts.hub_floors(data, ix, population_min=data.hub_population_min,
                               population_max=data.hub_population_max,
                               levers=lever_index(data, ix), **kw)


@pytest.mark.parametrize("hours, step, minimum, waste_fte", [
    (1500.0, 1.0, 0.0, 0.5),   # 1.5 FTE of demand, whole FTE: 2 staffed
    (1500.0, 0.5, 0.0, 0.0),   # half steps: exactly 1.5
    (1200.0, 0.5, 2.0, 0.8),   # the hub's minimum (2 FTE) above its demand (1.2)
])
def test_omega_is_the_hubs_least_rounding_cost(hours, step, minimum, waste_fte):
    data = _one_hub(hours, step, minimum)
    ix, fl = _floors(data)
    assert fl.pi[0] == pytest.approx(50_000.0 * hours / 1000.0)
    expected = 50_000.0 * waste_fte
    if expected == 0:
        assert not (fl.omega[0] > 0)  # no cut where nothing is wasted
    else:
        assert expected - 2.0 <= fl.omega[0] <= expected  # proven bound, a little slack


def test_supervision_counts_in_the_rate_and_the_floor():
    # 1,600 h of social work (1.6 FTE, staffed 2); a manager per 4 FTE in half steps: 0.5
    data = _one_hub(1600.0)
    roles = pd.concat([data.roles, roles_frame([
        {"role_id": "tm", "name": "Team manager", "kind": "core", "cost_gbp_per_fte": 80_000.0,
         "productive_hours_per_fte": 1000.0, "fte_step": 0.5}])])
    demand = data.demand_hours.assign(tm=0.0)
    data = replace(data, roles=roles, demand_hours=demand,
                   supervision=(SupervisionRule("tm", ("sw",), 4.0),))
    ix, fl = _floors(data)
    # the LP's rate: 1.6 FTE x 50k + 1.6 / 4 x 80k; the hub's least: 2 x 50k + 0.5 x 80k
    assert fl.pi[0] == pytest.approx(1.6 * 50_000 + 0.4 * 80_000)
    assert fl.omega[0] == pytest.approx(2 * 50_000 + 0.5 * 80_000 - fl.pi[0], abs=2.0)


def test_cuts_apply_only_where_demand_must_be_met():
    data = tiny_data()
    ix = index_data(data)
    assert cuts.applies(data, ix)
    assert not cuts.applies(replace(data, objective="max_demand_met"), ix)
    no_core = replace(data, roles=data.roles.assign(kind="specialist"))
    assert not cuts.applies(no_core, index_data(no_core))


def _lp_bound(mm, rows=None) -> float:
    """The LP relaxation's optimum of a direct build, with extra rows (cuts) when given."""
    from mdtplan.solve.hub_columns import relaxation

    h = relaxation(mm)
    if rows is not None and len(rows[0]):
        starts, index, value, lower = rows
        h.addRows(len(starts), lower, np.full(len(starts), np.inf), len(index), starts, index,
                  value)
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return float(h.getInfo().objective_function_value)


def _rows_for(data, ix, mm, fl):
    col = {}
    for f, (start, stop) in mm.col_spans.items():
        c = np.full(len(mm.keys[f]), -1, dtype=np.int64)
        c[mm.col_member[start:stop]] = np.arange(start, stop)
        col[f] = c
    return cuts.cut_rows(fl, ix, data, col["open_site"], col["assign"], col["fte_steps"],
                         lever_index(data, ix), col.get("lever_people"))


def test_cuts_raise_the_lp_bound_where_rounding_is_hidden():
    data = _one_hub(1500.0)
    ix, fl = _floors(data)
    mm = build_matrix(data, ix)
    plain = _lp_bound(mm)
    cut = _lp_bound(mm, _rows_for(data, ix, mm, fl))
    # the LP staffs 1.5 FTE; with the cut it pays for the 2 a real hub needs
    assert cut - plain == pytest.approx(25_000.0, abs=2.0)


def _random_cases(count):
    rng = np.random.default_rng(20261123)
    out = []
    while len(out) < count:
        data = random_data(rng, n_areas=int(rng.integers(4, 9)), n_sites=int(rng.integers(2, 5)),
                           n_roles=3, objective=str(rng.choice(["min_cost", "min_travel"])),
                           assignment=str(rng.choice(["single", "split"])),
                           band=bool(rng.random() < 0.6), budget=bool(rng.random() < 0.3),
                           count=bool(rng.random() < 0.5), capacity=bool(rng.random() < 0.4),
                           supply=bool(rng.random() < 0.3),
                           reach=float(rng.choice([12.0, 25.0])))
        try:
            check_data(data)
        except Exception:  # noqa: BLE001 - infeasible by counting: not a case
            continue
        out.append(data)
    return out


def _random_lever_cases(count):
    """Random cases with two levers each: one that frees hours of a core role, one that
    needs them; their savings above or below what the hours cost, so the LP runs them in
    full or not at all."""
    rng = np.random.default_rng(20261207)
    out = []
    for data in _random_cases(2 * count):
        core = [r for r in data.roles.index if data.roles.at[r, "kind"] == "core"]
        n = len(data.areas)
        levers = {"frees": {"cohort": rng.integers(0, 40, n).astype(float),
                            "hours": {core[0]: -float(rng.choice([6.0, 15.0, 40.0]))},
                            "saving": float(rng.choice([0.0, 800.0, 9000.0])),
                            "share": float(rng.choice([0.3, 1.0]))},
                  "needs": {"cohort": rng.integers(0, 40, n).astype(float),
                            "hours": {r: float(rng.choice([4.0, 20.0])) for r in core},
                            "saving": float(rng.choice([100.0, 5000.0])),
                            "share": float(rng.choice([0.5, 1.0]))}}
        out.append(with_levers(data, levers))
        if len(out) == count:
            break
    return out


@pytest.mark.parametrize("data", _random_cases(30) + _random_lever_cases(20))
def test_cuts_remove_no_plan(data):
    """Every plan of the model keeps every cut: the optimum without cuts satisfies them all,
    and solving with them gives the same optimum at every stage."""
    opts = dict(time_limit_s=60.0, mip_gap=0.0, threads=1)
    plain = Session.from_data(data, SolveOptions(**opts, rounding_cuts=False))
    a = plain.solve()
    ix = index_data(data)
    if not a.has_solution:
        assert a.status.value == "infeasible"
        return
    mm = build_matrix(data, ix)
    fl = cuts.hub_floors(data, ix, population_min=data.hub_population_min,
                         population_max=data.hub_population_max,
                         levers=lever_index(data, ix))
    starts, index, value, _ = _rows_for(data, ix, mm, fl)
    ends = np.r_[starts[1:], len(index)].astype(int) if len(starts) else starts
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        activity = float(value[s:e] @ plain.last_solution[index[s:e]])
        assert activity >= -1e-6 * max(1.0, float(np.abs(value[s:e]).max()))
    with_cuts = Session.from_data(data, SolveOptions(**opts))
    b = with_cuts.solve()
    assert b.status == a.status
    for stage, value in a.stage_objectives.items():
        assert b.stage_objectives[stage] == pytest.approx(value, rel=1e-6, abs=1e-6)
    # the cuts were solver rows only: HiGHS holds the model's rows again
    assert with_cuts.highs.getNumRow() == len(with_cuts.compiled.row_lower)


@pytest.mark.parametrize("cases", [_random_cases(30), _random_lever_cases(20)],
                         ids=["plain", "levers"])
def test_the_random_cases_have_cuts_to_check(cases):
    """The property above is checked on cuts that exist: most random cases have some, and
    with levers the rows carry the hubs' lever columns."""
    with_rows = with_lever_terms = 0
    for data in cases:
        ix = index_data(data)
        if not cuts.applies(data, ix):
            continue
        fl = cuts.hub_floors(data, ix, population_min=data.hub_population_min,
                             population_max=data.hub_population_max,
                             levers=lever_index(data, ix))
        mm = build_matrix(data, ix)
        starts, index, _, _ = _rows_for(data, ix, mm, fl)
        with_rows += bool(len(starts))
        if "lever_people" in mm.col_spans:
            lo, hi = mm.col_spans["lever_people"]
            with_lever_terms += bool(((index >= lo) & (index < hi)).any())
    assert with_rows >= len(cases) // 2
    if any(d.levers is not None for d in cases):
        assert with_lever_terms >= len(cases) // 2


def _one_hub_lever(demand_hours: float, lever_hours: float, saving: float):
    """:func:`_one_hub` (social work, whole FTE of 1,000 h at GBP 50,000) with a lever that
    may reach 10 people, each needing ``lever_hours`` hours (negative: freeing them)."""
    return with_levers(_one_hub(demand_hours), {
        "rehab": {"cohort": [10.0], "hours": {"sw": lever_hours}, "saving": saving,
                  "share": 1.0}})


def test_a_lever_that_frees_hours_keeps_its_cut():
    # 1,500 h of demand; 10 people freeing 20 h each: 1,300 h at full reach, staffed 2 FTE.
    # Reaching fewer people never saves a step, so the floor is the 0.7 FTE wasted at full
    # reach (counting hours alone, a partial reach could fill the step exactly)
    data = _one_hub_lever(1500.0, -20.0, saving=5_000.0)
    ix, fl = _floors(data)
    assert cuts.applies(data, ix)
    assert fl.saving is not None and fl.saving[0] == 5_000.0
    # the pair's rate: the area's 1.5 FTE less the 0.2 FTE its people free, less their saving
    assert fl.pi_pair[0] == pytest.approx(1.5 * 50_000 - 0.2 * 50_000 - 10 * 5_000)
    assert fl.omega[0] == pytest.approx(0.7 * 50_000, abs=2.0)
    # the cut raises the LP bound by that waste (the LP staffs 1.3 FTE)
    mm = build_matrix(data, ix)
    assert _lp_bound(mm, _rows_for(data, ix, mm, fl)) - _lp_bound(mm) == pytest.approx(
        0.7 * 50_000, abs=2.0)


def test_a_lever_that_needs_hours_may_be_run_short_to_save_a_step():
    # 1,900 h of demand; 10 people needing 20 h each (worth GBP 1,500 a person, more than
    # their GBP 1,000 of hours): full reach needs 2,100 h, 3 FTE; reaching 5 keeps the hub at
    # 2 FTE, losing GBP 2,500 of net saving: the least rounding of any hub there
    data = _one_hub_lever(1900.0, 20.0, saving=1_500.0)
    ix, fl = _floors(data)
    assert fl.pi_pair[0] == pytest.approx(1.9 * 50_000 + 10 * (1_000 - 1_500))
    assert fl.omega[0] == pytest.approx(2_500.0, abs=2.0)


def test_the_floors_need_the_levers_index_when_there_are_levers():
    data = _one_hub_lever(1500.0, -20.0, saving=5_000.0)
    ix = index_data(data)
    with pytest.raises(ValueError, match="levers"):
        cuts.hub_floors(data, ix)


def _banded_tiny():
    return replace(_one_hub(1500.0), hub_count_min=1)


def test_a_session_adds_cuts_per_solve_and_remakes_them_when_the_band_moves():
    data = _banded_tiny()
    session = Session.from_data(data, SolveOptions(mip_gap=0.0, threads=1, time_limit_s=30))
    rows = len(session.compiled.row_lower)
    first = session.solve()
    assert session.cut_report is not None and session.cut_report["rows"] > 0
    assert not session.cut_report["reused_from_last_solve"]
    assert session.highs.getNumRow() == rows
    assert first.timings["cuts_s"] > 0
    session.set_param("hub_count_min", 1)  # not in the cuts: kept
    second = session.solve()
    assert session.cut_report["reused_from_last_solve"]
    assert "cuts_s" not in second.timings
    session.set_param("hub_population_max", 2 * data.hub_population_max)  # made again
    session.solve()
    assert not session.cut_report["reused_from_last_solve"]
    assert session.highs.getNumRow() == rows


def test_the_model_of_record_gets_the_same_cuts():
    data = _banded_tiny()
    opts = SolveOptions(mip_gap=0.0, threads=1, time_limit_s=30)
    lazy = Session.from_data(data, opts)
    pyomo = Session(build_model(data), opts)
    ra, rb = lazy.solve(), pyomo.solve()
    assert ra.objective == pytest.approx(rb.objective)
    for x, y in zip(lazy.cut_rows, pyomo.cut_rows, strict=True):
        np.testing.assert_allclose(x, y)


def test_no_cuts_when_turned_off_or_not_valid():
    data = _banded_tiny()
    off = Session.from_data(data, SolveOptions(mip_gap=0.0, threads=1, rounding_cuts=False))
    off.solve()
    assert off.cut_report is None
    demand = Session.from_data(replace(data, objective="max_demand_met"),
                               SolveOptions(mip_gap=0.0, threads=1))
    demand.solve()
    assert demand.cut_report is None


def _banded_random_cases(count: int):
    """``(data, ix, band)`` of seeded random staffed models with a population band and a
    10-minute reach (a dozen sites: enough for the probe and more)."""
    rng = np.random.default_rng(5)
    for _ in range(count):
        data = random_data(rng, n_areas=14, n_sites=12, n_roles=3, objective="min_cost",
                           assignment="single", band=True, budget=False, count=False,
                           capacity=False, supply=False, reach=10.0)
        yield data, index_data(data), dict(population_min=data.hub_population_min,
                                           population_max=data.hub_population_max)


def test_cuts_not_worth_their_time_are_given_up_after_a_probe():
    for data, ix, band in _banded_random_cases(20):
        every = cuts.hub_floors(data, ix, **band)
        if every.solved > cuts.PROBE_SITES:
            break
    else:
        pytest.fail("no random case needs more sites solved than the probe")
    # a bar no cut can clear: stopped after the probe, no cut at all; no bar: every site,
    # as without one
    bar = cuts.hub_floors(data, ix, min_share=10.0, **band)
    assert bar.solved == cuts.PROBE_SITES and bar.given_up == "too small to move the bound"
    assert np.isnan(bar.omega).all()
    # (the probe's order may let other sites lend their bound: the same sites get one)
    no_bar = cuts.hub_floors(data, ix, min_share=0.0, **band)
    assert no_bar.solved > cuts.PROBE_SITES and no_bar.given_up == ""
    np.testing.assert_array_equal(np.isfinite(no_bar.omega), np.isfinite(every.omega))


def test_cuts_that_would_not_all_be_made_in_time_are_given_up_after_a_probe(monkeypatch):
    # every site's MIP takes a second by a fake clock; when the probe's pace says the sites
    # would not all be done in time, the cuts are given up rather than made for some only
    for data, ix, band in _banded_random_cases(40):
        needed = cuts._solves_needed(*cuts.site_order(data, ix, probe=True))
        free = cuts.hub_floors(data, ix, min_share=0.0, **band)
        if needed > cuts.PROBE_SITES + 1 and not free.given_up:
            break
    else:
        pytest.fail("no random case needs two sites solved beyond the probe")
    now = [0.0]
    real = cuts._site_mip

    def one_second(*args):
        now[0] += 1.0
        return real(*args)

    monkeypatch.setattr(cuts, "_site_mip", one_second)
    slow = cuts.hub_floors(data, ix, min_share=0.0, seconds=needed - 0.5,
                           clock=lambda: now[0], **band)
    assert slow.solved == cuts.PROBE_SITES and np.isnan(slow.omega).all()
    assert f"{needed} sites would take about {needed} s" in slow.given_up
    now[0] = 0.0
    roomy = cuts.hub_floors(data, ix, min_share=0.0, seconds=10 * needed,
                            clock=lambda: now[0], **band)
    assert roomy.given_up == "" and roomy.solved == free.solved >= needed
    np.testing.assert_array_equal(np.isfinite(roomy.omega), np.isfinite(free.omega))


def test_the_cuts_report_progress_and_stop_on_cancel():
    import threading

    data = _banded_tiny()
    events = []
    session = Session.from_data(data, SolveOptions(mip_gap=0.0, threads=1, time_limit_s=30))
    session.solve(progress=events.append)
    cut_events = [e for e in events if e["event"] == "cuts"]
    assert len(cut_events) == 1 and "rounding cuts" in cut_events[0]["message"]
    # cancelled before it starts: no site is solved, and the solve says so
    cancel = threading.Event()
    cancel.set()
    ix = index_data(data)
    assert cuts.hub_floors(data, ix, stop=cancel.is_set).solved == 0
    again = Session.from_data(data, SolveOptions(mip_gap=0.0, threads=1, time_limit_s=30))
    result = again.solve(cancel=cancel)
    assert result.cancelled and again.cut_report["rows"] == 0


def test_a_role_that_supervises_under_two_rules_is_charged_once():
    # team managers: one per 4 social workers, and (a looser rule) one per 8 of sw and ot
    data = _one_hub(1600.0)
    roles = pd.concat([data.roles, roles_frame([
        {"role_id": "ot", "name": "OT", "kind": "core", "cost_gbp_per_fte": 55_000.0,
         "productive_hours_per_fte": 1000.0, "fte_step": 0.5},
        {"role_id": "tm", "name": "Team manager", "kind": "core", "cost_gbp_per_fte": 80_000.0,
         "productive_hours_per_fte": 1000.0, "fte_step": 0.5}])])
    demand = data.demand_hours.assign(ot=800.0, tm=0.0)
    data = replace(data, roles=roles, demand_hours=demand,
                   supervision=(SupervisionRule("tm", ("sw",), 4.0),
                                SupervisionRule("tm", ("sw", "ot"), 8.0)))
    ix, fl = _floors(data)
    # the rule needing more managers in total (1.6 / 4 = 0.4 > 2.4 / 8 = 0.3), once
    assert fl.pi[0] == pytest.approx(1.6 * 50_000 + 0.8 * 55_000 + 0.4 * 80_000)
    # the hub: 2 sw, 1 ot, 0.5 tm
    assert fl.omega[0] == pytest.approx(2 * 50_000 + 1 * 55_000 + 0.5 * 80_000 - fl.pi[0],
                                        abs=2.0)


def test_the_cuts_are_made_while_the_heuristic_start_searches(monkeypatch):
    """The start's search runs in a second thread while the solve's own thread makes the
    cuts (the solve waits for the longer of the two, not their sum; every HiGHS run stays in
    the solve's thread), and the rows are those made on their own."""
    import threading
    import time

    from mdtplan.solve.start import search as heuristic  # where the solve looks it up

    data = _banded_tiny()
    seen = {}
    real_floors, real_start = cuts.hub_floors, heuristic.build_start

    def floors(*args, **kw):
        seen["cuts_thread"] = threading.current_thread()
        out = real_floors(*args, **kw)
        seen["cuts_done"] = time.perf_counter()
        return out

    def start(*args, **kw):
        seen["start_thread"] = threading.current_thread()
        time.sleep(1.0)  # a search that takes a while: the cuts are made meanwhile
        seen["start_done"] = time.perf_counter()
        return real_start(*args, **kw)

    monkeypatch.setattr(cuts, "hub_floors", floors)
    monkeypatch.setattr(heuristic, "build_start", start)
    session = Session.from_data(data, SolveOptions(mip_gap=0.0, threads=1, time_limit_s=30))
    result = session.solve()
    assert result.status.value == "optimal" and session.start_report["feasible"]
    assert seen["cuts_thread"] is threading.main_thread()
    assert seen["start_thread"] is not threading.main_thread()
    assert seen["cuts_done"] < seen["start_done"]
    assert session.start_report["seconds"] >= 1.0
    # beside the search, the cuts may take as long as its grant (the solve waits for it)
    grants = {g["run"]: g["given_s"] for g in session.budget.log}
    assert grants["rounding cuts"] > RoundingCuts.CUT_SHARE * 30
    assert grants["rounding cuts"] == pytest.approx(grants["heuristic start"], rel=0.01)
    ix = index_data(data)
    alone = cuts.cut_rows(real_floors(data, ix, population_min=data.hub_population_min,
                                      population_max=data.hub_population_max,
                                      min_share=RoundingCuts.CUT_MIN_SHARE),
                          ix, data, session._family_columns("open_site", ix.site_ids),
                          session._family_columns("assign", ix.pairs),
                          session._family_columns("fte_steps", ix.staff))
    assert session.cut_report["rows"] == len(alone[0]) > 0
    for made, own in zip(session.cut_rows, alone, strict=True):
        np.testing.assert_array_equal(made, own)

    # cuts that take longer than the search: the start reports its own time, not theirs
    def slow_floors(*args, **kw):
        time.sleep(1.5)
        return real_floors(*args, **kw)

    monkeypatch.setattr(cuts, "hub_floors", slow_floors)
    monkeypatch.setattr(heuristic, "build_start", real_start)
    session = Session.from_data(data, SolveOptions(mip_gap=0.0, threads=1, time_limit_s=30))
    t = time.perf_counter()
    session.solve()
    assert session.start_report["seconds"] < 1.0 < 1.5 <= time.perf_counter() - t

    # with no search to wait for (a start given), the cuts keep their own share
    session = Session.from_data(data, SolveOptions(mip_gap=0.0, threads=1, time_limit_s=30))
    session.solve(warm_start=False)
    grants = {g["run"]: g["given_s"] for g in session.budget.log}
    assert "heuristic start" not in grants
    assert grants["rounding cuts"] == pytest.approx(RoundingCuts.CUT_SHARE * 30)


def _waiting(told: dict, key: str):
    """A stand-in that runs until its ``stop`` says so (at most 20 s) and notes that it did."""
    import threading
    import time

    def wait(stop) -> None:
        t = time.perf_counter()
        while not stop() and time.perf_counter() - t < 20:
            time.sleep(0.01)
        told[key] = (stop(), threading.current_thread())

    return wait


def test_a_failure_on_either_side_of_the_cuts_and_the_start_stops_the_other(monkeypatch):
    import threading
    import time

    from mdtplan.solve.start import search as heuristic  # where the solve looks it up

    data = _banded_tiny()
    opts = SolveOptions(mip_gap=0.0, threads=1, time_limit_s=30)
    told = {}

    # the cuts fail: the start's search is told to stop, and waited for, before the error
    def broken_floors(*args, **kw):
        time.sleep(0.2)
        raise RuntimeError("site MIP broke")

    def waiting_start(*args, stop=None, **kw):
        _waiting(told, "start")(stop)

    with monkeypatch.context() as m:
        m.setattr(cuts, "hub_floors", broken_floors)
        m.setattr(heuristic, "build_start", waiting_start)
        with pytest.raises(RuntimeError, match="site MIP broke"):
            Session.from_data(data, opts).solve()
    stopped, thread = told["start"]
    assert stopped is True and thread is not threading.main_thread()
    assert not thread.is_alive()

    # the start fails: the cuts (in the solve's thread) stop at their next check
    def waiting_floors(data_, ix, *, stop=None, **kw):
        _waiting(told, "cuts")(stop)
        return cuts.HubFloors(omega=np.full(len(ix.site_ids), np.nan),
                              pi=np.zeros(len(ix.area_ids)), solved=0, reused=0, seconds=0.0)

    def broken_start(*args, **kw):
        time.sleep(0.2)
        raise RuntimeError("start broke")

    monkeypatch.setattr(cuts, "hub_floors", waiting_floors)
    monkeypatch.setattr(heuristic, "build_start", broken_start)
    t = time.perf_counter()
    with pytest.raises(RuntimeError, match="start broke"):
        Session.from_data(data, opts).solve()
    assert time.perf_counter() - t < 10  # not the 20 s the stand-in waits when not stopped
    assert told["cuts"] == (True, threading.main_thread())

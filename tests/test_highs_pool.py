"""HiGHS runs from several threads with several thread counts (mdtplan.solve.highs)."""

from __future__ import annotations

import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import highspy
import numpy as np
import pytest

from mdtplan.solve.highs import new_highs, run


def _small_mip() -> highspy.Highs:
    """A 3-median on 25 random points (binary open, continuous assign): ~10 ms."""
    rng = np.random.default_rng(7)
    xy = rng.random((25, 2))
    d = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))
    n = len(d)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    inf = highspy.kHighsInf
    # columns: open[j] (n), assign[i, j] (n * n)
    h.addVars(n + n * n, np.zeros(n + n * n), np.ones(n + n * n))
    h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), np.ones(n, dtype=np.int32))
    cost = np.r_[np.zeros(n), d.ravel()]
    h.changeColsCost(len(cost), np.arange(len(cost), dtype=np.int32), cost)
    h.addRow(3.0, 3.0, n, np.arange(n, dtype=np.int32), np.ones(n))  # exactly 3 open
    for i in range(n):  # each point assigned once
        h.addRow(1.0, 1.0, n, (n + i * n + np.arange(n)).astype(np.int32), np.ones(n))
    for i in range(n):  # only to open sites
        for j in range(n):
            h.addRow(-inf, 0.0, 2, np.array([n + i * n + j, j], np.int32),
                     np.array([1.0, -1.0]))
    return h


def _solve(threads: int) -> str:
    h = _small_mip()
    status = run(h, threads)
    return f"{status.name}/{h.modelStatusToString(h.getModelStatus())}"


def _in_new_thread(threads: int) -> str:
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("s", _solve(threads)))
    t.start()
    t.join()
    return out["s"]


def test_a_thread_runs_again_after_another_thread_reset_the_pool():
    # the sequence that failed ("Not Set") before the scheduler knew about threads: a run
    # in this thread, the pool reset to another size from a second thread, then this
    # thread again at that size (no reset needed by size alone)
    assert _in_new_thread(1) == "kOk/Optimal"
    assert _solve(2) == "kOk/Optimal"
    assert _in_new_thread(1) == "kOk/Optimal"
    assert _solve(1) == "kOk/Optimal"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_runs_from_many_threads_and_thread_counts_all_finish(seed):
    rng = np.random.default_rng(seed)
    worker = ThreadPoolExecutor(1)  # a long-lived worker thread, as a service's or a sweep's
    try:
        for _ in range(12):
            threads = int(rng.integers(1, 3))
            where = int(rng.integers(0, 3))
            if where == 0:
                status = _solve(threads)
            elif where == 1:
                status = _in_new_thread(threads)
            else:
                status = worker.submit(_solve, threads).result()
            assert status == "kOk/Optimal", (where, threads)
    finally:
        worker.shutdown()


def test_new_highs_writes_nothing_on_stdout_in_a_fresh_process():
    """The banner highspy prints when a process makes its first instance, and HiGHS's log,
    stay off standard output and standard error; the instance still solves, and the
    process's own output still arrives."""
    code = (
        "from mdtplan.solve.highs import new_highs\n"
        "print('before', flush=True)\n"
        "h = new_highs()\n"
        "h.addVar(0.0, 4.0)\n"
        "h.changeColCost(0, -1.0)\n"
        "h.run()\n"
        "print('after', h.getInfo().objective_function_value, h.getOptions().output_flag)\n"
        "new_highs().run()\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "before\nafter -4.0 False\n"
    assert "HiGHS" not in proc.stderr


def test_new_highs_instances_from_threads_are_independent_and_quiet():
    def make(_):
        h = new_highs()
        return h.getOptions().output_flag, id(h)

    with ThreadPoolExecutor(4) as pool:
        made = list(pool.map(make, range(8)))
    assert all(flag is False for flag, _ in made)


@pytest.mark.parametrize("large", [True, False])
def test_a_large_mip_with_a_time_limit_runs_on_one_thread_and_says_so(large, monkeypatch):
    """HiGHS's analytic-centre task has no time limit and, with a second thread, runs beside
    the root until the root waits for it: a MIP of ``ONE_THREAD_ROWS`` rows or more with a
    time limit runs on one thread, and the solve's notes say so (a smaller one keeps the
    threads asked). The size is lowered here so a small model counts as large."""
    import os

    from model import random_data

    import mdtplan.solve.highs as highs_mod
    from mdtplan.solve import Session, SolveOptions

    if (os.cpu_count() or 1) < 2:
        pytest.skip("the machine has one core: two threads cannot be asked")
    asked, inside = [], []  # the thread counts the solve's own HiGHS runs ask for
    scheduler, handle_run = highs_mod.scheduler, highs_mod.Handle.run

    def recorded(threads):
        if inside:
            asked.append(int(threads))
        return scheduler(threads)

    def run(self, *args, **kwargs):
        inside.append(1)
        try:
            return handle_run(self, *args, **kwargs)
        finally:
            inside.pop()

    monkeypatch.setattr(highs_mod, "scheduler", recorded)
    monkeypatch.setattr(highs_mod.Handle, "run", run)
    if large:
        monkeypatch.setattr(highs_mod, "ONE_THREAD_ROWS", 1)
    data = random_data(np.random.default_rng(5), n_areas=8, n_sites=3, n_roles=3,
                       objective="min_cost", assignment="single", band=False, budget=False,
                       count=False, capacity=False, supply=False, reach=None)
    result = Session.from_data(data, SolveOptions(threads=2, time_limit_s=20.0)).solve()
    assert result.has_solution
    if large:
        assert 1 in asked
        assert len(result.notes) == 1 and "one thread, not the 2 set" in result.notes[0]
    else:
        assert 1 not in asked and 2 in asked
        assert result.notes == ()


def test_a_bound_known_before_highs_ran_lifts_its_progress_reports():
    from mdtplan.solve.highs import with_floor

    inf = float("inf")
    # no bound from HiGHS yet: the floor, and the gap against it
    assert with_floor(100.0, -inf, inf, 80.0) == (80.0, pytest.approx(0.2))
    # HiGHS's own is higher: kept, gap untouched
    assert with_floor(100.0, 90.0, 0.1, 80.0) == (90.0, 0.1)
    # the floor higher than HiGHS's: the gap shrinks; the shift counts in its denominator
    dual, gap = with_floor(100.0, 50.0, 0.5, 95.0, shift=100.0)
    assert dual == 95.0 and gap == pytest.approx(5.0 / 200.0)
    # no floor, or no plan yet
    assert with_floor(100.0, 50.0, 0.5, None) == (50.0, 0.5)
    dual, gap = with_floor(inf, -inf, inf, 80.0)
    assert dual == 80.0 and gap != gap  # NaN: no gap without a plan

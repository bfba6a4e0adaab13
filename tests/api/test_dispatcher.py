"""The dispatcher's duties: concurrency, the hard time limit, recovery (api/dispatcher.py)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from api.dispatcher import Dispatcher
from api.settings import Settings
from api.store import FAILED, QUEUED, RUNNING


def test_dispatcher_limits_concurrency_and_kills_past_the_hard_limit(store, demo_job, tmp_path):
    settings = Settings(data_dir=tmp_path, workers=1, job_time_limit_s=0.5, job_kill_grace_s=0,
                        dispatch_interval_s=0.1)
    a, b = demo_job(), demo_job()
    d = Dispatcher(store, settings)
    d.tick()
    assert d.running == 1
    assert store.get_job(a.id).status == RUNNING and store.get_job(b.id).status == QUEUED
    deadline = time.monotonic() + 60
    while store.count_jobs().get(FAILED, 0) < 2:
        assert time.monotonic() < deadline, store.count_jobs()
        d.tick()
        assert d.running <= 1
        time.sleep(0.1)
    for job in (a, b):
        failed = store.get_job(job.id)
        assert failed.message.startswith("time limit exceeded"), failed.message
    assert (settings.results_dir / a.id / "worker-1.log").exists()


def test_recover_requeues_once_then_fails(store, demo_job, tmp_path):
    settings = Settings(data_dir=tmp_path, max_attempts=2)
    job = demo_job()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    store.claim_next(host="elsewhere")
    store.set_worker(job.id, 1, gone.pid, str(tmp_path))
    d = Dispatcher(store, settings)
    assert d.recover() == [(job.id, QUEUED)]
    store.claim_next()
    assert d.recover() == [(job.id, FAILED)]
    failed = store.get_job(job.id)
    assert failed.message == "server stopped during the solve"
    assert failed.attempts == 2


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="reads /proc (Linux)")
@pytest.mark.parametrize(("module", "stopped"), [
    ("api.worker", True),
    ("mdtplan.jobs", True),  # a worker started before the worker moved to api/
    ("something.else", False),  # alive, but not a worker: left alone
])
def test_recover_stops_a_worker_its_server_left_alive(store, demo_job, tmp_path, module,
                                                     stopped):
    job = demo_job()
    store.claim_next()
    left = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)",
                             module, "run", job.id])
    try:
        cmdline, deadline = Path(f"/proc/{left.pid}/cmdline"), time.monotonic() + 30
        while job.id.encode() not in cmdline.read_bytes():  # empty for a moment after exec
            assert time.monotonic() < deadline
            time.sleep(0.05)
        store.set_worker(job.id, 1, left.pid, str(tmp_path))
        d = Dispatcher(store, Settings(data_dir=tmp_path))
        assert d.recover() == [(job.id, QUEUED)]
        if stopped:
            assert left.wait(10) == -signal.SIGKILL
        else:
            assert left.poll() is None
    finally:
        left.kill()
        left.wait(10)


def test_a_worker_killed_by_the_system_is_retried_then_failed(store, demo_job, tmp_path):
    """The kernel's out-of-memory killer (or an operator) kills a worker: the job runs again
    while it has attempts left, as after a crashed server, and then fails saying why."""
    settings = Settings(data_dir=tmp_path, workers=1, max_attempts=2, dispatch_interval_s=0.1)
    job = demo_job(time_limit_s=120)
    d = Dispatcher(store, settings)
    for attempt in (1, 2):
        d.tick()
        running = store.get_job(job.id)
        assert running.status == RUNNING and running.attempts == attempt
        deadline = time.monotonic() + 60
        while store.get_job(job.id).worker_pid is None:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        worker = d._workers[job.id].proc
        worker.send_signal(signal.SIGKILL)
        worker.wait(30)
        d._reap()
        after = store.get_job(job.id)
        if attempt == 1:
            assert after.status == QUEUED, after.message
            assert after.message.startswith("the worker process was killed by the system "
                                            "(SIGKILL")
    assert after.status == FAILED and "killed by the system (SIGKILL" in after.message

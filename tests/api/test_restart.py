"""A server killed mid-solve (SIGKILL) loses no submission: on restart the job is re-queued
and finishes, or fails with its reason."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from service_helpers import LiveServer, demo_document, upload_demo, wait_for

from api.store import Store


def _alive(pid: int) -> bool:
    """True while the process runs (a zombie waiting for its reaper counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


@pytest.mark.slow
def test_kill_mid_solve_then_restart(tmp_path):
    server = LiveServer(tmp_path / "data", workers=1, progress_interval_s=0.3).start()
    try:
        planner = server.key("planner")
        with server.client(planner) as c:
            ids = upload_demo(c, {})
            r = c.post("/v1/scenarios", json=demo_document(ids, time_limit_s=8))
            assert r.status_code == 202, r.text
            job_id = r.json()["id"]
            deadline = time.monotonic() + 60
            while (c.get(f"/v1/scenarios/{job_id}").json().get("progress") or {}).get(
                    "stage") not in ("travel", "build", "solve"):
                assert time.monotonic() < deadline
                time.sleep(0.1)
        store = Store(f"sqlite:///{tmp_path / 'data' / 'mdtplan.sqlite'}")
        before = store.get_job(job_id)
        assert before.status == "running" and before.worker_pid

        server.kill()  # no shutdown handler runs
        deadline = time.monotonic() + 10
        while _alive(before.worker_pid):  # the worker dies with its server
            assert time.monotonic() < deadline, "worker outlived its server"
            time.sleep(0.1)
        assert store.get_job(job_id).status == "running"  # as the dead server left it
        store.dispose()

        server.start()
        with server.client(planner) as c:
            done = wait_for(c, job_id, timeout_s=180)
        assert done["attempts"] == 2, done
        assert done["status"] == "finished", done
        assert done["summary"]["status"] in ("optimal", "feasible_at_limit")
        log = (tmp_path / "data" / "results" / job_id / "worker-2.log")
        assert log.exists()
        assert os.path.exists(tmp_path / "data" / "results" / job_id / "map.html")
    finally:
        server.stop()

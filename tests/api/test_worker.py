"""The worker: running a stored job to its end, and cancelling it (api/worker.py)."""

from __future__ import annotations

import json
import threading
import time

from api.store import CANCELLED, FINISHED
from api.worker import run_job


def test_run_job_writes_outputs_and_summary(store, demo_job, tmp_path):
    job = demo_job()
    claimed = store.claim_next(host="test")
    assert claimed.id == job.id
    out = tmp_path / "result"
    code = run_job(store, job.id, 1, result_dir=out, time_limit_s=600, progress_interval_s=0.2)
    done = store.get_job(job.id)
    assert code == 0, done.message
    assert done.status == FINISHED
    assert done.summary["status"] in ("optimal", "feasible_at_limit")
    assert done.summary["hubs_open"] >= 8
    assert done.progress["stage"] == "done"
    for name in ("summary.json", "hubs.csv", "assignment.csv", "staffing.csv", "map.html",
                 "summary.xlsx", "scenario.json", "areas.geojson"):
        assert (out / name).is_file(), name
    geo = json.loads((out / "areas.geojson").read_text())
    assert len(geo["features"]) == 358
    assert all(f["properties"]["site_id"] for f in geo["features"])
    lon, lat = geo["features"][0]["geometry"]["coordinates"][0][0][0]
    assert -10 < lon < 3 and 49 < lat < 61  # EPSG:4326
    # the stored scenario.json names dataset ids, not server paths
    assert json.loads((out / "scenario.json").read_text())["areas"]["path"].startswith("ds_")
    # a second run of the same attempt is refused: the attempt has ended
    assert run_job(store, job.id, 1, result_dir=out, time_limit_s=600) != 0


def test_cancel_stops_a_running_solve(store, demo_job, tmp_path):
    job = demo_job(time_limit_s=120)
    store.claim_next()
    worker = threading.Thread(target=run_job, args=(store, job.id, 1),
                              kwargs={"result_dir": tmp_path / "r", "time_limit_s": 600,
                                      "progress_interval_s": 0.2})
    t0 = time.monotonic()
    worker.start()
    while (store.get_job(job.id).progress or {}).get("stage") not in ("build", "solve"):
        assert time.monotonic() - t0 < 60 and worker.is_alive()
        time.sleep(0.1)
    assert store.request_cancel(job.id) == "cancelling"
    worker.join(60)
    assert not worker.is_alive()
    done = store.get_job(job.id)
    assert done.status == CANCELLED
    assert time.monotonic() - t0 < 60  # far below the 120 s limit
    # the message tells what is kept, and the links offer only what exists
    from api.services import links
    from api.settings import Settings

    hubs = (done.summary or {}).get("hubs_open")
    offered = links(done, Settings(data_dir=tmp_path))
    if hubs:
        assert done.message.startswith("cancelled; the best plan found so far is kept "
                                       f"({hubs} hubs")
    else:
        assert done.message == "cancelled before any plan was found: there is no plan to keep"
        assert offered.map is None and offered.export is None


def test_a_cancel_while_the_inputs_load_ends_the_job_at_once(store, demo_job, monkeypatch):
    """Reading the inputs cannot be interrupted, and nothing can be kept yet: the monitor ends
    the job as cancelled (and its process) as soon as it sees the request."""
    import api.worker as worker

    job = demo_job()
    claimed = store.claim_next()
    exits = []

    def fake_exit(code):
        exits.append(code)
        raise SystemExit(code)

    monkeypatch.setattr(worker.os, "_exit", fake_exit)
    monitor = worker._Monitor(store, job.id, claimed.attempts, 0.1, threading.Event(), None)
    monitor.loading = True
    monitor.flush()  # no cancel yet: carries on
    assert exits == [] and store.get_job(job.id).status == "running"
    assert store.request_cancel(job.id) == "cancelling"
    try:
        monitor.flush()
    except SystemExit:
        pass
    assert exits == [0]
    ended = store.get_job(job.id)
    assert ended.status == CANCELLED and ended.message == "cancelled while loading its inputs"
    # once the inputs are loaded, a cancel stops the solve instead (the plan so far is kept)
    job2 = demo_job()
    claimed2 = store.claim_next()
    later = worker._Monitor(store, job2.id, claimed2.attempts, 0.1, threading.Event(), None)
    store.request_cancel(job2.id)
    later.flush()
    assert later.cancel.is_set() and exits == [0]
    assert store.get_job(job2.id).status == "cancelling"


def test_a_what_if_whose_earlier_plan_is_gone_is_solved_cold_and_says_so(store, demo_job,
                                                                          tmp_path):
    # the earlier scenario finished, then its result files went (a cleanup, a lost disk)
    earlier = demo_job(time_limit_s=20)
    store.claim_next(host="test")
    assert run_job(store, earlier.id, 1, result_dir=tmp_path / "earlier", time_limit_s=600,
                   progress_interval_s=0.2) == 0
    for f in (tmp_path / "earlier").iterdir():
        f.unlink()
    job = demo_job(start_from=earlier.id, time_limit_s=20)
    assert store.claim_next(host="test").id == job.id
    assert run_job(store, job.id, 1, result_dir=tmp_path / "whatif", time_limit_s=600,
                   progress_interval_s=0.2) == 0
    done = store.get_job(job.id)
    assert done.status == FINISHED and done.summary["hubs_open"] >= 8
    assert done.summary["start_from"] is None  # solved cold
    said = [w for w in done.summary["warnings"] if earlier.id in w]
    assert len(said) == 1 and "solved from a fresh start instead" in said[0]

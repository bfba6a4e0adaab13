"""The worker side: running a stored job, cancelling it, and the dispatcher's duties."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import pytest
from service_helpers import GEODATA, demo_document

from api.settings import Settings
from api.store import CANCELLED, FAILED, FINISHED, QUEUED, RUNNING, Store
from mdtplan.jobs import Dispatcher, bind_datasets, dataset_refs, inspect_dataset, run_job

FORMATS = {"demo_areas.gpkg": "gpkg", "demo_sites.csv": "csv", "demo_workforce.csv": "csv"}


@pytest.fixture
def store(tmp_path):
    s = Store(f"sqlite:///{tmp_path / 'jobs.sqlite'}")
    s.create_all()
    yield s
    s.dispose()


@pytest.fixture
def demo_job(store):
    """A queued demo job whose datasets are the bundled demo files."""
    ids = {}
    for i, (name, fmt) in enumerate(FORMATS.items()):
        ids[name] = f"ds_{i:016x}"
        store.add_dataset(id=ids[name], filename=name, format=fmt, path=str(GEODATA / name),
                          size_bytes=1, sha256="0" * 64, info={"layers": []})

    def make(**kw):
        return store.add_job(demo_document(ids, **kw), name="demo")

    return make


def test_dataset_refs_and_binding():
    doc = {"areas": {"path": "ds_a", "tables": [{"path": "ds_b"}]}, "sites": {"path": "ds_c"},
           "travel": {"circuity": 1.3}, "operating_model": "default"}
    assert dataset_refs(doc) == [("areas.path", "ds_a"), ("areas.tables.0.path", "ds_b"),
                                 ("sites.path", "ds_c")]
    bound = bind_datasets(doc, {"ds_a": "/d/a.gpkg", "ds_b": "/d/b.csv", "ds_c": "/d/c.csv"},
                          "/m/default.yaml")
    assert bound["areas"]["tables"][0]["path"] == "/d/b.csv"
    assert bound["operating_model"] == "/m/default.yaml"
    assert doc["areas"]["path"] == "ds_a"  # the stored document is untouched


def test_inspect_reads_and_refuses(tmp_path):
    info = inspect_dataset(GEODATA / "demo_areas.gpkg", "gpkg")
    assert info["layers"][0]["rows"] == 358 and info["layers"][0]["crs"] == "EPSG:4326"
    bad = tmp_path / "bad.gpkg"
    bad.write_bytes(b"SQLite format 3\0" + b"\0" * 200)
    with pytest.raises(Exception):  # noqa: B017 - GDAL's own error type varies by version
        inspect_dataset(bad, "gpkg")
    out = subprocess.run([sys.executable, "-m", "mdtplan.jobs", "inspect", str(bad), "gpkg"],
                         capture_output=True, text=True, timeout=120)
    assert json.loads(out.stdout.splitlines()[-1])["ok"] is False


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

"""The job store, on SQLite (WAL) and on a real PostgreSQL cluster the tests start themselves."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from service_helpers import postgres_or_skip
from sqlalchemy import text

from api.store import (
    CANCELLED,
    CANCELLING,
    FAILED,
    FINISHED,
    QUEUED,
    RUNNING,
    Store,
    hash_key,
)


@pytest.fixture(scope="module")
def postgres():
    pg = postgres_or_skip()
    yield pg
    pg.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    else:
        pg = request.getfixturevalue("postgres")
        url = pg.url
    s = Store(url)
    s.create_all()
    if not s.is_sqlite:  # one cluster for the module: start each test from empty tables
        with s.engine.begin() as conn:
            conn.execute(text("TRUNCATE jobs, sweeps, datasets, api_keys"))
    yield s
    s.dispose()


def test_sqlite_runs_in_wal_mode(tmp_path):
    s = Store(f"sqlite:///{tmp_path / 'w.sqlite'}")
    s.create_all()
    with s.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_keys_are_stored_hashed_and_checked(store):
    key, record = store.create_key("planner", "ops")
    assert key.startswith(f"mdtp_{record.id}_")
    with store.engine.connect() as conn:
        stored = conn.execute(text("SELECT key_hash, role FROM api_keys")).all()
    assert stored == [(hash_key(key), "planner")]
    assert key not in repr(stored)
    assert store.verify_key(key).role == "planner"
    assert store.verify_key(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert store.verify_key("mdtp_000000000000_x") is None
    assert store.verify_key("nonsense") is None
    assert store.revoke_key(record.id).revoked_at is not None
    assert store.verify_key(key) is None
    with pytest.raises(ValueError):
        store.create_key("superuser")


def test_datasets_round_trip(store):
    info = {"layers": [{"name": "areas", "rows": 3, "columns": ["id"], "crs": "EPSG:4326"}]}
    d = store.add_dataset(id="ds_0123456789abcdef", filename="a.gpkg", format="gpkg",
                          path="/x/a.gpkg", size_bytes=10, sha256="0" * 64, info=info,
                          created_by="k")
    assert store.get_dataset(d.id).info == info
    assert list(store.get_datasets([d.id, "ds_ffffffffffffffff"])) == [d.id]
    assert [x.id for x in store.list_datasets()] == [d.id]
    assert store.delete_dataset(d.id).id == d.id
    assert store.get_dataset(d.id) is None


def test_job_life_cycle(store):
    a = store.add_job({"name": "a"}, name="a", created_by="k")
    b = store.add_job({"name": "b"}, name="b")
    assert store.get_job(a.id).status == QUEUED
    claimed = store.claim_next(host="h")
    assert (claimed.id, claimed.status, claimed.attempts) == (a.id, RUNNING, 1)  # oldest first
    assert store.update_progress(a.id, 1, {"stage": "solve", "gap": 0.1}) == RUNNING
    assert store.get_job(a.id).progress["gap"] == 0.1
    assert store.update_progress(a.id, 2, {"stage": "x"}) is None  # not this attempt's
    assert store.finish(a.id, 1, FINISHED, summary={"status": "optimal"}, result_dir="/r")
    assert not store.finish(a.id, 1, FAILED)  # ended already: nothing overwrites it
    done = store.get_job(a.id)
    assert (done.status, done.summary, done.finished_at is not None) == (
        FINISHED, {"status": "optimal"}, True)
    assert store.count_jobs() == {FINISHED: 1, QUEUED: 1}
    assert [j.id for j in store.list_jobs(status=QUEUED)] == [b.id]


def test_cancel_queued_running_and_finished(store):
    q = store.add_job({}, name="q")
    assert store.request_cancel(q.id) == CANCELLED
    r = store.add_job({}, name="r")
    store.claim_next()
    assert store.request_cancel(r.id) == CANCELLING
    assert store.update_progress(r.id, 1, None) == CANCELLING  # what the worker polls
    assert store.finish(r.id, 1, CANCELLED)
    assert store.request_cancel(r.id) == CANCELLED  # ended: unchanged
    assert store.request_cancel("sc_missing") is None


def test_lost_worker_requeued_once_then_failed(store):
    j = store.add_job({}, name="j")
    store.claim_next()
    assert store.requeue_or_fail(j.id, 1, "server stopped during the solve", 2) == QUEUED
    again = store.get_job(j.id)
    assert again.attempts == 1 and "re-queued" in again.message
    assert store.claim_next().attempts == 2
    assert store.requeue_or_fail(j.id, 1, "stale", 2) is None  # the old attempt is gone
    assert store.requeue_or_fail(j.id, 2, "server stopped during the solve", 2) == FAILED
    failed = store.get_job(j.id)
    assert failed.message == "server stopped during the solve"
    assert failed.problems[0]["message"] == "server stopped during the solve"


def test_concurrent_claims_never_share_a_job(store):
    ids = {store.add_job({}, name=f"j{i}").id for i in range(24)}
    claimed: list[str] = []
    lock = threading.Lock()

    def claimer():
        while (job := store.claim_next(host="h")) is not None:
            with lock:
                claimed.append(job.id)

    with ThreadPoolExecutor(6) as pool:
        for f in [pool.submit(claimer) for _ in range(6)]:
            f.result()
    assert sorted(claimed) == sorted(ids)  # each exactly once


def test_concurrent_progress_updates(store):
    jobs = [store.add_job({}, name=f"j{i}") for i in range(4)]
    for _ in jobs:
        store.claim_next()

    def writer(job_id: str, n: int = 40):
        for i in range(n):
            assert store.update_progress(job_id, 1, {"stage": "solve", "i": i}) == RUNNING
        return job_id

    with ThreadPoolExecutor(8) as pool:  # two writers per job, and readers alongside
        futures = [pool.submit(writer, j.id) for j in jobs for _ in range(2)]
        futures += [pool.submit(store.list_jobs) for _ in range(20)]
        for f in futures:
            f.result()
    for j in jobs:
        assert store.get_job(j.id).progress["i"] == 39


def test_sweep_and_its_variants_stored_together(store):
    sweep, jobs = store.add_sweep(name="s", scenario={"a": 1}, vary=[{"key": "k", "values": [1, 2]}],
                                  variants=[("s [k=1]", {"a": 1}, {"k": 1}),
                                            ("s [k=2]", {"a": 2}, {"k": 2})])
    assert store.get_sweep(sweep.id).vary == [{"key": "k", "values": [1, 2]}]
    rows = store.list_jobs(sweep_id=sweep.id, newest_first=False)
    assert [r.variant for r in rows] == [{"k": 1}, {"k": 2}]
    assert {j.id for j in jobs} == {r.id for r in rows}

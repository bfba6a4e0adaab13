"""Sweeps: a grid of variants, each a stored job, and the table of their results."""

from __future__ import annotations

import pytest
from service_helpers import demo_document


@pytest.fixture(scope="module")
def demo_doc(demo_ids):
    return demo_document(demo_ids)


def test_grid_of_variants_is_stored(client, service, demo_doc):
    body = {"name": "budget x hubs", "scenario": demo_doc,
            "vary": [{"key": "budget.cap", "values": [20e6, 22e6]},
                     {"key": "hubs.count.max", "values": [12, 20]}]}
    r = client.post("/v1/sweeps", json=body, headers=service.headers("planner"))
    assert r.status_code == 202, r.text
    sweep_id, variants = r.json()["id"], r.json()["variants"]
    assert len(variants) == 4 and r.headers["location"] == f"/v1/sweeps/{sweep_id}"
    table = client.get(f"/v1/sweeps/{sweep_id}", headers=service.headers("viewer")).json()
    assert table["status"] == "queued" and table["counts"] == {"queued": 4}
    assert [row["values"] for row in table["variants"]] == [
        {"budget.cap": 20e6, "hubs.count.max": 12}, {"budget.cap": 20e6, "hubs.count.max": 20},
        {"budget.cap": 22e6, "hubs.count.max": 12}, {"budget.cap": 22e6, "hubs.count.max": 20}]
    job = service.store.get_job(variants[1])
    assert job.scenario["budget"]["cap"] == 20e6 and job.scenario["hubs"]["count"]["max"] == 20
    assert job.sweep_id == sweep_id and "budget.cap=20000000.0" in job.name
    listed = client.get("/v1/sweeps", headers=service.headers("viewer")).json()
    assert sweep_id in [s["id"] for s in listed]


def test_bad_grids_are_422(client, service, demo_doc):
    planner = service.headers("planner")
    too_many = {"scenario": demo_doc, "vary": [{"key": "budget.cap",
                                                "values": list(range(101))}]}
    r = client.post("/v1/sweeps", json=too_many, headers=planner)
    assert r.status_code == 422 and r.json()["detail"][0]["column"] == "vary"
    bad_value = {"scenario": demo_doc, "vary": [{"key": "hubs.count.min", "values": ["lots"]}]}
    r = client.post("/v1/sweeps", json=bad_value, headers=planner)
    assert r.status_code == 422 and "hubs.count.min" in r.json()["detail"][0]["column"]
    sneaky = {"scenario": demo_doc, "vary": [{"key": "areas.path", "values": ["/etc/passwd"]}]}
    r = client.post("/v1/sweeps", json=sneaky, headers=planner)
    assert r.status_code == 422 and "areas.path" in r.json()["detail"][0]["column"]
    twice = {"scenario": demo_doc, "vary": [{"key": "budget.cap", "values": [1]},
                                            {"key": "budget.cap", "values": [2]}]}
    assert client.post("/v1/sweeps", json=twice, headers=planner).status_code == 422
    assert client.get("/v1/sweeps/sw_none", headers=service.headers("viewer")).status_code == 404


def test_rows_carry_the_saving_against_today(client, service, demo_doc):
    # a finished variant's stored summary has its savings against today (finance.baseline):
    # the sweep's table shows today's cost and the saving beside the plan's cost
    from api.store import FAILED, FINISHED

    body = {"scenario": demo_doc, "vary": [{"key": "budget.cap", "values": [21e6, 23e6]}]}
    r = client.post("/v1/sweeps", json=body, headers=service.headers("planner"))
    sweep_id, (done_id, failed_id) = r.json()["id"], r.json()["variants"]
    savings = {"total": {"baseline_gbp": 24.5e6, "scenario_gbp": 20.9e6, "saving_gbp": 3.6e6}}
    while (job := service.store.claim_next()) is not None:
        if job.id == done_id:
            service.store.finish(job.id, job.attempts, FINISHED, summary={
                "status": "optimal", "total_cost": 20.9e6, "savings": savings})
        else:
            service.store.finish(job.id, job.attempts, FAILED, message="not run here")
    rows = {row["id"]: row for row in client.get(
        f"/v1/sweeps/{sweep_id}", headers=service.headers("viewer")).json()["variants"]}
    assert rows[done_id]["total_cost"] == 20.9e6
    assert rows[done_id]["baseline_cost"] == 24.5e6
    assert rows[done_id]["saving_vs_baseline"] == 3.6e6
    assert rows[failed_id]["status"] == "failed"
    assert rows[failed_id]["baseline_cost"] is None and rows[failed_id]["saving_vs_baseline"] is None


def test_each_variant_that_changes_the_size_is_measured_against_the_limits(tmp_path):
    """A variant the base would be refused for (more allowed pairs than the service solves)
    is refused too, naming its values; variants that change only the cap are not reloaded."""
    from service_helpers import REPO, make_service, upload_demo

    from mdtplan.pipeline import prepare
    from mdtplan.scenario import load_scenario

    pairs = {m: len(prepare(load_scenario(REPO / "examples" / "demo.yaml",
                                          [f"hubs.max_travel_minutes={m}"])).pairs)
             for m in (35, 90)}
    assert pairs[35] < pairs[90]
    svc = make_service(tmp_path, max_pairs=pairs[35])
    with svc.client() as c:
        ids = upload_demo(c, svc.headers("planner"))
        doc = demo_document(ids)
        doc["hubs"]["max_travel_minutes"] = 35
        ok = {"scenario": doc, "vary": [{"key": "budget.cap", "values": [20e6, 22e6]}]}
        assert c.post("/v1/sweeps", json=ok, headers=svc.headers("planner")).status_code == 202
        wide = {"scenario": doc, "vary": [{"key": "hubs.max_travel_minutes",
                                           "values": [35, 90]}]}
        r = c.post("/v1/sweeps", json=wide, headers=svc.headers("planner"))
    assert r.status_code == 422, r.text
    problem = r.json()["detail"][0]
    assert problem["column"] == "vary (hubs.max_travel_minutes)"
    assert problem["message"].startswith('{"hubs.max_travel_minutes": 90}')
    assert f"({pairs[35]} at most)" in problem["message"]


def test_cancelling_a_sweep_stops_every_variant_not_ended(tmp_path):
    """DELETE /v1/sweeps/{id}: queued variants are cancelled at once, a running one goes
    through ``cancelling``, a finished one keeps its plan; the key is recorded on each; a
    viewer cannot, and a second cancel has nothing left (409). (Another team's sweep is 404:
    tests/api/test_teams.py walks every route.)"""
    from service_helpers import make_service, upload_demo

    from api.store import FINISHED

    svc = make_service(tmp_path / "svc")
    store = svc.store
    with svc.client() as c:
        planner = svc.headers("planner")
        body = {"scenario": demo_document(upload_demo(c, planner)), "vary": [{"key": "budget.cap",
                                                "values": [21e6, 22e6, 23e6]}]}
        r = c.post("/v1/sweeps", json=body, headers=planner)
        assert r.status_code == 202, r.text
        sweep_id, (done_id, running_id, queued_id) = r.json()["id"], r.json()["variants"]
        first = store.claim_next()
        assert first.id == done_id
        store.finish(done_id, first.attempts, FINISHED, summary={"status": "optimal"})
        assert store.claim_next().id == running_id  # now running

        assert c.delete(f"/v1/sweeps/{sweep_id}",
                        headers=svc.headers("viewer")).status_code == 403
        assert c.delete("/v1/sweeps/sw_none", headers=planner).status_code == 404
        r = c.delete(f"/v1/sweeps/{sweep_id}", headers=planner)
        assert r.status_code == 202, r.text
        rows = {row["id"]: row["status"] for row in r.json()["variants"]}
        assert rows == {done_id: "finished", running_id: "cancelling", queued_id: "cancelled"}
        assert r.json()["counts"] == {"finished": 1, "cancelling": 1, "cancelled": 1}
        planner_key = store.get_job(done_id).created_by
        for job_id in (running_id, queued_id):
            assert store.get_job(job_id).cancelled_by == planner_key
        assert store.get_job(done_id).cancelled_by is None
        again = c.delete(f"/v1/sweeps/{sweep_id}", headers=planner)
        assert again.status_code == 409 and "no variant left to cancel" in again.json()["detail"]

"""Submitting scenarios: checked and stored before the 202; dataset ids only; cancel; results.

The app here has no dispatcher, so submissions stay queued (the solves are tested over real
HTTP in test_live_server.py).
"""

from __future__ import annotations

import copy

import pytest
from service_helpers import demo_document


@pytest.fixture(scope="module")
def demo_doc(demo_ids):
    return demo_document(demo_ids)


@pytest.fixture(scope="module")
def queued_id(client, service, demo_doc):
    r = client.post("/v1/scenarios", json=demo_doc, headers=service.headers("planner"))
    assert r.status_code == 202, r.text
    return r.json()["id"]


def _columns(response) -> list[str]:
    return [p["column"] for p in response.json()["detail"]]


def test_submission_is_stored_before_the_202(client, service, demo_doc, queued_id):
    job = service.store.get_job(queued_id)  # straight from the database
    assert job.status == "queued" and job.name == "demo-county"
    assert job.scenario["areas"]["path"] == demo_doc["areas"]["path"]  # ids, not server paths
    r = client.get(f"/v1/scenarios/{queued_id}", headers=service.headers("viewer"))
    body = r.json()
    assert body["status"] == "queued" and body["links"]["self"] == f"/v1/scenarios/{queued_id}"
    assert body["links"]["map"] is None
    listed = client.get("/v1/scenarios", params={"status": "queued"},
                        headers=service.headers("viewer")).json()
    assert queued_id in [j["id"] for j in listed]


def test_location_header(client, service, demo_doc):
    r = client.post("/v1/scenarios", json=demo_doc, headers=service.headers("planner"))
    assert r.headers["location"] == f"/v1/scenarios/{r.json()['id']}"


@pytest.mark.parametrize("column,value", [
    ("areas.path", "/etc/passwd"),
    ("sites.path", "../geodata/demo_sites.csv"),
    ("workforce.path", "file:///etc/shadow"),
    ("sites.path", "ds_ffffffffffffffff"),
])
def test_paths_must_be_dataset_ids(client, service, demo_doc, column, value):
    doc = copy.deepcopy(demo_doc)
    section = column.split(".")[0]
    doc[section]["path"] = value
    r = client.post("/v1/scenarios", json=doc, headers=service.headers("planner"))
    assert r.status_code == 422
    assert _columns(r) == [column]
    assert value in r.json()["detail"][0]["message"]


def test_operating_model_bundled_name_or_dataset(client, service, demo_doc):
    for bad in ("/etc/passwd", "../models/default.yaml", "no-such-model"):
        doc = {**demo_doc, "operating_model": bad}
        r = client.post("/v1/scenarios", json=doc, headers=service.headers("planner"))
        assert r.status_code == 422 and _columns(r) == ["operating_model"], bad
    areas_id = demo_doc["areas"]["path"]  # a dataset, but not a YAML model
    r = client.post("/v1/scenarios", json={**demo_doc, "operating_model": areas_id},
                    headers=service.headers("planner"))
    assert r.status_code == 422 and "not an operating model" in r.text


def test_schema_errors_name_the_field(client, service, demo_doc):
    doc = copy.deepcopy(demo_doc)
    doc["hubs"]["colour"] = "red"
    doc["objective"] = "max_happiness"
    r = client.post("/v1/scenarios", json=doc, headers=service.headers("planner"))
    assert r.status_code == 422
    assert set(_columns(r)) == {"hubs.colour", "objective"}
    r = client.post("/v1/scenarios", json={**demo_doc, "base_dir": "/"},
                    headers=service.headers("planner"))
    assert r.status_code == 422 and _columns(r) == ["base_dir"]


def test_input_problems_come_back_without_server_paths(client, service, demo_doc):
    doc = copy.deepcopy(demo_doc)
    doc["areas"]["id"] = "no_such_column"
    r = client.post("/v1/scenarios", json=doc, headers=service.headers("planner"))
    assert r.status_code == 422
    problem = r.json()["detail"][0]
    assert problem["file"] == f"{doc['areas']['path']}.gpkg"
    assert "no_such_column" in r.text
    assert str(service.settings.data_dir) not in r.text


def test_problem_size_limits(client, service, demo_doc):
    settings = service.app.state.settings
    try:
        settings.max_areas = 100  # the upload said 358 rows: refused before loading
        r = client.post("/v1/scenarios", json=demo_doc, headers=service.headers("planner"))
        assert r.status_code == 422 and _columns(r) == ["areas.path"]
        assert "358 areas" in r.text and "100 at most" in r.text
        settings.max_areas, settings.max_pairs = 50_000, 1000
        r = client.post("/v1/scenarios", json=demo_doc, headers=service.headers("planner"))
        assert r.status_code == 422 and "allowed area–site pairs" in r.text
    finally:
        settings.max_areas, settings.max_pairs = 50_000, 5_000_000


def test_oversize_json_is_413(client, service, demo_doc):
    doc = {**demo_doc, "name": "x" * (300 * 1024)}
    r = client.post("/v1/scenarios", json=doc, headers=service.headers("planner"))
    assert r.status_code == 413


def test_cancel_queued_then_409(client, service, demo_doc):
    r = client.post("/v1/scenarios", json=demo_doc, headers=service.headers("planner"))
    job_id = r.json()["id"]
    assert client.delete(f"/v1/scenarios/{job_id}",
                         headers=service.headers("viewer")).status_code == 403
    r = client.delete(f"/v1/scenarios/{job_id}", headers=service.headers("planner"))
    assert r.status_code == 202 and r.json()["status"] == "cancelled"
    r = client.delete(f"/v1/scenarios/{job_id}", headers=service.headers("planner"))
    assert r.status_code == 409 and "already ended" in r.json()["detail"]


def test_results_of_unfinished_or_unknown(client, service, queued_id):
    viewer = service.headers("viewer")
    for tail in ("result", "result/geojson", "map", "export.xlsx"):
        r = client.get(f"/v1/scenarios/{queued_id}/{tail}", headers=viewer)
        assert r.status_code == 409 and "no result yet" in r.json()["detail"]
        assert client.get(f"/v1/scenarios/sc_none/{tail}", headers=viewer).status_code == 404
    assert client.get("/v1/scenarios/sc_none", headers=viewer).status_code == 404
    assert client.delete("/v1/scenarios/sc_none",
                         headers=service.headers("planner")).status_code == 404


def test_start_from_must_be_a_scenario_of_the_team_with_a_plan(client, service, demo_doc,
                                                               queued_id):
    headers = service.headers("planner")
    for ident, words in (("sc_nosuchscenario", "no scenario with id sc_nosuchscenario"),
                         (queued_id, "has no plan to start from")):
        r = client.post("/v1/scenarios", json=demo_doc, params={"start_from": ident},
                        headers=headers)
        assert r.status_code == 422, r.text
        assert _columns(r) == ["start_from"] and words in r.json()["detail"][0]["message"]
    # nothing is stored for a refused what-if
    r = client.post("/v1/scenarios", json=demo_doc, params={"start_from": "../etc"},
                    headers=headers)
    assert r.status_code == 422
    job = client.post("/v1/scenarios", json=demo_doc, headers=headers).json()
    assert client.get(f"/v1/scenarios/{job['id']}", headers=headers).json()["start_from"] is None

"""The real service over real HTTP: uvicorn in a subprocess on a free loopback port.

End to end (upload, submit, poll, result, GeoJSON, map, export, page), a bounded load test while
two solves run, and a bounded schemathesis run finding no 500s. The server's SIGKILL and restart
is in test_restart.py.
"""

from __future__ import annotations

import io
import statistics
import threading
import time

import httpx
import pytest
from service_helpers import LiveServer, demo_document, upload_demo, wait_for

LOAD_CLIENTS = 20
LOAD_SECONDS = 20.0


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A running server with keys, the demo datasets, and one finished demo solve."""
    server = LiveServer(tmp_path_factory.mktemp("live"), workers=2, progress_interval_s=0.3)
    server.start()
    keys = {role: server.key(role) for role in ("viewer", "planner", "admin")}
    with server.client(keys["planner"]) as c:
        ids = upload_demo(c, {})
        r = c.post("/v1/scenarios", json=demo_document(ids))
        assert r.status_code == 202, r.text
        finished = wait_for(c, r.json()["id"], timeout_s=180)
    server.ids, server.keys, server.finished = ids, keys, finished
    yield server
    server.stop()


def test_end_to_end(live):
    job = live.finished
    assert job["status"] == "finished", job
    summary = job["summary"]
    assert summary["status"] in ("optimal", "feasible_at_limit")
    assert job["progress"]["stage"] == "done"
    with live.client(live.keys["viewer"]) as c:
        result = c.get(job["links"]["result"]).json()
        assert len(result["hubs"]) == summary["hubs_open"] > 0
        assert len({a["area_id"] for a in result["assignment"]}) == 358
        hub_ids = {h["site_id"] for h in result["hubs"]}
        assert {a["site_id"] for a in result["assignment"]} <= hub_ids
        assert result["staffing"] and {"unit", "role", "fte"} <= set(result["staffing"][0])
        # levers.csv and localities.csv ride along when the scenario has them
        made = (summary.get("finance") or {}).get("model_savings")
        if made:
            assert {r["lever_id"] for r in result["levers"]} == {ln["id"] for ln in made["lines"]}
        else:
            assert result["levers"] is None
        assert result["localities"] is None

        geo = c.get(job["links"]["geojson"])
        assert geo.headers["content-type"] == "application/geo+json"
        features = geo.json()["features"]
        assert geo.json()["type"] == "FeatureCollection" and len(features) == 358
        assert {f["properties"]["site_id"] for f in features} <= hub_ids

        page = c.get(job["links"]["map"])
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "leaflet" in page.text.lower()
        assert page.headers["content-security-policy"].startswith("sandbox")

        export = c.get(job["links"]["export"])
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(export.content), read_only=True)
        # the demo's finance section reaches the service: baseline, savings, workstreams
        assert {"Summary", "Baseline vs scenario", "Savings", "Monte Carlo"} <= set(
            book.sheetnames)
        assert summary["savings"]["total"]["baseline_gbp"] == summary["baseline"]["total_cost"]
        assert summary["finance"]["totals"]["total"]["low"] == sum(
            line["low"] for line in summary["finance"]["lines"])
        assert "attachment" in export.headers["content-disposition"]

        # a viewer reads but cannot submit
        assert c.post("/v1/scenarios", json=demo_document(live.ids)).status_code == 403

    with httpx.Client(base_url=live.url, follow_redirects=True) as browser:  # via the sign-in form
        r = browser.post("/signin", data={"key": live.keys["viewer"], "next": "/"})
        assert r.status_code == 200 and job["id"] in r.text
        assert f'href="{job["links"]["map"]}"' in r.text
        assert browser.get(job["links"]["map"]).status_code == 200  # the cookie opens the map


def test_a_what_if_starts_from_a_finished_scenarios_plan(live):
    """POST /v1/scenarios?start_from=ID: one hub fewer than the finished demo plan, solved
    from that plan by the worker; the job and its summary say where it started."""
    job = live.finished
    n = job["summary"]["hubs_open"]
    with live.client(live.keys["planner"]) as c:
        before = {h["site_id"] for h in c.get(job["links"]["result"]).json()["hubs"]}
        doc = demo_document(live.ids, time_limit_s=6.0, name="demo one hub fewer")
        doc["hubs"]["count"] = {"max": n - 1}
        r = c.post("/v1/scenarios", json=doc, params={"start_from": job["id"]})
        assert r.status_code == 202, r.text
        done = wait_for(c, r.json()["id"], timeout_s=180)
        assert done["status"] == "finished", done
        assert done["start_from"] == job["id"]
        summary = done["summary"]
        started = summary["start_from"]
        assert started["source"] == f"scenario 'demo-county' ({job['id']})"
        assert started["matched"]["sites"] == n and started["hubs_dropped"] >= 1
        assert summary["hubs_open"] <= n - 1
        if started["chosen"]:
            after = {h["site_id"] for h in c.get(done["links"]["result"]).json()["hubs"]}
            assert after <= before
        # the page says it in words
        page = c.get(f"/scenarios/{done['id']}")
        assert "Started from" in page.text and job["id"] in page.text


def test_a_running_sweep_is_cancelled_whole(live):
    """DELETE /v1/sweeps/{id} over HTTP while its variants run and wait: every variant ends
    ``cancelled`` (none runs on to its 120 s limit and finishes), and each records the key."""
    with live.client(live.keys["planner"]) as c:
        doc = demo_document(live.ids, time_limit_s=120.0, name="sweep to cancel")
        body = {"scenario": doc, "vary": [{"key": "budget.cap", "values": [21e6, 22e6, 23e6]}]}
        r = c.post("/v1/sweeps", json=body)
        assert r.status_code == 202, r.text
        sweep_id, variants = r.json()["id"], r.json()["variants"]
        deadline = time.monotonic() + 120
        while c.get(f"/v1/sweeps/{sweep_id}").json()["counts"].get("running", 0) == 0:
            assert time.monotonic() < deadline, "no variant started"
            time.sleep(0.2)
        r = c.delete(f"/v1/sweeps/{sweep_id}")
        assert r.status_code == 202, r.text
        assert r.json()["counts"].get("finished", 0) == 0
        for job_id in variants:
            job = wait_for(c, job_id, timeout_s=120)
            assert job["status"] == "cancelled", job
            assert job["cancelled_by"]
        table = c.get(f"/v1/sweeps/{sweep_id}").json()
        assert table["status"] == "done" and table["counts"] == {"cancelled": 3}


def _percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


@pytest.mark.slow
def test_load_while_two_solves_run(live):
    planner = live.client(live.keys["planner"])
    running = []
    for i in range(2):
        r = planner.post("/v1/scenarios", json=demo_document(live.ids, time_limit_s=30,
                                                                 name=f"load-{i}"))
        assert r.status_code == 202, r.text
        running.append(r.json()["id"])
    wait_for(planner, running[0], statuses=("running",), timeout_s=30)
    wait_for(planner, running[1], statuses=("running",), timeout_s=30)
    finished = live.finished["id"]
    paths = ["/health", f"/v1/scenarios/{running[0]}", f"/v1/scenarios/{running[1]}",
             f"/v1/scenarios/{finished}/result", "/v1/scenarios?limit=20"]
    timings: dict[str, list[float]] = {p: [] for p in paths}
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + LOAD_SECONDS

    def client_loop(n: int) -> None:
        with live.client(live.keys["viewer"], timeout=30) as c:
            i = n
            while time.monotonic() < stop_at:
                path = paths[i % len(paths)]
                i += 1
                t = time.perf_counter()
                try:
                    r = c.get(path)
                    ok = r.status_code == 200
                    why = f"{path}: {r.status_code}"
                except httpx.HTTPError as err:
                    ok, why = False, f"{path}: {err!r}"
                with lock:
                    timings[path].append(time.perf_counter() - t)
                    if not ok:
                        errors.append(why)

    threads = [threading.Thread(target=client_loop, args=(n,)) for n in range(LOAD_CLIENTS)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    states = [planner.get(f"/v1/scenarios/{j}").json()["status"] for j in running]
    for j in running:  # cancel over HTTP: the workers stop and the jobs end cancelled
        r = planner.delete(f"/v1/scenarios/{j}")
        assert r.status_code == 202 and r.json()["status"] in ("cancelling", "cancelled")
    for j in running:
        assert wait_for(planner, j, timeout_s=60)["status"] == "cancelled"
    assert planner.delete(f"/v1/scenarios/{running[0]}").status_code == 409
    planner.close()

    total = sum(len(v) for v in timings.values())
    print(f"\nload: {LOAD_CLIENTS} clients, {elapsed:.1f} s, {total} requests, "
          f"{total / elapsed:.0f} requests/s, {len(errors)} errors; solves during the run: "
          f"{states}")
    for path, values in timings.items():
        print(f"  {path:45s} n={len(values):5d} p50={statistics.median(values) * 1000:6.1f} ms "
              f"p95={_percentile(values, 0.95) * 1000:6.1f} ms")
    assert errors == []
    assert all(s in ("running", "cancelling") for s in states), states  # solves really ran
    assert total > 200
    assert _percentile(timings["/health"], 0.95) < 0.5


def test_schemathesis_finds_no_server_errors(live):
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis.checks import not_a_server_error

    schema = schemathesis.openapi.from_url(f"{live.url}/openapi.json")
    headers = {"Authorization": f"Bearer {live.keys['admin']}"}
    seen: list[int] = []

    @settings(max_examples=100, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=schema.as_strategy())
    def fuzz(case):
        response = case.call_and_validate(base_url=live.url, headers=headers,
                                          checks=[not_a_server_error], timeout=60)
        seen.append(response.status_code)

    fuzz()
    assert len(seen) >= 50
    assert all(code < 500 for code in seen)
    with httpx.Client(base_url=live.url) as c:  # the server is still healthy
        assert c.get("/health").status_code == 200

"""The service's own pages in headless Debian Chromium, served by a live uvicorn.

Signs in through the ``/signin`` form (cookie), checks the scenario list on ``/`` and saves it as
``docs/service.png`` for the README, then opens the scenario's map as the API serves it (with its
sandbox Content-Security-Policy): no console errors, no request leaves 127.0.0.1, one shape per
area and one marker per open hub as ``/v1/scenarios/{id}/result`` says, and a hub's pop-up names it.
Needs Chromium and Playwright as test_browser.py does (skips locally without them; fails on CI).
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest
from service_helpers import REPO, LiveServer, demo_document, upload_demo, wait_for
from test_browser import _need_browser, chromium_context, watch

SCREENSHOT = REPO / "docs" / "service.png"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A running server with a viewer key and one finished demo solve (as test_live_server.py)."""
    _need_browser()  # before the solve: no point starting a server without a browser
    server = LiveServer(tmp_path_factory.mktemp("live"), workers=1, progress_interval_s=0.3)
    server.start()
    try:
        server.viewer = server.key("viewer")
        with server.client(server.key("planner")) as c:
            r = c.post("/v1/scenarios", json=demo_document(upload_demo(c, {})))
            assert r.status_code == 202, r.text
            server.job = wait_for(c, r.json()["id"], timeout_s=180)
        assert server.job["status"] == "finished", server.job
        with server.client(server.viewer) as c:
            server.result = c.get(server.job["links"]["result"]).json()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def context(live, tmp_path_factory):
    with chromium_context(tmp_path_factory.mktemp("chromium-profile"), (1200, 800)) as ctx:
        yield ctx


def test_service_pages_in_chromium(live, context, tmp_path):
    job, result = live.job, live.result
    links = job["links"]
    page = context.new_page()
    errors, outside = watch(page)

    # sign in through the form: the cookie, not the key, carries the session
    page.goto(f"{live.url}/")
    assert urlsplit(page.url).path == "/signin"  # no session yet: sent to the form
    page.fill("input[name=key]", live.viewer)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live.url}/")
    from api.deps import SESSION_COOKIE

    cookies = {c["name"]: c for c in context.cookies(live.url)}
    assert cookies[SESSION_COOKIE]["httpOnly"] and live.viewer not in cookies[SESSION_COOKIE]["value"]

    row = page.locator("tbody tr", has_text=job["id"])
    assert row.count() == 1
    assert job["name"] in row.locator("td").nth(0).inner_text()
    assert row.locator("strong.mdt-status").inner_text() == "finished"
    for kind in ("map", "result", "export"):
        assert row.locator(f'a[href="{links[kind]}"]').inner_text() == kind
    shot = tmp_path / "service.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    if os.environ.get("MDTPLAN_UPDATE_DOCS"):  # refresh the README's picture on request only
        SCREENSHOT.parent.mkdir(exist_ok=True)
        SCREENSHOT.write_bytes(shot.read_bytes())

    # the map as the API serves it, under MAP_CSP (a sandbox)
    from api.routes.scenarios import MAP_CSP

    response = page.goto(f"{live.url}{links['map']}")
    assert response.headers["content-security-policy"] == MAP_CSP
    assert MAP_CSP.startswith("sandbox ") and "allow-same-origin" not in MAP_CSP
    page.wait_for_selector("path.mdt-hub")
    n_areas = len({a["area_id"] for a in result["assignment"]})
    hubs = result["hubs"]
    assert len(hubs) == result["summary"]["hubs_open"] > 0
    assert page.locator("path.mdt-area-hub").count() == n_areas
    assert page.locator("path.mdt-hub").count() == len(hubs)

    # titled, with a link back to the scenario's page that leaves an <iframe>
    assert page.title() == f"Map · {result['summary']['name']} · mdtplan"
    back = page.get_by_role("link", name="Back to the scenario")
    assert back.get_attribute("href") == f"/scenarios/{job['id']}"
    assert back.get_attribute("target") == "_top"
    assert "allow-top-navigation-by-user-activation" in MAP_CSP
    from a11y import assert_accessible

    assert_accessible(page, "the served map")
    page.locator("path.mdt-hub").nth(0).click(force=True)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert hubs[0]["name"] in popup.inner_text(), popup.inner_text()
    assert errors == []
    assert outside == []
    page.close()


def test_api_docs_render_offline_in_chromium(live, context):
    """/docs (Swagger UI) and /redoc render the API from this server alone, every outside
    request aborted: the contract's operations are on the page, and nothing fails but the
    one outside image ReDoc hides itself."""
    page = context.new_page()
    errors, outside = watch(page)
    page.goto(f"{live.url}/docs")
    page.wait_for_selector(".opblock")
    assert "mdtplan" in page.locator(".info .title").inner_text()
    paths = set(page.locator(".opblock-summary-path").all_inner_texts())
    assert {"/v1/scenarios", "/v1/sweeps", "/v1/datasets"} <= {p.strip() for p in paths}, paths
    assert (errors, outside) == ([], [])

    # ReDoc's sidebar shows Redocly's badge from their CDN and hides it when it cannot load:
    # that request (aborted here) is the only one either page makes beyond this server
    page.goto(f"{live.url}/redoc")
    page.wait_for_selector("h1")
    assert "mdtplan" in page.locator("h1").first.inner_text()
    assert page.get_by_text("/v1/scenarios/{scenario_id}/result").count() > 0
    badge = "https://cdn.redoc.ly/redoc/logo-mini.svg"
    assert set(outside) <= {badge}, outside
    page.wait_for_function("!document.querySelector('img[alt=\"redocly logo\"]')")
    assert all("Failed to load resource" in e for e in errors) and len(errors) == len(outside)
    page.close()

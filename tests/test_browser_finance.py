"""The finance panel in headless Debian Chromium, served by a live uvicorn with one finished
demo solve.

A finance reader signs in, opens the scenario, follows "Open the finance panel" and finds each
chart drawn (visible, named by its title), no Content-Security-Policy complaint (the charts
use no inline style), no request leaving 127.0.0.1, and axe-core finds no serious or critical
WCAG 2.2 AA violation. Screenshots go to ``/tmp/finance-shots/`` (1280 px and 390 px wide).
Needs Chromium and Playwright as test_browser.py does (skips locally without them).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from a11y import assert_accessible
from service_helpers import LiveServer, demo_document, docs_picture, upload_demo, wait_for
from test_browser import _need_browser, chromium_context, watch

SHOTS = Path("/tmp/finance-shots")
CHARTS = ["chart-baseline", "chart-workstreams", "chart-test", "chart-years",
          "chart-montecarlo"]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A running server with one finished demo solve (its finance: baseline, levers, typed
    workstreams, investment, NPV, Monte Carlo) and a viewer key."""
    _need_browser()
    server = LiveServer(tmp_path_factory.mktemp("live-finance"), workers=1,
                        progress_interval_s=0.3)
    server.start()
    try:
        with server.client(server.key("planner")) as c:
            r = c.post("/v1/scenarios", json=demo_document(upload_demo(c, {})))
            assert r.status_code == 202, r.text
            server.job = wait_for(c, r.json()["id"], timeout_s=180)
        assert server.job["status"] == "finished", server.job
        server.viewer = server.key("viewer")
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    with chromium_context(tmp_path_factory.mktemp("chromium-profile"), (1280, 900)) as ctx:
        yield ctx


def _sign_in(page, live) -> None:
    page.goto(f"{live.url}/signin")
    page.fill("input[name=key]", live.viewer)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live.url}/")


@pytest.mark.slow   # a real demo solve first (about 20-40 s on a shared 2-core machine)
def test_finance_reader_opens_the_panel(live, context):
    SHOTS.mkdir(parents=True, exist_ok=True)
    job = live.job
    page = context.new_page()
    errors, outside = watch(page)
    _sign_in(page, live)
    page.goto(f"{live.url}/scenarios/{job['id']}")
    page.get_by_role("link", name="Open the finance panel").click()
    page.wait_for_url(f"{live.url}/scenarios/{job['id']}/finance")
    assert page.title() == f"Finance: {job['name']} · mdtplan"
    assert page.get_by_role("heading", name="Today against the plan, line by line").is_visible()

    for chart_id in CHARTS:
        svg = page.locator(f"svg#{chart_id}")
        svg.scroll_into_view_if_needed()
        assert svg.is_visible(), chart_id
        box = svg.bounding_box()
        assert box["width"] > 300 and box["height"] > 150, (chart_id, box)
        title = svg.locator("title").first.text_content()
        assert page.get_by_role("img", name=title).count() == 1, chart_id   # named by its title
        # bars are drawn (a rect with a size), and the numbers are in a table beside it
        assert svg.locator("rect.mdt-bar-rect").count() >= 1, chart_id
        section = page.locator("section").filter(has=svg)
        assert section.locator("table td").count() >= 3, chart_id
    # the figures a finance partner looks for first
    text = page.locator("main").inner_text()
    for words in ("Cost against today", "Savings made by the model", "Benefit to investment",
                  "Payback year", "Net present value", "P10", "Savings by year"):
        assert words in text, words

    assert not errors, errors          # a CSP-blocked inline style would be reported here
    assert not outside, outside
    assert_accessible(page, "finance panel")
    page.screenshot(path=str(SHOTS / "finance-1280.png"), full_page=True)
    docs_picture(page, "finance")
    page.locator("svg#chart-test").screenshot(path=str(SHOTS / "chart-test.png"))

    # a phone: the charts shrink to the screen, the tables scroll in their own region
    small = context.new_page()
    small.set_viewport_size({"width": 390, "height": 844})
    errors2, _ = watch(small)
    small.goto(f"{live.url}/scenarios/{job['id']}/finance")
    assert urlsplit(small.url).path.endswith("/finance")
    width = small.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, width
    box = small.locator("svg#chart-baseline").bounding_box()
    assert box["width"] <= 390
    assert not errors2, errors2
    assert_accessible(small, "finance panel at 390 px")
    small.screenshot(path=str(SHOTS / "finance-390.png"), full_page=True)

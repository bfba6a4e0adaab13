"""The browser app as its users work in it: headless Debian Chromium against a live server.

A planner makes a scenario from the demo, changes the cap, runs it and watches the progress,
cancels one run and finishes another, then duplicates and changes it; a viewer reads but cannot
create. Every page is checked with axe-core (WCAG 2.2 AA: no serious or critical violations),
no console errors, no request leaving 127.0.0.1, and screenshots are saved (``docs/`` on
request with ``MDTPLAN_UPDATE_DOCS=1``).
"""

from __future__ import annotations

import io
import re
import time
from urllib.parse import urlsplit

import pytest
from a11y import assert_accessible
from service_helpers import LiveServer, docs_picture
from test_browser import _need_browser, chromium_context, watch

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    _need_browser()
    server = LiveServer(tmp_path_factory.mktemp("app"), workers=1, progress_interval_s=0.3)
    server.start()
    try:
        server.planner = server.key("planner")
        server.viewer = server.key("viewer")
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def context(live, tmp_path_factory):
    with chromium_context(tmp_path_factory.mktemp("chromium-app"), (1280, 900)) as ctx:
        yield ctx


def _shot(page, tmp_path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    docs_picture(page, name)  # the README's picture: the first screenful, on request only


def _colours(png: bytes) -> int:
    """How many colours a screenshot holds (a blank or one-colour frame holds one or two)."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        return len(im.convert("RGB").getcolors(maxcolors=1 << 20) or [])


def _sign_in(page, live, key: str, path: str = "/") -> None:
    page.goto(f"{live.url}{path}")
    assert urlsplit(page.url).path == "/signin"
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(live.url + path.split("?")[0])))


def _new_from_demo(page, live, name: str, cap: str, time_limit: str) -> str:
    page.goto(f"{live.url}/")
    page.get_by_role("link", name="New scenario").first.click()
    page.wait_for_url(f"{live.url}/scenarios/new")
    start = page.get_by_label("Start from")
    assert "demo" in start.locator("option").all_inner_texts()[0]
    start.select_option("example:demo")
    page.get_by_label("Scenario name").fill(name)
    cap_field = page.get_by_label("Budget cap (£ per year)")
    assert cap_field.input_value() == "23250000"  # the demo's own cap, ready to change
    cap_field.fill(cap)
    page.get_by_label("Time limit (seconds)").fill(time_limit)
    return _run(page)


def _run(page) -> str:
    """Press Run; the checks (the example's files stored, the inputs loaded) take seconds."""
    with page.expect_navigation(timeout=180_000):
        page.get_by_role("button", name="Run").click()
    path = urlsplit(page.url).path
    assert re.fullmatch(r"/scenarios/sc_[0-9a-f]+", path), page.locator("main").inner_text()
    return path.rsplit("/", 1)[1]


def test_planner_makes_runs_cancels_finishes_and_duplicates(live, context, tmp_path):
    page = context.new_page()
    errors, outside = watch(page)
    _sign_in(page, live, live.planner)
    assert page.title() == "Scenarios · mdtplan"
    assert_accessible(page, "scenario list")

    page.goto(f"{live.url}/scenarios/new")
    assert page.title() == "New scenario · mdtplan"
    assert_accessible(page, "new scenario form")
    _shot(page, tmp_path, "new-scenario")

    # a long run, cancelled while it searches: it ends long before its 120 s limit and
    # says truthfully what is kept
    long_id = _new_from_demo(page, live, "demo long run", "24000000", "120")
    page.wait_for_selector("#progress-bar", timeout=60_000)
    words = page.locator("#progress-words")
    assert words.inner_text()
    assert_accessible(page, "progress panel")
    _shot(page, tmp_path, "progress")
    page.wait_for_function(
        "() => /Searching for the best plan/.test(document.querySelector('#progress-words')"
        "?.textContent || '')", timeout=90_000)
    focus_before = page.evaluate("() => document.activeElement.tagName")
    page.get_by_role("button", name="Cancel this run").focus()
    page.wait_for_timeout(2500)  # a poll happens while the button has focus: focus stays
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Cancel this run"
    assert focus_before in ("BODY", "A", "BUTTON")
    cancelled_at = time.monotonic()
    page.get_by_role("button", name="Cancel this run").click()
    page.wait_for_selector(".mdt-status:text('cancelled')", timeout=60_000)
    assert time.monotonic() - cancelled_at < 60  # long before the 120 s limit
    inset = page.locator(".govuk-inset-text").first.inner_text()
    assert inset.startswith("cancelled")
    hubs_shown = page.get_by_role("figure", name="Hubs").count()
    if "there is no plan to keep" in inset:
        assert hubs_shown == 0  # nothing kept, nothing shown
    else:
        assert "best plan found so far is kept" in inset and hubs_shown == 1

    # a run that finishes: a generous cap and a short limit
    done_id = _new_from_demo(page, live, "demo bigger cap", "30000000", "15")
    assert done_id != long_id
    page.wait_for_selector(".mdt-status:text('finished')", timeout=180_000)
    met = page.get_by_role("figure", name="Demand met")
    assert re.search(r"\d+\.\d%", met.inner_text())
    assert page.get_by_role("figure", name="Annual cost").inner_text()
    assert "against a cap of £30.00m" in page.get_by_role("figure", name="Annual cost").inner_text()
    frame = page.frame_locator("iframe.mdt-map")
    frame.locator("path.mdt-hub").first.wait_for(timeout=30_000)
    download = page.get_by_role("link", name="Download workbook")
    assert download.get_attribute("href") == f"/v1/scenarios/{done_id}/export.xlsx"
    # sortable tables: sorting the hubs by population puts the largest first on a second click
    hubs = page.locator("#table-hubs + p + div table")
    header = hubs.get_by_role("button", name="Population")
    header.click()
    header.click()
    values = [float(v) for v in hubs.locator("tbody tr td[data-value]").evaluate_all(
        "(cells) => cells.filter(c => c.cellIndex === "
        "[...c.closest('table').tHead.rows[0].cells].findIndex(h => h.textContent.trim()"
        ".startsWith('Population'))).map(c => c.dataset.value)")]
    assert values == sorted(values, reverse=True) and len(values) >= 2
    assert_accessible(page, "result page", exclude=["iframe.mdt-map"])
    # drawn, not only in the page: the map as the planner sees it holds catchments' colours
    iframe = page.locator("iframe.mdt-map")
    iframe.scroll_into_view_if_needed()
    assert _colours(iframe.screenshot()) > 50
    _shot(page, tmp_path, "result")

    # duplicate and change: the form starts from this scenario with its values (the result
    # page loaded afresh first: after a capture of the map's frame, Chromium once let the
    # next click on the page go nowhere)
    page.goto(page.url)
    link = page.get_by_role("link", name="Duplicate and change")
    link.scroll_into_view_if_needed()
    with page.expect_navigation(url=re.compile(r"/scenarios/new\?from=job:")):
        link.click()
    assert page.get_by_label("Budget cap (£ per year)").input_value() == "30000000"
    assert page.get_by_label("Scenario name").input_value() == "demo bigger cap (changed)"
    # a what-if: the solve starts from the finished plan unless the planner says otherwise
    assert page.get_by_label("Start the solve from this scenario's plan").is_checked()
    page.get_by_label("Budget cap (£ per year)").fill("31000000")
    page.get_by_label("Time limit (seconds)").fill("5")
    dup_id = _run(page)
    assert dup_id not in (long_id, done_id)

    # ... and compares the two: the table has a difference column, the map two panes
    page.wait_for_selector(".mdt-status:text('finished')", timeout=180_000)
    started = page.locator("#started-from").inner_text()
    assert started.startswith("Started from scenario 'demo bigger cap'") and done_id in started
    page.goto(f"{live.url}/scenarios/{done_id}")
    page.get_by_role("link", name="Compare with another scenario").click()
    page.get_by_label("demo bigger cap (changed)").check()
    page.get_by_role("button", name="Compare").click()
    page.wait_for_selector("#compare-table")
    headers = page.locator("#compare-table thead th").all_inner_texts()
    assert headers[-1] == "Difference from demo bigger cap"
    page.wait_for_selector("#compare-maps[data-ready='1']", timeout=30_000)
    assert page.locator("#pane-0 path.mdt-compare-area").count() > 300
    assert page.locator("#pane-1 path.mdt-compare-area").count() > 300
    assert_accessible(page, "compare page")
    _shot(page, tmp_path, "compare")

    # the list shows all three, with their statuses
    page.goto(f"{live.url}/")
    for job_id in (long_id, done_id, dup_id):
        assert page.locator("tbody tr", has_text=job_id).count() == 1
    assert (errors, outside) == ([], [])
    page.close()


def test_viewer_reads_but_cannot_create(live, context, tmp_path):
    page = context.new_page()
    page.context.clear_cookies()
    errors, outside = watch(page)
    _sign_in(page, live, live.viewer)
    assert page.get_by_role("link", name="New scenario").count() == 0
    response = page.goto(f"{live.url}/scenarios/new")
    assert response.status == 403
    assert page.title() == "Not allowed · mdtplan"
    assert "can read only" in page.locator("main").inner_text()
    assert page.get_by_role("link", name="Back to the scenarios").count() == 1
    assert_accessible(page, "not allowed page")
    # a phone: the scenario list fits (its table scrolls in its own region) and stays accessible
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live.url}/")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, overflow
    assert_accessible(page, "scenario list at 390 px")
    assert outside == []
    page.close()

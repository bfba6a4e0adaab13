"""The compare and sweep pages in headless Debian Chromium, served by a live uvicorn.

Finance (a planner key) makes a 4-point sweep in the form (the demo without a cap at four
travel limits, 12 s and one thread each: the run budget gives the solve about two thirds of it), watches it finish in place, reads the frontier and
opens a variant's plan from its point; a planner compares two finished scenarios: the table
with its difference column, what changed, and the two-pane map, where a site has the same
colour in each pane and moving one pane moves the other. axe-core finds no serious or
critical violation on any of these pages. Screenshots go to ``/tmp/compare-shots/``.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from a11y import assert_accessible
from service_helpers import LiveServer, demo_document, docs_picture, upload_demo, wait_for
from test_browser import _need_browser, chromium_context, watch

SHOTS = Path("/tmp/compare-shots")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A server with two workers, a planner key, and two finished demo scenarios that differ
    in their travel limit (so their hubs differ)."""
    _need_browser()
    server = LiveServer(tmp_path_factory.mktemp("live"), workers=2, progress_interval_s=0.3)
    server.start()
    try:
        server.planner = server.key("planner")
        with server.client(server.planner) as c:
            ids = upload_demo(c, {})
            jobs = []
            for limit in (35, 45):
                doc = demo_document(ids, time_limit_s=6, name=f"demo {limit} min")
                doc["hubs"]["max_travel_minutes"] = limit
                r = c.post("/v1/scenarios", json=doc)
                assert r.status_code == 202, r.text
                jobs.append(r.json()["id"])
            server.plans = [wait_for(c, j, timeout_s=240) for j in jobs]
        assert all(p["status"] == "finished" and p["summary"]["hubs_open"]
                   for p in server.plans), server.plans
        SHOTS.mkdir(parents=True, exist_ok=True)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def context(live, tmp_path_factory):
    with chromium_context(tmp_path_factory.mktemp("chromium-profile"), (1280, 900)) as ctx:
        page = ctx.new_page()
        page.goto(f"{live.url}/signin")
        page.fill("input[name=key]", live.planner)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live.url}/")
        page.close()
        yield ctx


def test_finance_runs_a_sweep_and_opens_a_variant_from_the_frontier(live, context):
    page = context.new_page()
    errors, outside = watch(page)
    page.goto(f"{live.url}/sweeps")
    assert_accessible(page, "sweeps list")
    page.get_by_role("button", name="New sweep").click()
    page.wait_for_url(re.compile(r".*/sweeps/new"))
    assert page.get_by_label("Start from").input_value() == "example:demo"

    page.get_by_label("Sweep name").fill("travel limits")
    page.get_by_label("Budget cap (£ per year)").fill("")
    page.get_by_label("Time limit (seconds)").fill("12")
    page.get_by_label("Solver threads for each variant").fill("1")
    page.get_by_label("Setting 1").select_option("hubs.max_travel_minutes")
    axis = page.locator("fieldset.mdt-axis").nth(0)
    axis.get_by_label("From").fill("35")
    axis.get_by_label("To").fill("50")
    axis.get_by_label("Steps").fill("4")
    count = page.locator("#variant-count")
    count.get_by_text("4 variants").wait_for()  # counted as the form is filled (htmx)
    axis.get_by_label("Steps").fill("400")
    count.get_by_text("The grid has 400 variants, more than the 100").wait_for()
    axis.get_by_label("Steps").fill("4")
    count.get_by_text("4 variants").wait_for()
    assert_accessible(page, "new sweep form")
    page.screenshot(path=str(SHOTS / "sweep-new.png"), full_page=True)

    page.get_by_role("button", name="Run the sweep").click()
    page.wait_for_url(re.compile(r".*/sweeps/sw_[0-9a-f]+$"))
    sweep_url = page.url
    page.evaluate("() => { window.mdtSamePage = true; }")  # gone if the page reloads
    bar = page.locator("#sweep-bar")
    assert bar.get_attribute("max") == "4"
    if bar.get_attribute("value") != "4":  # while variants run, a planner may cancel them
        assert page.get_by_role("button", name="Cancel the sweep").count() == 1
        assert_accessible(page, "running sweep")
    page.screenshot(path=str(SHOTS / "sweep-running.png"), full_page=True)
    page.wait_for_function(
        "() => document.querySelector('#sweep-bar').getAttribute('value') === '4'",
        timeout=240_000)
    assert page.evaluate("() => window.mdtSamePage === true")  # updated in place, no reload
    page.get_by_text("the sweep is done").wait_for()
    assert page.get_by_role("button", name="Cancel the sweep").count() == 0
    rows = page.locator("#variants-table tbody tr")
    assert rows.count() == 4
    assert [rows.nth(i).locator("td").nth(0).inner_text() for i in range(4)] == [
        "35", "40", "45", "50"]
    points = page.locator("svg.mdt-frontier a.mdt-point")
    assert points.count() == 4, page.locator("#variants-table").inner_text()
    assert_accessible(page, "finished sweep")
    page.screenshot(path=str(SHOTS / "sweep-done.png"), full_page=True)
    docs_picture(page, "sweep")

    # the point of the 45-minute variant opens that variant's plan
    point = page.locator('svg.mdt-frontier a.mdt-point[aria-label^="Longest travel to a hub '
                         '(minutes) 45:"]')
    href = point.get_attribute("href")
    row_link = rows.nth(2).get_by_role("link")
    assert row_link.get_attribute("href") == href
    point.focus()  # reachable by keyboard, and opened by it
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live.url}{href}")
    page.get_by_text("Demand met", exact=True).first.wait_for()
    assert "[hubs.max_travel_minutes=45.0]" in page.locator("h1").inner_text()
    assert page.url != sweep_url
    assert errors == [] and outside == []
    page.close()


def test_planner_compares_two_scenarios_on_one_map(live, context):
    a, b = live.plans
    page = context.new_page()
    errors, outside = watch(page)
    page.goto(f"{live.url}/scenarios/{a['id']}")
    page.get_by_role("link", name="Compare with another scenario").click()
    page.wait_for_url(re.compile(r".*/compare\?ids="))
    assert page.get_by_label(a["name"]).is_checked()
    page.get_by_label(b["name"]).check()
    assert_accessible(page, "compare chooser")
    page.get_by_role("button", name="Compare").click()
    page.wait_for_selector("#compare-table")
    assert urlsplit(page.url).query == f"ids={a['id']}&ids={b['id']}"

    # the table: each figure in both, and B less A beside it
    headers = page.locator("#compare-table thead th").all_inner_texts()
    assert headers == ["Figure", a["name"], b["name"], f"Difference from {a['name']}"]
    row = page.locator("#compare-table tbody tr", has=page.locator("th", has_text="Hubs open"))
    cells = row.locator("td").all_inner_texts()
    ha, hb = a["summary"]["hubs_open"], b["summary"]["hubs_open"]
    assert cells[:2] == [str(ha), str(hb)]
    assert cells[2] == ("no change" if ha == hb else f"{'+' if hb > ha else '−'}{abs(hb - ha)}")
    changed = page.locator("#what-changed").inner_text()
    assert "Hubs opened" in changed and "Areas that changed hub" in changed

    # the two panes: the same site the same colour in each, the legend's colour
    page.wait_for_selector("#compare-maps[data-ready='1']", timeout=30_000)
    shared = page.locator("#compare-legend li[data-panes='0 1']").first
    site, colour = shared.get_attribute("data-site"), shared.get_attribute("data-colour")
    fills = [page.locator(f"#pane-{i} path.mdt-compare-area[data-site='{site}']").first
             .get_attribute("fill") for i in (0, 1)]
    assert fills == [colour, colour], (site, fills)
    n_areas = page.locator("#pane-0 path.mdt-compare-area").count()
    assert n_areas == page.locator("#pane-1 path.mdt-compare-area").count() > 300
    sites = page.locator("#compare-legend li").count()
    drawn = {page.locator(f"#pane-{i} path.mdt-hub-dot").count() for i in (0, 1)}
    assert drawn == {ha, hb} and sites >= max(ha, hb)
    assert_accessible(page, "compare page with its map")
    page.screenshot(path=str(SHOTS / "compare.png"), full_page=True)

    def where(i: int) -> dict:
        """An area's box within its pane (so scrolling the page does not count)."""
        area = page.locator(f"#pane-{i} path.mdt-compare-area").first.bounding_box()
        pane = page.locator(f"#pane-{i}").bounding_box()
        return {**area, "x": area["x"] - pane["x"], "y": area["y"] - pane["y"]}

    def shift(before: dict, after: dict) -> tuple[float, float]:
        return after["x"] - before["x"], after["y"] - before["y"]

    # dragging pane A moves pane B by the same amount
    page.locator("#pane-0").scroll_into_view_if_needed()
    before = [where(0), where(1)]
    box = page.locator("#pane-0").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx + 60, cy + 40, steps=8)
    page.mouse.move(cx + 120, cy + 80, steps=8)
    page.mouse.up()
    page.wait_for_timeout(400)
    moved = [shift(before[i], where(i)) for i in (0, 1)]
    assert abs(moved[0][0]) > 50 and abs(moved[0][1]) > 30, moved
    assert moved[1] == (pytest.approx(moved[0][0], abs=2), pytest.approx(moved[0][1], abs=2))

    # the keyboard: focus pane B, zoom in with +; pane A follows
    sizes = [where(i)["width"] for i in (0, 1)]
    page.locator("#pane-1").focus()
    page.keyboard.press("+")
    page.wait_for_timeout(700)
    grown = [where(i)["width"] / sizes[i] for i in (0, 1)]
    assert grown[1] > 1.3 and grown[0] == pytest.approx(grown[1], rel=0.02), grown
    page.get_by_role("button", name="Zoom out").first.click()
    page.wait_for_timeout(700)
    assert where(0)["width"] == pytest.approx(sizes[0], rel=0.02)
    page.screenshot(path=str(SHOTS / "compare-moved.png"))
    assert errors == [] and outside == []
    page.close()

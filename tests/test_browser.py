"""The map as a person sees it: headless Debian Chromium (Playwright), outside hosts blocked.

Needs /usr/bin/chromium (CI: ``apt-get install chromium``) and the ``playwright`` Python package
(no ``playwright install``: the system Chromium is used). Skips locally without them; fails on CI.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from service_helpers import fail_in_ci_else_skip
from test_maps import small_plan

from mdtplan.outputs.maps import draw_dual_map, draw_map

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TILE_HOST = "tile.openstreetmap.org"


def _need_browser():
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package (pip install playwright)")
    if missing:
        fail_in_ci_else_skip("browser test needs " + " and ".join(missing))


@contextmanager
def chromium_context(profile_dir, viewport=(1280, 860)):
    """A headless Debian Chromium (Playwright) with a fresh profile; fails or skips as above."""
    _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile_dir), executable_path=str(CHROMIUM), headless=True, args=ARGS,
            viewport={"width": viewport[0], "height": viewport[1]})
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with chromium_context(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context


def watch(page) -> tuple[list[str], list[str]]:
    """Record console errors; abort (and record) every request that leaves this machine."""
    errors: list[str] = []
    outside: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def route(r):
        url = r.request.url
        if url.startswith(("file:", "data:", "blob:")) or urlsplit(url).hostname in (
                "127.0.0.1", "localhost"):
            r.continue_()
        else:
            outside.append(url)
            r.abort()

    page.route("**/*", route)
    return errors, outside


def _open(context, url: str):
    """Open ``url`` with every non-local request aborted; return (page, errors, outside)."""
    page = context.new_page()
    errors, outside = watch(page)
    page.goto(url)
    page.wait_for_selector("path.mdt-hub")
    return page, errors, outside


def test_map_in_chromium(browser, tmp_path):
    from playwright.sync_api import expect

    results, inputs = small_plan()
    path = draw_map(results, inputs, tmp_path / "map.html")
    page, errors, outside = _open(browser, path.as_uri())

    assert errors == []
    assert outside == []  # nothing fetched from any other host (tiles are off by default)
    assert page.locator("path.mdt-area-hub").count() == len(inputs.areas)
    assert page.locator("path.mdt-hub").count() == len(results.hubs)
    assert page.locator("path.mdt-pool-outline").count() == 2  # West, East

    labels = page.locator(".leaflet-control-layers label").all_inner_texts()
    text = " | ".join(label.strip() for label in labels)
    for name in ("Basemap", "Areas by hub", "Share of demand met", "Specialist pools", "Hubs"):
        assert name in text, text
    assert page.locator(".leaflet-control-scale").count() == 1
    assert page.locator(".leaflet-control-fullscreen, .fullscreen-icon").count() >= 1
    assert "Hub Three" in page.locator(".mdt-legend").inner_text()

    # click each hub; its pop-up names it (as text, even the <script> one) with its FTE by role
    staffing = results.staffing
    for i, hub in enumerate(results.hubs.itertuples(index=False)):
        page.locator("path.mdt-hub").nth(i).click(force=True)
        popup = page.locator(".leaflet-popup-content")
        # Leaflet replaces the open pop-up with this hub's (autoClose); wait for it to show
        expect(popup).to_have_count(1)
        expect(popup).to_contain_text(str(hub.name))
        content = popup.inner_text()
        assert hub.name in content, content  # EVIL shows as text, not as a script
        sw = staffing[(staffing["unit"] == hub.site_id) & (staffing["role"] == "social_worker")]
        assert f"FTE Social worker\t{sw['fte'].iloc[0]:g}" in content, content
        assert f"{hub.population:,.0f}" in content and f"{hub.utilisation:.0%}" in content
    assert page.evaluate("document.querySelectorAll('.leaflet-popup-content script').length") == 0

    # the second colouring layer draws one shape per area when switched on
    page.locator(".leaflet-control-layers").get_by_text("Share of demand met").click()
    page.wait_for_selector("path.mdt-area-met")
    assert page.locator("path.mdt-area-met").count() == len(inputs.areas)
    assert errors == [] and outside == []

    shot = tmp_path / "map.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    page.close()


def test_dual_map_in_chromium(browser, tmp_path):
    results, inputs = small_plan()
    path = draw_dual_map(results, inputs, results, inputs, tmp_path / "dual.html")
    page, errors, outside = _open(browser, path.as_uri())
    assert errors == [] and outside == []
    assert page.locator(".leaflet-container").count() == 2
    assert page.locator("path.mdt-hub").count() == 2 * len(results.hubs)
    assert page.locator("path.mdt-area-hub").count() == 2 * len(inputs.areas)
    # each pane has its own search and legend (ids unique in the page)
    assert page.get_by_label("Find a hub").count() == 2
    from a11y import assert_accessible

    assert_accessible(page, "the side-by-side map")
    page.screenshot(path=str(tmp_path / "dual.png"))
    page.close()


def test_basemap_is_the_only_online_part(browser, tmp_path):
    results, inputs = small_plan()
    path = draw_map(results, inputs, tmp_path / "map.html")
    page, errors, outside = _open(browser, path.as_uri())
    assert outside == []
    page.locator(".leaflet-control-layers").get_by_text("Basemap").click()
    page.wait_for_timeout(300)
    assert outside and all(TILE_HOST in url for url in outside)
    page.close()


def _map_var(page) -> str:
    return page.evaluate("Object.keys(window).find(k => k.startsWith('map_') && window[k].getZoom)")


def _legend_layers(page) -> list[str]:
    return page.locator(".mdt-legend section").evaluate_all(
        "els => els.map(e => e.dataset.layer)")


def test_planner_map_in_chromium(browser, tmp_path):
    """Hubs above areas, a legend of the visible layers, search, keyboard, zoom limits, axe."""
    from a11y import assert_accessible
    from playwright.sync_api import expect
    from test_maps import ruled_plan

    results, inputs = ruled_plan()
    path = draw_map(results, inputs, tmp_path / "map.html",
                    back_link=("/scenarios/abc", "Back to the scenario"))
    page, errors, outside = _open(browser, path.as_uri())
    assert page.title() == "Map · small & <plan> · mdtplan"
    back = page.get_by_role("link", name="Back to the scenario")
    assert back.get_attribute("href") == "/scenarios/abc"
    assert back.get_attribute("target") == "_top"

    # the legend lists the visible layers only, and follows the layer control
    assert _legend_layers(page) == ["Areas by hub", "Breaches: plan", "Specialist pools", "Hubs"]
    control = page.locator(".leaflet-control-layers")
    control.get_by_text("Share of demand met at the hub").click()
    page.wait_for_selector("path.mdt-area-met")
    assert "Share of demand met at the hub" in _legend_layers(page)
    control.get_by_text("Breaches: plan").click()
    assert "Breaches: plan" not in _legend_layers(page)

    # hubs stay above every area layer: their pane is higher, and a click at a hub hits it
    var = _map_var(page)
    z = page.evaluate(f"""() => {{ const m = window['{var}'];
        return [+m.getPane('mdtHubs').style.zIndex, +m.getPane('overlayPane').style.zIndex || 400,
                +m.getPane('mdtBreaches').style.zIndex]; }}""")
    assert z[0] > z[2] > z[1], z
    control.get_by_text("Travel time to hub").click()
    page.wait_for_selector("path.mdt-area-travel")
    for i in range(page.locator("path.mdt-hub").count()):
        box = page.locator("path.mdt-hub").nth(i).bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        hit = page.evaluate(f"document.elementFromPoint({x}, {y}).getAttribute('class')")
        assert "mdt-hub" in hit, hit
    # the travel layer hatches the three areas beyond the limit (not colour alone)
    beyond = page.locator("path.mdt-area-travel.mdt-beyond")
    assert beyond.count() == 3
    assert beyond.first.get_attribute("fill") == "url(#mdt-hatch-beyond)"
    # every hub labelled (no label hidden at this zoom for three hubs far apart)
    labels = page.locator(".mdt-hub-label")
    assert sorted(labels.all_inner_texts()) == sorted(results.hubs["name"])

    # zoom: the grid fills the view at the least zoom; street level at most
    zooms = page.evaluate(f"[window['{var}'].getZoom(), window['{var}'].getMinZoom(), "
                          f"window['{var}'].getMaxZoom()]")
    assert zooms[2] == 17 and zooms[0] - 0.5 <= zooms[1] <= zooms[0], zooms

    # search: a hub by part of its name; the map moves to it and opens its pop-up
    search = page.get_by_label("Find a hub")
    search.fill("three")
    search.press("Enter")
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_contain_text("Hub Three")
    # zoomed in on it (the pop-up may pan the map a little to fit)
    near = page.evaluate(f"""() => {{ const m = window['{var}'];
        return [m.getZoom(), m.getBounds().pad(-0.2).contains([51.25, 0.52])]; }}""")
    assert near[0] >= 12 and near[1], near
    search.fill("nowhere")
    page.get_by_role("button", name="Go").click()
    expect(page.locator(".mdt-find-msg")).to_contain_text("No hub matches")

    # today's configuration
    control.get_by_text("Breaches: today").click()
    page.wait_for_selector("path.mdt-breach-today")
    assert page.locator("path.mdt-breach-today").count() == 3  # 2 beyond, 1 unreached
    assert "Breaches: today" in _legend_layers(page)
    assert_accessible(page, "the map, layers on")
    page.screenshot(path=str(tmp_path / "planner.png"))

    # keyboard: from the top of the page the layer control is a few Tab presses away, and
    # the area shapes are no tab stops
    page.goto(path.as_uri())
    page.wait_for_selector("path.mdt-hub")
    presses, inside = 0, False
    while not inside and presses < 15:
        page.keyboard.press("Tab")
        presses += 1
        inside = page.evaluate("!!document.activeElement.closest('.leaflet-control-layers')")
    assert inside and presses <= 12, presses
    assert page.locator("path.mdt-area[tabindex='0']").count() == 0
    legend_button = page.get_by_role("button", name="Legend")
    legend_button.focus()
    page.keyboard.press("Enter")
    assert legend_button.get_attribute("aria-expanded") == "false"
    assert_accessible(page, "the map, legend closed")
    assert errors == [] and outside == []
    page.close()


def test_map_at_390_px(browser, tmp_path):
    """On a phone-sized screen the legend and layer list start collapsed and cover little."""
    from a11y import assert_accessible

    results, inputs = small_plan()
    path = draw_map(results, inputs, tmp_path / "map.html")
    page = browser.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    errors, outside = watch(page)
    page.goto(path.as_uri())
    page.wait_for_selector("path.mdt-hub")
    button = page.get_by_role("button", name="Legend")
    assert button.get_attribute("aria-expanded") == "false"
    assert page.locator(".mdt-legend-body").is_hidden()
    legend = page.locator(".mdt-legend").bounding_box()
    area = page.locator(".leaflet-container").bounding_box()
    assert legend["width"] * legend["height"] < 0.25 * area["width"] * area["height"]
    assert page.locator(".leaflet-control-layers-expanded").count() == 0
    page.screenshot(path=str(tmp_path / "map-390.png"))
    button.click()
    assert page.locator(".mdt-legend-body").is_visible()
    assert_accessible(page, "the map at 390 px")
    assert errors == [] and outside == []
    page.close()

"""The map as a person sees it: headless Debian Chromium (Playwright), outside hosts blocked.

Needs /usr/bin/chromium (CI: ``apt-get install chromium``) and the ``playwright`` Python package
(no ``playwright install``: the system Chromium is used). Skips locally without them; fails on CI.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
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
        reason = "browser test needs " + " and ".join(missing)
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)


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

"""A planner uploads real Kent files in headless Debian Chromium, maps columns and solves.

From ``../shared/data/kent`` (as ``examples/kent.yaml`` uses them): the MSOA boundaries
(GeoPackage, layer ``msoa11``), their mid-2020 populations (a CSV joined on the MSOA code) and
the GP practices (a CSV with easting and northing). The planner checks the guessed columns,
keeps Kent County Council's rows (``in_kcc``), picks the Kent operating model, raises a
social worker's cost, makes one practice a required site, sees the live check pass, runs with a
20 s limit and one thread, and reaches the result page's "Demand met". Every page is checked
with axe-core; screenshots go to ``/tmp/upload-shots/``. Needs Chromium and Playwright as
test_browser.py does, and the shared data (fails without it, as every shared-data test does).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from a11y import assert_accessible
from service_helpers import LiveServer, docs_picture
from test_browser import _need_browser, chromium_context, watch

SHOTS = Path("/tmp/upload-shots")
pytestmark = pytest.mark.slow  # a 20 s Kent solve, and Chromium around it


@pytest.fixture(scope="module")
def kent(shared_data) -> Path:
    folder = shared_data / "kent"
    files = ("kent_msoa11_bgc.gpkg", "kent_msoa11_population_mid2020.csv",
             "kent_gp_practices.csv")
    missing = [f for f in files if not (folder / f).is_file()]
    if missing:
        pytest.fail(f"Kent files missing from {folder}: {missing}")
    return folder


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    _need_browser()
    server = LiveServer(tmp_path_factory.mktemp("live-upload"), workers=1,
                        progress_interval_s=0.5)
    server.start()
    try:
        server.planner = server.key("planner")
        yield server
    finally:
        server.stop()


def _shot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path


def test_planner_uploads_kent_files_maps_columns_and_solves(live, kent, tmp_path):
    with chromium_context(tmp_path / "profile", (1280, 900)) as context:
        page = context.new_page()
        errors, outside = watch(page)
        page.goto(f"{live.url}/scenarios/new")
        page.fill("input[name=key]", live.planner)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live.url}/scenarios/new")

        page.get_by_role("link", name="upload your own data").click()
        page.wait_for_url(f"{live.url}/scenarios/new/upload")
        assert page.title() == "Upload your own data · mdtplan"
        assert_accessible(page, "upload page")
        page.get_by_label("Small areas").set_input_files(kent / "kent_msoa11_bgc.gpkg")
        page.get_by_label("A table joined to the areas (optional)").set_input_files(
            kent / "kent_msoa11_population_mid2020.csv")
        page.get_by_label("Candidate sites").set_input_files(kent / "kent_gp_practices.csv")
        _shot(page, "1-upload")
        page.get_by_role("button", name="Upload and continue").click()
        page.wait_for_url(re.compile(r".*/scenarios/new/mapping\?.*"))

        # the operating model first (the page is drawn again for its roles)
        page.get_by_label("Operating model").select_option("kent-local-care")
        page.get_by_role("button", name="Show this layer and model").click()
        page.wait_for_url(re.compile(r".*model=kent-local-care.*"))
        assert page.title() == "Map your columns · mdtplan"
        main = page.locator("main").inner_text()
        assert "220 rows in layer msoa11" in main and "MultiPolygon" in main
        assert "First 10 rows of kent_msoa11_bgc.gpkg" in main
        assert "First 10 rows of kent_gp_practices.csv" in main
        first = page.locator("table.mdt-preview").first.inner_text()
        assert "E02003314\tMedway 001" in first  # the file's first row
        # the guesses from the column names: what examples/kent.yaml maps by hand
        example = yaml.safe_load((Path(__file__).resolve().parents[1] / "examples"
                                  / "kent.yaml").read_text())
        assert page.locator("#areas-id").input_value() == example["areas"]["id"]
        assert page.locator("#areas-name").input_value() == example["areas"]["name"]
        assert page.locator("#areas-group").input_value() == example["areas"]["group"]
        for band, column in example["areas"]["population"].items():
            assert page.locator(f"#areas-population-{band}").input_value() == column
        assert page.locator("#areas-total").input_value() == example["areas"]["headcount"]
        assert page.locator("#areas_table-id").input_value() == "msoa11_code"
        assert page.locator("#sites-id").input_value() == example["sites"]["id"]
        assert page.locator("#sites-name").input_value() == example["sites"]["name"]
        assert (page.locator("#sites-coords-x").input_value(),
                page.locator("#sites-coords-y").input_value(),
                page.locator("#sites-crs").input_value()) == ("easting", "northing",
                                                              "EPSG:27700")
        assert page.locator("#sites-status").input_value() == ""  # the file has none

        # Kent County Council only (Medway is its own council)
        for part in ("areas", "sites"):
            page.locator(f"#{part}-where-column").select_option("in_kcc")
            page.locator(f"#{part}-where-value").fill("True")
        page.get_by_label("Scenario name").fill("Kent from uploaded files")
        page.get_by_label("Smallest hub population").fill("30000")
        page.get_by_label("Largest hub population").fill("50000")
        page.get_by_label("Time limit (seconds)").fill("20")
        sw = page.get_by_label("Cost per FTE of Social worker (£ a year)")
        assert sw.input_value() != ""
        sw.fill("60000")
        statuses = page.get_by_label(re.compile(r"^Status of .*"))
        assert statuses.count() == 182  # every practice in the file (the filter applies on Run)
        page.locator("input[value=G82052]").locator("xpath=..").locator("select").select_option(
            "required")

        # the live check: a bad cap is named beside its field, then cleared
        cap = page.get_by_label("Budget cap (£ per year)")
        cap.fill("lots")
        cap.press("Tab")
        problem = page.locator("#budget_cap-error")
        problem.wait_for(state="visible", timeout=30_000)
        assert "'lots' is not a number" in problem.inner_text()
        assert page.locator("#check-problems").get_attribute("aria-live") == "polite"
        focused = page.evaluate("document.activeElement.id")
        assert focused != "budget_cap" and focused != ""  # Tab moved on; nothing took focus
        _shot(page, "2-mapping-problem")
        cap.fill("")
        cap.press("Tab")
        page.locator("#check-problems", has_text="No problems found").wait_for(timeout=60_000)
        assert problem.is_hidden()
        assert_accessible(page, "mapping page")
        _shot(page, "3-mapping")
        docs_picture(page, "mapping")

        page.get_by_role("button", name="Run").click()
        page.wait_for_url(re.compile(r".*/scenarios/sc_[0-9a-f]+$"), timeout=60_000)
        job_id = urlsplit(page.url).path.rsplit("/", 1)[1]
        assert "the operating model's costs per FTE and the sites' status" in page.locator(
            "main").inner_text()
        assert_accessible(page, "progress page")
        _shot(page, "4-progress")
        figure = page.locator("figure", has=page.locator("figcaption", has_text="Demand met"))
        figure.wait_for(timeout=180_000)
        share = figure.locator(".mdt-figure__value").inner_text()
        assert re.fullmatch(r"\d+(\.\d)?%", share), share
        assert_accessible(page, "result page", exclude=["iframe"])
        _shot(page, "5-result")
        assert errors == [], errors
        assert outside == []

    with live.client(live.planner) as c:
        job = c.get(f"/v1/scenarios/{job_id}").json()
    assert job["status"] == "finished", job
    assert job["summary"]["hubs_open"] > 0
    with live.client(live.planner) as c:
        result = c.get(f"/v1/scenarios/{job_id}/result").json()
    areas = {a["area_id"] for a in result["assignment"]}
    assert len(areas) == 182  # KCC's MSOAs only
    assert "G82052" in {h["site_id"] for h in result["hubs"]}  # made required: open

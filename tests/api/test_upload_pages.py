"""The new-scenario pages for the planner's own files, in process: upload, the mapping page
(layers, first rows, guessed columns), problems beside the field at fault, the editable
tables (a role's cost, a site's status) stored as edited copies, and the live check.
(In Chromium with Kent's files: tests/test_browser_upload.py.)"""

from __future__ import annotations

import io
import re
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest
import yaml
from service_helpers import GEODATA, REPO, make_service

DEMO = ("demo_areas.gpkg", "demo_sites.csv", "demo_workforce.csv")
PARTS = {"demo_areas.gpkg": "areas", "demo_sites.csv": "sites",
         "demo_workforce.csv": "workforce"}


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _selected(html: str, name: str) -> str | None:
    """The selected option of the select ``name`` (``None`` when none is)."""
    block = re.search(rf'<select[^>]* id="{re.escape(name)}"[^>]*>(.*?)</select>', html, re.S)
    assert block, f"no select {name}"
    hit = re.search(r'<option value="([^"]*)" selected', block.group(1))
    return hit.group(1) if hit else None


def _form(html: str, action: str) -> dict[str, str]:
    """The values a browser would send from the form posting to ``action`` (as shown)."""
    form = re.search(rf'<form method="post" action="{re.escape(action)}".*?</form>', html, re.S)
    assert form, f"no form to {action}"
    text = form.group(0)
    out: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", text):
        name = re.search(r'name="([^"]+)"', tag)
        if not name:
            continue
        kind = (re.search(r'type="([^"]+)"', tag) or [None, "text"])[1]
        value = re.search(r'value="([^"]*)"', tag)
        value = value.group(1).replace("&#39;", "'").replace("&amp;", "&") if value else ""
        if kind in ("checkbox", "radio") and " checked" not in tag:
            continue
        out[name.group(1)] = value
    for name in re.findall(r'<select[^>]* name="([^"]+)"', text):
        out[name] = _selected(text, name) or ""
    return out


def _error(html: str, name: str) -> str:
    """The text of a field's error slot ('' when hidden)."""
    slot = re.search(rf'<p class="govuk-error-message" id="{re.escape(name)}-error"([^>]*)>(.*?)</p>',
                     html, re.S)
    assert slot, f"no error slot for {name}"
    if "hidden" in slot.group(1):
        return ""
    return re.sub(r"<span[^>]*>Error:</span>|<[^>]+>", "", slot.group(2)).strip()


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    return make_service(tmp_path_factory.mktemp("uploads"))


@pytest.fixture(scope="module")
def planner(service):
    with service.client() as c:
        r = c.post("/signin", data={"key": service.keys["planner"], "next": "/"},
                   follow_redirects=False)
        assert r.status_code == 303
        yield c


@pytest.fixture(scope="module")
def mapped(planner):
    """The demo files uploaded through the page: the mapping page and its address."""
    page = planner.get("/scenarios/new/upload")
    assert page.status_code == 200
    files = {f"{PARTS[n]}-file": (n, (GEODATA / n).read_bytes()) for n in DEMO}
    r = planner.post("/scenarios/new/upload", data={"csrf_token": _token(page.text)},
                     files=files, follow_redirects=False)
    assert r.status_code == 303, r.text
    url = r.headers["location"]
    assert urlsplit(url).path == "/scenarios/new/mapping"
    page = planner.get(url)
    assert page.status_code == 200
    return url, page.text


def test_new_scenario_page_links_to_upload(planner):
    page = planner.get("/scenarios/new")
    assert 'href="/scenarios/new/upload"' in page.text
    upload = planner.get("/scenarios/new/upload").text
    for part in ("areas", "sites", "workforce", "travel", "areas_table"):
        assert f'id="{part}-file" name="{part}-file"' in upload and 'type="file"' in upload
    assert 'enctype="multipart/form-data"' in upload


def test_upload_stores_datasets_and_maps_columns_with_a_preview(service, mapped):
    url, html = mapped
    ids = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert set(ids) == {"areas", "sites", "workforce"}
    stored = {p: service.store.get_dataset(i) for p, i in ids.items()}
    assert stored["areas"].filename == "demo_areas.gpkg" and stored["areas"].format == "gpkg"
    assert stored["sites"].format == "csv"
    # the layer list: the GeoPackage's one layer, with its rows
    assert "358 rows in layer areas" in html and "MultiPolygon" in html
    # a preview of the first rows, read from the file
    import geopandas as gpd

    first = gpd.read_file(GEODATA / "demo_areas.gpkg", rows=10)
    caption = re.search(r"First (\d+) rows of demo_areas.gpkg", html)
    assert caption and caption.group(1) == "10"
    for code in first["area_code"]:
        assert f">{code}<" in html
    sites = pd.read_csv(GEODATA / "demo_sites.csv", nrows=10, dtype=str)
    assert f">{sites['name'][0]}<" in html.replace("&#34;", '"')
    # guesses from the column names: what examples/demo.yaml maps by hand
    demo = yaml.safe_load((REPO / "examples" / "demo.yaml").read_text())
    assert _selected(html, "areas-id") == demo["areas"]["id"]
    assert _selected(html, "areas-name") == demo["areas"]["name"]
    assert _selected(html, "areas-group") == demo["areas"]["group"]
    assert _selected(html, "areas-deprivation") == demo["areas"]["deprivation"]
    for band, column in demo["areas"]["population"].items():
        assert _selected(html, f"areas-population-{band}") == column
    assert _selected(html, "areas-total") is None
    for key in ("id", "name", "status", "fixed_cost", "capacity_fte"):
        assert _selected(html, f"sites-{key}") == demo["sites"][key]
    assert _selected(html, "sites-coords-x") == demo["sites"]["coords"]["x"]
    assert _selected(html, "sites-coords-y") == demo["sites"]["coords"]["y"]
    assert _selected(html, "sites-crs") == demo["sites"]["coords"]["crs"]
    for key in ("unit", "role", "fte", "contract"):
        assert _selected(html, f"workforce-{key}") == demo["workforce"][key]
    # the operating model's roles and the sites' status, editable
    assert 'name="cost-1"' in html and "Social worker" in html
    assert html.count('<select class="govuk-select" id="site-') == 40


def test_guesses_for_ons_codes():
    from api.web.mapping import guess

    g = guess("areas", ["FID", "LSOA21CD", "LSOA21NM", "LAD22NM", "pop_total", "pop_18_64"])
    assert (g["id"], g["name"], g["group"]) == ("LSOA21CD", "LSOA21NM", "LAD22NM")
    assert g["population.age_18_64"] == "pop_18_64" and g["total"] == "pop_total"
    s = guess("sites", ["practice_code", "practice_name", "lat", "lon"])
    assert (s["id"], s["coords.x"], s["coords.y"], s["crs"]) == (
        "practice_code", "lon", "lat", "EPSG:4326")


def test_a_bad_file_is_named_beside_its_field(planner):
    page = planner.get("/scenarios/new/upload")
    files = {"areas-file": ("areas.gpkg", b"this is not a GeoPackage at all"),
             "sites-file": ("demo_sites.csv", (GEODATA / "demo_sites.csv").read_bytes()),
             "travel-file": ("travel.xlsx", b"PK\x03\x04 spreadsheet")}
    r = planner.post("/scenarios/new/upload", data={"csrf_token": _token(page.text)},
                     files=files, follow_redirects=False)
    assert r.status_code == 422
    areas = _error(r.text, "areas-file")
    assert "cannot read 'areas.gpkg' as a GeoPackage" in areas.replace("&#39;", "'")
    assert "is not a format mdtplan reads" in _error(r.text, "travel-file")
    assert _error(r.text, "sites-file") == ""  # stored, and kept for the next try
    assert 'name="sites-kept" value="ds_' in r.text and "Uploaded: <strong>demo_sites.csv" in r.text
    assert '<a href="#areas-file">' in r.text  # the summary links to the field


def test_without_a_token_the_upload_is_refused(planner):
    r = planner.post("/scenarios/new/upload",
                     files={"areas-file": ("a.csv", b"a,b\n1,2\n")}, follow_redirects=False)
    assert r.status_code == 403


def _run(planner, html: str, changes: dict[str, str]):
    data = {**_form(html, "/scenarios/new/mapping"), **changes}
    return planner.post("/scenarios/new/mapping", data=data, follow_redirects=False)


def _role_field(html: str, role_id: str) -> str:
    return re.search(rf'name="(cost-\d+)-role" value="{role_id}"', html).group(1)


def _site_field(html: str, site_id: str) -> str:
    return re.search(rf'name="(site-\d+)-id" value="{site_id}"', html).group(1)


def test_run_with_an_edited_cost_stores_a_model_changed_only_there(service, planner, mapped):
    from mdtplan.resources import find_operating_model

    _, html = mapped
    field = _role_field(html, "social_worker")
    r = _run(planner, html, {field: "61,500", "time_limit": "15", "name": "uploaded demo"})
    assert r.status_code == 303, re.findall(r'<li><a href="#[^"]+">.*?</a>', r.text)
    job = service.store.get_job(r.headers["location"].rsplit("/", 1)[1])
    doc = job.scenario
    assert doc["name"] == "uploaded demo" and doc["solver"]["time_limit_s"] == 15
    assert doc["areas"]["id"] == "area_code" and doc["areas"]["layer"] == "areas"
    assert doc["sites"]["coords"] == {"x": "easting", "y": "northing", "crs": "EPSG:27700"}
    model = service.store.get_dataset(doc["operating_model"])
    assert model.format == "yaml" and model.filename == "default.edited.yaml"
    before_text = open(find_operating_model("default"), encoding="utf-8").read()
    after_text = open(model.path, encoding="utf-8").read()
    before, after = yaml.safe_load(before_text), yaml.safe_load(after_text)
    assert before != after
    sw = next(r for r in after["roles"] if r["id"] == "social_worker")
    assert sw["cost_gbp_per_fte"] == 61500
    sw["cost_gbp_per_fte"] = next(r for r in before["roles"]
                                  if r["id"] == "social_worker")["cost_gbp_per_fte"]
    assert after == before  # nothing else changed
    # the text too: the same lines (every source comment kept) but that one
    diff = [(a, b) for a, b in zip(before_text.splitlines(), after_text.splitlines(),
                                   strict=True) if a != b]
    assert len(diff) == 1 and "61500" in diff[0][1] and "#" in diff[0][1]
    # the sites were not edited: the uploaded file is named as it was
    assert doc["sites"]["path"] == parse_qs(urlsplit(mapped[0]).query)["sites"][0]
    page = planner.get(f"/scenarios/{job.id}")
    assert "the operating model&#39;s costs per FTE" in page.text and ">edited</strong> Changed" in page.text


def test_run_with_an_edited_status_stores_a_csv_changed_only_there(service, planner, mapped):
    _, html = mapped
    field = _site_field(html, "S02")
    assert _selected(html, field) == "candidate"
    r = _run(planner, html, {field: "excluded"})
    assert r.status_code == 303, re.findall(r'<li><a href="#[^"]+">.*?</a>', r.text)
    doc = service.store.get_job(r.headers["location"].rsplit("/", 1)[1]).scenario
    assert doc["operating_model"] == "default"  # no cost changed: the bundled model
    sites = service.store.get_dataset(doc["sites"]["path"])
    assert sites.filename == "demo_sites.edited.csv" and doc["sites"]["status"] == "status"
    before = pd.read_csv(GEODATA / "demo_sites.csv", dtype=str, keep_default_na=False)
    after = pd.read_csv(sites.path, dtype=str, keep_default_na=False)
    assert list(after.columns) == list(before.columns) and after.shape == before.shape
    differs = before != after
    assert differs.to_numpy().sum() == 1
    assert after.loc[after["site_id"] == "S02", "status"].item() == "excluded"


def test_a_missing_column_is_named_beside_its_select(planner, mapped):
    _, html = mapped
    r = _run(planner, html, {"areas-id": "", "sites-coords-y": ""})
    assert r.status_code == 422
    assert "choose the column that holds the area code" in _error(r.text, "areas-id")
    assert "both coordinate columns" in _error(r.text, "sites-coords-x")
    assert _selected(r.text, "areas-name") == "area_name"  # the planner's choices kept


def test_a_file_problem_names_file_row_and_column(planner, mapped):
    """A column mapped to the wrong kind of values: the loader's problem, as ``mdtplan
    validate`` gives it, beside the select of that column."""
    _, html = mapped
    r = _run(planner, html, {"areas-population-age_18_64": "area_name"})
    assert r.status_code == 422
    message = _error(r.text, "areas-population-age_18_64")
    # file, row, column: what is wrong -> what to do (the stored copy named as uploaded)
    assert message.startswith("demo_areas.gpkg, DEMO0001 and 357 more, column &#39;area_name&#39;: "
                              "358 areas with a value that is not a number"), message
    assert "-&gt; write a plain number" in message and "ds_" not in message
    assert _error(r.text, "areas-name") == ""


def _check(planner, data):
    r = planner.post("/scenarios/new/check", data=data)
    assert r.status_code == 200
    return r.text


def test_check_names_a_bad_cap_beside_its_field(planner):
    page = planner.get("/scenarios/new?from=example:demo").text
    assert 'hx-post="/scenarios/new/check"' in page and 'aria-live="polite"' in page
    assert 'hx-trigger="change delay:500ms"' in page
    form = _form(page, "/scenarios/new")
    text = _check(planner, {**form, "budget_cap": "lots"})
    assert "Budget cap (£ per year): &#39;lots&#39; is not a number" in _error(text, "budget_cap")
    assert 'id="budget_cap-error" hx-swap-oob="true"' in text
    assert '<a href="#budget_cap">' in text
    assert _error(text, "travel_limit") == ""  # others cleared
    text = _check(planner, {**form, "budget_cap": "-5"})
    assert "greater than or equal to 0" in _error(text, "budget_cap")
    ok = _check(planner, form)
    assert "No problems found" in ok and "358 areas, 40 sites" in ok
    assert _error(ok, "budget_cap") == ""


def test_check_of_the_mapping_form_checks_the_files(planner, mapped):
    _, html = mapped
    form = _form(html, "/scenarios/new/mapping")
    assert "No problems found" in _check(planner, form)
    text = _check(planner, {**form, "areas-id": "", _role_field(html, "care_navigator"): "0"})
    assert "area code" in _error(text, "areas-id")
    assert "above £0" in _error(text, _role_field(html, "care_navigator"))


def test_example_start_edits_a_cost(service, planner):
    page = planner.get("/scenarios/new?from=example:demo").text
    field = _role_field(page, "team_manager")
    data = {**_form(page, "/scenarios/new"), field: "70000"}
    r = planner.post("/scenarios/new", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text[-2000:]
    doc = service.store.get_job(r.headers["location"].rsplit("/", 1)[1]).scenario
    model = service.store.get_dataset(doc["operating_model"])
    roles = {r["id"]: r for r in yaml.safe_load(open(model.path))["roles"]}
    assert roles["team_manager"]["cost_gbp_per_fte"] == 70000


def test_edit_model_costs_falls_back_to_a_whole_copy(tmp_path):
    from api.filework import edit_model_costs

    path = tmp_path / "flow.yaml"
    path.write_text("name: m\nroles: [{id: a, name: A, cost_gbp_per_fte: 5}]\n")
    out = yaml.safe_load(io.StringIO(edit_model_costs(str(path), {"a": 7})))
    assert out == {"name": "m", "roles": [{"id": "a", "name": "A", "cost_gbp_per_fte": 7}]}


def test_preview_reads_zipped_shapefile_and_geoparquet(tmp_path):
    """The first rows of the other geodata formats the upload page takes, without geometry."""
    import zipfile

    import geopandas as gpd

    from api.filework import preview

    areas = gpd.read_file(GEODATA / "demo_areas.gpkg", rows=30)[["area_code", "pop_18_64",
                                                                 "geometry"]]
    areas.to_parquet(tmp_path / "areas.parquet")
    areas.to_file(tmp_path / "areas.shp")
    with zipfile.ZipFile(tmp_path / "areas.zip", "w") as z:
        for part in tmp_path.glob("areas.*"):
            if part.suffix != ".zip":
                z.write(part, part.name)
    for path, fmt in ((tmp_path / "areas.parquet", "parquet"), (tmp_path / "areas.zip",
                                                                 "shp-zip")):
        got = preview(str(path), fmt, None)
        assert got["columns"] == ["area_code", "pop_18_64"], fmt
        assert len(got["rows"]) == 10
        assert [r[0] for r in got["rows"]] == list(areas["area_code"][:10]), fmt

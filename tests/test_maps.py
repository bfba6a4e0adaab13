"""Maps: self-contained offline HTML, layers, escaping (fast, no browser; see test_browser.py)."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from mdtplan.outputs.maps import PALETTE, draw_dual_map, draw_map, hub_colours
from mdtplan.results import Results, Summary

EVIL = "<script>alert(1)</script>"
TEMPLATE_BREAK = "`${alert(2)}`\\u"


def small_plan(*, evil: str = EVIL, pools: bool = True):
    """A 4 x 3 grid of 2 km squares (EPSG:27700, in Kent), three hubs, two pools (West/East).

    Returns ``(results, inputs)``; hub S1's name is ``evil``, area A00's name breaks template
    literals if not escaped.
    """
    cells, rows = [], []
    for i in range(4):
        for j in range(3):
            aid = f"A{i}{j}"
            x, y = 570000 + 2000 * i, 150000 + 2000 * j
            cells.append(box(x, y, x + 2000, y + 2000))
            rows.append({"area_id": aid, "name": TEMPLATE_BREAK if aid == "A00" else f"Area {aid}",
                         "population": 1000.0 + 10 * i + j, "group": "West" if i < 2 else "East"})
    areas = gpd.GeoDataFrame(pd.DataFrame(rows).set_index("area_id"), geometry=cells,
                             crs="EPSG:27700")
    hub_of = {a: ("S1" if a[1] in "01" and a[2] != "2" else "S2" if a[1] in "01" else "S3")
              for a in areas.index}
    assignment = pd.DataFrame({"area_id": list(hub_of), "site_id": list(hub_of.values()),
                               "share": 1.0, "travel_cost": 5.0})
    hubs = pd.DataFrame({
        "site_id": ["S1", "S2", "S3"], "name": [evil, "Hub Two", "Hub Three"],
        "lon": [0.455, 0.455, 0.52], "lat": [51.235, 51.27, 51.25],
        "population": [8000.0, 4000.0, 12000.0], "areas": [4, 2, 6],
        "utilisation": [0.9, 0.5, 1.0], "fte": [12.5, 6.0, 18.0],
        "status": ["existing", "candidate", "candidate"], "pool": pd.NA, "site_cost": 0.0})
    staffing = pd.DataFrame({
        "unit": ["S1", "S1", "S2", "S2", "S3", "S3"],
        "role": ["social_worker", "care_navigator"] * 3,
        "fte": [9.5, 3.0, 4.5, 1.5, 14.0, 4.0], "agency_fte": 0.0,
        "demand_hours": [100.0, 50.0, 100.0, 50.0, 100.0, 50.0],
        "capacity_hours": 100.0, "unmet_hours": [0.0, 0.0, 8.0, 0.0, 20.0, 5.0],
        "cost": 1.0})
    summary = Summary.from_dict(dict(
        name="small & <plan>", status="optimal", objective=1.0, objective_name="min_cost",
        mip_gap=0.0, solve_seconds=0.1, total_cost=1.0, staff_cost=1.0, agency_cost=0.0,
        site_cost=0.0, cost_by_role={}, budget_cap=None, demand_hours=450.0,
        demand_met_share=0.93, unmet_hours_by_role={}, fte_by_role={}, hubs_open=3,
        population_per_hub={}, travel={}, travel_unit="minutes"))
    roles = [SimpleNamespace(id="social_worker", name="Social worker (registered)"),
             SimpleNamespace(id="care_navigator", name="Care navigator")]
    om = SimpleNamespace(pools=SimpleNamespace(by="area_group" if pools else "single",
                                               groups=None), roles=roles)
    inputs = SimpleNamespace(areas=areas, operating_model=om)
    return Results(hubs, assignment, staffing, summary), inputs


def _outside_fetches(text: str) -> list[str]:
    """Tags that would load something from another host (src=/href= on http(s) or //)."""
    return re.findall(r"""<(?:script|link|img|iframe)\b[^>]*(?:src|href)\s*=\s*["']?(?:https?:)?//""",
                      text, flags=re.I)


@pytest.fixture(scope="module")
def plan():
    return small_plan()


@pytest.fixture(scope="module")
def map_text(plan, tmp_path_factory):
    path = draw_map(*plan, tmp_path_factory.mktemp("map") / "map.html")
    return path.read_text(encoding="utf-8")


def test_map_is_self_contained(map_text):
    assert not _outside_fetches(map_text)
    assert "<script src" not in map_text and "<link" not in map_text
    # the only http(s) src/href attributes are Leaflet's own attribution link (an <a>)
    for m in re.finditer(r"""(?:src|href)=["']https?://([^"'/]+)""", map_text):
        assert m.group(1) == "leafletjs.com", m.group(0)
    for lib in ("jquery", "bootstrap", "awesome-markers", "fontawesome", "cdn."):
        assert lib not in map_text.lower(), lib
    assert "L.Map.prototype" in map_text or "window.L" in map_text  # Leaflet inlined
    assert "fullscreen-icon" in map_text  # plugin inlined
    # the one online resource is the optional basemap, off by default
    urls = set(re.findall(r'"(https?://[^"]*\{z\}[^"]*)"', map_text))
    assert urls == {"https://tile.openstreetmap.org/{z}/{x}/{y}.png"}


def test_map_layers_and_legend(map_text):
    for name in ("Areas by hub", "Share of demand met", "Specialist pools", "Hubs"):
        assert f'"{name}"' in map_text or name in map_text, name
    assert "Basemap (OpenStreetMap, online)" in map_text
    assert "mdt-legend" in map_text and "L.control.scale" in map_text
    assert "L.control.fullscreen" in map_text
    assert map_text.count("mdt-hub") >= 3


def test_user_strings_are_escaped(map_text):
    assert EVIL not in map_text
    assert "alert(1)" in map_text  # present, but only as escaped text
    assert "${alert(2)}" not in map_text and "`${" not in map_text
    assert "small &amp; &lt;plan&gt;" in map_text or "small \\u0026amp;" in map_text


def test_no_pool_layer_without_pools(tmp_path):
    text = draw_map(*small_plan(pools=False), tmp_path / "m.html").read_text(encoding="utf-8")
    assert "Specialist pools" not in text and "Areas by hub" in text


def test_hub_colours_touching_hubs_differ(plan):
    results, inputs = plan
    colours = hub_colours(inputs.areas, results.assignment)
    assert set(colours) == {"S1", "S2", "S3"}
    assert len(set(colours.values())) == 3 and set(colours.values()) <= set(PALETTE)


def test_no_geometry_gives_no_map(plan, tmp_path):
    results, inputs = plan
    bare = SimpleNamespace(areas=inputs.areas.assign(geometry=None),
                           operating_model=inputs.operating_model)
    assert draw_map(results, bare, tmp_path / "m.html") is None


def test_dual_map_is_self_contained(plan, tmp_path):
    results, inputs = plan
    text = draw_dual_map(results, inputs, results, inputs, tmp_path / "dual.html",
                         titles=("Option A", "Option B")).read_text(encoding="utf-8")
    assert not _outside_fetches(text) and "<script src" not in text
    assert ".sync(" in text and "Option A" in text and "Option B" in text
    assert EVIL not in text


def map_config(text: str) -> list[dict]:
    """The configuration each ``mdtMapUi`` call of a page receives (one per map pane)."""
    import json

    return [json.loads(m) for m in re.findall(r"mdtMapUi\(map_\w+, \{[^}]*\}, (\{.*\})\);",
                                             text)]


def ruled_plan(*, baseline: bool = True):
    """:func:`small_plan` with a travel limit of 10 minutes (areas A3x are 12 minutes from
    their hub), a band of 5,000 - 10,000 people (S2 below, S3 above) and, when asked, a
    baseline: today's site S1 serving every area (A30-A32 beyond the limit, 12,066 people:
    above the band) but A32, which no site reaches."""
    results, inputs = small_plan()
    assignment = results.assignment.copy()
    assignment["travel_cost"] = [12.0 if a.startswith("A3") else 5.0
                                 for a in assignment["area_id"]]
    summary = results.summary
    if baseline:
        doc = summary.to_dict()
        doc["baseline"] = {"name": "small (baseline)", "status": "optimal", "hubs_open": 1,
                           "sites": ["S1"], "unserved_areas": ["A32"], "travel_unit": "minutes"}
        summary = Summary.from_dict(doc)
    base = None
    if baseline:
        ids = [a for a in inputs.areas.index if a != "A32"]
        base = pd.DataFrame({"area_id": ids, "site_id": "S1", "share": 1.0,
                             "travel_cost": [12.0 if a.startswith("A3") else 4.0 for a in ids]})
    results = Results(results.hubs, assignment, results.staffing, summary,
                      baseline_assignment=base)
    sites = pd.DataFrame({"name": ["Old Town Hall", "Hub Two", "Hub Three"],
                          "lon": [0.455, 0.455, 0.52], "lat": [51.235, 51.27, 51.25]},
                         index=pd.Index(["S1", "S2", "S3"], name="site_id"))
    scenario = SimpleNamespace(
        hubs=SimpleNamespace(max_travel_minutes=10.0,
                             population=SimpleNamespace(min=5000.0, max=10000.0)),
        travel=SimpleNamespace(unit="minutes", speed_kmh=40.0))
    inputs = SimpleNamespace(areas=inputs.areas, operating_model=inputs.operating_model,
                             sites=sites, scenario=scenario)
    return results, inputs


def test_title_language_and_zoom(map_text):
    assert "<title>Map · small &amp; &lt;plan&gt; · mdtplan</title>" in map_text
    assert '<html lang="en-GB">' in map_text
    assert "user-scalable=no" not in map_text and "maximum-scale" not in map_text
    assert "var MAX_ZOOM = 17;" in map_text  # street level at most (map_ui.js)
    (config,) = map_config(map_text)
    (south, west), (north, east) = config["bounds"]
    assert 51.2 < south < north < 51.32 and 0.4 < west < east < 0.6  # the grid, in Kent
    assert config["back"] is None  # the command line's map has no link back


def test_layers_each_with_a_legend(map_text):
    (config,) = map_config(map_text)
    names = [layer["name"] for layer in config["layers"]]
    assert names == ["Areas by hub", "Share of demand met at the hub", "Travel time to hub",
                     "Breaches: plan", "Specialist pools", "Hubs"]  # no baseline, no teams
    shown = {layer["name"] for layer in config["layers"] if layer["show"]}
    assert shown == {"Areas by hub", "Specialist pools", "Hubs"}
    legend = {layer["name"]: layer["legend"] for layer in config["layers"]}
    assert all(legend.values())
    # demand met says it is the hub's share, in greys (no hub colour)
    assert "serving hub" in legend["Share of demand met at the hub"]
    greys = set(re.findall(r'fill="(#[0-9a-f]{6})"', legend["Share of demand met at the hub"]))
    assert greys and not greys & set(PALETTE)
    # every hub listed with its colour, not a few of many
    hub_rows = re.findall(r'fill="(#[0-9a-f]{6})"', legend["Areas by hub"])
    assert len(hub_rows) == 3 and set(hub_rows) <= set(PALETTE)
    assert [h["id"] for h in config["hubs"]] == ["S1", "S2", "S3"]
    # names are escaped in everything read as HTML; "search" is set as text only
    # (datalist values, aria-label), so it keeps the name as it is
    for hub in config["hubs"]:
        assert EVIL not in json.dumps({k: v for k, v in hub.items() if k != "search"})
    assert config["hubs"][0]["search"] == EVIL and "&lt;script&gt;" in config["hubs"][0]["label"]


def test_travel_and_breaches(tmp_path):
    results, inputs = ruled_plan()
    text = draw_map(results, inputs, tmp_path / "m.html").read_text(encoding="utf-8")
    (config,) = map_config(text)
    legend = {layer["name"]: layer["legend"] for layer in config["layers"]}
    assert "beyond the 10 min limit: 3 areas" in legend["Travel time to hub"]
    assert "url(#mdt-hatch-beyond)" in legend["Travel time to hub"]  # a pattern, not colour
    assert "3 areas beyond 10 min" in legend["Breaches: plan"]
    assert "2 hubs outside 5,000 – 10,000 people" in legend["Breaches: plan"]
    assert {h["id"]: h["outside"] for h in config["hubs"]} == {"S1": False, "S2": True,
                                                             "S3": True}
    # the plan breaks its rules here, so its breaches show at first
    assert [layer["show"] for layer in config["layers"]
            if layer["name"] == "Breaches: plan"] == [True]
    today = legend["Breaches: today"]
    assert "today's sites (1)" in today
    assert "2 areas beyond 10 min today" in today  # A30, A31 (A32 no site reaches)
    assert "1 sites outside 5,000 – 10,000 people" in today
    assert "1 areas no site reaches today" in today
    (site,) = config["today"]["sites"]
    served = inputs.areas["population"].drop("A32").sum()
    assert site["outside"] and f"{served:,.0f} people" in site["tooltip"]
    # the areas' flags the layers draw from (one GeoJSON feature per area)
    assert text.count('"beyond": true') == 3 and text.count('"base_beyond": true') == 2
    assert text.count('"base_unserved": true') == 1


def test_back_link_is_escaped(tmp_path):
    results, inputs = small_plan()
    text = draw_map(results, inputs, tmp_path / "m.html",
                    back_link=("/scenarios/abc", "Back to <the> scenario")).read_text("utf-8")
    (config,) = map_config(text)
    assert config["back"] == {"href": "/scenarios/abc", "text": "Back to &lt;the&gt; scenario"}


def test_dual_map_same_site_same_colour(tmp_path):
    results_a, inputs = small_plan()
    # plan B: S3's areas go to a new site S4, S1 keeps its own; S2 closes
    assign = results_a.assignment.copy()
    assign["site_id"] = assign["site_id"].replace({"S3": "S4", "S2": "S1"})
    hubs_b = results_a.hubs[results_a.hubs["site_id"] != "S2"].copy()
    hubs_b["site_id"] = hubs_b["site_id"].replace({"S3": "S4"})
    hubs_b["name"] = hubs_b["name"].replace({"Hub Three": "Hub Four"})
    staffing_b = results_a.staffing.assign(unit=results_a.staffing["unit"].replace(
        {"S3": "S4", "S2": "S1"}))
    results_b = Results(hubs_b, assign, staffing_b, results_a.summary)
    text = draw_dual_map(results_a, inputs, results_b, inputs,
                         tmp_path / "dual.html").read_text(encoding="utf-8")
    left, right = map_config(text)
    colour_a = {h["id"]: h["colour"] for h in left["hubs"]}
    colour_b = {h["id"]: h["colour"] for h in right["hubs"]}
    assert set(colour_a) == {"S1", "S2", "S3"} and set(colour_b) == {"S1", "S4"}
    assert colour_a["S1"] == colour_b["S1"]  # the same site, the same colour
    assert colour_b["S4"] not in (colour_a["S1"], colour_a["S2"], colour_a["S3"])
    assert [lay["name"] for lay in left["layers"]] == [lay["name"] for lay in right["layers"]]
    assert "<title>Compare · " in text


def test_baseline_assignment_round_trip(tmp_path):
    from mdtplan.outputs import read_result_dir, write_outputs

    results, _ = ruled_plan()
    write_outputs(results, tmp_path, map_html=False, workbook=False)
    back = read_result_dir(tmp_path)["baseline_assignment"]
    pd.testing.assert_frame_equal(back, results.baseline_assignment, check_dtype=False)

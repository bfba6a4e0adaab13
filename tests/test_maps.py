"""Maps: self-contained offline HTML, layers, escaping (fast, no browser; see test_browser.py)."""

from __future__ import annotations

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

"""Tests of mdtplan.inputs: formats, CRS, column mapping, checks, joins, filters, real data."""

from __future__ import annotations

import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import yaml
from shapely.geometry import Point, Polygon, box

from mdtplan.errors import InputError, Problem, ScenarioError
from mdtplan.inputs import BNG, Inputs, load_inputs, pool_names
from mdtplan.scenario import parse_scenario

# --------------------------------------------------------------------------------------------
# Fixture data: four small areas near Maidstone (EPSG:27700) and three sites.

AREA_IDS = ["00123", "E02000002", "E02000003", "E02000004"]
POP_18_64 = [1000, 2000, 1500, 500]
POP_65_PLUS = [300, 400, 250, 100]
GROUPS = ["A", "A", "B", "B"]
SITE_IDS = ["S1", "S2", "S3"]
SITE_XY = [(575_500.0, 155_500.0), (577_500.0, 155_500.0), (576_500.0, 157_500.0)]

OPERATING_MODEL = {
    "name": "tiny",
    "age_bands": ["age_18_64", "age_65_plus"],
    "roles": [
        {"id": "sw", "name": "Social worker", "kind": "core", "cost_gbp_per_fte": 50000,
         "productive_hours_per_fte": 1200},
        {"id": "ot", "name": "Occupational therapist", "kind": "specialist",
         "cost_gbp_per_fte": 45000, "productive_hours_per_fte": 1200},
    ],
    "pools": {"by": "single"},
    "demand": {"client_groups": [
        {"id": "older", "rate_per_1000": {"age_18_64": 10, "age_65_plus": 100},
         "hours_per_contact": {"sw": 2, "ot": 1}},
    ]},
}


def areas_frame() -> gpd.GeoDataFrame:
    squares = [box(575_000, 155_000, 576_000, 156_000), box(576_000, 155_000, 577_000, 156_000),
               box(575_000, 156_000, 576_000, 157_000), box(576_000, 156_000, 577_000, 157_000)]
    return gpd.GeoDataFrame({
        "code": AREA_IDS, "label": [f"Area {i}" for i in range(4)], "district": GROUPS,
        "pop_18_64": POP_18_64, "pop_65_up": POP_65_PLUS, "in_kcc": [True, True, True, False],
        "imd": [10.5, 20.0, 30.25, 5.0],
    }, geometry=squares, crs=BNG)


def sites_frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({
        "site_code": SITE_IDS, "site_name": ["Hub one", "Hub two", "Hub three"],
        "state": ["existing", "", "Candidate"], "cost": [1000.0, 2000.0, 0.0],
        "cap_fte": [10.0, 12.0, 8.0], "pool": ["east", "east", "west"],
    }, geometry=[Point(x, y) for x, y in SITE_XY], crs=BNG)


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    pd.DataFrame(frame).to_csv(path, index=False)
    return path


def write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def write_operating_model(tmp_path: Path, **changes) -> Path:
    path = tmp_path / "model.yaml"
    path.write_text(yaml.safe_dump({**OPERATING_MODEL, **changes}), encoding="utf-8")
    return path


def area_points_csv(tmp_path: Path, crs: str) -> Path:
    """The areas as a CSV of their representative points (lon/lat or easting/northing)."""
    gdf = areas_frame()
    points = gdf.representative_point()
    if crs == "EPSG:4326":
        points = points.to_crs(crs)
    frame = pd.DataFrame(gdf.drop(columns="geometry"))
    frame["px"] = [repr(v) for v in points.x]
    frame["py"] = [repr(v) for v in points.y]
    return write_csv(frame, tmp_path / f"areas_{crs.split(':')[1]}.csv")


def site_points_csv(tmp_path: Path, crs: str) -> Path:
    gdf = sites_frame()
    if crs == "EPSG:4326":
        gdf = gdf.to_crs(crs)
    frame = pd.DataFrame(gdf.drop(columns="geometry"))
    frame["px"] = [repr(v) for v in gdf.geometry.x]
    frame["py"] = [repr(v) for v in gdf.geometry.y]
    return write_csv(frame, tmp_path / f"sites_{crs.split(':')[1]}.csv")


def areas_cfg(path, **extra) -> dict:
    cfg = {"path": str(path), "id": "code",
           "population": {"age_18_64": "pop_18_64", "age_65_plus": "pop_65_up"}}
    cfg.update(extra)
    return cfg


def sites_cfg(path, **extra) -> dict:
    cfg = {"path": str(path), "id": "site_code"}
    cfg.update(extra)
    return cfg


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """The same areas and sites written as GeoPackage, GeoJSON, Shapefile, GeoParquet, CSV.

    Shared by the tests of this module: tests must not change these files.
    """
    tmp_path = tmp_path_factory.mktemp("formats")
    areas, sites = areas_frame(), sites_frame()
    out = {}
    out["areas_gpkg"] = tmp_path / "areas.gpkg"
    areas.to_file(out["areas_gpkg"], layer="areas", driver="GPKG")
    sites.to_file(out["areas_gpkg"], layer="sites", driver="GPKG")
    out["areas_geojson"] = tmp_path / "areas.geojson"
    areas.to_crs("EPSG:4326").to_file(out["areas_geojson"], driver="GeoJSON")
    out["areas_shp"] = tmp_path / "areas.shp"
    areas.to_file(out["areas_shp"])
    out["areas_parquet"] = tmp_path / "areas.parquet"
    areas.to_parquet(out["areas_parquet"])
    out["sites_gpkg"] = tmp_path / "sites.gpkg"
    sites.to_file(out["sites_gpkg"], layer="sites", driver="GPKG")
    out["sites_lonlat"] = site_points_csv(tmp_path, "EPSG:4326")
    out["sites_bng"] = site_points_csv(tmp_path, "EPSG:27700")
    return out


def load(tmp_path, areas: dict, sites: dict, **rest) -> Inputs:
    return load_inputs(parse_scenario({"areas": areas, "sites": sites, **rest},
                                      base_dir=tmp_path))


def problems_of(tmp_path, areas: dict, sites: dict, **rest) -> list[Problem]:
    with pytest.raises(InputError) as info:
        load(tmp_path, areas, sites, **rest)
    assert info.value.problems, "an InputError must carry problems"
    return info.value.problems


def errors_of(problems) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def only(problems, needle: str) -> Problem:
    hits = [p for p in problems if needle in p.message]
    assert hits, f"no problem mentions {needle!r}: {[str(p) for p in problems]}"
    return hits[0]


# --------------------------------------------------------------------------------------------
# Formats and CRS


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "shp", "parquet", "csv_lonlat", "csv_bng"])
def test_every_format_gives_the_same_canonical_tables(tmp_path, files, fmt):
    reference = load(tmp_path, areas_cfg(files["areas_gpkg"], layer="areas"),
                     sites_cfg(files["sites_gpkg"]))
    if fmt == "csv_lonlat":
        area = areas_cfg(area_points_csv(tmp_path, "EPSG:4326"),
                         coords={"x": "px", "y": "py", "crs": "EPSG:4326"})
        site = sites_cfg(files["sites_lonlat"], coords={"x": "px", "y": "py"})
    elif fmt == "csv_bng":
        area = areas_cfg(area_points_csv(tmp_path, "EPSG:27700"),
                         coords={"x": "px", "y": "py", "crs": "EPSG:27700"})
        site = sites_cfg(files["sites_bng"], coords={"x": "px", "y": "py", "crs": "EPSG:27700"})
    else:
        area = areas_cfg(files[f"areas_{fmt}"], **({"layer": "areas"} if fmt == "gpkg" else {}))
        site = sites_cfg(files["sites_gpkg"])
    got = load(tmp_path, area, site)
    assert list(got.areas.index) == AREA_IDS  # '00123' keeps its leading zeros
    assert got.areas.index.name == "area_id"
    np.testing.assert_array_equal(got.areas["population"],
                                  np.add(POP_18_64, POP_65_PLUS).astype(float))
    np.testing.assert_array_equal(got.areas["age_65_plus"], np.array(POP_65_PLUS, float))
    np.testing.assert_allclose(got.areas["x"], reference.areas["x"], atol=1.0)
    np.testing.assert_allclose(got.areas["y"], reference.areas["y"], atol=1.0)
    assert got.areas.crs.to_epsg() == 27700 and got.sites.crs.to_epsg() == 27700
    assert list(got.sites.index) == SITE_IDS
    np.testing.assert_allclose(got.sites[["x", "y"]].to_numpy(), np.array(SITE_XY), atol=1.0)
    np.testing.assert_allclose(got.sites["lat"], reference.sites["lat"], atol=1e-5)


def test_canonical_columns_and_optional_mappings(tmp_path, files):
    om = write_operating_model(tmp_path)
    got = load(tmp_path,
               areas_cfg(files["areas_gpkg"], layer="areas", name="label", group="district",
                         deprivation="imd", demand_override={"ot": "imd"}),
               sites_cfg(files["sites_gpkg"], name="site_name", status="state",
                         fixed_cost="cost", capacity_fte="cap_fte", pool="pool"),
               operating_model=str(om))
    areas, sites = got.areas, got.sites
    assert list(areas.columns) == ["age_18_64", "age_65_plus", "population", "name", "group",
                                   "deprivation", "demand_override__ot", "x", "y", "geometry"]
    assert list(areas["group"]) == GROUPS
    assert list(areas["name"]) == ["Area 0", "Area 1", "Area 2", "Area 3"]
    np.testing.assert_array_equal(areas["deprivation"], [10.5, 20.0, 30.25, 5.0])
    assert list(sites.columns) == ["name", "kind", "status", "fixed_cost_gbp", "opening_cost_gbp",
                                   "capacity", "capacity_fte", "pool", "x", "y", "lon", "lat",
                                   "geometry"]
    # blank status means candidate; status is case-insensitive
    assert list(sites["status"]) == ["existing", "candidate", "candidate"]
    assert list(sites["fixed_cost_gbp"]) == [1000.0, 2000.0, 0.0]
    assert list(sites["opening_cost_gbp"]) == [0.0, 0.0, 0.0]
    assert sites["capacity"].isna().all()
    assert got.operating_model is not None and got.operating_model.name == "tiny"
    assert got.travel is None and got.workforce is None
    # representative points lie inside their polygons
    points = gpd.GeoSeries(gpd.points_from_xy(areas["x"], areas["y"]), index=areas.index, crs=BNG)
    assert areas.geometry.contains(points).all()


def test_same_file_in_4326_and_27700_gives_same_xy(tmp_path):
    a27700, a4326 = tmp_path / "bng.gpkg", tmp_path / "wgs.gpkg"
    areas_frame().to_file(a27700, driver="GPKG")
    areas_frame().to_crs("EPSG:4326").to_file(a4326, driver="GPKG")
    site = sites_cfg(site_points_csv(tmp_path, "EPSG:4326"), coords={"x": "px", "y": "py"})
    one = load(tmp_path, areas_cfg(a27700), site)
    two = load(tmp_path, areas_cfg(a4326), site)
    np.testing.assert_allclose(one.areas[["x", "y"]], two.areas[["x", "y"]], atol=1.0)


def test_missing_crs_is_reported(tmp_path, files):
    path = tmp_path / "no_crs.shp"
    areas_frame().to_file(path)
    path.with_suffix(".prj").unlink()
    problem = only(problems_of(tmp_path, areas_cfg(path), sites_cfg(files["sites_gpkg"])),
                   "no CRS")
    assert problem.file == str(path) and problem.column == "areas.path"
    assert ".prj" in problem.hint


def test_unknown_layer_lists_the_layers(tmp_path, files):
    problem = only(problems_of(tmp_path, areas_cfg(files["areas_gpkg"], layer="area"),
                               sites_cfg(files["sites_gpkg"])), "no layer 'area'")
    assert problem.column == "areas.layer"
    assert "areas" in problem.hint and "sites" in problem.hint


def test_several_layers_need_a_layer(tmp_path, files):
    problem = only(problems_of(tmp_path, areas_cfg(files["areas_gpkg"]),
                               sites_cfg(files["sites_gpkg"])), "2 layers")
    assert problem.column == "areas.layer"


def test_csv_ids_stay_strings_and_csv_without_coords_needs_travel(tmp_path):
    frame = pd.DataFrame(areas_frame().drop(columns="geometry"))
    path = write_csv(frame, tmp_path / "areas.csv")
    sites = write_csv(pd.DataFrame(sites_frame().drop(columns="geometry")),
                      tmp_path / "sites.csv")
    problem = only(problems_of(tmp_path, areas_cfg(path), sites_cfg(sites)),
                   "no geometry and no coordinates")
    assert problem.column == "areas.coords"
    travel = write_csv(pd.DataFrame({"area_id": np.repeat(AREA_IDS, 3),
                                     "site_id": SITE_IDS * 4, "minutes": np.arange(12.0)}),
                       tmp_path / "travel.csv")
    got = load(tmp_path, areas_cfg(path), sites_cfg(sites), travel={"path": str(travel)})
    assert list(got.areas.index) == AREA_IDS
    assert got.areas["x"].isna().all() and got.areas.geometry.isna().all()
    assert got.sites["lon"].isna().all()
    assert list(got.travel.columns) == ["area_id", "site_id", "travel_cost"]
    assert got.travel["area_id"].iloc[0] == "00123"
    assert got.travel["travel_cost"].dtype == float


def test_missing_and_empty_files(tmp_path, files):
    empty = write_text(tmp_path / "empty.csv", "")
    header_only = write_text(tmp_path / "header.csv", "code,pop_18_64,pop_65_up\n")
    assert only(problems_of(tmp_path, areas_cfg(tmp_path / "nope.gpkg"),
                            sites_cfg(files["sites_gpkg"])), "file not found").column \
        == "areas.path"
    assert only(problems_of(tmp_path, areas_cfg(empty), sites_cfg(files["sites_gpkg"])),
                "empty").file == str(empty)
    assert only(problems_of(tmp_path, areas_cfg(header_only), sites_cfg(files["sites_gpkg"])),
                "no data rows").file == str(header_only)


# --------------------------------------------------------------------------------------------
# Column mapping and row checks


def test_missing_column_names_key_and_close_matches(tmp_path, files):
    problems = problems_of(tmp_path,
                           areas_cfg(files["areas_gpkg"], layer="areas",
                                     population={"age_18_64": "pop_18_64",
                                                 "age_65_plus": "pop_65up"}),
                           sites_cfg(files["sites_gpkg"], capacity_fte="cap_ft"))
    area = only(problems, "'pop_65up'")
    assert area.column == "areas.population.age_65_plus"
    assert area.file == str(files["areas_gpkg"])
    assert "pop_65_up" in area.hint
    site = only(problems, "'cap_ft'")
    assert site.column == "sites.capacity_fte" and "cap_fte" in site.hint


def test_row_checks_report_every_fault(tmp_path, files):
    text = ("code,pop_18_64,pop_65_up,x,y\n"
            "A1,100,10,575500,155500\n"
            ",100,10,576500,155500\n"          # blank id (data row 2)
            "A3,abc,10,575500,156500\n"        # non-numeric
            "A3,100,-5,576500,156500\n"        # duplicate id and negative
            "A5,,10,576000,156000\n"           # missing population
            "A6,\"1,234\",10,576100,156100\n")  # thousands separator
    path = write_text(tmp_path / "areas.csv", text)
    problems = problems_of(tmp_path, areas_cfg(path, coords={"x": "x", "y": "y",
                                                             "crs": "EPSG:27700"}),
                           sites_cfg(files["sites_gpkg"]))
    blank = only(problems, "blank id")
    assert blank.row == "2" and blank.column == "code" and blank.file == str(path)
    assert "A3" in only(problems, "more than once").message
    non_numeric = only(problems, "not a number")
    assert "A3='abc'" in non_numeric.message and non_numeric.column == "pop_18_64"
    assert "A6" in non_numeric.message and "thousands" in non_numeric.hint
    negative = only(problems, "negative")
    assert "A3=-5" in negative.message and negative.column == "pop_65_up"
    missing = only(problems, "no value")
    assert missing.row == "A5" and "areas.population.age_18_64" in missing.message
    assert all(p.message for p in problems)


def test_invalid_geometry_is_repaired_and_reported(tmp_path, files):
    gdf = areas_frame()
    bowtie = Polygon([(575_000, 155_000), (576_000, 156_000), (576_000, 155_000),
                      (575_000, 156_000)])
    gdf.loc[1, "geometry"] = bowtie
    path = tmp_path / "bad.gpkg"
    gdf.to_file(path, driver="GPKG")
    got = load(tmp_path, areas_cfg(path), sites_cfg(files["sites_gpkg"]))
    assert got.areas.geometry.is_valid.all()
    warning = only(got.warnings, "invalid geometry")
    assert warning.severity == "warning" and warning.row == "E02000002"
    assert not got.areas.geometry.iloc[1].is_empty


def test_empty_geometry_is_an_error(tmp_path, files):
    gdf = areas_frame()
    gdf.loc[2, "geometry"] = None
    path = tmp_path / "holes.gpkg"
    gdf.to_file(path, driver="GPKG")
    problem = only(problems_of(tmp_path, areas_cfg(path), sites_cfg(files["sites_gpkg"])),
                   "empty or missing geometry")
    assert problem.row == "E02000003" and problem.file == str(path)


def test_far_site_is_an_error_with_a_lonlat_hint(tmp_path, files):
    sites = sites_frame().to_crs("EPSG:4326")
    frame = pd.DataFrame(sites.drop(columns="geometry"))
    frame["lon"], frame["lat"] = sites.geometry.x, sites.geometry.y
    frame.loc[1, ["lon", "lat"]] = [51.27, 0.52]  # lat/lon swapped for S2
    path = write_csv(frame, tmp_path / "sites.csv")
    problem = only(problems_of(tmp_path, areas_cfg(files["areas_gpkg"], layer="areas"),
                               sites_cfg(path, coords={"x": "lon", "y": "lat"})),
                   "outside the areas' extent")
    assert problem.row == "S2" and "lon/lat order" in problem.hint


def test_easting_northing_given_as_lonlat_is_explained(tmp_path, files):
    path = site_points_csv(tmp_path, "EPSG:27700")
    problems = problems_of(tmp_path, areas_cfg(files["areas_gpkg"], layer="areas"),
                           sites_cfg(path, coords={"x": "px", "y": "py"}))
    problem = only(problems, "outside the range of longitude")
    assert "EPSG:27700" in problem.hint and problem.row == "S1 and 2 more"
    assert len(problems) == 1  # no follow-on 'missing geometry' noise


def test_site_status_and_number_checks(tmp_path, files):
    frame = pd.DataFrame(sites_frame().drop(columns="geometry"))
    frame["x"], frame["y"] = [p[0] for p in SITE_XY], [p[1] for p in SITE_XY]
    frame["state"] = ["open", "", "excluded"]
    frame["cost"] = ["-1", "", ""]  # S3 is excluded: its blank cost is no matter
    frame["cap_fte"] = ["x", "3", ""]
    path = write_csv(frame, tmp_path / "sites.csv")
    problems = problems_of(tmp_path, areas_cfg(files["areas_gpkg"], layer="areas"),
                           sites_cfg(path, coords={"x": "x", "y": "y", "crs": "EPSG:27700"},
                                     status="state", fixed_cost="cost",
                                     capacity_fte="cap_fte"))
    status = only(problems, "unknown status")
    assert "S1='open'" in status.message and "candidate" in status.hint
    assert only(problems, "negative").row == "S1"
    assert only(problems, "no value").row == "S2"  # fixed cost must be given
    assert "S1='x'" in only(problems, "not a number").message
    capacity = only(problems, "no limit")
    assert capacity.severity == "warning" and capacity.row == "S3"


def test_polygon_sites_become_points_with_one_warning(tmp_path, files):
    sites = sites_frame()
    sites["geometry"] = sites.buffer(50)
    path = tmp_path / "site_shapes.gpkg"
    sites.to_file(path, driver="GPKG")
    got = load(tmp_path, areas_cfg(files["areas_gpkg"], layer="areas"), sites_cfg(path))
    assert (got.sites.geom_type == "Point").all()
    np.testing.assert_allclose(got.sites[["x", "y"]].to_numpy(), np.array(SITE_XY), atol=5)
    warnings = [w for w in got.warnings if "not points" in w.message]
    assert len(warnings) == 1 and "3 sites" in warnings[0].message


def test_travel_table_checks(tmp_path, files):
    text = ("from,to,mins\n"
            "00123,S1,5\n"
            "00123,S1,6\n"       # duplicate pair
            "E02000002,S9,4\n"   # unknown site
            "X1,S2,3\n"          # unknown area
            "E02000003,S2,-2\n"  # negative
            "E02000004,S3,abc\n")  # non-numeric
    path = write_text(tmp_path / "travel.csv", text)
    problems = problems_of(tmp_path, areas_cfg(files["areas_gpkg"], layer="areas"),
                           sites_cfg(files["sites_gpkg"]),
                           travel={"path": str(path), "area_id": "from", "site_id": "to",
                                   "cost": "mins"})
    assert "(00123, S1)" in only(problems, "more than once").message
    site = only(problems, "not in the sites file")
    assert "S9" in site.message and site.column == "to" and "1 row" in site.message
    assert "X1" in only(problems, "not in the areas file").message
    assert only(problems, "negative").row == "row 5"
    assert "row 6='abc'" in only(problems, "not a number").message


def test_travel_rows_of_filtered_areas_are_dropped_with_a_warning(tmp_path, files):
    rows = [(a, s, 1.0 + i) for i, (a, s) in enumerate((a, s) for a in AREA_IDS
                                                        for s in SITE_IDS)]
    path = write_csv(pd.DataFrame(rows, columns=["area_id", "site_id", "minutes"]),
                     tmp_path / "travel.csv")
    got = load(tmp_path, areas_cfg(files["areas_gpkg"], layer="areas",
                                   where={"in_kcc": [True]}),
               sites_cfg(files["sites_gpkg"]), travel={"path": str(path)})
    assert set(got.travel["area_id"]) == set(AREA_IDS[:3])
    assert "E02000004" in only(got.warnings, "removed by areas.where").message


# --------------------------------------------------------------------------------------------
# Joins and filters


def test_join_tables_duplicates_misses_and_extras(tmp_path, files):
    shapes = areas_frame()[["code", "in_kcc", "geometry"]]
    path = tmp_path / "shapes.gpkg"
    shapes.to_file(path, driver="GPKG")
    table = pd.DataFrame({"id": ["00123", "E02000002", "E02000002", "E02000009", ""],
                          "pop_18_64": ["1", "2", "3", "4", "5"],
                          "pop_65_up": ["1", "2", "3", "4", "5"]})
    join = write_csv(table, tmp_path / "pop.csv")
    problems = problems_of(tmp_path, areas_cfg(path, tables=[{"path": str(join), "id": "id"}]),
                           sites_cfg(files["sites_gpkg"]))
    dup = only(problems, "more than once in this joined table")
    assert dup.row == "E02000002" and dup.file == str(join)
    miss = only(problems, "have no row in this joined table")
    assert "E02000003" in miss.message and "E02000004" in miss.message
    assert miss.severity == "error"
    assert not [p for p in problems if "no value" in p.message]  # not reported twice
    extra = only(problems, "no kept area")
    assert extra.severity == "warning" and "E02000009" in extra.message
    blank = only(problems, "blank id cannot join")
    assert blank.severity == "warning" and blank.row == "5"


def test_join_keeps_earlier_columns_and_where_after_join(tmp_path, files):
    shapes = areas_frame()[["code", "pop_18_64", "geometry"]]
    path = tmp_path / "shapes.gpkg"
    shapes.to_file(path, driver="GPKG")
    table = pd.DataFrame(areas_frame().drop(columns="geometry"))
    table["pop_18_64"] = 0  # a later copy of a column already present is ignored
    table["flag"] = ["yes", "no", "yes", "yes"]
    join = write_csv(table, tmp_path / "pop.csv")
    got = load(tmp_path, areas_cfg(path, tables=[{"path": str(join), "id": "code"}],
                                   where={"in_kcc": [True], "flag": ["yes"]}),
               sites_cfg(files["sites_gpkg"]))
    assert list(got.areas.index) == ["00123", "E02000003"]
    assert list(got.areas["age_18_64"]) == [1000.0, 1500.0]


@pytest.mark.parametrize("source", ["gpkg_bool", "csv_text"])
def test_where_compares_booleans_across_types(tmp_path, files, source):
    if source == "gpkg_bool":
        area = areas_cfg(files["areas_gpkg"], layer="areas", where={"in_kcc": [True]})
    else:
        area = areas_cfg(area_points_csv(tmp_path, "EPSG:27700"), where={"in_kcc": [True]},
                         coords={"x": "px", "y": "py", "crs": "EPSG:27700"})
    got = load(tmp_path, area, sites_cfg(files["sites_gpkg"]))
    assert list(got.areas.index) == AREA_IDS[:3]


def test_where_compares_numbers_and_strings(tmp_path, files):
    area = areas_cfg(area_points_csv(tmp_path, "EPSG:27700"),
                     coords={"x": "px", "y": "py", "crs": "EPSG:27700"},
                     where={"pop_18_64": [1000, "2000"], "code": ["00123", "E02000002"]})
    got = load(tmp_path, area, sites_cfg(files["sites_gpkg"]))
    assert list(got.areas.index) == ["00123", "E02000002"]
    # the other way round: text values from YAML against a numeric geodata column
    got = load(tmp_path, areas_cfg(files["areas_gpkg"], layer="areas",
                                   where={"pop_18_64": ["1000", 1500.0]}),
               sites_cfg(files["sites_gpkg"]))
    assert list(got.areas.index) == ["00123", "E02000003"]


def test_where_that_keeps_nothing_or_names_no_column(tmp_path, files):
    problems = problems_of(tmp_path, areas_cfg(files["areas_gpkg"], layer="areas",
                                               where={"district": ["Z"]}),
                           sites_cfg(files["sites_gpkg"], where={"colour": ["red"]}))
    nothing = only(problems, "keeps no rows")
    assert nothing.column == "areas.where.district"
    assert nothing.hint.endswith("include: A, B")
    absent = only(problems, "'colour'")
    assert absent.column == "sites.where.colour"


# --------------------------------------------------------------------------------------------
# Operating model, pools and workforce


def test_operating_model_bands(tmp_path, files):
    om = write_operating_model(tmp_path)
    problems = problems_of(tmp_path, areas_cfg(files["areas_gpkg"], layer="areas",
                                               population={"age_18_64": "pop_18_64",
                                                           "age_0_17": "pop_18_64"}),
                           sites_cfg(files["sites_gpkg"]), operating_model=str(om))
    missing = only(problems, "'age_65_plus'")
    assert missing.severity == "error" and missing.column == "areas.population"
    unused = only(problems, "age_0_17")
    assert unused.severity == "warning"


def test_demand_override_role_must_exist(tmp_path, files):
    om = write_operating_model(tmp_path)
    problem = only(problems_of(tmp_path, areas_cfg(files["areas_gpkg"], layer="areas",
                                                   demand_override={"nurse": "imd"}),
                               sites_cfg(files["sites_gpkg"]), operating_model=str(om)),
                   "'nurse'")
    assert problem.column == "areas.demand_override.nurse" and "sw" in problem.hint


def test_broken_operating_model_is_a_scenario_error(tmp_path, files):
    bad = write_text(tmp_path / "bad_model.yaml", "name: x\nage_bands: [a]\n")
    with pytest.raises(ScenarioError) as info:
        load(tmp_path, areas_cfg(files["areas_gpkg"], layer="areas"),
             sites_cfg(files["sites_gpkg"]), operating_model=str(bad))
    assert any(p.column == "roles" for p in info.value.problems)


def test_pools_by_site_need_a_pool_column(tmp_path, files):
    om = write_operating_model(tmp_path, pools={"by": "site"})
    problem = only(problems_of(tmp_path, areas_cfg(files["areas_gpkg"], layer="areas"),
                               sites_cfg(files["sites_gpkg"]), operating_model=str(om)),
                   "pools specialists by site")
    assert problem.column == "sites.pool"
    got = load(tmp_path, areas_cfg(files["areas_gpkg"], layer="areas"),
               sites_cfg(files["sites_gpkg"], pool="pool"), operating_model=str(om))
    assert pool_names(got.operating_model, got.areas, got.sites) == ["east", "west"]


def test_pools_by_area_group(tmp_path, files):
    om = write_operating_model(tmp_path, pools={"by": "area_group", "groups": {"east": ["A"]}})
    assert only(problems_of(tmp_path, areas_cfg(files["areas_gpkg"], layer="areas"),
                            sites_cfg(files["sites_gpkg"]), operating_model=str(om)),
                "pools specialists by area group").column == "areas.group"
    unmapped = only(problems_of(tmp_path, areas_cfg(files["areas_gpkg"], layer="areas",
                                                    group="district"),
                                sites_cfg(files["sites_gpkg"]), operating_model=str(om)),
                    "to no pool")
    assert "B" in unmapped.message and unmapped.column == "pools.groups"


def test_workforce_table(tmp_path, files):
    om = write_operating_model(tmp_path, pools={"by": "site"})
    text = ("unit,role,fte,contract\n"
            "S1,sw,2.5,permanent\n"
            "east,ot,1,Agency\n"
            "S9,sw,1,permanent\n"      # unknown unit
            "S2,nurse,1,permanent\n"   # unknown role
            "S2,sw,-1,vacant\n"        # negative fte
            "S3,sw,1,bank\n")          # unknown contract
    path = write_text(tmp_path / "staff.csv", text)
    areas = areas_cfg(files["areas_gpkg"], layer="areas")
    sites = sites_cfg(files["sites_gpkg"], pool="pool")
    problems = problems_of(tmp_path, areas, sites, operating_model=str(om),
                           workforce={"path": str(path)})
    assert "S9" in only(problems, "neither a site id nor a pool").message
    role = only(problems, "not in the operating model")
    assert "nurse" in role.message and role.row == "4"
    assert only(problems, "negative").row == "row 5"
    contract = only(problems, "unknown contract")
    assert "bank" in contract.message and "vacant" in contract.hint
    good = write_text(tmp_path / "good.csv", "\n".join(text.splitlines()[:3]) + "\n")
    got = load(tmp_path, areas, sites, operating_model=str(om), workforce={"path": str(good)})
    assert list(got.workforce.columns) == ["unit", "role", "fte", "contract"]
    assert list(got.workforce["contract"]) == ["permanent", "agency"]
    assert list(got.workforce["fte"]) == [2.5, 1.0]


# --------------------------------------------------------------------------------------------
# Real data (shared/data)


def kent_sites(shared_data) -> dict:
    return {"path": str(shared_data / "kent" / "kent_gp_practices.csv"), "id": "practice_code",
            "coords": {"x": "lon", "y": "lat", "crs": "EPSG:4326"}, "name": "practice_name"}


def test_kent_msoa_kcc_join_and_filter(tmp_path, shared_data):
    bands = {"age_0_17": "pop_0_17", "age_18_64": "pop_18_64", "age_65_74": "pop_65_74",
             "age_75_84": "pop_75_84", "age_85_plus": "pop_85_plus"}
    kent = shared_data / "kent"
    got = load(tmp_path, {
        "path": str(kent / "kent_msoa11_bgc.gpkg"), "layer": "msoa11", "id": "msoa11_code",
        "population": bands, "group": "lad_name", "name": "msoa11_name",
        "tables": [{"path": str(kent / "kent_msoa11_population_mid2020.csv"),
                    "id": "msoa11_code"}],
        "where": {"in_kcc": [True]}}, kent_sites(shared_data))
    assert len(got.areas) == 182
    assert got.areas["population"].sum() == 1_589_057
    assert got.areas["age_85_plus"].sum() == 43_588
    assert got.areas["group"].nunique() == 12
    extra = only(got.warnings, "no kept area")
    assert "38 ids" in extra.message
    sites = got.sites
    assert len(sites) == 182
    xmin, ymin, xmax, ymax = got.areas.total_bounds
    assert ((sites["x"] > xmin - 20_000) & (sites["x"] < xmax + 20_000)
            & (sites["y"] > ymin - 20_000) & (sites["y"] < ymax + 20_000)).all()
    g82002 = sites.loc["G82002"]  # its BNG coordinates are in the file too
    assert abs(g82002["x"] - 632102) < 15 and abs(g82002["y"] - 141810) < 15


def test_medway_lsoas(tmp_path, shared_data):
    kent = shared_data / "kent"
    started = time.perf_counter()
    got = load(tmp_path, {
        "path": str(kent / "kent_lsoa11_bgc.gpkg"), "id": "lsoa11_code", "population": "pop_total",
        "tables": [{"path": str(kent / "kent_lsoa11_population_mid2020.csv"),
                    "id": "lsoa11_code"}],
        "where": {"in_kcc": [False]}}, kent_sites(shared_data))
    assert time.perf_counter() - started < 3.0
    assert len(got.areas) == 163
    assert got.areas["population"].sum() == 279_142
    assert list(got.areas.columns[:2]) == ["all", "population"]


def test_kent_lsoa_loads_quickly(tmp_path, shared_data):
    kent = shared_data / "kent"
    started = time.perf_counter()
    got = load(tmp_path, {
        "path": str(kent / "kent_lsoa11_bgc.gpkg"), "id": "lsoa11_code", "population": "pop_total",
        "tables": [{"path": str(kent / "kent_lsoa11_population_mid2020.csv"),
                    "id": "lsoa11_code"},
                   {"path": str(kent / "kent_lsoa11_imd2019.csv"), "id": "lsoa11_code"}],
        "group": "IMD_decile"}, kent_sites(shared_data))
    assert time.perf_counter() - started < 3.0
    assert len(got.areas) == 1065 and got.areas["group"].notna().all()


def test_england_msoa(tmp_path, shared_data):
    england = shared_data / "england"
    got = load(tmp_path, {
        "path": str(england / "england_msoa11_bsc.gpkg"), "id": "msoa11_code",
        "population": "pop_total", "group": "ltla21_name",
        "deprivation": "imd2019_score_popweighted",
        "tables": [{"path": str(england / "england_msoa11_population_mid2020_imd2019.csv"),
                    "id": "msoa11_code"}]}, kent_sites(shared_data))
    assert len(got.areas) == 6791
    assert got.areas["population"].sum() == 56_550_138
    assert got.areas.index.is_unique and got.areas["x"].notna().all()


# --------------------------------------------------------------------------------------------
# Less common file forms


def test_file_form_problems_and_repairs(tmp_path, files):
    site = sites_cfg(files["sites_gpkg"])
    coords = {"x": "x", "y": "y", "crs": "EPSG:27700"}
    nocrs = tmp_path / "nocrs.parquet"
    areas_frame().set_crs(None, allow_override=True).to_parquet(nocrs)
    assert only(problems_of(tmp_path, areas_cfg(nocrs), site), "no CRS").file == str(nocrs)
    semicolons = write_text(tmp_path / "semi.csv", "code;pop_18_64;pop_65_up\nA;1;2\n")
    assert "separator" in only(problems_of(tmp_path, areas_cfg(semicolons, coords=coords), site),
                               "'code'").hint
    sheet = write_text(tmp_path / "areas.xlsx", "not really")
    assert only(problems_of(tmp_path, areas_cfg(sheet), site), "unsupported file type").column \
        == "areas.path"
    excel = tmp_path / "excel.csv"
    excel.write_bytes("code,pop_18_64,pop_65_up,x,y,nm\n00123,1,2,575500,155500,Caf\xe9\n"
                      .encode("cp1252"))
    got = load(tmp_path, areas_cfg(excel, coords=coords, name="nm"), site)
    assert got.areas.loc["00123", "name"] == "Caf\xe9"
    assert only(got.warnings, "not UTF-8").severity == "warning"
    plain = tmp_path / "plain.parquet"
    table = pd.DataFrame(areas_frame().drop(columns="geometry"))
    table["x"], table["y"] = 575_500.0, 155_500.0
    table.to_parquet(plain)
    got = load(tmp_path, areas_cfg(plain, coords=coords), site)
    assert list(got.areas.index) == AREA_IDS and (got.areas["x"] == 575_500.0).all()


def test_headcount_counts_all_ages_while_bands_stay_adult(tmp_path, shared_data):
    kent = shared_data / "kent"
    adult = {"age_18_64": "pop_18_64", "age_65_74": "pop_65_74", "age_75_84": "pop_75_84",
             "age_85_plus": "pop_85_plus"}
    areas = {"path": str(kent / "kent_msoa11_bgc.gpkg"), "layer": "msoa11",
             "id": "msoa11_code", "population": adult, "headcount": "pop_total",
             "tables": [{"path": str(kent / "kent_msoa11_population_mid2020.csv"),
                         "id": "msoa11_code"}],
             "where": {"in_kcc": [True]}}
    got = load(tmp_path, areas, kent_sites(shared_data))
    assert got.areas["population"].sum() == 1_589_057          # all ages (data README)
    adults = sum(got.areas[b].sum() for b in adult)
    assert adults == 1_242_486 and adults < got.areas["population"].sum()
    with pytest.raises(InputError) as e:
        load(tmp_path, {**areas, "headcount": "pop_everyone"}, kent_sites(shared_data))
    assert any(p.column == "pop_everyone" or "pop_everyone" in p.message
               for p in e.value.problems)


def test_a_repeated_csv_header_is_refused_as_written(tmp_path, files):
    """pandas renames a repeated column ('site_code', 'site_code.1'); the header line as
    written is checked, so the repeat is an error naming the file and the column."""
    path = site_points_csv(tmp_path, "EPSG:27700")
    lines = path.read_text().splitlines()
    lines[0] = lines[0].replace("px", "site_code", 1)
    path.write_text("\n".join(lines) + "\n")
    problems = problems_of(tmp_path, areas_cfg(files["areas_geojson"]),
                           sites_cfg(path, coords={"x": "px", "y": "py", "crs": "EPSG:27700"}))
    problem = only(problems, "column names repeat")
    assert problem.file == str(path) and "site_code" in problem.message


def test_an_impossible_population_is_named_with_its_area(tmp_path, files):
    """A population of 1e15 (a total pasted into a row, a unit mix-up) is an input error
    naming the area, the column and the key, not a failure deep in the solver."""
    frame = areas_frame()
    frame.loc[2, "pop_65_up"] = 1e15
    path = tmp_path / "areas.gpkg"
    frame.to_file(path, layer="areas")
    problems = problems_of(tmp_path, areas_cfg(path), sites_cfg(files["sites_gpkg"]))
    problem = only(problems, "above 10,000,000")
    assert problem.column == "pop_65_up" and AREA_IDS[2] in problem.row
    assert "areas.population.age_65_plus" in problem.message and "1e+15" in problem.message

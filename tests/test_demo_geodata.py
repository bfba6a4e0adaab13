"""The bundled demo county (geodata/): reproducible, well-formed and solvable as examples/demo.yaml."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from scipy.spatial import cKDTree

from mdtplan.operating_model import load_operating_model
from mdtplan.scenario import load_scenario

REPO = Path(__file__).resolve().parents[1]
GEODATA = REPO / "geodata"
BANDS = ["pop_18_64", "pop_65_74", "pop_75_84", "pop_85_plus"]


def _load_generator():
    """geodata/make_demo.py as a module (geodata/ is not a package)."""
    name = "_mdtplan_make_demo"
    spec = importlib.util.spec_from_file_location(name, GEODATA / "make_demo.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the file runs
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return module


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    paths = _load_generator().main(out)
    assert {p.name for p in paths.values()} == {
        "demo_areas.gpkg", "demo_sites.csv", "demo_workforce.csv"}
    return out


@pytest.fixture(scope="module")
def areas() -> gpd.GeoDataFrame:
    return gpd.read_file(GEODATA / "demo_areas.gpkg", layer="areas")


@pytest.fixture(scope="module")
def areas_bng(areas) -> gpd.GeoDataFrame:
    return areas.to_crs("EPSG:27700")


@pytest.fixture(scope="module")
def sites() -> pd.DataFrame:
    return pd.read_csv(GEODATA / "demo_sites.csv")


@pytest.fixture(scope="module")
def workforce() -> pd.DataFrame:
    return pd.read_csv(GEODATA / "demo_workforce.csv")


@pytest.fixture(scope="module")
def demo():
    return load_scenario(REPO / "examples" / "demo.yaml")


# ---------------------------------------------------------------------------------------------
# Reproducible


@pytest.mark.parametrize("name", ["demo_sites.csv", "demo_workforce.csv"])
def test_regenerated_csv_is_byte_identical(regenerated, name):
    assert (regenerated / name).read_bytes() == (GEODATA / name).read_bytes()


def test_regenerated_geopackage_has_same_rows_and_geometry(regenerated, areas):
    fresh = gpd.read_file(regenerated / "demo_areas.gpkg", layer="areas")
    assert list(fresh.columns) == list(areas.columns)
    assert fresh.crs == areas.crs
    pd.testing.assert_frame_equal(fresh.drop(columns="geometry"), areas.drop(columns="geometry"))
    same = shapely.equals_exact(fresh.geometry.to_numpy(), areas.geometry.to_numpy(),
                                tolerance=1e-6)
    assert same.all(), f"{(~same).sum()} geometries differ: {list(areas.area_code[~same][:5])}"


def test_outputs_are_small():
    total = sum((GEODATA / n).stat().st_size
                for n in ("demo_areas.gpkg", "demo_sites.csv", "demo_workforce.csv"))
    assert total < 1_500_000


# ---------------------------------------------------------------------------------------------
# Areas


def test_areas_are_a_few_hundred_with_unique_codes(areas):
    assert 300 <= len(areas) <= 450
    assert areas["area_code"].is_unique
    assert areas["area_code"].str.fullmatch(r"DEMO\d{4}").all()
    assert areas["area_name"].is_unique
    assert 4 <= areas["district"].nunique() <= 6


def test_geopackage_is_wgs84_like_ons_downloads(areas):
    assert areas.crs.to_epsg() == 4326
    minx, miny, maxx, maxy = areas.total_bounds
    # inside EPSG:27700's area of use (so the loader does not warn), and in the North Sea
    assert -9 < minx and maxx < 2.1 and 49.7 < miny and maxy < 61


def test_polygons_valid_and_tile_the_county(areas_bng):
    assert areas_bng.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    assert areas_bng.is_valid.all()
    assert (areas_bng.area > 0).all()
    total = areas_bng.area.sum()
    union = areas_bng.union_all()
    assert abs(total - union.area) / union.area < 1e-3, "areas overlap"
    # one county without holes: the union is a single polygon
    assert union.geom_type == "Polygon" and len(union.interiors) == 0
    assert 2_000e6 < union.area < 4_000e6  # [m2]


def test_towns_are_dense_and_the_country_sparse(areas_bng):
    km2 = areas_bng.area / 1e6
    by_type = km2.groupby(areas_bng["settlement_type"]).median()
    assert by_type["town"] * 5 < by_type["rural"]


def test_population_sizes_and_total(areas):
    adults = areas[BANDS].sum(axis=1)
    assert (areas[BANDS] >= 0).all().all()
    assert adults.between(1_000, 3_000).all()
    assert 450_000 <= adults.sum() <= 600_000


def test_age_structure_is_english(areas):
    totals = areas[BANDS].sum()
    share = totals / totals.sum()
    assert 0.68 <= share["pop_18_64"] <= 0.80  # England 76.4% (FACTS.md 2a)
    assert 0.02 <= share["pop_85_plus"] <= 0.06  # England 3.2%
    assert share["pop_65_74"] > share["pop_75_84"] > share["pop_85_plus"]
    older = areas[BANDS[1:]].sum(axis=1) / areas[BANDS].sum(axis=1)
    rural = areas["settlement_type"].ne("town")
    assert older[rural].mean() > older[~rural].mean()


def test_deprivation_is_plausible(areas):
    score = areas["imd_score"]
    assert score.notna().all() and (score > 0).all() and score.max() < 95
    assert 10 < score.mean() < 30
    town = areas["settlement_type"].eq("town")
    assert score[town].max() > 2 * score[~town].median()


# ---------------------------------------------------------------------------------------------
# Sites and workforce


def test_sites_columns_and_statuses(sites):
    assert 35 <= len(sites) <= 45
    assert sites["site_id"].is_unique
    assert set(sites["kind"]) <= {"gp_practice", "council_office", "library", "community_hub"}
    counts = sites["status"].value_counts()
    assert set(counts.index) <= {"candidate", "existing", "required"}
    assert 3 <= counts.get("existing", 0) <= 8 and counts.get("required", 0) <= 1
    assert sites["fixed_cost"].between(30_000, 250_000).all()
    assert sites["capacity_fte"].between(40, 160).all()
    existing = sites["status"].ne("candidate")
    assert sites.loc[existing, "fixed_cost"].mean() < sites.loc[~existing, "fixed_cost"].mean()


def test_site_lonlat_matches_easting_northing(sites):
    to_bng = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    x, y = to_bng.transform(sites["lon"].to_numpy(), sites["lat"].to_numpy())
    assert np.hypot(x - sites["easting"], y - sites["northing"]).max() < 10  # [m]


def test_every_area_has_a_site_within_the_demo_max_travel(areas_bng, sites, demo):
    points = areas_bng.representative_point()
    metres, _ = cKDTree(sites[["easting", "northing"]].to_numpy()).query(
        np.c_[points.x, points.y])
    minutes = metres / 1000 * demo.travel.circuity / demo.travel.speed_kmh * 60
    assert minutes.max() <= demo.hubs.max_travel_minutes


def test_hub_band_can_hold_the_population(areas, demo):
    adults = areas[BANDS].sum().sum()
    low, high = demo.hubs.count.bounds()
    band = demo.hubs.population
    assert math.ceil(adults / band.max) <= high
    assert math.floor(adults / band.min) >= low


def test_existing_sites_all_have_staff(sites, workforce):
    staffed = set(sites.loc[sites["status"].ne("candidate"), "site_id"])
    assert staffed == set(workforce["unit"])


def test_workforce_roles_contracts_and_shares(workforce):
    model = load_operating_model(REPO / "models" / "default.yaml")
    assert set(workforce["role"]) <= {r.id for r in model.core_roles}
    assert set(workforce["contract"]) <= {"permanent", "agency", "vacant"}
    assert (workforce["fte"] > 0).all()
    assert ((workforce["fte"] * 2) % 1 == 0).all()  # whole or half FTE
    sw = workforce[workforce["role"].eq("social_worker")].groupby("contract")["fte"].sum()
    posts = sw.sum()
    assert 0.05 <= sw["vacant"] / posts <= 0.15  # FACTS.md 3b: 10.5% vacancy
    assert 0.05 <= sw["agency"] / posts <= 0.15  # FACTS.md 3b: ~10% agency

"""Tests of mdtplan.travel: straight-line costs, reach limits, tables, errors, scale."""

from __future__ import annotations

import math
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from mdtplan.errors import InputError
from mdtplan.inputs import BNG, load_inputs
from mdtplan.scenario import TravelConfig, parse_scenario
from mdtplan.travel import (
    allowed_pairs,
    compute_allowed_pairs,
    straight_line_cost,
    travel_limit,
)


def areas_at(points: dict[str, tuple[float, float]]) -> pd.DataFrame:
    frame = pd.DataFrame({"x": [p[0] for p in points.values()],
                          "y": [p[1] for p in points.values()]},
                         index=pd.Index(list(points), name="area_id"))
    return frame


def sites_at(points: dict[str, tuple[float, float]], status=None) -> pd.DataFrame:
    frame = areas_at(points).rename_axis("site_id")
    frame["status"] = status or ["candidate"] * len(points)
    return frame


AREAS = areas_at({"Z1": (0.0, 0.0), "A2": (10_000.0, 0.0)})
SITES = sites_at({"S1": (3_000.0, 4_000.0), "S2": (10_000.0, 6_000.0)})


def test_straight_line_minutes_equal_a_hand_computation():
    pairs = compute_allowed_pairs(AREAS, SITES)
    # Z1-S1: 5 km x 1.3 = 6.5 km at 40 km/h = 9.75 min; A2-S2: 6 km x 1.3 / 40 x 60 = 11.7 min
    cost = {(a, s): c for a, s, c in pairs.itertuples(index=False)}
    assert cost[("Z1", "S1")] == pytest.approx(9.75)
    assert cost[("A2", "S2")] == pytest.approx(11.7)
    assert cost[("Z1", "S2")] == pytest.approx(math.hypot(10, 6) * 1.3 / 40 * 60)
    assert cost[("A2", "S1")] == pytest.approx(math.hypot(7, 4) * 1.3 / 40 * 60)
    # order: the areas' own order (Z1 before A2), then cost
    assert list(pairs["area_id"]) == ["Z1", "Z1", "A2", "A2"]
    assert list(pairs["site_id"]) == ["S1", "S2", "S2", "S1"]
    assert list(pairs.columns) == ["area_id", "site_id", "travel_cost"]
    assert pairs["travel_cost"].dtype == np.float64
    assert pd.api.types.is_string_dtype(pairs["area_id"])


def test_km_unit_and_its_limit():
    config = TravelConfig(unit="km", circuity=1.2, speed_kmh=30)
    assert travel_limit(config, 20) == pytest.approx(10.0)  # 20 min at 30 km/h
    pairs = compute_allowed_pairs(AREAS, SITES, config=config, max_travel_minutes=20)
    assert set(zip(pairs["area_id"], pairs["site_id"], strict=True)) == {("Z1", "S1"),
                                                                       ("A2", "S2"),
                                                                       ("A2", "S1")}
    assert pairs.set_index(["area_id", "site_id"]).loc[("Z1", "S1"), "travel_cost"] \
        == pytest.approx(6.0)
    assert straight_line_cost(5_000, "km", circuity=1.2) == pytest.approx(6.0)


def test_limit_keeps_only_pairs_in_reach_and_never_excluded_sites():
    sites = sites_at({"S1": (3_000.0, 4_000.0), "S2": (10_000.0, 6_000.0),
                      "S3": (10_000.0, 10.0)}, status=["candidate", "existing", "excluded"])
    pairs = compute_allowed_pairs(AREAS, sites, max_travel_minutes=12)
    assert "S3" not in set(pairs["site_id"])  # nearest to A2, but excluded
    assert (pairs["travel_cost"] <= 12).all()
    # A2-S1 is 15.7 min, beyond the limit
    assert list(zip(pairs["area_id"], pairs["site_id"], strict=True)) == [("Z1", "S1"),
                                                                        ("A2", "S2")]


def test_unreachable_areas_are_all_reported_with_their_nearest_site():
    areas = areas_at({"E02005040": (0.0, 0.0), "E02005041": (50_000.0, 0.0),
                      "E02005042": (3_100.0, 4_000.0)})
    with pytest.raises(InputError) as info:
        compute_allowed_pairs(areas, SITES, max_travel_minutes=9)
    problems = info.value.problems
    assert [p.row for p in problems] == ["E02005040", "E02005041"]
    first = problems[0]
    assert first.message == ("area E02005040 has no site within 9 min; the nearest is S1 at "
                             "9.8 min")
    assert first.column == "hubs.max_travel_minutes"
    assert "raise hubs.max_travel_minutes or add a site" in first.hint
    assert "the nearest is S2" in problems[1].message


def test_travel_table_limit_exclusion_and_order():
    table = pd.DataFrame({"area_id": ["A2", "Z1", "Z1", "A2", "Z1"],
                          "site_id": ["S1", "S2", "S1", "S3", "S3"],
                          "travel_cost": [5.0, 30.0, 7.0, 1.0, 2.0]})
    sites = sites_at({"S1": (0, 0), "S2": (0, 0), "S3": (0, 0)},
                     status=["candidate", "required", "excluded"])
    pairs = compute_allowed_pairs(AREAS, sites, table, max_travel_minutes=20)
    assert list(zip(pairs["area_id"], pairs["site_id"], pairs["travel_cost"], strict=True)) \
        == [("Z1", "S1", 7.0), ("A2", "S1", 5.0)]
    # without a limit every row of a site that is not excluded is kept
    assert len(compute_allowed_pairs(AREAS, sites, table)) == 3
    with pytest.raises(InputError) as info:
        compute_allowed_pairs(AREAS, sites, table, max_travel_minutes=6)
    (problem,) = info.value.problems
    assert problem.message == "area Z1 has no site within 6 min; the nearest is S1 at 7.0 min"


def test_travel_table_without_rows_for_an_area():
    table = pd.DataFrame({"area_id": ["Z1"], "site_id": ["S1"], "travel_cost": [1.0]})
    with pytest.raises(InputError) as info:
        compute_allowed_pairs(AREAS, SITES, table)
    (problem,) = info.value.problems
    assert problem.row == "A2" and "no row in the travel table" in problem.message


def test_missing_coordinates_are_an_error():
    areas = areas_at({"Z1": (0.0, 0.0), "A2": (np.nan, np.nan)})
    with pytest.raises(InputError) as info:
        compute_allowed_pairs(areas, SITES, max_travel_minutes=60)
    assert "A2" in info.value.problems[0].message
    assert "coordinates" in info.value.problems[0].message


coordinate = st.floats(min_value=0, max_value=20_000, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(areas=st.lists(st.tuples(coordinate, coordinate), min_size=1, max_size=12),
       sites=st.lists(st.tuples(coordinate, coordinate, st.booleans()), min_size=1,
                      max_size=8),
       limit=st.one_of(st.none(), st.floats(min_value=0.5, max_value=60)),
       circuity=st.floats(min_value=1.0, max_value=2.0),
       speed=st.floats(min_value=5.0, max_value=80.0),
       unit=st.sampled_from(["minutes", "km"]))
def test_pairs_equal_brute_force(areas, sites, limit, circuity, speed, unit):
    area_frame = areas_at({f"a{i}": p for i, p in enumerate(areas)})
    site_frame = sites_at({f"s{j}": (x, y) for j, (x, y, _) in enumerate(sites)},
                          status=["excluded" if ex else "candidate" for *_, ex in sites])
    config = TravelConfig(unit=unit, circuity=circuity, speed_kmh=speed)
    limit_in_unit = travel_limit(config, limit)
    expected = {}
    for i, (ax, ay) in enumerate(areas):
        for j, (sx, sy, excluded) in enumerate(sites):
            cost = straight_line_cost(np.hypot(ax - sx, ay - sy), unit, circuity, speed)
            if not excluded and (limit_in_unit is None or cost <= limit_in_unit):
                expected[(f"a{i}", f"s{j}")] = cost
    reached = {a for a, _ in expected}
    if len(reached) < len(areas):
        with pytest.raises(InputError) as info:
            compute_allowed_pairs(area_frame, site_frame, config=config,
                                  max_travel_minutes=limit)
        if all(excluded for *_, excluded in sites):
            assert "every site is excluded" in info.value.problems[0].message
        else:
            assert {p.row for p in info.value.problems} == set(area_frame.index) - reached
        return
    pairs = compute_allowed_pairs(area_frame, site_frame, config=config,
                                  max_travel_minutes=limit)
    got = {(a, s): c for a, s, c in pairs.itertuples(index=False)}
    assert got.keys() == expected.keys()
    for key, cost in expected.items():
        assert got[key] == pytest.approx(cost, rel=1e-12, abs=1e-12)
    if limit_in_unit is not None:
        assert (pairs["travel_cost"] <= limit_in_unit).all()
    # sorted by area order, then cost
    position = pairs["area_id"].map({a: k for k, a in enumerate(area_frame.index)})
    assert position.is_monotonic_increasing
    assert (pairs.groupby("area_id", sort=False)["travel_cost"]
            .apply(lambda c: c.is_monotonic_increasing).all())


def test_allowed_pairs_from_inputs(tmp_path):
    squares = gpd.GeoDataFrame({"code": ["A", "B"], "pop": [10, 20]},
                               geometry=[box(0, 0, 1000, 1000), box(20_000, 0, 21_000, 1000)],
                               crs=BNG)
    squares.to_file(tmp_path / "areas.gpkg", driver="GPKG")
    (tmp_path / "sites.csv").write_text("id,e,n,status\nS1,500,500,\nS2,20500,500,excluded\n"
                                        "S3,20500,2500,existing\n")
    scenario = parse_scenario({
        "areas": {"path": "areas.gpkg", "id": "code", "population": "pop"},
        "sites": {"path": "sites.csv", "id": "id", "status": "status",
                  "coords": {"x": "e", "y": "n", "crs": "EPSG:27700"}},
        "hubs": {"max_travel_minutes": 10}}, base_dir=tmp_path)
    pairs = allowed_pairs(load_inputs(scenario))
    assert list(zip(pairs["area_id"], pairs["site_id"], strict=True)) == [("A", "S1"),
                                                                        ("B", "S3")]
    # the representative point of a square is its centre: B-S3 is 2 km
    assert pairs["travel_cost"].iloc[1] == pytest.approx(2 * 1.3 / 40 * 60)


def test_england_msoa_travel_in_seconds(tmp_path, shared_data):
    england = shared_data / "england"
    boundaries = gpd.read_file(england / "england_msoa11_bsc.gpkg").to_crs(BNG)
    centres = boundaries.representative_point().iloc[::15]  # 453 sites spread over England
    pd.DataFrame({"id": [f"H{i:03d}" for i in range(len(centres))],
                  "e": centres.x.to_numpy(), "n": centres.y.to_numpy()}) \
        .to_csv(tmp_path / "hubs.csv", index=False)
    scenario = parse_scenario({
        "areas": {"path": str(england / "england_msoa11_bsc.gpkg"), "id": "msoa11_code",
                  "population": "pop_total",
                  "tables": [{"path": str(england / "england_msoa11_population_mid2020_imd2019"
                                                    ".csv"), "id": "msoa11_code"}]},
        "sites": {"path": "hubs.csv", "id": "id",
                  "coords": {"x": "e", "y": "n", "crs": "EPSG:27700"}},
        "hubs": {"max_travel_minutes": 100}}, base_dir=tmp_path)
    started = time.perf_counter()
    inputs = load_inputs(scenario)
    pairs = allowed_pairs(inputs)
    assert time.perf_counter() - started < 5.0
    assert pairs["area_id"].nunique() == 6791
    assert pairs["travel_cost"].max() <= 100
    assert len(inputs.sites) == 453
    # the areas' order is kept
    assert list(pd.unique(pairs["area_id"])) == list(inputs.areas.index)

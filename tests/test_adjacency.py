"""The areas' neighbour graph (mdtplan.adjacency): rook not queen, islands, links, points."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from mdtplan.adjacency import area_adjacency, catchment_pieces
from mdtplan.errors import InputError

KM = 1000.0


def squares(cells: dict[str, tuple[int, int]], size: float = KM) -> gpd.GeoDataFrame:
    """Square areas on a grid: id -> (column, row)."""
    geoms = [box(c * size, r * size, (c + 1) * size, (r + 1) * size) for c, r in cells.values()]
    return gpd.GeoDataFrame(geometry=geoms, index=list(cells), crs="EPSG:27700")


def pairs(edges: pd.DataFrame, kind: str | None = None) -> set[tuple[str, str]]:
    e = edges if kind is None else edges[edges["kind"] == kind]
    return set(zip(e["area_a"], e["area_b"], strict=True))


def test_rook_not_queen_on_a_grid():
    # a b
    # c d     a-d and b-c meet at a corner only
    g = squares({"a": (0, 1), "b": (1, 1), "c": (0, 0), "d": (1, 0)})
    e = area_adjacency(g)
    assert pairs(e) == {("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")}
    assert set(e["kind"]) == {"boundary"}


def test_a_corner_only_neighbour_is_joined_as_nearest_not_boundary():
    g = squares({"a": (0, 0), "b": (1, 1)})
    e = area_adjacency(g)
    assert pairs(e, "boundary") == set()
    assert pairs(e, "nearest") == {("a", "b")}


def test_a_sliver_gap_still_counts_as_a_shared_boundary():
    g = gpd.GeoDataFrame(geometry=[box(0, 0, 1000, 1000), box(1000.3, 0, 2000, 1000)],
                         index=["a", "b"], crs="EPSG:27700")
    assert pairs(area_adjacency(g), "boundary") == {("a", "b")}
    # a real gap (5 m) is not a boundary: the pair is joined as nearest neighbours instead
    g = gpd.GeoDataFrame(geometry=[box(0, 0, 1000, 1000), box(1005, 0, 2000, 1000)],
                         index=["a", "b"], crs="EPSG:27700")
    e = area_adjacency(g)
    assert pairs(e, "boundary") == set() and pairs(e, "nearest") == {("a", "b")}


def test_islands_join_their_nearest_group_by_the_closest_pair():
    # mainland a-b-c in a row; island i 3 km off c; islet j 2 km beyond i (nearer i than c)
    g = squares({"a": (0, 0), "b": (1, 0), "c": (2, 0), "i": (6, 0), "j": (9, 0)})
    e = area_adjacency(g)
    assert pairs(e, "boundary") == {("a", "b"), ("b", "c")}
    assert pairs(e, "nearest") == {("c", "i"), ("i", "j")}


def test_a_far_island_is_an_error_naming_its_areas():
    g = squares({"a": (-1, 0), "b": (0, 0), "c": (1, 0), "x": (30, 0), "y": (31, 0)})
    with pytest.raises(InputError) as err:
        area_adjacency(g, join_within_km=10, file="areas.gpkg")
    text = str(err.value.problems[0])
    assert "x, y" in text and "areas.gpkg" in text and "links" in text
    assert "[[x, c]]" in text  # the closest pair, for the suggested link
    # the user's link (a ferry) joins them, and the error goes
    e = area_adjacency(g, links=[["c", "x"]], join_within_km=10)
    assert pairs(e, "link") == {("c", "x")}
    # or a longer join distance
    assert ("c", "x") in pairs(area_adjacency(g, join_within_km=30), "nearest")


def test_links_name_known_areas():
    g = squares({"a": (0, 0), "b": (1, 0)})
    with pytest.raises(InputError) as err:
        area_adjacency(g, links=[["a", "nowhere"], ["b", "b"]])
    text = " ".join(str(p) for p in err.value.problems)
    assert "nowhere" in text and "areas.adjacency.links[0]" in text
    assert "areas.adjacency.links[1]" in text


def test_a_link_between_neighbours_keeps_one_edge_marked_link():
    g = squares({"a": (0, 0), "b": (1, 0)})
    e = area_adjacency(g, links=[["b", "a"]])
    assert e.values.tolist() == [["a", "b", "link"]]


def test_points_are_joined_by_their_delaunay_triangulation():
    g = gpd.GeoDataFrame(geometry=[Point(0, 0), Point(1000, 0), Point(0, 1000),
                                   Point(1000, 1000), Point(5000, 500)],
                         index=list("abcde"), crs="EPSG:27700")
    e = area_adjacency(g)
    assert set(e["kind"]) == {"nearest"}
    got = pairs(e)
    assert {("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")} <= got
    assert ("b", "e") in got and ("d", "e") in got and ("a", "e") not in got


def test_points_on_a_line_form_a_chain():
    g = gpd.GeoDataFrame(geometry=[Point(x * 1000, 0) for x in range(4)], index=list("abcd"),
                         crs="EPSG:27700")
    assert pairs(area_adjacency(g)) == {("a", "b"), ("b", "c"), ("c", "d")}


def test_catchment_pieces_counts_connected_parts_per_hub():
    g = squares({f"a{i}": (i, 0) for i in range(5)})
    e = area_adjacency(g)
    plan = pd.DataFrame({"area_id": [f"a{i}" for i in range(5)],
                         "site_id": ["s", "s", "t", "s", "t"]})
    assert catchment_pieces(plan, e).to_dict() == {"s": 2, "t": 2}
    plan["site_id"] = ["s", "s", "s", "t", "t"]
    assert catchment_pieces(plan, e, sites=["s", "t", "u"]).to_dict() == {"s": 1, "t": 1, "u": 0}
    # a split area belongs to both hubs serving it; a zero share to neither
    split = pd.DataFrame({"area_id": ["a0", "a1", "a2", "a2", "a3"],
                          "site_id": ["s", "s", "s", "t", "s"], "share": [1, 1, .5, .5, 0.0]})
    assert catchment_pieces(split, e).to_dict() == {"s": 1, "t": 1}


def test_kent_lsoas_are_one_connected_graph(shared_data):
    path = shared_data / "kent" / "kent_lsoa11_bgc.gpkg"
    g = gpd.read_file(path, layer="lsoa11").to_crs(27700).set_index("lsoa11_code")
    e = area_adjacency(g)
    assert set(e["kind"]) == {"boundary"}
    plan = pd.DataFrame({"area_id": g.index, "site_id": "all"})
    assert catchment_pieces(plan, e).to_dict() == {"all": 1}
    # each LSOA has neighbours, about three to six of them on average (a planar map: under 6)
    degree = pd.concat([e["area_a"], e["area_b"]]).value_counts()
    assert len(degree) == len(g) and 2.0 < degree.mean() < 6.0

"""The ``geography`` block: figures of how a plan looks on the map, checked on hand-sized plans."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from mdtplan.adjacency import catchment_pieces as _pieces
from mdtplan.geography import (
    geography_of,
    hubs_not_serving_own_area,
    min_hub_separation,
    nearest_open_hub_share,
)
from mdtplan.summary import Geography


def catchment_pieces(assignment, edges) -> dict:
    return _pieces(assignment, edges).to_dict()


def _assign(rows):
    return pd.DataFrame(rows, columns=["area_id", "site_id", "share"])


def _row_edges(ids):
    """A row of areas, each touching the next."""
    return pd.DataFrame({"area_a": ids[:-1], "area_b": ids[1:]})


def test_a_catchment_split_by_another_hub_counts_two_pieces():
    # A B C D E in a row: s serves A, B, E; t serves C, D -> s is in two pieces
    a = _assign([("A", "s", 1), ("B", "s", 1), ("C", "t", 1), ("D", "t", 1), ("E", "s", 1)])
    assert catchment_pieces(a, _row_edges(list("ABCDE"))) == {"s": 2, "t": 1}


def test_pieces_on_a_grid_follow_only_shared_edges():
    # 3x3 grid, rook edges; s serves the four corners and the centre: five pieces, since
    # corners touch the centre only at a point (no edge in a rook graph); t serves the four
    # edge middles, which touch only s's areas: four pieces
    ids = [f"{r}{c}" for r in range(3) for c in range(3)]
    edges = [(f"{r}{c}", f"{r}{c + 1}") for r in range(3) for c in range(2)]
    edges += [(f"{r}{c}", f"{r + 1}{c}") for r in range(2) for c in range(3)]
    e = pd.DataFrame(edges, columns=["area_a", "area_b"])
    s_areas = {"00", "02", "11", "20", "22"}
    a = _assign([(i, "s" if i in s_areas else "t", 1) for i in ids])
    assert catchment_pieces(a, e) == {"s": 5, "t": 4}


def test_split_areas_belong_to_every_catchment_serving_part_of_them():
    # B is split between s and t: s = {A, B} one piece, t = {B, C} one piece
    a = _assign([("A", "s", 1), ("B", "s", 0.5), ("B", "t", 0.5), ("C", "t", 1)])
    assert catchment_pieces(a, _row_edges(list("ABC"))) == {"s": 1, "t": 1}
    # a share of a millionth is not serving
    a2 = _assign([("A", "s", 1), ("B", "t", 1), ("C", "s", 1e-9), ("C", "t", 1)])
    assert catchment_pieces(a2, _row_edges(list("ABC"))) == {"s": 1, "t": 1}


def test_share_at_nearest_open_hub_uses_only_open_hubs_and_counts_ties():
    pairs = pd.DataFrame({"area_id": list("AABBCC"), "site_id": list("stsusu"),
                          "travel_cost": [1.0, 2.0, 5.0, 1.0, 3.0, 3.0]})
    # u is closed: B's nearest open hub is s (5) although u is at 1; C ties s and u -> s nearest
    a = _assign([("A", "t", 1), ("B", "s", 1), ("C", "s", 1)])
    assert nearest_open_hub_share(a, pairs, ["s", "t"]) == pytest.approx(2 / 3)


def test_hubs_not_serving_their_own_area_are_named():
    own = pd.Series({"s": "A", "t": "C", "u": pd.NA}, dtype=object)
    a = _assign([("A", "s", 1), ("C", "s", 0.5), ("C", "t", 0.5)])
    assert hubs_not_serving_own_area(a, own, ["s", "t", "u"]) == ["t"]
    assert hubs_not_serving_own_area(a, own, ["u"]) is None


def test_the_closest_two_hubs_and_their_distance():
    xy = pd.DataFrame({"x": [0.0, 3000.0, 3000.0, float("nan")],
                       "y": [0.0, 4000.0, 4500.0, 0.0]}, index=["a", "b", "c", "d"])
    km, pair = min_hub_separation(xy, ["a", "b", "c", "d"])
    assert km == pytest.approx(0.5)
    assert pair == ("b", "c")
    assert min_hub_separation(xy, ["a", "d"]) == (None, None)


def test_the_block_reads_back_from_summary_json():
    g = Geography(pieces_per_catchment={"s": 2}, catchments_in_pieces=1,
                  share_areas_at_nearest_open_hub=0.5, hubs_not_serving_own_area=("t",),
                  min_hub_separation_km=0.4, closest_hubs=("s", "t"), travel_hours=12.5)
    doc = json.loads(json.dumps(g.to_dict()))
    assert Geography.from_dict(doc) == g
    assert Geography.from_dict(None) is None


def test_geography_of_a_model_data_plan():
    class Data:
        pairs = pd.DataFrame({"area_id": list("ABC"), "site_id": list("sss"),
                              "travel_cost": [0.0, 1.0, 2.0]})
        sites = pd.DataFrame({"area_id": ["B"]}, index=["s"])
    a = _assign([("A", "s", 1), ("B", "s", 1), ("C", "s", 1)])
    g = geography_of(Data(), a, ["s"], edges=_row_edges(["A", "C"]),
                     sites_xy=pd.DataFrame({"x": [0.0], "y": [0.0]}, index=["s"]),
                     travel_hours=12.5, staff_travel=True)
    assert g.pieces_per_catchment == {"s": 2}  # B touches nothing in these edges
    assert g.catchments_in_pieces == 1
    assert g.share_areas_at_nearest_open_hub == 1.0
    assert g.hubs_not_serving_own_area == ()
    assert g.min_hub_separation_km is None  # one hub
    assert g.travel_hours == pytest.approx(12.5) and g.staff_travel
    assert g.mileage_gbp is None

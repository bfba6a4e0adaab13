"""Deprivation columns declare their kind (score, rank or decile, and the index year), and the
values are checked against it: a decile or rank column read as a score is an error naming the
file, the column and what to do; IMD2025 ranks and deciles become a score equivalent."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, box

from mdtplan.errors import InputError, ScenarioError
from mdtplan.inputs import BNG, load_inputs
from mdtplan.inputs.deprivation import (
    IMD2025_RANK_SCORE,
    LSOA_COUNT,
    decile_to_score,
    rank_to_score,
)
from mdtplan.scenario import parse_scenario

N = 12  # areas


@pytest.fixture()
def files(tmp_path):
    """Hand-made areas with a score, a decile, a rank column and a score with decimals."""
    rng = np.random.default_rng(1)
    squares = [box(575_000 + 1000 * i, 155_000, 576_000 + 1000 * i, 156_000) for i in range(N)]
    areas = gpd.GeoDataFrame({
        "code": [f"A{i:02d}" for i in range(N)], "pop": [1000 + 10 * i for i in range(N)],
        "imd_score": np.round(rng.uniform(3, 60, N), 3),
        "imd_decile": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1, 5],
        "imd_rank": [48, 1000, 5000, 9000, 12000, 15000, 18000, 21000, 25000, 30000, 33000, 3],
    }, geometry=squares, crs=BNG)
    areas.to_file(tmp_path / "areas.gpkg", layer="areas", driver="GPKG")
    sites = gpd.GeoDataFrame({"site_code": ["S1", "S2"]},
                             geometry=[Point(575_500, 155_500), Point(580_500, 155_500)], crs=BNG)
    sites.to_file(tmp_path / "sites.gpkg", layer="sites", driver="GPKG")
    return tmp_path


def _load(folder, deprivation):
    return load_inputs(parse_scenario({
        "areas": {"path": str(folder / "areas.gpkg"), "id": "code", "population": "pop",
                  "deprivation": deprivation},
        "sites": {"path": str(folder / "sites.gpkg"), "id": "site_code"}}, base_dir=folder))


def _error(folder, deprivation):
    with pytest.raises(InputError) as info:
        _load(folder, deprivation)
    errors = [p for p in info.value.problems if p.severity == "error"]
    assert len(errors) == 1, [str(p) for p in info.value.problems]
    return errors[0]


def test_a_plain_column_name_is_a_score_as_before(files):
    got = _load(files, "imd_score")
    full = _load(files, {"column": "imd_score", "kind": "score", "index": "IMD2019"})
    np.testing.assert_array_equal(got.areas["deprivation"], full.areas["deprivation"])
    assert got.areas["deprivation"].between(3, 60).all()


def test_deciles_read_as_a_score_are_an_error_naming_file_column_and_remedy(files):
    p = _error(files, "imd_decile")
    assert p.column == "imd_decile" and "areas.gpkg" in str(p.file)
    assert "look like deciles" in p.message and "kind: score" in p.message
    assert "kind: rank or decile" in p.hint


def test_ranks_read_as_a_score_are_an_error(files):
    p = _error(files, {"column": "imd_rank"})
    assert p.column == "imd_rank" and "look like ranks" in p.message


def test_a_score_declared_a_decile_or_rank_is_an_error(files):
    p = _error(files, {"column": "imd_score", "kind": "decile", "index": "IMD2025"})
    assert "with decimals" in p.message and "whole numbers from 1 to 10" in p.message
    p = _error(files, {"column": "imd_score", "kind": "rank", "index": "IMD2025"})
    assert "IMD2025 ranks are whole numbers from 1 to 33,755" in p.message


def test_ranks_beyond_the_index_count_are_an_error(files, tmp_path):
    areas = gpd.read_file(files / "areas.gpkg", layer="areas")
    areas.loc[0, "imd_rank"] = 40_000
    areas.to_file(files / "areas.gpkg", layer="areas", driver="GPKG")
    p = _error(files, {"column": "imd_rank", "kind": "rank", "index": "IMD2025"})
    assert "40000" in p.message and "33,755" in p.message


def test_ranks_and_deciles_need_their_index(files):
    with pytest.raises(ScenarioError) as info:
        _load(files, {"column": "imd_rank", "kind": "rank"})
    assert "needs its index" in str(info.value)


def test_imd2019_ranks_are_refused_with_what_to_give_instead(files):
    p = _error(files, {"column": "imd_decile", "kind": "decile", "index": "IMD2019"})
    assert "cannot be turned into the score" in p.message
    assert "kind: score" in p.hint


def test_imd2025_ranks_and_deciles_become_score_equivalents(files):
    rank = _load(files, {"column": "imd_rank", "kind": "rank", "index": "IMD2025"})
    got = rank.areas["deprivation"].to_numpy()
    # most deprived first: the score falls as the rank rises; rank 48 is the curve's top
    assert got[0] == pytest.approx(79.076)
    assert np.all(np.diff(got[:11]) < 0)
    assert got[-1] == pytest.approx(79.076)  # rank 3 lies beyond the curve: its end
    decile = _load(files, {"column": "imd_decile", "kind": "decile", "index": "IMD2025"})
    d = decile.areas["deprivation"].to_numpy()
    assert np.all(np.diff(d[:10]) < 0)
    # decile 5's equivalent is the score at the middle of the national ranks: the median
    # LSOA (IoD 2025's England median score is about 17-19)
    assert 15 < d[4] < 22


def test_the_rank_curve_is_the_national_order_of_scores():
    ranks = [r for r, _ in IMD2025_RANK_SCORE]
    scores = [s for _, s in IMD2025_RANK_SCORE]
    assert ranks == sorted(ranks) and scores == sorted(scores, reverse=True)
    assert ranks[-1] <= LSOA_COUNT["IMD2025"]
    assert rank_to_score([ranks[10]], "IMD2025")[0] == pytest.approx(scores[10])
    assert decile_to_score([1], "IMD2025")[0] > decile_to_score([10], "IMD2025")[0]

"""Hub size: population band, site capacity, hub count (tiny fixture, see __init__)."""

from __future__ import annotations

import numpy as np
import pytest
from checker import check_plan

from mdtplan.errors import InfeasibleError
from mdtplan.model.build import build_model
from mdtplan.solve import SolveStatus

from . import solve_data, tiny_data, with_sites


def test_population_band_forces_a_second_hub():
    # Max 40,000 per hub: 60,000 people need both hubs (cost 680,000). Partitions within the
    # band: {A1,A2}|{A3} (30k/30k) or {A1,A3}|{A2} (40k/20k). Travel: A1,A2->S1 and A3->S2 gives
    # 50,000 + 200,000 + 150,000 = 400,000, the least; {A2,A3} (50k) is over the band.
    data = tiny_data(hub_population_max=40_000.0)
    result, tables, _ = solve_data(data)
    assert result.status is SolveStatus.optimal
    assert result.objective == pytest.approx(680_000)
    assert result.stage_objectives["travel"] == pytest.approx(400_000)
    assert tables["hubs"]["open"].all()
    got = dict(zip(tables["assignment"]["area_id"], tables["assignment"]["site_id"],
                   strict=True))
    assert got == {"A1": "S1", "A2": "S1", "A3": "S2"}
    assert check_plan(data, tables) == []


def test_population_minimum_keeps_a_hub_from_opening_small():
    # min_travel without count limits opens both (400,000); a band minimum of 35,000 means no
    # hub can serve only 30,000, so a single hub (S2, 550,000) is the best plan.
    data = tiny_data(objective="min_travel", hub_population_min=35_000.0)
    result, tables, _ = solve_data(data)
    assert result.objective == pytest.approx(550_000)
    assert check_plan(data, tables) == []


def test_site_capacity_in_weight_units():
    # S2 holds at most 35,000 people: it cannot take everyone, so min_cost (one hub) uses S1.
    data = with_sites(tiny_data(), capacity=[np.nan, 35_000.0])
    result, tables, _ = solve_data(data)
    assert result.objective == pytest.approx(580_000)
    assert list(tables["hubs"].loc[tables["hubs"]["open"], "site_id"]) == ["S1"]
    assert result.stage_objectives["travel"] == pytest.approx(1_000_000)
    assert check_plan(data, tables) == []


def test_hub_count_exactly_two():
    data = tiny_data(hub_count_min=2, hub_count_max=2)
    result, tables, _ = solve_data(data)
    assert result.objective == pytest.approx(680_000)
    assert tables["hubs"]["open"].sum() == 2


def test_required_site_stays_open_and_pays_no_opening_cost():
    # S1 required (opening cost 500,000 not charged: it exists), S2 candidate with opening
    # cost 500,000: min_cost keeps only S1 (580,000) rather than S1+S2.
    data = with_sites(tiny_data(), status=["required", "candidate"],
                      opening_cost_gbp=[500_000.0, 500_000.0])
    result, tables, _ = solve_data(data)
    assert result.objective == pytest.approx(580_000)
    assert list(tables["hubs"].loc[tables["hubs"]["open"], "site_id"]) == ["S1"]


def test_excluded_site_is_never_a_variable():
    data = with_sites(tiny_data(), status=["candidate", "excluded"])
    model = build_model(data)
    assert list(model.SITES) == ["S1"]
    assert all(s == "S1" for _, s in model.PAIRS)


def test_prechecks_quote_the_numbers():
    with pytest.raises(InfeasibleError, match="60,000 exceeds what 1 hubs can hold"):
        build_model(tiny_data(hub_count_max=1, hub_population_max=40_000.0))
    with pytest.raises(InfeasibleError, match="at least 3 hubs are required but only 2"):
        build_model(tiny_data(hub_count_min=3))
    with pytest.raises(InfeasibleError, match="below 2 hubs"):
        build_model(tiny_data(hub_count_min=2, hub_population_min=40_000.0))
    far = tiny_data()
    pairs = far.pairs[far.pairs["area_id"] != "A3"]
    from dataclasses import replace
    with pytest.raises(InfeasibleError, match="1 area\\(s\\) have no allowed site"):
        build_model(replace(far, pairs=pairs, max_travel=15.0))

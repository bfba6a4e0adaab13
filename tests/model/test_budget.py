"""Budget cap and the lexicographic max_demand_met objective."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from checker import check_plan

from mdtplan.model.families.budget_cap import site_cost_gbp
from mdtplan.solve import SolveStatus

from . import solve_data, tiny_data


def test_max_demand_met_under_a_tight_budget():
    # Cap 480,000: a hub (100,000) leaves 380,000 for staff. sw gives 1,000 h per 50,000 and
    # ot 500 h per 30,000 (half steps). Best: 7,000 h delivered (e.g. 6 sw + 1 ot), so 2,000 h
    # unmet. Stage 2, least cost among those: 6 sw + 1 ot = 300k + 60k + 100k = 460,000.
    # Stage 3, travel: S2 (550,000) rather than S1.
    data = tiny_data(objective="max_demand_met", budget_cap_gbp=480_000.0)
    result, tables, _ = solve_data(data)
    assert result.status is SolveStatus.optimal
    assert result.objective == pytest.approx(2000)
    assert result.stage_objectives["unmet_hours"] == pytest.approx(2000)
    assert result.stage_objectives["cost_gbp"] == pytest.approx(460_000)
    assert result.stage_objectives["travel"] == pytest.approx(550_000)
    assert list(result.stage_objectives) == ["unmet_hours", "cost_gbp", "travel"]
    assert check_plan(data, tables) == []


def test_budget_cap_binds_min_cost():
    # min_cost needs 580,000; a cap of 579,999 makes it infeasible
    result, _, _ = solve_data(tiny_data(budget_cap_gbp=579_999.0))
    assert result.status is SolveStatus.infeasible
    result, tables, _ = solve_data(tiny_data(budget_cap_gbp=580_000.0))
    assert result.status is SolveStatus.optimal
    assert result.objective == pytest.approx(580_000)


def test_existing_site_costed_as_existing():
    # S1 existing with an opening cost of 50,000 that is not charged; S2 candidate pays it.
    # S1 alone = 580,000; S2 alone = 630,000: S1 wins despite longer travel.
    from . import with_sites
    data = with_sites(tiny_data(), status=["existing", "candidate"],
                      opening_cost_gbp=[50_000.0, 50_000.0])
    result, tables, _ = solve_data(data)
    assert result.objective == pytest.approx(580_000)
    assert list(tables["hubs"].loc[tables["hubs"]["open"], "site_id"]) == ["S1"]


def _site_cost_by_loc(data, site_ids):
    """site_cost_gbp as it was: the rows taken with .loc."""
    sites = data.sites.loc[list(site_ids)]
    fixed = sites["fixed_cost_gbp"].astype(float).fillna(0.0).to_numpy()
    opening = sites["opening_cost_gbp"].astype(float).fillna(0.0).to_numpy()
    return fixed + np.where(sites["status"].astype(str).to_numpy() == "candidate", opening, 0.0)


@pytest.mark.parametrize("seed", range(10))
def test_site_cost_is_as_taken_row_by_row(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 30))
    ids = [f"S{i}" for i in rng.permutation(n)]
    sites = pd.DataFrame({
        "name": ids, "status": rng.choice(["candidate", "existing", "required", "excluded"], n),
        "fixed_cost_gbp": np.where(rng.random(n) < 0.2, np.nan, rng.random(n) * 1e5),
        "opening_cost_gbp": np.where(rng.random(n) < 0.2, np.nan, rng.random(n) * 1e4),
        "capacity": np.nan, "capacity_fte": np.nan,
        "pool": pd.array([pd.NA] * n, dtype="string")}, index=pd.Index(ids, name="site_id"))
    if seed % 3 == 0:  # not a float column: the pandas conversion
        sites["opening_cost_gbp"] = sites["opening_cost_gbp"].astype(object)
    data = replace(tiny_data(), sites=sites)
    for chosen in (ids, list(rng.permutation(ids)[: int(rng.integers(0, n + 1))]),
                   [s for s, st in zip(ids, sites["status"], strict=True) if st != "excluded"]):
        expected = _site_cost_by_loc(data, chosen)
        got = site_cost_gbp(data, chosen)
        assert got.dtype == expected.dtype and got.tobytes() == expected.tobytes()
    with pytest.raises(KeyError):
        site_cost_gbp(data, ids + ["nowhere"])

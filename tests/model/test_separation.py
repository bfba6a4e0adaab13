"""No two open hubs closer than ``hubs.min_separation_km``, on the tiny instance.

S1 and S2 stand 1.5 km apart (S1 at (0, 0), S2 at (1,200, 900) m). With one or two hubs and
least population-weighted travel, both open without the rule (5 x 10,000 + 10 x 20,000 +
5 x 30,000 = 400,000); with a 2 km separation only one may open, and S2 is the better one alone
(20 x 10,000 + 10 x 20,000 + 5 x 30,000 = 550,000 against S1's 1,000,000).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from checker import check_plan

from mdtplan.errors import InfeasibleError
from mdtplan.model.build import build_model
from mdtplan.model.checks import check_data
from mdtplan.model.families.hub_separation import conflict_cliques, conflict_pairs
from mdtplan.model.index import index_data
from mdtplan.solve import SolveStatus, compile_differences

from . import solve_data, tiny_data


def _data(km, xy=((0.0, 0.0), (1200.0, 900.0)), **changes):
    data = tiny_data(**{"objective": "min_travel", "hub_count_min": 1, "hub_count_max": 2,
                        "hub_min_separation_km": km, **changes})
    sites = data.sites.copy()
    sites["easting_m"] = [p[0] for p in xy]
    sites["northing_m"] = [p[1] for p in xy]
    return replace(data, sites=sites)


@pytest.mark.parametrize(("km", "travel", "hubs"), [(None, 400_000.0, ["S1", "S2"]),
                                                    (1.4, 400_000.0, ["S1", "S2"]),
                                                    (2.0, 550_000.0, ["S2"])])
def test_the_rule_keeps_close_sites_from_both_opening(km, travel, hubs):
    data = _data(km)
    result, tables, _ = solve_data(data)
    assert result.status == SolveStatus.optimal
    assert result.objective == pytest.approx(travel)
    assert sorted(tables["hubs"].query("open")["site_id"]) == hubs
    assert check_plan(data, tables) == []


def test_the_checker_sees_two_hubs_too_close():
    _, tables, _ = solve_data(_data(None))
    assert check_plan(_data(2.0), tables) == [
        "hub_separation: hubs S1 and S2 are 1.500 km apart < 2.0 km"]


def test_sites_without_a_point_are_not_held_to_it():
    data = _data(2.0, xy=((0.0, 0.0), (np.nan, np.nan)))
    assert build_model(data).component("hub_separation") is None
    assert build_model(tiny_data(hub_min_separation_km=2.0)).component("hub_separation") is None


@pytest.mark.parametrize("assignment", ["single", "split"])
def test_the_direct_build_has_the_same_rows(assignment):
    model = build_model(_data(2.0, assignment=assignment))
    assert list(model.hub_separation.keys()) == ["S1+S2"]
    assert compile_differences(model) == []


def test_two_required_sites_too_close_are_refused_before_solving():
    data = _data(2.0)
    sites = data.sites.copy()
    sites["status"] = "required"
    with pytest.raises(InfeasibleError) as err:
        check_data(replace(data, sites=sites))
    [problem] = [p for p in err.value.problems if "separation" in p.message]
    assert problem.row == "S1, S2"
    assert "required site S2 stands 1.50 km from required site S1" in problem.message
    assert "hubs.min_separation_km: 2" in problem.message
    assert "make one of S1 and S2 candidate" in problem.hint


def test_a_clique_cover_covers_every_close_pair_once_per_clique():
    # five sites: S0-S2 within 1 km of each other, S3 1.9 km from S2 only, S4 far away
    xy = np.array([[0, 0], [500, 0], [250, 400], [250, 2300], [9000, 0]], dtype=float)
    ids = [f"S{i}" for i in range(5)]
    base = tiny_data()
    sites = pd.concat([base.sites.iloc[[0]]] * 5)
    sites.index = pd.Index(ids, name="site_id")
    sites["name"] = ids
    sites["easting_m"], sites["northing_m"] = xy[:, 0], xy[:, 1]
    pairs = pd.DataFrame([{"area_id": a, "site_id": s, "travel_cost": 1.0, "pool": "all"}
                          for a in base.areas.index for s in ids])
    data = replace(base, sites=sites, pairs=pairs, hub_min_separation_km=2.0)
    ix = index_data(data)
    ij, _ = conflict_pairs(data, ix)
    assert [tuple(p) for p in ij.tolist()] == [(0, 1), (0, 2), (1, 2), (2, 3)]
    assert conflict_cliques(data, ix) == [(0, 1, 2), (2, 3)]
    model = build_model(data)
    assert compile_differences(model) == []
    assert list(model.hub_separation.keys()) == ["S0+S1+S2", "S2+S3"]


def test_the_heuristic_start_keeps_the_rule():
    from mdtplan.solve.start import StartInput, build_start

    data = _data(2.0)
    plan = build_start(StartInput.of_model(build_model(data)), max_seconds=1.0)
    assert plan.is_open.sum() == 1


def test_an_explanation_names_the_rule_when_it_conflicts():
    from mdtplan.explain import explain_infeasible
    from mdtplan.solve import SolveOptions

    data = _data(2.0, hub_count_min=2)  # two hubs, but the only two sites are too close
    result, _, _ = solve_data(data)
    assert result.status == SolveStatus.infeasible
    problems = explain_infeasible(data, SolveOptions(time_limit_s=20, mip_gap=0.0))
    sep = [p for p in problems if p.column == "hubs.min_separation_km"]
    assert sep and sep[0].row == "S1+S2" and "closer than 2 km" in sep[0].message

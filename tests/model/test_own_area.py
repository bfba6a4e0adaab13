"""A hub serves the area it stands in (``hubs.serve_own_area``), on the tiny instance.

S1 stands in A3 (travel A3-S1 25 minutes, A3-S2 5); S2 stands in no area. With both hubs open
and least population-weighted travel, A3 goes to S2 without the rule (A1 and A2 to S1 or either:
5 x 10,000 + 10 x 20,000 + 5 x 30,000 = 400,000) and to S1 with it (5 x 10,000 + 10 x 20,000 +
25 x 30,000 = 1,000,000).
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest
from checker import check_plan

from mdtplan.errors import InfeasibleError
from mdtplan.model.build import build_model
from mdtplan.model.checks import check_data
from mdtplan.solve import SolveStatus, compile_differences

from . import solve_data, tiny_data


def _data(rule: bool, own=("A3", pd.NA), **changes):
    data = tiny_data(objective="min_travel", hub_count_min=2, hub_count_max=2,
                     serve_own_area=rule, **changes)
    sites = data.sites.copy()
    sites["area_id"] = pd.array(list(own), dtype="string")
    return replace(data, sites=sites)


@pytest.mark.parametrize(("rule", "travel", "a3_hub"), [(False, 400_000.0, "S2"),
                                                        (True, 1_000_000.0, "S1")])
def test_the_rule_moves_a3_to_the_hub_standing_in_it(rule, travel, a3_hub):
    data = _data(rule)
    result, tables, _ = solve_data(data)
    assert result.status == SolveStatus.optimal
    assert result.objective == pytest.approx(travel)
    a3 = tables["assignment"].query("area_id == 'A3' and share > 0.5")
    assert list(a3["site_id"]) == [a3_hub]
    assert check_plan(data, tables) == []


def test_the_checker_sees_a_hub_not_serving_its_own_area():
    _, tables, _ = solve_data(_data(False))  # A3 goes to S2 though S1 stands in it
    assert check_plan(_data(True), tables) == [
        "hub_serves_own_area: hub S1 does not serve its own area A3"]


@pytest.mark.parametrize("assignment", ["single", "split"])
def test_the_direct_build_has_the_same_rows(assignment):
    model = build_model(_data(True, assignment=assignment))
    assert model.component("hub_serves_own_area") is not None
    assert compile_differences(model) == []


def test_a_site_that_cannot_reach_its_own_area_is_refused_before_solving():
    data = _data(True)
    pairs = data.pairs[~((data.pairs.area_id == "A3") & (data.pairs.site_id == "S1"))]
    with pytest.raises(InfeasibleError) as err:
        check_data(replace(data, pairs=pairs.reset_index(drop=True)))
    [problem] = [p for p in err.value.problems if p.column == "hubs.serve_own_area"]
    assert problem.row == "S1 (in A3)" and "cannot reach the area they stand in" in \
        problem.message


def test_two_required_sites_in_one_area_are_refused_before_solving():
    data = _data(True, own=("A2", "A2"))
    sites = data.sites.copy()
    sites["status"] = "required"
    with pytest.raises(InfeasibleError) as err:
        check_data(replace(data, sites=sites))
    [problem] = [p for p in err.value.problems if p.column == "status"]
    assert "S1, S2 all stand in area A2" in problem.message
    assert "only one of them can open" in problem.message


def test_without_the_rule_or_an_own_area_nothing_is_built():
    assert build_model(_data(False)).component("hub_serves_own_area") is None
    assert build_model(_data(True, own=(pd.NA, pd.NA))).component("hub_serves_own_area") is None


def test_the_heuristic_start_keeps_the_rule():
    # its plan is feasible for every row, so HiGHS starts from a whole plan
    from mdtplan.model.index import index_data
    from mdtplan.solve.start import StartInput, build_start

    data = _data(True)
    plan = build_start(StartInput.of_model(build_model(data)), max_seconds=1.0)
    assert plan.feasible and plan.is_open.all()
    ix = index_data(data)
    assert ix.site_ids[plan.chosen[ix.area_ids.index("A3")]] == "S1"


def test_an_explanation_names_the_rule_when_it_conflicts():
    # both sites stand in A2 and both must open: each would have to serve A2 whole
    from mdtplan.explain import explain_infeasible
    from mdtplan.solve import SolveOptions

    data = _data(True, own=("A2", "A2"))
    result, _, _ = solve_data(data)
    assert result.status == SolveStatus.infeasible
    problems = explain_infeasible(data, SolveOptions(time_limit_s=20, mip_gap=0.0))
    own = [p for p in problems if p.column == "hubs.serve_own_area"]
    assert own and "cannot serve the area they stand in" in own[0].message
    assert any(p.column == "hubs.count.min" for p in problems)  # the other way out

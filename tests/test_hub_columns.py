"""The hub-column bound (mdtplan.solve.hub_columns): never above a proven optimum, exact
where a hub's rounding is the whole story, above the compact LP where rounding hides, and it
stops when told."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from model import with_levers
from test_cuts import _lp_bound, _one_hub, _random_cases, _random_lever_cases

from mdtplan.model.families.lever_reach import lever_index
from mdtplan.model.index import index_data
from mdtplan.model.matrix import build_matrix
from mdtplan.solve import Session, SolveOptions
from mdtplan.solve import hub_columns as hc


def _bound(data, **kw):
    ix = index_data(data)
    mm = build_matrix(data, ix)
    levers = lever_index(data, ix)
    costs = hc.hub_costs(ix, mm.c0, mm.offset0, hc.matrix_columns(mm), mm.col_upper, levers,
                         mm.col_lower)
    assert not isinstance(costs, str), costs
    kw.setdefault("seconds", 30.0)
    return mm, hc.column_bound(data, ix, costs, population_min=data.hub_population_min,
                               population_max=data.hub_population_max,
                               count_min=data.hub_count_min, count_max=data.hub_count_max,
                               levers=levers, **kw)


def test_one_hub_is_priced_exactly():
    # one area, one site, 1,500 h of social work in whole FTE: the only plan staffs 2 FTE;
    # the compact LP staffs 1.5
    data = _one_hub(1500.0)
    mm, out = _bound(data)
    optimum = Session.from_data(data, SolveOptions(mip_gap=0.0, threads=1,
                                                   time_limit_s=30.0)).solve().objective
    assert out.converged
    assert optimum - 2.0 <= out.bound <= optimum
    assert out.bound - _lp_bound(mm) == pytest.approx(25_000.0, abs=3.0)
    assert out.history and out.history[-1][1] == out.bound


def test_a_lever_that_frees_hours_is_in_the_column():
    # 10 people freeing 20 h each: 1,300 h to staff, still 2 FTE, and GBP 50,000 saved
    data = with_levers(_one_hub(1500.0), {"rehab": {"cohort": [10.0], "hours": {"sw": -20.0},
                                                    "saving": 5_000.0, "share": 1.0}})
    _, out = _bound(data)
    optimum = Session.from_data(data, SolveOptions(mip_gap=0.0, threads=1,
                                                   time_limit_s=30.0)).solve().objective
    assert out.converged and optimum - 2.0 <= out.bound <= optimum


def _min_cost(cases):
    return [d for d in cases if d.objective == "min_cost"]


@pytest.mark.parametrize("data", _min_cost(_random_cases(30))
                         + _min_cost(_random_lever_cases(20)))
def test_never_above_the_proven_optimum(data):
    """Whatever the rules (band, budget, counts, capacity, supply, levers), the bound is one:
    the column search drops rules, so it may be lower than the compact LP, never above the
    optimum."""
    result = Session.from_data(data, SolveOptions(mip_gap=0.0, threads=1,
                                                  time_limit_s=60.0)).solve()
    if not result.has_solution:
        return
    assert result.status.value == "optimal"
    mm, out = _bound(data)
    assert np.isfinite(out.bound)
    assert out.bound <= result.objective + 1e-6 * abs(result.objective) + 1e-6
    if out.converged and data.budget_cap_gbp is None and not data.supply_fte:
        # nothing dropped that the LP keeps: the hubs' convex hull is inside the LP's
        assert out.bound >= _lp_bound(mm) - 1e-6 * abs(result.objective) - 2.0


def test_the_search_stops_when_told():
    data = _random_lever_cases(1)[0]
    calls = []

    def stop():
        calls.append(1)
        return len(calls) > 3

    _, out = _bound(replace(data, objective="min_cost"), stop=stop)
    assert out.rounds <= 1 and not out.converged


def test_a_dropped_rule_with_a_negative_cost_refuses():
    data = _one_hub(1500.0)
    ix = index_data(data)
    mm = build_matrix(data, ix)
    cols = hc.matrix_columns(mm)
    c = mm.c0.copy()
    lo, _ = mm.col_spans["agency_fte"] if "agency_fte" in mm.col_spans else (None, None)
    if lo is None:
        pytest.skip("no agency column in the tiny build")
    c[lo] = -1.0
    why = hc.hub_costs(ix, c, 0.0, cols, mm.col_upper)
    assert isinstance(why, str) and "agency_fte" in why


def test_levers_need_their_index():
    data = with_levers(_one_hub(1500.0), {"rehab": {"cohort": [10.0], "hours": {"sw": -20.0},
                                                    "saving": 5_000.0, "share": 1.0}})
    ix = index_data(data)
    mm = build_matrix(data, ix)
    costs = hc.hub_costs(ix, mm.c0, mm.offset0, hc.matrix_columns(mm), mm.col_upper,
                         lever_index(data, ix))
    with pytest.raises(ValueError, match="levers"):
        hc.column_bound(data, ix, costs)


def test_greedy_rounds_change_the_pace_not_the_bound(monkeypatch):
    """Rounds priced by greedy hubs add columns cheaply; the converged bound is the one the
    MIP rounds alone reach."""
    cases = [d for d in _min_cost(_random_lever_cases(20))][:8]
    with_greedy = [_bound(d)[1] for d in cases]
    assert sum(out.cheap_rounds for out in with_greedy) > 0
    monkeypatch.setattr(hc, "_greedy", lambda *args: None)
    for data, fast in zip(cases, with_greedy, strict=True):
        slow = _bound(data)[1]
        if fast.converged and slow.converged:
            assert fast.bound == pytest.approx(slow.bound, rel=1e-5, abs=5.0)

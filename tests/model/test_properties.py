"""Property tests on random small instances: the checker finds no violation, and the optimum
moves the right way when a rule is relaxed (budget up, band wider) or tightened (site out)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from checker import check_plan, plan_cost_gbp, plan_travel, plan_unmet_hours
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdtplan.errors import InfeasibleError
from mdtplan.model.build import build_model
from mdtplan.solve import SolveStatus

from . import random_data, solve_data

SETTINGS = settings(max_examples=20, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _data(seed, **kw):
    rng = np.random.default_rng(seed)
    base = dict(n_areas=int(rng.integers(3, 7)), n_sites=int(rng.integers(2, 5)),
                n_roles=int(rng.integers(0, 4)), objective="min_cost", assignment="single",
                band=False, budget=False, count=False, capacity=False, supply=False, reach=None)
    base.update(kw)
    return random_data(rng, **base)


def _solve_or_skip(data):
    try:
        return solve_data(data, time_limit_s=30.0)
    except InfeasibleError:
        return None, None, None


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1),
       objective=st.sampled_from(["min_cost", "min_travel", "max_demand_met", "min_max_travel"]),
       assignment=st.sampled_from(["single", "split"]),
       band=st.booleans(), budget=st.booleans(), count=st.booleans(), capacity=st.booleans(),
       supply=st.booleans(), reach=st.sampled_from([None, 18.0]))
def test_checker_finds_no_violation(seed, objective, assignment, band, budget, count, capacity,
                                    supply, reach):
    data = _data(seed, objective=objective, assignment=assignment, band=band, budget=budget,
                 count=count, capacity=capacity, supply=supply, reach=reach)
    result, tables, model = _solve_or_skip(data)
    if result is None:
        return
    assert result.status in (SolveStatus.optimal, SolveStatus.infeasible)
    if result.status is SolveStatus.infeasible:
        assert tables is None and result.objective is None
        return
    assert check_plan(data, tables) == []
    # the reported objective is the plan's own figure, recomputed without Pyomo
    if objective == "min_cost":
        expected = plan_cost_gbp(data, tables) + data.travel_cost_gbp_per_unit * plan_travel(
            data, tables)
        assert result.objective == pytest.approx(expected, rel=1e-6, abs=1e-6)
    elif objective == "min_travel":
        assert result.objective == pytest.approx(plan_travel(data, tables), rel=1e-6, abs=1e-6)
    elif objective == "max_demand_met":
        assert result.objective == pytest.approx(plan_unmet_hours(tables), rel=1e-6, abs=1e-4)


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1), extra=st.floats(50_000, 2_000_000))
def test_raising_the_budget_never_lowers_demand_met(seed, extra):
    data = _data(seed, n_roles=2, objective="max_demand_met", budget=True)
    low, _, _ = _solve_or_skip(data)
    high, _, _ = _solve_or_skip(replace(data, budget_cap_gbp=data.budget_cap_gbp + extra))
    if low is None or not low.has_solution:
        return
    assert high.has_solution
    assert high.objective <= low.objective + 1e-6 * max(1.0, low.objective)


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1), which=st.integers(0, 10))
def test_excluding_a_site_never_lowers_min_cost(seed, which):
    data = _data(seed, objective="min_cost", capacity=True)
    base, _, _ = _solve_or_skip(data)
    if base is None or not base.has_solution:
        return
    sites = data.sites.copy()
    optional = sites.index[sites["status"] != "required"]  # a required site is a rule itself
    s = optional[which % len(optional)]
    sites.loc[s, "status"] = "excluded"
    less = replace(data, sites=sites, pairs=data.pairs[data.pairs["site_id"] != s])
    try:
        build_model(less)
    except InfeasibleError:
        return
    fewer, _, _ = _solve_or_skip(less)
    if fewer.status is SolveStatus.infeasible:
        return
    assert fewer.objective >= base.objective - 1e-6 * max(1.0, base.objective)


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1), widen=st.floats(1.0, 3.0))
def test_a_wider_population_band_never_raises_cost(seed, widen):
    data = _data(seed, objective="min_cost", band=True)
    narrow, _, _ = _solve_or_skip(data)
    wide, _, _ = _solve_or_skip(replace(data, hub_population_min=data.hub_population_min / widen,
                                        hub_population_max=data.hub_population_max * widen))
    if narrow is None or not narrow.has_solution:
        return
    assert wide.has_solution
    assert wide.objective <= narrow.objective + 1e-6 * max(1.0, narrow.objective)

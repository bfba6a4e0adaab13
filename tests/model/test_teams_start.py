"""The locality teams' start (:mod:`mdtplan.solve.teams_start`): every grouping it returns
meets every rule, its lower bound never exceeds the MIP's proven fewest, and with it the MIP
gives teams even when HiGHS has no time to find its own."""

from __future__ import annotations

import numpy as np
import pytest

from mdtplan.solve.localities import plan_localities
from mdtplan.solve.teams_start import start_teams, tree_flow


def _grid(rows: int, cols: int, seed: int):
    """Hubs on a rows x cols grid (4-neighbours), 20,000-50,000 people each, two pools split
    down the middle, km between centres."""
    rng = np.random.default_rng(seed)
    n = rows * cols
    xy = np.array([(c, r) for r in range(rows) for c in range(cols)], float)
    edges = [(r * cols + c, r * cols + c + 1) for r in range(rows) for c in range(cols - 1)]
    edges += [(r * cols + c, (r + 1) * cols + c) for r in range(rows - 1) for c in range(cols)]
    pop = rng.uniform(2e4, 5e4, n).round()
    pools = ["West" if x < cols / 2 else "East" for x, _ in xy]
    km = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    return pop, pools, edges, km


def _meets_rules(lead, pop, pools, edges, *, pmin, pmax, count_min=0, count_max=None,
                 contiguous=True):
    teams: dict[int, list[int]] = {}
    for j, k in enumerate(lead):
        teams.setdefault(int(k), []).append(j)
    assert count_min <= len(teams) <= (count_max if count_max is not None else len(lead))
    nb = {j: set() for j in range(len(pop))}
    for a, b in edges:
        nb[a].add(b)
        nb[b].add(a)
    for k, members in teams.items():
        assert k in members, "a team's lead is one of its hubs"
        assert len({pools[j] for j in members}) == 1, "a team within one pool"
        total = pop[members].sum()
        assert (pmin or 0) - 1e-6 <= total <= (pmax or np.inf) + 1e-6
        if contiguous:
            seen, todo = {k}, [k]
            while todo:
                i = todo.pop()
                for j in nb[i] & set(members):
                    if j not in seen:
                        seen.add(j)
                        todo.append(j)
            assert seen == set(members), f"team {k} in pieces"


@pytest.mark.parametrize("seed", range(8))
def test_every_grouping_returned_meets_every_rule(seed):
    pop, pools, edges, km = _grid(4, 6, seed)
    band = dict(population_min=1e5, population_max=2.4e5)
    lead, fewest = start_teams(pop, pools, edges, km, **band)
    assert lead is not None  # these grids always have a grouping, and the start finds it
    _meets_rules(lead, pop, pools, edges, pmin=1e5, pmax=2.4e5)
    assert fewest <= len(set(lead.tolist()))


@pytest.mark.parametrize("seed", range(6))
def test_the_bound_never_exceeds_the_proven_fewest(seed):
    # grids small enough for HiGHS to prove the fewest teams at once (24 hubs can take it
    # minutes: the start is what makes county-sized teams quick)
    pop, pools, edges, km = _grid(3, 4, seed)
    band = dict(population_min=6e4, population_max=1.2e5)
    lead, fewest = start_teams(pop, pools, edges, km, **band)
    proven = plan_localities(pop, pools, edges, km, **band, time_limit_s=120)
    assert proven.status in ("optimal", "infeasible")
    if proven.status == "optimal":
        assert fewest <= proven.teams
        assert lead is None or proven.teams <= len(set(lead.tolist()))
    else:
        assert lead is None  # the start never claims a grouping the rules forbid


def test_the_count_band_is_met_by_splitting_where_a_unit_allows():
    pop, pools, edges, km = _grid(4, 6, 3)
    band = dict(population_min=6e4, population_max=2.4e5)
    few, _ = start_teams(pop, pools, edges, km, **band)
    more, fewest = start_teams(pop, pools, edges, km, **band, count_min=len(set(few)) + 3)
    assert fewest == len(set(few)) + 3
    _meets_rules(more, pop, pools, edges, pmin=6e4, pmax=2.4e5, count_min=fewest)
    # a count the populations cannot reach: no grouping, and the bound says why
    none, bound = start_teams(pop, pools, edges, km, **band, count_max=1)
    assert none is None and bound > 1


def test_without_contiguity_teams_may_skip_over_hubs():
    # a path of three: 10,000 / 20,000 / 10,000, teams of exactly 20,000 need {0, 2} together
    pop, pools, edges, km = [1e4, 2e4, 1e4], ["P"] * 3, [(0, 1), (1, 2)], \
        np.abs(np.subtract.outer(np.arange(3.0), np.arange(3.0)))
    band = dict(population_min=2e4, population_max=2e4)
    assert start_teams(pop, pools, edges, km, **band)[0] is None
    lead, _ = start_teams(pop, pools, edges, km, **band, contiguous=False)
    assert lead is not None and lead[0] == lead[2] != lead[1]


def test_tree_flow_gives_each_member_one_unit_from_its_lead():
    # a team 0-1-2-3 led by 1 (a path), and a team {4} alone
    lead = np.array([1, 1, 1, 1, 4])
    nb = {0: {1}, 1: {0, 2}, 2: {1, 3}, 3: {2}, 4: set()}
    flow = tree_flow(lead, lambda i: nb[i])
    assert flow == {(1, 1, 0): 1.0, (1, 1, 2): 2.0, (1, 2, 3): 1.0}


def test_the_mip_gives_teams_when_highs_has_no_time_to_find_any():
    # 48 hubs in two pools, a band that HiGHS needs a search for; 0.01 s is no search at all
    pop, pools, edges, km = _grid(6, 8, 11)
    band = dict(population_min=1e5, population_max=2.4e5, count_min=9)
    plan = plan_localities(pop, pools, edges, km, **band, time_limit_s=0.01)
    assert plan.status in ("optimal", "feasible_at_limit") and plan.lead is not None
    _meets_rules(plan.lead, pop, pools, edges, pmin=1e5, pmax=2.4e5, count_min=9)

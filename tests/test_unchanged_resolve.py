"""A re-solve whose new budget cap provably changes nothing returns the proven plan without
running HiGHS, and is always what a fresh solve at that cap gives."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from model import random_data, tiny_data

from mdtplan.model.checks import check_data
from mdtplan.solve import Session, SolveOptions
from mdtplan.solve.reuse import ModelEdit

OPTS = SolveOptions(mip_gap=0.0, threads=1, time_limit_s=60.0)


def _fresh(data, cap):
    return Session.from_data(replace(data, budget_cap_gbp=cap), OPTS).solve()


def _same(a, b):
    assert a.status == b.status
    for stage, value in b.stage_objectives.items():
        assert a.stage_objectives[stage] == pytest.approx(value, rel=1e-6, abs=1e-6), stage


def _skipped(result) -> bool:
    return result.highs_run_seconds == 0.0 and "proven unchanged" in result.message


def test_a_cap_that_does_not_bind_is_raised_and_lowered_without_the_solver():
    data = tiny_data(budget_cap_gbp=10_000_000.0)
    session = Session.from_data(data, OPTS)
    first = session.solve()
    cost = first.stage_objectives["cost_gbp"]
    assert first.highs_run_seconds > 0
    for cap in (12_000_000.0, cost + 1.0, 11_000_000.0):
        session.set_param("budget_cap_gbp", cap)
        again = session.solve()
        assert _skipped(again), cap
        _same(again, _fresh(data, cap))
        assert session.tables(replace(data, budget_cap_gbp=cap))["hubs"].equals(
            session.tables(data)["hubs"])
    # below the plan's cost the plan is no longer allowed: solved again
    session.set_param("budget_cap_gbp", cost - 1.0)
    below = session.solve()
    assert not _skipped(below)
    _same(below, _fresh(data, cost - 1.0))


def test_a_binding_cap_raised_is_solved_again():
    data = tiny_data(objective="max_demand_met", budget_cap_gbp=250_000.0)
    session = Session.from_data(data, OPTS)
    first = session.solve()
    assert first.stage_objectives["unmet_hours"] > 0  # the cap binds
    session.set_param("budget_cap_gbp", 400_000.0)
    again = session.solve()
    assert not _skipped(again)
    _same(again, _fresh(data, 400_000.0))


def test_any_other_change_solves_again():
    data = tiny_data(budget_cap_gbp=10_000_000.0, hub_count_min=1)
    session = Session.from_data(data, OPTS)
    session.solve()
    session.set_param("hub_count_min", 1)
    assert not _skipped(session.solve())
    session.set_param("budget_cap_gbp", 11_000_000.0)
    assert _skipped(session.solve())


def test_every_edit_but_the_cap_invalidates_the_proof_and_says_which():
    data = tiny_data(budget_cap_gbp=10_000_000.0, hub_count_min=1)
    session = Session.from_data(data, OPTS)
    reuse = session.reuse
    assert reuse.proof is None and reuse.invalidated_by == "no solve yet"
    session.solve()
    assert reuse.proof is not None and reuse.edits == []
    session.set_param("budget_cap_gbp", 11_000_000.0)
    assert reuse.proof is not None
    assert reuse.edits == [ModelEdit("param", "budget_cap_gbp")]
    session.set_param("hub_count_min", 1)
    assert reuse.proof is None and reuse.invalidated_by == ModelEdit("param", "hub_count_min")
    assert not _skipped(session.solve())
    assert reuse.proof is not None and reuse.edits == []
    # with the Pyomo model built, a cap's rows are re-derived from it: that is not proven
    site = data.sites.index[0]
    session.set_var_bounds(session.model.open_site[site], 0, 1)
    assert reuse.invalidated_by == ModelEdit("var_bounds", f"open_site[{site}]")
    session.solve()
    session.set_param("budget_cap_gbp", 12_000_000.0)
    assert reuse.proof is None and reuse.invalidated_by == ModelEdit("rows", "budget_cap")
    assert not _skipped(session.solve())
    session.set_constraint_bounds("hub_count_min", lower=1)
    assert reuse.invalidated_by == ModelEdit("constraint_bounds", "hub_count_min")
    session.close()


def test_a_solve_not_proven_leaves_no_proof():
    data = tiny_data(budget_cap_gbp=10_000_000.0)
    session = Session.from_data(data, OPTS)
    session.solve(replace(OPTS, time_limit_s=0.0))
    assert session.reuse.proof is None
    assert session.reuse.invalidated_by == "not proven optimal at every stage"
    session.close()


def _cases(count):
    rng = np.random.default_rng(7)
    out = []
    while len(out) < count:
        data = random_data(rng, n_areas=int(rng.integers(4, 8)), n_sites=int(rng.integers(2, 5)),
                           n_roles=3,
                           objective=str(rng.choice(["min_cost", "max_demand_met", "min_travel"])),
                           assignment=str(rng.choice(["single", "split"])),
                           band=bool(rng.random() < 0.5), budget=True,
                           count=bool(rng.random() < 0.5), capacity=bool(rng.random() < 0.3),
                           supply=bool(rng.random() < 0.3), reach=20.0)
        try:
            check_data(data)
        except Exception:  # noqa: BLE001 - infeasible by counting: not a case
            continue
        caps = data.budget_cap_gbp * rng.choice([0.6, 0.9, 1.0, 1.1, 1.5, 3.0], 4)
        out.append((data, caps.tolist()))
    return out


@pytest.mark.parametrize("data, caps", _cases(24))
def test_every_cap_gives_what_a_fresh_solve_gives(data, caps):
    session = Session.from_data(data, OPTS)
    session.solve()
    for cap in caps:
        session.set_param("budget_cap_gbp", cap)
        _same(session.solve(), _fresh(data, cap))


def test_the_cases_take_both_paths():
    """The property above covers re-solves skipped and re-solves run."""
    skipped = total = 0
    for data, caps in _cases(24)[:10]:
        session = Session.from_data(data, OPTS)
        session.solve()
        for cap in caps:
            session.set_param("budget_cap_gbp", cap)
            skipped += _skipped(session.solve())
            total += 1
    assert 0 < skipped < total

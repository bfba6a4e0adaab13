"""The direct (numpy) build is the same problem as the Pyomo model of record, compiled.

``compile_differences`` compares columns and rows (component and index, in order), bounds, integrality,
the objective and every matrix coefficient exactly. Checked here on random instances of every
objective and option (with zero populations, zero demand, excluded and required sites, pairs
without a pool, several supervision rules, parameters changed in place), on OR-Library instances,
the synthetic XS model and the demo; the benchmark checks every instance it runs.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pyomo.environ as pyo
import pytest
import scipy.sparse as sp

from mdtplan.model.build import build_model
from mdtplan.model.data import SupervisionRule
from mdtplan.model.index import index_data
from mdtplan.model.matrix import build_matrix, model_params
from mdtplan.solve import Session, SolveOptions, compile_differences, compile_model, extract_tables

from . import random_data, tiny_data

OBJECTIVES = ("min_cost", "max_demand_met", "min_travel", "min_max_travel")


def _perturbed(data, rng):
    """The corners the compiler treats specially: zero weights and demand (terms left out),
    excluded sites (no columns), a site reached by no area, pairs with no pool."""
    areas = data.areas.copy()
    demand = data.demand_hours.copy()
    sites = data.sites.copy()
    if len(areas) > 2 and rng.random() < 0.5:
        areas.iloc[int(rng.integers(len(areas))), areas.columns.get_loc("population")] = 0.0
    if demand.size and rng.random() < 0.5:
        mask = rng.random(demand.shape) < 0.3
        demand = demand.mask(mask, 0.0)
    if len(sites) > 2 and rng.random() < 0.4:
        sites.iloc[-1, sites.columns.get_loc("status")] = "excluded"
    pairs = data.pairs.copy()
    if len(sites) > 1 and rng.random() < 0.3:  # a site nobody may reach
        lonely = sites.index[1]
        keep = pairs["site_id"] != lonely
        if pairs.loc[keep, "area_id"].nunique() == len(areas):
            pairs = pairs[keep]
    supervision = data.supervision
    roles = list(data.roles.index)
    if len(roles) >= 3 and rng.random() < 0.5:
        supervision = (*supervision, SupervisionRule(roles[0], (roles[1], roles[2]), 5.0))
    separation = None
    if len(sites) > 1 and rng.random() < 0.4:  # hubs apart: sites 0-20 km apart, 8 km rule
        sites["easting_m"] = rng.random(len(sites)) * 20_000
        sites["northing_m"] = np.where(rng.random(len(sites)) < 0.2, np.nan,
                                       rng.random(len(sites)) * 20_000)
        separation = 8.0
    spread = float(rng.choice([0.0, 0.05, 0.2])) if rng.random() < 0.5 else None
    contiguous, edges = False, None
    if rng.random() < 0.4:  # contiguous catchments over a random neighbour graph
        ids = list(areas.index)
        e = [(ids[i], ids[i + 1]) for i in range(len(ids) - 1)]
        e += [(ids[i], ids[j]) for i in range(len(ids)) for j in range(i + 2, len(ids))
              if rng.random() < 0.2]
        edges = pd.DataFrame(e, columns=["area_a", "area_b"]).assign(kind="boundary")
        contiguous = True
        if rng.random() < 0.6:  # sites standing in areas (the roots), some in none
            sites["area_id"] = pd.array([ids[int(rng.integers(len(ids)))]
                                         if rng.random() < 0.8 else pd.NA
                                         for _ in range(len(sites))], dtype="string")
    levers = None
    if len(roles) and rng.random() < 0.35:  # levers: random cohorts, hours (some freed), savings
        from mdtplan.model.data import LeverData

        ids = [f"L{j}" for j in range(int(rng.integers(1, 3)))]
        cohort = pd.DataFrame(np.where(rng.random((len(areas), len(ids))) < 0.3, 0.0,
                                       rng.random((len(areas), len(ids))) * 50),
                              index=areas.index, columns=ids)
        hours = pd.DataFrame(np.round(rng.normal(5, 8, (len(ids), len(roles))), 1),
                             index=ids, columns=roles)
        levers = LeverData(cohort=cohort, hours=hours,
                           saving_gbp=pd.Series(rng.random(len(ids)) * 5000, index=ids),
                           max_share=pd.Series(rng.random(len(ids)), index=ids))
    return replace(data, areas=areas, demand_hours=demand, sites=sites, pairs=pairs,
                   supervision=supervision, hub_min_separation_km=separation,
                   max_shortfall_spread=spread, contiguous=contiguous, edges=edges,
                   levers=levers)


def _random_models(count: int):
    rng = np.random.default_rng(20261123)
    for i in range(count):
        objective, assignment = OBJECTIVES[i % 4], ("single", "split")[(i // 4) % 2]
        kw = {k: bool(rng.random() < 0.5) for k in ("band", "budget", "count", "capacity",
                                                     "supply")}
        data = random_data(rng, n_areas=int(rng.integers(2, 14)),
                           n_sites=int(rng.integers(1, 7)), n_roles=int(rng.integers(0, 4)),
                           objective=objective, assignment=assignment,
                           reach=18.0 if rng.random() < 0.5 else None, **kw)
        yield i, _perturbed(data, rng)


@pytest.mark.parametrize("i,data", list(_random_models(160)), ids=lambda v: str(v)
                         if isinstance(v, int) else "")
def test_random_instances_compile_to_the_same_problem(i, data):
    model = build_model(data, check=False)
    assert compile_differences(model) == []
    # and the direct build names every variable and constraint component with its keys
    mm = build_matrix(data, index_data(data))
    names = {c.local_name for c in model.component_objects((pyo.Var, pyo.Constraint))}
    assert set(mm.keys) == names
    for name, keys in mm.keys.items():
        assert list(keys) == list(model.component(name).keys()), name


def test_parameters_changed_in_place_are_read():
    data = tiny_data(budget_cap_gbp=900_000.0, hub_population_min=5_000.0,
                     hub_population_max=55_000.0, hub_count_min=1, hub_count_max=2)
    model = build_model(data)
    session = Session(model, SolveOptions(threads=1))
    for name, value in (("budget_cap_gbp", 700_000.0), ("hub_population_min", 9_000.0),
                        ("hub_population_max", 40_000.0), ("hub_count_max", 1),
                        ("demand_scale", 1.3)):
        session.set_param(name, value)
    assert model_params(model)["demand_scale"] == 1.3
    assert compile_differences(model) == []
    # what the session holds after those in-place changes is that same problem
    mm = build_matrix(data, index_data(data), model_params(model))
    lp = session.highs.getLp()
    assert np.array_equal(np.asarray(lp.row_upper_), mm.row_upper)
    assert np.array_equal(np.asarray(lp.row_lower_), mm.row_lower)
    a = lp.a_matrix_
    held = sp.csc_matrix((np.asarray(a.value_), np.asarray(a.index_), np.asarray(a.start_)),
                         shape=mm.A.shape)
    assert abs(held - mm.A).max() <= 1e-9 * abs(mm.A).max()
    # a lexicographic hold set on the model is read too
    model.params.stage_optimum_bound["cost_gbp"].set_value(123_456.0)
    assert compile_differences(model) == []
    assert build_matrix(data, params=model_params(model)).row_upper[-1] == 123_456.0
    session.close()


def test_a_difference_is_reported():
    # the comparison can fail: a model changed after building is no longer the direct build
    model = build_model(tiny_data())
    model.open_site["S1"].setub(0)
    out = compile_differences(model)
    assert out and "column upper bounds" in out[0]
    model = build_model(tiny_data())
    model.area_served_once["A1"].deactivate()
    assert any(s.startswith("rows") for s in compile_differences(model))


@pytest.mark.parametrize("name", ["pmed1", "pmed6", "cap71", "cap101", "cap131"])
def test_orlib_instances(orlib_dir, name):
    from mdtplan import orlib

    sub = "pmed" if name.startswith("pmed") else "cap"
    path = orlib_dir / sub / f"{name}.txt"
    data = (orlib.pmed_model_data(orlib.read_pmed(path)) if sub == "pmed"
            else orlib.cap_model_data(orlib.read_cap(path)))
    assert compile_differences(build_model(data)) == []


def test_synthetic_and_demo(tmp_path, repo_root):
    from benchmarks.synthetic import write_mdt_scenario
    from mdtplan.pipeline import prepare
    from mdtplan.scenario import load_scenario

    for path in (write_mdt_scenario("XS", tmp_path / "xs"), repo_root / "examples" / "demo.yaml"):
        data = prepare(load_scenario(path)).data
        model = build_model(data)
        compiled = compile_model(model)
        assert compile_differences(model, compiled=compiled) == []
        assert compiled.A.nnz > 1000


# --------------------------------------------------------------------------------------------
# Sessions on the direct build, the Pyomo model built only on demand


def _session_pair(data, **opts):
    options = SolveOptions(**{"mip_gap": 0.0, "threads": 1, "time_limit_s": 30.0, **opts})
    return Session(build_model(data), options), Session.from_data(data, options)


def _same_tables(a, b):
    for name in ("assignment", "hubs", "staffing"):
        pd.testing.assert_frame_equal(a[name].reset_index(drop=True),
                                      b[name].reset_index(drop=True), check_exact=False,
                                      rtol=1e-9, atol=1e-6)


@pytest.mark.parametrize("seed,objective,assignment",
                         [(s, o, a) for s in range(3) for o in OBJECTIVES
                          for a in ("single", "split")])
def test_from_data_solves_as_the_model_of_record(seed, objective, assignment):
    rng = np.random.default_rng(100 + seed)
    data = random_data(rng, n_areas=int(rng.integers(5, 11)), n_sites=int(rng.integers(2, 5)),
                       n_roles=3, objective=objective, assignment=assignment, band=seed == 1,
                       budget=seed == 2, count=True, capacity=seed == 0, supply=seed == 1,
                       reach=None)
    pyomo_session, lazy = _session_pair(data)
    a, b = pyomo_session.solve(), lazy.solve()
    assert a.status == b.status
    if not a.has_solution:
        return
    assert b.objective == pytest.approx(a.objective, rel=1e-9, abs=1e-6)
    for stage, value in a.stage_objectives.items():
        assert b.stage_objectives[stage] == pytest.approx(value, rel=1e-9, abs=1e-6)
    if a.status.value == "optimal":
        # same problem, same options, same start: HiGHS takes the same path
        _same_tables(extract_tables(pyomo_session.model, data), lazy.tables(data))
    assert not lazy.has_model  # solved and tabulated without building the Pyomo model
    def report(sess):
        return {k: v for k, v in (sess.start_report or {}).items() if k != "seconds"}

    assert report(lazy) == report(pyomo_session)  # the same heuristic start, checked alike
    # built on demand, the model of record holds the plan the tables show
    _same_tables(lazy.tables(data), extract_tables(lazy.model, data))
    assert lazy.has_model and lazy.model_build_seconds > 0
    pyomo_session.close()
    lazy.close()


def test_from_data_changes_the_cap_in_place_and_builds_the_model_on_demand():
    data = tiny_data(budget_cap_gbp=900_000.0, objective="max_demand_met")
    pyomo_session, lazy = _session_pair(data)
    pyomo_session.solve()
    lazy.solve()
    assert not lazy.has_model
    m_a = pyomo_session.marginal_values(["budget_cap"])["budget_cap"]
    m_b = lazy.marginal_values(["budget_cap"])["budget_cap"]
    assert not lazy.has_model and m_b.iloc[0] == pytest.approx(m_a.iloc[0], rel=1e-9)
    for cap in (600_000.0, 1_200_000.0):
        pyomo_session.set_param("budget_cap_gbp", cap)
        lazy.set_param("budget_cap_gbp", cap)  # a row bound: no Pyomo model needed
        a, b = pyomo_session.solve(), lazy.solve()
        assert not lazy.has_model
        assert (a.status, a.stage_objectives) == (b.status, pytest.approx(b.stage_objectives))
        _same_tables(extract_tables(pyomo_session.model, data), lazy.tables(data))
    assert compile_differences(lazy.model) == []  # built now: the problem HiGHS holds
    assert lazy.has_model and lazy.model.params.budget_cap_gbp.value == 1_200_000.0
    lazy.set_param("budget_cap_gbp", 800_000.0)  # from now on through the model of record
    pyomo_session.set_param("budget_cap_gbp", 800_000.0)
    assert lazy.solve().objective == pytest.approx(pyomo_session.solve().objective, rel=1e-9)
    pyomo_session.close()
    lazy.close()


def _held(session) -> tuple:
    lp = session.highs.getLp()
    a = lp.a_matrix_
    n_col, n_row = lp.num_col_, lp.num_row_
    A = sp.csc_matrix((np.asarray(a.value_), np.asarray(a.index_), np.asarray(a.start_)),
                      shape=(n_row, n_col))
    return A, np.asarray(lp.row_lower_), np.asarray(lp.row_upper_)


@pytest.mark.parametrize("seed", range(6))
def test_from_data_changes_numbers_in_place_without_pyomo(seed):
    # every in-place parameter, one after another: what HiGHS holds is each time exactly the
    # direct build of the new numbers, and solving it gives what a Pyomo session gives
    rng = np.random.default_rng(300 + seed)
    data = random_data(rng, n_areas=9, n_sites=4, n_roles=3,
                       objective=("max_demand_met", "min_cost")[seed % 2], assignment="single",
                       band=True, budget=True, count=True, capacity=False, supply=False,
                       reach=None)
    pyomo_session, lazy = _session_pair(data)
    total = float(data.areas["population"].sum())
    changes = [("budget_cap_gbp", float(data.budget_cap_gbp) * 1.3),
               ("hub_population_min", total / 8), ("hub_population_max", total * 0.9),
               ("hub_count_max", 3), ("hub_count_min", 1), ("demand_scale", 1.1),
               ("hub_population_min", 0.0)]  # a coefficient becomes zero: handed over again
    params: dict = {}
    for name, value in changes:
        pyomo_session.set_param(name, value)
        lazy.set_param(name, value)
        params[name] = value
        assert not lazy.has_model
        mm = build_matrix(data, params=params)
        A, lo, up = _held(lazy)
        assert (A != mm.A).nnz == 0, name
        rows = np.arange(mm.row_spans.get("stage_optimum_held", (len(lo), len(lo)))[0])
        assert np.array_equal(lo[rows], mm.row_lower[rows]), name  # (holds move with solves)
        assert np.array_equal(up[rows], mm.row_upper[rows]), name
        a, b = pyomo_session.solve(), lazy.solve()
        assert a.status == b.status, name
        if a.has_solution:
            assert b.objective == pytest.approx(a.objective, rel=1e-9, abs=1e-6), name
    # built now, the model of record carries those numbers and is the problem HiGHS holds
    model = lazy.model
    assert compile_differences(model) == []
    assert model_params(model)["demand_scale"] == 1.1
    pyomo_session.close()
    lazy.close()


def test_a_parameter_the_model_lacks_is_refused_without_pyomo():
    from mdtplan.errors import ModelError

    lazy = Session.from_data(tiny_data(), SolveOptions(threads=1))
    with pytest.raises(ModelError, match="budget_cap"):
        lazy.set_param("budget_cap_gbp", 1e6)
    assert not lazy.has_model
    lazy.close()


def test_many_coefficient_changes_hand_the_model_over_again(monkeypatch):
    data = tiny_data(hub_population_min=5_000.0, hub_population_max=55_000.0,
                     objective="min_cost")
    pyomo_session, lazy = _session_pair(data)
    monkeypatch.setattr(Session, "DIRECT_COEFF_CHANGES", 0)  # every change: passModel
    for scale in (1.2, 0.7):
        pyomo_session.set_param("demand_scale", scale)
        lazy.set_param("demand_scale", scale)
        A, _, _ = _held(lazy)
        assert (A != build_matrix(data, params={"demand_scale": scale}).A).nnz == 0
        a, b = pyomo_session.solve(), lazy.solve()
        assert (a.status, a.objective) == (b.status, pytest.approx(b.objective, rel=1e-9))
    assert not lazy.has_model
    pyomo_session.close()
    lazy.close()


def test_a_change_that_empties_a_row_goes_through_the_model_of_record():
    # S3 is reached by no area: its population-band row holds only open_site x (-lower);
    # lower 0 empties it, so the direct build would lose a row: the Pyomo model is built
    data = tiny_data(hub_population_min=5_000.0, hub_population_max=55_000.0)
    sites = pd.concat([data.sites, data.sites.iloc[[0]].rename(index={"S1": "S3"})])
    data = replace(data, sites=sites)
    pyomo_session, lazy = _session_pair(data)
    pyomo_session.set_param("hub_population_min", 0.0)
    lazy.set_param("hub_population_min", 0.0)
    assert lazy.has_model
    assert compile_differences(lazy.model) == []
    a, b = pyomo_session.solve(), lazy.solve()
    assert (a.status, a.objective) == (b.status, pytest.approx(b.objective, rel=1e-9))
    pyomo_session.close()
    lazy.close()

"""The rule-family registry: one module per family, read by every part that knows the rules.

A new family is one new module (here a toy one written in this file) and one registry line: the
Pyomo model of record, the direct build, explanations of infeasibility, the baseline's design
rules and in-place parameter edits all pick it up from the registry.
"""

from __future__ import annotations

import importlib
import inspect

import numpy as np
import pyomo.environ as pyo
import pytest
from pyomo.core.expr.numeric_expr import LinearExpression

from mdtplan.explain import explain_infeasible, relaxable
from mdtplan.model import families
from mdtplan.model.build import build_model, design_rules
from mdtplan.model.families.base import INF, Family
from mdtplan.model.index import index_data
from mdtplan.model.matrix import build_matrix
from mdtplan.solve import Session, SolveOptions, SolveStatus, compile_differences

from . import random_data, tiny_data

OPTS = SolveOptions(time_limit_s=20, mip_gap=0.0)

# ---- a toy family: at most one hub may open among the sites named in ``TOY_SITES`` -----------

TOY_SITES = ("S1", "S2")


def add_toy_one_hub(m, data, ix) -> None:
    r"""At most one of the toy sites opens: :math:`\sum_{s \in T} open\_site_s \le 1`."""
    sites = [s for s in ix.site_ids if s in TOY_SITES]
    if not sites:
        return
    m.toy_one_hub = pyo.Constraint(expr=LinearExpression(
        constant=0.0, linear_coefs=[1.0] * len(sites),
        linear_vars=[m.open_site[s] for s in sites]) <= 1.0)


def toy_one_hub_rows(cols, R) -> None:
    mask = np.isin(np.asarray(cols.ix.site_ids, dtype=object), TOY_SITES)
    if mask.any():
        n = int(mask.sum())
        R.add("toy_one_hub", 1, np.zeros(n), cols.open_cols(mask), np.ones(n), -INF, 1.0,
              [None])


TOY = Family("toy_one_hub", "one toy hub at most", add_toy_one_hub, toy_one_hub_rows,
             slack_unit=1.0, explain_rank=99, baseline_rank=99)


@pytest.fixture
def with_toy(monkeypatch):
    """The registry with the toy family registered last (one line in ``FAMILIES``)."""
    monkeypatch.setattr(families, "FAMILIES", (*families.FAMILIES, TOY))
    return TOY


def test_a_registered_family_is_in_the_pyomo_model_and_the_direct_build(with_toy):
    data = tiny_data()
    model = build_model(data)
    assert model.component("toy_one_hub") is not None
    mm = build_matrix(data, index_data(data))
    assert "toy_one_hub" in mm.row_family
    assert compile_differences(model) == []  # the two builds are still the same problem


def _open_hubs(data) -> list[str]:
    session = Session(build_model(data), OPTS)
    try:
        assert session.solve().status == SolveStatus.optimal
        hubs = session.tables(data)["hubs"]
    finally:
        session.close()
    return sorted(hubs.loc[hubs["open"], "site_id"])


def test_a_registered_family_binds_the_plan(monkeypatch):
    # least travel opens both hubs; with the toy rule registered only one may open, and the
    # better one alone is S2 (population-weighted travel 550,000 against S1's 1,000,000)
    data = tiny_data(objective="min_travel")
    assert _open_hubs(data) == ["S1", "S2"]
    monkeypatch.setattr(families, "FAMILIES", (*families.FAMILIES, TOY))
    assert _open_hubs(data) == ["S2"]


def test_a_registered_family_is_named_in_an_explanation(with_toy):
    data = tiny_data(hub_count_min=2)  # two hubs required; the toy allows one
    problems = explain_infeasible(data, OPTS)
    toy = [p for p in problems if "one toy hub at most" in p.message]
    assert toy, [str(p) for p in problems]
    assert "by 1.0" in toy[0].message
    assert "toy_one_hub" in relaxable()


def test_a_registered_family_is_a_design_rule_of_the_baseline(with_toy):
    assert design_rules()[-1] == "toy_one_hub"


def test_a_family_reading_a_parameter_is_refreshed_when_it_changes(monkeypatch):
    reads = Family("toy_reads", "toy", lambda m, d, ix: None, lambda c, R: None,
                   params=("budget_cap_gbp",))
    monkeypatch.setattr(families, "FAMILIES", (*families.FAMILIES, reads))
    assert families.param_dependents()["budget_cap_gbp"] == ("budget_cap", "toy_reads")


# ---- the registry itself -------------------------------------------------------------------


def test_every_family_is_one_module_with_its_formula():
    names = [f.name for f in families.registry()]
    assert len(names) == len(set(names))
    for f in families.registry():
        module = importlib.import_module(f"mdtplan.model.families.{f.name}")
        assert module.FAMILY is f
        assert ".. math::" in (module.__doc__ or ""), f.name
        assert f.label and f.label != f.name
        assert inspect.getmodule(f.add) is module and inspect.getmodule(f.rows) is module


def test_the_registry_order_is_the_build_order():
    rng = np.random.default_rng(7)
    data = random_data(rng, n_areas=12, n_sites=5, n_roles=3, objective="min_max_travel",
                       assignment="single", reach=None, band=True, budget=True, count=True,
                       capacity=True, supply=True)
    model = build_model(data, check=False)
    built = [c.local_name for c in model.component_objects(pyo.Constraint)]
    order = [f.name for f in families.registry()]
    present = [n for n in order if n in built]
    assert [n for n in built if n in order] == present
    assert len(present) >= 10  # the instance exercises most families


def test_param_dependents_come_from_the_families():
    deps = families.param_dependents()
    assert deps["budget_cap_gbp"] == ("budget_cap",)
    assert set(deps["demand_scale"]) == {"staff_only_at_open_hubs", "core_demand_covered",
                                         "pool_demand_covered", "shortfall_level",
                                         "hub_shortfall_spread"}
    assert deps["stage_optimum_bound"] == ("stage_optimum_held",)


def test_explanations_try_families_in_their_rank_order():
    names = list(relaxable())
    assert names[0] == "budget_cap"
    assert names[-2:] == ["demand_covered", "site_required"]
    assert "area_served_once" not in names  # structure, never relaxed


# ---- a toy family owning a parameter: changed in place like any other ------------------------


def add_toy_hub_cap(m, data, ix) -> None:
    r"""At most :math:`k` hubs: :math:`\sum_s open\_site_s \le k` (``toy_hubs_max``)."""
    m.toy_hub_cap = pyo.Constraint(expr=LinearExpression(
        constant=0.0, linear_coefs=[1.0] * len(ix.site_ids),
        linear_vars=list(m.open_site.values())) <= m.params.toy_hubs_max)


def toy_hub_cap_rows(cols, R) -> None:
    n = cols.n_site
    R.add("toy_hub_cap", 1, np.zeros(n), cols.open_cols(), np.ones(n), -INF,
          float(cols.params["toy_hubs_max"]), [None])


TOY_CAP = Family("toy_hub_cap", "toy hub cap", add_toy_hub_cap, toy_hub_cap_rows,
                 params=("toy_hubs_max",), defaults=lambda data: {"toy_hubs_max": 1.0})


@pytest.mark.parametrize("direct", [False, True], ids=["pyomo", "direct"])
def test_a_family_owning_a_parameter_is_changed_in_place(monkeypatch, direct):
    monkeypatch.setattr(families, "FAMILIES", (*families.FAMILIES, TOY_CAP))
    data = tiny_data(objective="min_travel")
    session = (Session.from_data(data, OPTS) if direct else Session(build_model(data), OPTS))
    try:
        assert session.param_value("toy_hubs_max") == 1.0
        assert session.solve().status == SolveStatus.optimal
        hubs = session.tables(data)["hubs"]
        assert int(hubs["open"].sum()) == 1
        session.set_param("toy_hubs_max", 2.0)  # the family's row follows, nothing rebuilt
        assert session.solve().status == SolveStatus.optimal
        hubs = session.tables(data)["hubs"]
        assert int(hubs["open"].sum()) == 2
        assert session.has_model is not direct
    finally:
        session.close()

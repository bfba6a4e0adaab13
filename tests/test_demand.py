"""Demand per area x role (mdtplan.demand): hand-computed toy values and properties."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mdtplan import demand as demand_module
from mdtplan.demand import compute_demand, demand_matrix, demand_summary, deprivation_multiplier
from mdtplan.errors import InputError
from mdtplan.operating_model import Deprivation, OperatingModel


def toy_model(deprivation: dict | None = None) -> OperatingModel:
    """2 bands (young, old), 2 roles (sw, ot), one direct group and one group over 2 pathways."""
    doc = {
        "name": "toy",
        "age_bands": ["young", "old"],
        "roles": [
            {"id": "sw", "name": "Social worker", "kind": "core", "cost_gbp_per_fte": 60000,
             "productive_hours_per_fte": 1500},
            {"id": "ot", "name": "OT", "kind": "core", "cost_gbp_per_fte": 45000,
             "productive_hours_per_fte": 1200},
        ],
        "demand": {
            "pathways": [
                {"id": "p1", "hours_per_contact": {"sw": 1.0}},
                {"id": "p2", "hours_per_contact": {"sw": 4.0, "ot": 8.0}},
            ],
            "client_groups": [
                {"id": "assess", "rate_per_1000": {"young": 10, "old": 50},
                 "hours_per_contact": {"sw": 20, "ot": 2}},
                {"id": "contact", "rate_per_1000": {"young": 20, "old": 100},
                 "pathways": {"p1": 0.75, "p2": 0.25}},
            ],
        },
    }
    if deprivation is not None:
        doc["demand"]["deprivation"] = deprivation
    return OperatingModel.model_validate(doc)


# Hours per person per year, by hand:
#   contact pathway mix: sw 0.75*1 + 0.25*4 = 1.75 h; ot 0.75*0 + 0.25*8 = 2.0 h
#   H[young, sw] = 10/1000*20 + 20/1000*1.75  = 0.200 + 0.035 = 0.235
#   H[young, ot] = 10/1000*2  + 20/1000*2.0   = 0.020 + 0.040 = 0.060
#   H[old,   sw] = 50/1000*20 + 100/1000*1.75 = 1.000 + 0.175 = 1.175
#   H[old,   ot] = 50/1000*2  + 100/1000*2.0  = 0.100 + 0.200 = 0.300
EXPECTED_MATRIX = [[0.235, 0.060], [1.175, 0.300]]

# Areas: A = 1000 young; B = 1000 old; C = 2000 young + 500 old
#   A: sw 1000*0.235 = 235;  ot 1000*0.06 = 60
#   B: sw 1000*1.175 = 1175; ot 1000*0.3  = 300
#   C: sw 2000*0.235 + 500*1.175 = 470 + 587.5 = 1057.5; ot 2000*0.06 + 500*0.3 = 120 + 150 = 270
EXPECTED_HOURS = {"sw": [235.0, 1175.0, 1057.5], "ot": [60.0, 300.0, 270.0]}


def toy_areas(**extra) -> pd.DataFrame:
    frame = pd.DataFrame({"young": [1000.0, 0.0, 2000.0], "old": [0.0, 1000.0, 500.0]},
                         index=pd.Index(["A", "B", "C"], name="area_id"))
    for column, values in extra.items():
        frame[column] = values
    return frame


def test_demand_matrix_by_hand():
    matrix = demand_matrix(toy_model())
    assert list(matrix.index) == ["young", "old"]
    assert list(matrix.columns) == ["sw", "ot"]
    np.testing.assert_allclose(matrix.to_numpy(), EXPECTED_MATRIX)


def test_compute_demand_by_hand():
    hours = compute_demand(toy_areas(), toy_model())
    assert list(hours.index) == ["A", "B", "C"]
    assert list(hours.columns) == ["sw", "ot"]
    assert hours.dtypes.tolist() == [np.float64, np.float64]
    for role, expected in EXPECTED_HOURS.items():
        np.testing.assert_allclose(hours[role].to_numpy(), expected)


def test_pathways_equal_the_same_hours_given_directly():
    # the 'contact' group through pathways p1/p2 (shares 0.75/0.25) must equal a direct group
    # whose hours are the share-weighted mix: sw 1.75 h, ot 2.0 h
    via_pathways = toy_model()
    direct_doc = via_pathways.model_dump()
    direct_doc["demand"]["client_groups"][1] = {
        "id": "contact", "rate_per_1000": {"young": 20, "old": 100},
        "hours_per_contact": {"sw": 1.75, "ot": 2.0}}
    direct = OperatingModel.model_validate(direct_doc)
    np.testing.assert_allclose(demand_matrix(direct).to_numpy(),
                               demand_matrix(via_pathways).to_numpy())


def test_pathway_shares_move_hours_between_roles():
    # all contacts down p2 instead: contact mix sw 4 h, ot 8 h ->
    # H[young, ot] = 0.02 + 0.02*8 = 0.18; H[old, sw] = 1.0 + 0.1*4 = 1.4
    doc = toy_model().model_dump()
    doc["demand"]["client_groups"][1]["pathways"] = {"p1": 0.0, "p2": 1.0}
    matrix = demand_matrix(OperatingModel.model_validate(doc))
    assert matrix.loc["young", "ot"] == pytest.approx(0.18)
    assert matrix.loc["old", "sw"] == pytest.approx(1.4)


def test_bands_a_group_does_not_name_count_as_zero():
    doc = toy_model().model_dump()
    doc["demand"]["client_groups"] = [{"id": "old_only", "rate_per_1000": {"old": 10},
                                       "hours_per_contact": {"sw": 5}}]
    matrix = demand_matrix(OperatingModel.model_validate(doc))
    # young: 0; old: 10/1000*5 = 0.05 sw; ot named nowhere: 0
    np.testing.assert_allclose(matrix.to_numpy(), [[0.0, 0.0], [0.05, 0.0]])


def test_deprivation_multiplier_scales_clips_and_ignores_nan():
    model = toy_model({"reference_score": 20, "elasticity": 0.5,
                       "min_multiplier": 0.8, "max_multiplier": 1.5})
    # A: score 30 -> 1 + 0.5*(30/20 - 1) = 1.25
    # B: score 100 -> 1 + 0.5*(5 - 1) = 3.0, clipped to 1.5
    # C: NaN -> 1
    hours = compute_demand(toy_areas(deprivation=[30.0, 100.0, np.nan]), model)
    np.testing.assert_allclose(hours["sw"], [235 * 1.25, 1175 * 1.5, 1057.5])
    np.testing.assert_allclose(hours["ot"], [60 * 1.25, 300 * 1.5, 270.0])
    # score 0 -> 1 + 0.5*(0 - 1) = 0.5, clipped up to 0.8
    low = compute_demand(toy_areas(deprivation=[0.0, 0.0, 0.0]), model)
    np.testing.assert_allclose(low["sw"], [235 * 0.8, 1175 * 0.8, 1057.5 * 0.8])


def test_deprivation_ignored_without_section_or_column():
    with_column_no_section = compute_demand(toy_areas(deprivation=[90.0, 1.0, 50.0]),
                                            toy_model())
    np.testing.assert_allclose(with_column_no_section["sw"], EXPECTED_HOURS["sw"])
    section_no_column = compute_demand(toy_areas(), toy_model({"reference_score": 20,
                                                               "elasticity": 1.0}))
    np.testing.assert_allclose(section_no_column["ot"], EXPECTED_HOURS["ot"])


def test_deprivation_multiplier_function():
    d = Deprivation(reference_score=10, elasticity=0.2, min_multiplier=0.9, max_multiplier=1.1)
    # 5 -> 1 - 0.1 = 0.9; 10 -> 1; 15 -> 1.1; 50 -> 1.8 clipped 1.1; NaN -> 1
    got = deprivation_multiplier([5, 10, 15, 50, np.nan], d)
    np.testing.assert_allclose(got, [0.9, 1.0, 1.1, 1.1, 1.0])


def test_override_replaces_hours_after_multiplier():
    model = toy_model({"reference_score": 20, "elasticity": 0.5})
    areas = toy_areas(deprivation=[40.0, 40.0, 40.0],          # multiplier 1.5 everywhere
                      demand_override__ot=[np.nan, 999.0, 0.0])
    hours = compute_demand(areas, model)
    np.testing.assert_allclose(hours["ot"], [60 * 1.5, 999.0, 0.0])
    np.testing.assert_allclose(hours["sw"], [235 * 1.5, 1175 * 1.5, 1057.5 * 1.5])


def test_errors_are_gathered_and_name_the_column():
    areas = toy_areas(demand_override__nurse=[1.0, 2.0, 3.0]).drop(columns="old")
    with pytest.raises(InputError) as err:
        compute_demand(areas, toy_model())
    columns = {p.column for p in err.value.problems}
    assert columns == {"old", "demand_override__nurse"}


def test_negative_or_missing_population_is_an_error():
    areas = toy_areas()
    areas.loc["B", "young"] = -5
    areas.loc["C", "old"] = np.nan
    with pytest.raises(InputError) as err:
        compute_demand(areas, toy_model())
    rows = {(p.column, p.row) for p in err.value.problems}
    assert rows == {("young", "B"), ("old", "C")}


def test_demand_summary_fte_and_cost():
    hours = compute_demand(toy_areas(), toy_model())
    summary = demand_summary(hours, toy_model())
    # sw: 235 + 1175 + 1057.5 = 2467.5 h / 1500 = 1.645 FTE x £60,000 = £98,700
    # ot: 60 + 300 + 270 = 630 h / 1200 = 0.525 FTE x £45,000 = £23,625
    assert list(summary.index) == ["sw", "ot"]
    assert summary.loc["sw", "demand_hours"] == pytest.approx(2467.5)
    assert summary.loc["sw", "fte"] == pytest.approx(1.645)
    assert summary.loc["sw", "cost_gbp"] == pytest.approx(98700)
    assert summary.loc["ot", "fte"] == pytest.approx(0.525)
    assert summary.loc["ot", "cost_gbp"] == pytest.approx(23625)
    assert summary.loc["ot", "kind"] == "core"


def test_doctests():
    result = doctest.testmod(demand_module, verbose=False)
    assert result.attempted >= 2
    assert result.failed == 0


# ---- properties -----------------------------------------------------------------------------

populations = arrays(np.float64, st.tuples(st.integers(1, 8), st.just(2)),
                     elements=st.floats(0, 1e6, allow_nan=False, allow_infinity=False))
scores = st.floats(0, 90, allow_nan=False)
DEPRIVED = {"reference_score": 21.75, "elasticity": 0.3, "min_multiplier": 0.7,
            "max_multiplier": 1.6}


def frame(pop: np.ndarray, score: float | None = None) -> pd.DataFrame:
    out = pd.DataFrame(pop, columns=["young", "old"],
                       index=pd.Index([f"a{i}" for i in range(len(pop))], name="area_id"))
    if score is not None:
        out["deprivation"] = score
    return out


@settings(max_examples=60, deadline=None)
@given(pop=populations, score=scores)
def test_demand_is_non_negative(pop, score):
    hours = compute_demand(frame(pop, score), toy_model(DEPRIVED))
    assert (hours.to_numpy() >= 0).all()


@settings(max_examples=60, deadline=None)
@given(pop=populations, score=scores)
def test_doubling_population_doubles_hours(pop, score):
    model = toy_model(DEPRIVED)
    once = compute_demand(frame(pop, score), model).to_numpy()
    twice = compute_demand(frame(2 * pop, score), model).to_numpy()
    np.testing.assert_allclose(twice, 2 * once, rtol=1e-12, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(first=populations, second=populations, score=scores)
def test_hours_are_additive_over_population(first, second, score):
    n = min(len(first), len(second))
    first, second = first[:n], second[:n]
    model = toy_model(DEPRIVED)
    summed = compute_demand(frame(first + second, score), model).to_numpy()
    parts = (compute_demand(frame(first, score), model).to_numpy()
             + compute_demand(frame(second, score), model).to_numpy())
    np.testing.assert_allclose(summed, parts, rtol=1e-9, atol=1e-6)

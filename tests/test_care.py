"""Care pathways and levers (mdtplan.care): flows, care spend and levers worked out by hand."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from mdtplan.care import care_spend, flow_contacts, flow_hours, lever_table
from mdtplan.errors import ScenarioError
from mdtplan.operating_model import OperatingModel, load_operating_model

BASE = {
    "name": "toy", "age_bands": ["adult", "old"],
    "roles": [
        {"id": "sw", "name": "SW", "kind": "core", "cost_gbp_per_fte": 50000,
         "productive_hours_per_fte": 1500},
        {"id": "rw", "name": "Reablement", "kind": "core", "cost_gbp_per_fte": 30000,
         "productive_hours_per_fte": 1500},
    ],
    "demand": {
        "pathways": [{"id": "c1", "hours_per_contact": {"sw": 1.0}},
                     {"id": "c3", "hours_per_contact": {"sw": 20.0}}],
        "client_groups": [
            {"id": "requests", "rate_per_1000": {"old": 100}, "pathways": {"c1": 0.7, "c3": 0.3}},
            {"id": "assess", "rate_per_1000": {"old": 50}, "hours_per_contact": {"sw": 19}},
            {"id": "reable", "rate_per_1000": {"old": 20},
             "hours_per_contact": {"rw": 50, "sw": 1}},
        ]},
    "care": {
        "settings": [
            {"id": "home", "cost_gbp_per_week": 250, "duration_weeks": 100},
            {"id": "res", "cost_gbp_per_week": 900, "duration_weeks": 104},
            {"id": "sl", "cost_gbp_per_week": 700, "duration_weeks": 200},
        ],
        "outcomes": {"assess": {"home": 0.4, "res": 0.1}, "reable": {"home": 0.2},
                     "c3": {"home": 0.5}},
    },
}
AREAS = pd.DataFrame({"adult": [0.0, 0.0], "old": [1000.0, 2000.0]}, index=["A", "B"])


def _om(**changes) -> OperatingModel:
    doc = {**BASE, **changes}
    return OperatingModel.model_validate(doc)


def test_flows_hours_and_care_spend_by_hand():
    om = _om()
    n = flow_contacts(AREAS, om)
    # area A: 1,000 old people: 100 requests (70 c1, 30 c3), 50 assessments, 20 reablement
    assert n.loc["A"].to_dict() == pytest.approx(
        {"requests": 100, "assess": 50, "reable": 20, "c1": 70, "c3": 30})
    h = flow_hours(om)
    assert h.loc["requests", "sw"] == pytest.approx(0.7 * 1 + 0.3 * 20)
    spend = care_spend(n, om)
    # home care entrants in A: 50 x 0.4 + 20 x 0.2 + 30 x 0.5 = 39 a year, each 250 x 100
    assert spend.at["A", "spend_gbp__home"] == pytest.approx(39 * 25_000)
    assert spend.at["A", "people__home"] == pytest.approx(39 * 100 / 52)
    assert spend.at["B", "spend_gbp__res"] == pytest.approx(100 * 0.1 * 900 * 104)


def test_a_divert_lever_by_hand():
    om = _om(levers=[{
        "id": "reable_first", "name": "Reablement first",
        "divert": {"from": "assess", "to": "reable"},
        "share": {"low": 0.1, "most_likely": 0.2, "high": 0.3},
        "outcomes": {"low": {"home": 0.3}, "high": {"home": 0.1}},
        "hours_per_person": {"sw": 4}}])
    t = lever_table(flow_contacts(AREAS, om), om)
    assert t.cohort["reable_first"].tolist() == pytest.approx([50.0, 100.0])
    # hours: reablement's (rw 50, sw 1) less the assessment's (sw 19), plus 4 sw
    assert t.hours.loc["reable_first"].to_dict() == pytest.approx({"sw": 1 - 19 + 4, "rw": 50})
    l_assess = 0.4 * 25_000 + 0.1 * 900 * 104
    saving = t.saving_gbp.loc["reable_first"]
    assert saving["low"] == pytest.approx(l_assess - 0.3 * 25_000)
    assert saving["most_likely"] == pytest.approx(l_assess - 0.2 * 25_000)  # care.outcomes
    assert saving["high"] == pytest.approx(l_assess - 0.1 * 25_000)
    assert t.share.loc["reable_first", "most_likely"] == pytest.approx(0.2)


def test_move_and_resize_levers_by_hand():
    om = _om(levers=[
        {"id": "to_sl", "name": "Supported living", "move": {"from": "res", "to": "sl",
                                                             "flows": ["assess"]},
         "share": {"low": 0.05, "high": 0.15}, "hours_per_person": {"sw": 20}},
        {"id": "smaller", "name": "Right-sized packages",
         "resize": {"setting": "home", "reduction": {"low": 0.02, "most_likely": 0.05,
                                                     "high": 0.1}},
         "share": {"low": 0.5, "high": 0.5}, "hours_per_person": {"sw": 2}}])
    t = lever_table(flow_contacts(AREAS, om), om)
    # people in residential care from assessments in A: 50 x 0.1 x 104 / 52 = 10
    assert t.cohort.at["A", "to_sl"] == pytest.approx(10.0)
    assert t.saving_gbp.loc["to_sl", "most_likely"] == pytest.approx(52 * (900 - 700))
    assert t.share.loc["to_sl", "most_likely"] == pytest.approx(0.10)  # mid-range
    # people in home care in A (all flows): 39 x 100 / 52
    assert t.cohort.at["A", "smaller"] == pytest.approx(39 * 100 / 52)
    assert t.saving_gbp.loc["smaller", "high"] == pytest.approx(52 * 250 * 0.1)
    assert t.hours.loc["smaller", "sw"] == 2.0


@pytest.mark.parametrize("change,words", [
    ({"care": {**BASE["care"], "outcomes": {"assess": {"home": 0.8, "res": 0.3}}}},
     "sum to 1.1"),
    ({"care": {**BASE["care"], "settings": [{"id": "home", "cost_gbp_per_week": -5,
                                             "duration_weeks": 10}], "outcomes": {}}},
     "greater than or equal to 0"),
    ({"levers": [{"id": "x", "name": "X", "divert": {"from": "nowhere", "to": "reable"},
                  "share": {"low": 0.1, "high": 0.2}}]}, "divert.from 'nowhere'"),
    ({"levers": [{"id": "x", "name": "X", "divert": {"from": "assess", "to": "reable"},
                  "share": {"low": 0.5, "high": 1.2}}]}, "cannot reach more than its whole"),
    ({"levers": [{"id": "x", "name": "X", "divert": {"from": "assess", "to": "reable"},
                  "share": {"low": 0.5, "high": 0.6}},
                 {"id": "y", "name": "Y", "divert": {"from": "assess", "to": "c1"},
                  "share": {"low": 0.3, "high": 0.5}}]}, "at most 100%"),
    ({"levers": [{"id": "x", "name": "X", "move": {"from": "res", "to": "castle"},
                  "share": {"low": 0.1, "high": 0.2}}]}, "move.to 'castle'"),
])
def test_bad_care_and_levers_are_refused_naming_the_file_and_key(tmp_path, change, words):
    path = tmp_path / "model.yaml"
    path.write_text(yaml.safe_dump({**BASE, **change}))
    with pytest.raises(ScenarioError) as err:
        load_operating_model(path)
    text = str(err.value)
    assert words in text and "model.yaml" in text

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


# ---- reviews follow the people in long-term support; a divert's saving builds up -----------

REVIEWS = {"assess": {"flow": "review", "per_year": 0.5}}
REVIEW_GROUP = {"id": "review", "rate_per_1000": {"old": 30}, "hours_per_contact": {"sw": 6}}


def _om_reviews(reviews=REVIEWS, **changes):
    demand = {**BASE["demand"],
              "client_groups": [*BASE["demand"]["client_groups"], REVIEW_GROUP]}
    care = {**BASE["care"], "reviews": reviews}
    return _om(demand=demand, care=care, **changes)


DIVERT = {"id": "reable_first", "name": "Reablement first",
          "divert": {"from": "assess", "to": "reable"},
          "share": {"low": 0.1, "most_likely": 0.2, "high": 0.3}}


def test_a_divert_frees_the_reviews_of_the_stays_it_avoids_by_hand():
    om = _om_reviews(levers=[DIVERT])
    t = lever_table(flow_contacts(AREAS, om), om)
    # stays of an assessed person: 0.4 x 100 + 0.1 x 104 weeks; after reablement 0.2 x 100;
    # the 'reable' flow has no review entry of its own, so the assessment's applies (0.5 a
    # year of 6 SW hours)
    stays = (0.2 * 100 - (0.4 * 100 + 0.1 * 104)) / 52
    review = stays * 0.5 * 6
    assert review == pytest.approx(-1.7538, abs=1e-4)
    assert t.review_hours.loc["reable_first"].to_dict() == pytest.approx({"sw": review, "rw": 0})
    assert t.hours.loc["reable_first"].to_dict() == pytest.approx(
        {"sw": 1 - 19 + review, "rw": 50})
    # the care saving does not change: reviews are staff time
    assert t.saving_gbp.at["reable_first", "most_likely"] == pytest.approx(
        0.4 * 25_000 + 0.1 * 900 * 104 - 0.2 * 25_000)
    # the 'to' flow's own entry wins when it has one
    om = _om_reviews({**REVIEWS, "reable": {"flow": "review", "per_year": 2.0}},
                     levers=[DIVERT])
    t = lever_table(flow_contacts(AREAS, om), om)
    assert t.review_hours.at["reable_first", "sw"] == pytest.approx(
        (0.2 * 100 * 2.0 - (0.4 * 100 + 0.1 * 104) * 0.5) / 52 * 6)
    # without reviews, as before
    t = lever_table(flow_contacts(AREAS, _om(levers=[DIVERT])), _om(levers=[DIVERT]))
    assert t.review_hours.loc["reable_first"].abs().sum() == 0
    assert t.hours.at["reable_first", "sw"] == pytest.approx(1 - 19)


def test_stock_build_is_the_exponential_stays_average_by_hand():
    from math import exp

    from mdtplan.care import stock_build
    assert stock_build(52, 1) == pytest.approx(exp(-1))          # 1 - (1 - e^-1)
    assert stock_build(104, 1) == pytest.approx(1 - 2 * (1 - exp(-0.5)))
    assert stock_build(104, 3) == pytest.approx(1 - 2 * (exp(-1) - exp(-1.5)))
    years = [stock_build(200, t) for t in range(1, 40)]
    assert all(a < b for a, b in zip(years, years[1:], strict=False)) and 0.99 < years[-1] < 1


def test_a_divert_lever_gets_a_phasing_derived_from_the_stays_by_hand():
    from mdtplan.care import divert_phasing, stock_build

    om = _om_reviews(levers=[DIVERT])
    lever = om.levers[0]
    ph = divert_phasing(lever, om)
    per_hour = {"sw": 50000 / 1500, "rw": 30000 / 1500}
    direct = (1 - 19) * per_hour["sw"] + 50 * per_hour["rw"]       # starts at once
    review = 0.5 * 6 * per_hour["sw"]                              # a review a person-year
    home = (0.4 - 0.2) * 250 * 100 - (0.2 - 0.4) * 100 / 52 * review
    res = 0.1 * 900 * 104 + 0.1 * 104 / 52 * review
    steady = home + res - direct
    for year in (1, 2, 5):
        want = (home * stock_build(100, year) + res * stock_build(104, year) - direct) / steady
        assert ph[year - 1] == pytest.approx(want)
    assert ph[0] < ph[1] < ph[4] < 1 and ph[-1] == 1.0
    assert stock_build(104, len(ph) - 1) >= 0.995       # ends once the stays are in
    # move and resize levers act on people already in a setting: nothing to derive
    move = _om(levers=[{"id": "m", "name": "M", "move": {"from": "res", "to": "sl"},
                        "share": {"low": 0.1, "high": 0.2}}])
    assert divert_phasing(move.levers[0], move) is None
    # a divert that saves nothing has nothing to phase
    costly = _om(levers=[{**DIVERT, "hours_per_person": {"sw": 10_000}}])
    assert divert_phasing(costly.levers[0], costly) is None


@pytest.mark.parametrize("reviews,words", [
    ({"nowhere": {"flow": "review", "per_year": 0.5}}, "care.reviews.nowhere"),
    ({"assess": {"flow": "audit", "per_year": 0.5}}, "care.reviews.assess.flow: 'audit'"),
    ({"assess": {"flow": "review", "per_year": -1}}, "greater than or equal to 0"),
])
def test_bad_reviews_are_refused_naming_the_file_and_key(tmp_path, reviews, words):
    doc = {**BASE, "demand": {**BASE["demand"], "client_groups": [
        *BASE["demand"]["client_groups"], REVIEW_GROUP]},
        "care": {**BASE["care"], "reviews": reviews}}
    path = tmp_path / "model.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(ScenarioError) as err:
        load_operating_model(path)
    assert words in str(err.value) and "model.yaml" in str(err.value)


def test_default_working_age_reasons_reproduce_the_published_shares():
    """models/README.md, "Working-age adults by primary support reason": the four pathways keep
    the single calibrated figure (hours and people into each setting) and give the published
    shares of the long-term stock and spend."""
    from pathlib import Path

    om = load_operating_model(Path(__file__).resolve().parents[1] / "models" / "default.yaml")
    reasons = ["wa_learning_disability", "wa_mental_health", "wa_physical", "wa_other"]
    group = next(g for g in om.demand.client_groups if g.id == "assessments_working_age")
    assert list(group.pathways) == reasons
    hours = flow_hours(om).loc["assessments_working_age"]
    assert hours[hours != 0].to_dict() == pytest.approx({
        "social_worker": 26.0, "occupational_therapist": 1.0, "care_navigator": 1.0,
        "team_manager": 0.5, "mental_health": 3.0, "autism": 2.0, "sensory": 0.3})
    share, out = group.pathways, om.care.outcomes
    single = {"home_care": 0.08, "direct_payment": 0.08, "supported_living": 0.03,
              "residential_working_age": 0.02}
    for setting, want in single.items():
        got = sum(share[p] * out[p].get(setting, 0.0) for p in reasons)
        assert got == pytest.approx(want, rel=2e-3), setting
    weeks = {s.id: s.duration_weeks for s in om.care.settings}
    cost = {s.id: s.cost_gbp_per_week for s in om.care.settings}
    stock = {p: 7.4 * share[p] * sum(v * weeks[s] / 52 for s, v in out[p].items())
             for p in reasons}
    spend = {p: 7.4 * share[p] * sum(v * weeks[s] * cost[s] for s, v in out[p].items())
             for p in reasons}
    total_stock, total_spend = sum(stock.values()), sum(spend.values())
    assert stock["wa_learning_disability"] / total_stock == pytest.approx(0.45, abs=0.01)
    assert stock["wa_mental_health"] / total_stock == pytest.approx(0.20, abs=0.01)
    assert stock["wa_physical"] / total_stock == pytest.approx(0.30, abs=0.015)
    assert spend["wa_learning_disability"] / total_spend == pytest.approx(0.70, abs=0.015)
    assert spend["wa_mental_health"] / total_spend == pytest.approx(0.16, abs=0.01)
    assert total_spend / 1000 == pytest.approx(320.5, abs=1)        # £ a head of 18-64
    # every reason is reviewed as working-age people are
    assert {p: om.care.reviews[p].flow for p in reasons} == dict.fromkeys(
        reasons, "reviews_working_age")


def test_the_pathway_table_by_hand():
    from mdtplan.care import pathway_table

    om = _om_reviews()
    t = pathway_table(flow_contacts(AREAS, om), om)
    assert list(t.index) == ["assess", "reable", "c3"]
    # assessments: 50 + 100 a year; 0.4 to home care (100 weeks), 0.1 to residential (104)
    row = t.loc["assess"]
    assert row["contacts"] == pytest.approx(150)
    assert row["entrants"] == pytest.approx(150 * 0.5)
    assert row["people"] == pytest.approx(150 * (0.4 * 100 + 0.1 * 104) / 52)
    assert row["spend_gbp"] == pytest.approx(150 * (0.4 * 25_000 + 0.1 * 900 * 104))
    # reviewed 0.5 a year for 6 SW hours while supported; the other flows have no review entry
    assert row["review_hours"] == pytest.approx(row["people"] * 0.5 * 6)
    assert t.loc["c3", "review_hours"] == 0
    assert t.loc["c3", "spend_gbp"] == pytest.approx(90 * 0.5 * 25_000)

"""Kent's and Medway's savings are made by the model: their operating models' levers, calibrated
to the councils' published figures (models/README.md, "Levers: Kent" and "Levers: Medway").

The fast tests work the lever table out on each example's areas without solving and check it
against the calibration written in models/README.md (the figures there are hand arithmetic on
the operating model's numbers). The slow tests solve each example, check the published figures
are met by the model, and that a budget cap below the plan holds the levers back."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from mdtplan.care import LEVELS, care_spend, flow_contacts, lever_table, lifetime_cost_gbp
from mdtplan.inputs import load_inputs
from mdtplan.operating_model import load_operating_model
from mdtplan.scenario import load_scenario

REPO = Path(__file__).resolve().parents[1]
M = 1e6

# lifetime care cost of one entrant [GBP]: GBP/week x weeks of the settings (as default.yaml)
HOME, DP, RES, NURS = 264 * 100, 300 * 200, 850 * 104, 1200 * 52
RES_WA, SL = 1700 * 520, 1200 * 520
# staff cost per productive hour [GBP/h] (cost_gbp_per_fte / 1,540 h)
SW, OT, NAV, TM, HSCW = 57200 / 1540, 55500 / 1540, 35600 / 1540, 68800 / 1540, 32400 / 1540
RW, MH, SENS, AUT = 32400 / 1540, 57200 / 1540, 55500 / 1540, 57200 / 1540
QI = 57200 / 1540
# one older person's review [GBP]: the review flow's hours (as default.yaml)
REVIEW_OP = 7 * SW + 0.5 * NAV + 0.2 * MH + 0.3 * SENS + 0.5 * QI


@cache
def _table(name: str):
    scenario = load_scenario(REPO / "examples" / f"{name}.yaml")
    inputs = load_inputs(scenario)
    om = inputs.operating_model
    contacts = flow_contacts(inputs.areas, om)
    return om, contacts, lever_table(contacts, om)


def _savings(table, staff: dict) -> dict:
    """Each lever's saving low / most likely / high as finance.model_savings makes it when the
    plan reaches every lever's whole most likely share: people x (saving - staff per person),
    low at the low share."""
    out = {}
    for k in table.ids:
        cohort = float(table.cohort[k].sum())
        people = {x: cohort * table.share.at[k, "low" if x == "low" else "most_likely"]
                  for x in LEVELS}
        out[k] = {x: people[x] * (table.saving_gbp.at[k, x] - staff[k]) for x in LEVELS}
    return out


def test_kent_lever_table_gives_the_calibration_in_models_readme():
    om, contacts, table = _table("kent")
    assert table.ids == ["enablement_first", "home_care_right_sizing"]
    assert not om.workstreams                       # the typed workstream is gone
    # flows on KCC's 182 MSOAs and the people in home care (models/README.md)
    assert contacts["assessments_older_people"].sum() == pytest.approx(13027.2, abs=0.1)
    assert table.cohort["home_care_right_sizing"].sum() == pytest.approx(7597.1, abs=0.1)
    # lifetime costs: older people assessed £17,210, enablement £7,140
    l_op = 0.17 * HOME + 0.04 * DP + 0.085 * RES + 0.045 * NURS
    l_en = 0.17 * HOME + 0.03 * RES
    assert (l_op, l_en) == pytest.approx((17210, 7140))
    assert lifetime_cost_gbp(om.care.outcomes["enablement"], om) == pytest.approx(l_en)
    saving = table.saving_gbp.loc["enablement_first"]
    assert saving["most_likely"] == pytest.approx(l_op - l_en)
    assert saving["low"] == pytest.approx(l_op - (0.32 * HOME + 0.06 * RES))   # Kent's 62%
    assert saving["high"] == pytest.approx(l_op - (0.15 * HOME + 0.02 * RES))
    assert table.saving_gbp.loc["home_care_right_sizing"].tolist() == pytest.approx(
        [52 * 264 * 0.02, 52 * 264 * 0.04, 52 * 264 * 0.06])
    # staff per person: enablement's hours less the assessment's, plus 6 SW hours
    enable = 49 * HSCW + 0.5 * OT - 12 * SW - 0.5 * NAV - 0.5 * TM - 0.5 * MH - 0.8 * SENS
    assert enable == pytest.approx(521.92, abs=0.01)
    # less the reviews of the people kept out of long-term support (care.reviews: 0.79 a
    # person a year of the older people's review hours, over the stays they no longer have)
    stays = (0.17 * 100 + 0.03 * 104 - (0.17 * 100 + 0.04 * 200 + 0.085 * 104
                                          + 0.045 * 52)) / 52
    reviews = stays * 0.79 * REVIEW_OP
    assert reviews == pytest.approx(-75.24, abs=0.01)
    assert table.review_hours.at["enablement_first", "social_worker"] == pytest.approx(
        stays * 0.79 * 7)
    staff = {"enablement_first": enable + reviews, "home_care_right_sizing": 3 * SW}
    rates = {r.id: r.cost_gbp_per_fte / r.productive_hours_per_fte for r in om.roles}
    for k, want in staff.items():
        assert sum(h * rates[r] for r, h in table.hours.loc[k].items()) == pytest.approx(want)
    made = _savings(table, staff)
    assert made["enablement_first"]["most_likely"] == pytest.approx(8_136_206, abs=1)
    assert made["home_care_right_sizing"]["most_likely"] == pytest.approx(1_662_597, abs=1)
    total = {x: sum(v[x] for v in made.values()) for x in LEVELS}
    assert total == pytest.approx({"low": 2_137_113, "most_likely": 9_798_802,
                                   "high": 12_035_535}, abs=2)
    # the calibrated share lands within 0.1% of the published £9.8m (the fidelity row: 5%)
    assert total["most_likely"] == pytest.approx(9.8 * M, rel=1e-3)


def test_medway_conversations_carry_the_default_outcomes_and_the_calibration():
    om, contacts, table = _table("medway")
    assert table.ids == ["conversation_1_not_3", "conversation_2_not_3", "conversation_reviews"]
    assert contacts["conversation_3"].sum() == pytest.approx(2683.5, abs=0.1)
    assert table.cohort["conversation_reviews"].sum() == pytest.approx(1279.8, abs=0.1)
    # conversation 3 sends as many people into each setting as default.yaml's assessments
    # would on Medway's areas (within the rounding of the shares to 2-3 digits)
    default = load_operating_model(REPO / "models" / "default.yaml")
    d = flow_contacts(load_inputs(load_scenario(REPO / "examples" / "medway.yaml")).areas,
                      default).sum()
    for s in ("home_care", "direct_payment", "residential", "nursing", "supported_living",
              "residential_working_age"):
        mine = contacts["conversation_3"].sum() * om.care.outcomes["conversation_3"][s]
        want = sum(d[f] * default.care.outcomes[f].get(s, 0.0)
                   for f in ("assessments_older_people", "wa_learning_disability",
                             "wa_mental_health", "wa_physical", "wa_other"))
        assert mine == pytest.approx(want, rel=0.01), s
    assert care_spend(contacts, om).filter(like="spend_gbp__").to_numpy().sum() == \
        pytest.approx(100.8 * M, rel=1e-3)          # steady-state care spend (models/README.md)
    l3 = 0.18 * HOME + 0.071 * DP + 0.072 * RES + 0.038 * NURS + 0.014 * SL + 0.0093 * RES_WA
    assert lifetime_cost_gbp(om.care.outcomes["conversation_3"], om) == pytest.approx(l3)
    assert l3 == pytest.approx(34705, abs=1)
    kept = 0.014 * SL + 0.0093 * RES_WA              # lifelong working-age shares kept
    s1, s2 = table.saving_gbp.loc["conversation_1_not_3"], table.saving_gbp.loc[
        "conversation_2_not_3"]
    assert s1["most_likely"] == pytest.approx(0.18 * HOME + 0.071 * DP)          # £9,012
    assert s1["low"] == pytest.approx(0.09 * HOME + 0.036 * DP)   # about half of those
    assert s2["most_likely"] == pytest.approx(l3 - (0.17 * HOME + 0.03 * RES + kept))
    # staff per person: conversation 1 frees conversation 3's hours; conversation 2 adds
    # 50 reablement-worker hours
    c1 = -19.5 * SW - 1.2 * OT + 1.0 * NAV - 0.5 * TM - 1.3 * MH - 0.6 * SENS - 0.6 * AUT
    c2 = 50 * RW - 15 * SW + 1.0 * OT - 0.5 * NAV - 1.3 * MH - 0.6 * SENS - 0.6 * AUT
    assert (c1, c2) == pytest.approx((-858.95, 427.09), abs=0.01)
    # and the reviews (care.reviews: 0.6 a person a year of the older people's review hours)
    # over the stays the diverted people no longer have: conversation 1 keeps the care-home
    # and lifelong working-age placements (its most likely outcomes), so only the home care
    # and direct payment stays go; conversation 2 swaps conversation 3's community and
    # care-home stays for reablement's
    s1 = -(0.18 * 100 + 0.071 * 200) / 52
    s2 = (0.17 * 100 + 0.03 * 104 - (0.18 * 100 + 0.071 * 200 + 0.072 * 104
                                      + 0.038 * 52)) / 52
    c1, c2 = c1 + s1 * 0.6 * REVIEW_OP, c2 + s2 * 0.6 * REVIEW_OP
    assert (c1, c2) == pytest.approx((-973.52, 350.43), abs=0.01)
    made = _savings(table, {"conversation_1_not_3": c1, "conversation_2_not_3": c2,
                            "conversation_reviews": 3 * SW})
    want = {"conversation_1_not_3": 2_679_658, "conversation_2_not_3": 1_376_332,
            "conversation_reviews": 280_088}
    assert {k: v["most_likely"] for k, v in made.items()} == pytest.approx(want, abs=1)
    total = {x: sum(v[x] for v in made.values()) for x in LEVELS}
    assert total == pytest.approx({"low": 1_555_708, "most_likely": 4_336_078,
                                   "high": 5_086_376}, abs=2)
    assert total["most_likely"] >= 3.9 * M           # "a minimum of £3.9m"
    assert all(lv.phasing == [0.25, 0.5, 0.75, 1.0] for lv in om.levers)


# ---- slow: the examples solved -------------------------------------------------------------

# for the whole run (mdtplan.solve.budget): Kent's solve gets about 60 s of its 100 s once the
# baseline, growth check, locality teams and marginal values have their shares
LIMITS = {"kent": 100, "medway": 30}


def _run(name: str, **overrides):
    from mdtplan.pipeline import run

    scenario = load_scenario(REPO / "examples" / f"{name}.yaml",
                             overrides={"solver.time_limit_s": LIMITS[name], **overrides})
    return run(scenario, explain=False, marginals=False)


@pytest.fixture(scope="module", params=["kent", "medway"])
def solved(request):
    return request.param, _run(request.param)


@pytest.mark.slow
def test_the_example_solves_and_its_savings_are_the_models(solved):
    name, result = solved
    assert result.status in ("optimal", "feasible_at_limit")
    summary = result.results.summary
    made = summary.finance.model_savings
    assert made.total["most_likely"] > 0
    assert all(ln.source == "model" for ln in summary.finance.lines)
    assert len(summary.finance.lines) == len(made.lines) > 0
    rows = summary.fidelity
    assert rows and all(r.within for r in rows if r.model is not None)
    if name == "kent":   # £9.8m within 5%; the net £5.8m = the model's saving less £4m
        assert made.total["most_likely"] == pytest.approx(9.8 * M, rel=0.05)
        assert summary.finance.investment == pytest.approx(4 * M)
        assert summary.finance.net_of_investment.most_likely == pytest.approx(
            made.total["most_likely"] - 4 * M)
    else:
        assert made.total["most_likely"] >= 3.9 * M


@pytest.mark.slow
def test_a_budget_cap_below_the_plan_holds_the_levers_back(solved):
    name, result = solved
    summary = result.results.summary
    made = summary.finance.model_savings
    roles = result.prepared.data.roles
    per_hour = roles["cost_gbp_per_fte"] / roles["productive_hours_per_fte"]
    # what the levers' staff cost, counting only the hours they need (not those they free)
    need = sum(max(h, 0.0) * float(per_hour[r]) for ln in made.lines
               for r, h in ln.staff_hours.items())
    assert need > 0
    cap = summary.costs.total_gbp - 0.5 * need
    tight = _run(name, **{"budget.cap": cap})
    assert tight.status in ("optimal", "feasible_at_limit")
    after = tight.results.summary.finance.model_savings
    assert tight.results.summary.costs.total_gbp <= cap + 1e-6
    assert after.total["most_likely"] < made.total["most_likely"]
    held = [ln for ln in after.lines if ln.held_back_by]
    assert held and all(ln.people < ln.max_people for ln in held)
    if name == "medway":
        assert any("budget cap" in ln.held_back_by for ln in held), [
            (ln.id, ln.held_back_by) for ln in after.lines]
    # Kent: at 60 s the capped solve stops with a gap of about 17% and £0.3m under the cap
    # (measured 2026-12-06), so its levers are held back "by whole FTE steps ... or the solve
    # stopped within its gap", not by the cap in words; the saving still falls


@pytest.mark.slow
def test_kent_without_generic_workers_to_hire_gives_up_enablement_and_says_why(tmp_path):
    """A hiring limit the solve's gap cannot absorb: no health and social care workers to hire
    beyond today's permanent ones (247 FTE in examples/data/kent_workforce.csv, fewer than the
    hubs' own demand needs), no agency, and the objective to meet as much of that demand as it
    can: every enablement hour is an hour of demand unmet, so the plan gives enablement up
    and names the hiring limit."""
    from council_levers import no_hiring_model

    path = no_hiring_model("kent-local-care.yaml", "health_social_care_worker", tmp_path)
    limited = _run("kent", operating_model=str(path), objective="max_demand_met")
    assert limited.status in ("optimal", "feasible_at_limit")
    staffing = limited.results.staffing
    hscw = staffing[staffing["role"] == "health_social_care_worker"]
    assert float(hscw["fte"].sum()) <= limited.prepared.data.supply_fte[
        "health_social_care_worker"] + 1e-6
    assert float(hscw["unmet_hours"].sum()) > 0
    enable = next(ln for ln in limited.results.summary.finance.model_savings.lines
                  if ln.id == "enablement_first")
    assert enable.people < 0.5 * enable.max_people
    assert "hiring limit of health_social_care_worker" in enable.held_back_by


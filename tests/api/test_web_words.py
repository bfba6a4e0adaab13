"""The pages' words for progress and proof: plain, and never claiming more than is proven."""

from __future__ import annotations

from types import SimpleNamespace

from api.web.result import headline_quality, insights
from api.web.words import best_words, progress, quality_words, time_limit


def test_quality_is_claimed_only_for_every_goal():
    two = {"stages": [{"name": "unmet_hours", "gap": 0.043}, {"name": "cost_gbp", "gap": None}]}
    assert headline_quality(two) == "most demand met: at most 4.3% from the best possible"
    two["stages"][0]["gap"] = 0.0
    assert headline_quality(two) == "most demand met: proven best; lowest cost: not proven"
    two["stages"][1]["gap"] = 0.0
    assert headline_quality(two) == "proven the best possible"
    assert headline_quality({"mip_gap": 0.5}) == "at most 50.0% from the best possible"
    assert quality_words(None) == "no bound on the best possible plan proven yet"
    assert quality_words(3.2) == "not yet within 100% of the best possible"


def test_best_plan_in_the_users_units():
    assert best_words("cost_gbp", 21_990_000) == "£21.99m a year"
    assert best_words("cost_gbp", -1_500_000) == "−£1.50m a year"
    assert best_words("unmet_hours", 0.1) == "all demand met"
    assert best_words("unmet_hours", 12_345.6) == "12,346 hours a year of demand not met"
    assert best_words("max_travel", 34.84) == "longest journey 34.8 minutes"
    assert best_words("cost_gbp", None) is None


def test_progress_sentence_and_time_against_the_limit():
    job = SimpleNamespace(status="running", started_at=100.0, progress={
        "stage": "solve", "objective_stage": "cost_gbp", "primal": 21_990_000.0, "gap": 0.01})
    p = progress(job, 60.0, now=130.0)
    assert p.sentence == ("Searching for the best plan (goal: lowest cost). Best plan so far: "
                          "£21.99m a year, at most 1.0% from the best possible.")
    assert p.elapsed_s == 30.0 and p.fraction == 0.5
    assert progress(job, 20.0, now=200.0).fraction == 1.0  # past the limit: a full bar
    queued = progress(SimpleNamespace(status="queued", started_at=None, progress=None), 60, 0)
    assert queued.sentence == "Waiting for a free solver." and queued.fraction is None
    assert time_limit({"solver": {"time_limit_s": 1200}}, 900) == 900
    assert time_limit({}, 900) == 900


def test_insights_say_what_holds_the_plan_back():
    summary = {"marginal_values": {
        "binding": {"budget_cap": {"rows_binding": 1}, "site_capacity_fte": {"rows_binding": 0}},
        "per_100k_budget": {"stage": "unmet_hours", "change": -2340.4},
        "per_extra_fte": {"stage": "unmet_hours",
                          "best_unit_value": {"social_worker": 1540.0, "autism": 0.0}}},
        "finance": {"model_savings": {"lines": [
            {"name": "Reablement first", "held_back_by": "the budget cap"}]}}}
    lines = insights(summary)
    assert lines[0] == "Rules at their limit: budget cap."
    assert lines[1] == "Another £100k a year of budget would meet about 2,340 more hours of demand a year."
    assert "social worker: meet about 1,540 more hours" in lines[2] and "autism" not in lines[2]
    assert lines[3] == "Reablement first: held back by the budget cap."

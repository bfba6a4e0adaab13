"""The fidelity table: published figures beside the model's (mdtplan.appraisal.fidelity).

Paths into summary.json (keys, list indexes and selectors, and paths that lead nowhere),
``within`` for ranges, floors, ceilings and single values, the derived/typed classification,
the scenario's errors, and the block in summary.json, the CLI and the workbook after a real
solve of the demo.
"""

from __future__ import annotations

import json

import pytest
import yaml
from openpyxl import load_workbook
from typer.testing import CliRunner

from mdtplan.appraisal.fidelity import (
    BASIS,
    basis,
    check_paths,
    fidelity_rows,
    resolve_path,
    rounding_tolerance,
    within,
)
from mdtplan.cli import app
from mdtplan.errors import ScenarioError
from mdtplan.outputs.workbook import FIDELITY_COLUMNS
from mdtplan.scenario import (
    FidelityConfig,
    PublishedFigure,
    load_scenario,
    parse_scenario,
    summary_path_steps,
)
from mdtplan.summary import FIDELITY_KEYS, SUMMARY_KEYS, Summary

DOC = {
    "total_cost": 21_000_000.0,
    "cost_by_role": {"social_worker": 5_000_000.0},
    "baseline": {"total_cost": 24_000_000.0},
    "savings": {"total": {"baseline_gbp": 24e6, "scenario_gbp": 21e6, "saving_gbp": 3e6}},
    "finance": {
        "lines": [
            {"name": "OA1 Reablement (older adults)", "low": 3_780_000.0,
             "most_likely": 4_350_000.0, "high": 4_920_000.0, "cashable": True},
            {"name": "Nursing care", "low": 467_000.0, "most_likely": 467_000.0,
             "high": 467_000.0, "cashable": True},
            {"name": "twice", "low": 1.0, "most_likely": 1.0, "high": 1.0},
            {"name": "twice", "low": 2.0, "most_likely": 2.0, "high": 2.0},
        ],
        "totals": {"total": {"low": 10.45e6, "most_likely": 12.15e6, "high": 13.85e6}},
        "investment": 4_500_000.0,
        "benefit_to_investment": {"low": None, "most_likely": None, "high": None},
        "ratio_basis": "cashable_net",
        "monte_carlo": None,
    },
}


# ------------------------------------------------------------------------------------------
# Paths


def test_path_steps_read_keys_indexes_and_selectors():
    assert summary_path_steps("finance.lines[name=OA1 Reablement (older adults)].low") == (
        ("key", "finance"), ("key", "lines"),
        ("match", "name", "OA1 Reablement (older adults)"), ("key", "low"))
    assert summary_path_steps("finance.by_year[2].net_low") == (
        ("key", "finance"), ("key", "by_year"), ("index", 2), ("key", "net_low"))
    # a selector's value may hold dots
    assert summary_path_steps("a[id=x.y]")[1] == ("match", "id", "x.y")


@pytest.mark.parametrize("bad", ["", "finance.", "finance..lines", "lines[", "lines[]",
                                 "lines[oa1]", "lines]x", "lines[=x]"])
def test_path_syntax_errors(bad):
    with pytest.raises(ValueError):
        summary_path_steps(bad)


def test_resolve_numbers_ranges_and_list_selectors():
    assert resolve_path(DOC, "total_cost") == (21e6, None)
    assert resolve_path(DOC, "cost_by_role.social_worker") == (5e6, None)
    # a line's mapping gives its three levels, whatever else it holds
    assert resolve_path(DOC, "finance.lines[name=OA1 Reablement (older adults)]") == (
        {"low": 3.78e6, "most_likely": 4.35e6, "high": 4.92e6}, None)
    assert resolve_path(DOC, "finance.lines[1].high") == (467_000.0, None)
    assert resolve_path(DOC, "finance.lines[-1].low") == (2.0, None)
    # levels that are null stay null (no investment: no ratio)
    assert resolve_path(DOC, "finance.benefit_to_investment") == (
        {"low": None, "most_likely": None, "high": None}, None)


@pytest.mark.parametrize("path, words", [
    ("finance.model_savings.total", "finance has no key 'model_savings' (it has: lines,"),
    ("finance.lines[name=Community support]", "no item of finance.lines has name = "
                                              "Community support (names: OA1 Reablement"),
    ("finance.lines[7]", "finance.lines has 4 items, no [7]"),
    ("finance.lines[name=twice]", "ambiguous: 2 items"),
    ("finance.monte_carlo.percentiles", "finance.monte_carlo is empty (null)"),
    ("total_cost.low", "total_cost is not a mapping"),
    ("finance.ratio_basis", "leads to str, not a number"),
    ("finance.lines", "leads to list"),
    ("cost_by_role", "leads to dict"),
])
def test_a_path_that_leads_nowhere_is_a_note_not_a_crash(path, words):
    value, note = resolve_path(DOC, path)
    assert value is None
    assert words in note and path in note


# ------------------------------------------------------------------------------------------
# Within


def test_rounding_tolerance_is_half_the_last_significant_digit():
    assert rounding_tolerance(9_800_000) == 50_000       # £9.8m: 9.75m..9.85m
    assert rounding_tolerance(696_000) == 500
    assert rounding_tolerance(4_500_000) == 50_000
    assert rounding_tolerance(1_250_000) == 5_000
    assert rounding_tolerance(1.5) == pytest.approx(0.05)
    assert rounding_tolerance(0) == 0


@pytest.mark.parametrize("published, model, expected", [
    # a range: the model's most likely value (or its number), ends included
    ({"low": 3.78e6, "high": 4.92e6}, 3.78e6, True),
    ({"low": 3.78e6, "high": 4.92e6}, 4.92e6, True),
    ({"low": 3.78e6, "high": 4.92e6}, 4.921e6, False),
    ({"low": 3.78e6, "high": 4.92e6}, {"low": 1.0, "most_likely": 4e6, "high": 9e9}, True),
    ({"low": 3.78e6, "high": 4.92e6}, {"low": 4e6, "most_likely": 5e6, "high": 5e6}, False),
    # the sum of floats at a bound is not pushed out by rounding noise
    ({"low": 0.3, "high": 1.0}, 0.1 + 0.2, True),
    # at least / up to
    ({"min": 3.9e6}, 3.9e6, True),
    ({"min": 3.9e6}, 3.899e6, False),
    ({"max": 360_000}, 360_000, True),
    ({"max": 360_000}, 360_001, False),
    # one value: half a unit of its last significant digit, or the tolerance given
    (9.8e6, 9.849e6, True),
    (9.8e6, 9.851e6, False),
    (9.8e6, 9.751e6, True),
    ({"value": 9.8e6, "tolerance": 10_000}, 9.82e6, False),
    ({"value": 9.8e6, "tolerance": 10_000}, 9.81e6, True),
    # missing on either side: no verdict
    ({"low": 1, "high": 2}, None, None),
    ({"min": 1}, {"low": None, "most_likely": None, "high": None}, None),
])
def test_within(published, model, expected):
    assert within(PublishedFigure.model_validate(published), model) is expected


# ------------------------------------------------------------------------------------------
# Derived or typed


@pytest.mark.parametrize("path, expected", [
    ("finance.lines[name=OA1 Reablement (older adults)]", (False, "typed input")),
    ("finance.totals.total", (False, "typed input")),
    ("finance.investment", (False, "typed input")),
    ("finance.benefit_to_investment", (False, "typed input")),
    ("finance.monte_carlo.percentiles.total", (False, "typed input")),
    ("finance.model_savings.total", (True, "model")),
    ("finance.model_savings.lines[id=oa1_reablement]", (True, "model")),
    ("finance.monte_carlo.demand.total_cost", (True, "model")),
    ("total_cost", (True, "model")),
    ("cost_by_role.social_worker", (True, "model")),
    ("baseline.total_cost", (True, "model")),
    ("savings.total.saving_gbp", (True, "model")),
    ("geography.travel_hours", (True, "model")),
    ("demand_hours", (True, "model")),
    ("budget_cap", (False, "typed input")),
    ("total_costs", (False, "not modelled")),   # a prefix of a word is not a match
    (None, (False, "not modelled")),
])
def test_derived_classification(path, expected):
    assert basis(path) == expected


def test_every_figure_key_of_summary_json_is_classified():
    # keys holding text, lists of messages or the solver's own bookkeeping are not figures
    not_figures = {"name", "status", "objective_name", "mip_gap", "solve_seconds", "message",
                   "timings", "warnings", "explanation", "travel_unit", "fidelity",
                   "assignment_relaxed", "reproducible", "work_limits", "start_from"}
    prefixes = {prefix.split(".")[0] for prefix, _, _ in BASIS}
    assert set(SUMMARY_KEYS) - not_figures - prefixes == set()


# ------------------------------------------------------------------------------------------
# Rows


def _config(figures: list[dict]) -> FidelityConfig:
    return FidelityConfig.model_validate({"council": "Leicestershire", "figures": figures})


def test_rows_carry_the_contract_keys_and_each_verdict():
    rows = fidelity_rows(DOC, _config([
        {"figure": "OA1 Reablement", "published": {"low": 3.78e6, "high": 4.92e6},
         "model": "finance.lines[name=OA1 Reablement (older adults)]",
         "source": "Leicestershire County Council, Cabinet, 2018", "quote": "£3.78m - £4.92m"},
        {"figure": "Fee", "published": 4.5e6, "model": "finance.investment", "source": "s"},
        {"figure": "Cost", "published": {"max": 20e6}, "model": "total_cost", "source": "s"},
        {"figure": "Model savings", "published": {"min": 1}, "source": "s",
         "model": "finance.model_savings.total", "note": "made by the levers"},
        {"figure": "Fee after the clause", "published": {"max": 4.5e6}, "source": "s",
         "note": "the clause is not modelled"},
    ]))
    docs = [r.to_dict() for r in rows]
    assert all(tuple(d) == FIDELITY_KEYS for d in docs)
    assert FIDELITY_KEYS[:7] == ("council", "figure", "published", "model", "derived",
                                 "within", "source")
    oa1, fee, cost, model_savings, clause = docs
    assert oa1["published"] == {"low": 3.78e6, "high": 4.92e6}
    assert oa1["model"] == {"low": 3.78e6, "most_likely": 4.35e6, "high": 4.92e6}
    assert (oa1["derived"], oa1["basis"], oa1["within"], oa1["ends_within"]) == (
        False, "typed input", True, True)
    assert oa1["quote"] == "£3.78m - £4.92m" and oa1["council"] == "Leicestershire"
    # a single published value is written as the number, with the tolerance used
    assert (fee["published"], fee["model"], fee["within"], fee["tolerance"]) == (
        4.5e6, 4.5e6, True, 50_000)
    # the model's solve made it, and it is above the ceiling
    assert (cost["derived"], cost["basis"], cost["within"], cost["ends_within"]) == (
        True, "model", False, None)
    # a path not found: no model figure, no verdict, the user's note and the reason
    assert (model_savings["model"], model_savings["within"], model_savings["derived"],
            model_savings["basis"]) == (None, None, False, "path not found")
    assert model_savings["note"].startswith("made by the levers; path "
                                            "'finance.model_savings.total' not found")
    assert (clause["model"], clause["basis"], clause["note"]) == (
        None, "not modelled", "the clause is not modelled")


# ------------------------------------------------------------------------------------------
# The scenario


def _demo_doc(repo_root) -> dict:
    return yaml.safe_load((repo_root / "examples" / "demo.yaml").read_text())


def test_published_low_above_high_is_an_error_naming_the_key(repo_root):
    doc = _demo_doc(repo_root)
    doc["fidelity"] = {"council": "Demoshire", "figures": [
        {"figure": "Savings", "published": {"low": 5e6, "high": 3e6}, "source": "s"}]}
    with pytest.raises(ScenarioError) as e:
        parse_scenario(doc, file="demo.yaml")
    [p] = e.value.problems
    assert p.column == "fidelity.figures.0.published"
    assert "low 5e+06 is above high 3e+06" in p.message


@pytest.mark.parametrize("figure, column, words", [
    ({"figure": "x", "published": 1, "source": "s", "sauce": "t"},
     "fidelity.figures.0.sauce", "unknown key"),
    ({"figure": "x", "published": {"low": 1}, "source": "s"},
     "fidelity.figures.0.published", "needs both low and high"),
    ({"figure": "x", "published": {"min": 1, "max": 2}, "source": "s"},
     "fidelity.figures.0.published", "give one of"),
    ({"figure": "x", "published": 1}, "fidelity.figures.0.source", "missing"),
    ({"figure": "x", "published": 1, "source": "s", "model": "finance..totals"},
     "fidelity.figures.0.model", "a key is empty"),
])
def test_other_faults_of_the_section(repo_root, figure, column, words):
    doc = _demo_doc(repo_root)
    doc["fidelity"] = {"council": "Demoshire", "figures": [figure]}
    with pytest.raises(ScenarioError) as e:
        parse_scenario(doc)
    assert [(p.column, words in p.message) for p in e.value.problems] == [(column, True)]


def test_validate_flags_a_path_whose_top_key_summary_json_never_has(repo_root, tmp_path):
    doc = _demo_doc(repo_root)
    doc["fidelity"] = {"council": "Demoshire", "figures": [
        {"figure": "Savings", "published": 1, "source": "s", "model": "finance.totals.total"},
        {"figure": "Cost", "published": 1, "source": "s", "model": "totalcost"}]}
    scenario = parse_scenario(doc, base_dir=repo_root / "examples")
    [p] = check_paths(scenario)
    assert p.column == "fidelity.figures[1].model" and "no key 'totalcost'" in p.message
    path = repo_root / "examples" / "demo.yaml"
    r = CliRunner().invoke(app, ["validate", str(path), "--set",
                                 "fidelity={council: D, figures: [{figure: c, published: 1, "
                                 "source: s, model: totalcost}]}"])
    assert r.exit_code == 2
    assert "fidelity.figures[0].model" in r.output + (r.stderr if r.stderr_bytes else "")


# ------------------------------------------------------------------------------------------
# A real solve of the demo


FAST = ["objective=min_cost", "budget.cap=null", "solver.mip_gap=0.05",
        "finance.monte_carlo=null"]
FIDELITY = ("fidelity={council: Demoshire, figures: ["
            "{figure: Workstream savings, published: {low: 1000000, high: 3000000}, "
            "model: finance.totals.total, source: demo.yaml, quote: 'between £1m and £3m'},"
            "{figure: Practice quality, published: {min: 900000}, "
            "model: 'finance.lines[name=Practice quality (typed, outside the model)]', "
            "source: demo.yaml},"
            "{figure: Investment, published: 900000, model: finance.investment, "
            "source: demo.yaml},"
            "{figure: Annual cost, published: {max: 1}, model: total_cost, source: demo.yaml},"
            "{figure: Lever savings, published: {min: 1}, model: finance.model_savings.total,"
            " source: demo.yaml, note: 'from the levers'}]}")


@pytest.fixture(scope="module")
def solved(tmp_path_factory, repo_root):
    out = tmp_path_factory.mktemp("demo_fidelity")
    args = ["solve", str(repo_root / "examples" / "demo.yaml"), "--out", str(out),
            "--time-limit", "20"]
    for item in [*FAST, FIDELITY]:
        args += ["--set", item]
    r = CliRunner().invoke(app, args, catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return out, json.loads((out / "summary.json").read_text()), r.output


def test_summary_json_has_the_fidelity_block(solved, repo_root):
    out, summary, _ = solved
    assert list(summary)[-1] == "fidelity"
    rows = summary["fidelity"]
    assert [r["figure"] for r in rows] == ["Workstream savings", "Practice quality",
                                           "Investment", "Annual cost", "Lever savings"]
    # the total: the model's lever savings plus hand sums of demo.yaml's typed workstreams
    # (most likely: given, else mid-range)
    lines = _demo_doc(repo_root)["finance"]["workstreams"]
    made = summary["finance"]["model_savings"]["total"]
    want = {level: made[level] + sum(w[level] if level in w else (w["low"] + w["high"]) / 2
                                     for w in lines)
            for level in ("low", "most_likely", "high")}
    savings, quality, investment, cost, levers = rows
    assert savings["model"] == pytest.approx(want)
    likely = want["most_likely"]
    assert (savings["within"], savings["derived"]) == (1e6 <= likely <= 3e6, True)
    assert savings["basis"] == "model levers and typed lines"
    # with no typed line left the sum is the model's alone
    from mdtplan.appraisal.fidelity import _with_model_lines
    model_only = {"finance": {"lines": [ln for ln in summary["finance"]["lines"]
                                        if ln["source"] == "model"]}}
    assert _with_model_lines(model_only, "finance.totals.total", False,
                             "typed input") == (True, "model")
    assert _with_model_lines({"finance": {"lines": [{"source": "typed"}]}},
                             "finance.totals.total", False, "typed input") == (
        False, "typed input")
    assert quality["model"] == {"low": 150_000, "most_likely": 225_000, "high": 300_000}
    assert (quality["within"], quality["ends_within"], quality["derived"]) == (False, False,
                                                                              False)
    assert (investment["model"], investment["within"]) == (900_000, True)
    assert cost["model"] == pytest.approx(summary["total_cost"])
    assert (cost["derived"], cost["basis"], cost["within"]) == (True, "model", False)
    assert levers["model"] == pytest.approx(made)
    assert (levers["within"], levers["derived"], levers["basis"]) == (made["most_likely"] >= 1,
                                                                      True, "model")
    assert "from the levers" in levers["note"]
    # read back typed, and written again the same
    assert Summary.from_dict(summary).to_dict()["fidelity"] == rows


def test_the_cli_prints_the_table(solved):
    _, _, output = solved
    assert "Published figures beside the model's (Demoshire)" in output
    table = output.split("Published figures beside the model's")[1]
    # the terminal may wrap cells: look for words, not whole cells
    for words in ("at least", "£900,000", "typed", "model", "Lever", "savings"):
        assert words in table


def test_the_workbook_has_the_fidelity_sheet(solved):
    out, summary, _ = solved
    ws = load_workbook(out / "summary.xlsx")["Fidelity"]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == FIDELITY_COLUMNS
    assert len(rows) == 1 + len(summary["fidelity"])
    head = FIDELITY_COLUMNS.index
    savings, quality, investment, cost, levers = rows[1:]
    assert savings[:4] == ("Demoshire", "Workstream savings", 1_000_000, 3_000_000)
    assert savings[head("Model most likely")] == pytest.approx(
        summary["fidelity"][0]["model"]["most_likely"])
    assert savings[head("Quote")] == "between £1m and £3m"
    assert savings[head("Derived")] == "yes" and quality[head("Derived")] == "no"
    assert cost[head("Derived")] == "yes"
    # at least: low only; a single value: low = high, with its tolerance
    assert (quality[head("Published low")], quality[head("Published high")]) == (
        900_000, None)
    assert (investment[head("Published low")], investment[head("Published high")],
            investment[head("Tolerance")]) == (900_000, 900_000, 50_000)
    assert cost[head("Published high")] == 1 and cost[head("Model low")] is None
    assert levers[head("Model most likely")] == pytest.approx(
        summary["finance"]["model_savings"]["total"]["most_likely"])
    assert levers[head("Basis")] == "model"
    # within is a live formula over the row's cells
    assert savings[head("Within")] == ('=IF(F2="","",AND(IF(C2="",TRUE,F2>=C2-N2),'
                                       'IF(D2="",TRUE,F2<=D2+N2)))')
    # and, calculated, it gives the summary's verdicts (no verdict: an empty cell)
    import formulas

    cells = formulas.ExcelModel().loads(str(out / "summary.xlsx")).finish().calculate()
    calculated = [cells[f"'[summary.xlsx]FIDELITY'!I{n}"].value[0][0] for n in range(2, 7)]
    want = ["" if r["within"] is None else r["within"] for r in summary["fidelity"]]
    assert [v if v == "" else bool(v) for v in calculated] == want
    assert want == [summary["fidelity"][0]["within"], False, True, False, True]


def test_scenario_without_fidelity_has_none(repo_root):
    scenario = load_scenario(repo_root / "examples" / "demo.yaml")
    assert scenario.fidelity is None and check_paths(scenario) == []


# ------------------------------------------------------------------------------------------
# The council examples: their published figures against their finance tables (no solve)


def _example_rows(repo_root, name: str) -> dict:
    """The example's fidelity rows against its finance table; an operating model with levers
    has them at their whole most likely share (what its plan reaches when nothing holds them
    back: tests/council_levers.py)."""
    from council_levers import model_savings_doc

    from mdtplan.appraisal.finance import savings_table
    from mdtplan.operating_model import load_operating_model
    from mdtplan.summary import Line

    scenario = load_scenario(repo_root / "examples" / f"{name}.yaml")
    assert check_paths(scenario) == []
    om = load_operating_model(scenario.operating_model)
    made = model_savings_doc(name) if om.levers else None
    cashable = {lv.id: lv.cashable for lv in om.levers}
    lines = [Line(name=ln["name"], low=ln["low"], high=ln["high"],
                  most_likely=ln["most_likely"], cashable=cashable[ln["id"]], source="model",
                  id=ln["id"]) for ln in (made or {}).get("lines", [])]
    table = savings_table(scenario, om, lines)
    doc = {"finance": None if table is None else {**table.to_dict(), "model_savings": made}}
    return {r.figure: r for r in fidelity_rows(doc, scenario.fidelity)}


def test_leicestershire_published_table_is_reproduced(repo_root):
    rows = _example_rows(repo_root, "leicestershire")
    workstreams = [r for f, r in rows.items() if f.startswith(("OA", "WAA"))]
    assert len(workstreams) == 7
    # each workstream is a lever the model works out, its low, most likely and high inside
    # the published range
    for r in workstreams:
        assert r.published["low"] < r.model["low"] < r.model["high"] < r.published["high"]
        assert (r.within, r.ends_within, r.derived, r.basis) == (True, True, True, "model")
    total = rows["Total annual savings"]
    # models/README.md, "Levers: Leicestershire": £10.982m / £12.213m / £13.050m
    assert (total.model["low"], total.model["high"]) == (pytest.approx(10.982e6, abs=1e3),
                                                         pytest.approx(13.050e6, abs=1e3))
    assert total.within and total.ends_within and total.derived
    assert rows["Cashable annual savings"].ends_within          # £7.79m-£10.43m
    assert rows["Quality (non-cashable) annual savings"].ends_within   # £2.66m-£3.42m
    assert rows["Savings already in the medium-term financial plan"].within
    assert rows["Strategic partner's fee (one-off)"].model == 4.5e6
    # the council's reading of the 1.5x test, on the model's total: £10.982m / £4.5m = 2.44x
    ratio = rows["Benefit to fee (the 1.5x test)"]
    assert ratio.model["low"] == pytest.approx(10.982 / 4.5, abs=1e-3)
    assert (ratio.within, ratio.ends_within, ratio.unit) == (True, True, "ratio")
    clause = rows["Fee after the reduction clause"]   # no reduction due on the total
    assert clause.model["low"] == 4.5e6 and clause.within


def test_kent_york_and_medway_published_figures(repo_root):
    # Kent's and Medway's savings are the model's levers, here at their full reach (no solve:
    # _example_rows; the solved rows: tests/test_levers_kent_medway.py)
    kent = _example_rows(repo_root, "kent")
    saving, investment, net = kent.values()
    assert saving.model["most_likely"] == pytest.approx(9.8e6, rel=0.05)
    assert (saving.within, saving.derived, saving.basis) == (True, True, "model")
    assert saving.published == {"value": 9.8e6, "tolerance": 490_000}
    assert (investment.model, investment.within, investment.basis) == (4e6, True, "typed input")
    assert net.model["most_likely"] == pytest.approx(saving.model["most_likely"] - 4e6)
    assert net.within and net.derived
    york = _example_rows(repo_root, "york")
    assert [r.within for r in york.values()] == [True] * 6
    # the three lines are the model's, within ±10% of the published figures at every level
    lines = [r for f, r in york.items() if f.endswith("recurring annual saving")]
    assert [r.published["tolerance"] / r.published["value"] for r in lines] == [0.1] * 3
    assert all(r.ends_within and r.derived for r in lines)
    by_2019 = york["Recurring annual savings by 2019/20"]
    assert by_2019.model["most_likely"] == pytest.approx(696e3 + 467e3 + 101e3, rel=1e-3)
    assert by_2019.ends_within                                  # the low end is over £1.2m
    assert york["Investment (one-off)"].model == 360_000
    # "by 2019/20": year 4 of the appraisal; York's levers are full from year 1
    year4 = york["Recurring annual savings in 2019/20 (year 4 of the appraisal)"]
    assert year4.model == pytest.approx(by_2019.model["most_likely"])
    assert (year4.within, year4.derived, year4.basis) == (True, True, "model")
    medway, medway_year4 = _example_rows(repo_root, "medway").values()
    # a quarter more each year (the levers' phasing), whole in year 4 (2019/20)
    assert medway_year4.model == pytest.approx(medway.model["most_likely"])
    assert medway_year4.model_path == "finance.by_year[year=4].saving_most_likely"
    assert medway_year4.within and medway_year4.derived
    assert medway.published == {"min": 3.9e6}
    assert medway.model["most_likely"] >= 3.9e6
    assert (medway.within, medway.basis, medway.quote) == (
        True, "model", "a minimum of £3.9m of annual savings by 2019/20")
    assert medway.model_path == "finance.model_savings.total"


def test_compare_counts_the_published_figures_within(solved, tmp_path):
    out, _, _ = solved
    target = tmp_path / "compare.csv"
    r = CliRunner().invoke(app, ["compare", str(out), str(out), "--csv", str(target)])
    assert r.exit_code == 0, r.output
    rows = {line.split(",")[0]: line.split(",")[1:] for line in
            target.read_text(encoding="utf-8").splitlines()}
    # within: savings (if its total is between £1m and £3m), quality no, investment yes, cost
    # no, levers yes; of the five compared, the savings, cost and levers are made by the solve
    summary = json.loads((out / "summary.json").read_text())
    n = 2 + bool(summary["fidelity"][0]["within"])
    assert rows["Published figures within (of those the model has)"] == [
        f"{n} of 5 (3 derived)"] * 2

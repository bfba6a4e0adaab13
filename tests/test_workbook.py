"""The finance workbook (mdtplan.outputs.workbook): live formulas over visible inputs, each with
its computed value stored, checked against hand calculations and recalculated after an edit."""

from __future__ import annotations

import dataclasses
import re

import pandas as pd
import pytest
from openpyxl import load_workbook

from mdtplan.appraisal.finance import savings_table
from mdtplan.outputs.workbook import write_workbook
from mdtplan.results import Results
from mdtplan.scenario import FinanceConfig
from mdtplan.summary import Summary

YEARS = "Savings by year"


class _Scenario:
    def __init__(self, finance: dict):
        self.finance = FinanceConfig.model_validate(finance)


#: by hand: investment 1,000 spent 60% / 40%; A saves 500 a year, half of it in year 1;
#: B (quality) 100-300; 10% a year; the fee test on the total at 1.5x
FINANCE = {"investment": 1000, "investment_phasing": [0.6, 0.4], "years": 3,
           "discount_rate": 0.10, "required_ratio": 1.5, "ratio_basis": "cashable_net",
           "fee_clause": {"basis": "cashable_net"},
           "workstreams": [{"name": "A", "low": 500, "high": 500, "phasing": [0.5, 1.0]},
                           {"name": "B", "low": 100, "high": 300, "cashable": False}]}


def _results(finance: dict) -> Results:
    summary = dataclasses.replace(Summary.from_dict({"name": "t", "total_cost": 10.0}),
                                  finance=savings_table(_Scenario(finance)))
    hubs = pd.DataFrame({"site_id": ["S1", "S2"], "name": ["One", pd.NA],
                         "population": pd.array([100, None], dtype="Int64"),
                         "utilisation": [0.5, float("nan")]})
    empty = pd.DataFrame(columns=["unit", "role", "fte", "agency_fte", "demand_hours",
                                  "capacity_hours", "unmet_hours", "cost", "staff_cost",
                                  "agency_cost"])
    return Results(hubs=hubs, assignment=pd.DataFrame(), staffing=empty, summary=summary)


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    path = tmp_path_factory.mktemp("wb") / "summary.xlsx"
    results = _results(FINANCE)
    write_workbook(results, path)
    return path, results.summary.finance


def _row(ws, label: str) -> int:
    return next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == label)


def _cells(formula: str) -> set[str]:
    """Cell addresses a formula refers to on its own sheet (``$`` dropped)."""
    own = re.sub(r"(?:'[^']+'|\w+)!\$?[A-Z]+\$?\d+(?::\$?[A-Z]+\$?\d+)?", "", formula)
    return {m.replace("$", "") for m in re.findall(r"\$?[A-Z]{1,2}\$?\d+", own)}


def test_formulas_store_the_figures_of_summary_json(book):
    path, fin = book
    formulas = load_workbook(path)
    values = load_workbook(path, data_only=True)
    ws, wv = formulas["Savings"], values["Savings"]
    total = _row(ws, "Total savings")
    assert ws.cell(total, 2).value == "=SUM(B2:B3)"
    assert [wv.cell(total, c).value for c in (2, 3, 4)] == [600, 700, 800]
    test = _row(ws, "Test")
    assert ws.cell(test, 2).value.startswith("=IF(")
    # cashable net 500 against 1,000: 0.5x at every level, fails 1.5x
    assert [wv.cell(test, c).value for c in (2, 3, 4)] == ["fail"] * 3
    fee = _row(ws, "Fee after reduction (benefit: cashable less already in plan)")
    assert ws.cell(fee, 2).value.startswith("=MIN(")
    # 500 / 1.5 = 333.33 < 1,000
    assert wv.cell(fee, 2).value == pytest.approx(500 / 1.5) == fin.fee_after_reduction.low
    readings = [wv.cell(r, 1).value for r in range(1, wv.max_row + 1)]
    on_total = readings.index("Benefit to investment on total") + 1
    assert wv.cell(on_total, 4).value == pytest.approx(0.8)        # (500 + 300) / 1,000

    ws, wv = formulas[YEARS], values[YEARS]
    npv = _row(ws, "Net present value (sum of present values)")
    cols = [c for c in range(2, ws.max_column + 1) if ws.cell(npv, c).value]
    assert len(cols) == 3 and all(ws.cell(npv, c).value.startswith("=SUM(") for c in cols)
    want = -350 / 1.1 + 100 / 1.1**2 + 500 / 1.1**3              # cashable A only
    assert [wv.cell(npv, c).value for c in cols] == pytest.approx([want] * 3)
    assert fin.npv.low == pytest.approx(want)
    payback = _row(ws, "Payback year")
    cols = [c for c in range(2, ws.max_column + 1) if ws.cell(payback, c).value]
    # net -350, -250, +250: year 3
    assert [wv.cell(payback, c).value for c in cols] == [3, 3, 3]
    # pandas reads the stored values as numbers
    frame = pd.read_excel(path, sheet_name="Savings", header=0, index_col=0)
    assert frame.loc["Total savings", "High"] == 800


def test_formulas_refer_to_the_visible_input_cells(book):
    path, fin = book
    ws = load_workbook(path)[YEARS]
    rate = _row(ws, "Discount rate (HM Treasury Green Book: 3.5%)")
    assert ws.cell(rate, 2).value == 0.10
    first_year = _row(ws, "Year") + 1
    heads = {ws.cell(first_year - 1, c).value: c for c in range(1, ws.max_column + 1)}
    factor = ws.cell(first_year, heads["Discount factor"]).value
    assert f"B{rate}" in _cells(factor)
    # the investment spent in year 2 is the investment (from Savings) times its share input
    spent_row = _row(ws, "Investment spent (share)")
    year2 = next(c for c in range(1, ws.max_column + 1)
                 if ws.cell(spent_row - 1, c).value == "Year 2")
    assert ws.cell(spent_row, year2).value == 0.4
    invest = ws.cell(first_year + 1, heads["Investment spent"]).value
    inv = _row(ws, "Investment (one-off, from Savings)")
    addr = f"{ws.cell(spent_row, year2).column_letter}{spent_row}"
    assert _cells(invest) == {f"B{inv}", addr}
    savings = load_workbook(path)["Savings"]
    target = _row(savings, "Investment (one-off)")
    assert ws.cell(inv, 2).value == f"=Savings!$B${target}"
    # and the Savings sheet's investment is its inputs: the lines' column G and the rest
    rest = _row(savings, "Investment (not by workstream)")
    assert savings.cell(target, 2).value == f"=SUM(G2:G3)+$B${rest}"
    assert savings.cell(rest, 2).value == 1000


def test_editing_an_input_flows_to_the_npv_and_payback(book, tmp_path):
    """Recalculated by the ``formulas`` package after an edit, as Excel would."""
    formulas = pytest.importorskip("formulas")
    path, _ = book
    wb = load_workbook(path)
    ws = wb[YEARS]
    ws.cell(_row(ws, "Discount rate (HM Treasury Green Book: 3.5%)"), 2).value = 0.05
    savings = wb["Savings"]
    savings.cell(2, 2).value = 900                    # A's low saving: 500 -> 900
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)
    solution = formulas.ExcelModel().loads(str(edited)).finish().calculate()

    def value(sheet: str, cell: str):
        key = next(k for k in solution if k.upper().endswith(f"{sheet.upper()}'!{cell}")
                   or k.upper().endswith(f"]{sheet.upper()}!{cell}"))
        return solution[key].value[0][0]

    npv = _row(ws, "Net present value (sum of present values)")
    low_col = next(c for c in range(2, ws.max_column + 1) if ws.cell(npv, c).value)
    letter = ws.cell(npv, low_col).column_letter
    # low: 450 - 600, 900 - 400, 900 at 5%
    assert value(YEARS, f"{letter}{npv}") == pytest.approx(
        -150 / 1.05 + 500 / 1.05**2 + 900 / 1.05**3)
    payback = _row(ws, "Payback year")
    pletter = ws.cell(payback, low_col + 3).column_letter
    # low: net 450 - 600 = -150, 1,350 - 1,000 = 350 -> year 2
    assert value(YEARS, f"{pletter}{payback}") == 2


def test_missing_values_are_blank_cells(book):
    path, _ = book
    ws = load_workbook(path)["Hubs"]
    assert [ws.cell(3, c).value for c in range(1, 5)] == ["S2", None, None, None]
    assert ws.cell(2, 3).value == 100


def test_definitions_sheet_has_the_words_of_summary_json(book):
    path, fin = book
    ws = load_workbook(path)["Definitions"]
    rows = {ws.cell(r, 2).value: (ws.cell(r, 1).value, ws.cell(r, 3).value)
            for r in range(2, ws.max_row + 1)}
    assert rows["finance.npv"] == (fin.labels["npv"], fin.definitions["npv"])
    assert rows["finance.fee_after_reduction"][0] == "Fee after reduction"


def test_summary_total_and_headroom_are_formulas_over_the_parts(tmp_path):
    """The Summary sheet's total is the sum of the cost lines above it, and the headroom the
    cap less that total, as formulas with their values stored (a reader sees the figures,
    an edit of a part flows)."""
    import json
    from pathlib import Path

    from mdtplan.summary import Summary

    doc = json.loads((Path(__file__).parent / "data" / "finance_panel" /
                      "demo_summary.json").read_text())
    summary = Summary.from_dict(doc)
    empty = pd.DataFrame()
    path = tmp_path / "summary.xlsx"
    write_workbook(Results(hubs=pd.DataFrame(columns=["site_id"]), assignment=empty,
                           staffing=pd.DataFrame(columns=["unit", "role", "fte", "cost"]),
                           summary=summary), path)
    ws = load_workbook(path)["Summary"]
    wv = load_workbook(path, data_only=True)["Summary"]
    total, cap = _row(ws, "Total annual cost"), _row(ws, "Budget cap")
    head = _row(ws, "Headroom under the cap (cap less total)")
    parts = [_row(ws, k) for k in ("Staff cost", "Agency premium cost", "Site cost",
                                   "Staff mileage cost")]
    assert _cells(ws.cell(total, 2).value) == {f"B{r}" for r in parts}
    assert ws.cell(head, 2).value == f"=B{cap}-B{total}"
    assert wv.cell(total, 2).value == pytest.approx(doc["total_cost"])
    assert wv.cell(head, 2).value == pytest.approx(doc["budget_cap"] - doc["total_cost"])
    assert sum(wv.cell(r, 2).value for r in parts) == pytest.approx(doc["total_cost"])

"""Finance outputs: the ``summary.xlsx`` workbook (openpyxl), from results only.

Sheets: Summary (headline figures), Cost by role (with formula totals), Hubs, Staffing.
GBP cells carry a currency number format; header rows are frozen; totals are Excel formulas
so a finance reader can follow and change them.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

GBP = '"£"#,##0'
NUM = "#,##0.0"
PCT = "0.0%"
_HEAD_FILL = PatternFill("solid", fgColor="DDE6F0")


def _header(ws, names: list[str]) -> None:
    ws.append(names)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = _HEAD_FILL
    ws.freeze_panes = "A2"


def _widths(ws, width: int = 16) -> None:
    for i in range(1, ws.max_column + 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.column_dimensions["A"].width = 34


def write_workbook(results, path: str | Path) -> Path:
    """Write the finance workbook of one solve.

    Parameters
    ----------
    results : Results
    path : str or Path
        Destination ``.xlsx``.
    """
    s = results.summary
    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    _header(ws, ["Figure", "Value"])
    rows = [
        ("Scenario", s.name, None), ("Status", s.status, None),
        ("Objective", s.objective_name, None),
        ("Total annual cost", s.total_cost, GBP), ("Staff cost", s.staff_cost, GBP),
        ("Agency premium cost", s.agency_cost, GBP), ("Site cost", s.site_cost, GBP),
        ("Budget cap", s.budget_cap, GBP), ("Demand hours", s.demand_hours, NUM),
        ("Demand met", s.demand_met_share, PCT), ("Hubs open", s.hubs_open, "0"),
        ("MIP gap", s.mip_gap, "0.00%"),
    ]
    for label, value, fmt in rows:
        ws.append([label, value])
        if fmt:
            ws.cell(ws.max_row, 2).number_format = fmt
    _widths(ws)

    ws = wb.create_sheet("Cost by role")
    _header(ws, ["Role", "FTE", "Agency FTE", "Staff cost", "Agency premium", "Total cost",
                 "Demand hours", "Unmet hours"])
    st = results.staffing
    if not st.empty:
        g = st.groupby("role", sort=False)[["fte", "agency_fte", "staff_cost", "agency_cost",
                                            "demand_hours", "unmet_hours"]].sum()
        for role, r in g.iterrows():
            n = ws.max_row + 1
            ws.append([role, r.fte, r.agency_fte, r.staff_cost, r.agency_cost, f"=D{n}+E{n}",
                       r.demand_hours, r.unmet_hours])
        last = ws.max_row
        ws.append(["Total"] + [f"=SUM({c}2:{c}{last})" for c in "BCDEFGH"])
        ws.cell(ws.max_row, 1).font = Font(bold=True)
        for row in ws.iter_rows(min_row=2, max_row=ws.max_row):
            for cell in row[1:3]:
                cell.number_format = NUM
            for cell in row[3:6]:
                cell.number_format = GBP
            for cell in row[6:8]:
                cell.number_format = "#,##0"
    _widths(ws)

    ws = wb.create_sheet("Hubs")
    cols = [c for c in ("site_id", "name", "status", "pool", "population", "areas", "fte",
                        "utilisation", "site_cost") if c in results.hubs.columns]
    _header(ws, cols)
    for rec in results.hubs[cols].itertuples(index=False):
        ws.append([None if (isinstance(v, float) and v != v) else
                   (v if isinstance(v, (int, float)) else str(v)) for v in rec])
    for row in ws.iter_rows(min_row=2):
        for cell, name in zip(row, cols, strict=True):
            cell.number_format = {"population": "#,##0", "fte": NUM, "utilisation": PCT,
                                  "site_cost": GBP}.get(name, "General")
    _widths(ws)

    ws = wb.create_sheet("Staffing")
    cols = ["unit", "role", "fte", "agency_fte", "demand_hours", "capacity_hours",
            "unmet_hours", "cost"]
    _header(ws, cols)
    if not st.empty:
        for rec in st[cols].itertuples(index=False):
            ws.append([str(rec[0]), str(rec[1]), *[float(v) for v in rec[2:]]])
        for row in ws.iter_rows(min_row=2):
            row[-1].number_format = GBP
    _widths(ws)
    path = Path(path)
    wb.save(path)
    return path

"""Finance outputs: the ``summary.xlsx`` workbook (openpyxl), from results only.

Sheets: Summary (headline figures); Cost by role; Cost by hub (FTE and cost of each role at
each hub and pool); Baseline vs scenario (when the scenario has a baseline); Savings (the
workstream table: low / most likely / high, cashable and quality totals, less already in plan,
net of investment, benefit-to-investment ratio and its pass/fail); Savings by year; Monte Carlo
(percentiles, when run); Fidelity (the council's published figures beside the model's, when the
scenario has a ``fidelity`` section); Hubs; Staffing.

GBP cells carry a currency number format; header rows are frozen; totals, savings, ratios and
pass/fail cells are Excel formulas over the cells above them, so a finance reader can follow
them and change an input (a workstream's range, the investment, the required ratio) to see the
effect.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from ..summary import FidelityRow, FinanceAppraisal, MonteCarlo, PlanSavings

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
        ("Scenario", s.name, None), ("Status", s.report.status, None),
        ("Objective", s.report.objective_name, None),
        ("Total annual cost", s.costs.total_gbp, GBP), ("Staff cost", s.costs.staff_gbp, GBP),
        ("Agency premium cost", s.costs.agency_gbp, GBP), ("Site cost", s.costs.site_gbp, GBP),
        *((("Staff mileage cost", s.costs.mileage_gbp, GBP),
           ("Staff travel hours", s.geography.travel_hours, NUM))
          if s.geography is not None and s.geography.staff_travel else ()),
        ("Budget cap", s.costs.budget_cap_gbp, GBP), ("Demand hours", s.demand.hours, NUM),
        ("Demand met", s.demand.met_share, PCT), ("Hubs open", s.hubs.count, "0"),
        ("MIP gap", s.report.mip_gap, "0.00%"),
    ]
    if s.localities is not None:
        rows += [("Locality teams", s.localities.count, "0"),
                 ("Locality teams' roles cost (in the total)", s.localities.cost_gbp, GBP)]
    for label, value, fmt in rows:
        ws.append([label, value])
        if fmt:
            ws.cell(ws.max_row, 2).number_format = fmt
    _widths(ws)

    ws = wb.create_sheet("Cost by role")
    _header(ws, ["Role", "FTE", "Agency FTE", "Staff cost", "Agency premium", "Total cost",
                 "Demand hours", "Unmet hours"])
    st = results.staffing
    # roles staffed per locality team: in the summary's costs, not in the staffing table
    team_roles = ([] if s.localities is None else
                  [r for r in s.costs.by_role_gbp if st.empty or r not in set(st["role"])])
    if not st.empty or team_roles:
        if not st.empty:
            g = st.groupby("role", sort=False)[["fte", "agency_fte", "staff_cost",
                                                "agency_cost", "demand_hours",
                                                "unmet_hours"]].sum()
            for role, r in g.iterrows():
                n = ws.max_row + 1
                ws.append([role, r.fte, r.agency_fte, r.staff_cost, r.agency_cost,
                           f"=D{n}+E{n}", r.demand_hours, r.unmet_hours])
        for role in team_roles:
            n = ws.max_row + 1
            ws.append([f"{role} (locality teams)", s.workforce.fte_by_role.get(role, 0.0), 0.0,
                       s.costs.by_role_gbp[role], 0.0, f"=D{n}+E{n}", 0.0, 0.0])
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

    _cost_by_hub(wb, st)
    if s.savings is not None:
        _baseline_sheet(wb, s.savings)
    if s.finance is not None:
        _savings_sheet(wb, s.finance)
        if s.finance.by_year:
            _by_year_sheet(wb, s.finance)
        if s.finance.monte_carlo is not None:
            _monte_carlo_sheet(wb, s.finance.monte_carlo)
    if s.fidelity is not None:
        _fidelity_sheet(wb, s.fidelity)

    ws = wb.create_sheet("Hubs")
    cols = [c for c in ("site_id", "name", "status", "pool", "locality", "population", "areas",
                        "fte", "utilisation", "site_cost", "travel_hours", "mileage_gbp")
            if c in results.hubs.columns]
    _header(ws, cols)
    for rec in results.hubs[cols].itertuples(index=False):
        ws.append([None if (isinstance(v, float) and v != v) else
                   (v if isinstance(v, (int, float)) else str(v)) for v in rec])
    for row in ws.iter_rows(min_row=2):
        for cell, name in zip(row, cols, strict=True):
            cell.number_format = {"population": "#,##0", "fte": NUM, "utilisation": PCT,
                                  "site_cost": GBP, "travel_hours": "#,##0",
                                  "mileage_gbp": GBP}.get(name, "General")
    _widths(ws)

    if getattr(results, "localities", None) is not None:
        ws = wb.create_sheet("Locality teams")
        cols = list(results.localities.columns)
        _header(ws, cols)
        for rec in results.localities.itertuples(index=False):
            ws.append([v if isinstance(v, (int, float)) else str(v) for v in rec])
        for row in ws.iter_rows(min_row=2):
            for cell, name in zip(row, cols, strict=True):
                cell.number_format = {"population": "#,##0", "fte": NUM,
                                      "cost": GBP}.get(name, "General")
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


def _total_row(ws, label: str, columns: str, first: int, last: int) -> int:
    ws.append([label] + [f"=SUM({c}{first}:{c}{last})" if c else None for c in columns])
    ws.cell(ws.max_row, 1).font = Font(bold=True)
    return ws.max_row


def _fmt_columns(ws, formats: dict[int, str], min_row: int = 2) -> None:
    for row in ws.iter_rows(min_row=min_row, max_row=ws.max_row):
        for col, fmt in formats.items():
            if col <= len(row):
                row[col - 1].number_format = fmt


def _cost_by_hub(wb, st) -> None:
    """FTE and cost of each role at each hub or pool: one row per unit, formula totals."""
    ws = wb.create_sheet("Cost by hub")
    if st.empty:
        _header(ws, ["Hub or pool"])
        return
    roles = list(dict.fromkeys(st["role"]))
    fte = st.pivot_table(index="unit", columns="role", values="fte", aggfunc="sum",
                         fill_value=0.0).reindex(columns=roles, fill_value=0.0)
    cost = st.pivot_table(index="unit", columns="role", values="cost", aggfunc="sum",
                          fill_value=0.0).reindex(columns=roles, fill_value=0.0)
    k = len(roles)
    _header(ws, ["Hub or pool"] + [f"FTE {r}" for r in roles] + ["FTE total"]
            + [f"Cost {r}" for r in roles] + ["Cost total"])
    from openpyxl.utils import get_column_letter as L

    for unit in fte.index:
        n = ws.max_row + 1
        ws.append([str(unit)] + [float(v) for v in fte.loc[unit]]
                  + [f"=SUM({L(2)}{n}:{L(1 + k)}{n})"]
                  + [float(v) for v in cost.loc[unit]]
                  + [f"=SUM({L(3 + k)}{n}:{L(2 + 2 * k)}{n})"])
    last = ws.max_row
    ws.append(["Total"] + [f"=SUM({L(c)}2:{L(c)}{last})" for c in range(2, 2 * k + 4)])
    ws.cell(ws.max_row, 1).font = Font(bold=True)
    _fmt_columns(ws, {c: NUM for c in range(2, k + 3)}
                 | {c: GBP for c in range(k + 3, 2 * k + 4)})
    _widths(ws, 14)


def _baseline_sheet(wb, savings: PlanSavings) -> None:
    """Today's configuration against the plan, line by line; savings are formulas."""
    ws = wb.create_sheet("Baseline vs scenario")
    _header(ws, ["Line", "Baseline (today)", "Scenario (plan)", "Saving"])
    for line in savings.lines:
        n = ws.max_row + 1
        ws.append([line.line, line.baseline_gbp, line.scenario_gbp, f"=B{n}-C{n}"])
    last = ws.max_row
    _total_row(ws, "Total", "BCD", 2, last)
    _fmt_columns(ws, {2: GBP, 3: GBP, 4: GBP})
    ws.append([])
    ws.append(["Service", "Baseline (today)", "Scenario (plan)"])
    ws.cell(ws.max_row, 1).font = Font(bold=True)
    for label, key, fmt in (("Demand met", "demand_met_share", PCT),
                            ("Unmet hours", "unmet_hours", "#,##0"),
                            ("FTE", "fte", NUM), ("Hubs open", "hubs_open", "0"),
                            ("Mean travel (population-weighted)", "travel_mean", NUM)):
        pair = getattr(savings, key)
        ws.append([label, pair.baseline, pair.scenario])
        ws.cell(ws.max_row, 2).number_format = fmt
        ws.cell(ws.max_row, 3).number_format = fmt
    _widths(ws, 18)


def _savings_sheet(wb, finance: FinanceAppraisal) -> None:
    """The workstream table with every total, test and ratio as a formula."""
    ws = wb.create_sheet("Savings")
    _header(ws, ["Workstream", "Low", "Most likely", "High", "Cashable", "Already in plan",
                 "Investment"])
    for line in finance.lines:
        ws.append([line.name, line.low, line.most_likely, line.high,
                   "yes" if line.cashable else "no", line.already_in_plan,
                   line.investment])
    first, last = 2, max(ws.max_row, 2)

    def col(c: str) -> str:
        return f"{c}{first}:{c}{last}"

    def row(label: str, formulas: list[str], fmt: str = GBP, bold: bool = False) -> int:
        ws.append([label, *formulas])
        n = ws.max_row
        for i in range(len(formulas)):
            ws.cell(n, 2 + i).number_format = fmt
        if bold:
            ws.cell(n, 1).font = Font(bold=True)
        return n

    ws.append([])
    levels = "BCD"
    total = row("Total savings", [f"=SUM({col(c)})" for c in levels], bold=True)
    cash = row("Cashable", [f'=SUMIF({col("E")},"yes",{col(c)})' for c in levels])
    row("Quality (non-cashable)", [f'=SUMIF({col("E")},"no",{col(c)})' for c in levels])
    ws.append([])
    plan_extra = finance.already_in_plan - sum(ln.already_in_plan for ln in finance.lines)
    extra = row("Already in plan (not by workstream)", [plan_extra])
    inplan = row("Already in plan (all)",
                 [f"=SUM({col('F')})+$B${extra}"] * 3)
    cnet = row("Cashable, less already in plan",
               [f"={c}{cash}-{c}{inplan}" for c in levels], bold=True)
    overall = row("Overall (total less already in plan)",
                  [f"={c}{total}-{c}{inplan}" for c in levels], bold=True)
    ws.append([])
    extra_inv = finance.investment - sum(ln.investment for ln in finance.lines)
    inv_extra = row("Investment (not by workstream)", [extra_inv])
    inv = row("Investment (one-off)", [f"=SUM({col('G')})+$B${inv_extra}"] * 3)
    basis_row = {"cashable_net": cnet, "total_net": overall, "total": total}[
        finance.ratio_basis]
    row(f"Net of investment ({finance.ratio_basis.replace('_', ' ')})",
        [f"={c}{basis_row}-{c}{inv}" for c in levels], bold=True)
    ratio = row("Benefit to investment",
                [f'=IF({c}{inv}>0,{c}{basis_row}/{c}{inv},"")' for c in levels], fmt="0.00x")
    if finance.required_ratio is not None:
        req = row("Required ratio", [finance.required_ratio], fmt="0.00x")
        row("Test", [f'=IF({c}{ratio}="","",IF({c}{ratio}>=$B${req},"pass","fail"))'
                     for c in levels], fmt="General", bold=True)
    _fmt_columns(ws, {2: GBP, 3: GBP, 4: GBP, 6: GBP, 7: GBP}, min_row=2)
    for n in range(2, last + 1):
        ws.cell(n, 5).number_format = "General"
    for n in range(last + 1, ws.max_row + 1):
        if ws.cell(n, 1).value in ("Benefit to investment", "Required ratio"):
            for c in range(2, 5):
                ws.cell(n, c).number_format = "0.00x"
        if ws.cell(n, 1).value == "Test":
            for c in range(2, 5):
                ws.cell(n, c).number_format = "General"
    _widths(ws, 16)
    ws.column_dimensions["A"].width = 44


def _by_year_sheet(wb, finance: FinanceAppraisal) -> None:
    ws = wb.create_sheet("Savings by year")
    _header(ws, ["Year", "Saving low", "Saving most likely", "Saving high",
                 "Cumulative low", "Cumulative most likely", "Cumulative high",
                 "Net position low", "Net position most likely", "Net position high"])
    inv = finance.investment
    for i, r in enumerate(finance.by_year):
        n = ws.max_row + 1
        cum = ([f"=B{n}", f"=C{n}", f"=D{n}"] if i == 0 else
               [f"=E{n - 1}+B{n}", f"=F{n - 1}+C{n}", f"=G{n - 1}+D{n}"])
        ws.append([r.year, *r.saving.values(), *cum, f"=E{n}-{inv}", f"=F{n}-{inv}",
                   f"=G{n}-{inv}"])
    _fmt_columns(ws, {c: GBP for c in range(2, 11)})
    _widths(ws, 16)


def _monte_carlo_sheet(wb, mc: MonteCarlo) -> None:
    ws = wb.create_sheet("Monte Carlo")
    _header(ws, ["Figure", "P10", "P50", "P90", "Mean", "Draws"])
    labels = {"total": "Total savings", "cashable": "Cashable", "quality": "Quality",
              "cashable_net": "Cashable, less already in plan",
              "overall": "Overall (less already in plan)",
              "net_of_investment": "Net of investment",
              "benefit_to_investment": "Benefit to investment"}
    for key, label in labels.items():
        p = getattr(mc.percentiles, key)
        if p is None:
            continue
        ws.append([label, p.p10, p.p50, p.p90, p.mean, p.n])
        fmt = "0.00x" if key == "benefit_to_investment" else GBP
        for c in range(2, 6):
            ws.cell(ws.max_row, c).number_format = fmt
    for line in mc.lines:
        p = line.percentiles
        ws.append([f"  {line.name}", p.p10, p.p50, p.p90, p.mean, p.n])
        for c in range(2, 6):
            ws.cell(ws.max_row, c).number_format = GBP
    ws.append([])
    ws.append(["Distribution", mc.distribution])
    ws.append(["Seed", mc.seed])
    if mc.probability_passes is not None:
        ws.append(["Share of draws meeting the required ratio", mc.probability_passes])
        ws.cell(ws.max_row, 2).number_format = PCT
    demand = mc.demand
    if demand is not None:
        ws.append([])
        ws.append(["Demand draws (each a re-solve)", "P10", "P50", "P90", "Mean", "Solves"])
        ws.cell(ws.max_row, 1).font = Font(bold=True)
        for key, label, fmt in (("demand_met_share", "Demand met", PCT),
                                ("total_cost", "Plan cost", GBP),
                                ("saving_vs_baseline", "Saving against today", GBP)):
            p = getattr(demand, key)
            if p is not None:
                ws.append([label, p.p10, p.p50, p.p90, p.mean, p.n])
                for c in range(2, 6):
                    ws.cell(ws.max_row, c).number_format = fmt
    _widths(ws, 16)
    ws.column_dimensions["A"].width = 44


#: the Fidelity sheet's columns
FIDELITY_COLUMNS = ["Council", "Figure", "Published low", "Published high", "Model low",
                    "Model most likely", "Model high", "Derived", "Within", "Source", "Quote",
                    "Note", "Published as stated", "Tolerance", "Basis", "Model path"]
_UNIT_FORMAT = {"gbp": GBP, "ratio": "0.00x", "share": PCT, "number": "#,##0.##"}


def _stated(published, unit: str) -> str:
    """A published figure in words: "£9,800,000", "£3,780,000 to £4,920,000", "at least ..."."""
    def fmt(v: float) -> str:
        return {"gbp": f"£{v:,.0f}", "ratio": f"{v:g}x", "share": f"{v:.1%}"}.get(
            unit, f"{v:,g}")

    if not isinstance(published, dict):
        return fmt(published)
    if "low" in published:
        return f"{fmt(published['low'])} to {fmt(published['high'])}"
    if "min" in published:
        return f"at least {fmt(published['min'])}"
    if "max" in published:
        return f"up to {fmt(published['max'])}"
    return fmt(published["value"]) + (f" (± {fmt(published['tolerance'])})"
                                      if published.get("tolerance") is not None else "")


def _fidelity_sheet(wb, rows: tuple[FidelityRow, ...]) -> None:
    """The council's published figures beside the model's, one row each.

    A single published value fills both Published low and high, with its tolerance; "at
    least" fills low only, "up to" high only. Within is a formula: the model's most likely
    value between low less the tolerance and high plus it (an empty bound does not bind).
    """
    ws = wb.create_sheet("Fidelity")
    _header(ws, FIDELITY_COLUMNS)
    for row in rows:
        n = ws.max_row + 1
        p = row.published
        if isinstance(p, dict) and "value" not in p:
            low, high = p.get("low", p.get("min")), p.get("high", p.get("max"))
        else:
            low = high = p["value"] if isinstance(p, dict) else p
        m = row.model
        if isinstance(m, dict):
            model = [m.get("low"), m.get("most_likely"), m.get("high")]
        else:
            model = [None, m, None]
        ws.append([row.council, row.figure, low, high, *model,
                   "yes" if row.derived else "no",
                   f'=IF(F{n}="","",AND(IF(C{n}="",TRUE,F{n}>=C{n}-N{n}),'
                   f'IF(D{n}="",TRUE,F{n}<=D{n}+N{n})))',
                   row.source, row.quote, row.note, _stated(p, row.unit), row.tolerance or 0.0,
                   row.basis, row.model_path])
        fmt = _UNIT_FORMAT.get(row.unit, "General")
        for c in (3, 4, 5, 6, 7, 14):
            ws.cell(n, c).number_format = fmt
    _widths(ws, 16)
    for letter, width in (("B", 40), ("J", 50), ("K", 50), ("L", 50), ("M", 28), ("P", 40)):
        ws.column_dimensions[letter].width = width

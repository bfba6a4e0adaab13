"""Finance outputs: the ``summary.xlsx`` workbook (XlsxWriter), from results only.

Sheets: Summary (headline figures); Cost by role; Cost by hub (FTE and cost of each role at
each hub and pool); Baseline vs scenario (when the scenario has a baseline); Savings (the
workstream table: low / most likely / high, cashable and quality totals, less already in plan,
net of investment, benefit-to-investment ratio and its pass/fail on each reading, the fee
after its reduction clause); Savings by year (phasing of savings and investment, cumulative
net position, discount factors, net present value, payback year); Monte Carlo (percentiles,
when run); Model savings (each lever as the plan runs it: people reached, care saved, staff
cost, the saving as a formula, what holds it back); Definitions (each finance figure in one
sentence); Fidelity (the council's
published figures beside the model's, when the scenario has a ``fidelity`` section); Hubs;
Staffing.

Live formulas with their values stored: totals, savings, ratios, pass/fail, the years and the
net present value are Excel formulas over visible input cells (shaded yellow: each
workstream's low / most likely / high, the investment and its phasing, the discount rate, the
required ratio, the fee), so a finance reader can follow them and change an input to see the
effect. Each formula cell also carries the value mdtplan computed (XlsxWriter's cached
value), so pandas, openpyxl with ``data_only=True`` and preview panes read numbers without
Excel recalculating. Missing values are blank cells.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from ..summary import LEVELS, TERMS, FidelityRow, FinanceAppraisal, MonteCarlo, PlanSavings
from ..summary.words import headline_quality

GBP = '"£"#,##0'
NUM = "#,##0.0"
INT = "#,##0"
PCT = "0.0%"
RATIO = '0.00"x"'
SHARE = "0%"
_HEAD_FILL = "#DDE6F0"
_INPUT_FILL = "#FFF2CC"    # input cells a reader may change


@dataclass(frozen=True)
class Formula:
    """An Excel formula and the value mdtplan computed for it (stored as its cached value)."""

    text: str
    value: Any = None


def _blank(v) -> bool:
    """Missing: ``None``, NaN, ``pandas.NA`` / ``NaT``."""
    if v is None:
        return True
    try:
        import pandas as pd

        return bool(pd.isna(v)) if not isinstance(v, (str, bytes)) else False
    except (TypeError, ValueError):
        return False


def _cached(v):
    """A formula's stored value: a number, a string, or ``""`` for none."""
    if _blank(v):
        return ""
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return float(v) if math.isfinite(v) else ""
    try:
        return float(v)
    except (TypeError, ValueError):
        return str(v)


class _Book:
    """An XlsxWriter workbook with formats made once per (number format, bold, input)."""

    def __init__(self, path: Path):
        self.wb = xlsxwriter.Workbook(str(path), {"nan_inf_to_errors": False})
        self._formats: dict = {}

    def fmt(self, num: str | None = None, bold: bool = False, inp: bool = False,
            head: bool = False):
        key = (num, bold, inp, head)
        if key not in self._formats:
            props: dict[str, Any] = {}
            if num:
                props["num_format"] = num
            if bold or head:
                props["bold"] = True
            if inp:
                props["bg_color"] = _INPUT_FILL
            if head:
                props["bg_color"] = _HEAD_FILL
            self._formats[key] = self.wb.add_format(props) if props else None
        return self._formats[key]

    def sheet(self, name: str, header: list[str] | None = None) -> _Sheet:
        sh = _Sheet(self, self.wb.add_worksheet(name), name)
        if header is not None:
            sh.append(header, head=True)
            sh.ws.freeze_panes(1, 0)
        return sh

    def close(self) -> None:
        self.wb.close()


class _Sheet:
    """A worksheet written row by row; row numbers are Excel's (1-based)."""

    def __init__(self, book: _Book, ws, name: str):
        self.book, self.ws, self.name = book, ws, name
        self.row = 0                                # rows written so far

    def ref(self, cell: str) -> str:
        """``cell`` as seen from another sheet (``'Savings by year'!$B$2``)."""
        return f"'{self.name}'!{cell}" if " " in self.name else f"{self.name}!{cell}"

    def append(self, values: list, formats: list | str | None = None, *, bold: bool = False,
               inputs: list[int] | None = None, head: bool = False) -> int:
        """Write one row; ``formats`` a number format per column (or one for all but A);
        ``inputs`` the 0-based columns shaded as inputs. Returns the row's Excel number."""
        r = self.row
        for c, v in enumerate(values):
            num = formats if isinstance(formats, str) else (
                formats[c] if formats is not None and c < len(formats) else None)
            if isinstance(formats, str) and c == 0:
                num = None
            f = self.book.fmt(num, bold=bold and c == 0, inp=c in (inputs or ()), head=head)
            self.put(r, c, v, f)
        self.row += 1
        return r + 1

    def put(self, r: int, c: int, v, f=None) -> None:
        if isinstance(v, Formula):
            self.ws.write_formula(r, c, v.text, f, _cached(v.value))
        elif _blank(v):
            self.ws.write_blank(r, c, None, f)
        elif isinstance(v, bool):
            self.ws.write_boolean(r, c, v, f)
        elif isinstance(v, (int, float)):
            if math.isfinite(v):
                self.ws.write_number(r, c, v, f)
            else:
                self.ws.write_blank(r, c, None, f)
        elif hasattr(v, "item") and not isinstance(v, str):   # a numpy scalar
            self.put(r, c, v.item(), f)
        else:
            self.ws.write_string(r, c, str(v), f)

    def skip(self) -> None:
        self.row += 1

    def widths(self, width: int = 16, first: int = 34) -> None:
        self.ws.set_column(1, 40, width)
        self.ws.set_column(0, 0, first)


def _col(c: int) -> str:
    """Excel column letter of 0-based column ``c``."""
    return xl_col_to_name(c)


def write_workbook(results, path: str | Path) -> Path:
    """Write the finance workbook of one solve.

    Parameters
    ----------
    results : Results
    path : str or Path
        Destination ``.xlsx``.

    Returns
    -------
    Path
    """
    s = results.summary
    path = Path(path)
    book = _Book(path)
    sh = book.sheet("Summary", ["Figure", "Value"])
    rows = [
        ("Scenario", s.name, None), ("Status", s.report.status, None),
        *((("Proven quality (every goal)", headline_quality(s), None),)
          if s.report.status in ("optimal", "feasible_at_limit") else ()),
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
    if s.savings is not None:
        rows.append(("Cost against today (plan less today)", -s.savings.total.saving_gbp, GBP))
    # the total and the headroom are formulas over the parts shown above them (row numbers
    # are the sheet's: a header row, then one row per figure)
    at = {label: i + 2 for i, (label, _, _) in enumerate(rows)}
    parts = [at[k] for k in ("Staff cost", "Agency premium cost", "Site cost",
                             "Staff mileage cost") if k in at]
    total = s.costs.total_gbp
    if total is not None and all(v is not None for lab, v, _ in rows if at[lab] in parts):
        rows[at["Total annual cost"] - 2] = (
            "Total annual cost", Formula("=" + "+".join(f"B{r}" for r in parts), total), GBP)
    if s.costs.budget_cap_gbp is not None and total is not None:
        rows.insert(at["Budget cap"] - 1, (
            "Headroom under the cap (cap less total)",
            Formula(f"=B{at['Budget cap']}-B{at['Total annual cost']}",
                    s.costs.budget_cap_gbp - total), GBP))
    for label, value, fmt in rows:
        sh.append([label, value], [None, fmt])
    sh.widths()

    _cost_by_role(book, results)
    st = results.staffing
    _cost_by_hub(book, st)
    if s.savings is not None:
        _baseline_sheet(book, s.savings)
    if s.finance is not None:
        cells = _savings_sheet(book, s.finance)
        if s.finance.model_savings is not None:
            _model_savings_sheet(book, s.finance)
        if s.finance.by_year:
            _by_year_sheet(book, s.finance, cells)
        if s.finance.monte_carlo is not None:
            _monte_carlo_sheet(book, s.finance.monte_carlo)
        _definitions_sheet(book, s.finance)
    if s.fidelity is not None:
        _fidelity_sheet(book, s.fidelity)

    cols = [c for c in ("site_id", "name", "status", "pool", "locality", "population", "areas",
                        "fte", "utilisation", "site_cost", "travel_hours", "mileage_gbp")
            if c in results.hubs.columns]
    sh = book.sheet("Hubs", cols)
    fmts = [{"population": INT, "fte": NUM, "utilisation": PCT, "site_cost": GBP,
             "travel_hours": INT, "mileage_gbp": GBP}.get(c) for c in cols]
    for rec in results.hubs[cols].itertuples(index=False):
        sh.append(list(rec), fmts)
    sh.widths(16, 16)

    if getattr(results, "localities", None) is not None:
        cols = list(results.localities.columns)
        sh = book.sheet("Locality teams", cols)
        fmts = [{"population": INT, "fte": NUM, "cost": GBP}.get(c) for c in cols]
        for rec in results.localities.itertuples(index=False):
            sh.append([v if isinstance(v, (int, float)) or _blank(v) else str(v) for v in rec],
                      fmts)
        sh.widths(16, 16)

    cols = ["unit", "role", "fte", "agency_fte", "demand_hours", "capacity_hours",
            "unmet_hours", "cost"]
    sh = book.sheet("Staffing", cols)
    if not st.empty:
        for rec in st[cols].itertuples(index=False):
            sh.append([str(rec[0]), str(rec[1]), *[float(v) for v in rec[2:]]],
                      [None] * 7 + [GBP])
    sh.widths(16, 16)
    book.close()
    return path


def _sum_row(sh: _Sheet, label: str, columns: list[int], first: int, last: int,
             values: dict[int, float], formats) -> int:
    """A bold ``Total`` row of ``=SUM`` formulas over rows ``first..last`` of ``columns``."""
    row: list = [label] + [None] * max(columns)
    for c in columns:
        row[c] = Formula(f"=SUM({_col(c)}{first}:{_col(c)}{last})", values.get(c, 0.0))
    return sh.append(row, formats, bold=True)


def _cost_by_role(book: _Book, results) -> None:
    s, st = results.summary, results.staffing
    sh = book.sheet("Cost by role", ["Role", "FTE", "Agency FTE", "Staff cost",
                                     "Agency premium", "Total cost", "Demand hours",
                                     "Unmet hours"])
    fmts = [None, NUM, NUM, GBP, GBP, GBP, INT, INT]
    # roles staffed per locality team: in the summary's costs, not in the staffing table
    team_roles = ([] if s.localities is None else
                  [r for r in s.costs.by_role_gbp if st.empty or r not in set(st["role"])])
    if st.empty and not team_roles:
        sh.widths()
        return
    data = []
    if not st.empty:
        g = st.groupby("role", sort=False)[["fte", "agency_fte", "staff_cost", "agency_cost",
                                            "demand_hours", "unmet_hours"]].sum()
        data += [[str(role), *map(float, r)] for role, r in g.iterrows()]
    data += [[f"{role} (locality teams)", float(s.workforce.fte_by_role.get(role, 0.0)), 0.0,
              float(s.costs.by_role_gbp[role]), 0.0, 0.0, 0.0] for role in team_roles]
    for role, fte, agency, staff, premium, hours, unmet in data:
        n = sh.row + 1
        sh.append([role, fte, agency, staff, premium,
                   Formula(f"=D{n}+E{n}", staff + premium), hours, unmet], fmts)
    last = sh.row
    sums = {1: sum(d[1] for d in data), 2: sum(d[2] for d in data),
            3: sum(d[3] for d in data), 4: sum(d[4] for d in data),
            5: sum(d[3] + d[4] for d in data), 6: sum(d[5] for d in data),
            7: sum(d[6] for d in data)}
    _sum_row(sh, "Total", list(range(1, 8)), 2, last, sums, fmts)
    sh.widths()


def _cost_by_hub(book: _Book, st) -> None:
    """FTE and cost of each role at each hub or pool: one row per unit, formula totals."""
    if st.empty:
        book.sheet("Cost by hub", ["Hub or pool"])
        return
    roles = list(dict.fromkeys(st["role"]))
    fte = st.pivot_table(index="unit", columns="role", values="fte", aggfunc="sum",
                         fill_value=0.0).reindex(columns=roles, fill_value=0.0)
    cost = st.pivot_table(index="unit", columns="role", values="cost", aggfunc="sum",
                          fill_value=0.0).reindex(columns=roles, fill_value=0.0)
    k = len(roles)
    sh = book.sheet("Cost by hub", ["Hub or pool"] + [f"FTE {r}" for r in roles]
                    + ["FTE total"] + [f"Cost {r}" for r in roles] + ["Cost total"])
    fmts = [None] + [NUM] * (k + 1) + [GBP] * (k + 1)
    L = _col
    for unit in fte.index:
        n = sh.row + 1
        f, c = [float(v) for v in fte.loc[unit]], [float(v) for v in cost.loc[unit]]
        sh.append([str(unit), *f, Formula(f"=SUM({L(1)}{n}:{L(k)}{n})", sum(f)), *c,
                   Formula(f"=SUM({L(k + 2)}{n}:{L(2 * k + 1)}{n})", sum(c))], fmts)
    last = sh.row
    sums = {1 + i: float(fte[r].sum()) for i, r in enumerate(roles)}
    sums[k + 1] = float(fte.to_numpy().sum())
    sums.update({k + 2 + i: float(cost[r].sum()) for i, r in enumerate(roles)})
    sums[2 * k + 2] = float(cost.to_numpy().sum())
    _sum_row(sh, "Total", list(range(1, 2 * k + 3)), 2, last, sums, fmts)
    sh.widths(14)


def _baseline_sheet(book: _Book, savings: PlanSavings) -> None:
    """Today's configuration against the plan, line by line; savings are formulas."""
    sh = book.sheet("Baseline vs scenario", ["Line", "Baseline (today)", "Scenario (plan)",
                                             "Saving (today less plan)"])
    fmts = [None, GBP, GBP, GBP]
    for line in savings.lines:
        n = sh.row + 1
        sh.append([line.line, line.baseline_gbp, line.scenario_gbp,
                   Formula(f"=B{n}-C{n}", line.baseline_gbp - line.scenario_gbp)], fmts)
    last = sh.row
    _sum_row(sh, "Total", [1, 2, 3], 2, last,
             {1: sum(ln.baseline_gbp for ln in savings.lines),
              2: sum(ln.scenario_gbp for ln in savings.lines),
              3: sum(ln.saving_gbp for ln in savings.lines)}, fmts)
    sh.append(["Cost against today (plan less today)", None, None,
               Formula(f"=-D{sh.row}", -savings.total.saving_gbp)], fmts, bold=True)
    sh.skip()
    sh.append(["Service", "Baseline (today)", "Scenario (plan)"], head=True)
    for label, key, fmt in (("Demand met", "demand_met_share", PCT),
                            ("Unmet hours", "unmet_hours", INT),
                            ("FTE", "fte", NUM), ("Hubs open", "hubs_open", "0"),
                            ("Mean travel (population-weighted)", "travel_mean", NUM)):
        pair = getattr(savings, key)
        sh.append([label, pair.baseline, pair.scenario], [None, fmt, fmt])
    sh.widths(18)


_BASIS_WORDS = {"cashable_net": "cashable less already in plan",
                "total_net": "total less already in plan", "total": "total"}


#: the Model savings sheet's columns
MODEL_SAVINGS_COLUMNS = ["Lever", "Id", "Kind", "Cashable", "Cohort (people)",
                         "Most it can reach (people)", "People reached", "Care saving low",
                         "Care saving most likely", "Care saving high", "Staff cost low",
                         "Staff cost most likely", "Staff cost high", "Saving low",
                         "Saving most likely", "Saving high", "Held back by",
                         "One more FTE of", "would save a year"]


def _model_savings_rows(finance: FinanceAppraisal) -> dict:
    """Lever id -> its row on the Model savings sheet (written by :func:`_model_savings_sheet`
    in that order)."""
    ms = finance.model_savings
    if ms is None:
        return {}
    return {ln.id: n for n, ln in enumerate(ms.lines, start=2)}


def _model_savings_sheet(book: _Book, finance: FinanceAppraisal) -> None:
    """The levers as the plan runs them: people, care saved, staff cost and the saving, low /
    most likely / high; the saving is a formula (care saving less staff cost); what holds a
    lever back and what one more FTE would unlock."""
    ms = finance.model_savings
    sh = book.sheet("Model savings", MODEL_SAVINGS_COLUMNS)
    for n, ln in enumerate(ms.lines, start=2):
        care = [ln.care_saving[lv] for lv in LEVELS]
        staff = [ln.care_saving[lv] - ln.saving[lv] for lv in LEVELS]
        saving = [Formula(f"={c}{n}-{d}{n}", ln.saving[lv])
                  for c, d, lv in zip("HIJ", "KLM", LEVELS, strict=True)]
        unlock = ln.one_more_fte or {}
        sh.append([ln.name, ln.id, ln.kind, "yes" if ln.cashable else "no", ln.cohort,
                   ln.max_people, ln.people, *care, *staff, *saving, ln.held_back_by,
                   unlock.get("role"), unlock.get("saving_gbp")],
                  [None, None, None, None, NUM, NUM, NUM] + [GBP] * 9 + [None, None, GBP])
    last = sh.row
    sh.append(["Total", None, None, None, None, None, None,
               *[Formula(f"=SUM({c}2:{c}{last})", v) for c, v in zip(
                   "HIJKLMNOP", [ms.care_saving[lv] for lv in LEVELS]
                   + [ms.care_saving[lv] - ms.total[lv] for lv in LEVELS]
                   + [ms.total[lv] for lv in LEVELS], strict=True)]],
              [None] * 7 + [GBP] * 9, bold=True)
    sh.skip()
    sh.append(["Low and high", ms.levels])
    sh.widths(16, 44)
    sh.ws.set_column(16, 16, 60)


def _savings_sheet(book: _Book, finance: FinanceAppraisal) -> dict:
    """The workstream table with every total, test and ratio a formula over the inputs.

    Returns the cells other sheets refer to (as ``Savings!$B$n``).
    """
    sh = book.sheet("Savings", ["Workstream", "Low", "Most likely", "High", "Cashable",
                                "Already in plan", "Investment", "Source"])
    line_fmts = [None, GBP, GBP, GBP, None, GBP, GBP, None]
    lines = finance.lines
    made = _model_savings_rows(finance)
    for line in lines:
        at = made.get(line.id) if line.source == "model" else None
        if at is not None:  # the lever's savings: live from the Model savings sheet
            values = [Formula(f"='Model savings'!{c}{at}", line.value(lv))
                      for c, lv in zip("NOP", LEVELS, strict=True)]
            inputs = [4, 5, 6]
        else:
            values = [line.low, line.most_likely, line.high]
            inputs = [1, 2, 3, 4, 5, 6]
        sh.append([line.name, *values, "yes" if line.cashable else "no",
                   line.already_in_plan, line.investment,
                   "model" if line.source == "model" else "typed"],
                  line_fmts, inputs=inputs)
    if not lines:
        sh.skip()
    first, last = 2, sh.row
    levels = "BCD"

    def col(c: str) -> str:
        return f"{c}{first}:{c}{last}"

    def row(label: str, formulas: list, fmt: str | None = GBP, bold: bool = False,
            inputs: list[int] | None = None) -> int:
        return sh.append([label, *formulas], fmt, bold=bold, inputs=inputs)

    def per_level(template: str, figure) -> list[Formula]:
        return [Formula(template.format(c=c), None if figure is None else figure.value(lv))
                for c, lv in zip(levels, LEVELS, strict=True)]

    t = finance.totals
    sh.skip()
    total = row("Total savings", per_level(f"=SUM({{c}}{first}:{{c}}{last})", t.total),
                bold=True)
    cash = row("Cashable", per_level(f'=SUMIF({col("E")},"yes",{{c}}{first}:{{c}}{last})',
                                     t.cashable))
    row("Quality (non-cashable)",
        per_level(f'=SUMIF({col("E")},"no",{{c}}{first}:{{c}}{last})', t.quality))
    sh.skip()
    plan_extra = finance.already_in_plan - sum(ln.already_in_plan for ln in lines)
    extra = row("Already in plan (not by workstream)", [plan_extra], inputs=[1])
    inplan = row("Already in plan (all)",
                 [Formula(f"=SUM({col('F')})+$B${extra}", finance.already_in_plan)] * 3)
    cnet = row("Cashable, less already in plan",
               per_level(f"={{c}}{cash}-{{c}}{inplan}", t.cashable_net), bold=True)
    overall = row("Overall (total less already in plan)",
                  per_level(f"={{c}}{total}-{{c}}{inplan}", t.overall), bold=True)
    sh.skip()
    extra_inv = finance.investment - sum(ln.investment for ln in lines)
    inv_extra = row("Investment (not by workstream)", [extra_inv], inputs=[1])
    inv = row("Investment (one-off)",
              [Formula(f"=SUM({col('G')})+$B${inv_extra}", finance.investment)] * 3)
    basis_rows = {"cashable_net": cnet, "total_net": overall, "total": total}
    basis_row = basis_rows[finance.ratio_basis]
    basis_words = _BASIS_WORDS.get(finance.ratio_basis, finance.ratio_basis)
    row(f"Net of investment (one year; {basis_words})",
        per_level(f"={{c}}{basis_row}-{{c}}{inv}", finance.net_of_investment), bold=True)
    ratio = row(f"Benefit to investment ({basis_words})",
                per_level(f'=IF({{c}}{inv}>0,{{c}}{basis_row}/{{c}}{inv},"")',
                          finance.benefit_to_investment), fmt=RATIO)
    req = None
    if finance.required_ratio is not None:
        req = row("Required ratio", [finance.required_ratio], fmt=RATIO, inputs=[1])
        row("Test", [Formula(f'=IF({c}{ratio}="","",IF({c}{ratio}>=$B${req},"pass","fail"))',
                             _verdict(finance.passes.value(lv)))
                     for c, lv in zip(levels, LEVELS, strict=True)], fmt=None, bold=True)
    if finance.ratio_readings:
        sh.skip()
        sh.append(["Readings of the test (each basis)", "Low", "Most likely", "High"],
                  head=True)
        for reading in finance.ratio_readings:
            words = _BASIS_WORDS.get(reading.basis, reading.basis)
            chosen = " (chosen)" if reading.chosen else ""
            b = basis_rows[reading.basis]
            r = row(f"Benefit to investment on {words}{chosen}",
                    per_level(f'=IF({{c}}{inv}>0,{{c}}{b}/{{c}}{inv},"")', reading.ratio),
                    fmt=RATIO)
            if req is not None:
                row(f"Test on {words}{chosen}",
                    [Formula(f'=IF({c}{r}="","",IF({c}{r}>=$B${req},"pass","fail"))',
                             _verdict(reading.passes.value(lv)))
                     for c, lv in zip(levels, LEVELS, strict=True)], fmt=None)
    fee_cells = None
    if finance.fee_clause is not None and finance.fee_after_reduction is not None:
        fc = finance.fee_clause
        sh.skip()
        sh.append(["Fee reduction clause", "Low", "Most likely", "High"], head=True)
        fee = row("Fee (one-off)", [fc.fee], inputs=[1])
        fratio = row("Fee clause ratio", [fc.required_ratio], fmt=RATIO, inputs=[1])
        b = basis_rows[fc.basis]
        words = _BASIS_WORDS.get(fc.basis, fc.basis)
        row(f"Fee after reduction (benefit: {words})",
            per_level(f"=MIN($B${fee},MAX(0,{{c}}{b})/$B${fratio})",
                      finance.fee_after_reduction), bold=True)
        fee_cells = (fee, fratio)
    sh.widths(16)
    sh.ws.set_column(0, 0, 48)
    return {"lines": (first, last), "investment": inv, "extra_in_plan": extra,
            "basis_row": basis_row, "fee": fee_cells}


def _verdict(passed) -> str:
    return "" if passed is None else ("pass" if passed else "fail")


def _line_deductions(finance: FinanceAppraisal) -> list[float]:
    """Already in plan deducted from each line's yearly saving on the ratio basis [GBP/year]:
    its own, plus a share of the section's spread over the cashable lines by most likely."""
    lines = finance.lines
    if finance.ratio_basis == "total":
        return [0.0] * len(lines)
    extra = finance.already_in_plan - sum(ln.already_in_plan for ln in lines)
    weights = [ln.most_likely if ln.cashable else 0.0 for ln in lines]
    total = sum(weights)
    share = [extra * w / total if extra > 0 and total > 0 else 0.0 for w in weights]
    return [ln.already_in_plan + s for ln, s in zip(lines, share, strict=True)]


def _by_year_sheet(book: _Book, finance: FinanceAppraisal, cells: dict) -> None:
    """Phasing of savings and investment, the net position year by year, its present value,
    the net present value and the payback year: formulas over the inputs at the top and the
    Savings sheet."""
    sh = book.sheet("Savings by year", ["Input", "Value"])
    savings = "Savings"
    years = [r.year for r in finance.by_year]
    n_years = len(years)
    rate = sh.append(["Discount rate (HM Treasury Green Book: 3.5%)",
                      finance.discount_rate if finance.discount_rate is not None else 0.0],
                     [None, "0.0%"], inputs=[1])
    year_one = sh.append(["Discount period t of year 1 (1: year 1 discounted once)",
                          finance.discount_year_one if finance.discount_year_one is not None
                          else 1], [None, "0"], inputs=[1])
    inv = sh.append(["Investment (one-off, from Savings)",
                     Formula(f"={savings}!$B${cells['investment']}", finance.investment)],
                    [None, GBP])
    basis_words = _BASIS_WORDS.get(finance.ratio_basis, finance.ratio_basis)
    sh.append(["Ratio basis (the savings counted)", basis_words])
    sh.skip()
    # the phasing table: one column per year, from column D
    y0 = 3
    sh.append(["Phasing: share in year", "Counted (1/0)", "Already in plan deducted",
               *[f"Year {y}" for y in years]], head=True)
    phasing = list(finance.investment_phasing or (1.0,))
    inv_row = sh.append(["Investment spent (share)", None, None,
                         *[phasing[y - 1] if y <= len(phasing) else 0.0 for y in years]],
                        [None, None, None] + [SHARE] * n_years,
                        inputs=list(range(y0, y0 + n_years)))
    first_line = sh.row + 1
    deductions = _line_deductions(finance)
    lfirst, llast = cells["lines"]
    extra = cells["extra_in_plan"]
    for i, (line, deduct) in enumerate(zip(finance.lines, deductions, strict=True)):
        sr = lfirst + i
        if finance.ratio_basis == "cashable_net":
            counted = Formula(f'=IF({savings}!$E${sr}="yes",1,0)', 1 if line.cashable else 0)
        else:
            counted = 1
        if finance.ratio_basis == "total":
            deducted = 0.0
        else:
            deducted = Formula(
                f'={savings}!$F${sr}+IF({savings}!$E${sr}="yes",IFERROR(MAX(0,{savings}!$B$'
                f'{extra})*{savings}!$C${sr}/SUMIF({savings}!$E${lfirst}:$E${llast},"yes",'
                f'{savings}!$C${lfirst}:$C${llast}),0),0)', deduct)
        sh.append([line.name, counted, deducted, *[line.phase(y) for y in years]],
                  [None, "0", GBP] + [SHARE] * n_years, inputs=list(range(y0, y0 + n_years)))
    last_line = sh.row
    sh.skip()

    heads = ["Year", "t", "Discount factor",
             *[f"Saving {lv.replace('_', ' ')}" for lv in LEVELS], "Investment spent",
             *[f"Cumulative saving {lv.replace('_', ' ')}" for lv in LEVELS],
             "Cumulative investment",
             *[f"Net position {lv.replace('_', ' ')}" for lv in LEVELS],
             *[f"Present value {lv.replace('_', ' ')}" for lv in LEVELS],
             *[f"Paid back from {lv.replace('_', ' ')}" for lv in LEVELS]]
    sh.append(heads, head=True)
    C = {"year": 0, "t": 1, "factor": 2, "saving": 3, "invest": 6, "cum": 7, "cuminv": 10,
         "net": 11, "pv": 14, "paid": 17}
    fmts = [None, "0", "0.0000"] + [GBP] * 14 + ["0"] * 3
    top = sh.row + 1
    bottom = top + n_years - 1
    paid = _paid_back_from(finance)
    for k, r in enumerate(finance.by_year):
        n = top + k
        ycol = _col(y0 + k)
        row: list = [r.year, Formula(f"=A{n}-1+$B${year_one}", r.year - 1 + (
            finance.discount_year_one if finance.discount_year_one is not None else 1)),
            Formula(f"=1/(1+$B${rate})^B{n}", r.discount_factor)]
        for lv, sc in zip(LEVELS, "BCD", strict=True):
            if finance.lines:
                text = (f"=SUMPRODUCT(({savings}!{sc}${lfirst}:{sc}${llast}"
                        f"-$C${first_line}:$C${last_line})*$B${first_line}:$B${last_line}"
                        f"*{ycol}${first_line}:{ycol}${last_line})")
            else:
                text = "=0"
            row.append(Formula(text, r.saving.value(lv)))
        row.append(Formula(f"=$B${inv}*{ycol}${inv_row}", r.investment))
        for j, lv in enumerate(LEVELS):
            s_cell = f"{_col(C['saving'] + j)}{n}"
            prev = "" if k == 0 else f"{_col(C['cum'] + j)}{n - 1}+"
            row.append(Formula(f"={prev}{s_cell}", r.cumulative.value(lv)))
        i_cell = f"{_col(C['invest'])}{n}"
        prev = "" if k == 0 else f"{_col(C['cuminv'])}{n - 1}+"
        row.append(Formula(f"={prev}{i_cell}", r.cumulative_investment))
        for j, lv in enumerate(LEVELS):
            row.append(Formula(f"={_col(C['cum'] + j)}{n}-{_col(C['cuminv'])}{n}",
                               r.net.value(lv)))
        for j, lv in enumerate(LEVELS):
            row.append(Formula(f"=({_col(C['saving'] + j)}{n}-{i_cell})*C{n}",
                               None if r.present_value is None else r.present_value.value(lv)))
        for j, lv in enumerate(LEVELS):
            net = f"{_col(C['net'] + j)}{n}"
            later = "TRUE" if k == n_years - 1 else f'{_col(C["paid"] + j)}{n + 1}<>""'
            row.append(Formula(f'=IF(AND({net}>=0,{_col(C["cuminv"])}{n}>0,{later}),A{n},"")',
                               paid[lv][k]))
        sh.append(row, fmts)
    sh.skip()
    npv_row: list = ["Net present value (sum of present values)"] + [None] * (C["pv"] - 1)
    for j, lv in enumerate(LEVELS):
        c = _col(C["pv"] + j)
        npv_row.append(Formula(f"=SUM({c}{top}:{c}{bottom})",
                               None if finance.npv is None else finance.npv.value(lv)))
    sh.append(npv_row, [None] * C["pv"] + [GBP] * 3, bold=True)
    pay_row: list = ["Payback year"] + [None] * (C["paid"] - 1)
    for j, lv in enumerate(LEVELS):
        c = _col(C["paid"] + j)
        pay_row.append(Formula(f'=IF($B${inv}<=0,0,IF(COUNT({c}{top}:{c}{bottom})=0,"",'
                               f"MIN({c}{top}:{c}{bottom})))",
                               finance.payback_year.value(lv)))
    sh.append(pay_row, [None] * C["paid"] + ["0"] * 3, bold=True)
    sh.widths(14, 44)


def _paid_back_from(finance: FinanceAppraisal) -> dict[str, list]:
    """The helper column of the payback formula: the year where, from it on, the net position
    is never below 0 and some investment is spent ("" elsewhere)."""
    out = {}
    rows = finance.by_year
    for lv in LEVELS:
        col: list = [""] * len(rows)
        ok = True
        for k in range(len(rows) - 1, -1, -1):
            r = rows[k]
            ok = ok and r.net.value(lv) >= 0 and (r.cumulative_investment or 0.0) > 0
            col[k] = r.year if ok else ""
        out[lv] = col
    return out


def _monte_carlo_sheet(book: _Book, mc: MonteCarlo) -> None:
    sh = book.sheet("Monte Carlo", ["Figure", "P10", "P50", "P90", "Mean", "Draws"])
    labels = {"total": "Total savings", "cashable": "Cashable", "quality": "Quality",
              "cashable_net": "Cashable, less already in plan",
              "overall": "Overall (less already in plan)",
              "net_of_investment": "Net of investment",
              "benefit_to_investment": "Benefit to investment"}
    for key, label in labels.items():
        p = getattr(mc.percentiles, key)
        if p is None:
            continue
        fmt = RATIO if key == "benefit_to_investment" else GBP
        sh.append([label, p.p10, p.p50, p.p90, p.mean, p.n], [None] + [fmt] * 4 + ["0"])
    for line in mc.lines:
        p = line.percentiles
        sh.append([f"  {line.name}", p.p10, p.p50, p.p90, p.mean, p.n],
                  [None] + [GBP] * 4 + ["0"])
    sh.skip()
    sh.append(["Distribution", mc.distribution])
    sh.append(["Seed", mc.seed])
    if mc.probability_passes is not None:
        sh.append(["Share of draws meeting the required ratio", mc.probability_passes],
                  [None, PCT])
    demand = mc.demand
    if demand is not None:
        sh.skip()
        sh.append(["Demand draws (each a re-solve)", "P10", "P50", "P90", "Mean", "Solves"],
                  head=True)
        for key, label, fmt in (("demand_met_share", "Demand met", PCT),
                                ("total_cost", "Plan cost", GBP),
                                ("saving_vs_baseline", "Saving against today", GBP)):
            p = getattr(demand, key)
            if p is not None:
                sh.append([label, p.p10, p.p50, p.p90, p.mean, p.n],
                          [None] + [fmt] * 4 + ["0"])
    sh.widths(16)
    sh.ws.set_column(0, 0, 44)


def _definitions_sheet(book: _Book, finance: FinanceAppraisal) -> None:
    """Each finance figure's label and what it is, as ``summary.json`` has them."""
    sh = book.sheet("Definitions", ["Figure", "Key in summary.json", "What it is"])
    labels = finance.labels or {k: v[0] for k, v in TERMS.items()}
    words = finance.definitions or {k: v[1] for k, v in TERMS.items()}
    for key, label in labels.items():
        where = "savings.total (its negative)" if key == "cost_against_today" else \
            f"finance.{key}"
        sh.append([label, where, words.get(key, "")])
    sh.ws.set_column(0, 0, 34)
    sh.ws.set_column(1, 1, 30)
    sh.ws.set_column(2, 2, 110)


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


def _fidelity_sheet(book: _Book, rows: tuple[FidelityRow, ...]) -> None:
    """The council's published figures beside the model's, one row each.

    A single published value fills both Published low and high, with its tolerance; "at
    least" fills low only, "up to" high only. Within is a formula (its value stored): the
    model's most likely value between low less the tolerance and high plus it (an empty bound
    does not bind).
    """
    sh = book.sheet("Fidelity", FIDELITY_COLUMNS)
    for row in rows:
        n = sh.row + 1
        p = row.published
        if isinstance(p, dict) and "value" not in p:
            low, high = p.get("low", p.get("min")), p.get("high", p.get("max"))
        else:
            low = high = p["value"] if isinstance(p, dict) else p
        m = row.model
        model = [m.get("low"), m.get("most_likely"), m.get("high")] if isinstance(m, dict) \
            else [None, m, None]
        within = Formula(f'=IF(F{n}="","",AND(IF(C{n}="",TRUE,F{n}>=C{n}-N{n}),'
                         f'IF(D{n}="",TRUE,F{n}<=D{n}+N{n})))',
                         "" if row.within is None or model[1] is None else bool(row.within))
        fmt = _UNIT_FORMAT.get(row.unit, "General")
        sh.append([row.council, row.figure, low, high, *model,
                   "yes" if row.derived else "no", within, row.source, row.quote, row.note,
                   _stated(p, row.unit), row.tolerance or 0.0, row.basis, row.model_path],
                  [None, None, fmt, fmt, fmt, fmt, fmt, None, None, None, None, None, None,
                   fmt, None, None])
    sh.widths(16)
    for col, width in ((1, 40), (9, 50), (10, 50), (11, 50), (12, 28), (15, 40)):
        sh.ws.set_column(col, col, width)


__all__ = ["FIDELITY_COLUMNS", "Formula", "write_workbook"]

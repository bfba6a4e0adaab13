"""The finance panel of a scenario: every figure of ``summary.json``'s ``savings`` and
``finance`` blocks, in tables with a chart beside each, for a finance reader.

The figures are the summary's own (nothing is recomputed); the labels and sentences are
:data:`mdtplan.summary.TERMS` (the same words as the CLI and the workbook), and pounds are
written as the CLI writes them (``£1,234``, ``−£1,234``, ``+£1,234`` for a change, ``0.50x``
for a ratio). :func:`panel` returns what ``finance.html`` shows; the charts come from
:mod:`api.web.charts`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup

from mdtplan.outputs.plots import waterfall_steps
from mdtplan.summary import BASIS_LABELS, LEVELS, TERMS, Range, RatioReading, Summary

from . import charts

LEVEL_WORDS = {"low": "Low", "most_likely": "Most likely", "high": "High"}
#: the ratio bases, short (as the CLI's table and the workbook say them)
BASIS_SHORT = {"cashable_net": "cashable less already in plan",
               "total_net": "total less already in plan", "total": "total"}


# ----------------------------------------------------------------------------- formats
def money(v) -> str:
    """``£1,234`` or ``−£1,234`` (whole pounds; ``—`` for none), as ``mdtplan solve``."""
    if v is None:
        return "—"
    return f"−£{-v:,.0f}" if v < -0.5 else f"£{max(v, 0.0):,.0f}"


def signed(v) -> str:
    """``+£1,234`` or ``−£1,234``: a change or a net position."""
    if v is None:
        return "—"
    return f"−£{-v:,.0f}" if v < -0.5 else f"+£{max(v, 0.0):,.0f}"


def ratio(v) -> str:
    """``0.50x``."""
    return "—" if v is None else f"{v:.2f}x"


def verdict(v) -> str:
    return {True: "pass", False: "fail"}.get(v, "—")


def share(v, digits: int = 1) -> str:
    return "—" if v is None else f"{v:.{digits}%}"


def three(r: Range | dict | None, fmt=money) -> str:
    """``low – most likely – high``, as the CLI writes a range."""
    if r is None:
        return "—"
    values = r.values() if isinstance(r, Range) else tuple(r.get(k) for k in LEVELS)
    return " – ".join(fmt(v) for v in values)


def _levels(r: Range | dict | None) -> tuple:
    if r is None:
        return (None, None, None)
    return r.values() if isinstance(r, Range) else tuple(r.get(k) for k in LEVELS)


def _line_name(line: str) -> str:
    """``staff: social_worker`` -> ``Staff: social worker``."""
    text = line.replace("_", " ")
    return text[:1].upper() + text[1:]


# ----------------------------------------------------------------------------- the panel
@dataclass
class Row:
    """A table row: its label, cells (text) and whether it is a total (bold)."""

    label: str
    cells: list[str]
    total: bool = False
    note: str = ""


@dataclass
class Section:
    """One part of the panel: its heading, words, chart (with caption) and tables."""

    key: str
    heading: str
    intro: list[str] = field(default_factory=list)
    chart: Markup | None = None
    chart_id: str = ""
    caption: str = ""
    tables: list[tuple[str, list[str], list[Row]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def wide(self) -> bool:
        """A table too wide to stand beside the chart: the tables go below it."""
        return any(len(heads) > 4 for _, heads, _ in self.tables)


@dataclass
class Panel:
    """What the finance page shows."""

    calculations: list[tuple[str, str, str]]
    sections: list[Section]
    definitions: list[tuple[str, str, str]]


def _label(fin, key: str) -> str:
    return ((fin.labels if fin is not None and fin.labels else {}).get(key)
            or TERMS[key][0])


def _words(fin, key: str) -> str:
    return ((fin.definitions if fin is not None and fin.definitions else {}).get(key)
            or TERMS[key][1])


def panel(summary: dict) -> Panel | None:
    """The finance panel of a finished scenario's summary (``None`` without any finance).

    Parameters
    ----------
    summary : dict
        ``summary.json`` as the job stores it.

    Returns
    -------
    Panel or None
    """
    s = Summary.from_dict(summary or {})
    fin, savings = s.finance, s.savings
    if fin is None and savings is None:
        return None
    sections = [sec for sec in (_baseline(s), _workstreams(s), _test(s), _years(s),
                                _monte_carlo(s)) if sec is not None]
    return Panel(calculations=_calculations(s), sections=sections,
                 definitions=_definitions(s))


def _calculations(s: Summary) -> list[tuple[str, str, str]]:
    """The different calculations side by side: label, figure, what it is."""
    fin, savings = s.finance, s.savings
    out = []
    if savings is not None:
        cost = -savings.total.saving_gbp
        words = (f"{signed(cost)} a year: the plan costs "
                 + ("more" if cost > 0.5 else "less" if cost < -0.5 else "the same")
                 + f" to run than today ({money(savings.total.scenario_gbp)} against "
                 f"{money(savings.total.baseline_gbp)})")
        out.append((_label(fin, "cost_against_today") + " (plan less today)", words,
                    _words(fin, "cost_against_today")))
    if fin is not None and fin.model_savings is not None:
        out.append((_label(fin, "model_savings") + ", low – most likely – high",
                    three(fin.model_savings.total), _words(fin, "model_savings")))
    if fin is not None:
        out.append((_label(fin, "totals.total") + ", low – most likely – high",
                    three(fin.totals.total), _words(fin, "totals.total")))
        basis = BASIS_SHORT.get(fin.ratio_basis, fin.ratio_basis)
        out.append((f"{_label(fin, 'net_of_investment')}, {basis}",
                    three(fin.net_of_investment), _words(fin, "net_of_investment")))
    return out


def _baseline(s: Summary) -> Section | None:
    """Today against the plan, line by line, with a waterfall of the changes in cost."""
    savings = s.savings
    if savings is None:
        return None
    t = savings.total
    rows = [Row(_line_name(ln.line), [money(ln.baseline_gbp), money(ln.scenario_gbp),
                                      money(ln.saving_gbp)]) for ln in savings.lines]
    rows.append(Row("Total", [money(t.baseline_gbp), money(t.scenario_gbp),
                              money(t.saving_gbp)], total=True))
    rows.append(Row("Cost against today (plan less today)", ["", "", signed(-t.saving_gbp)],
                    total=True))
    service = []
    for label, key, fmt in (("Demand met", "demand_met_share", share),
                            ("Unmet hours (a year)", "unmet_hours", lambda v: f"{v:,.0f}"),
                            ("FTE", "fte", lambda v: f"{v:,.1f}"),
                            ("Hubs open", "hubs_open", lambda v: f"{v:,.0f}"),
                            ("Mean travel (population-weighted)", "travel_mean",
                             lambda v: f"{v:,.1f}")):
        pair = getattr(savings, key)
        if pair is None:
            continue
        service.append(Row(label, ["—" if pair.baseline is None else fmt(pair.baseline),
                                   "—" if pair.scenario is None else fmt(pair.scenario)]))
    steps = [charts.Step("Today's cost", float(t.baseline_gbp), total=True)]
    for ln in savings.lines:
        change = -float(ln.saving_gbp)
        if abs(change) >= 0.5:
            steps.append(charts.Step(_line_name(ln.line), change))
    steps.append(charts.Step("The plan's cost", float(t.scenario_gbp), total=True))
    cost = -t.saving_gbp
    intro = [
        "The saving against today is about running cost: today's sites and staff and the "
        "plan's, both costed by the model a year (staff, agency premium, sites, staff "
        "mileage). A negative saving means the plan costs more to run than today, usually "
        "because it meets more demand (see the service figures below).",
        f"The plan {'costs' if cost > 0.5 else 'saves'} {money(abs(cost))} a year "
        f"{'more than' if cost > 0.5 else 'against'} today. This is not the workstream "
        "savings or the savings the model makes from its levers, which are below and are a "
        "separate calculation: do not add them to it.",
    ]
    return Section(
        key="baseline", heading="Today against the plan, line by line",
        intro=intro, chart_id="chart-baseline",
        chart=charts.waterfall(steps, chart_id="chart-baseline", up_is_good=False,
                               title="Waterfall: today's annual cost, each line's change, "
                                     "the plan's annual cost"),
        caption="Today's annual cost (grey), each line's change to the plan's (plan less "
                "today: a + bar, red and hatched, costs more; a − bar, green, costs less), "
                "the plan's annual cost (grey). The figures are in the table.",
        tables=[("Annual cost by line [£ a year]",
                 ["Line", "Today (baseline)", "The plan", "Saving (today less plan)"], rows),
                ("Service today and under the plan", ["Figure", "Today (baseline)",
                                                      "The plan"], service)])


def _workstreams(s: Summary) -> Section | None:
    """Each workstream low / most likely / high; the levers' detail as the plan runs them."""
    fin = s.finance
    if fin is None:
        return None
    rows = [Row(ln.name, ["made by the model" if ln.source == "model" else "typed",
                          "yes" if ln.cashable else "no", money(ln.low),
                          money(ln.most_likely), money(ln.high), money(ln.already_in_plan),
                          money(ln.investment)]) for ln in fin.lines]
    t = fin.totals

    def total(label: str, r: Range | None, bold: bool = False) -> Row:
        return Row(label, ["", "", *(money(v) for v in _levels(r)), "", ""], total=bold)

    rows.append(total(_label(fin, "totals.total"), t.total, True))
    rows.append(total(_label(fin, "totals.cashable"), t.cashable))
    rows.append(total(_label(fin, "totals.quality"), t.quality))
    if fin.already_in_plan:
        rows.append(total(_label(fin, "totals.cashable_net"), t.cashable_net))
        rows.append(total(_label(fin, "totals.overall"), t.overall))
    tables = [("Workstreams [£ a year]", ["Workstream", "Source", "Cashable", "Low",
                                         "Most likely", "High", "Already in plan",
                                         "Investment (one-off)"], rows)]
    ms = fin.model_savings
    notes = []
    if ms is not None:
        levers = []
        for ln in ms.lines:
            reached = (f"{ln.people:,.0f} of {ln.max_people:,.0f}" if ln.max_people
                       else "no one to reach")
            held = ln.held_back_by or "reaches its whole share"
            if ln.one_more_fte:
                u = ln.one_more_fte
                held += (f"; one more FTE of {u.get('role')} would reach "
                         f"{u.get('people') or 0:,.0f} more and save "
                         f"{money(u.get('saving_gbp'))} a year")
            levers.append(Row(ln.name, [reached, money(ln.care_saving.get("most_likely")),
                                        money(ln.staff_cost), *(money(ln.saving.get(k))
                                                                for k in LEVELS), held]))
        levers.append(Row("Total", ["", money(ms.care_saving.get("most_likely")),
                                    money(ms.staff_cost),
                                    *(money(ms.total.get(k)) for k in LEVELS), ""],
                          total=True))
        tables.append((f"{_label(fin, 'model_savings')}: each lever as the plan runs it",
                       ["Lever", "People reached (of the most it can reach)",
                        "Care saving (most likely)", "Staff cost", "Saving low",
                        "Saving most likely", "Saving high", "What holds it back"], levers))
        if ms.levels:
            notes.append(f"Low and high of the savings made by the model: {ms.levels}.")
    bars = [charts.ThreePoint(ln.name, ln.low, ln.most_likely, ln.high,
                              typed=ln.source != "model") for ln in fin.lines]
    typed = [ln.name for ln in fin.lines if ln.source != "model"]
    intro = ["Each workstream's annual saving at its low, most likely and high values, and "
             "their totals."]
    if ms is not None:
        intro.append("Lines made by the model are its levers: the optimisation decides how far "
                     "each goes under the plan's budget, staffing and supply rules (each lever "
                     "as the plan runs it is in the second table).")
    if typed:
        intro.append("Typed lines are figures typed into the scenario or its operating model, "
                     "which the model does not check: " + ", ".join(typed) + ".")
    return Section(
        key="workstreams", heading="Workstreams: low, most likely and high",
        intro=[w for w in intro if w], chart_id="chart-workstreams",
        chart=charts.range_bars(bars, chart_id="chart-workstreams",
                                title="Each workstream's annual saving: most likely as a "
                                      "bar, low to high as a line across it")
        if bars else None,
        caption="Each workstream's annual saving: the bar is the most likely figure, the "
                "line across it runs from low to high (written above each bar as low – most "
                "likely – high). Hatched bars are typed in; solid bars are made by the model.",
        tables=tables, notes=notes)


def _test(s: Summary) -> Section | None:
    """Benefit to investment on each reading, net of investment, fee clause, NPV, payback;
    a waterfall from the counted savings to the net of investment."""
    fin = s.finance
    if fin is None:
        return None
    basis = BASIS_SHORT.get(fin.ratio_basis, fin.ratio_basis)
    rows = [Row(_label(fin, "investment"), [money(fin.investment)] * 3)]
    phasing = [p for p in (fin.investment_phasing or ()) if p is not None]
    if fin.investment and len(phasing) > 1:
        rows[-1].note = ("spent " + " / ".join(f"{p:.0%}" for p in phasing)
                         + f" in years 1–{len(phasing)}")
    rows.append(Row(f"Savings counted ({basis}), one full year",
                    [money(v) for v in _levels(fin.annual_basis)]))
    rows.append(Row(f"{_label(fin, 'net_of_investment')}, {basis}",
                    [signed(v) for v in _levels(fin.net_of_investment)], total=True))
    readings = list(fin.ratio_readings)
    if not readings and fin.benefit_to_investment is not None:   # an older summary
        readings = [RatioReading(fin.ratio_basis, BASIS_LABELS.get(fin.ratio_basis, basis),
                                 fin.annual_basis, fin.benefit_to_investment, fin.passes,
                                 True)]
    required = fin.required_ratio
    for r in sorted(readings, key=lambda r: not r.chosen):
        name = BASIS_SHORT.get(r.basis, r.basis)
        cells = []
        for lv in LEVELS:
            text = ratio(r.ratio.value(lv) if r.ratio else None)
            if required is not None and r.passes is not None and \
                    r.passes.value(lv) is not None:
                text += f": {verdict(r.passes.value(lv))}"
            cells.append(text)
        label = (f"{_label(fin, 'benefit_to_investment')} ({name})" if r.chosen
                 else f"Other reading: {name}")
        rows.append(Row(label, cells, total=r.chosen,
                        note="the scenario's basis" if r.chosen else r.label))
    if required is not None:
        rows.append(Row("Required ratio", [f"{required:g}x"] * 3))
    if fin.fee_after_reduction is not None and fin.fee_clause is not None:
        fc = fin.fee_clause
        rows.append(Row("Fee (one-off, before the clause)", [money(fc.fee)] * 3))
        rows.append(Row(f"{_label(fin, 'fee_after_reduction')} (to at most "
                        f"{BASIS_SHORT.get(fc.basis, fc.basis)} / {fc.required_ratio:g})",
                        [money(v) for v in _levels(fin.fee_after_reduction)], total=True,
                        note=_words(fin, "fee_after_reduction")))
    if fin.npv is not None and fin.discount_rate is not None:
        rows.append(Row(f"{_label(fin, 'npv')}, {fin.years} years at "
                        f"{fin.discount_rate:.1%}", [signed(v) for v in _levels(fin.npv)],
                        total=True))
    if fin.investment and fin.payback_year is not None:
        rows.append(Row(_label(fin, "payback_year"),
                        [f"year {v}" if v is not None else f"not within {fin.years} years"
                         for v in _levels(fin.payback_year)], total=True))
    passes = fin.passes.most_likely if fin.passes is not None else None
    intro = [f"{_label(fin, 'benefit_to_investment')}: "
             f"{_words(fin, 'benefit_to_investment')} The scenario counts "
             f"{BASIS_LABELS.get(fin.ratio_basis, basis)}."]
    if required is not None and passes is not None and fin.benefit_to_investment:
        intro.append(f"Most likely, the ratio is {ratio(fin.benefit_to_investment.most_likely)}"
                     f" against the {required:g}x required: the test "
                     f"{'passes' if passes else 'fails'}.")
    intro.append(f"{_label(fin, 'net_of_investment')}: {_words(fin, 'net_of_investment')}")
    steps = []
    level = 0.0
    names = {"already in plan": "Already in plan", "investment": _label(fin, "investment")}
    for b in (b for b in waterfall_steps(s) if b["panel"] == "workstreams"):
        if b["label"] == "investment":   # the savings counted, before the investment
            steps.append(charts.Step(f"Savings counted ({basis})", level, total=True))
        if b["kind"] == "total":
            steps.append(charts.Step(_label(fin, "net_of_investment"), b["value"],
                                     total=True))
        else:
            steps.append(charts.Step(names.get(b["label"], b["label"]), b["value"]))
            level += b["value"]
    chart = None
    if steps:
        chart = charts.waterfall(steps, chart_id="chart-test", up_is_good=True,
                                 title="Waterfall: each workstream's most likely saving "
                                       "counted on the ratio basis, less the investment, "
                                       "to the net of investment")
    return Section(
        key="test", heading="Benefit to investment, net present value and payback",
        intro=intro, chart=chart, chart_id="chart-test",
        caption=f"The workstreams' most likely annual savings counted on the scenario's basis "
                f"({basis}; green), their sum (grey), less the one-off investment (red, "
                f"hatched), to the net of investment for one year (grey)." + (
                    " Quality (non-cashable) workstreams are not counted on this basis."
                    if fin.ratio_basis == "cashable_net"
                    and any(not ln.cashable for ln in fin.lines) else ""),
        tables=[("The tests", ["Figure", "Low", "Most likely", "High"], rows)])


def _years(s: Summary) -> Section | None:
    fin = s.finance
    if fin is None or not fin.by_year:
        return None
    rows, points = [], []
    for r in fin.by_year:
        net = _levels(r.net)
        pv = _levels(r.present_value)
        rows.append(Row(str(r.year), [
            money(r.saving.most_likely), money(r.investment), money(r.cumulative.most_likely),
            money(r.cumulative_investment), *(signed(v) for v in net),
            "—" if r.discount_factor is None else f"{r.discount_factor:.4f}", signed(pv[1])]))
        points.append(charts.Year(r.year, r.saving.most_likely or 0.0, r.investment or 0.0,
                                  net[0] or 0.0, net[1] or 0.0, net[2] or 0.0))
    payback = fin.payback_year.most_likely if fin.payback_year is not None else None
    basis = BASIS_SHORT.get(fin.ratio_basis, fin.ratio_basis)
    intro = [f"{_label(fin, 'by_year')}: {_words(fin, 'by_year')} Savings are counted "
             f"{basis}."]
    if fin.investment and fin.payback_year is not None:
        intro.append(f"{_label(fin, 'payback_year')}: " + three(
            fin.payback_year, lambda v: f"year {v}" if v is not None
            else f"not within {fin.years} years") + " (low – most likely – high). "
            + _words(fin, "payback_year"))
    if fin.npv is not None and fin.discount_rate is not None:
        intro.append(f"{_label(fin, 'npv')}, {fin.years} years at {fin.discount_rate:.1%}: "
                     + three(fin.npv, signed) + " (low – most likely – high).")
    return Section(
        key="years", heading=_label(fin, "by_year"), intro=intro, chart_id="chart-years",
        chart=charts.by_year(points, chart_id="chart-years", payback_year=payback
                             if fin.investment else None,
                             title="Savings by year: each year's saving and investment, and "
                                   "the cumulative net position"),
        caption=f"Each year's saving ({basis}, most likely; green) and the investment spent "
                "(red, hatched, below 0); the line is the cumulative net position (savings "
                "so far less investment so far), most likely, in a band from low to high; "
                "the dashed line marks the payback year (most likely).",
        tables=[("Savings by year [£]", ["Year", "Saving (most likely)", "Investment spent",
                                         "Cumulative saving (most likely)",
                                         "Cumulative investment", "Net position low",
                                         "Net position most likely", "Net position high",
                                         "Discount factor", "Present value (most likely)"],
                 rows)])


def _monte_carlo(s: Summary) -> Section | None:
    fin = s.finance
    mc = fin.monte_carlo if fin is not None else None
    if mc is None:
        return None
    p = mc.percentiles
    basis = BASIS_SHORT.get(fin.ratio_basis, fin.ratio_basis)
    figures = [(_label(fin, "totals.total"), p.total), (_label(fin, "totals.cashable"),
                                                        p.cashable),
               (_label(fin, "totals.quality"), p.quality)]
    if fin.already_in_plan:
        figures += [(_label(fin, "totals.cashable_net"), p.cashable_net),
                    (_label(fin, "totals.overall"), p.overall)]
    figures.append((_label(fin, "net_of_investment"), p.net_of_investment))
    rows, band_rows = [], []
    for label, q in figures:
        if q is None or not q.n:
            continue
        rows.append(Row(label, [money(q.p10), money(q.p50), money(q.p90), money(q.mean)],
                        total=label == _label(fin, "net_of_investment"),
                        note=basis if label == _label(fin, "net_of_investment") else ""))
        band_rows.append(charts.Band(label, q.p10, q.p50, q.p90))
    if p.benefit_to_investment is not None and p.benefit_to_investment.n:
        q = p.benefit_to_investment
        rows.append(Row(f"{_label(fin, 'benefit_to_investment')} ({basis})",
                        [ratio(q.p10), ratio(q.p50), ratio(q.p90), ratio(q.mean)]))
    for line in mc.lines:
        q = line.percentiles
        if q is None or not q.n:
            continue
        rows.append(Row(line.name, [money(q.p10), money(q.p50), money(q.p90), money(q.mean)]))
        band_rows.append(charts.Band(line.name, q.p10, q.p50, q.p90))
    dist = "PERT" if mc.distribution == "pert" else mc.distribution
    intro = [f"{mc.draws:,} draws of every workstream from a {dist} distribution between "
             f"its low and high, peaking at its most likely (seed "
             f"{mc.seed}: the same draws every time). P10 is the figure 1 draw in 10 falls "
             "below; P50 the median; P90 the figure 9 in 10 fall below."]
    if mc.probability_passes is not None:
        intro.append(f"Share of draws meeting the required ratio"
                     f"{'' if fin.required_ratio is None else f' ({fin.required_ratio:g}x)'}: "
                     f"{share(mc.probability_passes)}.")
    tables = [("Monte Carlo percentiles", ["Figure", "P10", "P50", "P90", "Mean"], rows)]
    d = mc.demand
    if d is not None:
        drows = []
        for label, key, fmt in (("Demand met", "demand_met_share", share),
                                ("Plan cost", "total_cost", money),
                                ("Saving against today", "saving_vs_baseline", money),
                                (_label(fin, "model_savings"), "model_savings", money),
                                (_label(fin, "net_of_investment"), "net_of_investment", money)):
            q = getattr(d, key)
            if q is not None and q.n:
                drows.append(Row(label, [fmt(q.p10), fmt(q.p50), fmt(q.p90), fmt(q.mean)]))
        if d.probability_passes is not None:
            drows.append(Row("Share of re-solved draws passing the test",
                             [share(d.probability_passes)] * 4))
        if drows:
            tables.append((f"Demand draws, each a re-solve of the plan ({d.solves} solved, "
                           f"{d.failed} without a plan)",
                           ["Figure", "P10", "P50", "P90", "Mean"], drows))
    chart = None
    if band_rows:
        chart = charts.bands(band_rows, chart_id="chart-montecarlo",
                             title="Monte Carlo: P10 to P90 of each savings figure, with "
                                   "the median")
    return Section(
        key="montecarlo", heading="Monte Carlo: how sure the savings are", intro=intro,
        chart=chart, chart_id="chart-montecarlo",
        caption="Each figure's draws: the band runs from P10 to P90 (8 draws in 10 fall "
                "inside it), the dark mark is P50, the median. Figures in £ a year; the net "
                "of investment in £.",
        tables=tables)


def _definitions(s: Summary) -> list[tuple[str, str, str]]:
    fin = s.finance
    labels = (fin.labels if fin is not None and fin.labels else
              {k: v[0] for k, v in TERMS.items()})
    out = []
    for key, label in labels.items():
        where = ("savings.total (its negative)" if key == "cost_against_today"
                 else f"finance.{key}")
        out.append((label, where, _words(fin, key) if key in TERMS else
                    (fin.definitions or {}).get(key, "")))
    return out

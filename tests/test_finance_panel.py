"""The finance panel (``/scenarios/{id}/finance``) and its server-drawn SVG charts, in process.

``tests/data/finance_panel/demo_summary.json`` is a real ``summary.json`` of
``mdtplan solve examples/demo.yaml --time-limit 20 --threads 1`` (baseline, levers, typed
workstreams, investment, NPV, Monte Carlo). The figures asserted here were read off that file
by hand and written as ``mdtplan solve`` writes them (``−£1,144,000``, ``+£605,551``,
``0.50x``); the test first checks that the file still holds those values.

The charts are checked on small made-up inputs whose coordinates are worked out by hand from
the layout :mod:`api.web.charts` documents: the plot spans ``x = 8`` to ``width - 8``; row
``i``'s bar starts at ``y = 30 + 48 i + 20`` and is 18 high.
"""

from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from service_helpers import make_service

from api.web import charts, finance

DATA = Path(__file__).resolve().parent / "data"
DEMO = json.loads((DATA / "finance_panel" / "demo_summary.json").read_text())
SVG = "{http://www.w3.org/2000/svg}"


# ----------------------------------------------------------------------------- helpers
def _svg(markup) -> ET.Element:
    return ET.fromstring(str(markup))


def _bars(root: ET.Element) -> list[dict]:
    return [r.attrib for r in root.iter(f"{SVG}rect") if r.get("class") == "mdt-bar-rect"]


def _f(attrs: dict, key: str) -> float:
    return float(attrs[key])


def _px(v: float):
    """A coordinate as written (two decimals)."""
    return pytest.approx(v, abs=0.006)


def _accessible(root: ET.Element, chart_id: str, role: str = "img") -> None:
    """role, a <title> it is labelled by, described by the page's caption."""
    assert root.get("role") == role
    assert root.get("aria-labelledby") == f"{chart_id}-title"
    assert root.get("aria-describedby") == f"{chart_id}-caption"
    title = root.find(f"{SVG}title")
    assert title is not None and title.get("id") == f"{chart_id}-title" and title.text


class _Tables(HTMLParser):
    """Each table's rows as lists of cell texts (the row header first)."""

    def __init__(self):
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._row = self._cell = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append("\n")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip().split("\n")[0].strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1].append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _rows(html: str) -> dict[str, list[str]]:
    """Row header -> its cells, over every table of the page (first row of a label wins)."""
    p = _Tables()
    p.feed(html)
    out: dict[str, list[str]] = {}
    for table in p.tables:
        for row in table:
            if row:
                out.setdefault(row[0], row[1:])
    return out


# ----------------------------------------------------------------------------- the charts
def test_range_bars_are_proportional_and_named():
    svg = charts.range_bars([charts.ThreePoint("A", 10, 50, 90),
                             charts.ThreePoint("B <x> & co", 20, 100, 100, typed=True)],
                            chart_id="c1", title="Workstreams")
    root = _svg(svg)
    _accessible(root, "c1")
    # domain [0, 100] (step 20): x(v) = 8 + v * 624 / 100
    a, b = _bars(root)
    assert (_f(a, "x"), _f(a, "width")) == (8, _px(312))
    assert (_f(b, "x"), _f(b, "width")) == (8, _px(624))
    assert (_f(a, "y"), _f(b, "y"), _f(a, "height")) == (50, 98, 18)
    assert a["fill"] == charts.FIGURE and b["fill"] == "url(#c1-hatch)"   # typed: hatched
    whiskers = [ln.attrib for ln in root.iter(f"{SVG}line")
                if ln.get("y1") == ln.get("y2") == "59"]
    assert [(float(w["x1"]), float(w["x2"])) for w in whiskers] == [
        (_px(70.4), _px(569.6))]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "B <x> & co (typed)" in texts     # parsed back: it was escaped in the markup
    assert "B &lt;x&gt; &amp; co (typed)" in str(svg)
    assert "£10 – £50 – £90" in texts           # the figures are written on the chart
    assert "style=" not in str(svg)


def test_waterfall_runs_from_total_through_changes():
    steps = [charts.Step("Today", 100, total=True), charts.Step("Staff", 30),
             charts.Step("Sites", -50), charts.Step("Plan", 80, total=True)]
    root = _svg(charts.waterfall(steps, chart_id="w", title="Today to plan", up_is_good=False))
    _accessible(root, "w")
    # ends 0..130 -> step 50, domain [0, 150]: x(v) = 8 + v * 624 / 150
    bars = [(_f(r, "x"), _f(r, "width"), r["fill"]) for r in _bars(root)]
    k = 624 / 150
    assert bars == [(8, _px(100 * k), charts.TOTAL),
                    (_px(8 + 100 * k), _px(30 * k), "url(#w-hatch)"),
                    (_px(8 + 80 * k), _px(50 * k), charts.SAVING),
                    (8, _px(80 * k), charts.TOTAL)]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert {"+£30", "−£50", "£100", "£80"} <= set(texts)
    # savings up (the default): a positive change is a saving, drawn solid green
    root = _svg(charts.waterfall(steps, chart_id="w2", title="t"))
    assert [r["fill"] for r in _bars(root)][1:3] == [charts.SAVING, "url(#w2-hatch)"]


def test_bands_span_p10_to_p90_with_the_median_marked():
    root = _svg(charts.bands([charts.Band("Net", -20, 10, 40)], chart_id="mc", title="MC"))
    _accessible(root, "mc")
    # domain [-20, 40] (step 20): x(v) = 8 + (v + 20) * 624 / 60
    (band,) = _bars(root)
    assert (_f(band, "x"), _f(band, "width")) == (8, _px(624))
    p50 = [r.attrib for r in root.iter(f"{SVG}rect") if r.get("fill") == charts.INK
           and r.get("width") == "4" and float(r.get("y")) > 40]
    assert [float(r["x"]) for r in p50] == [_px(8 + 30 * 624 / 60 - 2)]
    zero = [ln for ln in root.iter(f"{SVG}line") if ln.get("stroke") == charts.INK]
    assert float(zero[0].get("x1")) == _px(8 + 20 * 624 / 60)


def test_by_year_columns_are_to_scale_and_payback_is_marked():
    years = [charts.Year(1, 100, 200, -100, -100, -100), charts.Year(2, 100, 0, 0, 0, 0),
             charts.Year(3, 100, 0, 100, 100, 100)]
    svg = charts.by_year(years, chart_id="y", title="By year", payback_year=2)
    root = _svg(svg)
    _accessible(root, "y")
    # figures -200..100 -> step 100; y from 300 (−£200) up to 52 (£100)
    saving, investment, *_ = _bars(root)
    assert _f(saving, "height") == _px(100 * 248 / 300)
    assert _f(investment, "height") == _px(200 * 248 / 300)
    assert _f(saving, "y") + _f(saving, "height") == _px(_f(investment, "y"))
    assert "pays back in year 2" in [t.text for t in root.iter(f"{SVG}text")]
    # the net position line goes through the three years' points
    line = next(root.iter(f"{SVG}polyline"))
    ys = [float(p.split(",")[1]) for p in line.get("points").split()]
    zero = 300 - 200 * 248 / 300
    assert ys == [_px(zero + 100 * 248 / 300), _px(zero),
                  _px(zero - 100 * 248 / 300)]


def test_nice_domain_and_axis_labels():
    assert charts.nice_domain([10, 90]) == (0, 100, 20)
    assert charts.nice_domain([-573_289, 606_471]) == (-750_000, 750_000, 250_000)
    assert charts.axis_gbp(2_500_000) == "£2.5m" and charts.axis_gbp(-250_000) == "−£250k"
    assert charts.short_gbp(451_403.5) == "£451k" and charts.short_gbp(-5_351_021) == "−£5.35m"


# ----------------------------------------------------------------------------- the page
def test_the_demo_summary_holds_the_figures_asserted_below():
    s, f = DEMO["savings"], DEMO["finance"]
    assert s["lines"][0] == {"line": "staff: social_worker", "baseline_gbp": 8980400.0,
                             "scenario_gbp": 10124400.0, "saving_gbp": -1144000.0}
    assert s["total"]["saving_gbp"] == pytest.approx(-5351021.0018)
    assert f["npv"]["low"] == pytest.approx(605550.736)
    assert f["benefit_to_investment"]["most_likely"] == pytest.approx(0.501559, abs=1e-6)
    assert f["payback_year"] == {"low": 3, "most_likely": 2, "high": 2}
    assert f["discount_rate"] == 0.035 and f["years"] == 5 and f["required_ratio"] == 1.5
    assert f["monte_carlo"]["percentiles"]["net_of_investment"]["p10"] == pytest.approx(
        -491531.215)


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    return make_service(tmp_path_factory.mktemp("finance-panel"))


def _finished(service, summary: dict, name: str = "demo-county") -> str:
    service.store.add_job({"name": name}, name=name)
    job = service.store.claim_next()
    service.store.finish(job.id, job.attempts, "finished", summary=summary, message="done")
    return job.id


@pytest.fixture(scope="module")
def demo_page(service):
    job_id = _finished(service, DEMO)
    with service.client() as c:
        c.post("/signin", data={"key": service.keys["viewer"], "next": "/"})
        r = c.get(f"/scenarios/{job_id}/finance")
        result = c.get(f"/scenarios/{job_id}")
    return job_id, r, result


def test_finance_page_shows_every_figure_as_the_cli_writes_it(demo_page):
    _, r, _ = demo_page
    assert r.status_code == 200
    assert "script-src 'self'" in r.headers["content-security-policy"]
    html = r.text
    rows = _rows(html)
    # today against the plan, line by line (workbook: Baseline vs scenario)
    assert rows["Staff: social worker"] == ["£8,980,400", "£10,124,400", "−£1,144,000"]
    assert rows["Agency premium"] == ["£111,260", "£0", "£111,260"]
    assert rows["Sites"] == ["£590,000", "£1,640,000", "−£1,050,000"]
    assert rows["Staff mileage"] == ["£417,038", "£382,319", "£34,719"]
    assert rows["Total"][:3] == ["£17,895,448", "£23,246,469", "−£5,351,021"]
    assert rows["Cost against today (plan less today)"][-1] == "+£5,351,021"
    assert rows["Demand met"] == ["72.5%", "92.6%"]
    assert rows["Hubs open"] == ["6", "13"]
    # workstreams, low / most likely / high, typed ones marked
    assert rows["Reablement before long-term support (older people)"][:5] == [
        "made by the model", "yes", "£225,829", "£274,037", "£352,621"]
    assert rows["Digital front door (typed, outside the model)"][:5] == [
        "typed", "yes", "£100,000", "£175,000", "£250,000"]
    assert rows["Practice quality (typed, outside the model)"][:2] == ["typed", "no"]
    assert rows["Savings (workstreams)"][2:5] == ["£476,711", "£676,403", "£906,471"]
    assert rows["Quality savings (non-cashable)"][2:5] == ["£150,000", "£225,000", "£300,000"]
    assert "£226,711 – £276,403 – £356,471" in html          # savings made by the model
    assert ("one more FTE of reablement_worker would reach 31 more and save £293,433 a year"
            in html)
    assert "the budget cap (£23,250,000; the plan costs £23,246,469" in html
    # the tests
    assert rows["Investment (one-off)"] == ["£900,000"] * 3
    assert rows["Net of investment (one year), cashable less already in plan"] == [
        "−£573,289", "−£448,597", "−£293,529"]
    assert rows["Benefit to investment (cashable less already in plan)"] == [
        "0.36x: fail", "0.50x: fail", "0.67x: fail"]
    assert rows["Other reading: total"] == ["0.53x: fail", "0.75x: fail", "1.01x: fail"]
    assert rows["Required ratio"] == ["1.5x"] * 3
    assert rows["Net present value, 5 years at 3.5%"] == ["+£605,551", "+£1,168,545",
                                                          "+£1,868,684"]
    assert rows["Payback year"] == ["year 3", "year 2", "year 2"]
    assert "the test fails" in html
    # savings by year
    assert rows["1"] == ["£451,403", "£900,000", "£451,403", "£900,000", "−£573,289",
                         "−£448,597", "−£293,529", "0.9662", "−£433,427"]
    assert rows["2"][5] == "+£2,807"
    # Monte Carlo
    assert rows["Net of investment (one year)"] == ["−£491,531", "−£444,758", "−£396,018",
                                                    "−£443,991"]
    assert "10,000 draws" in html and "meeting the required ratio (1.5x): 0.0%" in html
    # the three calculations, with TERMS' words
    from mdtplan.summary import TERMS

    for key in ("cost_against_today", "model_savings", "totals.total", "net_of_investment"):
        assert TERMS[key][1].replace("'", "&#39;") in html
    assert "+£5,351,021 a year: the plan costs more to run than today" in html


def test_finance_page_charts_are_accessible_svg(demo_page):
    _, r, _ = demo_page
    html = r.text
    assert "style=" not in html          # blocked by the pages' CSP: presentation attributes only
    svgs = re.findall(r"<svg\b.*?</svg>", html, flags=re.S)
    ids = ["chart-baseline", "chart-workstreams", "chart-test", "chart-years",
           "chart-montecarlo"]
    assert len(svgs) == len(ids)
    for markup, chart_id in zip(svgs, ids, strict=True):
        root = ET.fromstring(markup)
        _accessible(root, chart_id)
        assert f'<figcaption class="govuk-body-s" id="{chart_id}-caption">' in html
    # the waterfall of today's cost: today, 12 changed lines (quality improvement is £0), plan
    base = ET.fromstring(svgs[0])
    bars = _bars(base)
    assert len(bars) == 14
    today, plan = bars[0], bars[-1]
    assert _f(plan, "width") / _f(today, "width") == pytest.approx(
        23246469.19 / 17895448.18, rel=1e-3)
    # the test's waterfall ends at the net of investment, from zero leftwards
    test = _bars(ET.fromstring(svgs[2]))
    counted, invest, net = test[-3:]
    assert _f(invest, "width") / _f(counted, "width") == pytest.approx(900000 / 451403.48,
                                                                       rel=1e-3)
    assert _f(net, "x") + _f(net, "width") == pytest.approx(_f(counted, "x"))


def test_result_page_links_the_panel_and_writes_pounds_as_the_cli(demo_page):
    job_id, _, result = demo_page
    assert result.status_code == 200
    assert f'href="/scenarios/{job_id}/finance">Open the finance panel</a>' in result.text
    assert "−£5,351,021 a year" in result.text and "£-" not in result.text
    assert "0.50x" in result.text


def test_fee_clause_and_an_older_summary(service):
    s = copy.deepcopy(DEMO)
    s["finance"]["fee_clause"] = {"fee": 900000.0, "required_ratio": 1.5,
                                  "basis": "cashable_net"}
    s["finance"]["fee_after_reduction"] = {"low": 217807.14, "most_likely": 300935.65,
                                           "high": 404314.13}
    s["name"] = "with <fee> & clause"
    job_id = _finished(service, s, name=s["name"])
    older = json.loads((DATA / "summaries" / "demo.json").read_text())   # before NPV, readings
    old_id = _finished(service, older)
    bare = {k: v for k, v in DEMO.items() if k not in ("finance", "savings")}
    bare_id = _finished(service, bare)
    with service.client() as c:
        c.post("/signin", data={"key": service.keys["viewer"], "next": "/"})
        fee = c.get(f"/scenarios/{job_id}/finance")
        old = c.get(f"/scenarios/{old_id}/finance")
        none = c.get(f"/scenarios/{bare_id}/finance")
    rows = _rows(fee.text)
    assert rows["Fee after reduction (to at most cashable less already in plan / 1.5)"] == [
        "£217,807", "£300,936", "£404,314"]
    assert rows["Fee (one-off, before the clause)"] == ["£900,000"] * 3
    assert "with &lt;fee&gt; &amp; clause" in fee.text and "<fee>" not in fee.text
    assert old.status_code == 200
    assert any(k.startswith("Benefit to investment (") for k in _rows(old.text))
    assert "Net present value" not in _rows(old.text)
    for markup in re.findall(r"<svg\b.*?</svg>", old.text, flags=re.S):
        ET.fromstring(markup)
    assert none.status_code == 200 and "has no finance figures" in none.text


def test_panel_is_none_without_finance():
    assert finance.panel({"name": "x"}) is None
    assert finance.money(-0.4) == "£0" and finance.signed(-1234.5) == "−£1,234"

"""Charts drawn on the server as SVG, for the finance panel (the sweeps' frontier is in
:mod:`api.web.frontier_chart`).

Each function is pure: figures in, one ``<svg>`` element out (a :class:`markupsafe.Markup`
string, safe to put in a template as it is). Every text is escaped; nothing uses a ``style``
attribute (the pages' Content-Security-Policy blocks inline styles): colours are ``fill`` and
``stroke`` attributes, the rest classes in ``app.css``.

Each chart has ``role="img"`` (``role="group"`` when it holds links, so they stay reachable),
a ``<title>`` it is labelled by (``aria-labelledby``) and is described by a caption the page
shows (``aria-describedby``, the id ``<chart_id>-caption`` unless given). The figures drawn
are always in a table beside the chart on the page: the chart is a picture of the table, not
the only place a number is.

Colours (against white, WCAG 1.4.11 asks 3:1 for graphic objects): dark grey ``#505a5f``
(7.0:1) for totals, green ``#00703c`` (6.0:1) for savings, red ``#d4351c`` (4.5:1, hatched) for
costs, blue ``#1d70b8`` (5.2:1) and purple ``#4c2c92`` (10:1) for figures; no meaning is
carried by colour alone: every bar carries its figure in text, costs are hatched and typed
workstreams say "typed".

Layout of the horizontal charts (waterfall, three-point bars, Monte Carlo bands), in SVG
units: the plot runs from ``x = PAD`` to ``x = width - PAD``; row ``i`` starts at
``y = top + i * ROW`` with its label on the line ``+14`` and its bar from ``+BAR_Y`` to
``+BAR_Y + BAR_H``. A figure ``v`` is drawn at ``PAD + (v - lo) / (hi - lo) * (width - 2 PAD)``
where ``lo``, ``hi`` are :func:`nice_domain` of the figures and 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from .render import gbp_short

TOTAL = "#505a5f"
SAVING = "#00703c"
COST = "#d4351c"
FIGURE = "#1d70b8"
SECOND = "#4c2c92"
INK = "#0b0c0c"
GRID = "#b1b4b6"
BAND_FILL = "#bdd4ea"

PAD = 8.0
ROW = 48.0
BAR_Y = 20.0
BAR_H = 18.0
FONT = 13
CHAR_W = 0.56 * FONT   # a generous average glyph width of the page's sans-serif [SVG units]


# ----------------------------------------------------------------------------- basics
def _t(value) -> str:
    """Text for SVG: escaped (``&``, ``<``, ``>``, quotes)."""
    return escape(str(value), quote=True)


def _n(v: float) -> str:
    """A coordinate: at most two decimals, no trailing zeros."""
    text = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def short_gbp(v: float | None) -> str:
    """``£21.99m``, ``£550k``, ``−£900``: tick and bar labels."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    return gbp_short(v)  # the pages' headline form, one copy


def axis_gbp(v: float) -> str:
    """``£5m``, ``£2.5m``, ``£500k``, ``−£250k``, ``£0``: axis ticks (round steps)."""
    sign = "−" if v < -1e-9 else ""
    a = abs(v)
    if a >= 1e6:
        return f"{sign}£{f'{a / 1e6:,.2f}'.rstrip('0').rstrip('.')}m"
    if a >= 1e3:
        return f"{sign}£{f'{a / 1e3:,.1f}'.rstrip('0').rstrip('.')}k"
    return f"{sign}£{a:,.0f}"


def nice_step(span: float, count: int = 5) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) giving about ``count`` ticks."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / count
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * power * (1 + 1e-9):
            return m * power
    return 10 * power


def nice_domain(values: Iterable[float], *, zero: bool = True,
                count: int = 5) -> tuple[float, float, float]:
    """``(lo, hi, step)``: the figures' range (with 0 when ``zero``) widened to round steps."""
    vals = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    if zero:
        vals.append(0.0)
    if not vals:
        return 0.0, 1.0, 0.25
    lo, hi = min(vals), max(vals)
    if hi - lo < 1e-12:
        pad = abs(hi) * 0.1 or 1.0
        lo, hi = lo - (0 if zero and lo == 0 else pad), hi + pad
    step = nice_step(hi - lo, count)
    lo2 = math.floor(lo / step + 1e-9) * step
    hi2 = math.ceil(hi / step - 1e-9) * step
    return lo2, hi2, step


@dataclass(frozen=True)
class Scale:
    """A linear map from figures ``[lo, hi]`` to coordinates ``[a, b]``."""

    lo: float
    hi: float
    a: float
    b: float

    def __call__(self, v: float) -> float:
        return self.a + (float(v) - self.lo) / (self.hi - self.lo) * (self.b - self.a)

    def ticks(self, step: float) -> list[float]:
        n = int(round((self.hi - self.lo) / step))
        return [self.lo + k * step for k in range(n + 1)]


def _svg(chart_id: str, title: str, width: float, height: float, body: list[str], *,
         describedby: str | None, role: str = "img", extra_class: str = "") -> Markup:
    described = describedby if describedby is not None else f"{chart_id}-caption"
    cls = f"mdt-chart {extra_class}".strip()
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="{_t(cls)}" id="{_t(chart_id)}" '
            f'viewBox="0 0 {_n(width)} {_n(height)}" width="{_n(width)}" '
            f'height="{_n(height)}" role="{role}" aria-labelledby="{_t(chart_id)}-title"'
            + (f' aria-describedby="{_t(described)}"' if described else "")
            + f' font-size="{FONT}">'
            f'<title id="{_t(chart_id)}-title">{_t(title)}</title>')
    return Markup(head + "".join(body) + "</svg>")


def _hatch(pattern_id: str, colour: str) -> str:
    """A diagonal hatch (``fill="url(#id)"``): costs and typed figures are told apart by more
    than colour."""
    return (f'<defs><pattern id="{_t(pattern_id)}" width="6" height="6" '
            f'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
            f'<rect width="6" height="6" fill="#ffffff"/>'
            f'<line x1="0" y1="0" x2="0" y2="6" stroke="{colour}" stroke-width="3"/>'
            f'</pattern></defs>')


def _fit(label: str, chars: int) -> str:
    return label if len(label) <= chars else label[:max(chars - 1, 1)].rstrip() + "…"


def _text(x: float, y: float, text: str, *, anchor: str = "start", weight: str | None = None,
          fill: str = INK, size: int | None = None, cls: str | None = None) -> str:
    attrs = f'x="{_n(x)}" y="{_n(y)}" fill="{fill}"'
    if anchor != "start":
        attrs += f' text-anchor="{anchor}"'
    if weight:
        attrs += f' font-weight="{weight}"'
    if size:
        attrs += f' font-size="{size}"'
    if cls:
        attrs += f' class="{cls}"'
    return f"<text {attrs}>{_t(text)}</text>"


def _rect(x0: float, x1: float, y: float, h: float, fill: str, stroke: str | None = None,
          cls: str | None = None) -> str:
    x, w = min(x0, x1), abs(x1 - x0)
    attrs = f'x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" fill="{fill}"'
    if stroke:
        attrs += f' stroke="{stroke}" stroke-width="1.5"'
    if cls:
        attrs += f' class="{cls}"'
    return f"<rect {attrs}/>"


def _line(x1, y1, x2, y2, stroke: str, width: float = 1, dash: str | None = None) -> str:
    extra = f' stroke-dasharray="{dash}"' if dash else ""
    return (f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" '
            f'stroke="{stroke}" stroke-width="{_n(width)}"{extra}/>')


def _x_axis(scale: Scale, step: float, top: float, bottom: float,
            fmt: Callable[[float], str]) -> list[str]:
    """Vertical grid lines at each tick, the zero line darker, tick labels below ``bottom``."""
    out = []
    for v in scale.ticks(step):
        x = scale(v)
        zero = abs(v) < step * 1e-9
        out.append(_line(x, top, x, bottom, INK if zero else GRID, 1.5 if zero else 1,
                         None if zero else "2 3"))
        text = fmt(v)
        half = len(text) * 0.56 * 12 / 2
        anchor = ("start" if x - half < scale.a - PAD else
                  "end" if x + half > scale.b + PAD else "middle")
        out.append(_text(x, bottom + 16, text, anchor=anchor, size=12))
    return out


def _legend(items: Sequence[tuple[str, str]], x: float, y: float) -> list[str]:
    """Swatches (``fill`` value, may be a pattern) and their words on one line at ``y``."""
    out = []
    for fill, words in items:
        out.append(f'<rect x="{_n(x)}" y="{_n(y - 11)}" width="14" height="14" fill="{fill}" '
                   f'stroke="{INK}" stroke-width="1"/>')
        out.append(_text(x + 20, y, words))
        x += 20 + len(words) * CHAR_W + 18
    return out


def _row_label(i: int, top: float, width: float, label: str, figures: str,
               weight: str | None = None) -> list[str]:
    """A row's name on the left and its figures on the right, on the line above its bar."""
    y = top + i * ROW + 14
    room = int((width - 2 * PAD) / CHAR_W) - len(figures) - 2
    return [_text(PAD, y, _fit(label, max(room, 8)), weight=weight),
            _text(width - PAD, y, figures, anchor="end", weight=weight)]


# ----------------------------------------------------------------------------- waterfall
@dataclass(frozen=True)
class Step:
    """A bar of a waterfall: a ``total`` (drawn from 0 to ``value``) or a change (drawn from
    where the running total stands to that plus ``value``). ``good``: the change is a saving
    (drawn green, solid) rather than a cost (red, hatched); ``None`` lets the chart decide
    by its ``up_is_good``."""

    label: str
    value: float
    total: bool = False
    good: bool | None = None


def waterfall(steps: Sequence[Step], *, chart_id: str, title: str,
              up_is_good: bool = True, width: float = 640,
              describedby: str | None = None,
              fmt: Callable[[float], str] = axis_gbp,
              value_text: Callable[[Step], str] | None = None) -> Markup:
    """A horizontal waterfall: totals from zero, each change from the running total.

    Parameters
    ----------
    steps : sequence of Step
        In order; a total resets the running total to its value.
    chart_id, title : str
        The ``<svg>`` id and its ``<title>``.
    up_is_good : bool
        A positive change is a saving (a waterfall of savings) or a cost (today's cost to
        the plan's).
    width : float
        [SVG units]
    fmt : callable
        Axis labels.
    value_text : callable, optional
        The figure written above each bar (default: the total, or the change with its sign).

    Returns
    -------
    Markup
        The ``<svg>``.
    """
    steps = list(steps)
    level, ends = 0.0, [0.0]
    spans = []
    for s in steps:
        start = 0.0 if s.total else level
        end = s.value if s.total else level + s.value
        spans.append((start, end))
        ends += [start, end]
        level = end
    lo, hi, step = nice_domain(ends)
    top = PAD + 22
    scale = Scale(lo, hi, PAD, width - PAD)
    bottom = top + len(steps) * ROW
    height = bottom + 28
    hatch = f"{chart_id}-hatch"
    body = [_hatch(hatch, COST)]
    body += _legend([(TOTAL, "total"), (SAVING, "saving"), (f"url(#{hatch})", "cost")],
                    PAD, PAD + 12)
    body += _x_axis(scale, step, top, bottom, fmt)

    def text_of(s: Step) -> str:
        if value_text is not None:
            return value_text(s)
        if s.total:
            return short_gbp(s.value)
        return ("+" if s.value >= 0 else "") + short_gbp(s.value)

    for i, (s, (start, end)) in enumerate(zip(steps, spans, strict=True)):
        y = top + i * ROW + BAR_Y
        if s.total:
            fill, stroke = TOTAL, None
        else:
            good = s.good if s.good is not None else ((s.value >= 0) == up_is_good)
            fill, stroke = (SAVING, None) if good else (f"url(#{hatch})", COST)
        body += _row_label(i, top, width, s.label, text_of(s), "bold" if s.total else None)
        body.append(_rect(scale(start), scale(end), y, BAR_H, fill, stroke, "mdt-bar-rect"))
        if i + 1 < len(steps) and not steps[i + 1].total:   # connector to the next bar
            body.append(_line(scale(end), y + BAR_H, scale(end), y + ROW, INK, 1, "2 2"))
    return _svg(chart_id, title, width, height, body, describedby=describedby)


# ----------------------------------------------------------------------------- three points
@dataclass(frozen=True)
class ThreePoint:
    """A figure's low, most likely and high; ``typed`` marks a workstream typed in (not made
    by the model), drawn hatched and named so."""

    label: str
    low: float
    most_likely: float
    high: float
    typed: bool = False


def range_bars(rows: Sequence[ThreePoint], *, chart_id: str, title: str,
               width: float = 640, describedby: str | None = None,
               fmt: Callable[[float], str] = axis_gbp,
               label_fmt: Callable[[float], str] = short_gbp) -> Markup:
    """One bar per row from 0 to its most likely figure, a line with end caps from low to
    high across it; the three figures written above the bar ("low – most likely – high").

    Returns
    -------
    Markup
        The ``<svg>``.
    """
    rows = list(rows)
    lo, hi, step = nice_domain([v for r in rows for v in (r.low, r.most_likely, r.high)])
    top = PAD + 22
    scale = Scale(lo, hi, PAD, width - PAD)
    bottom = top + len(rows) * ROW
    height = bottom + 28
    hatch = f"{chart_id}-hatch"
    body = [_hatch(hatch, SECOND)]
    legend = [(FIGURE, "made by the model")]
    if any(r.typed for r in rows):
        legend.append((f"url(#{hatch})", "typed in"))
    body += _legend(legend, PAD, PAD + 12)
    body.append(_line(width - PAD - 170, PAD + 6, width - PAD - 140, PAD + 6, INK, 2))
    body.append(_text(width - PAD - 134, PAD + 10, "low to high", size=12))
    body += _x_axis(scale, step, top, bottom, fmt)
    for i, r in enumerate(rows):
        y = top + i * ROW + BAR_Y
        label = f"{r.label} (typed)" if r.typed and "typed" not in r.label else r.label
        figures = " – ".join(label_fmt(v) for v in (r.low, r.most_likely, r.high))
        body += _row_label(i, top, width, label, figures)
        fill, stroke = (f"url(#{hatch})", SECOND) if r.typed else (FIGURE, None)
        body.append(_rect(scale(0), scale(r.most_likely), y, BAR_H, fill, stroke,
                          "mdt-bar-rect"))
        mid = y + BAR_H / 2
        x_lo, x_hi = scale(r.low), scale(r.high)
        body.append(_line(x_lo, mid, x_hi, mid, INK, 2))
        body.append(_line(x_lo, y + 3, x_lo, y + BAR_H - 3, INK, 2))
        body.append(_line(x_hi, y + 3, x_hi, y + BAR_H - 3, INK, 2))
    return _svg(chart_id, title, width, height, body, describedby=describedby)


# ----------------------------------------------------------------------------- Monte Carlo
@dataclass(frozen=True)
class Band:
    """P10, P50 and P90 of a figure's draws."""

    label: str
    p10: float
    p50: float
    p90: float


def bands(rows: Sequence[Band], *, chart_id: str, title: str, width: float = 640,
          describedby: str | None = None,
          fmt: Callable[[float], str] = axis_gbp,
          label_fmt: Callable[[float], str] = short_gbp) -> Markup:
    """One band per row from P10 to P90 with a dark mark at P50; the three figures written
    above it ("P10 … · P50 … · P90 …").

    Returns
    -------
    Markup
        The ``<svg>``.
    """
    rows = list(rows)
    lo, hi, step = nice_domain([v for r in rows for v in (r.p10, r.p50, r.p90)])
    top = PAD + 22
    scale = Scale(lo, hi, PAD, width - PAD)
    bottom = top + len(rows) * ROW
    height = bottom + 28
    body = _legend([(BAND_FILL, "P10 to P90 (8 draws in 10 fall here)")], PAD, PAD + 12)
    x = PAD + 20 + 38 * CHAR_W + 18
    body.append(f'<rect x="{_n(x)}" y="{_n(PAD - 1)}" width="4" height="14" fill="{INK}"/>')
    body.append(_text(x + 10, PAD + 12, "P50 (the median)"))
    body += _x_axis(scale, step, top, bottom, fmt)
    for i, r in enumerate(rows):
        y = top + i * ROW + BAR_Y
        figures = (f"P10 {label_fmt(r.p10)} · P50 {label_fmt(r.p50)} · "
                   f"P90 {label_fmt(r.p90)}")
        body += _row_label(i, top, width, r.label, figures)
        body.append(_rect(scale(r.p10), scale(r.p90), y, BAR_H, BAND_FILL, FIGURE,
                          "mdt-bar-rect"))
        x50 = scale(r.p50)
        body.append(_rect(x50 - 2, x50 + 2, y - 3, BAR_H + 6, INK))
    return _svg(chart_id, title, width, height, body, describedby=describedby)


# ----------------------------------------------------------------------------- by year
@dataclass(frozen=True)
class Year:
    """One year of the appraisal [GBP]: the year's saving and investment spent, and the
    cumulative net position (low, most likely, high)."""

    year: int
    saving: float
    investment: float
    net_low: float
    net: float
    net_high: float


def by_year(years: Sequence[Year], *, chart_id: str, title: str,
            payback_year: int | None = None, width: float = 640, height: float = 340,
            describedby: str | None = None,
            fmt: Callable[[float], str] = axis_gbp) -> Markup:
    """Each year's saving (green, up) and investment spent (red, hatched, down) as columns;
    the cumulative net position as a line (most likely) in a band (low to high); the payback
    year marked by a dashed line and named.

    Returns
    -------
    Markup
        The ``<svg>``.
    """
    years = list(years)
    lo, hi, step = nice_domain([v for y in years for v in
                                (y.saving, -y.investment, y.net_low, y.net, y.net_high)])
    left, right = 64.0, width - PAD
    top, bottom = PAD + 44, height - 40
    ys = Scale(lo, hi, bottom, top)
    n = max(len(years), 1)
    slot = (right - left) / n
    xc = [left + slot * (k + 0.5) for k in range(n)]
    hatch = f"{chart_id}-hatch"
    body = [_hatch(hatch, COST)]
    body += _legend([(SAVING, "saving in the year"), (f"url(#{hatch})", "investment spent")],
                    PAD, PAD + 12)
    lx = PAD
    body.append(_line(lx, PAD + 30, lx + 24, PAD + 30, SECOND, 3))
    body.append(f'<circle cx="{_n(lx + 12)}" cy="{_n(PAD + 30)}" r="4" fill="{SECOND}"/>')
    body.append(_text(lx + 30, PAD + 34, "cumulative net position, most likely (band: low "
                                        "to high)"))
    for v in ys.ticks(step):
        y = ys(v)
        zero = abs(v) < step * 1e-9
        body.append(_line(left, y, right, y, INK if zero else GRID, 1.5 if zero else 1,
                          None if zero else "2 3"))
        body.append(_text(left - 6, y + 4, fmt(v), anchor="end", size=12))
    if years:   # the band of the net position, low to high
        pts = [(x, ys(y.net_high)) for x, y in zip(xc, years, strict=True)]
        pts += [(x, ys(y.net_low)) for x, y in reversed(list(zip(xc, years, strict=True)))]
        body.append('<polygon points="' + " ".join(f"{_n(a)},{_n(b)}" for a, b in pts)
                    + f'" fill="{BAND_FILL}" stroke="{SECOND}" stroke-width="1" '
                      f'stroke-dasharray="3 2" fill-opacity="0.8"/>')
    bar_w = min(slot * 0.3, 40)
    labels = len(years) <= 10
    for x, y in zip(xc, years, strict=True):
        body.append(_rect(x - bar_w - 1, x - 1, ys(y.saving), ys(0) - ys(y.saving), SAVING,
                          None, "mdt-bar-rect") if y.saving >= 0 else
                    _rect(x - bar_w - 1, x - 1, ys(0), ys(y.saving) - ys(0), SAVING))
        if y.investment:
            body.append(_rect(x + 1, x + 1 + bar_w, ys(0), ys(-y.investment) - ys(0),
                              f"url(#{hatch})", COST, "mdt-bar-rect"))
        body.append(_text(x, bottom + 16, f"Year {y.year}", anchor="middle"))
        if labels:
            body.append(_text(x - bar_w / 2 - 1, min(ys(y.saving), ys(0)) - 4,
                              short_gbp(y.saving), anchor="middle", size=11))
            if y.investment:
                body.append(_text(x + 1 + bar_w / 2, ys(-y.investment) + 13,
                                  "−" + short_gbp(y.investment), anchor="middle", size=11))
    if years:
        body.append('<polyline points="' + " ".join(
            f"{_n(x)},{_n(ys(y.net))}" for x, y in zip(xc, years, strict=True))
            + f'" fill="none" stroke="{SECOND}" stroke-width="3"/>')
        for x, y in zip(xc, years, strict=True):
            body.append(f'<circle cx="{_n(x)}" cy="{_n(ys(y.net))}" r="4" fill="{SECOND}"/>')
    if payback_year is not None:
        k = next((i for i, y in enumerate(years) if y.year == payback_year), None)
        if k is not None:
            x = xc[k]
            body.append(_line(x, top - 6, x, bottom, INK, 1.5, "6 3"))
            anchor = "start" if k < n / 2 else "end"
            body.append(_text(x + (5 if anchor == "start" else -5), top + 6,
                              f"pays back in year {payback_year}", anchor=anchor,
                              weight="bold"))
    return _svg(chart_id, title, width, height, body, describedby=describedby)

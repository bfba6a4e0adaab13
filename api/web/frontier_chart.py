"""A sweep's frontier as a server-drawn SVG: one point per variant with a plan, each a link to
that variant's page.

:func:`frontier_svg` is a pure function (points in, an SVG string out). The drawing (axes,
lines) is a ``role="img"`` group with a ``<title>``; the points are ``<a>`` links with
accessible names, reachable with the keyboard, so the whole is a ``role="group"`` (an image's
children are hidden from screen readers). Presentation attributes only, never ``style=``: the
pages' Content-Security-Policy blocks inline styles.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape

WIDTH, HEIGHT = 640, 380
LEFT, RIGHT, TOP, BOTTOM = 100, 24, 20, 58
"""Plot margins [px of the viewBox]: the plot area is x in [LEFT, WIDTH - RIGHT] and
y in [TOP, HEIGHT - BOTTOM] (y grows downwards)."""

SERIES_COLOURS = ["#1d70b8", "#d4351c", "#00703c", "#6f72af", "#f47738"]
"""GOV.UK blue, red, green, purple, orange: 3:1 or more against white."""


@dataclass(frozen=True)
class Point:
    """One variant: its position, its page and what a screen reader says for it."""

    x: float
    y: float
    href: str
    name: str


@dataclass(frozen=True)
class Series:
    """The variants sharing the other axes' values (one line)."""

    label: str
    points: list[Point] = field(default_factory=list)


def nice_step(span: float, target_ticks: int = 5) -> float:
    """A round tick step (1, 2, 2.5 or 5 times a power of ten) giving about ``target_ticks``.

    Examples
    --------
    >>> nice_step(30, 4)
    10.0
    >>> nice_step(0.3, 4)
    0.1
    """
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / max(1, target_ticks - 1)
    power = 10.0 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if m * power >= raw * (1 - 1e-9):
            return round(m * power, 12)
    return 10 * power


def ticks(lo: float, hi: float, target_ticks: int = 5) -> list[float]:
    """Round tick values covering ``[lo, hi]`` (the first at or below ``lo``, the last at or
    above ``hi``).

    Examples
    --------
    >>> ticks(10, 40, 4)
    [10.0, 20.0, 30.0, 40.0]
    """
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    step = nice_step(hi - lo, target_ticks)
    first = math.floor(lo / step + 1e-9) * step
    out = []
    v = first
    while v < hi + step * 1e-9 or not out:
        out.append(round(v, 12))
        v += step
    if out[-1] < hi - step * 1e-9:
        out.append(round(out[-1] + step, 12))
    return out


def _scale(domain: tuple[float, float], pixels: tuple[float, float]) -> Callable[[float], float]:
    (d0, d1), (p0, p1) = domain, pixels
    return lambda v: p0 + (v - d0) / (d1 - d0) * (p1 - p0)


def _f(v: float) -> str:
    return f"{v:.1f}"


def frontier_svg(series: list[Series], *, title: str, x_label: str, y_label: str,
                 x_fmt: Callable[[float], str] = str, y_fmt: Callable[[float], str] = str,
                 chart_id: str = "frontier") -> str:
    """The frontier chart as an SVG string.

    Parameters
    ----------
    series : list of Series
        Lines of points (each point a variant with a plan); points are joined in order of x.
    title : str
        What the chart shows (its ``<title>``).
    x_label, y_label : str
        The axes' labels, with their units.
    x_fmt, y_fmt : callable
        Tick label formats (e.g. ``gbp_short``, ``pct``).
    chart_id : str
        Prefix of the ids inside the SVG (unique on the page).

    Returns
    -------
    str
        ``<svg …>`` markup, every text escaped. With no points, an SVG saying so.

    Notes
    -----
    The x and y ranges are the round ticks covering the points (:func:`ticks`); a point at
    ``(x, y)`` is drawn at ``LEFT + (x − x0) / (x1 − x0) · (WIDTH − LEFT − RIGHT)`` across and
    ``HEIGHT − BOTTOM − (y − y0) / (y1 − y0) · (HEIGHT − TOP − BOTTOM)`` down.
    """
    cid = escape(chart_id, quote=True)
    points = [p for s in series for p in s.points
              if math.isfinite(p.x) and math.isfinite(p.y)]
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="mdt-chart mdt-frontier" '
            f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="group" '
            f'aria-labelledby="{cid}-title">'
            f'<title id="{cid}-title">{escape(title)}</title>')
    if not points:  # a short strip, not an empty frame
        head = head.replace(f'0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}"',
                            f'0 0 {WIDTH} 48" width="{WIDTH}" height="48"')
        return (head + f'<text x="{LEFT}" y="30" font-size="16" fill="#0b0c0c">No variant '
                f'has a plan yet: the points appear as variants finish</text></svg>')
    xt = ticks(min(p.x for p in points), max(p.x for p in points))
    yt = ticks(min(p.y for p in points), max(p.y for p in points))
    sx = _scale((xt[0], xt[-1]), (LEFT, WIDTH - RIGHT))
    sy = _scale((yt[0], yt[-1]), (HEIGHT - BOTTOM, TOP))
    parts = [head, f'<g role="img" aria-labelledby="{cid}-title {cid}-desc">',
             f'<desc id="{cid}-desc">{escape(y_label)} against {escape(x_label)}, one point '
             f'per variant with a plan; the table below has every figure.</desc>',
             f'<rect x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" '
             f'height="{HEIGHT - TOP - BOTTOM}" fill="#ffffff" stroke="#b1b4b6"/>']
    for v in xt:
        x = _f(sx(v))
        parts.append(f'<line x1="{x}" x2="{x}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" '
                     f'stroke="#e5e6e7"/>'
                     f'<text x="{x}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle" '
                     f'font-size="13" fill="#0b0c0c">{escape(x_fmt(v))}</text>')
    for v in yt:
        y = _f(sy(v))
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}" '
                     f'stroke="#e5e6e7"/>'
                     f'<text x="{LEFT - 8}" y="{y}" dy="4" text-anchor="end" font-size="13" '
                     f'fill="#0b0c0c">{escape(y_fmt(v))}</text>')
    parts.append(f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - 12}" '
                 f'text-anchor="middle" font-size="14" font-weight="700" fill="#0b0c0c">'
                 f'{escape(x_label)}</text>'
                 f'<text x="16" y="{(TOP + HEIGHT - BOTTOM) / 2}" text-anchor="middle" '
                 f'font-size="14" font-weight="700" fill="#0b0c0c" '
                 f'transform="rotate(-90 16 {(TOP + HEIGHT - BOTTOM) / 2})">'
                 f'{escape(y_label)}</text>')
    for i, s in enumerate(series):
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        ordered = sorted((p for p in s.points if math.isfinite(p.x) and math.isfinite(p.y)),
                         key=lambda p: p.x)
        if len(ordered) > 1:
            path = " ".join(f"{_f(sx(p.x))},{_f(sy(p.y))}" for p in ordered)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                         f'stroke-width="2"/>')
    parts.append("</g>")
    for i, s in enumerate(series):
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        for p in s.points:
            if not (math.isfinite(p.x) and math.isfinite(p.y)):
                continue
            parts.append(f'<a href="{escape(p.href, quote=True)}" class="mdt-point" '
                         f'aria-label="{escape(p.name, quote=True)}">'
                         f'<title>{escape(p.name)}</title>'
                         f'<circle cx="{_f(sx(p.x))}" cy="{_f(sy(p.y))}" r="7" '
                         f'fill="{colour}" stroke="#0b0c0c" stroke-width="1.5"/></a>')
    parts.append("</svg>")
    return "".join(parts)

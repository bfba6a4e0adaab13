"""The sweep pages' form and views: a grid of one or two axes read from the form, the
variants' table, and the frontier chart's points.

The grid's values are read by :func:`mdtplan.sweep.parse_vary`, the same reader as
``mdtplan sweep --vary KEY=START:STOP:N`` (or ``KEY=a,b,c``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mdtplan.errors import ScenarioError
from mdtplan.sweep import Vary, parse_vary

from . import forms
from .frontier_chart import SERIES_COLOURS, Point, Series, frontier_svg
from .render import gbp, gbp_short, num, pct

AXES = 2
"""How many keys the form may vary."""

AXIS_FIELDS = [f for f in forms.FIELDS if f.kind in ("money", "int", "float")]
"""The keys a sweep may vary: the new-scenario form's numeric fields."""
AXIS_BY_KEY = {f.key: f for f in AXIS_FIELDS}

BASE_FIELDS = [forms.FIELD_BY_KEY["budget.cap"], forms.FIELD_BY_KEY["solver.time_limit_s"]]
"""Fields of the starting scenario the sweep form may change for every variant."""


def _clean(text: str | None) -> str:
    return (text or "").strip().replace(",", "").replace("£", "").replace(" ", "")


def axis_values(i: int, form: dict[str, str]) -> tuple[Vary | None, list[tuple[str, str]]]:
    """Axis ``i`` (1 or 2) of the form as a :class:`~mdtplan.sweep.Vary`, or ``None`` when
    it has no key; and the problems, each against a field name.

    The axis is "from", "to" and "steps" (evenly spaced, both ends included; whole numbers
    for whole-number keys), or a list of values (``values``, separated by ``;`` or new lines,
    which wins when given).
    """
    prefix = f"axis{i}_"
    key = (form.get(prefix + "key") or "").strip()
    if not key:
        return None, []
    field = AXIS_BY_KEY.get(key)
    if field is None:
        return None, [(prefix + "key", f"Axis {i}: '{key}' is not a setting a sweep can vary")]
    listed = [_clean(v) for v in (form.get(prefix + "values") or "").replace("\n", ";")
              .split(";") if v.strip()]
    if listed:
        text = f"{key}={','.join(listed)}"
        at = prefix + "values"
    else:
        parts = {n: _clean(form.get(prefix + n)) for n in ("from", "to", "steps")}
        missing = [n for n, v in parts.items() if not v]
        if missing:
            return None, [(prefix + missing[0], f"Axis {i} ({field.label}): give "
                           + " and ".join(f"'{m}'" for m in missing)
                           + ", or a list of values")]
        text = f"{key}={parts['from']}:{parts['to']}:{parts['steps']}"
        at = prefix + "steps"
    try:
        vary = parse_vary(text)
    except ScenarioError as err:
        return None, [(at, f"Axis {i} ({field.label}): {p.message.split(': ', 1)[-1]}")
                      for p in err.problems]
    bad = [v for v in vary.values if isinstance(v, bool) or not isinstance(v, (int, float))]
    if bad:
        return None, [(at, f"Axis {i} ({field.label}): '{bad[0]}' is not a number")]
    return vary, []


def read_axes(form: dict[str, str]) -> tuple[list[Vary], dict[str, list[str]]]:
    """Every axis of the form and the problems by field (the first axis is needed)."""
    axes, problems = [], []
    for i in range(1, AXES + 1):
        vary, found = axis_values(i, form)
        problems += found
        if vary is not None:
            axes.append(vary)
    if not axes and not problems:
        problems.append(("axis1_key", "Choose a setting to vary"))
    keys = [v.key for v in axes]
    if len(set(keys)) != len(keys):
        problems.append(("axis2_key", "The two axes vary the same setting: choose another, or "
                                      "list all its values on one axis"))
    return axes, forms.problems_by_field(problems)


def variant_count(axes: list[Vary]) -> int:
    """The number of variants of the grid (the product of the axes' value counts)."""
    n = 1
    for a in axes:
        n *= len(a.values)
    return n if axes else 0


def base_overrides(form: dict[str, str], base: dict) -> tuple[dict[str, Any], dict]:
    """The starting scenario's keys the form changes for every variant (empty cap = no cap),
    and the problems by field."""
    out, problems = {}, []
    for f in BASE_FIELDS:
        raw = form.get(f.name)
        if raw is None:
            continue
        try:
            out[f.key] = forms._number(raw, f)
        except forms.FormProblems as err:
            problems += err.problems
    threads = (form.get("threads") or "").strip()
    if threads:
        if not threads.isdigit() or not 1 <= int(threads) <= 64:
            problems.append(("threads", "Solver threads: give a whole number from 1 to 64"))
        else:
            out["solver.threads"] = int(threads)
    return out, forms.problems_by_field(problems)


def describe(value: Any, key: str) -> str:
    """A varied value as the pages write it (money as pounds)."""
    field = AXIS_BY_KEY.get(key)
    if value is None:
        return "none"
    if field is not None and field.kind == "money" and isinstance(value, (int, float)):
        return gbp(value)
    if isinstance(value, float) and value == int(value):
        return f"{int(value):,}"
    return f"{value:,}" if isinstance(value, (int, float)) else str(value)


def key_label(key: str) -> str:
    field = forms.FIELD_BY_KEY.get(key)
    return field.label if field is not None else key


# ----------------------------------------------------------------------------- the sweep's page
def _path(doc: dict | None, *keys):
    node = doc
    for k in keys:
        if not isinstance(node, dict):
            return None
        node = node.get(k)
    return node


@dataclass(frozen=True)
class VariantRow:
    """One variant's line of the sweep table."""

    id: str
    values: dict
    status: str
    solve_status: str | None
    total_cost: float | None
    demand_met_share: float | None
    hubs_open: int | None
    travel_mean: float | None
    travel_max: float | None
    model_savings: float | None
    has_plan: bool


def variant_rows(jobs) -> list[VariantRow]:
    """The sweep's variants, in grid order, with the figures of their stored summaries."""
    out = []
    for j in jobs:
        s = j.summary or {}
        out.append(VariantRow(
            id=j.id, values=j.variant or {}, status=j.status, solve_status=s.get("status"),
            total_cost=s.get("total_cost"), demand_met_share=s.get("demand_met_share"),
            hubs_open=s.get("hubs_open"), travel_mean=_path(s, "travel", "mean"),
            travel_max=_path(s, "travel", "max"),
            model_savings=_path(s, "finance", "model_savings", "total", "most_likely"),
            has_plan=bool(s.get("hubs_open"))))
    return out


METRICS = {
    "demand_met_share": ("Demand met", pct, lambda v: pct(v, 0)),
    "total_cost": ("Annual cost (£ a year)", gbp, gbp_short),
    "model_savings": ("Savings the model makes, most likely (£ a year)", gbp, gbp_short),
    "travel_mean": ("Mean travel to the hub (minutes)", lambda v: num(v, 1), num),
    "hubs_open": ("Hubs open", num, num),
}
"""What the chart's y axis may show: ``key: (label, point format, tick format)``."""


def default_metric(axes: list[dict]) -> str:
    """Demand met against a budget cap; otherwise the annual cost."""
    return "demand_met_share" if axes and axes[0].get("key") == "budget.cap" else "total_cost"


def frontier(rows: list[VariantRow], axes: list[dict], metric: str,
             sweep_id: str) -> tuple[str, list[tuple[str, str]]]:
    """The chart of the first axis (x) against ``metric`` (y), one line per value of the
    second axis, each point a link to its variant's page; and the lines' key as
    ``(label, colour)`` when a second axis varies."""
    x_key = axes[0]["key"]
    field = AXIS_BY_KEY.get(x_key)
    x_fmt = gbp_short if field is not None and field.kind == "money" else num
    y_label, y_point, y_tick = METRICS[metric]
    other = axes[1]["key"] if len(axes) > 1 else None
    groups: dict[str, list[Point]] = {}
    for r in rows:
        x, y = r.values.get(x_key), getattr(r, metric)
        if not r.has_plan or not isinstance(x, (int, float)) or not isinstance(y, (int, float)):
            continue
        label = (f"{key_label(other)}: {describe(r.values.get(other), other)}"
                 if other else "variants")
        name = (f"{key_label(x_key)} {describe(x, x_key)}"
                + (f", {label}" if other else "")
                + f": {y_label.split(' (')[0].lower()} {y_point(y)}. Open this variant")
        groups.setdefault(label, []).append(Point(float(x), float(y),
                                                  f"/scenarios/{r.id}", name))
    series = [Series(label, pts) for label, pts in groups.items()]
    title = f"{y_label.split(' (')[0]} against {key_label(x_key).lower()}"
    svg = frontier_svg(series, title=title, x_label=key_label(x_key), y_label=y_label,
                       x_fmt=x_fmt, y_fmt=y_tick, chart_id=f"frontier-{sweep_id}")
    key = [(s.label, SERIES_COLOURS[i % len(SERIES_COLOURS)]) for i, s in enumerate(series)]
    return svg, key if other else []

"""Plots of results (matplotlib, Agg): the frontier of a sweep and the savings waterfall.

Reads plain tables and typed summaries only (no Pyomo, no model): importable wherever pandas
and matplotlib are. Figures are drawn on a ``matplotlib.figure.Figure`` with the Agg canvas, so
the caller's pyplot backend is never changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..summary import Summary

PLAN_STATUSES = ("optimal", "feasible_at_limit")


def pareto_mask(x, y, *, x_better: str = "low", y_better: str = "high",
                rel_tol: float = 1e-9) -> np.ndarray:
    """Which points no other point beats on both axes (the Pareto-efficient ones).

    A point is dominated when another is at least as good on both axes and better on one;
    differences within ``rel_tol`` (relative to the axis range) count as ties, so solver
    round-off does not make a point efficient.

    Parameters
    ----------
    x, y : array-like
        Coordinates (NaN points are never efficient).
    x_better, y_better : {"low", "high"}
        Which direction is better on each axis.

    Examples
    --------
    Budget cap (lower is better) against demand met (higher is better): a larger cap that
    buys no more demand met is dominated.

    >>> pareto_mask([1, 2, 3, 4], [0.5, 0.8, 1.0, 1.0]).tolist()
    [True, True, True, False]
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    xs = x if x_better == "low" else -x
    ys = y if y_better == "high" else -y
    ok = np.isfinite(xs) & np.isfinite(ys)
    mask = np.zeros(len(x), dtype=bool)
    if not ok.any():
        return mask
    span = float(np.ptp(ys[ok])) or max(1.0, float(np.abs(ys[ok]).max()))
    tol = rel_tol * span
    idx = np.flatnonzero(ok)
    order = idx[np.lexsort((-ys[idx], xs[idx]))]     # x ascending, then y descending
    best = -np.inf
    k = 0
    while k < len(order):
        group = [order[k]]
        while k + len(group) < len(order) and xs[order[k + len(group)]] == xs[order[k]]:
            group.append(order[k + len(group)])
        top = max(ys[g] for g in group)
        if top > best + tol:
            for g in group:
                mask[g] = ys[g] >= top - tol
            best = top
        k += len(group)
    return mask


@dataclass(frozen=True)
class Frontier:
    """What a sweep's frontier plots.

    Attributes
    ----------
    kind : {"budget", "hubs", "generic"}
    x : str
        Table column on the x axis.
    y : str
        Table column on the y axis (the one the Pareto marks use).
    x_label, y_label : str
    x_better, y_better : {"low", "high"}
    series : list of str
        Varied keys that split the points into lines (the others).
    pareto : ndarray of bool
        Per table row.
    extra : str or None
        A second panel's column (``total_cost`` for budget sweeps, ``travel_max`` for hubs).
    """

    kind: str
    x: str
    y: str
    x_label: str
    y_label: str
    x_better: str
    y_better: str
    series: list
    pareto: np.ndarray
    extra: str | None = None
    extra_label: str | None = None

    def to_dict(self) -> dict:
        return {"kind": self.kind, "x": self.x, "y": self.y, "x_better": self.x_better,
                "y_better": self.y_better, "series": list(self.series),
                "pareto_variants": [int(i) for i in np.flatnonzero(self.pareto)]}


def frontier(table: pd.DataFrame, keys: list[str]) -> Frontier | None:
    """Choose what to plot for a sweep table and mark its Pareto-efficient rows.

    * ``budget.cap`` varied: budget cap [GBP/year] against demand met (higher is better),
      with total cost in a second panel.
    * a ``hubs.count.*`` key varied: hubs open against population-weighted mean travel (lower
      is better), maximum travel in a second panel.
    * otherwise the first numeric varied key against the objective (lower is better; every
      objective here is minimised), the key taken as a resource (lower is better).

    With more than one varied key, each line (a value of the other keys) has its own
    frontier. Returns ``None`` when no varied key is numeric. Rows without a plan are never
    efficient.
    """
    if table.empty:
        return None
    has_plan = table["status"].isin(PLAN_STATUSES).to_numpy()

    def numeric(col):
        return np.array(pd.to_numeric(table[col], errors="coerce"), dtype=float)

    if "budget.cap" in keys:
        kind, x, y = "budget", "budget.cap", "demand_met_share"
        labels = ("Budget cap [£/year]", "Demand met [share of hours]")
        better = ("low", "high")
        extra, extra_label = "total_cost", "Total cost [£/year]"
    elif any(k.startswith("hubs.count.") for k in keys):
        kind, x, y = "hubs", "hubs_open", "travel_mean"
        labels = ("Hubs open", "Mean travel (population-weighted)")
        better = ("low", "low")
        extra, extra_label = "travel_max", "Maximum travel"
    else:
        numeric_keys = [k for k in keys if np.isfinite(numeric(k)).any()]
        if not numeric_keys:
            return None
        kind, x, y = "generic", numeric_keys[0], "objective"
        labels = (x, "Objective")
        better = ("low", "low")
        extra, extra_label = None, None
    series = [k for k in keys if k != x and not (kind == "hubs" and k.startswith("hubs.count."))]
    xs, ys = numeric(x), numeric(y)
    xs[~has_plan] = np.nan
    mask = np.zeros(len(table), dtype=bool)
    groups = (table.groupby(series, sort=False, dropna=False).indices if series
              else {None: np.arange(len(table))})
    for idx in groups.values():
        idx = np.asarray(idx)
        mask[idx] = pareto_mask(xs[idx], ys[idx], x_better=better[0], y_better=better[1])
    return Frontier(kind, x, y, labels[0], labels[1], better[0], better[1], series, mask,
                    extra, extra_label)


def plot_frontier(table: pd.DataFrame, keys: list[str], png: str | Path,
                  html: str | Path | None = None, *, title: str = "sweep") -> dict[str, Path]:
    """Draw the frontier of a sweep table to ``png`` (and ``html``: the figure as SVG with the
    table beneath, one self-contained file).

    Points are the variants with a plan, joined by a line per value of the other varied keys;
    Pareto-efficient points are ringed; variants without a plan are marked ``x`` on the axis.

    Returns
    -------
    dict
        ``{"png": Path, "html": Path}`` for what was written (nothing when nothing is numeric).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    front = frontier(table, keys)
    if front is None:
        return {}
    panels = 2 if front.extra else 1
    fig = Figure(figsize=(7.5, 4.2 * panels), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(panels, 1, sharex=True, squeeze=False)[:, 0]
    has_plan = table["status"].isin(PLAN_STATUSES).to_numpy()
    x_all = pd.to_numeric(table[front.x], errors="coerce").to_numpy(dtype=float)
    plotted = []
    for ax, col, label in zip(axes, [front.y, front.extra], [front.y_label, front.extra_label],
                              strict=False):
        if col is None:
            continue
        y_all = pd.to_numeric(table[col], errors="coerce").to_numpy(dtype=float)
        groups = (table.groupby(front.series, sort=True, dropna=False).indices
                  if front.series else {None: np.arange(len(table))})
        for name, idx in groups.items():
            idx = np.asarray(idx)
            idx = idx[has_plan[idx]]
            if not len(idx):
                continue
            idx = idx[np.argsort(x_all[idx], kind="stable")]
            if front.series:
                values = name if isinstance(name, tuple) else (name,)
                line_label = ", ".join(f"{k}={v}" for k, v in zip(front.series, values,
                                                                   strict=True))
            else:
                line_label = label.split(" [")[0]
            ax.plot(x_all[idx], y_all[idx], marker="o", markersize=4, linewidth=1.2,
                    label=line_label)
        eff = front.pareto & has_plan
        if col == front.y and eff.any():
            ax.scatter(x_all[eff], y_all[eff], s=110, facecolors="none", edgecolors="black",
                       linewidths=1.4, zorder=3, label="Pareto-efficient")
        if col == "total_cost" and np.isfinite(x_all[has_plan]).any():
            lo, hi = np.nanmin(x_all[has_plan]), np.nanmax(x_all[has_plan])
            ax.plot([lo, hi], [lo, hi], color="grey", linestyle=":", linewidth=1,
                    label="cost = cap")
        failed = ~has_plan & np.isfinite(x_all)
        if failed.any():
            y0 = np.nanmin(y_all[has_plan]) if np.isfinite(y_all[has_plan]).any() else 0.0
            ax.scatter(x_all[failed], np.full(failed.sum(), y0), marker="x", color="red",
                       zorder=3, label="no plan (see status)")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="best")
        plotted.append(col)
    axes[-1].set_xlabel(front.x_label)
    if front.kind == "hubs":
        from matplotlib.ticker import MaxNLocator

        axes[-1].xaxis.set_major_locator(MaxNLocator(integer=True))
    if front.kind == "budget":
        for ax in axes:
            ax.xaxis.set_major_formatter(_money_formatter())
        axes[0].yaxis.set_major_formatter(_percent_formatter())
        if len(axes) > 1:
            axes[1].yaxis.set_major_formatter(_money_formatter())
    fig.suptitle(f"{title}: {front.y_label.split(' [')[0].lower()} against "
                 f"{front.x_label.split(' [')[0].lower()}")
    png = Path(png)
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png)
    written = {"png": png}
    if html is not None:
        import io

        buf = io.StringIO()
        fig.savefig(buf, format="svg")
        html = Path(html)
        html.write_text(_html_page(title, buf.getvalue(), table, front), encoding="utf-8")
        written["html"] = html
    return written


def _money_formatter():
    from matplotlib.ticker import FuncFormatter

    def fmt(v, _pos):
        return f"£{v / 1e6:,.3g}m" if abs(v) >= 1e6 else f"£{v / 1e3:,.3g}k"

    return FuncFormatter(fmt)


def _percent_formatter():
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1.0)


def _html_page(title: str, svg: str, table: pd.DataFrame, front: Frontier) -> str:
    """One self-contained page: the SVG figure and the table, efficient rows in bold."""
    import html as h

    start = svg.find("<svg")
    svg = svg[start:] if start >= 0 else svg
    shown = table.drop(columns=["error"], errors="ignore")
    head = "".join(f"<th>{h.escape(str(c))}</th>" for c in shown.columns)
    body = []
    for i, (_, row) in enumerate(shown.iterrows()):
        cells = "".join(f"<td>{h.escape(_cell(v))}</td>" for v in row.tolist())
        style = ' class="efficient"' if front.pareto[i] else ""
        body.append(f"<tr{style}>{cells}</tr>")
    return (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{h.escape(title)}: frontier</title><style>"
        "body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;"
        "font-size:13px}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
        "tr.efficient{font-weight:bold;background:#eef6ee}svg{max-width:100%;height:auto}"
        "</style></head><body>"
        f"<h1>{h.escape(title)}</h1>{svg}"
        "<p>Rows in bold are Pareto-efficient (no other variant is at least as good on both "
        f"{h.escape(front.x)} and {h.escape(front.y)}).</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        "</body></html>\n")


def _cell(v) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return ""
    if isinstance(v, float):
        return f"{v:,.6g}"
    return str(v)


# --------------------------------------------------------------------------------------------
# Savings waterfall


def waterfall_steps(summary: Summary) -> list[dict]:
    """The bars of the savings waterfall of a solved scenario's summary.

    Workstreams (most likely), less already in plan, less investment, to the net of
    investment; then, with a baseline, today's cost, each line of the plan's savings against it
    (staff by role, agency premium, sites), to the plan's cost.

    Returns
    -------
    list of dict
        ``panel`` (``"workstreams"`` or ``"baseline"``), ``label``, ``value`` [GBP] (signed:
        a step's change, or a total's level), ``kind`` (``"step"`` or ``"total"``), ``start``
        [GBP] (where a step's bar begins). The steps of each panel add up to its last total.

    Examples
    --------
    >>> s = Summary.from_dict({"finance": {"lines": [{"name": "A", "most_likely": 5.0},
    ...                                              {"name": "B", "most_likely": 3.0}],
    ...                                    "already_in_plan": 1.0, "investment": 2.0,
    ...                                    "ratio_basis": "total_net",
    ...                                    "net_of_investment": {"most_likely": 5.0}}})
    >>> [(b["label"], b["value"]) for b in waterfall_steps(s)]
    [('A', 5.0), ('B', 3.0), ('already in plan', -1.0), ('investment', -2.0), ('net', 5.0)]
    """
    bars: list[dict] = []
    finance = summary.finance
    if finance is not None and finance.lines:
        level = 0.0
        basis = finance.ratio_basis if finance.ratio_basis is not None else "cashable_net"
        for line in finance.lines:
            if basis == "cashable_net" and not line.cashable:
                continue
            bars.append({"panel": "workstreams", "label": line.name, "kind": "step",
                         "start": level, "value": float(line.most_likely)})
            level += float(line.most_likely)
        if basis != "total":
            for label, amount in (("already in plan", finance.already_in_plan),):
                if amount:
                    bars.append({"panel": "workstreams", "label": label, "kind": "step",
                                 "start": level, "value": -float(amount)})
                    level -= float(amount)
        if finance.investment:
            bars.append({"panel": "workstreams", "label": "investment", "kind": "step",
                         "start": level, "value": -float(finance.investment)})
            level -= float(finance.investment)
        bars.append({"panel": "workstreams", "label": "net", "kind": "total", "start": 0.0,
                     "value": level})
    savings, baseline = summary.savings, summary.baseline
    if savings is not None and baseline is not None:
        level = float(savings.total.baseline_gbp)
        bars.append({"panel": "baseline", "label": "today", "kind": "total", "start": 0.0,
                     "value": level})
        for line in savings.lines:
            change = -float(line.saving_gbp)
            if abs(change) < 0.5:
                continue
            bars.append({"panel": "baseline", "label": line.line.replace("staff: ", ""),
                         "kind": "step", "start": level, "value": change})
            level += change
        bars.append({"panel": "baseline", "label": "plan", "kind": "total", "start": 0.0,
                     "value": level})
    return bars


def plot_waterfall(summary: Summary, png: str | Path) -> Path | None:
    """Draw the savings waterfall(s) of a solved scenario to ``png``.

    Top panel: the workstreams' most likely savings, less what is already in the plan and the
    investment, to the net (on the scenario's ratio basis). Bottom panel (with a baseline):
    today's cost, each line's change to the plan's cost (green falls, red rises). Returns
    ``None`` when there is nothing to draw.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    bars = waterfall_steps(summary)
    panels = [p for p in ("workstreams", "baseline") if any(b["panel"] == p for b in bars)]
    if not panels:
        return None
    fig = Figure(figsize=(9, 4.2 * len(panels)), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(panels), 1, squeeze=False)[:, 0]
    basis = ((summary.finance.ratio_basis if summary.finance is not None else None)
             or "").replace("_", " ")
    titles = {"workstreams": f"Workstream savings, most likely, to the net of investment "
                             f"({basis}) [GBP/year]",
              "baseline": "Today's cost to the plan's cost [GBP/year]"}
    for ax, panel in zip(axes, panels, strict=True):
        rows = [b for b in bars if b["panel"] == panel]
        for i, b in enumerate(rows):
            if b["kind"] == "total":
                colour, bottom, height = "#4c72b0", 0.0, b["value"]
            else:
                good = (b["value"] > 0) == (panel == "workstreams")
                colour = "#55a868" if good else "#c44e52"
                bottom, height = b["start"], b["value"]
            ax.bar(i, height, bottom=bottom, color=colour, edgecolor="black", linewidth=0.5)
            top = bottom + height if height >= 0 else bottom
            sign = "−" if b["value"] < 0 else ""
            ax.annotate(f"{sign}£{abs(b['value']) / 1e6:,.2f}m", (i, top), ha="center",
                        va="bottom", fontsize=7, xytext=(0, 2), textcoords="offset points")
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels([b["label"] for b in rows], rotation=30, ha="right", fontsize=8)
        ax.yaxis.set_major_formatter(_money_formatter())
        ax.axhline(0, color="black", linewidth=0.6)
        ends = [0.0] + [v for b in rows for v in ((b["value"],) if b["kind"] == "total"
                                                  else (b["start"], b["start"] + b["value"]))]
        span = max(ends) - min(ends) or 1.0
        ax.set_ylim(min(ends) - 0.04 * span * (min(ends) < 0), max(ends) + 0.12 * span)
        ax.set_title(titles[panel], fontsize=10)
        ax.grid(True, axis="y", alpha=0.3)
    png = Path(png)
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png)
    return png

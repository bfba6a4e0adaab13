"""What the result page shows: headline words, tables and insights from a job's outputs."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mdtplan.summary.words import headline_quality as headline_quality
from mdtplan.summary.words import start_from_words as start_from_words

from .render import gbp, gbp_short, num, pct
from .words import goal, quality_words


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    numeric: bool = False
    fmt: Callable = str


def _text(v) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)


def _n(digits: int = 0):
    return lambda v: num(v, digits)


HUB_COLUMNS = [
    Column("name", "Hub", fmt=_text), Column("site_id", "Site id", fmt=_text),
    Column("status", "Status", fmt=_text), Column("pool", "Specialist pool", fmt=_text),
    Column("population", "Population", True, _n()), Column("areas", "Areas", True, _n()),
    Column("fte", "FTE", True, _n(1)), Column("utilisation", "Utilisation", True, pct),
    Column("demand_met_share", "Demand met", True, pct),
    Column("travel_hours", "Staff travel (hours a year)", True, _n()),
    Column("mileage_gbp", "Mileage (£ a year)", True, gbp),
    Column("site_cost", "Site cost (£ a year)", True, gbp),
]
STAFFING_COLUMNS = [
    Column("unit", "Hub or pool", fmt=_text), Column("role", "Role", fmt=_text),
    Column("fte", "FTE", True, _n(1)), Column("agency_fte", "Agency FTE", True, _n(1)),
    Column("demand_hours", "Demand (hours a year)", True, _n()),
    Column("capacity_hours", "Capacity (hours a year)", True, _n()),
    Column("unmet_hours", "Unmet (hours a year)", True, _n()),
    Column("travel_hours", "Travel (hours a year)", True, _n()),
    Column("lever_hours", "Lever work (hours a year)", True, _n()),
    Column("cost", "Cost (£ a year)", True, gbp),
]
TABLES = [("hubs", "Hubs", HUB_COLUMNS), ("staffing", "Staffing by hub and role",
                                          STAFFING_COLUMNS)]
DOWNLOADABLE = {"hubs.csv", "staffing.csv", "assignment.csv", "levers.csv", "localities.csv",
                "scenario.json", "savings_waterfall.png"}


def tables(folder: Path) -> list[tuple]:
    """``(key, caption, columns, rows)`` for each table the result folder has."""
    out = []
    for key, caption, columns in TABLES:
        path = folder / f"{key}.csv"
        if not path.is_file():
            continue
        frame = pd.read_csv(path)
        cols = [c for c in columns if c.key in frame.columns and frame[c.key].notna().any()]
        rows = [[None if pd.isna(v) else v for v in rec]
                for rec in frame[[c.key for c in cols]].itertuples(index=False, name=None)]
        out.append((key, caption, cols, rows))
    return out


def stage_rows(summary: dict) -> list[tuple[str, str]]:
    """Each lexicographic goal and how good its answer is, in words."""
    out = []
    for stage in summary.get("stages") or []:
        words = quality_words(stage.get("gap"))
        if stage.get("gap") is None and stage.get("bound") is None:
            words = "best plan found within the time; no bound proven for this goal"
        out.append((goal(stage.get("name")).capitalize(), words))
    return out


def _unit_words(stage: str | None, change: float) -> str:
    if stage == "unmet_hours":
        return (f"meet about {abs(change):,.0f} more hours of demand a year" if change < 0
                else "not meet more demand")
    if stage == "cost_gbp":
        return (f"lower the cost by about {gbp_short(abs(change))} a year" if change < 0
                else "not lower the cost")
    if stage in ("travel", "max_travel"):
        return f"change travel by {change:,.1f}"
    return f"change the goal by {change:,.4g}"


def insights(summary: dict) -> list[str]:
    """What holds the plan back and what would move it, in sentences."""
    out = []
    mv = summary.get("marginal_values") or {}
    binding = [name.replace("_", " ") for name, b in (mv.get("binding") or {}).items()
               if (b or {}).get("rows_binding")]
    if binding:
        out.append("Rules at their limit: " + ", ".join(binding) + ".")
    budget = mv.get("per_100k_budget") or {}
    if isinstance(budget.get("change"), (int, float)) and budget["change"] != 0:
        out.append("Another £100k a year of budget would "
                   + _unit_words(budget.get("stage"), budget["change"]) + ".")
    fte = mv.get("per_extra_fte") or {}
    best = fte.get("best_unit_value") or {}
    top = sorted(((v, r) for r, v in best.items() if isinstance(v, (int, float)) and v > 0),
                 reverse=True)[:3]
    if top:
        stage = fte.get("stage")
        parts = [f"{r.replace('_', ' ')}: {_unit_words(stage, -v)}" for v, r in top]
        out.append("One more FTE, placed where it helps most, would — " + "; ".join(parts)
                   + ".")
    lines = (((summary.get("finance") or {}).get("model_savings") or {}).get("lines")) or []
    for line in lines:
        if line.get("held_back_by"):
            out.append(f"{line.get('name')}: held back by {line['held_back_by']}.")
    return out


def finance_rows(summary: dict) -> list[tuple[str, str, str]]:
    """The finance headlines as ``(label, value, note)`` (the full panel is on the scenario's
    finance page, :mod:`api.web.finance`); pounds as the CLI writes them (``−£1,234``)."""
    from .finance import money, ratio, signed

    rows = []
    savings = (summary.get("savings") or {}).get("total") or {}
    if savings.get("saving_gbp") is not None:
        rows.append(("Saving against today", money(savings["saving_gbp"]) + " a year",
                     f"today {money(savings.get('baseline_gbp'))}, the plan "
                     f"{money(savings.get('scenario_gbp'))}: the plan's running cost against "
                     "today's"))
    finance = summary.get("finance") or {}
    ms = (finance.get("model_savings") or {}).get("total") or {}
    if ms.get("most_likely") is not None:
        rows.append(("Savings the model makes (levers)", money(ms["most_likely"]) + " a year",
                     f"low {money(ms.get('low'))}, high {money(ms.get('high'))}: care spend "
                     "avoided less the staff the levers need"))
    net = finance.get("net_of_investment")
    if isinstance(net, dict):
        net = net.get("most_likely")
    if isinstance(net, (int, float)):
        rows.append(("Net of investment", signed(net), "the savings less the one-off investment"))
    bti = (finance.get("benefit_to_investment") or {}).get("most_likely")
    if isinstance(bti, (int, float)) and finance.get("required_ratio") is not None:
        passed = (finance.get("passes") or {}).get("most_likely")
        rows.append(("Benefit to investment", ratio(bti),
                     f"most likely, against {finance['required_ratio']:g}x required: "
                     + ("passes" if passed else "fails")))
    return rows

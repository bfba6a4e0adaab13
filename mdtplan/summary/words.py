"""A solve's progress and figures in a planner's words, shared by the command line and the
web pages (no solver jargon: pounds, hours a year, minutes).

Nothing here computes a figure; each function turns one figure of a progress event or of
``summary.json`` into words with its unit.
"""

from __future__ import annotations

import math

#: pipeline stage (``progress`` events' ``stage``) -> what is happening, in words
STEPS = {
    "starting": "Starting a solver",
    "load": "Loading the inputs",
    "travel": "Working out travel between areas and sites",
    "build": "Building the model",
    "solve": "Searching for the best plan",
    "growth": "Checking the plan against future demand",
    "baseline": "Costing today's configuration",
    "monte_carlo": "Re-solving the Monte Carlo demand draws",
    "sweep": "Solving the variants",
    "explain": "Finding which rules conflict",
    "localities": "Grouping the hubs into locality teams",
    "done": "Writing the results",
    "cancelled": "Cancelled",
    "failed": "Stopped",
}

#: lexicographic stage (``stages[].name``) -> its goal, in words
GOALS = {
    "cost_gbp": "lowest cost",
    "unmet_hours": "most demand met",
    "travel": "shortest travel",
    "max_travel": "shortest longest journey",
}

#: objective (``objective_name``) -> its first lexicographic stage
FIRST_STAGE = {
    "max_demand_met": "unmet_hours",
    "min_cost": "cost_gbp",
    "min_travel": "travel",
    "min_max_travel": "max_travel",
}


#: a gap at or below this counts as proven [-]
PROVEN_GAP = 1e-6


def goal(stage: str | None) -> str:
    """The goal of a lexicographic stage in words (``cost_gbp`` -> "lowest cost")."""
    return GOALS.get(stage or "", (stage or "").replace("_", " "))


def gbp_short(value: float) -> str:
    """Pounds, millions with two decimals from £1m (``£21.99m``, ``−£1.50m``, ``£950,000``)."""
    sign = "−" if value < 0 else ""
    v = abs(value)
    return f"{sign}£{v / 1e6:,.2f}m" if v >= 1e6 else f"{sign}£{v:,.0f}"


def best_words(stage: str | None, primal: float | None, unit: str | None = "minutes") -> str | None:
    """A stage's objective value in the user's units, or ``None`` before there is one.

    Parameters
    ----------
    stage : str or None
        The lexicographic stage (``cost_gbp``, ``unmet_hours``, ``travel``, ``max_travel``).
    primal : float or None
        Its value [GBP/year, hours/year, or the travel unit].
    unit : str, optional
        The travel unit (``minutes``, ``km`` or ``units``).
    """
    if primal is None or not math.isfinite(primal):
        return None
    unit = unit or "minutes"
    if stage == "cost_gbp":
        return f"{gbp_short(primal)} a year"
    if stage == "unmet_hours":
        if primal <= 0.5:
            return "all demand met"
        return f"{primal:,.0f} hours a year of demand not met"
    if stage == "max_travel":
        return f"longest journey {primal:,.1f} {unit}"
    if stage == "travel":
        return f"total travel {primal:,.0f} {unit} (weighted)"
    return f"{primal:,.6g}"


def quality_words(gap: float | None) -> str:
    """How far the best plan so far can be from the best possible, in words."""
    if gap is None or not math.isfinite(gap):
        return "no bound on the best possible plan proven yet"
    if gap <= PROVEN_GAP:
        return "proven the best possible"
    if gap >= 1:
        return "not yet within 100% of the best possible"
    return f"at most {gap:.1%} from the best possible"


def headline_quality(summary) -> str:
    """How good the plan is proven to be, over every goal (not only the first).

    Parameters
    ----------
    summary : dict or Summary
        A ``summary.json`` document (``stages``, ``mip_gap``), or a typed
        :class:`~mdtplan.summary.Summary`.

    Returns
    -------
    str
        ``"proven the best possible"`` when every goal is proven; else the goals proven so far
        and the first one not proven with how far it may be from its best, e.g.
        ``"most demand met: proven best; lowest cost: at most 4.3% from the best possible"``.
    """
    if isinstance(summary, dict):
        stages, gap = summary.get("stages") or [], summary.get("mip_gap")
    else:
        stages, gap = summary.report.stages, summary.report.mip_gap
    if not stages:
        return quality_words(gap)
    for i, stage in enumerate(stages):
        gap = stage.get("gap")
        if gap is not None and gap <= PROVEN_GAP:
            continue
        name = goal(stage.get("name"))
        words = quality_words(gap) if gap is not None else "not proven"
        if i == 0:
            return f"{name}: {words}"
        proven = ", ".join(goal(x.get("name")) for x in stages[:i])
        return f"{proven}: proven best; {name}: {words}"
    return "proven the best possible"


def start_from_words(start_from: dict | None) -> str | None:
    """How a what-if used the earlier plan it started from (``summary.json`` ->
    ``start_from``), e.g. ``out/base: 11 of its 12 hubs kept, 1 added; 30 areas moved to fit
    the rules``, or ``None`` without one. Said when the fresh start was better instead, and
    when the scenario knows only part of the plan's sites or areas."""
    if not start_from:
        return None
    source = start_from.get("source") or "an earlier plan"
    m = start_from.get("matched") or {}
    if not m.get("sites"):
        return f"{source}: none of its hubs is a site of this scenario; started afresh"
    given = m.get("sites_given", m["sites"])
    kept = int(start_from.get("hubs_kept", 0))
    parts = [f"{kept} of its {given} hub{'s' if given != 1 else ''} kept"]
    if start_from.get("hubs_added"):
        parts.append(f"{start_from['hubs_added']} added")
    if start_from.get("hubs_dropped"):
        parts.append(f"{start_from['hubs_dropped']} dropped")
    text = f"{source}: " + ", ".join(parts)
    if start_from.get("areas_moved"):
        n = int(start_from["areas_moved"])
        text += f"; {n} area{'s' if n != 1 else ''} moved to fit the rules"
    if m.get("areas_given") and m.get("areas", 0) < m["areas_given"]:
        text += f"; {m['areas_given'] - m['areas']:,} of its areas are not in this scenario"
    if start_from.get("chosen") is False:
        text += " (a fresh start did better and was used)"
    return text

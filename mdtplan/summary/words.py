"""How good a plan is proven to be, in words: shared by the command line, the workbook and the
service's pages, so all three say the same.

A plan is "proven the best possible" only when *every* lexicographic goal (``summary.json`` ->
``stages``) is proven; otherwise the first goal not proven is named with how far its answer
may be from its best. The first goal's gap alone (``mip_gap``) can read 0.00% while a later
goal, say the cost of a plan that meets the most demand, is far from proven.
"""

from __future__ import annotations

import math

#: the planner's name of each lexicographic goal
GOALS = {
    "cost_gbp": "lowest cost",
    "unmet_hours": "most demand met",
    "travel": "shortest travel",
    "max_travel": "shortest longest journey",
}

#: a gap at or below this counts as proven [-]
PROVEN_GAP = 1e-6


def goal(stage: str | None) -> str:
    """A stage's name in a planner's words (``unmet_hours`` -> ``most demand met``)."""
    return GOALS.get(stage or "", (stage or "").replace("_", " "))


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

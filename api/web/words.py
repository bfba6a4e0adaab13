"""Solver progress and results in a planner's words (no solver jargon on the pages)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

# the goals' names and the proof in words are shared with the command line and the workbook
from mdtplan.summary.words import GOALS as GOALS
from mdtplan.summary.words import goal, quality_words

STEPS = {
    "starting": "Starting a solver",
    "load": "Loading the inputs",
    "travel": "Working out travel between areas and sites",
    "build": "Building the model",
    "solve": "Searching for the best plan",
    "growth": "Checking the plan against future demand",
    "explain": "Finding which rules conflict",
    "localities": "Grouping the hubs into locality teams",
    "done": "Writing the results",
    "cancelled": "Cancelled",
    "failed": "Stopped",
}


def _gbp(value: float) -> str:
    sign = "−" if value < 0 else ""
    v = abs(value)
    return f"{sign}£{v / 1e6:,.2f}m" if v >= 1e6 else f"{sign}£{v:,.0f}"


def best_words(stage: str | None, primal: float | None, unit: str = "minutes") -> str | None:
    """The best plan so far in the user's units, or ``None`` before there is one."""
    if primal is None or not math.isfinite(primal):
        return None
    if stage == "cost_gbp":
        return f"{_gbp(primal)} a year"
    if stage == "unmet_hours":
        if primal <= 0.5:
            return "all demand met"
        return f"{primal:,.0f} hours a year of demand not met"
    if stage == "max_travel":
        return f"longest journey {primal:,.1f} {unit}"
    if stage == "travel":
        return f"total travel {primal:,.0f} {unit} (weighted)"
    return f"{primal:,.6g}"


@dataclass(frozen=True)
class Progress:
    """What the progress panel shows."""

    step: str
    goal: str | None
    best: str | None
    quality: str | None
    elapsed_s: float | None
    limit_s: float | None

    @property
    def fraction(self) -> float | None:
        if self.elapsed_s is None or not self.limit_s:
            return None
        return max(0.0, min(1.0, self.elapsed_s / self.limit_s))

    @property
    def sentence(self) -> str:
        """One sentence: step, goal, best so far and its quality."""
        text = self.step
        if self.goal:
            text += f" (goal: {self.goal})"
        if self.best:
            text += f". Best plan so far: {self.best}, {self.quality}"
        return text + "."


def progress(job, limit_s: float | None, now: float | None = None) -> Progress:
    """The progress of a queued or running job, from its stored ``progress`` event."""
    event = job.progress or {}
    if job.status == "queued":
        return Progress("Waiting for a free solver", None, None, None, None, limit_s)
    stage = event.get("stage") or "load"
    step = STEPS.get(stage, stage)
    if job.status == "cancelling":
        step = ("Cancelling: the solver has stopped; writing the results of the plan kept"
                if stage == "done" else "Cancelling: stopping the solver")
    objective_stage = event.get("objective_stage") if stage == "solve" else None
    best = best_words(objective_stage, event.get("primal"))
    elapsed = None
    if job.started_at is not None:
        started = job.started_at.timestamp() if hasattr(job.started_at, "timestamp") \
            else float(job.started_at)
        elapsed = max(0.0, (now or time.time()) - started)
    return Progress(step, goal(objective_stage) if objective_stage else None, best,
                    quality_words(event.get("gap")) if best else None, elapsed, limit_s)


def time_limit(doc: dict, job_limit_s: float) -> float:
    """The solve's time limit [s]: the scenario's, capped by the service's."""
    solver = doc.get("solver") or {}
    asked = solver.get("time_limit_s") if isinstance(solver, dict) else None
    if isinstance(asked, (int, float)) and asked > 0:
        return float(min(asked, job_limit_s))
    return float(job_limit_s)

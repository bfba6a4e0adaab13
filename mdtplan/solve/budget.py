"""Time: what is left of a run's and of a solve's limit, what each part was given, and a
cancel's state.

One time limit covers a whole run (:class:`RunBudget`): building the model, the solve, and the
solve's follow-ups (locality teams, marginal values, the explanation of an infeasible
scenario, today's configuration, the growth check, the Monte Carlo re-solves); each part gets
a share of what is left when it starts (:data:`PART_WEIGHTS`), a part with too little left
is skipped and says so. Within the solve's share one limit covers the whole solve
(:class:`TimeBudget`): the heuristic start (:func:`start_seconds`), the rounding cuts, every
lexicographic stage and its clean-up LP, and on a session's first solve also building and
compiling the model.
"""

from __future__ import annotations

import threading
from time import perf_counter

from .status import REPRODUCIBLE_START_S, SolveOptions


class TimeBudget:
    """What is left of a solve's time limit, and what each part of the solve was given.

    One solve (all its lexicographic stages, their clean-up LPs, the heuristic start and, on
    the first solve of a session, building and compiling the model) shares
    ``limit_s``. Every grant is logged in :attr:`log` (``run``, ``given_s``, ``left_s``) so
    tests can check that no part is ever given more than is left.

    Parameters
    ----------
    limit_s : float
        The solve's time limit [s].
    spent_s : float
        Already used before the solve started (build and compile) [s].
    clock : callable, optional
        Seconds from a monotonic clock (default ``time.perf_counter``).
    """

    #: share of what is left that a stage gets when later (tie-break) stages follow it
    STAGE_SHARE = 0.85

    def __init__(self, limit_s: float, spent_s: float = 0.0, clock=None):
        self.limit_s = float(limit_s)
        self._clock = clock or perf_counter
        self._t0 = self._clock() - float(spent_s)
        self.log: list[dict] = []

    def elapsed(self) -> float:
        return self._clock() - self._t0

    def left(self) -> float:
        """Seconds left [s], never negative."""
        return max(0.0, self.limit_s - self.elapsed())

    def grant(self, run: str, seconds: float) -> float:
        """Give ``run`` up to ``seconds``, never more than is left; logged."""
        left = self.left()
        given = min(max(float(seconds), 0.0), left)
        self.log.append({"run": run, "given_s": given, "left_s": left})
        return given

    def stage_seconds(self, position: int, count: int, reserve: float) -> float:
        """Time for lexicographic stage ``position`` of ``count``: what is left less
        ``reserve`` (its clean-up LP), and, when later stages follow, only
        :attr:`STAGE_SHARE` of that, so a stage stopped by the limit leaves its tie-breaks
        some time (a stage that finishes early leaves them the rest)."""
        usable = max(self.left() - reserve, 0.0)
        return usable if position >= count - 1 else usable * self.STAGE_SHARE


#: each part's weight in the share of a run's time limit (:class:`RunBudget`): a part starting
#: with ``left`` seconds left gets ``left * weight / (its weight + the weights of the parts
#: still to come)`` (the solve: what is left less the follow-ups' reserves, each capped by
#: :data:`FOLLOW_UP_RESERVE_S`), and a part that finishes early leaves the rest to the parts
#: after it. The Monte Carlo re-solves weigh ``monte_carlo_draw`` each,
#: counted for at most :data:`MONTE_CARLO_DRAWS_WEIGHED` draws.
PART_WEIGHTS = {
    "solve": 10.0,
    "localities": 1.0,
    "marginal_values": 1.0,
    "explanation": 3.0,
    "baseline": 2.0,
    "growth_check": 2.0,
    "monte_carlo_draw": 1.0,
}
MONTE_CARLO_DRAWS_WEIGHED = 10
#: the most a light follow-up holds back from the solve's share [s]: when the solve starts,
#: each of these reserves its weight's share of what is left, but no more than this; the
#: solve gets the rest. Measured on every council example at 60 s (2026-12-06): locality
#: teams, marginal values, today's configuration and the growth check used 0.0-0.5 s each,
#: while their weights held back 10-23 s (Kent's solve got 37.5 s of 60). Today's
#: configuration and the growth check are fixed-plan solves that took over 3 s on a loaded CI
#: worker (0.3 s quiet): 6 s each. After the solve,
#: each still gets its weight's share of all that is left. The explanation and the Monte
#: Carlo re-solves are whole solves and keep their weights' share.
FOLLOW_UP_RESERVE_S = {
    "localities": 2.0,
    "marginal_values": 2.0,
    "baseline": 6.0,
    "growth_check": 6.0,
}
#: a part given less than this is skipped (it could not finish anything useful) [s]
MIN_PART_S = 0.5
#: the solve is asked to stop this share of its grant early (at most :data:`SOLVE_MARGIN_S`):
#: HiGHS notices its time limit only at its next check, and the plan is then polished and
#: loaded
SOLVE_MARGIN = 0.1
SOLVE_MARGIN_S = 1.0


class RunBudget:
    """One deadline for a whole run: the solve and its follow-ups share ``limit_s``.

    Parts are planned (:meth:`plan`) in the order they will run; each is granted, when it
    starts, its weight's share of what is left among the parts still to come
    (:meth:`grant`), and its time used is recorded when it ends (:meth:`done`). A part whose
    share is below ``minimum`` is skipped (:meth:`grant` returns ``None``) and recorded with
    its reason in :attr:`skipped`. :meth:`timings` is what ``summary.json`` -> ``timings``
    gets (``limit_s``, ``parts``, ``skipped``).

    Loading the inputs and writing the outputs are outside the budget (they take what they
    take); the clock starts when the budget is made (after loading).

    Parameters
    ----------
    limit_s : float or None
        The run's time limit [s]; ``None``: no limit (reproducible mode, where the solves
        stop at work limits instead, :class:`~mdtplan.solve.status.SolveOptions`).
    clock : callable, optional
        Seconds from a monotonic clock (default ``time.perf_counter``).
    """

    def __init__(self, limit_s: float | None, clock=None):
        self.limit_s = None if limit_s is None else float(limit_s)
        self._clock = clock or perf_counter
        self._t0 = self._clock()
        self._pending: list[tuple[str, float]] = []
        self._started: dict[str, float] = {}
        #: part -> {"given_s", "used_s"} (given ``None`` when no limit applies)
        self.parts: dict[str, dict] = {}
        #: [{"part", "reason"}] of the parts skipped for want of time
        self.skipped: list[dict] = []

    @classmethod
    def for_options(cls, options: SolveOptions, clock=None) -> RunBudget:
        """The budget of ``options``: its ``time_limit_s``, or none when reproducible."""
        return cls(None if getattr(options, "reproducible", False) else options.time_limit_s,
                   clock)

    @property
    def limited(self) -> bool:
        return self.limit_s is not None

    def elapsed(self) -> float:
        return self._clock() - self._t0

    def left(self) -> float:
        """Seconds left [s], never negative (infinite without a limit)."""
        if self.limit_s is None:
            return float("inf")
        return max(0.0, self.limit_s - self.elapsed())

    def plan(self, part: str, weight: float | None = None) -> None:
        """Add ``part`` to the parts still to come (its weight from :data:`PART_WEIGHTS`)."""
        if any(p == part for p, _ in self._pending):
            return
        w = PART_WEIGHTS.get(part, 1.0) if weight is None else float(weight)
        self._pending.append((part, w))

    def drop(self, part: str) -> None:
        """``part`` will not run after all (e.g. no plan, so no marginal values): its share
        goes to the others."""
        self._pending = [(p, w) for p, w in self._pending if p != part]

    def share(self, part: str) -> float:
        """What ``part`` would be granted now [s] (infinite without a limit): its weight's
        share of what is left; the solve gets what is left less the follow-ups' reserves
        (each its weight's share, at most :data:`FOLLOW_UP_RESERVE_S` for the light ones)."""
        if self.limit_s is None:
            return float("inf")
        weights = dict(self._pending)
        w = weights.get(part, PART_WEIGHTS.get(part, 1.0))
        total = sum(weights.values()) + (0.0 if part in weights else w)
        left = self.left()
        if total <= 0:
            return left
        if part == "solve":
            reserve = sum(min(left * wo / total, FOLLOW_UP_RESERVE_S.get(p, float("inf")))
                          for p, wo in weights.items() if p != part)
            return max(left - reserve, 0.0)
        return left * w / total

    def grant(self, part: str, minimum: float = MIN_PART_S, cap: float | None = None
              ) -> float | None:
        """Start ``part``: its share of what is left [s] (at most ``cap``), or ``None`` when
        that is below ``minimum`` (the part is then skipped and recorded). Without a limit:
        ``inf`` (``cap`` when given)."""
        seconds = self.share(part)
        if cap is not None:
            seconds = min(seconds, float(cap))
        self.drop(part)
        if self.limit_s is not None and seconds < minimum:
            self.skip(part, f"its share of what was left of the {self.limit_s:g} s time "
                            f"limit was {seconds:.2f} s, less than the {minimum:g} s it needs")
            return None
        self._started[part] = self._clock()
        self.parts[part] = {"given_s": None if self.limit_s is None else seconds,
                            "used_s": None}
        return seconds

    def done(self, part: str) -> None:
        """``part`` ended: record the time it used."""
        t = self._started.pop(part, None)
        if t is not None:
            self.parts[part]["used_s"] = self._clock() - t

    def record(self, part: str, used_s: float) -> None:
        """A part outside the shares (building the model): only its time used."""
        self.parts[part] = {"given_s": None, "used_s": float(used_s)}

    def skip(self, part: str, reason: str) -> None:
        self.drop(part)
        self.skipped.append({"part": part, "reason": reason})

    def timings(self) -> dict:
        """``limit_s`` (``None`` without one), ``parts`` (part -> ``given_s``, ``used_s``),
        ``skipped`` and ``used_s`` (the parts' time used together) [s]."""
        used = sum(p["used_s"] or 0.0 for p in self.parts.values())
        return {"limit_s": self.limit_s, "used_s": used,
                "parts": {k: dict(v) for k, v in self.parts.items()},
                "skipped": [dict(s) for s in self.skipped]}

    def warnings(self) -> list[str]:
        """One sentence per skipped part, for ``summary.json`` -> ``warnings``."""
        return [f"{PART_NAMES.get(s['part'], s['part'])} skipped: {s['reason']} "
                "(give the run longer: --time-limit or solver.time_limit_s)"
                for s in self.skipped]


#: each part in a planner's words
PART_NAMES = {
    "solve": "the solve",
    "localities": "the locality teams",
    "marginal_values": "what the binding rules are worth (marginal values)",
    "explanation": "the explanation of which rules conflict",
    "baseline": "today's configuration (the baseline)",
    "growth_check": "the check against the later year's demand",
    "monte_carlo": "the Monte Carlo re-solves",
}


def start_seconds(options: SolveOptions) -> float:
    """Time the heuristic MIP start may take out of the solve's limit [s]: a fifth of it,
    between 0.5 s and 20 s (and never more than a quarter of what is left). The search
    stops sooner when it stops finding better plans. In reproducible mode a fixed amount
    of work, :data:`~mdtplan.solve.status.REPRODUCIBLE_START_S` worth of units."""
    if getattr(options, "reproducible", False):
        return REPRODUCIBLE_START_S
    return float(min(max(0.2 * float(options.time_limit_s), 0.5), 20.0))


def cancelled_now(cancel: threading.Event | None) -> bool:
    """Whether ``cancel`` is given and set."""
    return cancel is not None and cancel.is_set()

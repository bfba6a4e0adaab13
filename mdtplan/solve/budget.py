"""Time: what is left of a solve's limit, what each part was given, and a cancel's state.

One time limit covers a whole solve (:class:`TimeBudget`): the heuristic start
(:func:`start_seconds`), the rounding cuts, every lexicographic stage and its clean-up LP, and
on a session's first solve also building and compiling the model.
"""

from __future__ import annotations

import threading
from time import perf_counter

from .status import SolveOptions


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


def start_seconds(options: SolveOptions) -> float:
    """Time the heuristic MIP start may take out of the solve's limit [s]: a fifth of it,
    between 0.5 s and 20 s (and never more than a quarter of what is left). The search
    stops sooner when it stops finding better plans."""
    return float(min(max(0.2 * float(options.time_limit_s), 0.5), 20.0))


def cancelled_now(cancel: threading.Event | None) -> bool:
    """Whether ``cancel`` is given and set."""
    return cancel is not None and cancel.is_set()

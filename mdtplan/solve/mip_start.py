"""The MIP start of a solve: which one (given, the previous plan, or the heuristic's), checked
against every compiled row before HiGHS gets it.

A complete feasible start is handed over whole (HiGHS takes it as its first incumbent);
anything else is cut to its binary columns (HiGHS completes the rest). The heuristic itself is
:mod:`mdtplan.solve.start`; its search runs in a second thread while the solve's own thread
makes the rounding cuts (:class:`~mdtplan.solve.job.Job`).

The functions take the :class:`~mdtplan.solve.session.Session` the start is for; they set its
``start_report``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from time import perf_counter

import numpy as np

from .budget import TimeBudget, cancelled_now, start_seconds
from .job import Job
from .status import SolveOptions
from .view import _ViewVar


def initial_start(session, options: SolveOptions, warm_start, budget: TimeBudget | None = None,
                  cancel: threading.Event | None = None, beside: Job | None = None):
    """The MIP start of a solve of ``session`` (see :meth:`Session.solve
    <mdtplan.solve.session.Session.solve>`'s ``warm_start``). A heuristic plan's
    search runs in a second thread while this one runs ``beside`` (the rounding cuts)."""
    if not session.is_mip:
        return None
    # an earlier plan by ids (mdtplan.inputs.prior.PriorPlan: only its positions() is read)
    prior = warm_start if callable(getattr(warm_start, "positions", None)) else None
    if isinstance(warm_start, Mapping):
        return checked_start(session, start_from_mapping(session, warm_start), "given")
    if warm_start is False:
        return None
    if prior is None and session._last_x is not None:
        return previous_or_fresh(session, options, budget, cancel, beside)
    # an earlier plan given is searched from even when the scenario turns the start off
    if (options.warm_start or prior is not None) and hasattr(session._source, "mdtplan_index"):
        # a cancel ends the heuristic's search at once (the solve then stops before HiGHS)
        stop = None if cancel is None else cancel.is_set
        seconds = start_seconds(options)
        # reproducible: units of work only, never cut by what is left of a clock
        fixed = bool(getattr(options, "reproducible", False))
        if budget is not None and not fixed:
            seconds = budget.grant("heuristic start", min(seconds, 0.25 * budget.left()))
        made: dict = {}  # what the model path's search says of the earlier plan
        if not session.has_model:  # no Pyomo model: the plan straight to columns
            from .start import search as start_search  # looked up when called

            inp = session._view.start_input(session._params)
            search = Job(lambda halt: start_search.build_start(
                inp, max_seconds=seconds, seed=int(options.seed), stop=halt,
                deterministic=fixed, prior=prior), stop)
        else:
            from .start import values as start_values  # looked up when called

            search = Job(lambda halt: start_values.greedy_start(
                session._model, max_seconds=seconds, seed=int(options.seed), stop=halt,
                deterministic=fixed, prior=prior, report=made), stop)
        if beside is not None:  # the cuts here, while the search runs in a thread
            beside.context["search_s"] = seconds
            search.tie(beside)
            search.start()
            try:
                beside.result()
            except BaseException:
                search.abandon()
                raise
        try:
            found = search.result()
        except BaseException:  # e.g. Ctrl-C while waiting: the search stops too
            search.abandon()
            raise
        t_check = perf_counter()
        if not session.has_model:
            # already {column: value}, as start_from_mapping would make it
            start = (None if found is None
                     else session._view.start_columns(
                         found, complete=found.feasible and found.whole)) or None
        else:
            start = start_from_mapping(session, found or {})
        start = checked_start(session, start, "heuristic")
        if prior is not None and session.start_report is not None:
            used = made.get("prior") if session.has_model else getattr(found, "prior", None)
            session.start_report["prior"] = {"source": prior.source, **(used or {})}
        if session.start_report is not None:
            # the search's own time (not the cuts', when they took longer beside it)
            session.start_report["seconds"] = search.seconds + (perf_counter() - t_check)
            # made while a cancel was set: its search was cut short
            session.start_report["cancelled"] = cancelled_now(cancel)
        return start
    return None


def previous_or_fresh(session, options: SolveOptions, budget: TimeBudget | None,
                      cancel: threading.Event | None = None, beside: Job | None = None):
    """A re-solve's start: the previous plan, or a fresh heuristic plan for the new numbers
    when that one is feasible and better on the first stage (or the previous plan no
    longer fits). Starting from the previous plan alone can lock a short re-solve in: a
    raised budget cap leaves the old plan feasible but far from the new optimum."""
    n = session._ncols()
    prev_x = np.pad(np.asarray(session._last_x, float), (0, max(0, n - len(session._last_x))))[:n]
    prev = checked_start(session, prev_x, "previous plan")
    prev_report = session.start_report
    if not (options.warm_start and hasattr(session._source, "mdtplan_index")):
        return session._last_x
    session._last_x, saved = None, session._last_x
    try:
        fresh = initial_start(session, options, None, budget, cancel, beside)
    finally:
        session._last_x = saved
    fresh_report = session.start_report
    prev_ok = bool(prev_report and prev_report["feasible"])
    fresh_ok = bool(fresh_report and fresh_report["feasible"])
    # better by more than the slack the tie-break stages leave the first stage
    if fresh_ok and (not prev_ok or fresh_report["objective"] < prev_report["objective"]
                     - 1e-6 * max(1.0, abs(prev_report["objective"])) - 1e-4):
        return fresh
    session.start_report = prev_report
    return session._last_x if prev_ok else prev


def dense_start(start: dict | np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A start as values of the first ``n`` columns and which of them it gives: an array
    (padded with zeros or cut to ``n``: every column given), or ``{column: value}`` (the
    rest 0, not given)."""
    if isinstance(start, np.ndarray):
        return (np.pad(np.asarray(start, float), (0, max(0, n - len(start))))[:n],
                np.ones(n, dtype=bool))
    x = np.zeros(n)
    given = np.zeros(n, dtype=bool)
    idx = np.fromiter(start.keys(), np.int64, len(start))
    x[idx] = np.fromiter(start.values(), float, len(start))
    given[idx] = True
    return x, given


def checked_start(session, start: dict | np.ndarray | None, source: str):
    """Check a MIP start against the compiled columns and rows; keep it whole when it is a
    complete feasible plan, else only its binary columns (HiGHS completes the rest).

    ``start`` is ``{column: value}``, or a value for every column (an array, as a
    re-solve's previous plan: no dict of every column is made); a complete feasible start
    comes back in the form it came in, anything else as ``{column: value}``.

    Sets the session's ``start_report``: ``source``, ``complete`` (every column given), ``feasible``
    (every bound, integrality and row holds, to 1e-6), ``objective`` (the first stage's
    value, when complete), ``violations`` (up to five row or column names); for the
    heuristic start :func:`initial_start` adds ``seconds`` and ``cancelled`` (a cancel
    cut its search short).
    """
    k = session._compiled
    n = session._ncols()
    if not isinstance(start, np.ndarray) and not start:
        session.start_report = None
        return None
    x, given = dense_start(start, n)
    report = {"source": source, "complete": bool(given.all()), "feasible": False,
              "objective": None, "violations": []}
    session.start_report = report
    if not given.all():
        return start
    tol = 1e-6
    bad = [session._col_name(j) for j in np.flatnonzero(
        (x < k.col_lower[:n] - tol) | (x > k.col_upper[:n] + tol)
        | ((k.integrality[:n] != 0) & (np.abs(x - np.round(x)) > tol)))[:5]]
    rows = len(k.row_lower)
    A = _matrix(session)
    act = A @ x if rows else np.zeros(0)
    scale = tol * np.maximum(1.0, np.abs(act))
    viol = np.flatnonzero((act < k.row_lower[:rows] - scale)
                          | (act > k.row_upper[:rows] + scale))
    bad += [session._row_name(i) for i in viol[:5]]
    report["violations"] = bad[:5]
    if bad:
        ints = np.flatnonzero(k.integrality[:n] != 0)
        binary = ints[(k.col_lower[ints] >= 0) & (k.col_upper[ints] <= 1)]
        return {int(j): float(x[j]) for j in binary}
    report["feasible"] = True
    if session._stages:
        _, vec, off, _ = session._stages[0]
        report["objective"] = float(vec @ x[: len(vec)] + off)
    if isinstance(start, np.ndarray):
        return x
    return dict(zip(range(n), x.tolist(), strict=True))


def _matrix(session):
    """The constraint matrix as HiGHS holds it now (rows refreshed or added included)."""
    k = session._compiled
    lp = session.highs.getLp()
    if lp.num_row_ == k.A.shape[0] and lp.num_col_ == k.A.shape[1] and not session._edited:
        return k.A
    from scipy.sparse import csc_matrix

    m = lp.a_matrix_
    return csc_matrix((np.asarray(m.value_), np.asarray(m.index_), np.asarray(m.start_)),
                      shape=(lp.num_row_, lp.num_col_))


def start_from_mapping(session, mapping: dict):
    if not mapping:
        return None
    out = {}
    for key, val in mapping.items():
        if isinstance(key, _ViewVar):
            j = session._view.column(key)
        else:
            j = key if isinstance(key, (int, np.integer)) else session._compiled.col_of.get(
                id(key))
        if j is not None:
            out[int(j)] = float(val)
    return out or None

"""The HiGHS handle: every HiGHS instance mdtplan makes, the process's thread pool, and the
instance a session solves in (:class:`Handle`).

HiGHS has one thread pool per process, shared by every solver call: its size is fixed until it
is reset, and a run that asks for another size fails. :func:`scheduler` resets it only when no
run is going on, else grants the size in use; :func:`run` is ``Highs.run`` under that rule.

A thread that has run HiGHS keeps its own hold on the pool: once another thread has reset the
pool, that thread's next run fails at once ("Not Set", HiGHS 1.15) unless the pool is reset
again from it. So the scheduler also resets, when no run is going on, for a thread whose last
run was on a pool that has been reset since (a solve in a service's or a sweep's worker
thread after one in another thread with another thread count).

:func:`new_highs` makes every HiGHS instance mdtplan uses: quiet, with no banner on stdout.

:class:`Handle` is the instance a :class:`mdtplan.solve.Session` holds: its options and time
limit (with a backstop for MIP phases that overrun it), runs with the thread count the pool
grants, progress and cancel callbacks, and MIP starts. It knows nothing of the model.
"""

from __future__ import annotations

import math
import os
import sys
import threading
from contextlib import contextmanager
from time import perf_counter

import highspy
import numpy as np

_SCHED_LOCK = threading.Lock()
_SCHED = {"threads": None, "active": 0, "generation": 0}
#: per thread: the pool generation of its last run
_LOCAL = threading.local()
_BANNER = {"done": False}


def new_highs() -> highspy.Highs:
    """A new ``highspy.Highs`` with its log off (``output_flag`` false).

    highspy 1.16 prints HiGHS's banner ("Running HiGHS ...") to the process's standard output
    when the first instance is made, before any option can be set: it would land in the middle
    of ``mdtplan solve``'s table and in any output a caller pipes. It is printed once per
    process, so the first instance is made with file descriptor 1 pointed at ``/dev/null``
    (HiGHS writes it from C, below ``sys.stdout``); nothing else is written in that moment
    except, at worst, another thread's line. Where descriptor 1 cannot be moved, the instance is
    made as it is.
    """
    if not _BANNER["done"]:
        with _SCHED_LOCK:
            if not _BANNER["done"]:
                _swallow_banner()
                _BANNER["done"] = True
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    return highs


def _swallow_banner() -> None:
    """Make the process's first HiGHS instance with standard output sent to ``/dev/null``."""
    try:
        sys.stdout.flush()
    except (AttributeError, OSError, ValueError):
        pass
    try:
        saved = os.dup(1)
    except OSError:
        highspy.Highs()
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, 1)
            highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(null)
    finally:
        os.close(saved)


@contextmanager
def scheduler(threads: int):
    """Grant a thread count for one HiGHS run: the one asked for when the pool is idle (it is
    reset to that size), else the size of the pool in use (running solves keep theirs)."""
    with _SCHED_LOCK:
        current = _SCHED["threads"]
        mine = getattr(_LOCAL, "generation", None)
        stale = mine is not None and mine != _SCHED["generation"]
        if (current != threads or stale) and _SCHED["active"] == 0:
            if current is not None:
                highspy.Highs.resetGlobalScheduler(True)
                _SCHED["generation"] += 1
            _SCHED["threads"] = current = threads
        _LOCAL.generation = _SCHED["generation"]
        _SCHED["active"] += 1
    try:
        yield int(current)
    finally:
        with _SCHED_LOCK:
            _SCHED["active"] -= 1


def run(highs, threads: int = 1):
    """``highs.run()`` with the thread count :func:`scheduler` grants."""
    with scheduler(int(threads)) as granted:
        highs.setOptionValue("threads", granted)
        return highs.run()


def relative_gap(value: float, bound: float, shift: float = 0.0) -> float:
    """A stage's gap as the stage loop reckons it: ``(value - bound) / |value + shift|``
    (0 when both are 0, 1 when only the value is), never negative."""
    diff = max(0.0, value - bound)
    denom = abs(value + shift)
    if denom < 1e-10:
        return 0.0 if diff <= 1e-9 else 1.0
    return diff / denom


def with_floor(primal: float, dual: float, gap: float, floor: float | None,
               shift: float = 0.0) -> tuple[float, float]:
    """A progress event's bound and gap with ``floor`` (a bound of the stage known before
    HiGHS ran it, in the stage's units, as ``primal`` and ``dual``) where it is the higher:
    the gap then :func:`relative_gap` of the two (NaN without a plan)."""
    if floor is None or not math.isfinite(floor) or (math.isfinite(dual) and dual >= floor):
        return dual, gap
    if not math.isfinite(primal):
        return floor, math.nan
    return floor, relative_gap(primal, floor, shift)


_MS = highspy.HighsModelStatus
#: HiGHS's own default ``mip_abs_gap``
HIGHS_ABS_GAP = 1e-6
#: HiGHS's "no limit" for integer limits (``mip_max_nodes``' default)
MAX_INT = 2_147_483_647

#: staffed models with at least this many rows solve their root LP by interior point
IPM_ROOT_ROWS = 5000

#: a MIP with a time limit and at least this many rows runs on one thread. With more, HiGHS
#: starts its analytic centre (an interior-point run of up to 200 iterations that has no
#: time limit) beside the root and waits for it after the root's cuts: on Medway's LSOA
#: model (40,854 rows) it ran 40-50 s past a 38 s stage limit with two threads (three runs
#: of three went 84-94 s on a 60 s limit); on one thread the task is not started when the
#: time limit stops the root first (two runs of two ended at 49 s). HiGHS 1.15's branch and
#: bound is serial ("parallel search off"), so the second thread bought nothing else.
ONE_THREAD_ROWS = 20_000


def root_lp_solver(staffed: bool, rows: int, contiguous: bool = False) -> str:
    """``mip_lp_solver`` for the first (root) LP of a MIP: ``"ipm"`` for a staffed model
    of :data:`IPM_ROOT_ROWS` rows or more without contiguity flows, else HiGHS's choice
    (dual simplex).

    Measured on a 2-core machine, LP relaxations alone, one thread, side by side in one run
    (2026-12-06, docs/benchmarks.md "Root LP"): staffed models *without* contiguous
    catchments solve 1.3-5x faster by interior point (Kent LSOA 19.7 s against 99.7 s; Kent
    MSOA 0.8 s against 1.7 s); p-median roots 20x slower (pmed20: 29 s against 1.3 s). With
    contiguous catchments (Shirabe's flow columns) dual simplex is 1.9-10x faster on every
    council example (Medway 11.6 s against 120 s, Kent 1.1 s against 11.0 s; Kent LSOA 127 s
    against more than 300 s). Later LPs always start from a basis (dual simplex).
    """
    return "ipm" if staffed and not contiguous and rows >= IPM_ROOT_ROWS else "choose"


class Handle:
    """The HiGHS instance a session solves in (:attr:`highs`), and how it is run.

    Parameters
    ----------
    threads : int
        HiGHS threads asked for each run (the pool may grant another count: :func:`run`).
    """

    #: seconds past a run's time limit after which the MIP is interrupted (plus 2% of it)
    DEADLINE_GRACE_S = 1.0

    def __init__(self, threads: int):
        self.highs = new_highs()
        self.threads = int(threads)
        #: when the running MIP is interrupted (``perf_counter`` seconds), or None
        self.deadline: float | None = None
        #: reproducible mode: the MIP is interrupted after this many of HiGHS's interrupt
        #: checks in one run (a deterministic count of work), or None
        self.check_limit: int | None = None
        #: HiGHS's interrupt checks in the current run
        self.checks = 0
        #: no progress events from the runs while set (a run whose plans are not the stage's)
        self.quiet = False
        #: the next runs are a large MIP with a time limit: one thread (:data:`ONE_THREAD_ROWS`)
        self.one_thread = False
        #: runs made on one thread by that rule where more were asked
        self.one_thread_runs = 0
        self.configure_base()

    def configure_base(self) -> None:
        h = self.highs
        # keep output on (so the MIP logging callback fires) but never print
        h.setOptionValue("output_flag", True)
        h.setOptionValue("log_to_console", False)
        h.setOptionValue("log_file", "")

    def set_time_limit(self, seconds: float, *, lp: bool) -> None:
        """Allow ``seconds`` more for the next run.

        HiGHS times a MIP run on its own, but checks an LP run against its cumulative run
        clock (``getRunTime``), so an LP after a long MIP would stop at once without this.
        """
        seconds = max(float(seconds), 0.0)
        # a backstop for MIP phases that overrun HiGHS's own limit: interrupted at this time
        self.deadline = perf_counter() + seconds + self.DEADLINE_GRACE_S + 0.02 * seconds
        if lp:
            seconds += float(self.highs.getRunTime())
        self.highs.setOptionValue("time_limit", seconds)

    def apply_options(self, options, time_limit: float, *, mip: bool, root_lp: str,
                      abs_gap: float | None = None) -> None:
        """A stage's options (:class:`~mdtplan.solve.status.SolveOptions`) and time limit [s];
        ``root_lp`` is :func:`root_lp_solver`'s choice for a MIP; ``abs_gap`` its
        ``mip_abs_gap`` (HiGHS's default when None)."""
        h = self.highs
        reproducible = bool(getattr(options, "reproducible", False))
        # reproducible: a node count, not seconds, ends a MIP (ERGO-Code/HiGHS#3133: HiGHS
        # has no deterministic work limit; its maintainers name mip_max_nodes as the one
        # deterministic measure well correlated with time)
        self.set_time_limit(float("inf") if reproducible else time_limit, lp=not mip)
        self.one_thread = bool(mip and not reproducible and np.isfinite(time_limit)
                               and h.getNumRow() >= ONE_THREAD_ROWS)
        h.setOptionValue("mip_max_nodes", int(options.node_limit) if reproducible
                         else MAX_INT)
        # the root node (cut rounds, heuristics) has no node to count: HiGHS's interrupt
        # checks are counted instead, at the same points of its work on any machine
        self.check_limit = int(options.check_limit) if reproducible else None
        self.checks = 0
        h.setOptionValue("mip_rel_gap", float(options.mip_gap))
        h.setOptionValue("random_seed", int(options.seed))
        h.setOptionValue("presolve", "on" if options.presolve else "off")
        if mip:
            h.setOptionValue("mip_lp_solver", root_lp)
            h.setOptionValue("mip_abs_gap", HIGHS_ABS_GAP if abs_gap is None else abs_gap)

    def run(self, threads: int | None = None):
        """``Highs.run`` with the thread count the process-wide HiGHS scheduler allows (one
        for a large MIP with a time limit: :data:`ONE_THREAD_ROWS`)."""
        threads = int(threads or self.threads)
        if self.one_thread and threads > 1:
            threads, self.one_thread_runs = 1, self.one_thread_runs + 1
        with scheduler(threads) as granted:
            self.highs.setOptionValue("threads", granted)
            return self.highs.run()

    def set_start(self, start, n: int) -> None:
        """Give HiGHS a MIP start: ``{column: value}``, or a value for each of the ``n``
        columns."""
        h = self.highs
        if isinstance(start, dict):
            idx = np.fromiter(start.keys(), np.int32, len(start))
            val = np.fromiter(start.values(), float, len(start))
            h.setSolution(len(idx), idx, val)
            return
        x = np.pad(np.asarray(start, float), (0, max(0, n - len(start))))[:n]
        sol = highspy.HighsSolution()
        sol.col_value = x
        sol.value_valid = True
        h.setSolution(sol)

    def status_message(self, stage: str, model_status) -> str:
        if model_status == _MS.kInfeasible or model_status == _MS.kUnboundedOrInfeasible:
            return "infeasible: no plan satisfies every rule"
        if model_status == _MS.kTimeLimit:
            return f"time limit reached before a plan was found (stage '{stage}')"
        return f"HiGHS: {self.highs.modelStatusToString(model_status)} (stage '{stage}')"

    def install_callbacks(self, progress, cancel, state) -> None:
        """Progress events to ``progress``, a set ``cancel`` interrupting the run, and the
        :attr:`deadline` backstop; ``state`` is the solve's (``stage``, ``shift``, ``floor``:
        the stage's bound known before HiGHS runs it, in its own units; the callbacks set
        ``cancelled`` and ``overran``)."""
        h = self.highs
        h.clearCallbacks() if hasattr(h, "clearCallbacks") else None
        if progress is not None:
            def _emit(kind, e):
                if self.quiet:
                    return
                try:
                    d = e.data_out
                    shift = state.get("shift", 0.0)
                    primal = (float(d.mip_primal_bound) if kind == "log" else float(
                        d.objective_function_value)) - shift
                    dual = float(d.mip_dual_bound) - shift
                    gap = float(d.mip_gap)
                    dual, gap = with_floor(primal, dual, gap, state.get("floor"), shift)
                    elapsed = float(d.running_time)
                    event = {
                        "stage": "solve", "objective_stage": state["stage"], "event": kind,
                        "primal": primal if math.isfinite(primal) else None,
                        "dual": dual if math.isfinite(dual) else None,
                        "gap": gap if math.isfinite(gap) else None,
                        "elapsed_s": elapsed, "nodes": int(d.mip_node_count),
                    }
                    event["message"] = _progress_message(event)
                    progress(event)
                except Exception:  # noqa: BLE001 - never unwind through HiGHS
                    pass

            h.cbMipImprovingSolution.subscribe(lambda e: _emit("improving", e))
            h.cbMipLogging.subscribe(lambda e: _emit("log", e))
        def _cancelled() -> bool:
            if cancel is not None and cancel.is_set():
                state["cancelled"] = True
                return True
            return False

        # the flag is set either way: HiGHS keeps it from one run to the next
        def _interrupt(e):
            e.interrupt(_cancelled())

        def _mip_interrupt(e):
            stop = _cancelled()
            if self.check_limit is not None and _has_plan(e):
                self.checks += 1  # counted once a plan is in hand: a run never ends planless
            if not stop and self.check_limit is not None and self.checks > self.check_limit:
                state["work_limit"] = stop = True
            if not stop and self.deadline is not None and perf_counter() > self.deadline:
                state["overran"] = stop = True
            e.interrupt(stop)

        # the MIP check is cheap (nodes, cut rounds); LP iterations are checked only to cancel
        h.cbMipInterrupt.subscribe(_mip_interrupt)
        if cancel is not None:
            h.cbSimplexInterrupt.subscribe(_interrupt)
            h.cbIpmInterrupt.subscribe(_interrupt)

    def close(self) -> None:
        """Free the HiGHS model."""
        self.highs.clear()


def _has_plan(e) -> bool:
    """Whether HiGHS holds a plan at this callback (a finite primal bound)."""
    try:
        return math.isfinite(float(e.data_out.mip_primal_bound))
    except Exception:  # noqa: BLE001 - never unwind through HiGHS
        return False


def _progress_message(event: dict) -> str:
    parts = [f"{event['objective_stage']}:"]
    if event.get("primal") is not None:
        parts.append(f"best {event['primal']:,.6g}")
    if event.get("dual") is not None:
        parts.append(f"bound {event['dual']:,.6g}")
    if event.get("gap") is not None:
        parts.append(f"gap {100 * event['gap']:.2f}%")
    parts.append(f"{event['elapsed_s']:.1f}s")
    return " ".join(parts)

"""HiGHS's thread pool, shared by every solver call in the process.

HiGHS has one thread pool per process: its size is fixed until it is reset, and a run that asks
for another size fails. :func:`scheduler` resets it only when no run is going on, else grants
the size in use; :func:`run` is ``Highs.run`` under that rule.

A thread that has run HiGHS keeps its own hold on the pool: once another thread has reset the
pool, that thread's next run fails at once ("Not Set", HiGHS 1.15) unless the pool is reset
again from it. So the scheduler also resets, when no run is going on, for a thread whose last
run was on a pool that has been reset since (a solve in a service's or a sweep's worker
thread after one in another thread with another thread count).

:func:`new_highs` makes every HiGHS instance mdtplan uses: quiet, with no banner on stdout.
"""

from __future__ import annotations

import os
import sys
import threading
from contextlib import contextmanager

import highspy

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

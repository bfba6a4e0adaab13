"""HiGHS's thread pool, shared by every solver call in the process.

HiGHS has one thread pool per process: its size is fixed until it is reset, and a run that asks
for another size fails. :func:`scheduler` resets it only when no run is going on, else grants
the size in use; :func:`run` is ``Highs.run`` under that rule.

A thread that has run HiGHS keeps its own hold on the pool: once another thread has reset the
pool, that thread's next run fails at once ("Not Set", HiGHS 1.15) unless the pool is reset
again from it. So the scheduler also resets, when no run is going on, for a thread whose last
run was on a pool that has been reset since (a solve in a service's or a sweep's worker
thread after one in another thread with another thread count).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

import highspy

_SCHED_LOCK = threading.Lock()
_SCHED = {"threads": None, "active": 0, "generation": 0}
#: per thread: the pool generation of its last run
_LOCAL = threading.local()


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

"""HiGHS's thread pool, shared by every solver call in the process.

HiGHS has one thread pool per process: its size is fixed until it is reset, and a run that asks
for another size fails. :func:`scheduler` resets it only when no run is going on, else grants
the size in use; :func:`run` is ``Highs.run`` under that rule.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

import highspy

_SCHED_LOCK = threading.Lock()
_SCHED = {"threads": None, "active": 0}


@contextmanager
def scheduler(threads: int):
    """Grant a thread count for one HiGHS run: the one asked for when the pool is idle (it is
    reset to that size), else the size of the pool in use (running solves keep theirs)."""
    with _SCHED_LOCK:
        current = _SCHED["threads"]
        if current != threads and _SCHED["active"] == 0:
            if current is not None:
                highspy.Highs.resetGlobalScheduler(True)
            _SCHED["threads"] = current = threads
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

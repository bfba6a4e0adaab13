"""Work in a second thread beside the solve's own: the heuristic start's search while the
solve's thread makes the rounding cuts (:class:`Job`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from time import perf_counter


class Job:
    """Work that may run in a second thread while this one does other work: the heuristic
    start's search (Python and numpy, no solver) while this thread makes the rounding cuts
    (HiGHS site MIPs, which let go of the GIL while they solve), so the two share the
    machine's cores and the solve waits for the longer of them, not their sum. Each is made
    from the model alone, so the start and the rows are the ones made one after the other;
    every HiGHS run stays in the solve's own thread.

    ``fn(stop)`` is the work; ``stop()`` is true once :meth:`abandon` was called, a job
    that :meth:`tie` bound it to failed, or the caller's own stop says so. :meth:`start` runs
    it in a thread; :meth:`result` waits for it (or runs it here when it was never started,
    and once only) and raises what it raised. :attr:`seconds`: how long the work ran.
    """

    seconds = 0.0

    def __init__(self, fn: Callable, stop: Callable[[], bool] | None = None):
        self._fn = fn
        self._outer = stop
        self._abandoned = threading.Event()
        self._thread: threading.Thread | None = None
        self._done = False
        self._out = None
        self._err: BaseException | None = None
        self._tied: list[threading.Event] = []
        #: what the other side tells the work before it runs (e.g. the search's grant)
        self.context: dict = {}

    def tie(self, other: Job) -> None:
        """Stop ``other`` at its next check when this job fails."""
        self._tied.append(other._abandoned)

    def stop(self) -> bool:
        return self._abandoned.is_set() or bool(self._outer is not None and self._outer())

    def _call(self) -> None:
        t = perf_counter()
        try:
            self._out = self._fn(self.stop)
        except BaseException as err:  # noqa: BLE001 - raised again by result()
            self._err = err
            for event in self._tied:
                event.set()
        finally:
            self.seconds = perf_counter() - t
            self._done = True

    def start(self) -> None:
        if self._thread is None and not self._done:
            self._thread = threading.Thread(target=self._call, name="mdtplan-start",
                                            daemon=True)
            self._thread.start()

    def abandon(self) -> None:
        """Ask the work to stop at its next check, and wait for it."""
        self._abandoned.set()
        if self._thread is not None:
            self._thread.join()

    def result(self):
        if self._thread is not None:
            self._thread.join()
        elif not self._done:
            self._call()
        if self._err is not None:
            raise self._err
        return self._out

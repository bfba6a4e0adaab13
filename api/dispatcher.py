"""The dispatcher: starts queued jobs in worker processes and looks after them.

It lives in the server process. It starts queued jobs while fewer than ``workers`` run (each
in a worker process, :mod:`api.worker`), reaps ended workers, kills one past its hard limit
(``job_time_limit_s + job_kill_grace_s``) or slow to cancel, and on start puts back every job a
stopped server left behind (re-queued while it has attempts left, else failed with the reason).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from .settings import Settings
from .store import CANCELLED, CANCELLING, FAILED, Store
from .worker import WORKER_MODULE, child_env, worker_command

log = logging.getLogger("mdtplan.jobs")  # the logger name of the job machinery, as before it moved

_WORKER_MARKS = (WORKER_MODULE.encode(), b"mdtplan.jobs")
"""What a worker's command line names: this module's, and the one before it moved to api/
(a worker left by a server of the earlier version is still recognised and stopped)."""


@dataclass
class _Worker:
    job_id: str
    attempt: int
    proc: subprocess.Popen
    started: float
    log_file: IO[bytes]
    kill_reason: str | None = None
    kill_status: str = FAILED
    cancelling_since: float | None = None
    extra: dict = field(default_factory=dict)


def _pid_is_our_worker(pid: int | None, job_id: str) -> bool:
    if not pid:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return False  # alive, but we cannot tell whose it is: leave it alone
    return any(m in cmdline for m in _WORKER_MARKS) and job_id.encode() in cmdline


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class Dispatcher:
    """Starts queued jobs in worker processes and looks after them.

    Parameters
    ----------
    store : Store
    settings : Settings
    """

    def __init__(self, store: Store, settings: Settings):
        self.store = store
        self.settings = settings
        self.host = socket.gethostname()
        self._workers: dict[str, _Worker] = {}
        self._wake = threading.Event()
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.last_tick: float | None = None

    # -- life cycle
    def start(self) -> None:
        """Put back what a stopped server left, then start the dispatch loop."""
        self.recover()
        self._thread = threading.Thread(target=self._loop, name="mdtplan-dispatcher",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop dispatching; stop running workers and re-queue (or fail) their jobs."""
        self._halt.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout_s)
        with self._lock:
            workers = list(self._workers.values())
            self._workers.clear()
        for w in workers:
            _terminate(w.proc)
            self.store.requeue_or_fail(w.job_id, w.attempt, "server stopped during the solve",
                                       self.settings.max_attempts)
            w.log_file.close()

    def wake(self) -> None:
        """Look for queued work now rather than at the next tick."""
        self._wake.set()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def running(self) -> int:
        return len(self._workers)

    def recover(self) -> list[tuple[str, str]]:
        """Every job a stopped server left ``running`` or ``cancelling`` is re-queued, failed
        or cancelled; a worker of it still alive on this host is killed first.

        Returns ``[(job_id, new status)]``.
        """
        changed = []
        for job in self.store.active_jobs():
            if job.worker_host in (None, self.host) and _pid_is_our_worker(job.worker_pid,
                                                                           job.id):
                try:
                    os.kill(job.worker_pid, signal.SIGKILL)
                except OSError:
                    pass
            new = self.store.requeue_or_fail(job.id, job.attempts,
                                             "server stopped during the solve",
                                             self.settings.max_attempts)
            if new:
                log.warning("job %s left by a stopped server: now %s", job.id, new)
                changed.append((job.id, new))
        return changed

    # -- the loop
    def _loop(self) -> None:
        while not self._halt.is_set():
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - the dispatcher must outlive a bad tick
                log.exception("dispatcher tick failed")
            self._wake.wait(self.settings.dispatch_interval_s)
            self._wake.clear()

    def tick(self) -> None:
        """One round: reap ended workers, enforce limits, start queued jobs."""
        self.last_tick = time.time()
        self._reap()
        self._enforce_limits()
        while len(self._workers) < self.settings.workers and not self._halt.is_set():
            job = self.store.claim_next(host=self.host)
            if job is None:
                break
            self._spawn(job)

    def _spawn(self, job) -> None:
        result_dir = self.settings.results_dir / job.id
        result_dir.mkdir(parents=True, exist_ok=True)
        log_file = open(result_dir / f"worker-{job.attempts}.log", "ab")  # noqa: SIM115
        env = child_env()
        env["MDTPLAN_DB_URL"] = self.store.url
        cmd = worker_command(job.id, job.attempts, result_dir=result_dir,
                             time_limit_s=self.settings.job_time_limit_s,
                             progress_interval_s=self.settings.progress_interval_s,
                             parent_pid=os.getpid())
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log_file,
                                    stderr=subprocess.STDOUT, env=env)
        except OSError as err:
            log_file.close()
            self.store.finish(job.id, job.attempts, FAILED,
                              message=f"could not start a worker: {err}")
            return
        self.store.set_worker(job.id, job.attempts, proc.pid, str(result_dir))
        with self._lock:
            self._workers[job.id] = _Worker(job.id, job.attempts, proc, time.monotonic(),
                                            log_file)

    def _reap(self) -> None:
        for w in list(self._workers.values()):
            code = w.proc.poll()
            if code is None:
                continue
            with self._lock:
                self._workers.pop(w.job_id, None)
            w.log_file.close()
            if w.kill_reason is not None:
                self.store.finish(w.job_id, w.attempt, w.kill_status, message=w.kill_reason,
                                  progress={"stage": w.kill_status, "message": w.kill_reason})
            elif code < 0:
                # killed by a signal it did not ask for (the kernel's out-of-memory killer, an
                # operator): like a crashed server, run it again while attempts are left
                name = _signal_name(-code)
                new = self.store.requeue_or_fail(
                    w.job_id, w.attempt, f"the worker process was killed by the system "
                    f"({name}; often a lack of memory)", self.settings.max_attempts)
                log.warning("worker of job %s killed by %s: now %s", w.job_id, name, new)
            else:
                # a worker that ended without recording its outcome crashed
                self.store.finish(w.job_id, w.attempt, FAILED,
                                  message=f"the worker process ended (exit code {code}) "
                                          "without a result; see its log")

    def _enforce_limits(self) -> None:
        if not self._workers:
            return
        now = time.monotonic()
        hard = self.settings.job_time_limit_s + self.settings.job_kill_grace_s
        states = self.store.statuses(list(self._workers))
        for w in list(self._workers.values()):
            if w.kill_reason is not None:
                continue
            status, _ = states.get(w.job_id, (None, None))
            if status == CANCELLING:
                w.cancelling_since = w.cancelling_since or now
                if now - w.cancelling_since > self.settings.cancel_grace_s:
                    w.kill_reason, w.kill_status = "cancelled (worker stopped)", CANCELLED
                    w.proc.kill()
            elif now - w.started > hard:
                w.kill_reason = (f"time limit exceeded: stopped after {hard:g} s "
                                 f"(job limit {self.settings.job_time_limit_s:g} s)")
                w.proc.kill()


def _terminate(proc: subprocess.Popen, wait_s: float = 5.0) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(wait_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(wait_s)

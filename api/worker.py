"""What runs one job: the worker process, started by the dispatcher for each attempt.

Each job runs in its own process (``python -m api.worker run JOB_ID``, see
:func:`worker_command`), so a long solve never holds up the HTTP server, a crash takes only that
job with it, and a hard time limit is a kill (:mod:`api.dispatcher`).

The worker loads the job's scenario from the store, binds its dataset ids to the uploaded files
(:func:`api.bind.bound_scenario_doc`), calls :func:`mdtplan.pipeline.run`, writes the outputs
into the job's result folder and the summary into the job's row. A monitor thread writes
progress (at most one write per ``progress_interval_s``), sees a cancel request in the row and
sets the :class:`threading.Event` given to ``run``, and stops the worker if its server has gone.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path

from mdtplan.errors import MdtplanError

from .bind import bound_scenario_doc
from .settings import Settings
from .store import CANCELLED, CANCELLING, FAILED, FINISHED, RUNNING, Store

log = logging.getLogger("mdtplan.jobs")  # the logger name of the job machinery, as before it moved

WORKER_MODULE = "api.worker"
"""The module a worker process runs (``python -m api.worker``)."""

EXIT_LOST = 75
"""Worker exit code when its server went away or the job was taken from it."""


def child_env() -> dict[str, str]:
    """The environment of a helper process: this copy of the code first on ``PYTHONPATH``."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def worker_command(job_id: str, attempt: int, *, result_dir: Path, time_limit_s: float,
                   progress_interval_s: float, parent_pid: int) -> list[str]:
    """The command line that runs one claimed attempt of a job in a worker process."""
    return [sys.executable, "-m", WORKER_MODULE, "run", job_id,
            "--attempt", str(attempt), "--result-dir", str(result_dir),
            "--time-limit", repr(float(time_limit_s)),
            "--progress-interval", repr(float(progress_interval_s)),
            "--parent-pid", str(parent_pid)]


class _Monitor(threading.Thread):
    """Writes throttled progress, watches the job row for a cancel, and the parent process."""

    def __init__(self, store: Store, job_id: str, attempt: int, interval_s: float,
                 cancel: threading.Event, parent_pid: int | None):
        super().__init__(name=f"monitor-{job_id}", daemon=True)
        self.store, self.job_id, self.attempt = store, job_id, attempt
        self.interval_s = interval_s
        self.cancel = cancel
        self.parent_pid = parent_pid
        self.cancel_requested = False
        self.lost = False
        self.loading = False  # while the inputs load, nothing can be kept: a cancel ends it
        self._latest: dict | None = None
        self._lock = threading.Lock()
        self._halt = threading.Event()

    def progress(self, event: dict) -> None:
        """The ``progress`` callback given to the pipeline (cheap: only remembers)."""
        keep = {k: event[k] for k in ("stage", "message", "primal", "dual", "gap",
                                      "elapsed_s", "nodes", "objective_stage") if k in event}
        keep["at"] = time.time()
        with self._lock:
            self._latest = keep

    def flush(self) -> None:
        with self._lock:
            latest, self._latest = self._latest, None
        try:
            status = self.store.update_progress(self.job_id, self.attempt, latest)
        except Exception as err:  # noqa: BLE001 - a busy database must not kill the solve
            log.warning("progress write failed: %s", err)
            with self._lock:
                self._latest = self._latest or latest
            return
        if status is None:
            self.lost = True
            self.cancel.set()
        elif status == CANCELLING:
            self.cancel_requested = True
            self.cancel.set()
            if self.loading:
                # reading the inputs cannot be interrupted from here, and there is no plan to
                # keep: end the job now rather than after the inputs have loaded
                self.store.finish(self.job_id, self.attempt, CANCELLED,
                                  message="cancelled while loading its inputs",
                                  progress={"stage": "cancelled", "message": "cancelled"})
                os._exit(0)

    def run(self) -> None:
        while not self._halt.wait(self.interval_s):
            if self.parent_pid is not None and os.getppid() != self.parent_pid:
                log.error("server process %s is gone: stopping", self.parent_pid)
                os._exit(EXIT_LOST)
            self.flush()

    def stop(self) -> None:
        self._halt.set()
        if self.is_alive():
            self.join(timeout=5)


def _die_with_parent(parent_pid: int | None) -> None:
    """Linux: have the kernel kill this worker when its server dies (PR_SET_PDEATHSIG)."""
    if parent_pid is None or not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except OSError:
        return
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(EXIT_LOST)


def write_areas_geojson(inputs, assignment, hubs, path: Path) -> Path | None:
    """Areas with the hub that serves them, as GeoJSON in EPSG:4326.

    Each feature has ``area_id``, ``name``, ``group``, ``population``, ``site_id`` (the hub with
    the largest share), ``hub_name``, ``share`` and ``travel_cost``.
    """
    areas = inputs.areas
    if areas.geometry.isna().all() or areas.crs is None:
        return None
    frame = areas[["name", "group", "population", "geometry"]].copy()
    frame.index = frame.index.astype(str)
    frame.index.name = "area_id"
    if not assignment.empty:
        a = assignment.copy()
        a["area_id"] = a["area_id"].astype(str)
        a = a.sort_values("share", ascending=False).drop_duplicates("area_id")
        a = a.set_index("area_id")
        keep = [c for c in ("site_id", "share", "travel_cost") if c in a.columns]
        frame = frame.join(a[keep])
        if not hubs.empty and "name" in hubs.columns:
            names = hubs.assign(site_id=hubs["site_id"].astype(str)).set_index("site_id")["name"]
            frame["hub_name"] = frame["site_id"].map(names)
    frame = frame.reset_index().to_crs("EPSG:4326")
    path.write_text(frame.to_json(na="null", drop_id=True), encoding="utf-8")
    return path


def _earlier_plan(store: Store, job) -> tuple[object | None, str | None]:
    """``(plan, None)``: the plan of the scenario ``job`` starts from (a what-if), or
    ``(None, why)`` when it was asked for and is gone (deleted, or its files missing): the job
    is then solved cold and its summary says why; ``(None, None)`` when none was asked for."""
    from mdtplan.errors import MdtplanError
    from mdtplan.pipeline import earlier_plan

    ident = getattr(job, "start_from", None)
    if not ident:
        return None, None
    earlier = store.get_job(ident)
    if earlier is None or not earlier.result_dir:
        return None, (f"scenario {ident}'s plan is no longer stored: solved from a fresh start "
                      "instead")
    try:
        return earlier_plan(earlier.result_dir, f"scenario '{earlier.name}' ({earlier.id})"), None
    except MdtplanError as err:
        why = err.problems[0].message if err.problems else str(err)
        return None, (f"scenario {ident}'s plan could not be read ({why}): solved from a "
                      "fresh start instead")


def run_job(store: Store, job_id: str, attempt: int, *, result_dir: Path,
            time_limit_s: float, progress_interval_s: float = 0.5,
            parent_pid: int | None = None) -> int:
    """Run one claimed job to its end and record the outcome; return an exit code.

    Parameters
    ----------
    store : Store
    job_id : str
    attempt : int
        The attempt number the dispatcher claimed; writes for another attempt are refused.
    result_dir : Path
        Where the outputs go.
    time_limit_s : float
        The service's per-job limit [s]; the scenario's ``solver.time_limit_s`` is capped by it.
    progress_interval_s : float
        Minimum time between progress writes [s].
    parent_pid : int, optional
        The server's process id: the worker stops if it goes away.
    """
    from mdtplan.outputs import write_outputs
    from mdtplan.pipeline import prepare, run, solve_options_for, with_warnings
    from mdtplan.scenario import parse_scenario

    job = store.get_job(job_id)
    if job is None or job.attempts != attempt or job.status not in (RUNNING, CANCELLING):
        return EXIT_LOST
    store.set_worker(job_id, attempt, os.getpid(), str(result_dir))
    cancel = threading.Event()
    monitor = _Monitor(store, job_id, attempt, progress_interval_s, cancel, parent_pid)
    monitor.progress({"stage": "load", "message": "loading inputs"})
    monitor.flush()
    monitor.start()

    try:
        scenario = parse_scenario(bound_scenario_doc(store, job.scenario))
        # the service's limit bounds the whole run after loading (the solve and its
        # follow-ups share it: mdtplan.solve.budget.RunBudget)
        limit = min(scenario.solver.time_limit_s, time_limit_s)
        options = solve_options_for(scenario, time_limit_s=limit)
        monitor.loading = True
        prepared = prepare(scenario, progress=monitor.progress)
        monitor.loading = False
        if cancel.is_set():
            monitor.stop()
            store.finish(job_id, attempt, CANCELLED, message="cancelled before the solve",
                         progress={"stage": "cancelled", "message": "cancelled"})
            return 0
        prior, unused = _earlier_plan(store, job)
        result = run(scenario, options=options, progress=monitor.progress, cancel=cancel,
                     prepared=prepared, start_from=prior)
        if unused:  # asked for, not found: solved cold, and said so
            result = with_warnings(result, [unused])
        monitor.stop()
        if monitor.lost:
            return EXIT_LOST
        store.update_progress(job_id, attempt, {
            "stage": "done", "at": time.time(),
            "message": "writing the results" + (" of the plan kept" if monitor.cancel_requested
                                                else "")})
        results = result.results
        result_dir.mkdir(parents=True, exist_ok=True)
        write_outputs(results, result_dir, inputs=prepared.inputs, scenario_doc=job.scenario,
                      map_back_link=(f"/scenarios/{job_id}", "Back to the scenario"))
        try:
            write_areas_geojson(prepared.inputs, results.assignment, results.hubs,
                                result_dir / "areas.geojson")
        except Exception as err:  # noqa: BLE001 - the GeoJSON is a convenience
            log.warning("areas.geojson not written: %s", err)
        report = results.summary.report
        status = CANCELLED if monitor.cancel_requested else FINISHED
        problems = [p.to_dict() for p in result.explanation] or None
        message = (cancel_message(results.summary) if status == CANCELLED
                   else report.message or report.status)
        store.finish(job_id, attempt, status, summary=results.summary.to_dict(),
                     problems=problems, message=message, result_dir=str(result_dir),
                     progress={"stage": "done" if status == FINISHED else "cancelled",
                               "message": report.status})
        return 0
    except MdtplanError as err:
        monitor.stop()
        store.finish(job_id, attempt, FAILED, problems=[p.to_dict() for p in err.problems],
                     message=err.problems[0].message if err.problems else str(err),
                     progress={"stage": "failed", "message": "invalid input"})
        return err.exit_code
    except Exception as err:  # noqa: BLE001 - the shell records every failure
        monitor.stop()
        traceback.print_exc()
        store.finish(job_id, attempt, FAILED,
                     message=f"unexpected error: {type(err).__name__}: {err}",
                     progress={"stage": "failed", "message": "unexpected error"})
        return 1


def cancel_message(summary) -> str:
    """What a cancelled job keeps, truthfully: the best plan so far, or nothing."""
    hubs = summary.hubs.count
    if not hubs:
        return "cancelled before any plan was found: there is no plan to keep"
    gap = summary.report.mip_gap
    quality = (f", at most {gap:.1%} from the best possible" if isinstance(gap, float)
               and gap < 1 else ", not proven near the best possible")
    return f"cancelled; the best plan found so far is kept ({hubs} hubs{quality})"


def main(argv: list[str] | None = None) -> int:
    """``python -m api.worker run JOB_ID --attempt N --result-dir DIR ...``."""
    parser = argparse.ArgumentParser(prog=f"python -m {WORKER_MODULE}")
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="run one claimed job")
    p_run.add_argument("job_id")
    p_run.add_argument("--db", default=None, help="SQLAlchemy URL (default: settings)")
    p_run.add_argument("--attempt", type=int, required=True)
    p_run.add_argument("--result-dir", required=True)
    p_run.add_argument("--time-limit", type=float, default=None)
    p_run.add_argument("--progress-interval", type=float, default=None)
    p_run.add_argument("--parent-pid", type=int, default=None)
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    _die_with_parent(args.parent_pid)
    settings = Settings()
    store = Store(args.db or settings.database_url)
    try:
        return run_job(store, args.job_id, args.attempt, result_dir=Path(args.result_dir),
                       time_limit_s=args.time_limit or settings.job_time_limit_s,
                       progress_interval_s=args.progress_interval or settings.progress_interval_s,
                       parent_pid=args.parent_pid)
    finally:
        store.dispose()


if __name__ == "__main__":
    sys.exit(main())

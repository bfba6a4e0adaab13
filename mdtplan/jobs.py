"""Running stored jobs in worker processes: the worker, the dispatcher and their helpers.

Each job runs in its own process (``python -m mdtplan.jobs run JOB_ID``), so a long solve never
holds up the HTTP server, a crash takes only that job with it, and a hard time limit is a kill.

The worker
    loads the job's scenario from the store, binds its dataset ids to the uploaded files, calls
    :func:`mdtplan.pipeline.run`, writes the outputs into the job's result folder and the
    summary into the job's row. A monitor thread writes progress (at most one write per
    ``progress_interval_s``), sees a cancel request in the row and sets the
    :class:`threading.Event` given to ``run``, and stops the worker if its server has gone.
The dispatcher
    lives in the server: it starts queued jobs while fewer than ``workers`` run, reaps ended
    workers, kills one past its hard limit (``job_time_limit_s + job_kill_grace_s``) or slow to
    cancel, and on start puts back every job a stopped server left behind (re-queued while it
    has attempts left, else failed with the reason).
Checks
    ``python -m mdtplan.jobs check`` (a scenario document on stdin) and
    ``python -m mdtplan.jobs inspect PATH`` read user files in a throw-away process too, so a
    malformed upload cannot crash or stall the server.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from api.settings import Settings
from api.store import CANCELLED, CANCELLING, FAILED, FINISHED, RUNNING, Store

from .errors import MdtplanError, Problem

log = logging.getLogger("mdtplan.jobs")

DATASET_ID = re.compile(r"^ds_[0-9a-f]{16}$")
"""What a dataset id looks like; any other ``path`` in a scenario sent over HTTP is refused."""
MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
"""A bundled operating model name (``default``, ``kent-local-care``)."""

EXIT_LOST = 75
"""Worker exit code when its server went away or the job was taken from it."""


# ------------------------------------------------------------------------------------------
# Dataset ids in a scenario document


def dataset_refs(doc: dict) -> list[tuple[str, str]]:
    """Every file reference of a scenario document, as ``(key path, value)``.

    Examples
    --------
    >>> dataset_refs({"areas": {"path": "ds_1", "tables": [{"path": "ds_2"}]},
    ...               "sites": {"path": "ds_3"}})
    [('areas.path', 'ds_1'), ('areas.tables.0.path', 'ds_2'), ('sites.path', 'ds_3')]
    """
    refs: list[tuple[str, str]] = []
    areas = doc.get("areas") or {}
    if isinstance(areas, dict):
        if areas.get("path") is not None:
            refs.append(("areas.path", areas["path"]))
        for i, table in enumerate(areas.get("tables") or []):
            if isinstance(table, dict) and table.get("path") is not None:
                refs.append((f"areas.tables.{i}.path", table["path"]))
    for key in ("sites", "travel", "workforce"):
        section = doc.get(key)
        if isinstance(section, dict) and section.get("path") is not None:
            refs.append((f"{key}.path", section["path"]))
    return refs


def bind_datasets(doc: dict, paths: dict[str, str], operating_model_path: str | None) -> dict:
    """A copy of ``doc`` with each dataset id replaced by its stored file's path."""
    out = copy.deepcopy(doc)
    for key, value in dataset_refs(doc):
        node = out
        parts = key.split(".")
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[parts[-1]] = paths[value]
    if doc.get("operating_model") is not None:
        out["operating_model"] = operating_model_path
    return out


def resolve_operating_model(name: str | None, datasets: dict) -> str | None:
    """Path of the operating model a document names: a dataset id or a bundled model."""
    from .resources import find_operating_model

    if name is None:
        return None
    if name in datasets:
        return datasets[name].path
    if MODEL_NAME.match(name):
        return find_operating_model(name)
    return None


def bound_scenario_doc(store: Store, doc: dict) -> dict:
    """The job's document with every dataset id and model name turned into a path."""
    ids = [v for _, v in dataset_refs(doc)]
    if doc.get("operating_model"):
        ids.append(doc["operating_model"])
    datasets = store.get_datasets(ids)
    missing = [(k, v) for k, v in dataset_refs(doc) if v not in datasets]
    if missing:
        raise MdtplanError([Problem(None, None, k, f"dataset {v} no longer exists",
                                    "upload it again and resubmit") for k, v in missing])
    om = resolve_operating_model(doc.get("operating_model"), datasets)
    if doc.get("operating_model") and om is None:
        raise MdtplanError(Problem(None, None, "operating_model",
                                   f"operating model {doc['operating_model']} not found"))
    return bind_datasets(doc, {k: d.path for k, d in datasets.items()}, om)


# ------------------------------------------------------------------------------------------
# Checks run in a throw-away process


def inspect_dataset(path: str | Path, fmt: str) -> dict:
    """Read an uploaded file whole and describe it: layers, columns, rows, CRS.

    Parameters
    ----------
    path : str or Path
        The stored file.
    fmt : str
        ``gpkg``, ``geojson``, ``fgb``, ``shp-zip``, ``parquet``, ``csv``, ``tsv`` or ``yaml``.

    Raises
    ------
    ValueError
        The file cannot be read as ``fmt`` (the message says why).
    """
    path = Path(path)
    if fmt == "yaml":
        from .operating_model import load_operating_model

        try:
            om = load_operating_model(path)
        except MdtplanError as err:
            raise ValueError("not a valid operating model: " + "; ".join(
                f"{p.column}: {p.message}" if p.column else p.message
                for p in err.problems[:5])) from None
        return {"layers": [], "operating_model": {"name": om.name,
                                                  "roles": [r.id for r in om.roles]}}
    if fmt in ("csv", "tsv"):
        import pandas as pd

        frame = pd.read_csv(path, dtype=str, sep="\t" if fmt == "tsv" else ",",
                            keep_default_na=False, encoding="utf-8-sig")
        if len(frame.columns) == 0:
            raise ValueError("no columns")
        return {"layers": [{"name": None, "rows": int(len(frame)),
                            "columns": [str(c) for c in frame.columns],
                            "crs": None, "geometry_type": None}]}
    if fmt == "parquet":
        import geopandas as gpd
        import pandas as pd
        import pyarrow.parquet as pq

        meta = pq.read_schema(path).metadata or {}
        if b"geo" in meta:
            frame = gpd.read_parquet(path)
            crs = frame.crs.to_string() if frame.crs is not None else None
            gtype = ",".join(sorted(set(frame.geom_type.dropna()))) or None
            columns = [str(c) for c in frame.columns if c != frame.geometry.name]
        else:
            frame = pd.read_parquet(path)
            crs, gtype, columns = None, None, [str(c) for c in frame.columns]
        return {"layers": [{"name": None, "rows": int(len(frame)), "columns": columns,
                            "crs": crs, "geometry_type": gtype}]}
    import pyogrio

    layers = []
    names = [str(row[0]) for row in pyogrio.list_layers(path)]
    if not names:
        raise ValueError("no layers")
    for name in names:
        info = pyogrio.read_info(path, layer=name)
        frame = pyogrio.read_dataframe(path, layer=name)  # read whole: proves it is readable
        crs = info.get("crs")
        layers.append({"name": name, "rows": int(len(frame)),
                       "columns": [str(c) for c in info["fields"]],
                       "crs": str(crs) if crs else None,
                       "geometry_type": info.get("geometry_type")})
    return {"layers": layers}


def check_scenario(doc: dict) -> dict:
    """Validate a bound scenario document and measure it (what a submission is checked on).

    Returns
    -------
    dict
        ``{"ok": True, "areas": n, "sites": n, "pairs": n, "warnings": [...]}`` or
        ``{"ok": False, "problems": [...]}``.
    """
    from .pipeline import prepare
    from .scenario import parse_scenario

    try:
        prepared = prepare(parse_scenario(doc))
    except MdtplanError as err:
        return {"ok": False, "problems": [p.to_dict() for p in err.problems]}
    return {"ok": True, "areas": int(len(prepared.inputs.areas)),
            "sites": int(len(prepared.inputs.sites)), "pairs": int(len(prepared.pairs)),
            "warnings": [p.to_dict() for p in prepared.warnings]}


def run_helper(args: list[str], stdin: str | None, timeout_s: float) -> dict:
    """Run ``python -m mdtplan.jobs ARGS`` and return the JSON it prints.

    Raises
    ------
    TimeoutError, RuntimeError
        When the helper takes too long, or dies without an answer.
    """
    try:
        proc = subprocess.run([sys.executable, "-m", "mdtplan.jobs", *args], input=stdin,
                              capture_output=True, text=True, timeout=timeout_s,
                              env=_child_env())
    except subprocess.TimeoutExpired:
        raise TimeoutError(f"took longer than {timeout_s:g} s") from None
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"checker ended with exit code {proc.returncode}: {tail}")
    return json.loads(lines[-1])


def _inspect_answer(path: str, fmt: str) -> dict:
    """:func:`inspect_dataset` as an answer: ``{"ok": True, ...}`` or ``{"ok": False, message}``."""
    try:
        return {"ok": True, **inspect_dataset(path, fmt)}
    except Exception as err:  # noqa: BLE001 - any failure to read is the answer
        text = str(err).strip()
        return {"ok": False, "message": text.splitlines()[0] if text else type(err).__name__}


def _warm_up(parent_pid: int) -> None:
    """When a checker process starts: leave when the server does, import the heavy libraries."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(EXIT_LOST)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
    import geopandas  # noqa: F401
    import pyogrio  # noqa: F401

    from . import pipeline  # noqa: F401


class Checker:
    """Reads user files in helper processes kept warm (a crash or a hang costs only them).

    Parameters
    ----------
    processes : int
        Helper processes (checks run at once).
    timeout_s : float
        Longest one check may take [s]; past it the helpers are killed and restarted.
    """

    def __init__(self, processes: int = 2, timeout_s: float = 300.0):
        self.processes = processes
        self.timeout_s = timeout_s
        self._pool = None
        self._lock = threading.Lock()

    def _executor(self):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    self.processes, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_warm_up, initargs=(os.getpid(),), max_tasks_per_child=50)
            return self._pool

    def start(self) -> None:
        """Start the helpers now, so that the first upload does not wait for the imports."""
        self._executor().submit(os.getpid)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            for proc in list(getattr(pool, "_processes", {}).values()):
                proc.kill()
            pool.shutdown(wait=False, cancel_futures=True)

    def _call(self, fn, *args) -> dict:
        from concurrent.futures import TimeoutError as FutureTimeout
        from concurrent.futures.process import BrokenProcessPool

        try:
            return self._executor().submit(fn, *args).result(timeout=self.timeout_s)
        except FutureTimeout:
            self.close()
            raise TimeoutError(f"took longer than {self.timeout_s:g} s") from None
        except BrokenProcessPool:
            self.close()
            raise RuntimeError("the checking process crashed") from None

    def inspect(self, path: str | Path, fmt: str) -> dict:
        """Describe an uploaded file (see :func:`inspect_dataset`); never raises on bad files."""
        return self._call(_inspect_answer, str(path), fmt)

    def check(self, doc: dict) -> dict:
        """Validate and measure a bound scenario document (see :func:`check_scenario`)."""
        return self._call(check_scenario, doc)


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


# ------------------------------------------------------------------------------------------
# The worker


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
    from .outputs import write_outputs
    from .pipeline import prepare, run, solve_options_for
    from .scenario import parse_scenario

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
        limit = min(scenario.solver.time_limit_s, time_limit_s)
        options = solve_options_for(scenario, time_limit_s=limit)
        prepared = prepare(scenario, progress=monitor.progress)
        if cancel.is_set():
            monitor.stop()
            store.finish(job_id, attempt, CANCELLED, message="cancelled before the solve",
                         progress={"stage": "cancelled", "message": "cancelled"})
            return 0
        result = run(scenario, options=options, progress=monitor.progress, cancel=cancel,
                     prepared=prepared)
        monitor.stop()
        if monitor.lost:
            return EXIT_LOST
        results = result.results
        result_dir.mkdir(parents=True, exist_ok=True)
        write_outputs(results, result_dir, inputs=prepared.inputs, scenario_doc=job.scenario)
        try:
            write_areas_geojson(prepared.inputs, results.assignment, results.hubs,
                                result_dir / "areas.geojson")
        except Exception as err:  # noqa: BLE001 - the GeoJSON is a convenience
            log.warning("areas.geojson not written: %s", err)
        summary = results.summary.to_dict()
        status = CANCELLED if monitor.cancel_requested else FINISHED
        problems = [p.to_dict() for p in result.explanation] or None
        message = ("cancelled; the best plan found so far is kept"
                   if status == CANCELLED else summary.get("message") or summary.get("status"))
        store.finish(job_id, attempt, status, summary=summary, problems=problems,
                     message=message, result_dir=str(result_dir),
                     progress={"stage": "done" if status == FINISHED else "cancelled",
                               "message": summary.get("status")})
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


# ------------------------------------------------------------------------------------------
# The dispatcher (in the server process)


@dataclass
class _Worker:
    job_id: str
    attempt: int
    proc: subprocess.Popen
    started: float
    log_file: object
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
    return b"mdtplan.jobs" in cmdline and job_id.encode() in cmdline


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
        env = _child_env()
        env["MDTPLAN_DB_URL"] = self.store.url
        cmd = [sys.executable, "-m", "mdtplan.jobs", "run", job.id,
               "--attempt", str(job.attempts), "--result-dir", str(result_dir),
               "--time-limit", repr(float(self.settings.job_time_limit_s)),
               "--progress-interval", repr(float(self.settings.progress_interval_s)),
               "--parent-pid", str(os.getpid())]
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


# ------------------------------------------------------------------------------------------
# Command line of the helper processes


def main(argv: list[str] | None = None) -> int:
    """``python -m mdtplan.jobs {run JOB_ID | check | inspect PATH FORMAT}``."""
    parser = argparse.ArgumentParser(prog="python -m mdtplan.jobs")
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="run one claimed job")
    p_run.add_argument("job_id")
    p_run.add_argument("--db", default=None, help="SQLAlchemy URL (default: settings)")
    p_run.add_argument("--attempt", type=int, required=True)
    p_run.add_argument("--result-dir", required=True)
    p_run.add_argument("--time-limit", type=float, default=None)
    p_run.add_argument("--progress-interval", type=float, default=None)
    p_run.add_argument("--parent-pid", type=int, default=None)
    sub.add_parser("check", help="check a bound scenario document read from stdin")
    p_inspect = sub.add_parser("inspect", help="describe an uploaded file")
    p_inspect.add_argument("path")
    p_inspect.add_argument("format")
    args = parser.parse_args(argv)

    if args.command == "check":
        print(json.dumps(check_scenario(json.load(sys.stdin)), allow_nan=False))
        return 0
    if args.command == "inspect":
        print(json.dumps(_inspect_answer(args.path, args.format)))
        return 0

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

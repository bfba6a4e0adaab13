"""What the routes call: uploads, submission checks, sweeps and reading results.

Work on user files (reading an upload, loading a scenario's inputs) runs in helper
processes (:class:`api.checker.Checker`), so a malformed file cannot crash or stall the server.
Errors are raised as :class:`fastapi.HTTPException` whose ``detail`` is a message or a list of
problems, each naming the field at fault.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from pathlib import Path

from fastapi import HTTPException, UploadFile, status

from mdtplan.errors import ScenarioError
from mdtplan.resources import bundled_dir
from mdtplan.scenario import Scenario, apply_overrides, parse_scenario
from mdtplan.summary import Summary

from .bind import DATASET_ID, MODEL_NAME, bind_datasets, dataset_refs, resolve_operating_model
from .checker import Checker
from .schemas import (
    DatasetOut,
    JobOut,
    Links,
    ResultOut,
    SweepIn,
    SweepOut,
    SweepRow,
    VaryAxis,
    timestamp,
)
from .settings import Settings
from .store import (
    ACTIVE,
    CANCELLED,
    FINISHED,
    QUEUED,
    RUNNING,
    TERMINAL,
    Dataset,
    Job,
    Store,
    TeamStore,
    new_id,
)

FORMATS = {".gpkg": "gpkg", ".geojson": "geojson", ".json": "geojson", ".fgb": "fgb",
           ".zip": "shp-zip", ".parquet": "parquet", ".geoparquet": "parquet", ".csv": "csv",
           ".tsv": "tsv", ".yaml": "yaml", ".yml": "yaml"}
FORMAT_NAMES = {"gpkg": "a GeoPackage", "geojson": "GeoJSON", "fgb": "FlatGeobuf",
                "shp-zip": "a zipped Shapefile", "parquet": "(Geo)Parquet", "csv": "CSV",
                "tsv": "TSV", "yaml": "an operating model (YAML)"}
TABLE_FORMATS = {"gpkg", "geojson", "fgb", "shp-zip", "parquet", "csv", "tsv"}
CHUNK = 1024 * 1024
SIZE_KEYS = ("areas", "sites", "travel", "hubs.max_travel_minutes", "hubs.assignment")
"""Scenario keys whose change alters how many areas, sites or allowed pairs a solve has."""


def problem(column: str | None, message: str, hint: str | None = None,
            file: str | None = None, row: str | None = None) -> dict:
    """A problem as sent in a 422 body."""
    return {"file": file, "row": row, "column": column, "message": message, "hint": hint,
            "severity": "error"}


def unprocessable(problems: list[dict]) -> HTTPException:
    return HTTPException(422, detail=problems)


def not_found(what: str, ident: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no {what} with id {ident}")


def sanitise(problems: list[dict], settings: Settings) -> list[dict]:
    """Problems with server folders taken out of every text (``ds_….gpkg``, ``models/…``)."""
    replace = [(str(settings.datasets_dir) + os.sep, "")]
    try:
        replace.append((str(bundled_dir("models")) + os.sep, "models/"))
    except FileNotFoundError:
        pass
    out = []
    for p in problems:
        clean = dict(p)
        for k, v in clean.items():
            if isinstance(v, str):
                for old, new in replace:
                    v = v.replace(old, new)
                clean[k] = v
        out.append(clean)
    return out


# ----------------------------------------------------------------------------- datasets
def save_upload(upload: UploadFile, store: Store, settings: Settings, checker: Checker,
                created_by: str) -> Dataset:
    """Store an uploaded file under a new dataset id, after reading it whole.

    Raises
    ------
    HTTPException
        422 naming ``file`` when the format is not one we read, or the file cannot be read.
    """
    filename = Path(upload.filename or "").name[:255]
    suffix = Path(filename).suffix.lower()
    fmt = FORMATS.get(suffix)
    if fmt is None:
        raise unprocessable([problem(
            "file", f"'{filename}' is not a format mdtplan reads",
            "upload a .gpkg, .geojson, .fgb, zipped Shapefile (.zip), .parquet, .csv/.tsv, "
            "or an operating model .yaml")])
    dataset_id = new_id("ds")
    folder = settings.datasets_dir
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{dataset_id}{suffix}"
    digest = hashlib.sha256()
    size = 0
    with open(target, "wb") as out:
        while chunk := upload.file.read(CHUNK):
            size += len(chunk)
            if size > settings.upload_max_bytes:
                out.close()
                target.unlink(missing_ok=True)
                raise HTTPException(413,
                                    detail=f"file: larger than the upload limit of "
                                           f"{settings.upload_max_bytes} bytes")
            digest.update(chunk)
            out.write(chunk)
    if size == 0:
        target.unlink(missing_ok=True)
        raise unprocessable([problem("file", f"'{filename}' is empty")])
    try:
        info = checker.inspect(target, fmt)
    except (TimeoutError, RuntimeError) as err:
        info = {"ok": False, "message": str(err)}
    if not info.get("ok"):
        target.unlink(missing_ok=True)
        message = str(info.get("message", "")).replace(str(target), filename)
        raise unprocessable([problem(
            "file", f"cannot read '{filename}' as {FORMAT_NAMES[fmt]}: {message}",
            "check that the file opens in QGIS or a spreadsheet, and that its extension "
            "matches its content", file=filename)])
    return store.add_dataset(
        id=dataset_id, filename=filename, format=fmt, path=str(target), size_bytes=size,
        sha256=digest.hexdigest(), created_by=created_by,
        info={"layers": info.get("layers", []), "operating_model": info.get("operating_model")})


def dataset_out(d: Dataset) -> DatasetOut:
    return DatasetOut(id=d.id, filename=d.filename, format=d.format, size_bytes=d.size_bytes,
                      sha256=d.sha256, layers=d.info.get("layers", []),
                      operating_model=d.info.get("operating_model"),
                      created_at=timestamp(d.created_at))


def delete_dataset(store: Store, settings: Settings, dataset_id: str) -> None:
    record = store.delete_dataset(dataset_id)
    if record is None:
        raise not_found("dataset", dataset_id)
    path = Path(record.path)
    if path.parent == settings.datasets_dir:
        path.unlink(missing_ok=True)


# ----------------------------------------------------------------------------- submissions
def _layer_rows(d: Dataset, layer: str | None) -> int | None:
    layers = d.info.get("layers", [])
    if layer is not None:
        layers = [x for x in layers if x.get("name") == layer]
    return max((int(x.get("rows", 0)) for x in layers), default=None)


def reference_problems(doc: dict, store: Store, settings: Settings) -> tuple[list[dict], dict]:
    """Check that every path names an uploaded dataset, and the operating model exists.

    Returns the problems found and the datasets by id.
    """
    problems: list[dict] = []
    refs = dataset_refs(doc)
    ids = [v for _, v in refs if isinstance(v, str) and DATASET_ID.match(v)]
    om = doc.get("operating_model")
    if isinstance(om, str) and DATASET_ID.match(om):
        ids.append(om)
    datasets = store.get_datasets(ids)
    for key, value in refs:
        if not DATASET_ID.match(str(value)):
            problems.append(problem(
                key, f"'{value}' is not a dataset id: a scenario sent over HTTP names "
                     "uploaded datasets only, never a path on the server",
                "upload the file with POST /v1/datasets and give the id it returns (ds_…)"))
        elif value not in datasets:
            problems.append(problem(key, f"no dataset with id {value}",
                                    "upload the file with POST /v1/datasets"))
        elif datasets[value].format not in TABLE_FORMATS:
            problems.append(problem(key, f"dataset {value} is {FORMAT_NAMES[datasets[value].format]}"
                                         ", not a table or geodata file"))
    if om is not None:
        if DATASET_ID.match(om):
            if om not in datasets:
                problems.append(problem("operating_model", f"no dataset with id {om}",
                                        "upload the model's YAML with POST /v1/datasets"))
            elif datasets[om].format != "yaml":
                problems.append(problem("operating_model",
                                        f"dataset {om} is not an operating model (YAML)"))
        elif not MODEL_NAME.match(om) or resolve_operating_model(om, {}) is None:
            names = sorted(p.stem for p in bundled_dir("models").glob("*.yaml"))
            problems.append(problem(
                "operating_model", f"'{om}' is neither a bundled operating model nor an "
                                   "uploaded one", f"use one of {', '.join(names)}, or upload "
                                                   "your own YAML and give its dataset id"))
    return problems, datasets


def check_submission(scenario: Scenario, store: Store, settings: Settings,
                     checker: Checker) -> dict:
    """Check a submitted scenario fully before it is stored; return its document.

    Checks, in order: no ``base_dir``; every path a known dataset id; the inputs' row counts
    against the size limits; then the whole scenario loaded in a helper process (every problem
    of every file, and the number of areas, sites and allowed pairs against the limits).

    Raises
    ------
    HTTPException
        422 with a list of problems, each naming its field.
    """
    if scenario.base_dir is not None:
        raise unprocessable([problem("base_dir", "base_dir is not accepted over HTTP",
                                     "remove it: datasets are named by id")])
    doc = scenario.to_dict()
    problems, datasets = reference_problems(doc, store, settings)
    if problems:
        raise unprocessable(problems)
    too_big = []
    for key, limit, name in (("areas", settings.max_areas, "areas"),
                             ("sites", settings.max_sites, "sites")):
        rows = _layer_rows(datasets[doc[key]["path"]], doc[key].get("layer"))
        if rows is not None and rows > limit:
            too_big.append(problem(f"{key}.path", f"{rows} {name} is more than this service "
                                                  f"solves ({limit} at most)",
                                   "split the problem, or ask the administrator to raise "
                                   f"MDTPLAN_MAX_{name.upper()}"))
    if too_big:
        raise unprocessable(too_big)
    too_big = measured_problems(doc, datasets, settings, checker)
    if too_big:
        raise unprocessable(too_big)
    return doc


def measured_problems(doc: dict, datasets: dict, settings: Settings,
                      checker: Checker) -> list[dict]:
    """Load a scenario's inputs in the checker and measure them against the service's size
    limits (areas, sites, allowed pairs).

    Raises
    ------
    HTTPException
        422 when the inputs cannot be loaded or have problems.
    """
    bound = bind_datasets(doc, {k: d.path for k, d in datasets.items()},
                          resolve_operating_model(doc.get("operating_model"), datasets))
    try:
        checked = checker.check(bound)
    except TimeoutError as err:
        raise unprocessable([problem(None, f"loading the inputs {err}: the problem is too "
                                           "large for this service")]) from None
    except RuntimeError as err:
        raise unprocessable([problem(None, f"the inputs could not be loaded ({err})")]) from None
    if not checked["ok"]:
        raise unprocessable(sanitise(checked["problems"], settings))
    limits = [("areas", "areas.path", settings.max_areas, "MDTPLAN_MAX_AREAS"),
              ("sites", "sites.path", settings.max_sites, "MDTPLAN_MAX_SITES"),
              ("pairs", "hubs.max_travel_minutes", settings.max_pairs, "MDTPLAN_MAX_PAIRS")]
    too_big = [problem(column, f"{checked[what]} allowed area–site pairs is more than this "
                               f"service solves ({limit} at most)" if what == "pairs" else
                       f"{checked[what]} {what} is more than this service solves "
                       f"({limit} at most)",
                       "lower hubs.max_travel_minutes or give a travel table with fewer pairs"
                       if what == "pairs" else f"split the problem, or ask the administrator "
                                               f"to raise {env}")
               for what, column, limit, env in limits if checked[what] > limit]
    return too_big


# ----------------------------------------------------------------------------- jobs
def _safe_file(job: Job, settings: Settings, name: str) -> Path | None:
    """A result file of a job, if it exists inside the service's results folder."""
    if not job.result_dir:
        return None
    folder = Path(job.result_dir).resolve()
    if folder.parent != settings.results_dir.resolve():
        return None
    path = folder / name
    return path if path.is_file() else None


def links(job: Job, settings: Settings) -> Links:
    base = f"/v1/scenarios/{job.id}"
    done = job.status in (FINISHED, CANCELLED) and job.summary is not None
    if job.status == CANCELLED and not (job.summary or {}).get("hubs_open"):
        done = False  # cancelled before any plan: no empty map or workbook is offered

    def has(name: str) -> bool:
        return done and _safe_file(job, settings, name) is not None

    return Links(self=base,
                 result=f"{base}/result" if has("summary.json") else None,
                 geojson=f"{base}/result/geojson" if has("areas.geojson") else None,
                 map=f"{base}/map" if has("map.html") else None,
                 export=f"{base}/export.xlsx" if has("summary.xlsx") else None)


def stored_summary(job: Job | JobOut) -> Summary:
    """The summary stored with a job, typed (every figure ``None`` while it has none)."""
    return Summary.from_dict(job.summary or {})


def job_out(job: Job, settings: Settings) -> JobOut:
    return JobOut(id=job.id, name=job.name, status=job.status, message=job.message,
                  progress=job.progress, summary=job.summary, problems=job.problems,
                  attempts=job.attempts, created_at=timestamp(job.created_at),
                  started_at=timestamp(job.started_at), finished_at=timestamp(job.finished_at),
                  sweep_id=job.sweep_id, variant=job.variant, cancelled_by=job.cancelled_by,
                  start_from=job.start_from, links=links(job, settings))


def has_plan(job: Job) -> bool:
    """Whether ``job`` ended with a plan whose tables were written (a what-if may start from
    it): finished or cancelled, a result folder, and hubs open in its summary."""
    summary = job.summary or {}
    return (job.status in (FINISHED, CANCELLED) and bool(job.result_dir)
            and bool(summary.get("hubs_open")))


def start_from_job(store: Store | TeamStore, job_id: str | None) -> str | None:
    """The id of the scenario a what-if starts from, checked: one of the team's, ended with
    a plan; 422 naming ``start_from`` otherwise (None passes through)."""
    if job_id is None:
        return None
    job = store.get_job(job_id)
    if job is None:
        raise unprocessable([problem("start_from", f"no scenario with id {job_id} in your team",
                                     "give the id of one of your team's solved scenarios")])
    if not has_plan(job):
        raise unprocessable([problem(
            "start_from", f"scenario {job_id} ({job.status}) has no plan to start from",
            "start from a scenario that finished with a plan (hubs open)")])
    return job.id


def get_job(store: Store, job_id: str) -> Job:
    job = store.get_job(job_id)
    if job is None:
        raise not_found("scenario", job_id)
    return job


def cancel_job(store: Store | TeamStore, job_id: str, by: str | None = None) -> Job:
    """Cancel a queued or running job (``by``: the key cancelling, recorded as
    ``cancelled_by``); 404 for a job ``store`` does not see, 409 if it has ended."""
    before = get_job(store, job_id)
    after = store.request_cancel(job_id, by)
    if after is None:
        raise not_found("scenario", job_id)
    if before.status in TERMINAL:
        raise HTTPException(status.HTTP_409_CONFLICT,
                            detail=f"scenario {job_id} has already ended ({before.status}): "
                                   "nothing to cancel")
    return get_job(store, job_id)


def cancel_sweep(store: Store | TeamStore, sweep_id: str, by: str | None = None):
    """Cancel every variant of a sweep that has not ended (queued ones at once, running ones
    through ``cancelling``; each records ``by`` as ``cancelled_by``); the variants that have
    ended keep their plans. Returns ``(sweep, jobs)`` after the request; 404 for a sweep
    ``store`` does not see, 409 when every variant had ended (nothing to cancel)."""
    sweep = store.get_sweep(sweep_id)
    if sweep is None:
        raise not_found("sweep", sweep_id)
    jobs = store.list_jobs(sweep_id=sweep_id, limit=10_000, newest_first=False)
    open_jobs = [j for j in jobs if j.status in (QUEUED, RUNNING)]
    if not open_jobs:
        raise HTTPException(status.HTTP_409_CONFLICT,
                            detail=f"sweep {sweep_id} has no variant left to cancel "
                                   "(every one has ended or is being cancelled)")
    for job in open_jobs:
        store.request_cancel(job.id, by)
    return sweep, store.list_jobs(sweep_id=sweep_id, limit=10_000, newest_first=False)


def result_file(job: Job, settings: Settings, name: str) -> Path:
    """A job's output file, or 409 (not finished yet) / 404 (not produced)."""
    if job.status in ACTIVE:
        raise HTTPException(status.HTTP_409_CONFLICT,
                            detail=f"scenario {job.id} is {job.status}: no result yet")
    path = _safe_file(job, settings, name)
    if path is None:
        why = job.message or job.status
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            detail=f"scenario {job.id} has no {name} ({job.status}: {why})")
    return path


def read_result(job: Job, settings: Settings) -> ResultOut:
    from mdtplan.outputs import read_result_dir

    folder = result_file(job, settings, "summary.json").parent
    saved = read_result_dir(folder)

    def records(frame) -> list[dict]:
        return json.loads(frame.to_json(orient="records")) if not frame.empty else []

    def maybe(frame) -> list[dict] | None:
        return None if frame is None else records(frame)

    return ResultOut(id=job.id, summary=saved["summary"].to_dict(), hubs=records(saved["hubs"]),
                     assignment=records(saved["assignment"]),
                     staffing=records(saved["staffing"]),
                     localities=maybe(saved.get("localities")),
                     levers=maybe(saved.get("levers")))


# ----------------------------------------------------------------------------- sweeps
def expand_sweep(body: SweepIn, store: Store, settings: Settings,
                 checker: Checker) -> tuple[dict, list[tuple]]:
    """The base document and one ``(name, document, values)`` per variant, all checked."""
    keys = [axis.key for axis in body.vary]
    if len(set(keys)) != len(keys):
        raise unprocessable([problem("vary", "a key is varied twice",
                                     "give each key once, with all its values")])
    count = 1
    for axis in body.vary:
        count *= len(axis.values)
    if count > settings.sweep_max_variants:
        raise unprocessable([problem("vary", f"the grid has {count} variants, more than "
                                             f"{settings.sweep_max_variants}",
                                     "use fewer values")])
    base = check_submission(body.scenario, store, settings, checker)
    measured: dict[str, list[dict]] = {}
    variants = []
    for combo in itertools.product(*[axis.values for axis in body.vary]):
        values = dict(zip(keys, combo, strict=True))
        try:
            doc = parse_scenario(apply_overrides(base, values)).to_dict()
        except ScenarioError as err:
            raise unprocessable([problem(f"vary ({p.column})" if p.column else "vary",
                                         f"{json.dumps(values)}: {p.message}", p.hint)
                                 for p in err.problems]) from None
        problems, datasets = reference_problems(doc, store, settings)
        if problems:
            raise unprocessable([{**p, "column": f"vary ({p['column']})"} for p in problems])
        # a variant that changes what is loaded (files, filters, travel limit) is measured
        # against the size limits too; variants that change only the cap or the solver are
        # the base's size, checked above
        sized = {k: v for k, v in values.items() if k.startswith(SIZE_KEYS)}
        if sized:
            key = json.dumps(sized, sort_keys=True, default=str)
            if key not in measured:
                measured[key] = measured_problems(doc, datasets, settings, checker)
            if measured[key]:
                raise unprocessable([{**p, "column": f"vary ({p['column']})",
                                      "message": f"{json.dumps(values)}: {p['message']}"}
                                     for p in measured[key]])
        label = ", ".join(f"{k}={json.dumps(v)}" for k, v in values.items())
        variants.append((f"{body.scenario.name} [{label}]"[:500], doc, values))
    return base, variants


def sweep_out(sweep, jobs: list[Job], settings: Settings) -> SweepOut:
    counts: dict[str, int] = {}
    rows = []
    for job in jobs:
        counts[job.status] = counts.get(job.status, 0) + 1
        s = stored_summary(job)
        saving = s.savings.total if s.savings is not None else None
        rows.append(SweepRow(
            id=job.id, values=job.variant or {}, status=job.status,
            solve_status=s.report.status, objective=s.report.objective,
            total_cost=s.costs.total_gbp, demand_met_share=s.demand.met_share,
            hubs_open=s.hubs.count, travel_mean=s.travel.mean, travel_max=s.travel.max,
            baseline_cost=saving.baseline_gbp if saving is not None else None,
            saving_vs_baseline=saving.saving_gbp if saving is not None else None,
            links=links(job, settings)))
    if all(j.status in TERMINAL for j in jobs):
        state = "done"
    elif any(j.status != "queued" for j in jobs):
        state = "running"
    else:
        state = "queued"
    return SweepOut(id=sweep.id, name=sweep.name, status=state, counts=counts,
                    vary=[VaryAxis(**v) for v in sweep.vary], variants=rows,
                    created_at=timestamp(sweep.created_at))


def delete_job(store: Store, settings: Settings, job: Job) -> None:
    """Delete an ended job and its result folder (only inside the service's results folder)."""
    import shutil

    folder = Path(job.result_dir).resolve() if job.result_dir else None
    store.delete_job(job.id)
    if folder is not None and folder.parent == settings.results_dir.resolve() and folder.is_dir():
        shutil.rmtree(folder, ignore_errors=True)


def clean_orphan_uploads(store: Store, settings: Settings, *, older_than_s: float = 60.0) -> list[str]:
    """Delete files in the datasets folder that no dataset names (an upload cut off by a crash
    leaves its file behind); files younger than ``older_than_s`` are left alone (an upload may
    be under way in another server process). Returns the names deleted."""
    import time

    folder = settings.datasets_dir
    if not folder.is_dir():
        return []
    files = [p for p in folder.iterdir() if p.is_file()]
    known = store.get_datasets([p.name.split(".", 1)[0] for p in files])
    now = time.time()
    gone = []
    for path in files:
        if path.name.split(".", 1)[0] in known or now - path.stat().st_mtime < older_than_s:
            continue
        path.unlink(missing_ok=True)
        gone.append(path.name)
    return gone

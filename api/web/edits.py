"""The new-scenario pages' editable tables: the operating model's roles and the sites' status.

The tables show what the scenario's own files say; on Run, a changed cost per FTE is written
into a copy of the operating model (every other line kept, comments too) stored as a new
dataset that the scenario names, and a changed status into a copy of the sites CSV (every
other cell kept) stored the same way. The stored files are named ``….edited.yaml`` /
``….edited.csv`` so the scenario's page can say which inputs were edited.
"""

from __future__ import annotations

import io
import math
import uuid
from pathlib import Path
from types import SimpleNamespace

from mdtplan.resources import bundled_dir

from ..bind import DATASET_ID, MODEL_NAME, resolve_operating_model
from .forms import FormProblems

STATUSES = ("candidate", "existing", "required", "excluded")
STATUS_WORDS = {"candidate": "Candidate", "existing": "Existing (open today)",
                "required": "Required (always open)", "excluded": "Excluded (never open)"}
MAX_SITE_ROWS = 1000
EDITED = ".edited."


def bundled_models() -> list[str]:
    """The bundled operating models by name (``default``, ``kent-local-care``, …)."""
    try:
        return sorted(p.stem for p in bundled_dir("models").glob("*.yaml"))
    except FileNotFoundError:
        return []


def _suffix_format(path: str) -> str | None:
    from ..services import FORMATS

    return FORMATS.get(Path(path).suffix.lower())


def model_path(doc: dict, store, folder: Path | None = None) -> str | None:
    """The file of the operating model a document names (bundled name, dataset id, or a path
    relative to an example's folder)."""
    om = doc.get("operating_model")
    if not isinstance(om, str) or not om:
        return None
    if DATASET_ID.match(om):
        return resolve_operating_model(om, store.get_datasets([om]))
    if folder is not None and ("/" in om or om.endswith((".yaml", ".yml"))):
        path = (folder / om).resolve()
        return str(path) if path.is_file() else None
    return resolve_operating_model(om, {}) if MODEL_NAME.match(om) else None


def sites_source(doc: dict, store, folder: Path | None = None) -> dict | None:
    """Where the document's sites are and which columns hold id, name and status."""
    sites = doc.get("sites")
    if not isinstance(sites, dict) or not isinstance(sites.get("path"), str):
        return None
    ref = sites["path"]
    if DATASET_ID.match(ref):
        found = store.get_dataset(ref)
        if found is None:
            return None
        path, fmt, filename = found.path, found.format, found.filename
    elif folder is not None:
        path = str((folder / ref).resolve())
        fmt, filename = _suffix_format(path), Path(path).name
    else:
        return None
    if fmt is None or not isinstance(sites.get("id"), str):
        return None
    return {"path": path, "format": fmt, "filename": filename, "layer": sites.get("layer"),
            "id": sites["id"],
            "name": sites.get("name"), "status": sites.get("status")}


def roles_table(checker, path: str | None) -> tuple[list[dict], str | None]:
    """The model's roles (id, name, kind, cost per FTE), or ``([], why not)``."""
    if path is None:
        return [], "the operating model could not be found"
    answer = checker.file_work("model_roles", path)
    if not answer["ok"]:
        return [], answer["message"]
    return answer["value"]["roles"], None


def sites_table(checker, source: dict | None) -> tuple[list[list[str]], str | None]:
    """Each site's id, name and status, or ``([], why not)``."""
    if source is None:
        return [], "the sites' file or code column is not known yet"
    answer = checker.file_work("sites_table", source["path"], source["format"], source["layer"],
                               source["id"], source["name"], source["status"])
    if not answer["ok"]:
        return [], answer["message"]
    rows = answer["value"]["rows"]
    if len(rows) > MAX_SITE_ROWS:
        return [], f"{len(rows)} sites are too many to edit here (at most {MAX_SITE_ROWS})"
    return rows, None


def editable_sites(source: dict | None) -> bool:
    return source is not None and source["format"] in ("csv", "tsv")


def cost_changes(form: dict[str, str], roles: list[dict]) -> dict[str, float]:
    """The roles whose cost per FTE the form changes, with the new cost [GBP/year].

    Raises
    ------
    FormProblems
        A cost that is not a positive number, against its field (``cost-N``).
    """
    out: dict[str, float] = {}
    problems = []
    by_id = {r["id"]: r for r in roles}
    for i in range(1, len(roles) + 1):
        role_id = form.get(f"cost-{i}-role")
        raw = form.get(f"cost-{i}")
        if role_id not in by_id or raw is None:
            continue
        label = f"Cost per FTE of {by_id[role_id]['name']}"
        text = raw.strip().replace(",", "").replace("£", "")
        try:
            value = float(text)
        except ValueError:
            problems.append((f"cost-{i}", f"{label}: '{raw.strip()}' is not a number"))
            continue
        if not math.isfinite(value) or value <= 0:
            problems.append((f"cost-{i}", f"{label}: give a cost above £0 a year"))
            continue
        current = by_id[role_id].get("cost_gbp_per_fte")
        if not isinstance(current, (int, float)) or abs(float(current) - value) > 1e-9:
            out[role_id] = value
    if problems:
        raise FormProblems(problems)
    return out


def status_changes(form: dict[str, str], rows: list[list[str]]) -> dict[str, str]:
    """The sites whose status the form changes, with the new status."""
    current = {r[0]: r[2] for r in rows}
    out: dict[str, str] = {}
    problems = []
    for i in range(1, len(rows) + 1):
        site = form.get(f"site-{i}-id")
        value = form.get(f"site-{i}")
        if site not in current or value is None:
            continue
        if value not in STATUSES:
            problems.append((f"site-{i}", f"Status of site {site}: choose one of "
                                          f"{', '.join(STATUSES)}"))
        elif value != current[site]:
            out[site] = value
    if problems:
        raise FormProblems(problems)
    return out


def _store_bytes(data: bytes, filename: str, store, settings, checker, who: str):
    from ..services import save_upload

    return save_upload(SimpleNamespace(filename=filename, file=io.BytesIO(data)), store,
                       settings, checker, who)


def store_model(path: str, costs: dict[str, float], store, settings, checker, who: str,
                filename: str | None = None):
    """Store a copy of the model with the roles' new costs; return its dataset."""
    answer = checker.file_work("edit_model_costs", path, costs)
    if not answer["ok"]:
        raise FormProblems([(None, f"the operating model could not be edited: "
                                   f"{answer['message']}")])
    stem = Path(filename or path).name.split(".")[0]
    return _store_bytes(answer["value"].encode("utf-8"), f"{stem}{EDITED}yaml", store,
                        settings, checker, who)


def store_sites(source: dict, changes: dict[str, str], store, settings, checker,
                who: str):
    """Store a copy of the sites CSV with the new statuses; return the dataset and the name
    of the status column."""
    tmp = settings.data_dir / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    target = tmp / f"sites-{uuid.uuid4().hex}.csv"
    try:
        answer = checker.file_work("edit_sites_csv", source["path"], source["format"],
                                   source["id"], source["status"], changes, str(target))
        if not answer["ok"]:
            raise FormProblems([(None, f"the sites could not be edited: {answer['message']}")])
        data = target.read_bytes()
    finally:
        target.unlink(missing_ok=True)
    stem = Path(source.get("filename") or source["path"]).name.split(".")[0]
    dataset = _store_bytes(data, f"{stem}{EDITED}csv", store, settings, checker, who)
    return dataset, answer["value"]["status_column"]


def apply_edits(doc: dict, form: dict[str, str], store, settings, checker, who: str) -> dict:
    """``doc`` (its files already datasets) pointing at edited copies where the form changes
    a role's cost or a site's status; unchanged where it does not.

    Raises
    ------
    FormProblems
        A cost or status the form gives wrongly, against its field.
    """
    out = dict(doc)
    path = model_path(doc, store)
    roles = roles_table(checker, path)[0] if path else []
    costs = cost_changes(form, roles)
    source = sites_source(doc, store)
    rows = sites_table(checker, source)[0] if editable_sites(source) else []
    changes = status_changes(form, rows)
    if costs:
        om = doc.get("operating_model")
        found = store.get_dataset(om) if isinstance(om, str) and DATASET_ID.match(om) else None
        out["operating_model"] = store_model(path, costs, store, settings, checker, who,
                                             found.filename if found else None).id
    if changes:
        dataset, column = store_sites(source, changes, store, settings, checker, who)
        out["sites"] = {**doc["sites"], "path": dataset.id, "status": column}
    return out


def edited_inputs(doc: dict, store) -> list[str]:
    """Which of a scenario's inputs are edited copies made on the new-scenario page."""
    ids = {k: doc.get(k) if k == "operating_model" else (doc.get(k) or {}).get("path")
           for k in ("operating_model", "sites")}
    found = store.get_datasets([v for v in ids.values() if isinstance(v, str)])
    words = {"operating_model": "the operating model's costs per FTE",
             "sites": "the sites' status"}
    return [words[k] for k, v in ids.items() if v in found and EDITED in found[v].filename]


def tables_context(doc: dict | None, store, checker, folder: Path | None = None,
                   source: dict | None = None, model: str | None = None) -> dict:
    """What the two editable tables need in a template, for a document (or given sources)."""
    if doc is None and source is None and model is None:
        return {"roles": [], "roles_note": "", "sites": [], "sites_note": "",
                "sites_editable": False, "statuses": STATUSES, "status_words": STATUS_WORDS,
                "model_label": None}
    path = model if model is not None else model_path(doc or {}, store, folder)
    roles, roles_note = roles_table(checker, path)
    source = source if source is not None else sites_source(doc or {}, store, folder)
    sites, sites_note = sites_table(checker, source)
    om = (doc or {}).get("operating_model")
    label = Path(path).stem if path and not (isinstance(om, str) and DATASET_ID.match(om)) else om
    return {"roles": roles, "roles_note": roles_note, "sites": sites, "sites_note": sites_note,
            "sites_editable": editable_sites(source), "statuses": STATUSES,
            "status_words": STATUS_WORDS, "model_label": label}


def table_values(form: dict[str, str]) -> dict[str, str]:
    """The tables' values of a form sent back (to show them again beside its problems)."""
    return {k: v for k, v in form.items() if k.startswith(("cost-", "site-"))}

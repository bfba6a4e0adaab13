"""New scenario from the planner's own files: upload, map columns, set parameters, run; and
the live check both new-scenario forms post to as they change.

Files are stored as datasets by the same code as ``POST /v1/datasets`` (checked on upload);
previews, sites and roles are read in the checker's helper processes; the scenario made is
checked and stored as one sent to ``POST /v1/scenarios``.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from mdtplan.errors import ScenarioError
from mdtplan.scenario import Scenario, parse_scenario, resolve_paths

from .. import services
from ..bind import DATASET_ID
from ..deps import CheckerDep, DispatcherDep, FormPlanner, PageUser, SettingsDep, StoreDep
from ..web import edits, forms, mapping
from ..web.render import page
from .pages import page_context
from .workspace import _P, _base, _folder, _need_planner

router = APIRouter(tags=["pages"], include_in_schema=False)

UPLOAD_PARTS = ("areas", "areas_table", "sites", "workforce", "travel")
PAGE_UPLOAD_PATH = "/scenarios/new/upload"


def _problem_texts(err: HTTPException) -> list[str]:
    if isinstance(err.detail, list):
        return [p.get("message", "") + (f" ({p['hint']})" if p.get("hint") else "")
                for p in err.detail]
    return [str(err.detail)]


# ----------------------------------------------------------------------------- upload
def _upload_page(request, who, store, kept: dict, errors: dict, status_code: int = 200):
    found = store.get_datasets([v for v in kept.values() if v])
    kept_files = {k: found[v] for k, v in kept.items() if v in found}
    return page("upload.html", status_code, **page_context(
        request, who, title="Upload your own data", nav="new", parts=mapping.PARTS,
        order=UPLOAD_PARTS, kept=kept_files, errors=errors))


@router.get(PAGE_UPLOAD_PATH, response_class=HTMLResponse)
def upload_form(request: Request, who: PageUser, store: StoreDep) -> HTMLResponse:
    """A file field for each part: areas and sites, and optionally a table joined to the
    areas, today's workforce and travel times."""
    store = store.for_team(who.team)
    _need_planner(who)
    return _upload_page(request, who, store, {}, {})


@router.post(PAGE_UPLOAD_PATH)
async def upload_files(request: Request, who: FormPlanner, store: StoreDep,
                       settings: SettingsDep, checker: CheckerDep):
    """Store each file sent (the checks of ``POST /v1/datasets``), then the mapping page."""
    store = store.for_team(who.team)
    form = await request.form()
    kept: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    for part in UPLOAD_PARTS:
        upload = form.get(f"{part}-file")
        earlier = form.get(f"{part}-kept")
        if upload is not None and not isinstance(upload, str) and upload.filename:
            try:
                kept[part] = services.save_upload(upload, store, settings, checker,
                                                  who.key_id).id
            except HTTPException as err:
                errors[f"{part}-file"] = [f"{mapping.PARTS[part].label}: {t}"
                                          for t in _problem_texts(err)]
        elif isinstance(earlier, str) and DATASET_ID.match(earlier) and store.get_dataset(
                earlier) is not None:
            kept[part] = earlier
        elif mapping.PARTS[part].required:
            errors[f"{part}-file"] = [f"{mapping.PARTS[part].label}: choose a file"]
    for part, ident in kept.items():
        fmt = store.get_dataset(ident).format
        if fmt not in services.TABLE_FORMATS:
            errors[f"{part}-file"] = [f"{mapping.PARTS[part].label}: this is "
                                      f"{services.FORMAT_NAMES[fmt]}, not a table or geodata"]
    if errors:
        return _upload_page(request, who, store, kept, errors, 422)
    return RedirectResponse(f"/scenarios/new/mapping?{urlencode(kept)}", status_code=303)


# ----------------------------------------------------------------------------- mapping
def _files(params, store) -> tuple[dict, dict]:
    """The uploaded parts named by ``params`` (dataset ids), with their datasets."""
    ids = {p: params.get(p) for p in UPLOAD_PARTS if params.get(p)}
    found = store.get_datasets([v for v in ids.values() if DATASET_ID.match(v)])
    files = {p: v for p, v in ids.items() if v in found
             and found[v].format in services.TABLE_FORMATS}
    return files, {p: found[v] for p, v in files.items()}


def _layers(params, datasets) -> dict[str, str | None]:
    out = {}
    for part, d in datasets.items():
        names = [x.get("name") for x in d.info.get("layers", [])]
        wanted = params.get(f"{part}-layer")
        out[part] = wanted if wanted in names and wanted else (names[0] if names else None)
    return out


def _columns(datasets, layers) -> dict[str, list[str]]:
    out = {}
    for part, d in datasets.items():
        layer = next((x for x in d.info.get("layers", []) if x.get("name") == layers[part]),
                     None)
        out[part] = [str(c) for c in (layer or {}).get("columns", [])]
    return out


def _model(params) -> str:
    model = params.get("model") or "default"
    return model if model in edits.bundled_models() else "default"


def _upload_base(datasets: dict, model: str) -> dict:
    stem = Path(datasets["areas"].filename).name.split(".")[0] if "areas" in datasets else "my"
    return {"name": f"{stem} scenario"[:200], "operating_model": model,
            "areas": {"path": "ds_0000000000000000", "id": "id", "population": "all"},
            "sites": {"path": "ds_0000000000000000", "id": "id"},
            "hubs": {"max_travel_minutes": 30, "assignment": "single"},
            "objective": "min_cost",
            "solver": {"time_limit_s": 60, "mip_gap": 0.01, "threads": 1}}


def _mapping_page(request, who, store, checker, params, values=None, errors=None,
                  status_code: int = 200):
    files, datasets = _files(params, store)
    if "areas" not in files or "sites" not in files:
        return RedirectResponse(PAGE_UPLOAD_PATH, status_code=303)
    layers = _layers(params, datasets)
    columns = _columns(datasets, layers)
    previews, notes = {}, {}
    for part, d in datasets.items():
        answer = checker.file_work("preview", d.path, d.format, layers[part])
        if answer["ok"]:
            previews[part] = answer["value"]
            columns[part] = answer["value"]["columns"] or columns[part]
        else:
            notes[part] = answer["message"]
    choices = {p: list(columns.get(p, [])) for p in files}
    if "areas_table" in files:
        choices["areas"] = choices["areas"] + [c for c in columns["areas_table"]
                                               if c not in choices["areas"]]
    guesses = {p: mapping.guess(p, choices[p]) for p in files}
    model = _model(params)
    base = _upload_base(datasets, model)
    if values is None:
        values = {f.name: _display(f, f.value(base)) for f in forms.FIELDS}
        for part, g in guesses.items():
            for col in mapping.PARTS[part].columns:
                values[col.field(part)] = g.get(col.key, "")
        if "crs" in guesses.get("sites", {}):
            values["sites-crs"] = guesses["sites"]["crs"]
    sites_id = values.get("sites-id") or ""
    source = None
    if sites_id in columns.get("sites", []):
        status = values.get("sites-status") or None
        source = {"path": datasets["sites"].path, "format": datasets["sites"].format, "filename": datasets["sites"].filename,
                  "layer": layers["sites"], "id": sites_id,
                  "name": values.get("sites-name") or None,
                  "status": status if status in columns["sites"] else None}
    from mdtplan.resources import find_operating_model

    tables = edits.tables_context(None, store, checker, source=source,
                                  model=find_operating_model(model))
    tables["model_label"] = model
    return page("mapping.html", status_code, **page_context(
        request, who, title="Map your columns", nav="new", parts=mapping.PARTS, files=files,
        datasets=datasets, layers=layers, columns=columns, choices=choices, previews=previews,
        notes=notes, values=values, errors=errors or {}, models=edits.bundled_models(),
        model=model, crs_choices=mapping.CRS_CHOICES, fields=forms.FIELDS,
        objectives=forms.OBJECTIVES, base=base, sites_table_id=sites_id, **tables))


def _display(field, value):
    from .workspace import _display as show

    return show(field, value)


@router.get("/scenarios/new/mapping", response_class=HTMLResponse)
def mapping_form(request: Request, who: PageUser, store: StoreDep,
                 checker: CheckerDep) -> HTMLResponse:
    """Each uploaded file's layers and first rows; which column means what (guessed from
    the names); the operating model, its roles and the sites' status; the parameters."""
    store = store.for_team(who.team)
    _need_planner(who)
    return _mapping_page(request, who, store, checker, dict(request.query_params))


def _mapped_document(form: dict, store) -> tuple[dict, dict]:
    """The scenario the mapping form describes (schema-checked), and its parts' dataset ids.

    Raises
    ------
    FormProblems
        Columns not chosen, or values the schema refuses, against their fields.
    """
    files, datasets = _files(form, store)
    layers = _layers(form, datasets)
    columns = _columns(datasets, layers)
    base = _upload_base(datasets, _model(form))
    problems = []
    if "areas" not in files or "sites" not in files:
        problems.append((None, "the areas and sites files are needed: upload them again"))
        raise forms.FormProblems(problems)
    try:
        base.update(mapping.sections(form, files, layers, columns))
    except forms.FormProblems as err:
        problems += err.problems
    try:
        doc = forms.build_document(base, form)
    except forms.FormProblems as err:
        problems += err.problems
        doc = None
    if problems:
        raise forms.FormProblems(problems)
    return doc, files


@router.post("/scenarios/new/mapping")
async def run_mapped_scenario(request: Request, who: FormPlanner, store: StoreDep,
                              settings: SettingsDep, checker: CheckerDep,
                              dispatcher: DispatcherDep):
    """Make the scenario from the mapping form and its tables, check it as the API does,
    store it and queue it."""
    store = store.for_team(who.team)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}

    def again(problems):
        return _mapping_page(request, who, store, checker, form, values=form,
                             errors=forms.problems_by_field(problems), status_code=422)

    try:
        doc, files = _mapped_document(form, store)
        if form.get("sites-id") != form.get("sites-table-id") and any(
                k.startswith("site-") for k in form):
            form = {k: v for k, v in form.items() if not k.startswith("site-")}
            raise forms.FormProblems([("sites-heading", "The sites' status table was shown for "
                                                        "another code column: check it again")])
        doc = edits.apply_edits(doc, form, store, settings, checker, who.key_id)
    except forms.FormProblems as err:
        return again(err.problems)
    try:
        scenario = Scenario.model_validate(doc)
        doc = services.check_submission(scenario, store, settings, checker)
    except HTTPException as err:
        return again(_api_problems(err, files, form, store))
    job = store.add_job(doc, name=scenario.name, created_by=who.key_id)
    if dispatcher is not None:
        dispatcher.wake()
    return RedirectResponse(f"/scenarios/{job.id}", status_code=303)


def _api_problems(err: HTTPException, files: dict | None, form: dict, store) -> list:
    """A 422's problems against the fields at fault (a mapping select, a parameter)."""
    detail = err.detail if isinstance(err.detail, list) else [
        services.problem(None, str(err.detail))]
    out = []
    filenames = {}
    if files:
        for d in store.get_datasets(list(files.values())).values():
            filenames[Path(d.path).name] = d.filename
    for p in detail:
        name = forms._field_of(p.get("column"))
        if name is None and files:
            name = mapping.field_of_problem(p, files, form)
        text = (mapping.problem_text(p, filenames) if p.get("file") and files
                else forms._say(_P(p)))
        out.append((name, text))
    return out


# ----------------------------------------------------------------------------- live check
def _names(form: dict, base: dict | None) -> list[str]:
    """Every field of the form sent that has an error slot in its page."""
    names = [f.name for f in forms.FIELDS if base is None or f.shown(base)]
    names += [k for k in form if k.startswith(("cost-", "site-")) and k.count("-") == 1]
    if "from" not in form:
        for part in UPLOAD_PARTS:
            if form.get(part):
                names.append(f"{part}-file")
                names += [c.field(part) for c in mapping.PARTS[part].columns]
                if part in ("areas", "sites"):
                    names += [f"{part}-where-column", f"{part}-where-value"]
    return names


@router.post("/scenarios/new/check", response_class=HTMLResponse)
async def check_form(request: Request, who: FormPlanner, store: StoreDep,
                     settings: SettingsDep, checker: CheckerDep) -> HTMLResponse:
    """Check a new-scenario form as it is now (the schema, then the files as ``mdtplan
    validate`` does), storing nothing; answer the problems and each field's message."""
    store = store.for_team(who.team)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    problems: list = []
    measured, warnings, checked_inputs = None, [], False
    files, base, doc, folder = None, None, None, None
    try:  # the form's own values and the schema
        if "from" in form:
            start = form.get("from", "")[:100]
            base, label = _base(start, store)
            if base is None:
                raise forms.FormProblems([("from", label)])
            folder = _folder(start)
            tables = edits.tables_context(base, store, checker, folder)
            doc = forms.build_document(base, form)
        else:
            base = {}
            files = _files(form, store)[0]
            tables = edits.tables_context(None, store, checker, model=edits.model_path(
                {"operating_model": _model(form)}, store))
            doc, files = _mapped_document(form, store)
    except forms.FormProblems as err:
        problems += err.problems
        doc = None
    for check, rows in ((edits.cost_changes, tables["roles"] if base is not None else []),
                        (edits.status_changes, tables["sites"] if base is not None else [])):
        try:
            check(form, rows)
        except forms.FormProblems as err:
            problems += err.problems
    if doc is not None and not problems:
        try:  # the files, as mdtplan validate reads them
            if folder is not None:
                bound = resolve_paths(parse_scenario(doc), folder).to_dict()
                checked = checker.check(bound)
                if not checked["ok"]:
                    raise HTTPException(422, detail=services.sanitise(checked["problems"],
                                                                      settings))
                measured = checked
                warnings = [mapping.problem_text(w, {}) for w in checked.get("warnings", [])]
            else:
                services.check_submission(Scenario.model_validate(doc), store, settings,
                                          checker)
            checked_inputs = True
        except (ScenarioError, ValueError) as err:
            problems = [(None, str(err))]
        except (TimeoutError, RuntimeError) as err:
            problems = [(None, f"the files could not be checked ({err})")]
        except HTTPException as err:
            problems = _api_problems(err, files, form, store)
    errors = forms.problems_by_field(problems)
    return page("_check.html", **page_context(
        request, who, errors=errors, names=_names(form, base), measured=measured,
        warnings=warnings, checked_inputs=checked_inputs))

"""The scenario workspace pages: new scenario (from an example or an earlier one), its
progress, its result, cancel, and its files.

Pages call the same services as the ``/v1`` API (:mod:`api.services`): a scenario made here is
checked and stored exactly as one sent to ``POST /v1/scenarios``. Every page works on the signed-in key's
team's store (:meth:`api.store.Store.for_team`): another team's scenario is "Page not found".
Any planner of the team may cancel the team's scenarios (recorded as ``cancelled_by``).
"""

from __future__ import annotations

import time

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from mdtplan.scenario import Scenario

from .. import services
from ..deps import (
    CheckerDep,
    DispatcherDep,
    FormPlanner,
    PageUser,
    SettingsDep,
    StoreDep,
    get_checker,
)
from ..store import ACTIVE, ROLE_RANK
from ..web import edits, finance, forms, result, words
from ..web.render import page
from .pages import page_context

router = APIRouter(tags=["pages"], include_in_schema=False)


def _need_planner(who) -> None:
    if ROLE_RANK[who.role] < ROLE_RANK["planner"]:
        raise HTTPException(403, detail=f"making scenarios needs the planner role; you are "
                                        f"signed in with a {who.role} key, which can read only")


def _start_options(store) -> tuple[list, list]:
    examples = []
    for name, path in forms.examples().items():
        try:
            label = forms.read_document(path).get("name") or name
        except Exception:  # noqa: BLE001 - listed by file name then
            label = name
        examples.append((name, name if label == name else f"{name} ({label})"))
    jobs = [(j.id, f"{j.name} · {j.id} · {j.status}")
            for j in store.list_jobs(limit=100) if j.sweep_id is None]
    return examples, jobs


def _base(start: str, store) -> tuple[dict | None, str]:
    """The starting document and its label, or ``(None, reason)``."""
    kind, _, ident = start.partition(":")
    if kind == "example" and ident in forms.examples():
        doc, _folder = forms.example_document(ident)
        return doc, f"the bundled example '{ident}'"
    if kind == "job":
        job = store.get_job(ident)
        if job is not None:
            return dict(job.scenario), f"scenario '{job.name}' ({job.id})"
    return None, f"no starting point '{start}'"


def _folder(start: str):
    """The folder an example's relative paths start from (``None`` for other starts)."""
    kind, _, ident = start.partition(":")
    return forms.examples()[ident].parent if kind == "example" and ident in forms.examples() else None


def _display(field: forms.Field, value) -> str | bool | None:
    if field.kind == "bool":
        return bool(value)
    if value is None:
        return None
    if field.kind == "money" and isinstance(value, (int, float)):
        return f"{value:.0f}"
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return str(value)


def _plan_start(start: str, store) -> str | None:
    """The id of the earlier scenario ``start`` names when it ended with a plan (a what-if
    may start from that plan), else None."""
    kind, _, ident = start.partition(":")
    if kind != "job":
        return None
    job = store.get_job(ident)
    return job.id if job is not None and services.has_plan(job) else None


def _form_page(request, who, store, start: str, base: dict | None, label: str,
               values: dict | None = None, errors: dict | None = None, status_code: int = 200):
    examples, jobs = _start_options(store)
    if base is not None and values is None:
        values = {f.name: _display(f, f.value(base)) for f in forms.FIELDS}
        if start.startswith("job:"):
            values["name"] = f"{base.get('name', 'scenario')} (changed)"[:200]
    tables = edits.tables_context(base, store, get_checker(request), _folder(start))
    return page("new.html", status_code, **page_context(
        request, who, title="New scenario", nav="new", example_options=examples,
        job_options=jobs, start=start, start_label=label, base=base, fields=forms.FIELDS,
        plan_start=base is not None and _plan_start(start, store) is not None,
        objectives=forms.OBJECTIVES, values=values or {}, errors=errors or {}, **tables))


@router.get("/scenarios/new", response_class=HTMLResponse)
def new_scenario_form(request: Request, who: PageUser, store: StoreDep,
                      settings: SettingsDep) -> HTMLResponse:
    """The form: a starting point (``?from=example:demo`` or ``job:<id>``) and its fields."""
    store = store.for_team(who.team)
    _need_planner(who)
    start = request.query_params.get("from", "example:demo")[:100]
    base, label = _base(start, store)
    if base is None and start != "example:demo":
        return _form_page(request, who, store, start, None, label,
                          errors={"from": [label]}, status_code=404)
    return _form_page(request, who, store, start, base, label)


@router.post("/scenarios/new")
async def run_new_scenario(request: Request, who: FormPlanner, store: StoreDep,
                           settings: SettingsDep, checker: CheckerDep,
                           dispatcher: DispatcherDep):
    """Make the scenario from the form, check it as the API does, store it and queue it."""
    store = store.for_team(who.team)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    start = form.get("from", "")[:100]
    base, label = _base(start, store)
    if base is None:
        return _form_page(request, who, store, start, None, label, errors={"from": [label]},
                          status_code=422)
    values = {f.name: (form.get(f.name) if f.kind != "bool" else form.get(f.name) == "on")
              for f in forms.FIELDS}
    values.update(edits.table_values(form))
    values["start_from_plan"] = form.get("start_from_plan") == "on"
    try:
        doc = forms.build_document(base, form)
    except forms.FormProblems as err:
        return _form_page(request, who, store, start, base, label, values=values,
                          errors=forms.problems_by_field(err.problems), status_code=422)
    try:
        if start.startswith("example:"):
            imported = forms.import_example(start.partition(":")[2], store, settings, checker,
                                            who.key_id)
            keep = forms.overrides_from_form(form, base)
            doc = forms.apply_overrides(imported, keep)
        try:
            doc = edits.apply_edits(doc, form, store, settings, checker, who.key_id)
        except forms.FormProblems as err:
            return _form_page(request, who, store, start, base, label, values=values,
                              errors=forms.problems_by_field(err.problems), status_code=422)
        scenario = Scenario.model_validate(doc)
        doc = services.check_submission(scenario, store, settings, checker)
    except HTTPException as err:
        detail = err.detail if isinstance(err.detail, list) else [
            services.problem(None, str(err.detail))]
        problems = [(forms._field_of(p.get("column")), forms._say(_P(p))) for p in detail]
        return _form_page(request, who, store, start, base, label, values=values,
                          errors=forms.problems_by_field(problems), status_code=422)
    earlier = _plan_start(start, store) if values["start_from_plan"] else None
    job = store.add_job(doc, name=scenario.name, created_by=who.key_id, start_from=earlier)
    if dispatcher is not None:
        dispatcher.wake()
    return RedirectResponse(f"/scenarios/{job.id}", status_code=303)


class _P:
    """A problem dict seen as a :class:`mdtplan.errors.Problem` (column, message, hint)."""

    def __init__(self, d: dict):
        self.column = d.get("column")
        self.message = d.get("message", "")
        hint = d.get("hint")
        where = ", ".join(f"{k} {d[k]}" for k in ("file", "row") if d.get(k))
        self.hint = "; ".join(x for x in (where, hint) if x) or None


def _progress_context(job, settings) -> dict:
    limit = words.time_limit(job.scenario or {}, settings.job_time_limit_s)
    return {"p": words.progress(job, limit, time.time()), "active": job.status in ACTIVE}


@router.get("/scenarios/{job_id}", response_class=HTMLResponse)
def scenario_page(request: Request, job_id: str, who: PageUser, store: StoreDep,
                  settings: SettingsDep) -> HTMLResponse:
    """A scenario: its progress while it runs; its plan, map, tables and finance after."""
    store = store.for_team(who.team)
    job = services.get_job(store, job_id)
    out = services.job_out(job, settings)
    try:
        _may_tidy(who, job)
        may_tidy = True
    except HTTPException:
        may_tidy = False
    context = page_context(request, who, title=job.name, nav="scenarios", job=out,
                           s=job.summary or {}, links=out.links, may_tidy=may_tidy,
                           archived=job.archived_at is not None,
                           edited=edits.edited_inputs(job.scenario or {}, store))
    if job.status in ACTIVE:
        context.update(_progress_context(job, settings))
    elif job.summary:
        folder = services._safe_file(job, settings, "summary.json")
        folder = folder.parent if folder is not None else None
        s = job.summary
        savings = (s.get("savings") or {}).get("total") or {}
        context.update(
            quality=result.headline_quality(s),
            started=result.start_from_words(s.get("start_from")),
            stage_rows=result.stage_rows(s), insights=result.insights(s),
            finance_rows=result.finance_rows(s),
            saving=savings.get("saving_gbp"), baseline_cost=savings.get("baseline_gbp"),
            tables=result.tables(folder) if folder else [],
            csvs=sorted(n for n in result.DOWNLOADABLE
                        if folder is not None and (folder / n).is_file()),
            gpkg=folder is not None and (folder / "areas.geojson").is_file(), zip=zip)
    return page("scenario.html", **context)


@router.get("/scenarios/{job_id}/progress", response_class=HTMLResponse)
def scenario_progress(request: Request, job_id: str, who: PageUser, store: StoreDep,
                      settings: SettingsDep) -> Response:
    """The progress panel alone (polled); once the run has ended, the page reloads."""
    store = store.for_team(who.team)
    job = services.get_job(store, job_id)
    if job.status not in ACTIVE:
        return Response(status_code=204, headers={"HX-Refresh": "true"})
    out = services.job_out(job, settings)
    return page("_progress.html", **page_context(request, who, job=out,
                                                 **_progress_context(job, settings)))


@router.post("/scenarios/{job_id}/cancel")
async def cancel_from_page(request: Request, job_id: str, who: FormPlanner,
                           store: StoreDep) -> Response:
    """Cancel a queued or running scenario, then back to its page (which says what is kept)."""
    store = store.for_team(who.team)
    services.cancel_job(store, job_id, by=who.key_id)
    return RedirectResponse(f"/scenarios/{job_id}", status_code=303)


@router.get("/scenarios/{job_id}/files/{name}")
def scenario_file(job_id: str, name: str, who: PageUser, store: StoreDep,
                  settings: SettingsDep) -> FileResponse:
    """A result file (CSV tables, the scenario as run, the waterfall) or the catchments as a
    GeoPackage (made on first request from the areas and their hubs)."""
    store = store.for_team(who.team)
    job = services.get_job(store, job_id)
    if name == "catchments.gpkg":
        areas = services.result_file(job, settings, "areas.geojson")
        path = areas.parent / "catchments.gpkg"
        if not path.is_file():
            _write_catchments(areas, path)
        return FileResponse(path, filename=f"{job.id}-catchments.gpkg",
                            media_type="application/geopackage+sqlite3")
    if name not in result.DOWNLOADABLE:
        raise services.not_found("file", name)
    path = services.result_file(job, settings, name)
    media = {"csv": "text/csv; charset=utf-8", "json": "application/json",
             "png": "image/png"}[name.rsplit(".", 1)[1]]
    return FileResponse(path, filename=f"{job.id}-{name}", media_type=media)


def _write_catchments(areas_geojson, target) -> None:
    """Each hub's areas dissolved into its catchment (EPSG:27700), with the areas as a layer."""
    import geopandas as gpd

    areas = gpd.read_file(areas_geojson)
    tmp = target.with_suffix(".tmp.gpkg")
    areas.to_crs(27700).to_file(tmp, layer="areas", driver="GPKG")
    hub_col = next((c for c in ("hub", "site_id", "hub_id") if c in areas.columns), None)
    if hub_col is not None:
        catchments = areas.to_crs(27700).dissolve(by=hub_col, as_index=False)
        keep = [c for c in (hub_col, "hub_name", "geometry") if c in catchments.columns]
        catchments[keep].to_file(tmp, layer="catchments", driver="GPKG")
    tmp.replace(target)


# ----------------------------------------------------------------------------- housekeeping
def _may_tidy(who, job) -> None:
    """Planners archive and delete their own ended scenarios; administrators any of their
    team's (the job was found through the team's store: another team's is 404 already)."""
    if job.status in ACTIVE:
        raise HTTPException(409, detail=f"scenario {job.id} is {job.status}: cancel it first, "
                                        "or wait for it to end")
    if ROLE_RANK[who.role] >= ROLE_RANK["admin"]:
        return
    _need_planner(who)
    if job.created_by != who.key_id:
        raise HTTPException(403, detail="planners can archive or delete only the scenarios "
                                        "they made; ask an administrator")


@router.post("/scenarios/{job_id}/archive")
async def archive_from_page(request: Request, job_id: str, who: FormPlanner, store: StoreDep):
    """Archive an ended scenario (hidden from the list unless asked for) or restore it."""
    store = store.for_team(who.team)
    job = services.get_job(store, job_id)
    _may_tidy(who, job)
    archived = (await request.form()).get("archived", "1") == "1"
    store.set_archived(job_id, archived)
    what = "archived" if archived else "restored"
    return RedirectResponse(f"/?notice=Scenario+{job_id}+{what}", status_code=303)


@router.get("/scenarios/{job_id}/delete", response_class=HTMLResponse)
def confirm_delete(request: Request, job_id: str, who: PageUser, store: StoreDep):
    """Ask before deleting: what goes (the row and its outputs) and what stays (datasets)."""
    store = store.for_team(who.team)
    job = services.get_job(store, job_id)
    _may_tidy(who, job)
    return page("delete.html", **page_context(request, who, title=f"Delete {job.name}",
                                              nav="scenarios", job=job))


@router.post("/scenarios/{job_id}/delete")
async def delete_from_page(request: Request, job_id: str, who: FormPlanner, store: StoreDep,
                           settings: SettingsDep):
    """Delete an ended scenario and its result folder; its uploaded datasets stay."""
    store = store.for_team(who.team)
    job = services.get_job(store, job_id)
    _may_tidy(who, job)
    services.delete_job(store, settings, job)
    return RedirectResponse(f"/?notice=Scenario+{job_id}+deleted", status_code=303)
@router.get("/scenarios/{job_id}/finance", response_class=HTMLResponse)
def scenario_finance(request: Request, job_id: str, who: PageUser, store: StoreDep,
                     settings: SettingsDep) -> HTMLResponse:
    """The finance panel: today against the plan line by line, the workstreams low / most
    likely / high, benefit to investment, payback, NPV and Monte Carlo, each with a chart."""
    store = store.for_team(who.team)
    job = services.get_job(store, job_id)
    out = services.job_out(job, settings)
    panel = finance.panel(job.summary) if job.summary and job.status not in ACTIVE else None
    if panel is None:
        reason = ("The run has not ended yet: its finance figures come when it finishes."
                  if job.status in ACTIVE else
                  "This scenario has no finance figures: give it a finance section (with "
                  "finance.baseline for the cost against today) and run it again.")
    else:
        reason = ""
    png = services._safe_file(job, settings, "savings_waterfall.png")
    return page("finance.html", **page_context(
        request, who, title=f"Finance: {job.name}", nav="scenarios", job=out, fp=panel,
        reason=reason, links=out.links, waterfall_png=png is not None and png.is_file()))

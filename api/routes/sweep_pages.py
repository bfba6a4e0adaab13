"""The sweep pages: the list of sweeps, a new sweep defined in a form, and a sweep's progress,
table of variants and frontier chart.

A sweep made here goes through :func:`api.services.expand_sweep`, the same checks as
``POST /v1/sweeps``; its variants are jobs like any other, each with its own page.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from mdtplan.errors import ScenarioError
from mdtplan.scenario import Scenario, apply_overrides, parse_scenario

from .. import services
from ..deps import CheckerDep, DispatcherDep, FormPlanner, PageUser, SettingsDep, StoreDep
from ..schemas import SweepIn, VaryAxis
from ..store import TERMINAL
from ..web import forms, sweeps
from ..web.render import page
from .pages import page_context
from .workspace import _base, _need_planner, _start_options

router = APIRouter(tags=["pages"], include_in_schema=False)

POLL_S = 2


def _jobs(store, sweep_id: str):
    return store.list_jobs(sweep_id=sweep_id, limit=10_000, newest_first=False)


@router.get("/sweeps", response_class=HTMLResponse)
def sweeps_page(request: Request, who: PageUser, store: StoreDep,
                settings: SettingsDep) -> HTMLResponse:
    """The sweeps, newest first, with how many of their variants have ended."""
    store = store.for_team(who.team)
    rows = []
    for sweep in store.list_sweeps(limit=100):
        out = services.sweep_out(sweep, _jobs(store, sweep.id), settings)
        done = sum(n for status, n in out.counts.items() if status in TERMINAL)
        rows.append((out, done, len(out.variants)))
    return page("sweeps.html", **page_context(request, who, title="Sweeps", nav="sweeps",
                                              rows=rows, describe=sweeps.describe,
                                              key_label=sweeps.key_label))


def _form_page(request, who, store, settings, form: dict, errors: dict | None = None,
               axes=None, status_code: int = 200) -> HTMLResponse:
    examples, jobs = _start_options(store)
    start = form.get("from", "example:demo")
    base, label = _base(start, store)
    values = dict(form)
    if base is not None:
        for f in sweeps.BASE_FIELDS:
            values.setdefault(f.name, _text(f.value(base)))
        values.setdefault("threads", _text((base.get("solver") or {}).get("threads")))
        values.setdefault("name", f"{base.get('name', 'scenario')} sweep"[:200])
    count = sweeps.variant_count(axes) if axes else None
    return page("sweep_new.html", status_code, **page_context(
        request, who, title="New sweep", nav="sweeps", example_options=examples,
        job_options=jobs, start=start, start_label=label, base=base, values=values,
        errors=errors or {}, axis_fields=sweeps.AXIS_FIELDS, base_fields=sweeps.BASE_FIELDS,
        axes=axes, count=count, max_variants=settings.sweep_max_variants,
        n_axes=sweeps.AXES, describe=sweeps.describe, key_label=sweeps.key_label))


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return str(value)


@router.get("/sweeps/new", response_class=HTMLResponse)
def new_sweep_form(request: Request, who: PageUser, store: StoreDep,
                   settings: SettingsDep) -> HTMLResponse:
    """The form: a starting point (``?from=example:demo`` or ``job:<id>``) and one or two
    axes."""
    store = store.for_team(who.team)
    _need_planner(who)
    form = {"from": request.query_params.get("from", "example:demo")[:100]}
    base, label = _base(form["from"], store)
    if base is None:
        return _form_page(request, who, store, settings, form, {"from": [label]},
                          status_code=404)
    return _form_page(request, who, store, settings, form)


def _check_grid(form: dict, settings) -> tuple[list, dict]:
    axes, errors = sweeps.read_axes(form)
    count = sweeps.variant_count(axes)
    if not errors and count > settings.sweep_max_variants:
        errors = {"axis1_steps": [f"The grid has {count} variants, more than the "
                                  f"{settings.sweep_max_variants} this service runs in one "
                                  "sweep: use fewer steps"]}
    return axes, errors


@router.get("/sweeps/new/count", response_class=HTMLResponse)
def variant_count(request: Request, who: PageUser, settings: SettingsDep) -> HTMLResponse:
    """The number of variants the form's grid makes (the form updates it as it is filled)."""
    form = {k: v for k, v in request.query_params.items()}
    axes, errors = _check_grid(form, settings)
    return page("_sweep_count.html", count=sweeps.variant_count(axes), errors=errors,
                max_variants=settings.sweep_max_variants)


@router.post("/sweeps/new")
async def run_new_sweep(request: Request, who: FormPlanner, store: StoreDep,
                        settings: SettingsDep, checker: CheckerDep,
                        dispatcher: DispatcherDep):
    """Check the grid (and, on "Run", every variant as ``POST /v1/sweeps`` does), store the
    sweep and queue its variants; "Check the grid" only shows the variants."""
    store = store.for_team(who.team)
    form = {k: v for k, v in (await request.form()).items()
            if isinstance(v, str) and k != "csrf_token"}
    form["from"] = form.get("from", "")[:100]
    base, label = _base(form["from"], store)
    if base is None:
        return _form_page(request, who, store, settings, form, {"from": [label]},
                          status_code=422)
    axes, errors = _check_grid(form, settings)
    overrides, more = sweeps.base_overrides(form, base)
    for k, v in more.items():
        errors.setdefault(k, []).extend(v)
    name = (form.get("name") or "").strip()[:200] or None
    if name is not None:  # the variants are named after the sweep and their values
        overrides["name"] = name
    if not errors:
        try:
            parse_scenario(apply_overrides(base, overrides))
        except ScenarioError as err:
            errors = forms.problems_by_field(
                [(forms._field_of(p.column), forms._say(p)) for p in err.problems])
    if errors or form.get("action") == "check":
        return _form_page(request, who, store, settings, form, errors, axes,
                          status_code=422 if errors else 200)
    try:
        doc = base
        if form["from"].startswith("example:"):
            doc = forms.import_example(form["from"].partition(":")[2], store, settings,
                                       checker, who.key_id)
        doc = apply_overrides(doc, overrides)
        body = SweepIn(name=name, scenario=Scenario.model_validate(doc),
                       vary=[VaryAxis(key=a.key, values=list(a.values)) for a in axes])
        base_doc, variants = services.expand_sweep(body, store, settings, checker)
    except ValidationError as err:
        problems = [(None, f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}")
                    for e in err.errors()]
        return _form_page(request, who, store, settings, form,
                          forms.problems_by_field(problems), axes, status_code=422)
    except HTTPException as err:
        detail = err.detail if isinstance(err.detail, list) else [
            services.problem(None, str(err.detail))]
        problems = [(None, f"{p.get('column') or 'scenario'}: {p.get('message')}"
                           + (f" ({p['hint']})" if p.get("hint") else "")) for p in detail]
        return _form_page(request, who, store, settings, form,
                          forms.problems_by_field(problems), axes, status_code=422)
    sweep, _jobs_made = store.add_sweep(
        name=body.name or body.scenario.name, scenario=base_doc,
        vary=[a.model_dump(mode="json") for a in body.vary], variants=variants,
        created_by=who.key_id)
    if dispatcher is not None:
        dispatcher.wake()
    return RedirectResponse(f"/sweeps/{sweep.id}", status_code=303)


def _sweep_context(store, settings, sweep_id: str, metric: str | None) -> dict:
    sweep = store.get_sweep(sweep_id)
    if sweep is None:
        raise services.not_found("sweep", sweep_id)
    jobs = _jobs(store, sweep_id)
    out = services.sweep_out(sweep, jobs, settings)
    rows = sweeps.variant_rows(jobs)
    if metric not in sweeps.METRICS:
        metric = sweeps.default_metric(sweep.vary)
    chart, chart_key = sweeps.frontier(rows, sweep.vary, metric, sweep.id)
    done = sum(1 for j in jobs if j.status in TERMINAL)
    return {"sweep": out, "rows": rows, "axes": sweep.vary, "metric": metric,
            "metrics": [(k, v[0]) for k, v in sweeps.METRICS.items()], "chart": chart,
            "chart_key": chart_key, "done": done, "total": len(jobs),
            "active": done < len(jobs), "with_plan": sum(r.has_plan for r in rows),
            "describe": sweeps.describe, "key_label": sweeps.key_label, "poll_s": POLL_S,
            "money": {k for k, f in sweeps.AXIS_BY_KEY.items() if f.kind == "money"}}


@router.get("/sweeps/{sweep_id}", response_class=HTMLResponse)
def sweep_page(request: Request, sweep_id: str, who: PageUser, store: StoreDep,
               settings: SettingsDep) -> HTMLResponse:
    """A sweep: its progress, the frontier chart (``?y=`` chooses its figure) and the table
    of variants, each linking to its scenario page."""
    store = store.for_team(who.team)
    context = _sweep_context(store, settings, sweep_id, request.query_params.get("y"))
    return page("sweep.html", **page_context(request, who, title=context["sweep"].name,
                                             nav="sweeps", **context))


@router.post("/sweeps/{sweep_id}/cancel")
async def cancel_sweep_from_page(request: Request, sweep_id: str, who: FormPlanner,
                                 store: StoreDep) -> Response:
    """Cancel every variant of the sweep not yet ended, then back to the sweep's page."""
    services.cancel_sweep(store.for_team(who.team), sweep_id, by=who.key_id)
    return RedirectResponse(f"/sweeps/{sweep_id}", status_code=303)


@router.get("/sweeps/{sweep_id}/live", response_class=HTMLResponse)
def sweep_live(request: Request, sweep_id: str, who: PageUser, store: StoreDep,
               settings: SettingsDep) -> Response:
    """The progress, chart and table alone (polled while variants run)."""
    store = store.for_team(who.team)
    context = _sweep_context(store, settings, sweep_id, request.query_params.get("y"))
    return page("_sweep_live.html", **page_context(request, who, **context))

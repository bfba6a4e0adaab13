"""The compare page: two or more finished scenarios side by side (headline figures with their
differences from the first, what changed, and a two-pane map whose panes move together)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from .. import services
from ..deps import PageUser, SettingsDep, StoreDep
from ..store import CANCELLED, FINISHED
from ..web import compare
from ..web.render import page
from .pages import page_context

router = APIRouter(tags=["pages"], include_in_schema=False)

MAX_COMPARED = 6
"""The most scenarios one table compares (the map shows the first two)."""


def _has_plan(job) -> bool:
    return job.status in (FINISHED, CANCELLED) and bool((job.summary or {}).get("hubs_open"))


def _folder(job, settings) -> Path | None:
    path = services._safe_file(job, settings, "summary.json")
    return path.parent if path is not None else None


def _hubs(folder: Path | None) -> list[dict]:
    """The plan's hubs (``site_id``, ``name``, ``lat``, ``lon``) from its ``hubs.csv``."""
    import pandas as pd

    if folder is None or not (folder / "hubs.csv").is_file():
        return []
    frame = pd.read_csv(folder / "hubs.csv", dtype={"site_id": str})
    out = []
    for rec in frame.to_dict("records"):
        lat, lon = rec.get("lat"), rec.get("lon")
        if pd.isna(lat) or pd.isna(lon):
            continue
        name = rec.get("name")
        out.append({"site_id": str(rec["site_id"]),
                    "name": str(name) if pd.notna(name) else str(rec["site_id"]),
                    "lat": float(lat), "lon": float(lon)})
    return out


def _map_context(jobs, settings) -> dict | None:
    """The two panes' data and the legend (one colour per site), or ``None`` without areas."""
    import geopandas as gpd

    folders = [_folder(j, settings) for j in jobs[:2]]
    paths = [None if f is None else f / "areas.geojson" for f in folders]
    if not all(p is not None and p.is_file() for p in paths):
        return None
    colours = compare.site_colours([gpd.read_file(p) for p in paths])
    panes = []
    legend: dict[str, dict] = {}
    for i, (job, folder) in enumerate(zip(jobs[:2], folders, strict=True)):
        hubs = _hubs(folder)
        panes.append({"job": job, "letter": "AB"[i],
                      "geojson": f"/v1/scenarios/{job.id}/result/geojson", "hubs": hubs})
        for h in hubs:
            entry = legend.setdefault(h["site_id"], {**h, "panes": []})
            entry["panes"].append(i)
    for site, entry in legend.items():
        entry["colour"] = colours.get(site, "#505a5f")
    rows = sorted(legend.values(), key=lambda e: e["name"].casefold())
    return {"panes": panes, "legend": rows}


@router.get("/compare", response_class=HTMLResponse)
def compare_page(request: Request, who: PageUser, store: StoreDep,
                 settings: SettingsDep) -> HTMLResponse:
    """Choose scenarios (``?ids=a&ids=b``); with two or more, the comparison."""
    store = store.for_team(who.team)
    wanted: list[str] = []
    for ident in request.query_params.getlist("ids"):
        ident = ident.strip()[:40]
        if ident and ident not in wanted:
            wanted.append(ident)
    problems, chosen = [], []
    for ident in wanted[:MAX_COMPARED]:
        job = store.get_job(ident)
        if job is None:
            problems.append(f"There is no scenario {ident}.")
        elif not _has_plan(job):
            problems.append(f"Scenario '{job.name}' ({job.id}) has no plan to compare "
                            f"({job.status}).")
        else:
            chosen.append(job)
    if len(wanted) > MAX_COMPARED:
        problems.append(f"At most {MAX_COMPARED} scenarios can be compared at once; the first "
                        f"{MAX_COMPARED} are shown.")
    options = [j for j in store.list_jobs(limit=300) if _has_plan(j)]
    chosen_ids = [j.id for j in chosen]
    options = chosen + [j for j in options if j.id not in chosen_ids]
    context = {"options": [services.job_out(j, settings) for j in options],
               "chosen_ids": chosen_ids, "problems": problems, "rows": None}
    status_code = 404 if problems and not chosen and wanted else 200
    if len(chosen) >= 2:
        summaries = [j.summary or {} for j in chosen]
        context.update(
            jobs=[services.job_out(j, settings) for j in chosen],
            rows=compare.headline_rows(summaries),
            travel_unit=summaries[0].get("travel_unit") or "minutes",
            changes=compare.read_changes(_folder(chosen[0], settings),
                                         _folder(chosen[1], settings)),
            map=_map_context(chosen, settings))
    title = "Compare scenarios"
    if len(chosen) >= 2:
        title = "Compare " + " with ".join(j.name for j in chosen[:2])
        title += f" and {len(chosen) - 2} more" if len(chosen) > 2 else ""
    return page("compare.html", status_code,
                **page_context(request, who, title=title, nav="compare", **context))

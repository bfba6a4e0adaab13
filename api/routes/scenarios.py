"""Scenarios: submit (stored before the 202), list, status, cancel, and the results.

Each route sees only the caller's team's scenarios: another team's id is 404, as for one that
does not exist.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import FileResponse

from mdtplan.scenario import Scenario

from .. import services
from ..deps import CheckerDep, DispatcherDep, Planner, SettingsDep, StoreDep, Viewer
from ..schemas import ErrorOut, JobOut, JobStatus, ResultOut, ScenarioAccepted

router = APIRouter(prefix="/v1/scenarios", tags=["scenarios"])

MAP_CSP = ("sandbox allow-scripts allow-popups allow-popups-to-escape-sandbox "
           "allow-top-navigation-by-user-activation")
"""The map runs in an opaque origin: a script in it cannot act as the signed-in user. A click
on its link back may open the scenario's page in the whole window (when the map is embedded)."""


@router.post("", status_code=202, response_model=ScenarioAccepted,
             responses={422: {"model": ErrorOut}})
def submit_scenario(scenario: Scenario, who: Planner, store: StoreDep, settings: SettingsDep,
                    checker: CheckerDep, dispatcher: DispatcherDep,
                    response: Response,
                    start_from: Annotated[str | None, Query(
                        max_length=32, pattern=r"^[A-Za-z0-9_]+$",
                        description="A what-if: the id of one of your team's scenarios that "
                                    "ended with a plan; the solve starts from that plan, "
                                    "fitted to this scenario's rules (the summary's "
                                    "`start_from` says how it was used), so a short time "
                                    "limit gives a plan as good as a full solve's")] = None,
                    ) -> ScenarioAccepted:
    """Check a scenario (CONTRACT §2; paths name dataset ids of your team's datasets), store
    it for your team, queue its solve (from an earlier scenario's plan with ``start_from``)."""
    store = store.for_team(who.team)
    earlier = services.start_from_job(store, start_from)
    doc = services.check_submission(scenario, store, settings, checker)
    job = store.add_job(doc, name=scenario.name, created_by=who.key_id, start_from=earlier)
    if dispatcher is not None:
        dispatcher.wake()
    response.headers["Location"] = f"/v1/scenarios/{job.id}"
    return ScenarioAccepted(id=job.id, status=job.status, links=services.links(job, settings))


@router.get("", response_model=list[JobOut])
def list_scenarios(who: Viewer, store: StoreDep, settings: SettingsDep,
                   status: JobStatus | None = None,
                   limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                   offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> list[JobOut]:
    """Your team's submitted scenarios, newest first."""
    jobs = store.for_team(who.team).list_jobs(limit=limit, offset=offset, status=status)
    return [services.job_out(j, settings) for j in jobs]


@router.get("/{scenario_id}", response_model=JobOut, responses={404: {"model": ErrorOut}})
def get_scenario(scenario_id: str, who: Viewer, store: StoreDep, settings: SettingsDep) -> JobOut:
    """Status, progress while running, summary when finished, problems when failed."""
    return services.job_out(services.get_job(store.for_team(who.team), scenario_id), settings)


@router.delete("/{scenario_id}", status_code=202, response_model=JobOut,
               responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}})
def cancel_scenario(scenario_id: str, who: Planner, store: StoreDep,
                    settings: SettingsDep) -> JobOut:
    """Cancel a queued solve (at once) or a running one (``cancelling``, then ``cancelled``).

    Any planner of the scenario's team may cancel it (not only the one who submitted it); the
    key that cancelled is recorded as ``cancelled_by``."""
    job = services.cancel_job(store.for_team(who.team), scenario_id, by=who.key_id)
    return services.job_out(job, settings)


@router.get("/{scenario_id}/result", response_model=ResultOut,
            responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}})
def get_result(scenario_id: str, who: Viewer, store: StoreDep, settings: SettingsDep) -> ResultOut:
    """Summary, hubs, assignment and staffing (CONTRACT §5) as JSON."""
    return services.read_result(services.get_job(store.for_team(who.team), scenario_id), settings)


@router.get("/{scenario_id}/result/geojson", response_class=FileResponse,
            responses={200: {"content": {"application/geo+json": {}}},
                       404: {"model": ErrorOut}, 409: {"model": ErrorOut}})
def get_result_geojson(scenario_id: str, who: Viewer, store: StoreDep,
                       settings: SettingsDep) -> FileResponse:
    """The areas with the hub serving each, as a GeoJSON FeatureCollection (EPSG:4326)."""
    job = services.get_job(store.for_team(who.team), scenario_id)
    path = services.result_file(job, settings, "areas.geojson")
    return FileResponse(path, media_type="application/geo+json")


@router.get("/{scenario_id}/map", response_class=FileResponse,
            responses={200: {"content": {"text/html": {}}},
                       404: {"model": ErrorOut}, 409: {"model": ErrorOut}})
def get_map(scenario_id: str, who: Viewer, store: StoreDep, settings: SettingsDep) -> FileResponse:
    """The scenario's map page (self-contained HTML)."""
    job = services.get_job(store.for_team(who.team), scenario_id)
    path = services.result_file(job, settings, "map.html")
    return FileResponse(path, media_type="text/html; charset=utf-8",
                        headers={"Content-Security-Policy": MAP_CSP})


@router.get("/{scenario_id}/export.xlsx", response_class=FileResponse,
            responses={200: {"content": {"application/vnd.openxmlformats-officedocument."
                                         "spreadsheetml.sheet": {}}},
                       404: {"model": ErrorOut}, 409: {"model": ErrorOut}})
def get_export(scenario_id: str, who: Viewer, store: StoreDep, settings: SettingsDep) -> FileResponse:
    """The finance workbook."""
    job = services.get_job(store.for_team(who.team), scenario_id)
    path = services.result_file(job, settings, "summary.xlsx")
    return FileResponse(path, filename=f"{job.id}-summary.xlsx",
                        media_type="application/vnd.openxmlformats-officedocument."
                                   "spreadsheetml.sheet")

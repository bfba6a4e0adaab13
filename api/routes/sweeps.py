"""Sweeps: a grid of scenario variants, each a stored job, and the table of their results.

A sweep and its variants belong to the submitter's team; another team's sweep is 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from .. import services
from ..deps import CheckerDep, DispatcherDep, Planner, SettingsDep, StoreDep, Viewer
from ..schemas import ErrorOut, SweepAccepted, SweepIn, SweepOut

router = APIRouter(prefix="/v1/sweeps", tags=["sweeps"])


@router.post("", status_code=202, response_model=SweepAccepted,
             responses={422: {"model": ErrorOut}})
def submit_sweep(body: SweepIn, who: Planner, store: StoreDep, settings: SettingsDep,
                 checker: CheckerDep, dispatcher: DispatcherDep,
                 response: Response) -> SweepAccepted:
    """Check the scenario and every variant, store them all for your team, queue their
    solves."""
    store = store.for_team(who.team)
    base, variants = services.expand_sweep(body, store, settings, checker)
    sweep, jobs = store.add_sweep(name=body.name or body.scenario.name, scenario=base,
                                  vary=[a.model_dump(mode="json") for a in body.vary],
                                  variants=variants, created_by=who.key_id)
    if dispatcher is not None:
        dispatcher.wake()
    response.headers["Location"] = f"/v1/sweeps/{sweep.id}"
    return SweepAccepted(id=sweep.id, variants=[j.id for j in jobs],
                         links={"self": f"/v1/sweeps/{sweep.id}"})


@router.get("", response_model=list[SweepOut])
def list_sweeps(who: Viewer, store: StoreDep, settings: SettingsDep,
                limit: Annotated[int, Query(ge=1, le=100)] = 20,
                offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> list[SweepOut]:
    """Your team's sweeps, newest first, with their tables."""
    store = store.for_team(who.team)
    return [services.sweep_out(s, store.list_jobs(sweep_id=s.id, limit=10_000,
                                                  newest_first=False), settings)
            for s in store.list_sweeps(limit, offset)]


@router.get("/{sweep_id}", response_model=SweepOut, responses={404: {"model": ErrorOut}})
def get_sweep(sweep_id: str, who: Viewer, store: StoreDep, settings: SettingsDep) -> SweepOut:
    """The sweep's table: one row per variant with its status and headline figures."""
    store = store.for_team(who.team)
    sweep = store.get_sweep(sweep_id)
    if sweep is None:
        raise services.not_found("sweep", sweep_id)
    jobs = store.list_jobs(sweep_id=sweep_id, limit=10_000, newest_first=False)
    return services.sweep_out(sweep, jobs, settings)


@router.delete("/{sweep_id}", status_code=202, response_model=SweepOut,
               responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}})
def cancel_sweep(sweep_id: str, who: Planner, store: StoreDep, settings: SettingsDep) -> SweepOut:
    """Cancel every variant that has not ended: queued ones at once, running ones through
    ``cancelling`` (each keeps the best plan it has found, as a cancelled scenario does).
    Variants that have ended keep their plans. Any planner of the sweep's team may cancel it;
    the key is recorded as each variant's ``cancelled_by``. 409 when nothing is left to
    cancel."""
    sweep, jobs = services.cancel_sweep(store.for_team(who.team), sweep_id, by=who.key_id)
    return services.sweep_out(sweep, jobs, settings)

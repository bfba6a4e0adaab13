"""Datasets: upload a geodata file or table (checked on upload), list, read, delete.

A dataset belongs to the uploader's team: only that team sees it, names it in a scenario or
deletes it (another team's id is 404, and 422 "no dataset with id" in a scenario).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, Response, UploadFile

from .. import services
from ..deps import Admin, CheckerDep, Planner, SettingsDep, StoreDep, Viewer
from ..schemas import DatasetOut, ErrorOut

router = APIRouter(prefix="/v1/datasets", tags=["datasets"])


@router.post("", status_code=201, response_model=DatasetOut,
             responses={413: {"model": ErrorOut}, 422: {"model": ErrorOut}})
def upload_dataset(
    file: Annotated[UploadFile, File(description="GeoPackage, GeoJSON, FlatGeobuf, zipped "
                                                 "Shapefile, (Geo)Parquet, CSV/TSV, or an "
                                                 "operating model YAML")],
    who: Planner, store: StoreDep, settings: SettingsDep, checker: CheckerDep,
) -> DatasetOut:
    """Upload a file; it is read whole before the id is returned (layers, columns, rows, CRS)."""
    return services.dataset_out(services.save_upload(file, store.for_team(who.team), settings,
                                                        checker, who.key_id))


@router.get("", response_model=list[DatasetOut])
def list_datasets(who: Viewer, store: StoreDep,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                  offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> list[DatasetOut]:
    """Your team's uploaded datasets, newest first."""
    return [services.dataset_out(d)
            for d in store.for_team(who.team).list_datasets(limit, offset)]


@router.get("/{dataset_id}", response_model=DatasetOut, responses={404: {"model": ErrorOut}})
def get_dataset(dataset_id: str, who: Viewer, store: StoreDep) -> DatasetOut:
    """One of your team's datasets."""
    d = store.for_team(who.team).get_dataset(dataset_id)
    if d is None:
        raise services.not_found("dataset", dataset_id)
    return services.dataset_out(d)


@router.delete("/{dataset_id}", status_code=204, responses={404: {"model": ErrorOut}})
def delete_dataset(dataset_id: str, who: Admin, store: StoreDep,
                   settings: SettingsDep) -> Response:
    """Delete one of your team's datasets and its file (admin). Stored results are kept."""
    services.delete_dataset(store.for_team(who.team), settings, dataset_id)
    return Response(status_code=204)

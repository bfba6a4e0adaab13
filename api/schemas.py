"""Request and response models of the HTTP API.

The scenario itself is :class:`mdtplan.scenario.Scenario`, the same schema the CLI reads from
YAML: one schema, not two. Over HTTP every ``path`` in it names an uploaded dataset id
(``ds_…``), and ``operating_model`` a bundled model (``default``, ``kent-local-care`` …) or an
uploaded one.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from mdtplan.scenario import Scenario

Role = Literal["viewer", "planner", "admin", "service_admin"]
JobStatus = Literal["queued", "running", "cancelling", "finished", "failed", "cancelled"]


def timestamp(seconds: float | None) -> datetime | None:
    """Epoch seconds (as stored) to an aware UTC datetime."""
    return None if seconds is None else datetime.fromtimestamp(seconds, tz=timezone.utc)


class ProblemOut(BaseModel):
    """One thing wrong with the input: the file, row and column (key path) at fault."""

    file: str | None = None
    row: str | None = None
    column: str | None = None
    message: str
    hint: str | None = None
    severity: str = "error"


class ErrorOut(BaseModel):
    """Every error body: a message, or the list of problems (each naming its field)."""

    detail: str | list[ProblemOut]


class HealthOut(BaseModel):
    status: Literal["ok"] = "ok"
    version: str
    dispatcher: bool = Field(description="the job dispatcher is running")
    running: int = Field(description="solves running now in this server")


# ----------------------------------------------------------------------------- datasets
class DatasetLayer(BaseModel):
    name: str | None = Field(None, description="layer name (GeoPackage); null for tables")
    rows: int
    columns: list[str]
    crs: str | None = None
    geometry_type: str | None = None


class DatasetOut(BaseModel):
    id: str = Field(description="the id to name in a scenario's `path`", examples=["ds_0123456789abcdef"])
    filename: str
    format: str
    size_bytes: int
    sha256: str
    layers: list[DatasetLayer]
    operating_model: dict[str, Any] | None = None
    created_at: datetime


# ----------------------------------------------------------------------------- scenarios
class Links(BaseModel):
    self: str
    result: str | None = None
    geojson: str | None = None
    map: str | None = None
    export: str | None = None


class ScenarioAccepted(BaseModel):
    """The submission is stored: poll ``links.self`` for its progress."""

    id: str
    status: JobStatus
    links: Links


class JobOut(BaseModel):
    """A submitted scenario: its status, progress while it runs, and its summary when done."""

    id: str
    name: str
    status: JobStatus
    message: str | None = None
    progress: dict[str, Any] | None = None
    summary: dict[str, Any] | None = Field(
        None, description="summary.json of the solve (CONTRACT §5); its `status` says "
                          "optimal, feasible_at_limit, infeasible …")
    problems: list[ProblemOut] | None = Field(
        None, description="why it failed, or which rules conflict when infeasible")
    attempts: int
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    sweep_id: str | None = None
    variant: dict[str, Any] | None = None
    cancelled_by: str | None = Field(
        None, description="the id of the key that cancelled it (any planner of the team may "
                          "cancel the team's scenarios)")
    start_from: str | None = Field(
        None, description="a what-if: the scenario whose plan this one's solve started from "
                          "(`POST /v1/scenarios?start_from=ID`); the summary's `start_from` "
                          "says how it was used")
    links: Links


class ResultOut(BaseModel):
    """The result tables of a solve (the CSV files of CONTRACT §5, as records);
    ``localities`` and ``levers`` (``localities.csv``, ``levers.csv``) when the scenario has
    locality teams or levers, else null."""

    id: str
    summary: dict[str, Any]
    hubs: list[dict[str, Any]]
    assignment: list[dict[str, Any]]
    staffing: list[dict[str, Any]]
    localities: list[dict[str, Any]] | None = None
    levers: list[dict[str, Any]] | None = None


# ----------------------------------------------------------------------------- sweeps
class VaryAxis(BaseModel):
    """One axis of the grid: a scenario key (dotted, as ``--set``) and the values it takes."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$", max_length=200,
                     examples=["budget.cap"])
    values: list[JsonValue] = Field(min_length=1, max_length=1000, examples=[[18e6, 20e6, 22e6]])


class SweepIn(BaseModel):
    """A grid of variants of one scenario: every combination of the axes' values."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=200)
    scenario: Scenario
    vary: list[VaryAxis] = Field(min_length=1, max_length=5)


class SweepRow(BaseModel):
    """One variant: its values and headline figures."""

    id: str
    values: dict[str, Any]
    status: JobStatus
    solve_status: str | None = None
    objective: float | None = None
    total_cost: float | None = None
    demand_met_share: float | None = None
    hubs_open: int | None = None
    travel_mean: float | None = None
    travel_max: float | None = None
    baseline_cost: float | None = Field(
        None, description="today's annual cost (finance.baseline) [GBP/year]")
    saving_vs_baseline: float | None = Field(
        None, description="baseline_cost minus total_cost [GBP/year]")
    links: Links


class SweepOut(BaseModel):
    id: str
    name: str
    status: Literal["queued", "running", "done"]
    counts: dict[str, int]
    vary: list[VaryAxis]
    variants: list[SweepRow]
    created_at: datetime


class SweepAccepted(BaseModel):
    id: str
    variants: list[str]
    links: dict[str, str]


# ----------------------------------------------------------------------------- keys
TEAM_PATTERN = r"^[a-z0-9][a-z0-9-]{0,39}$"


class KeyIn(BaseModel):
    """A new key. ``team`` defaults to the caller's; only a service admin names another team
    or makes a ``service_admin`` key."""

    model_config = ConfigDict(extra="forbid")

    role: Role
    label: str | None = Field(None, max_length=200)
    team: str | None = Field(None, pattern=TEAM_PATTERN, examples=["adults-north"])


class KeyOut(BaseModel):
    id: str
    role: Role
    team: str = Field(description="the team whose records the key sees and changes")
    label: str | None = None
    created_at: datetime
    revoked_at: datetime | None = None


class KeyCreated(KeyOut):
    key: str = Field(description="the key itself: shown once, stored only hashed")


# ----------------------------------------------------------------------------- teams
class TeamIn(BaseModel):
    """A new team (service admin): its id, as keys and the CLI name it, and a label."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=TEAM_PATTERN, description="lower-case letters, digits and hyphens",
                    examples=["adults-north"])
    label: str | None = Field(None, max_length=200, examples=["Adult social care, north"])


class TeamOut(BaseModel):
    id: str
    label: str | None = None
    created_at: datetime
    keys: dict[str, int] = Field(description="live keys by role")

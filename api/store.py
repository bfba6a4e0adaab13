"""The durable store of the HTTP service: jobs, sweeps, datasets and API keys (SQLAlchemy 2).

SQLite (WAL mode, with a busy timeout) by default; any SQLAlchemy URL otherwise (PostgreSQL is
tested). Every method opens its own short transaction, so one :class:`Store` is shared by the
server's threads, and worker processes open their own.

Job life cycle
--------------
``queued`` → ``running`` → ``finished`` | ``failed`` | ``cancelled``; a cancel of a running job
passes through ``cancelling``. Each start (:meth:`Store.claim_next`) adds one to ``attempts``, and
a worker's writes name the attempt they belong to, so a worker left over from an earlier attempt
can never overwrite a later one. ``finished`` means the solver gave an answer; the stored
``summary['status']`` says which (optimal, feasible_at_limit, infeasible, …).

Teams
-----
Every key belongs to a team, and every job, sweep and dataset to the team of the key that made
it. :meth:`Store.for_team` gives a :class:`TeamStore`: the same methods, seeing and changing
only that team's records (another team's id is "not found"). The worker and the dispatcher use
the :class:`Store` itself and run every team's jobs. Rows written before teams existed (their
``team`` is null) belong to the team :data:`DEFAULT_TEAM`.

This module knows nothing of the model or the solver.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    JSON,
    Float,
    Integer,
    String,
    Text,
    create_engine,
    event,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

QUEUED, RUNNING, CANCELLING = "queued", "running", "cancelling"
FINISHED, FAILED, CANCELLED = "finished", "failed", "cancelled"
ACTIVE = (QUEUED, RUNNING, CANCELLING)
TERMINAL = (FINISHED, FAILED, CANCELLED)
JOB_STATUSES = ACTIVE + TERMINAL

ROLES = ("viewer", "planner", "admin", "service_admin")
"""API key roles, weakest first: each role may do what the ones before it may. ``admin``
manages its own team's keys; ``service_admin`` also manages teams and every team's keys."""
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}
ADMIN_ROLES = ("admin", "service_admin")

DEFAULT_TEAM = "default"
"""The team of keys, jobs, sweeps and datasets made before teams existed."""
TEAM_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
"""A team's id: lower-case letters, digits and hyphens, 40 characters at most."""

KEY_PREFIX = "mdtp"


def now() -> float:
    """Seconds since the epoch (UTC) [s]; every timestamp in the store is one of these."""
    return time.time()


def new_id(prefix: str) -> str:
    """A random id such as ``sc_3f9a0c1b2d4e5f60`` (64 random bits)."""
    return f"{prefix}_{secrets.token_hex(8)}"


def hash_key(key: str) -> str:
    """SHA-256 of a whole API key, hex (what is stored; the key itself never is)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Job(Base):
    """One submitted scenario solve (a sweep's variants are jobs too)."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), index=True)
    scenario: Mapped[dict[str, Any]]
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[float] = mapped_column(Float, index=True)
    updated_at: Mapped[float] = mapped_column(Float)
    started_at: Mapped[float | None] = mapped_column(Float)
    finished_at: Mapped[float | None] = mapped_column(Float)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker_pid: Mapped[int | None] = mapped_column(Integer)
    worker_host: Mapped[str | None] = mapped_column(String(255))
    progress: Mapped[dict[str, Any] | None]
    summary: Mapped[dict[str, Any] | None]
    problems: Mapped[list[Any] | None]
    message: Mapped[str | None] = mapped_column(Text)
    result_dir: Mapped[str | None] = mapped_column(Text)
    sweep_id: Mapped[str | None] = mapped_column(String(32), index=True)
    variant: Mapped[dict[str, Any] | None]
    archived_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    team: Mapped[str | None] = mapped_column(String(40), index=True)
    cancelled_by: Mapped[str | None] = mapped_column(String(32))
    #: a what-if: the scenario whose plan this one's solve starts from
    start_from: Mapped[str | None] = mapped_column(String(32), nullable=True)


class Sweep(Base):
    """A grid of scenario variants; each variant is a :class:`Job` with this ``sweep_id``."""

    __tablename__ = "sweeps"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(500))
    scenario: Mapped[dict[str, Any]]
    vary: Mapped[list[Any]]
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[float] = mapped_column(Float, index=True)
    team: Mapped[str | None] = mapped_column(String(40), index=True)


class Dataset(Base):
    """An uploaded file, checked on upload, that scenarios name by id."""

    __tablename__ = "datasets"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    format: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(Text)
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    info: Mapped[dict[str, Any]]
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[float] = mapped_column(Float, index=True)
    team: Mapped[str | None] = mapped_column(String(40), index=True)


class ApiKey(Base):
    """An API key: its public id (the part before the secret) and the SHA-256 of the key."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[float] = mapped_column(Float)
    revoked_at: Mapped[float | None] = mapped_column(Float)
    team: Mapped[str | None] = mapped_column(String(40))


class Team(Base):
    """A team: its keys see and change only its own jobs, sweeps and datasets."""

    __tablename__ = "teams"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[float] = mapped_column(Float)


def team_of(record) -> str:
    """The team a key, job, sweep or dataset belongs to (:data:`DEFAULT_TEAM` for old rows)."""
    return getattr(record, "team", None) or DEFAULT_TEAM


def _in_team(column, team: str):
    """``column`` is ``team`` (a null belongs to the default team)."""
    if team == DEFAULT_TEAM:
        return or_(column == team, column.is_(None))
    return column == team


class LastAdminError(ValueError):
    """Revoking this key would leave its team (or the service) without an administrator."""

def _sqlite_pragmas(engine: Engine, busy_timeout_ms: int) -> None:
    """WAL journal, busy timeout, and ``BEGIN IMMEDIATE`` for write transactions.

    pysqlite's own transaction handling is turned off so that a write transaction takes the
    write lock when it begins (and waits up to the busy timeout for it), instead of failing
    with "database is locked" when a read turns into a write under WAL.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        immediate = conn.get_execution_options().get("mdtplan_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Store:
    """Jobs, sweeps, datasets and API keys in one SQL database.

    Parameters
    ----------
    url : str
        SQLAlchemy URL, e.g. ``sqlite:////srv/mdtplan/mdtplan.sqlite`` or
        ``postgresql+psycopg://user@/mdtplan?host=/run/postgresql``.
    busy_timeout_s : float
        SQLite only: how long a writer waits for the lock [s].
    """

    def __init__(self, url: str, *, busy_timeout_s: float = 30.0):
        self.url = url
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {"future": True}
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": busy_timeout_s}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            _sqlite_pragmas(self.engine, int(busy_timeout_s * 1000))
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(self.engine.execution_options(mdtplan_write=True),
                                   expire_on_commit=False)

    def create_all(self) -> None:
        """Create the tables that do not exist yet, and add nullable columns that a store
        made by an earlier version lacks (``jobs.archived_at``, the ``team`` columns,
        ``jobs.cancelled_by``); nothing is dropped. The default team's row is made if missing
        (rows without a team belong to it)."""
        Base.metadata.create_all(self.engine)
        from sqlalchemy import inspect as sa_inspect
        from sqlalchemy import text

        have = sa_inspect(self.engine)
        for table in Base.metadata.sorted_tables:
            present = {c["name"] for c in have.get_columns(table.name)}
            for column in table.columns:
                if column.name in present or not column.nullable:
                    continue
                kind = column.type.compile(dialect=self.engine.dialect)
                with self.engine.begin() as conn:
                    conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'))
        from sqlalchemy.exc import IntegrityError

        try:
            with self.writing() as s:
                if s.get(Team, DEFAULT_TEAM) is None:
                    s.add(Team(id=DEFAULT_TEAM, label="Default team", created_at=now()))
        except IntegrityError:  # another process made it at the same moment
            pass

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with self._read() as session, session.begin():
            yield session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        with self._write() as session, session.begin():
            yield session

    # ------------------------------------------------------------------ teams
    def create_team(self, team_id: str, label: str | None = None) -> Team:
        """Make a team; ``ValueError`` for an id that is not lower-case letters, digits and
        hyphens, or one that exists already."""
        if not isinstance(team_id, str) or not TEAM_ID.match(team_id):
            raise ValueError(f"a team id is lower-case letters, digits and hyphens (40 at "
                             f"most, starting with a letter or digit), not {team_id!r}")
        with self.writing() as s:
            if s.get(Team, team_id) is not None:
                raise ValueError(f"team {team_id} exists already")
            record = Team(id=team_id, label=label, created_at=now())
            s.add(record)
        return record

    def get_team(self, team_id: str) -> Team | None:
        with self.reading() as s:
            return s.get(Team, team_id)

    def list_teams(self) -> list[Team]:
        with self.reading() as s:
            return list(s.scalars(select(Team).order_by(Team.id)))

    def count_live_keys(self) -> dict[tuple[str, str], int]:
        """Live (not revoked) keys by ``(team, role)``."""
        with self.reading() as s:
            rows = s.execute(select(ApiKey.team, ApiKey.role, func.count())
                             .where(ApiKey.revoked_at.is_(None))
                             .group_by(ApiKey.team, ApiKey.role))
            out: dict[tuple[str, str], int] = {}
            for team, role, n in rows:
                k = (team or DEFAULT_TEAM, role)
                out[k] = out.get(k, 0) + n
            return out

    # ------------------------------------------------------------------ API keys
    def create_key(self, role: str, label: str | None = None, *,
                   team: str = DEFAULT_TEAM) -> tuple[str, ApiKey]:
        """Make a key of ``team``; return ``(key, record)``. The key is shown once and stored
        hashed.

        The key reads ``mdtp_<id>_<secret>``: ``id`` (12 hex characters) finds the record,
        ``secret`` carries 256 random bits. ``ValueError`` for an unknown role or team.
        """
        if role not in ROLE_RANK:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        key_id = secrets.token_hex(6)
        key = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
        record = ApiKey(id=key_id, key_hash=hash_key(key), role=role, label=label,
                        created_at=now(), revoked_at=None, team=team)
        with self.writing() as s:
            if s.get(Team, team) is None:
                raise ValueError(f"no team {team}")
            s.add(record)
        return key, record

    def verify_key(self, key: str) -> ApiKey | None:
        """The live key record matching ``key``, or ``None`` (compared in constant time)."""
        parts = key.split("_", 2) if isinstance(key, str) else []
        if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != 12:
            return None
        record = self.get_key(parts[1])
        expected = record.key_hash if record is not None else "0" * 64
        ok = hmac.compare_digest(hash_key(key), expected)
        if record is None or not ok or record.revoked_at is not None:
            return None
        return record

    def get_key(self, key_id: str) -> ApiKey | None:
        with self.reading() as s:
            return s.get(ApiKey, key_id)

    def list_keys(self, team: str | None = None) -> list[ApiKey]:
        """Keys, oldest first: every team's, or ``team``'s only."""
        q = select(ApiKey)
        if team is not None:
            q = q.where(_in_team(ApiKey.team, team))
        with self.reading() as s:
            return list(s.scalars(q.order_by(ApiKey.created_at, ApiKey.id)))

    def revoke_key(self, key_id: str) -> ApiKey | None:
        """Revoke a key (kept for the record); ``None`` if there is no such key.

        Raises
        ------
        LastAdminError
            When the key is the last live admin key of its team (an admin or service admin
            key), or the service's last live service admin key: nobody could then manage the
            team's keys (or the teams).
        """
        with self.writing() as s:
            record = s.get(ApiKey, key_id)
            if record is None or record.revoked_at is not None:
                return record
            team = team_of(record)
            if record.role in ADMIN_ROLES:
                # lock the team's row while counting (PostgreSQL; SQLite's write transaction
                # is exclusive already), so two revocations at once cannot both pass
                s.execute(select(Team.id).where(Team.id == team).with_for_update())
                admins = s.scalar(select(func.count()).select_from(ApiKey).where(
                    _in_team(ApiKey.team, team), ApiKey.revoked_at.is_(None),
                    ApiKey.role.in_(ADMIN_ROLES)))
                if admins <= 1:
                    raise LastAdminError(
                        f"key {key_id} is the last admin key of team {team}: make another "
                        "admin key for the team first, then revoke this one")
            if record.role == "service_admin":
                services = s.scalar(select(func.count()).select_from(ApiKey).where(
                    ApiKey.revoked_at.is_(None), ApiKey.role == "service_admin"))
                if services <= 1:
                    raise LastAdminError(
                        f"key {key_id} is the service's last service_admin key: make another "
                        "(mdtplan keys create --role service_admin) first, then revoke this one")
            record.revoked_at = now()
            return record

    # ------------------------------------------------------------------ datasets
    def add_dataset(self, **fields) -> Dataset:
        fields.setdefault("created_at", now())
        record = Dataset(**fields)
        with self.writing() as s:
            s.add(record)
        return record

    def get_dataset(self, dataset_id: str) -> Dataset | None:
        with self.reading() as s:
            return s.get(Dataset, dataset_id)

    def get_datasets(self, ids: list[str]) -> dict[str, Dataset]:
        """The datasets among ``ids`` that exist, by id."""
        if not ids:
            return {}
        with self.reading() as s:
            rows = s.scalars(select(Dataset).where(Dataset.id.in_(sorted(set(ids)))))
            return {d.id: d for d in rows}

    def find_dataset(self, sha256: str, filename: str, *,
                     team: str | None = None) -> Dataset | None:
        """The oldest dataset holding exactly this file (same content and name), if any (of
        ``team`` only, when given)."""
        q = select(Dataset).where(Dataset.sha256 == sha256, Dataset.filename == filename)
        if team is not None:
            q = q.where(_in_team(Dataset.team, team))
        with self.reading() as s:
            return s.scalars(q.order_by(Dataset.created_at, Dataset.id).limit(1)).first()

    def list_datasets(self, limit: int = 100, offset: int = 0, *,
                      team: str | None = None) -> list[Dataset]:
        q = select(Dataset)
        if team is not None:
            q = q.where(_in_team(Dataset.team, team))
        with self.reading() as s:
            q = q.order_by(Dataset.created_at.desc(), Dataset.id)
            return list(s.scalars(q.limit(limit).offset(offset)))

    def delete_dataset(self, dataset_id: str) -> Dataset | None:
        with self.writing() as s:
            record = s.get(Dataset, dataset_id)
            if record is not None:
                s.delete(record)
            return record

    # ------------------------------------------------------------------ jobs
    def add_job(self, scenario: dict, *, name: str, created_by: str | None = None,
                sweep_id: str | None = None, variant: dict | None = None,
                team: str = DEFAULT_TEAM, start_from: str | None = None) -> Job:
        """Store a queued job of ``team`` (committed when this returns); ``start_from``: the
        job whose plan its solve starts from (a what-if)."""
        job = self._new_job(scenario, name, created_by, sweep_id, variant, team)
        job.start_from = start_from
        with self.writing() as s:
            s.add(job)
        return job

    @staticmethod
    def _new_job(scenario, name, created_by, sweep_id, variant, team=DEFAULT_TEAM) -> Job:
        t = now()
        return Job(id=new_id("sc"), name=name, status=QUEUED, scenario=scenario,
                   created_by=created_by, created_at=t, updated_at=t, attempts=0,
                   sweep_id=sweep_id, variant=variant, team=team)

    def get_job(self, job_id: str) -> Job | None:
        with self.reading() as s:
            return s.get(Job, job_id)

    def list_jobs(self, *, limit: int = 100, offset: int = 0, status: str | None = None,
                  sweep_id: str | None = None, newest_first: bool = True,
                  archived: bool | None = None, team: str | None = None) -> list[Job]:
        """Jobs, newest first; ``archived`` True/False keeps only archived / live ones;
        ``team`` keeps only that team's."""
        q = select(Job)
        if team is not None:
            q = q.where(_in_team(Job.team, team))
        if status is not None:
            q = q.where(Job.status == status)
        if archived is not None:
            q = q.where(Job.archived_at.is_not(None) if archived else Job.archived_at.is_(None))
        if sweep_id is not None:
            q = q.where(Job.sweep_id == sweep_id)
        order = (Job.created_at.desc(), Job.id) if newest_first else (Job.created_at, Job.id)
        with self.reading() as s:
            return list(s.scalars(q.order_by(*order).limit(limit).offset(offset)))

    def count_jobs(self) -> dict[str, int]:
        """Number of jobs by status."""
        with self.reading() as s:
            rows = s.execute(select(Job.status, func.count()).group_by(Job.status))
            return {status: n for status, n in rows}

    def active_jobs(self) -> list[Job]:
        """Jobs that a worker holds (``running`` or ``cancelling``)."""
        with self.reading() as s:
            q = select(Job).where(Job.status.in_((RUNNING, CANCELLING)))
            return list(s.scalars(q.order_by(Job.started_at)))

    def statuses(self, ids: list[str]) -> dict[str, tuple[str, int]]:
        """``{id: (status, attempts)}`` for the given jobs."""
        if not ids:
            return {}
        with self.reading() as s:
            rows = s.execute(select(Job.id, Job.status, Job.attempts).where(Job.id.in_(ids)))
            return {i: (st, a) for i, st, a in rows}

    def claim_next(self, *, host: str | None = None) -> Job | None:
        """Move the oldest queued job to ``running`` (one more attempt) and return it.

        Safe against other claimers: the update only applies while the row is still queued.
        """
        for _ in range(10):
            with self.writing() as s:
                job_id = s.scalar(select(Job.id).where(Job.status == QUEUED)
                                  .order_by(Job.created_at, Job.id).limit(1))
                if job_id is None:
                    return None
                t = now()
                done = s.execute(
                    update(Job).where(Job.id == job_id, Job.status == QUEUED)
                    .values(status=RUNNING, attempts=Job.attempts + 1, started_at=t,
                            updated_at=t, finished_at=None, worker_pid=None,
                            worker_host=host, progress={"stage": "starting",
                                                        "message": "starting a worker"})
                ).rowcount
            if done:
                return self.get_job(job_id)
        return None

    def _owned(self, job_id: str, attempt: int, statuses=(RUNNING, CANCELLING)):
        return (Job.id == job_id, Job.attempts == attempt, Job.status.in_(statuses))

    def set_worker(self, job_id: str, attempt: int, pid: int, result_dir: str) -> bool:
        with self.writing() as s:
            return bool(s.execute(update(Job).where(*self._owned(job_id, attempt))
                                  .values(worker_pid=pid, result_dir=result_dir,
                                          updated_at=now())).rowcount)

    def update_progress(self, job_id: str, attempt: int, progress: dict | None) -> str | None:
        """Record progress (if given) and return the job's status, or ``None`` when the
        job no longer belongs to this attempt (the worker should stop)."""
        with self.writing() as s:
            values: dict[str, Any] = {"updated_at": now()}
            if progress is not None:
                values["progress"] = progress
            n = s.execute(update(Job).where(*self._owned(job_id, attempt))
                          .values(**values)).rowcount
            if not n:
                return None
            return s.scalar(select(Job.status).where(Job.id == job_id))

    def finish(self, job_id: str, attempt: int, status: str, *, summary: dict | None = None,
               problems: list | None = None, message: str | None = None,
               result_dir: str | None = None, progress: dict | None = None) -> bool:
        """End an attempt with ``status`` (finished, failed or cancelled).

        Returns ``False`` when the job is no longer this attempt's to end.
        """
        if status not in TERMINAL:
            raise ValueError(f"not a final status: {status}")
        t = now()
        values: dict[str, Any] = {"status": status, "finished_at": t, "updated_at": t,
                                  "message": message}
        for k, v in (("summary", summary), ("problems", problems),
                     ("result_dir", result_dir), ("progress", progress)):
            if v is not None:
                values[k] = v
        with self.writing() as s:
            return bool(s.execute(update(Job).where(*self._owned(job_id, attempt))
                                  .values(**values)).rowcount)

    def requeue_or_fail(self, job_id: str, attempt: int, reason: str,
                        max_attempts: int) -> str | None:
        """A worker was lost: re-queue the job while it has attempts left, else fail it.

        A job being cancelled ends ``cancelled``. Returns the new status, or ``None`` if the
        job had moved on already.
        """
        with self.writing() as s:
            job = s.get(Job, job_id)
            if job is None or job.attempts != attempt or job.status not in (RUNNING,
                                                                              CANCELLING):
                return None
            t = now()
            job.updated_at = t
            job.worker_pid = None
            if job.status == CANCELLING:
                job.status, job.finished_at = CANCELLED, t
                job.message = f"cancelled ({reason})"
            elif job.attempts < max_attempts:
                job.status, job.started_at = QUEUED, None
                job.message = (f"{reason}; re-queued (attempt {job.attempts + 1} of "
                               f"{max_attempts} next)")
                job.progress = {"stage": "queued", "message": job.message}
            else:
                job.status, job.finished_at = FAILED, t
                job.message = reason
                job.problems = [{"file": None, "row": None, "column": None,
                                 "message": reason, "hint": "submit the scenario again",
                                 "severity": "error"}]
            return job.status

    def request_cancel(self, job_id: str, by: str | None = None) -> str | None:
        """Cancel a job: a queued one at once (``cancelled``), a running one through
        ``cancelling``; ``by`` (the key's id) is recorded as ``cancelled_by``. Returns the
        status after the request (a final status unchanged when the job had ended already),
        or ``None`` if there is no such job."""
        with self.writing() as s:
            job = s.get(Job, job_id)
            if job is None:
                return None
            t = now()
            if job.status == QUEUED:
                job.status, job.finished_at, job.updated_at = CANCELLED, t, t
                job.message = "cancelled before it started"
                job.cancelled_by = by
            elif job.status == RUNNING:
                job.status, job.updated_at = CANCELLING, t
                job.message = "cancel requested"
                job.cancelled_by = by
            return job.status

    def set_archived(self, job_id: str, archived: bool) -> Job | None:
        """Archive (hide from the pages' list) or restore an ended job."""
        with self.writing() as s:
            job = s.get(Job, job_id)
            if job is None or job.status not in TERMINAL:
                return job
            job.archived_at = now() if archived else None
            return job

    def delete_job(self, job_id: str) -> Job | None:
        """Delete an ended job's row (its result folder is the caller's to remove)."""
        with self.writing() as s:
            job = s.get(Job, job_id)
            if job is not None and job.status in TERMINAL:
                s.delete(job)
            return job

    # ------------------------------------------------------------------ sweeps
    def add_sweep(self, *, name: str, scenario: dict, vary: list, variants: list[tuple],
                  created_by: str | None = None,
                  team: str = DEFAULT_TEAM) -> tuple[Sweep, list[Job]]:
        """Store a sweep of ``team`` and its variants (``(name, scenario_doc, values)``
        each) at once."""
        sweep = Sweep(id=new_id("sw"), name=name, scenario=scenario, vary=vary,
                      created_by=created_by, created_at=now(), team=team)
        jobs = [self._new_job(doc, vname, created_by, sweep.id, values, team)
                for vname, doc, values in variants]
        with self.writing() as s:
            s.add(sweep)
            s.add_all(jobs)
        return sweep, jobs

    def get_sweep(self, sweep_id: str) -> Sweep | None:
        with self.reading() as s:
            return s.get(Sweep, sweep_id)

    def list_sweeps(self, limit: int = 100, offset: int = 0, *,
                    team: str | None = None) -> list[Sweep]:
        q = select(Sweep)
        if team is not None:
            q = q.where(_in_team(Sweep.team, team))
        with self.reading() as s:
            q = q.order_by(Sweep.created_at.desc(), Sweep.id)
            return list(s.scalars(q.limit(limit).offset(offset)))

    # ------------------------------------------------------------------ teams' views
    def for_team(self, team: str) -> TeamStore:
        """This store as one team sees it (see :class:`TeamStore`)."""
        return TeamStore(self, team)


class TeamStore:
    """One team's view of a :class:`Store`: the methods the routes and pages use, seeing and
    changing only the team's jobs, sweeps, datasets and keys.

    A record of another team is ``None`` ("not found") to every method, so that a route
    answers 404 and does not reveal that it exists. What is made here belongs to the team.
    The worker's and dispatcher's methods are not offered: they use the store itself.

    Parameters
    ----------
    store : Store
        The whole store.
    team : str
        The team's id.
    """

    def __init__(self, store: Store, team: str):
        self.store = store
        self.team = team

    def _mine(self, record):
        return record if record is not None and team_of(record) == self.team else None

    # datasets
    def add_dataset(self, **fields) -> Dataset:
        return self.store.add_dataset(**{**fields, "team": self.team})

    def get_dataset(self, dataset_id: str) -> Dataset | None:
        return self._mine(self.store.get_dataset(dataset_id))

    def get_datasets(self, ids: list[str]) -> dict[str, Dataset]:
        return {k: d for k, d in self.store.get_datasets(ids).items() if self._mine(d)}

    def find_dataset(self, sha256: str, filename: str) -> Dataset | None:
        return self.store.find_dataset(sha256, filename, team=self.team)

    def list_datasets(self, limit: int = 100, offset: int = 0) -> list[Dataset]:
        return self.store.list_datasets(limit, offset, team=self.team)

    def delete_dataset(self, dataset_id: str) -> Dataset | None:
        if self.get_dataset(dataset_id) is None:
            return None
        return self.store.delete_dataset(dataset_id)

    # jobs
    def add_job(self, scenario: dict, **kw) -> Job:
        return self.store.add_job(scenario, **{**kw, "team": self.team})

    def get_job(self, job_id: str) -> Job | None:
        return self._mine(self.store.get_job(job_id))

    def list_jobs(self, **kw) -> list[Job]:
        return self.store.list_jobs(**{**kw, "team": self.team})

    def request_cancel(self, job_id: str, by: str | None = None) -> str | None:
        if self.get_job(job_id) is None:
            return None
        return self.store.request_cancel(job_id, by)

    def set_archived(self, job_id: str, archived: bool) -> Job | None:
        if self.get_job(job_id) is None:
            return None
        return self.store.set_archived(job_id, archived)

    def delete_job(self, job_id: str) -> Job | None:
        if self.get_job(job_id) is None:
            return None
        return self.store.delete_job(job_id)

    # sweeps
    def add_sweep(self, **kw) -> tuple[Sweep, list[Job]]:
        return self.store.add_sweep(**{**kw, "team": self.team})

    def get_sweep(self, sweep_id: str) -> Sweep | None:
        return self._mine(self.store.get_sweep(sweep_id))

    def list_sweeps(self, limit: int = 100, offset: int = 0) -> list[Sweep]:
        return self.store.list_sweeps(limit, offset, team=self.team)

    # keys
    def create_key(self, role: str, label: str | None = None) -> tuple[str, ApiKey]:
        return self.store.create_key(role, label, team=self.team)

    def get_key(self, key_id: str) -> ApiKey | None:
        return self._mine(self.store.get_key(key_id))

    def list_keys(self) -> list[ApiKey]:
        return self.store.list_keys(team=self.team)

    def revoke_key(self, key_id: str) -> ApiKey | None:
        if self.get_key(key_id) is None:
            return None
        return self.store.revoke_key(key_id)

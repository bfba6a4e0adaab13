"""Configuration of the HTTP service and its workers: one pydantic-settings class.

Every field can be set from the environment with the ``MDTPLAN_`` prefix (``MDTPLAN_DATA_DIR``,
``MDTPLAN_DB_URL``, ``MDTPLAN_WORKERS`` …) or passed to :class:`Settings` directly; the
``mdtplan serve`` options override both.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MIB = 1024 * 1024


class Settings(BaseSettings):
    """Everything the service needs to know, in one place.

    Attributes
    ----------
    data_dir : Path
        Folder for the SQLite database, uploaded datasets, results and the session secret.
    db_url : str or None
        SQLAlchemy URL of the job store; ``None`` means ``sqlite:///<data_dir>/mdtplan.sqlite``.
    host, port : str, int
        Where ``mdtplan serve`` listens (loopback unless told otherwise).
    workers : int
        Solves run at once, each in its own process.
    upload_max_bytes : int
        Largest dataset upload [bytes]; larger bodies get 413 while still streaming.
    json_max_bytes : int
        Largest JSON request body (scenario, sweep) [bytes].
    max_areas, max_sites, max_pairs : int
        Problem size limits checked on submission (422 above them).
    job_time_limit_s : float
        Longest solve a job may run [s]; the scenario's own ``solver.time_limit_s`` is capped
        by it. The worker is killed after ``job_time_limit_s + job_kill_grace_s``.
    job_kill_grace_s : float
        Time allowed beyond the solve limit for loading inputs and writing outputs [s].
    cancel_grace_s : float
        How long a worker may take to honour a cancel before it is killed [s].
    max_attempts : int
        How often a job may be started; a job whose server stopped mid-solve is re-queued
        while it has attempts left, else failed with the reason.
    progress_interval_s : float
        Minimum time between two progress writes of one job [s].
    dispatch_interval_s : float
        How often the dispatcher looks for queued work and finished workers [s].
    check_timeout_s : float
        Longest a submission check or dataset inspection may take [s].
    sweep_max_variants : int
        Largest grid a sweep may expand to.
    cookie_secure : bool or None
        Mark the session cookie ``Secure`` (sent over HTTPS only). ``None`` (the default):
        by the request's scheme, so a service behind HTTPS gets secure cookies and one on a
        plain-HTTP intranet can still sign people in (its sign-in page warns that the
        session travels unencrypted). Behind a proxy that ends TLS, run uvicorn with
        ``--proxy-headers`` (``mdtplan serve`` does) so the scheme is the browser's.
        ``MDTPLAN_COOKIE_SECURE=true`` insists on HTTPS: over plain HTTP the sign-in page
        then says that it cannot sign anyone in, and why.
    session_max_age_s : int
        Lifetime of a web session [s].
    """

    model_config = SettingsConfigDict(env_prefix="MDTPLAN_", extra="ignore")

    data_dir: Path = Path("mdtplan-data")
    db_url: str | None = None
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    workers: int = Field(2, ge=1, le=64)
    upload_max_bytes: int = Field(200 * MIB, ge=1)
    json_max_bytes: int = Field(2 * MIB, ge=1)
    max_areas: int = Field(50_000, ge=1)
    max_sites: int = Field(5_000, ge=1)
    max_pairs: int = Field(5_000_000, ge=1)
    job_time_limit_s: float = Field(900.0, gt=0)
    job_kill_grace_s: float = Field(120.0, ge=0)
    cancel_grace_s: float = Field(30.0, ge=0)
    max_attempts: int = Field(2, ge=1)
    progress_interval_s: float = Field(0.5, gt=0)
    dispatch_interval_s: float = Field(0.5, gt=0)
    check_timeout_s: float = Field(300.0, gt=0)
    sweep_max_variants: int = Field(100, ge=1)
    cookie_secure: bool | None = None
    session_max_age_s: int = Field(8 * 3600, ge=60)

    @property
    def database_url(self) -> str:
        """The store's SQLAlchemy URL (the SQLite file in ``data_dir`` unless ``db_url``)."""
        if self.db_url:
            return self.db_url
        return f"sqlite:///{(Path(self.data_dir) / 'mdtplan.sqlite').resolve()}"

    @property
    def datasets_dir(self) -> Path:
        """Where uploaded datasets are kept, one file per dataset id."""
        return Path(self.data_dir).resolve() / "datasets"

    @property
    def results_dir(self) -> Path:
        """Where each job's outputs are written, one folder per job id."""
        return Path(self.data_dir).resolve() / "results"

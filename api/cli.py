"""``mdtplan serve`` and ``mdtplan keys create``: plain functions and their typer commands.

``mdtplan/cli.py`` registers them::

    from api.cli import keys_app, serve_command
    app.command("serve")(serve_command)
    app.add_typer(keys_app, name="keys")
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

# the store and settings (SQLAlchemy, pydantic-settings: about 0.6 s) are imported when a
# service command runs, not by every ``mdtplan`` command that registers these
if TYPE_CHECKING:
    from .settings import Settings


def _settings(db: str | None = None, data_dir: Path | None = None, **extra) -> Settings:
    from .settings import Settings

    values = {k: v for k, v in extra.items() if v is not None}
    if db:
        values["db_url"] = db
    if data_dir is not None:
        values["data_dir"] = data_dir
    return Settings(**values)


def serve(host: str | None = None, port: int | None = None, db: str | None = None,
          data_dir: Path | None = None, workers: int | None = None) -> None:
    """Run the HTTP service (uvicorn, one process; solves run in worker processes)."""
    import uvicorn

    from .app import create_app

    settings = _settings(db, data_dir, host=host, port=port, workers=workers)
    app = create_app(settings)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info",
                proxy_headers=True, server_header=False)


def keys_create(role: str, db: str | None = None, data_dir: Path | None = None,
                label: str | None = None) -> str:
    """Make an API key of ``role`` in the store and return it (stored only hashed)."""
    settings = _settings(db, data_dir)
    if not settings.db_url:
        Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    from .store import Store

    store = Store(settings.database_url)
    try:
        store.create_all()
        key, _ = store.create_key(role, label)
    finally:
        store.dispose()
    return key


def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 8000,
    db: Annotated[str | None, typer.Option(
        help="SQLAlchemy URL of the job store (default: SQLite in the data folder).")] = None,
    data_dir: Annotated[Path | None, typer.Option(
        "--data-dir", help="Folder for uploads, results and the SQLite file "
                           "(default: $MDTPLAN_DATA_DIR or ./mdtplan-data).")] = None,
    workers: Annotated[int | None, typer.Option(
        help="Solves run at once, each in a worker process (default: $MDTPLAN_WORKERS or 2).")
    ] = None,
) -> None:
    """Run the HTTP API and web pages (OpenAPI at /docs)."""
    serve(host, port, db, data_dir, workers)


keys_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)


@keys_app.callback()
def keys_group() -> None:
    """Manage API keys (stored hashed; each is shown once)."""


@keys_app.command("create")
def keys_create_command(
    role: Annotated[str, typer.Option(help="viewer, planner or admin.")],
    db: Annotated[str | None, typer.Option(
        help="SQLAlchemy URL of the job store (default: SQLite in the data folder).")] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="The data folder.")] = None,
    label: Annotated[str | None, typer.Option(help="Who or what the key is for.")] = None,
) -> None:
    """Make an API key and print it once, as the last word of the last line."""
    from .store import ROLES

    if role not in ROLES:
        typer.echo(f"--role must be one of {', '.join(ROLES)}, not {role!r}", err=True)
        raise typer.Exit(2)
    key = keys_create(role, db, data_dir, label)
    typer.echo(f"Created a {role} key. It is shown only now; store it safely:")
    typer.echo(key)

"""``mdtplan serve``, ``mdtplan keys create`` and ``mdtplan teams``: plain functions and their
typer commands.

``mdtplan/cli.py`` registers them::

    from api.cli import keys_app, serve_command, teams_app
    app.command("serve")(serve_command)
    app.add_typer(keys_app, name="keys")
    app.add_typer(teams_app, name="teams")

The commands act on the store directly, as the machine's operator: with the rights of a service
admin (``keys create --team T`` makes team ``T`` when it does not exist yet).
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


def _open_store(db: str | None, data_dir: Path | None):
    settings = _settings(db, data_dir)
    if not settings.db_url:
        Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    from .store import Store

    store = Store(settings.database_url)
    store.create_all()
    return store


def keys_create(role: str, db: str | None = None, data_dir: Path | None = None,
                label: str | None = None, team: str | None = None) -> str:
    """Make an API key of ``role`` in ``team`` (default: the default team) and return it
    (stored only hashed). The team is made first when it does not exist.

    Raises
    ------
    ValueError
        When ``team`` is not a valid team id.
    """
    from .store import DEFAULT_TEAM

    team = team or DEFAULT_TEAM
    store = _open_store(db, data_dir)
    try:
        if store.get_team(team) is None:
            try:
                store.create_team(team)
            except ValueError:
                if store.get_team(team) is None:  # not made meanwhile by another process
                    raise
        key, _ = store.create_key(role, label, team=team)
    finally:
        store.dispose()
    return key


def serve_command(
    host: Annotated[str, typer.Option(metavar="ADDRESS", help="Address to listen on (loopback by default).")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option(metavar="PORT", help="TCP port to listen on.")] = 8000,
    db: Annotated[str | None, typer.Option(
        metavar="URL", help="SQLAlchemy URL of the job store (default: SQLite in the data folder).")] = None,
    data_dir: Annotated[Path | None, typer.Option(
        "--data-dir", metavar="DIR", help="Folder for uploads, results and the SQLite file "
                           "(default: $MDTPLAN_DATA_DIR or ./mdtplan-data).")] = None,
    workers: Annotated[int | None, typer.Option(
        metavar="N", help="Solves run at once, each in a worker process (default: $MDTPLAN_WORKERS or 2).")
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
    role: Annotated[str, typer.Option(
        metavar="ROLE", help="viewer, planner, admin (manages its team's keys) or service_admin (also "
             "teams and every team's keys).")],
    db: Annotated[str | None, typer.Option(
        metavar="URL", help="SQLAlchemy URL of the job store (default: SQLite in the data folder).")] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", metavar="DIR", help="The data folder (default: $MDTPLAN_DATA_DIR or ./mdtplan-data).")] = None,
    label: Annotated[str | None, typer.Option(metavar="TEXT", help="Who or what the key is for (default: none).")] = None,
    team: Annotated[str | None, typer.Option(
        metavar="TEAM", help="The team the key belongs to; it sees and changes only that team's scenarios, "
             "sweeps and datasets (made if new; default: the default team).")] = None,
) -> None:
    """Make an API key and print it once, as the last word of the last line."""
    from .store import DEFAULT_TEAM, ROLES, TEAM_ID

    if role not in ROLES:
        typer.echo(f"--role must be one of {', '.join(ROLES)}, not {role!r}", err=True)
        raise typer.Exit(2)
    if team is not None and not TEAM_ID.match(team):
        typer.echo(f"--team is lower-case letters, digits and hyphens (40 at most), not "
                   f"{team!r}", err=True)
        raise typer.Exit(2)
    key = keys_create(role, db, data_dir, label, team)
    article = "an" if role[0] in "aeiou" else "a"
    typer.echo(f"Created {article} {role} key of team {team or DEFAULT_TEAM}. It is shown only "
               "now; store it safely:")
    typer.echo(key)


teams_app = typer.Typer(help="Manage teams (each sees only its own work).",
                        no_args_is_help=True)


@teams_app.callback()
def teams_group() -> None:
    """Manage teams: each team's keys see and change only its own scenarios, sweeps and
    datasets."""


@teams_app.command("list")
def teams_list_command(
    db: Annotated[str | None, typer.Option(
        metavar="URL", help="SQLAlchemy URL of the job store (default: SQLite in the data folder).")] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", metavar="DIR", help="The data folder (default: $MDTPLAN_DATA_DIR or ./mdtplan-data).")] = None,
) -> None:
    """List the teams with their live keys by role."""
    store = _open_store(db, data_dir)
    try:
        counts = store.count_live_keys()
        for t in store.list_teams():
            keys = ", ".join(f"{n} {role}" for (team, role), n in sorted(counts.items())
                             if team == t.id) or "no live keys"
            typer.echo(f"{t.id}\t{t.label or ''}\t{keys}")
    finally:
        store.dispose()


@teams_app.command("create")
def teams_create_command(
    team: Annotated[str, typer.Argument(help="The team's id: lower-case letters, digits and "
                                             "hyphens (e.g. adults-north).")],
    label: Annotated[str | None, typer.Option(metavar="TEXT", help="The team's name in words (default: none).")] = None,
    db: Annotated[str | None, typer.Option(
        metavar="URL", help="SQLAlchemy URL of the job store (default: SQLite in the data folder).")] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", metavar="DIR", help="The data folder (default: $MDTPLAN_DATA_DIR or ./mdtplan-data).")] = None,
) -> None:
    """Make a team; then give it an admin key (mdtplan keys create --role admin --team ID)."""
    store = _open_store(db, data_dir)
    try:
        store.create_team(team, label)
    except ValueError as err:
        typer.echo(str(err), err=True)
        raise typer.Exit(2) from None
    finally:
        store.dispose()
    typer.echo(f"Created team {team}. Give it an admin key with: mdtplan keys create --role "
               f"admin --team {team}")

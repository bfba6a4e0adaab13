"""API keys (admin) and teams (service admin).

A team's admin lists, makes and revokes its own team's keys; another team's key is 404 to it.
A service admin (the role above admin) also makes teams and manages every team's keys, for
example a new team's first admin key. No key revocation may leave a team without a live admin
key, or the service without a service admin key (409).
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from ..deps import Admin, ServiceAdmin, StoreDep
from ..schemas import ErrorOut, KeyCreated, KeyIn, KeyOut, TeamIn, TeamOut, timestamp
from ..store import LastAdminError, team_of

router = APIRouter(tags=["keys"])

NOT_SERVICE_ADMIN = ("only a service admin manages other teams' keys or makes service_admin "
                     "keys; your key is a {role} key")


def _out(record, cls=KeyOut, **extra):
    return cls(id=record.id, role=record.role, team=team_of(record), label=record.label,
               created_at=timestamp(record.created_at), revoked_at=timestamp(record.revoked_at),
               **extra)


def _no_team(team: str) -> HTTPException:
    return HTTPException(404, detail=f"no team with id {team}")


@router.get("/v1/keys", response_model=list[KeyOut],
            responses={403: {"model": ErrorOut}, 404: {"model": ErrorOut}})
def list_keys(who: Admin, store: StoreDep, team: str | None = None) -> list[KeyOut]:
    """Your team's keys: id, role, team and label (never the key).

    A service admin sees every team's keys, or ``team``'s only; an admin naming another team
    gets 404, as for a team that does not exist."""
    if who.at_least("service_admin"):
        if team is not None and store.get_team(team) is None:
            raise _no_team(team)
        return [_out(k) for k in store.list_keys(team)]
    if team is not None and team != who.team:
        raise _no_team(team)
    return [_out(k) for k in store.for_team(who.team).list_keys()]


@router.post("/v1/keys", status_code=201, response_model=KeyCreated,
             responses={403: {"model": ErrorOut}, 404: {"model": ErrorOut}})
def create_key(body: KeyIn, who: Admin, store: StoreDep) -> KeyCreated:
    """Make a key of your team (``team`` omitted); the response holds it once, the store keeps
    only its hash.

    Only a service admin names another ``team`` (which must exist: ``POST /v1/teams``) or
    makes a ``service_admin`` key (403 otherwise)."""
    team = body.team or who.team
    if not who.at_least("service_admin"):
        if team != who.team or body.role == "service_admin":
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                detail=NOT_SERVICE_ADMIN.format(role=who.role))
    elif store.get_team(team) is None:
        raise _no_team(team)
    key, record = store.create_key(body.role, body.label, team=team)
    return _out(record, KeyCreated, key=key)


@router.delete("/v1/keys/{key_id}", response_model=KeyOut,
               responses={403: {"model": ErrorOut}, 404: {"model": ErrorOut},
                          409: {"model": ErrorOut}})
def revoke_key(key_id: str, who: Admin, store: StoreDep) -> KeyOut:
    """Revoke a key of your team: it stops working at once, sessions signed in with it too.

    404 for another team's key (a service admin revokes any team's); 403 for a key of a role
    above yours; 409 for the team's last admin key (your own included: make another admin key
    first) and for the service's last service admin key."""
    scoped = store if who.at_least("service_admin") else store.for_team(who.team)
    record = scoped.get_key(key_id)
    if record is None:
        raise HTTPException(404, detail=f"no key with id {key_id}")
    if not who.at_least(record.role):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            detail=f"key {key_id} is a {record.role} key: only a "
                                   f"{record.role} may revoke it")
    try:
        record = scoped.revoke_key(key_id)
    except LastAdminError as err:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(err)) from None
    return _out(record)


# ----------------------------------------------------------------------------- teams
def _team_out(team, counts: dict) -> TeamOut:
    return TeamOut(id=team.id, label=team.label, created_at=timestamp(team.created_at),
                   keys={role: n for (t, role), n in sorted(counts.items()) if t == team.id})


@router.get("/v1/teams", response_model=list[TeamOut], tags=["teams"],
            responses={403: {"model": ErrorOut}})
def list_teams(_: ServiceAdmin, store: StoreDep) -> list[TeamOut]:
    """Every team, with its live keys by role (service admin)."""
    counts = store.count_live_keys()
    return [_team_out(t, counts) for t in store.list_teams()]


@router.post("/v1/teams", status_code=201, response_model=TeamOut, tags=["teams"],
             responses={403: {"model": ErrorOut}, 409: {"model": ErrorOut}})
def create_team(body: TeamIn, _: ServiceAdmin, store: StoreDep) -> TeamOut:
    """Make a team (service admin); then give it its first admin key with
    ``POST /v1/keys`` (``{"role": "admin", "team": ID}``)."""
    try:
        team = store.create_team(body.id, body.label)
    except ValueError as err:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(err)) from None
    return _team_out(team, {})

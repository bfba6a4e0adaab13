"""Dependencies of the routes: settings, store, dispatcher and the caller's role.

Routes take them as ``Annotated`` aliases (``StoreDep``, ``Viewer``, ``Planner``, ``Admin``).

Access
------
API calls send ``Authorization: Bearer KEY``. Roles rank viewer < planner < admin; a route
needing a role admits that role and the ones above it. Web pages (and the ``GET`` routes they
link to: map, result, export) also accept the signed session cookie set by ``/signin``; a
cookie never authorises a ``POST`` or ``DELETE``, so a forged cross-site form cannot act with
it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from itsdangerous import BadSignature, URLSafeTimedSerializer

from .checker import Checker
from .dispatcher import Dispatcher
from .settings import Settings
from .store import ROLE_RANK, Store

SESSION_COOKIE = "mdtplan_session"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's public id, its role, and how it was presented."""

    key_id: str
    role: str
    via: str  # "bearer" or "cookie"


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_dispatcher(request: Request) -> Dispatcher | None:
    return request.app.state.dispatcher


def get_checker(request: Request) -> Checker:
    return request.app.state.checker


def get_signer(request: Request) -> URLSafeTimedSerializer:
    return request.app.state.signer


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
DispatcherDep = Annotated[Dispatcher | None, Depends(get_dispatcher)]
CheckerDep = Annotated[Checker, Depends(get_checker)]

bearer_scheme = HTTPBearer(auto_error=False, scheme_name="ApiKey",
                           description="An API key made with `mdtplan keys create --role R`.")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]


def unauthorised(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=detail,
                         headers={"WWW-Authenticate": "Bearer"})


def principal_from_key(store: Store, key: str) -> Principal:
    """The caller behind a bearer key, or 401."""
    record = store.verify_key(key)
    if record is None:
        raise unauthorised("invalid or revoked API key")
    return Principal(record.id, record.role, "bearer")


def principal_from_cookie(request: Request) -> Principal | None:
    """The caller behind a valid session cookie of a live key, or ``None``."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    settings = get_settings(request)
    try:
        data = get_signer(request).loads(token, max_age=settings.session_max_age_s)
    except BadSignature:
        return None
    record = get_store(request).get_key(str(data.get("k", ""))) if isinstance(data, dict) else None
    if record is None or record.revoked_at is not None:
        return None
    return Principal(record.id, record.role, "cookie")


def require(role: str):
    """A dependency admitting callers of ``role`` or above (401 without a key, 403 below)."""

    def dependency(request: Request, credentials: Credentials) -> Principal:
        if credentials is not None:
            who = principal_from_key(get_store(request), credentials.credentials)
        elif request.method in ("GET", "HEAD"):
            who = principal_from_cookie(request)
        else:
            who = None
        if who is None:
            raise unauthorised("an API key is needed: send 'Authorization: Bearer KEY'")
        if ROLE_RANK[who.role] < ROLE_RANK[role]:
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                detail=f"this needs the {role} role; your key is a {who.role} key")
        return who

    dependency.__name__ = f"require_{role}"
    return dependency


Viewer = Annotated[Principal, Depends(require("viewer"))]
Planner = Annotated[Principal, Depends(require("planner"))]
Admin = Annotated[Principal, Depends(require("admin"))]


class SignInRequired(Exception):
    """A page was asked for without a session: the app redirects to ``/signin``."""

    def __init__(self, next_path: str = "/"):
        self.next_path = next_path


def page_user(request: Request, credentials: Credentials) -> Principal:
    """The signed-in viewer (or above) of a web page; redirects to the sign-in form."""
    if credentials is not None:
        return principal_from_key(get_store(request), credentials.credentials)
    who = principal_from_cookie(request)
    if who is None:
        raise SignInRequired(request.url.path)
    return who


PageUser = Annotated[Principal, Depends(page_user)]

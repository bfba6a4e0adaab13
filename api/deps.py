"""Dependencies of the routes: settings, store, dispatcher and the caller's role.

Routes take them as ``Annotated`` aliases (``StoreDep``, ``Viewer``, ``Planner``, ``Admin``,
``ServiceAdmin``).

Access
------
API calls send ``Authorization: Bearer KEY``. Roles rank viewer < planner < admin <
service_admin; a route needing a role admits that role and the ones above it.

Every key belongs to a team (:class:`Principal` ``team``). A route works on
``store.for_team(who.team)`` (:class:`api.store.TeamStore`): it sees and changes only the
caller's team's jobs, sweeps, datasets and keys, and answers 404 for another team's id, as
for one that does not exist. Only a service admin's key routes (``/v1/teams``, keys of other
teams) reach across teams. Web pages (and the ``GET`` routes they
link to: map, result, export) also accept the signed session cookie set by ``/signin``; a
browser asking for such a page without a session (a link from an e-mail, an expired session)
is sent to the sign-in form and back. A cookie never authorises the ``/v1`` API's ``POST`` or
``DELETE``; the pages' own forms (``/scenarios/...``) act with it only when they also carry the
session's anti-forgery token (:func:`form_user`) and, when the browser sends one, an ``Origin``
of this server.
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
from .store import DEFAULT_TEAM, ROLE_RANK, Store, team_of

SESSION_COOKIE = "mdtplan_session"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's public id, its role, how it was presented, and its team."""

    key_id: str
    role: str
    via: str  # "bearer" or "cookie"
    team: str = DEFAULT_TEAM

    def at_least(self, role: str) -> bool:
        """Whether this caller's role is ``role`` or above."""
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


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
                           description="An API key made with `mdtplan keys create --role R "
                                       "--team T`. Every key belongs to a team and sees only "
                                       "its team's scenarios, sweeps, datasets and keys.")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]


def unauthorised(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=detail,
                         headers={"WWW-Authenticate": "Bearer"})


def principal_from_key(store: Store, key: str) -> Principal:
    """The caller behind a bearer key, or 401."""
    record = store.verify_key(key)
    if record is None:
        raise unauthorised("invalid or revoked API key")
    return Principal(record.id, record.role, "bearer", team_of(record))


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
    return Principal(record.id, record.role, "cookie", team_of(record))


def wants_page(request: Request) -> bool:
    """Whether a browser is navigating here (so a sign-in page beats a JSON 401)."""
    if request.method not in ("GET", "HEAD"):
        return False
    if request.headers.get("sec-fetch-mode") == "navigate":
        return True
    return "text/html" in request.headers.get("accept", "")


def here(request: Request) -> str:
    """The path and query of this request, to come back to after signing in."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def require(role: str):
    """A dependency admitting callers of ``role`` or above (401 without a key, 403 below).

    A browser navigating to a ``GET`` route without a session is sent to the sign-in form.
    """

    def dependency(request: Request, credentials: Credentials) -> Principal:
        if credentials is not None:
            who = principal_from_key(get_store(request), credentials.credentials)
        elif request.method in ("GET", "HEAD"):
            who = principal_from_cookie(request)
        else:
            who = None
        if who is None:
            if wants_page(request):
                raise SignInRequired(here(request))
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
ServiceAdmin = Annotated[Principal, Depends(require("service_admin"))]


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
        raise SignInRequired(here(request))
    return who


PageUser = Annotated[Principal, Depends(page_user)]

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def csrf_token(request: Request, who: Principal) -> str:
    """The anti-forgery token of this session: signed, bound to the key, timed like it."""
    return request.app.state.csrf_signer.dumps({"k": who.key_id})


class FormRefused(Exception):
    """A page form was sent without a valid anti-forgery token or from another site."""

    def __init__(self, message: str):
        self.message = message


def _back_path(request: Request) -> str:
    """Where a form was sent from (this server's page), to return to after signing in."""
    from urllib.parse import urlsplit

    for header in ("hx-current-url", "referer"):
        url = urlsplit(request.headers.get(header, ""))
        if url.path.startswith("/") and url.netloc == request.headers.get("host", ""):
            return url.path + (f"?{url.query}" if url.query else "")
    return "/"


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


async def _form_token(request: Request) -> str | None:
    token = request.headers.get(CSRF_HEADER)
    if token:
        return token
    form = await request.form()
    value = form.get(CSRF_FIELD)
    return value if isinstance(value, str) else None


def form_user(role: str):
    """A dependency for the pages' own forms: a session (or key) of ``role`` or above, a
    valid anti-forgery token and, when sent, an ``Origin`` of this server.

    Without a session the browser is sent to sign in; with a bad token the form is refused
    with a page saying so (``FormRefused``); below the role, 403.
    """

    async def dependency(request: Request, credentials: Credentials) -> Principal:
        if credentials is not None:
            who = principal_from_key(get_store(request), credentials.credentials)
        else:
            who = principal_from_cookie(request)
            if who is None:
                raise SignInRequired(_back_path(request))
            if not _same_origin(request):
                raise FormRefused("this form was sent from another site")
            token = await _form_token(request)
            settings = get_settings(request)
            try:
                data = request.app.state.csrf_signer.loads(
                    token or "", max_age=settings.session_max_age_s)
            except BadSignature:
                data = None
            if not isinstance(data, dict) or data.get("k") != who.key_id:
                raise FormRefused("this form has expired or was not made by this service")
        if ROLE_RANK[who.role] < ROLE_RANK[role]:
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                detail=f"this needs the {role} role; your key is a {who.role} key")
        return who

    dependency.__name__ = f"form_{role}"
    return dependency


FormPlanner = Annotated[Principal, Depends(form_user("planner"))]
FormAdmin = Annotated[Principal, Depends(form_user("admin"))]

"""Web pages: ``/`` (the scenarios, filtered and searched) and signing in and out."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from .. import services
from ..deps import (
    SESSION_COOKIE,
    PageUser,
    Principal,
    SettingsDep,
    StoreDep,
    csrf_token,
    get_signer,
)
from ..store import ACTIVE, ROLE_RANK
from ..web.render import page

router = APIRouter(tags=["pages"], include_in_schema=False)

REFRESH_S = 5
STATUSES = ("queued", "running", "cancelling", "finished", "failed", "cancelled")


def _safe_next(path: str | None) -> str:
    """Only same-site paths (no ``//host`` or ``/\\host``): no open redirect."""
    if not path or not path.startswith("/") or path.startswith(("//", "/\\")):
        return "/"
    return path


def page_context(request: Request, who: Principal | None, **context) -> dict:
    """What every signed-in page's template needs: the user, their rights and the form token."""
    return {"who": who, "can_plan": who is not None and ROLE_RANK[who.role] >= ROLE_RANK["planner"],
            "csrf": csrf_token(request, who) if who is not None else None, **context}


SHOW = {"live": False, "archived": True, "all": None}


def _rows(store, settings, q: str, status: str | None, show: str = "live"):
    jobs = store.list_jobs(limit=500, status=status or None, archived=SHOW.get(show, False))
    if q:
        needle = q.casefold()
        jobs = [j for j in jobs if needle in j.name.casefold() or needle in j.id.casefold()]
    out = [services.job_out(j, settings) for j in jobs[:200]]
    return [(job, services.stored_summary(job)) for job in out], any(
        j.status in ACTIVE for j in out)


@router.get("/", response_class=HTMLResponse)
def index(request: Request, who: PageUser, store: StoreDep, settings: SettingsDep,
          q: str = "", status: str = "", show: str = "live",
          notice: str = "") -> HTMLResponse:
    """The scenarios, newest first; the table updates itself while any is queued or running.

    ``q`` filters by name or id, ``status`` by status, ``show`` live (default), archived or
    all scenarios.
    """
    store = store.for_team(who.team)
    q = q[:200]
    status = status if status in STATUSES else ""
    show = show if show in SHOW else "live"
    rows, active = _rows(store, settings, q, status, show)
    query = urlencode({k: v for k, v in (("q", q), ("status", status), ("show", show)) if v})
    return page("index.html", **page_context(
        request, who, title="Scenarios", nav="scenarios", rows=rows, q=q, status=status,
        show=show, statuses=STATUSES, query=query, refresh=REFRESH_S if active else None,
        notice=notice[:200]))


@router.get("/partials/scenarios", response_class=HTMLResponse)
def scenario_rows(request: Request, who: PageUser, store: StoreDep, settings: SettingsDep,
                  q: str = "", status: str = "", show: str = "live") -> HTMLResponse:
    """The scenario table alone (the list page polls it while solves run)."""
    store = store.for_team(who.team)
    status = status if status in STATUSES else ""
    show = show if show in SHOW else "live"
    rows, active = _rows(store, settings, q[:200], status, show)
    query = urlencode({k: v for k, v in (("q", q[:200]), ("status", status), ("show", show))
                       if v})
    return page("_rows.html", **page_context(request, who, rows=rows, q=q, status=status,
                                             query=query,
                                             refresh=REFRESH_S if active else None))


def _cookie_secure(request: Request, settings) -> bool:
    if settings.cookie_secure is None:
        return request.url.scheme == "https"
    return settings.cookie_secure


def _insecure_warning(request: Request, settings) -> str | None:
    if request.url.scheme == "https":
        return None
    if _cookie_secure(request, settings):
        return ("This page came over plain HTTP, but the service only sets its sign-in "
                "cookie over HTTPS (MDTPLAN_COOKIE_SECURE=true), so your browser cannot stay "
                "signed in. Open the service's https:// address, or ask the administrator.")
    return ("This connection is not encrypted (plain HTTP): your key and session travel "
            "in clear on the network. Use the service's https:// address if it has one.")


@router.get("/signin", response_class=HTMLResponse)
def signin_form(request: Request, settings: SettingsDep, next: str = "/") -> HTMLResponse:
    return page("signin.html", title="Sign in", who=None, next_path=_safe_next(next),
                insecure=_insecure_warning(request, settings))


@router.post("/signin")
def signin(request: Request, store: StoreDep, settings: SettingsDep,
           key: Annotated[str, Form(max_length=200)],
           next: Annotated[str, Form(max_length=500)] = "/"):
    """Check the key; set a signed, HTTP-only, same-site session cookie (not the key).

    The cookie is ``SameSite=Lax``: a link to a page from an e-mail or another site opens
    signed in, while a form posted from another site carries no session (and the pages'
    forms need their anti-forgery token besides).
    """
    secure = _cookie_secure(request, settings)
    if secure and request.url.scheme != "https":
        return page("signin.html", 400, title="Sign in", who=None, next_path=_safe_next(next),
                    insecure=_insecure_warning(request, settings),
                    error="You cannot sign in over plain HTTP here: the sign-in cookie is "
                          "HTTPS-only.")
    record = store.verify_key(key.strip())
    if record is None:
        return page("signin.html", 401, title="Sign in", who=None, next_path=_safe_next(next),
                    insecure=_insecure_warning(request, settings),
                    error="That key is not valid (or has been revoked).")
    token = get_signer(request).dumps({"k": record.id})
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, token, max_age=settings.session_max_age_s, path="/",
                        httponly=True, secure=secure, samesite="lax")
    return response


@router.post("/signout")
def signout(request: Request, settings: SettingsDep) -> RedirectResponse:
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True,
                           secure=_cookie_secure(request, settings), samesite="lax")
    return response

"""Web pages: ``/`` (scenarios with status, figures and links) and the sign-in form."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from .. import services
from ..deps import SESSION_COOKIE, PageUser, SettingsDep, StoreDep, get_signer
from ..store import ACTIVE
from ..templates import PAGE_CSP, render

router = APIRouter(tags=["pages"], include_in_schema=False)

REFRESH_S = 5


def _page(html: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(html, status_code=status_code,
                        headers={"Content-Security-Policy": PAGE_CSP})


def _safe_next(path: str | None) -> str:
    """Only same-site paths (no ``//host`` or ``/\\host``): no open redirect."""
    if not path or not path.startswith("/") or path.startswith(("//", "/\\")):
        return "/"
    return path


@router.get("/", response_class=HTMLResponse)
def index(who: PageUser, store: StoreDep, settings: SettingsDep) -> HTMLResponse:
    """The scenarios, newest first, refreshing itself while any is queued or running."""
    jobs = [services.job_out(j, settings) for j in store.list_jobs(limit=200)]
    active = any(j.status in ACTIVE for j in jobs)
    rows = [(job, services.stored_summary(job)) for job in jobs]
    return _page(render("index.html", title="Scenarios", who=who, jobs=jobs, rows=rows,
                        refresh=REFRESH_S if active else None))


@router.get("/signin", response_class=HTMLResponse)
def signin_form(next: str = "/") -> HTMLResponse:
    return _page(render("signin.html", title="Sign in", who=None, next_path=_safe_next(next)))


@router.post("/signin")
def signin(request: Request, store: StoreDep, settings: SettingsDep,
           key: Annotated[str, Form(max_length=200)],
           next: Annotated[str, Form(max_length=500)] = "/"):
    """Check the key; set a signed, HTTP-only, same-site session cookie (not the key)."""
    record = store.verify_key(key.strip())
    if record is None:
        return _page(render("signin.html", title="Sign in", who=None, next_path=_safe_next(next),
                            error="That key is not valid (or has been revoked)."), 401)
    token = get_signer(request).dumps({"k": record.id})
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, token, max_age=settings.session_max_age_s, path="/",
                        httponly=True, secure=settings.cookie_secure, samesite="strict")
    return response


@router.post("/signout")
def signout(settings: SettingsDep) -> RedirectResponse:
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True,
                           secure=settings.cookie_secure, samesite="strict")
    return response

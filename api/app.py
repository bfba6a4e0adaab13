"""The FastAPI application: :func:`create_app` wires settings, store, dispatcher and routes.

On start the store's tables are created, jobs a stopped server left behind are put back
(re-queued or failed with the reason), and the dispatcher starts queued jobs in worker
processes. On stop, running workers are stopped and their jobs put back the same way.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from itsdangerous import URLSafeTimedSerializer
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mdtplan import __version__

from . import services
from .checker import Checker
from .deps import FormRefused, SignInRequired, principal_from_cookie, wants_page
from .dispatcher import Dispatcher
from .routes import (
    compare,
    datasets,
    health,
    keys,
    pages,
    scenarios,
    sweep_pages,
    sweeps,
    uploads,
    workspace,
)
from .routes.uploads import PAGE_UPLOAD_PATH, UPLOAD_PARTS
from .settings import Settings
from .store import ROLE_RANK, Store
from .web.render import STATIC, STATIC_PREFIX, VENDOR, page

log = logging.getLogger("mdtplan.api")

UPLOAD_PATH = "/v1/datasets"
#: where /docs and /redoc find Swagger UI's and ReDoc's scripts (served here, not by a CDN)
DOCS_ASSETS = "/docs-assets"

DESCRIPTION = """Plan adult social care locality MDT hubs, staffing and budgets.

Send `Authorization: Bearer KEY` (keys are made with `mdtplan keys create --role R`).
Roles: **viewer** reads; **planner** also uploads datasets, submits and cancels;
**admin** also manages its team's keys and deletes datasets; **service_admin** also manages
teams. Every key belongs to a **team**: scenarios, sweeps and datasets are seen and changed
within the team that made them only (another team's id answers 404).

1. Upload each input file: `POST /v1/datasets` returns its id (`ds_…`).
2. Submit a scenario (the YAML scenario document as JSON) whose `path`s are those ids:
   `POST /v1/scenarios` → 202 with the scenario's id; it is stored before the answer.
3. Poll `GET /v1/scenarios/{id}` until `status` is `finished` (or `failed`, `cancelled`), then
   read `/result`, `/result/geojson`, `/map` and `/export.xlsx`.

Errors are JSON `{"detail": ...}`: a message, or a list of problems each naming its field.
"""


def _session_secret(data_dir: Path) -> str:
    """The cookie-signing secret, made once and kept (mode 0600) in the data folder."""
    path = Path(data_dir) / "session.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip()


async def _send_json(send: Send, status: int, detail, headers: dict | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
           (b"connection", b"close")]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class _TooLarge(HTTPException):
    """Raised from ``receive`` once a body passes its limit; FastAPI answers it as a 413."""

    def __init__(self, limit: int):
        super().__init__(413, detail=f"request body larger than the limit of {limit} bytes")


class BodyLimitMiddleware:
    """413 for request bodies over the limit, enforced while the body streams in.

    Uploads (``POST /v1/datasets``) may reach ``upload_max_bytes`` and must carry a planner's
    key, checked before any of the body is read; other bodies ``json_max_bytes``. A declared
    ``Content-Length`` over the limit is refused at once; a body that grows past it (chunked,
    or lying about its length) is cut off as soon as it does.
    """

    def __init__(self, app: ASGIApp, settings: Settings):
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        upload = scope["path"].rstrip("/") == UPLOAD_PATH and scope["method"] == "POST"
        limit = self.settings.upload_max_bytes if upload else self.settings.json_max_bytes
        headers = dict(scope["headers"])
        if (scope["path"].rstrip("/") == PAGE_UPLOAD_PATH and scope["method"] == "POST"
                and await self._page_planner(scope)):
            # the upload page's form: up to one file per part, each checked on its own
            limit = self.settings.upload_max_bytes * len(UPLOAD_PARTS) + 64 * 1024
        if upload:
            refusal = await self._check_key(scope, headers)
            if refusal is not None:
                await _send_json(send, *refusal)
                return
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _send_json(send, 413, f"request body larger than the limit of {limit} bytes")
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge(limit)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, watching_send)
        except _TooLarge:
            if not started:
                await _send_json(send, 413, f"request body larger than the limit of {limit} bytes")

    async def _page_planner(self, scope: Scope) -> bool:
        """Whether a page form comes with a planner's (or admin's) session cookie."""
        who = await anyio.to_thread.run_sync(principal_from_cookie, Request(scope))
        return who is not None and ROLE_RANK[who.role] >= ROLE_RANK["planner"]

    async def _check_key(self, scope: Scope, headers: dict) -> tuple | None:
        auth = headers.get(b"authorization", b"").decode("latin-1")
        scheme, _, key = auth.partition(" ")
        www = {"WWW-Authenticate": "Bearer"}
        if scheme.lower() != "bearer" or not key.strip():
            return 401, "an API key is needed: send 'Authorization: Bearer KEY'", www
        store: Store = scope["app"].state.store
        record = await anyio.to_thread.run_sync(store.verify_key, key.strip())
        if record is None:
            return 401, "invalid or revoked API key", www
        if ROLE_RANK[record.role] < ROLE_RANK["planner"]:
            return 403, f"this needs the planner role; your key is a {record.role} key"
        return None


class CachedStatic(StaticFiles):
    """The pages' static files: their path carries a content version, so cache for a year."""

    def file_response(self, *args, **kwargs) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


class SecurityHeadersMiddleware:
    """Headers on every response: no sniffing, no referrer, no caching of council data."""

    HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
               (b"x-frame-options", b"SAMEORIGIN")]

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in self.HEADERS if k not in names]
                if b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _validation_problems(exc: RequestValidationError) -> list[dict]:
    out = []
    for e in exc.errors():
        loc = [str(p) for p in e.get("loc", ())]
        path = loc[1:] if loc and loc[0] == "body" else loc
        column = ".".join(path) or None
        message = e.get("msg", "invalid")
        if e.get("type") == "extra_forbidden":
            message = "unknown key (not part of the schema)"
        elif e.get("type") == "missing":
            message = "required key is missing"
        out.append({"file": None, "row": None, "column": column, "message": message,
                    "hint": None, "severity": "error", "loc": loc})
    return out


ERROR_RESPONSES = {
    400: "The request body could not be read (malformed JSON or multipart form).",
    401: "No API key, or an invalid or revoked one (send `Authorization: Bearer KEY`).",
    403: "The key's role is below what this needs.",
    404: "No such record in the key's team (another team's id answers the same).",
    413: "The request body is larger than the service's limit.",
    422: "The request or the scenario has problems; `detail` lists each with its field.",
}


def _flat_routes(items, prefix: str = ""):
    """``(path, route)`` of every route, inside included routers too (FastAPI keeps an
    included router whole and resolves its routes lazily)."""
    for route in items:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _flat_routes(inner.routes, prefix + route.include_context.prefix)
        else:
            yield prefix + getattr(route, "path", ""), route


def allowed_methods(app: FastAPI, scope) -> list[str]:
    """The methods some route of the app answers on the request's path (for ``Allow``)."""
    import re

    path = scope.get("path", "")
    methods: set[str] = set()
    for template, route in _flat_routes(app.router.routes):
        route_methods = getattr(route, "methods", None)
        if not route_methods:
            continue
        pattern = "^" + re.sub(r"{[^}/]+}", "[^/]+", template) + "$"
        if re.match(pattern, path):
            methods |= set(route_methods)
    return sorted(methods)


def document_errors(app: FastAPI) -> None:
    """Every ``/v1`` operation's error answers in its OpenAPI entry, each with the one error
    body (:class:`~api.schemas.ErrorOut`), replacing FastAPI's own 422 schema (the service
    answers 422 with ``ErrorOut``): 401 and 403 wherever a key is needed, 404 where the path
    names a record, 400 and 413 where a body is sent, 422 everywhere."""
    from fastapi.routing import APIRoute

    from .schemas import ErrorOut

    for path, route in _flat_routes(app.router.routes):
        if (not isinstance(route, APIRoute) or not path.startswith("/v1/")
                or not route.include_in_schema):
            continue
        codes = [401, 403, 422]
        if "{" in path:
            codes.append(404)
        if route.methods & {"POST", "PUT", "PATCH"}:
            codes += [400, 413]
        for code in codes:
            entry = route.responses.setdefault(code, {})
            entry.setdefault("model", ErrorOut)
            entry.setdefault("description", ERROR_RESPONSES[code])


def create_app(settings: Settings | None = None, *, dispatch: bool = True) -> FastAPI:
    """Build the service.

    Parameters
    ----------
    settings : Settings, optional
        Defaults to :class:`~api.settings.Settings` read from ``MDTPLAN_*`` variables.
    dispatch : bool
        Start the job dispatcher (turn off for tests that only look at the store).
    """
    settings = settings or Settings()
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True, mode=0o700)  # council data
    store = Store(settings.database_url)
    store.create_all()
    dispatcher = Dispatcher(store, settings) if dispatch else None
    checker = Checker(timeout_s=settings.check_timeout_s)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        orphans = services.clean_orphan_uploads(store, settings)
        if orphans:
            log.warning("removed %d uploaded file(s) no dataset names (uploads cut off by a "
                        "stop): %s", len(orphans), ", ".join(orphans[:10]))
        checker.start()
        if dispatcher is not None:
            dispatcher.start()
        try:
            yield
        finally:
            if dispatcher is not None:
                await anyio.to_thread.run_sync(dispatcher.stop)
            checker.close()
            store.dispose()

    # FastAPIOffline: /docs (Swagger UI) and /redoc load their scripts from this server, not a
    # CDN, so the API docs open on a council network with no way out
    app = FastAPIOffline(title="mdtplan", version=__version__, description=DESCRIPTION,
                         lifespan=lifespan, static_url=DOCS_ASSETS)
    app.state.settings = settings
    app.state.store = store
    app.state.dispatcher = dispatcher
    app.state.checker = checker
    secret = _session_secret(settings.data_dir)
    app.state.signer = URLSafeTimedSerializer(secret, salt="mdtplan-session")
    app.state.csrf_signer = URLSafeTimedSerializer(secret, salt="mdtplan-form")

    @app.exception_handler(RequestValidationError)
    async def _on_validation(request: Request, exc: RequestValidationError):
        return JSONResponse({"detail": _validation_problems(exc)}, status_code=422)

    @app.exception_handler(SignInRequired)
    async def _on_sign_in(request: Request, exc: SignInRequired):
        from urllib.parse import quote

        target = f"/signin?next={quote(exc.next_path, safe='/')}"
        if request.headers.get("hx-request"):  # a page's partial update: move the whole page
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(FormRefused)
    async def _on_form_refused(request: Request, exc: FormRefused):
        who = principal_from_cookie(request)
        return page("error.html", status_code=403, title="Form not accepted", who=who,
                    heading="This form was not accepted",
                    message=f"{exc.message}. Nothing was changed. Go back, reload the page "
                            "and send the form again.")

    @app.exception_handler(StarletteHTTPException)
    async def _on_http_error(request: Request, exc: StarletteHTTPException):
        """JSON for API callers; a page with a way back for a browser navigating here."""
        if wants_page(request) and exc.status_code in (403, 404, 405, 409):
            who = principal_from_cookie(request)
            titles = {403: "Not allowed", 404: "Page not found", 405: "Not available",
                      409: "Not ready"}
            detail = exc.detail if isinstance(exc.detail, str) else "see the details below"
            return page("error.html", status_code=exc.status_code,
                        title=titles[exc.status_code], who=who,
                        heading=titles[exc.status_code], message=detail[:1].upper() + detail[1:])
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:  # every method of the path, not only the first route's
            headers["Allow"] = ", ".join(allowed_methods(app, request.scope))
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                            headers=headers or None)

    @app.exception_handler(Exception)
    async def _on_error(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "internal error; the server log has the details"},
                            status_code=500)

    for module in (health, datasets, scenarios, sweeps, keys, pages, uploads, workspace, compare,
                   sweep_pages):
        app.include_router(module.router)
    document_errors(app)
    app.mount(f"{STATIC_PREFIX}/vendor", CachedStatic(directory=VENDOR), name="vendor")
    app.mount(STATIC_PREFIX, CachedStatic(directory=STATIC), name="static")
    app.add_middleware(BodyLimitMiddleware, settings=settings)
    app.add_middleware(SecurityHeadersMiddleware)
    # text (pages, JSON, maps, GeoJSON) compressed for browsers that ask; after the security
    # headers so those are on the compressed response too
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=6)
    return app

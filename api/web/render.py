"""The web pages' templates (Jinja2, autoescaped: every user string is shown as text).

Templates live in ``api/web/templates``; the stylesheet and scripts in ``api/web/static`` are
served under :data:`STATIC_PREFIX`, a path that changes whenever a file there changes, so
they can be cached for a year (``Cache-Control: immutable``) and never go stale.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from mdtplan import __version__

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


VENDOR = Path(__import__("mdtplan").__file__).resolve().parent / "_vendor"
"""The map assets (Leaflet and plugins) the maps inline, served to the pages as ``vendor/``."""


def _static_digest() -> str:
    h = hashlib.sha256()
    for folder in (STATIC, VENDOR):
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix != ".py":
                h.update(path.relative_to(folder).as_posix().encode())
                h.update(path.read_bytes())
    return h.hexdigest()[:10]


STATIC_VERSION = f"{__version__}-{_static_digest()}"
STATIC_PREFIX = f"/static/{STATIC_VERSION}"
"""Where the static files are served: versioned by content, cached for a year."""

PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; frame-src 'self'; form-action 'self'; "
            "frame-ancestors 'self'; base-uri 'none'")
"""Pages run only the service's own scripts and styles (no inline script, no CDN); they may
frame the service's own maps (which run sandboxed, see ``MAP_CSP``)."""


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def gbp(value) -> str:
    """``£1,234,567`` (whole pounds); empty when there is no figure."""
    return f"£{value:,.0f}" if _number(value) else ""


def gbp_short(value) -> str:
    """``£21.99m``, ``£550k``, ``£900``: for headlines; the exact figure goes in a title."""
    if not _number(value):
        return ""
    sign = "−" if value < 0 else ""
    v = abs(value)
    if v >= 1e6:
        return f"{sign}£{v / 1e6:,.2f}m"
    if v >= 1e4:
        return f"{sign}£{v / 1e3:,.0f}k"
    return f"{sign}£{v:,.0f}"


def pct(value, digits: int = 1) -> str:
    return f"{value:.{digits}%}" if _number(value) else ""


def num(value, digits: int = 0) -> str:
    return f"{value:,.{digits}f}" if _number(value) else ""


def when(value) -> str:
    """A time as UTC text; the pages' script shows it in the reader's own time zone."""
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        value = datetime.fromtimestamp(value, tz=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def iso(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        value = datetime.fromtimestamp(value, tz=timezone.utc)
    return value.astimezone(timezone.utc).isoformat(timespec="seconds")


env = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                  autoescape=select_autoescape(["html"], default_for_string=True))
env.filters.update(gbp=gbp, gbp_short=gbp_short, pct=pct, num=num, when=when, iso=iso)
env.globals.update(static=STATIC_PREFIX, version=__version__)


def render(name: str, **context) -> str:
    """Render a page; every value is HTML-escaped unless marked safe."""
    return env.get_template(name).render(**context)


def page(name: str, status_code: int = 200, headers: dict | None = None,
         **context) -> HTMLResponse:
    """An HTML response of template ``name`` with the pages' Content-Security-Policy.

    Pages send ``Referrer-Policy: same-origin`` (the API's ``no-referrer`` would make browsers
    send ``Origin: null`` with the pages' own forms, which the forms' check refuses); no
    address leaves for another site either way.
    """
    return HTMLResponse(render(name, **context), status_code=status_code,
                        headers={"Content-Security-Policy": PAGE_CSP,
                                 "Referrer-Policy": "same-origin", **(headers or {})})

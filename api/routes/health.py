"""``GET /health``: is the service up (no key needed; no database work)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from mdtplan import __version__

from ..schemas import HealthOut

router = APIRouter(tags=["service"])


@router.get("/health", response_model=HealthOut)
async def health(request: Request) -> HealthOut:
    """Liveness: the version, and whether the job dispatcher runs."""
    dispatcher = request.app.state.dispatcher
    return HealthOut(version=__version__, dispatcher=bool(dispatcher and dispatcher.alive),
                     running=dispatcher.running if dispatcher else 0)

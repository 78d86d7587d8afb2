"""Liveness and readiness probes for orchestrators and load balancers."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from gifdist import __version__
from gifdist.web.auth import service_of

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz() -> JSONResponse:
    """The process is alive (no dependency is checked)."""
    return JSONResponse({"status": "ok", "version": __version__})


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Every dependency answers: 200, or 503 naming the ones that failed."""
    checks = await run_in_threadpool(service_of(request).check_dependencies)
    failed = {name: problem for name, problem in checks.items() if problem}
    body = {
        "status": "ready" if not failed else "unavailable",
        "checks": {name: problem or "ok" for name, problem in checks.items()},
    }
    return JSONResponse(
        body, status_code=503 if failed else 200, headers={"Cache-Control": "no-store"}
    )

"""Operator endpoints (admin scope)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from gifdist.accounts.keys import Scope
from gifdist.web.auth import authorise

router = APIRouter()


@router.get("/admin/dashboard", summary="What the running service is doing")
async def dashboard(request: Request) -> dict[str, Any]:
    """The seed ``ObservabilityStack.get_dashboard_data()`` of this process (recent
    logs, every metric's current value, trace summaries) plus uptime, backends,
    analytics buffer and moderation queue state."""
    await authorise(request, Scope.ADMIN)
    data: dict[str, Any] = await run_in_threadpool(request.app.state.dashboard.data)
    return data

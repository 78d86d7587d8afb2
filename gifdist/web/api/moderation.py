"""Reports from the public and the moderators' API (queue, decisions, audit trail)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, PlainTextResponse, Response

from gifdist.accounts.keys import Scope
from gifdist.analytics.reports import parse_time
from gifdist.errors import InvalidInput, NotFound, PayloadTooLarge
from gifdist.moderation.review import audit_csv, reviewer_label
from gifdist.web.auth import authorise, service_of

router = APIRouter()

MAX_REPORT_BYTES = 4096


class Decision(BaseModel):
    """Body of ``POST /api/v1/moderation/assets/{asset_id}/decision``."""

    model_config = ConfigDict(extra="forbid", strict=True)  # true is not 1, "1" is not 1

    decision: str = Field(..., max_length=16, description="approve, reject or flag")
    notes: str = Field("", max_length=5000, description="Why (kept in the audit trail).")


@router.post("/assets/{asset_id}/report", status_code=202, summary="Report a GIF")
async def report_asset(asset_id: str, request: Request) -> JSONResponse:
    """Anyone may report a public GIF (JSON ``{"reason": "…"}``, optional). When enough
    different people have reported it since its last review, it is taken down until a
    moderator decides. Rate-limited per address."""
    service = service_of(request)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_REPORT_BYTES:
            raise PayloadTooLarge(f"a report is at most {MAX_REPORT_BYTES} bytes")
    reason: Any = None
    if body.strip():
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            raise InvalidInput("the report must be JSON", code="bad_json") from None
        if not isinstance(data, dict) or set(data) - {"reason"}:
            raise InvalidInput('the report is a JSON object {"reason": "…"}', code="bad_report")
        reason = data.get("reason")
    client = request.app.state.client_addresses(request.scope)
    result = await run_in_threadpool(service.review.report, asset_id, reason, client)
    return JSONResponse(result, status_code=202)


@router.get("/assets/{asset_id}/frames", summary="The frames a reviewer should look at")
async def sampled_frames(asset_id: str, request: Request) -> dict[str, Any]:
    """The frames the visual scanner samples (first, last, scene changes, evenly
    spaced), each with a PNG URL, so a reviewer sees what the scanner saw."""
    service = service_of(request)
    await authorise(request, Scope.MODERATE)
    frames = await run_in_threadpool(service.frames.sampled, asset_id)
    base = f"{service.settings.base_url}/api/v1/assets/{asset_id}/frames"
    return {
        "asset_id": asset_id,
        "frames": [
            {"index": f["index"], "reason": f["reason"], "url": f"{base}/{f['index']}.png"}
            for f in frames
        ],
    }


@router.get("/assets/{asset_id}/frames/{index}.png", summary="One sampled frame as PNG")
async def sampled_frame(asset_id: str, index: int, request: Request) -> Response:
    service = service_of(request)
    await authorise(request, Scope.MODERATE)
    frames = await run_in_threadpool(service.frames.sampled, asset_id)
    for frame in frames:
        if frame["index"] == index:
            return Response(
                frame["png"],
                media_type="image/png",
                headers={
                    "Cache-Control": "private, max-age=600",
                    "X-Content-Type-Options": "nosniff",
                },
            )
    raise NotFound(f"frame {index} is not one of the sampled frames")


@router.get("/moderation/queue", summary="GIFs waiting for a moderator")
async def review_queue(
    request: Request,
    status: str | None = Query(None, max_length=16),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> dict[str, Any]:
    """Flagged then pending GIFs, oldest first, with the scan's reasons, report reasons
    and a ``content_url`` that shows the bytes to key holders."""
    service = service_of(request)
    await authorise(request, Scope.MODERATE)
    items = await run_in_threadpool(service.review.queue, status, limit, offset)
    return {"items": items, "count": len(items), "limit": limit, "offset": offset}


@router.post("/moderation/assets/{asset_id}/decision", summary="Decide on a GIF")
async def decide(asset_id: str, body: Decision, request: Request) -> dict[str, Any]:
    """approve publishes it (restoring quarantined bytes on appeal), reject takes it
    down and refuses the same bytes from now on, flag keeps it in the queue."""
    service = service_of(request)
    key = await authorise(request, Scope.MODERATE)
    reviewer = reviewer_label(key.name, key.key_id)
    record = await run_in_threadpool(
        service.review.decide, asset_id, body.decision, reviewer, body.notes
    )
    return {
        **record.to_json(service.settings.base_url),
        "moderation": record.moderation or {},
    }


@router.get("/moderation/audit", summary="The moderation audit trail")
async def audit_trail(
    request: Request,
    asset_id: str | None = Query(None, max_length=64),
    decision: str | None = Query(None, max_length=16),
    start: str | None = Query(None, alias="from", max_length=40),
    end: str | None = Query(None, alias="to", max_length=40),
    limit: int = Query(100, ge=0, le=100_000, description="0: no limit (exports)."),
    format: str = Query("json", max_length=8),
) -> Any:
    """Entries oldest first, each with the hash that chains it to the previous one;
    ``format=csv`` exports the same rows."""
    service = service_of(request)
    await authorise(request, Scope.MODERATE)
    if format not in ("json", "csv"):
        raise InvalidInput("format must be json or csv", code="bad_format")
    begin, finish = parse_time(start, "from"), parse_time(end, "to")
    entries = await run_in_threadpool(
        lambda: service.review.audit(
            asset_id=asset_id, decision=decision, start=begin, end=finish, limit=limit
        )
    )
    if format == "csv":
        return PlainTextResponse(
            audit_csv(entries),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
        )
    return {"entries": [e.to_dict() for e in entries], "count": len(entries)}


@router.get("/moderation/audit/verify", summary="Check the audit trail's hash chain")
async def audit_verify(request: Request) -> dict[str, Any]:
    service = service_of(request)
    await authorise(request, Scope.MODERATE)
    result: dict[str, Any] = await run_in_threadpool(service.review.verify)
    return result

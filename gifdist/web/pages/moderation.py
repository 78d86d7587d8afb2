"""The moderation page: the review queue with sampled frames, decisions, the audit trail."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from gifdist.accounts.keys import Scope
from gifdist.analytics.reports import parse_time
from gifdist.errors import GifdistError, InvalidInput
from gifdist.moderation.review import reviewer_label
from gifdist.web.pages.base import (
    User,
    missing_scope,
    page,
    param,
    query_url,
    service_of,
    to_signin,
)
from gifdist.web.pages.signin import current_user
from gifdist.web.session import check_csrf
from gifdist.wiring import Service

router = APIRouter(include_in_schema=False)

QUEUE_FILTERS = (("", "Flagged and pending"), ("flagged", "Flagged"), ("pending", "Pending"))
DECISION_FILTERS = (
    ("", "Any decision"),
    ("approve", "Approved"),
    ("reject", "Rejected"),
    ("flag", "Flagged"),
)
DECISION_DONE = {"approve": "Approved", "reject": "Rejected", "flag": "Kept flagged"}
AUDIT_ROWS = 100


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """The audit trail filters, as typed."""

    asset_id: str
    decision: str
    start: str
    end: str

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> AuditQuery:
        return cls(
            asset_id=param(params, "asset_id", 64),
            decision=param(params, "decision", 16),
            start=param(params, "from", 40),
            end=param(params, "to", 40),
        )

    def export_url(self) -> str:
        return query_url(
            "/api/v1/moderation/audit",
            asset_id=self.asset_id,
            decision=self.decision,
            **{"from": self.start, "to": self.end},
            limit=0,
            format="csv",
        )


def _audit_entries(service: Service, query: AuditQuery) -> list[dict[str, Any]]:
    """Newest first (``InvalidInput`` for a bad decision or time)."""
    if query.decision and query.decision not in dict(DECISION_FILTERS):
        raise InvalidInput("decision must be approve, reject or flag", code="bad_decision")
    entries = service.review.audit(
        asset_id=query.asset_id or None,
        decision=query.decision or None,
        start=parse_time(query.start, "from"),
        end=parse_time(query.end, "to"),
        limit=AUDIT_ROWS,
    )
    return [entry.to_dict() for entry in reversed(entries)]


def _queue_items(service: Service, status: str) -> list[dict[str, Any]]:
    """The queue with each GIF's stored review frames (rendered at scan time; this
    page never decodes a GIF)."""
    if status not in dict(QUEUE_FILTERS):
        raise InvalidInput("status must be flagged or pending", code="bad_status")
    items: list[dict[str, Any]] = service.review.queue(status or None, 50, 0)
    for item in items:
        try:
            item["frames"] = [
                {k: v for k, v in f.items() if k != "png"}
                for f in service.frames.sampled(item["asset_id"], render_missing=False)
            ]
        except GifdistError:
            item["frames"] = []  # gone meanwhile: the GIF is still listed
    return items


def _moderation_data(service: Service, params: Mapping[str, str]) -> dict[str, Any]:
    status = param(params, "status", 16)
    audit = AuditQuery.parse(params)
    data: dict[str, Any] = {"queue_status": status, "audit": audit, "items": [], "entries": []}
    data["queue_error"] = data["audit_error"] = None
    try:
        data["items"] = _queue_items(service, status)
    except InvalidInput as exc:
        data["queue_error"] = exc.message
    try:
        data["entries"] = _audit_entries(service, audit)
    except InvalidInput as exc:
        data["audit_error"] = exc.message
    data["chain"] = service.review.verify()
    return data


async def _moderation_page(
    request: Request,
    user: User,
    *,
    notice: str | None = None,
    error: str | None = None,
    status: int = 400,
) -> HTMLResponse:
    params = request.query_params
    data = await run_in_threadpool(_moderation_data, service_of(request), params)
    decided = param(params, "decided", 64)
    done = DECISION_DONE.get(param(params, "decision", 16))
    if notice is None and decided and done:
        notice = f"{done}: GIF {decided}."
    invalid = error or data["queue_error"] or data["audit_error"]
    return page(
        "moderation.html",
        user,
        status=status if invalid else 200,
        current="moderation",
        notice=notice,
        error=error,
        queue_filters=QUEUE_FILTERS,
        decision_filters=DECISION_FILTERS,
        **data,
    )


@router.get("/moderation")
async def moderation(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return to_signin(request)
    if not user[1].allows(Scope.MODERATE):
        return missing_scope(user, Scope.MODERATE, "the moderation queue")
    return await _moderation_page(request, user)


@router.post("/moderation/{asset_id}/decision")
async def moderation_decision(
    asset_id: str,
    request: Request,
    csrf: str = Form("", max_length=256),
    decision: str = Form("", max_length=16),
    notes: str = Form("", max_length=5000),
    status: str = Form("", max_length=16),
) -> Response:
    user = await current_user(request)
    if user is None:
        return to_signin(request)
    check_csrf(user[0], csrf)
    if not user[1].allows(Scope.MODERATE):
        return missing_scope(user, Scope.MODERATE, "the moderation queue")
    service = service_of(request)
    reviewer = reviewer_label(user[1].name, user[1].key_id)
    try:
        await run_in_threadpool(service.review.decide, asset_id, decision, reviewer, notes)
    except GifdistError as exc:
        return await _moderation_page(request, user, error=exc.message, status=exc.status)
    target = query_url(
        "/moderation",
        status=status if status in dict(QUEUE_FILTERS) else None,
        decided=asset_id[:64],
        decision=decision.strip().lower(),
    )
    return RedirectResponse(target, status_code=303)

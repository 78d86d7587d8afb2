"""``POST /s/{code}``: a person unlocks a password link (attempts are limited)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from gifdist.analytics.capture import Visit
from gifdist.caching.ttl import TTLCache
from gifdist.sharelinks.controls import expired, password_matches
from gifdist.web.auth import service_of
from gifdist.web.pages.render import error_page, render

router = APIRouter()

MAX_ATTEMPTS = 10  # per client and link, per window
ATTEMPT_WINDOW = 600.0
MAX_FORM_BYTES = 4096


def attempt_counter() -> TTLCache[tuple[str, str], int]:
    """Tries per (client, link) in the current window (the app owns one)."""
    return TTLCache(100_000, ttl=ATTEMPT_WINDOW)


@router.post("/s/{code}", include_in_schema=False)
async def unlock(code: str, request: Request) -> Response:
    service = service_of(request)
    link = await run_in_threadpool(service.sharing.get, code)
    record = await run_in_threadpool(service.catalog.get, link["asset_id"]) if link else None
    if link is None or record is None or not record.is_public or not link.get("password_hash"):
        return HTMLResponse(error_page(404, "This link does not exist."), status_code=404)
    if expired(link):
        return HTMLResponse(error_page(410, "This link has expired."), status_code=410)
    client = request.client.host if request.client else "-"
    key = (client, link["short_code"])
    attempts: TTLCache[tuple[str, str], int] = request.app.state.unlock_attempts
    tries = (attempts.get(key) or 0) + 1
    attempts.set(key, tries)
    if tries > MAX_ATTEMPTS:
        page = render("locked.html", code=link["short_code"], error="Too many tries; wait a while.")
        return HTMLResponse(page, status_code=429, headers={"Retry-After": "600"})
    attempt = await _password_field(request)
    ok = attempt is not None and await run_in_threadpool(
        password_matches, link["password_hash"], attempt
    )
    if not ok:
        page = render("locked.html", code=link["short_code"], error="That password is not right.")
        return HTMLResponse(page, status_code=403, headers={"Cache-Control": "no-store"})
    if not await run_in_threadpool(service.sharing.take_click, link):
        return HTMLResponse(error_page(410, "This link has reached its click limit."), 410)
    visit = Visit(
        user_agent=request.headers.get("user-agent"),
        client=client,
        referer=request.headers.get("referer"),
        via=request.query_params.get("via"),
    )
    service.capture.short_link(record.asset_id, link, visit)
    location = f"{service.settings.base_url}/a/{record.asset_id}"
    return RedirectResponse(location, status_code=303, headers={"Cache-Control": "no-store"})


async def _password_field(request: Request) -> str | None:
    """The form's ``password`` (never logged); None when the form is missing or too big."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return None
    form = await request.form()
    value = form.get("password")
    return value if isinstance(value, str) else None

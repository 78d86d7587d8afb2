"""The pages people use: sign in, upload, their library."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from gifdist.errors import Unauthorized
from gifdist.keys import ApiKey
from gifdist.service import Service
from gifdist.web.pages import render
from gifdist.web.session import Session, SessionCodec, check_csrf

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 24
SORTS = (("new", "Newest first"), ("old", "Oldest first"))
NO_STORE = {"Cache-Control": "no-store"}


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def _sessions(request: Request) -> SessionCodec:
    codec: SessionCodec = request.app.state.sessions
    return codec


async def current_user(request: Request) -> tuple[Session, ApiKey] | None:
    """The signed-in session and its key, or None."""
    session = _sessions(request).read(request)
    if session is None:
        return None
    try:
        key = await run_in_threadpool(_service(request).keys.by_id, session.key_id)
    except Unauthorized:
        return None
    return session, key


def page(
    template: str, user: tuple[Session, ApiKey] | None, status: int = 200, **context: Any
) -> HTMLResponse:
    html = render(
        template, signed_in=user is not None, csrf=user[0].csrf if user else "", **context
    )
    return HTMLResponse(html, status_code=status, headers=NO_STORE)


def _safe_next(value: str | None) -> str:
    """Only local paths are followed after sign-in (no open redirect)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/upload"


def _to_signin(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/signin?next={quote(request.url.path)}", status_code=303)


@router.get("/signin")
async def signin_form(request: Request, next: str = "/upload") -> Response:
    return page("signin.html", await current_user(request), next=_safe_next(next), error=None)


@router.post("/signin")
async def signin(
    request: Request,
    key: str = Form("", max_length=512),
    next: str = Form("/upload", max_length=2048),
) -> Response:
    service = _service(request)
    try:
        api_key = await run_in_threadpool(service.keys.verify, key.strip())
    except Unauthorized as exc:
        return page("signin.html", None, status=401, next=_safe_next(next), error=exc.message)
    response = RedirectResponse(_safe_next(next), status_code=303)
    _sessions(request).issue(response, api_key.key_id)
    return response


@router.post("/signout")
async def signout(request: Request, csrf: str = Form("", max_length=256)) -> Response:
    session = _sessions(request).read(request)
    if session is not None:
        check_csrf(session, csrf)
    response = RedirectResponse("/", status_code=303)
    _sessions(request).clear(response)
    return response


@router.get("/upload")
async def upload_page(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return _to_signin(request)
    settings = _service(request).settings
    return page(
        "upload.html",
        user,
        max_bytes=settings.max_upload_bytes,
        max_mb=settings.max_upload_bytes // (1024 * 1024),
        max_title=settings.max_title_chars,
    )


@router.get("/library")
async def library(request: Request, q: str = "", sort: str = "new", page_no: int = 1) -> Response:
    user = await current_user(request)
    if user is None:
        return _to_signin(request)
    page_no = max(1, min(int(request.query_params.get("page", page_no) or 1), 10_000))
    sort = sort if sort in dict(SORTS) else "new"
    query = q.strip()[:200]
    service = _service(request)
    owner = None if user[1].key_id == service.keys.ADMIN_KEY_ID else user[1].key_id
    records = await run_in_threadpool(
        lambda: service.assets.list(
            owner_key_id=owner,
            search=query or None,
            oldest_first=sort == "old",
            limit=PAGE_SIZE + 1,
            offset=(page_no - 1) * PAGE_SIZE,
        )
    )
    items = [{"asset": record, "views": None, "ctr": None} for record in records[:PAGE_SIZE]]
    return page(
        "library.html",
        user,
        items=items,
        q=query,
        sort=sort,
        sorts=SORTS,
        page=page_no,
        has_more=len(records) > PAGE_SIZE,
    )

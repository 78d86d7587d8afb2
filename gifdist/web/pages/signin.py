"""Signing in with an API key, signing out, and who the signed-in viewer is."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from gifdist.errors import Unauthorized
from gifdist.web.auth import service_of as _service
from gifdist.web.pages.base import User, page
from gifdist.web.session import COOKIE, SessionCodec, check_csrf, check_same_origin

router = APIRouter(include_in_schema=False)


def _sessions(request: Request) -> SessionCodec:
    codec: SessionCodec = request.app.state.sessions
    return codec


async def current_user(request: Request) -> User | None:
    """The signed-in session and its key, or None."""
    if COOKIE not in request.cookies:
        return None
    session = await run_in_threadpool(_sessions(request).read, request)
    if session is None:
        return None
    try:
        key = await run_in_threadpool(_service(request).keys.by_id, session.key_id)
    except Unauthorized:
        return None
    return session, key


def _safe_next(value: str | None) -> str:
    """Only local paths are followed after sign-in (no open redirect)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/upload"


# sign in ---------------------------------------------------------------------------


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
    check_same_origin(request, service.settings.base_url)  # no signing people in from afar
    try:
        api_key = await run_in_threadpool(service.keys.verify, key.strip())
    except Unauthorized as exc:
        return page("signin.html", None, status=401, next=_safe_next(next), error=exc.message)
    response = RedirectResponse(_safe_next(next), status_code=303)
    await run_in_threadpool(_sessions(request).issue, response, api_key.key_id)
    return response


@router.post("/signout")
async def signout(request: Request, csrf: str = Form("", max_length=256)) -> Response:
    """End the session server side (a copied cookie stops working too)."""
    check_same_origin(request, _service(request).settings.base_url)
    codec = _sessions(request)
    session = await run_in_threadpool(codec.read, request)
    if session is not None:
        check_csrf(session, csrf)
        await run_in_threadpool(codec.end, session)
    response = RedirectResponse("/", status_code=303)
    codec.clear(response)
    return response

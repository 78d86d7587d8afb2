"""Who the signed-in viewer is (the sign-in and account pages are in ``account``)."""

from __future__ import annotations

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from gifdist.errors import Unauthorized
from gifdist.web.auth import service_of as _service
from gifdist.web.pages.base import User
from gifdist.web.session import COOKIE, SessionCodec


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
        key = await run_in_threadpool(_service(request).signin.principal, session.key_id)
    except Unauthorized:
        return None
    return session, key


def _safe_next(value: str | None) -> str:
    """Only local paths are followed after sign-in (no open redirect)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/upload"

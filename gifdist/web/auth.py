"""Who is calling: API keys (bearer tokens) or a browser session with its CSRF token."""

from __future__ import annotations

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from gifdist.accounts.keys import ApiKey, Scope, bearer_token
from gifdist.web.session import COOKIE, check_csrf
from gifdist.wiring import Service


def service_of(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def authorise(request: Request, scope: Scope) -> ApiKey:
    """The caller's key, checked for ``scope`` (401 without a key, 403 without the scope).

    A bearer token wins; otherwise a browser session cookie is accepted, with its
    CSRF token required on state-changing methods.
    """
    service = service_of(request)
    token = bearer_token(request.headers.get("authorization"))
    session = None
    if not token and COOKIE in request.cookies:
        session = await run_in_threadpool(request.app.state.sessions.read, request)
    if session is not None:
        if request.method not in SAFE_METHODS:
            check_csrf(session, request.headers.get("x-csrf-token"))
        key = await run_in_threadpool(service.signin.principal, session.key_id)
    else:
        key = await run_in_threadpool(service.keys.verify, token)
    key.require(scope)
    return key

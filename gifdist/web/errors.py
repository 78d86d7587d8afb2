"""One place that turns exceptions into HTTP answers.

API paths get ``{"error": {"code", "message"}}``; page paths get an HTML page
with the same status. Nothing escapes as a traceback.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import HTMLResponse, JSONResponse, Response

from gifdist.errors import GifdistError, TooManyRequests
from gifdist.observability.metrics import record_client_disconnect
from gifdist.web.pages.base import viewer_context
from gifdist.web.pages.render import error_page
from gifdist.web.pages.signin import current_user
from gifdist.web.session import COOKIE

log = logging.getLogger("gifdist.web")

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    410: "gone",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    """gifdist's shape of an error answer: ``{"error": {"code", "message"}}``."""
    return {"error": {"code": code, "message": message}}


# Google API status names, which Tenor's errors carry.
GOOGLE_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    413: "INVALID_ARGUMENT",
    422: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    503: "UNAVAILABLE",
}
TENOR_PREFIX = "/v2/"
GIPHY_PREFIX = "/v1/"


def wants_json(path: str) -> bool:
    return path.startswith(("/api/", "/oembed", "/healthz", "/readyz", TENOR_PREFIX, GIPHY_PREFIX))


def error_body_for(path: str, status: int, code: str, message: str) -> dict[str, Any]:
    """The JSON error in the shape the path's clients expect: Tenor's (Google API
    errors) under /v2, GIPHY's (``meta``) under /v1, gifdist's everywhere else."""
    if path.startswith(TENOR_PREFIX):
        return {
            "error": {
                "code": status,
                "message": message,
                "status": GOOGLE_STATUS.get(status, "INTERNAL"),
                "details": [{"reason": code, "domain": "gifdist"}],
            }
        }
    if path.startswith(GIPHY_PREFIX):
        meta = {"status": status, "msg": message, "response_id": "", "error_code": code}
        return {"data": [], "meta": meta}
    return error_body(code, message)


def error_response(
    path: str,
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
    viewer: dict[str, Any] | None = None,
) -> Response:
    if wants_json(path):
        return JSONResponse(
            error_body_for(path, status, code, message), status_code=status, headers=headers
        )
    if viewer and viewer.get("signed_in"):  # the page names who is signed in
        headers = {**(headers or {}), "Cache-Control": "private, no-store"}
    page = error_page(status, message, **(viewer or {}))
    return HTMLResponse(page, status_code=status, headers=headers)


async def _viewer(request: Request) -> dict[str, Any] | None:
    """Who is signed in, for an HTML error page's header (nothing when unknown)."""
    if COOKIE not in request.cookies or wants_json(request.url.path):
        return None
    try:
        return viewer_context(await current_user(request))
    except Exception:  # an error page never fails over who is looking
        log.debug("no viewer for the error page", exc_info=True)
        return None


async def _gifdist_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GifdistError)
    headers: dict[str, str] = {}
    if isinstance(exc, TooManyRequests):
        headers["Retry-After"] = str(max(1, int(exc.retry_after + 0.999)))
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="gifdist"'
    viewer = await _viewer(request)
    return error_response(request.url.path, exc.status, exc.code, exc.message, headers, viewer)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for error in exc.errors()[:5]:
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
        problems.append(f"{where}: {error.get('msg', 'invalid')}" if where else error.get("msg"))
    message = "; ".join(str(p) for p in problems) or "invalid request"
    return error_response(request.url.path, 422, "invalid_input", message)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = HTTP_CODES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    if exc.status_code == 404:
        message = f"nothing at {request.url.path[:200]}"
    headers = dict(exc.headers) if exc.headers else None
    return error_response(request.url.path, exc.status_code, code, message, headers)


DATABASE_RETRY_AFTER = 5


# Connection-level failures (server down, restarted, pool exhausted), not SQL errors.
DATABASE_DOWN: tuple[type[Exception], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.DisconnectionError,
    sqlalchemy.exc.TimeoutError,
)


async def _database_down(request: Request, exc: Exception) -> Response:
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
    return error_response(
        request.url.path,
        503,
        "database_unavailable",
        "the database is unavailable; try again shortly",
        {"Retry-After": str(DATABASE_RETRY_AFTER)},
    )


async def _client_gone(request: Request, exc: Exception) -> Response:
    """The client hung up mid-body: nothing is wrong here, and nobody reads the answer."""
    path = request.url.path
    kind = (
        "upload" if path == "/api/v1/assets" else "report" if path.endswith("/report") else "other"
    )
    log.info("client disconnected during %s %s", request.method, path[:200])
    record_client_disconnect(kind)
    return Response(status_code=400)  # never sent: the connection is gone


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(request.url.path, 500, "internal_error", "an unexpected error occurred")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(GifdistError, _gifdist_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    for kind in DATABASE_DOWN:
        app.add_exception_handler(kind, _database_down)
    app.add_exception_handler(ClientDisconnect, _client_gone)
    app.add_exception_handler(Exception, _unexpected)

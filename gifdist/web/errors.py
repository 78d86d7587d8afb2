"""One place that turns exceptions into HTTP answers.

API paths get ``{"error": {"code", "message"}}``; page paths get an HTML page
with the same status. Nothing escapes as a traceback.
"""

from __future__ import annotations

import logging

import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import HTMLResponse, JSONResponse, Response

from gifdist.errors import GifdistError, TooManyRequests
from gifdist.observability.metrics import record_client_disconnect
from gifdist.web.pages.render import error_page

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
    """The one shape of every error answer: ``{"error": {"code", "message"}}``."""
    return {"error": {"code": code, "message": message}}


def wants_json(path: str) -> bool:
    return path.startswith(("/api/", "/oembed", "/healthz", "/readyz"))


def error_response(
    path: str, status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    if wants_json(path):
        return JSONResponse(error_body(code, message), status_code=status, headers=headers)
    return HTMLResponse(error_page(status, message), status_code=status, headers=headers)


async def _gifdist_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GifdistError)
    headers: dict[str, str] = {}
    if isinstance(exc, TooManyRequests):
        headers["Retry-After"] = str(max(1, int(exc.retry_after + 0.999)))
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="gifdist"'
    return error_response(request.url.path, exc.status, exc.code, exc.message, headers)


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

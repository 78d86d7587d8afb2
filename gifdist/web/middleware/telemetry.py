"""Per-request metrics, a server span, and the ``GET /metrics`` route.

``TelemetryMiddleware`` sits just inside ``RequestIdMiddleware``, in front of the hot
paths, so it sees every request. Metrics are labelled with the route template, never
the raw path: the hot paths have fixed templates, FastAPI routes report the matched
route after routing, and anything else is ``other``, so hostile paths cannot grow
the number of series.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import FastAPI
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gifdist.observability.access_log import ACCESS_LOGGER, fast_handler
from gifdist.observability.context import current_request_id
from gifdist.observability.metrics import HTTP_REQUEST_DURATION, HTTP_REQUESTS, MetricsExporter
from gifdist.observability.tracing import request_tracer, start_server_span

SHORT_LINK_ROUTE = "/s/{code}"
GIF_ROUTE = "/a/{asset_id}.gif"
BEACON_ROUTE = "/api/v1/events"
OTHER_ROUTE = "other"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_PROPAGATOR = TraceContextTextMapPropagator()
# Pre-bound label children for the hot paths' usual answers (no lookup lock per request).
_HOT = (
    ("GET", SHORT_LINK_ROUTE, (200, 302, 404, 429)),
    ("GET", GIF_ROUTE, (200, 206, 304, 404, 416)),
    ("HEAD", GIF_ROUTE, (200, 304, 404)),
    ("POST", BEACON_ROUTE, (202,)),
)

access_log = logging.getLogger(ACCESS_LOGGER)


def hot_route(method: str, path: str) -> str | None:
    """The template of a path the hot-path front answers, else None (mirrors ``HotPaths``)."""
    if method == "POST" and path == BEACON_ROUTE:
        return BEACON_ROUTE
    if method not in ("GET", "HEAD"):
        return None
    if path.startswith("/s/"):
        return SHORT_LINK_ROUTE
    if path.startswith("/a/") and path.endswith(".gif"):
        return GIF_ROUTE
    return None


def routed_template(scope: Scope) -> str:
    """The route template the app matched (set on ``scope`` by routing), or ``other``."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    root_path = scope.get("root_path")
    if scope.get("endpoint") is not None and root_path:  # a mount, e.g. /static
        return f"{root_path}/{{path}}"
    return OTHER_ROUTE


def _trace_headers(scope: Scope) -> dict[str, str] | None:
    carrier: dict[str, str] | None = None
    for key, value in scope["headers"]:
        if key == b"traceparent" or key == b"tracestate":
            carrier = carrier or {}
            carrier[key.decode()] = value.decode("latin-1")
    return carrier


def _traceparent(span: trace.Span) -> bytes | None:
    context = span.get_span_context()
    if not context.is_valid:
        return None
    return b"00-%032x-%016x-%02x" % (context.trace_id, context.span_id, context.trace_flags)


class TelemetryMiddleware:
    """Counts and times every request, runs it in a server span, returns ``traceparent``.

    An incoming W3C ``traceparent`` makes the server span its child; a malformed one
    is ignored (a new trace starts). ``access_log`` writes one line per request to the
    ``gifdist.access`` logger: method, route template, path, status, duration, body
    bytes sent, request id and trace id.
    """

    def __init__(self, app: ASGIApp, tracer: Tracer, *, access_log: bool = True) -> None:
        self.app = app
        self.tracer = tracer
        self.access_log = access_log
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._timers: dict[tuple[str, str], Any] = {}
        for method, route, statuses in _HOT:
            self._timers[method, route] = HTTP_REQUEST_DURATION.labels(method, route)
            for status in statuses:
                self._counters[method, route, status] = HTTP_REQUESTS.labels(
                    method, route, str(status)
                )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method = scope["method"] if scope["method"] in _METHODS else "other"
        hot = hot_route(method, scope["path"])
        carrier = _trace_headers(scope)
        parent = _PROPAGATOR.extract(carrier) if carrier else otel_context.Context()
        name = f"{method} {hot}" if hot else method  # renamed once routing has matched
        span = start_server_span(self.tracer, name, parent)
        span_token = otel_context.attach(trace.set_span_in_context(span, parent))
        tracer_token = request_tracer.set(self.tracer)
        traceparent = _traceparent(span)
        status = 500
        sent = 0  # body bytes, as nginx's $body_bytes_sent
        declared: int | None = None

        async def send_with_trace(message: Message) -> None:
            nonlocal status, sent, declared
            kind = message["type"]
            if kind == "http.response.body":
                sent += len(message.get("body", b""))
            elif kind == "http.response.start":
                status = message["status"]
                headers = message.get("headers", [])
                if self.access_log:
                    declared = _content_length(headers)
                if traceparent is not None:
                    message["headers"] = [*headers, (b"traceparent", traceparent)]
            elif kind == "http.response.pathsend":  # the server sends the file itself
                sent += declared or 0
            await send(message)

        try:
            await self.app(scope, receive, send_with_trace)
        except BaseException as exc:
            if span.is_recording():
                span.record_exception(exc)
            raise
        finally:
            route = hot or routed_template(scope)
            elapsed = time.perf_counter() - started
            self._observe(method, route, status, elapsed)
            if self.access_log:
                _log_access(scope, method, route, status, elapsed, sent, traceparent)
            _finish_span(span, method, route, status, scope)
            request_tracer.reset(tracer_token)
            otel_context.detach(span_token)

    def _observe(self, method: str, route: str, status: int, elapsed: float) -> None:
        counter = self._counters.get((method, route, status))
        if counter is None:
            counter = HTTP_REQUESTS.labels(method, route, str(status))
            self._counters[method, route, status] = counter
        counter.inc()
        timer = self._timers.get((method, route))
        if timer is None:
            timer = self._timers[method, route] = HTTP_REQUEST_DURATION.labels(method, route)
        timer.observe(elapsed)


def _finish_span(span: trace.Span, method: str, route: str, status: int, scope: Scope) -> None:
    if span.is_recording():
        span.update_name(f"{method} {route}")
        span.set_attributes(
            {
                "http.request.method": method,
                "http.route": route,
                "url.path": scope["path"],
                "http.response.status_code": status,
                "gifdist.request_id": current_request_id.get() or "",
            }
        )
        if status >= 500:
            span.set_status(Status(StatusCode.ERROR))
    span.end()


def _content_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    for key, value in headers:
        if key.lower() == b"content-length":
            return int(value) if value.isdigit() else None
    return None


def _log_access(
    scope: Scope,
    method: str,
    route: str,
    status: int,
    elapsed: float,
    sent: int,
    traceparent: bytes | None,
) -> None:
    if not access_log.isEnabledFor(logging.INFO):
        return
    fields: dict[str, Any] = {
        "method": method,
        "route": route,
        "path": scope["path"][:512],
        "status": status,
        "duration_ms": round(elapsed * 1000, 3),
        "request_id": current_request_id.get(),
        "trace_id": traceparent[3:35].decode() if traceparent else None,
        "span_id": traceparent[36:52].decode() if traceparent else None,
    }
    handler = fast_handler(access_log)
    if handler is not None:
        handler.write_request(sent=sent, **fields)
    else:
        access_log.info("request", extra={**fields, "bytes": sent})


def add_metrics_route(app: FastAPI, exporter: MetricsExporter) -> None:
    """``GET /metrics``: the Prometheus text format (not in the OpenAPI schema)."""

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        body = await run_in_threadpool(exporter.render)
        return Response(
            body,
            media_type=exporter.content_type,
            headers={"Cache-Control": "no-store"},
        )

"""Per-request metrics, a server span, and the ``GET /metrics`` route.

``RequestTelemetry`` is what a request pays for telemetry; the hot-path front
(``gifdist.web.hotpath``) calls it in its one pass, ``TelemetryMiddleware`` wraps
everything else with it. Metrics are labelled with the route template, never
the raw path: the hot paths have fixed templates, FastAPI routes report the matched
route after routing, and anything else is ``other``, so hostile paths cannot grow
the number of series.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from contextvars import Token
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
from gifdist.observability.context import current_request_id, current_trace_ids
from gifdist.observability.metrics import HTTP_REQUEST_DURATION, HTTP_REQUESTS, MetricsExporter
from gifdist.observability.tracing import (
    records_spans,
    request_tracer,
    start_server_span,
    unrecorded_ids,
)

SHORT_LINK_ROUTE = "/s/{code}"
GIF_ROUTE = "/a/{asset_id}.gif"
RENDITION_ROUTE = "/a/{asset_id}.{ext}"  # MP4, WebP, stills and the small variants
BEACON_ROUTE = "/api/v1/events"
OTHER_ROUTE = "other"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_PROPAGATOR = TraceContextTextMapPropagator()
# Pre-bound label children for the hot paths' usual answers (no lookup lock per request).
_HOT = (
    ("GET", SHORT_LINK_ROUTE, (200, 302, 404, 429)),
    ("GET", GIF_ROUTE, (200, 206, 304, 404, 416)),
    ("HEAD", GIF_ROUTE, (200, 304, 404)),
    ("GET", RENDITION_ROUTE, (200, 206, 304, 404)),
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


def _traceparent(span: trace.Span) -> bytes | None:
    context = span.get_span_context()
    if not context.is_valid:
        return None
    return b"00-%032x-%016x-%02x" % (context.trace_id, context.span_id, context.trace_flags)


def trace_headers(headers: Iterable[tuple[bytes, bytes]]) -> tuple[bytes | None, bytes | None]:
    """The request's ``traceparent`` and ``tracestate`` (the last of each), if any."""
    traceparent = tracestate = None
    for key, value in headers:
        if key == b"traceparent":
            traceparent = value
        elif key == b"tracestate":
            tracestate = value
    return traceparent, tracestate


class RequestTrace:
    """One request's place in a trace: a recorded server span, or only its ids."""

    __slots__ = ("span", "traceparent", "_ids_token", "_span_token", "_tracer_token")

    def __init__(
        self,
        span: trace.Span | None,
        traceparent: bytes | None,
        ids_token: Token[tuple[int, int] | None] | None = None,
        span_token: object = None,
        tracer_token: Token[Tracer | None] | None = None,
    ) -> None:
        self.span = span
        self.traceparent = traceparent
        self._ids_token = ids_token
        self._span_token = span_token
        self._tracer_token = tracer_token

    def failed(self, exc: BaseException) -> None:
        if self.span is not None and self.span.is_recording():
            self.span.record_exception(exc)

    def close(self, method: str, route: str, status: int, scope: Scope) -> None:
        if self._ids_token is not None:
            current_trace_ids.reset(self._ids_token)
            return
        if self.span is not None:
            _finish_span(self.span, method, route, status, scope)
        if self._tracer_token is not None:
            request_tracer.reset(self._tracer_token)
        if self._span_token is not None:
            otel_context.detach(self._span_token)  # type: ignore[arg-type]


class RequestTelemetry:
    """What every request pays for telemetry, once: its trace, then metrics, access line.

    Without an exporter no span object is made: the trace and span ids are drawn (or
    the caller's trace id kept) and go to ``traceparent``, log lines and domain spans.
    Counters for the hot paths' usual answers are bound to their labels up front.
    """

    def __init__(self, tracer: Tracer, *, access_log: bool = True) -> None:
        self.tracer = tracer
        self.access_log = access_log
        self.records = records_spans(tracer)
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._timers: dict[tuple[str, str], Any] = {}
        for method, route, statuses in _HOT:
            self._timers[method, route] = HTTP_REQUEST_DURATION.labels(method, route)
            for status in statuses:
                self._counters[method, route, status] = HTTP_REQUESTS.labels(
                    method, route, str(status)
                )

    def begin(self, name: str, traceparent: bytes | None, tracestate: bytes | None) -> RequestTrace:
        """Start the request's trace (child of the caller's valid ``traceparent``)."""
        if not self.records:
            ids = unrecorded_ids(traceparent, tracestate)
            header = b"00-%032x-%016x-00" % ids
            return RequestTrace(None, header, current_trace_ids.set(ids))
        carrier: dict[str, str] = {}
        if traceparent is not None:
            carrier["traceparent"] = traceparent.decode("latin-1")
        if tracestate is not None:
            carrier["tracestate"] = tracestate.decode("latin-1")
        parent = _PROPAGATOR.extract(carrier) if carrier else otel_context.Context()
        span = start_server_span(self.tracer, name, parent)
        span_token = otel_context.attach(trace.set_span_in_context(span, parent))
        tracer_token = request_tracer.set(self.tracer)
        return RequestTrace(span, _traceparent(span), None, span_token, tracer_token)

    def finish(
        self,
        request: RequestTrace,
        scope: Scope,
        method: str,
        route: str,
        status: int,
        elapsed: float,
        sent: int,
    ) -> None:
        """Count and time the request, write its access line, end its trace."""
        counter = self._counters.get((method, route, status))
        if counter is None:
            counter = HTTP_REQUESTS.labels(method, route, str(status))
            self._counters[method, route, status] = counter
        counter.inc()
        timer = self._timers.get((method, route))
        if timer is None:
            timer = self._timers[method, route] = HTTP_REQUEST_DURATION.labels(method, route)
        timer.observe(elapsed)
        if self.access_log:
            _log_access(scope, method, route, status, elapsed, sent, request.traceparent)
        request.close(method, route, status, scope)


class TelemetryMiddleware:
    """Counts and times every request, runs it in a server span, returns ``traceparent``.

    An incoming W3C ``traceparent`` makes the server span its child; a malformed one
    is ignored (a new trace starts). ``access_log`` writes one line per request to the
    ``gifdist.access`` logger: method, route template, path, status, duration, body
    bytes sent, request id and trace id. The hot paths do the same in one pass
    (``gifdist.web.hotpath``); this serves everything else.
    """

    def __init__(
        self,
        app: ASGIApp,
        tracer: Tracer,
        *,
        access_log: bool = True,
        telemetry: RequestTelemetry | None = None,
    ) -> None:
        self.app = app
        self.telemetry = telemetry or RequestTelemetry(tracer, access_log=access_log)
        self.access_log = self.telemetry.access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method = scope["method"] if scope["method"] in _METHODS else "other"
        hot = hot_route(method, scope["path"])
        name = f"{method} {hot}" if hot else method  # renamed once routing has matched
        request = self.telemetry.begin(name, *trace_headers(scope["headers"]))
        traceparent = request.traceparent
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
                    declared = content_length(headers)
                if traceparent is not None:
                    message["headers"] = [*headers, (b"traceparent", traceparent)]
            elif kind == "http.response.pathsend":  # the server sends the file itself
                sent += declared or 0
            await send(message)

        try:
            await self.app(scope, receive, send_with_trace)
        except BaseException as exc:
            request.failed(exc)
            raise
        finally:
            route = hot or routed_template(scope)
            elapsed = time.perf_counter() - started
            self.telemetry.finish(request, scope, method, route, status, elapsed, sent)


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


def content_length(headers: list[tuple[bytes, bytes]]) -> int | None:
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

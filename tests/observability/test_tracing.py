"""Tracing: W3C trace-context in and out, domain spans, and a real OTLP export."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import make_settings
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from servers import running_server
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from gifdist.config import Settings
from gifdist.observability.tracing import configure_tracing, span, tracer_for
from gifdist.web.app import create_app
from gifdist.web.middleware.telemetry import TelemetryMiddleware
from gifdist.wiring import Service

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, f"sqlite:///{tmp_path / 'gifdist.db'}")


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(settings: Settings, exporter: InMemorySpanExporter) -> TracerProvider:
    return configure_tracing(settings, exporter=exporter)


@pytest.fixture
def traced_client(settings: Settings, provider: TracerProvider) -> Iterator[TestClient]:
    service = Service(settings)
    try:
        app = create_app(service=service, tracer_provider=provider)
        with TestClient(app, base_url="http://gifdist.test") as client:
            yield client
    finally:
        service.close()


def test_incoming_traceparent_makes_the_server_span_its_child(
    traced_client: TestClient, exporter: InMemorySpanExporter
) -> None:
    response = traced_client.get(
        "/api/v1/links/nosuchcode", headers={"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"}
    )
    [server] = exporter.get_finished_spans()
    assert server.kind is SpanKind.SERVER
    assert f"{server.context.trace_id:032x}" == TRACE_ID
    assert server.parent is not None and f"{server.parent.span_id:016x}" == PARENT_ID
    assert server.parent.is_remote
    assert server.name == "GET /api/v1/links/{code}"
    assert server.attributes["http.route"] == "/api/v1/links/{code}"
    assert server.attributes["http.response.status_code"] == response.status_code
    assert server.attributes["gifdist.request_id"] == response.headers["x-request-id"]
    match = TRACEPARENT.fullmatch(response.headers["traceparent"])
    assert match is not None
    assert match.group(1) == TRACE_ID
    assert match.group(2) == f"{server.context.span_id:016x}"
    assert int(match.group(3), 16) & 1  # sampled, like the parent


@pytest.mark.parametrize(
    "header",
    [
        "garbage",
        f"00-{'0' * 32}-{PARENT_ID}-01",  # all-zero trace id is invalid
        f"00-{TRACE_ID}-{'0' * 16}-01",  # all-zero parent id is invalid
        f"00-{TRACE_ID[:-1]}-{PARENT_ID}-01",
        "00-" + "z" * 32 + f"-{PARENT_ID}-01",
        b"\xe9" * 60,  # not ASCII at all
    ],
    ids=["garbage", "zero-trace", "zero-parent", "short", "not-hex", "latin-1"],
)
def test_a_malformed_traceparent_starts_a_new_trace(
    traced_client: TestClient, exporter: InMemorySpanExporter, header: str | bytes
) -> None:
    response = traced_client.get("/healthz", headers={"traceparent": header})
    assert response.status_code == 200
    [server] = exporter.get_finished_spans()
    assert server.parent is None
    assert f"{server.context.trace_id:032x}" != TRACE_ID
    match = TRACEPARENT.fullmatch(response.headers["traceparent"])
    assert match is not None and match.group(1) == f"{server.context.trace_id:032x}"


def test_hot_paths_get_a_server_span_named_by_template(
    traced_client: TestClient, exporter: InMemorySpanExporter
) -> None:
    assert traced_client.get("/s/NotThere").status_code == 404
    assert traced_client.head("/a/0123456789abcdef.gif").status_code == 404
    spans = exporter.get_finished_spans()
    servers = [s for s in spans if s.kind is SpanKind.SERVER]
    assert [s.name for s in servers] == ["GET /s/{code}", "HEAD /a/{asset_id}.gif"]
    # the database lookups on the cache miss are children of the request's span
    lookup = next(s for s in spans if s.name == "db.get_asset")
    assert lookup.parent is not None and lookup.parent.span_id == servers[1].context.span_id


def test_server_errors_mark_the_span_as_error(
    settings: Settings, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    async def broken(request: object) -> PlainTextResponse:
        raise RuntimeError("kaput")

    inner = Starlette(routes=[Route("/broken", broken)])
    app = TelemetryMiddleware(inner, tracer_for(provider))
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/broken").status_code == 500
    [server] = exporter.get_finished_spans()
    assert server.status.status_code is StatusCode.ERROR
    assert server.attributes["http.response.status_code"] == 500


def test_domain_spans_join_the_request_trace(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    def work(request: object) -> PlainTextResponse:  # runs in the thread pool
        with span("upload.validate", asset_id="abc", size=3, meta={"x": 1}, skipped=None):
            pass
        return PlainTextResponse("ok")

    inner = Starlette(routes=[Route("/work", work)])
    with TestClient(TelemetryMiddleware(inner, tracer_for(provider))) as client:
        assert client.get("/work").status_code == 200
    child, server = exporter.get_finished_spans()
    assert child.name == "upload.validate"
    assert child.parent is not None and child.parent.span_id == server.context.span_id
    assert child.context.trace_id == server.context.trace_id
    assert dict(child.attributes) == {"asset_id": "abc", "size": 3, "meta": "{'x': 1}"}


def test_without_an_exporter_nothing_is_recorded_but_ids_still_flow(
    settings: Settings,
) -> None:
    provider = configure_tracing(settings)
    service = Service(settings)
    try:
        app = create_app(service=service, tracer_provider=provider)
        with TestClient(app, base_url="http://gifdist.test") as client:
            response = client.get(
                "/healthz", headers={"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"}
            )
    finally:
        service.close()
    match = TRACEPARENT.fullmatch(response.headers["traceparent"])
    assert match is not None and match.group(1) == TRACE_ID
    assert match.group(2) != PARENT_ID
    assert not int(match.group(3), 16) & 1  # not sampled: nothing is recorded


class _Receiver(BaseHTTPRequestHandler):
    requests: list[ExportTraceServiceRequest]

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/v1/traces":
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            self.requests.append(request)
        self.send_response(200 if self.path == "/v1/traces" else 404)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def exported_spans(receiver: type[_Receiver], trace_id: str) -> list[Any]:
    return [
        span
        for request in list(receiver.requests)
        for resource_spans in request.resource_spans
        for scope_spans in resource_spans.scope_spans
        for span in scope_spans.spans
        if span.trace_id.hex() == trace_id
    ]


@pytest.fixture
def otlp_receiver() -> Iterator[tuple[str, type[_Receiver]]]:
    handler = type("Receiver", (_Receiver,), {"requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.mark.server
def test_a_real_server_exports_its_spans_over_otlp_http(
    tmp_path: Path, otlp_receiver: tuple[str, type[_Receiver]]
) -> None:
    endpoint, receiver = otlp_receiver
    traceparent = f"00-{TRACE_ID}-{PARENT_ID}-01"
    with running_server(
        tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, OTEL_BSP_SCHEDULE_DELAY="100"
    ) as server:
        response = httpx.get(
            f"{server.base}/s/NoSuchCode", headers={"traceparent": traceparent}, timeout=5
        )
        assert response.status_code == 404
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            spans = exported_spans(receiver, TRACE_ID)
            if any(s.name == "GET /s/{code}" for s in spans):
                break
            time.sleep(0.1)
    assert spans, server.log()
    [exported] = [s for s in spans if s.name == "GET /s/{code}"]
    lookups = [s for s in spans if s.name == "db.get_link"]
    assert [s.parent_span_id for s in lookups] == [exported.span_id]
    assert exported.parent_span_id.hex() == PARENT_ID
    assert exported.span_id.hex() == response.headers["traceparent"].split("-")[2]
    resource = receiver.requests[0].resource_spans[0].resource
    attributes = {a.key: a.value.string_value for a in resource.attributes}
    assert attributes["service.name"] == "gifdist"

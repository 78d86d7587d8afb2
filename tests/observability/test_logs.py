"""Structured logs: one JSON object per line, request and trace ids, hostile metadata."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import structlog
from conftest import make_settings
from gif_factory import make_gif
from servers import SERVER_KEY, running_server
from starlette.testclient import TestClient

from gifdist.config import Settings
from gifdist.observability.access_log import ACCESS_LOGGER
from gifdist.observability.logs import SERVER_LOGGERS, configure_logging
from gifdist.observability.tracing import configure_tracing
from gifdist.web.app import create_app
from gifdist.wiring import Service


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """configure_logging changes process-wide state: put it back after the test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    servers = {name: logging.getLogger(name) for name in (*SERVER_LOGGERS, ACCESS_LOGGER)}
    saved = {name: (list(lg.handlers), lg.propagate) for name, lg in servers.items()}
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, (server_handlers, propagate) in saved.items():
            servers[name].handlers[:] = server_handlers
            servers[name].propagate = propagate
        structlog.reset_defaults()


def json_settings(tmp_path: Path, **overrides: object) -> Settings:
    return make_settings(tmp_path, f"sqlite:///{tmp_path / 'gifdist.db'}", **overrides)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line]


@pytest.mark.usefixtures("restore_logging")
def test_stdlib_records_become_one_json_object_per_line(tmp_path: Path) -> None:
    out = io.StringIO()
    configure_logging(json_settings(tmp_path), stream=out)
    logging.getLogger("gifdist.example").info("stored %s", "abc", extra={"asset_id": "abc"})
    [entry] = lines(out)
    assert entry["event"] == "stored abc"
    assert entry["level"] == "info"
    assert entry["logger"] == "gifdist.example"
    assert entry["service"] == "gifdist"
    assert entry["asset_id"] == "abc"
    assert entry["timestamp"].endswith("Z") and "T" in entry["timestamp"]
    assert "request_id" not in entry and "trace_id" not in entry


@pytest.mark.usefixtures("restore_logging")
def test_hostile_metadata_does_not_break_a_line(tmp_path: Path) -> None:
    class Hostile:
        def __repr__(self) -> str:
            raise RuntimeError("no repr for you")

    out = io.StringIO()
    configure_logging(json_settings(tmp_path), stream=out)
    logging.getLogger("gifdist.example").warning(
        "line one\nline two",
        extra={
            "raw": b"\x00\xff",
            "thing": object(),
            "hostile": Hostile(),
            "text": "café ☕ \ud800 \x1b[31m",
            "nested": {"set": {1, 2}, "nan": float("nan")},
        },
    )
    assert out.getvalue().count("\n") == 1  # the newline in the message stays escaped
    [entry] = lines(out)
    assert entry["event"] == "line one\nline two"
    assert entry["raw"] == repr(b"\x00\xff")
    assert entry["thing"].startswith("<object object")
    assert entry["hostile"] == "<unrepresentable Hostile>"
    assert entry["text"].startswith("café ☕ ")
    assert entry["nested"] == {"set": [1, 2], "nan": "nan"}


@pytest.mark.usefixtures("restore_logging")
def test_exceptions_are_rendered_into_the_line(tmp_path: Path) -> None:
    out = io.StringIO()
    configure_logging(json_settings(tmp_path), stream=out)
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("gifdist.example").exception("failed")
    [entry] = lines(out)
    assert entry["level"] == "error"
    assert "ValueError: boom" in entry["exception"]


@pytest.mark.usefixtures("restore_logging")
def test_structlog_loggers_share_the_format(tmp_path: Path) -> None:
    out = io.StringIO()
    configure_logging(json_settings(tmp_path), stream=out)
    structlog.get_logger("gifdist.native").info("hello", count=3)
    [entry] = lines(out)
    assert (entry["event"], entry["count"], entry["logger"]) == ("hello", 3, "gifdist.native")
    assert entry["service"] == "gifdist"


@pytest.mark.usefixtures("restore_logging")
def test_level_setting_filters_records(tmp_path: Path) -> None:
    out = io.StringIO()
    configure_logging(json_settings(tmp_path, log_level="warning"), stream=out)
    logging.getLogger("gifdist.example").info("quiet")
    logging.getLogger("gifdist.example").warning("loud")
    assert [entry["event"] for entry in lines(out)] == ["loud"]


@pytest.mark.usefixtures("restore_logging")
def test_console_format_when_json_is_off(tmp_path: Path) -> None:
    out = io.StringIO()
    configure_logging(json_settings(tmp_path, log_json=False), stream=out)
    logging.getLogger("gifdist.example").info("for humans", extra={"asset_id": "abc"})
    text = out.getvalue()
    assert "for humans" in text and "asset_id" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text.splitlines()[0])


@pytest.mark.usefixtures("restore_logging")
def test_configuring_twice_keeps_one_handler(tmp_path: Path) -> None:
    out = io.StringIO()
    configure_logging(json_settings(tmp_path), stream=io.StringIO())
    configure_logging(json_settings(tmp_path), stream=out)
    logging.getLogger("gifdist.example").info("once")
    assert len(lines(out)) == 1


@pytest.mark.usefixtures("restore_logging")
def test_request_lines_carry_the_request_id_and_trace_ids(tmp_path: Path) -> None:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    out = io.StringIO()
    settings = json_settings(tmp_path, access_log=True)
    configure_logging(settings, stream=out)
    exporter = InMemorySpanExporter()
    provider = configure_tracing(settings, exporter=exporter)
    service = Service(settings)
    try:
        app = create_app(service=service, tracer_provider=provider)
        with TestClient(app, base_url="http://gifdist.test") as client:
            response = client.get("/healthz", headers={"X-Request-ID": "req-42"})
    finally:
        service.close()
    assert response.headers["x-request-id"] == "req-42"
    [access] = [entry for entry in lines(out) if entry["logger"] == "gifdist.access"]
    [server_span] = exporter.get_finished_spans()
    assert access["request_id"] == "req-42"
    assert access["trace_id"] == f"{server_span.context.trace_id:032x}"
    assert access["span_id"] == f"{server_span.context.span_id:016x}"
    assert (access["route"], access["status"], access["method"]) == ("/healthz", 200, "GET")
    assert access["duration_ms"] >= 0


@pytest.mark.server
@pytest.mark.parametrize("server_name", ["granian", "uvicorn"])
def test_a_real_server_writes_json_lines_with_the_request_id(
    tmp_path: Path, server_name: str
) -> None:
    with running_server(tmp_path, server_name, GIFDIST_ACCESS_LOG="true") as server:
        response = httpx.get(f"{server.base}/healthz", timeout=5)
        request_id = response.headers["x-request-id"]
    entries = []
    for line in server.log().splitlines():
        if line.startswith("{"):
            entries.append(json.loads(line))  # every JSON-looking line must parse
    assert entries, server.log()
    [access] = [e for e in entries if e.get("request_id") == request_id]
    assert access["logger"] == "gifdist.access" and access["route"] == "/healthz"
    assert access["trace_id"] == response.headers["traceparent"].split("-")[1]
    # The server's own lines come through the same formatter.
    server_logger = "_granian" if server_name == "granian" else "uvicorn.error"
    assert any(e["logger"].startswith(server_logger) for e in entries)
    assert all(e["service"] == "gifdist" for e in entries)


def access_lines(log: str) -> list[dict[str, object]]:
    entries = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    return [e for e in entries if e.get("logger") == "gifdist.access"]


@pytest.mark.server
def test_a_default_server_logs_every_request_with_route_bytes_and_ids(tmp_path: Path) -> None:
    gif = make_gif(width=40, height=30, frames=3, seed=7)
    with running_server(tmp_path, "granian") as server:
        uploaded = httpx.post(
            f"{server.base}/api/v1/assets",
            headers={"Authorization": f"Bearer {SERVER_KEY}"},
            files={"file": ("a.gif", gif, "image/gif")},
            timeout=10,
        )
        asset_id = uploaded.json()["asset_id"]
        response = httpx.get(f"{server.base}/a/{asset_id}.gif", timeout=5)
        missing = httpx.get(f"{server.base}/a/{'0' * 12}.gif", timeout=5)
    assert response.status_code == 200 and response.content == gif
    lines_by_id = {line["request_id"]: line for line in access_lines(server.log())}
    served = lines_by_id[response.headers["x-request-id"]]
    assert served["route"] == "/a/{asset_id}.gif" and served["method"] == "GET"
    assert (served["status"], served["bytes"]) == (200, len(gif))  # sent by pathsend
    assert served["trace_id"] == response.headers["traceparent"].split("-")[1]
    assert isinstance(served["duration_ms"], float)
    upload = lines_by_id[uploaded.headers["x-request-id"]]
    assert (upload["route"], upload["status"]) == ("/api/v1/assets", 201)
    assert upload["bytes"] == len(uploaded.content)
    not_found = lines_by_id[missing.headers["x-request-id"]]
    assert (not_found["status"], not_found["bytes"]) == (404, len(missing.content))


@pytest.mark.server
def test_the_access_log_can_be_switched_off(tmp_path: Path) -> None:
    with running_server(tmp_path, "granian", GIFDIST_ACCESS_LOG="false") as server:
        httpx.get(f"{server.base}/healthz", timeout=5)
    assert access_lines(server.log()) == []


@pytest.mark.usefixtures("restore_logging")
def test_access_lines_stay_one_valid_json_object_for_hostile_paths(tmp_path: Path) -> None:
    out = io.StringIO()
    settings = json_settings(tmp_path)
    configure_logging(settings, stream=out)
    service = Service(settings)
    hostile = '/s/"quote\\back\nline\u2603\ufffd'  # an invalid UTF-8 byte reads as U+FFFD
    try:
        with TestClient(create_app(service=service), base_url="http://gifdist.test") as client:
            client.get("/s/%22quote%5Cback%0Aline%E2%98%83%FF")
            client.get("/healthz")
    finally:
        service.close()
    text = out.getvalue()
    assert all(line.startswith("{") for line in text.splitlines())
    access = [entry for entry in lines(out) if entry["logger"] == "gifdist.access"]
    assert [entry["route"] for entry in access] == ["/s/{code}", "/healthz"]
    assert access[0]["path"] == hostile
    for entry in access:
        assert entry["level"] == "info" and entry["event"] == "request"
        assert entry["service"] == "gifdist" and entry["timestamp"].endswith("Z")
        assert isinstance(entry["bytes"], int) and entry["request_id"]

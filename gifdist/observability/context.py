"""The request id and trace ids of the work in progress, for log lines and spans (set by
the web layer)."""

from __future__ import annotations

from contextvars import ContextVar

current_request_id: ContextVar[str | None] = ContextVar("gifdist_request_id", default=None)
#: (trace id, span id) of a request whose server span is not recorded (no exporter):
#: log lines and domain spans join that trace without an OpenTelemetry span object.
current_trace_ids: ContextVar[tuple[int, int] | None] = ContextVar(
    "gifdist_trace_ids", default=None
)

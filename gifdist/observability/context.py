"""The request id of the work in progress, for log lines and spans (set by the web layer)."""

from __future__ import annotations

from contextvars import ContextVar

current_request_id: ContextVar[str | None] = ContextVar("gifdist_request_id", default=None)

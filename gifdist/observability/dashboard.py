"""The seed's ``ObservabilityStack`` as a live view of the running service.

The service's own telemetry goes to structlog, prometheus-client and
OpenTelemetry. This module feeds the same data into an ``ObservabilityStack`` so
``get_dashboard_data()`` (and ``GET /api/v1/admin/dashboard``) shows what the
service is doing: gifdist log records (a bounded ring), the current value of every
Prometheus series (histograms as count and sum), and finished spans when tracing
records them.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from opentelemetry.sdk.trace import SpanProcessor

from gifdist import __version__
from gifdist.assets.model import AssetStatus
from gifdist.observability.metrics import REGISTRY, ServiceCollector
from gifdist.observability.stack import LogLevel, ObservabilityStack, Span

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from gifdist.analytics.buffer import EventBuffer
    from gifdist.assets.store import AssetStore, BlobStore
    from gifdist.config import Settings
    from gifdist.moderation.queue import ModerationQueue

_LEVELS = {
    logging.DEBUG: LogLevel.DEBUG,
    logging.INFO: LogLevel.INFO,
    logging.WARNING: LogLevel.WARNING,
    logging.ERROR: LogLevel.ERROR,
    logging.CRITICAL: LogLevel.CRITICAL,
}


class _StackHandler(logging.Handler):
    """Copies gifdist's log records into the stack's logger (its ring buffer)."""

    def __init__(self, stack: ObservabilityStack) -> None:
        super().__init__(logging.INFO)
        self.stack = stack

    def emit(self, record: logging.LogRecord) -> None:
        if hasattr(record, "metadata") and hasattr(record, "span_id"):
            return  # written by the stack's own logger: already in the ring
        try:
            level = _LEVELS.get(record.levelno, LogLevel.INFO)
            self.stack.logger._log(
                level, record.getMessage(), {"logger": record.name}, forward=False
            )
        except Exception:  # a log line must never break the code that logs
            self.handleError(record)


class _StackSpanProcessor(SpanProcessor):
    """An OpenTelemetry span processor that records finished spans in the stack."""

    def __init__(self, stack: ObservabilityStack) -> None:
        self.stack = stack

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        return None

    def on_end(self, span: Any) -> None:
        context = span.get_span_context()
        start, end = (span.start_time or 0) / 1e9, (span.end_time or 0) / 1e9
        seed = Span(
            trace_id=f"{context.trace_id:032x}",
            span_id=f"{context.span_id:016x}",
            parent_span_id=f"{span.parent.span_id:016x}" if span.parent else None,
            operation=span.name,
            start_time=start,
            end_time=end,
            duration_ms=round((end - start) * 1000, 3),
            status="error" if span.status.status_code.name == "ERROR" else "success",
            tags={k: v for k, v in (span.attributes or {}).items()},
        )
        self.stack.tracer._record(seed)
        self.stack.metrics.record_histogram(
            "span.duration", seed.duration_ms or 0.0, {"operation": span.name}
        )


class ServiceDashboard:
    def __init__(
        self,
        *,
        settings: Settings,
        engine: Engine,
        events: EventBuffer,
        assets: AssetStore,
        queue: ModerationQueue,
        blobs: BlobStore,
        max_logs: int = 2000,
        max_traces: int = 500,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.events = events
        self.assets = assets
        self.queue = queue
        self.blobs = blobs
        self.started = time.time()
        self.stack = ObservabilityStack(
            "gifdist", LogLevel.INFO, max_logs=max_logs, max_traces=max_traces
        )
        self.handler = _StackHandler(self.stack)
        self.span_processor = _StackSpanProcessor(self.stack)
        logging.getLogger("gifdist").addHandler(self.handler)

    def close(self) -> None:
        logging.getLogger("gifdist").removeHandler(self.handler)

    def attach_tracing(self, provider: Any) -> None:
        """Record the provider's finished spans too (an SDK ``TracerProvider``)."""
        add = getattr(provider, "add_span_processor", None)
        if add is not None:
            add(self.span_processor)

    def _sync_metrics(self) -> None:
        for source in (REGISTRY, ServiceCollector(self.events, self.engine)):
            for family in source.collect():
                for sample in family.samples:
                    if sample.name.endswith(("_bucket", "_created")):
                        continue
                    self.stack.metrics.set_gauge(sample.name, sample.value, sample.labels)

    def data(self) -> dict[str, Any]:
        """The stack's dashboard data plus what only the service knows."""
        self._sync_metrics()
        data = self.stack.get_dashboard_data()
        data["version"] = __version__
        data["uptime_seconds"] = round(time.time() - self.started, 1)
        data["backends"] = {
            "database": self.engine.dialect.name,
            "blobs": type(self.blobs).__name__,
            "redis": bool(self.settings.redis_url),
            "moderation": self.settings.moderation,
        }
        data["service"] = "gifdist"
        data["analytics"] = {
            "buffer_depth": self.events.depth,
            "written": self.events.written,
            "dropped": self.events.dropped,
            "spilled": self.events.spilled,
        }
        data["moderation"] = {
            "pending_jobs": self.queue.pending(),
            "flagged": len(self.assets.list(status=AssetStatus.FLAGGED, limit=1000)),
        }
        data["assets"] = self.assets.count()
        data["recent_logs"] = [e.to_dict() for e in self.stack.logger.get_logs()[-50:]]
        return data

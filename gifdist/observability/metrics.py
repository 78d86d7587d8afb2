"""Prometheus metrics: HTTP traffic, domain counters, and live state read at scrape time.

The metric objects are module-level on purpose: prometheus-client's multi-process
mode (``PROMETHEUS_MULTIPROC_DIR``) keeps each one's values in per-process files that
the scraped worker adds up, which only works for metrics created once per process.
They live in their own registry, not prometheus-client's global one. Live state
(analytics buffer, database pool) belongs to a ``Service`` and is read by a
collector when ``/metrics`` is scraped, so nothing is updated on the request path.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from gifdist.analytics.buffer import EventBuffer

__all__ = [
    "CONTENT_TYPE_LATEST",
    "HTTP_REQUEST_DURATION",
    "HTTP_REQUESTS",
    "MODERATION_DECISIONS",
    "RATELIMIT_REFUSALS",
    "REGISTRY",
    "UPLOADS",
    "MetricsExporter",
    "ServiceCollector",
    "UploadOutcome",
    "record_cache_purge_failure",
    "record_client_disconnect",
    "record_moderation_decision",
    "record_ratelimit_refusal",
    "record_upload",
]

#: The module's metrics (HTTP and domain); ``MetricsExporter`` serves them.
REGISTRY = CollectorRegistry(auto_describe=True)

# Hot paths answer in well under a millisecond, so the buckets start at 250 µs.
_DURATION_BUCKETS: tuple[float, ...] = (
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
)
_DURATION_BUCKETS += (0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

HTTP_REQUESTS = Counter(
    "gifdist_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_REQUEST_DURATION = Histogram(
    "gifdist_http_request_duration_seconds",
    "Time from receiving a request to the end of its response, by route template.",
    ["method", "route"],
    buckets=_DURATION_BUCKETS,
    registry=REGISTRY,
)
UPLOADS = Counter(
    "gifdist_uploads",
    "Finished uploads by result: created, duplicate (bytes already stored) or rejected.",
    ["result"],
    registry=REGISTRY,
)
MODERATION_DECISIONS = Counter(
    "gifdist_moderation_decisions",
    "Moderation outcomes (automatic and manual review) by resulting status.",
    ["decision"],
    registry=REGISTRY,
)
RENDITION_JOBS = Counter(
    "gifdist_rendition_jobs",
    "Finished conversions of a content by outcome: made (maybe with some renditions "
    "skipped), retry (failed, to be tried again) or failed (given up).",
    ["outcome"],
    registry=REGISTRY,
)
RENDITION_SECONDS = Histogram(
    "gifdist_rendition_seconds",
    "Wall-clock time of one content's conversion (all its renditions).",
    buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300),
    registry=REGISTRY,
)
RATELIMIT_REFUSALS = Counter(
    "gifdist_ratelimit_refusals",
    "Requests refused with 429 by rate-limit policy.",
    ["policy"],
    registry=REGISTRY,
)
CLIENT_DISCONNECTS = Counter(
    "gifdist_client_disconnects",
    "Requests whose client went away before its body was read (upload, report, other).",
    ["request"],
    registry=REGISTRY,
)
for _request in ("upload", "report", "other"):
    CLIENT_DISCONNECTS.labels(_request)


def record_client_disconnect(request: str) -> None:
    """Count one client that disconnected mid-body (``upload``, ``report`` or ``other``)."""
    CLIENT_DISCONNECTS.labels(request if request in ("upload", "report") else "other").inc()


CACHE_PURGE_FAILURES = Counter(
    "gifdist_cache_purge_failures",
    "PURGE requests to a shared cache that failed (the entry then expires by s-maxage).",
    registry=REGISTRY,
)


def record_cache_purge_failure() -> None:
    """Count one failed cache purge."""
    CACHE_PURGE_FAILURES.inc()


EDGE_LOG_LINES = Counter(
    "gifdist_edge_log_lines",
    "Caching-proxy log lines received (plays the cache served), by what they counted: "
    "counted, duplicate, not_counted (not a person), not_a_play, unknown_asset, malformed, "
    "refused_sender, failed (the database could not be asked).",
    ["result"],
    registry=REGISTRY,
)


def record_edge_log_line(result: str) -> None:
    """Count one caching-proxy log line by its result."""
    EDGE_LOG_LINES.labels(result).inc()


RATELIMIT_OUTAGES = Counter(
    "gifdist_ratelimit_backend_outages",
    "Times the shared rate-limit store (Redis) became unreachable.",
    registry=REGISTRY,
)


def record_ratelimit_outage() -> None:
    """Count one Redis outage seen by the limiter (once per outage, not per request)."""
    RATELIMIT_OUTAGES.inc()


class UploadOutcome(StrEnum):
    CREATED = "created"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


_DECISIONS = frozenset({"approved", "rejected", "flagged", "pending"})
_POLICIES = frozenset({"uploads", "links", "beacons", "shortlinks", "signin", "reports"})

# Series that exist from the start read 0 instead of being absent (rate() works at once).
for _result in UploadOutcome:
    UPLOADS.labels(_result.value)
for _decision in ("approved", "rejected", "flagged"):
    MODERATION_DECISIONS.labels(_decision)
for _outcome in ("made", "retry", "failed"):
    RENDITION_JOBS.labels(_outcome)


def record_upload(result: UploadOutcome | str) -> None:
    """Count one finished upload; ``result`` is created, duplicate or rejected."""
    UPLOADS.labels(UploadOutcome(result).value).inc()


def record_moderation_decision(decision: Any) -> None:
    """Count one moderation outcome (an ``AssetStatus`` or its value)."""
    value = str(getattr(decision, "value", decision)).lower()
    MODERATION_DECISIONS.labels(value if value in _DECISIONS else "other").inc()


def record_rendition_job(outcome: str, seconds: float | None = None) -> None:
    """Count one content's conversion (made, retry or failed) and how long it took."""
    RENDITION_JOBS.labels(outcome if outcome in ("made", "retry", "failed") else "other").inc()
    if seconds is not None:
        RENDITION_SECONDS.observe(seconds)


def record_ratelimit_refusal(policy: str) -> None:
    """Count one 429 from the rate limiter (``RateLimitMiddleware(on_refusal=…)``)."""
    RATELIMIT_REFUSALS.labels(policy if policy in _POLICIES else "other").inc()


class _Forward(Collector):
    """Exposes another registry's metrics inside a per-app registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterable[Metric]:
        return self.registry.collect()


class ServiceCollector(Collector):
    """Live state of one service, read when scraped.

    In multi-process mode each worker has its own buffer and pool, and a scrape
    reaches one worker: the series then carry that worker's ``pid``.
    """

    def __init__(self, events: EventBuffer, engine: Engine, *, per_process: bool = False) -> None:
        self.events = events
        self.engine = engine
        self.labels = {"pid": str(os.getpid())} if per_process else {}

    def collect(self) -> Iterator[Metric]:
        events = self.events
        yield self._gauge(
            "gifdist_analytics_buffer_depth",
            "Analytics events waiting in memory to be written.",
            events.depth,
        )
        for name, value, text in (
            ("written", events.written, "Analytics events written to the database."),
            ("dropped", events.dropped, "Analytics events lost: buffer and spill file full."),
            ("spilled", events.spilled, "Analytics events spilled to a file (buffer full)."),
        ):
            family = CounterMetricFamily(
                f"gifdist_analytics_events_{name}", text, labels=list(self.labels)
            )
            family.add_metric(list(self.labels.values()), value)
            yield family
        checked_out = getattr(self.engine.pool, "checkedout", None)
        if callable(checked_out):
            yield self._gauge(
                "gifdist_db_pool_checked_out",
                "Database connections currently checked out of the pool.",
                checked_out(),
            )

    def _gauge(self, name: str, text: str, value: float) -> GaugeMetricFamily:
        family = GaugeMetricFamily(name, text, labels=list(self.labels))
        family.add_metric(list(self.labels.values()), value)
        return family


class MetricsExporter:
    """The registry ``GET /metrics`` renders for one app.

    With ``multiprocess_dir`` the module metrics come from every worker's files
    (prometheus-client must have seen ``PROMETHEUS_MULTIPROC_DIR`` at import);
    without it, from this process, plus process, platform and GC metrics.
    """

    content_type = CONTENT_TYPE_LATEST

    def __init__(
        self, events: EventBuffer, engine: Engine, *, multiprocess_dir: Path | None = None
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        if multiprocess_dir is not None:
            MultiProcessCollector(self.registry, path=str(multiprocess_dir))  # type: ignore[no-untyped-call]
        else:
            own = (_Forward(REGISTRY), PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR)
            for collector in own:
                self.registry.register(collector)
        per_process = multiprocess_dir is not None
        self.registry.register(ServiceCollector(events, engine, per_process=per_process))

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)

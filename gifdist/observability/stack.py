"""In-process observability: structured logs, metrics and traces for one service.

The public API is the seed contract (``ObservabilityStack``, ``StructuredLogger``,
``MetricsCollector``, ``Timer``, ``Tracer``, ``Span``, ``LogEntry``, ``Metric``,
``LogLevel``, ``MetricType``). Everything lives in memory,
is thread-safe (one lock per collector) and is bounded: logs and traces sit in ring
buffers, histograms in a fixed-accuracy quantile sketch, and each metric name has a
cap on distinct tag sets so a tag fed from user input cannot exhaust memory. Trace and
span ids use the W3C trace-context format so they can later be bridged to
OpenTelemetry.

Deliberately different from the seed, for bounded memory: ``get_all_metrics`` is a
snapshot of every series (counters, gauges, histogram statistics) rather than a list
of every data point ever recorded, quantiles are within 1% rather than exact, and a
metric value that is not a finite number, a negative counter increment, an unknown
log level or metric type raise instead of being stored.
"""

from __future__ import annotations

import json
import logging
import math
import numbers
import secrets
import threading
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from types import TracebackType
from typing import Any, ClassVar

from gifdist.observability.sketch import QuantileSketch

__all__ = [
    "DROPPED_SERIES_METRIC",
    "OVERFLOW_TAGS",
    "LogEntry",
    "LogLevel",
    "Metric",
    "MetricType",
    "MetricsCollector",
    "ObservabilityStack",
    "QuantileSketch",
    "Span",
    "StructuredLogger",
    "Timer",
    "Tracer",
    "get_current_span",
    "json_safe",
]

#: Counter incremented for every sample routed to a metric's overflow series.
DROPPED_SERIES_METRIC = "observability_dropped_series"
#: Tags of the single series that absorbs samples beyond a metric's cardinality cap.
OVERFLOW_TAGS: dict[str, str] = {"overflow": "true"}

_OVERFLOW_KEY: tuple[tuple[str, str], ...] = tuple(OVERFLOW_TAGS.items())
_MAX_JSON_DEPTH = 8
_stdlib_logger = logging.getLogger("gifdist")
_current_span: ContextVar[Span | None] = ContextVar("gifdist_current_span", default=None)

SeriesKey = tuple[tuple[str, str], ...]


# --- JSON safety -------------------------------------------------------------------


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)
    except Exception:  # a hostile __repr__ must not break logging
        return f"<unrepresentable {type(value).__name__}>"


def _safe_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return str(value)
    except Exception:  # a hostile __str__ must not break metrics
        return _safe_repr(value)


def json_safe(value: Any, _depth: int = 0) -> Any:
    """Return a JSON-serialisable copy of ``value``.

    Containers are copied recursively (up to a fixed depth); sets become lists, enums
    their value, non-finite floats and anything else their ``repr``.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, Enum):
        return json_safe(value.value, _depth + 1)
    if _depth >= _MAX_JSON_DEPTH:
        return _safe_repr(value)
    try:
        if isinstance(value, Mapping):
            return {_safe_str(k): json_safe(v, _depth + 1) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [json_safe(v, _depth + 1) for v in value]
        if isinstance(value, set | frozenset):
            return sorted((json_safe(v, _depth + 1) for v in value), key=repr)
    except Exception:  # a container that fails to iterate is logged by its repr
        return _safe_repr(value)
    return _safe_repr(value)


def _json_safe_dict(values: Mapping[str, Any]) -> dict[str, Any]:
    return {_safe_str(key): json_safe(value) for key, value in values.items()}


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


# --- Levels and log records --------------------------------------------------------


class LogLevel(Enum):
    """Log severities, ordered DEBUG < INFO < WARNING < ERROR < CRITICAL.

    ``LogLevel("info")`` is accepted (case-insensitive); an unknown name raises
    ``ValueError`` listing the valid ones.
    """

    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"
    CRITICAL = "CRITICAL"

    @classmethod
    def _missing_(cls, value: object) -> LogLevel:
        if isinstance(value, str):
            for member in cls:
                if member.value == value.strip().upper():
                    return member
        names = ", ".join(member.value for member in cls)
        raise ValueError(f"unknown log level {value!r}; expected one of {names}")

    @property
    def severity(self) -> int:
        """The matching stdlib ``logging`` level number."""
        return int(getattr(logging, self.value))


def _as_level(level: LogLevel | str) -> LogLevel:
    return level if isinstance(level, LogLevel) else LogLevel(level)


@dataclass(frozen=True)
class LogEntry:
    """One structured log record; ``metadata`` is always JSON-serialisable."""

    timestamp: str
    level: str
    message: str
    service: str
    trace_id: str | None = None
    span_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "timestamp": self.timestamp,
            "level": self.level,
            "message": self.message,
            "service": self.service,
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "metadata": dict(self.metadata),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)


class MetricType(Enum):
    """The kinds of metric a collector keeps (a timer is recorded as a histogram)."""

    COUNTER = "counter"
    GAUGE = "gauge"
    HISTOGRAM = "histogram"
    TIMER = "timer"


@dataclass
class Metric:
    """One metric data point; ``metric_type`` is a ``MetricType`` value such as ``"counter"``.

    Raises:
        ValueError: ``metric_type`` names no ``MetricType``.
    """

    name: str
    value: float
    metric_type: str
    timestamp: str = field(default_factory=lambda: _utc_now())
    tags: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.metric_type = MetricType(self.metric_type).value

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "metric_type": self.metric_type,
            "timestamp": self.timestamp,
            "tags": dict(self.tags),
        }


class StructuredLogger:
    """Structured logger that stamps records with the current trace and span.

    Records at or above ``min_level`` are kept in a ring buffer of ``max_logs`` entries
    and forwarded to the stdlib logger ``gifdist`` with ``extra={"metadata": ...}``.
    """

    def __init__(
        self,
        service_name: str,
        min_level: LogLevel | str = LogLevel.INFO,
        *,
        max_logs: int = 10_000,
    ) -> None:
        if max_logs < 1:
            raise ValueError(f"max_logs must be at least 1, got {max_logs}")
        self.service_name = service_name
        self.min_level = _as_level(min_level)
        self._logs: deque[LogEntry] = deque(maxlen=max_logs)
        self._dropped = 0
        self._lock = threading.Lock()

    def debug(self, message: str, **metadata: Any) -> None:
        self._log(LogLevel.DEBUG, message, metadata)

    def info(self, message: str, **metadata: Any) -> None:
        self._log(LogLevel.INFO, message, metadata)

    def warning(self, message: str, **metadata: Any) -> None:
        self._log(LogLevel.WARNING, message, metadata)

    def error(self, message: str, **metadata: Any) -> None:
        self._log(LogLevel.ERROR, message, metadata)

    def critical(self, message: str, **metadata: Any) -> None:
        self._log(LogLevel.CRITICAL, message, metadata)

    def get_logs(self, trace_id: str | None = None) -> list[LogEntry]:
        """Stored entries, oldest first, optionally only those of one trace."""
        with self._lock:
            logs = list(self._logs)
        if trace_id is None:
            return logs
        return [entry for entry in logs if entry.trace_id == trace_id]

    def clear_logs(self) -> None:
        with self._lock:
            self._logs.clear()
            self._dropped = 0

    def summary(self) -> dict[str, Any]:
        """Counts for dashboards: stored ``total``, ``by_level`` and ring-buffer ``dropped``."""
        with self._lock:
            by_level = Counter(entry.level for entry in self._logs)
            return {"total": len(self._logs), "by_level": dict(by_level), "dropped": self._dropped}

    def _log(
        self,
        level: LogLevel,
        message: str,
        metadata: Mapping[str, Any],
        span: Span | None = None,
        *,
        forward: bool = True,
    ) -> None:
        if level.severity < self.min_level.severity:
            return
        span = span or _current_span.get()
        entry = LogEntry(
            timestamp=_utc_now(),
            level=level.value,
            message=_safe_str(message),
            service=self.service_name,
            trace_id=span.trace_id if span else None,
            span_id=span.span_id if span else None,
            metadata=_json_safe_dict(metadata),
        )
        with self._lock:
            if len(self._logs) == self._logs.maxlen:
                self._dropped += 1
            self._logs.append(entry)
        if not forward:  # already on its way through stdlib logging
            return
        extra = {
            "metadata": entry.metadata,
            "service": entry.service,
            "trace_id": entry.trace_id,
            "span_id": entry.span_id,
        }
        _stdlib_logger.log(level.severity, entry.message, extra=extra)


# --- Metrics -----------------------------------------------------------------------


def _number(value: Any, what: str) -> float:
    if not isinstance(value, numbers.Real):
        raise TypeError(f"{what} must be a real number, got {type(value).__name__}")
    try:
        number = float(value)
    except OverflowError as exc:
        raise ValueError(f"{what} is too large: {value!r}") from exc
    if not math.isfinite(number):
        raise ValueError(f"{what} must be finite, got {value!r}")
    return number


def _series_key(tags: Mapping[str, Any] | None) -> SeriesKey:
    if not tags:
        return ()
    if not isinstance(tags, Mapping):
        raise TypeError(f"tags must be a mapping of str to str, got {type(tags).__name__}")
    return tuple(sorted((_safe_str(key), _safe_str(value)) for key, value in tags.items()))


def _check_name(name: Any) -> str:
    if not isinstance(name, str):
        raise TypeError(f"metric name must be a str, got {type(name).__name__}")
    return name


class MetricsCollector:
    """Counters, gauges and histograms keyed by name and tag set.

    Each name keeps at most ``max_series_per_metric`` distinct tag sets per metric
    kind; samples for further tag sets go to one overflow series tagged
    ``{"overflow": "true"}`` and increment the ``observability_dropped_series``
    counter. Invalid values raise ``TypeError`` (not a number) or ``ValueError``
    (non-finite, or a negative counter increment).
    """

    def __init__(
        self,
        *,
        max_series_per_metric: int = 1_000,
        relative_accuracy: float = 0.01,
        max_buckets: int = 2048,
    ) -> None:
        if max_series_per_metric < 1:
            raise ValueError(
                f"max_series_per_metric must be at least 1, got {max_series_per_metric}"
            )
        QuantileSketch(relative_accuracy, max_buckets)  # validate the sketch settings early
        self.max_series_per_metric = max_series_per_metric
        self.relative_accuracy = relative_accuracy
        self.max_buckets = max_buckets
        self._counters: dict[str, dict[SeriesKey, float]] = {}
        self._gauges: dict[str, dict[SeriesKey, float]] = {}
        self._histograms: dict[str, dict[SeriesKey, QuantileSketch]] = {}
        self._dropped: Counter[str] = Counter()
        self._lock = threading.Lock()

    def increment_counter(
        self, name: str, value: float = 1.0, tags: Mapping[str, str] | None = None
    ) -> None:
        amount = _number(value, "counter increment")
        if amount < 0:
            raise ValueError(f"counter increment must not be negative, got {value!r}")
        with self._lock:
            series, key = self._series(self._counters, _check_name(name), tags)
            series[key] = series.get(key, 0.0) + amount

    def set_gauge(self, name: str, value: float, tags: Mapping[str, str] | None = None) -> None:
        number = _number(value, "gauge value")
        with self._lock:
            series, key = self._series(self._gauges, _check_name(name), tags)
            series[key] = number

    def record_histogram(
        self, name: str, value: float, tags: Mapping[str, str] | None = None
    ) -> None:
        number = _number(value, "histogram value")
        with self._lock:
            series, key = self._series(self._histograms, _check_name(name), tags)
            sketch = series.get(key)
            if sketch is None:
                sketch = series[key] = QuantileSketch(self.relative_accuracy, self.max_buckets)
            sketch.add(number)

    def time_operation(self, name: str, tags: Mapping[str, str] | None = None) -> Timer:
        """A ``Timer``: the ``with`` block's wall time in milliseconds as a histogram."""
        return Timer(self, name, dict(tags or {}))

    def get_counter(self, name: str, tags: Mapping[str, str] | None = None) -> float:
        """The counter's total, 0.0 if it was never incremented."""
        with self._lock:
            return self._counters.get(name, {}).get(_series_key(tags), 0.0)

    def get_gauge(self, name: str, tags: Mapping[str, str] | None = None) -> float | None:
        """The gauge's last value, None if it was never set."""
        with self._lock:
            return self._gauges.get(name, {}).get(_series_key(tags))

    def get_histogram_stats(
        self, name: str, tags: Mapping[str, str] | None = None
    ) -> dict[str, float]:
        """``min``, ``max``, ``mean``, ``median``, ``p95``, ``p99`` and ``count``; {} if empty.

        min, max, mean and count are exact; the quantiles are within the sketch's
        relative accuracy (1% by default).
        """
        with self._lock:
            sketch = self._histograms.get(name, {}).get(_series_key(tags))
            return _sketch_stats(sketch) if sketch else {}

    def get_all_metrics(self) -> dict[str, Any]:
        """A JSON-safe snapshot: every series grouped by kind and name, plus the cardinality cap."""
        with self._lock:
            return {
                "counters": _snapshot(self._counters, lambda value: {"value": value}),
                "gauges": _snapshot(self._gauges, lambda value: {"value": value}),
                "histograms": _snapshot(self._histograms, lambda s: {"stats": _sketch_stats(s)}),
                "cardinality": {
                    "max_series_per_metric": self.max_series_per_metric,
                    "dropped_series": dict(self._dropped),
                },
            }

    def clear_metrics(self) -> None:
        with self._lock:
            self._counters.clear()
            self._gauges.clear()
            self._histograms.clear()
            self._dropped.clear()

    def _series(
        self, table: dict[str, dict[SeriesKey, Any]], name: str, tags: Mapping[str, str] | None
    ) -> tuple[dict[SeriesKey, Any], SeriesKey]:
        """The series map for ``name`` and the key to write; caller holds the lock."""
        key = _series_key(tags)
        series = table.setdefault(name, {})
        if key in series or len(series) < self.max_series_per_metric:
            return series, key
        self._dropped[name] += 1
        dropped = self._counters.setdefault(DROPPED_SERIES_METRIC, {})
        dropped[()] = dropped.get((), 0.0) + 1
        return series, _OVERFLOW_KEY


class Timer:
    """Context manager recording its block's wall time (ms) in ``collector``'s histogram
    ``name``, also when the block raises. ``start_time`` is the Unix time it entered."""

    def __init__(
        self, collector: MetricsCollector, name: str, tags: Mapping[str, str] | None = None
    ) -> None:
        self.collector = collector
        self.name = name
        self.tags = dict(tags or {})
        self.start_time: float | None = None
        self._started = 0.0

    def __enter__(self) -> Timer:
        self.start_time = time.time()
        self._started = time.perf_counter()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        elapsed_ms = (time.perf_counter() - self._started) * 1000
        self.collector.record_histogram(self.name, elapsed_ms, self.tags)


def _sketch_stats(sketch: QuantileSketch) -> dict[str, float]:
    return {
        "min": sketch.min,
        "max": sketch.max,
        "mean": sketch.sum / sketch.count,
        "median": sketch.quantile(0.5),
        "p95": sketch.quantile(0.95),
        "p99": sketch.quantile(0.99),
        "count": sketch.count,
    }


def _snapshot(table: dict[str, dict[SeriesKey, Any]], shape: Any) -> dict[str, list[Any]]:
    return {
        name: [{"tags": dict(key), **shape(value)} for key, value in series.items()]
        for name, series in table.items()
    }


# --- Tracing -----------------------------------------------------------------------


def _new_trace_id() -> str:
    while True:  # W3C trace-context forbids the all-zero id
        value = secrets.randbits(128)
        if value:
            return f"{value:032x}"


def _new_span_id() -> str:
    while True:
        value = secrets.randbits(64)
        if value:
            return f"{value:016x}"


def get_current_span() -> Span | None:
    """The span current in this context (thread or task), if any."""
    return _current_span.get()


@dataclass(eq=False)
class Span:
    """One timed operation in a trace; durations come from ``time.perf_counter``.

    ``start_time``/``end_time`` are Unix timestamps; ``duration_ms`` is milliseconds.
    Finishing twice is harmless: the first status and duration stay.
    """

    MAX_LOGS: ClassVar[int] = 1_000

    trace_id: str
    span_id: str
    parent_span_id: str | None
    operation: str
    start_time: float = field(default_factory=time.time)
    end_time: float | None = None
    duration_ms: float | None = None
    status: str = "in_progress"
    tags: dict[str, Any] = field(default_factory=dict)
    logs: list[dict[str, Any]] = field(default_factory=list)
    dropped_logs: int = 0
    _started: float = field(default_factory=time.perf_counter, init=False, repr=False)
    _previous: Span | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def is_finished(self) -> bool:
        return self.end_time is not None

    def finish(self, status: str = "success") -> bool:
        """Stop the clock; returns False (and changes nothing) if already finished."""
        with self._lock:
            if self.end_time is not None:
                return False
            self.duration_ms = (time.perf_counter() - self._started) * 1000
            self.end_time = self.start_time + self.duration_ms / 1000
            self.status = _safe_str(status)
            return True

    def add_log(self, message: str, level: LogLevel | str = "INFO", **kwargs: Any) -> None:
        """Attach an event to the span; raises ValueError for an unknown level."""
        entry = {
            **_json_safe_dict(kwargs),
            "timestamp": _utc_now(),
            "level": _as_level(level).value,
            "message": _safe_str(message),
        }
        with self._lock:
            if len(self.logs) >= self.MAX_LOGS:
                self.dropped_logs += 1
                return
            self.logs.append(entry)

    def to_dict(self) -> dict[str, Any]:
        with self._lock:
            return {
                "trace_id": self.trace_id,
                "span_id": self.span_id,
                "parent_span_id": self.parent_span_id,
                "operation": self.operation,
                "start_time": self.start_time,
                "end_time": self.end_time,
                "duration_ms": self.duration_ms,
                "status": self.status,
                "tags": dict(self.tags),
                "logs": [dict(entry) for entry in self.logs],
                "dropped_logs": self.dropped_logs,
            }


def _activate(span: Span) -> None:
    span._previous = _current_span.get()
    _current_span.set(span)


def _deactivate(span: Span) -> None:
    """If ``span`` is current here, make its nearest unfinished predecessor current."""
    if _current_span.get() is not span:
        return
    previous = span._previous
    while previous is not None and previous.is_finished:
        previous = previous._previous
    _current_span.set(previous)
    span._previous = None


class Tracer:
    """Creates spans and keeps the last ``max_traces`` traces in a ring buffer.

    Starting a span makes it current in this context (so logs carry its ids);
    finishing it restores the span that was current before.
    """

    def __init__(self, *, max_traces: int = 1_000, max_spans_per_trace: int = 1_000) -> None:
        if max_traces < 1 or max_spans_per_trace < 1:
            raise ValueError("max_traces and max_spans_per_trace must be at least 1")
        self.max_traces = max_traces
        self.max_spans_per_trace = max_spans_per_trace
        self._traces: OrderedDict[str, list[Span]] = OrderedDict()
        self._evicted_traces = 0
        self._dropped_spans = 0
        self._lock = threading.Lock()

    def start_trace(self, operation: str, tags: Mapping[str, Any] | None = None) -> Span:
        """Start a root span with a new trace id and make it current."""
        return self._start(_new_trace_id(), None, operation, tags)

    def start_span(
        self, operation: str, parent_span: Span, tags: Mapping[str, Any] | None = None
    ) -> Span:
        """Start a child of ``parent_span`` and make it current; TypeError if it is not a Span."""
        if not isinstance(parent_span, Span):
            raise TypeError(f"parent_span must be a Span, got {type(parent_span).__name__}")
        return self._start(parent_span.trace_id, parent_span.span_id, operation, tags)

    def finish_span(self, span: Span, status: str = "success") -> bool:
        """Finish ``span`` and restore the previous current span; False if already finished."""
        finished = span.finish(status)
        _deactivate(span)
        return finished

    def get_trace(self, trace_id: str) -> list[Span]:
        with self._lock:
            return list(self._traces.get(trace_id, ()))

    def get_all_traces(self) -> dict[str, list[Span]]:
        """Every stored trace, oldest first, as trace id -> spans in start order."""
        with self._lock:
            return {trace_id: list(spans) for trace_id, spans in self._traces.items()}

    def clear_traces(self) -> None:
        with self._lock:
            self._traces.clear()
            self._evicted_traces = 0
            self._dropped_spans = 0

    def summary(self) -> dict[str, int]:
        """``total`` stored traces, ``active`` unfinished spans, and what the bounds dropped."""
        with self._lock:
            active = sum(not span.is_finished for spans in self._traces.values() for span in spans)
            return {
                "total": len(self._traces),
                "active": active,
                "evicted_traces": self._evicted_traces,
                "dropped_spans": self._dropped_spans,
            }

    def _start(
        self, trace_id: str, parent_id: str | None, operation: str, tags: Mapping[str, Any] | None
    ) -> Span:
        span = Span(
            trace_id=trace_id,
            span_id=_new_span_id(),
            parent_span_id=parent_id,
            operation=_safe_str(operation),
            tags=_json_safe_dict(tags or {}),
        )
        self._record(span)
        _activate(span)
        return span

    def _record(self, span: Span) -> None:
        with self._lock:
            spans = self._traces.get(span.trace_id)
            if spans is None:
                spans = self._traces[span.trace_id] = []
                while len(self._traces) > self.max_traces:
                    self._traces.popitem(last=False)
                    self._evicted_traces += 1
            if len(spans) >= self.max_spans_per_trace:
                self._dropped_spans += 1
                return
            spans.append(span)


# --- The stack ---------------------------------------------------------------------


class ObservabilityStack:
    """Logger, metrics and tracer for one service behind a single object."""

    def __init__(
        self,
        service_name: str,
        min_log_level: LogLevel | str = LogLevel.INFO,
        *,
        max_logs: int = 10_000,
        max_traces: int = 1_000,
        max_spans_per_trace: int = 1_000,
        max_series_per_metric: int = 1_000,
    ) -> None:
        self.service_name = service_name
        self.logger = StructuredLogger(service_name, min_log_level, max_logs=max_logs)
        self.metrics = MetricsCollector(max_series_per_metric=max_series_per_metric)
        self.tracer = Tracer(max_traces=max_traces, max_spans_per_trace=max_spans_per_trace)

    def start_trace(self, operation: str, **tags: Any) -> Span:
        """Start a trace whose root span carries ``tags`` and becomes current."""
        span = self.tracer.start_trace(operation, tags)
        self.logger.info(f"Starting trace: {span.operation}")
        self.metrics.increment_counter("traces.started")
        return span

    def finish_span(self, span: Span, status: str = "success") -> None:
        """Finish ``span``, log it and record ``span.duration``; a second call does nothing."""
        if not self.tracer.finish_span(span, status):
            return
        duration_ms = span.duration_ms or 0.0
        self.logger._log(
            LogLevel.INFO,
            f"Finished span: {span.operation}",
            {"duration_ms": duration_ms, "status": span.status},
            span=span,
        )
        self.metrics.record_histogram("span.duration", duration_ms, {"operation": span.operation})

    def get_dashboard_data(self) -> dict[str, Any]:
        """``service``, ``timestamp``, and the ``logs``, ``metrics`` and ``traces`` summaries."""
        return {
            "service": self.service_name,
            "timestamp": _utc_now(),
            "logs": self.logger.summary(),
            "metrics": self.metrics.get_all_metrics(),
            "traces": self.tracer.summary(),
        }

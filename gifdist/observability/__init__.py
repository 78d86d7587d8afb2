"""Structured logs, metrics and traces (the seed API).

Deliberately different from the seed, for bounded memory: ``get_all_metrics`` is a
snapshot of every series rather than a list of every data point recorded, histogram
quantiles are within 1% rather than exact, logs and traces sit in ring buffers, and
a metric value that is not a finite number, a negative counter increment, an
unknown log level or metric type raise instead of being stored.
"""

from gifdist.observability.stack import (
    DROPPED_SERIES_METRIC,
    OVERFLOW_TAGS,
    LogEntry,
    LogLevel,
    Metric,
    MetricsCollector,
    MetricType,
    ObservabilityStack,
    QuantileSketch,
    Span,
    StructuredLogger,
    Timer,
    Tracer,
    get_current_span,
    json_safe,
)

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

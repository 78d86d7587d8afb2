"""Structured logs, metrics and traces (the seed API)."""

from gifdist.observability.stack import (
    DROPPED_SERIES_METRIC,
    OVERFLOW_TAGS,
    LogEntry,
    LogLevel,
    MetricsCollector,
    ObservabilityStack,
    QuantileSketch,
    Span,
    StructuredLogger,
    Tracer,
    get_current_span,
    json_safe,
)

__all__ = [
    "DROPPED_SERIES_METRIC",
    "OVERFLOW_TAGS",
    "LogEntry",
    "LogLevel",
    "MetricsCollector",
    "ObservabilityStack",
    "QuantileSketch",
    "Span",
    "StructuredLogger",
    "Tracer",
    "get_current_span",
    "json_safe",
]

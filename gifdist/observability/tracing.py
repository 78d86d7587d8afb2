"""OpenTelemetry tracing: the tracer provider and a ``span`` helper for domain code.

``configure_tracing`` builds a ``TracerProvider`` for ``service.name=gifdist``. Spans
are exported over OTLP/HTTP when an endpoint is configured (``OTEL_EXPORTER_OTLP_ENDPOINT``
or ``GIFDIST_OTLP_ENDPOINT``, exporter from the ``otlp`` extra). With no exporter,
spans are not recorded at all (sampler off) but still carry trace and span ids, so
log lines and the response ``traceparent`` stay correlated at almost no cost.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import NonRecordingSpan, Span, SpanContext, SpanKind, TraceFlags, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from gifdist import __version__
from gifdist.config import Settings
from gifdist.observability.context import current_trace_ids

__all__ = [
    "configure_tracing",
    "flush_spans",
    "records_spans",
    "request_tracer",
    "span",
    "span_attributes",
    "start_server_span",
    "tracer_for",
    "unrecorded_ids",
]

INSTRUMENTATION_NAME = "gifdist"

log = logging.getLogger("gifdist.observability.tracing")

# A proxy: it follows the global provider once ``configure_tracing`` sets one.
_global_tracer = trace.get_tracer(INSTRUMENTATION_NAME, __version__)
_NOT_SAMPLED = TraceFlags(TraceFlags.DEFAULT)
_PROPAGATOR = TraceContextTextMapPropagator()
# The tracer of the request being served, so domain spans join its trace even when
# the app was given its own provider (tests) rather than the global one.
request_tracer: ContextVar[Tracer | None] = ContextVar("gifdist_request_tracer", default=None)


def configure_tracing(
    settings: Settings,
    *,
    exporter: SpanExporter | None = None,
    set_global: bool = False,
) -> TracerProvider:
    """A provider that exports to ``exporter`` (synchronously, for tests) or to OTLP.

    With ``set_global`` it also becomes OpenTelemetry's global provider, which
    may happen once per process (the server entry point does it; tests do not).
    """
    if exporter is None and settings.otlp_endpoint:
        exporter = _otlp_exporter(settings.otlp_endpoint)
        processor: Any = BatchSpanProcessor(exporter) if exporter is not None else None
    else:
        processor = SimpleSpanProcessor(exporter) if exporter is not None else None
    resource = Resource.create({"service.name": "gifdist", "service.version": __version__})
    provider = TracerProvider(resource=resource, sampler=None if processor else ALWAYS_OFF)
    if processor is not None:
        provider.add_span_processor(processor)
    if set_global:
        trace.set_tracer_provider(provider)
    return provider


def _otlp_exporter(endpoint: str) -> SpanExporter | None:
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError:
        log.warning(
            "an OTLP endpoint is configured but the exporter is not installed "
            "(pip install 'gifdist[otlp]'); traces are not exported"
        )
        return None
    traces_url = f"{endpoint.rstrip('/')}/v1/traces"
    log.info("exporting traces to %s", traces_url)
    return OTLPSpanExporter(endpoint=traces_url)


def tracer_for(provider: trace.TracerProvider | None) -> Tracer:
    """gifdist's tracer from ``provider``, or from the global provider when None."""
    if provider is None:
        return _global_tracer
    return provider.get_tracer(INSTRUMENTATION_NAME, __version__)


def records_spans(tracer: Tracer) -> bool:
    """False when ``tracer`` samples nothing (no exporter): then a request needs only ids."""
    return getattr(tracer, "sampler", None) is not ALWAYS_OFF


def start_server_span(tracer: Tracer, name: str, parent: Context) -> Span:
    """The span for one request, child of ``parent`` (the incoming trace context).

    When ``tracer`` records nothing (no exporter), the SDK's sampling path is skipped:
    an unrecorded span with fresh ids costs a third as much on the hot paths.
    """
    if records_spans(tracer):
        return tracer.start_span(name, context=parent, kind=SpanKind.SERVER)
    remote = trace.get_current_span(parent).get_span_context()
    if remote.is_valid:
        trace_id, state = remote.trace_id, remote.trace_state
    else:
        trace_id, state = random.getrandbits(128) or 1, None
    span_id = random.getrandbits(64) or 1
    return NonRecordingSpan(SpanContext(trace_id, span_id, False, _NOT_SAMPLED, state))


def unrecorded_ids(traceparent: bytes | None, tracestate: bytes | None) -> tuple[int, int]:
    """(trace id, span id) of a server span nobody records: the caller's trace when its
    W3C ``traceparent`` is valid (a malformed one starts a new trace), a fresh span id."""
    trace_id = 0
    if traceparent is not None:
        carrier = {"traceparent": traceparent.decode("latin-1")}
        if tracestate is not None:
            carrier["tracestate"] = tracestate.decode("latin-1")
        remote = trace.get_current_span(_PROPAGATOR.extract(carrier)).get_span_context()
        trace_id = remote.trace_id if remote.is_valid else 0
    return trace_id or random.getrandbits(128) or 1, random.getrandbits(64) or 1


def flush_spans(provider: trace.TracerProvider | None, timeout_millis: int = 5000) -> None:
    """Export what the provider still holds (at shutdown); a no-op without an SDK provider."""
    target = provider if provider is not None else trace.get_tracer_provider()
    force_flush = getattr(target, "force_flush", None)
    if callable(force_flush):
        force_flush(timeout_millis)


def _attribute(value: Any) -> Any:
    if isinstance(value, bool | int | float | str):
        return value
    return repr(value)[:1000]


def span_attributes(values: Mapping[str, Any]) -> dict[str, Any]:
    """Values OpenTelemetry accepts: primitives stay, anything else becomes its repr."""
    return {key: _attribute(value) for key, value in values.items() if value is not None}


@contextmanager
def span(name: str, **attributes: Any) -> Iterator[Span]:
    """A child span of the current one around a block of domain code.

    An exception leaving the block is recorded on the span (status ERROR) and re-raised.
    Example: ``with span("upload.validate", asset_id=asset_id): ...``
    """
    tracer = request_tracer.get() or _global_tracer
    parent = _unrecorded_request_context()
    with tracer.start_as_current_span(
        name, context=parent, attributes=span_attributes(attributes)
    ) as current:
        yield current


def _unrecorded_request_context() -> Context | None:
    """The request's trace as a parent, when its server span is ids only (else None: the
    current context, as usual)."""
    ids = current_trace_ids.get()
    if ids is None or trace.get_current_span().get_span_context().is_valid:
        return None
    parent = NonRecordingSpan(SpanContext(ids[0], ids[1], False, _NOT_SAMPLED))
    return trace.set_span_in_context(parent)

"""Process-wide logging: one JSON object per line on stdout (or a console view on a tty).

``configure_logging`` routes stdlib ``logging`` records (gifdist's own loggers,
granian, uvicorn, other libraries) and structlog loggers through one structlog
``ProcessorFormatter``. Each line carries ``timestamp`` (ISO 8601, UTC), ``level``,
``event``, ``logger``, ``service``, the ``request_id`` of the request being served,
the current OpenTelemetry ``trace_id``/``span_id``, and the record's extra metadata,
made JSON-safe first so no value can break a log line.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import IO, Any

import structlog
from opentelemetry import trace

from gifdist.config import Settings
from gifdist.observability.access_log import install_access_handler
from gifdist.observability.context import current_request_id, current_trace_ids
from gifdist.observability.stack import json_safe

__all__ = ["SERVER_LOGGERS", "configure_logging", "granian_log_config", "wants_json"]

SERVICE_NAME = "gifdist"
#: Loggers of the ASGI servers; they are made to propagate to the root handler.
SERVER_LOGGERS = ("_granian", "granian.access", "uvicorn", "uvicorn.error", "uvicorn.access")
_HANDLER_NAME = "gifdist-log-handler"
_CONSOLE_ONLY_KEYS = frozenset({"color_message"})  # uvicorn's ANSI-coloured duplicate

EventDict = MutableMapping[str, Any]


def _add_service(_logger: Any, _method: str, event_dict: EventDict) -> EventDict:
    event_dict.setdefault("service", SERVICE_NAME)
    return event_dict


def _add_request_id(_logger: Any, _method: str, event_dict: EventDict) -> EventDict:
    request_id = current_request_id.get()
    if request_id is not None:
        event_dict.setdefault("request_id", request_id)
    return event_dict


def _add_trace_context(_logger: Any, _method: str, event_dict: EventDict) -> EventDict:
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event_dict.setdefault("trace_id", f"{context.trace_id:032x}")
        event_dict.setdefault("span_id", f"{context.span_id:016x}")
        return event_dict
    ids = current_trace_ids.get()  # a request served without a span object
    if ids is not None:
        event_dict.setdefault("trace_id", f"{ids[0]:032x}")
        event_dict.setdefault("span_id", f"{ids[1]:016x}")
    return event_dict


def _make_json_safe(_logger: Any, _method: str, event_dict: EventDict) -> EventDict:
    """Bytes, arbitrary objects and hostile ``__repr__`` become strings, never errors."""
    return {
        str(key): json_safe(value)
        for key, value in event_dict.items()
        if key not in _CONSOLE_ONLY_KEYS
    }


_SHARED: list[Any] = [
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
    _add_service,
    _add_request_id,
    _add_trace_context,
]


def _renderer(as_json: bool) -> list[Any]:
    if not as_json:
        return [structlog.dev.ConsoleRenderer()]
    # ASCII escapes keep a lone surrogate or control character from breaking the line.
    return [
        structlog.processors.format_exc_info,
        _make_json_safe,
        structlog.processors.JSONRenderer(ensure_ascii=True),
    ]


def wants_json(settings: Settings, stream: IO[str] | None = None) -> bool:
    """Whether log lines on ``stream`` (stdout) are JSON: ``log_json``, else "not a tty"."""
    stream = stream if stream is not None else sys.stdout
    if settings.log_json is not None:
        return settings.log_json
    try:
        return not stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream: not a terminal
        return True


def configure_logging(settings: Settings, *, stream: IO[str] | None = None) -> logging.Handler:
    """Send every log record to ``stream`` (stdout) in one format; safe to call again.

    Replaces only the handler a previous call installed, so test harness handlers
    stay. Returns the installed handler.
    """
    stream = stream if stream is not None else sys.stdout
    as_json = wants_json(settings, stream)
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_SHARED, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *_renderer(as_json),
        ],
    )
    # Access lines skip the processors (about 140 µs a line) when they are JSON anyway.
    install_access_handler(stream if as_json else None, formatter, SERVICE_NAME)
    handler = logging.StreamHandler(stream)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    for name in SERVER_LOGGERS:  # a server started outside `gifdist serve` set its own
        server_logger = logging.getLogger(name)
        if server_logger.handlers:
            server_logger.handlers.clear()
            server_logger.propagate = True
    if root.level > logging.DEBUG:  # alembic narrates every migration step at INFO
        logging.getLogger("alembic").setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_SHARED,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    return handler


def granian_log_config(settings: Settings) -> dict[str, Any]:
    """A ``log_dictconfig`` for granian: its loggers keep no handler of their own.

    Granian applies it in the main process and in each worker, so its lines reach
    the root handler ``configure_logging`` installs instead of granian's plain format.
    """
    level = settings.log_level.upper()
    return {
        "loggers": {
            "_granian": {"handlers": [], "level": level, "propagate": True},
            "granian.access": {"handlers": [], "level": level, "propagate": True},
        }
    }

"""Server entry point: ``gifdist.web.main:create_app_from_env`` (an app factory)."""

from __future__ import annotations

from gifdist.config import Settings
from gifdist.observability.logs import configure_logging
from gifdist.observability.tracing import configure_tracing
from gifdist.web.app import create_app
from gifdist.web.hotpath import HotPaths


def create_app_from_env() -> HotPaths:
    """Build the app from ``GIFDIST_*`` environment variables (one per worker process).

    Logging and the global tracer provider are set up here, once per worker.
    """
    settings = Settings()
    configure_logging(settings)
    provider = configure_tracing(settings, set_global=True)
    return create_app(settings, tracer_provider=provider)

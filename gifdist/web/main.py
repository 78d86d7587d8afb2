"""Server entry point: ``gifdist.web.main:create_app_from_env`` (an app factory)."""

from __future__ import annotations

from gifdist.config import Settings
from gifdist.web.app import create_app
from gifdist.web.request_id import RequestIdMiddleware


def create_app_from_env() -> RequestIdMiddleware:
    """Build the app from ``GIFDIST_*`` environment variables (one per worker process)."""
    return create_app(Settings())

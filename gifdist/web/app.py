"""Builds the ASGI application: hot paths in front, FastAPI for pages and the API."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from opentelemetry.trace import TracerProvider
from starlette.concurrency import run_in_threadpool
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from gifdist import __version__
from gifdist.config import Settings
from gifdist.observability.dashboard import ServiceDashboard
from gifdist.observability.metrics import (
    MetricsExporter,
    record_ratelimit_outage,
    record_ratelimit_refusal,
)
from gifdist.observability.tracing import flush_spans, tracer_for
from gifdist.stores.sessions_sql import SqlSessionStore
from gifdist.web.api import core as api
from gifdist.web.api import giphy, tenor
from gifdist.web.api.docs import add_docs
from gifdist.web.errors import install_error_handlers
from gifdist.web.hotpath import HotPaths
from gifdist.web.middleware.body_limits import BodySizeLimit
from gifdist.web.middleware.client_ip import ClientAddresses
from gifdist.web.middleware.ratelimits import (
    RateLimitMiddleware,
    RateLimits,
    open_limit_backend,
)
from gifdist.web.middleware.request_id import RequestIdMiddleware
from gifdist.web.middleware.security_headers import HtmlSecurityHeaders
from gifdist.web.middleware.slashes import install_slash_redirects
from gifdist.web.middleware.telemetry import (
    RequestTelemetry,
    TelemetryMiddleware,
    add_metrics_route,
)
from gifdist.web.pages import (
    account,
    asset,
    dashboard,
    gallery,
    health,
    home,
    library,
    moderation,
    oembed,
    unlock,
    upload,
)
from gifdist.web.pages.base import viewer_context
from gifdist.web.pages.render import STATIC
from gifdist.web.pages.signin import current_user
from gifdist.web.session import SessionCodec
from gifdist.wiring import Service

log = logging.getLogger("gifdist.web")


# one module per page (gifdist/web/pages/), each with its router. Routes are matched in
# the order they are added, at about 1.3 µs each, so the pages the most requests reach
# (probes, the asset page every short link leads to, oEmbed fetched by every unfurl)
# come before the API's hundred routes: /healthz 176 -> 60 µs in process.
BUSIEST_PAGES = (health, asset, oembed)
PAGES = (
    account,
    upload,
    library,
    dashboard,
    moderation,
    unlock,
    gallery,
    home,
)


def create_app(
    settings: Settings | None = None,
    *,
    service: Service | None = None,
    tracer_provider: TracerProvider | None = None,
) -> HotPaths:
    """The full application. Pass a ``Service`` to share one with the caller (tests, CLI).

    Server spans go to ``tracer_provider``, or to OpenTelemetry's global provider.
    """
    service = service or Service(settings or Settings())

    dashboard = ServiceDashboard(
        settings=service.settings,
        engine=service.engine,
        events=service.events,
        assets=service.assets,
        queue=service.moderation_queue,
        blobs=service.blobs,
    )
    if tracer_provider is not None:
        dashboard.attach_tracing(tracer_provider)
    limits = (
        open_limit_backend(service.settings, on_outage=record_ratelimit_outage)
        if service.settings.rate_limits == "on"
        else None
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        service.start_background()
        try:
            yield
        finally:
            await run_in_threadpool(service.stop_background)
            await run_in_threadpool(flush_spans, tracer_provider)
            dashboard.close()
            if limits is not None:
                limits.close()

    app = FastAPI(
        title="gifdist",
        version=__version__,
        docs_url=None,  # served from the package by gifdist.web.api.docs
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        lifespan=lifespan,
        # TelemetryMiddleware owns the server span; FastAPI's native one would be a second.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.service = service
    app.state.dashboard = dashboard
    app.state.unlock_attempts = unlock.attempt_counter()
    app.state.sessions = SessionCodec(
        service.secret_key,
        secure=service.settings.base_url.startswith("https://"),
        store=SqlSessionStore(service.engine),
        key_version=service.signin.session_version,
    )
    addresses = ClientAddresses.from_settings(
        service.settings.trusted_proxies, service.settings.client_ip_header
    )
    app.state.client_addresses = addresses
    install_error_handlers(app)
    for pages in BUSIEST_PAGES:
        app.include_router(pages.router)
    app.include_router(api.router)
    app.include_router(tenor.router)
    app.include_router(giphy.router)
    for pages in PAGES:
        app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    add_docs(app, "/api/v1/openapi.json")
    install_slash_redirects(app, service.settings.base_url)
    multiprocess_dir = service.settings.metrics_multiprocess_dir
    add_metrics_route(
        app,
        MetricsExporter(service.events, service.engine, multiprocess_dir=multiprocess_dir),
    )
    app.add_middleware(BodySizeLimit, default_limit=1024 * 1024, upload_paths=("/api/v1/assets",))
    app.add_middleware(HtmlSecurityHeaders)
    telemetry = None
    stack: Any = app
    rate_limits = None
    if limits is not None:
        rate_limits = RateLimits(
            service.settings, limits, addresses, on_refusal=record_ratelimit_refusal
        )
        stack = RateLimitMiddleware(stack, rate_limits)
    if service.settings.telemetry == "on":
        tracer = tracer_for(tracer_provider)
        telemetry = RequestTelemetry(tracer, access_log=service.settings.access_log)
        stack = TelemetryMiddleware(stack, tracer, telemetry=telemetry)
    # the hot paths do request id, telemetry and rate limit in one pass; the rest, the stack

    async def viewer(scope: Scope) -> dict[str, Any]:
        """The header's viewer for pages the hot paths answer (as the app's pages)."""
        return viewer_context(await current_user(Request({**scope, "app": app})))

    return HotPaths(
        RequestIdMiddleware(stack),
        service,
        addresses,
        telemetry=telemetry,
        limits=rate_limits,
        viewer=viewer,
    )

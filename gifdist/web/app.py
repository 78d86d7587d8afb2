"""Builds the ASGI application: hot paths in front, FastAPI for pages and the API."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlparse

from fastapi import FastAPI, Query, Request
from opentelemetry.trace import TracerProvider
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, JSONResponse
from starlette.staticfiles import StaticFiles

from gifdist import __version__
from gifdist.analytics.capture import Visit
from gifdist.assets.model import AssetStatus, is_valid_asset_id
from gifdist.config import Settings
from gifdist.errors import Forbidden, GifdistError, Gone, InvalidInput, NotFound
from gifdist.observability.dashboard import ServiceDashboard
from gifdist.observability.metrics import (
    MetricsExporter,
    record_ratelimit_outage,
    record_ratelimit_refusal,
)
from gifdist.observability.tracing import flush_spans, tracer_for
from gifdist.platforms import card_bot
from gifdist.stores.sessions_sql import SqlSessionStore
from gifdist.web.api import core as api
from gifdist.web.api import giphy, tenor
from gifdist.web.api.docs import add_docs
from gifdist.web.errors import install_error_handlers
from gifdist.web.hotpath import REVALIDATE, HotPaths, remaining_seconds
from gifdist.web.middleware.body_limits import BodySizeLimit
from gifdist.web.middleware.client_ip import ClientAddresses
from gifdist.web.middleware.ratelimits import (
    RateLimitMiddleware,
    RateLimits,
    open_limit_backend,
)
from gifdist.web.middleware.request_id import RequestIdMiddleware
from gifdist.web.middleware.security_headers import FRAMEABLE_CSP, HtmlSecurityHeaders
from gifdist.web.middleware.slashes import install_slash_redirects
from gifdist.web.middleware.telemetry import (
    RequestTelemetry,
    TelemetryMiddleware,
    add_metrics_route,
)
from gifdist.web.pages import gallery, ui, unlock
from gifdist.web.pages.embeds import oembed_body, oembed_link, tiny_media
from gifdist.web.pages.render import STATIC, asset_context, render
from gifdist.web.session import SessionCodec
from gifdist.wiring import Service

log = logging.getLogger("gifdist.web")


class NotImplementedFormat(GifdistError):
    code = "unsupported_format"
    status = 501


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
        key_version=service.keys.session_version,
    )
    addresses = ClientAddresses.from_settings(
        service.settings.trusted_proxies, service.settings.client_ip_header
    )
    app.state.client_addresses = addresses
    install_error_handlers(app)
    app.include_router(api.router)
    app.include_router(tenor.router)
    app.include_router(giphy.router)
    app.include_router(ui.router)
    app.include_router(unlock.router)
    app.include_router(gallery.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    add_docs(app, "/api/v1/openapi.json")
    _add_pages(app, service)
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
    return HotPaths(
        RequestIdMiddleware(stack), service, addresses, telemetry=telemetry, limits=rate_limits
    )


def _add_pages(app: FastAPI, service: Service) -> None:
    base_url = service.settings.base_url

    @app.get("/", include_in_schema=False)
    async def home(request: Request) -> HTMLResponse:
        return ui.page(
            "home.html",
            await ui.current_user(request),
            base_url=base_url,
            gallery=service.settings.gallery,
        )

    @app.get("/a/{asset_id}", include_in_schema=False)
    async def asset_page(asset_id: str, request: Request) -> HTMLResponse:
        record = await run_in_threadpool(service.catalog.get, asset_id)
        gone = record is None and is_valid_asset_id(asset_id)
        if gone and await run_in_threadpool(service.assets.is_gone, "asset", asset_id):
            raise Gone("This GIF was deleted by its owner.")
        if record is None or record.status is not AssetStatus.APPROVED:
            raise NotFound("There is no such GIF.")
        headers = {"Cache-Control": REVALIDATE}
        sign = None
        if record.private:
            problem = service.signing.check(request.url.path, request.url.query)
            if problem is not None:
                raise Forbidden(f"This GIF needs a valid signed URL: {problem}.")
            remaining = max(1, remaining_seconds(request.query_params.get("expires")))
            sign = lambda url: service.signing.sign(url, remaining)  # noqa: E731
            headers = {"Cache-Control": "private, no-store", "X-Robots-Tag": "noindex"}
        elif service.settings.require_signed_urls:
            sign = lambda url: service.signing.sign(url, 3600)  # noqa: E731
            headers = {"Cache-Control": "private, max-age=300"}
        renditions = await run_in_threadpool(service.renditions.renditions, record.sha256)
        bot = card_bot(request.headers.get("user-agent"))
        context = asset_context(base_url, record, renditions=renditions, bot=bot, sign=sign)
        headers["Vary"] = "User-Agent"  # link-preview bots get their platform's card
        headers["Link"] = oembed_link(context)
        visit = Visit(
            user_agent=request.headers.get("user-agent"),
            client=client_address_of(request),
            referer=request.headers.get("referer"),
        )
        service.capture.page_view(record.asset_id, visit)
        return HTMLResponse(render("asset.html", **context), headers=headers)

    @app.get("/a/{asset_id}/player", include_in_schema=False)
    async def player_page(asset_id: str, request: Request) -> HTMLResponse:
        """A bare looping video for X's player card and oEmbed iframes (public GIFs)."""
        record = await run_in_threadpool(service.catalog.get, asset_id)
        if record is None or not record.is_public:
            raise NotFound("There is no such GIF.")
        renditions = await run_in_threadpool(service.renditions.renditions, record.sha256)
        sign = None
        if service.settings.require_signed_urls:
            sign = lambda url: service.signing.sign(url, 3600)  # noqa: E731
        context = asset_context(base_url, record, renditions=renditions, sign=sign)
        if request.query_params.get("size") == "tiny":
            context["media"] = tiny_media(context["media"])
        # framed by the platforms that embed it: no frame restriction on this page
        headers = {"Cache-Control": REVALIDATE, "Content-Security-Policy": FRAMEABLE_CSP}
        return HTMLResponse(render("player.html", **context), headers=headers)

    @app.get("/oembed", summary="oEmbed for asset pages and short links")
    async def oembed(
        url: str = Query(..., max_length=2048),
        format: str = Query("json", max_length=16),
        maxwidth: int | None = Query(None, ge=1, le=10000),
        maxheight: int | None = Query(None, ge=1, le=10000),
    ) -> JSONResponse:
        """``type: video`` (the player) once the MP4 is made, else ``type: photo``
        (the GIF); the rendition that fits ``maxwidth``/``maxheight`` is chosen."""
        if format not in ("json", ""):  # oEmbed says 501 for formats we do not serve
            raise NotImplementedFormat("only format=json is supported")
        record = await run_in_threadpool(_resolve_embed_url, service, url)
        renditions = await run_in_threadpool(service.renditions.renditions, record.sha256)
        body = oembed_body(base_url, record, renditions, maxwidth, maxheight)
        shared = min(3600, service.settings.shared_cache_seconds)
        return JSONResponse(
            body, headers={"Cache-Control": f"public, max-age=3600, s-maxage={shared}"}
        )

    # consumers probe with HEAD before fetching (same answer without the body)
    app.add_api_route("/oembed", oembed, methods=["HEAD"], include_in_schema=False)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        """The process is alive (no dependency is checked)."""
        return JSONResponse({"status": "ok", "version": __version__})

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        """Every dependency answers: 200, or 503 naming the ones that failed."""
        checks = await run_in_threadpool(service.check_dependencies)
        failed = {name: problem for name, problem in checks.items() if problem}
        body = {
            "status": "ready" if not failed else "unavailable",
            "checks": {name: problem or "ok" for name, problem in checks.items()},
        }
        return JSONResponse(
            body, status_code=503 if failed else 200, headers={"Cache-Control": "no-store"}
        )


def client_address_of(request: Request) -> str:
    """The request's client address, through the deployment's trusted proxies."""
    addresses: ClientAddresses = request.app.state.client_addresses
    return addresses(request.scope)


def _resolve_embed_url(service: Service, url: str) -> Any:
    """The public asset an oEmbed ``url`` (asset page or short link) points at."""
    base = urlparse(service.settings.base_url)
    parsed = urlparse(url)
    if (parsed.scheme, parsed.netloc) != (base.scheme, base.netloc):
        raise NotFound("that URL is not served by this gifdist")
    path = parsed.path[len(base.path) :] if base.path else parsed.path
    if path.startswith("/s/"):
        link = service.sharing.get(path[3:])
        if link is None:
            raise NotFound("no such short link")
        path = f"/a/{link['asset_id']}"
    if not path.startswith("/a/"):
        raise InvalidInput("url must be an asset page or a short link", code="bad_url")
    asset_id = path[3:].removesuffix(".gif")
    record = service.catalog.get(asset_id)
    if record is None or not record.is_public:
        raise NotFound("no such GIF")
    return record

"""The internet-facing paths, dispatched before any framework routing.

``GET /s/{code}`` and ``GET|HEAD /a/{asset_id}.gif`` see almost all traffic. They
are answered here from in-process caches (no database round trip when warm, no
framework dependency solving); everything else falls through to the app.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gifdist.analytics.beacons import MAX_BEACON_BYTES, parse_beacon
from gifdist.analytics.capture import Visit
from gifdist.assets.model import AssetRecord, AssetStatus, is_valid_asset_id
from gifdist.caching.ttl import TTLCache
from gifdist.cdn.signed import NO_SUCH_GIF
from gifdist.errors import GifdistError, NotFound, PayloadTooLarge, UnsupportedMediaType
from gifdist.media.rendition_store import StoredRendition, parse_rendition_path
from gifdist.media.renditions import RenditionKind
from gifdist.observability.context import current_request_id
from gifdist.platforms import card_bot, classify_user_agent, is_person
from gifdist.sharelinks.controls import expired
from gifdist.sharelinks.links import is_valid_short_code
from gifdist.sharelinks.qr import qr_image
from gifdist.web.delivery import (
    PATHSEND,
    SMALL_FILE_BYTES,
    SMALL_FILES_BUDGET,
    FileRepresentation,
    SmallFiles,
    StoredRepresentation,
    is_conditional,
    send_file,
    send_stored,
)
from gifdist.web.errors import DATABASE_DOWN, DATABASE_RETRY_AFTER, error_body
from gifdist.web.middleware.client_ip import ClientAddresses
from gifdist.web.middleware.ratelimits import RateLimits
from gifdist.web.middleware.request_id import new_request_id, valid_request_id
from gifdist.web.middleware.security_headers import HTML_SECURITY_HEADERS
from gifdist.web.middleware.telemetry import (
    BEACON_ROUTE,
    GIF_ROUTE,
    RENDITION_ROUTE,
    SHORT_LINK_ROUTE,
    RequestTelemetry,
    content_length,
)
from gifdist.web.pages.embeds import oembed_link
from gifdist.web.pages.render import asset_context, error_page, render
from gifdist.web.session import COOKIE as SESSION_COOKIE
from gifdist.wiring import Service

log = logging.getLogger("gifdist.web")


BROWSER_MAX_AGE = 31536000  # content-addressed bytes never change for a browser


def public_bytes_cache_control(shared_seconds: int) -> str:
    """Long-lived and immutable for browsers; shared caches ask again after
    ``shared_seconds`` (s-maxage), so a takedown reaches them within that bound."""
    return f"public, max-age={BROWSER_MAX_AGE}, s-maxage={shared_seconds}, immutable"


REVALIDATE = "public, max-age=0, must-revalidate"
HTML_TYPE = b"text/html; charset=utf-8"
BEACON_PATH = "/api/v1/events"
BEACON_TYPES = ("application/json", "text/plain", "")


Handler = Callable[[Scope, Receive, Send, Any], Awaitable[None]]
HOT_METHODS = frozenset({"GET", "HEAD"})


class HotPaths:
    """ASGI front: the hot paths in one pass, everything else to ``app``.

    One pass means the request id, telemetry (trace ids, metrics, access line), the
    rate limit and the handler run in one function with one ``send`` wrapper, rather
    than four stacked middlewares each wrapping ``send``; ``app`` is the usual stack
    (the same middlewares over the framework) for every other path.
    """

    def __init__(
        self,
        app: ASGIApp,
        service: Service,
        addresses: ClientAddresses,
        *,
        telemetry: RequestTelemetry | None = None,
        limits: RateLimits | None = None,
        viewer: Callable[[Scope], Awaitable[dict[str, Any]]] | None = None,
    ) -> None:
        self.app = app
        self.viewer = viewer
        self.service = service
        self.client_address = addresses
        self.telemetry = telemetry
        self.limits = limits
        self.shared_seconds = service.settings.shared_cache_seconds
        self.public_bytes = public_bytes_cache_control(self.shared_seconds)
        self._public_bytes_header = (b"cache-control", self.public_bytes.encode())
        self.representations: TTLCache[str, FileRepresentation | StoredRepresentation] = TTLCache(
            50_000, ttl=None
        )
        self.small_files = SmallFiles(SMALL_FILE_BYTES, SMALL_FILES_BUDGET)
        self.qr_codes: TTLCache[tuple[str, str], bytes] = TTLCache(2_000, ttl=3600)
        service.catalog.subscribe(self.representations.invalidate)
        # short-lived: a rendition made or deleted on another node shows within seconds
        self.rendition_representations: TTLCache[
            tuple[str, RenditionKind], FileRepresentation | StoredRepresentation
        ] = TTLCache(50_000, ttl=30.0)
        self._redirects: dict[str, tuple[tuple[bytes, bytes], ...]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self._route(scope) if scope["type"] == "http" else None
        if route is None:
            await self.app(scope, receive, send)
            return
        await self._serve(scope, receive, send, *route)

    def _route(self, scope: Scope) -> tuple[str, str | None, Handler, Any] | None:
        """(route template, rate-limit policy, handler, its argument) of a hot path."""
        path: str = scope["path"]
        method: str = scope["method"]
        if method in HOT_METHODS:
            if path.startswith("/s/"):
                if path.endswith((".svg", ".png")):
                    return SHORT_LINK_ROUTE, "shortlinks", self.qr_code, (path[3:-4], path[-3:])
                return SHORT_LINK_ROUTE, "shortlinks", self.short_link, path[3:]
            if path.startswith("/a/"):
                rendition = parse_rendition_path(path[3:])
                if rendition is not None:
                    return RENDITION_ROUTE, None, self.rendition, rendition
                if path.endswith(".gif"):
                    return GIF_ROUTE, None, self.gif, path[3:-4]
        elif method == "POST" and path == BEACON_PATH:
            return BEACON_ROUTE, "beacons", self.beacon, None
        return None

    async def _serve(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        template: str,
        policy: str | None,
        handler: Handler,
        argument: Any,
    ) -> None:
        """Request id, trace, rate limit, handler, then metrics and the access line."""
        started = time.perf_counter()
        client_id = traceparent = tracestate = None
        for key, value in scope["headers"]:
            if key == b"x-request-id":
                if client_id is None:
                    client_id = value
            elif key == b"traceparent":
                traceparent = value
            elif key == b"tracestate":
                tracestate = value
        request_id = (client_id and valid_request_id(client_id)) or new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        id_token = current_request_id.set(request_id)
        method: str = scope["method"]
        telemetry = self.telemetry
        trace = None
        extra = [(b"x-request-id", request_id.encode("ascii"))]
        if telemetry is not None:
            trace = telemetry.begin(f"{method} {template}", traceparent, tracestate)
            if trace.traceparent is not None:
                extra.append((b"traceparent", trace.traceparent))
        status = 500
        sent = 0  # body bytes, as nginx's $body_bytes_sent
        start_headers: Any = ()

        async def reply(message: Message) -> None:
            nonlocal status, sent, start_headers
            kind = message["type"]
            if kind == "http.response.body":
                sent += len(message.get("body", b""))
            elif kind == "http.response.start":
                status = message["status"]
                start_headers = message.get("headers", ())
                message["headers"] = [*start_headers, *extra]
            elif kind == PATHSEND:  # the server sends the file itself: its declared length
                sent += content_length(start_headers) or 0
            await send(message)

        try:
            if policy is not None and self.limits is not None:
                limit_headers, refusal = await self.limits.check(scope, policy)
                if refusal is not None:
                    await refusal(scope, receive, reply)
                    return
                extra[:0] = limit_headers
            await handler(scope, receive, reply, argument)
        except DATABASE_DOWN as exc:  # lookups come before the first byte is sent
            log.warning("database unavailable on %s: %s", scope["path"][:100], exc)
            body = error_body("database_unavailable", "try again shortly")
            await _send_json(reply, 503, body, retry_after=DATABASE_RETRY_AFTER)
        except BaseException as exc:
            if trace is not None:
                trace.failed(exc)
            raise
        finally:
            if telemetry is not None and trace is not None:
                elapsed = time.perf_counter() - started
                telemetry.finish(trace, scope, method, template, status, elapsed, sent)
            current_request_id.reset(id_token)

    # lookups ------------------------------------------------------------------

    async def _link(self, code: str) -> dict[str, Any] | None:
        if not is_valid_short_code(code):
            return None
        link = self.service.sharing.cached(code)
        if link is None:
            link = await anyio.to_thread.run_sync(self.service.sharing.get, code)
        return link

    async def _asset(self, asset_id: str) -> AssetRecord | None:
        if not is_valid_asset_id(asset_id):
            return None
        record = self.service.catalog.cached(asset_id)
        if record is None:
            record = await anyio.to_thread.run_sync(self.service.catalog.get, asset_id)
        return record

    async def _representation(
        self, record: AssetRecord
    ) -> FileRepresentation | StoredRepresentation | None:
        rep = self.representations.get(record.asset_id)
        if rep is not None:
            return rep
        path = await anyio.to_thread.run_sync(self.service.catalog.blob_path, record)
        if path is None:
            return await self._stored_representation(record)
        rep = FileRepresentation(
            path=path,
            size=os.path.getsize(path),
            etag=f'"{record.sha256}"',
            last_modified=record.created_at.timestamp(),
            content_type=record.content_type,
        )
        self.representations.set(record.asset_id, rep)
        return rep

    async def _stored_representation(self, record: AssetRecord) -> StoredRepresentation | None:
        """A blob in a remote store (S3): sized once with a HEAD, then cached."""
        size = await anyio.to_thread.run_sync(self.service.blobs.size, record.sha256)
        if size is None:
            return None
        stored = StoredRepresentation(
            sha256=record.sha256,
            size=size,
            etag=f'"{record.sha256}"',
            last_modified=record.created_at.timestamp(),
            content_type=record.content_type,
        )
        self.representations.set(record.asset_id, stored)
        return stored

    def _asset_gone(self, asset_id: str) -> bool:
        return is_valid_asset_id(asset_id) and self.service.assets.is_gone("asset", asset_id)

    def _link_gone(self, code: str, asset_id: str | None) -> bool:
        """A deleted link, or a link (cached here) whose GIF was deleted on another node."""
        if self.service.sharing.is_gone(code):
            return True
        return asset_id is not None and self._asset_gone(asset_id)

    async def _viewer(self, scope: Scope) -> dict[str, Any]:
        """Who is signed in, for the header of a page a person sees here (the password
        form, 410 Gone); only looked up when the request carries a session cookie."""
        if self.viewer is None or SESSION_COOKIE not in (_header(scope, b"cookie") or ""):
            return {}
        return await self.viewer(scope)

    async def _send_locked(
        self, scope: Scope, send: Send, link: dict[str, Any], visit: Visit
    ) -> None:
        """A password link: people get the form; bots a card with neither GIF nor URL."""
        if is_person(visit.user_agent):
            viewer = await self._viewer(scope)
            html = render("locked.html", code=link["short_code"], error=None, **viewer)
            await _send_html(scope, send, 200, html, private=True)
        else:
            await _send_html(scope, send, 200, render("locked_card.html"), vary=True)

    async def qr_code(
        self, scope: Scope, _receive: Receive, send: Send, code_kind: tuple[str, str]
    ) -> None:
        """``/s/{code}.svg`` and ``.png``: the short URL as a QR code (made once, cached)."""
        code, kind = code_kind
        link = await self._link(code)
        record = await self._asset(link["asset_id"]) if link else None
        if link is None or record is None or not record.is_public or expired(link):
            await _send_html(scope, send, 404, error_page(404, "This link does not exist."))
            return
        cached = self.qr_codes.get((link["short_code"], kind))
        if cached is None:
            url = self.service.sharing.generator.create_short_url(link["short_code"])
            cached = await anyio.to_thread.run_sync(qr_image, url, kind)
            self.qr_codes.set((link["short_code"], kind), cached)
        content_type = b"image/svg+xml" if kind == "svg" else b"image/png"
        headers = [
            (b"content-type", content_type),
            (b"content-length", str(len(cached)).encode()),
            (b"cache-control", REVALIDATE.encode()),
            (b"x-content-type-options", b"nosniff"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        body = b"" if scope["method"] == "HEAD" else cached
        await send({"type": "http.response.body", "body": body})

    async def _send_gone(self, scope: Scope, send: Send, message: str) -> None:
        """410 Gone: a page for people, a plain answer for bots so unfurls stop."""
        audience, _ = classify_user_agent(_header(scope, b"user-agent"))
        if audience == "person":
            await _send_html(
                scope, send, 410, error_page(410, message, **await self._viewer(scope))
            )
            return
        body = b"" if scope["method"] == "HEAD" else message.encode()
        headers = [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(message.encode())).encode()),
            (b"cache-control", b"no-store"),
        ]
        await send({"type": "http.response.start", "status": 410, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    # handlers -----------------------------------------------------------------

    async def beacon(self, scope: Scope, receive: Receive, send: Send, _: None) -> None:
        """``POST /api/v1/events``: a play or view reported by the asset page's script.

        Body ``{"asset_id" | "short_code", "event_type": "play"|"view", "platform"?,
        "ts"?}`` as JSON or the text/plain ``navigator.sendBeacon`` sends; 202 with
        ``result``: counted, duplicate (this visitor already counted), not_counted
        (bots) or orphan (no such public asset or link: kept, never counted).
        """
        kind = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
        try:
            if kind not in BEACON_TYPES:
                raise UnsupportedMediaType(
                    "send the beacon as application/json or text/plain", code="bad_content_type"
                )
            body = await _read_body(receive, MAX_BEACON_BYTES)
            if body is None:
                return  # the client went away
            event = parse_beacon(body)
        except GifdistError as exc:
            await _send_json(send, exc.status, error_body(exc.code, exc.message))
            return
        visit = _visit(scope, self.client_address(scope))
        capture = self.service.capture
        # from memory when the asset and link are cached (no thread hop), else in a thread
        result = capture.beacon(event, visit, cached_only=True)
        if result is None:
            result = await anyio.to_thread.run_sync(lambda: capture.beacon(event, visit))
        await _send_json(send, 202, {"result": result})

    async def short_link(self, scope: Scope, _receive: Receive, send: Send, code: str) -> None:
        link = await self._link(code)
        record = await self._asset(link["asset_id"]) if link else None
        if link is None or record is None or not record.is_public:
            gone = await anyio.to_thread.run_sync(
                self._link_gone, code, link["asset_id"] if link else None
            )
            if gone:
                await self._send_gone(scope, send, "This link was deleted.")
            else:
                await _send_html(scope, send, 404, error_page(404, "This link does not exist."))
            return
        if expired(link):
            await self._send_gone(scope, send, "This link has expired.")
            return
        visit = _visit(scope, self.client_address(scope))
        if link.get("password_hash"):
            await self._send_locked(scope, send, link, visit)
            return
        limited = link.get("max_clicks") is not None and is_person(visit.user_agent)
        if limited and not await anyio.to_thread.run_sync(self.service.sharing.take_click, link):
            await self._send_gone(scope, send, "This link has reached its click limit.")
            return
        audience = self.service.capture.short_link(record.asset_id, link, visit)
        if audience == "bot":
            context = asset_context(
                self.service.settings.base_url,
                record,
                title=link["title"],
                renditions=await self._renditions(record),
                bot=card_bot(_header(scope, b"user-agent")),
            )
            html = render("card.html", **context)
            await _send_html(scope, send, 200, html, vary=True, link=oembed_link(context))
            return
        headers = self._redirects.get(record.asset_id)
        if headers is None:
            headers = self._redirect_headers(record.asset_id)
        await send({"type": "http.response.start", "status": 302, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    def _redirect_headers(self, asset_id: str) -> tuple[tuple[bytes, bytes], ...]:
        """A person's redirect to the asset page: the same headers every time, built once."""
        location = f"{self.service.settings.base_url}/a/{asset_id}"
        headers = (
            (b"location", location.encode()),
            (b"cache-control", REVALIDATE.encode()),
            (b"vary", b"User-Agent"),
            (b"content-length", b"0"),
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
        )
        if len(self._redirects) >= 100_000:
            self._redirects.clear()
        self._redirects[asset_id] = headers
        return headers

    async def _redirect_to_store(self, scope: Scope, send: Send, rep: StoredRepresentation) -> int:
        """``GIFDIST_DELIVERY=redirect``: a 302 to a presigned store (or CDN) URL."""
        location = await _presign(self.service, rep.sha256)
        await send(
            {
                "type": "http.response.start",
                "status": 302,
                "headers": [
                    (b"location", location.encode()),
                    (b"cache-control", b"private, max-age=300"),
                    (b"content-length", b"0"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})
        return 200  # counted as a delivery (the client fetches the bytes from the store)

    async def gif(self, scope: Scope, receive: Receive, send: Send, asset_id: str) -> None:
        """``/a/{id}.gif``: the GIF's bytes (approved assets only), 410 once deleted."""
        record = await self._asset(asset_id)
        approved = record is not None and record.status is AssetStatus.APPROVED
        rep = await self._representation(record) if record and approved else None
        if record is None or rep is None:
            if record is None and await anyio.to_thread.run_sync(self._asset_gone, asset_id):
                await self._send_gone(scope, send, "This GIF was deleted.")
            else:
                await _send_html(scope, send, 404, error_page(404, NO_SUCH_GIF))
            return
        if await self._refused_unsigned(scope, send, record):
            return
        await self._deliver(scope, receive, send, record, rep, counts_play=True)

    async def rendition(
        self, scope: Scope, receive: Receive, send: Send, which: tuple[str, RenditionKind]
    ) -> None:
        """``/a/{id}.mp4``, ``.webp``, ``.jpg`` and ``/a/{id}/tiny.{gif,mp4,webp,jpg}``:
        a rendition, with the GIF's guarantees; 404 until it is made, 410 once deleted."""
        asset_id, kind = which
        record = await self._asset(asset_id)
        if record is None or record.status is not AssetStatus.APPROVED:
            if record is None and await anyio.to_thread.run_sync(self._asset_gone, asset_id):
                await self._send_gone(scope, send, "This GIF was deleted.")
            else:
                await _send_html(scope, send, 404, error_page(404, NO_SUCH_GIF))
            return
        if await self._refused_unsigned(scope, send, record):  # before saying what it has
            return
        rep = await self._rendition_representation(record, kind)
        if rep is None:
            message = f"This GIF has no {kind.value.replace('_', ' ')} rendition (yet)."
            await _send_html(scope, send, 404, error_page(404, message))
            return
        # the full-size animations stand in for the GIF; previews and stills are no play
        counts_play = kind in (RenditionKind.MP4, RenditionKind.WEBP)
        await self._deliver(scope, receive, send, record, rep, counts_play=counts_play)

    async def _renditions(self, record: AssetRecord) -> dict[RenditionKind, StoredRendition]:
        """The content's renditions: from memory, or from the database in a thread."""
        maker = self.service.renditions
        cached = maker.cache.get(record.sha256)
        if cached is not None:
            return cached
        stored: dict[RenditionKind, StoredRendition] = await anyio.to_thread.run_sync(
            maker.renditions, record.sha256
        )
        return stored

    async def _rendition_representation(
        self, record: AssetRecord, kind: RenditionKind
    ) -> FileRepresentation | StoredRepresentation | None:
        key = (record.asset_id, kind)
        rep = self.rendition_representations.get(key)
        if rep is not None:
            return rep
        item = (await self._renditions(record)).get(kind)
        if item is None:
            return None
        path = await anyio.to_thread.run_sync(self.service.blobs.local_path, item.blob_sha256)
        etag, modified = f'"{item.blob_sha256}"', item.created_at.timestamp()
        if path is not None:
            rep = FileRepresentation(path, item.bytes, etag, modified, item.content_type)
        else:
            rep = StoredRepresentation(
                item.blob_sha256, item.bytes, etag, modified, item.content_type
            )
        self.rendition_representations.set(key, rep)
        return rep

    async def _refused_unsigned(self, scope: Scope, send: Send, record: AssetRecord) -> bool:
        """True (and answered) when a GIF that needs a signed URL came without a valid
        one (``SignedDelivery.refusal``: 404 as for an unknown id, or 403 and why)."""
        if not self.service.signing.needs_signature(record):
            return False
        query = scope.get("query_string", b"").decode("latin-1")
        refusal = self.service.signing.refusal(scope["path"], query)
        if refusal is None:
            return False
        status, message = refusal
        await _send_html(scope, send, status, error_page(status, message))
        return True

    async def _deliver(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        record: AssetRecord,
        rep: FileRepresentation | StoredRepresentation,
        *,
        counts_play: bool,
    ) -> None:
        """The bytes (the caller checked the signature); a person's first delivery is a
        play."""
        cache_control = self.public_bytes
        if self.service.signing.needs_signature(record):
            # caches may keep it only while the signature is valid
            remaining = remaining_seconds(_query_param(scope, "expires"))
            if record.private:
                cache_control = f"private, max-age={remaining}"
            else:
                shared = min(remaining, self.shared_seconds)
                cache_control = f"public, max-age={remaining}, s-maxage={shared}"
        if isinstance(rep, FileRepresentation):
            status = await self._send_file(scope, receive, send, rep, cache_control)
        elif self.service.settings.delivery == "redirect":
            status = await self._redirect_to_store(scope, send, rep)
        else:
            status = await send_stored(
                scope, receive, send, rep, self.service.blobs, cache_control=cache_control
            )
        if counts_play and scope["method"] == "GET" and _is_first_delivery(status, scope):
            self.service.capture.delivery(
                record.asset_id, _visit(scope, self.client_address(scope))
            )

    async def _send_file(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        rep: FileRepresentation,
        cache_control: str,
    ) -> int:
        """The whole file with headers made once (small files from memory), unless the
        request is conditional or ranged: then the full rules of ``send_file``."""
        if cache_control != self.public_bytes or is_conditional(scope["headers"]):
            return await send_file(scope, receive, send, rep, cache_control=cache_control)
        body = self.small_files.get(rep.path)
        if body is None and rep.size <= self.small_files.max_file_bytes:
            body = await anyio.to_thread.run_sync(self.small_files.load, rep.path)
        if body is None and not (
            PATHSEND in scope.get("extensions", {}) and os.path.exists(rep.path)
        ):
            return await send_file(scope, receive, send, rep, cache_control=cache_control)
        headers = [*rep.whole_headers, self._public_bytes_header]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        if scope["method"] == "HEAD":
            await send({"type": "http.response.body", "body": b""})
        elif body is not None:
            await send({"type": "http.response.body", "body": body})
        else:
            await send({"type": PATHSEND, "path": rep.path})
        return 200


async def _presign(service: Service, sha256: str) -> str:
    url = await anyio.to_thread.run_sync(service.blobs.presigned_url, sha256, 3600)
    if url is None:
        raise NotFound("the store cannot hand out direct URLs")
    return url


def _is_first_delivery(status: int, scope: Scope) -> bool:
    """A play is the whole GIF, or a range starting at byte 0 (not a resumed chunk)."""
    if status == 200:
        return True
    return status == 206 and (_header(scope, b"range") or "").replace(" ", "").startswith(
        "bytes=0-"
    )


def remaining_seconds(expires: str | None) -> int:
    """Seconds until a signed URL's ``expires`` (0 when past or unreadable)."""
    try:
        return max(0, min(int(float(expires or 0)) - int(time.time()), 31536000))
    except (ValueError, OverflowError):
        return 0


def _visit(scope: Scope, client: str) -> Visit:
    return Visit(
        user_agent=_header(scope, b"user-agent"),
        client=client,
        referer=_header(scope, b"referer"),
        via=_query_param(scope, "via"),
    )


def _query_param(scope: Scope, name: str) -> str | None:
    query = scope.get("query_string", b"")
    if not query:
        return None
    for key, value in parse_qsl(query.decode("latin-1"))[:20]:
        if key == name:
            return str(value)
    return None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The request body, refused past ``limit`` bytes; None if the client disconnected."""
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body += message.get("body", b"")
        if len(body) > limit:
            raise PayloadTooLarge(f"a beacon is at most {limit} bytes")
        if not message.get("more_body", False):
            return bytes(body)


async def _send_json(
    send: Send, status: int, payload: dict[str, Any], *, retry_after: int | None = None
) -> None:
    body = json.dumps(payload).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _send_html(
    scope: Scope,
    send: Send,
    status: int,
    html: str,
    *,
    vary: bool = False,
    private: bool = False,
    link: str = "",
) -> None:
    body = html.encode()
    cache = "no-store" if private or status != 200 else REVALIDATE
    headers = [
        (b"content-type", HTML_TYPE),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", cache.encode()),
        *HTML_SECURITY_HEADERS,
    ]
    if vary:
        headers.append((b"vary", b"User-Agent"))
    if link:
        headers.append((b"link", link.encode("latin-1")))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})

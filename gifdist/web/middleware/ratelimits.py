"""Rate limits per route group, in front of everything (hot paths included).

Each request is matched to at most one policy (uploads, link creation, beacons,
short links, sign-in, reports) and counted under the caller's API key or client
address. Limited routes answer with ``RateLimit-Limit``/``-Remaining``/``-Reset``
(IETF draft); a refusal is 429 with ``Retry-After`` and a JSON error. Counters live
in Redis when ``GIFDIST_REDIS_URL`` is set, shared by every node; if Redis stops
answering, the limiter falls back to in-process counters (or refuses, if
configured), logs once per outage and retries Redis every few seconds.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import threading
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import anyio
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from gifdist.config import Settings
from gifdist.ratelimit.limiter import (
    Decision,
    LimitBackend,
    LimitRule,
    MemoryLimitBackend,
    RateLimitBackendUnavailable,
    RateLimitConfig,
    RateLimitStrategy,
    RedisLimitBackend,
    combine_decisions,
)
from gifdist.web.errors import error_body_for
from gifdist.web.middleware.client_ip import ClientAddresses

log = logging.getLogger("gifdist.ratelimit")


RETRY_REDIS_AFTER = 5.0
_LINKS = re.compile(r"^/api/v1/assets/[^/]+/links$")
_REPORT = re.compile(r"^/api/v1/assets/[^/]+/report$")


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    config: RateLimitConfig
    by_key: bool  # count per API key when one is sent, else per client address


def build_policies(settings: Settings) -> dict[str, Policy]:
    def per_minute(name: str, count: int, by_key: bool, window: float = 60.0) -> Policy:
        config = RateLimitConfig(count, window, RateLimitStrategy.SLIDING_WINDOW)
        return Policy(name, config, by_key)

    return {
        "uploads": per_minute("uploads", settings.rate_limit_uploads, True),
        "links": per_minute("links", settings.rate_limit_links, True),
        "beacons": per_minute("beacons", settings.rate_limit_beacons, False),
        "shortlinks": per_minute("shortlinks", settings.rate_limit_shortlinks, False),
        "signin": per_minute("signin", settings.rate_limit_signin, False),
        "reports": per_minute("reports", settings.rate_limit_reports, False, window=3600.0),
        "gif_api": per_minute("gif_api", settings.rate_limit_gif_api, True),
    }


def policy_name(method: str, path: str) -> str | None:
    """Which policy applies to a request (None: not limited, e.g. admin and reads)."""
    if method == "POST":
        if path == "/api/v1/assets":
            return "uploads"
        if path == "/api/v1/events":
            return "beacons"
        if path == "/signin":
            return "signin"
        if _LINKS.match(path):
            return "links"
        if _REPORT.match(path):
            return "reports"
    if method in ("GET", "HEAD") and path.startswith("/s/"):
        return "shortlinks"
    if path.startswith(("/v2/", "/v1/gifs")):
        return "gif_api"
    return None


class ResilientBackend:
    """Redis when it answers, in-process counters (or refusal) while it does not."""

    def __init__(
        self,
        primary: LimitBackend | None,
        *,
        refuse_when_down: bool,
        on_outage: Callable[[], None] | None = None,
    ) -> None:
        self.primary = primary
        self.fallback = MemoryLimitBackend()
        self.refuse_when_down = refuse_when_down
        self.on_outage = on_outage
        self._down_until = 0.0
        self._lock = threading.Lock()

    def hit(self, rules: list[LimitRule]) -> list[Decision] | None:
        """Decisions for ``rules``; None means "refuse: the limiter is unavailable"."""
        if self.primary is not None and time.monotonic() >= self._down_until:
            try:
                decisions = self.primary.hit(rules)
            except RateLimitBackendUnavailable as exc:
                self._mark_down(exc)
            else:
                self._mark_up()
                return decisions
        if self.primary is not None and self.refuse_when_down:
            return None
        return self.fallback.hit(rules)

    def _mark_down(self, exc: Exception) -> None:
        with self._lock:
            first = self._down_until == 0.0
            self._down_until = time.monotonic() + RETRY_REDIS_AFTER
        if first:
            log.warning(
                "rate limits: Redis unreachable (%s); using %s until it returns",
                exc,
                "refusals" if self.refuse_when_down else "in-process counters",
            )
            if self.on_outage is not None:
                self.on_outage()

    def _mark_up(self) -> None:
        if self._down_until:
            with self._lock:
                self._down_until = 0.0
            log.warning("rate limits: Redis is back; shared limits restored")

    def close(self) -> None:
        if self.primary is not None:
            self.primary.close()


def open_limit_backend(
    settings: Settings, on_outage: Callable[[], None] | None = None
) -> ResilientBackend:
    primary = RedisLimitBackend.from_url(settings.redis_url) if settings.redis_url else None
    return ResilientBackend(
        primary,
        refuse_when_down=settings.rate_limit_on_redis_failure == "refuse",
        on_outage=on_outage,
    )


RawHeaders = list[tuple[bytes, bytes]]


class RateLimits:
    """The policies and their counters: one check per request, no ASGI wrapping."""

    def __init__(
        self,
        settings: Settings,
        backend: ResilientBackend,
        addresses: ClientAddresses,
        *,
        on_refusal: Callable[[str], None] | None = None,
    ) -> None:
        self.policies = build_policies(settings)
        self.backend = backend
        self.client_address = addresses
        self.on_refusal = on_refusal
        self._in_thread = backend.primary is not None

    async def check(self, scope: Scope, name: str) -> tuple[RawHeaders, Response | None]:
        """Count the request under policy ``name``: the ``RateLimit-*`` headers to add
        to the answer, and the refusal (429, or 503 when the limiter is down) if any."""
        policy = self.policies[name]
        rule = LimitRule(f"{name}:{self._subject(scope, policy)}", policy.config)
        if self._in_thread:  # a network round trip: keep it off the event loop
            decisions = await anyio.to_thread.run_sync(self.backend.hit, [rule])
        else:
            decisions = self.backend.hit([rule])
        if decisions is None:
            return [], _json_error(
                scope["path"],
                503,
                "unavailable",
                "rate limiting is unavailable; try again shortly",
                {"Retry-After": str(int(RETRY_REDIS_AFTER))},
            )
        decision = combine_decisions(decisions)
        if decision.allowed:
            return _raw_headers(decision), None
        if self.on_refusal is not None:
            self.on_refusal(name)
        retry = max(1, math.ceil(decision.retry_after))
        refusal = _json_error(
            scope["path"],
            429,
            "rate_limited",
            f"too many requests ({name}): try again in {retry} s",
            {**_headers(decision), "Retry-After": str(retry)},
        )
        return [], refusal

    def _subject(self, scope: Scope, policy: Policy) -> str:
        if policy.name == "gif_api":
            secret = _query_key(scope.get("query_string", b""))
            if secret:
                return "key:" + hashlib.sha256(secret).hexdigest()[:32]
        if policy.by_key:
            for key, value in scope["headers"]:
                if key == b"authorization" and value[:7].lower() == b"bearer ":
                    return "key:" + hashlib.sha256(value[7:].strip()).hexdigest()[:32]
        # by address alone: a client that rotates its User-Agent is still one client
        return "ip:" + self.client_address(scope)


class RateLimitMiddleware:
    """Applies the policies; refusals never reach the app."""

    def __init__(self, app: ASGIApp, limits: RateLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        name = policy_name(scope["method"], scope["path"]) if scope["type"] == "http" else None
        if name is None:
            await self.app(scope, receive, send)
            return
        raw, refusal = await self.limits.check(scope, name)
        if refusal is not None:
            await refusal(scope, receive, send)
            return

        async def send_with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *raw]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _query_key(query: bytes) -> bytes | None:
    """The key a Tenor (``key``) or GIPHY (``api_key``) client sends in the query."""
    for name, value in parse_qsl(query.decode("latin-1")):
        if name in ("key", "api_key") and value:
            return value.encode("latin-1")
    return None


def _json_error(
    path: str, status: int, code: str, message: str, headers: dict[str, str]
) -> JSONResponse:
    """Limiter answers are JSON on every path, pages included (Tenor's or GIPHY's
    error shape on their paths)."""
    body = error_body_for(path, status, code, message)
    return JSONResponse(body, status_code=status, headers=headers)


def _raw_headers(decision: Decision) -> RawHeaders:
    return [
        (b"ratelimit-limit", b"%d" % decision.limit),
        (b"ratelimit-remaining", b"%d" % max(0, decision.remaining)),
        (b"ratelimit-reset", b"%d" % max(0, math.ceil(decision.reset_after))),
    ]


def _headers(decision: Decision) -> dict[str, str]:
    return {
        "RateLimit-Limit": str(decision.limit),
        "RateLimit-Remaining": str(max(0, decision.remaining)),
        "RateLimit-Reset": str(max(0, math.ceil(decision.reset_after))),
    }

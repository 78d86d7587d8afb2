"""Rate limiting per IP address and per user: token bucket, fixed and sliding window.

:class:`RateLimiter` is the seed API. Under it sits a generic keyed API the web
middleware uses: a :class:`LimitBackend` (``memory://`` in process, or
``redis://`` shared by every node) applies :class:`LimitRule` s all or nothing and
answers :class:`Decision` s with what is needed for ``RateLimit-*`` headers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from types import TracebackType

from gifdist.errors import TooManyRequests
from gifdist.ratelimit.memory import DEFAULT_MAX_KEYS, MemoryLimitBackend
from gifdist.ratelimit.redis_store import DEFAULT_KEY_PREFIX, RedisLimitBackend
from gifdist.ratelimit.rules import (
    Decision,
    LimitBackend,
    LimitRule,
    RateLimitBackendUnavailable,
    RateLimitConfig,
    RateLimitStrategy,
    combine_decisions,
)

__all__ = [
    "Decision",
    "LimitBackend",
    "LimitRule",
    "MemoryLimitBackend",
    "RateLimitBackendUnavailable",
    "RateLimitConfig",
    "RateLimitError",
    "RateLimitStrategy",
    "RateLimiter",
    "RedisLimitBackend",
    "combine_decisions",
    "create_limit_backend",
]

REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
_NAMESPACE = re.compile(r"[A-Za-z0-9_.-]{1,48}")


class RateLimitError(TooManyRequests):
    """A rate limit refused the request; ``retry_after`` is the wait in seconds (429)."""

    def __init__(self, message: str = "Rate limit exceeded.", *, retry_after: float = 0.0) -> None:
        super().__init__(message, retry_after=retry_after)


def create_limit_backend(
    storage: str,
    *,
    clock: Callable[[], float] | None = None,
    max_keys: int = DEFAULT_MAX_KEYS,
    key_prefix: str = DEFAULT_KEY_PREFIX,
) -> LimitBackend:
    """The backend a storage URL names: ``memory://`` or ``redis://host:port/db``.

    ``clock`` and ``max_keys`` apply to memory storage; Redis always uses the
    server's clock and keeps its keys under ``key_prefix``.

    Raises:
        ValueError: the URL names no known storage (or is a malformed Redis URL).
        ImportError: a Redis URL without the redis package installed.
    """
    if not isinstance(storage, str):
        raise TypeError(f"storage must be a URL string, not {type(storage).__name__}")
    if storage == "memory://":
        return MemoryLimitBackend(max_keys=max_keys, clock=clock)
    if storage.startswith(REDIS_SCHEMES):
        return RedisLimitBackend.from_url(storage, key_prefix=key_prefix)
    raise ValueError(
        f"unknown rate-limit storage {storage[:100]!r}: use 'memory://' or 'redis://host:port/db'"
    )


class RateLimiter:
    """Limits requests per IP address and per user under one :class:`RateLimitConfig`.

    ``storage`` is a URL (``memory://``, ``redis://…``) or a backend object, which
    may be shared by several limiters; ``namespace`` keeps their counters apart.
    ``clock`` (seconds) is used by memory storage only: Redis keeps time itself.
    Thread-safe.

    Raises:
        ValueError: an unknown storage URL or a namespace outside ``[A-Za-z0-9_.-]{1,48}``.
    """

    def __init__(
        self,
        config: RateLimitConfig,
        enable_per_ip: bool = True,
        enable_per_user: bool = True,
        *,
        storage: str | LimitBackend = "memory://",
        clock: Callable[[], float] | None = None,
        namespace: str = "default",
    ) -> None:
        if not isinstance(config, RateLimitConfig):
            raise TypeError(f"config must be a RateLimitConfig, not {type(config).__name__}")
        if not isinstance(namespace, str) or not _NAMESPACE.fullmatch(namespace):
            raise ValueError(f"namespace must match [A-Za-z0-9_.-]{{1,48}}, got {namespace!r}")
        self.config = config
        self.enable_per_ip = enable_per_ip
        self.enable_per_user = enable_per_user
        self.namespace = namespace
        self._owns_backend = isinstance(storage, str)
        self.backend: LimitBackend = (
            create_limit_backend(storage, clock=clock) if isinstance(storage, str) else storage
        )

    def check_rate_limit(
        self, ip_address: str | None = None, user_id: str | None = None, count: int = 1
    ) -> tuple[bool, float | None]:
        """Take ``count`` requests if allowed: ``(True, None)`` or ``(False, retry_after)``.

        Raises:
            ValueError: neither an IP address nor a user id while a dimension is
                enabled, or a ``count`` that is not positive or exceeds the limit.
            RateLimitBackendUnavailable: the storage could not be reached.
        """
        decision = self.decide(ip_address, user_id, count)
        return (True, None) if decision.allowed else (False, decision.retry_after)

    def enforce_rate_limit(
        self, ip_address: str | None = None, user_id: str | None = None, count: int = 1
    ) -> None:
        """Like :meth:`check_rate_limit`, but raise when refused.

        Raises:
            RateLimitError: the limit is exceeded (carries ``retry_after``).
            ValueError, RateLimitBackendUnavailable: as :meth:`check_rate_limit`.
        """
        allowed, retry_after = self.check_rate_limit(ip_address, user_id, count)
        if not allowed:
            wait = retry_after or 0.0
            raise RateLimitError(
                f"Rate limit exceeded. Retry after {wait:.1f} seconds.", retry_after=wait
            )

    def decide(
        self, ip_address: str | None = None, user_id: str | None = None, count: int = 1
    ) -> Decision:
        """Take ``count`` requests if every enabled dimension allows it; one combined decision.

        Raises:
            ValueError, RateLimitBackendUnavailable: as :meth:`check_rate_limit`.
        """
        rules = self._rules(ip_address, user_id)
        if not rules:
            missing = not ip_address and not user_id
            if missing and (self.enable_per_ip or self.enable_per_user):
                raise ValueError(
                    "a rate-limit check needs an ip_address or a user_id: without either "
                    "the request could not be limited"
                )
            # Only identifiers of disabled dimensions: there is nothing to limit.
            limit = self.config.requests_per_window
            return Decision(True, limit, 0.0, 0.0, limit)
        return combine_decisions(self.backend.hit([rule for _, rule in rules], count))

    def hit(self, key: str, count: int = 1) -> Decision:
        """Take ``count`` requests from an arbitrary ``key`` (kept apart from IPs and users).

        Raises:
            ValueError: an empty key or a bad ``count``.
            RateLimitBackendUnavailable: the storage could not be reached.
        """
        if _identifier(key, "key") is None:
            raise ValueError("a rate-limit key must be a non-empty string")
        rule = LimitRule(f"{self.namespace}:key:{key}", self.config)
        return self.backend.hit([rule], count)[0]

    def get_remaining_quota(
        self, ip_address: str | None = None, user_id: str | None = None
    ) -> dict[str, int]:
        """Requests left for each enabled dimension asked about: ``{"ip": n, "user": n}``.

        Raises:
            RateLimitBackendUnavailable: the storage could not be reached.
        """
        rules = self._rules(ip_address, user_id)
        if not rules:
            return {}
        decisions = self.backend.peek([rule for _, rule in rules])
        return {
            dimension: decision.remaining
            for (dimension, _), decision in zip(rules, decisions, strict=True)
        }

    def reset_limits(self, ip_address: str | None = None, user_id: str | None = None) -> None:
        """Forget the counters of this IP address and/or user.

        Raises:
            RateLimitBackendUnavailable: the storage could not be reached.
        """
        ip = _identifier(ip_address, "ip_address")
        user = _identifier(user_id, "user_id")
        keys = [self._key(dim, value) for dim, value in (("ip", ip), ("user", user)) if value]
        if keys:
            self.backend.reset(keys)

    def clear_all(self) -> None:
        """Forget every counter of this limiter (its namespace in shared storage).

        Raises:
            RateLimitBackendUnavailable: the storage could not be reached.
        """
        self.backend.clear(f"{self.namespace}:")

    def close(self) -> None:
        """Release the storage if this limiter created it from a URL."""
        if self._owns_backend:
            self.backend.close()

    def __enter__(self) -> RateLimiter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _key(self, dimension: str, identifier: str) -> str:
        # The namespace has no colon and the dimension is fixed, so everything after
        # the second colon is the identifier: "ip" "a:b" and "user" "a:b" never meet.
        return f"{self.namespace}:{dimension}:{identifier}"

    def _rules(self, ip_address: str | None, user_id: str | None) -> list[tuple[str, LimitRule]]:
        ip = _identifier(ip_address, "ip_address")
        user = _identifier(user_id, "user_id")
        rules = []
        if self.enable_per_ip and ip is not None:
            rules.append(("ip", LimitRule(self._key("ip", ip), self.config)))
        if self.enable_per_user and user is not None:
            rules.append(("user", LimitRule(self._key("user", user), self.config)))
        return rules


def _identifier(value: object, name: str) -> str | None:
    """``value`` as an identifier, or None when absent (None or empty).

    Raises:
        TypeError: ``value`` is not a string.
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, not {type(value).__name__}")
    return value

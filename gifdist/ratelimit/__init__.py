"""Rate limiting per IP address and per user (the seed API).

:class:`RateLimiter` limits by IP address and user over a keyed
:class:`LimitBackend` (``memory://`` or ``redis://``).

:class:`TokenBucket`, :class:`FixedWindow` and :class:`SlidingWindow` are the seed's
single-counter objects; they decide with the same step functions as the keyed
backends, so both agree on every request.

Deliberately stricter than the seed: a request checked against several dimensions
(IP and user) is allowed only if every one allows it, and a refused request takes
nothing from any of them (the seed could charge the IP and then refuse on the
user); a check with neither an IP nor a user id raises ``ValueError`` instead of
passing unlimited; a ``count`` that is not positive or larger than a whole
window's limit (it could never pass) raises ``ValueError``, as does a negative
count on the single-counter objects; and the sliding window is the two-window
weighted counter (constant memory, one Redis round trip) rather than an exact log
of timestamps.
"""

from gifdist.ratelimit.counters import FixedWindow, SlidingWindow, TokenBucket
from gifdist.ratelimit.limiter import (
    Decision,
    LimitBackend,
    LimitRule,
    MemoryLimitBackend,
    RateLimitBackendUnavailable,
    RateLimitConfig,
    RateLimiter,
    RateLimitError,
    RateLimitStrategy,
    RedisLimitBackend,
    combine_decisions,
    create_limit_backend,
)

__all__ = [
    "Decision",
    "FixedWindow",
    "LimitBackend",
    "LimitRule",
    "MemoryLimitBackend",
    "RateLimitBackendUnavailable",
    "RateLimitConfig",
    "RateLimitError",
    "RateLimitStrategy",
    "RateLimiter",
    "RedisLimitBackend",
    "SlidingWindow",
    "TokenBucket",
    "combine_decisions",
    "create_limit_backend",
]

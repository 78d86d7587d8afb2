"""Rate limiting per IP address and per user (the seed API)."""

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

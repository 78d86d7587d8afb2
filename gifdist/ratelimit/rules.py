"""Value types shared by the rate limiter and its storage backends.

A :class:`LimitRule` names a key and the :class:`RateLimitConfig` that applies to
it; a backend's ``hit`` applies several rules at once, all or nothing, and answers
one :class:`Decision` per rule.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol, runtime_checkable

from gifdist.errors import ServiceUnavailable

# Counters and windows are doubles in Lua as well as in Python; above 2**53 they
# stop being exact.
MAX_REQUESTS_PER_WINDOW = 2**53
MIN_WINDOW_SECONDS = 0.001
MAX_WINDOW_SECONDS = 366 * 24 * 3600.0
# Keys longer than this are stored as a readable head plus a digest, so a hostile
# identifier cannot make one counter arbitrarily large.
MAX_RAW_KEY_CHARS = 128
MAX_KEY_PREFIX_CHARS = 64


class RateLimitStrategy(Enum):
    """How requests are counted against a limit."""

    TOKEN_BUCKET = "token_bucket"
    FIXED_WINDOW = "fixed_window"
    SLIDING_WINDOW = "sliding_window"


# Short tags that prefix stored keys: one key's state under two strategies must
# never be read with the wrong layout.
STRATEGY_CODES: dict[RateLimitStrategy, str] = {
    RateLimitStrategy.TOKEN_BUCKET: "tb",
    RateLimitStrategy.FIXED_WINDOW: "fw",
    RateLimitStrategy.SLIDING_WINDOW: "sw",
}


class RateLimitBackendUnavailable(ServiceUnavailable):
    """The rate-limit storage (Redis) could not be reached or refused to answer.

    The service may catch it to fall back to in-process limits.
    """

    code = "rate_limiter_unavailable"


@dataclass(frozen=True, slots=True)
class RateLimitConfig:
    """``requests_per_window`` requests per ``window_seconds``, counted by ``strategy``.

    For the token bucket the window sets the refill rate (``requests_per_window /
    window_seconds`` per second) and the bucket holds at most ``requests_per_window``.

    Raises:
        TypeError: a field has the wrong type.
        ValueError: a number is zero, negative, not finite or out of range.
    """

    requests_per_window: int
    window_seconds: float
    strategy: RateLimitStrategy = RateLimitStrategy.TOKEN_BUCKET

    def __post_init__(self) -> None:
        _check_requests_per_window(self.requests_per_window)
        _check_window_seconds(self.window_seconds)
        object.__setattr__(self, "strategy", _coerce_strategy(self.strategy))


def _check_requests_per_window(value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"requests_per_window must be an int, not {type(value).__name__}")
    if not isinstance(value, int):
        raise ValueError(f"requests_per_window must be a whole number, got {value!r}")
    if not 1 <= value <= MAX_REQUESTS_PER_WINDOW:
        raise ValueError(
            f"requests_per_window must be between 1 and {MAX_REQUESTS_PER_WINDOW}, got {value}"
        )


def _check_window_seconds(value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"window_seconds must be a number, not {type(value).__name__}")
    if not math.isfinite(value) or not MIN_WINDOW_SECONDS <= value <= MAX_WINDOW_SECONDS:
        raise ValueError(
            f"window_seconds must be a finite number between {MIN_WINDOW_SECONDS} and "
            f"{MAX_WINDOW_SECONDS:.0f}, got {value!r}"
        )


def _coerce_strategy(value: object) -> RateLimitStrategy:
    if isinstance(value, RateLimitStrategy):
        return value
    try:
        return RateLimitStrategy(value)
    except ValueError:
        known = ", ".join(s.value for s in RateLimitStrategy)
        raise ValueError(f"unknown rate-limit strategy {value!r} (known: {known})") from None


@dataclass(frozen=True, slots=True)
class LimitRule:
    """Apply ``config`` to the counter named ``key`` (any non-empty string)."""

    key: str
    config: RateLimitConfig

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not self.key:
            raise ValueError(f"a rate-limit key must be a non-empty string, got {self.key!r}")


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer for one rule (or, combined, for a request).

    ``remaining`` is what is left after this call (nothing is taken on refusal);
    ``reset_after`` is the number of seconds until the full limit is available again;
    ``retry_after`` is the number of seconds until the same request could pass
    (0.0 when allowed); ``limit`` is the rule's ``requests_per_window``.
    """

    allowed: bool
    remaining: int
    reset_after: float
    retry_after: float
    limit: int


@runtime_checkable
class LimitBackend(Protocol):
    """Storage for rate-limit counters: ``memory://`` or ``redis://``."""

    def hit(self, rules: Sequence[LimitRule], count: int = 1) -> list[Decision]:
        """Take ``count`` from every rule if all of them allow it, else take nothing."""
        ...

    def peek(self, rules: Sequence[LimitRule]) -> list[Decision]:
        """Report each rule's state without taking anything."""
        ...

    def reset(self, keys: Iterable[str]) -> None:
        """Forget the counters of ``keys`` (under every strategy)."""
        ...

    def clear(self, key_prefix: str = "") -> None:
        """Forget every counter whose key starts with ``key_prefix``."""
        ...

    def close(self) -> None:
        """Release connections; the backend is not used afterwards."""
        ...


def check_hit(rules: Sequence[LimitRule], count: object) -> None:
    """Validate a hit: a positive int ``count`` that every rule could ever admit.

    A request bigger than a whole window's capacity could never pass, so it is an
    error rather than a refusal with an infinite wait.

    Raises:
        TypeError: ``count`` is not an int.
        ValueError: ``count`` is not positive, exceeds a rule's limit, or the rules
            are empty or repeat a key.
    """
    if isinstance(count, bool) or not isinstance(count, int):
        raise TypeError(f"count must be an int, not {type(count).__name__}")
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    check_rules(rules)
    for rule in rules:
        if count > rule.config.requests_per_window:
            raise ValueError(
                f"count={count} is more than the whole limit of "
                f"{rule.config.requests_per_window} per window for {rule.key!r}; "
                "such a request could never be allowed"
            )


def check_rules(rules: Sequence[LimitRule]) -> None:
    """Raise ValueError for an empty rule list or a key repeated under one strategy."""
    if not rules:
        raise ValueError("at least one rate-limit rule is needed")
    if len(rules) == 1:
        return
    seen = {(rule.config.strategy, rule.key) for rule in rules}
    if len(seen) != len(rules):
        raise ValueError("the same key appears twice under one strategy in a single hit")


def storage_key(code: str, key: str) -> str:
    """The stored name of ``key``'s counter under the strategy tagged ``code``.

    Short keys are kept as they are (``tb:<key>``); long ones keep their first
    characters, so prefix clearing still finds them, plus a digest (``tb#<head><hex>``).
    """
    if len(key) <= MAX_RAW_KEY_CHARS:
        return f"{code}:{key}"
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
    return f"{code}#{key[:MAX_KEY_PREFIX_CHARS]}{digest}"


def matches_prefix(stored_key: str, key_prefix: str) -> bool:
    """Whether a name made by :func:`storage_key` belongs to a key starting with ``key_prefix``."""
    return stored_key.startswith(key_prefix, 3)


def check_key_prefix(key_prefix: str) -> None:
    """Raise ValueError for a prefix too long to be matched on digest-named keys."""
    if not isinstance(key_prefix, str):
        raise TypeError(f"key_prefix must be a string, not {type(key_prefix).__name__}")
    if len(key_prefix) > MAX_KEY_PREFIX_CHARS:
        raise ValueError(f"key_prefix must be at most {MAX_KEY_PREFIX_CHARS} characters")


def combine_decisions(decisions: Sequence[Decision]) -> Decision:
    """One decision for a request checked against several rules.

    Allowed only if every rule allowed it. The figures come from the binding rule:
    the refusing rule with the longest wait, or, when allowed, the rule with the
    fewest requests left (the one a client should pace itself by).

    Raises:
        ValueError: ``decisions`` is empty.
    """
    if not decisions:
        raise ValueError("no decisions to combine")
    refused = [d for d in decisions if not d.allowed]
    if refused:
        return max(refused, key=lambda d: d.retry_after)
    return min(decisions, key=lambda d: (d.remaining, -d.reset_after))

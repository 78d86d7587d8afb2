"""The three counting strategies as pure functions over a small state tuple.

Each step takes the stored entry (or ``None``), the time and the request and
returns ``(decision, new_entry)``; ``new_entry`` is ``None`` when nothing is to be
written (a refusal or a peek). Entries start with the time at which they become
equivalent to no entry at all, so a store can drop them then:

* token bucket: ``(expires_at, tokens, last_refill)``
* fixed window: ``(expires_at, window_start, count)``
* sliding window: ``(expires_at, window_index, current_count, previous_count)``

The Redis Lua script in ``redis_backend`` implements the same arithmetic.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from gifdist.ratelimit.rules import STRATEGY_CODES, Decision, RateLimitStrategy

# Slack for float rounding, e.g. a refill of window/N seconds giving 0.9999999 tokens.
EPSILON = 1e-9
# A refusal always reports a positive wait, however small.
MIN_RETRY_SECONDS = 1e-6

Entry = tuple[float, ...]
Step = Callable[[Entry | None, float, int, float, int], tuple[Decision, Entry | None]]


def token_bucket(
    entry: Entry | None, now: float, limit: int, window: float, count: int
) -> tuple[Decision, Entry | None]:
    """A bucket of ``limit`` tokens refilled at ``limit / window`` per second."""
    rate = limit / window
    if entry is None:
        tokens, last = float(limit), now
    else:
        _, tokens, last = entry
        now = max(now, last)
        tokens = min(float(limit), tokens + (now - last) * rate)
    allowed = tokens + EPSILON >= count
    if allowed:
        tokens = max(0.0, tokens - count)
    retry = 0.0 if allowed else max((count - tokens) / rate, MIN_RETRY_SECONDS)
    reset = (limit - tokens) / rate
    decision = Decision(allowed, math.floor(tokens + EPSILON), reset, retry, limit)
    return decision, ((now + reset, tokens, now) if allowed and count else None)


def fixed_window(
    entry: Entry | None, now: float, limit: int, window: float, count: int
) -> tuple[Decision, Entry | None]:
    """At most ``limit`` per window; a window opens at the first request after the last."""
    start, used = now, 0
    if entry is not None and now < entry[1] + window:
        _, start, stored = entry
        used = int(stored)
        now = max(now, start)
    allowed = used + count <= limit
    if allowed:
        used += count
    end = start + window
    retry = 0.0 if allowed else max(end - now, MIN_RETRY_SECONDS)
    reset = end - now if used else 0.0
    decision = Decision(allowed, limit - used, reset, retry, limit)
    return decision, ((end, start, used) if allowed and count else None)


def sliding_window(
    entry: Entry | None, now: float, limit: int, window: float, count: int
) -> tuple[Decision, Entry | None]:
    """Two-window weighted counter: the previous window counts for the share of it
    that still overlaps the last ``window`` seconds (windows aligned to the clock)."""
    index, current, previous = _roll(entry, now, window)
    start = index * window
    now = max(now, start)
    weight = min(1.0, max(0.0, 1.0 - (now - start) / window))
    allowed = previous * weight + current + count <= limit + EPSILON
    if allowed:
        current += count
    remaining = max(0, math.floor(limit - previous * weight - current + EPSILON))
    retry = 0.0
    if not allowed:
        retry = _sliding_retry(
            limit - count, current, previous, weight, start + window - now, window
        )
    reset = _sliding_reset(current, previous, start, window, now)
    decision = Decision(allowed, remaining, reset, retry, limit)
    return decision, ((now + reset, index, current, previous) if allowed and count else None)


def _roll(entry: Entry | None, now: float, window: float) -> tuple[int, int, int]:
    """The window index and the (current, previous) counts as seen at ``now``."""
    index = math.floor(now / window)
    if entry is None:
        return index, 0, 0
    _, stored, current, previous = entry
    stored = int(stored)
    if index <= stored:
        # Same window, or the clock stepped back: stay in the stored window.
        return stored, int(current), int(previous)
    if index == stored + 1:
        return index, 0, int(current)
    return index, 0, 0


def _sliding_reset(current: int, previous: int, start: float, window: float, now: float) -> float:
    """Seconds until both counts have faded out of the sliding window."""
    if current:
        return start + 2 * window - now
    if previous:
        return start + window - now
    return 0.0


def _sliding_retry(
    room: int, current: int, previous: int, weight: float, to_window_end: float, window: float
) -> float:
    """Seconds until ``previous * weight + current`` has fallen to ``room``."""
    if current <= room:
        # The previous window's share fades out within this window.
        target = (room - current) / previous
        wait = (weight - target) * window
    else:
        # Wait for the next window, where this window's count becomes the faded one.
        target = room / current
        wait = to_window_end + (1.0 - target) * window
    return max(wait, MIN_RETRY_SECONDS)


# Keyed by the strategy's storage code: string hashing is cheaper than Enum hashing
# on this path.
STEPS: dict[str, Step] = {
    STRATEGY_CODES[RateLimitStrategy.TOKEN_BUCKET]: token_bucket,
    STRATEGY_CODES[RateLimitStrategy.FIXED_WINDOW]: fixed_window,
    STRATEGY_CODES[RateLimitStrategy.SLIDING_WINDOW]: sliding_window,
}

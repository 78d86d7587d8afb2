"""The seed's single-counter limiters, ``TokenBucket``, ``FixedWindow`` and ``SlidingWindow``.

Each is a small in-process object over one counter, and each decides with the very
step function of ``algorithms`` that :class:`~gifdist.ratelimit.RateLimiter` and its
memory and Redis backends use, so a seed object and a keyed limit under the same
numbers allow and refuse the same requests. The dataclass fields are the seed's and
hold the step's state: the bucket's ``tokens`` and ``last_refill``, the fixed
window's ``count`` and ``window_start``, and the sliding window's ``timestamps``.

``clock`` (keyword only, Unix seconds, default :func:`time.time`) lets a caller
drive time.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from gifdist.ratelimit.algorithms import Entry, fixed_window, sliding_window, token_bucket
from gifdist.ratelimit.rules import Decision

__all__ = ["FixedWindow", "SlidingWindow", "TokenBucket"]

Clock = Callable[[], float]


def _check_limit(value: object, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")


def _check_positive(value: object, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number, not {type(value).__name__}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")


def _check_count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"the count must be an int, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"the count must not be negative, got {value}")
    return value


@dataclass
class TokenBucket:
    """Holds up to ``capacity`` tokens, refilled at ``refill_rate`` tokens per second.

    ``tokens`` starts full. The bucket is the limiter's token bucket with
    ``requests_per_window = capacity`` and ``window_seconds = capacity / refill_rate``.

    Raises:
        TypeError, ValueError: ``capacity`` is not a positive int or ``refill_rate``
            not a positive finite number.
    """

    capacity: int
    refill_rate: float
    tokens: float = field(init=False)
    last_refill: float = field(init=False)
    clock: Clock = field(default=time.time, kw_only=True, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_limit(self.capacity, "capacity")
        _check_positive(self.refill_rate, "refill_rate")
        self.tokens = float(self.capacity)
        self.last_refill = self.clock()

    def consume(self, tokens: int = 1) -> bool:
        """Take ``tokens`` if the bucket holds them (after refilling): True, else False."""
        decision, entry = self._step(tokens)
        if entry is not None:
            _, self.tokens, self.last_refill = entry
        return decision.allowed

    def get_wait_time(self, tokens: int = 1) -> float:
        """Seconds until ``tokens`` are available; 0.0 if they are now."""
        return self._step(tokens)[0].retry_after

    def _step(self, count: int) -> tuple[Decision, Entry | None]:
        window = self.capacity / self.refill_rate
        state = (0.0, self.tokens, self.last_refill)
        return token_bucket(state, self.clock(), self.capacity, window, _check_count(count))


@dataclass
class FixedWindow:
    """At most ``limit`` requests per window of ``window_seconds``.

    A window opens at ``window_start`` (construction time by default) and the next
    one at the first request after it ended.

    Raises:
        TypeError, ValueError: ``limit`` is not a positive int or ``window_seconds``
            not a positive finite number.
    """

    limit: int
    window_seconds: float
    count: int = 0
    window_start: float | None = None
    clock: Clock = field(default=time.time, kw_only=True, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_limit(self.limit, "limit")
        _check_positive(self.window_seconds, "window_seconds")
        if self.window_start is None:
            self.window_start = self.clock()

    def consume(self, count: int = 1) -> bool:
        """Count ``count`` requests if the window has room: True, else False."""
        decision, entry = self._step(count)
        if entry is not None:
            _, self.window_start, used = entry
            self.count = int(used)
        return decision.allowed

    def get_wait_time(self, count: int = 1) -> float:
        """Seconds until ``count`` more requests fit (the window's end); 0.0 if they fit now."""
        return self._step(count)[0].retry_after

    def _step(self, count: int) -> tuple[Decision, Entry | None]:
        start = self.clock() if self.window_start is None else self.window_start
        state = (start + self.window_seconds, start, float(self.count))
        return fixed_window(
            state, self.clock(), self.limit, self.window_seconds, _check_count(count)
        )


@dataclass
class SlidingWindow:
    """At most ``limit`` requests in any ``window_seconds``, by the limiter's sliding window.

    The count is the two-window weighted one the keyed limiter keeps in memory and
    in Redis: the requests of the current clock-aligned window plus the previous
    window's, weighted by the share of it that still overlaps the last
    ``window_seconds``. ``timestamps`` holds the times of the requests it still
    weighs (at most two windows' worth). Unlike the seed's exact log it never needs
    more than two counts per key, which is what makes it cheap to share in Redis;
    in exchange a burst at the very end of one window weighs on the start of the
    next a little more or less than an exact log would.

    Raises:
        TypeError, ValueError: ``limit`` is not a positive int or ``window_seconds``
            not a positive finite number.
    """

    limit: int
    window_seconds: float
    timestamps: deque[float] = field(default_factory=deque)
    clock: Clock = field(default=time.time, kw_only=True, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_limit(self.limit, "limit")
        _check_positive(self.window_seconds, "window_seconds")

    def consume(self, count: int = 1) -> bool:
        """Count ``count`` requests if they fit in the sliding window: True, else False."""
        now = self.clock()
        decision, entry = self._step(now, count)
        if entry is not None:
            self.timestamps.extend([now] * count)
        return decision.allowed

    def get_wait_time(self, count: int = 1) -> float:
        """Seconds until ``count`` more requests fit; 0.0 if they fit now."""
        return self._step(self.clock(), count)[0].retry_after

    def _step(self, now: float, count: int) -> tuple[Decision, Entry | None]:
        count = _check_count(count)
        return sliding_window(self._state(now), now, self.limit, self.window_seconds, count)

    def _state(self, now: float) -> Entry | None:
        """The algorithm's (current, previous) window counts, read from ``timestamps``."""
        window = self.window_seconds
        newest = self.timestamps[-1] if self.timestamps else now
        oldest_weighed = math.floor(max(now, newest) / window) - 1
        while self.timestamps and math.floor(self.timestamps[0] / window) < oldest_weighed:
            self.timestamps.popleft()
        if not self.timestamps:
            return None
        index = math.floor(self.timestamps[-1] / window)
        current = sum(1 for stamp in self.timestamps if math.floor(stamp / window) == index)
        previous = len(self.timestamps) - current
        if previous and math.floor(self.timestamps[0] / window) != index - 1:
            previous = 0  # only possible after the clock stepped back; never over-count
        return (0.0, float(index), float(current), float(previous))

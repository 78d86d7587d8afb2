"""The seed's single-counter limiters: seed fields and behaviour, and agreement with the
keyed limiter, whose algorithm steps they share."""

from __future__ import annotations

import dataclasses
from collections import deque

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gifdist.ratelimit import (
    FixedWindow,
    RateLimitConfig,
    RateLimiter,
    RateLimitStrategy,
    SlidingWindow,
    TokenBucket,
)

T0 = 600_000.0  # a multiple of every window below, so sliding windows start here


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# --- token bucket ---------------------------------------------------------------------


def test_token_bucket_has_the_seed_fields_and_starts_full() -> None:
    clock = Clock()
    bucket = TokenBucket(capacity=10, refill_rate=1.0, clock=clock)
    assert (bucket.capacity, bucket.refill_rate, bucket.tokens) == (10, 1.0, 10.0)
    assert bucket.last_refill == T0
    assert [f.name for f in dataclasses.fields(bucket) if f.init and not f.kw_only] == [
        "capacity",
        "refill_rate",
    ]


def test_token_bucket_consumes_refuses_and_refills() -> None:
    clock = Clock()
    bucket = TokenBucket(capacity=10, refill_rate=10.0, clock=clock)
    assert bucket.consume(5) is True and bucket.tokens == 5.0
    assert bucket.consume(8) is False
    assert bucket.tokens == 5.0  # a refusal takes nothing
    assert bucket.get_wait_time(8) == pytest.approx(0.3)
    clock.now += 0.3
    assert bucket.get_wait_time(8) == 0.0
    assert bucket.consume(8) is True
    assert bucket.tokens == pytest.approx(0.0, abs=1e-6)


def test_token_bucket_never_holds_more_than_its_capacity() -> None:
    clock = Clock()
    bucket = TokenBucket(capacity=3, refill_rate=100.0, clock=clock)
    clock.now += 3600
    assert bucket.consume(3) is True
    assert bucket.consume(1) is False


@pytest.mark.parametrize(
    ("capacity", "refill_rate"), [(0, 1.0), (5, 0.0), (5, -1.0), (5, float("inf"))]
)
def test_token_bucket_refuses_a_bucket_that_could_never_work(
    capacity: int, refill_rate: float
) -> None:
    with pytest.raises(ValueError):
        TokenBucket(capacity=capacity, refill_rate=refill_rate)


def test_a_negative_count_is_refused_not_added() -> None:
    bucket = TokenBucket(capacity=2, refill_rate=1.0)
    with pytest.raises(ValueError, match="negative"):
        bucket.consume(-5)
    assert bucket.tokens == 2.0


# --- fixed window ---------------------------------------------------------------------


def test_fixed_window_has_the_seed_fields() -> None:
    clock = Clock()
    window = FixedWindow(limit=10, window_seconds=60, clock=clock)
    assert (window.limit, window.window_seconds, window.count, window.window_start) == (
        10,
        60,
        0,
        T0,
    )


def test_fixed_window_counts_refuses_and_resets_after_the_window() -> None:
    clock = Clock()
    window = FixedWindow(limit=10, window_seconds=60, clock=clock)
    assert window.consume(8) is True and window.count == 8
    assert window.consume(5) is False and window.count == 8
    clock.now += 45
    assert window.get_wait_time(5) == pytest.approx(15.0)
    assert window.get_wait_time(2) == 0.0
    clock.now += 15
    assert window.consume(5) is True
    assert (window.count, window.window_start) == (5, T0 + 60)


# --- sliding window -------------------------------------------------------------------


def test_sliding_window_keeps_the_timestamps_it_weighs() -> None:
    clock = Clock()
    window = SlidingWindow(limit=10, window_seconds=60, clock=clock)
    assert window.timestamps == deque()
    assert window.consume(5) is True
    assert list(window.timestamps) == [T0] * 5
    assert window.consume(6) is False
    assert len(window.timestamps) == 5


def test_sliding_window_weighs_the_previous_window_by_its_overlap() -> None:
    clock = Clock()
    window = SlidingWindow(limit=10, window_seconds=60, clock=clock)
    assert window.consume(10) is True
    clock.now = T0 + 60 + 30  # half of the previous window still overlaps: 5 of 10 count
    assert window.consume(5) is True
    assert window.consume(1) is False
    wait = window.get_wait_time(1)
    assert 0 < wait <= 60
    clock.now += wait
    assert window.consume(1) is True


def test_sliding_window_forgets_requests_two_windows_old() -> None:
    clock = Clock()
    window = SlidingWindow(limit=3, window_seconds=1, clock=clock)
    window.consume(3)
    clock.now += 2
    assert window.consume(3) is True
    assert len(window.timestamps) == 3


# --- the same algorithm as the keyed limiter ---------------------------------------------

steps = st.lists(
    st.tuples(st.floats(min_value=0, max_value=7, allow_nan=False), st.integers(1, 4)),
    min_size=1,
    max_size=40,
)


def agree(strategy: RateLimitStrategy, counter: object, clock: Clock, sequence: list) -> None:
    config = RateLimitConfig(requests_per_window=4, window_seconds=5, strategy=strategy)
    limiter = RateLimiter(config, enable_per_user=False, clock=clock)
    for delay, count in sequence:
        clock.now += delay
        seed = counter.get_wait_time(count)  # type: ignore[attr-defined]
        allowed = counter.consume(count)  # type: ignore[attr-defined]
        expected, retry_after = limiter.check_rate_limit(ip_address="198.51.100.7", count=count)
        assert allowed is expected
        assert (seed == 0.0) is expected
        if not expected:
            assert seed == pytest.approx(retry_after)


@given(sequence=steps)
def test_token_bucket_decides_like_the_limiter(sequence: list) -> None:
    clock = Clock()
    bucket = TokenBucket(capacity=4, refill_rate=4 / 5, clock=clock)
    agree(RateLimitStrategy.TOKEN_BUCKET, bucket, clock, sequence)


@given(sequence=steps)
def test_fixed_window_decides_like_the_limiter(sequence: list) -> None:
    clock = Clock()
    window = FixedWindow(limit=4, window_seconds=5, clock=clock)
    agree(RateLimitStrategy.FIXED_WINDOW, window, clock, [(0.0, 1), *sequence])


@given(sequence=steps)
def test_sliding_window_decides_like_the_limiter(sequence: list) -> None:
    clock = Clock()
    window = SlidingWindow(limit=4, window_seconds=5, clock=clock)
    agree(RateLimitStrategy.SLIDING_WINDOW, window, clock, sequence)

"""Redis killed and restarted under the service's limiter: fallback, one log, recovery."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
import redis
from servers import free_port, redis_process

from gifdist.ratelimit import LimitRule, RateLimitConfig, RateLimitStrategy, RedisLimitBackend
from gifdist.web.middleware import ratelimits
from gifdist.web.middleware.ratelimits import ResilientBackend

pytestmark = pytest.mark.redis


def rule(name: str = "ip:198.51.100.7") -> LimitRule:
    config = RateLimitConfig(
        requests_per_window=5, window_seconds=60, strategy=RateLimitStrategy.FIXED_WINDOW
    )
    return LimitRule(name, config)


def test_redis_killed_and_restarted_mid_test(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(ratelimits, "RETRY_REDIS_AFTER", 0.2)
    port = free_port()
    outages: list[int] = []
    backend = ResilientBackend(
        RedisLimitBackend.from_url(f"redis://127.0.0.1:{port}/0", key_prefix="outage-test:"),
        refuse_when_down=False,
        on_outage=lambda: outages.append(1),
    )
    caplog.set_level(logging.WARNING, logger="gifdist.ratelimit")
    try:
        with redis_process(port, tmp_path):
            first = backend.hit([rule()])
            assert first is not None and first[0].allowed and first[0].remaining == 4
        # Redis is gone: the limiter keeps answering from in-process counters
        during = [backend.hit([rule()]) for _ in range(7)]
        assert all(d is not None for d in during)
        assert [d[0].allowed for d in during if d] == [True] * 5 + [False] * 2
        time.sleep(0.3)
        assert backend.hit([rule()]) is not None  # retried Redis, still down: still answering
        assert outages == [1]  # one outage, counted once
        down_logs = [r for r in caplog.records if "unreachable" in r.getMessage()]
        assert len(down_logs) == 1

        with redis_process(port, tmp_path):
            time.sleep(0.3)  # past the retry interval
            back = backend.hit([rule()])
            assert back is not None and back[0].allowed
            assert back[0].remaining == 4  # a fresh Redis counts from zero: shared counters again
            keys = redis.Redis(port=port).keys("outage-test:*")
            assert keys, "the decision came from Redis"
            assert any("back" in r.getMessage() for r in caplog.records)
    finally:
        backend.close()


def test_refuse_mode_answers_none_while_redis_is_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ratelimits, "RETRY_REDIS_AFTER", 0.2)
    port = free_port()
    backend = ResilientBackend(
        RedisLimitBackend.from_url(f"redis://127.0.0.1:{port}/0", key_prefix="outage-test:"),
        refuse_when_down=True,
    )
    try:
        assert backend.hit([rule()]) is None
        with redis_process(port, tmp_path):
            time.sleep(0.3)
            decisions = backend.hit([rule()])
            assert decisions is not None and decisions[0].allowed
    finally:
        backend.close()

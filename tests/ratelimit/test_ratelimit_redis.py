"""gifdist.ratelimit against the real Redis server (skipped, or failed when required, if down)."""

from __future__ import annotations

import multiprocessing
import multiprocessing.queues
import multiprocessing.synchronize
import socket
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from gifdist.errors import ServiceUnavailable
from gifdist.ratelimit import (
    LimitBackend,
    LimitRule,
    MemoryLimitBackend,
    RateLimitBackendUnavailable,
    RateLimitConfig,
    RateLimiter,
    RateLimitStrategy,
    RedisLimitBackend,
    create_limit_backend,
)

pytestmark = pytest.mark.redis

ALL_STRATEGIES = list(RateLimitStrategy)
TB, FW, SW = (
    RateLimitStrategy.TOKEN_BUCKET,
    RateLimitStrategy.FIXED_WINDOW,
    RateLimitStrategy.SLIDING_WINDOW,
)


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    """A key prefix no other test uses; its keys are deleted afterwards."""
    value = f"gifdist:test:{uuid.uuid4().hex}:"
    yield value
    client = redis.Redis.from_url(redis_url)
    try:
        names = list(client.scan_iter(match=value + "*", count=1000))
        if names:
            client.delete(*names)
    finally:
        client.close()


@pytest.fixture
def raw(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def backend(redis_url: str, prefix: str) -> Iterator[RedisLimitBackend]:
    store = RedisLimitBackend.from_url(redis_url, key_prefix=prefix)
    yield store
    store.close()


def make_limiter(
    backend: RedisLimitBackend,
    limit: int = 10,
    window: float = 60,
    strategy: RateLimitStrategy = TB,
    **kwargs: object,
) -> RateLimiter:
    return RateLimiter(RateLimitConfig(limit, window, strategy), storage=backend, **kwargs)  # type: ignore[arg-type]


def admitted(
    limiter: RateLimiter, attempts: int, ip_address: str | None = None, user_id: str | None = None
) -> int:
    return sum(limiter.check_rate_limit(ip_address, user_id)[0] for _ in range(attempts))


def stored_keys(raw: redis.Redis, prefix: str) -> list[bytes]:
    return list(raw.scan_iter(match=prefix + "*", count=1000))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- behaviour matches the in-memory backend --------------------------------------


@pytest.mark.parametrize("strategy", ALL_STRATEGIES)
def test_exactly_the_limit_is_allowed(
    backend: RedisLimitBackend, strategy: RateLimitStrategy
) -> None:
    assert admitted(make_limiter(backend, limit=7, strategy=strategy), 15, ip_address="a") == 7


@pytest.mark.parametrize("strategy", ALL_STRATEGIES)
def test_a_burst_decides_like_the_memory_backend(
    backend: RedisLimitBackend, strategy: RateLimitStrategy
) -> None:
    config = RateLimitConfig(10, 3600, strategy)
    memory = MemoryLimitBackend(clock=lambda: 7_200_000.0)
    counts = [3, 4, 5, 2, 1, 1, 6]
    ours = [backend.hit([LimitRule("k", config)], c)[0] for c in counts]
    theirs = [memory.hit([LimitRule("k", config)], c)[0] for c in counts]
    assert [(d.allowed, d.remaining) for d in ours] == [(d.allowed, d.remaining) for d in theirs]


@pytest.mark.parametrize("strategy", ALL_STRATEGIES)
def test_refused_request_consumes_nothing_from_the_other_dimension(
    backend: RedisLimitBackend, strategy: RateLimitStrategy
) -> None:
    limiter = make_limiter(backend, limit=3, strategy=strategy)
    admitted(limiter, 3, ip_address="1.1.1.1")
    assert admitted(limiter, 5, ip_address="1.1.1.1", user_id="alice") == 0
    assert limiter.get_remaining_quota(ip_address="1.1.1.1", user_id="alice") == {
        "ip": 0,
        "user": 3,
    }


@pytest.mark.parametrize("strategy", ALL_STRATEGIES)
def test_waiting_retry_after_lets_the_request_through(
    backend: RedisLimitBackend, strategy: RateLimitStrategy
) -> None:
    limiter = make_limiter(backend, limit=3, window=0.3, strategy=strategy)
    admitted(limiter, 3, ip_address="a")
    allowed, retry_after = limiter.check_rate_limit(ip_address="a")
    assert not allowed and retry_after is not None and 0 < retry_after <= 0.6
    time.sleep(retry_after + 0.02)
    assert limiter.check_rate_limit(ip_address="a")[0] is True


def sleep_into_next_window(raw: redis.Redis, window: float, phase: float) -> None:
    """Sleep until the server clock is ``phase`` (0..1) of the way into the next window."""
    seconds, micros = raw.time()
    into = ((seconds + micros / 1e6) / window) % 1.0
    time.sleep((1.0 - into + phase) * window)


def test_sliding_window_weights_the_previous_window_by_server_time(
    backend: RedisLimitBackend, raw: redis.Redis
) -> None:
    window = 0.5
    limiter = make_limiter(backend, limit=10, window=window, strategy=SW)
    sleep_into_next_window(raw, window, 0.02)
    assert admitted(limiter, 12, ip_address="a") == 10
    sleep_into_next_window(raw, window, 0.5)
    # Half-way into the next window the previous 10 count as about 5.
    assert admitted(limiter, 10, ip_address="a") in {4, 5, 6}


def test_token_bucket_refills_at_the_configured_rate(backend: RedisLimitBackend) -> None:
    limiter = make_limiter(backend, limit=10, window=1.0)
    admitted(limiter, 10, user_id="u")
    assert limiter.check_rate_limit(user_id="u") == (False, pytest.approx(0.1, abs=0.02))
    time.sleep(0.35)
    assert admitted(limiter, 10, user_id="u") == 3


def test_quota_reset_and_clear_work(backend: RedisLimitBackend) -> None:
    limiter = make_limiter(backend, limit=5)
    limiter.check_rate_limit(ip_address="a", user_id="u", count=3)
    assert limiter.get_remaining_quota(ip_address="a", user_id="u") == {"ip": 2, "user": 2}
    limiter.reset_limits(user_id="u")
    assert limiter.get_remaining_quota(ip_address="a", user_id="u") == {"ip": 2, "user": 5}
    limiter.clear_all()
    assert limiter.get_remaining_quota(ip_address="a", user_id="u") == {"ip": 5, "user": 5}


def test_clear_all_leaves_other_namespaces(
    backend: RedisLimitBackend, raw: redis.Redis, prefix: str
) -> None:
    uploads = make_limiter(backend, limit=1, namespace="uploads")
    api = make_limiter(backend, limit=1, namespace="api")
    uploads.check_rate_limit(ip_address="a", user_id="b" * 500)
    api.check_rate_limit(ip_address="a")
    uploads.clear_all()
    assert api.get_remaining_quota(ip_address="a") == {"ip": 0}
    assert len(stored_keys(raw, prefix)) == 1


def test_backend_clear_stays_inside_its_key_prefix(
    redis_url: str, raw: redis.Redis, prefix: str
) -> None:
    rule = LimitRule("k", RateLimitConfig(1, 60))
    mine = RedisLimitBackend.from_url(redis_url, key_prefix=prefix + "a:")
    theirs = RedisLimitBackend.from_url(redis_url, key_prefix=prefix + "a*")
    mine.hit([rule])
    theirs.hit([rule])
    theirs.clear()
    assert mine.peek([rule])[0].remaining == 0
    assert len(stored_keys(raw, prefix)) == 1
    mine.close()
    theirs.close()


@pytest.mark.parametrize(
    "identifier", ["2001:db8::1", "üser-名前", "a:b", "x" * 5000, "\ud800lone", "*?[]\\"]
)
def test_unusual_identifiers_work_and_stay_apart(
    backend: RedisLimitBackend, identifier: str
) -> None:
    limiter = make_limiter(backend, limit=2)
    assert admitted(limiter, 4, ip_address=identifier) == 2
    assert limiter.get_remaining_quota(ip_address=identifier + "0", user_id=identifier) == {
        "ip": 2,
        "user": 2,
    }


# --- Redis specifics --------------------------------------------------------------


@pytest.mark.parametrize("strategy", ALL_STRATEGIES)
def test_counters_expire_when_idle(
    backend: RedisLimitBackend, raw: redis.Redis, prefix: str, strategy: RateLimitStrategy
) -> None:
    limiter = make_limiter(backend, limit=5, window=0.2, strategy=strategy)
    limiter.check_rate_limit(ip_address="a", user_id="u")
    ttls = [raw.pttl(name) for name in stored_keys(raw, prefix)]
    assert len(ttls) == 2 and all(0 < ttl <= 400 for ttl in ttls)
    time.sleep(0.45)
    assert stored_keys(raw, prefix) == []


def test_a_peek_writes_nothing(backend: RedisLimitBackend, raw: redis.Redis, prefix: str) -> None:
    make_limiter(backend).get_remaining_quota(ip_address="a", user_id="u")
    assert stored_keys(raw, prefix) == []


def test_the_app_clock_is_ignored_in_favour_of_server_time(backend: RedisLimitBackend) -> None:
    frozen = lambda: 0.0  # noqa: E731  (an app clock that never moves)
    config = RateLimitConfig(2, 0.3, FW)
    shared = RateLimiter(config, storage=backend, clock=frozen)
    local = RateLimiter(config, storage=MemoryLimitBackend(clock=frozen))
    for limiter in (shared, local):
        assert admitted(limiter, 3, ip_address="a") == 2
    time.sleep(0.35)
    assert shared.check_rate_limit(ip_address="a")[0] is True
    assert local.check_rate_limit(ip_address="a")[0] is False  # the control: frozen time


def test_the_script_is_reloaded_after_a_script_flush(
    backend: RedisLimitBackend, raw: redis.Redis
) -> None:
    limiter = make_limiter(backend, limit=2)
    limiter.check_rate_limit(ip_address="a")
    raw.script_flush()
    assert admitted(limiter, 3, ip_address="a") == 1


def test_redis_backend_satisfies_the_backend_protocol(backend: RedisLimitBackend) -> None:
    assert isinstance(backend, LimitBackend)


def test_storage_url_builds_a_redis_backend(redis_url: str, prefix: str) -> None:
    store = create_limit_backend(redis_url, key_prefix=prefix)
    assert isinstance(store, RedisLimitBackend)
    with RateLimiter(RateLimitConfig(1, 60), storage=store) as limiter:
        assert admitted(limiter, 2, ip_address="a") == 1
    store.close()


# --- exactness across threads and processes ---------------------------------------


LIMIT = 2000
# Long enough that refill or roll-over during the test adds nothing.
LONG_WINDOW = 30 * 24 * 3600.0


def hammer(
    redis_url: str,
    prefix: str,
    strategy: str,
    threads: int,
    attempts: int,
    start: multiprocessing.synchronize.Barrier | None = None,
    results: multiprocessing.queues.Queue[int] | None = None,
) -> int:
    """Admitted requests from ``threads`` threads each trying ``attempts`` times (one process).

    ``start`` lines up several processes before any thread begins; the count is also
    put on ``results`` when given.
    """
    store = RedisLimitBackend.from_url(redis_url, key_prefix=prefix)
    config = RateLimitConfig(LIMIT, LONG_WINDOW, RateLimitStrategy(strategy))
    limiter = RateLimiter(config, storage=store)
    counts: list[int] = []
    together = threading.Barrier(threads)

    def worker() -> None:
        together.wait()
        counts.append(admitted(limiter, attempts, ip_address="hot", user_id="shared"))

    if start is not None:
        start.wait(timeout=60)
    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    store.close()
    if results is not None:
        results.put(sum(counts))
    return sum(counts)


@pytest.mark.parametrize("strategy", ALL_STRATEGIES)
def test_processes_and_threads_together_admit_exactly_the_limit(
    redis_url: str, prefix: str, strategy: RateLimitStrategy
) -> None:
    context = multiprocessing.get_context("spawn")
    processes = 3
    start = context.Barrier(processes)
    results = context.Queue()
    args = (redis_url, prefix, strategy.value, 8, 150, start, results)
    children = [context.Process(target=hammer, args=args) for _ in range(processes)]
    for child in children:
        child.start()
    per_process = [results.get(timeout=60) for _ in children]
    for child in children:
        child.join(timeout=10)
    assert sum(per_process) == LIMIT  # 3 x 8 x 150 = 3600 attempts
    assert all(count > 0 for count in per_process)


# --- outages ----------------------------------------------------------------------


def test_connection_refused_raises_unavailable_quickly() -> None:
    store = RedisLimitBackend.from_url(f"redis://127.0.0.1:{closed_port()}/0")
    limiter = RateLimiter(RateLimitConfig(5, 60), storage=store)
    started = time.monotonic()
    with pytest.raises(RateLimitBackendUnavailable) as caught:
        limiter.check_rate_limit(ip_address="a")
    assert time.monotonic() - started < 1.0
    assert isinstance(caught.value, ServiceUnavailable) and caught.value.status == 503
    for call in (
        lambda: limiter.get_remaining_quota(ip_address="a"),
        lambda: limiter.reset_limits(ip_address="a"),
        limiter.clear_all,
    ):
        with pytest.raises(RateLimitBackendUnavailable):
            call()
    store.close()


def test_a_server_that_never_answers_times_out_as_unavailable() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # connections complete in the backlog; nothing is ever read
        port = silent.getsockname()[1]
        store = RedisLimitBackend.from_url(f"redis://127.0.0.1:{port}/0", socket_timeout=0.2)
        started = time.monotonic()
        with pytest.raises(RateLimitBackendUnavailable):
            store.hit([LimitRule("k", RateLimitConfig(5, 60))])
        assert time.monotonic() - started < 2.0
        store.close()

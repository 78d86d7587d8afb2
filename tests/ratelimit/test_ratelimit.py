"""gifdist.ratelimit with the in-memory backend: seed API, strategies, bounds, threads."""

from __future__ import annotations

import math
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gifdist.ratelimit as ratelimit
from gifdist.errors import ServiceUnavailable, TooManyRequests
from gifdist.ratelimit import (
    Decision,
    LimitBackend,
    LimitRule,
    MemoryLimitBackend,
    RateLimitBackendUnavailable,
    RateLimitConfig,
    RateLimiter,
    RateLimitError,
    RateLimitStrategy,
    combine_decisions,
    create_limit_backend,
)

TB = RateLimitStrategy.TOKEN_BUCKET
FW = RateLimitStrategy.FIXED_WINDOW
SW = RateLimitStrategy.SLIDING_WINDOW
ALL_STRATEGIES = [TB, FW, SW]
# A multiple of every window used below, so sliding windows start exactly here.
T0 = 600_000.0


class FakeClock:
    """A settable clock in seconds."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_limiter(
    clock: FakeClock,
    limit: int = 10,
    window: float = 60,
    strategy: RateLimitStrategy = TB,
    **kwargs: object,
) -> RateLimiter:
    return RateLimiter(RateLimitConfig(limit, window, strategy), clock=clock, **kwargs)  # type: ignore[arg-type]


def admitted(
    limiter: RateLimiter, attempts: int, ip_address: str | None = None, user_id: str | None = None
) -> int:
    return sum(limiter.check_rate_limit(ip_address, user_id)[0] for _ in range(attempts))


# --- the seed API -----------------------------------------------------------------


def test_public_names_are_exported() -> None:
    for name in ratelimit.__all__:
        assert hasattr(ratelimit, name), name
    assert {"RateLimiter", "RateLimitConfig", "RateLimitStrategy", "RateLimitError"} <= set(
        ratelimit.__all__
    )


def test_strategy_enum_values_match_the_seed() -> None:
    assert {s.name: s.value for s in RateLimitStrategy} == {
        "TOKEN_BUCKET": "token_bucket",
        "FIXED_WINDOW": "fixed_window",
        "SLIDING_WINDOW": "sliding_window",
    }


def test_config_defaults_to_token_bucket() -> None:
    assert RateLimitConfig(requests_per_window=100, window_seconds=60).strategy is TB


def test_config_accepts_the_strategy_value_string() -> None:
    assert RateLimitConfig(5, 1, "sliding_window").strategy is SW  # type: ignore[arg-type]


def test_allowed_check_returns_true_and_none(clock: FakeClock) -> None:
    assert make_limiter(clock).check_rate_limit(ip_address="10.0.0.1") == (True, None)


def test_refused_check_returns_false_and_a_positive_wait(clock: FakeClock) -> None:
    limiter = make_limiter(clock, limit=1)
    limiter.check_rate_limit(ip_address="10.0.0.1")
    allowed, retry_after = limiter.check_rate_limit(ip_address="10.0.0.1")
    assert allowed is False
    assert retry_after is not None and retry_after > 0


def test_enforce_raises_rate_limit_error_carrying_retry_after(clock: FakeClock) -> None:
    limiter = make_limiter(clock, limit=1, window=30)
    limiter.enforce_rate_limit(user_id="u")
    with pytest.raises(RateLimitError) as caught:
        limiter.enforce_rate_limit(user_id="u")
    assert caught.value.retry_after == pytest.approx(30.0)
    assert "Retry after 30.0 seconds" in str(caught.value)


def test_rate_limit_error_maps_to_429() -> None:
    error = RateLimitError("slow down", retry_after=2.5)
    assert isinstance(error, TooManyRequests)
    assert (error.status, error.retry_after) == (429, 2.5)


def test_backend_unavailable_maps_to_503() -> None:
    assert issubclass(RateLimitBackendUnavailable, ServiceUnavailable)
    assert RateLimitBackendUnavailable("down").status == 503


# --- token bucket -----------------------------------------------------------------


def test_token_bucket_allows_exactly_the_limit_at_once(clock: FakeClock) -> None:
    assert admitted(make_limiter(clock, limit=10), 25, ip_address="a") == 10


def test_token_bucket_refused_wait_is_one_token_interval(clock: FakeClock) -> None:
    limiter = make_limiter(clock, limit=10, window=60)
    admitted(limiter, 10, ip_address="a")
    assert limiter.check_rate_limit(ip_address="a") == (False, pytest.approx(6.0))


def test_token_bucket_refills_one_token_per_interval(clock: FakeClock) -> None:
    limiter = make_limiter(clock, limit=10, window=60)
    admitted(limiter, 10, ip_address="a")
    clock.advance(5.999)
    assert limiter.check_rate_limit(ip_address="a")[0] is False
    clock.advance(0.001)
    assert admitted(limiter, 3, ip_address="a") == 1


def test_token_bucket_never_holds_more_than_its_capacity(clock: FakeClock) -> None:
    limiter = make_limiter(clock, limit=10, window=60)
    limiter.check_rate_limit(ip_address="a")
    clock.advance(10_000)
    assert limiter.get_remaining_quota(ip_address="a") == {"ip": 10}
    assert admitted(limiter, 20, ip_address="a") == 10


# --- fixed window -----------------------------------------------------------------


def test_fixed_window_allows_exactly_the_limit_per_window(clock: FakeClock) -> None:
    assert admitted(make_limiter(clock, limit=7, strategy=FW), 20, ip_address="a") == 7


def test_fixed_window_waits_for_the_end_of_the_window(clock: FakeClock) -> None:
    limiter = make_limiter(clock, limit=3, window=60, strategy=FW)
    admitted(limiter, 3, ip_address="a")
    clock.advance(45)
    assert limiter.check_rate_limit(ip_address="a") == (False, pytest.approx(15.0))


def test_fixed_window_rolls_over_to_a_full_window(clock: FakeClock) -> None:
    limiter = make_limiter(clock, limit=3, window=60, strategy=FW)
    admitted(limiter, 3, ip_address="a")
    clock.advance(59.999)
    assert limiter.check_rate_limit(ip_address="a")[0] is False
    clock.advance(0.001)
    assert admitted(limiter, 10, ip_address="a") == 3


def test_fixed_window_starts_at_the_first_request(clock: FakeClock) -> None:
    limiter = make_limiter(clock, limit=2, window=60, strategy=FW)
    clock.advance(50)
    admitted(limiter, 2, ip_address="a")
    clock.advance(20)  # past an aligned minute, but inside this key's window
    assert limiter.check_rate_limit(ip_address="a")[0] is False


# --- sliding window ---------------------------------------------------------------


def test_sliding_window_allows_exactly_the_limit_in_one_window(clock: FakeClock) -> None:
    assert admitted(make_limiter(clock, limit=10, strategy=SW), 30, ip_address="a") == 10


def test_sliding_window_weights_the_previous_window_by_its_overlap(clock: FakeClock) -> None:
    limiter = make_limiter(clock, limit=10, window=60, strategy=SW)
    admitted(limiter, 10, ip_address="a")
    clock.advance(90)  # half-way through the next window: the 10 count as 5
    assert admitted(limiter, 10, ip_address="a") == 5


def test_sliding_window_wait_is_when_the_estimate_has_faded(clock: FakeClock) -> None:
    limiter = make_limiter(clock, limit=10, window=60, strategy=SW)
    admitted(limiter, 10, ip_address="a")
    # 10 in this window: the next one must be 6 s in, where 10 * 0.9 + 1 <= 10.
    assert limiter.check_rate_limit(ip_address="a") == (False, pytest.approx(66.0))
    clock.advance(65.9)
    assert limiter.check_rate_limit(ip_address="a")[0] is False
    clock.advance(0.1)
    assert limiter.check_rate_limit(ip_address="a")[0] is True


def test_sliding_window_forgets_everything_after_two_windows(clock: FakeClock) -> None:
    limiter = make_limiter(clock, limit=4, window=60, strategy=SW)
    admitted(limiter, 4, ip_address="a")
    clock.advance(120)
    assert admitted(limiter, 10, ip_address="a") == 4


def test_sliding_window_stores_counts_not_timestamps(clock: FakeClock) -> None:
    backend = MemoryLimitBackend(clock=clock, shards=1)
    rule = LimitRule("k", RateLimitConfig(1000, 60, SW))
    for _ in range(500):
        backend.hit([rule])
    (entry,) = backend._shards[0].entries.values()
    assert len(entry) == 4 and entry[2] == 500


@pytest.mark.parametrize("strategy", ALL_STRATEGIES)
def test_retry_after_is_exactly_when_the_request_passes(
    clock: FakeClock, strategy: RateLimitStrategy
) -> None:
    limiter = make_limiter(clock, limit=5, window=10, strategy=strategy)
    clock.advance(3.3)
    admitted(limiter, 5, ip_address="a")
    allowed, retry_after = limiter.check_rate_limit(ip_address="a", count=2)
    assert not allowed and retry_after is not None
    clock.advance(retry_after * 0.999)
    assert limiter.check_rate_limit(ip_address="a", count=2)[0] is False
    clock.advance(retry_after * 0.001 + 1e-6)
    assert limiter.check_rate_limit(ip_address="a", count=2)[0] is True


@pytest.mark.parametrize("strategy", ALL_STRATEGIES)
def test_a_clock_stepping_back_grants_nothing_extra(
    clock: FakeClock, strategy: RateLimitStrategy
) -> None:
    limiter = make_limiter(clock, limit=3, window=60, strategy=strategy)
    admitted(limiter, 3, ip_address="a")
    clock.advance(-3600)
    assert admitted(limiter, 5, ip_address="a") == 0


# --- dimensions -------------------------------------------------------------------


@pytest.mark.parametrize("strategy", ALL_STRATEGIES)
def test_refused_request_consumes_nothing_from_the_other_dimension(
    clock: FakeClock, strategy: RateLimitStrategy
) -> None:
    limiter = make_limiter(clock, limit=3, strategy=strategy)
    admitted(limiter, 3, ip_address="1.1.1.1")
    assert admitted(limiter, 5, ip_address="1.1.1.1", user_id="alice") == 0
    assert limiter.get_remaining_quota(user_id="alice") == {"user": 3}


def test_a_request_passes_only_if_every_dimension_allows_it(clock: FakeClock) -> None:
    limiter = make_limiter(clock, limit=3)
    admitted(limiter, 3, user_id="alice")
    assert limiter.check_rate_limit(ip_address="2.2.2.2", user_id="alice")[0] is False
    assert limiter.get_remaining_quota(ip_address="2.2.2.2") == {"ip": 3}


def test_refusal_reports_the_longest_wait_of_the_refusing_dimensions(clock: FakeClock) -> None:
    limiter = make_limiter(clock, limit=2, window=60, strategy=FW)
    admitted(limiter, 2, ip_address="ip")
    clock.advance(30)
    admitted(limiter, 2, user_id="u")
    assert limiter.check_rate_limit(ip_address="ip", user_id="u") == (False, pytest.approx(60.0))


def test_ip_and_user_with_the_same_text_do_not_collide(clock: FakeClock) -> None:
    limiter = make_limiter(clock, limit=2)
    admitted(limiter, 2, ip_address="a:b")
    assert limiter.get_remaining_quota(ip_address="a:b", user_id="a:b") == {"ip": 0, "user": 2}


@pytest.mark.parametrize(
    "identifier",
    ["2001:db8::1", "::ffff:192.0.2.1", "üser-名前", "ip:evil", "x" * 5000, "\ud800lone", " "],
)
def test_unusual_identifiers_are_limited_on_their_own(clock: FakeClock, identifier: str) -> None:
    limiter = make_limiter(clock, limit=2)
    assert admitted(limiter, 4, user_id=identifier) == 2
    assert limiter.get_remaining_quota(user_id=identifier + "0") == {"user": 2}


def test_long_keys_differing_only_at_the_end_stay_apart(clock: FakeClock) -> None:
    limiter = make_limiter(clock, limit=1)
    base = "k" * 300
    assert limiter.check_rate_limit(user_id=base + "1")[0] is True
    assert limiter.check_rate_limit(user_id=base + "2")[0] is True


def test_disabled_dimension_is_not_counted(clock: FakeClock) -> None:
    limiter = make_limiter(clock, limit=2, enable_per_ip=False)
    assert admitted(limiter, 5, ip_address="a") == 5
    assert admitted(limiter, 5, ip_address="a", user_id="u") == 2


def test_missing_ip_and_user_is_an_error_not_a_free_pass(clock: FakeClock) -> None:
    limiter = make_limiter(clock)
    with pytest.raises(ValueError, match="ip_address or a user_id"):
        limiter.check_rate_limit()
    with pytest.raises(ValueError):
        limiter.check_rate_limit(ip_address="", user_id="")


def test_with_both_dimensions_disabled_everything_passes(clock: FakeClock) -> None:
    limiter = make_limiter(clock, limit=1, enable_per_ip=False, enable_per_user=False)
    assert admitted(limiter, 3) == 3


def test_non_string_identifier_is_a_type_error(clock: FakeClock) -> None:
    with pytest.raises(TypeError, match="user_id"):
        make_limiter(clock).check_rate_limit(user_id=12345)  # type: ignore[arg-type]


# --- quota, reset, clear ----------------------------------------------------------


def test_quota_of_an_unseen_identifier_is_the_full_limit(clock: FakeClock) -> None:
    limiter = make_limiter(clock, limit=10)
    assert limiter.get_remaining_quota(ip_address="a", user_id="u") == {"ip": 10, "user": 10}


@pytest.mark.parametrize("strategy", ALL_STRATEGIES)
def test_quota_drops_by_the_count_taken(clock: FakeClock, strategy: RateLimitStrategy) -> None:
    limiter = make_limiter(clock, limit=10, strategy=strategy)
    limiter.check_rate_limit(ip_address="a", count=3)
    assert limiter.get_remaining_quota(ip_address="a") == {"ip": 7}


def test_quota_lists_only_dimensions_asked_and_enabled(clock: FakeClock) -> None:
    limiter = make_limiter(clock, enable_per_user=False)
    assert limiter.get_remaining_quota(ip_address="a", user_id="u") == {"ip": 10}
    assert limiter.get_remaining_quota() == {}


def test_quota_peek_takes_nothing(clock: FakeClock) -> None:
    limiter = make_limiter(clock, limit=2)
    for _ in range(5):
        limiter.get_remaining_quota(ip_address="a")
    assert admitted(limiter, 5, ip_address="a") == 2


def test_reset_limits_restores_only_the_given_identifier(clock: FakeClock) -> None:
    limiter = make_limiter(clock, limit=2)
    admitted(limiter, 2, ip_address="a", user_id="u")
    limiter.reset_limits(ip_address="a")
    assert limiter.get_remaining_quota(ip_address="a", user_id="u") == {"ip": 2, "user": 0}


def test_clear_all_restores_every_identifier(clock: FakeClock) -> None:
    limiter = make_limiter(clock, limit=1)
    admitted(limiter, 1, ip_address="a")
    admitted(limiter, 1, user_id="u")
    limiter.clear_all()
    assert limiter.get_remaining_quota(ip_address="a", user_id="u") == {"ip": 1, "user": 1}


def test_clear_all_leaves_other_namespaces_on_a_shared_backend(clock: FakeClock) -> None:
    backend = MemoryLimitBackend(clock=clock)
    config = RateLimitConfig(1, 60)
    uploads = RateLimiter(config, storage=backend, namespace="uploads")
    api = RateLimiter(config, storage=backend, namespace="api")
    uploads.check_rate_limit(ip_address="a")
    api.check_rate_limit(ip_address="a")
    uploads.clear_all()
    assert uploads.get_remaining_quota(ip_address="a") == {"ip": 1}
    assert api.get_remaining_quota(ip_address="a") == {"ip": 0}


def test_clear_all_also_finds_long_identifiers(clock: FakeClock) -> None:
    limiter = make_limiter(clock, limit=1)
    admitted(limiter, 1, user_id="z" * 1000)
    limiter.clear_all()
    assert len(limiter.backend) == 0  # type: ignore[arg-type]


# --- count ------------------------------------------------------------------------


@pytest.mark.parametrize("count", [0, -1])
def test_count_must_be_positive(clock: FakeClock, count: int) -> None:
    with pytest.raises(ValueError, match="count"):
        make_limiter(clock).check_rate_limit(ip_address="a", count=count)


@pytest.mark.parametrize("count", [1.5, True, "2"])
def test_count_must_be_an_int(clock: FakeClock, count: object) -> None:
    with pytest.raises(TypeError, match="count"):
        make_limiter(clock).check_rate_limit(ip_address="a", count=count)  # type: ignore[arg-type]


@pytest.mark.parametrize("strategy", ALL_STRATEGIES)
def test_count_over_the_whole_limit_is_a_value_error_and_takes_nothing(
    clock: FakeClock, strategy: RateLimitStrategy
) -> None:
    limiter = make_limiter(clock, limit=5, strategy=strategy)
    with pytest.raises(ValueError, match="could never be allowed"):
        limiter.check_rate_limit(ip_address="a", count=6)
    assert limiter.get_remaining_quota(ip_address="a") == {"ip": 5}


def test_count_equal_to_the_limit_is_allowed_once(clock: FakeClock) -> None:
    limiter = make_limiter(clock, limit=5)
    assert limiter.check_rate_limit(ip_address="a", count=5)[0] is True
    assert limiter.check_rate_limit(ip_address="a", count=5)[0] is False


# --- configuration ----------------------------------------------------------------


@pytest.mark.parametrize("limit", [0, -1, 2**60])
def test_config_rejects_out_of_range_limits(limit: int) -> None:
    with pytest.raises(ValueError, match="requests_per_window"):
        RateLimitConfig(limit, 60)


@pytest.mark.parametrize("window", [0, -5, math.nan, math.inf, -math.inf, 0.0001, 1e12])
def test_config_rejects_bad_windows(window: float) -> None:
    with pytest.raises(ValueError, match="window_seconds"):
        RateLimitConfig(10, window)


def test_config_rejects_a_fractional_limit() -> None:
    with pytest.raises(ValueError, match="whole number"):
        RateLimitConfig(2.5, 60)  # type: ignore[arg-type]


@pytest.mark.parametrize(("limit", "window"), [("10", 60), (10, "60"), (True, 60), (10, None)])
def test_config_rejects_non_numbers(limit: object, window: object) -> None:
    with pytest.raises(TypeError):
        RateLimitConfig(limit, window)  # type: ignore[arg-type]


def test_config_rejects_an_unknown_strategy() -> None:
    with pytest.raises(ValueError, match="strategy"):
        RateLimitConfig(10, 60, "leaky")  # type: ignore[arg-type]


def test_config_is_immutable() -> None:
    config = RateLimitConfig(10, 60)
    with pytest.raises(AttributeError):
        config.requests_per_window = 11  # type: ignore[misc]


def test_fractional_windows_are_accepted(clock: FakeClock) -> None:
    limiter = make_limiter(clock, limit=2, window=0.5, strategy=SW)
    assert admitted(limiter, 3, ip_address="a") == 2
    clock.advance(1.0)
    assert admitted(limiter, 3, ip_address="a") == 2


@pytest.mark.parametrize("namespace", ["", "a:b", "x" * 49, "späce"])
def test_bad_namespace_is_rejected(namespace: str) -> None:
    with pytest.raises(ValueError, match="namespace"):
        RateLimiter(RateLimitConfig(1, 1), namespace=namespace)


@pytest.mark.parametrize("url", ["", "memory:", "mem://", "http://x", "memory://?x=1", "REDIS"])
def test_unknown_storage_url_is_rejected(url: str) -> None:
    with pytest.raises(ValueError, match="storage"):
        create_limit_backend(url)


@given(
    st.text(max_size=60).filter(lambda s: not s.startswith(("redis://", "rediss://", "unix://")))
)
def test_storage_url_parser_returns_memory_or_raises_value_error(url: str) -> None:
    try:
        backend = create_limit_backend(url)
    except ValueError:
        return
    assert url == "memory://" and isinstance(backend, MemoryLimitBackend)


def test_memory_backend_satisfies_the_backend_protocol() -> None:
    assert isinstance(MemoryLimitBackend(), LimitBackend)


def test_module_imports_and_runs_without_redis_installed() -> None:
    code = (
        "import sys; sys.modules['redis'] = None\n"
        "from gifdist.ratelimit.limiter import RateLimiter, RateLimitConfig, create_limit_backend\n"
        "assert RateLimiter(RateLimitConfig(1, 1)).check_rate_limit('a')[0]\n"
        "try:\n"
        "    create_limit_backend('redis://127.0.0.1:6379/0')\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert "pip install 'gifdist[redis]'" in result.stdout


# --- the generic keyed API --------------------------------------------------------


def test_hit_reports_limit_remaining_and_reset(clock: FakeClock) -> None:
    limiter = make_limiter(clock, limit=4, window=60, strategy=FW)
    assert limiter.hit("route:/upload", count=3) == Decision(True, 1, 60.0, 0.0, 4)
    clock.advance(20)
    assert limiter.hit("route:/upload", count=2) == Decision(False, 1, 40.0, 40.0, 4)


def test_hit_keys_are_apart_from_ip_and_user_keys(clock: FakeClock) -> None:
    limiter = make_limiter(clock, limit=1)
    limiter.hit("a")
    assert limiter.check_rate_limit(ip_address="a", user_id="a")[0] is True


def test_hit_rejects_an_empty_key(clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="key"):
        make_limiter(clock).hit("")


def test_backend_applies_rules_with_different_configs_all_or_nothing(clock: FakeClock) -> None:
    backend = MemoryLimitBackend(clock=clock)
    burst = LimitRule("ip:a", RateLimitConfig(5, 1, FW))
    hourly = LimitRule("ip:a", RateLimitConfig(2, 3600, SW))
    results = [combine_decisions(backend.hit([burst, hourly])).allowed for _ in range(4)]
    assert results == [True, True, False, False]
    assert [d.remaining for d in backend.peek([burst, hourly])] == [3, 0]


def test_backend_rejects_the_same_key_twice_in_one_hit(clock: FakeClock) -> None:
    rule = LimitRule("k", RateLimitConfig(5, 1))
    with pytest.raises(ValueError, match="twice"):
        MemoryLimitBackend(clock=clock).hit([rule, rule])


def test_combined_decision_follows_the_binding_rule() -> None:
    loose = Decision(True, 50, 10.0, 0.0, 100)
    tight = Decision(True, 2, 30.0, 0.0, 5)
    refused_soon = Decision(False, 0, 5.0, 5.0, 3)
    refused_late = Decision(False, 0, 90.0, 90.0, 10)
    assert combine_decisions([loose, tight]) == tight
    assert combine_decisions([loose, refused_soon, refused_late]) == refused_late
    with pytest.raises(ValueError):
        combine_decisions([])


# --- memory bounds ----------------------------------------------------------------


def test_a_flood_of_distinct_keys_stays_under_the_cap(clock: FakeClock) -> None:
    backend = MemoryLimitBackend(clock=clock)
    limiter = RateLimiter(RateLimitConfig(5, 3600), enable_per_user=False, storage=backend)
    for i in range(200_000):
        limiter.check_rate_limit(ip_address=f"10.{i >> 16}.{(i >> 8) & 255}.{i & 255}")
        if i % 25_000 == 0:
            assert len(backend) <= backend.max_keys
    assert 0 < len(backend) <= backend.max_keys == 100_000


def test_the_least_recently_seen_key_is_evicted_first(clock: FakeClock) -> None:
    backend = MemoryLimitBackend(max_keys=3, shards=1, clock=clock)
    rule = lambda key: LimitRule(key, RateLimitConfig(1, 3600))  # noqa: E731
    for key in ["a", "b", "c"]:
        backend.hit([rule(key)])
    backend.hit([rule("a")])  # refused, but seen: "b" is now the oldest
    backend.hit([rule("d")])
    assert [d.remaining for d in backend.peek([rule(k) for k in "abcd"])] == [0, 1, 0, 0]


def test_idle_counters_are_swept_once_back_to_their_initial_state(clock: FakeClock) -> None:
    backend = MemoryLimitBackend(shards=1, clock=clock)
    config = RateLimitConfig(10, 60)
    for i in range(100):
        backend.hit([LimitRule(f"old{i}", config)])
    clock.advance(7)  # one token back in 6 s: every old bucket is full again
    for i in range(60):
        backend.hit([LimitRule(f"new{i}", config)])
    assert len(backend) == 60


def test_max_keys_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_keys"):
        MemoryLimitBackend(max_keys=0)


# --- threads ----------------------------------------------------------------------


@pytest.fixture
def frequent_thread_switches() -> Iterator[None]:
    """Make the interpreter switch threads every few bytecodes so races show up."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


@pytest.mark.parametrize("strategy", ALL_STRATEGIES)
@pytest.mark.usefixtures("frequent_thread_switches")
def test_sixteen_threads_on_one_key_admit_exactly_the_limit(
    clock: FakeClock, strategy: RateLimitStrategy
) -> None:
    limiter = make_limiter(clock, limit=1000, window=60, strategy=strategy)
    start = threading.Barrier(16)
    counts: list[int] = []

    def worker() -> None:
        start.wait()
        counts.append(admitted(limiter, 200, ip_address="hot", user_id="u"))

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 1000


@pytest.mark.usefixtures("frequent_thread_switches")
def test_threads_on_overlapping_key_pairs_never_deadlock_or_overadmit(clock: FakeClock) -> None:
    limiter = make_limiter(clock, limit=300, window=60)
    counts: list[int] = []

    def worker(n: int) -> None:
        # Pairs (ip, user) cross each other's shards in both orders.
        counts.append(admitted(limiter, 400, ip_address=f"ip{n % 2}", user_id=f"u{(n // 2) % 2}"))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert sum(counts) <= 2 * 300


# --- properties over hostile input and arbitrary timing ---------------------------


@settings(max_examples=150, deadline=None)
@given(identifier=st.text(min_size=1, max_size=300), limit=st.integers(1, 20))
def test_any_identifier_gets_exactly_its_limit(identifier: str, limit: int) -> None:
    limiter = RateLimiter(RateLimitConfig(limit, 60), clock=FakeClock())
    assert admitted(limiter, limit + 3, ip_address=identifier) == limit
    assert limiter.get_remaining_quota(user_id=identifier) == {"user": limit}


@settings(max_examples=200, deadline=None)
@given(
    strategy=st.sampled_from(ALL_STRATEGIES),
    limit=st.integers(1, 8),
    steps=st.lists(
        st.tuples(st.floats(0, 7, allow_nan=False), st.integers(1, 8)), min_size=1, max_size=60
    ),
)
def test_no_window_length_interval_admits_more_than_twice_the_limit(
    strategy: RateLimitStrategy, limit: int, steps: list[tuple[float, int]]
) -> None:
    clock = FakeClock()
    window = 5.0
    limiter = RateLimiter(RateLimitConfig(limit, window, strategy), clock=clock)
    taken: list[tuple[float, int]] = []
    for delay, count in steps:
        clock.advance(delay)
        if count <= limit and limiter.check_rate_limit(ip_address="a", count=count)[0]:
            taken.append((clock.now, count))
    for start, _ in taken:
        in_window = sum(c for t, c in taken if start <= t < start + window)
        assert in_window <= 2 * limit
    if strategy is not TB:
        by_window: dict[int, int] = {}
        for t, c in taken:
            by_window[math.floor(t / window)] = by_window.get(math.floor(t / window), 0) + c
        if strategy is SW:
            assert max(by_window.values(), default=0) <= limit


@settings(max_examples=150, deadline=None)
@given(
    limit=st.integers(1, 10),
    steps=st.lists(st.tuples(st.floats(0, 30, allow_nan=False), st.integers(1, 10)), max_size=50),
)
def test_token_bucket_never_admits_more_than_capacity_plus_refill(
    limit: int, steps: list[tuple[float, int]]
) -> None:
    clock = FakeClock()
    window = 10.0
    limiter = RateLimiter(RateLimitConfig(limit, window, TB), clock=clock)
    total = 0
    for delay, count in steps:
        clock.advance(delay)
        if count <= limit and limiter.check_rate_limit(user_id="u", count=count)[0]:
            total += count
        assert total <= limit + (clock.now - T0) * limit / window + 1e-6


@settings(max_examples=100, deadline=None)
@given(
    strategy=st.sampled_from(ALL_STRATEGIES),
    pre=st.integers(0, 6),
    count=st.integers(1, 6),
    delay=st.floats(0, 20, allow_nan=False),
)
def test_a_refused_hit_leaves_the_state_unchanged(
    strategy: RateLimitStrategy, pre: int, count: int, delay: float
) -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimitConfig(6, 10, strategy), clock=clock)
    for _ in range(pre):
        limiter.check_rate_limit(ip_address="a", user_id="u")
    clock.advance(delay)
    before = limiter.get_remaining_quota(ip_address="a", user_id="b")
    if not limiter.check_rate_limit(ip_address="a", user_id="b", count=count)[0]:
        assert limiter.get_remaining_quota(ip_address="a", user_id="b") == before

"""Rate-limit checks per second, in process and through Redis, and memory per key.

Redis figures sit next to raw INCR round trips measured in the same run, which is
the floor for anything that needs one round trip per check.

Usage: python bench/ratelimit.py [--redis redis://127.0.0.1:6379/0] [--checks 50000]
"""

from __future__ import annotations

import argparse
import gc
import threading
import time
import tracemalloc
import uuid
from collections.abc import Callable

import redis

from gifdist.ratelimit import (
    MemoryLimitBackend,
    RateLimitConfig,
    RateLimiter,
    RateLimitStrategy,
    RedisLimitBackend,
)
from gifdist.ratelimit.redis_store import LUA_HIT

KEYS = 10_000
THREADS = 8
PIPELINE = 100


def rate(calls: int, run: Callable[[], None]) -> float:
    started = time.perf_counter()
    run()
    return calls / (time.perf_counter() - started)


def ip_keys(count: int) -> list[str]:
    return [f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}" for i in range(count)]


def in_process(checks: int) -> None:
    keys = ip_keys(KEYS)
    print(f"in process, {KEYS:,} keys, {checks:,} checks each")
    for strategy in RateLimitStrategy:
        config = RateLimitConfig(1_000_000, 60, strategy)
        ip_only = RateLimiter(config, enable_per_user=False)
        both = RateLimiter(config)

        def one_dimension(limiter: RateLimiter = ip_only) -> None:
            for i in range(checks):
                limiter.check_rate_limit(ip_address=keys[i % KEYS])

        def two_dimensions(limiter: RateLimiter = both) -> None:
            for i in range(checks):
                limiter.check_rate_limit(ip_address=keys[i % KEYS], user_id=keys[(i * 7) % KEYS])

        print(
            f"  {strategy.value:<15} {rate(checks, one_dimension):>10,.0f} checks/s (ip)"
            f"  {rate(checks, two_dimensions):>10,.0f} checks/s (ip+user)"
        )


def threaded(calls_per_thread: int, work: Callable[[int], None]) -> float:
    threads = [threading.Thread(target=work, args=(calls_per_thread,)) for _ in range(THREADS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return THREADS * calls_per_thread / (time.perf_counter() - started)


def redis_baseline(client: redis.Redis, prefix: str, checks: int) -> None:
    key = prefix + "incr"

    def sequential() -> None:
        for _ in range(checks):
            client.incr(key)

    def pipelined() -> None:
        for _ in range(checks // PIPELINE):
            pipe = client.pipeline(transaction=False)
            for _ in range(PIPELINE):
                pipe.incr(key)
            pipe.execute()

    def per_thread(n: int) -> None:
        for _ in range(n):
            client.incr(key)

    print("raw Redis INCR (the one-round-trip floor)")
    print(f"  sequential      {rate(checks, sequential):>10,.0f} ops/s")
    print(f"  {THREADS} threads       {threaded(checks // THREADS, per_thread):>10,.0f} ops/s")
    print(f"  pipelined x{PIPELINE}  {rate(checks, pipelined):>10,.0f} ops/s")


def through_redis(url: str, client: redis.Redis, prefix: str, checks: int) -> None:
    keys = ip_keys(KEYS)
    print(f"through Redis (one Lua script per check), {KEYS:,} keys")
    script = client.register_script(LUA_HIT)
    for strategy in RateLimitStrategy:
        backend = RedisLimitBackend.from_url(url, key_prefix=f"{prefix}{strategy.value}:")
        limiter = RateLimiter(RateLimitConfig(1_000_000, 60, strategy), storage=backend)

        def sequential(limiter: RateLimiter = limiter) -> None:
            for i in range(checks):
                limiter.check_rate_limit(ip_address=keys[i % KEYS], user_id="u")

        def per_thread(n: int, limiter: RateLimiter = limiter) -> None:
            for i in range(n):
                limiter.check_rate_limit(ip_address=keys[i % KEYS], user_id="u")

        code = {"token_bucket": "tb", "fixed_window": "fw", "sliding_window": "sw"}[strategy.value]

        def pipelined(code: str = code) -> None:
            for batch in range(checks // PIPELINE):
                pipe = client.pipeline(transaction=False)
                for i in range(PIPELINE):
                    name = f"{prefix}raw:{code}:{keys[(batch * PIPELINE + i) % KEYS]}"
                    script(keys=[name], args=[1, code, 1_000_000, "60.0"], client=pipe)
                pipe.execute()

        print(
            f"  {strategy.value:<15} {rate(checks, sequential):>10,.0f} checks/s sequential"
            f"  {threaded(checks // THREADS, per_thread):>10,.0f} with {THREADS} threads"
            f"  {rate(checks, pipelined):>10,.0f} pipelined x{PIPELINE} (raw script)"
        )
        backend.close()


def memory_after_distinct_keys(total: int, max_keys: int) -> None:
    gc.collect()
    tracemalloc.start()
    backend = MemoryLimitBackend(max_keys=max_keys)
    # A day-long window: no counter goes idle (and is swept) during the measurement.
    limiter = RateLimiter(RateLimitConfig(10, 86_400), enable_per_user=False, storage=backend)
    for i in range(total):
        limiter.check_rate_limit(ip_address=f"k{i}")
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"  max_keys={max_keys:>9,}: {len(backend):>9,} keys held, {current / 2**20:7.1f} MiB "
        f"now, {peak / 2**20:7.1f} MiB peak, {current / max(len(backend), 1):5.0f} B/key"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--checks", type=int, default=50_000)
    parser.add_argument("--distinct-keys", type=int, default=1_000_000)
    args = parser.parse_args()

    in_process(args.checks * 4)
    client = redis.Redis.from_url(args.redis)
    prefix = f"gifdist:bench:{uuid.uuid4().hex[:8]}:"
    try:
        redis_baseline(client, prefix, args.checks)
        through_redis(args.redis, client, prefix, args.checks)
    except redis.ConnectionError as exc:
        print(f"Redis at {args.redis} is not reachable ({exc}); skipped the Redis figures")
    finally:
        names = list(client.scan_iter(match=prefix + "*", count=1000))
        for start in range(0, len(names), 1000):
            client.unlink(*names[start : start + 1000])
        client.close()

    print(f"memory (tracemalloc) after {args.distinct_keys:,} distinct keys, memory backend")
    memory_after_distinct_keys(args.distinct_keys, max_keys=100_000)
    memory_after_distinct_keys(args.distinct_keys, max_keys=args.distinct_keys)


if __name__ == "__main__":
    main()

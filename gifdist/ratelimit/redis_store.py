"""Rate-limit counters in Redis, shared by every app node.

Each hit is one atomic round trip: a Lua script (EVALSHA, reloaded on NOSCRIPT)
reads every rule's counter, decides, and writes only if all rules allow the
request. It uses the Redis server's clock, so app nodes with skewed clocks agree,
and sets a PEXPIRE on each counter so idle keys disappear by themselves.

Multi-key scripts need every key in one hash slot, so Redis Cluster is not
supported; use a single primary (with replicas or Sentinel) for rate limits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from gifdist.ratelimit.rules import (
    STRATEGY_CODES,
    Decision,
    LimitRule,
    RateLimitBackendUnavailable,
    check_hit,
    check_key_prefix,
    check_rules,
    storage_key,
)

if TYPE_CHECKING:
    import redis

DEFAULT_KEY_PREFIX = "gifdist:rl:"
# The limiter sits on the request path: a Redis that does not answer within this
# long is treated as down rather than making every request wait.
DEFAULT_SOCKET_TIMEOUT = 0.5
INSTALL_HINT = "Redis rate limiting needs the redis package: pip install 'gifdist[redis]'"

# KEYS: one counter per rule. ARGV: count, then (strategy code, limit, window) per rule.
# Returns (allowed, remaining, reset_after_us, retry_after_us) per rule. Numbers are
# written with %.17g because Redis would otherwise keep only 14 significant digits.
LUA_HIT = r"""
local EPS = 1e-9
local MIN_RETRY = 1e-6
local count = tonumber(ARGV[1])

local function fmt(x) return string.format('%.17g', x) end

local function token_bucket(key, limit, window, now)
  local rate = limit / window
  local s = redis.call('HMGET', key, 't', 'l')
  local tokens, last = tonumber(s[1]), tonumber(s[2])
  if tokens == nil or last == nil then
    tokens, last = limit, now
  else
    now = math.max(now, last)
    tokens = math.min(limit, tokens + (now - last) * rate)
  end
  local allowed = tokens + EPS >= count
  if allowed then tokens = math.max(0, tokens - count) end
  local retry = 0
  if not allowed then retry = math.max((count - tokens) / rate, MIN_RETRY) end
  local reset = (limit - tokens) / rate
  return allowed, math.floor(tokens + EPS), reset, retry, {'t', fmt(tokens), 'l', fmt(now)}
end

local function fixed_window(key, limit, window, now)
  local s = redis.call('HMGET', key, 's', 'n')
  local start, used = tonumber(s[1]), tonumber(s[2])
  if start == nil or used == nil or now >= start + window then
    start, used = now, 0
  else
    now = math.max(now, start)
  end
  local allowed = used + count <= limit
  if allowed then used = used + count end
  local finish = start + window
  local retry = 0
  if not allowed then retry = math.max(finish - now, MIN_RETRY) end
  local reset = 0
  if used > 0 then reset = finish - now end
  return allowed, limit - used, reset, retry, {'s', fmt(start), 'n', fmt(used)}
end

local function sliding_window(key, limit, window, now)
  local index = math.floor(now / window)
  local s = redis.call('HMGET', key, 'i', 'c', 'p')
  local stored, cur, prev = tonumber(s[1]), tonumber(s[2]), tonumber(s[3])
  if stored == nil or cur == nil or prev == nil then
    cur, prev = 0, 0
  elseif index <= stored then
    index = stored
  elseif index == stored + 1 then
    prev, cur = cur, 0
  else
    prev, cur = 0, 0
  end
  local start = index * window
  now = math.max(now, start)
  local weight = math.min(1, math.max(0, 1 - (now - start) / window))
  local allowed = prev * weight + cur + count <= limit + EPS
  if allowed then cur = cur + count end
  local remaining = math.max(0, math.floor(limit - prev * weight - cur + EPS))
  local retry = 0
  if not allowed then
    local room = limit - count
    if cur <= room then
      retry = (weight - (room - cur) / prev) * window
    else
      retry = (start + window - now) + (1 - room / cur) * window
    end
    retry = math.max(retry, MIN_RETRY)
  end
  local reset = 0
  if cur > 0 then
    reset = start + 2 * window - now
  elseif prev > 0 then
    reset = start + window - now
  end
  return allowed, remaining, reset, retry, {'i', fmt(index), 'c', fmt(cur), 'p', fmt(prev)}
end

local steps = {tb = token_bucket, fw = fixed_window, sw = sliding_window}

local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local out, writes, admitted = {}, {}, true
for i = 1, #KEYS do
  local step = steps[ARGV[3 * i - 1]]
  local limit, window = tonumber(ARGV[3 * i]), tonumber(ARGV[3 * i + 1])
  local allowed, remaining, reset, retry, fields = step(KEYS[i], limit, window, now)
  if not allowed then admitted = false end
  writes[i] = {fields, reset}
  out[#out + 1] = allowed and 1 or 0
  out[#out + 1] = remaining
  out[#out + 1] = math.ceil(reset * 1000000)
  out[#out + 1] = math.ceil(retry * 1000000)
end
if admitted and count > 0 then
  for i = 1, #KEYS do
    redis.call('HSET', KEYS[i], unpack(writes[i][1]))
    redis.call('PEXPIRE', KEYS[i], math.max(1, math.ceil(writes[i][2] * 1000)))
  end
end
return out
"""


def _import_redis() -> Any:
    try:
        import redis
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    return redis


def _glob_escape(text: str) -> str:
    return "".join("\\" + char if char in "\\*?[]" else char for char in text)


class RedisLimitBackend:
    """Counters in Redis (``redis://host:port/db``), one atomic script per hit.

    ``client`` is a ``redis.Redis``; it is shared, not closed, unless the backend
    made it itself (:meth:`from_url`). Every key is stored under ``key_prefix``.

    Raises:
        ImportError: the redis package is not installed.
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        owns_client: bool = False,
    ) -> None:
        redis_module = _import_redis()
        if not isinstance(key_prefix, str):
            raise TypeError("key_prefix must be a string")
        self.key_prefix = key_prefix
        self._client = client
        self._owns_client = owns_client
        self._script = client.register_script(LUA_HIT)
        self._redis_error: type[Exception] = redis_module.exceptions.RedisError

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        socket_timeout: float = DEFAULT_SOCKET_TIMEOUT,
        socket_connect_timeout: float = DEFAULT_SOCKET_TIMEOUT,
    ) -> RedisLimitBackend:
        """A backend with its own connection pool for ``url``.

        Connections time out quickly and are retried once without backoff (for a
        pooled connection the server closed), so an outage surfaces at once.

        Raises:
            ImportError: the redis package is not installed.
            ValueError: ``url`` is not a valid Redis URL.
        """
        redis_module = _import_redis()
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        client = redis_module.Redis.from_url(
            url,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_connect_timeout,
            retry=Retry(NoBackoff(), 1),
        )
        return cls(client, key_prefix=key_prefix, owns_client=True)

    def hit(self, rules: Sequence[LimitRule], count: int = 1) -> list[Decision]:
        """Take ``count`` from every rule's counter if all allow it, else take nothing.

        Raises:
            TypeError, ValueError: see :func:`check_hit`.
            RateLimitBackendUnavailable: Redis did not answer or refused the script.
        """
        check_hit(rules, count)
        return self._run(rules, count)

    def peek(self, rules: Sequence[LimitRule]) -> list[Decision]:
        """Each rule's state now, without taking anything.

        Raises:
            RateLimitBackendUnavailable: Redis did not answer.
        """
        check_rules(rules)
        return self._run(rules, 0)

    def reset(self, keys: Iterable[str]) -> None:
        """Forget the counters of ``keys`` under every strategy.

        Raises:
            RateLimitBackendUnavailable: Redis did not answer.
        """
        names = [self._name(code, key) for key in keys for code in STRATEGY_CODES.values()]
        if names:
            self._call(self._client.unlink, *names)

    def clear(self, key_prefix: str = "") -> None:
        """Forget every counter (under this backend's prefix) whose key starts with ``key_prefix``.

        Raises:
            RateLimitBackendUnavailable: Redis did not answer.
        """
        check_key_prefix(key_prefix)
        pattern = f"{_glob_escape(self.key_prefix)}??[:#]{_glob_escape(key_prefix)}*"
        self._call(self._unlink_matching, _encode(pattern))

    def close(self) -> None:
        """Close the connection pool if this backend created it."""
        if self._owns_client:
            self._client.close()

    def _unlink_matching(self, pattern: bytes) -> None:
        batch: list[bytes] = []
        for name in self._client.scan_iter(match=pattern, count=1000):
            batch.append(name)
            if len(batch) >= 1000:
                self._client.unlink(*batch)
                batch.clear()
        if batch:
            self._client.unlink(*batch)

    def _name(self, code: str, key: str) -> bytes:
        return _encode(self.key_prefix + storage_key(code, key))

    def _run(self, rules: Sequence[LimitRule], count: int) -> list[Decision]:
        names: list[bytes] = []
        args: list[str | int] = [count]
        for rule in rules:
            config = rule.config
            code = STRATEGY_CODES[config.strategy]
            names.append(self._name(code, rule.key))
            args += [code, config.requests_per_window, repr(float(config.window_seconds))]
        raw = self._call(self._script, keys=names, args=args)
        return [
            Decision(
                allowed=bool(raw[4 * i]),
                remaining=int(raw[4 * i + 1]),
                reset_after=raw[4 * i + 2] / 1_000_000,
                retry_after=raw[4 * i + 3] / 1_000_000,
                limit=rule.config.requests_per_window,
            )
            for i, rule in enumerate(rules)
        ]

    def _call(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except self._redis_error as exc:
            raise RateLimitBackendUnavailable(f"rate-limit storage (Redis) failed: {exc}") from exc


def _encode(text: str) -> bytes:
    # Identifiers may hold lone surrogates (from hostile input); keep them distinct.
    return text.encode("utf-8", "surrogatepass")

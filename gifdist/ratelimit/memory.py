"""In-process rate-limit counters: thread-safe and bounded in memory.

Counters live in shards, each an LRU-ordered dict behind its own lock. A counter
is dropped once it has gone back to its initial state (nothing lost), a few
expired ones are swept on every hit, and each shard holds at most its share of
``max_keys``: under a flood of distinct keys the least recently seen counters are
forgotten first, which can only ever be generous to those keys, never strict.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence

from gifdist.ratelimit.algorithms import STEPS, Entry
from gifdist.ratelimit.rules import (
    STRATEGY_CODES,
    Decision,
    LimitRule,
    check_hit,
    check_key_prefix,
    check_rules,
    matches_prefix,
    storage_key,
)

DEFAULT_MAX_KEYS = 100_000
DEFAULT_SHARDS = 16
# Expired entries looked at from the LRU end on each hit: enough to keep up with
# the rate at which new keys arrive, small enough to cost nothing.
SWEEP_PER_HIT = 2


class _Shard:
    """One lock and the LRU-ordered counters it guards."""

    __slots__ = ("capacity", "entries", "lock")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.entries: OrderedDict[str, Entry] = OrderedDict()
        self.lock = threading.Lock()

    def live(self, key: str, now: float) -> Entry | None:
        entry = self.entries.get(key)
        if entry is None or entry[0] <= now:
            return None
        return entry

    def touch(self, key: str) -> None:
        if key in self.entries:
            self.entries.move_to_end(key)

    def store(self, key: str, entry: Entry) -> None:
        self.entries[key] = entry
        self.entries.move_to_end(key)
        while len(self.entries) > self.capacity:
            self.entries.popitem(last=False)

    def sweep(self, now: float) -> None:
        entries = self.entries
        for _ in range(SWEEP_PER_HIT):
            if not entries:
                return
            oldest = next(iter(entries))
            if entries[oldest][0] > now:
                return
            del entries[oldest]


class MemoryLimitBackend:
    """Counters in this process (``memory://``): the default and the fallback.

    ``clock`` returns seconds (default :func:`time.monotonic`); tests inject one.

    Raises:
        ValueError: ``max_keys`` or ``shards`` is not a positive int.
    """

    def __init__(
        self,
        *,
        max_keys: int = DEFAULT_MAX_KEYS,
        clock: Callable[[], float] | None = None,
        shards: int = DEFAULT_SHARDS,
    ) -> None:
        for name, value in (("max_keys", max_keys), ("shards", shards)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        shards = min(shards, max_keys)
        self.max_keys = max_keys
        self._clock = clock or time.monotonic
        self._shards = tuple(_Shard(max_keys // shards) for _ in range(shards))

    def hit(self, rules: Sequence[LimitRule], count: int = 1) -> list[Decision]:
        """Take ``count`` from every rule's counter if all allow it, else take nothing.

        Raises:
            TypeError, ValueError: see :func:`check_hit`.
        """
        check_hit(rules, count)
        return self._apply(rules, count)

    def peek(self, rules: Sequence[LimitRule]) -> list[Decision]:
        """Each rule's state now, without taking anything or creating counters."""
        check_rules(rules)
        return self._apply(rules, 0)

    def reset(self, keys: Iterable[str]) -> None:
        """Forget the counters of ``keys`` under every strategy."""
        for key in keys:
            for code in STRATEGY_CODES.values():
                name = storage_key(code, key)
                shard = self._shard_for(name)
                with shard.lock:
                    shard.entries.pop(name, None)

    def clear(self, key_prefix: str = "") -> None:
        """Forget every counter whose key starts with ``key_prefix`` (all by default)."""
        check_key_prefix(key_prefix)
        for shard in self._shards:
            with shard.lock:
                if not key_prefix:
                    shard.entries.clear()
                    continue
                doomed = [name for name in shard.entries if matches_prefix(name, key_prefix)]
                for name in doomed:
                    del shard.entries[name]

    def close(self) -> None:
        """Nothing to release; present for the backend interface."""

    def __len__(self) -> int:
        """The number of counters held, expired ones not yet swept included."""
        return sum(len(shard.entries) for shard in self._shards)

    def _shard_for(self, name: str) -> _Shard:
        return self._shards[hash(name) % len(self._shards)]

    def _apply(self, rules: Sequence[LimitRule], count: int) -> list[Decision]:
        codes = [STRATEGY_CODES[rule.config.strategy] for rule in rules]
        names = [storage_key(code, rule.key) for code, rule in zip(codes, rules, strict=True)]
        shards = [self._shard_for(name) for name in names]
        # Locks are taken in one global order so that two multi-key hits never deadlock.
        locked = sorted(set(shards), key=id)
        for shard in locked:
            shard.lock.acquire()
        try:
            return self._apply_locked(rules, count, codes, names, shards, locked)
        finally:
            for shard in reversed(locked):
                shard.lock.release()

    def _apply_locked(
        self,
        rules: Sequence[LimitRule],
        count: int,
        codes: list[str],
        names: list[str],
        shards: list[_Shard],
        locked: list[_Shard],
    ) -> list[Decision]:
        now = self._clock()
        outcomes = [
            STEPS[code](
                shard.live(name, now),
                now,
                rule.config.requests_per_window,
                rule.config.window_seconds,
                count,
            )
            for rule, code, name, shard in zip(rules, codes, names, shards, strict=True)
        ]
        if not count:
            return [decision for decision, _ in outcomes]
        admitted = all(decision.allowed for decision, _ in outcomes)
        for (_, entry), name, shard in zip(outcomes, names, shards, strict=True):
            if admitted and entry is not None:
                shard.store(name, entry)
            else:
                shard.touch(name)
        for shard in locked:
            shard.sweep(now)
        return [decision for decision, _ in outcomes]

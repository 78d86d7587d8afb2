"""Unique-visitor sketches in Redis: ``PFADD`` per flush, ``PFCOUNT`` of many keys per query.

Used instead of the SQL sketch table when ``GIFDIST_REDIS_URL`` is set, so every node's
visitors meet in Redis's own HyperLogLogs. One HLL per (asset, UTC day, link, event
type, audience); a set per asset and per link names its HLLs (and one set names the
assets), so a report finds its keys without scanning. ``PFCOUNT k1 … kn`` is the
cardinality of the union, so a day's unique visitors are one call, all days of a report
one pipelined round trip. Adding is idempotent: a flush retried after a database error
adds the same visitors again without counting them twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

SketchKey = tuple[int, str, str, str, str]  # (day, asset, link or '', event type, audience)
DAY_SECONDS = 86_400


class RedisVisitorSketches:
    """HyperLogLogs of visitor ids under ``prefix`` in the Redis at ``url``."""

    def __init__(self, url: str, *, prefix: str = "gifdist:uv") -> None:
        import redis

        self._client: Any = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._prefix = prefix

    def _hll(self, asset: str, day: int, code: str, kind: str, audience: str) -> str:
        return f"{self._prefix}:h:{asset}:{day}:{code}:{kind}:{audience}"

    def add(self, visitors: dict[SketchKey, set[str]]) -> None:
        """``PFADD`` each key's visitors and name the key in its asset's and link's sets."""
        pipe = self._client.pipeline(transaction=False)
        for (day, asset, code, kind, audience), found in visitors.items():
            pipe.pfadd(self._hll(asset, day, code, kind, audience), *found)
            pipe.sadd(f"{self._prefix}:a:{asset}", f"{day}:{code}:{kind}:{audience}")
            if code:
                pipe.sadd(f"{self._prefix}:l:{code}", f"{asset}:{day}:{kind}:{audience}")
            pipe.sadd(f"{self._prefix}:assets", asset)
        pipe.execute()

    def _keys(
        self,
        asset_id: str | None,
        asset_ids: Sequence[str] | None,
        short_code: str | None,
    ) -> list[SketchKey]:
        """Every HLL of the scope, as (day, asset, link, type, audience)."""
        if short_code is not None:
            members = self._client.smembers(f"{self._prefix}:l:{short_code}")
            keys = []
            for member in members:
                asset, day, kind, audience = member.decode().rsplit(":", 3)
                keys.append((int(day), asset, short_code, kind, audience))
            return [k for k in keys if asset_id is None or k[1] == asset_id]
        if asset_id is not None:
            assets: Iterable[str] = [asset_id]
        elif asset_ids is not None:
            assets = list(asset_ids)
        else:
            assets = [a.decode() for a in self._client.smembers(f"{self._prefix}:assets")]
        assets = list(assets)
        pipe = self._client.pipeline(transaction=False)
        for asset in assets:
            pipe.smembers(f"{self._prefix}:a:{asset}")
        found = []
        for asset, members in zip(assets, pipe.execute(), strict=True):
            for member in members:
                day, code, kind, audience = member.decode().split(":", 3)
                found.append((int(day), asset, code, kind, audience))
        return found

    def _counts(self, groups: dict[Any, list[SketchKey]]) -> dict[Any, int]:
        pipe = self._client.pipeline(transaction=False)
        names = list(groups)
        for name in names:
            pipe.pfcount(*(self._hll(a, d, c, k, au) for d, a, c, k, au in groups[name]))
        return dict(zip(names, (int(n) for n in pipe.execute()), strict=True))

    def unique_visitors(self, **scope: Any) -> int:
        """People once per UTC day, summed over the days the window touches."""
        groups: dict[int, list[SketchKey]] = defaultdict(list)
        for key in self._within(scope):
            if key[4] == "person":
                groups[key[0]].append(key)
        return sum(self._counts(groups).values()) if groups else 0

    def unique_counts(self, **scope: Any) -> dict[str, int]:
        """Per event type, each visitor once per UTC day (people and bots)."""
        groups: dict[tuple[int, str], list[SketchKey]] = defaultdict(list)
        for key in self._within(scope):
            groups[(key[0], key[3])].append(key)
        found: dict[str, int] = defaultdict(int)
        for (_day, kind), n in (self._counts(groups) if groups else {}).items():
            found[kind] += n
        return dict(found)

    def _within(self, scope: dict[str, Any]) -> list[SketchKey]:
        low, high = _day(scope.get("start")), _day(scope.get("end"))
        return [
            key
            for key in self._keys(
                scope.get("asset_id"), scope.get("asset_ids"), scope.get("short_code")
            )
            if (low is None or key[0] >= low) and (high is None or key[0] <= high)
        ]

    def clear(self, asset_id: str | None = None) -> None:
        """Forget one asset's HLLs (and its entries in its links' sets), or all of them."""
        if asset_id is None:
            for name in self._client.scan_iter(match=f"{self._prefix}:*", count=1000):
                self._client.delete(name)
            return
        keys = self._keys(asset_id, None, None)
        pipe = self._client.pipeline(transaction=False)
        for day, asset, code, kind, audience in keys:
            pipe.delete(self._hll(asset, day, code, kind, audience))
            if code:
                pipe.srem(f"{self._prefix}:l:{code}", f"{asset}:{day}:{kind}:{audience}")
        pipe.delete(f"{self._prefix}:a:{asset_id}")
        pipe.srem(f"{self._prefix}:assets", asset_id)
        pipe.execute()


def _day(stamp: datetime | None) -> int | None:
    return None if stamp is None else int(stamp.timestamp()) // DAY_SECONDS

"""The in-memory analytics store: counters kept on ingest, top-N orders kept lazily.

Every event updates its asset's and its link's (platform, event type) counters under
one lock, so every metric is a read of a few counters whatever the event count. A
top-N order per metric is a sorted list of ``(-value, asset_id)`` kept between
calls: ingest only marks the asset as changed (a set insert), and the next top-N
call moves just the changed assets within the order (O(changed · log assets)), then
reads the first ``limit`` entries. Raw events are kept in a bounded deque for
``events`` and for windowed counts.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections import Counter, deque
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sortedcontainers import SortedList

from gifdist.analytics.types import AnalyticsEvent, EventType, Platform

# person: a human; bot: a link-preview fetcher (a view on its platform); crawler:
# search engines and monitors; orphan: a beacon naming no known asset or link.
AUDIENCES = ("person", "bot", "crawler", "orphan")
COUNTED_AUDIENCES = frozenset({"person", "bot"})
METRICS = ("views", "plays", "clicks", "ctr", "play_rate")
Key = tuple[str, str]  # (platform, event_type)
Cells = dict[str, list[int]]  # platform -> [views, plays, clicks, shares]
_TYPES = tuple(t.value for t in EventType)
_TYPE_SLOT = {kind: slot for slot, kind in enumerate(_TYPES)}
# One raw event as kept in memory: id, asset, type, platform, time, link, audience,
# visitor, metadata (the fields of ``AnalyticsEvent``, without an object per event).
# Type and platform are kept as their values: a tuple of strings, numbers and None is
# one the garbage collector stops tracking, which keeps ingest as cheap as a list append.
RawEvent = tuple[
    str, str, str, str, float, "str | None", str, "str | None", "dict[str, Any] | None"
]


_time_ns = time.time_ns
_PLATFORM_ORDER = tuple(p.value for p in Platform)


def _rates(views: int, plays: int, clicks: int) -> dict[str, Any]:
    return {
        "views": views,
        "plays": plays,
        "clicks": clicks,
        "ctr": round(clicks / views * 100, 2) if views else 0.0,
        "play_rate": round(plays / views * 100, 2) if views else 0.0,
    }


def _iso_second(second: int) -> str:
    """``2026-12-01T12:40:00`` for an epoch second (UTC), without the offset."""
    return datetime.fromtimestamp(second, UTC).isoformat()[:-6]


class EventIds:
    """Unique event ids without a system call each: a random prefix and a counter."""

    def __init__(self) -> None:
        self._prefix = os.urandom(8).hex()
        self._counter = itertools.count()

    def next(self) -> str:
        return f"{self._prefix}{next(self._counter)}"


class InMemoryAnalyticsStore:
    """Counters per asset and link kept on every event; raw events in a bounded deque."""

    def __init__(self, *, max_events: int = 100_000) -> None:
        self._lock = threading.Lock()
        # asset (or link) -> platform -> counts by event type, in ``_TYPES`` order
        self._by_asset: dict[str, Cells] = {}
        self._by_code: dict[str, Cells] = {}
        # short code -> (hour, asset id) of its earliest counted event, as the SQL store orders
        self._code_asset: dict[str, tuple[int, str]] = {}
        self._events: deque[RawEvent] = deque(maxlen=max_events)
        self._clock = (0, "")
        self._id_prefix = os.urandom(8).hex()  # event ids: a random prefix and a counter
        self._id_counter = itertools.count()
        self._changed: set[str] = set()  # assets changed since the last top-N call
        self._orders: dict[str, _TopOrder] = {}
        self._rows: dict[str, dict[str, Any]] = {}  # metric rows of assets, for top-N
        # asset -> platform -> (views, plays, clicks) and the rates worked out from them
        self._platform_memo: dict[str, dict[str, tuple[tuple[int, int, int], dict[str, Any]]]] = {}

    # ingest ------------------------------------------------------------------------

    def track(
        self,
        asset_id: str,
        event_type: EventType,
        platform: Platform,
        short_code: str | None,
        metadata: dict[str, Any] | None,
        audience: str,
        visitor: str | None,
    ) -> dict[str, Any]:
        """Count one validated event that happens now; returns it as the seed's dict
        (``metadata`` is the caller's: a copy is kept)."""
        ns = _time_ns()
        second, micros = divmod(ns // 1000, 1_000_000)
        clock = self._clock
        if clock[0] != second:  # the ISO text of this second, made once a second
            clock = self._clock = (second, _iso_second(second))
        stamp = f"{clock[1]}.{micros:06d}+00:00" if micros else clock[1] + "+00:00"
        moment = second + micros / 1e6  # the same microsecond as the stamp
        kept = dict(metadata) if metadata else None
        event_id = f"{self._id_prefix}{next(self._id_counter)}"
        self.add(
            asset_id, event_type, platform, short_code, kept, moment, audience, visitor, event_id
        )
        return {
            "event_id": event_id,
            "asset_id": asset_id,
            "event_type": event_type._value_,
            "platform": platform._value_,
            "short_code": short_code,
            "timestamp": stamp,
            "audience": audience,
            "metadata": dict(kept) if kept else {},
        }

    def add(
        self,
        asset_id: str,
        event_type: EventType,
        platform: Platform,
        short_code: str | None,
        metadata: dict[str, Any] | None,
        moment: float,
        audience: str,
        visitor: str | None,
        event_id: str,
    ) -> None:
        """Count one validated event at ``moment`` (epoch seconds) and keep it."""
        slot, kind = _TYPE_SLOT[event_type._value_], platform._value_
        with self._lock:
            self._events.append(
                (
                    event_id,
                    asset_id,
                    event_type._value_,
                    kind,
                    moment,
                    short_code,
                    audience,
                    visitor,
                    metadata or None,
                )
            )
            if audience == "person" or audience == "bot":
                cells = self._by_asset.get(asset_id)
                if cells is None:
                    cells = self._by_asset[asset_id] = {}
                counts = cells.get(kind)
                if counts is None:
                    counts = cells[kind] = [0] * len(_TYPES)
                counts[slot] += 1
                self._changed.add(asset_id)
                if short_code:
                    self._count_link(short_code, kind, slot, moment, asset_id)

    def _count_link(self, code: str, kind: str, slot: int, moment: float, asset_id: str) -> None:
        cells = self._by_code.get(code)
        if cells is None:
            cells = self._by_code[code] = {}
        counts = cells.get(kind)
        if counts is None:
            counts = cells[kind] = [0] * len(_TYPES)
        counts[slot] += 1
        candidate = (int(moment // 3600), asset_id)
        known = self._code_asset.get(code)
        if known is None or candidate < known:
            self._code_asset[code] = candidate

    def record(self, events: Sequence[AnalyticsEvent]) -> None:
        """Count ``AnalyticsEvent`` objects (the write-behind buffer's interface)."""
        for e in events:
            self._add_event(e)

    def _add_event(self, e: AnalyticsEvent) -> None:
        self.add(
            e.asset_id,
            e.event_type,
            e.platform,
            e.short_code,
            e.metadata,
            e.timestamp.timestamp(),
            e.audience,
            e.visitor,
            e.event_id,
        )

    # reads -------------------------------------------------------------------------

    def counts(
        self,
        *,
        asset_id: str | None = None,
        short_code: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> Counter[Key]:
        if start is not None or end is not None:
            return self._scan_counts(asset_id, short_code, start, end)
        total: Counter[Key] = Counter()
        with self._lock:
            if short_code is not None:
                chosen = [self._by_code.get(short_code, {})]
            elif asset_id is not None:
                chosen = [self._by_asset.get(asset_id, {})]
            else:
                chosen = list(self._by_asset.values())
            for cells in chosen:
                for platform, counts in cells.items():
                    for slot, n in enumerate(counts):
                        if n:
                            total[(platform, _TYPES[slot])] += n
        return total

    def _scan_counts(
        self,
        asset_id: str | None,
        short_code: str | None,
        start: datetime | None,
        end: datetime | None,
    ) -> Counter[Key]:
        result: Counter[Key] = Counter()
        low, high = _bounds(start, end)
        with self._lock:
            for _id, asset, kind, platform, moment, code, audience, _v, _m in self._events:
                if (
                    audience in COUNTED_AUDIENCES
                    and low <= moment <= high
                    and (asset_id is None or asset == asset_id)
                    and (short_code is None or code == short_code)
                ):
                    result[(platform, kind)] += 1
        return result

    def metrics(
        self, *, asset_id: str | None = None, short_code: str | None = None
    ) -> dict[str, Any]:
        """views, plays, clicks, ctr, play_rate and total_events of an asset or a link."""
        views = plays = clicks = shares = 0
        with self._lock:
            found = (
                self._by_code.get(short_code)
                if short_code is not None
                else self._by_asset.get(asset_id or "")
            )
            for v, p, c, sh in found.values() if found else ():
                views += v
                plays += p
                clicks += c
                shares += sh
        return {**_rates(views, plays, clicks), "total_events": views + plays + clicks + shares}

    def platform_metrics(self, asset_id: str) -> dict[str, dict[str, Any]]:
        """Metrics per platform with events for ``asset_id``, in ``Platform`` order; each
        platform's rates are remembered with the counts they came from, so only the
        platforms whose counts moved since the last call are worked out again."""
        result: dict[str, dict[str, Any]] = {}
        with self._lock:
            found = self._by_asset.get(asset_id)
            if not found:
                return result
            memo = self._platform_memo.get(asset_id)
            if memo is None:
                memo = self._platform_memo[asset_id] = {}
            for platform in _PLATFORM_ORDER:
                counts = found.get(platform)
                if counts is None:
                    continue
                key = (counts[0], counts[1], counts[2])
                known = memo.get(platform)
                if known is None or known[0] != key:
                    known = memo[platform] = (key, _rates(*key))
                result[platform] = known[1].copy()
        return result

    def asset_totals(self) -> dict[str, Counter[str]]:
        with self._lock:
            return {asset: _by_type(cells) for asset, cells in self._by_asset.items()}

    def top_assets(self, metric: str, limit: int) -> list[dict[str, Any]]:
        """The ``limit`` best assets' metric rows by ``metric`` (ties by asset id)."""
        with self._lock:
            changed, self._changed = self._changed, set()
            for asset in changed:
                self._rows[asset] = _metrics_row(asset, self._by_asset[asset])
            order = self._orders.get(metric)
            if order is None:
                order = self._orders[metric] = _TopOrder(metric)
                order.pending = set(self._rows)
            else:
                order.pending |= changed
            for other in self._orders.values():
                if other is not order:
                    other.pending |= changed
            order.update(self._rows)
            return [dict(self._rows[asset]) for asset in order.first(limit)]

    def link_asset(self, short_code: str) -> str | None:
        """The asset of the earliest counted events naming ``short_code`` (by hour, then id)."""
        with self._lock:
            found = self._code_asset.get(short_code)
        return found[1] if found else None

    def hourly_counts(
        self, event_types: Sequence[str], since_hour: int
    ) -> list[tuple[str, int, int]]:
        """(asset, epoch hour, count) for ``event_types`` since ``since_hour``."""
        wanted = set(event_types)
        buckets: Counter[tuple[str, int]] = Counter()
        with self._lock:
            for _id, asset, kind, _p, moment, _c, audience, _v, _m in self._events:
                hour = int(moment // 3600)
                if audience in COUNTED_AUDIENCES and kind in wanted and hour >= since_hour:
                    buckets[(asset, hour)] += 1
        return [(asset, hour, n) for (asset, hour), n in buckets.items()]

    def raw_events(
        self, asset_id: str, start: datetime | None, end: datetime | None
    ) -> list[RawEvent]:
        low, high = _bounds(start, end)
        with self._lock:
            return [e for e in self._events if e[1] == asset_id and low <= e[4] <= high]

    def events(
        self, asset_id: str, start: datetime | None, end: datetime | None
    ) -> list[AnalyticsEvent]:
        return [
            AnalyticsEvent(
                i,
                a,
                EventType(k),
                Platform(p),
                datetime.fromtimestamp(t, UTC),
                c,
                au,
                v,
                dict(m or {}),
            )
            for i, a, k, p, t, c, au, v, m in self.raw_events(asset_id, start, end)
        ]

    def clear(self, asset_id: str | None = None) -> None:
        with self._lock:
            self._orders.clear()
            self._rows.clear()
            self._platform_memo.clear()
            if asset_id is None:
                self._changed.clear()
                self._by_asset.clear()
                self._by_code.clear()
                self._code_asset.clear()
                self._events.clear()
                return
            self._by_asset.pop(asset_id, None)
            self._changed = set(self._by_asset)  # top-N orders are built again
            kept = [e for e in self._events if e[1] != asset_id]
            self._events = deque(kept, maxlen=self._events.maxlen)
            self._by_code.clear()
            self._code_asset.clear()
            for _id, asset, kind, platform, moment, code, audience, _v, _m in kept:
                if code and audience in COUNTED_AUDIENCES:
                    self._count_link(code, platform, _TYPE_SLOT[kind], moment, asset)


class _TopOrder:
    """Assets sorted by one metric, best first; moved one by one when they change."""

    def __init__(self, metric: str) -> None:
        self.metric = metric
        self.sorted: SortedList = SortedList()
        self.keys: dict[str, tuple[float, str]] = {}
        self.pending: set[str] = set()

    def update(self, rows: dict[str, dict[str, Any]]) -> None:
        """Move the pending assets to where their rows now sort."""
        for asset in self.pending:
            old = self.keys.get(asset)
            if old is not None:
                self.sorted.remove(old)
            key = (-rows[asset][self.metric], asset)
            self.keys[asset] = key
            self.sorted.add(key)
        self.pending = set()

    def first(self, limit: int) -> list[str]:
        return [asset for _, asset in self.sorted.islice(0, limit)]


def _metrics_row(asset_id: str, cells: Cells) -> dict[str, Any]:
    """``{"asset_id", views, plays, clicks, ctr, play_rate}`` of an asset's counters."""
    views = plays = clicks = 0
    for v, p, c, _shares in cells.values():
        views += v
        plays += p
        clicks += c
    return {"asset_id": asset_id, **_rates(views, plays, clicks)}


def _by_type(cells: Cells) -> Counter[str]:
    totals: Counter[str] = Counter()
    for counts in cells.values():
        for slot, n in enumerate(counts):
            if n:
                totals[_TYPES[slot]] += n
    return totals


def _bounds(start: datetime | None, end: datetime | None) -> tuple[float, float]:
    """A window as epoch seconds, open ends as infinities."""
    return (
        start.timestamp() if start is not None else float("-inf"),
        end.timestamp() if end is not None else float("inf"),
    )

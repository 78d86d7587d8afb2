"""Views, plays, clicks and CTR per asset, short link and platform.

``AnalyticsTracker`` is the seed API. It records events into an
``AnalyticsStore``: in memory by default, where every metric is an O(1) read of
incrementally maintained counters, or the SQL store the service uses (raw events
plus hourly rollups; queries read the rollups). Only people count in the metrics
(``audience="person"``, the default); link-preview bots count as views of their
platform (``audience="bot"``); crawlers are recorded but never counted.
"""

from __future__ import annotations

import os
import threading
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from gifdist.analytics.types import EventType, Platform

__all__ = [
    "AnalyticsEvent",
    "AnalyticsStore",
    "AnalyticsTracker",
    "EventType",
    "InMemoryAnalyticsStore",
    "Platform",
    "metrics_from_counts",
]

METRICS = ("views", "plays", "clicks", "ctr", "play_rate")
# person: a human; bot: a link-preview fetcher (a view on its platform); crawler:
# search engines and monitors; orphan: a beacon naming no known asset or link.
AUDIENCES = ("person", "bot", "crawler", "orphan")
COUNTED_AUDIENCES = frozenset({"person", "bot"})
Key = tuple[str, str]  # (platform, event_type)


@dataclass(frozen=True, slots=True)
class AnalyticsEvent:
    """One event. ``timestamp`` is an aware UTC datetime."""

    event_id: str
    asset_id: str
    event_type: EventType
    platform: Platform
    timestamp: datetime
    short_code: str | None = None
    audience: str = "person"
    visitor: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "asset_id": self.asset_id,
            "event_type": self.event_type.value,
            "platform": self.platform.value,
            "short_code": self.short_code,
            "timestamp": self.timestamp.isoformat(),
            "audience": self.audience,
            "metadata": dict(self.metadata),
        }


class AnalyticsStore(Protocol):
    def record(self, events: Sequence[AnalyticsEvent]) -> None: ...
    def counts(
        self,
        *,
        asset_id: str | None = None,
        short_code: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> Counter[Key]: ...
    def asset_totals(self) -> dict[str, Counter[str]]: ...
    def link_asset(self, short_code: str) -> str | None: ...
    def events(
        self, asset_id: str, start: datetime | None, end: datetime | None
    ) -> list[AnalyticsEvent]: ...
    def clear(self, asset_id: str | None = None) -> None: ...


def metrics_from_counts(counts: Counter[str]) -> dict[str, Any]:
    """views/plays/clicks and CTR and play rate (percent, 2 places, 0.0 with no views)."""
    views, plays, clicks = counts["view"], counts["play"], counts["click"]
    return {
        "views": views,
        "plays": plays,
        "clicks": clicks,
        "ctr": round(clicks / views * 100, 2) if views else 0.0,
        "play_rate": round(plays / views * 100, 2) if views else 0.0,
    }


def counts_by_type(counts: Counter[Key], platform: str | None = None) -> Counter[str]:
    """Event-type totals of (platform, event type) counts, for one platform or all."""
    totals: Counter[str] = Counter()
    for (event_platform, event_type), n in counts.items():
        if platform is None or event_platform == platform:
            totals[event_type] += n
    return totals


class InMemoryAnalyticsStore:
    """Counters kept up to date on every event; raw events in a bounded deque."""

    def __init__(self, *, max_events: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._by_asset: dict[str, Counter[Key]] = defaultdict(Counter)
        self._by_code: dict[str, Counter[Key]] = defaultdict(Counter)
        # short code -> (hour, asset id) of its earliest counted event, as the SQL store orders
        self._code_asset: dict[str, tuple[int, str]] = {}
        self._events: deque[AnalyticsEvent] = deque(maxlen=max_events)

    def record(self, events: Sequence[AnalyticsEvent]) -> None:
        with self._lock:
            for event in events:
                self._events.append(event)
                if event.audience not in COUNTED_AUDIENCES:
                    continue
                key = (event.platform.value, event.event_type.value)
                self._by_asset[event.asset_id][key] += 1
                if event.short_code:
                    self._by_code[event.short_code][key] += 1
                    self._note_link_asset(event)

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
        with self._lock:
            if short_code is not None:
                return Counter(self._by_code.get(short_code, {}))
            if asset_id is not None:
                return Counter(self._by_asset.get(asset_id, {}))
            total: Counter[Key] = Counter()
            for counter in self._by_asset.values():
                total.update(counter)
            return total

    def _scan_counts(
        self,
        asset_id: str | None,
        short_code: str | None,
        start: datetime | None,
        end: datetime | None,
    ) -> Counter[Key]:
        result: Counter[Key] = Counter()
        with self._lock:
            for e in self._events:
                if (
                    e.audience in COUNTED_AUDIENCES
                    and _within(e.timestamp, start, end)
                    and (asset_id is None or e.asset_id == asset_id)
                    and (short_code is None or e.short_code == short_code)
                ):
                    result[(e.platform.value, e.event_type.value)] += 1
        return result

    def asset_totals(self) -> dict[str, Counter[str]]:
        with self._lock:
            return {asset: counts_by_type(counter) for asset, counter in self._by_asset.items()}

    def link_asset(self, short_code: str) -> str | None:
        """The asset of the earliest counted events naming ``short_code`` (by hour, then id)."""
        with self._lock:
            found = self._code_asset.get(short_code)
        return found[1] if found else None

    def _note_link_asset(self, event: AnalyticsEvent) -> None:
        if not event.short_code:
            return
        candidate = (int(event.timestamp.timestamp()) // 3600, event.asset_id)
        known = self._code_asset.get(event.short_code)
        if known is None or candidate < known:
            self._code_asset[event.short_code] = candidate

    def hourly_counts(
        self, event_types: Sequence[str], since_hour: int
    ) -> list[tuple[str, int, int]]:
        """(asset, epoch hour, count) for ``event_types`` since ``since_hour``."""
        wanted = set(event_types)
        buckets: Counter[tuple[str, int]] = Counter()
        with self._lock:
            for e in self._events:
                hour = int(e.timestamp.timestamp() // 3600)
                if (
                    e.audience in COUNTED_AUDIENCES
                    and e.event_type.value in wanted
                    and hour >= since_hour
                ):
                    buckets[(e.asset_id, hour)] += 1
        return [(asset, hour, n) for (asset, hour), n in buckets.items()]

    def events(
        self, asset_id: str, start: datetime | None, end: datetime | None
    ) -> list[AnalyticsEvent]:
        with self._lock:
            return [
                e
                for e in self._events
                if e.asset_id == asset_id and _within(e.timestamp, start, end)
            ]

    def clear(self, asset_id: str | None = None) -> None:
        with self._lock:
            if asset_id is None:
                self._by_asset.clear()
                self._by_code.clear()
                self._code_asset.clear()
                self._events.clear()
                return
            self._by_asset.pop(asset_id, None)
            kept = [e for e in self._events if e.asset_id != asset_id]
            self._events = deque(kept, maxlen=self._events.maxlen)
            self._by_code.clear()
            self._code_asset.clear()
            for e in kept:
                if e.short_code and e.audience in COUNTED_AUDIENCES:
                    self._by_code[e.short_code][(e.platform.value, e.event_type.value)] += 1
                    self._note_link_asset(e)


def _within(stamp: datetime, start: datetime | None, end: datetime | None) -> bool:
    return (start is None or stamp >= start) and (end is None or stamp <= end)


def _aware(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class AnalyticsTracker:
    """Tracks events and answers metric queries (the seed API)."""

    def __init__(self, store: AnalyticsStore | None = None) -> None:
        self.store: AnalyticsStore = store if store is not None else InMemoryAnalyticsStore()

    def track_event(
        self,
        asset_id: str,
        event_type: EventType,
        platform: Platform = Platform.WEB,
        short_code: str | None = None,
        metadata: dict[str, Any] | None = None,
        *,
        timestamp: datetime | None = None,
        audience: str = "person",
        visitor: str | None = None,
    ) -> dict[str, Any]:
        """Record one event and return it as a dict."""
        event = self.make_event(
            asset_id,
            event_type,
            platform,
            short_code,
            metadata,
            timestamp=timestamp,
            audience=audience,
            visitor=visitor,
        )
        self.store.record([event])
        return event.to_dict()

    @staticmethod
    def make_event(
        asset_id: str,
        event_type: EventType,
        platform: Platform = Platform.WEB,
        short_code: str | None = None,
        metadata: dict[str, Any] | None = None,
        *,
        timestamp: datetime | None = None,
        audience: str = "person",
        visitor: str | None = None,
    ) -> AnalyticsEvent:
        """Validate arguments into an event (``TypeError``/``ValueError`` when wrong)."""
        if not isinstance(asset_id, str) or not asset_id:
            raise ValueError("asset_id must be a non-empty string")
        if not isinstance(event_type, EventType):
            raise TypeError(f"event_type must be an EventType, got {type(event_type).__name__}")
        if not isinstance(platform, Platform):
            raise TypeError(f"platform must be a Platform, got {type(platform).__name__}")
        if short_code is not None and not isinstance(short_code, str):
            raise TypeError("short_code must be a string")
        if metadata is not None and not isinstance(metadata, dict):
            raise TypeError("metadata must be a dict")
        if audience not in AUDIENCES:
            raise ValueError(f"audience must be one of {', '.join(AUDIENCES)}")
        return AnalyticsEvent(
            os.urandom(16).hex(),
            asset_id,
            event_type,
            platform,
            _aware(timestamp) or datetime.now(UTC),
            short_code,
            audience,
            visitor,
            dict(metadata or {}),
        )

    def get_asset_metrics(self, asset_id: str) -> dict[str, Any]:
        counts = counts_by_type(self.store.counts(asset_id=asset_id))
        return {
            "asset_id": asset_id,
            **metrics_from_counts(counts),
            "total_events": sum(counts.values()),
        }

    def get_platform_metrics(self, asset_id: str) -> dict[str, dict[str, Any]]:
        """Metrics per platform that has events for ``asset_id`` ({} when none)."""
        counts = self.store.counts(asset_id=asset_id)
        seen = {platform for platform, _ in counts}
        return {
            p.value: metrics_from_counts(counts_by_type(counts, p.value))
            for p in Platform
            if p.value in seen
        }

    def get_short_link_metrics(self, short_code: str) -> dict[str, Any]:
        """Metrics of one short link; ``asset_id`` (of its earliest events) when it has any.

        Codes are not validated: events naming a code nobody created still count.
        """
        counts = counts_by_type(self.store.counts(short_code=short_code))
        asset_id = self.store.link_asset(short_code) if counts else None
        return {
            "short_code": short_code,
            **({"asset_id": asset_id} if asset_id is not None else {}),
            **metrics_from_counts(counts),
            "total_events": sum(counts.values()),
        }

    def get_top_assets(self, metric: str = "views", limit: int = 10) -> list[dict[str, Any]]:
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r}; use one of {', '.join(METRICS)}")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ValueError("limit must be a non-negative integer")
        rows = [
            {"asset_id": asset, **metrics_from_counts(counts)}
            for asset, counts in self.store.asset_totals().items()
        ]
        rows.sort(key=lambda row: (-row[metric], row["asset_id"]))
        return rows[:limit]

    def get_events_by_timeframe(
        self,
        asset_id: str,
        start_time: datetime | str | None = None,
        end_time: datetime | str | None = None,
    ) -> list[dict[str, Any]]:
        events = self.store.events(asset_id, _aware(start_time), _aware(end_time))
        return [e.to_dict() for e in events]

    def clear_events(self, asset_id: str | None = None) -> None:
        self.store.clear(asset_id)

    def record_many(self, events: Iterable[AnalyticsEvent]) -> None:
        self.store.record(list(events))

"""Views, plays, clicks and CTR per asset, short link and platform.

``AnalyticsTracker`` is the seed API. It records events into an
``AnalyticsStore``: in memory by default (``gifdist.analytics.memory``: counters
kept on ingest and lazily kept top-N orders, so no query scans the events), or the
SQL store the service uses (hourly rollups, optional raw events; queries read the
rollups). Only people count in the metrics (``audience="person"``, the default);
link-preview bots count as views of their platform (``audience="bot"``); crawlers
are recorded but never counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from gifdist.analytics.memory import (
    AUDIENCES,
    COUNTED_AUDIENCES,
    METRICS,
    EventIds,
    InMemoryAnalyticsStore,
    Key,
)
from gifdist.analytics.types import AnalyticsEvent, EventType, Platform

__all__ = [
    "AUDIENCES",
    "COUNTED_AUDIENCES",
    "METRICS",
    "AnalyticsEvent",
    "AnalyticsStore",
    "AnalyticsTracker",
    "EventType",
    "InMemoryAnalyticsStore",
    "Key",
    "Platform",
    "metrics_from_counts",
]

_IDS = EventIds()
_now = datetime.now


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
    def top_assets(self, metric: str, limit: int) -> list[dict[str, Any]]: ...
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


def _aware(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _check(
    asset_id: Any,
    event_type: Any,
    platform: Any,
    short_code: Any,
    metadata: Any,
    audience: Any,
) -> None:
    """Raise ``TypeError``/``ValueError`` for arguments the seed API does not take."""
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


class AnalyticsTracker:
    """Tracks events and answers metric queries (the seed API)."""

    def __init__(self, store: AnalyticsStore | None = None) -> None:
        self.store: AnalyticsStore = store if store is not None else InMemoryAnalyticsStore()
        self._memory = self.store if type(self.store) is InMemoryAnalyticsStore else None

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
        memory = self._memory
        if (
            memory is not None
            and timestamp is None
            and type(asset_id) is str
            and asset_id
            and type(event_type) is EventType
            and type(platform) is Platform
            and (short_code is None or type(short_code) is str)
            and (metadata is None or type(metadata) is dict)
            and (audience == "person" or audience in AUDIENCES)
        ):
            # The common case, checked inline: no event object, one lock, a few counters.
            return memory.track(
                asset_id, event_type, platform, short_code, metadata, audience, visitor
            )
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
        _check(asset_id, event_type, platform, short_code, metadata, audience)
        return AnalyticsEvent(
            _IDS.next(),
            asset_id,
            event_type,
            platform,
            _aware(timestamp) or _now(UTC),
            short_code,
            audience,
            visitor,
            dict(metadata or {}),
        )

    def get_asset_metrics(self, asset_id: str) -> dict[str, Any]:
        if self._memory is not None:
            return {"asset_id": asset_id, **self._memory.metrics(asset_id=asset_id)}
        counts = counts_by_type(self.store.counts(asset_id=asset_id))
        return {
            "asset_id": asset_id,
            **metrics_from_counts(counts),
            "total_events": sum(counts.values()),
        }

    def get_platform_metrics(self, asset_id: str) -> dict[str, dict[str, Any]]:
        """Metrics per platform that has events for ``asset_id`` ({} when none)."""
        if self._memory is not None:
            return self._memory.platform_metrics(asset_id)
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
        if self._memory is not None:
            metrics = self._memory.metrics(short_code=short_code)
            linked = self._memory.link_asset(short_code) if metrics["total_events"] else None
            return {
                "short_code": short_code,
                **({"asset_id": linked} if linked is not None else {}),
                **metrics,
            }
        counts = counts_by_type(self.store.counts(short_code=short_code))
        asset_id = self.store.link_asset(short_code) if counts else None
        return {
            "short_code": short_code,
            **({"asset_id": asset_id} if asset_id is not None else {}),
            **metrics_from_counts(counts),
            "total_events": sum(counts.values()),
        }

    def get_top_assets(self, metric: str = "views", limit: int = 10) -> list[dict[str, Any]]:
        """The ``limit`` best assets by ``metric``, ties by asset id."""
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r}; use one of {', '.join(METRICS)}")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ValueError("limit must be a non-negative integer")
        return self.store.top_assets(metric, limit)

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


def top_by_metric(totals: dict[str, Counter[str]], metric: str, limit: int) -> list[dict[str, Any]]:
    """The ``limit`` best of per-asset totals by ``metric`` (ties by asset id), as rows."""
    rows = [{"asset_id": asset, **metrics_from_counts(counts)} for asset, counts in totals.items()]
    rows.sort(key=lambda row: (-row[metric], row["asset_id"]))
    return rows[:limit]

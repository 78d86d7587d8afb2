"""Views, plays, clicks and CTR per asset, short link and platform (the seed API)."""

from gifdist.analytics.tracker import (
    AnalyticsEvent,
    AnalyticsStore,
    AnalyticsTracker,
    EventType,
    InMemoryAnalyticsStore,
    Platform,
    metrics_from_counts,
)

__all__ = [
    "AnalyticsEvent",
    "AnalyticsStore",
    "AnalyticsTracker",
    "EventType",
    "InMemoryAnalyticsStore",
    "Platform",
    "metrics_from_counts",
]

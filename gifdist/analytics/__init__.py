"""Views, plays, clicks and CTR per asset, short link and platform (the seed API).

As in the seed, ``get_platform_metrics`` names only the platforms that have events
and ``get_short_link_metrics`` reports the link's ``asset_id`` once it has events
(codes are not validated). Deliberately stricter than the seed: an empty
``asset_id``, an ``event_type`` or ``platform`` that is not the enum, and an unknown
metric name or negative limit in ``get_top_assets`` raise instead of being stored
or sorted as zero; link-preview bots count as views of their platform and
crawlers are kept but never counted. Asset and link metrics also carry
``total_events``.
"""

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

"""The closed sets analytics speaks in and its event record (re-exported by
``gifdist.analytics``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from functools import lru_cache
from typing import Any


class EventType(Enum):
    """What happened: a view of a card or page, a play of the GIF, a click on a link."""

    VIEW = "view"
    PLAY = "play"
    CLICK = "click"
    SHARE = "share"  # a client reported sending the GIF (Tenor's registershare)


class Platform(Enum):
    """Where it happened."""

    WEB = "web"
    SLACK = "slack"
    DISCORD = "discord"
    TEAMS = "teams"
    TWITTER = "twitter"
    FACEBOOK = "facebook"
    OTHER = "other"


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
        return _event_dict(
            self.event_id,
            self.asset_id,
            self.event_type,
            self.platform,
            self.timestamp,
            self.short_code,
            self.audience,
            self.metadata,
        )


def _event_dict(
    event_id: str,
    asset_id: str,
    event_type: EventType,
    platform: Platform,
    timestamp: datetime,
    short_code: str | None,
    audience: str,
    metadata: dict[str, Any],
) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "asset_id": asset_id,
        "event_type": event_type._value_,
        "platform": platform._value_,
        "short_code": short_code,
        "timestamp": timestamp.isoformat(),
        "audience": audience,
        "metadata": dict(metadata),
    }


@lru_cache(maxsize=65_536)
@lru_cache(maxsize=65_536)  # seven years of hours: reports reuse recent ones
def hour_iso(hour: int) -> str:
    """``2026-11-24T10:00:00+00:00`` for an epoch hour: a report's bucket label."""
    return datetime.fromtimestamp(hour * 3600, UTC).isoformat()

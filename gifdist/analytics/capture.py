"""What counts as a view, a click and a play, and on which platform: the rules, once.

- A link-preview bot fetching a short link is a VIEW on the bot's platform.
- A person following a short link is a CLICK; its platform comes from ``?via=``, then
  the link's own ``via``, then the Referer, else ``web``.
- A page load is a VIEW (the bot's platform, else the Referer's, else ``web``).
- The first delivery of a GIF's bytes to a person (or the page's beacon) is a PLAY,
  once per visitor in the dedupe window.
Crawlers are recorded apart and never counted. Events are queued, never written on
the request path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from gifdist.analytics.beacons import Beacon
from gifdist.analytics.buffer import EventBuffer
from gifdist.analytics.tracker import AnalyticsTracker
from gifdist.analytics.types import EventType, Platform
from gifdist.analytics.visitors import VisitorHasher
from gifdist.caching.ttl import TTLCache
from gifdist.platforms import (
    Audience,
    classify_user_agent,
    platform_from_referer,
    platform_from_via,
)

T_co = TypeVar("T_co", covariant=True)


class Lookup(Protocol[T_co]):
    """Records by key: from memory (``cached``) or from the store (``get``)."""

    def cached(self, key: str) -> T_co | None: ...
    def get(self, key: str) -> T_co | None: ...


class _PublicAsset(Protocol):
    @property
    def asset_id(self) -> str: ...
    @property
    def is_public(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Visit:
    """What one request tells analytics about who is asking and from where."""

    user_agent: str | None
    client: str | None  # the resolved client address (never stored)
    referer: str | None = None
    via: str | None = None  # a short link's ``?via=``


class EventCapture:
    """Turns requests into analytics events by the rules above."""

    def __init__(
        self,
        events: EventBuffer,
        visitors: VisitorHasher,
        *,
        assets: Lookup[_PublicAsset],
        links: Lookup[dict[str, Any]],
        dedupe_seconds: float,
    ) -> None:
        self.events = events
        self.visitors = visitors
        self._assets = assets
        self._links = links
        # (visitor, asset, event type) already counted: a reload storm is one play.
        self._counted: TTLCache[tuple[str, str, str], bool] = TTLCache(200_000, ttl=dedupe_seconds)

    def visitor(self, visit: Visit) -> str:
        return self.visitors.visitor_id(visit.client)  # the address alone: see visitors.py

    def record_event(
        self,
        asset_id: str,
        event_type: EventType,
        platform: Platform,
        *,
        short_code: str | None = None,
        audience: str = "person",
        visitor: str | None = None,
    ) -> None:
        """Queue an analytics event (never blocks, never touches the database)."""
        self.events.offer(
            AnalyticsTracker.make_event(
                asset_id, event_type, platform, short_code, audience=audience, visitor=visitor
            )
        )

    def count_once(self, visitor: str | None, asset_id: str, event_type: EventType) -> bool:
        """True the first time a visitor does ``event_type`` to an asset in the window."""
        if visitor is None:
            return True
        key = (visitor, asset_id, event_type.value)
        if self._counted.get(key):
            return False
        self._counted.set(key, True)
        return True

    def short_link(self, asset_id: str, link: dict[str, Any], visit: Visit) -> Audience:
        """A short link was fetched: a bot's VIEW or a person's CLICK. Returns who asked."""
        audience, bot_platform = classify_user_agent(visit.user_agent)
        visitor = self.visitor(visit)
        code = link["short_code"]
        if audience == "bot":
            platform = bot_platform or Platform.OTHER
            self.record_event(
                asset_id, EventType.VIEW, platform, short_code=code, audience="bot", visitor=visitor
            )
            return audience
        platform = (
            platform_from_via(visit.via)
            or platform_from_via(link.get("via"))
            or platform_from_referer(visit.referer)
            or Platform.WEB
        )
        self.record_event(
            asset_id, EventType.CLICK, platform, short_code=code, audience=audience, visitor=visitor
        )
        return audience

    def page_view(self, asset_id: str, visit: Visit) -> None:
        """The asset page was loaded."""
        audience, bot_platform = classify_user_agent(visit.user_agent)
        platform = bot_platform or platform_from_referer(visit.referer) or Platform.WEB
        self.record_event(
            asset_id, EventType.VIEW, platform, audience=audience, visitor=self.visitor(visit)
        )

    def delivery(self, asset_id: str, visit: Visit) -> str:
        """The whole GIF went to someone: a person's first is a PLAY. Returns counted,
        duplicate (this visitor's play is counted already) or not_counted (not a person)."""
        audience, _ = classify_user_agent(visit.user_agent)
        if audience != "person":
            return "not_counted"
        visitor = self.visitor(visit)
        if not self.count_once(visitor, asset_id, EventType.PLAY):
            return "duplicate"
        platform = platform_from_referer(visit.referer) or Platform.WEB
        self.record_event(asset_id, EventType.PLAY, platform, visitor=visitor)
        return "counted"

    def beacon(self, beacon: Beacon, visit: Visit, *, cached_only: bool = False) -> str | None:
        """Queue a client-reported event; returns counted, duplicate, not_counted or orphan.

        A beacon naming no public asset or link is kept as an ``orphan`` event (never
        counted); bots and crawlers are kept but not counted; a visitor's repeat of
        the same event within the dedupe window is dropped. With ``cached_only`` (the
        event loop), None means "the database is needed": call again in a thread.
        """
        audience, _ = classify_user_agent(visit.user_agent)
        visitor = self.visitor(visit)
        link = None
        if beacon.short_code:
            link = self._find(self._links, beacon.short_code, cached_only)
            if link is _MISS:
                return None
        asset_id = beacon.asset_id or (link["asset_id"] if link else None)
        record = None
        if asset_id:
            record = self._find(self._assets, asset_id, cached_only)
            if record is _MISS:
                return None
        known = record is not None and record.is_public
        if beacon.short_code and (link is None or link["asset_id"] != asset_id):
            known = False
        if not known or record is None:
            self._offer(beacon, (asset_id or "-")[:64], "orphan", visitor)
            return "orphan"
        if audience == "person" and not self.count_once(
            visitor, record.asset_id, beacon.event_type
        ):
            return "duplicate"
        self._offer(
            beacon, record.asset_id, audience if audience == "person" else "crawler", visitor
        )
        return "counted" if audience == "person" else "not_counted"

    def _offer(self, beacon: Beacon, asset_id: str, audience: str, visitor: str) -> None:
        code = beacon.short_code[:64] if beacon.short_code else None
        self.events.offer(
            AnalyticsTracker.make_event(
                asset_id,
                beacon.event_type,
                beacon.platform,
                code,
                timestamp=beacon.timestamp,
                audience=audience,
                visitor=visitor,
            )
        )

    @staticmethod
    def _find(lookup: Lookup[Any], key: str, cached_only: bool) -> Any:
        if not cached_only:
            return lookup.get(key)
        found = lookup.cached(key)
        return _MISS if found is None else found


_MISS: Any = object()  # a cache miss where only memory may be read

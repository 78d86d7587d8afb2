"""The closed sets analytics speaks in (re-exported by ``gifdist.analytics``)."""

from __future__ import annotations

from enum import Enum


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

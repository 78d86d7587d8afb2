"""Who is asking: link-preview bots, crawlers or people, and on which platform.

Used by the web layer to decide between an unfurl card and a redirect, and by
analytics to attribute views and clicks. Matching is a handful of substring
tests on the lower-cased User-Agent, so it costs O(len(ua)).
"""

from __future__ import annotations

import functools
from typing import Literal

from gifdist.analytics.types import Platform

Audience = Literal["person", "bot", "crawler"]

# Link-preview fetchers of chat and social platforms: they get the card.
_PREVIEW_BOTS: tuple[tuple[str, Platform], ...] = (
    ("slackbot", Platform.SLACK),
    ("slack-imgproxy", Platform.SLACK),
    ("discordbot", Platform.DISCORD),
    ("skypeuripreview", Platform.TEAMS),
    ("microsoftpreview", Platform.TEAMS),
    ("teams", Platform.TEAMS),
    # before twitterbot: Telegram's fetcher says "TelegramBot (like TwitterBot)"
    ("telegrambot", Platform.OTHER),
    ("twitterbot", Platform.TWITTER),
    ("facebookexternalhit", Platform.FACEBOOK),
    ("facebookcatalog", Platform.FACEBOOK),
    ("facebot", Platform.FACEBOOK),
    ("meta-externalagent", Platform.FACEBOOK),
    ("whatsapp", Platform.OTHER),
    ("linkedinbot", Platform.OTHER),
    ("pinterest", Platform.OTHER),
    ("mastodon", Platform.OTHER),
    ("iframely", Platform.OTHER),
    ("embedly", Platform.OTHER),
    ("redditbot", Platform.OTHER),
    ("applebot", Platform.OTHER),
    ("snapchat", Platform.OTHER),
    ("vkshare", Platform.OTHER),
    ("mattermost", Platform.OTHER),
    ("rocket.chat", Platform.OTHER),
    ("zoom", Platform.OTHER),
    ("signal", Platform.OTHER),
)

# Search engines, SEO tools, monitors and plain HTTP libraries: never counted as people.
_CRAWLERS: tuple[str, ...] = (
    "googlebot",
    "bingbot",
    "duckduckbot",
    "yandex",
    "baiduspider",
    "ahrefsbot",
    "semrushbot",
    "mj12bot",
    "petalbot",
    "sogou",
    "exabot",
    "uptimerobot",
    "pingdom",
    "statuscake",
    "site24x7",
    "datadog",
    "newrelic",
    "curl/",
    "wget/",
    "python-requests",
    "python-httpx",
    "go-http-client",
    "okhttp",
    "java/",
    "libwww",
    "headlesschrome",
    "bot/",
    "spider",
    "crawler",
)

_REFERERS: tuple[tuple[str, Platform], ...] = (
    ("slack.com", Platform.SLACK),
    ("discord.com", Platform.DISCORD),
    ("discordapp.com", Platform.DISCORD),
    ("teams.microsoft.com", Platform.TEAMS),
    ("teams.live.com", Platform.TEAMS),
    ("t.co", Platform.TWITTER),
    ("x.com", Platform.TWITTER),
    ("twitter.com", Platform.TWITTER),
    ("facebook.com", Platform.FACEBOOK),
    ("fb.com", Platform.FACEBOOK),
    ("messenger.com", Platform.FACEBOOK),
)

# The one alias table: what a ``via`` may say, on a click and when creating a link alike.
_VIA = {p.value: p for p in Platform} | {"x": Platform.TWITTER, "fb": Platform.FACEBOOK}
PLATFORM_NAMES = tuple(p.value for p in Platform)


def classify_user_agent(user_agent: str | None) -> tuple[Audience, Platform | None]:
    """("bot", platform) for link-preview bots, ("crawler", None), or ("person", None)."""
    return _classify(user_agent[:1024] if user_agent else None)


@functools.lru_cache(maxsize=8192)  # a handful of user agents make most of the traffic
def _classify(user_agent: str | None) -> tuple[Audience, Platform | None]:
    if not user_agent:
        return "crawler", None
    ua = user_agent.lower()
    for needle, platform in _PREVIEW_BOTS:
        if needle in ua and (needle != "teams" or "preview" in ua):
            return "bot", platform
    if any(needle in ua for needle in _CRAWLERS):
        return "crawler", None
    return "person", None


def is_person(user_agent: str | None) -> bool:
    """Neither a link-preview bot nor a crawler: what a click limit counts."""
    return classify_user_agent(user_agent)[0] == "person"


# Which card a preview bot gets (gifdist.media.cards); first match wins.
_CARD_BOTS: tuple[tuple[str, str], ...] = (
    ("telegrambot", "telegram"),
    ("whatsapp", "whatsapp"),
    ("slackbot", "slack"),
    ("slack-imgproxy", "slack"),
    ("discordbot", "discord"),
    ("twitterbot", "twitter"),
    ("facebookexternalhit", "facebook"),
    ("facebookcatalog", "facebook"),
    ("facebot", "facebook"),
    ("meta-externalagent", "facebook"),
)


@functools.lru_cache(maxsize=4096)
def card_bot(user_agent: str | None) -> str | None:
    """The platform whose card a link-preview bot gets ("discord", "twitter", …),
    "other" for other preview bots, None for people and crawlers."""
    if classify_user_agent(user_agent)[0] != "bot":
        return None
    ua = (user_agent or "")[:1024].lower()
    return next((name for needle, name in _CARD_BOTS if needle in ua), "other")


def is_link_preview_bot(user_agent: str | None) -> bool:
    return classify_user_agent(user_agent)[0] == "bot"


def platform_from_referer(referer: str | None) -> Platform | None:
    """The platform a Referer belongs to (exact host or a subdomain of it)."""
    if not referer:
        return None
    rest = referer.split("://", 1)[-1]
    host = rest.split("/", 1)[0].split("@")[-1].split(":")[0].lower().rstrip(".")
    for domain, platform in _REFERERS:
        if host == domain or host.endswith("." + domain):
            return platform
    return None


def platform_from_via(value: str | None) -> Platform | None:
    """The platform named by a ``?via=`` parameter (case-insensitive), or None."""
    if not value or not isinstance(value, str):
        return None
    return _VIA.get(value.strip().lower()[:16])

"""What the asset page shows the GIF's owner: its status and what happens next, share
links per platform, embed codes, the edit form, and its numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any

from gifdist.accounts.keys import ApiKey
from gifdist.analytics.reports import make_window
from gifdist.assets.model import AssetRecord, AssetStatus
from gifdist.wiring import Service

PLATFORMS = (
    ("slack", "Slack"),
    ("discord", "Discord"),
    ("teams", "Teams"),
    ("twitter", "X"),
    ("facebook", "Facebook"),
    ("web", "Web"),
)
STATS_DAYS = 30

STATUS_TEXT = {
    AssetStatus.PENDING: (
        "Waiting for the safety check",
        "Only you can see this GIF for now. This page updates by itself: share links "
        "appear here as soon as it is approved, usually within seconds.",
    ),
    AssetStatus.FLAGGED: (
        "Held for a moderator's review",
        "The safety check was not sure, so a person will look at it. Only you can see it "
        "until then; there is nothing you need to do. This page updates by itself when "
        "a moderator decides.",
    ),
    AssetStatus.REJECTED: (
        "Rejected by the safety check",
        "It will not be shown to anyone and cannot be shared. You may delete it.",
    ),
}


def owner_panel(service: Service, record: AssetRecord, key: ApiKey) -> dict[str, Any]:
    """Everything the owner's panel shows (the caller checked that ``key`` may manage)."""
    settings = service.settings
    status = STATUS_TEXT.get(record.status)
    links = service.sharing.list(key, record.asset_id)
    now = datetime.now(UTC)
    start = (now - timedelta(days=STATS_DAYS)).isoformat(timespec="seconds")
    stats = service.stats.report(make_window(start, None, "day", now=now), asset_id=record.asset_id)
    return {
        "status": record.status.value,
        "status_heading": status[0] if status else "",
        "status_text": status[1] if status else "",
        "shareable": record.is_public,
        "links": links,
        "platform_links": {
            link["via"]: link["short_url"] for link in links if _plain(link) and link["via"]
        },
        "platforms": PLATFORMS,
        "embeds": embed_codes(settings.base_url, record) if record.is_public else [],
        "tags_text": ", ".join(record.tags),
        "max_title": settings.max_title_chars,
        "max_description": settings.max_description_chars,
        "stats": stats,
        "stats_days": STATS_DAYS,
    }


def _plain(link: dict[str, Any]) -> bool:
    """A link anyone may follow for good: the one a platform button hands out again."""
    return not (link["password_protected"] or link["expires_at"] or link["max_clicks"])


def embed_codes(base_url: str, record: AssetRecord) -> list[tuple[str, str, str]]:
    """(id, label, code) for pasting the GIF into a web page, Markdown, or a forum."""
    page = f"{base_url}/a/{record.asset_id}"
    gif = f"{page}.gif"
    title = record.title or "A GIF on gifdist"
    html = (
        f'<a href="{escape(page)}"><img src="{escape(gif)}" width="{record.width}" '
        f'height="{record.height}" alt="{escape(title)}"></a>'
    )
    markdown_title = title.replace("[", "(").replace("]", ")")
    return [
        ("html", "HTML", html),
        ("markdown", "Markdown", f"[![{markdown_title}]({gif})]({page})"),
        ("bbcode", "BBCode", f"[url={page}][img]{gif}[/img][/url]"),
    ]

"""oEmbed answers and the player page's media: the rendition that fits, as HTML."""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import quote

from gifdist.assets.model import AssetRecord
from gifdist.media.cards import choose_embed
from gifdist.media.rendition_store import StoredRendition, rendition_url
from gifdist.media.renditions import RenditionKind


def oembed_body(
    base_url: str,
    record: AssetRecord,
    renditions: dict[RenditionKind, StoredRendition],
    maxwidth: int | None,
    maxheight: int | None,
) -> dict[str, Any]:
    """The oEmbed 1.0 answer: a ``video`` whose ``html`` is the player once the MP4
    exists, else a ``photo`` (the GIF, or the tiny GIF when only it fits)."""
    canonical = f"{base_url}/a/{record.asset_id}"
    title = record.title or "A GIF on gifdist"
    choice = choose_embed(record.width, record.height, renditions, maxwidth, maxheight)
    body: dict[str, Any] = {
        "version": "1.0",
        "type": "video" if choice.video else "photo",
        "title": title,
        "width": choice.width,
        "height": choice.height,
        "provider_name": "gifdist",
        "provider_url": base_url,
        "cache_age": 3600,
    }
    if choice.video:
        player = f"{canonical}/player" + ("?size=tiny" if choice.tiny else "")
        body["html"] = (
            f'<iframe src="{escape(player)}" width="{choice.width}" height="{choice.height}" '
            f'title="{escape(title)}" frameborder="0" allow="autoplay" loading="lazy"></iframe>'
        )
    else:
        kind = RenditionKind.TINY_GIF if choice.tiny else None
        body["url"] = rendition_url(canonical, kind) if kind else f"{canonical}.gif"
    if choice.thumbnail is not None:
        body["thumbnail_url"] = rendition_url(canonical, choice.thumbnail.kind)
        body["thumbnail_width"] = choice.thumbnail.width
        body["thumbnail_height"] = choice.thumbnail.height
    return body


def oembed_link(context: dict[str, Any]) -> str:
    """The ``Link`` header that lets consumers discover the oEmbed endpoint."""
    title = quote(context["title"][:200], safe=" ")
    return f'<{context["oembed_url"]}>; rel="alternate"; type="application/json+oembed"; title="{title}"'


def tiny_media(media: dict[str, Any]) -> dict[str, Any]:
    """The player page's media with the tiny renditions in place of the full ones."""
    swapped = dict(media)
    for kind in ("mp4", "webp", "still"):
        if f"tiny_{kind}" in media:
            swapped[kind] = media[f"tiny_{kind}"]
    return swapped

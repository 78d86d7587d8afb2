"""Server-rendered HTML: the asset page, the link-preview card and error pages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape

from gifdist.assets.model import AssetRecord
from gifdist.media.cards import CardImage, card_for
from gifdist.media.rendition_store import StoredRendition, rendition_url
from gifdist.media.renditions import RenditionKind

TEMPLATES = Path(__file__).parent.parent / "templates"
STATIC = Path(__file__).parent.parent / "static"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    auto_reload=False,
)

ERROR_HEADINGS = {
    400: "That request did not make sense",
    403: "This link is not valid",
    404: "Nothing here",
    429: "Slow down a little",
    500: "Something went wrong on our side",
    503: "Temporarily unavailable",
}


def render(template: str, **context: Any) -> str:
    """Render a template with autoescaping on (all user text is escaped)."""
    return _env.get_template(template).render(**context)


def asset_context(
    base_url: str,
    asset: AssetRecord,
    *,
    title: str | None = None,
    renditions: dict[RenditionKind, StoredRendition] | None = None,
    bot: str | None = None,
    sign: Callable[[str], str] | None = None,
) -> dict[str, Any]:
    """Everything the asset page, the card and the oEmbed answer say about an asset.

    ``media`` holds each made rendition's URL (signed with ``sign`` when given) and
    ``card`` the unfurl tags for the link-preview ``bot`` (see ``gifdist.media.cards``);
    a signed page's card names only the signed GIF.
    """
    canonical_url = f"{base_url}/a/{asset.asset_id}"
    display_title = title or asset.title or "A GIF on gifdist"
    made = renditions or {}
    signed = sign or (lambda url: url)
    gif_url = signed(f"{canonical_url}.gif")
    gif = CardImage(gif_url, asset.content_type, asset.width, asset.height)
    card_renditions = {} if sign is not None else made
    return {
        "asset": asset,
        "title": display_title,
        "description": asset.description[:300],
        "canonical_url": canonical_url,
        "gif_url": gif_url,
        "media": {
            kind.value: {
                "url": signed(rendition_url(canonical_url, kind)),
                "width": item.width,
                "height": item.height,
                "content_type": item.content_type,
            }
            for kind, item in made.items()
        },
        "card": card_for(bot, canonical_url, gif, asset.bytes, card_renditions),
        "oembed_url": f"{base_url}/oembed?format=json&url={quote(canonical_url, safe='')}",
        "base_url": base_url,
    }


def error_page(status: int, message: str, **viewer: Any) -> str:
    """The error page; ``viewer`` says who is signed in (see ``base.viewer_context``)."""
    return render(
        "error.html",
        status=status,
        heading=ERROR_HEADINGS.get(status, "Something went wrong"),
        message=message,
        **viewer,
    )

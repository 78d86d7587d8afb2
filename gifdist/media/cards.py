"""What each platform's link-preview bot is shown, so the GIF animates where it can.

Platforms read different tags (docs/unfurls.md has the table and the sources):

- Discord, Facebook and Telegram animate an ``og:video`` (``og:type video.other``),
  so they get the MP4 with its type and size, and the still as ``og:image``;
  ``og:video:secure_url`` only when the deployment is https.
- X uses only the first frame of an animated GIF; its ``player`` card plays video in
  an https iframe (``/a/{id}/player``) with ``twitter:player:stream`` naming the MP4.
  Over plain http there is no player card: ``summary_large_image`` with the still.
- WhatsApp shows no image at all past about 300 KB: the still, else the tiny still,
  else the GIF when it is small enough, else no image.
- Slack (and everyone else) animate the GIF itself: they keep it.

Until renditions are made every platform gets the GIF (WhatsApp only under 300 KB).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gifdist.media.rendition_store import StoredRendition, rendition_url
from gifdist.media.renditions import RenditionKind

__all__ = [
    "WHATSAPP_MAX_IMAGE_BYTES",
    "Card",
    "CardImage",
    "CardVideo",
    "EmbedChoice",
    "card_for",
    "choose_embed",
    "fit",
]

WHATSAPP_MAX_IMAGE_BYTES = 300 * 1024
VIDEO_BOTS = ("discord", "facebook", "telegram")


@dataclass(frozen=True, slots=True)
class CardImage:
    url: str
    content_type: str
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class CardVideo:
    url: str
    secure_url: str | None
    content_type: str
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class Card:
    """The Open Graph and Twitter tags of one unfurl."""

    og_type: str = "website"
    image: CardImage | None = None
    video: CardVideo | None = None
    twitter_card: str = "summary_large_image"
    twitter_image: str | None = None
    player: CardVideo | None = field(default=None)  # twitter:player (url is the page)
    stream: CardVideo | None = field(default=None)  # twitter:player:stream


def card_for(
    bot: str | None,
    asset_url: str,
    gif: CardImage,
    gif_bytes: int,
    renditions: dict[RenditionKind, StoredRendition],
) -> Card:
    """The card for ``bot`` (None: a person or an unknown fetcher) of the asset at
    ``asset_url``, whose GIF is ``gif`` and whose made renditions are ``renditions``."""
    still = _image(asset_url, renditions.get(RenditionKind.STILL))
    mp4 = renditions.get(RenditionKind.MP4)
    https = asset_url.startswith("https://")
    if bot == "whatsapp":
        return _whatsapp(asset_url, gif, gif_bytes, renditions)
    if bot in VIDEO_BOTS and mp4 is not None:
        video = _video(asset_url, mp4, https)
        poster = still or gif
        return Card(og_type="video.other", image=poster, video=video, twitter_image=poster.url)
    if bot == "twitter" and still is not None:
        if https and mp4 is not None:
            return _twitter_player(asset_url, gif, still, mp4)
        return Card(image=still, twitter_image=still.url)
    return Card(image=gif, twitter_image=gif.url)


def _whatsapp(
    asset_url: str,
    gif: CardImage,
    gif_bytes: int,
    renditions: dict[RenditionKind, StoredRendition],
) -> Card:
    for kind in (RenditionKind.STILL, RenditionKind.TINY_STILL):
        item = renditions.get(kind)
        if item is not None and item.bytes < WHATSAPP_MAX_IMAGE_BYTES:
            image = _image(asset_url, item)
            return Card(image=image, twitter_image=image.url if image else None)
    if gif_bytes < WHATSAPP_MAX_IMAGE_BYTES:
        return Card(image=gif, twitter_image=gif.url)
    return Card()


def _twitter_player(asset_url: str, gif: CardImage, still: CardImage, mp4: StoredRendition) -> Card:
    stream = _video(asset_url, mp4, True)
    page = CardVideo(f"{asset_url}/player", None, "text/html", mp4.width, mp4.height)
    return Card(
        image=still, twitter_card="player", twitter_image=still.url, player=page, stream=stream
    )


def _image(asset_url: str, item: StoredRendition | None) -> CardImage | None:
    if item is None:
        return None
    url = rendition_url(asset_url, item.kind)
    return CardImage(url, item.content_type, item.width, item.height)


def _video(asset_url: str, item: StoredRendition, https: bool) -> CardVideo:
    url = rendition_url(asset_url, item.kind)
    return CardVideo(url, url if https else None, item.content_type, item.width, item.height)


@dataclass(frozen=True, slots=True)
class EmbedChoice:
    """What an oEmbed answer embeds within ``maxwidth`` × ``maxheight``."""

    tiny: bool  # the tiny renditions fit where the full-size ones do not
    width: int
    height: int
    video: bool  # a player (MP4) rather than the GIF as a photo
    thumbnail: StoredRendition | None


def choose_embed(
    width: int,
    height: int,
    renditions: dict[RenditionKind, StoredRendition],
    maxwidth: int | None,
    maxheight: int | None,
) -> EmbedChoice:
    """The largest rendition that fits the consumer's bounds, scaled down if none does.

    With an MP4 the embed is the player (full size, else tiny); without one, the GIF
    (or the tiny GIF when only it fits). The thumbnail is the still that fits.
    """
    video = RenditionKind.MP4 in renditions
    if video:
        mp4 = renditions[RenditionKind.MP4]
        full, tiny_item = (mp4.width, mp4.height), renditions.get(RenditionKind.TINY_MP4)
    else:
        full, tiny_item = (width, height), renditions.get(RenditionKind.TINY_GIF)
    tiny = bool(tiny_item) and not _fits(*full, maxwidth, maxheight)
    base = (tiny_item.width, tiny_item.height) if tiny and tiny_item else full
    fitted = fit(*base, maxwidth, maxheight)
    still_kinds = (RenditionKind.STILL, RenditionKind.TINY_STILL)
    thumbnail = next(
        (
            renditions[k]
            for k in still_kinds
            if k in renditions
            and _fits(renditions[k].width, renditions[k].height, maxwidth, maxheight)
        ),
        renditions.get(RenditionKind.TINY_STILL),
    )
    return EmbedChoice(
        tiny=tiny, width=fitted[0], height=fitted[1], video=video, thumbnail=thumbnail
    )


def fit(width: int, height: int, maxwidth: int | None, maxheight: int | None) -> tuple[int, int]:
    """``width`` × ``height`` scaled down (never up) to fit the bounds, same shape."""
    scale = min(
        1.0,
        (maxwidth / width) if maxwidth else 1.0,
        (maxheight / height) if maxheight else 1.0,
    )
    return max(1, round(width * scale)), max(1, round(height * scale))


def _fits(width: int, height: int, maxwidth: int | None, maxheight: int | None) -> bool:
    return (maxwidth is None or width <= maxwidth) and (maxheight is None or height <= maxheight)

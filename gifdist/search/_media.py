"""The files a search hit can offer: the original GIF plus whatever renditions exist.

Renditions (MP4, WebP, stills, tiny variants) are made per content by the media
worker and looked up by the content's SHA-256 through a ``RenditionLookup``; until
one is wired in, every hit still offers its original GIF.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gifdist.assets import AssetRecord
from gifdist.media.kinds import STILL_KINDS, RenditionKind

__all__ = ["Rendition", "RenditionKind", "RenditionLookup", "media_of", "no_renditions"]


@dataclass(frozen=True, slots=True)
class Rendition:
    """One file of a content: where it is served and what it measures."""

    kind: RenditionKind
    url: str
    width: int
    height: int
    bytes: int
    content_type: str
    duration_ms: int = 0


RenditionLookup = Callable[[AssetRecord], Sequence[Rendition]]
"""Renditions stored for an asset's content (urls absolute or relative to the base URL)."""


def no_renditions(_record: AssetRecord) -> Sequence[Rendition]:
    return ()


def media_of(
    record: AssetRecord, base_url: str, lookup: RenditionLookup = no_renditions
) -> dict[RenditionKind, Rendition]:
    """Every file of ``record`` by kind: the original GIF always, renditions when made.

    Animated renditions take the GIF's loop duration; stills have none.
    """
    found = {
        RenditionKind.GIF: Rendition(
            RenditionKind.GIF,
            f"{base_url}/a/{record.asset_id}.gif",
            record.width,
            record.height,
            record.bytes,
            record.content_type,
            record.duration_ms,
        )
    }
    for rendition in lookup(record):
        if rendition.kind is RenditionKind.GIF:
            continue  # the original is served as the asset's own .gif URL
        url = f"{base_url}{rendition.url}" if rendition.url.startswith("/") else rendition.url
        duration = 0 if rendition.kind in STILL_KINDS else record.duration_ms
        found[rendition.kind] = Rendition(
            rendition.kind,
            url,
            rendition.width,
            rendition.height,
            rendition.bytes,
            rendition.content_type,
            duration,
        )
    return found

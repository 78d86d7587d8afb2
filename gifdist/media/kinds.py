"""The files gifdist serves of one content: the original GIF and its renditions.

One enum for the whole code base: the rendition maker, the renditions table, the
asset JSON and the search results (Tenor and GIPHY shapes) all name files by it.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["MADE_KINDS", "STILL_KINDS", "RenditionKind"]


class RenditionKind(StrEnum):
    """A file of a content: ``gif`` is the uploaded original, the others are made
    from it by the media worker."""

    GIF = "gif"
    MP4 = "mp4"
    WEBP = "webp"
    STILL = "still"
    TINY_GIF = "tiny_gif"
    TINY_MP4 = "tiny_mp4"
    TINY_WEBP = "tiny_webp"
    TINY_STILL = "tiny_still"

    @property
    def content_type(self) -> str:
        return _CONTENT_TYPES[self.value.removeprefix("tiny_")]

    @property
    def tiny(self) -> bool:
        return self.value.startswith("tiny_")

    @property
    def animated(self) -> bool:
        return self not in STILL_KINDS

    @property
    def made(self) -> bool:
        """Whether the media worker makes this file (everything but the original)."""
        return self is not RenditionKind.GIF


_CONTENT_TYPES = {
    "gif": "image/gif",
    "mp4": "video/mp4",
    "webp": "image/webp",
    "still": "image/jpeg",
}

STILL_KINDS = frozenset({RenditionKind.STILL, RenditionKind.TINY_STILL})
MADE_KINDS: tuple[RenditionKind, ...] = tuple(kind for kind in RenditionKind if kind.made)

"""What is recorded about renditions, and the store interface the worker and web use.

A content (bytes by SHA-256) has at most one rendition of each ``RenditionKind``;
each rendition's bytes are a blob of their own, named by *their* SHA-256, so the
delivery guarantees of the GIF (strong ETag, immutable caching) carry over.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from gifdist.media.kinds import MADE_KINDS, RenditionKind

__all__ = [
    "RENDITION_SUFFIXES",
    "RenditionJobCounts",
    "RenditionStore",
    "StoredRendition",
    "parse_rendition_path",
    "rendition_url",
    "renditions_json",
]


@dataclass(frozen=True, slots=True)
class StoredRendition:
    """One stored rendition of a content."""

    sha256: str  # the content (the GIF) it was made from
    kind: RenditionKind
    blob_sha256: str  # its own bytes in the blob store
    content_type: str
    width: int
    height: int
    bytes: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RenditionJobCounts:
    queued: int
    running: int
    failed: int


class RenditionStore(Protocol):
    """Rendition rows and the conversion job queue (one job per content)."""

    def for_content(self, sha256: str) -> dict[RenditionKind, StoredRendition]: ...

    def record(self, renditions: Iterable[StoredRendition]) -> None:
        """Insert or replace rows (a rerun replaces what an earlier one made)."""
        ...

    def remove_content(self, sha256: str) -> list[str]:
        """Drop a content's rows; the blob names no other content's rendition uses."""
        ...

    def enqueue(self, sha256: str, *, retry_failed: bool = False) -> bool:
        """Queue a conversion unless one is queued, running or done; True if queued."""
        ...

    def claim(self, worker_id: str, now: datetime, *, only: str | None = None) -> str | None:
        """The next due job's content hash (or ``only``'s), now held by ``worker_id``;
        None when there is none."""
        ...

    def finish(self, sha256: str, note: str | None = None) -> None: ...

    def fail(self, sha256: str, error: str, retry_at: datetime | None) -> int:
        """Requeue for ``retry_at``, or park as failed when None; the attempts so far."""
        ...

    def attempts(self, sha256: str) -> int: ...

    def requeue_stale(self, claimed_before: datetime) -> int: ...

    def counts(self) -> RenditionJobCounts: ...

    def failed_contents(self) -> list[str]: ...

    def approved_contents(self) -> list[str]:
        """Contents with an approved asset whose conversion has not finished."""
        ...


# public URLs -----------------------------------------------------------------------------

# Where each rendition of asset ``{id}`` is served, beside ``/a/{id}.gif``.
RENDITION_SUFFIXES: dict[RenditionKind, str] = {
    RenditionKind.MP4: ".mp4",
    RenditionKind.WEBP: ".webp",
    RenditionKind.STILL: ".jpg",
    RenditionKind.TINY_GIF: "/tiny.gif",
    RenditionKind.TINY_MP4: "/tiny.mp4",
    RenditionKind.TINY_WEBP: "/tiny.webp",
    RenditionKind.TINY_STILL: "/tiny.jpg",
}
_BY_SUFFIX = sorted(
    ((suffix, kind) for kind, suffix in RENDITION_SUFFIXES.items()), key=lambda p: -len(p[0])
)


def rendition_url(asset_url: str, kind: RenditionKind) -> str:
    """The rendition's URL from the asset page's (``…/a/{id}``)."""
    return asset_url + RENDITION_SUFFIXES[kind]


def parse_rendition_path(rest: str) -> tuple[str, RenditionKind] | None:
    """``{id}.mp4`` → (id, MP4), ``{id}/tiny.gif`` → (id, TINY_GIF); None otherwise."""
    for suffix, kind in _BY_SUFFIX:
        if rest.endswith(suffix):
            return rest[: -len(suffix)], kind
    return None


def renditions_json(
    asset_url: str,
    gif: dict[str, Any],
    stored: dict[RenditionKind, StoredRendition],
    sign: Callable[[str], str] | None = None,
) -> dict[str, dict[str, Any]]:
    """The asset JSON's ``renditions``: ``gif`` and each made rendition (absent until
    made) as ``{url, width, height, bytes, content_type}``; ``sign`` signs each URL."""
    sign = sign or (lambda url: url)
    body = {"gif": {**gif, "url": sign(gif["url"])}}
    for kind in MADE_KINDS:
        item = stored.get(kind)
        if item is not None:
            body[kind.value] = {
                "url": sign(rendition_url(asset_url, kind)),
                "width": item.width,
                "height": item.height,
                "bytes": item.bytes,
                "content_type": item.content_type,
            }
    return body

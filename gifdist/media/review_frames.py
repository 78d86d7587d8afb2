"""Rendering the frames a reviewer looks at (the use case is
``gifdist.moderation.review_frames``): once per content, at scan time.

Sampling decodes the whole GIF (see ``gifdist.media.frames``), which for a large
GIF costs seconds and hundreds of megabytes. Review pages and the frames API must
never pay that per view, so the moderation worker renders the sampled frames as
small PNGs when it scans a content and stores them by SHA-256; readers only read
the store. A content scanned before frames were stored (or with moderation off)
is rendered once, on first request, through the same decode slots.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from gifdist.media.frames import sample_frames

REVIEW_FRAMES = 6
THUMBNAIL_SIDE = 320


@dataclass(frozen=True, slots=True)
class ReviewFrame:
    index: int
    reason: str
    png: bytes


class ReviewFrameStore(Protocol):
    def get(self, sha256: str) -> list[ReviewFrame] | None: ...
    def put(self, sha256: str, frames: Sequence[ReviewFrame]) -> None: ...


def render_review_frames(
    path: str | os.PathLike[str], max_frames: int = REVIEW_FRAMES
) -> list[ReviewFrame]:
    """Sample the GIF at ``path`` and make a PNG thumbnail of each sampled frame.

    Raises ``InvalidMedia`` for files that cannot be decoded.
    """
    frames = []
    for frame in sample_frames(path, max_frames=max_frames):
        image = frame.image.copy()
        image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        out = io.BytesIO()
        image.save(out, "PNG", optimize=True)
        frames.append(ReviewFrame(frame.index, str(frame.reason), out.getvalue()))
    return frames

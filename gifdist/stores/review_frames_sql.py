"""Reviewers' sampled frames in SQL, one set per content (SHA-256)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine, delete, insert, select

from gifdist.media.review_frames import ReviewFrame
from gifdist.stores.schema import review_frames


class SqlReviewFrameStore:
    """``review_frames`` rows: PNG thumbnails of the frames the scanner sampled."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, sha256: str) -> list[ReviewFrame] | None:
        """The stored frames in index order, or None when none were rendered."""
        c = review_frames.c
        query = (
            select(c.frame_index, c.reason, c.png).where(c.sha256 == sha256).order_by(c.frame_index)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [ReviewFrame(int(i), str(r), bytes(p)) for i, r, p in rows] or None

    def put(self, sha256: str, frames: Sequence[ReviewFrame]) -> None:
        """Replace the frames of ``sha256`` (idempotent: a rescan writes the same set)."""
        with self.engine.begin() as conn:
            conn.execute(delete(review_frames).where(review_frames.c.sha256 == sha256))
            if frames:
                conn.execute(
                    insert(review_frames),
                    [
                        {"sha256": sha256, "frame_index": f.index, "reason": f.reason, "png": f.png}
                        for f in frames
                    ],
                )

    def delete(self, sha256: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(review_frames).where(review_frames.c.sha256 == sha256))

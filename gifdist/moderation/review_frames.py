"""The frames a reviewer should look at: what the visual scanner samples, as small PNGs."""

from __future__ import annotations

import io
from typing import Any

from gifdist.assets.catalog import AssetCatalog
from gifdist.caching.ttl import TTLCache
from gifdist.errors import NotFound
from gifdist.media.frames import sample_frames


class ReviewFrames:
    """First, last, scene changes and evenly spaced frames of an asset (cached)."""

    def __init__(self, catalog: AssetCatalog) -> None:
        self.catalog = catalog
        self._cache: TTLCache[tuple[str, int], list[dict[str, Any]]] = TTLCache(64, ttl=600)

    def sampled(self, asset_id: str, max_frames: int = 6) -> list[dict[str, Any]]:
        cached = self._cache.get((asset_id, max_frames))
        if cached is not None:
            return cached
        record = self.catalog.require(asset_id)
        path = self.catalog.blob_path(record)
        if path is None:
            raise NotFound("the bytes of this GIF are not on this node's disk")
        frames = []
        for frame in sample_frames(path, max_frames=max_frames):
            image = frame.image.copy()
            image.thumbnail((320, 320))
            out = io.BytesIO()
            image.save(out, "PNG", optimize=True)
            frames.append(
                {"index": frame.index, "reason": str(frame.reason), "png": out.getvalue()}
            )
        self._cache.set((asset_id, max_frames), frames)
        return frames

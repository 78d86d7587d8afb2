"""The frames a reviewer should look at: what the visual scanner samples, as small PNGs.

Rendered once per content (SHA-256) when it is scanned, or when it enters review
unscanned, and stored; review pages and the frames API read the store and never
decode a GIF per view (see ``gifdist.media.review_frames``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gifdist.assets.catalog import AssetCatalog
from gifdist.media.gif import DecodeSlots
from gifdist.media.review_frames import ReviewFrame, ReviewFrameStore, render_review_frames


class ReviewFrames:
    """Renders (once, in a decode slot) and reads reviewers' frames by content."""

    def __init__(
        self,
        catalog: AssetCatalog,
        store: ReviewFrameStore,
        slots: DecodeSlots,
        render: Callable[[str], list[ReviewFrame]] = render_review_frames,
    ) -> None:
        self.catalog = catalog
        self.store = store
        self.slots = slots
        self.render = render

    def sampled(self, asset_id: str, *, render_missing: bool = True) -> list[dict[str, Any]]:
        """First, last, scene-change and evenly spaced frames of an asset's content.

        Stored frames are read; with ``render_missing`` a content without them is
        rendered this once (``NotFound`` for an unknown asset), else it has none yet.
        """
        record = self.catalog.require(asset_id)
        if render_missing:
            frames = self.get_or_render(record.sha256, lambda: self.catalog.blob_path(record))
        else:
            frames = self.stored(record.sha256) or []
        return [{"index": f.index, "reason": f.reason, "png": f.png} for f in frames]

    def render_and_store(self, sha256: str, path: str) -> list[ReviewFrame]:
        """Decode ``path`` once and keep its frames under ``sha256``."""
        with self.slots.hold():
            frames = self.render(path)
        self.store.put(sha256, frames)
        return frames

    def stored(self, sha256: str) -> list[ReviewFrame] | None:
        """The frames already rendered for ``sha256`` (never decodes)."""
        return self.store.get(sha256)

    def get_or_render(self, sha256: str, path: Callable[[], str | None]) -> list[ReviewFrame]:
        """Stored frames, or render them this once (``path()`` gives the bytes' file;
        None means they are not on this node: no frames)."""
        frames = self.store.get(sha256)
        if frames is not None:
            return frames
        local = path()
        return [] if local is None else self.render_and_store(sha256, local)

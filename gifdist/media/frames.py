"""Pick a few representative frames of an animated image for visual checks.

A moderation model cannot look at every frame of a 5,000-frame GIF, and looking only
at the first frame misses content spliced into the middle. ``sample_frames`` keeps
the first and last frames, the strongest scene changes and evenly spaced frames in
between, at most ``max_frames`` of them.

Cost, whatever the frame count:

- one metadata scan to count frames (Pillow walks the GIF blocks without decoding
  pixels);
- one sequential decode of every frame (GIF frames are deltas, so Pillow has to
  decode them in order anyway), plus a 16×16 grayscale thumbnail per frame and a
  comparison with the previous thumbnail;
- memory for at most ``1.5 * max_frames`` full RGB frames (the evenly spaced
  candidates, known up front from the frame count, and a bounded min-heap of the
  strongest scene changes) and two thumbnails. A frame costs 3 bytes per canvas
  pixel, so the caller's canvas-size limit (upload validation) is what bounds the
  total; canvases past ``PIL.Image.MAX_IMAGE_PIXELS`` are refused here regardless.
"""

from __future__ import annotations

import heapq
import os
import struct
from dataclasses import dataclass
from enum import StrEnum

from PIL import Image, ImageChops, ImageStat

from gifdist.errors import InvalidMedia

__all__ = [
    "DEFAULT_MAX_FRAMES",
    "DEFAULT_SCENE_CHANGE_THRESHOLD",
    "SampleReason",
    "SampledFrame",
    "sample_frames",
]

DEFAULT_MAX_FRAMES = 12
# Mean absolute difference of consecutive 16×16 grayscale thumbnails, as a fraction of
# full scale (0..1). 0.12 is about 30 grey levels: a cut or a flash, not dithering noise.
DEFAULT_SCENE_CHANGE_THRESHOLD = 0.12
_THUMBNAIL_SIZE = (16, 16)

# What Pillow raises on truncated, corrupt or hostile image data.
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    struct.error,
    Image.DecompressionBombError,
    # Raised rather than emitted where warnings are errors (as under the test suite).
    Image.DecompressionBombWarning,
)


class SampleReason(StrEnum):
    """Why a frame was picked; earlier members win when one frame has several reasons."""

    FIRST = "first"
    LAST = "last"
    SCENE_CHANGE = "scene_change"
    EVEN = "even"


@dataclass(frozen=True)
class SampledFrame:
    """One picked frame: its index, the full composited RGB image, and why it was picked."""

    index: int
    image: Image.Image
    reason: str


def sample_frames(
    path: str | os.PathLike[str],
    *,
    max_frames: int = DEFAULT_MAX_FRAMES,
    scene_change_threshold: float = DEFAULT_SCENE_CHANGE_THRESHOLD,
) -> list[SampledFrame]:
    """Return up to ``max_frames`` representative frames of the image at ``path``, in index order.

    The first and last frames are always picked; then the frames where the picture
    changes most (mean thumbnail difference from the previous frame at least
    ``scene_change_threshold``), up to half of the remaining slots; then evenly
    spaced frames filling the largest gaps.

    Raises ValueError for a bad argument and InvalidMedia when the file is missing,
    unreadable, corrupt or not an image.
    """
    if max_frames < 1:
        raise ValueError("max_frames must be at least 1")
    if not 0.0 < scene_change_threshold <= 1.0:
        raise ValueError("scene_change_threshold must be in (0, 1]")
    try:
        with Image.open(path) as image:
            return _sample_open_image(image, max_frames, scene_change_threshold)
    except _DECODE_ERRORS as exc:
        raise InvalidMedia(f"cannot read the image frames: {exc}") from exc


def _sample_open_image(image: Image.Image, max_frames: int, threshold: float) -> list[SampledFrame]:
    """Decode every frame once, keeping only candidate frames and the strongest changes.

    Raises InvalidMedia when the canvas is larger than Pillow's decompression-bomb limit.
    """
    _check_canvas(image)
    total = int(getattr(image, "n_frames", 1))
    planned = _evenly_spaced(total, max_frames)
    kept: dict[int, Image.Image] = {}
    changes: dict[int, float] = {}
    heap: list[tuple[float, int, Image.Image]] = []
    previous: Image.Image | None = None
    for index in range(total):
        image.seek(index)
        thumbnail = image.convert("L").resize(_THUMBNAIL_SIZE, Image.Resampling.BOX)
        change = _difference(previous, thumbnail)
        previous = thumbnail
        if index in planned:
            kept[index] = image.convert("RGB")
            if change >= threshold:
                changes[index] = change
        elif change >= threshold:
            _push_bounded(heap, _scene_budget(max_frames), (change, index, image))
    for change, index, frame in heap:
        kept[index] = frame
        changes[index] = change
    return _select(total, max_frames, kept, changes)


def _check_canvas(image: Image.Image) -> None:
    """Refuse canvases past ``Image.MAX_IMAGE_PIXELS`` before decoding any frame.

    Pillow only warns between one and two times that limit; every sampled frame is a
    full-canvas RGB copy, so this bound is what keeps the sampler's memory bounded.
    """
    width, height = image.size
    limit = Image.MAX_IMAGE_PIXELS
    if limit is not None and width * height > limit:
        raise InvalidMedia(f"canvas of {width}x{height} pixels is larger than allowed")


def _push_bounded(
    heap: list[tuple[float, int, Image.Image]],
    capacity: int,
    item: tuple[float, int, Image.Image],
) -> None:
    """Keep the ``capacity`` strongest scene changes (a min-heap), copying a frame only if kept."""
    if capacity <= 0 or (len(heap) >= capacity and item[0] <= heap[0][0]):
        return
    change, index, image = item
    entry = (change, index, image.convert("RGB"))
    if len(heap) < capacity:
        heapq.heappush(heap, entry)
    else:
        heapq.heapreplace(heap, entry)


def _evenly_spaced(total: int, count: int) -> set[int]:
    """``count`` indices spread evenly over ``range(total)``, always including both ends."""
    if count <= 1 or total <= 1:
        return {0}
    if total <= count:
        return set(range(total))
    return {round(step * (total - 1) / (count - 1)) for step in range(count)}


def _difference(previous: Image.Image | None, current: Image.Image) -> float:
    """Mean absolute difference of two grayscale thumbnails, as a fraction of full scale."""
    if previous is None:
        return 0.0
    mean = ImageStat.Stat(ImageChops.difference(previous, current)).mean[0]
    return float(mean) / 255.0


def _select(
    total: int, max_frames: int, kept: dict[int, Image.Image], changes: dict[int, float]
) -> list[SampledFrame]:
    """Choose first, last, the strongest scene changes, then evenly spaced frames filling gaps."""
    reasons: dict[int, SampleReason] = {0: SampleReason.FIRST}
    if max_frames > 1:
        reasons.setdefault(total - 1, SampleReason.LAST)
    for index in _strongest_spread(changes, _scene_budget(max_frames), total // (2 * max_frames)):
        reasons.setdefault(index, SampleReason.SCENE_CHANGE)
    spare = [index for index in kept if index not in reasons]
    while len(reasons) < max_frames and spare:
        index = max(spare, key=lambda candidate: _gap(candidate, reasons))
        spare.remove(index)
        reasons[index] = SampleReason.SCENE_CHANGE if index in changes else SampleReason.EVEN
    return [SampledFrame(index, kept[index], str(reasons[index])) for index in sorted(reasons)]


def _strongest_spread(changes: dict[int, float], budget: int, min_spacing: int) -> list[int]:
    """Up to ``budget`` strongest scene changes, no two closer than ``min_spacing`` frames.

    The budget (half the slots between first and last) and the spacing stop a strobing
    stretch, where every frame is a scene change, from taking every slot and leaving
    the rest of the animation unseen.
    """
    picked: list[int] = []
    for index in sorted(changes, key=lambda index: (-changes[index], index)):
        if len(picked) >= budget:
            break
        if all(abs(index - other) >= min_spacing for other in picked):
            picked.append(index)
    return picked


def _scene_budget(max_frames: int) -> int:
    """Slots scene changes may take: half of those between first and last, rounded up."""
    return (max_frames - 1) // 2


def _gap(candidate: int, chosen: dict[int, SampleReason]) -> int:
    """Distance from ``candidate`` to the nearest already chosen frame."""
    return min(abs(candidate - index) for index in chosen)

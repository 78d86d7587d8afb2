"""Renditions of a GIF: MP4 and WebP videos, a still, and tiny versions of each.

Every GIF platform serves video, because GIF is the most expensive way to ship
animation. ``make_renditions`` turns one GIF into:

- ``mp4``: H.264 (libx264 when the FFmpeg build has it), yuv420p, even dimensions,
  ``faststart`` (the index before the data, so playback starts before the download
  ends) and the GIF's own frame timing (variable frame rate, one video frame per
  GIF frame, each lasting its delay);
- ``webp``: animated WebP (Pillow's libwebp encoder), keeping transparency;
- ``still``: a JPEG of a representative frame (the most detailed of up to
  ``STILL_CANDIDATES`` evenly spaced frames, so a fade-in's blank first frame is
  not the poster);
- ``tiny_gif``, ``tiny_mp4``, ``tiny_webp``, ``tiny_still``: the same at most
  ``TINY_WIDTH`` px wide (and ``TINY_MAX_HEIGHT`` high), for pickers and previews.

Frame timing follows browsers (as ``gifdist.media.gif`` does): a delay under 20 ms,
or none, plays for 100 ms; FFmpeg's GIF demuxer applies the same rule. Videos have
no alpha channel, so transparent pixels are composited over white in the MP4s and
the stills; the WebP and GIF renditions keep transparency.

Cost: one PyAV decode of the GIF feeds both MP4 encoders and the still picker,
holding one frame at a time; each Pillow rendition (WebP, tiny WebP, tiny GIF)
decodes the GIF once more, also a frame at a time (Pillow's GIF writer keeps the
tiny frames, ``TINY_WIDTH`` × ``TINY_MAX_HEIGHT`` bytes each at most). A
``RenditionBudget`` deadline is checked at every frame; ``convert_within_budget``
also runs the conversion in a child process with a memory limit, so a hostile GIF
costs at most the budget and never the server.

A rendition that cannot be made is *skipped* with its reason (logged on
``gifdist.renditions``); the others are still made.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from functools import cache, partial
from pathlib import Path
from typing import Any

from PIL import Image, ImageStat

from gifdist.errors import GifdistError
from gifdist.media.kinds import MADE_KINDS, RenditionKind

__all__ = [
    "ALL_KINDS",
    "TINY_WIDTH",
    "MadeRendition",
    "RenditionBudget",
    "RenditionFailed",
    "RenditionKind",
    "RenditionResult",
    "convert_within_budget",
    "h264_encoder",
    "make_renditions",
    "tiny_size",
]

log = logging.getLogger("gifdist.renditions")

TINY_WIDTH = 220
TINY_MAX_HEIGHT = 660
STILL_CANDIDATES = 24
# H.264 level 5.1's largest frame (36,864 macroblocks): what browsers and phones
# decode in hardware. Bigger GIFs get a proportionally scaled-down video.
MAX_VIDEO_PIXELS = 36_864 * 256
_GIF_TIME_BASE = Fraction(1, 100)  # GIF delays are hundredths of a second
_BROWSER_MIN_DELAY_MS = 20
_BROWSER_DEFAULT_DELAY_MS = 100
_H264_ENCODERS = ("libx264", "h264", "libopenh264", "h264_videotoolbox", "h264_v4l2m2m")
_WHITE = (255, 255, 255, 255)
_NO_KEYFRAMES = 1_000_000
_FLAT_COLOURS = 128


class RenditionFailed(GifdistError):
    """A conversion could not finish (budget exceeded, encoder error, child crashed)."""

    code = "rendition_failed"
    status = 500


ALL_KINDS: tuple[RenditionKind, ...] = MADE_KINDS


@dataclass(frozen=True, slots=True)
class RenditionBudget:
    """What one GIF's conversion may cost at most; past it, renditions are skipped."""

    max_seconds: float = 120.0  # wall clock for the whole conversion
    max_memory_bytes: int = 1536 * 1024 * 1024  # address space of the converting process
    max_frames: int = 2000
    max_total_pixels: int = 400_000_000  # width × height × frames of the GIF
    threads: int = 1  # encoder threads: one conversion uses about one core


@dataclass(frozen=True, slots=True)
class MadeRendition:
    """One rendition written to ``path``."""

    kind: RenditionKind
    path: str
    width: int
    height: int
    bytes: int
    content_type: str


@dataclass(slots=True)
class RenditionResult:
    """What a conversion made, and why anything else was skipped."""

    made: dict[RenditionKind, MadeRendition] = field(default_factory=dict)
    skipped: dict[RenditionKind, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "made": {kind.value: asdict(item) for kind, item in self.made.items()},
            "skipped": {kind.value: reason for kind, reason in self.skipped.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RenditionResult:
        made = {
            RenditionKind(kind): MadeRendition(**{**item, "kind": RenditionKind(item["kind"])})
            for kind, item in data["made"].items()
        }
        skipped = {RenditionKind(kind): reason for kind, reason in data["skipped"].items()}
        return cls(made, skipped)


class _Deadline:
    """Raises ``RenditionFailed`` once the budget's wall-clock time is spent."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.ends:
            raise RenditionFailed(f"the conversion took longer than its {self.seconds:g} s budget")


# sizes -----------------------------------------------------------------------------


def tiny_size(width: int, height: int) -> tuple[int, int]:
    """The tiny renditions' size: at most ``TINY_WIDTH`` × ``TINY_MAX_HEIGHT``, same shape."""
    scale = min(1.0, TINY_WIDTH / width, TINY_MAX_HEIGHT / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def video_size(width: int, height: int) -> tuple[int, int]:
    """Even dimensions (yuv420p halves the chroma planes) within ``MAX_VIDEO_PIXELS``."""
    scale = min(1.0, (MAX_VIDEO_PIXELS / (width * height)) ** 0.5)
    w, h = max(1, int(width * scale)), max(1, int(height * scale))
    return w + (w & 1), h + (h & 1)


@cache
def h264_encoder() -> str:
    """The best H.264 encoder this FFmpeg build has (libx264 first)."""
    import av

    for name in _H264_ENCODERS:
        try:
            av.codec.Codec(name, "w")
        except Exception:  # PyAV raises UnknownCodecError or ValueError by version
            continue
        return name
    raise RenditionFailed("this FFmpeg build has no H.264 encoder")


# the public entry points -------------------------------------------------------------


def make_renditions(
    gif_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    kinds: Iterable[RenditionKind] = ALL_KINDS,
    budget: RenditionBudget = RenditionBudget(),
) -> RenditionResult:
    """Convert the GIF at ``gif_path`` into ``kinds``, written under ``out_dir``.

    Each rendition that cannot be made is in ``skipped`` with its reason (and a log
    line); the rest are made. Raises ``RenditionFailed`` only when the GIF cannot
    be opened at all.
    """
    wanted = list(dict.fromkeys(RenditionKind(kind) for kind in kinds))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    source = _GifSource.open(gif_path)
    result = RenditionResult()
    deadline = _Deadline(budget.max_seconds)
    too_big = _over_budget(source, budget)
    if too_big:
        for kind in wanted:
            if kind.animated:
                result.skipped[kind] = too_big
        wanted = [kind for kind in wanted if not kind.animated]
    _video_pass(source, out, wanted, result, deadline, budget, first_frame_only=bool(too_big))
    for kind in (RenditionKind.WEBP, RenditionKind.TINY_WEBP, RenditionKind.TINY_GIF):
        if kind in wanted:
            _guarded(result, kind, partial(_pillow_rendition, source, out, kind, deadline))
    for kind, reason in result.skipped.items():
        log.warning("rendition %s of %s skipped: %s", kind.value, source.name, reason)
    return result


def convert_within_budget(
    gif_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    kinds: Iterable[RenditionKind] = ALL_KINDS,
    budget: RenditionBudget = RenditionBudget(),
) -> RenditionResult:
    """``make_renditions`` in a child process held to ``budget``'s memory and time.

    The child (from a fork server, so a threaded server is never forked) gets an
    address-space limit and a lower CPU priority, and is killed when it outlives
    the time budget. Raises ``RenditionFailed`` when it was killed or crashed
    (out of memory, a decoder fault): the caller retries later or gives up.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / "manifest.json"
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["av", "PIL.Image", "gifdist.media.renditions"])
    child = context.Process(
        target=_convert_in_child,
        args=(str(gif_path), str(out), [RenditionKind(k).value for k in kinds], budget),
        name="gifdist-renditions",
        daemon=True,
    )
    child.start()
    child.join(budget.max_seconds + 10.0)  # the child's own deadline fires first
    if child.is_alive():
        child.kill()
        child.join()
        raise RenditionFailed(f"the conversion outlived its {budget.max_seconds:g} s budget")
    if child.exitcode != 0 or not manifest.is_file():
        limit_mb = budget.max_memory_bytes // (1024 * 1024)
        raise RenditionFailed(
            f"the converting process exited with code {child.exitcode} "
            f"(a crash, or past its {limit_mb} MB memory budget)"
        )
    return RenditionResult.from_json(json.loads(manifest.read_text()))


def _convert_in_child(
    gif_path: str, out_dir: str, kinds: list[str], budget: RenditionBudget
) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (budget.max_memory_bytes, budget.max_memory_bytes))
    os.nice(10)
    result = make_renditions(
        gif_path, out_dir, kinds=[RenditionKind(k) for k in kinds], budget=budget
    )
    Path(out_dir, "manifest.json").write_text(json.dumps(result.to_json()))


def _over_budget(source: _GifSource, budget: RenditionBudget) -> str | None:
    total = source.width * source.height * source.frames
    if source.frames > budget.max_frames:
        return f"{source.frames:,} frames is past the budget of {budget.max_frames:,}"
    if total > budget.max_total_pixels:
        return f"{total:,} pixels in all frames is past the budget of {budget.max_total_pixels:,}"
    return None


def _guarded(
    result: RenditionResult, kind: RenditionKind, make: Callable[[], MadeRendition]
) -> None:
    """Run one rendition's conversion; a failure skips it, with the reason."""
    try:
        result.made[kind] = make()
    except (RenditionFailed, OSError, ValueError, MemoryError, EOFError) as exc:
        result.skipped[kind] = _reason(exc)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, RenditionFailed):
        return exc.message
    return f"{type(exc).__name__}: {exc}"[:300]


# the GIF being converted -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _GifSource:
    path: str
    name: str
    width: int
    height: int
    frames: int
    delays_ms: tuple[int, ...]  # one per frame, as browsers play them

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> _GifSource:
        """Read the GIF's size and frame delays from its packets (nothing decoded)."""
        import av

        try:
            with av.open(str(path), format="gif") as container:
                stream = container.streams.video[0]
                delays = [
                    _browser_delay_ms(packet.duration)
                    for packet in container.demux(stream)
                    if packet.size
                ]
                width, height = stream.codec_context.width, stream.codec_context.height
        except (av.FFmpegError, IndexError) as exc:
            raise RenditionFailed(f"the GIF cannot be opened: {exc}") from None
        if not delays or not width or not height:
            raise RenditionFailed("the GIF has no frames")
        return cls(str(path), Path(path).name[:16], width, height, len(delays), tuple(delays))

    def loop_ms(self) -> int:
        return sum(self.delays_ms)


def _browser_delay_ms(duration_cs: int | None) -> int:
    delay = (duration_cs or 0) * 10
    return _BROWSER_DEFAULT_DELAY_MS if delay < _BROWSER_MIN_DELAY_MS else delay


def _flatten(image: Image.Image) -> Image.Image:
    """An RGB copy with transparent pixels composited over white."""
    if image.mode != "RGBA":
        return image.convert("RGB")
    lowest_alpha = image.getchannel("A").getextrema()[0]
    if lowest_alpha == 255:  # fully opaque: nothing to composite
        return image.convert("RGB")
    background = Image.new("RGBA", image.size, _WHITE)
    return Image.alpha_composite(background, image).convert("RGB")


# one decode for the MP4s and the stills -------------------------------------------------


class _Mp4Writer:
    """An H.264 MP4 fed one RGB frame at a time, each lasting its GIF delay."""

    def __init__(self, path: Path, size: tuple[int, int], threads: int) -> None:
        import av

        self.path = path
        self.size = size
        self.container = av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"})
        stream: Any = self.container.add_stream(h264_encoder())
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.time_base = _GIF_TIME_BASE
        stream.codec_context.time_base = _GIF_TIME_BASE
        stream.codec_context.thread_count = threads
        stream.codec_context.options = {"crf": "23", "preset": "medium", "movflags": "+faststart"}
        self.stream = stream
        self.durations: dict[int, int] = {}
        self.pts = 0

    def add(self, image: Image.Image, delay_ms: int) -> None:
        import av

        frame = av.VideoFrame.from_image(image).reformat(  # type: ignore[no-untyped-call]
            width=self.size[0], height=self.size[1], format="yuv420p", interpolation="AREA"
        )
        frame.pts = self.pts
        frame.time_base = _GIF_TIME_BASE
        ticks = max(1, delay_ms // 10)
        self.durations[self.pts] = ticks
        self.pts += ticks
        self._mux(self.stream.encode(frame))

    def _mux(self, packets: Any) -> None:
        for packet in packets:
            # the encoder drops frame durations; the muxer needs them for the last frame
            packet.duration = self.durations.get(packet.pts or 0, 1)
            self.container.mux(packet)

    def finish(self, kind: RenditionKind) -> MadeRendition:
        self._mux(self.stream.encode(None))
        self.container.close()
        return _made(kind, self.path, self.size)

    def abandon(self) -> None:
        try:
            self.container.close()
        except Exception:  # the file is being thrown away; its close error is moot
            log.debug("closing an abandoned MP4 failed", exc_info=True)
        self.path.unlink(missing_ok=True)


class _StillPicker:
    """Keeps the most detailed of up to ``STILL_CANDIDATES`` evenly spaced frames."""

    def __init__(self, frames: int) -> None:
        self.step = max(1, frames // STILL_CANDIDATES)
        self.best: Image.Image | None = None
        self.best_score = -1.0

    def wants(self, index: int) -> bool:
        return index % self.step == 0

    def offer(self, index: int, image: Image.Image) -> None:
        if not self.wants(index):
            return
        probe = image.convert("L").resize((32, 32), Image.Resampling.BOX)
        score = ImageStat.Stat(probe).stddev[0]
        if score > self.best_score:
            self.best, self.best_score = image.copy(), score

    def write(self, out: Path, kind: RenditionKind) -> MadeRendition:
        if self.best is None:
            raise RenditionFailed("no frame could be decoded for the still")
        image = self.best
        if kind.tiny:
            image = image.resize(tiny_size(*image.size), Image.Resampling.LANCZOS)
        path = out / f"{kind.value}.jpg"
        image.save(path, "JPEG", quality=85, optimize=True, progressive=True)
        return _made(kind, path, image.size)


def _video_pass(
    source: _GifSource,
    out: Path,
    wanted: list[RenditionKind],
    result: RenditionResult,
    deadline: _Deadline,
    budget: RenditionBudget,
    *,
    first_frame_only: bool,
) -> None:
    """Decode the GIF once with PyAV; feed the MP4 writers and the still picker."""
    writers = _open_writers(source, out, wanted, result, budget)
    stills = [k for k in (RenditionKind.STILL, RenditionKind.TINY_STILL) if k in wanted]
    if not writers and not stills:
        return
    picker = _StillPicker(1 if first_frame_only else source.frames)
    try:
        _decode_into(source, writers, picker, result, deadline, first_frame_only)
    except (RenditionFailed, OSError, ValueError, MemoryError) as exc:
        for kind, writer in writers.items():
            writer.abandon()
            result.skipped[kind] = _reason(exc)
        for kind in stills:
            result.skipped[kind] = _reason(exc)
        return
    for kind, writer in writers.items():
        _guarded(result, kind, partial(writer.finish, kind))
    for kind in stills:
        _guarded(result, kind, partial(picker.write, out, kind))


def _open_writers(
    source: _GifSource,
    out: Path,
    wanted: list[RenditionKind],
    result: RenditionResult,
    budget: RenditionBudget,
) -> dict[RenditionKind, _Mp4Writer]:
    sizes = {
        RenditionKind.MP4: video_size(source.width, source.height),
        RenditionKind.TINY_MP4: video_size(*tiny_size(source.width, source.height)),
    }
    writers: dict[RenditionKind, _Mp4Writer] = {}
    for kind, size in sizes.items():
        if kind not in wanted:
            continue
        try:
            writers[kind] = _Mp4Writer(out / f"{kind.value}.mp4", size, budget.threads)
        except (RenditionFailed, OSError, ValueError) as exc:
            result.skipped[kind] = _reason(exc)
    return writers


def _decode_into(
    source: _GifSource,
    writers: dict[RenditionKind, _Mp4Writer],
    picker: _StillPicker,
    result: RenditionResult,
    deadline: _Deadline,
    first_frame_only: bool,
) -> None:
    import av

    try:
        with av.open(source.path, format="gif") as container:
            for index, frame in enumerate(container.decode(video=0)):
                deadline.check()
                if not writers and not picker.wants(index):
                    continue  # decoded (GIF frames are deltas) but not converted
                image = _flatten(frame.to_image())  # type: ignore[no-untyped-call]
                picker.offer(index, image)
                if first_frame_only:
                    return
                delay = source.delays_ms[min(index, source.frames - 1)]
                for kind, writer in list(writers.items()):
                    try:
                        writer.add(image, delay)
                    except (av.FFmpegError, ValueError) as exc:
                        writer.abandon()
                        del writers[kind]
                        result.skipped[kind] = _reason(exc)
    except av.FFmpegError as exc:
        raise RenditionFailed(f"the GIF cannot be decoded: {exc}") from None


# Pillow's encoders: WebP and the tiny GIF ---------------------------------------------------


class _FrameSequence(Image.Image):
    """The GIF's composited frames, resized on the fly, as a multi-frame image.

    Pillow's animated writers iterate a multi-frame image with ``seek``; this one
    decodes and scales frame ``n`` only when asked, so a conversion holds one
    frame, not all of them.
    """

    def __init__(self, gif: Image.Image, size: tuple[int, int], deadline: _Deadline) -> None:
        super().__init__()
        self._gif = gif
        self._target = size
        self._deadline = deadline
        self._index = -1
        self.n_frames = getattr(gif, "n_frames", 1)
        self.is_animated = self.n_frames > 1
        self.seek(0)

    def seek(self, frame: int) -> None:
        if frame >= self.n_frames:
            raise EOFError("no more frames")
        self._deadline.check()
        self._gif.seek(frame)
        image = self._gif.convert("RGBA")
        if image.size != self._target:
            image = image.resize(self._target, Image.Resampling.LANCZOS)
        self.im = image.im
        self._mode = image.mode
        self._size = image.size
        self.info = {}
        self._index = frame

    def tell(self) -> int:
        return self._index


def _pillow_rendition(
    source: _GifSource, out: Path, kind: RenditionKind, deadline: _Deadline
) -> MadeRendition:
    size = (
        (source.width, source.height) if not kind.tiny else tiny_size(source.width, source.height)
    )
    extension = "gif" if kind is RenditionKind.TINY_GIF else "webp"
    path = out / f"{kind.value}.{extension}"
    with Image.open(source.path, formats=["GIF"]) as gif:
        frames = _FrameSequence(gif, size, deadline)
        delays = list(source.delays_ms[: frames.n_frames])
        delays += [_BROWSER_DEFAULT_DELAY_MS] * (frames.n_frames - len(delays))
        if extension == "webp":
            # kmin/kmax past any GIF's length: no forced keyframes (a loop is played
            # from its start), which spares libwebp encoding frames twice (-33 % time)
            frames.save(
                path,
                "WEBP",
                save_all=True,
                duration=delays,
                loop=0,
                lossless=not kind.tiny and _flat_colours(frames),
                quality=75,
                method=4,
                kmin=_NO_KEYFRAMES - 1,
                kmax=_NO_KEYFRAMES,
            )
        else:
            frames.save(
                path, "GIF", save_all=True, duration=delays, loop=0, optimize=True, disposal=2
            )
    return _made(kind, path, size)


def _flat_colours(frames: _FrameSequence) -> bool:
    """True for cartoon-like or screen-capture GIFs (few colours in the first frame).

    Measured in bench/renditions.py: lossless WebP is 0.5–0.7× such GIFs and faster
    to encode, where lossy WebP is 1.2–1.8× them; dithered, photo-like GIFs are the
    opposite (lossy WebP about 0.12× the GIF).
    """
    colours = frames.convert("RGB").getcolors(_FLAT_COLOURS)
    return colours is not None


def _made(kind: RenditionKind, path: Path, size: tuple[int, int]) -> MadeRendition:
    return MadeRendition(
        kind=kind,
        path=str(path),
        width=size[0],
        height=size[1],
        bytes=path.stat().st_size,
        content_type=kind.content_type,
    )

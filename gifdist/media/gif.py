"""GIF inspection for uploads: refuse non-GIFs and decompression bombs cheaply.

``inspect_gif`` works in two passes over the file:

1. A structure walk (header, logical screen, colour tables, extensions, image
   descriptors, data sub-blocks skipped by their lengths) that decompresses
   nothing, reads in 64 KiB chunks and holds at most one chunk in memory. Every
   limit is enforced here, before a single pixel is decoded: a 65535×65535
   logical screen is refused after 13 bytes, a 10,000-frame file as soon as the
   frame count passes ``max_frames``.
2. Only a file that passes is decoded by Pillow, frame by frame, to prove its
   LZW data is sound; Pillow must find exactly the frames the walk counted.

Error codes (all ``InvalidMedia``, status 422, unless noted):

- ``not_a_gif`` (``UnsupportedMediaType``, 415): no GIF87a/GIF89a signature.
- ``empty_file``: zero bytes. 422 rather than 415: nothing was sent, so the
  type is not wrong, the upload is.
- ``gif_truncated``: the file ends inside a block or before the trailer (0x3B).
- ``gif_corrupt``: a malformed block, or pixel data Pillow cannot decode.
- ``gif_dimensions_too_large``: the logical screen is wider or higher than allowed.
- ``gif_frame_outside_screen``: a frame extends past the logical screen.
- ``gif_too_many_frames``: more image descriptors than ``max_frames``.
- ``gif_too_many_pixels``: one frame over ``max_frame_pixels``, width × height ×
  frames over ``max_total_pixels``, or a screen over Pillow's
  ``Image.MAX_IMAGE_PIXELS``.

Decode cost. Pillow composites every frame onto the full logical screen, so the
work of pass 2 is width × height × frames of the screen, whatever the frames'
own sizes or the file's size (a 270 KB file of 23 flat 4096×4096 frames is 386
million pixels: seconds of CPU and ~200 MB). ``max_total_pixels`` bounds exactly
that, in pass 1, before anything is decoded; ``DecodeSlots`` bounds how many
decodes run at once in a process.
"""

from __future__ import annotations

import os
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image

from gifdist.errors import InvalidMedia, ServiceUnavailable, UnsupportedMediaType

__all__ = ["DecodeSlots", "GifInfo", "GifLimits", "inspect_gif", "sniff_gif"]

SIGNATURES = (b"GIF87a", b"GIF89a")

# Browsers (Chromium, Firefox, Safari) play a frame whose delay is 0 or 1
# hundredths of a second, or that has no graphic control extension, for 100 ms.
# duration_ms follows them, so it is how long one loop really lasts on screen.
_BROWSER_MIN_DELAY_CS = 2
_BROWSER_DEFAULT_DELAY_MS = 100

_CHUNK_BYTES = 64 * 1024
_TRAILER = 0x3B
_EXTENSION = 0x21
_IMAGE_DESCRIPTOR = 0x2C
_GRAPHIC_CONTROL = 0xF9
_APPLICATION = 0xFF
_LOOP_APPLICATIONS = (b"NETSCAPE2.0", b"ANIMEXTS1.0")
_COLOUR_TABLE_FLAG = 0x80
# The first LZW code is (min code size + 1) bits wide and codes are at most 12.
_LZW_MIN_CODE_SIZES = range(1, 12)


@dataclass(frozen=True, slots=True)
class GifLimits:
    """What an accepted GIF may be at most."""

    max_width: int = 4096
    max_height: int = 4096
    max_frames: int = 2000
    max_total_pixels: int = 100_000_000  # width × height × frames: the decoder's work
    max_frame_pixels: int = 16_777_216  # one image descriptor


@dataclass(frozen=True, slots=True)
class GifInfo:
    """What inspection found in an accepted GIF.

    ``duration_ms`` is one loop as browsers play it: each frame's delay, with 0,
    10 ms and missing delays counted as 100 ms. ``loop_count`` is the NETSCAPE2.0
    repeat count (0 means forever) or None when the GIF has no loop extension
    and so plays once. ``version`` is ``"87a"`` or ``"89a"``.
    """

    width: int
    height: int
    frames: int
    duration_ms: int
    loop_count: int | None
    version: str


def sniff_gif(head: bytes) -> bool:
    """True iff ``head`` starts with a GIF signature (``GIF87a`` or ``GIF89a``)."""
    return head[:6] in SIGNATURES


class DecodeSlots:
    """At most ``limit`` pixel decodes at once in this process; a caller waits up to
    ``wait_seconds`` for a slot, then gets ``ServiceUnavailable`` (503, try again)."""

    def __init__(self, limit: int, *, wait_seconds: float = 30.0) -> None:
        if limit < 1:
            raise ValueError("at least one decode slot is needed")
        self.limit = limit
        self.wait_seconds = wait_seconds
        self._slots = threading.BoundedSemaphore(limit)

    @contextmanager
    def hold(self) -> Iterator[None]:
        if not self._slots.acquire(timeout=self.wait_seconds):
            raise ServiceUnavailable(
                "too many GIFs are being decoded right now; try again shortly",
                code="decoder_busy",
            )
        try:
            yield
        finally:
            self._slots.release()


def inspect_gif(
    path: str | os.PathLike[str],
    limits: GifLimits = GifLimits(),
    *,
    slots: DecodeSlots | None = None,
) -> GifInfo:
    """Check that the file at ``path`` is a decodable GIF within ``limits``; describe it.

    Raises ``UnsupportedMediaType`` (415, ``not_a_gif``) for other formats and
    ``InvalidMedia`` (422) with one of the codes in this module's docstring for
    GIFs we refuse. Hostile structures are refused before any decoding; the decode
    itself waits for one of ``slots`` (``ServiceUnavailable`` when none frees up).
    """
    with open(path, "rb") as handle:
        info = _StructureWalk(handle, limits).run()
    with slots.hold() if slots is not None else nullcontext():
        _decode_all_frames(path, info)
    return info


def _truncated() -> InvalidMedia:
    return InvalidMedia(
        "the GIF ends in the middle of a block or before its trailer (truncated file)",
        code="gif_truncated",
    )


def _corrupt(what: str) -> InvalidMedia:
    return InvalidMedia(f"the GIF is malformed: {what}", code="gif_corrupt")


class _ChunkReader:
    """Forward-only reads over a file, holding at most about one chunk in memory."""

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self._buffer = b""
        self._pos = 0

    def read(self, count: int) -> bytes:
        """Exactly ``count`` bytes; raises ``gif_truncated`` at end of file."""
        while len(self._buffer) - self._pos < count:
            self._buffer = self._buffer[self._pos :] + self._next_chunk()
            self._pos = 0
        data = self._buffer[self._pos : self._pos + count]
        self._pos += count
        return data

    def byte(self) -> int:
        """One byte as an integer; raises ``gif_truncated`` at end of file."""
        if self._pos < len(self._buffer):
            self._pos += 1
            return self._buffer[self._pos - 1]
        return self.read(1)[0]

    def skip_sub_blocks(self) -> None:
        """Skip data sub-blocks up to and including the zero-length terminator.

        The loop runs over the in-memory chunk because a hostile file can hold
        millions of one-byte sub-blocks; raises ``gif_truncated`` at end of file.
        """
        pos = self._pos
        while True:
            buffer = self._buffer
            end = len(buffer)
            while pos < end:
                length = buffer[pos]
                if length == 0:
                    self._pos = pos + 1
                    return
                pos += length + 1
            pos -= end
            self._buffer = self._next_chunk()

    def _next_chunk(self) -> bytes:
        chunk = self._handle.read(_CHUNK_BYTES)
        if not chunk:
            raise _truncated()
        return chunk


class _StructureWalk:
    """One pass over the GIF's blocks, refusing it as soon as a limit is passed."""

    def __init__(self, handle: BinaryIO, limits: GifLimits) -> None:
        self.handle = handle
        self.reader = _ChunkReader(handle)
        self.limits = limits
        self.width = self.height = 0
        self.frames = 0
        self.duration_ms = 0
        self.loop_count: int | None = None
        self.pending_delay_cs: int | None = None

    def run(self) -> GifInfo:
        version = self._signature()
        self._logical_screen()
        while (introducer := self.reader.byte()) != _TRAILER:
            if introducer == _EXTENSION:
                self._extension()
            elif introducer == _IMAGE_DESCRIPTOR:
                self._image()
            else:
                raise _corrupt(f"unexpected byte 0x{introducer:02x} between blocks")
        if self.frames == 0:
            raise _corrupt("it has no image frames")
        return GifInfo(
            self.width, self.height, self.frames, self.duration_ms, self.loop_count, version
        )

    def _signature(self) -> str:
        head = self.handle.read(6)
        if not head:
            raise InvalidMedia("the uploaded file is empty (0 bytes)", code="empty_file")
        if sniff_gif(head):
            return head[3:].decode("ascii")
        if (
            len(head) < 6
            and head.startswith(b"GIF")
            and any(s.startswith(head) for s in SIGNATURES)
        ):
            raise _truncated()
        raise UnsupportedMediaType(
            "the file is not a GIF: it does not start with GIF87a or GIF89a", code="not_a_gif"
        )

    def _logical_screen(self) -> None:
        width, height, packed, _background, _aspect = struct.unpack("<HHBBB", self.reader.read(7))
        limits = self.limits
        if width == 0 or height == 0:
            raise _corrupt(f"its logical screen is {width}×{height} pixels")
        if width > limits.max_width or height > limits.max_height:
            raise InvalidMedia(
                f"the GIF is {width}×{height} pixels; "
                f"the limit is {limits.max_width}×{limits.max_height}",
                code="gif_dimensions_too_large",
            )
        self.width, self.height = width, height
        self._skip_colour_table(packed)

    def _skip_colour_table(self, packed: int) -> None:
        if packed & _COLOUR_TABLE_FLAG:
            self.reader.read(3 << ((packed & 0x07) + 1))

    def _extension(self) -> None:
        label = self.reader.byte()
        if label == _GRAPHIC_CONTROL:
            self._graphic_control()
        elif label == _APPLICATION:
            self._application()
        else:  # comment, plain text and unknown extensions carry nothing we need
            self.reader.skip_sub_blocks()

    def _graphic_control(self) -> None:
        size = self.reader.byte()
        if size < 4:
            raise _corrupt(f"a graphic control extension is {size} bytes long, not 4")
        block = self.reader.read(size)
        self.pending_delay_cs = int.from_bytes(block[1:3], "little")
        self.reader.skip_sub_blocks()

    def _application(self) -> None:
        identifier = self.reader.read(self.reader.byte())
        if identifier[:11] in _LOOP_APPLICATIONS:
            self._loop_sub_blocks()
        else:
            self.reader.skip_sub_blocks()

    def _loop_sub_blocks(self) -> None:
        """Read the NETSCAPE2.0 sub-blocks; sub-block 1 holds the repeat count."""
        while length := self.reader.byte():
            data = self.reader.read(length)
            if length >= 3 and data[0] == 1 and self.loop_count is None:
                self.loop_count = int.from_bytes(data[1:3], "little")

    def _image(self) -> None:
        self.frames += 1
        self._check_frame_count()
        left, top, width, height, packed = struct.unpack("<HHHHB", self.reader.read(9))
        self._check_frame_geometry(left, top, width, height)
        self._skip_colour_table(packed)
        code_size = self.reader.byte()
        if code_size not in _LZW_MIN_CODE_SIZES:
            raise _corrupt(f"frame {self.frames} has an LZW minimum code size of {code_size}")
        self.reader.skip_sub_blocks()
        self.duration_ms += _browser_delay_ms(self.pending_delay_cs)
        self.pending_delay_cs = None

    def _check_frame_count(self) -> None:
        limits, frames = self.limits, self.frames
        if frames > limits.max_frames:
            raise InvalidMedia(
                f"the GIF has more than {limits.max_frames:,} frames, the limit",
                code="gif_too_many_frames",
            )
        total = self.width * self.height * frames
        if total > limits.max_total_pixels:
            raise InvalidMedia(
                f"the GIF's {frames:,}+ frames of {self.width}×{self.height} add up to "
                f"{total:,}+ pixels; the limit is {limits.max_total_pixels:,}",
                code="gif_too_many_pixels",
            )

    def _check_frame_geometry(self, left: int, top: int, width: int, height: int) -> None:
        number, limit = self.frames, self.limits.max_frame_pixels
        if width == 0 or height == 0:
            raise _corrupt(f"frame {number} is {width}×{height} pixels")
        if width * height > limit:
            raise InvalidMedia(
                f"frame {number} is {width}×{height} = {width * height:,} pixels; "
                f"the limit is {limit:,} pixels per frame",
                code="gif_too_many_pixels",
            )
        if left + width > self.width or top + height > self.height:
            raise InvalidMedia(
                f"frame {number} ({width}×{height} at {left},{top}) extends outside "
                f"the GIF's {self.width}×{self.height} logical screen",
                code="gif_frame_outside_screen",
            )


def _browser_delay_ms(delay_cs: int | None) -> int:
    if delay_cs is None or delay_cs < _BROWSER_MIN_DELAY_CS:
        return _BROWSER_DEFAULT_DELAY_MS
    return delay_cs * 10


def _check_pillow_pixel_limit(info: GifInfo) -> None:
    """Apply Pillow's decompression-bomb threshold ourselves, as an error.

    Turning ``DecompressionBombWarning`` into an error with
    ``warnings.catch_warnings`` would change process-wide filters, which is not
    thread-safe, and uploads are inspected in worker threads. Pillow warns only
    above ``Image.MAX_IMAGE_PIXELS``, so refusing at that threshold first means it
    never warns.
    """
    ceiling = Image.MAX_IMAGE_PIXELS
    pixels = info.width * info.height
    if ceiling is not None and pixels > ceiling:
        raise InvalidMedia(
            f"the GIF is {info.width}×{info.height} = {pixels:,} pixels; "
            f"the decoder's limit is {ceiling:,}",
            code="gif_too_many_pixels",
        )


def _decode_all_frames(path: str | os.PathLike[str], info: GifInfo) -> None:
    """Decode every frame with Pillow and check it finds exactly ``info.frames``.

    Raises ``InvalidMedia`` ``gif_corrupt`` for anything Pillow cannot decode.
    """
    _check_pillow_pixel_limit(info)
    try:
        with Image.open(path, formats=["GIF"]) as image:
            for index in range(info.frames):
                image.seek(index)
                image.load()
            _expect_no_more_frames(image, info.frames)
    except (
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
        IndexError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        raise InvalidMedia(
            f"the GIF's image data cannot be decoded: {exc}", code="gif_corrupt"
        ) from exc


def _expect_no_more_frames(image: Image.Image, frames: int) -> None:
    try:
        image.seek(frames)
    except EOFError:
        return
    raise _corrupt(f"the decoder found more than the {frames} frames in its structure")

"""GIFs for tests: real animated GIFs from Pillow, and hand-built hostile ones.

Only Pillow and the standard library are used, so any test module can import this.
"""

from __future__ import annotations

import io
import random
import struct
from pathlib import Path
from typing import Literal

from PIL import Image, ImageDraw

Pattern = Literal["noise", "solid", "stripes"]

# raw_gif's frames use a 2-colour palette, so the LZW minimum code size is 2:
# clear code 4, end-of-information 5, first free table slot 6, first code width 3 bits.
_MIN_CODE_SIZE = 2
_CLEAR = 1 << _MIN_CODE_SIZE
_END = _CLEAR + 1
_TABLE_SIZE = 4096
_MAX_CODE_WIDTH = 12


def make_gif(
    path: str | Path | None = None,
    *,
    width: int = 32,
    height: int = 24,
    frames: int = 3,
    duration_ms: int = 100,
    seed: int = 0,
    pattern: Pattern = "noise",
) -> bytes:
    """A valid animated GIF that loops forever; different seeds give different bytes.

    ``duration_ms`` is each frame's delay (GIF stores hundredths of a second, so
    use multiples of 10). Writes the bytes to ``path`` too when one is given.
    """
    if pattern not in ("noise", "solid", "stripes"):
        raise ValueError(f"unknown pattern {pattern!r}")
    rng = random.Random(seed)
    images = [_frame(rng, width, height, pattern, index) for index in range(frames)]
    out = io.BytesIO()
    images[0].save(
        out,
        "GIF",
        save_all=True,
        append_images=images[1:],
        duration=duration_ms,
        loop=0,
        optimize=False,
        disposal=1,
    )
    data = out.getvalue()
    if path is not None:
        Path(path).write_bytes(data)
    return data


def _frame(
    rng: random.Random, width: int, height: int, pattern: Pattern, index: int
) -> Image.Image:
    if pattern == "noise":
        image = Image.new("P", (width, height))
        image.putdata([rng.randrange(256) for _ in range(width * height)])
        image.putpalette([rng.randrange(256) for _ in range(768)])
        return image
    colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
    image = Image.new("RGB", (width, height), colour)
    if pattern == "stripes":
        draw = ImageDraw.Draw(image)
        for x in range(-height, width, 8):
            offset = x + index * 2
            draw.line(
                [(offset, 0), (offset + height, height)], fill=(255 - colour[0], 80, 160), width=3
            )
    return image.convert("P", palette=Image.Palette.ADAPTIVE)


def raw_gif(
    *,
    screen: tuple[int, int],
    frames: list[tuple[int, int, int, int]],
    truncate_at: int | None = None,
    trailer: bool = True,
    image_data: bytes | None = None,
    delay_cs: int = 10,
    loop: int | None = 0,
    version: bytes = b"89a",
    lzw_min_code_size: int = _MIN_CODE_SIZE,
) -> bytes:
    """A GIF built byte by byte; ``frames`` are (left, top, width, height) descriptors.

    Each frame gets a graphic control extension with ``delay_cs`` hundredths of a
    second and a valid LZW stream painting it in colour 0; that stream grows with
    about the square root of the frame's area, so hostile structures (a 65535×65535
    screen, 10,000 one-pixel frames) cost almost nothing to build. ``image_data``
    replaces every frame's LZW bytes (before splitting into sub-blocks), e.g. with
    garbage, and ``lzw_min_code_size`` the code size byte written before them.
    ``loop`` is the NETSCAPE2.0 repeat count (0: forever; None: no loop extension).
    The result is cut to ``truncate_at`` bytes when given.
    """
    out = bytearray(b"GIF" + version)
    out += struct.pack("<HHBBB", screen[0], screen[1], 0x80, 0, 0)  # 2-colour global table
    out += b"\x00\x00\x00\xff\xff\xff"
    if loop is not None:
        out += b"\x21\xff\x0bNETSCAPE2.0\x03\x01" + struct.pack("<H", loop) + b"\x00"
    for left, top, width, height in frames:
        out += b"\x21\xf9\x04\x00" + struct.pack("<H", delay_cs) + b"\x00\x00"
        out += b"\x2c" + struct.pack("<HHHHB", left, top, width, height, 0)
        data = image_data if image_data is not None else solid_lzw(width * height)
        out += bytes([lzw_min_code_size]) + sub_blocks(data)
    if trailer:
        out += b"\x3b"
    data = bytes(out)
    return data[:truncate_at] if truncate_at is not None else data


def solid_lzw(pixels: int) -> bytes:
    """LZW codes (minimum code size 2) for ``pixels`` pixels of colour 0.

    Each code repeats one pixel more than the last (the run the decoder has just
    learnt), and the table is cleared when full, as a GIF decoder expects.
    """
    writer = _BitWriter()
    writer.write(_CLEAR, _MIN_CODE_SIZE + 1)
    width, next_code, previous = _MIN_CODE_SIZE + 1, _END + 1, 0
    while pixels > 0:
        run = 1 if previous == 0 else min(pixels, previous + 1)
        writer.write(0 if run == 1 else run + _END - 1, width)
        if previous:  # the decoder adds a table entry from the second code on
            next_code += 1
            if next_code == 1 << width and width < _MAX_CODE_WIDTH:
                width += 1
        pixels, previous = pixels - run, run
        if next_code == _TABLE_SIZE:
            writer.write(_CLEAR, width)
            width, next_code, previous = _MIN_CODE_SIZE + 1, _END + 1, 0
    writer.write(_END, width)
    return writer.getvalue()


def sub_blocks(data: bytes) -> bytes:
    """``data`` as GIF data sub-blocks (length-prefixed, at most 255 bytes) and terminator."""
    out = bytearray()
    for start in range(0, len(data), 255):
        chunk = data[start : start + 255]
        out += bytes([len(chunk)]) + chunk
    return bytes(out + b"\x00")


class _BitWriter:
    """Packs variable-width codes least-significant bit first, as GIF's LZW does."""

    def __init__(self) -> None:
        self._out = bytearray()
        self._bits = 0
        self._count = 0

    def write(self, code: int, width: int) -> None:
        self._bits |= code << self._count
        self._count += width
        while self._count >= 8:
            self._out.append(self._bits & 0xFF)
            self._bits >>= 8
            self._count -= 8

    def getvalue(self) -> bytes:
        tail = bytes([self._bits]) if self._count else b""
        return bytes(self._out) + tail


def png_bytes() -> bytes:
    """A real PNG (for 'renamed to .gif' tests)."""
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 10, 10)).save(out, "PNG")
    return out.getvalue()


def jpeg_bytes() -> bytes:
    """A real JPEG (for 'renamed to .gif' tests)."""
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (10, 200, 10)).save(out, "JPEG")
    return out.getvalue()


def html_bytes() -> bytes:
    """An HTML page with a script (for 'renamed to .gif' tests)."""
    return b"<!doctype html><html><body><script>alert(1)</script></body></html>"

"""Renditions: conversion time per frame and bytes, beside the ffmpeg command line.

For three kinds of GIF made here (cartoon: flat colours and moving shapes; photo-like:
dithered gradients and grain, the worst case for GIF; screen capture: a mostly still
UI with a moving cursor and typed text), each rendition is made by gifdist's pipeline
(``gifdist.media.renditions``, in process, one encoder thread) and by Debian's
``ffmpeg`` doing the same conversion (same codec and settings, ``-threads 1``), runs
interleaved, the median of ``--runs`` kept. ``speed`` is ffmpeg's time over ours
(above 1: we are faster).

Targets (issue 15): at least 0.8× ffmpeg's speed, and the MP4 at most a quarter of
the GIF's bytes on photo-like content.

Usage: python bench/renditions.py [--runs 3] [--frames 48]
(needs the ``video`` extra and ``apt-get install ffmpeg``; ``make bench-deps`` installs it)
"""

from __future__ import annotations

import argparse
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw

from gifdist.media.renditions import RenditionKind, make_renditions, tiny_size

K = RenditionKind
WIDTH, HEIGHT = 480, 270


# the GIFs -----------------------------------------------------------------------------


def cartoon(frames: int) -> list[Image.Image]:
    out = []
    for i in range(frames):
        image = Image.new("RGB", (WIDTH, HEIGHT), (250, 230, 180))
        draw = ImageDraw.Draw(image)
        draw.rectangle((0, 200, WIDTH, HEIGHT), fill=(90, 170, 80))
        x = 40 + i * (WIDTH - 120) / frames
        y = 140 - 60 * abs(math.sin(i * math.pi / 12))
        draw.ellipse((x, y, x + 60, y + 60), fill=(220, 60, 50), outline=(0, 0, 0), width=3)
        draw.polygon([(300, 200), (360, 90 + (i % 6) * 3), (420, 200)], fill=(120, 90, 200))
        out.append(image.quantize(32, dither=Image.Dither.NONE))
    return out


def photo_like(frames: int) -> list[Image.Image]:
    base = Image.radial_gradient("L").resize((WIDTH * 2, HEIGHT * 2))
    grain = Image.effect_noise((WIDTH, HEIGHT), 40)
    out = []
    for i in range(frames):
        shift = int(i * WIDTH / frames)
        crop = base.crop((shift, 40, shift + WIDTH, 40 + HEIGHT))
        red = Image.blend(crop, grain, 0.3)
        green = crop.rotate(i * 2, resample=Image.Resampling.BILINEAR)
        blue = Image.linear_gradient("L").resize((WIDTH, HEIGHT))
        image = Image.merge("RGB", (red, green, blue))
        out.append(image.quantize(256, dither=Image.Dither.FLOYDSTEINBERG))
    return out


def screen_capture(frames: int) -> list[Image.Image]:
    out = []
    text = "def convert(gif): return renditions(gif)  # typed one key per frame"
    for i in range(frames):
        image = Image.new("RGB", (WIDTH, HEIGHT), (255, 255, 255))
        draw = ImageDraw.Draw(image)
        draw.rectangle((0, 0, WIDTH, 24), fill=(40, 44, 52))
        draw.rectangle((0, 24, 110, HEIGHT), fill=(240, 240, 240))
        for row in range(8):
            draw.text((10, 34 + row * 24), f"file_{row}.py", fill=(60, 60, 60))
        draw.text((120, 40), text[: i + 1], fill=(20, 20, 120))
        cx, cy = 150 + (i * 7) % 300, 120 + (i * 3) % 100
        draw.polygon([(cx, cy), (cx, cy + 16), (cx + 11, cy + 11)], fill=(0, 0, 0))
        out.append(image.quantize(16, dither=Image.Dither.NONE))
    return out


def write_gif(path: Path, frames: list[Image.Image]) -> None:
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=40, loop=0)


# the conversions -------------------------------------------------------------------------


def flat(source: Path) -> bool:
    """gifdist's choice of lossless WebP: few colours in the first frame."""
    with Image.open(source) as gif:
        return gif.convert("RGB").getcolors(128) is not None


def ffmpeg_args(kind: RenditionKind, source: Path, out: Path) -> list[str]:
    """The ffmpeg command doing what gifdist does for ``kind``."""
    tiny_w, tiny_h = tiny_size(WIDTH, HEIGHT)
    even = "scale=trunc((iw+1)/2)*2:trunc((ih+1)/2)*2"
    tiny_even = f"scale={tiny_w + (tiny_w & 1)}:{tiny_h + (tiny_h & 1)}:flags=area"
    x264 = ["-c:v", "libx264", "-preset", "medium", "-crf", "23", "-pix_fmt", "yuv420p"]
    mp4 = [*x264, "-movflags", "+faststart", "-fps_mode", "passthrough", "-an"]
    webp = ["-c:v", "libwebp_anim", "-quality", "75", "-compression_level", "4", "-loop", "0"]
    lossless = ["-lossless", "1" if flat(source) else "0"]
    common = ["ffmpeg", "-y", "-v", "error", "-threads", "1", "-filter_threads", "1"]
    args = {
        K.MP4: ["-vf", even, *mp4, str(out / "a.mp4")],
        K.TINY_MP4: ["-vf", tiny_even, *mp4, str(out / "b.mp4")],
        K.WEBP: [*webp, *lossless, str(out / "a.webp")],
        K.TINY_WEBP: ["-vf", f"scale={tiny_w}:{tiny_h}:flags=lanczos", *webp, str(out / "b.webp")],
        K.TINY_GIF: [
            "-vf",
            f"scale={tiny_w}:{tiny_h}:flags=lanczos,split[a][b];[a]palettegen[p];[b][p]paletteuse",
            str(out / "b.gif"),
        ],
        K.STILL: ["-frames:v", "1", "-q:v", "3", str(out / "a.jpg")],
    }[kind]
    return [*common, "-i", str(source), *args]


def timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def largest_output(directory: Path) -> int:
    return max((p.stat().st_size for p in directory.iterdir() if p.is_file()), default=0)


def measure(source: Path, kind: RenditionKind, runs: int, work: Path) -> dict[str, float]:
    ours, theirs = [], []
    ours_bytes = theirs_bytes = 0
    for run in range(runs):
        ours_dir, ffmpeg_dir = work / f"ours-{run}", work / f"ffmpeg-{run}"
        ffmpeg_dir.mkdir()
        start = time.perf_counter()
        made = make_renditions(source, ours_dir, kinds=[kind]).made[kind]
        ours.append(time.perf_counter() - start)
        ours_bytes = made.bytes
        command = ffmpeg_args(kind, source, ffmpeg_dir)
        theirs.append(timed(lambda c=command: subprocess.run(c, check=True)))
        theirs_bytes = largest_output(ffmpeg_dir)
    return {
        "ours_s": statistics.median(ours),
        "ffmpeg_s": statistics.median(theirs),
        "ours_bytes": ours_bytes,
        "ffmpeg_bytes": theirs_bytes,
    }


KINDS = (K.MP4, K.WEBP, K.STILL, K.TINY_GIF, K.TINY_MP4, K.TINY_WEBP)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--frames", type=int, default=48)
    args = parser.parse_args()
    if shutil.which("ffmpeg") is None:
        sys.exit("ffmpeg is not installed (apt-get install ffmpeg): it is the baseline")
    makers = {"cartoon": cartoon, "photo-like": photo_like, "screen capture": screen_capture}
    misses = []
    with tempfile.TemporaryDirectory(prefix="bench-renditions-") as tmp:
        for name, make in makers.items():
            gif = Path(tmp) / f"{name.replace(' ', '-')}.gif"
            write_gif(gif, make(args.frames))
            gif_bytes = gif.stat().st_size
            print(f"\n{name}: {WIDTH}x{HEIGHT}, {args.frames} frames, GIF {gif_bytes:,} bytes")
            print(
                f"{'rendition':<11} {'ours ms/fr':>10} {'ffmpeg ms/fr':>12} {'speed':>6}"
                f" {'ours bytes':>11} {'× GIF':>6} {'ffmpeg bytes':>12} {'× GIF':>6}"
            )
            for kind in KINDS:
                work = Path(tmp) / f"{gif.stem}-{kind.value}"
                work.mkdir()
                m = measure(gif, kind, args.runs, work)
                speed = m["ffmpeg_s"] / m["ours_s"]
                print(
                    f"{kind.value:<11} {1000 * m['ours_s'] / args.frames:>10.2f}"
                    f" {1000 * m['ffmpeg_s'] / args.frames:>12.2f} {speed:>5.2f}×"
                    f" {m['ours_bytes']:>11,.0f} {m['ours_bytes'] / gif_bytes:>6.3f}"
                    f" {m['ffmpeg_bytes']:>12,.0f} {m['ffmpeg_bytes'] / gif_bytes:>6.3f}"
                )
                if speed < 0.8:
                    misses.append(f"{name} {kind.value}: {speed:.2f}× ffmpeg's speed")
                if name == "photo-like" and kind is K.MP4 and m["ours_bytes"] > gif_bytes / 4:
                    misses.append(f"photo-like MP4 is {m['ours_bytes'] / gif_bytes:.2f}× the GIF")
    print("\ntargets: " + ("all met" if not misses else "missed: " + "; ".join(misses)))


if __name__ == "__main__":
    main()

"""Renditions: every one decoded again (frame count, duration, dimensions, codec).

MP4s, stills and the tiny GIF are decoded with PyAV (FFmpeg). FFmpeg's WebP decoder
reads only still WebP, so the animated WebPs are decoded with Pillow (libwebp).
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

import av
import pytest
from gif_factory import make_gif, raw_gif
from PIL import Image

from gifdist.media.renditions import (
    ALL_KINDS,
    TINY_WIDTH,
    MadeRendition,
    RenditionBudget,
    RenditionFailed,
    RenditionKind,
    convert_within_budget,
    make_renditions,
)

K = RenditionKind


def decode_video(path: str) -> tuple[str, int, float, tuple[int, int], str]:
    """(codec, frames, seconds, (width, height), pixel format) as FFmpeg sees the file."""
    with av.open(path) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
        seconds = (container.duration or 0) / 1_000_000
        return (
            stream.codec_context.name,
            len(frames),
            seconds,
            (frames[0].width, frames[0].height),
            frames[0].format.name,
        )


def decode_webp(path: str) -> tuple[int, float, tuple[int, int]]:
    with Image.open(path, formats=["WEBP"]) as image:
        frames = getattr(image, "n_frames", 1)
        total = 0
        for index in range(frames):
            image.seek(index)
            image.load()  # Pillow reads a frame's duration as it decodes it
            total += image.info.get("duration", 0)
        return frames, total / 1000, image.size


def check_animated(
    made: MadeRendition, frames: int, seconds: float, size: tuple[int, int], *, merged: bool = False
) -> None:
    """``made`` decodes to ``frames`` frames lasting ``seconds`` (±10 %) at ``size``.

    With ``merged``, a GIF or WebP may have fewer frames: their encoders merge
    identical consecutive frames into one that lasts as long.
    """
    assert Path(made.path).stat().st_size == made.bytes > 0
    assert (made.width, made.height) == size
    if made.kind in (K.WEBP, K.TINY_WEBP):
        got_frames, got_seconds, got_size = decode_webp(made.path)
        assert Path(made.path).read_bytes()[:4] == b"RIFF"
    else:
        codec, got_frames, got_seconds, got_size, pix_fmt = decode_video(made.path)
        expected_codec = "h264" if made.kind in (K.MP4, K.TINY_MP4) else "gif"
        assert codec == expected_codec
        if codec == "h264":
            assert pix_fmt == "yuv420p"
            assert got_size[0] % 2 == 0 and got_size[1] % 2 == 0
    video = made.kind in (K.MP4, K.TINY_MP4)
    assert got_frames == frames or (merged and not video and 1 <= got_frames < frames)
    assert got_seconds == pytest.approx(seconds, rel=0.10)
    assert got_size == size


def even(n: int) -> int:
    return n + (n & 1)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "out"


def test_every_rendition_decodes_with_the_gifs_frames_timing_and_size(
    tmp_path: Path, out: Path
) -> None:
    gif = tmp_path / "a.gif"
    make_gif(gif, width=441, height=249, frames=12, duration_ms=80, pattern="stripes")
    result = make_renditions(gif, out)
    assert result.skipped == {}
    assert set(result.made) == set(ALL_KINDS)
    tiny = (TINY_WIDTH, round(249 * TINY_WIDTH / 441))
    seconds = 12 * 0.08
    check_animated(result.made[K.MP4], 12, seconds, (442, 250))
    check_animated(result.made[K.WEBP], 12, seconds, (441, 249))
    check_animated(result.made[K.TINY_GIF], 12, seconds, tiny)
    check_animated(result.made[K.TINY_WEBP], 12, seconds, tiny)
    check_animated(result.made[K.TINY_MP4], 12, seconds, (even(tiny[0]), even(tiny[1])))
    for kind, size in ((K.STILL, (441, 249)), (K.TINY_STILL, tiny)):
        codec, frames, _seconds, got, _fmt = decode_video(result.made[kind].path)
        assert (codec, frames, got) == ("mjpeg", 1, size)
        assert result.made[kind].content_type == "image/jpeg"


def test_mp4_is_faststart_the_index_before_the_media(tmp_path: Path, out: Path) -> None:
    gif = tmp_path / "a.gif"
    make_gif(gif, frames=5)
    data = Path(make_renditions(gif, out, kinds=[K.MP4]).made[K.MP4].path).read_bytes()
    assert b"ftyp" in data[:12]
    assert 0 < data.index(b"moov") < data.index(b"mdat")


def test_frame_timing_is_kept_frame_by_frame(tmp_path: Path, out: Path) -> None:
    frames = [Image.new("RGB", (40, 30), (i * 60, 0, 0)) for i in range(4)]
    gif = tmp_path / "varied.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=[50, 500, 120, 1000])
    made = make_renditions(gif, out, kinds=[K.MP4]).made[K.MP4]
    with av.open(made.path) as container:
        stream = container.streams.video[0]
        starts = [float(frame.pts * stream.time_base) for frame in container.decode(stream)]
    assert starts == pytest.approx([0.0, 0.05, 0.55, 0.67], abs=0.011)
    check_animated(made, 4, 1.67, (40, 30))


def test_zero_delays_play_for_100_ms_as_browsers_play_them(tmp_path: Path, out: Path) -> None:
    frames = [Image.new("RGB", (20, 10), (0, i * 50, 0)) for i in range(5)]
    gif = tmp_path / "zero.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=0)
    assert Image.open(gif).info.get("duration", 0) == 0  # no delay at all
    result = make_renditions(gif, out)
    assert result.skipped == {}
    check_animated(result.made[K.MP4], 5, 0.5, (20, 10))
    check_animated(result.made[K.WEBP], 5, 0.5, (20, 10))
    check_animated(result.made[K.TINY_GIF], 5, 0.5, (20, 10))


def test_frames_smaller_than_the_screen_and_odd_sizes_convert(tmp_path: Path, out: Path) -> None:
    gif = tmp_path / "odd.gif"
    gif.write_bytes(raw_gif(screen=(33, 17), frames=[(0, 0, 33, 17), (3, 5, 7, 3), (32, 16, 1, 1)]))
    result = make_renditions(gif, out)
    assert result.skipped == {}
    check_animated(result.made[K.MP4], 3, 0.3, (34, 18))
    check_animated(result.made[K.TINY_GIF], 3, 0.3, (33, 17), merged=True)


def test_a_palette_per_frame_converts(tmp_path: Path, out: Path) -> None:
    gif = tmp_path / "palettes.gif"
    make_gif(gif, width=24, height=24, frames=6, pattern="noise")  # each frame its own palette
    result = make_renditions(gif, out)
    assert result.skipped == {}
    check_animated(result.made[K.WEBP], 6, 0.6, (24, 24))


def test_transparency_is_white_in_video_and_kept_in_webp(tmp_path: Path, out: Path) -> None:
    frames = []
    for i in range(3):
        frame = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
        frame.paste((200, 0, 0, 255), (0, 0, 8 + i * 4, 8))
        frames.append(frame)
    gif = tmp_path / "clear.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=100, disposal=2)
    result = make_renditions(gif, out)
    assert result.skipped == {}
    with av.open(result.made[K.MP4].path) as container:
        first = next(container.decode(video=0)).to_image()
    assert min(first.getpixel((24, 24))) > 235  # the transparent corner is white
    assert first.getpixel((2, 2))[0] > 150 > first.getpixel((2, 2))[1]  # the red box
    with Image.open(result.made[K.WEBP].path) as webp:
        # libwebp stores the opaque box as a sub-frame on a transparent canvas
        assert webp.info["background"][3] == 0
        assert webp.convert("RGB").getpixel((2, 2))[0] > 150
    with Image.open(result.made[K.STILL].path) as still:
        assert min(still.convert("RGB").getpixel((24, 24))) > 235


def test_a_single_frame_gives_a_still_and_a_one_frame_video(tmp_path: Path, out: Path) -> None:
    gif = tmp_path / "one.gif"
    make_gif(gif, frames=1, duration_ms=0)
    result = make_renditions(gif, out)
    assert result.skipped == {}
    assert set(result.made) == set(ALL_KINDS)
    codec, frames, _seconds, size, _fmt = decode_video(result.made[K.MP4].path)
    assert (codec, frames, size) == ("h264", 1, (32, 24))
    assert decode_webp(result.made[K.WEBP].path)[0] == 1


def test_two_thousand_frames_convert(tmp_path: Path, out: Path) -> None:
    gif = tmp_path / "long.gif"
    gif.write_bytes(raw_gif(screen=(16, 16), frames=[(0, 0, 16, 16)] * 2000, delay_cs=2))
    result = make_renditions(gif, out)
    assert result.skipped == {}
    check_animated(result.made[K.MP4], 2000, 40.0, (16, 16))
    check_animated(result.made[K.TINY_MP4], 2000, 40.0, (16, 16))
    check_animated(result.made[K.TINY_GIF], 2000, 40.0, (16, 16), merged=True)


def test_the_largest_gif_gets_a_video_browsers_decode(tmp_path: Path, out: Path) -> None:
    gif = tmp_path / "huge.gif"
    gif.write_bytes(raw_gif(screen=(4096, 4096), frames=[(0, 0, 4096, 4096)] * 2))
    result = make_renditions(gif, out, kinds=[K.MP4, K.STILL, K.TINY_STILL])
    assert result.skipped == {}
    mp4 = result.made[K.MP4]
    assert mp4.width * mp4.height <= 36_864 * 256  # H.264 level 5.1's largest frame
    assert mp4.width == mp4.height and mp4.width % 2 == 0
    check_animated(mp4, 2, 0.2, (mp4.width, mp4.height))
    assert result.made[K.STILL].width == 4096
    assert result.made[K.TINY_STILL].width == TINY_WIDTH


def test_past_the_frame_budget_only_stills_are_made_and_the_skip_is_logged(
    tmp_path: Path, out: Path, caplog: pytest.LogCaptureFixture
) -> None:
    gif = tmp_path / "many.gif"
    make_gif(gif, frames=30)
    with caplog.at_level(logging.WARNING, "gifdist.renditions"):
        result = make_renditions(gif, out, budget=RenditionBudget(max_frames=20))
    assert set(result.made) == {K.STILL, K.TINY_STILL}
    assert set(result.skipped) == {k for k in ALL_KINDS if k.animated}
    assert "30 frames is past the budget of 20" in result.skipped[K.MP4]
    assert "rendition mp4 of many.gif skipped: 30 frames" in caplog.text


def test_past_the_time_budget_renditions_are_skipped_with_the_reason(
    tmp_path: Path, out: Path
) -> None:
    gif = tmp_path / "slow.gif"
    make_gif(gif, frames=3)
    result = make_renditions(gif, out, budget=RenditionBudget(max_seconds=0.0))
    assert result.made == {}
    assert all("longer than its 0 s budget" in reason for reason in result.skipped.values())


def test_a_file_that_is_not_a_gif_fails_clearly(tmp_path: Path, out: Path) -> None:
    bad = tmp_path / "bad.gif"
    bad.write_bytes(b"GIF89a" + b"\x00" * 10)
    with pytest.raises(RenditionFailed, match="cannot be opened|no frames"):
        make_renditions(bad, out)


def test_the_budgeted_child_makes_the_same_renditions(tmp_path: Path, out: Path) -> None:
    gif = tmp_path / "a.gif"
    make_gif(gif, width=50, height=40, frames=4)
    result = convert_within_budget(gif, out, kinds=[K.MP4, K.TINY_WEBP, K.STILL])
    assert set(result.made) == {K.MP4, K.TINY_WEBP, K.STILL}
    check_animated(result.made[K.MP4], 4, 0.4, (50, 40))
    assert Image.open(io.BytesIO(Path(result.made[K.STILL].path).read_bytes())).size == (50, 40)


def test_a_child_past_its_memory_budget_fails_without_harming_the_caller(
    tmp_path: Path, out: Path
) -> None:
    gif = tmp_path / "big.gif"
    gif.write_bytes(raw_gif(screen=(2048, 2048), frames=[(0, 0, 2048, 2048)] * 3))
    with pytest.raises(RenditionFailed, match="memory budget"):
        convert_within_budget(gif, out, budget=RenditionBudget(max_memory_bytes=96 * 1024 * 1024))

"""Frame sampling: which frames of a GIF the visual checks get to see."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from gifdist.errors import InvalidMedia
from gifdist.media.frames import SampleReason, sample_frames

GREY = (100, 100, 100)
YELLOW = (255, 255, 0)


def gif_bytes(frames: list[Image.Image]) -> bytes:
    """Encode frames as an animated GIF (Pillow merges identical neighbours, so avoid them)."""
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=40, loop=0)
    return buffer.getvalue()


def write_gif(path: Path, frames: list[Image.Image]) -> Path:
    path.write_bytes(gif_bytes(frames))
    with Image.open(path) as image:
        assert getattr(image, "n_frames", 1) == len(frames), "the encoder merged frames"
    return path


def near_solid_frames(count: int, size: tuple[int, int] = (32, 32)) -> list[Image.Image]:
    """Solid frames whose grey level flickers by a few steps: distinct, but no scene change."""
    return [Image.new("RGB", size, (100 + 6 * (i % 2), 100, 100)) for i in range(count)]


@pytest.fixture
def sixty_frames_with_flash(tmp_path: Path) -> Path:
    frames = near_solid_frames(60)
    frames[31] = Image.new("RGB", (32, 32), YELLOW)
    return write_gif(tmp_path / "flash.gif", frames)


def indices(path: Path, **kwargs: object) -> list[int]:
    return [frame.index for frame in sample_frames(path, **kwargs)]  # type: ignore[arg-type]


def test_first_and_last_frames_are_picked(sixty_frames_with_flash: Path) -> None:
    sampled = sample_frames(sixty_frames_with_flash)
    assert (sampled[0].index, sampled[0].reason) == (0, "first")
    assert (sampled[-1].index, sampled[-1].reason) == (59, "last")


def test_injected_frame_in_the_middle_is_picked_as_a_scene_change(
    sixty_frames_with_flash: Path,
) -> None:
    reasons = {frame.index: frame.reason for frame in sample_frames(sixty_frames_with_flash)}
    assert reasons.get(31) == SampleReason.SCENE_CHANGE


def test_injected_frame_is_picked_even_with_only_three_slots(
    sixty_frames_with_flash: Path,
) -> None:
    assert indices(sixty_frames_with_flash, max_frames=3) == [0, 31, 59]


def test_flicker_below_the_threshold_is_not_a_scene_change(tmp_path: Path) -> None:
    path = write_gif(tmp_path / "flicker.gif", near_solid_frames(60))
    reasons = {frame.reason for frame in sample_frames(path)}
    assert SampleReason.SCENE_CHANGE not in reasons


def test_remaining_slots_are_filled_with_evenly_spaced_frames(tmp_path: Path) -> None:
    path = write_gif(tmp_path / "flicker.gif", near_solid_frames(60))
    sampled = sample_frames(path, max_frames=5)
    assert [frame.index for frame in sampled] == [0, 15, 30, 44, 59]
    assert [frame.reason for frame in sampled[1:-1]] == ["even"] * 3


def test_frames_are_in_index_order_without_duplicates(sixty_frames_with_flash: Path) -> None:
    found = indices(sixty_frames_with_flash)
    assert found == sorted(set(found))


@pytest.mark.parametrize("max_frames", [1, 2, 5, 12, 100])
def test_count_never_exceeds_max_frames_or_frame_count(
    sixty_frames_with_flash: Path, max_frames: int
) -> None:
    assert len(indices(sixty_frames_with_flash, max_frames=max_frames)) == min(max_frames, 60)


def test_strobing_stretch_does_not_take_every_slot(tmp_path: Path) -> None:
    strobe = [Image.new("RGB", (16, 16), (255 * (i % 2),) * 3) for i in range(50)]
    frames = strobe + near_solid_frames(50, size=(16, 16))
    sampled = indices(write_gif(tmp_path / "strobe.gif", frames), max_frames=12)
    calm_half = [index for index in sampled if 50 <= index < 99]
    assert len(sampled) == 12
    assert len(calm_half) >= 3
    assert max(b - a for a, b in zip(sampled, sampled[1:], strict=False)) <= 18


def test_sampled_frames_are_full_canvas_rgb_composites(sixty_frames_with_flash: Path) -> None:
    frames = {frame.index: frame.image for frame in sample_frames(sixty_frames_with_flash)}
    assert all(image.mode == "RGB" and image.size == (32, 32) for image in frames.values())
    assert frames[31].getpixel((5, 5)) == YELLOW


def test_single_frame_image_gives_its_only_frame(tmp_path: Path) -> None:
    path = tmp_path / "still.gif"
    Image.new("RGB", (10, 10), GREY).save(path, "GIF")
    assert [(f.index, f.reason) for f in sample_frames(path)] == [(0, "first")]


def test_five_thousand_frame_gif_stays_bounded_and_fast(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (8, 8), (i % 256, (i // 256) * 13 % 256, 7)) for i in range(5000)]
    path = write_gif(tmp_path / "long.gif", frames)
    started = time.perf_counter()
    sampled = sample_frames(path, max_frames=12)
    elapsed = time.perf_counter() - started
    assert len(sampled) == 12
    assert (sampled[0].index, sampled[-1].index) == (0, 4999)
    assert elapsed < 5.0


@pytest.mark.parametrize(
    "content",
    [b"", b"GIF89a", b"not an image at all", b"GIF89a\x20\x00\x20\x00\xf7\x00\x00" + b"\xff" * 40],
    ids=["empty", "header-only", "garbage", "truncated-palette"],
)
def test_unreadable_file_raises_invalid_media(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.gif"
    path.write_bytes(content)
    with pytest.raises(InvalidMedia):
        sample_frames(path)


def test_truncated_animation_raises_invalid_media(
    tmp_path: Path, sixty_frames_with_flash: Path
) -> None:
    data = sixty_frames_with_flash.read_bytes()
    path = tmp_path / "cut.gif"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InvalidMedia):
        sample_frames(path)


def test_missing_file_raises_invalid_media(tmp_path: Path) -> None:
    with pytest.raises(InvalidMedia):
        sample_frames(tmp_path / "nope.gif")


@pytest.mark.parametrize(
    "kwargs", [{"max_frames": 0}, {"scene_change_threshold": 0.0}, {"scene_change_threshold": 2}]
)
def test_bad_arguments_raise_value_error(
    sixty_frames_with_flash: Path, kwargs: dict[str, float]
) -> None:
    with pytest.raises(ValueError):
        sample_frames(sixty_frames_with_flash, **kwargs)  # type: ignore[arg-type]


_SMALL_GIF = gif_bytes([Image.new("RGB", (12, 12), (40 * i, 255 - 40 * i, 90)) for i in range(6)])


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    edits=st.lists(
        st.tuples(st.integers(0, len(_SMALL_GIF) - 1), st.integers(0, 255)), min_size=1, max_size=8
    ),
    cut=st.integers(1, len(_SMALL_GIF)),
)
def test_mangled_gif_gives_frames_or_invalid_media(
    tmp_path: Path, edits: list[tuple[int, int]], cut: int
) -> None:
    data = bytearray(_SMALL_GIF)
    for offset, value in edits:
        data[offset] = value
    path = tmp_path / "mangled.gif"
    path.write_bytes(bytes(data[:cut]))
    try:
        sampled = sample_frames(path, max_frames=4)
    except InvalidMedia:
        return
    assert 1 <= len(sampled) <= 4

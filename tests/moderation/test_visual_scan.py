"""The local NSFW scanner: real inference on synthetic GIFs, post-processing on built outputs."""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import onnxruntime  # type: ignore[import-untyped]
import pytest
from PIL import Image, ImageDraw

from gifdist.moderation.verdicts import ContentCategory, VisualVerdict
from gifdist.moderation.visual import (
    NUDENET_LABELS,
    Detection,
    FrameScan,
    LocalNsfwScanner,
    bundled_model_path,
    classify_frames,
    decode_detections,
    frame_nsfw_score,
    letterbox,
)

ROWS = 4 + len(NUDENET_LABELS)


# --- helpers -------------------------------------------------------------------------


def write_gif(path: Path, frames: list[Image.Image]) -> Path:
    frames[0].save(path, "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    return path


def cartoon(i: int) -> Image.Image:
    image = Image.new("RGB", (160, 120), (135, 206, 235))
    draw = ImageDraw.Draw(image)
    draw.ellipse((20 + 5 * i, 30, 80 + 5 * i, 90), fill=(255, 200, 0), outline=(0, 0, 0), width=3)
    draw.rectangle((100, 60, 150, 110), fill=(200, 30, 30))
    draw.polygon([(0, 120), (60, 70), (120, 120)], fill=(30, 150, 30))
    return image


def text(i: int) -> Image.Image:
    image = Image.new("RGB", (200, 80), (255, 255, 255))
    ImageDraw.Draw(image).text((10 + 3 * i, 30), f"Hello from gifdist #{i}", fill=(0, 0, 0))
    return image


def noise(i: int) -> Image.Image:
    rng = random.Random(i)
    return Image.frombytes("RGB", (96, 96), rng.randbytes(96 * 96 * 3))


def model_output(*anchors: tuple[str, float, tuple[float, float, float, float]]) -> np.ndarray:
    """A raw (4 + 18)×anchors output with one class score per given anchor."""
    output = np.zeros((ROWS, max(len(anchors), 1)), dtype=np.float32)
    for column, (label, score, box) in enumerate(anchors):
        output[:4, column] = box
        output[4 + NUDENET_LABELS.index(label), column] = score
    return output


def frame(index: int, *detections: tuple[str, float]) -> FrameScan:
    found = tuple(Detection(label, score, (0.0, 0.0, 10.0, 10.0)) for label, score in detections)
    return FrameScan(index, "even", found, frame_nsfw_score(found))


@pytest.fixture(scope="module")
def scanner() -> LocalNsfwScanner:
    return LocalNsfwScanner()


# --- model discovery and shapes ------------------------------------------------------


def test_scanner_is_available_with_the_nsfw_extra_installed() -> None:
    assert LocalNsfwScanner.available() is True


@pytest.mark.parametrize("module", ["onnxruntime", "numpy"])
def test_scanner_is_unavailable_without_its_runtime(
    monkeypatch: pytest.MonkeyPatch, module: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)
    assert LocalNsfwScanner.available() is False


def test_bundled_model_is_found_without_importing_nudenet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(sys.modules, "nudenet", raising=False)
    path = bundled_model_path()
    assert path is not None and path.name == "320n.onnx"
    assert "nudenet" not in sys.modules


def test_model_takes_320_square_rgb_and_gives_22_rows_by_2100_anchors() -> None:
    session = onnxruntime.InferenceSession(
        str(bundled_model_path()), providers=["CPUExecutionProvider"]
    )
    assert [i.name for i in session.get_inputs()] == ["images"]
    (output,) = session.run(None, {"images": np.zeros((1, 3, 320, 320), np.float32)})
    assert output.shape == (1, ROWS, 2100)


def test_letterbox_scales_the_long_side_and_pads_right_and_bottom_black() -> None:
    pixels, scale = letterbox(Image.new("RGB", (640, 320), (255, 0, 0)))
    assert pixels.shape == (3, 320, 320) and pixels.dtype == np.float32
    assert scale == 0.5
    assert pixels[:, 10, 10].tolist() == [1.0, 0.0, 0.0]
    assert pixels[:, 300, 10].tolist() == [0.0, 0.0, 0.0]


# --- post-processing on hand-built outputs -------------------------------------------


def test_decoded_label_follows_nudenet_class_order() -> None:
    output = model_output(("FEMALE_BREAST_EXPOSED", 0.9, (100, 100, 40, 40)))
    (detection,) = decode_detections(output)
    assert detection.label == "FEMALE_BREAST_EXPOSED"
    assert detection.score == pytest.approx(0.9)


def test_scores_below_the_detection_threshold_are_dropped() -> None:
    output = model_output(("ANUS_EXPOSED", 0.2, (100, 100, 40, 40)))
    assert decode_detections(output, min_score=0.25) == []


def test_boxes_are_mapped_back_to_frame_pixels() -> None:
    output = model_output(("FACE_MALE", 0.8, (100, 100, 40, 40)))
    (detection,) = decode_detections(output, scale=0.5, frame_size=(640, 640))
    assert detection.box == pytest.approx((160.0, 160.0, 240.0, 240.0))


def test_boxes_are_clipped_to_the_frame() -> None:
    output = model_output(("FACE_MALE", 0.8, (10, 10, 40, 40)))
    (detection,) = decode_detections(output, frame_size=(30, 20))
    assert detection.box == pytest.approx((0.0, 0.0, 30.0, 20.0))


def test_overlapping_boxes_of_one_label_merge_into_the_best() -> None:
    output = model_output(
        ("BUTTOCKS_EXPOSED", 0.7, (100, 100, 40, 40)),
        ("BUTTOCKS_EXPOSED", 0.9, (102, 101, 40, 40)),
    )
    detections = decode_detections(output)
    assert [d.score for d in detections] == [pytest.approx(0.9)]


def test_distant_boxes_of_one_label_are_both_kept() -> None:
    output = model_output(
        ("FEET_EXPOSED", 0.7, (50, 50, 40, 40)),
        ("FEET_EXPOSED", 0.9, (250, 250, 40, 40)),
    )
    assert len(decode_detections(output)) == 2


def test_overlapping_boxes_of_different_labels_are_both_kept() -> None:
    output = model_output(
        ("BUTTOCKS_COVERED", 0.9, (100, 100, 40, 40)),
        ("BUTTOCKS_EXPOSED", 0.5, (100, 100, 40, 40)),
    )
    labels = [d.label for d in decode_detections(output)]
    assert labels == ["BUTTOCKS_COVERED", "BUTTOCKS_EXPOSED"]


def test_exposed_score_is_kept_under_a_higher_covered_score_at_the_same_anchor() -> None:
    output = model_output(("FEMALE_BREAST_COVERED", 0.6, (100, 100, 40, 40)))
    output[4 + NUDENET_LABELS.index("FEMALE_BREAST_EXPOSED"), 0] = 0.5
    labels = {d.label for d in decode_detections(output)}
    assert labels == {"FEMALE_BREAST_COVERED", "FEMALE_BREAST_EXPOSED"}


def test_output_with_the_wrong_row_count_is_rejected() -> None:
    with pytest.raises(ValueError):
        decode_detections(np.zeros((ROWS - 1, 2100), np.float32))


def test_frame_score_is_the_highest_exposed_confidence() -> None:
    scan = frame(0, ("MALE_GENITALIA_EXPOSED", 0.4), ("BUTTOCKS_EXPOSED", 0.7))
    assert scan.nsfw_score == pytest.approx(0.7)


@pytest.mark.parametrize(
    "label",
    ["FACE_FEMALE", "FEET_EXPOSED", "ARMPITS_EXPOSED", "BELLY_EXPOSED", "MALE_BREAST_EXPOSED"]
    + [label for label in NUDENET_LABELS if label.endswith("_COVERED")],
)
def test_covered_parts_faces_feet_armpits_and_belly_do_not_count_as_nsfw(label: str) -> None:
    assert frame(0, (label, 0.99)).nsfw_score == 0.0


# --- the worst-frame rule ------------------------------------------------------------


def test_worst_frame_decides_the_verdict() -> None:
    frames = [frame(0), frame(5, ("ANUS_EXPOSED", 0.85)), frame(9, ("BUTTOCKS_EXPOSED", 0.4))]
    report = classify_frames(frames)
    assert (report.category, report.worst_frame) == ("nsfw", 5)
    assert report.confidence == pytest.approx(0.85)
    assert report.needs_review is False
    assert "ANUS_EXPOSED" in report.reasons[0] and "frame 5" in report.reasons[0]


def test_score_between_review_and_nsfw_thresholds_is_low_confidence_nsfw_for_review() -> None:
    report = classify_frames([frame(0), frame(3, ("FEMALE_BREAST_EXPOSED", 0.45))])
    assert report.category == "nsfw"
    assert report.needs_review is True
    assert report.confidence == pytest.approx(0.45)


def test_score_below_the_review_threshold_is_safe_with_confidence_one_minus_score() -> None:
    report = classify_frames([frame(0, ("BUTTOCKS_EXPOSED", 0.28)), frame(1)])
    assert report.category == "safe"
    assert report.confidence == pytest.approx(0.72)


def test_scores_hold_the_highest_confidence_per_label_and_the_worst_frame() -> None:
    frames = [frame(0, ("FACE_MALE", 0.5)), frame(1, ("FACE_MALE", 0.8), ("ANUS_EXPOSED", 0.3))]
    scores = classify_frames(frames).scores
    assert scores == pytest.approx({"FACE_MALE": 0.8, "ANUS_EXPOSED": 0.3, "nsfw": 0.3})


def test_no_frames_is_unknown() -> None:
    assert classify_frames([]).category == "unknown"


def test_thresholds_out_of_order_are_rejected() -> None:
    with pytest.raises(ValueError):
        LocalNsfwScanner(nsfw_threshold=0.3, review_threshold=0.6)


# --- real inference ------------------------------------------------------------------


@pytest.mark.parametrize("draw", [cartoon, text, noise], ids=["cartoon", "text", "noise"])
def test_synthetic_safe_gif_is_safe(
    scanner: LocalNsfwScanner, tmp_path: Path, draw: Callable[[int], Image.Image]
) -> None:
    path = write_gif(tmp_path / "safe.gif", [draw(i) for i in range(8)])
    report = scanner.scan_report(path)
    assert report.category == "safe"
    assert report.frames_scanned == list(range(8))
    assert report.confidence > 0.7


def test_scan_looks_at_the_middle_scene_change_frame(
    scanner: LocalNsfwScanner, tmp_path: Path
) -> None:
    frames = [cartoon(i % 2) for i in range(40)]
    frames[20] = text(0)
    report = scanner.scan_report(write_gif(tmp_path / "cut.gif", frames))
    assert 20 in report.frames_scanned
    assert len(report.frames_scanned) <= scanner.max_frames


def test_model_output_flows_to_a_verdict_decided_by_the_worst_frame(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scanner = LocalNsfwScanner()
    frames = [cartoon(i % 2) for i in range(40)]
    frames[20] = text(0)
    exposed = model_output(("FEMALE_GENITALIA_EXPOSED", 0.93, (50, 50, 20, 20)))
    clean = model_output()
    outputs = iter([clean] * 5 + [exposed] + [clean] * 20)
    monkeypatch.setattr(scanner, "_infer", lambda pixels: next(outputs))
    report = scanner.scan_report(write_gif(tmp_path / "cut.gif", frames))
    assert report.category == "nsfw"
    assert report.worst_frame == report.frames_scanned[5]


def test_ms_per_frame_is_measured(scanner: LocalNsfwScanner, tmp_path: Path) -> None:
    report = scanner.scan_report(write_gif(tmp_path / "t.gif", [cartoon(i) for i in range(4)]))
    assert 0.0 < report.ms_per_frame < 1000.0


def test_concurrent_scans_share_one_session_and_agree(tmp_path: Path) -> None:
    scanner = LocalNsfwScanner(max_frames=2)
    path = write_gif(tmp_path / "t.gif", [cartoon(i) for i in range(4)])
    with ThreadPoolExecutor(max_workers=4) as pool:
        reports = list(pool.map(lambda _: scanner.scan_report(path), range(4)))
    assert {(r.category, tuple(r.frames_scanned)) for r in reports} == {("safe", (0, 3))}


@pytest.mark.parametrize(
    "content", [b"", b"GIF89a garbage", b"\x89PNG\r\n"], ids=["empty", "corrupt", "not-gif"]
)
def test_unreadable_file_is_unknown_never_safe(
    scanner: LocalNsfwScanner, tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "bad.gif"
    path.write_bytes(content)
    report = scanner.scan_report(path)
    assert report.category == "unknown"
    assert report.reasons and report.frames_scanned == []


def test_missing_file_is_unknown(scanner: LocalNsfwScanner, tmp_path: Path) -> None:
    assert scanner.scan_report(tmp_path / "nope.gif").category == "unknown"


def test_unloadable_model_gives_unknown_not_safe(tmp_path: Path) -> None:
    model = tmp_path / "broken.onnx"
    model.write_bytes(b"not a model")
    gif = write_gif(tmp_path / "t.gif", [cartoon(i) for i in range(2)])
    report = LocalNsfwScanner(model_path=str(model)).scan_report(gif)
    assert report.category == "unknown"
    assert "could not be loaded" in report.reasons[0]


def test_missing_model_gives_unknown_not_safe(tmp_path: Path) -> None:
    gif = write_gif(tmp_path / "t.gif", [cartoon(i) for i in range(2)])
    report = LocalNsfwScanner(model_path=str(tmp_path / "none.onnx")).scan_report(gif)
    assert report.category == "unknown"


# --- scan(): conversion to the moderation verdict ------------------------------------


def test_scan_returns_the_pipelines_visual_verdict(
    scanner: LocalNsfwScanner, tmp_path: Path
) -> None:
    verdict = scanner.scan(write_gif(tmp_path / "t.gif", [cartoon(i) for i in range(2)]))
    assert isinstance(verdict, VisualVerdict)
    assert verdict.category is ContentCategory.SAFE
    assert verdict.frames_scanned == [0, 1]


def test_an_unreadable_file_is_an_unknown_verdict(
    scanner: LocalNsfwScanner, tmp_path: Path
) -> None:
    verdict = scanner.scan(tmp_path / "missing.gif")
    assert verdict.category is ContentCategory.UNKNOWN and verdict.confidence == 0.0

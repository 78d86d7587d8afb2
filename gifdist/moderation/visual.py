"""Local visual NSFW scanning: sampled GIF frames through NudeNet's bundled detector.

Nothing leaves the machine and nothing is downloaded at run time. The model is the
YOLOv8 ONNX file that the ``nudenet`` package ships (``nudenet/320n.onnx``: input
``images`` N×3×H×W float32 RGB in 0..1, output N×(4+18)×anchors, 2,100 anchors at
320×320, rows of centre-x, centre-y, width, height in input pixels then 18 class
scores). It runs through onnxruntime; pre- and post-processing are done here with
Pillow and numpy, so NudeNet's own OpenCV-based code is never imported.

The worst sampled frame decides: a frame's score is its highest exposed-body-part
confidence, and the GIF is as unsafe as its worst frame.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from PIL import Image

from gifdist.errors import InvalidMedia, ServiceUnavailable
from gifdist.media.frames import DEFAULT_MAX_FRAMES, SampledFrame, sample_frames
from gifdist.moderation.verdicts import ContentCategory, VisualVerdict

if TYPE_CHECKING:
    import numpy.typing as npt
    import onnxruntime

__all__ = [
    "DEFAULT_DETECTION_THRESHOLD",
    "DEFAULT_IOU_THRESHOLD",
    "DEFAULT_NSFW_THRESHOLD",
    "DEFAULT_REVIEW_THRESHOLD",
    "EXPOSED_WEIGHTS",
    "MODEL_INPUT_SIZE",
    "NUDENET_LABELS",
    "Detection",
    "FrameScan",
    "LocalNsfwScanner",
    "ScanReport",
    "VisualCategory",
    "bundled_model_path",
    "classify_frames",
    "decode_detections",
    "frame_nsfw_score",
    "letterbox",
    "non_max_suppression",
    "unknown_report",
]

log = logging.getLogger("gifdist.moderation.visual")

MODEL_INPUT_SIZE = 320
MODEL_FILE_NAME = "320n.onnx"

# The model's class order (NudeNet 3.x), one score row per label after the 4 box rows.
NUDENET_LABELS: tuple[str, ...] = (
    "FEMALE_GENITALIA_COVERED",
    "FACE_FEMALE",
    "BUTTOCKS_EXPOSED",
    "FEMALE_BREAST_EXPOSED",
    "FEMALE_GENITALIA_EXPOSED",
    "MALE_BREAST_EXPOSED",
    "ANUS_EXPOSED",
    "FEET_EXPOSED",
    "BELLY_COVERED",
    "FEET_COVERED",
    "ARMPITS_COVERED",
    "ARMPITS_EXPOSED",
    "FACE_MALE",
    "BELLY_EXPOSED",
    "MALE_GENITALIA_EXPOSED",
    "ANUS_COVERED",
    "FEMALE_BREAST_COVERED",
    "BUTTOCKS_COVERED",
)

# Labels that make a frame NSFW, with the weight applied to their confidence. Every
# other label (covered parts, faces, feet, armpits, belly, male chest) is reported in
# the scores but never makes a frame unsafe.
EXPOSED_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {
        "FEMALE_GENITALIA_EXPOSED": 1.0,
        "MALE_GENITALIA_EXPOSED": 1.0,
        "ANUS_EXPOSED": 1.0,
        "FEMALE_BREAST_EXPOSED": 1.0,
        "BUTTOCKS_EXPOSED": 1.0,
    }
)

DEFAULT_NSFW_THRESHOLD = 0.6
DEFAULT_REVIEW_THRESHOLD = 0.3
DEFAULT_DETECTION_THRESHOLD = 0.25
DEFAULT_IOU_THRESHOLD = 0.45
# Most candidate boxes kept before NMS, so a pathological output stays cheap.
_MAX_CANDIDATES = 300


class VisualCategory(StrEnum):
    """What the scanner concluded about a GIF."""

    SAFE = "safe"
    NSFW = "nsfw"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Detection:
    """One detected body part: NudeNet label, confidence, box (x0, y0, x1, y1) in frame pixels."""

    label: str
    score: float
    box: tuple[float, float, float, float]


@dataclass(frozen=True)
class FrameScan:
    """The detections in one sampled frame and the frame's NSFW score (0..1)."""

    index: int
    reason: str
    detections: tuple[Detection, ...]
    nsfw_score: float


@dataclass
class ScanReport:
    """The scanner's verdict on one file.

    ``category`` is a VisualCategory value. An ``nsfw`` verdict whose confidence is
    below the scanner's NSFW threshold has ``needs_review`` set: the pipeline should
    queue it for a person rather than reject it outright. ``scores`` holds the
    highest confidence seen per label across frames, plus ``nsfw`` for the worst frame.
    """

    category: str
    confidence: float
    reasons: list[str]
    scores: dict[str, float]
    frames_scanned: list[int]
    worst_frame: int | None
    ms_per_frame: float
    needs_review: bool = False
    frames: list[FrameScan] = field(default_factory=list)


def bundled_model_path() -> Path | None:
    """Where the installed ``nudenet`` package keeps its ONNX model, or None.

    Uses the import system's spec only: importing ``nudenet`` itself would import
    OpenCV (``opencv-python-headless``, which nudenet depends on), and nothing here
    needs it.
    """
    try:
        spec = importlib.util.find_spec("nudenet")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / MODEL_FILE_NAME
        if candidate.is_file():
            return candidate
    return None


def letterbox(image: Image.Image, size: int = MODEL_INPUT_SIZE) -> tuple[npt.NDArray[Any], float]:
    """Scale ``image`` so its longer side is ``size`` and pad right and bottom with black.

    Returns the 3×size×size float32 RGB array in 0..1 the model takes, and the scale
    factor from frame pixels to model pixels. Padding on the right and bottom only,
    as NudeNet does, keeps box coordinates a plain division by the scale.
    """
    import numpy as np

    width, height = image.size
    scale = size / max(width, height)
    resized_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = image.convert("RGB").resize(resized_size, Image.Resampling.BILINEAR)
    canvas = Image.new("RGB", (size, size))
    canvas.paste(resized, (0, 0))
    pixels = np.asarray(canvas, dtype=np.float32) / np.float32(255.0)
    return np.ascontiguousarray(pixels.transpose(2, 0, 1)), scale


def non_max_suppression(
    boxes: npt.NDArray[Any],
    scores: npt.NDArray[Any],
    classes: npt.NDArray[Any],
    iou_threshold: float = DEFAULT_IOU_THRESHOLD,
) -> list[int]:
    """Greedy per-class NMS: indices of the boxes kept, highest score first.

    ``boxes`` is K×4 (x0, y0, x1, y1). A box is dropped when it overlaps a
    higher-scoring box of the same class by more than ``iou_threshold``; boxes of
    different classes never suppress each other, so a covered-part box cannot hide an
    exposed-part box on the same spot.
    """
    import numpy as np

    if len(boxes) == 0:
        return []
    span = float(np.max(boxes)) + 1.0
    shifted = boxes + (classes.astype(np.float64) * span)[:, None]
    order = np.argsort(-scores, kind="stable")
    kept: list[int] = []
    while order.size:
        best = int(order[0])
        kept.append(best)
        rest = order[1:]
        order = rest[_iou(shifted[best], shifted[rest]) <= iou_threshold]
    return kept


def _iou(box: npt.NDArray[Any], others: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Intersection over union of one box with each of ``others``."""
    import numpy as np

    x0 = np.maximum(box[0], others[:, 0])
    y0 = np.maximum(box[1], others[:, 1])
    x1 = np.minimum(box[2], others[:, 2])
    y1 = np.minimum(box[3], others[:, 3])
    intersection = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    other_areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    overlap: npt.NDArray[Any] = intersection / np.maximum(area + other_areas - intersection, 1e-9)
    return overlap


def decode_detections(
    output: npt.NDArray[Any],
    *,
    scale: float = 1.0,
    frame_size: tuple[int, int] = (MODEL_INPUT_SIZE, MODEL_INPUT_SIZE),
    min_score: float = DEFAULT_DETECTION_THRESHOLD,
    iou_threshold: float = DEFAULT_IOU_THRESHOLD,
) -> list[Detection]:
    """Turn one image's raw model output, (4 + 18)×anchors, into detections, best first.

    Every (anchor, class) pair scoring at least ``min_score`` is a candidate, not just
    each anchor's top class, so an exposed-part score is never hidden by a slightly
    higher covered-part score at the same anchor. Boxes are mapped back to frame
    pixels by ``scale`` (from ``letterbox``) and clipped to ``frame_size``.

    Raises ValueError when the output does not have one row per box value and label.
    """
    import numpy as np

    if output.ndim != 2 or output.shape[0] != 4 + len(NUDENET_LABELS):
        raise ValueError(f"unexpected model output shape {output.shape}")
    class_scores = output[4:].T
    anchors, classes = np.nonzero(class_scores >= min_score)
    scores = class_scores[anchors, classes]
    if scores.size > _MAX_CANDIDATES:
        top = np.argpartition(-scores, _MAX_CANDIDATES)[:_MAX_CANDIDATES]
        anchors, classes, scores = anchors[top], classes[top], scores[top]
    boxes = _corner_boxes(output[:4].T[anchors], scale, frame_size)
    kept = non_max_suppression(boxes, scores, classes, iou_threshold)
    return [
        Detection(
            label=NUDENET_LABELS[int(classes[i])],
            score=float(scores[i]),
            box=(float(boxes[i, 0]), float(boxes[i, 1]), float(boxes[i, 2]), float(boxes[i, 3])),
        )
        for i in kept
    ]


def _corner_boxes(
    centre_boxes: npt.NDArray[Any], scale: float, frame_size: tuple[int, int]
) -> npt.NDArray[Any]:
    """Centre-size boxes in model pixels → corner boxes in frame pixels, clipped to the frame."""
    import numpy as np

    cx, cy, w, h = (centre_boxes[:, i].astype(np.float64) / scale for i in range(4))
    corners = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    width, height = frame_size
    np.clip(corners[:, 0::2], 0, width, out=corners[:, 0::2])
    np.clip(corners[:, 1::2], 0, height, out=corners[:, 1::2])
    return corners


def frame_nsfw_score(detections: Sequence[Detection]) -> float:
    """A frame's NSFW score: its highest weighted exposed-part confidence (0 if none)."""
    return max(
        (EXPOSED_WEIGHTS.get(d.label, 0.0) * d.score for d in detections),
        default=0.0,
    )


def classify_frames(
    frames: Sequence[FrameScan],
    *,
    nsfw_threshold: float = DEFAULT_NSFW_THRESHOLD,
    review_threshold: float = DEFAULT_REVIEW_THRESHOLD,
    ms_per_frame: float = 0.0,
) -> ScanReport:
    """The worst-frame rule: the frame with the highest NSFW score decides the verdict.

    At or above ``nsfw_threshold``: nsfw with that score as confidence. From
    ``review_threshold`` up to it: nsfw at low confidence, flagged for review. Below:
    safe with confidence 1 - score. No frames at all: unknown.
    """
    if not frames:
        return unknown_report("no frames could be scanned")
    worst = max(frames, key=lambda frame: frame.nsfw_score)
    score = worst.nsfw_score
    report = ScanReport(
        category=VisualCategory.SAFE.value,
        confidence=1.0 - score,
        reasons=[],
        scores=_label_scores(frames) | {"nsfw": score},
        frames_scanned=[frame.index for frame in frames],
        worst_frame=worst.index,
        ms_per_frame=ms_per_frame,
        frames=list(frames),
    )
    if score < review_threshold:
        report.reasons.append(
            f"no exposed body part scored {review_threshold:.2f} or more "
            f"in {len(frames)} sampled frames (highest {score:.2f})"
        )
        return report
    report.category = VisualCategory.NSFW.value
    report.confidence = score
    report.needs_review = score < nsfw_threshold
    report.reasons.extend(_exposed_reasons(worst, review_threshold))
    if report.needs_review:
        report.reasons.append(f"below the {nsfw_threshold:.2f} NSFW threshold: needs review")
    return report


def _label_scores(frames: Sequence[FrameScan]) -> dict[str, float]:
    """Highest confidence per label across all frames."""
    scores: dict[str, float] = {}
    for frame in frames:
        for detection in frame.detections:
            scores[detection.label] = max(scores.get(detection.label, 0.0), detection.score)
    return scores


def _exposed_reasons(frame: FrameScan, review_threshold: float) -> list[str]:
    """One reason per exposed part at or above the review threshold in the deciding frame."""
    return [
        f"{d.label} detected with score {d.score:.2f} in frame {frame.index}"
        for d in frame.detections
        if EXPOSED_WEIGHTS.get(d.label, 0.0) * d.score >= review_threshold
    ]


def unknown_report(reason: str) -> ScanReport:
    """A verdict of "unknown": the scan could not look at the content, so it is never safe."""
    return ScanReport(
        category=VisualCategory.UNKNOWN.value,
        confidence=0.0,
        reasons=[reason],
        scores={},
        frames_scanned=[],
        worst_frame=None,
        ms_per_frame=0.0,
    )


class LocalNsfwScanner:
    """Scans a GIF's sampled frames for nudity with the local NudeNet ONNX model.

    The onnxruntime session is created on first use and shared by all threads
    (``InferenceSession.run`` is thread-safe). Thresholds, all confidences in 0..1:
    a frame whose weighted exposed-part score reaches ``nsfw_threshold`` (default 0.6)
    makes the GIF nsfw; from ``review_threshold`` (default 0.3) up to that it is nsfw
    at low confidence, for review; below it the GIF is safe. Detections under
    ``detection_threshold`` (default 0.25) are ignored, and same-label boxes
    overlapping by more than ``iou_threshold`` (default 0.45) are merged.
    """

    def __init__(
        self,
        *,
        model_path: str | None = None,
        max_frames: int = DEFAULT_MAX_FRAMES,
        threads: int = 1,
        nsfw_threshold: float = DEFAULT_NSFW_THRESHOLD,
        review_threshold: float = DEFAULT_REVIEW_THRESHOLD,
        detection_threshold: float = DEFAULT_DETECTION_THRESHOLD,
        iou_threshold: float = DEFAULT_IOU_THRESHOLD,
    ) -> None:
        """Configure the scanner; the model is loaded on the first scan.

        Raises ValueError for a non-positive frame or thread count, or thresholds
        outside 0 < detection <= review <= nsfw <= 1 and 0 < iou <= 1.
        """
        if max_frames < 1 or threads < 1:
            raise ValueError("max_frames and threads must be at least 1")
        if not 0.0 < detection_threshold <= review_threshold <= nsfw_threshold <= 1.0:
            raise ValueError("thresholds must satisfy 0 < detection <= review <= nsfw <= 1")
        if not 0.0 < iou_threshold <= 1.0:
            raise ValueError("iou_threshold must be in (0, 1]")
        self.model_path = model_path
        self.max_frames = max_frames
        self.threads = threads
        self.nsfw_threshold = nsfw_threshold
        self.review_threshold = review_threshold
        self.detection_threshold = detection_threshold
        self.iou_threshold = iou_threshold
        self._session: onnxruntime.InferenceSession | None = None
        self._session_lock = threading.Lock()

    @classmethod
    def available(cls) -> bool:
        """Whether onnxruntime and numpy import and NudeNet's bundled model file is installed."""
        try:
            import numpy  # noqa: F401
            import onnxruntime  # noqa: F401
        except ImportError:
            return False
        return bundled_model_path() is not None

    def scan(self, file_path: str | os.PathLike[str]) -> VisualVerdict:
        """Scan a file and return the pipeline's ``VisualVerdict``."""
        return _as_visual_verdict(self.scan_report(file_path))

    def scan_report(self, file_path: str | os.PathLike[str]) -> ScanReport:
        """Scan the sampled frames of a file; the worst frame decides.

        Never raises for bad input or a missing model: an unreadable file, or a model
        that cannot be loaded or run, gives an "unknown" report with the reason.
        ``ms_per_frame`` covers pre-processing, inference and post-processing.
        """
        try:
            sampled = sample_frames(file_path, max_frames=self.max_frames)
        except InvalidMedia as exc:
            return unknown_report(f"unreadable image: {exc.message}")
        try:
            self._get_session()  # load outside the timing below
            started = time.perf_counter()
            frames = [self._scan_frame(frame) for frame in sampled]
            elapsed_ms = (time.perf_counter() - started) * 1000.0
        except ServiceUnavailable as exc:
            log.warning("local NSFW scan failed for %s: %s", file_path, exc.message)
            return unknown_report(exc.message)
        return classify_frames(
            frames,
            nsfw_threshold=self.nsfw_threshold,
            review_threshold=self.review_threshold,
            ms_per_frame=elapsed_ms / max(len(frames), 1),
        )

    def _scan_frame(self, frame: SampledFrame) -> FrameScan:
        """Detect body parts in one frame. Raises ServiceUnavailable if the model fails."""
        pixels, scale = letterbox(frame.image)
        output = self._infer(pixels)
        detections = decode_detections(
            output,
            scale=scale,
            frame_size=frame.image.size,
            min_score=self.detection_threshold,
            iou_threshold=self.iou_threshold,
        )
        return FrameScan(frame.index, frame.reason, tuple(detections), frame_nsfw_score(detections))

    def _infer(self, pixels: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """Run the model on one 3×320×320 image; returns its (4 + 18)×anchors output."""
        session = self._get_session()
        try:
            (output,) = session.run(None, {session.get_inputs()[0].name: pixels[None]})
        except Exception as exc:  # onnxruntime's errors share no base class but Exception
            raise ServiceUnavailable(f"local NSFW model failed to run: {exc}") from exc
        result: npt.NDArray[Any] = output[0]
        return result

    def _get_session(self) -> onnxruntime.InferenceSession:
        """The shared inference session, loaded once. Raises ServiceUnavailable."""
        with self._session_lock:
            if self._session is None:
                self._session = _load_session(self._resolve_model_path(), self.threads)
            return self._session

    def _resolve_model_path(self) -> Path:
        """The configured model file, else NudeNet's. Raises ServiceUnavailable."""
        path = Path(self.model_path) if self.model_path else bundled_model_path()
        if path is None or not path.is_file():
            raise ServiceUnavailable(
                f"local NSFW model not found ({path or 'nudenet is not installed'})"
            )
        return path


def _load_session(path: Path, threads: int) -> onnxruntime.InferenceSession:
    """Create a CPU inference session. Raises ServiceUnavailable."""
    try:
        import numpy  # noqa: F401  (pre- and post-processing need it)
        import onnxruntime
    except ImportError as exc:
        raise ServiceUnavailable(f"{exc.name} is not installed (gifdist[nsfw])") from exc
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime's errors share no base class but Exception
        raise ServiceUnavailable(f"local NSFW model could not be loaded: {exc}") from exc


def _as_visual_verdict(report: ScanReport) -> VisualVerdict:
    """The pipeline's verdict type for a scan report."""
    return VisualVerdict(
        category=ContentCategory[report.category.upper()],
        confidence=report.confidence,
        reasons=list(report.reasons),
        scores=dict(report.scores),
        frames_scanned=list(report.frames_scanned),
    )

"""The seed's ``ai_safety_scanner`` module: OpenAI moderation of text and frames.

The code lives in :mod:`gifdist.moderation.openai_scanner`."""

from gifdist.moderation.openai_scanner import (
    DEFAULT_MAX_FRAMES,
    DEFAULT_MODERATION_MODEL,
    DEFAULT_VIOLATION_THRESHOLD,
    DEFAULT_VISION_MODEL,
    INSTALL_HINT,
    MAX_FRAME_EDGE,
    VIOLATION_LABELS,
    AISafetyError,
    AISafetyPipeline,
    OpenAIModerationScanner,
    OpenAIVisionScanner,
    SafetyScanResult,
)

__all__ = [
    "DEFAULT_MAX_FRAMES",
    "DEFAULT_MODERATION_MODEL",
    "DEFAULT_VIOLATION_THRESHOLD",
    "DEFAULT_VISION_MODEL",
    "INSTALL_HINT",
    "MAX_FRAME_EDGE",
    "VIOLATION_LABELS",
    "AISafetyError",
    "AISafetyPipeline",
    "OpenAIModerationScanner",
    "OpenAIVisionScanner",
    "SafetyScanResult",
]

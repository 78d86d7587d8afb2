"""The seed's ``ai_safety_scanner`` module: OpenAI moderation of text and frames.

As in the seed, the scanners keep ``api_key`` (the argument, else
``OPENAI_API_KEY``) and ``client`` (an ``openai.OpenAI``, or the caller's own
client), and read ``client.moderations.create``'s typed result. Deliberately
stricter than the seed: a result is validated before it counts (an unreadable one
raises ``AISafetyError``, never reads as safe); timeouts, 429 and 5xx are retried a
bounded number of times; and GIF frames are judged by the moderation model, one
request per sampled frame, rather than by a chat model's free-text JSON.

The code lives in :mod:`gifdist.moderation.openai_scanner`."""

from gifdist.moderation.openai_scanner import (
    API_KEY_MISSING,
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
    "API_KEY_MISSING",
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

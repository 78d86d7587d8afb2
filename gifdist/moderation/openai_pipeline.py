"""OpenAI moderation inside the service's pipeline (when an API key is configured).

The OpenAI scanners answer with ``SafetyScanResult``; the pipeline speaks
``(ContentCategory, confidence, reasons)``. These adapters translate, and turn every
failure (timeout, 5xx, 429 after retries, malformed answers) into UNKNOWN, which
strict mode sends to review: a scanner that could not look never approves.
"""

from __future__ import annotations

import logging
from typing import Any

from gifdist.moderation.openai_scanner import AISafetyError, SafetyScanResult
from gifdist.moderation.pipeline import ContentCategory, VisualVerdict

log = logging.getLogger("gifdist.moderation")

# OpenAI moderation categories (prefix before "/") → ours.
CATEGORY_MAP = {
    "sexual": ContentCategory.NSFW,
    "violence": ContentCategory.GRAPHIC_VIOLENCE,
    "self-harm": ContentCategory.GRAPHIC_VIOLENCE,
    "hate": ContentCategory.HATE_SPEECH,
    "harassment": ContentCategory.HATE_SPEECH,
    "illicit": ContentCategory.ILLEGAL,
}
SEVERITY = [
    ContentCategory.ILLEGAL,
    ContentCategory.NSFW,
    ContentCategory.GRAPHIC_VIOLENCE,
    ContentCategory.HATE_SPEECH,
    ContentCategory.SPAM,
]


def to_category(result: SafetyScanResult, source: str) -> tuple[ContentCategory, float, list[str]]:
    if result.is_safe:
        return ContentCategory.SAFE, float(result.confidence), [f"{source}: no policy violation"]
    found = {
        CATEGORY_MAP.get(name.split("/")[0].lower(), ContentCategory.NSFW): score
        for name, score in result.categories_flagged.items()
    } or {ContentCategory.NSFW: float(result.confidence)}
    worst = min(found, key=SEVERITY.index)
    named = ", ".join(sorted(result.categories_flagged)) or "unsafe"
    return worst, float(result.confidence), [f"{source}: {named}"]


class OpenAIVisual:
    """A visual scanner over ``OpenAIVisionScanner`` (frames sampled across the GIF)."""

    def __init__(self, scanner: Any) -> None:
        self.scanner = scanner

    def scan(self, file_path: str) -> VisualVerdict:
        try:
            result = self.scanner.scan_image(file_path)
        except AISafetyError as exc:
            log.warning("OpenAI image moderation failed: %s", exc)
            return VisualVerdict(ContentCategory.UNKNOWN, 0.0, [f"openai: {exc}"])
        category, confidence, reasons = to_category(result, "openai")
        return VisualVerdict(category, confidence, reasons)


class OpenAIText:
    """A metadata check over ``OpenAIModerationScanner`` (after the term lists)."""

    def __init__(self, scanner: Any) -> None:
        self.scanner = scanner

    def __call__(self, text: str) -> tuple[ContentCategory, float, list[str]]:
        try:
            result = self.scanner.scan_text(text)
        except AISafetyError as exc:
            log.warning("OpenAI text moderation failed: %s", exc)
            return ContentCategory.UNKNOWN, 0.0, [f"openai text: {exc}"]
        return to_category(result, "openai text")


class WorstOf:
    """Several visual scanners; an unsafe verdict wins, then UNKNOWN, else the safe one
    with the lowest confidence."""

    def __init__(self, scanners: list[Any]) -> None:
        self.scanners = scanners

    def scan(self, file_path: str) -> VisualVerdict:
        verdicts = [s.scan(file_path) for s in self.scanners]
        reasons = [r for v in verdicts for r in v.reasons]
        unsafe = [
            v for v in verdicts if v.category not in (ContentCategory.SAFE, ContentCategory.UNKNOWN)
        ]
        if unsafe:
            worst = max(unsafe, key=lambda v: v.confidence)
            return VisualVerdict(worst.category, worst.confidence, reasons)
        if any(v.category is ContentCategory.UNKNOWN for v in verdicts):
            return VisualVerdict(ContentCategory.UNKNOWN, 0.0, reasons)
        return VisualVerdict(ContentCategory.SAFE, min(v.confidence for v in verdicts), reasons)

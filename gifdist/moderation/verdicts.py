"""What scanners conclude: content categories and a visual scanner's verdict.

Shared by the pipeline and the scanners it runs (the local NSFW model, OpenAI), so a
scanner never needs the pipeline to describe what it saw.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class ContentCategory(Enum):
    SAFE = "safe"
    NSFW = "nsfw"
    GRAPHIC_VIOLENCE = "graphic_violence"
    HATE_SPEECH = "hate_speech"
    ILLEGAL = "illegal"
    SPAM = "spam"
    UNKNOWN = "unknown"


@dataclass
class VisualVerdict:
    """What a visual scanner saw."""

    category: ContentCategory
    confidence: float
    reasons: list[str]
    scores: dict[str, float] = field(default_factory=dict)
    frames_scanned: list[int] = field(default_factory=list)

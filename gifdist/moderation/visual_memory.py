"""Scan each content's frames once: a verdict stored for its SHA-256 is reused.

Two owners uploading the same bytes get two assets, and each asset's text is checked
on its own, but the frames are the same: the first scan's verdict is kept with the
content and every later asset over those bytes reuses it. Only a verdict that says
something (not UNKNOWN) is kept, so a scanner outage is retried next time.
"""

from __future__ import annotations

import hashlib
from typing import Any

from gifdist.assets.store import AssetStore
from gifdist.moderation.pipeline import VisualScanner
from gifdist.moderation.verdicts import ContentCategory, VisualVerdict

REUSED = "verdict of these bytes reused (scanned for an earlier upload)"


class RememberedVisualScanner:
    """A ``VisualScanner`` that asks ``scanner`` only for bytes never scanned before."""

    def __init__(self, scanner: VisualScanner, store: AssetStore) -> None:
        self.scanner = scanner
        self.store = store

    def scan(self, file_path: str) -> VisualVerdict:
        sha256 = _sha256_of(file_path)
        stored = self.store.visual_verdict(sha256) if sha256 else None
        if stored is not None:
            return VisualVerdict(
                category=ContentCategory(stored["category"]),
                confidence=float(stored["confidence"]),
                reasons=[*stored.get("reasons", []), REUSED],
                scores=dict(stored.get("scores", {})),
                frames_scanned=list(stored.get("frames_scanned", [])),
            )
        verdict = _as_verdict(self.scanner.scan(file_path))
        if sha256 and verdict.category is not ContentCategory.UNKNOWN:
            self.store.save_visual_verdict(
                sha256,
                {
                    "category": verdict.category.value,
                    "confidence": verdict.confidence,
                    "reasons": list(verdict.reasons),
                    "scores": dict(verdict.scores),
                    "frames_scanned": list(verdict.frames_scanned),
                },
            )
        return verdict


def _as_verdict(found: Any) -> VisualVerdict:
    if isinstance(found, VisualVerdict):
        return found
    category = found.category
    if not isinstance(category, ContentCategory):
        category = ContentCategory(str(category))
    return VisualVerdict(
        category=category,
        confidence=float(found.confidence),
        reasons=list(found.reasons),
        scores=dict(getattr(found, "scores", {}) or {}),
        frames_scanned=list(getattr(found, "frames_scanned", []) or []),
    )


def _sha256_of(file_path: str) -> str | None:
    digest = hashlib.sha256()
    try:
        with open(file_path, "rb") as handle:
            while block := handle.read(1024 * 1024):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()

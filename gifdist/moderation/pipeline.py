"""Safe-for-work moderation: scanners, the decision pipeline and the audit trail.

``ContentScanner`` checks metadata against maintained term lists and looks at
pixels with the local NSFW detector when it is installed (``[nsfw]``); it never
pretends: an image nobody could look at is ``UNKNOWN``, never ``SAFE``.
``ModerationPipeline`` turns the verdicts into a decision and appends every
decision to an audit trail whose entries are hash-chained, so a modified, removed
or reordered entry is detectable (``verify_audit_chain``).

Decision rule:
- any unsafe category at or above ``auto_reject_threshold`` → REJECTED;
- any unsafe category below it → FLAGGED (a person decides);
- SAFE pixels at or above ``auto_approve_threshold`` with clean metadata → APPROVED;
- anything else (UNKNOWN, low confidence, no visual scanner) → FLAGGED in strict
  mode; in non-strict mode clean metadata is enough to approve.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import os
import threading
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Protocol

from gifdist.moderation.terms import TermMatcher, load_terms
from gifdist.moderation.verdicts import ContentCategory, VisualVerdict

__all__ = [
    "AuditEntry",
    "AuditStore",
    "ContentCategory",
    "ContentScanner",
    "InMemoryAuditStore",
    "ModerationDecision",
    "ModerationError",
    "ModerationPipeline",
    "ModerationResult",
    "VisualVerdict",
    "verify_audit_chain",
]

GENESIS_HASH = "0" * 64


class ModerationDecision(Enum):
    APPROVED = "approved"
    REJECTED = "rejected"
    FLAGGED = "flagged"
    PENDING = "pending"


UNSAFE = frozenset(
    {
        ContentCategory.NSFW,
        ContentCategory.GRAPHIC_VIOLENCE,
        ContentCategory.HATE_SPEECH,
        ContentCategory.ILLEGAL,
        ContentCategory.SPAM,
    }
)
# (category, term file, scanner attribute, label in reasons, confidence), most severe
# first: it is the one reported when several lists match. NSFW, violence and hate
# carry the seed's confidences.
TERM_LISTS = (
    (ContentCategory.ILLEGAL, "illegal", "illegal_keywords", "Illegal content", 0.97),
    (ContentCategory.NSFW, "nsfw", "nsfw_keywords", "NSFW", 0.95),
    (ContentCategory.HATE_SPEECH, "hate_speech", "hate_keywords", "Hate speech", 0.95),
    (ContentCategory.GRAPHIC_VIOLENCE, "graphic_violence", "violence_keywords", "Violence", 0.90),
    (ContentCategory.SPAM, "spam", "spam_keywords", "Spam", 0.7),
)
CLEAN_METADATA_REASON = "No policy violations detected"


class ModerationError(Exception):
    """Moderation could not be carried out."""


@dataclass
class ModerationResult:
    decision: ModerationDecision
    category: ContentCategory
    confidence: float
    reasons: list[str] = field(default_factory=list)
    scan_id: str = ""
    timestamp: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class AuditEntry:
    """One decision in the audit trail; ``entry_hash`` chains it to the previous one."""

    audit_id: str
    asset_id: str
    decision: ModerationDecision
    category: ContentCategory
    confidence: float
    moderator: str
    timestamp: str
    reasons: list[str]
    metadata: dict[str, Any] = field(default_factory=dict)
    prev_hash: str = GENESIS_HASH
    entry_hash: str = ""

    def canonical(self) -> str:
        """The JSON the chain hash covers (every field but ``entry_hash``)."""
        data = asdict(self)
        data.pop("entry_hash")
        data["decision"] = self.decision.value
        data["category"] = self.category.value
        return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)

    def compute_hash(self) -> str:
        return hashlib.sha256((self.prev_hash + self.canonical()).encode()).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["decision"] = self.decision.value
        data["category"] = self.category.value
        return data


class VisualScanner(Protocol):
    def scan(self, file_path: str) -> Any: ...


class AuditStore(Protocol):
    def append(self, entry: AuditEntry) -> AuditEntry: ...
    def list(
        self,
        asset_id: str | None = None,
        decision: ModerationDecision | None = None,
        limit: int = 100,
        start: str | None = None,
        end: str | None = None,
    ) -> builtins.list[AuditEntry]: ...
    def all_in_order(self) -> builtins.list[AuditEntry]: ...


def verify_audit_chain(entries: list[AuditEntry]) -> tuple[bool, int | None]:
    """(True, None) if every entry links to the previous one, else (False, index)."""
    previous = GENESIS_HASH
    for index, entry in enumerate(entries):
        if entry.prev_hash != previous or entry.compute_hash() != entry.entry_hash:
            return False, index
        previous = entry.entry_hash
    return True, None


class InMemoryAuditStore:
    """The library default: a chained list in memory (thread-safe)."""

    def __init__(self) -> None:
        self._entries: list[AuditEntry] = []
        self._lock = threading.Lock()

    def append(self, entry: AuditEntry) -> AuditEntry:
        with self._lock:
            entry.prev_hash = self._entries[-1].entry_hash if self._entries else GENESIS_HASH
            entry.entry_hash = entry.compute_hash()
            self._entries.append(entry)
            return entry

    def list(
        self,
        asset_id: str | None = None,
        decision: ModerationDecision | None = None,
        limit: int = 100,
        start: str | None = None,
        end: str | None = None,
    ) -> builtins.list[AuditEntry]:
        with self._lock:
            entries = [
                e
                for e in self._entries
                if (asset_id is None or e.asset_id == asset_id)
                and (decision is None or e.decision == decision)
                and (start is None or e.timestamp >= start)
                and (end is None or e.timestamp <= end)
            ]
        return entries[-limit:] if limit else entries

    def clear(self, asset_id: str | None = None) -> None:
        """Seed API only; the SQL store is append-only and has no such method."""
        with self._lock:
            self._entries = [
                e for e in self._entries if asset_id is not None and e.asset_id != asset_id
            ]
            previous = GENESIS_HASH
            for entry in self._entries:  # re-chain what is left
                entry.prev_hash = previous
                entry.entry_hash = entry.compute_hash()
                previous = entry.entry_hash

    def all_in_order(self) -> builtins.list[AuditEntry]:
        with self._lock:
            return list(self._entries)


class ContentScanner:
    """Metadata term lists plus, when available, the local visual NSFW scanner.

    The term lists are plain sets of the seed's names (``nsfw_keywords``,
    ``violence_keywords``, ``hate_keywords``, and ``illegal_keywords``,
    ``spam_keywords``); adding to or removing from one changes what the next scan
    matches. Deliberately stricter than the seed, terms match as whole words after
    case, accent, look-alike and leetspeak normalisation, so "Essex" is not "sex"
    but "p0rn" is "porn"; an image nobody could look at is UNKNOWN, never SAFE.
    """

    nsfw_keywords: set[str]
    violence_keywords: set[str]
    hate_keywords: set[str]
    illegal_keywords: set[str]
    spam_keywords: set[str]

    def __init__(
        self,
        strict_mode: bool = True,
        *,
        visual_scanner: VisualScanner | None = None,
        use_local_visual: bool = True,
        text_scanner: Callable[[str], tuple[ContentCategory, float, list[str]]] | None = None,
    ) -> None:
        self.strict_mode = strict_mode
        self.text_scanner = text_scanner
        for _, file_name, attribute, _, _ in TERM_LISTS:
            setattr(self, attribute, set(load_terms(file_name)))
        self._matchers: dict[str, tuple[frozenset[str], TermMatcher]] = {}
        self.visual_scanner = visual_scanner
        if visual_scanner is None and use_local_visual:
            self.visual_scanner = local_visual_scanner()

    def scan_metadata(
        self, title: str = "", tags: list[str] | None = None, description: str = ""
    ) -> tuple[ContentCategory, float, list[str]]:
        """``(category, confidence, reasons)`` of the most severe term list that matches.

        Clean text is ``(SAFE, 0.99, ["No policy violations detected"])``, after the
        optional ``text_scanner`` (OpenAI) also found nothing.
        """
        fields = {
            "title": title or "",
            "tags": " , ".join(tags or []),
            "description": description or "",
        }
        for category, _, attribute, label, confidence in TERM_LISTS:
            matcher = self._matcher(attribute)
            for name, text in fields.items():
                hits = matcher.find(text)
                if hits:
                    quoted = ", ".join(f"'{hit}'" for hit in hits[:3])
                    return category, confidence, [f"metadata: {label} term {quoted} in {name}"]
        text = "\n".join(t for t in fields.values() if t.strip())
        if self.text_scanner is not None and text:
            category, confidence, reasons = self.text_scanner(text)
            if category is not ContentCategory.SAFE:
                return category, confidence, reasons
        return ContentCategory.SAFE, 0.99, [CLEAN_METADATA_REASON]

    def _matcher(self, attribute: str) -> TermMatcher:
        """The matcher for a term set as it is now (rebuilt only when the set changed)."""
        terms = frozenset(getattr(self, attribute))
        cached = self._matchers.get(attribute)
        if cached is None or cached[0] != terms:
            cached = self._matchers[attribute] = (terms, TermMatcher(terms))
        return cached[1]

    def scan_visual_content(
        self, file_path: str, file_hash: str
    ) -> tuple[ContentCategory, float, list[str]]:
        if not file_path or not os.path.isfile(file_path) or os.path.getsize(file_path) == 0:
            return ContentCategory.UNKNOWN, 0.0, ["visual: the file is missing or empty"]
        if self.visual_scanner is None:
            return ContentCategory.UNKNOWN, 0.0, ["visual: no visual scanner available"]
        verdict = self.visual_scanner.scan(file_path)
        category = verdict.category
        if not isinstance(category, ContentCategory):
            category = ContentCategory(str(category))
        return category, float(verdict.confidence), [f"visual: {r}" for r in verdict.reasons]


def local_visual_scanner() -> VisualScanner | None:
    """The local NSFW model's scanner, or None when ``gifdist[nsfw]`` is not installed."""
    try:
        from gifdist.moderation.visual import LocalNsfwScanner
    except ImportError:
        return None
    return LocalNsfwScanner() if LocalNsfwScanner.available() else None


class ModerationPipeline:
    """Scans uploads, decides, and records every decision in the audit trail."""

    def __init__(
        self,
        strict_mode: bool = True,
        auto_approve_threshold: float = 0.95,
        auto_reject_threshold: float = 0.80,
        enable_audit: bool = True,
        *,
        scanner: ContentScanner | None = None,
        audit_store: AuditStore | None = None,
    ) -> None:
        for name, value in (
            ("auto_approve_threshold", auto_approve_threshold),
            ("auto_reject_threshold", auto_reject_threshold),
        ):
            if not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value!r}")
        self.strict_mode = strict_mode
        self.auto_approve_threshold = float(auto_approve_threshold)
        self.auto_reject_threshold = float(auto_reject_threshold)
        self.enable_audit = enable_audit
        self.scanner = scanner or ContentScanner(strict_mode=strict_mode)
        self.audit_store: AuditStore = audit_store or InMemoryAuditStore()
        self._stats = {"total_scans": 0, "approved": 0, "rejected": 0, "flagged": 0, "pending": 0}
        self._lock = threading.Lock()

    def moderate_content(
        self,
        asset_id: str,
        file_path: str,
        file_hash: str,
        title: str = "",
        tags: list[str] | None = None,
        description: str = "",
        metadata: dict[str, Any] | None = None,
    ) -> ModerationResult:
        meta = self.scanner.scan_metadata(title=title, tags=tags, description=description)
        visual = self.scanner.scan_visual_content(file_path=file_path, file_hash=file_hash)
        decision, category, confidence = self._decide(meta, visual)
        result = ModerationResult(
            decision=decision,
            category=category,
            confidence=round(confidence, 4),
            reasons=meta[2] + visual[2],
            scan_id=uuid.uuid4().hex[:16],
            metadata={
                **(metadata or {}),
                "metadata_category": meta[0].value,
                "visual_category": visual[0].value,
                "visual_confidence": visual[1],
            },
        )
        self._count(decision, scan=True)
        self._audit(asset_id, result, "system")
        return result

    def _decide(
        self,
        meta: tuple[ContentCategory, float, list[str]],
        visual: tuple[ContentCategory, float, list[str]],
    ) -> tuple[ModerationDecision, ContentCategory, float]:
        unsafe = [v for v in (meta, visual) if v[0] in UNSAFE]
        if unsafe:
            category, confidence, _ = max(unsafe, key=lambda v: v[1])
            if confidence >= self.auto_reject_threshold:
                return ModerationDecision.REJECTED, category, confidence
            return ModerationDecision.FLAGGED, category, confidence
        if self.strict_mode and meta[0] is ContentCategory.UNKNOWN:  # a text check failed
            return ModerationDecision.FLAGGED, ContentCategory.UNKNOWN, 0.0
        if visual[0] is ContentCategory.SAFE and visual[1] >= self.auto_approve_threshold:
            return ModerationDecision.APPROVED, ContentCategory.SAFE, min(meta[1], visual[1])
        if not self.strict_mode and visual[0] is not ContentCategory.SAFE and visual[1] == 0.0:
            return ModerationDecision.APPROVED, ContentCategory.SAFE, meta[1]
        return ModerationDecision.FLAGGED, ContentCategory.UNKNOWN, visual[1]

    def manual_review(
        self,
        asset_id: str,
        scan_id: str,
        decision: ModerationDecision,
        reviewer_id: str,
        notes: str = "",
    ) -> AuditEntry:
        if not isinstance(decision, ModerationDecision):
            raise TypeError("decision must be a ModerationDecision")
        category = {
            ModerationDecision.APPROVED: ContentCategory.SAFE,
            ModerationDecision.REJECTED: ContentCategory.NSFW,
        }.get(decision, ContentCategory.UNKNOWN)
        entry = AuditEntry(
            audit_id=uuid.uuid4().hex[:16],
            asset_id=asset_id,
            decision=decision,
            category=category,
            confidence=1.0,
            moderator=reviewer_id,
            timestamp=datetime.now(UTC).isoformat(),
            reasons=[f"Manual review: {notes}"] if notes else ["Manual review"],
            metadata={"scan_id": scan_id, "review_type": "manual", "notes": notes},
        )
        self._count(decision, scan=False)
        return self.audit_store.append(entry) if self.enable_audit else entry

    def _audit(self, asset_id: str, result: ModerationResult, moderator: str) -> None:
        if not self.enable_audit:
            return
        self.audit_store.append(
            AuditEntry(
                audit_id=uuid.uuid4().hex[:16],
                asset_id=asset_id,
                decision=result.decision,
                category=result.category,
                confidence=result.confidence,
                moderator=moderator,
                timestamp=result.timestamp,
                reasons=list(result.reasons),
                metadata={**result.metadata, "scan_id": result.scan_id},
            )
        )

    def _count(self, decision: ModerationDecision, *, scan: bool) -> None:
        with self._lock:
            if scan:
                self._stats["total_scans"] += 1
            self._stats[decision.value] = self._stats.get(decision.value, 0) + 1

    def get_audit_trail(
        self,
        asset_id: str | None = None,
        decision: ModerationDecision | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        if limit < 0:
            raise ValueError("limit must not be negative")
        return self.audit_store.list(asset_id=asset_id, decision=decision, limit=limit)

    def get_statistics(self) -> dict[str, Any]:
        with self._lock:
            stats: dict[str, Any] = dict(self._stats)
        total = stats["total_scans"]
        for key, name in (
            ("approval_rate", "approved"),
            ("rejection_rate", "rejected"),
            ("flag_rate", "flagged"),
        ):
            stats[key] = stats[name] / total * 100 if total else 0.0
        return stats

    def clear_audit_trail(self, asset_id: str | None = None) -> None:
        clear = getattr(self.audit_store, "clear", None)
        if clear is None:
            raise ModerationError("this audit trail is append-only")
        clear(asset_id)

    def export_audit_trail(
        self, start_time: str | datetime | None = None, end_time: str | datetime | None = None
    ) -> list[dict[str, Any]]:
        start = start_time.isoformat() if isinstance(start_time, datetime) else start_time
        end = end_time.isoformat() if isinstance(end_time, datetime) else end_time
        return [e.to_dict() for e in self.audit_store.list(start=start, end=end, limit=0)]

"""The review desk: what moderators and the public do after the automatic scan.

Anyone may report a public asset; when ``report_threshold`` distinct reporters
have reported it since its last review, it is taken down (``flagged``) and waits
in the queue. Moderators list the queue, decide with notes, and query, export and
verify the hash-chained audit trail. Every decision goes to that trail.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import logging
import unicodedata
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from gifdist.assets.catalog import AssetCatalog
from gifdist.assets.model import AssetRecord, AssetStatus
from gifdist.errors import Conflict, GifdistError, InvalidInput, NotFound
from gifdist.moderation.pipeline import AuditEntry, ModerationDecision, verify_audit_chain
from gifdist.moderation.reports import ReportStore

if TYPE_CHECKING:
    from gifdist.moderation.worker import ModerationRunner

log = logging.getLogger("gifdist.moderation")

DECISIONS = {
    "approve": ModerationDecision.APPROVED,
    "approved": ModerationDecision.APPROVED,
    "reject": ModerationDecision.REJECTED,
    "rejected": ModerationDecision.REJECTED,
    "flag": ModerationDecision.FLAGGED,
    "flagged": ModerationDecision.FLAGGED,
}
QUEUE_STATUSES = (AssetStatus.FLAGGED, AssetStatus.PENDING)
MAX_REASON_CHARS = 1000
MAX_NOTES_CHARS = 5000
MAX_REVIEWER_CHARS = 200  # the audit trail's moderator column


def reviewer_label(name: str, key_id: str) -> str:
    """The audit trail's "name (key_id)", the name shortened so the whole fits."""
    suffix = f" ({key_id})"
    return name[: max(0, MAX_REVIEWER_CHARS - len(suffix))] + suffix


AUDIT_COLUMNS = (
    "timestamp",
    "audit_id",
    "asset_id",
    "decision",
    "category",
    "confidence",
    "moderator",
    "reasons",
    "prev_hash",
    "entry_hash",
)


def parse_decision(value: Any) -> ModerationDecision:
    decision = DECISIONS.get(str(value).strip().lower()) if isinstance(value, str) else None
    if decision is None:
        raise InvalidInput("decision must be approve, reject or flag", code="bad_decision")
    return decision


class ReviewDesk:
    """Reports from the public and moderators' decisions, every one audited."""

    def __init__(
        self,
        catalog: AssetCatalog,
        runner: ModerationRunner,
        reports: ReportStore,
        *,
        reporter_key: bytes,
        threshold: int,
        base_url: str,
    ) -> None:
        self.catalog = catalog
        self.store = catalog.store
        self.runner = runner
        self.reports = reports
        self.threshold = threshold
        self.base_url = base_url
        self._reporter_key = reporter_key

    # public reports ---------------------------------------------------------------

    def reporter_id(self, client: str | None) -> str:
        """A keyed hash of the reporter's address: one report each, no address stored."""
        material = f"report\x00{client or '-'}".encode()
        return hmac.new(self._reporter_key, material, hashlib.sha256).hexdigest()[:32]

    def report(self, asset_id: str, reason: Any, client: str | None) -> dict[str, Any]:
        """Record a report; take the asset down for review at the threshold."""
        if reason is not None and not isinstance(reason, str):
            raise InvalidInput("reason must be a string", code="bad_reason")
        text = " ".join((reason or "").split())
        _check_plain(text, "reason", "bad_reason")
        if len(text) > MAX_REASON_CHARS:
            raise InvalidInput(f"reason is longer than {MAX_REASON_CHARS} characters")
        record = self.catalog.get(asset_id)
        if record is None or not record.is_public:
            raise NotFound("There is no such GIF.")
        new = self.reports.add(record.asset_id, self.reporter_id(client), text)
        since = (record.moderation or {}).get("reviewed_at")
        count = self.reports.count_since(
            record.asset_id, datetime.fromisoformat(since) if since else None
        )
        taken_down = False
        if new and count >= self.threshold:
            self.runner.pipeline.manual_review(
                record.asset_id,
                (record.moderation or {}).get("scan_id", "reports"),
                ModerationDecision.FLAGGED,
                "reports",
                f"{count} reports: back to review",
            )
            summary = {**(record.moderation or {}), "decision": "flagged", "reports": count}
            self.store.set_status(record.asset_id, AssetStatus.FLAGGED, moderation=summary)
            self.catalog.changed(record.asset_id)
            taken_down = True
            self._ensure_review_frames(record)
        return {
            "asset_id": record.asset_id,
            "accepted": new,
            "reports": count,
            "under_review": taken_down,
        }

    def _ensure_review_frames(self, record: AssetRecord) -> None:
        """A GIF entering review unscanned (moderation off) gets its reviewers' frames
        now, once per content, so the review page never decodes it."""
        frames = self.runner.frames
        if frames is None or frames.stored(record.sha256) is not None:
            return
        try:
            frames.get_or_render(record.sha256, lambda: self.catalog.blob_path(record))
        except (GifdistError, OSError) as exc:
            log.warning("no review frames for %s: %s", record.asset_id, exc)

    # moderators ---------------------------------------------------------------------

    def queue(
        self, status: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[dict[str, Any]]:
        """Assets waiting for a person, oldest first (flagged, then pending)."""
        statuses: tuple[AssetStatus, ...] = QUEUE_STATUSES
        if status is not None:
            try:
                statuses = (AssetStatus(status),)
            except ValueError:
                raise InvalidInput(
                    "status must be flagged, pending, approved or rejected", code="bad_status"
                ) from None
        records: list[AssetRecord] = []
        for wanted in statuses:
            records += self.store.list(status=wanted, oldest_first=True, limit=limit + offset)
        records = records[offset : offset + limit]
        reasons = self.reports.reasons(r.asset_id for r in records)
        base = self.base_url
        return [
            {
                **r.to_json(base),
                "content_url": f"{base}/api/v1/assets/{r.asset_id}/content",
                "frames_url": f"{base}/api/v1/assets/{r.asset_id}/frames",
                "moderation": r.moderation or {},
                "report_reasons": reasons.get(r.asset_id, []),
            }
            for r in records
        ]

    def decide(self, asset_id: str, decision: Any, reviewer: str, notes: Any = "") -> AssetRecord:
        chosen = parse_decision(decision)
        if notes is not None and not isinstance(notes, str):
            raise InvalidInput("notes must be a string", code="bad_notes")
        notes = (notes or "").strip()
        _check_plain(notes, "notes", "bad_notes")
        if len(notes) > MAX_NOTES_CHARS:
            raise InvalidInput(f"notes are longer than {MAX_NOTES_CHARS} characters")
        _check_plain(reviewer, "reviewer", "bad_reviewer")
        if not reviewer.strip() or len(reviewer) > MAX_REVIEWER_CHARS:
            raise InvalidInput(
                f"the reviewer is 1 to {MAX_REVIEWER_CHARS} characters", code="bad_reviewer"
            )
        record = self.catalog.require(asset_id)
        appeal = chosen is ModerationDecision.APPROVED and record.status is AssetStatus.REJECTED
        if appeal and not self.catalog.blobs.restore(record.sha256):
            raise Conflict("the bytes of this rejected GIF are no longer kept")
        updated = self.runner.review(record.asset_id, chosen, reviewer, notes)
        stamped = {**(updated.moderation or {}), "reviewed_at": datetime.now(UTC).isoformat()}
        final = self.store.set_status(record.asset_id, updated.status, moderation=stamped)
        self.catalog.changed(record.asset_id)
        assert final is not None
        return final

    def audit(
        self,
        *,
        asset_id: str | None = None,
        decision: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        chosen = parse_decision(decision) if decision else None
        entries: list[AuditEntry] = self.runner.pipeline.audit_store.list(
            asset_id=asset_id,
            decision=chosen,
            limit=limit,
            start=start.isoformat() if start else None,
            end=end.isoformat() if end else None,
        )
        return entries

    def verify(self) -> dict[str, Any]:
        """Walk the whole chain: ``valid`` and, if not, the first entry that breaks it."""
        entries = self.runner.pipeline.audit_store.all_in_order()
        valid, index = verify_audit_chain(entries)
        broken = entries[index] if index is not None and index < len(entries) else None
        return {
            "valid": valid,
            "entries": len(entries),
            "first_bad_index": index,
            "first_bad_audit_id": broken.audit_id if broken else None,
        }


def audit_csv(entries: list[AuditEntry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(AUDIT_COLUMNS)
    for entry in entries:
        row = entry.to_dict()
        writer.writerow(
            ["; ".join(row[c]) if c == "reasons" else row.get(c, "") for c in AUDIT_COLUMNS]
        )
    return out.getvalue()


def _check_plain(text: str, field: str, code: str) -> None:
    """``InvalidInput`` for a control character (a NUL, which PostgreSQL cannot store,
    among them) or a lone surrogate (no text encoding holds one); line breaks and tabs
    are fine."""
    for ch in text:
        if ch not in "\n\r\t" and unicodedata.category(ch) in ("Cc", "Cs"):
            raise InvalidInput(
                f"{field} cannot contain control characters (such as NUL) or lone surrogates",
                code=code,
            )

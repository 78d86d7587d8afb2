"""The moderation worker: takes queued uploads, scans them, publishes or holds them.

Jobs live in the database (``moderation_jobs``) and are claimed one at a time, so
any number of worker threads in any number of processes handle each upload once.
The worker runs in a thread owned by the service (started and stopped with it).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from gifdist.assets.catalog import AssetCatalog
from gifdist.assets.model import AssetRecord, AssetStatus
from gifdist.assets.store import BlobStore
from gifdist.errors import GifdistError
from gifdist.moderation.queue import ModerationQueue
from gifdist.moderation.review_frames import ReviewFrames
from gifdist.observability.metrics import record_moderation_decision
from gifdist.observability.tracing import span
from gifdist.periodic import PeriodicTask

log = logging.getLogger("gifdist.moderation")

STALE_CLAIM = timedelta(minutes=10)


def decision_to_status(decision: Any) -> AssetStatus:
    """Map a ``ModerationDecision`` to the asset's status (PENDING stays held)."""
    value = getattr(decision, "value", decision)
    return {
        "approved": AssetStatus.APPROVED,
        "rejected": AssetStatus.REJECTED,
    }.get(str(value).lower(), AssetStatus.FLAGGED)


class ModerationRunner:
    """Moderates one asset with a ``ModerationPipeline`` and records the outcome."""

    def __init__(
        self,
        catalog: AssetCatalog,
        pipeline: Any,
        queue: ModerationQueue,
        *,
        frames: ReviewFrames | None = None,
    ) -> None:
        self.catalog = catalog
        self.store = catalog.store
        self.pipeline = pipeline
        self.queue = queue
        # called with the content's sha256 when an asset over it is approved
        self.on_approved: list[Callable[[str], None]] = []
        self.frames = frames

    def process(self, asset_id: str) -> AssetRecord | None:
        """Scan ``asset_id`` and set its status; returns the updated record."""
        record = self.store.get(asset_id)
        if record is None:
            self.queue.finish(asset_id)
            return None
        path = self.catalog.blob_path(record) or ""
        with span("moderation.scan", asset_id=asset_id):
            result = self.moderate(asset_id, path, record)
        status = decision_to_status(result.decision)
        updated = self._apply(asset_id, record, result, status)
        self._render_review_frames(record, path)  # after: publishing never waits for it
        return updated

    def _render_review_frames(self, record: AssetRecord, path: str) -> None:
        """Render the reviewers' frames now, once per content, so no page decodes."""
        if not path or self.frames is None or self.frames.stored(record.sha256) is not None:
            return
        try:
            with span("moderation.review_frames", asset_id=record.asset_id):
                self.frames.render_and_store(record.sha256, path)
        except (GifdistError, OSError) as exc:
            log.warning("no review frames for %s: %s", record.asset_id, exc)

    def moderate(self, asset_id: str, path: str, record: AssetRecord) -> Any:
        return self.pipeline.moderate_content(
            asset_id=asset_id,
            file_path=path,
            file_hash=record.sha256,
            title=record.title,
            tags=list(record.tags),
            description=record.description,
        )

    def _apply(
        self, asset_id: str, record: AssetRecord, result: Any, status: AssetStatus
    ) -> AssetRecord | None:
        summary = {
            "decision": getattr(result.decision, "value", str(result.decision)),
            "confidence": float(result.confidence),
            "reasons": list(result.reasons),
            "scan_id": result.scan_id,
        }
        updated = self.store.set_status(asset_id, status, moderation=summary)
        record_moderation_decision(status)
        if status is AssetStatus.REJECTED:
            self._reject_content(record.sha256, summary)
        self.queue.finish(asset_id)
        self.catalog.changed(asset_id)
        if status is AssetStatus.APPROVED:
            for hook in self.on_approved:
                hook(record.sha256)
        log.info("moderated %s: %s (%s)", asset_id, status.value, "; ".join(result.reasons)[:300])
        return updated

    def review(self, asset_id: str, decision: Any, reviewer: str, notes: str = "") -> AssetRecord:
        """A moderator's decision on a flagged or reported asset."""
        record = self.catalog.require(asset_id)
        scan_id = (record.moderation or {}).get("scan_id", "manual")
        self.pipeline.manual_review(asset_id, scan_id, decision, reviewer, notes)
        status = decision_to_status(decision)
        summary = {
            **(record.moderation or {}),
            "decision": status.value,
            "reviewer": reviewer,
            "notes": notes,
        }
        updated = self.store.set_status(asset_id, status, moderation=summary)
        record_moderation_decision(status)
        if status is AssetStatus.REJECTED:
            self._reject_content(record.sha256, summary)
        self.queue.finish(asset_id)
        self.catalog.changed(asset_id)
        if status is AssetStatus.APPROVED:
            for hook in self.on_approved:
                hook(record.sha256)
        assert updated is not None
        return updated

    def _reject_content(self, sha256: str, summary: dict[str, Any]) -> None:
        """Rejected bytes are refused for everyone: quarantine them and reject every
        other owner's asset over them too."""
        self.catalog.blobs.quarantine(sha256)
        for other in self.store.reject_content(sha256, {**summary, "content": True}):
            self.catalog.changed(other)


class ModerationWorker:
    """A background thread that drains the moderation queue."""

    def __init__(self, runner: ModerationRunner, *, poll_interval: float = 1.0) -> None:
        self.runner = runner
        self.poll_interval = poll_interval
        self.worker_id = f"{uuid.uuid4().hex[:8]}"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="gifdist-moderation", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def notify(self) -> None:
        """Wake the worker now (a new job was queued)."""
        self._wake.set()

    def _run(self) -> None:
        queue = self.runner.queue
        while not self._stop.is_set():
            try:
                queue.requeue_stale(datetime.now(UTC) - STALE_CLAIM)
                while not self._stop.is_set() and self._process_one():
                    pass
            except Exception:
                log.exception("moderation worker: cannot reach the job queue")
            self._wake.wait(self.poll_interval)
            self._wake.clear()

    def _process_one(self) -> bool:
        queue = self.runner.queue
        asset_id = queue.claim(self.worker_id)
        if asset_id is None:
            return False
        try:
            self.runner.process(asset_id)
        except Exception as exc:
            log.exception("moderation of %s failed; it will be retried", asset_id)
            queue.fail(asset_id, f"{type(exc).__name__}: {exc}")
        return True


def quarantine_purge(blobs: BlobStore, retention_days: int) -> PeriodicTask:
    """Hourly: delete quarantined bytes older than the retention setting."""
    keep = retention_days * 86400

    def purge() -> int:
        removed: int = blobs.purge_quarantined(keep)
        if removed:
            log.info("purged %d quarantined GIFs older than %d days", removed, retention_days)
        return removed

    return PeriodicTask("quarantine-purge", 3600.0, purge)

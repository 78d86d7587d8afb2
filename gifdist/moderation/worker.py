"""The moderation worker: takes queued uploads, scans them, publishes or holds them.

Jobs live in the database (``moderation_jobs``) and are claimed one at a time, so
any number of worker threads in any number of processes handle each upload once.
The worker runs in a thread owned by the service (started and stopped with it).
"""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from gifdist.assets.model import AssetRecord, AssetStatus
from gifdist.observability.metrics import record_moderation_decision
from gifdist.observability.tracing import span
from gifdist.periodic import PeriodicTask
from gifdist.service import Service

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

    def __init__(self, service: Service, pipeline: Any) -> None:
        self.service = service
        self.pipeline = pipeline

    def process(self, asset_id: str) -> AssetRecord | None:
        """Scan ``asset_id`` and set its status; returns the updated record."""
        record = self.service.assets.get(asset_id)
        if record is None:
            self.service.assets.finish_moderation_job(asset_id)
            return None
        path = self.service.blob_path(record) or ""
        with span("moderation.scan", asset_id=asset_id):
            result = self.moderate(asset_id, path, record)
        status = decision_to_status(result.decision)
        return self._apply(asset_id, record, result, status)

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
        updated = self.service.assets.set_status(asset_id, status, moderation=summary)
        record_moderation_decision(status)
        if status is AssetStatus.REJECTED:
            self._reject_content(record.sha256, summary)
        self.service.assets.finish_moderation_job(asset_id)
        self.service.asset_changed(asset_id)
        log.info("moderated %s: %s (%s)", asset_id, status.value, "; ".join(result.reasons)[:300])
        return updated

    def review(self, asset_id: str, decision: Any, reviewer: str, notes: str = "") -> AssetRecord:
        """A moderator's decision on a flagged or reported asset."""
        record = self.service.require_asset(asset_id)
        scan_id = (record.moderation or {}).get("scan_id", "manual")
        self.pipeline.manual_review(asset_id, scan_id, decision, reviewer, notes)
        status = decision_to_status(decision)
        summary = {
            **(record.moderation or {}),
            "decision": status.value,
            "reviewer": reviewer,
            "notes": notes,
        }
        updated = self.service.assets.set_status(asset_id, status, moderation=summary)
        record_moderation_decision(status)
        if status is AssetStatus.REJECTED:
            self._reject_content(record.sha256, summary)
        self.service.assets.finish_moderation_job(asset_id)
        self.service.asset_changed(asset_id)
        assert updated is not None
        return updated

    def _reject_content(self, sha256: str, summary: dict[str, Any]) -> None:
        """Rejected bytes are refused for everyone: quarantine them and reject every
        other owner's asset over them too."""
        self.service.blobs.quarantine(sha256)
        for other in self.service.assets.reject_content(sha256, {**summary, "content": True}):
            self.service.asset_changed(other)


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
        assets = self.runner.service.assets
        while not self._stop.is_set():
            try:
                assets.requeue_stale_jobs(datetime.now(UTC) - STALE_CLAIM)
                while not self._stop.is_set() and self._process_one():
                    pass
            except Exception:
                log.exception("moderation worker: cannot reach the job queue")
            self._wake.wait(self.poll_interval)
            self._wake.clear()

    def _process_one(self) -> bool:
        assets = self.runner.service.assets
        asset_id = assets.claim_moderation_job(self.worker_id)
        if asset_id is None:
            return False
        try:
            self.runner.process(asset_id)
        except Exception as exc:
            log.exception("moderation of %s failed; it will be retried", asset_id)
            assets.fail_moderation_job(asset_id, f"{type(exc).__name__}: {exc}")
        return True


def install_moderation(service: Service) -> ModerationRunner:
    """Wire moderation into ``service`` as configured.

    ``sync`` moderates inside the upload request; ``async`` adds the worker thread;
    ``off`` scans nothing, but reports, reviews and the audit trail still work.
    """
    from gifdist.moderation.pipeline import ContentScanner, ModerationPipeline
    from gifdist.moderation.review import ReviewDesk
    from gifdist.stores.audit_sql import SqlAuditStore

    settings = service.settings
    scanning = settings.moderation != "off"
    scanner = ContentScanner(strict_mode=settings.moderation_strict, use_local_visual=scanning)
    if scanning and settings.openai_api_key is not None:
        _add_openai(scanner, settings)
    if scanning and scanner.visual_scanner is None:
        log.warning(
            "no visual scanner is installed (pip install 'gifdist[nsfw]'); %s",
            "every upload goes to human review"
            if settings.moderation_strict
            else "uploads with clean metadata are approved unseen",
        )
    pipeline = ModerationPipeline(
        strict_mode=settings.moderation_strict,
        scanner=scanner,
        audit_store=SqlAuditStore(service.engine),
    )
    runner = ModerationRunner(service, pipeline)
    service.moderation = runner
    service.review = ReviewDesk(service, runner)
    if settings.quarantine_retention_days:
        service.background.append(quarantine_purge(service))
    if not scanning:
        return runner
    service.moderator = runner.process
    if settings.moderation == "async":
        worker = ModerationWorker(runner)
        service.background.append(worker)
        service.on_upload.append(worker.notify)
    return runner


def _add_openai(scanner: Any, settings: Any) -> None:
    """Put OpenAI's moderation next to the local checks (the worst verdict decides)."""
    from gifdist.moderation.openai_pipeline import OpenAIText, OpenAIVisual, WorstOf
    from gifdist.moderation.openai_scanner import (
        AISafetyError,
        OpenAIModerationScanner,
        OpenAIVisionScanner,
    )

    key = settings.openai_api_key.get_secret_value()
    try:
        text = OpenAIModerationScanner(api_key=key, base_url=settings.openai_base_url)
        vision = OpenAIVisionScanner(api_key=key, base_url=settings.openai_base_url)
    except AISafetyError as exc:
        log.error("GIFDIST_OPENAI_API_KEY is set but %s; OpenAI moderation is off", exc)
        return
    scanner.text_scanner = OpenAIText(text)
    local = scanner.visual_scanner
    openai = OpenAIVisual(vision)
    scanner.visual_scanner = WorstOf([local, openai]) if local is not None else openai
    log.info("moderation: OpenAI checks on (%s)", settings.openai_base_url or "api.openai.com")


def quarantine_purge(service: Service) -> PeriodicTask:
    """Hourly: delete quarantined bytes older than the retention setting."""
    keep = service.settings.quarantine_retention_days * 86400

    def purge() -> int:
        removed: int = service.blobs.purge_quarantined(keep)
        if removed:
            log.info("purged %d quarantined GIFs older than %d days", removed, keep // 86400)
        return removed

    return PeriodicTask("quarantine-purge", 3600.0, purge)

"""Moderation as configured: the pipeline, its runner, the review desk and the worker.

``sync`` moderates inside the upload request; ``async`` adds the worker thread;
``off`` scans nothing, but reports, reviews and the audit trail still work.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gifdist.assets.catalog import AssetCatalog
from gifdist.assets.model import AssetMetadata
from gifdist.assets.store import AssetStore
from gifdist.config import Settings
from gifdist.errors import InvalidInput
from gifdist.moderation.openai_pipeline import OpenAIText, OpenAIVisual, WorstOf
from gifdist.moderation.openai_scanner import (
    AISafetyError,
    OpenAIModerationScanner,
    OpenAIVisionScanner,
)
from gifdist.moderation.pipeline import (
    UNSAFE,
    AuditStore,
    ContentScanner,
    ModerationPipeline,
    local_visual_scanner,
)
from gifdist.moderation.queue import ModerationQueue
from gifdist.moderation.reports import ReportStore
from gifdist.moderation.review import ReviewDesk
from gifdist.moderation.review_frames import ReviewFrames
from gifdist.moderation.visual_memory import RememberedVisualScanner
from gifdist.moderation.worker import ModerationRunner, ModerationWorker, quarantine_purge
from gifdist.periodic import PeriodicTask

log = logging.getLogger("gifdist.moderation")


def text_check(scanner: ContentScanner, *, enabled: bool) -> Callable[[AssetMetadata], None]:
    """Refuse edited text the term lists flag, as an upload's text would be."""

    def check(meta: AssetMetadata) -> None:
        if not enabled:
            return
        category, _, reasons = scanner.scan_metadata(
            title=meta.title, tags=list(meta.tags), description=meta.description
        )
        if category in UNSAFE:
            raise InvalidInput(
                "this text is not allowed: " + "; ".join(reasons)[:300], code="text_refused"
            )

    return check


@dataclass
class Moderation:
    """What the composition root gets back: the parts and their background tasks."""

    runner: ModerationRunner
    review: ReviewDesk
    worker: ModerationWorker | None
    scanning: bool
    sync: bool
    check_text: Callable[[AssetMetadata], None]
    background: list[ModerationWorker | PeriodicTask] = field(default_factory=list)


def build_moderation(
    settings: Settings,
    catalog: AssetCatalog,
    audit_store: AuditStore,
    reports: ReportStore,
    queue: ModerationQueue,
    *,
    reporter_key: bytes,
    frames: ReviewFrames | None = None,
) -> Moderation:
    scanning = settings.moderation != "off"
    scanner = _content_scanner(settings, catalog.store) if scanning else None
    if scanner is not None and scanner.visual_scanner is None:
        log.warning(
            "no visual scanner is installed (pip install 'gifdist[nsfw]'); %s",
            "every upload goes to human review"
            if settings.moderation_strict
            else "uploads with clean metadata are approved unseen",
        )
    scanner = scanner or ContentScanner(
        strict_mode=settings.moderation_strict, use_local_visual=False
    )
    pipeline = ModerationPipeline(
        strict_mode=settings.moderation_strict, scanner=scanner, audit_store=audit_store
    )
    runner = ModerationRunner(catalog, pipeline, queue, frames=frames)
    review = ReviewDesk(
        catalog,
        runner,
        reports,
        reporter_key=reporter_key,
        threshold=settings.report_threshold,
        base_url=settings.base_url,
    )
    worker = ModerationWorker(runner) if settings.moderation == "async" else None
    parts = Moderation(
        runner,
        review,
        worker,
        scanning,
        sync=settings.moderation == "sync",
        check_text=text_check(scanner, enabled=scanning),
    )
    if worker is not None:
        parts.background.append(worker)
    if settings.quarantine_retention_days:
        parts.background.append(quarantine_purge(catalog.blobs, settings.quarantine_retention_days))
    return parts


def _content_scanner(settings: Settings, store: AssetStore) -> ContentScanner:
    """Term lists, the local visual model when installed, and OpenAI's checks when a key
    is configured (the worst verdict decides); each content's frames scanned once."""
    local = local_visual_scanner()
    text, vision = _openai_scanners(settings)
    visual: Any = local
    if vision is not None:
        visual = WorstOf([local, vision]) if local is not None else vision
    return ContentScanner(
        strict_mode=settings.moderation_strict,
        visual_scanner=RememberedVisualScanner(visual, store) if visual is not None else None,
        use_local_visual=False,
        text_scanner=text,
    )


def _openai_scanners(settings: Settings) -> tuple[OpenAIText | None, OpenAIVisual | None]:
    if settings.openai_api_key is None:
        return None, None
    key = settings.openai_api_key.get_secret_value()
    try:
        text = OpenAIModerationScanner(api_key=key, base_url=settings.openai_base_url)
        vision = OpenAIVisionScanner(api_key=key, base_url=settings.openai_base_url)
    except AISafetyError as exc:
        log.error("GIFDIST_OPENAI_API_KEY is set but %s; OpenAI moderation is off", exc)
        return None, None
    log.info("moderation: OpenAI checks on (%s)", settings.openai_base_url or "api.openai.com")
    return OpenAIText(text), OpenAIVisual(vision)

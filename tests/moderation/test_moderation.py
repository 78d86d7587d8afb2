"""gifdist.moderation: scanners, decisions, the audit chain, and the service worker."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import make_settings
from gif_factory import make_gif
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, update

from gifdist.assets import AssetStatus
from gifdist.errors import InvalidMedia
from gifdist.moderation import (
    ContentCategory,
    ContentScanner,
    ModerationDecision,
    ModerationPipeline,
    verify_audit_chain,
)
from gifdist.moderation.terms import TermMatcher, load_terms, words
from gifdist.stores.audit_sql import SqlAuditStore
from gifdist.stores.schema import audit_entries
from gifdist.wiring import Service


@dataclass
class FakeVisual:
    category: ContentCategory
    confidence: float
    reasons: list[str] = field(default_factory=lambda: ["fake"])
    calls: list[str] = field(default_factory=list)

    def scan(self, file_path: str) -> FakeVisual:
        self.calls.append(file_path)
        return self


@pytest.fixture
def gif_path(tmp_path: Path) -> str:
    path = tmp_path / "m.gif"
    path.write_bytes(make_gif(seed=5))
    return str(path)


def pipeline(visual: FakeVisual | None, **kwargs: object) -> ModerationPipeline:
    scanner = ContentScanner(visual_scanner=visual, use_local_visual=False)
    return ModerationPipeline(scanner=scanner, **kwargs)  # type: ignore[arg-type]


def test_seed_moderation_example(gif_path: str) -> None:
    moderation = ModerationPipeline(
        strict_mode=True, auto_approve_threshold=0.95, auto_reject_threshold=0.80, enable_audit=True
    )
    result = moderation.moderate_content(
        asset_id="abc123def456",
        file_path=gif_path,
        file_hash="a1b2c3d4...",
        title="Funny Cat GIF",
        tags=["cat", "funny", "pets"],
        description="A hilarious cat doing backflips",
    )
    assert result.decision in (ModerationDecision.APPROVED, ModerationDecision.FLAGGED)
    entry = moderation.manual_review(
        asset_id="abc123def456",
        scan_id=result.scan_id,
        decision=ModerationDecision.APPROVED,
        reviewer_id="moderator_jane",
        notes="False positive",
    )
    assert entry.moderator == "moderator_jane"
    trail = moderation.get_audit_trail(asset_id="abc123def456")
    assert [e.moderator for e in trail] == ["system", "moderator_jane"]
    report = moderation.export_audit_trail(
        start_time="2025-01-01T00:00:00", end_time="2099-12-31T23:59:59"
    )
    assert len(report) == 2 and report[1]["decision"] == "approved"
    stats = moderation.get_statistics()
    assert stats["total_scans"] == 1
    assert set(stats) >= {"approval_rate", "rejection_rate", "flag_rate"}


@pytest.mark.parametrize(
    "text", ["S.E.X tape", "pr0n", "рorn gif", "NÜDE", "s e x", "p-o-r-n", "XXX", "#NSFW"]
)
def test_disguised_terms_are_found(text: str) -> None:
    category, confidence, reasons = ContentScanner(use_local_visual=False).scan_metadata(title=text)
    assert category is ContentCategory.NSFW, text
    assert confidence >= 0.8 and "title" in reasons[0]


INNOCENT = [
    "Essex",
    "Scunthorpe",
    "grape",
    "cocktail",
    "assassin",
    "Sussex",
    "therapist",
    "Middlesex",
    "analysis",
    "shitake",
    "cumulus",
    "document",
    "classic",
    "pussycat",
    "expert",
    "Dickens",
    "butterfly",
    "hello",
    "skills",
    "title",
    "sextant",
    "nudge",
    "pornstarch",
    "passage",
    "bass",
    "class",
    "Wessex",
    "Spice Girls",
    "peacock",
    "Arsenal",
    "cockpit",
    "Titan",
    "sextet",
    "nudist beach",
]


@pytest.mark.parametrize("text", INNOCENT)
def test_innocent_words_never_hit(text: str) -> None:
    assert (
        ContentScanner(use_local_visual=False).scan_metadata(title=text)[0] is ContentCategory.SAFE
    )


def test_categories_and_phrases() -> None:
    scanner = ContentScanner(use_local_visual=False)
    assert scanner.scan_metadata(tags=["gore"])[0] is ContentCategory.GRAPHIC_VIOLENCE
    assert scanner.scan_metadata(description="heil hitler")[0] is ContentCategory.HATE_SPEECH
    assert scanner.scan_metadata(title="free money now")[0] is ContentCategory.SPAM
    assert TermMatcher(load_terms("nsfw")).find("adult content inside") == ["adult content"]


@given(st.text(max_size=400))
def test_normaliser_never_raises(text: str) -> None:
    assert isinstance(words(text), list)
    ContentScanner(use_local_visual=False).scan_metadata(title=text, tags=[text], description=text)


def test_safe_pixels_and_clean_metadata_are_approved(gif_path: str) -> None:
    visual = FakeVisual(ContentCategory.SAFE, 0.99)
    result = pipeline(visual).moderate_content("a1", gif_path, "h", title="A cat")
    assert result.decision is ModerationDecision.APPROVED
    assert visual.calls == [gif_path]


def test_confident_nsfw_is_rejected_and_unsure_is_flagged(gif_path: str) -> None:
    assert (
        pipeline(FakeVisual(ContentCategory.NSFW, 0.9))
        .moderate_content("a", gif_path, "h")
        .decision
        is ModerationDecision.REJECTED
    )
    assert (
        pipeline(FakeVisual(ContentCategory.NSFW, 0.5))
        .moderate_content("a", gif_path, "h")
        .decision
        is ModerationDecision.FLAGGED
    )
    assert (
        pipeline(FakeVisual(ContentCategory.SAFE, 0.9))
        .moderate_content("a", gif_path, "h")
        .decision
        is ModerationDecision.FLAGGED
    )


def test_unsafe_metadata_rejects_even_with_safe_pixels(gif_path: str) -> None:
    result = pipeline(FakeVisual(ContentCategory.SAFE, 0.99)).moderate_content(
        "a", gif_path, "h", title="hardcore porn"
    )
    assert result.decision is ModerationDecision.REJECTED
    assert result.category is ContentCategory.NSFW


def test_unseen_pixels_are_never_approved_in_strict_mode(tmp_path: Path, gif_path: str) -> None:
    strict = pipeline(None)
    assert strict.moderate_content("a", gif_path, "h").decision is ModerationDecision.FLAGGED
    missing = pipeline(FakeVisual(ContentCategory.SAFE, 1.0))
    result = missing.moderate_content("a", str(tmp_path / "gone.gif"), "h")
    assert result.decision is ModerationDecision.FLAGGED
    assert any("missing" in r for r in result.reasons)
    relaxed = pipeline(None, strict_mode=False)
    assert relaxed.moderate_content("a", gif_path, "h").decision is ModerationDecision.APPROVED


def test_statistics_and_bad_thresholds(gif_path: str) -> None:
    p = pipeline(FakeVisual(ContentCategory.SAFE, 0.99))
    p.moderate_content("a", gif_path, "h")
    p.moderate_content("b", gif_path, "h", title="porn")
    stats = p.get_statistics()
    assert (stats["approved"], stats["rejected"], stats["approval_rate"]) == (1, 1, 50.0)
    with pytest.raises(ValueError):
        ModerationPipeline(auto_approve_threshold=1.5)


def test_in_memory_chain_detects_tampering(gif_path: str) -> None:
    p = pipeline(FakeVisual(ContentCategory.SAFE, 0.99))
    for asset in ("a", "b", "c"):
        p.moderate_content(asset, gif_path, "h")
    entries = p.audit_store.all_in_order()
    assert verify_audit_chain(entries) == (True, None)
    entries[1].moderator = "someone else"
    assert verify_audit_chain(entries) == (False, 1)
    entries[1].moderator = "system"
    assert verify_audit_chain([entries[0], entries[2]]) == (False, 1)
    assert verify_audit_chain([entries[1], entries[0], entries[2]]) == (False, 0)


def test_sql_audit_trail_is_chained_and_tamper_evident(engine: Engine, gif_path: str) -> None:
    store = SqlAuditStore(engine)
    p = pipeline(FakeVisual(ContentCategory.SAFE, 0.99))
    p.audit_store = store
    for asset in ("a", "b", "c"):
        p.moderate_content(asset, gif_path, "h")
    p.manual_review("b", "scan", ModerationDecision.REJECTED, "mod", "nope")
    assert verify_audit_chain(store.all_in_order()) == (True, None)
    assert [e.asset_id for e in p.get_audit_trail(asset_id="b")] == ["b", "b"]
    with engine.begin() as conn:
        conn.execute(update(audit_entries).where(audit_entries.c.seq == 2).values(moderator="x"))
    assert verify_audit_chain(store.all_in_order()) == (False, 1)


def _wait_for_status(service: Service, asset_id: str, timeout: float = 20) -> AssetStatus:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = service.assets.get(asset_id)
        if record is not None and record.status is not AssetStatus.PENDING:
            return record.status
        time.sleep(0.1)
    raise AssertionError("moderation did not finish")


def test_worker_approves_clean_uploads_and_rejects_bad_ones(
    tmp_path: Path, database_url: str
) -> None:
    service = Service(make_settings(tmp_path, database_url, moderation="async"))
    service.start_background()
    try:
        clean = tmp_path / "clean.gif"
        clean.write_bytes(make_gif(width=64, height=64, frames=3, seed=40, pattern="stripes"))
        ok = service.uploads.ingest_file(
            clean, service.uploads.clean_metadata("A cat", "cat", None), None
        )
        assert ok.asset.status is AssetStatus.PENDING
        assert _wait_for_status(service, ok.asset.asset_id) is AssetStatus.APPROVED

        bad = tmp_path / "bad.gif"
        bad.write_bytes(make_gif(seed=41))
        refused = service.uploads.ingest_file(
            bad, service.uploads.clean_metadata("hardcore porn", None, None), None
        )
        assert _wait_for_status(service, refused.asset.asset_id) is AssetStatus.REJECTED
        assert service.catalog.blob_path(refused.asset) is None  # quarantined
        with pytest.raises(InvalidMedia) as excinfo:
            service.uploads.ingest_file(
                bad, service.uploads.clean_metadata("again", None, None), None
            )
        assert excinfo.value.code == "content_rejected"
        trail = service.moderation.pipeline.get_audit_trail()
        assert {e.asset_id for e in trail} == {ok.asset.asset_id, refused.asset.asset_id}
    finally:
        service.close()


def test_sync_moderation_decides_before_the_upload_answers(tmp_path: Path) -> None:
    service = Service(make_settings(tmp_path, f"sqlite:///{tmp_path / 's.db'}", moderation="sync"))
    try:
        path = tmp_path / "s.gif"
        path.write_bytes(make_gif(width=64, height=64, seed=42, pattern="stripes"))
        result = service.uploads.ingest_file(
            path, service.uploads.clean_metadata("A dog", None, None), None
        )
        assert result.asset.status is AssetStatus.APPROVED
    finally:
        service.close()

"""Renditions per content: queued on approval, made once, stored, retried, deleted."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import make_settings
from gif_factory import make_gif
from sqlalchemy import Engine
from typer.testing import CliRunner

from gifdist.assets import AssetMetadata
from gifdist.media.rendition_worker import RenditionMaker, backfill
from gifdist.media.renditions import (
    ALL_KINDS,
    RenditionBudget,
    RenditionFailed,
    RenditionKind,
    RenditionResult,
    convert_within_budget,
)
from gifdist.stores.blobs import LocalBlobStore
from gifdist.stores.blobs_s3 import S3BlobStore
from gifdist.stores.renditions_sql import SqlRenditionStore
from gifdist.wiring import Service

K = RenditionKind


@pytest.fixture
def rendering(tmp_path: Path, database_url: str) -> Iterator[Service]:
    """A service with renditions on (moderation off: uploads are approved at once)."""
    service = Service(make_settings(tmp_path, database_url, renditions="on"))
    try:
        yield service
    finally:
        service.close()


def upload(service: Service, tmp_path: Path, seed: int = 0, **gif: Any) -> Any:
    path = tmp_path / f"upload-{seed}.gif"
    make_gif(path, seed=seed, **gif)
    return service.uploads.ingest_file(path, AssetMetadata(title="t"), None).asset


class CountingConverter:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, source: str, out: Path, **kwargs: Any) -> RenditionResult:
        self.calls.append(hashlib.sha256(Path(source).read_bytes()).hexdigest())
        return convert_within_budget(source, out, **kwargs)


def test_approval_queues_one_conversion_per_content_and_stores_each_blob_by_its_hash(
    rendering: Service, tmp_path: Path
) -> None:
    maker: RenditionMaker = rendering.renditions
    counting = CountingConverter()
    maker.convert = counting
    asset = upload(rendering, tmp_path, width=40, height=30, frames=4)
    again = upload(rendering, tmp_path, width=40, height=30, frames=4)  # the same bytes
    assert again.sha256 == asset.sha256
    assert maker.store.counts().queued == 1
    made = jobs_metric("made")
    assert maker.run_next() == asset.sha256
    assert maker.run_next() is None
    assert counting.calls == [asset.sha256]
    assert jobs_metric("made") == made + 1
    assert maker.request(asset.sha256) is False  # made: never converted again
    stored = maker.renditions(asset.sha256)
    assert set(stored) == set(ALL_KINDS)
    for item in stored.values():
        path = rendering.blobs.local_path(item.blob_sha256)
        assert path is not None
        data = Path(path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == item.blob_sha256
        assert len(data) == item.bytes
    assert stored[K.MP4].content_type == "video/mp4" and stored[K.MP4].width == 40
    assert stored[K.TINY_STILL].content_type == "image/jpeg"


def test_the_worker_thread_converts_in_the_background(rendering: Service, tmp_path: Path) -> None:
    rendering.start_background()
    asset = upload(rendering, tmp_path, frames=3)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not rendering.renditions.renditions(asset.sha256):
        time.sleep(0.2)
    assert set(rendering.renditions.renditions(asset.sha256)) == set(ALL_KINDS)


def test_with_renditions_off_nothing_is_queued(service: Service, tmp_path: Path) -> None:
    asset = upload(service, tmp_path)
    assert service.renditions.store.counts().queued == 0
    assert service.renditions.renditions(asset.sha256) == {}


def failing(source: str, out: Path, **kwargs: Any) -> RenditionResult:
    raise RenditionFailed("the converting process exited with code -9")


def test_a_failing_conversion_is_retried_with_backoff_then_parked(
    engine: Engine, tmp_path: Path
) -> None:
    store = SqlRenditionStore(engine)
    blobs = LocalBlobStore(tmp_path / "blobs")
    maker = RenditionMaker(store, blobs, max_attempts=3, backoff_seconds=60, convert=failing)
    sha = put_gif(blobs, tmp_path)
    assert maker.request(sha)
    retries, failures = jobs_metric("retry"), jobs_metric("failed")
    now = datetime.now(UTC)
    assert maker.run_next(now) == sha
    assert store.counts().queued == 1
    assert maker.run_next(now + timedelta(seconds=30)) is None  # not due before the backoff
    assert maker.run_next(now + timedelta(seconds=61)) == sha  # second attempt
    assert maker.run_next(now + timedelta(seconds=100)) is None  # backoff doubled: 120 s
    assert maker.run_next(now + timedelta(seconds=185)) == sha  # third and last
    assert store.counts().failed == 1 and store.counts().queued == 0
    assert (jobs_metric("retry") - retries, jobs_metric("failed") - failures) == (2, 1)
    assert "exited with code -9" in (store.last_error(sha) or "")
    assert maker.run_next(now + timedelta(days=1)) is None
    assert store.enqueue(sha) is False
    assert store.enqueue(sha, retry_failed=True) is True


def jobs_metric(outcome: str) -> float:
    from gifdist.observability.metrics import REGISTRY

    value = REGISTRY.get_sample_value("gifdist_rendition_jobs_total", {"outcome": outcome})
    return float(value or 0)


def put_gif(blobs: Any, tmp_path: Path, seed: int = 0) -> str:
    data = make_gif(seed=seed, frames=3)
    handle, path = blobs.temp_file()
    with handle:
        handle.write(data)
    sha = hashlib.sha256(data).hexdigest()
    blobs.put_temp(path, sha)
    return sha


def test_a_rendition_past_the_budget_is_skipped_not_retried(engine: Engine, tmp_path: Path) -> None:
    store = SqlRenditionStore(engine)
    blobs = LocalBlobStore(tmp_path / "blobs")
    maker = RenditionMaker(store, blobs, budget=RenditionBudget(max_frames=2))
    sha = put_gif(blobs, tmp_path)
    maker.request(sha)
    assert maker.run_next() == sha
    assert set(maker.renditions(sha)) == {K.STILL, K.TINY_STILL}
    assert "3 frames is past the budget of 2" in (store.last_error(sha) or "")
    assert store.counts() == store.counts().__class__(queued=0, running=0, failed=0)


def test_deleting_a_contents_renditions_removes_rows_jobs_and_blobs(
    engine: Engine, tmp_path: Path
) -> None:
    store = SqlRenditionStore(engine)
    blobs = LocalBlobStore(tmp_path / "blobs")
    maker = RenditionMaker(store, blobs)
    kept, gone = put_gif(blobs, tmp_path, seed=1), put_gif(blobs, tmp_path, seed=2)
    for sha in (kept, gone):
        maker.request(sha)
        maker.run_next()
    blob_names = {item.blob_sha256 for item in maker.renditions(gone).values()}
    # a GIF under 220 px wide has tiny renditions identical to (the same blob as) the others
    assert len(blob_names) < len(ALL_KINDS)
    assert maker.delete_for_content(gone) == len(blob_names)
    assert maker.renditions(gone) == {}
    assert not any(blobs.exists(name) for name in blob_names)
    assert blobs.exists(gone)  # the GIF itself belongs to the asset-deletion use case
    assert set(maker.renditions(kept)) == set(ALL_KINDS)
    assert all(blobs.exists(item.blob_sha256) for item in maker.renditions(kept).values())
    assert store.enqueue(gone) is True  # the job went too: the content could come back


def test_a_blob_two_contents_share_is_kept_until_neither_uses_it(
    engine: Engine, tmp_path: Path
) -> None:
    from dataclasses import replace

    store = SqlRenditionStore(engine)
    blobs = LocalBlobStore(tmp_path / "blobs")
    maker = RenditionMaker(store, blobs)
    first, second = put_gif(blobs, tmp_path, seed=3), put_gif(blobs, tmp_path, seed=4)
    maker.request(first)
    maker.run_next()
    still = maker.renditions(first)[K.STILL]
    store.record([replace(still, sha256=second)])  # identical still bytes for both
    maker.delete_for_content(first)
    assert blobs.exists(still.blob_sha256)
    maker.delete_for_content(second)
    assert not blobs.exists(still.blob_sha256)


def test_renditions_are_stored_in_s3_with_their_content_types(
    s3_store: S3BlobStore,
    engine: Engine,
) -> None:
    maker = RenditionMaker(SqlRenditionStore(engine), s3_store)
    sha = put_gif(s3_store, Path(s3_store.spool_dir))
    maker.request(sha)
    assert maker.run_next() == sha
    stored = maker.renditions(sha)
    assert set(stored) == set(ALL_KINDS)
    for item in stored.values():
        head = s3_store.client.head_object(
            Bucket=s3_store.bucket, Key=s3_store.key_for(item.blob_sha256)
        )
        assert head["ContentType"] == item.content_type
        assert head["ContentLength"] == item.bytes
    mp4 = b"".join(s3_store.iter_range(stored[K.MP4].blob_sha256, 0, stored[K.MP4].bytes - 1))
    assert hashlib.sha256(mp4).hexdigest() == stored[K.MP4].blob_sha256
    assert maker.delete_for_content(sha) == len({item.blob_sha256 for item in stored.values()})
    assert not s3_store.exists(stored[K.MP4].blob_sha256)
    assert list(Path(s3_store.spool_dir).glob("renditions-*")) == []  # scratch cleaned up


def test_backfill_makes_renditions_of_gifs_approved_before(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gifdist.cli import app

    before = Service(make_settings(tmp_path, database_url))  # renditions off: nothing queued
    try:
        assets = [upload(before, tmp_path, seed=seed, frames=2) for seed in range(3)]
    finally:
        before.close()
    for name, value in {
        "GIFDIST_DATA_DIR": str(tmp_path / "data"),
        "GIFDIST_DATABASE_URL": database_url,
        "GIFDIST_MODERATION": "off",
    }.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, ["renditions", "backfill"])
    assert result.exit_code == 0, result.output
    assert "made renditions of 3 GIFs" in result.output
    again = CliRunner().invoke(app, ["renditions", "backfill"])
    assert "every approved GIF has its renditions" in again.output
    after = Service(make_settings(tmp_path, database_url))
    try:
        for asset in assets:
            assert set(after.renditions.renditions(asset.sha256)) == set(ALL_KINDS)
    finally:
        after.close()


def test_backfill_reports_failures_and_goes_on(engine: Engine, tmp_path: Path) -> None:
    store = SqlRenditionStore(engine)
    blobs = LocalBlobStore(tmp_path / "blobs")
    maker = RenditionMaker(store, blobs, convert=failing)
    shas = [put_gif(blobs, tmp_path, seed=seed) for seed in (5, 6)]
    seen: list[tuple[str, object]] = []
    counts = backfill(maker, shas, progress=lambda sha, outcome: seen.append((sha, outcome)))
    assert counts == {"made": 0, "skipped": 0, "failed": 2}
    assert [sha for sha, _ in seen] == shas
    assert all(isinstance(outcome, RenditionFailed) for _, outcome in seen)


def test_two_owners_of_the_same_bytes_share_one_conversion(
    rendering: Service, tmp_path: Path
) -> None:
    maker: RenditionMaker = rendering.renditions
    counting = CountingConverter()
    maker.convert = counting
    _, alice = rendering.keys.create("alice")
    _, bob = rendering.keys.create("bob")
    path = tmp_path / "shared.gif"
    make_gif(path, frames=3, seed=11)
    first = rendering.uploads.ingest_file(path, AssetMetadata(title="a"), alice).asset
    second = rendering.uploads.ingest_file(path, AssetMetadata(title="b"), bob).asset
    assert first.asset_id != second.asset_id and first.sha256 == second.sha256
    assert maker.run_next() == first.sha256
    assert maker.run_next() is None
    assert counting.calls == [first.sha256]


def test_a_moderator_approving_a_gif_queues_its_renditions(
    tmp_path: Path, database_url: str
) -> None:
    from gifdist.moderation import ModerationDecision

    service = Service(make_settings(tmp_path, database_url, renditions="on", moderation="async"))
    try:
        asset = upload(service, tmp_path, seed=12)
        assert asset.status.value == "pending"
        assert service.renditions.store.counts().queued == 0  # nothing before approval
        service.moderation.review(asset.asset_id, ModerationDecision.REJECTED, "mod")
        assert service.renditions.store.counts().queued == 0
        service.blobs.restore(asset.sha256)
        service.moderation.review(asset.asset_id, ModerationDecision.APPROVED, "mod")
        assert service.renditions.store.counts().queued == 1
        assert service.renditions.run_next() == asset.sha256
    finally:
        service.close()

"""A delete or an upload killed (SIGKILL) between its steps is finished or rolled back
by the next start: no analytics, bytes or pending work outlive a deleted GIF, and no
bytes are left that nothing names. Real processes, SQLite and PostgreSQL.

The processes die at named points (``gifdist.assets.crashpoints``, armed by the
test-only ``GIFDIST_TEST_CRASH_AT``)."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import make_settings
from gif_factory import make_gif

from gifdist.analytics import EventType, Platform
from gifdist.analytics.tracker import AnalyticsEvent
from gifdist.config import Settings
from gifdist.wiring import Service


def run_cli(settings: Settings, *args: str, crash_at: str | None = None) -> int:
    env = {
        **os.environ,
        "GIFDIST_DATA_DIR": str(settings.data_dir),
        "GIFDIST_DATABASE_URL": settings.resolved_database_url,
        "GIFDIST_ADMIN_KEY": "crash-test-key",
        "GIFDIST_MODERATION": "off",
        "GIFDIST_RENDITIONS": "off",
    }
    env.pop("GIFDIST_TEST_CRASH_AT", None)
    if crash_at:
        env["GIFDIST_TEST_CRASH_AT"] = crash_at
    done = subprocess.run(
        [sys.executable, "-m", "gifdist.cli", *args], env=env, capture_output=True, timeout=60
    )
    return done.returncode


def next_start(settings: Settings) -> Service:
    """What a restarted server does before it serves (the caller closes it)."""
    service = Service(settings)
    service.start_background()
    service.stop_background()
    return service


def uploaded_with_numbers(service: Service, tmp_path: Path, seed: int) -> tuple[str, str]:
    gif = tmp_path / f"{seed}.gif"
    gif.write_bytes(make_gif(seed=seed))
    asset = service.uploads.ingest_file(gif, service.uploads.clean_metadata("t", "", ""), None)
    event = AnalyticsEvent(
        uuid.uuid4().hex, asset.asset.asset_id, EventType.VIEW, Platform.SLACK, datetime.now(UTC)
    )
    service.analytics_store.record([event])
    return asset.asset.asset_id, asset.asset.sha256


def views(service: Service, asset_id: str) -> int:
    return sum(
        service.analytics_store.asset_totals(asset_ids=[asset_id]).get(asset_id, {}).values()
    )


def quarantined(settings: Settings) -> list[str]:
    return [p.name for p in (settings.data_dir / "blobs" / "quarantine").iterdir()]


@pytest.mark.parametrize(
    "point", ["delete.committed", "delete.analytics_erased", "delete.bytes_quarantined"]
)
def test_a_delete_killed_between_its_steps_is_finished_by_the_next_start(
    tmp_path: Path, database_url: str, point: str
) -> None:
    settings = make_settings(tmp_path, database_url)
    with_service = Service(settings)
    try:
        asset_id, sha256 = uploaded_with_numbers(with_service, tmp_path, 501)
        link = with_service.sharing.create(asset_id)["short_code"]
        assert views(with_service, asset_id) == 1
    finally:
        with_service.close()

    assert (
        run_cli(settings, "assets", "delete", asset_id, "--yes", crash_at=point) == -signal.SIGKILL
    )

    half = Service(settings)  # migrated, nothing started: what the crash left
    try:
        assert half.assets.get(asset_id) is None and half.assets.is_gone("asset", asset_id)
        assert half.assets.is_gone("link", link)
        assert [p.asset_id for p in half.deletes.journal.pending()] == [asset_id]
        if point == "delete.committed":
            assert views(half, asset_id) == 1 and half.blobs.exists(sha256)
        if point == "delete.bytes_quarantined":
            assert not half.blobs.exists(sha256) and quarantined(settings) == [sha256]
    finally:
        half.close()

    service = next_start(settings)
    try:
        assert service.deletes.journal.pending() == []
        assert views(service, asset_id) == 0
        assert not service.blobs.exists(sha256) and quarantined(settings) == []
        assert not service.deletes.journal.content_exists(sha256)
    finally:
        service.close()


def test_bytes_another_owner_still_uses_survive_an_interrupted_delete(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(tmp_path, database_url)
    service = Service(settings)
    try:
        asset_id, sha256 = uploaded_with_numbers(service, tmp_path, 502)
        alice, _ = service.keys.create("alice")
        gif = tmp_path / "502.gif"
        meta = service.uploads.clean_metadata("hers", "", "")
        hers = service.uploads.ingest_file(gif, meta, service.keys.verify(alice)).asset
    finally:
        service.close()
    assert (
        run_cli(settings, "assets", "delete", asset_id, "--yes", crash_at="delete.committed") == -9
    )
    service = next_start(settings)
    try:
        assert service.blobs.exists(sha256) and service.deletes.journal.pending() == []
        assert service.assets.get(hers.asset_id) is not None
    finally:
        service.close()


def test_an_upload_killed_before_its_row_leaves_nothing_after_the_repair(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(tmp_path, database_url)
    gif = tmp_path / "503.gif"
    gif.write_bytes(make_gif(seed=503))
    sha256 = hashlib.sha256(gif.read_bytes()).hexdigest()
    Service(settings).close()  # the data dir and schema exist
    assert run_cli(settings, "upload", str(gif), crash_at="upload.bytes_stored") == -9

    service = next_start(settings)
    try:
        assert service.assets.count() == 0 and service.blobs.exists(sha256)
        assert service.deletes.sweep_orphans(older_than=3600) == 0  # might be in flight
    finally:
        service.close()
    assert run_cli(settings, "db", "repair", "--older-than", "0") == 0
    service = Service(settings)
    try:
        assert not service.blobs.exists(sha256)
        again = service.uploads.ingest_file(gif, service.uploads.clean_metadata("t", "", ""), None)
        assert again.created and service.blobs.exists(sha256)
        assert service.deletes.sweep_orphans(older_than=0) == 0  # named now: kept
        assert service.blobs.exists(sha256)
    finally:
        service.close()


def test_a_server_started_after_a_killed_delete_finishes_it(
    tmp_path: Path, database_url: str
) -> None:
    """The next start is a real ``gifdist serve`` on the same data: by the time it
    answers, the delete is done (numbers and bytes gone) and its URLs are 410."""
    import httpx
    from servers import running_server

    settings = make_settings(tmp_path, database_url)
    service = Service(settings)
    try:
        asset_id, sha256 = uploaded_with_numbers(service, tmp_path, 504)
    finally:
        service.close()
    assert (
        run_cli(settings, "assets", "delete", asset_id, "--yes", crash_at="delete.committed") == -9
    )
    env = {
        "GIFDIST_DATA_DIR": str(settings.data_dir),
        "GIFDIST_DATABASE_URL": settings.resolved_database_url,
    }
    with running_server(tmp_path, **env) as server:
        assert httpx.get(f"{server.base}/a/{asset_id}.gif").status_code == 410
        service = Service(settings)
        try:
            assert service.deletes.journal.pending() == []
            assert views(service, asset_id) == 0 and not service.blobs.exists(sha256)
        finally:
            service.close()

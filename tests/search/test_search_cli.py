"""``gifdist search`` and the start-up backfill, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from conftest import make_settings
from gif_factory import make_gif
from typer.testing import CliRunner

from gifdist.cli import app
from gifdist.wiring import Service

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GIFDIST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GIFDIST_DATABASE_URL", database_url)
    monkeypatch.setenv("GIFDIST_BASE_URL", "http://cli.test")
    monkeypatch.setenv("GIFDIST_MODERATION", "off")
    monkeypatch.delenv("GIFDIST_ADMIN_KEY", raising=False)
    return tmp_path


def test_search_find_trending_and_reindex(env: Path) -> None:
    path = env / "cat.gif"
    path.write_bytes(make_gif(seed=1800))
    uploaded = runner.invoke(
        app, ["upload", str(path), "--title", "Dancing cats", "--tags", "party"]
    )
    assert uploaded.exit_code == 0, uploaded.output
    found = runner.invoke(app, ["search", "find", "cat", "--json"])
    assert found.exit_code == 0, found.output
    body = json.loads(found.stdout)
    assert body["total"] == 1 and body["results"][0]["title"] == "Dancing cats"
    assert "Dancing cats" in runner.invoke(app, ["search", "find", "danc", "--prefix"]).output
    assert "no public GIFs match" in runner.invoke(app, ["search", "find", "horse"]).output
    reindexed = runner.invoke(app, ["search", "reindex"])
    assert reindexed.exit_code == 0 and "indexed 1 public GIFs" in reindexed.output
    trending = runner.invoke(app, ["search", "trending", "--json"])
    assert trending.exit_code == 0 and json.loads(trending.stdout)["results"] == []
    too_long = runner.invoke(app, ["search", "find", "cat " * 300])
    assert too_long.exit_code == 2 and "characters" in too_long.output


def test_an_empty_index_is_filled_on_start(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(tmp_path, database_url)
    service = Service(settings)
    try:
        gif = tmp_path / "a.gif"
        gif.write_bytes(make_gif(seed=1801))
        asset = service.uploads.ingest_file(
            gif, service.uploads.clean_metadata("Otter", None, None), None
        ).asset
        service.search.store.clear()  # as after upgrading from a version without search
        assert service.search.search("otter", limit=5).total == 0
        service.start_background()
        deadline = time.monotonic() + 10
        while service.search.store.count() == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert service.search.search("otter", limit=5).asset_ids == (asset.asset_id,)
    finally:
        service.close()

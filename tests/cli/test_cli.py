"""The gifdist CLI against a local data dir."""

from __future__ import annotations

from pathlib import Path

import pytest
from gif_factory import make_gif, png_bytes
from typer.testing import CliRunner

from gifdist.cli import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GIFDIST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GIFDIST_DATABASE_URL", database_url)
    monkeypatch.setenv("GIFDIST_BASE_URL", "http://cli.test")
    monkeypatch.setenv("GIFDIST_MODERATION", "off")
    monkeypatch.delenv("GIFDIST_ADMIN_KEY", raising=False)
    return tmp_path


def test_every_command_has_help() -> None:
    for args in (
        ["--help"],
        ["serve", "--help"],
        ["upload", "--help"],
        ["keys", "--help"],
        ["keys", "create", "--help"],
        ["keys", "list", "--help"],
        ["keys", "revoke", "--help"],
        ["links", "create", "--help"],
        ["db", "upgrade", "--help"],
        ["stats", "--help"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args, result.output)
        assert "Usage" in result.output


def test_db_upgrade_is_idempotent(env: Path) -> None:
    first = runner.invoke(app, ["db", "upgrade"])
    second = runner.invoke(app, ["db", "upgrade"])
    assert first.exit_code == 0 and "upgraded" in first.output
    assert second.exit_code == 0 and "already up to date" in second.output


def test_keys_create_list_revoke(env: Path) -> None:
    created = runner.invoke(app, ["keys", "create", "ci bot", "--scope", "upload", "-s", "read"])
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip().splitlines()[-1]
    assert secret.startswith("gd_")
    key_id = secret.split("_")[1]
    listed = runner.invoke(app, ["keys", "list"])
    assert key_id in listed.output and "ci bot" in listed.output and secret not in listed.output
    assert runner.invoke(app, ["keys", "revoke", key_id]).exit_code == 0
    again = runner.invoke(app, ["keys", "revoke", key_id])
    assert again.exit_code == 1 and "no active key" in again.output


def test_keys_create_with_unknown_scope_fails_cleanly(env: Path) -> None:
    result = runner.invoke(app, ["keys", "create", "x", "--scope", "root"])
    assert result.exit_code == 2
    assert "unknown scope" in result.output
    assert "Traceback" not in result.output


def test_upload_several_files_prints_short_urls(env: Path) -> None:
    files = []
    for i in range(2):
        path = env / f"cat{i}.gif"
        path.write_bytes(make_gif(seed=200 + i))
        files.append(str(path))
    result = runner.invoke(app, ["upload", *files, "--tags", "cat,cli"])
    assert result.exit_code == 0, result.output
    assert result.output.count("http://cli.test/s/") == 2


def test_upload_reports_bad_and_missing_files(env: Path) -> None:
    good = env / "good.gif"
    good.write_bytes(make_gif(seed=300))
    bad = env / "bad.gif"
    bad.write_bytes(png_bytes())
    result = runner.invoke(app, ["upload", str(good), str(bad)])
    assert result.exit_code == 1
    assert "not a GIF" in result.output or "not_a_gif" in result.output or "GIF" in result.output
    assert "http://cli.test/s/" in result.output
    missing = runner.invoke(app, ["upload", str(env / "nope.gif")])
    assert missing.exit_code == 2 and "not a file" in missing.output


def test_links_create_for_unknown_asset_fails_cleanly(env: Path) -> None:
    result = runner.invoke(app, ["links", "create", "0123456789abcdef"])
    assert result.exit_code == 1
    assert "no asset" in result.output


def test_stats_prints_a_table_json_and_csv(env: Path) -> None:
    from datetime import UTC, datetime

    from gifdist.analytics import EventType, Platform
    from gifdist.config import Settings
    from gifdist.wiring import Service

    gif = env / "cat.gif"
    gif.write_bytes(make_gif(seed=11))
    uploaded = runner.invoke(app, ["upload", str(gif)])
    assert uploaded.exit_code == 0, uploaded.output
    service = Service(Settings(_env_file=None))  # type: ignore[call-arg]
    try:
        [asset_id] = [a.asset_id for a in service.assets.list()]
        assert service.catalog.get(asset_id) is not None
        now = datetime.now(UTC)
        for kind, platform in [
            (EventType.VIEW, Platform.SLACK),
            (EventType.VIEW, Platform.SLACK),
            (EventType.CLICK, Platform.SLACK),
            (EventType.PLAY, Platform.WEB),
        ]:
            service.tracker.track_event(asset_id, kind, platform, timestamp=now)
    finally:
        service.close()

    table = runner.invoke(app, ["stats", asset_id])
    assert table.exit_code == 0, table.output
    assert "slack" in table.output and "50.00%" in table.output
    assert "discord" not in table.output  # platforms without traffic are left out
    as_json = runner.invoke(app, ["stats", asset_id, "--json"])
    assert '"views": 2' in as_json.output and '"ctr": 50.0' in as_json.output
    as_csv = runner.invoke(app, ["stats", asset_id, "--csv", "--interval", "hour"])
    assert as_csv.output.splitlines()[-1] == "total,2,1,1,50.0,50.0"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["stats", "0123456789abcdef"], "no asset"),
        (["stats", "Zz00Zz00", "--link"], "no short link"),
        (["stats", "0123456789abcdef", "--interval", "week"], "interval must be"),
        (["stats", "0123456789abcdef", "--from", "someday"], "ISO 8601"),
    ],
)
def test_stats_bad_input_exits_with_a_message(env: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output

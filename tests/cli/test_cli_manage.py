"""``gifdist assets …`` and ``gifdist links …`` on the local data dir (SQLite and
PostgreSQL): the same use cases as the API, and a refusal where no data exists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gif_factory import make_gif
from typer.testing import CliRunner

from gifdist.cli import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GIFDIST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GIFDIST_DATABASE_URL", database_url)
    monkeypatch.setenv("GIFDIST_BASE_URL", "http://cli.test")
    monkeypatch.setenv("GIFDIST_MODERATION", "off")
    for name in ("GIFDIST_SERVER", "GIFDIST_KEY", "GIFDIST_ADMIN_KEY"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_the_cli_lists_shows_edits_and_deletes_like_the_api(env: Path) -> None:
    gif = env / "cat.gif"
    gif.write_bytes(make_gif(seed=76))
    assert runner.invoke(app, ["upload", str(gif), "--title", "Cta"]).exit_code == 0
    listed = runner.invoke(app, ["assets", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert "using local data: " in listed.output and "using" not in listed.stdout
    [asset] = json.loads(listed.stdout)
    asset_id = asset["asset_id"]
    edited = runner.invoke(app, ["assets", "edit", asset_id, "--title", "Cat", "--tags", "a,b"])
    assert edited.exit_code == 0 and "'Cat' [a, b]" in edited.stdout, edited.output
    shown = runner.invoke(app, ["assets", "show", asset_id])
    assert json.loads(shown.stdout)["tags"] == ["a", "b"]
    [made] = json.loads(runner.invoke(app, ["links", "list", asset_id, "--json"]).stdout)
    code = made["short_code"]
    relinked = runner.invoke(app, ["links", "edit", code, "--via", "x", "--title", "[hi]"])
    assert relinked.exit_code == 0 and "'[hi]' via twitter" in relinked.stdout, relinked.output
    qr = env / "link.svg"
    assert runner.invoke(app, ["links", "qr", code, "-o", str(qr)]).exit_code == 0
    assert qr.read_bytes().startswith(b"<?xml") and b"<svg" in qr.read_bytes()
    bad = runner.invoke(app, ["links", "qr", code, "-o", str(env / "x.gif")])
    assert bad.exit_code == 2 and ".svg or .png" in bad.output
    assert runner.invoke(app, ["links", "delete", code, "--yes"]).exit_code == 0
    assert runner.invoke(app, ["links", "list", "--json"]).stdout.strip() == "[]"
    assert runner.invoke(app, ["assets", "delete", asset_id, "--yes"]).exit_code == 0
    again = runner.invoke(app, ["assets", "delete", asset_id, "--yes"])
    assert again.exit_code == 1 and "no asset" in again.output


@pytest.mark.parametrize(
    "args",
    [
        ["assets", "list"],
        ["assets", "show", "x"],
        ["assets", "edit", "x", "--title", "t"],
        ["assets", "delete", "x", "--yes"],
        ["assets", "private", "x"],
        ["links", "list"],
        ["links", "create", "x"],
        ["links", "delete", "x", "--yes"],
        ["links", "qr", "x", "-o", "x.svg"],
        ["keys", "list"],
        ["stats", "x"],
        ["moderation", "queue"],
        ["audit", "verify"],
        ["search", "find", "cat"],
        ["export", "--owner", "k", "-o", "x.zip"],
        ["erase", "--owner", "k", "--yes"],
    ],
)
def test_a_command_where_no_data_dir_exists_refuses_and_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    missing = tmp_path / "nowhere"
    monkeypatch.setenv("GIFDIST_DATA_DIR", str(missing))
    for name in ("GIFDIST_DATABASE_URL", "GIFDIST_SERVER", "GIFDIST_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "no gifdist data in" in result.output, result.output
    assert not missing.exists()

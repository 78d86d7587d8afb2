"""``gifdist users`` against a local data dir."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from gifdist.cli import app

runner = CliRunner()
PASSWORD = "correct horse battery"


@pytest.fixture
def env(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GIFDIST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GIFDIST_DATABASE_URL", database_url)
    monkeypatch.setenv("GIFDIST_BASE_URL", "http://cli.test")
    monkeypatch.setenv("GIFDIST_MODERATION", "off")
    monkeypatch.delenv("GIFDIST_ADMIN_KEY", raising=False)
    return tmp_path


def test_create_list_role_disable_reset(env: Path) -> None:
    made = runner.invoke(
        app, ["users", "create", "Root", "--admin"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert made.exit_code == 0, made.output
    assert "created admin root" in made.stdout and PASSWORD not in made.stdout
    runner.invoke(app, ["users", "create", "bob", "--password", PASSWORD])
    listed = runner.invoke(app, ["users", "list"])
    assert "root" in listed.stdout and "admin" in listed.stdout and "bob" in listed.stdout
    assert runner.invoke(app, ["users", "role", "bob", "moderator"]).exit_code == 0
    assert "moderator" in runner.invoke(app, ["users", "list"]).stdout
    assert runner.invoke(app, ["users", "disable", "BOB"]).exit_code == 0
    assert "disabled" in runner.invoke(app, ["users", "list"]).stdout
    reset = runner.invoke(app, ["users", "reset", "bob"])
    assert reset.exit_code == 0 and reset.stdout.strip().startswith("http://cli.test/reset/")
    invite = runner.invoke(app, ["users", "invite", "--role", "member"])
    assert invite.stdout.strip().startswith("http://cli.test/invite/")


def test_bad_input_gets_a_message_not_a_traceback(env: Path) -> None:
    taken = runner.invoke(app, ["users", "create", "bob", "--password", PASSWORD])
    assert taken.exit_code == 0
    for args, expected in [
        (["users", "create", "BOB", "--password", PASSWORD], "taken"),
        (["users", "create", "pаypal", "--password", PASSWORD], "looks like another name"),
        (["users", "create", "carol", "--password", "short"], "at least 10"),
        (["users", "create", "carol", "--role", "boss", "--password", PASSWORD], "unknown role"),
        (["users", "disable", "nobody"], "no user named"),
    ]:
        result = runner.invoke(app, args)
        assert result.exit_code != 0 and expected in result.output, (args, result.output)
        assert "Traceback" not in result.output

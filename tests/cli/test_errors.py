"""One error handler, one exit-code rule: 0 done, 1 refused, 2 usage; never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from gifdist.cli import app
from gifdist.cli.errors import CliError, ExitCode, UsageError, exit_code_for
from gifdist.errors import (
    Conflict,
    Gone,
    InvalidInput,
    InvalidMedia,
    NotFound,
    ServiceUnavailable,
    Unauthorized,
)

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GIFDIST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GIFDIST_DATABASE_URL", database_url)
    monkeypatch.setenv("GIFDIST_MODERATION", "off")
    monkeypatch.delenv("GIFDIST_SERVER", raising=False)
    monkeypatch.delenv("GIFDIST_KEY", raising=False)
    return tmp_path


def test_the_rule_maps_malformed_input_to_2_and_every_other_refusal_to_1() -> None:
    assert exit_code_for(InvalidInput("x")) is ExitCode.USAGE
    assert exit_code_for(InvalidMedia("x")) is ExitCode.USAGE
    assert exit_code_for(UsageError("x")) is ExitCode.USAGE
    for refusal in (NotFound("x"), Gone("x"), Conflict("x"), Unauthorized("x"), CliError("x")):
        assert exit_code_for(refusal) is ExitCode.REFUSED


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["assets", "show", "nope"], 1, "no asset"),
        (["assets", "delete", "nope", "--yes"], 1, "no asset"),
        (["links", "delete", "nope", "--yes"], 1, "no short link"),
        (["links", "edit", "abcdef"], 2, "give at least one of"),
        (["assets", "edit", "nope"], 2, "give at least one of"),
        (["stats", "nope", "--from", "yesterday-ish"], 2, "ISO 8601"),
        (["moderation", "decide", "nope", "maybe"], 2, "approve, reject or flag"),
        (["moderation", "decide", "nope", "approve"], 1, "no asset"),
        (["keys", "revoke", "nope"], 1, "no active key"),
        (["assets", "list", "--server", "gifs.example"], 2, "http:// or https://"),
        (["assets", "list", "--server", "http://127.0.0.1:9"], 2, "--key"),
        (["assets", "list", "--bogus"], 2, "No such option"),
    ],
)
def test_every_refusal_is_one_error_line_and_the_rule_s_exit_code(
    env: Path, args: list[str], code: int, message: str
) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == code, (args, result.output)
    assert message in result.output, result.output
    assert "Traceback" not in result.output and result.stdout == ""


def test_a_configuration_that_does_not_parse_is_a_usage_error(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIFDIST_PORT", "not-a-port")
    result = runner.invoke(app, ["keys", "list"])
    assert result.exit_code == 2 and "GIFDIST_PORT" in result.output, result.output
    assert "Traceback" not in result.output


def test_gifdist_server_as_a_url_leaves_serve_s_setting_alone(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gifdist.config import Settings

    monkeypatch.setenv("GIFDIST_SERVER", "https://gifs.example")
    assert Settings().server == "granian"
    listed = runner.invoke(app, ["keys", "list"])  # a local-only command still runs
    assert listed.exit_code == 0, listed.output


def test_every_command_group_is_registered_once_under_the_one_handler() -> None:
    from gifdist.cli.errors import HandledGroup

    root = typer.main.get_command(app)
    assert isinstance(root, HandledGroup)
    names = set(root.commands)  # type: ignore[attr-defined]
    expected = {"serve", "upload", "stats", "export", "erase", "assets", "links", "keys"}
    assert expected | {"moderation", "audit", "search", "renditions", "db"} <= names


@pytest.mark.parametrize(
    ("status", "body", "kind", "code"),
    [
        (400, {"error": {"code": "bad", "message": "tags must be text"}}, InvalidInput, 2),
        (401, {"error": {"code": "unauthorized", "message": "unknown key"}}, Unauthorized, 1),
        (404, {"error": {"code": "not_found", "message": "no asset"}}, NotFound, 1),
        (410, {"error": {"code": "gone", "message": "deleted"}}, Gone, 1),
        (422, {"detail": [{"msg": "not a bool"}]}, InvalidInput, 2),
        (503, None, ServiceUnavailable, 1),
    ],
)
def test_a_server_s_error_answer_becomes_the_local_error_with_the_same_exit_code(
    status: int, body: object, kind: type[Exception], code: int
) -> None:
    import httpx

    from gifdist.cli.remote import error_for

    answer = httpx.Response(status, json=body) if body is not None else httpx.Response(status)
    error = error_for(answer, "http://gifs.example")
    assert isinstance(error, kind) and exit_code_for(error) == code
    assert f"({status} from http://gifs.example)" in error.message
    if status == 401:
        assert "http://gifs.example refused the key (unknown key)" in error.message

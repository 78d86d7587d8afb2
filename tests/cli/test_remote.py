"""``--server URL --key KEY``: the CLI manages GIFs and links on a real server process
through its API, as the key's owner, and turns the server's refusals into the CLI's
messages and exit codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gif_factory import make_gif
from servers import SERVER_KEY, RunningServer, free_port, running_server
from typer.testing import CliRunner, Result

from gifdist.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(tmp_path_factory.mktemp("remote")) as running:
        yield running


@pytest.fixture(autouse=True)
def no_local_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Remote commands must not need (or create) a local data dir."""
    monkeypatch.setenv("GIFDIST_DATA_DIR", str(tmp_path / "no-local-data"))
    for name in ("GIFDIST_DATABASE_URL", "GIFDIST_SERVER", "GIFDIST_KEY"):
        monkeypatch.delenv(name, raising=False)


def cli(server: RunningServer, *args: str, key: str = SERVER_KEY) -> Result:
    return runner.invoke(app, [*args, "--server", server.base, "--key", key])


def owner_key(server: RunningServer, name: str) -> str:
    """A fresh non-admin key, made on the server's own data dir."""
    port = server.base.rsplit(":", 1)[1]
    data = server.log_path.parent / f"data-{port}"
    made = runner.invoke(app, ["keys", "create", name], env={"GIFDIST_DATA_DIR": str(data)})
    assert made.exit_code == 0, made.output
    return made.stdout.strip().splitlines()[-1]


def upload(server: RunningServer, tmp_path: Path, seed: int, key: str) -> str:
    gif = tmp_path / f"gif-{seed}.gif"
    gif.write_bytes(make_gif(seed=seed))
    done = cli(server, "upload", str(gif), "--title", "Remote cat", key=key)
    assert done.exit_code == 0, done.output
    assert f"using server: {server.base}" in done.output
    listed = cli(server, "assets", "list", "--json", key=key)
    assert listed.exit_code == 0, listed.output
    [asset] = [a for a in json.loads(listed.stdout) if a["title"] == "Remote cat"]
    return str(asset["asset_id"])


def test_assets_and_links_are_managed_on_the_server_through_its_api(
    server: RunningServer, tmp_path: Path
) -> None:
    key = owner_key(server, "remote-owner")
    asset_id = upload(server, tmp_path, 301, key)
    shown = cli(server, "assets", "show", asset_id, key=key)
    assert shown.exit_code == 0 and json.loads(shown.stdout)["title"] == "Remote cat"
    assert "using server:" in shown.output and "using server:" not in shown.stdout
    edited = cli(
        server, "assets", "edit", asset_id, "--title", "Remote dog", "--tags", "dog", key=key
    )
    assert edited.exit_code == 0 and "'Remote dog' [dog]" in edited.stdout, edited.output
    assert (
        httpx.get(f"{server.base}/api/v1/assets/{asset_id}", headers=bearer(key)).json()["title"]
        == "Remote dog"
    )

    [link] = json.loads(cli(server, "links", "list", asset_id, "--json", key=key).stdout)
    code = link["short_code"]
    assert any(
        row["short_code"] == code
        for row in json.loads(cli(server, "links", "list", "--json", key=key).stdout)
    )
    changed = cli(server, "links", "edit", code, "--via", "slack", key=key)
    assert changed.exit_code == 0 and "via slack" in changed.stdout, changed.output
    for suffix, magic in (("svg", b"<svg"), ("png", b"\x89PNG")):
        target = tmp_path / f"qr.{suffix}"
        made = cli(server, "links", "qr", code, "-o", str(target), key=key)
        assert made.exit_code == 0, made.output
        assert magic in target.read_bytes()[:200]

    assert cli(server, "links", "delete", code, "--yes", key=key).exit_code == 0
    assert httpx.get(f"{server.base}/s/{code}").status_code == 410
    twice = cli(server, "links", "delete", code, "--yes", key=key)
    assert twice.exit_code == 1 and "404 from" in twice.output and "Traceback" not in twice.output

    assert cli(server, "assets", "delete", asset_id, "--yes", key=key).exit_code == 0
    assert httpx.get(f"{server.base}/a/{asset_id}.gif").status_code == 410
    gone = cli(server, "assets", "show", asset_id, key=key)
    assert gone.exit_code == 1 and "404 from" in gone.output and "no asset" in gone.output
    assert not (tmp_path / "no-local-data").exists()


def test_another_owner_s_private_gif_is_a_404_and_changes_nothing(
    server: RunningServer, tmp_path: Path
) -> None:
    alice, bob = owner_key(server, "alice"), owner_key(server, "bob")
    asset_id = upload(server, tmp_path, 302, alice)
    private = {"private": True}
    httpx.patch(f"{server.base}/api/v1/assets/{asset_id}", json=private, headers=bearer(alice))
    for args in (
        ("assets", "show", asset_id),
        ("assets", "edit", asset_id, "--title", "mine now"),
        ("assets", "delete", asset_id, "--yes"),
    ):
        refused = cli(server, *args, key=bob)
        assert refused.exit_code == 1 and "404 from" in refused.output, refused.output
        assert "Remote cat" not in refused.output
    assert json.loads(cli(server, "assets", "show", asset_id, key=alice).stdout)["title"] == (
        "Remote cat"
    )


def test_a_wrong_key_and_an_unreachable_server_are_clear_messages(
    server: RunningServer,
) -> None:
    wrong = cli(server, "assets", "list", key="not-a-key")
    assert wrong.exit_code == 1, wrong.output
    assert "refused the key" in wrong.output and "401" in wrong.output
    nobody = f"http://127.0.0.1:{free_port()}"
    down = runner.invoke(app, ["links", "list", "--server", nobody, "--key", "k"])
    assert down.exit_code == 1 and f"cannot reach {nobody}" in down.output, down.output
    for result in (wrong, down):
        assert "Traceback" not in result.output and result.stdout == ""


def test_gifdist_server_and_gifdist_key_stand_for_the_options(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIFDIST_SERVER", server.base)
    monkeypatch.setenv("GIFDIST_KEY", SERVER_KEY)
    listed = runner.invoke(app, ["assets", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert f"using server: {server.base}" in listed.output
    assert isinstance(json.loads(listed.stdout), list)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}

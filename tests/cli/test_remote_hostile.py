"""The CLI's remote mode with hostile arguments: ids stay one path segment (never
another route), and a bad key or server URL is a usage error, not a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from gifdist.cli import app

runner = CliRunner()
SERVER = "http://gifdist.test"


@pytest.fixture
def requests(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[httpx.Request]]:
    """Every request the CLI sends, answered 404 by a stand-in server."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(404, json={"error": {"code": "not_found", "message": "no such"}})

    real_init = httpx.Client.__init__

    def init(self: httpx.Client, *args: Any, **kwargs: Any) -> None:
        kwargs["transport"] = httpx.MockTransport(answer)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(httpx.Client, "__init__", init)
    for name in ("GIFDIST_SERVER", "GIFDIST_KEY"):
        monkeypatch.delenv(name, raising=False)
    yield seen


@pytest.mark.parametrize(
    ("args", "method", "path"),
    [
        (["assets", "show", "../links/abc"], "GET", "/api/v1/assets/..%2Flinks%2Fabc"),
        (["assets", "show", ".."], "GET", "/api/v1/assets/%2E%2E"),
        (["assets", "show", "a?b=c"], "GET", "/api/v1/assets/a%3Fb%3Dc"),
        (["assets", "show", "a#b"], "GET", "/api/v1/assets/a%23b"),
        (
            ["assets", "delete", "../links/abc", "--yes"],
            "DELETE",
            "/api/v1/assets/..%2Flinks%2Fabc",
        ),
        (["links", "delete", "../assets/x", "--yes"], "DELETE", "/api/v1/links/..%2Fassets%2Fx"),
        (["links", "list", "../keys"], "GET", "/api/v1/assets/..%2Fkeys/links"),
        (["assets", "show", "a\u202eb"], "GET", "/api/v1/assets/a%E2%80%AEb"),
    ],
)
def test_an_id_is_one_path_segment_on_the_server(
    requests: list[httpx.Request], args: list[str], method: str, path: str
) -> None:
    done = runner.invoke(app, [*args, "--server", SERVER, "--key", "gd_k"])
    assert done.exit_code == 1 and "no such (404" in done.output, done.output
    [sent] = requests
    assert (sent.method, sent.url.raw_path.decode()) == (method, path)


@pytest.mark.parametrize("key", ["k\u00e9y", "k\nx", "k\x00", "k\x7f"])
def test_a_key_that_cannot_be_a_header_is_a_usage_error(
    requests: list[httpx.Request], key: str
) -> None:
    done = runner.invoke(app, ["assets", "show", "abc", "--server", SERVER, "--key", key])
    assert done.exit_code == 2 and "--key must be printable ASCII" in done.output, done.output
    assert done.exception is None or isinstance(done.exception, SystemExit)
    assert requests == []


@pytest.mark.parametrize("server", ["http://[::1", "http://x\x00.test", "https://a:b:c"])
def test_a_server_url_that_is_not_one_is_a_usage_error(
    requests: list[httpx.Request], server: str
) -> None:
    done = runner.invoke(app, ["assets", "show", "abc", "--server", server, "--key", "gd_k"])
    assert done.exit_code == 2 and "--server is not a valid URL" in done.output, done.output
    assert requests == []

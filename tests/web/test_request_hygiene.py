"""Small holes found by attacking a running server: redirects, link reads, strict
bodies, hung-up clients and the modes of the files gifdist creates."""

from __future__ import annotations

import logging
import stat
from pathlib import Path
from typing import Any

import anyio
import pytest
from conftest import make_settings
from gif_factory import make_gif
from starlette.testclient import TestClient

from gifdist.accounts.keys import Scope
from gifdist.observability.metrics import CLIENT_DISCONNECTS
from gifdist.web.app import create_app
from gifdist.wiring import Service


def upload(client: TestClient, seed: int, headers: dict[str, str] | None = None) -> str:
    files = {"file": ("a.gif", make_gif(seed=seed), "image/gif")}
    response = client.post("/api/v1/assets", files=files, headers=headers)
    assert response.status_code == 201, response.text
    asset_id: str = response.json()["asset_id"]
    return asset_id


def test_trailing_slash_redirect_goes_to_the_base_url_whatever_the_host(
    client: TestClient,
) -> None:
    asset_id = upload(client, seed=1)
    response = client.get(
        f"/a/{asset_id}/?x=1", headers={"Host": "evil.example"}, follow_redirects=False
    )
    assert response.status_code == 307
    assert response.headers["location"] == f"http://gifdist.test/a/{asset_id}?x=1"
    assert client.get("/no/such/page/", follow_redirects=False).status_code == 404


def test_a_link_is_described_only_to_whoever_may_see_its_stats(
    client: TestClient, service: Service
) -> None:
    asset_id = upload(client, seed=2)
    code = client.post(f"/api/v1/assets/{asset_id}/links", json={}).json()["short_code"]
    reader, _ = service.keys.create("reader", [Scope.READ])
    as_reader = {"Authorization": f"Bearer {reader}"}
    assert client.get(f"/api/v1/links/{code}/stats", headers=as_reader).status_code == 403
    described = client.get(f"/api/v1/links/{code}", headers=as_reader)
    assert described.status_code == 403 and "clicks" not in described.text
    assert client.get(f"/api/v1/links/{code}").json()["clicks"] == 0  # admin


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/signed-url", {"expires_in": True}),
        ("/signed-url", {"expires_in": "60"}),
        ("", {"private": 1}),
        ("", {"private": "true"}),
        ("/links", {"title": 7}),
    ],
)
def test_booleans_numbers_and_strings_are_not_each_other(
    client: TestClient, path: str, body: dict[str, Any]
) -> None:
    asset_id = upload(client, seed=3)
    method = client.patch if path == "" else client.post
    response = method(f"/api/v1/assets/{asset_id}{path}", json=body)
    assert response.status_code == 422, (body, response.text)
    assert response.json()["error"]["code"] == "invalid_input"


def test_a_moderation_decision_must_be_a_string(client: TestClient) -> None:
    asset_id = upload(client, seed=4)
    response = client.post(
        f"/api/v1/moderation/assets/{asset_id}/decision", json={"decision": True}
    )
    assert response.status_code == 422


def _disconnecting_request(app: Any, path: str, content_type: bytes) -> list[dict[str, Any]]:
    """Send half a body, then hang up; returns what the app tried to send."""
    messages = [
        {
            "type": "http.request",
            "body": b"--b\r\nContent-Disposition: form-data; ",
            "more_body": True,
        },
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"gifdist.test"),
            (b"authorization", b"Bearer test-admin-key-0123456789"),
            (b"content-type", content_type),
            (b"content-length", b"100000"),
        ],
        "client": ("127.0.0.1", 1234),
        "server": ("gifdist.test", 80),
    }

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    anyio.run(app, scope, receive, send)
    return sent


@pytest.mark.parametrize(
    ("path", "kind", "content_type"),
    [
        ("/api/v1/assets", "upload", b"multipart/form-data; boundary=b"),
        ("/api/v1/assets/0123456789abcdef/report", "report", b"application/json"),
    ],
)
def test_a_client_that_hangs_up_mid_body_is_one_info_line_and_a_metric(
    service: Service,
    caplog: pytest.LogCaptureFixture,
    path: str,
    kind: str,
    content_type: bytes,
) -> None:
    app = create_app(service=service)
    before = CLIENT_DISCONNECTS.labels(kind)._value.get()
    with caplog.at_level(logging.INFO):
        sent = _disconnecting_request(app, path, content_type)
    starts = [m for m in sent if m["type"] == "http.response.start"]
    assert all(m["status"] < 500 for m in starts), starts
    assert CLIENT_DISCONNECTS.labels(kind)._value.get() == before + 1
    records = [r for r in caplog.records if "disconnected" in r.getMessage()]
    assert len(records) == 1 and records[0].levelno == logging.INFO
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert list(service.blobs.tmp_dir.iterdir()) == []  # the partial upload is gone


def test_secret_database_and_data_dir_are_private_from_the_start(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, None)  # type: ignore[arg-type]  # the default SQLite file
    service = Service(settings)
    try:
        data = settings.data_dir
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        assert stat.S_IMODE((data / "secret.key").stat().st_mode) == 0o600
        assert stat.S_IMODE((data / "gifdist.db").stat().st_mode) == 0o600
        service.events.flush()
        for wal in data.glob("gifdist.db-*"):
            assert stat.S_IMODE(wal.stat().st_mode) == 0o600
    finally:
        service.close()


def test_the_secret_key_file_is_never_world_readable_while_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    modes: list[int] = []
    real_open = os.open

    def spying_open(path: Any, flags: int, mode: int = 0o777, **kw: Any) -> int:
        if ".secret.key" in str(path):
            modes.append(mode)
        return real_open(path, flags, mode, **kw)

    monkeypatch.setattr(os, "open", spying_open)
    service = Service(make_settings(tmp_path, f"sqlite:///{tmp_path / 'x.db'}"))
    service.close()
    assert modes == [0o600]


@pytest.mark.server
def test_a_real_server_logs_a_hung_up_upload_once_without_a_traceback(tmp_path: Path) -> None:
    import socket
    import time

    from servers import SERVER_KEY, running_server

    with running_server(tmp_path, GIFDIST_LOG_LEVEL="info") as server:
        host, port = server.base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as sock:
            sock.sendall(
                (
                    "POST /api/v1/assets HTTP/1.1\r\nHost: x\r\n"
                    f"Authorization: Bearer {SERVER_KEY}\r\n"
                    "Content-Type: multipart/form-data; boundary=b\r\n"
                    "Content-Length: 100000\r\n\r\n"
                    '--b\r\nContent-Disposition: form-data; name="file"; filename="a.gif"\r\n\r\n'
                    "GIF89a"
                ).encode()
            )
            time.sleep(0.5)
        deadline = time.monotonic() + 10
        while "client disconnected" not in server.log() and time.monotonic() < deadline:
            time.sleep(0.1)
        log = server.log()
    assert log.count("client disconnected during POST /api/v1/assets") == 1, log[-2000:]
    assert "Traceback" not in log and "unhandled error" not in log

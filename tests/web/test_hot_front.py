"""The hot-path front: request ids, small GIFs from memory, route templates."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ADMIN_KEY, make_settings
from gif_factory import make_gif
from starlette.testclient import TestClient

from gifdist.observability.tracing import configure_tracing
from gifdist.web.app import create_app
from gifdist.web.delivery import SmallFiles
from gifdist.web.hotpath import HotPaths
from gifdist.web.middleware.request_id import RequestIdSource, new_request_id
from gifdist.wiring import Service

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
FRESH_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def front(tmp_path: Path) -> Iterator[tuple[HotPaths, TestClient]]:
    database = f"sqlite:///{tmp_path / 'gifdist.db'}"
    settings = make_settings(tmp_path, database, telemetry="on")
    service = Service(settings)
    try:  # as the server builds it: a provider without exporter records no span
        app = create_app(service=service, tracer_provider=configure_tracing(settings))
        with TestClient(app, base_url="http://gifdist.test") as client:
            client.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
            yield app, client
    finally:
        service.close()


def upload(client: TestClient, data: bytes) -> str:
    created = client.post("/api/v1/assets", files={"file": ("a.gif", data, "image/gif")})
    assert created.status_code == 201, created.text
    return str(created.json()["asset_id"])


def test_fresh_request_ids_are_unique_and_a_forked_worker_draws_its_own() -> None:
    source = new_request_id  # the process's source, reseeded in a forked child
    ids = {RequestIdSource()() for _ in range(3)} | {source() for _ in range(10_000)}
    assert len(ids) == 10_003 and all(FRESH_ID.fullmatch(i) for i in ids)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: what a forked granian worker would hand out
        os.write(write, source().encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    os.close(read)
    os.close(write)
    assert child[:16] != source()[:16]  # reseeded at fork: no id repeats across workers


def test_hot_paths_echo_a_sane_request_id_and_replace_a_hostile_one(
    front: tuple[HotPaths, TestClient],
) -> None:
    _, client = front
    code = client.post(f"/api/v1/assets/{upload(client, make_gif(seed=1))}/links", json={}).json()[
        "short_code"
    ]
    ua = {"User-Agent": FIREFOX}
    sane = client.get(f"/s/{code}", headers={**ua, "X-Request-ID": "req-7"}, follow_redirects=False)
    assert sane.status_code == 302 and sane.headers["x-request-id"] == "req-7"
    hostile = client.get(
        f"/s/{code}", headers={**ua, "X-Request-ID": "a b<script>"}, follow_redirects=False
    )
    assert FRESH_ID.fullmatch(hostile.headers["x-request-id"])
    assert re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-00", hostile.headers["traceparent"])
    one, two = (client.get(f"/s/{code}", headers=ua, follow_redirects=False) for _ in range(2))
    assert one.headers["x-request-id"] != two.headers["x-request-id"]
    assert one.headers["location"] == two.headers["location"]  # headers built once, reused


def test_a_small_gif_is_served_from_memory_with_every_validator(
    front: tuple[HotPaths, TestClient],
) -> None:
    app, client = front
    data = make_gif(width=40, height=30, frames=3, seed=2)
    asset_id = upload(client, data)
    whole = client.get(f"/a/{asset_id}.gif")
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["content-length"] == str(len(data))
    assert whole.headers["etag"] and "immutable" in whole.headers["cache-control"]
    assert whole.headers["x-content-type-options"] == "nosniff"
    assert app.small_files.size == len(data)  # kept after the first answer
    again = client.get(f"/a/{asset_id}.gif")
    assert again.content == data and again.headers["etag"] == whole.headers["etag"]
    head = client.head(f"/a/{asset_id}.gif")
    assert head.content == b"" and head.headers["content-length"] == str(len(data))
    cached = client.get(f"/a/{asset_id}.gif", headers={"If-None-Match": whole.headers["etag"]})
    assert cached.status_code == 304
    part = client.get(f"/a/{asset_id}.gif", headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and part.content == data[:10]


def test_small_files_keep_to_their_byte_budget(tmp_path: Path) -> None:
    files = SmallFiles(max_file_bytes=10, budget=25)
    for name, size in (("a", 10), ("b", 10), ("c", 10), ("big", 11)):
        (tmp_path / name).write_bytes(b"x" * size)
    for name in ("a", "b", "c"):
        assert files.load(str(tmp_path / name)) == b"x" * 10
    assert files.size <= 25
    assert files.get(str(tmp_path / "a")) is None  # the least recently used went out
    assert files.get(str(tmp_path / "c")) == b"x" * 10
    assert files.load(str(tmp_path / "big")) is None and files.size <= 25
    assert files.load(str(tmp_path / "missing")) is None


def test_each_hot_path_has_its_route_template(front: tuple[HotPaths, TestClient]) -> None:
    app, _ = front

    def template(method: str, path: str) -> str | None:
        route = app._route({"method": method, "path": path})
        return route[0] if route else None

    assert template("GET", "/s/abcdefgh") == "/s/{code}"
    assert template("HEAD", "/s/abcdefgh.svg") == "/s/{code}"
    assert template("GET", "/a/0123456789abcdef.gif") == "/a/{asset_id}.gif"
    assert template("GET", "/a/0123456789abcdef.mp4") == "/a/{asset_id}.{ext}"
    assert template("GET", "/a/0123456789abcdef/tiny.gif") == "/a/{asset_id}.{ext}"
    assert template("POST", "/api/v1/events") == "/api/v1/events"
    assert template("GET", "/a/0123456789abcdef") is None  # the page: the framework's
    assert template("POST", "/s/abcdefgh") is None

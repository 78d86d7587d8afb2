"""Renditions in the asset JSON and delivered with the GIF's guarantees.

In process (every conditional and range case on the MP4) and through real
granian and uvicorn processes, whose own worker converts the upload.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import ADMIN_KEY, make_settings
from gif_factory import make_gif
from servers import SERVER_KEY, running_server
from starlette.testclient import TestClient

from gifdist.assets import AssetMetadata
from gifdist.web.app import create_app
from gifdist.wiring import Service

KINDS = ("gif", "mp4", "webp", "still", "tiny_gif", "tiny_mp4", "tiny_webp", "tiny_still")
PATHS = {
    "mp4": (".mp4", "video/mp4"),
    "webp": (".webp", "image/webp"),
    "still": (".jpg", "image/jpeg"),
    "tiny_gif": ("/tiny.gif", "image/gif"),
    "tiny_mp4": ("/tiny.mp4", "video/mp4"),
    "tiny_webp": ("/tiny.webp", "image/webp"),
    "tiny_still": ("/tiny.jpg", "image/jpeg"),
}
# a year in browsers, GIFDIST_SHARED_CACHE_SECONDS (60) in shared caches: takedowns reach them
IMMUTABLE = "public, max-age=31536000, s-maxage=60, immutable"


@pytest.fixture
def rendering(tmp_path: Path, database_url: str) -> Iterator[Service]:
    service = Service(make_settings(tmp_path, database_url, renditions="on"))
    try:
        yield service
    finally:
        service.close()


@pytest.fixture
def http(rendering: Service) -> TestClient:
    """A client without the app's lifespan: no worker thread, the tests convert."""
    client = TestClient(create_app(service=rendering), base_url="http://gifdist.test")
    client.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
    return client


def upload(service: Service, tmp_path: Path, *, convert: bool = True, seed: int = 7) -> Any:
    path = tmp_path / f"cat-{seed}.gif"
    make_gif(path, width=300, height=160, frames=6, seed=seed, pattern="stripes")
    asset = service.uploads.ingest_file(path, AssetMetadata(title="cat"), None).asset
    if convert:
        assert service.renditions.run_next() == asset.sha256
    return asset


def test_the_asset_json_lists_each_rendition_once_made(
    rendering: Service, http: TestClient, tmp_path: Path
) -> None:
    asset = upload(rendering, tmp_path, convert=False)
    before = http.get(f"/api/v1/assets/{asset.asset_id}").json()
    assert list(before["renditions"]) == ["gif"]
    assert http.get(f"/a/{asset.asset_id}.mp4").status_code == 404
    rendering.renditions.run_next()
    rendering.renditions.cache.clear()
    body = http.get(f"/api/v1/assets/{asset.asset_id}").json()
    assert sorted(body["renditions"]) == sorted(KINDS)
    canonical = body["canonical_url"]
    assert body["renditions"]["gif"] == {
        "url": f"{canonical}.gif",
        "width": 300,
        "height": 160,
        "bytes": asset.bytes,
        "content_type": "image/gif",
    }
    for kind, (suffix, content_type) in PATHS.items():
        item = body["renditions"][kind]
        assert item["url"] == canonical + suffix
        assert item["content_type"] == content_type
        assert set(item) == {"url", "width", "height", "bytes", "content_type"}
        served = http.get(item["url"].removeprefix("http://gifdist.test"))
        assert served.status_code == 200, kind
        assert served.headers["content-type"] == content_type
        assert int(served.headers["content-length"]) == item["bytes"] == len(served.content)
        assert served.headers["etag"] == f'"{hashlib.sha256(served.content).hexdigest()}"'
        assert served.headers["cache-control"] == IMMUTABLE
    assert body["renditions"]["tiny_mp4"]["width"] == 220
    assert body["renditions"]["mp4"]["width"] == 300


def test_mp4_ranges_and_conditional_requests(
    rendering: Service, http: TestClient, tmp_path: Path
) -> None:
    asset = upload(rendering, tmp_path)
    url = f"/a/{asset.asset_id}.mp4"
    whole = http.get(url)
    data, etag, size = whole.content, whole.headers["etag"], len(whole.content)
    assert whole.headers["accept-ranges"] == "bytes"
    first = http.get(url, headers={"Range": "bytes=0-99"})
    assert first.status_code == 206
    assert first.headers["content-range"] == f"bytes 0-99/{size}"
    assert first.content == data[:100]
    tail = http.get(url, headers={"Range": "bytes=-50"})
    assert tail.status_code == 206 and tail.content == data[-50:]
    two = http.get(url, headers={"Range": "bytes=0-9,20-29"})
    assert two.status_code == 206
    assert two.headers["content-type"].startswith("multipart/byteranges")
    unsatisfiable = http.get(url, headers={"Range": f"bytes={size}-"})
    assert unsatisfiable.status_code == 416
    assert unsatisfiable.headers["content-range"] == f"bytes */{size}"
    assert http.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert http.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    assert http.get(url, headers={"If-Match": '"other"'}).status_code == 412
    resumed = http.get(url, headers={"Range": "bytes=100-", "If-Range": etag})
    assert resumed.status_code == 206 and resumed.content == data[100:]
    stale = http.get(url, headers={"Range": "bytes=100-", "If-Range": '"old"'})
    assert stale.status_code == 200 and stale.content == data
    since = http.get(url, headers={"If-Modified-Since": whole.headers["last-modified"]})
    assert since.status_code == 304
    head = http.head(url)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(size)


def test_renditions_of_a_private_gif_need_a_signed_url(
    rendering: Service, http: TestClient, tmp_path: Path
) -> None:
    asset = upload(rendering, tmp_path)
    assert http.patch(f"/api/v1/assets/{asset.asset_id}", json={"private": True}).status_code == 200
    assert http.get(f"/a/{asset.asset_id}.mp4").status_code == 404  # unsigned: as for an unknown id
    assert http.get(f"/a/{asset.asset_id}/tiny.jpg").status_code == 404
    signed = http.post(f"/api/v1/assets/{asset.asset_id}/signed-url", json={"expires_in": 600})
    renditions = signed.json()["renditions"]
    for kind in ("mp4", "tiny_still", "gif"):
        url = renditions[kind]["url"].removeprefix("http://gifdist.test")
        got = http.get(url)
        assert got.status_code == 200, kind
        assert got.headers["cache-control"].startswith("private, max-age=")
    # a signature is for one path: the MP4's does not open the WebP
    forged = renditions["mp4"]["url"].removeprefix("http://gifdist.test").replace(".mp4", ".webp")
    assert http.get(forged).status_code == 403


def test_renditions_of_a_gif_not_approved_are_not_served(tmp_path: Path, database_url: str) -> None:
    from gifdist.assets import AssetStatus

    service = Service(make_settings(tmp_path, database_url, renditions="on"))
    try:
        asset = upload(service, tmp_path)
        service.assets.set_status(asset.asset_id, AssetStatus.FLAGGED)
        service.catalog.changed(asset.asset_id)
        client = TestClient(create_app(service=service), base_url="http://gifdist.test")
        assert client.get(f"/a/{asset.asset_id}.mp4").status_code == 404
        assert client.get(f"/a/{asset.asset_id}/tiny.gif").status_code == 404
    finally:
        service.close()


def test_unknown_rendition_paths_are_404(http: TestClient) -> None:
    for path in ("/a/zz.mp4", "/a/0123/tiny.gif", "/a/0123/huge.gif", "/a/../x.mp4"):
        assert http.get(path).status_code == 404, path


@pytest.mark.server
@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_a_real_server_converts_the_upload_and_serves_ranges_of_the_mp4(
    tmp_path: Path, server: str
) -> None:
    data = make_gif(width=120, height=80, frames=5, seed=3, pattern="stripes")
    auth = {"Authorization": f"Bearer {SERVER_KEY}"}
    with (
        running_server(tmp_path, server, GIFDIST_RENDITIONS="on") as running,
        httpx.Client(base_url=running.base, timeout=10) as client,
    ):
        created = client.post("/api/v1/assets", headers=auth, files={"file": ("a.gif", data)})
        asset_id = created.json()["asset_id"]
        deadline = time.monotonic() + 60
        renditions: dict[str, Any] = {}
        while time.monotonic() < deadline and "mp4" not in renditions:
            time.sleep(0.3)
            renditions = client.get(f"/api/v1/assets/{asset_id}", headers=auth).json()["renditions"]
        assert sorted(renditions) == sorted(KINDS), running.log()
        mp4 = client.get(f"/a/{asset_id}.mp4")  # whole: pathsend on granian
        assert mp4.status_code == 200 and len(mp4.content) == renditions["mp4"]["bytes"]
        assert mp4.headers["content-type"] == "video/mp4"
        part = client.get(f"/a/{asset_id}.mp4", headers={"Range": "bytes=10-19"})
        assert part.status_code == 206 and part.content == mp4.content[10:20]
        again = client.get(f"/a/{asset_id}.mp4", headers={"If-None-Match": mp4.headers["etag"]})
        assert again.status_code == 304


def test_deleting_the_gif_removes_its_renditions_and_their_urls_answer_410(
    rendering: Service, http: TestClient, tmp_path: Path
) -> None:
    asset = upload(rendering, tmp_path)
    blobs = [item.blob_sha256 for item in rendering.renditions.renditions(asset.sha256).values()]
    assert http.get(f"/a/{asset.asset_id}.mp4").status_code == 200
    assert http.delete(f"/api/v1/assets/{asset.asset_id}").status_code == 204
    rendering.renditions.cache.clear()
    assert rendering.renditions.store.for_content(asset.sha256) == {}
    assert not any(rendering.blobs.exists(blob) for blob in blobs)
    for suffix in (".mp4", ".webp", ".jpg", "/tiny.gif", "/tiny.jpg"):
        assert http.get(f"/a/{asset.asset_id}{suffix}").status_code == 410, suffix

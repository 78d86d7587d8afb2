"""Decoding GIFs is bounded: by total pixel work before any decode, by concurrent
decodes per process, and reviewers' frames are rendered once per content at scan
time, never per page view. (Timings live in bench/decode_cost.py.)"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ADMIN_KEY, make_settings
from gif_factory import make_gif
from PIL import Image
from starlette.testclient import TestClient

from gifdist.errors import InvalidMedia, ServiceUnavailable
from gifdist.media import gif as gif_module
from gifdist.media.gif import DecodeSlots, GifLimits, inspect_gif
from gifdist.web.app import create_app
from gifdist.web.pages.moderation import _queue_items
from gifdist.wiring import Service


def flat_frames_gif(side: int, frames: int) -> bytes:
    """Full-screen flat frames: a tiny file that is ``side² × frames`` pixels to decode."""
    images = [Image.new("P", (side, side), color=n % 2) for n in range(frames)]
    for image in images:
        image.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=100)
    return out.getvalue()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hostile") / "h.gif"
    path.write_bytes(flat_frames_gif(4096, 23))
    return path


def test_the_4096_square_23_frame_gif_is_refused_before_any_pixel_is_decoded(
    hostile: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert hostile.stat().st_size < 400_000  # small file, inside the upload limit

    def no_decoding(*_: Any) -> None:
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(gif_module, "_decode_all_frames", no_decoding)
    with pytest.raises(InvalidMedia) as refused:
        inspect_gif(hostile, GifLimits())
    assert refused.value.code == "gif_too_many_pixels"
    assert "6+ frames of 4096×4096" in refused.value.message  # stopped at frame 6 of 23


def test_an_upload_of_it_gets_a_precise_422(client: TestClient, hostile: Path) -> None:
    response = client.post(
        "/api/v1/assets", files={"file": ("h.gif", hostile.read_bytes(), "image/gif")}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "gif_too_many_pixels"


def test_decodes_past_the_concurrency_cap_wait_then_get_503(
    client: TestClient, service: Service
) -> None:
    service.decode_slots = service.uploads.decode_slots = DecodeSlots(1, wait_seconds=0.2)
    holding, release = threading.Event(), threading.Event()

    def hold_the_only_slot() -> None:
        with service.decode_slots.hold():
            holding.set()
            release.wait(10)

    worker = threading.Thread(target=hold_the_only_slot)
    worker.start()
    try:
        assert holding.wait(5)
        busy = client.post(
            "/api/v1/assets", files={"file": ("a.gif", make_gif(seed=1), "image/gif")}
        )
        assert busy.status_code == 503
        assert busy.json()["error"]["code"] == "decoder_busy"
        assert service.assets.count() == 0
    finally:
        release.set()
        worker.join()
    ok = client.post("/api/v1/assets", files={"file": ("a.gif", make_gif(seed=1), "image/gif")})
    assert ok.status_code == 201


def test_decode_slots_never_exceed_their_limit() -> None:
    slots = DecodeSlots(2, wait_seconds=5)
    inside, peak, lock = [0], [0], threading.Lock()

    def decode() -> None:
        with slots.hold():
            with lock:
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
            threading.Event().wait(0.02)
            with lock:
                inside[0] -= 1

    threads = [threading.Thread(target=decode) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak[0] == 2
    single = DecodeSlots(1, wait_seconds=0.01)
    with single.hold(), pytest.raises(ServiceUnavailable), single.hold():
        pass


@pytest.fixture
def moderated(tmp_path: Path, database_url: str) -> Iterator[tuple[TestClient, Service]]:
    """Moderation on, the worker driven by the test (no lifespan), no visual model."""
    service = Service(make_settings(tmp_path, database_url, moderation="async"))
    service.moderation.pipeline.scanner.visual_scanner = None
    client = TestClient(create_app(service=service), base_url="http://gifdist.test")
    client.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
    try:
        yield client, service
    finally:
        service.close()


def test_review_frames_are_rendered_at_scan_time_and_never_per_view(
    moderated: tuple[TestClient, Service], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, service = moderated
    data = make_gif(width=48, height=40, frames=12, seed=10, pattern="noise")
    asset = client.post("/api/v1/assets", files={"file": ("a.gif", data, "image/gif")}).json()
    service.moderation.process(asset["asset_id"])  # what the worker does
    stored = service.frames.stored(asset["sha256"])
    assert stored is not None and stored[0].index == 0 and stored[-1].index == 11

    def no_decoding(_path: str) -> list[Any]:
        raise AssertionError("a page view decoded the GIF")

    monkeypatch.setattr(service.frames, "render", no_decoding)
    for _ in range(3):
        listing = client.get(f"/api/v1/assets/{asset['asset_id']}/frames").json()["frames"]
        assert [f["index"] for f in listing] == [f.index for f in stored]
        png = client.get(listing[0]["url"].removeprefix("http://gifdist.test"))
        assert png.status_code == 200 and png.content == stored[0].png
        queue = _queue_items(service, "")
        assert [f["index"] for f in queue[0]["frames"]] == [f.index for f in stored]


def test_without_a_scan_frames_are_rendered_once_then_read(
    client: TestClient, service: Service
) -> None:
    data = make_gif(width=48, height=40, frames=8, seed=11, pattern="noise")
    asset_id = client.post("/api/v1/assets", files={"file": ("a.gif", data, "image/gif")}).json()[
        "asset_id"
    ]
    renders: list[str] = []
    real_render = service.frames.render

    def counting_render(path: str) -> list[Any]:
        renders.append(path)
        return real_render(path)

    service.frames.render = counting_render  # type: ignore[method-assign]
    assert _queue_items(service, "") == []  # moderation off: nothing queued
    for _ in range(3):
        assert client.get(f"/api/v1/assets/{asset_id}/frames").status_code == 200
    assert len(renders) == 1

"""The service moderating with OpenAI (a local server speaking its API) next to NudeNet."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import make_settings
from fake_openai import MODERATIONS, FakeOpenAI, Reply, running_fake_openai
from gif_factory import make_gif
from PIL import Image

from gifdist.assets import AssetStatus
from gifdist.wiring import Service


@pytest.fixture(autouse=True)
def _no_openai_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fake() -> Iterator[tuple[str, FakeOpenAI]]:
    with running_fake_openai(image_rule=_mostly_red) as served:
        yield served


def _mostly_red(image: Image.Image) -> bool:
    red, green, blue = image.convert("RGB").resize((1, 1)).getpixel((0, 0))
    return red > 200 and green < 60 and blue < 60


def _service(tmp_path: Path, base_url: str) -> Service:
    settings = make_settings(
        tmp_path,
        f"sqlite:///{tmp_path / 'm.db'}",
        moderation="sync",
        openai_api_key="test-key",
        openai_base_url=base_url,
    )
    return Service(settings)


def _upload(service: Service, tmp_path: Path, data: bytes, title: str) -> AssetStatus:
    path = tmp_path / f"{abs(hash(data))}.gif"
    path.write_bytes(data)
    result = service.uploads.ingest_file(
        path, service.uploads.clean_metadata(title, None, None), None
    )
    return result.asset.status


def _red_gif() -> bytes:
    import io

    frames = [Image.new("RGB", (64, 64), (230, 20, 20)) for _ in range(3)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=80, loop=0)
    return out.getvalue()


def test_clean_upload_is_checked_by_openai_and_approved(
    tmp_path: Path, fake: tuple[str, FakeOpenAI]
) -> None:
    base_url, controller = fake
    service = _service(tmp_path, base_url)
    try:
        stripes = make_gif(width=64, height=64, frames=3, seed=50, pattern="stripes")
        assert _upload(service, tmp_path, stripes, "a calm cat") is AssetStatus.APPROVED
        kinds = {r.path for r in controller.requests()}
        assert kinds == {MODERATIONS}
        assert any(r.image_urls for r in controller.requests())  # frames went to OpenAI
    finally:
        service.close()


def test_openai_flags_decide_even_when_the_local_scanner_is_fine(
    tmp_path: Path, fake: tuple[str, FakeOpenAI]
) -> None:
    base_url, _ = fake
    service = _service(tmp_path, base_url)
    try:
        assert _upload(service, tmp_path, _red_gif(), "a red square") is AssetStatus.REJECTED
        text = make_gif(width=64, height=64, frames=2, seed=51, pattern="stripes")
        assert _upload(service, tmp_path, text, "forbidden things") is AssetStatus.REJECTED
        trail = service.moderation.pipeline.get_audit_trail()
        assert any("openai" in reason for entry in trail for reason in entry.reasons)
    finally:
        service.close()


@pytest.mark.parametrize(
    "reply",
    [Reply.error(500), Reply.rate_limited("30"), Reply.malformed()],
    ids=["500", "429", "malformed"],
)
def test_a_failing_openai_sends_the_upload_to_review_never_approves(
    tmp_path: Path, fake: tuple[str, FakeOpenAI], reply: Reply
) -> None:
    base_url, controller = fake
    controller.script(MODERATIONS, reply, repeat_last=True)
    service = _service(tmp_path, base_url)
    try:
        stripes = make_gif(width=64, height=64, frames=3, seed=52, pattern="stripes")
        assert _upload(service, tmp_path, stripes, "a calm dog") is AssetStatus.FLAGGED
    finally:
        service.close()

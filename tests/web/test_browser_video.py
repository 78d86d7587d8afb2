"""The asset page and the player play the MP4 in headless Chromium; the library shows
tiny previews (which count no play). Debian's chromium plays H.264, so the MP4 itself
is what is tested; where a browser cannot, the page falls back to the WebP, then the GIF.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser import PERSON_USER_AGENT, accessibility_violations, browser_page, screenshot
from gif_factory import make_gif
from servers import SERVER_KEY, RunningServer, running_server

pytestmark = pytest.mark.server
AUTH = {"Authorization": f"Bearer {SERVER_KEY}"}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    with running_server(tmp_path, GIFDIST_RENDITIONS="on") as running:
        yield running


def upload_and_convert(server: RunningServer) -> dict[str, Any]:
    data = make_gif(width=320, height=180, frames=20, duration_ms=100, pattern="stripes")
    created = httpx.post(
        f"{server.base}/api/v1/assets",
        headers=AUTH,
        files={"file": ("a.gif", data, "image/gif")},
        data={"title": "Stripes"},
    )
    asset: dict[str, Any] = created.json()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        asset = httpx.get(f"{server.base}/api/v1/assets/{asset['asset_id']}", headers=AUTH).json()
        if "mp4" in asset["renditions"] and "tiny_still" in asset["renditions"]:
            return asset
        time.sleep(0.3)
    raise AssertionError(f"no renditions:\n{server.log()}")


def playing_time(page: Any) -> float:
    return float(page.evaluate("document.querySelector('video.gif').currentTime"))


def wait_until_playing(page: Any) -> float:
    page.wait_for_function(
        "() => { const v = document.querySelector('video.gif'); return v && v.currentTime > 0 }",
        timeout=15_000,
    )
    return playing_time(page)


def test_the_asset_page_plays_the_mp4(server: RunningServer) -> None:
    asset = upload_and_convert(server)
    requests: list[str] = []
    with browser_page(PERSON_USER_AGENT) as (page, errors):
        page.on("request", lambda request: requests.append(request.url))
        page.goto(asset["canonical_url"])
        first = wait_until_playing(page)
        time.sleep(0.8)
        assert playing_time(page) != first  # it advances (and loops: 2 s long)
        assert page.evaluate("document.querySelector('video.gif').muted") is True
        assert page.evaluate("document.querySelector('video.gif').loop") is True
        screenshot(page, "asset-video")
        assert accessibility_violations(page) == []
        assert errors == []
    assert asset["renditions"]["mp4"]["url"] in requests
    assert asset["gif_url"] not in requests  # the fallback GIF is never fetched


def test_the_player_page_plays(server: RunningServer) -> None:
    asset = upload_and_convert(server)
    with browser_page(PERSON_USER_AGENT) as (page, errors):
        page.goto(f"{asset['canonical_url']}/player")
        first = wait_until_playing(page)
        time.sleep(0.8)
        assert playing_time(page) != first
        assert errors == []


def test_without_h264_the_page_falls_back_to_the_webp(server: RunningServer) -> None:
    asset = upload_and_convert(server)
    with browser_page(PERSON_USER_AGENT) as (page, errors):
        # a browser without H.264 answers "" here
        page.add_init_script("HTMLMediaElement.prototype.canPlayType = function () { return ''; };")
        page.goto(asset["canonical_url"])
        page.wait_for_selector("picture.gif-fallback img.gif")
        assert page.evaluate("document.querySelector('video.gif')") is None
        page.wait_for_function("() => document.querySelector('img.gif').naturalWidth > 0")
        current = page.evaluate("document.querySelector('img.gif').currentSrc")
        assert current == asset["renditions"]["webp"]["url"]
        assert errors == []


def test_the_library_shows_tiny_previews_not_the_gif(server: RunningServer) -> None:
    asset = upload_and_convert(server)
    requests: list[str] = []
    with browser_page(PERSON_USER_AGENT) as (page, errors):
        page.on("request", lambda request: requests.append(request.url))
        page.goto(f"{server.base}/library")
        page.fill("#key", SERVER_KEY)
        page.press("#key", "Enter")
        page.wait_for_url(f"{server.base}/library")
        page.wait_for_function("() => document.querySelector('.grid img').naturalWidth > 0")
        current = page.evaluate("document.querySelector('.grid img').currentSrc")
        assert current == asset["renditions"]["tiny_webp"]["url"]
        assert errors == []
    fetched = [url for url in requests if f"/a/{asset['asset_id']}" in url]
    assert asset["gif_url"] not in fetched and asset["renditions"]["mp4"]["url"] not in fetched

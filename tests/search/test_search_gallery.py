"""The public gallery: in process on both databases, and in Chromium against a server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from browser import accessibility_violations, browser_page, screenshot
from gif_factory import make_gif
from servers import SERVER_KEY, RunningServer, running_server
from starlette.testclient import TestClient

from gifdist.wiring import Service


def upload(service: Service, tmp_path: Path, seed: int, title: str, tags: str = "") -> str:
    path = tmp_path / f"{seed}.gif"
    path.write_bytes(make_gif(width=40, height=30, seed=seed))
    return service.uploads.ingest_file(
        path, service.uploads.clean_metadata(title, tags, ""), None
    ).asset.asset_id


def test_gallery_searches_and_shows_only_public_gifs(
    service: Service, client: TestClient, tmp_path: Path
) -> None:
    client.headers.pop("Authorization", None)
    shown = upload(service, tmp_path, 1, "Dancing otter", "otter, party")
    hidden = upload(service, tmp_path, 2, "Secret otter", "otter")
    service.catalog.set_private(hidden, True, None)
    html = client.get("/gifs", params={"q": "otters"}).text
    assert f'href="/a/{shown}"' in html and hidden not in html
    assert 'href="/gifs?tag=party"' in html  # related tags link to tag pages
    tag_page = client.get("/gifs", params={"tag": "party"}).text
    assert f'href="/a/{shown}"' in tag_page
    trending = client.get("/gifs").text
    assert "Trending GIFs" in trending and shown in trending and hidden not in trending
    home = client.get("/").text
    assert 'action="/gifs"' in home


def test_gallery_pages_by_json_and_refuses_bad_queries(
    service: Service, client: TestClient, tmp_path: Path
) -> None:
    ids = [upload(service, tmp_path, 10 + i, f"wave {i}") for i in range(30)]
    first = client.get("/gifs", params={"q": "wave"}).text
    assert len(re.findall(r'<li class="card">', first)) == 24
    assert 'data-next="24"' in first
    more = client.get("/gifs/more", params={"q": "wave", "offset": 24}).json()
    assert more["next"] is None and len(more["items"]) == 6
    shown = re.findall(r'href="/a/([0-9a-f]+)"', first) + [i["id"] for i in more["items"]]
    assert sorted(shown) == sorted(ids)
    assert more["items"][0]["img"].endswith(".gif")
    too_long = client.get("/gifs", params={"q": "x" * 600})
    assert too_long.status_code == 200  # the page trims the query to 500 characters
    hostile = client.get("/gifs", params={"q": '"NEAR(* -OR'})
    assert hostile.status_code == 200


def test_gallery_can_be_switched_off(service: Service, client: TestClient) -> None:
    service.settings.gallery = False
    assert client.get("/gifs").status_code == 404
    assert client.get("/gifs/more").status_code == 404
    assert 'action="/gifs"' not in client.get("/").text


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    with running_server(tmp_path) as running:
        for i in range(30):
            response = httpx.post(
                f"{running.base}/api/v1/assets",
                headers={"Authorization": f"Bearer {SERVER_KEY}"},
                files={
                    "file": ("f.gif", make_gif(width=48, height=36, seed=1900 + i), "image/gif")
                },
                data={"title": f"Party parrot {i}", "tags": "parrot,party"},
            )
            assert response.status_code == 201, response.text
        yield running


@pytest.mark.server
def test_gallery_scrolls_forever_and_opens_a_gif(server: RunningServer) -> None:
    with browser_page() as (page, errors):
        page.goto(f"{server.base}/")
        page.fill("#home-q", "parrots")
        page.press("#home-q", "Enter")
        page.wait_for_url(re.compile(r".*/gifs\?q=parrots"))
        assert page.locator("#gallery-items li").count() == 24
        page.locator("#gallery-more").scroll_into_view_if_needed()
        page.wait_for_function("() => document.querySelectorAll('#gallery-items li').length === 30")
        assert page.locator("#gallery-more").count() == 0
        screenshot(page, "gallery")
        assert accessibility_violations(page) == []
        page.locator("#gallery-items li a").first.click()
        page.wait_for_url(re.compile(r".*/a/[0-9a-f]+$"))
        assert errors == []

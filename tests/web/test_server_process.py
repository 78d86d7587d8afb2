"""A real server process (granian and uvicorn) answering real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gif_factory import make_gif
from servers import SERVER_KEY, RunningServer, running_server

pytestmark = pytest.mark.server

BOT = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"


@pytest.fixture(params=["granian", "uvicorn"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningServer]:
    with running_server(tmp_path, request.param) as running:
        yield running


def test_upload_share_unfurl_redirect_and_download(server: RunningServer) -> None:
    base = server.base
    data = make_gif(width=48, height=32, frames=5, seed=42)
    auth = {"Authorization": f"Bearer {SERVER_KEY}"}
    with httpx.Client(base_url=base, timeout=10) as http:
        created = http.post(
            "/api/v1/assets",
            headers=auth,
            data={"title": "Served cat"},
            files={"file": ("cat.gif", data, "image/gif")},
        )
        assert created.status_code == 201, created.text
        asset = created.json()
        assert asset["canonical_url"] == f"{base}/a/{asset['asset_id']}"
        link = http.post(
            f"/api/v1/assets/{asset['asset_id']}/links", headers=auth, json={"via": "slack"}
        )
        assert link.status_code == 201
        code = link.json()["short_code"]

        card = http.get(f"/s/{code}", headers={"User-Agent": BOT})
        assert card.status_code == 200
        assert f'content="{asset["gif_url"]}"' in card.text

        redirect = http.get(f"/s/{code}", headers={"User-Agent": "Mozilla/5.0 Firefox/128.0"})
        assert redirect.status_code == 302
        assert redirect.headers["location"] == asset["canonical_url"]

        gif = http.get(f"/a/{asset['asset_id']}.gif")
        assert gif.status_code == 200 and gif.content == data
        assert gif.headers["etag"] == f'"{asset["sha256"]}"'
        assert gif.headers["content-type"] == "image/gif"
        assert gif.headers["content-length"] == str(len(data))
        assert gif.headers["cache-control"] == "public, max-age=31536000, s-maxage=60, immutable"
        assert gif.headers["x-content-type-options"] == "nosniff"
        assert gif.headers["accept-ranges"] == "bytes" and "last-modified" in gif.headers
        head = http.head(f"/a/{asset['asset_id']}.gif")
        assert head.status_code == 200 and head.content == b""
        same = ("content-type", "content-length", "etag", "last-modified", "cache-control")
        assert {h: head.headers[h] for h in same} == {h: gif.headers[h] for h in same}
        part = http.get(f"/a/{asset['asset_id']}.gif", headers={"Range": "bytes=5-9"})
        assert part.status_code == 206 and part.content == data[5:10]
        assert http.get("/s/NotThere").status_code == 404
    assert "Open http://127.0.0.1:" in server.log()

"""Analytics against a real server process: platform attribution and SIGTERM under load."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import httpx
import pytest
from gif_factory import make_gif
from servers import SERVER_KEY, running_server
from sqlalchemy import func, select

from gifdist.stores.database import create_database_engine
from gifdist.stores.schema import analytics_rollups

pytestmark = pytest.mark.server

AUTH = {"Authorization": f"Bearer {SERVER_KEY}"}
SLACKBOT = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"
DISCORDBOT = "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def share(http: httpx.Client, seed: int) -> tuple[str, str]:
    data = make_gif(width=40, height=30, frames=4, seed=seed)
    asset = http.post("/api/v1/assets", files={"file": ("a.gif", data, "image/gif")}, headers=AUTH)
    assert asset.status_code == 201, asset.text
    asset_id = asset.json()["asset_id"]
    link = http.post(f"/api/v1/assets/{asset_id}/links", json={}, headers=AUTH)
    return asset_id, link.json()["short_code"]


def test_shared_through_slack_discord_and_a_browser(tmp_path: Path) -> None:
    with running_server(tmp_path) as server, httpx.Client(base_url=server.base, timeout=10) as http:
        asset_id, code = share(http, seed=5)
        for agent in (SLACKBOT, SLACKBOT, DISCORDBOT):  # two Slack unfurls, one Discord
            assert http.get(f"/s/{code}", headers={"User-Agent": agent}).status_code == 200
        slack_click = http.get(
            f"/s/{code}", headers={"User-Agent": BROWSER, "Referer": "https://app.slack.com/"}
        )
        assert slack_click.status_code == 302
        discord_click = http.get(f"/s/{code}?via=discord", headers={"User-Agent": BROWSER})
        assert discord_click.status_code == 302
        page = http.get(f"/a/{asset_id}", headers={"User-Agent": BROWSER})
        assert page.status_code == 200
        gif = http.get(f"/a/{asset_id}.gif", headers={"User-Agent": BROWSER})
        assert gif.status_code == 200
        beacon = http.post(
            "/api/v1/events",
            content=f'{{"asset_id":"{asset_id}","event_type":"play"}}',
            headers={"User-Agent": BROWSER, "Content-Type": "text/plain;charset=UTF-8"},
        )
        assert beacon.json() == {"result": "duplicate"}  # the GIF fetch already counted

        deadline = time.monotonic() + 10  # written behind, within about a second
        while True:
            body = http.get(f"/api/v1/assets/{asset_id}/stats", headers=AUTH).json()
            if body["views"] + body["clicks"] + body["plays"] >= 7 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert (body["views"], body["clicks"], body["plays"]) == (4, 2, 1)
        assert body["ctr"] == 50.0 and body["play_rate"] == 25.0
        assert body["platforms"]["slack"] == {
            "views": 2,
            "plays": 0,
            "clicks": 1,
            "ctr": 50.0,
            "play_rate": 0.0,
        }
        assert body["platforms"]["discord"]["views"] == 1
        assert body["platforms"]["discord"]["clicks"] == 1
        assert body["platforms"]["web"]["views"] == 1 and body["platforms"]["web"]["plays"] == 1
        link = http.get(f"/api/v1/links/{code}/stats", headers=AUTH).json()
        assert (link["views"], link["clicks"]) == (3, 2)


def test_sigterm_during_load_loses_no_acknowledged_event(tmp_path: Path) -> None:
    # A long flush interval keeps events in memory until the shutdown flush.
    with running_server(tmp_path, GIFDIST_ANALYTICS_FLUSH_SECONDS="60") as server:
        with httpx.Client(base_url=server.base, timeout=10) as http:
            _asset_id, code = share(http, seed=9)
        acknowledged = 0
        lock = threading.Lock()
        stop = threading.Event()

        def load(n: int) -> None:
            nonlocal acknowledged
            with httpx.Client(base_url=server.base, timeout=5) as client:
                i = 0
                while not stop.is_set():
                    i += 1
                    try:
                        response = client.get(
                            f"/s/{code}", headers={"User-Agent": f"{BROWSER} load/{n}/{i}"}
                        )
                    except httpx.HTTPError:
                        return  # the server is going away
                    if response.status_code == 302:
                        with lock:
                            acknowledged += 1

        threads = [threading.Thread(target=load, args=(n,)) for n in range(6)]
        for thread in threads:
            thread.start()
        time.sleep(1.5)
        server.process.send_signal(signal.SIGTERM)
        exit_code = server.process.wait(timeout=30)
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
        assert acknowledged > 100
        assert exit_code in (0, -signal.SIGTERM), server.log()

        database = tmp_path / next(p.name for p in tmp_path.iterdir() if p.name.startswith("data-"))
        engine = create_database_engine(f"sqlite:///{database / 'gifdist.db'}")
        try:
            with engine.connect() as conn:
                stored = conn.execute(select(func.sum(analytics_rollups.c.count))).scalar_one()
        finally:
            engine.dispose()
        assert stored >= acknowledged, server.log()[-3000:]

"""Analytics captured by the web layer, beacons and the stats API (in-process app)."""

from __future__ import annotations

import time

import pytest
from gif_factory import make_gif
from starlette.testclient import TestClient

from gifdist.accounts.keys import Scope
from gifdist.wiring import Service

SLACKBOT = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"
DISCORDBOT = "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)"
TWITTERBOT = "Twitterbot/1.0"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"


def shared_asset(client: TestClient, seed: int = 1) -> tuple[str, str]:
    data = make_gif(width=32, height=24, frames=3, seed=seed)
    asset = client.post("/api/v1/assets", files={"file": ("a.gif", data, "image/gif")}).json()
    link = client.post(f"/api/v1/assets/{asset['asset_id']}/links", json={"title": "t"}).json()
    return asset["asset_id"], link["short_code"]


def get(client: TestClient, path: str, agent: str, **headers: str):  # type: ignore[no-untyped-def]
    return client.get(path, headers={"User-Agent": agent, **headers}, follow_redirects=False)


def stats(client: TestClient, path: str, **params: str) -> dict:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_unfurls_clicks_and_plays_are_attributed_to_platforms(
    client: TestClient, service: Service
) -> None:
    asset_id, code = shared_asset(client)
    assert get(client, f"/s/{code}", SLACKBOT).status_code == 200  # card for Slack
    assert get(client, f"/s/{code}", DISCORDBOT).status_code == 200
    assert get(client, f"/s/{code}", TWITTERBOT).status_code == 200
    assert get(client, f"/s/{code}", GOOGLEBOT).status_code == 302  # crawler: not counted
    assert get(client, f"/s/{code}?via=discord", FIREFOX).status_code == 302
    assert (
        get(client, f"/s/{code}", CHROME, Referer="https://app.slack.com/client/T1").status_code
        == 302
    )
    assert get(client, f"/s/{code}", FIREFOX, Referer="https://t.co/abc").status_code == 302
    assert get(client, f"/s/{code}", FIREFOX).status_code == 302  # no hint: web
    assert get(client, f"/a/{asset_id}", FIREFOX).status_code == 200  # page view: web
    assert get(client, f"/a/{asset_id}.gif", FIREFOX).status_code == 200  # play
    assert get(client, f"/a/{asset_id}.gif", FIREFOX).status_code == 200  # same visitor: once
    assert get(client, f"/a/{asset_id}.gif", CHROME, Range="bytes=10-20").status_code == 206
    assert get(client, f"/a/{asset_id}.gif", GOOGLEBOT).status_code == 200
    service.events.flush()

    body = stats(client, f"/api/v1/assets/{asset_id}/stats")
    assert (body["views"], body["clicks"], body["plays"]) == (4, 4, 1)
    assert body["ctr"] == 100.0 and body["play_rate"] == 25.0
    platforms = body["platforms"]
    assert platforms["slack"]["views"] == 1 and platforms["slack"]["clicks"] == 1
    assert platforms["discord"] == {
        "views": 1,
        "plays": 0,
        "clicks": 1,
        "ctr": 100.0,
        "play_rate": 0.0,
    }
    assert platforms["twitter"]["views"] == 1 and platforms["twitter"]["clicks"] == 1
    assert platforms["web"] == {
        "views": 1,
        "plays": 1,
        "clicks": 1,
        "ctr": 100.0,
        "play_rate": 100.0,
    }
    assert sum(row["views"] for row in body["series"]) == 4
    # crawlers are counted apart from people and bots; people are unique visitors
    assert body["audiences"]["crawler"] == 1 and body["audiences"]["bot"] == 3
    assert body["unique_visitors"] == 1  # Firefox and Chrome from one address: one visitor

    link = stats(client, f"/api/v1/links/{code}/stats")
    assert link["asset_id"] == asset_id and link["short_code"] == code
    assert client.get(f"/api/v1/links/{code}").json()["clicks"] == 4  # the seed's counter
    overall = stats(client, "/api/v1/stats", interval="day")
    assert (overall["views"], overall["clicks"], overall["plays"]) == (4, 4, 1)
    assert (link["views"], link["clicks"], link["plays"]) == (3, 4, 0)
    # the crawler's visits are kept in the rollups, never counted
    audiences = service.analytics_store.audiences(asset_id=asset_id)
    assert set(audiences) == {"bot", "person", "crawler"}


def test_link_made_for_a_platform_attributes_clicks_there(
    client: TestClient, service: Service
) -> None:
    asset_id, _ = shared_asset(client)
    link = client.post(f"/api/v1/assets/{asset_id}/links", json={"via": "teams"}).json()
    assert get(client, f"/s/{link['short_code']}", FIREFOX).status_code == 302
    service.events.flush()
    body = stats(client, f"/api/v1/links/{link['short_code']}/stats")
    assert body["platforms"]["teams"]["clicks"] == 1


def test_beacons_count_once_per_visitor_and_keep_orphans(
    client: TestClient, service: Service
) -> None:
    asset_id, code = shared_asset(client)
    headers = {"User-Agent": FIREFOX}
    first = client.post(
        "/api/v1/events", json={"asset_id": asset_id, "event_type": "play"}, headers=headers
    )
    assert first.status_code == 202 and first.json() == {"result": "counted"}
    for _ in range(20):  # a reload storm
        again = client.post(
            "/api/v1/events",
            content=f'{{"asset_id": "{asset_id}", "event_type": "play"}}',
            headers={**headers, "Content-Type": "text/plain;charset=UTF-8"},
        )
        assert again.json() == {"result": "duplicate"}
    # the GIF fetch by the same visitor is the same play
    assert get(client, f"/a/{asset_id}.gif", FIREFOX).status_code == 200
    by_link = client.post(
        "/api/v1/events",
        json={"short_code": code, "event_type": "view", "platform": "slack"},
        headers={"User-Agent": CHROME},
    )
    assert by_link.json() == {"result": "counted"}
    orphan = client.post(
        "/api/v1/events",
        json={"asset_id": "ffffffffffffffff", "event_type": "play"},
        headers=headers,
    )
    assert orphan.status_code == 202 and orphan.json() == {"result": "orphan"}
    bot = client.post(
        "/api/v1/events",
        json={"asset_id": asset_id, "event_type": "play"},
        headers={"User-Agent": GOOGLEBOT},
    )
    assert bot.json() == {"result": "not_counted"}
    service.events.flush()
    body = stats(client, f"/api/v1/assets/{asset_id}/stats")
    assert (body["plays"], body["views"]) == (1, 1)
    assert body["platforms"]["slack"]["views"] == 1
    assert stats(client, f"/api/v1/links/{code}/stats")["views"] == 1
    orphans = service.analytics_store.audiences(asset_id="ffffffffffffffff")
    assert orphans == {"orphan": 1}


@pytest.mark.parametrize(
    ("content", "content_type", "status", "code"),
    [
        (b"{nope", "application/json", 422, "bad_json"),
        (b'{"asset_id": "abc", "event_type": "click"}', "application/json", 422, "bad_event_type"),
        (
            b'{"asset_id": "abc", "event_type": "play"}',
            "application/x-www-form-urlencoded",
            415,
            "bad_content_type",
        ),
        (
            b'{"asset_id": "abc", "event_type": "play", "pad": "' + b"x" * 5000 + b'"}',
            "application/json",
            413,
            "payload_too_large",
        ),
        (b"", "application/json", 422, "bad_json"),
    ],
)
def test_bad_beacons_get_precise_errors(
    client: TestClient, service: Service, content: bytes, content_type: str, status: int, code: str
) -> None:
    response = client.post(
        "/api/v1/events", content=content, headers={"Content-Type": content_type}
    )
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    service.events.flush()
    assert service.tracker.get_top_assets() == []


def test_stats_api_windows_csv_and_errors(client: TestClient, service: Service) -> None:
    asset_id, code = shared_asset(client)
    get(client, f"/s/{code}", SLACKBOT)
    service.events.flush()
    day = stats(client, f"/api/v1/assets/{asset_id}/stats", interval="day")
    assert day["interval"] == "day" and len(day["series"]) == 31
    assert day["series"][-1]["views"] == 1
    past = stats(
        client, f"/api/v1/assets/{asset_id}/stats", **{"from": "2020-01-01", "to": "2020-01-02"}
    )
    assert past["views"] == 0 and len(past["series"]) == 25
    csv = client.get(f"/api/v1/assets/{asset_id}/stats", params={"format": "csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[-1] == "total,1,0,0,0.0,0.0"

    for params, code_expected in [
        ({"interval": "minute"}, "bad_interval"),
        ({"from": "tomorrow"}, "bad_time"),
        ({"from": "2026-02-01", "to": "2026-01-01"}, "bad_time"),
        ({"format": "xml"}, "bad_format"),
    ]:
        response = client.get(f"/api/v1/assets/{asset_id}/stats", params=params)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == code_expected
    assert client.get("/api/v1/assets/0123456789abcdef/stats").status_code == 404
    assert client.get("/api/v1/links/Zz00Zz00/stats").status_code == 404
    assert (
        client.get(f"/api/v1/assets/{asset_id}/stats", headers={"Authorization": ""}).status_code
        == 401
    )
    reader, _ = service.keys.create("reader", [Scope.READ])
    forbidden = client.get(
        f"/api/v1/assets/{asset_id}/stats", headers={"Authorization": f"Bearer {reader}"}
    )
    assert forbidden.status_code == 403


def test_top_assets_api(client: TestClient, service: Service) -> None:
    first, first_code = shared_asset(client, seed=1)
    second, second_code = shared_asset(client, seed=2)
    for _ in range(3):
        get(client, f"/s/{first_code}", SLACKBOT)
    get(client, f"/s/{second_code}", DISCORDBOT)
    get(client, f"/s/{second_code}", FIREFOX)
    service.events.flush()
    top = stats(client, "/api/v1/stats/top", metric="views")
    assert [a["asset_id"] for a in top["assets"]] == [first, second]
    by_ctr = stats(client, "/api/v1/stats/top", metric="ctr", limit="1", interval="day")
    assert [a["asset_id"] for a in by_ctr["assets"]] == [second]
    assert by_ctr["assets"][0]["ctr"] == 100.0 and len(by_ctr["assets"][0]["series"]) == 31
    assert (
        stats(client, "/api/v1/stats/top", metric="views", min_views="2")["assets"][0]["asset_id"]
        == first
    )
    bad = client.get("/api/v1/stats/top", params={"metric": "shares"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_metric"
    assert client.get("/api/v1/stats/top", params={"limit": "0"}).status_code == 422
    csv = client.get("/api/v1/stats/top", params={"format": "csv"}).text.splitlines()
    assert csv[0] == "asset_id,views,plays,clicks,ctr,play_rate" and csv[1].startswith(first)


def test_events_are_written_behind_not_on_the_request(client: TestClient, service: Service) -> None:
    asset_id, code = shared_asset(client)
    written_before = service.events.written
    get(client, f"/s/{code}", SLACKBOT)
    assert service.events.depth >= 1 or service.events.written > written_before
    deadline = time.monotonic() + 5  # the background flusher writes within a second
    while service.tracker.get_asset_metrics(asset_id)["views"] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert service.tracker.get_asset_metrics(asset_id)["views"] == 1


def test_uploaders_see_only_their_own_gifs_stats(client: TestClient, service: Service) -> None:
    alice, _ = service.keys.create("alice")  # upload, links, read, stats
    as_alice = {"Authorization": f"Bearer {alice}"}
    mine = client.post(
        "/api/v1/assets",
        files={"file": ("a.gif", make_gif(seed=21), "image/gif")},
        headers=as_alice,
    ).json()["asset_id"]
    theirs, their_code = shared_asset(client, seed=22)  # uploaded with the admin key
    my_code = client.post(f"/api/v1/assets/{mine}/links", json={}, headers=as_alice).json()[
        "short_code"
    ]
    get(client, f"/s/{my_code}", SLACKBOT)
    get(client, f"/s/{their_code}", SLACKBOT)
    get(client, f"/s/{their_code}", DISCORDBOT)
    service.events.flush()

    top = client.get("/api/v1/stats/top", headers=as_alice).json()["assets"]
    assert [row["asset_id"] for row in top] == [mine]
    assert client.get("/api/v1/stats", headers=as_alice).json()["views"] == 1
    assert client.get("/api/v1/stats").json()["views"] == 3  # the admin sees everything
    assert client.get(f"/api/v1/assets/{mine}/stats", headers=as_alice).status_code == 200
    for path in (f"/api/v1/assets/{theirs}/stats", f"/api/v1/links/{their_code}/stats"):
        refused = client.get(path, headers=as_alice)
        assert refused.status_code == 403, path

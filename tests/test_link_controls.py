"""Link controls: custom slugs, expiry, and click limits that bots cannot spoil."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from gif_factory import make_gif
from starlette.testclient import TestClient

SLACKBOT = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.fixture
def asset_id(client: TestClient) -> str:
    response = client.post("/api/v1/assets", files={"file": ("a.gif", make_gif(seed=91))})
    assert response.status_code == 201
    return str(response.json()["asset_id"])


def make(client: TestClient, asset_id: str, **body: Any) -> Any:
    return client.post(f"/api/v1/assets/{asset_id}/links", json=body)


def follow(client: TestClient, code: str, agent: str = FIREFOX) -> Any:
    return client.get(f"/s/{code}", headers={"User-Agent": agent}, follow_redirects=False)


def test_a_custom_slug_is_the_link(client: TestClient, asset_id: str) -> None:
    made = make(client, asset_id, slug="funny-cat_2026")
    assert made.status_code == 201, made.text
    assert made.json()["short_url"].endswith("/s/funny-cat_2026")
    assert follow(client, "funny-cat_2026").status_code == 302
    assert follow(client, "FUNNY-CAT_2026").status_code == 302  # any case finds it


@pytest.mark.parametrize(
    ("slug", "status", "code"),
    [
        ("FUNNY-cat", 409, "slug_taken"),
        ("ab", 400, "bad_slug"),
        ("has space", 400, "bad_slug"),
        ("x" * 65, 400, "bad_slug"),
        ("Admin", 400, "reserved_slug"),
        ("api", 400, "reserved_slug"),
    ],
)
def test_bad_or_taken_slugs_are_refused(
    client: TestClient, asset_id: str, slug: str, status: int, code: str
) -> None:
    assert make(client, asset_id, slug="funny-cat").status_code == 201
    refused = make(client, asset_id, slug=slug)
    assert refused.status_code == status, refused.text
    assert refused.json()["error"]["code"] == code


def test_an_expired_link_answers_410_with_a_page_saying_so(
    client: TestClient, asset_id: str
) -> None:
    made = make(client, asset_id, expires_in=1).json()
    assert made["expires_at"]
    assert follow(client, made["short_code"]).status_code == 302
    time.sleep(1.2)
    gone = follow(client, made["short_code"])
    assert gone.status_code == 410 and "expired" in gone.text
    assert follow(client, made["short_code"], SLACKBOT).status_code == 410


@pytest.mark.parametrize(
    "body",
    [
        {"expires_at": "2001-01-01T00:00:00Z"},
        {"expires_at": "next tuesday"},
        {"expires_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(), "expires_in": 60},
        {"expires_in": 0},
        {"expires_in": True},
        {"max_clicks": 0},
        {"max_clicks": -3},
        {"max_clicks": True},
        {"max_clicks": "5"},
    ],
)
def test_bad_controls_get_a_precise_4xx(client: TestClient, asset_id: str, body: Any) -> None:
    refused = make(client, asset_id, **body)
    assert refused.status_code in (400, 422), refused.text
    assert refused.json()["error"]["code"]


def test_a_click_limit_counts_people_only_and_lets_the_last_click_through(
    client: TestClient, asset_id: str
) -> None:
    code = make(client, asset_id, max_clicks=2).json()["short_code"]
    for _ in range(3):  # unfurls never spend the limit
        assert follow(client, code, SLACKBOT).status_code == 200
    assert follow(client, code).status_code == 302
    assert follow(client, code).status_code == 302  # the click that reaches the limit
    spent = follow(client, code)
    assert spent.status_code == 410 and "click limit" in spent.text
    later = make(client, asset_id, expires_at=(datetime.now(UTC) + timedelta(hours=1)).isoformat())
    assert later.status_code == 201 and later.json()["expires_at"].startswith(
        str(datetime.now(UTC).year)
    )

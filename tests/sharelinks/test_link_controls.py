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


def test_a_password_link_asks_people_and_shows_bots_nothing(
    client: TestClient, asset_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    made = make(client, asset_id, password="s3cret pass", title="Hidden title")
    assert made.status_code == 201 and made.json()["password_protected"] is True
    assert "s3cret" not in made.text and "argon2" not in made.text
    code = made.json()["short_code"]
    form = follow(client, code)
    assert form.status_code == 200 and 'type="password"' in form.text
    assert form.headers["cache-control"] == "no-store"
    card = follow(client, code, SLACKBOT)
    assert card.status_code == 200
    assert asset_id not in card.text and "og:image" not in card.text and "Hidden" not in card.text
    wrong = client.post(f"/s/{code}", data={"password": "guess"}, follow_redirects=False)
    assert wrong.status_code == 403 and "not right" in wrong.text
    right = client.post(f"/s/{code}", data={"password": "s3cret pass"}, follow_redirects=False)
    assert right.status_code == 303 and right.headers["location"].endswith(f"/a/{asset_id}")
    assert "s3cret" not in caplog.text
    described = client.get(f"/api/v1/links/{code}").json()
    assert "password_hash" not in described and described["password_protected"] is True


def test_password_attempts_are_limited(client: TestClient, asset_id: str) -> None:
    code = make(client, asset_id, password="right").json()["short_code"]
    answers = [client.post(f"/s/{code}", data={"password": "wrong"}).status_code for _ in range(11)]
    assert answers[:10] == [403] * 10 and answers[10] == 429
    still = client.post(f"/s/{code}", data={"password": "right"}, follow_redirects=False)
    assert still.status_code == 429  # even the right one waits out the window


@pytest.mark.parametrize("password", ["", "   ", "x" * 10_000, 12345])
def test_bad_passwords_are_refused(client: TestClient, asset_id: str, password: Any) -> None:
    refused = make(client, asset_id, password=password)
    assert refused.status_code in (400, 422) and refused.json()["error"]["code"]


def test_qr_codes_of_a_link_in_svg_and_png(client: TestClient, asset_id: str) -> None:
    import io

    from PIL import Image

    code = make(client, asset_id).json()["short_code"]
    svg = client.get(f"/s/{code}.svg")
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    assert b"<svg" in svg.content and f"/s/{code}".encode() in svg.content
    png = client.get(f"/s/{code}.png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(png.content))
    assert image.width == image.height >= 21 * 8
    assert client.get("/s/Nope1234.svg").status_code == 404

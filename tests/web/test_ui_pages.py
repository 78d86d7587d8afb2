"""The signed-in pages, in process: access rules, bad input, escaping, the forms."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from conftest import ADMIN_KEY
from gif_factory import make_gif

from gifdist.accounts.keys import Scope
from gifdist.analytics import AnalyticsEvent, EventType, Platform
from gifdist.web.pages.dashboard import line_chart

if TYPE_CHECKING:
    from starlette.testclient import TestClient

    from gifdist.wiring import Service

HOSTILE = "<img src=x onerror=alert(1)>\"'&"


def sign_in(client: TestClient, key: str = ADMIN_KEY) -> str:
    """Sign the client in; returns the session's CSRF token."""
    response = client.post("/signin", data={"key": key, "next": "/upload"}, follow_redirects=False)
    assert response.status_code == 303
    page = client.get("/upload")
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


def upload(client: TestClient, title: str, seed: int) -> dict[str, Any]:
    gif = make_gif(width=40, height=30, frames=2, seed=seed)
    response = client.post(
        "/api/v1/assets", files={"file": ("a.gif", gif, "image/gif")}, data={"title": title}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def record(service: Service, asset_id: str, views: int, clicks: int) -> None:
    now = datetime.now(UTC)
    events = [
        AnalyticsEvent(uuid.uuid4().hex, asset_id, kind, Platform.WEB, now)
        for kind, n in ((EventType.VIEW, views), (EventType.CLICK, clicks))
        for _ in range(n)
    ]
    service.analytics_store.record(events)


def alert_text(html: str) -> str:
    found = re.search(r'role="alert">([^<]*)<', html)
    assert found, html
    return found.group(1)


def flag(client: TestClient, asset_id: str) -> None:
    response = client.post(
        f"/api/v1/moderation/assets/{asset_id}/decision", json={"decision": "flag"}
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("path", ["/dashboard", "/moderation", "/dashboard?asset=abc&range=7d"])
def test_signed_out_people_are_sent_to_sign_in_and_back(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/signin?next=")
    follow = client.get(location)
    assert f'name="next" value="{path.replace("&", "&amp;")}"' in follow.text


@pytest.mark.parametrize(("path", "scope"), [("/dashboard", "stats"), ("/moderation", "moderate")])
def test_a_key_without_the_scope_gets_a_403_page(
    client: TestClient, service: Service, path: str, scope: str
) -> None:
    secret, _ = service.keys.create("uploader", [Scope.UPLOAD, Scope.READ])
    sign_in(client, secret)
    response = client.get(path)
    assert response.status_code == 403
    assert f"lacks the &#39;{scope}&#39; scope" in response.text
    assert 'href="/dashboard"' not in response.text and 'href="/moderation"' not in response.text


def test_nav_links_follow_the_key_scopes(client: TestClient, service: Service) -> None:
    secret, _ = service.keys.create("default")
    sign_in(client, secret)
    page = client.get("/upload").text
    assert 'href="/dashboard"' in page and 'href="/moderation"' not in page
    sign_in(client)
    assert 'href="/moderation"' in client.get("/upload").text


def test_the_decision_form_refuses_a_key_without_the_moderate_scope(
    client: TestClient, service: Service
) -> None:
    asset = upload(client, "cat", seed=1)
    flag(client, asset["asset_id"])
    secret, _ = service.keys.create("default")
    csrf = sign_in(client, secret)
    response = client.post(
        f"/moderation/{asset['asset_id']}/decision", data={"csrf": csrf, "decision": "approve"}
    )
    assert response.status_code == 403
    assert service.catalog.require(asset["asset_id"]).status.value == "flagged"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("interval=week", "interval must be hour or day"),
        ("from=garbage", "from must be an ISO 8601 time or epoch seconds"),
        ("range=custom&from=2026-02-01&to=2026-01-01", "from must not be after to"),
        ("range=year", "range must be 24h, 7d, 30d or custom"),
        ("metric=likes", "rank by one of views"),
        ("range=custom&from=2000-01-01&to=2026-01-01&interval=hour", "at most 2232 hour"),
    ],
)
def test_bad_dashboard_parameters_show_a_clear_message(
    client: TestClient, query: str, message: str
) -> None:
    sign_in(client)
    response = client.get(f"/dashboard?{query}")
    assert response.status_code == 400
    assert message in alert_text(response.text)
    assert '<form method="get" action="/dashboard"' in response.text


def test_an_unknown_asset_on_the_dashboard_is_a_404_with_a_message(client: TestClient) -> None:
    sign_in(client)
    response = client.get("/dashboard?asset=nope")
    assert response.status_code == 404
    assert "There is no GIF with id &#39;nope&#39;." in alert_text(response.text)


def test_the_dashboard_shows_totals_platforms_links_and_a_csv_link(
    client: TestClient, service: Service
) -> None:
    sign_in(client)
    asset = upload(client, "cat", seed=2)
    link = client.post(f"/api/v1/assets/{asset['asset_id']}/links", json={"via": "discord"})
    record(service, asset["asset_id"], views=4, clicks=1)
    page = client.get(f"/dashboard?asset={asset['asset_id']}&range=24h").text
    assert '<dd data-metric="views">4</dd>' in page
    assert '<dd data-metric="ctr">25.0%</dd>' in page
    assert 'data-platform="web"' in page
    assert link.json()["short_url"] in page
    csv_url = re.search(r'href="(/api/v1/assets/[^"]+format=csv)"', page)
    assert csv_url
    csv = client.get(csv_url.group(1).replace("&amp;", "&"))
    assert csv.status_code == 200 and csv.text.startswith("t,views,plays,clicks")
    overall = client.get("/dashboard?range=30d").text
    assert f"/dashboard?asset={asset['asset_id']}&amp;range=30d" in overall
    assert "/api/v1/stats/top?" in overall


def test_the_library_sorts_by_views_and_by_ctr(client: TestClient, service: Service) -> None:
    sign_in(client)
    seen = upload(client, "often seen", seed=3)
    clicked = upload(client, "often clicked", seed=4)
    upload(client, "never seen", seed=5)
    record(service, seen["asset_id"], views=10, clicks=1)
    record(service, clicked["asset_id"], views=2, clicks=2)

    def titles(sort: str) -> list[str]:
        page = client.get(f"/library?sort={sort}").text
        return re.findall(r'<p class="title">([^<]*)</p>', page)

    assert titles("views") == ["often seen", "often clicked", "never seen"]
    assert titles("ctr") == ["often clicked", "often seen", "never seen"]
    assert titles("new")[0] == "never seen"
    page = client.get("/library?sort=views").text
    assert "10 views" in page and "100.0% CTR" in page


def test_the_library_survives_a_bad_page_number_and_sort(client: TestClient) -> None:
    sign_in(client)
    response = client.get("/library?page=abc&sort=drop+table")
    assert response.status_code == 200
    assert '<option value="new" selected>' in response.text


def test_hostile_titles_are_escaped_on_every_page(client: TestClient, service: Service) -> None:
    sign_in(client)
    asset = upload(client, HOSTILE, seed=6)
    record(service, asset["asset_id"], views=1, clicks=0)
    flag(client, asset["asset_id"])
    pages = [
        "/library",
        f"/dashboard?asset={asset['asset_id']}",
        "/dashboard",
        "/moderation",
        f"/moderation?asset_id={HOSTILE}",
        f"/dashboard?asset={HOSTILE}",
    ]
    for path in pages:
        html = client.get(path).text
        assert "<img src=x" not in html, path
    assert "&lt;img src=x onerror=alert(1)&gt;" in client.get("/moderation").text


def test_a_moderator_approves_through_the_form(client: TestClient, service: Service) -> None:
    csrf = sign_in(client)
    asset = upload(client, "reported cat", seed=7)
    flag(client, asset["asset_id"])
    queue = client.get("/moderation?status=flagged").text
    assert f'id="review-{asset["asset_id"]}"' in queue
    assert asset["asset_id"] in queue and 'width="40" height="30"' in queue

    response = client.post(
        f"/moderation/{asset['asset_id']}/decision",
        data={"csrf": csrf, "decision": "approve", "notes": "fine", "status": "flagged"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    after = client.get(response.headers["location"]).text
    assert f"Approved: GIF {asset['asset_id']}." in after
    assert f'id="review-{asset["asset_id"]}"' not in after
    assert "Manual review: fine" in after
    assert "Hash chain verified" in after
    assert service.catalog.require(asset["asset_id"]).status.value == "approved"


def test_the_decision_form_needs_the_csrf_token(client: TestClient, service: Service) -> None:
    sign_in(client)
    asset = upload(client, "cat", seed=8)
    flag(client, asset["asset_id"])
    response = client.post(
        f"/moderation/{asset['asset_id']}/decision", data={"csrf": "wrong", "decision": "approve"}
    )
    assert response.status_code == 403
    assert service.catalog.require(asset["asset_id"]).status.value == "flagged"


def test_a_bad_decision_shows_a_message(client: TestClient) -> None:
    csrf = sign_in(client)
    asset = upload(client, "cat", seed=9)
    response = client.post(
        f"/moderation/{asset['asset_id']}/decision", data={"csrf": csrf, "decision": "delete"}
    )
    assert response.status_code == 400
    assert "decision must be approve, reject or flag" in alert_text(response.text)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=garbage", "from must be an ISO 8601 time"),
        ("decision=maybe", "decision must be approve, reject or flag"),
        ("status=gone", "status must be flagged or pending"),
    ],
)
def test_bad_moderation_filters_show_a_clear_message(
    client: TestClient, query: str, message: str
) -> None:
    sign_in(client)
    response = client.get(f"/moderation?{query}")
    assert response.status_code == 400
    assert message in alert_text(response.text)


def test_the_audit_export_link_keeps_the_filters(client: TestClient) -> None:
    sign_in(client)
    page = client.get("/moderation?asset_id=abc&decision=reject&from=2026-01-01").text
    assert (
        'href="/api/v1/moderation/audit?asset_id=abc&amp;decision=reject&amp;from=2026-01-01'
        '&amp;limit=0&amp;format=csv"' in page
    )


def test_the_asset_page_offers_a_copy_link_button(client: TestClient) -> None:
    asset = upload(client, "cat", seed=10)
    page = client.get(f"/a/{asset['asset_id']}").text
    assert f'data-copy="{asset["canonical_url"]}"' in page
    assert f'data-asset="{asset["asset_id"]}"' in page and "/static/beacon.js" in page


def test_the_line_chart_fits_every_point_inside_the_plot() -> None:
    series = [
        {"t": f"2026-01-01T{h:02d}:00:00+00:00", "views": h, "plays": 0, "clicks": h // 2}
        for h in range(24)
    ]
    chart = line_chart(series, ("views", "clicks"), "hour")
    points = [
        tuple(float(n) for n in pair.split(","))
        for line in chart["lines"]
        for pair in line["points"].split()
    ]
    assert len(points) == 48
    assert all(chart["left"] <= x <= chart["right"] for x, _ in points)
    assert all(0 <= y <= chart["base_y"] for _, y in points)
    assert chart["y_ticks"][-1]["label"] == "25"
    assert chart["x_ticks"][0]["label"] == "00:00"


def test_the_dashboard_of_an_uploader_shows_only_their_gifs(
    client: TestClient, service: Service
) -> None:
    theirs = upload(client, "Admin's secret GIF", seed=71)  # with the admin key
    alice, _ = service.keys.create("alice")
    mine = client.post(
        "/api/v1/assets",
        files={"file": ("m.gif", make_gif(width=40, height=30, seed=72), "image/gif")},
        data={"title": "Alice's GIF"},
        headers={"Authorization": f"Bearer {alice}"},
    ).json()
    record(service, theirs["asset_id"], views=7, clicks=1)
    record(service, mine["asset_id"], views=2, clicks=1)
    client.headers.pop("Authorization")
    sign_in(client, alice)
    page = client.get("/dashboard").text
    assert "Alice&#39;s GIF" in page or "Alice's GIF" in page
    assert "secret GIF" not in page
    refused = client.get(f"/dashboard?asset={theirs['asset_id']}")
    assert refused.status_code == 403

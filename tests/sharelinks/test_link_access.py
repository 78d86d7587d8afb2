"""Who may create and read short links, and what text a link may carry."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ADMIN_KEY, make_settings
from gif_factory import make_gif
from starlette.testclient import TestClient

from gifdist.accounts.keys import Scope
from gifdist.assets import AssetStatus
from gifdist.web.app import create_app
from gifdist.wiring import Service

SLACKBOT = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def upload(client: TestClient, seed: int, headers: dict[str, str] | None = None) -> str:
    response = client.post(
        "/api/v1/assets",
        files={"file": ("a.gif", make_gif(seed=seed), "image/gif")},
        data={"title": "Owner's secret title", "tags": "owner-only"},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    asset_id: str = response.json()["asset_id"]
    return asset_id


def test_a_links_key_cannot_link_someone_elses_private_gif(
    client: TestClient, service: Service
) -> None:
    asset_id = upload(client, seed=1)
    client.patch(f"/api/v1/assets/{asset_id}", json={"private": True})
    linker, _ = service.keys.create("linker", [Scope.LINKS])
    response = client.post(f"/api/v1/assets/{asset_id}/links", json={}, headers=bearer(linker))
    assert response.status_code == 404, response.text
    assert "secret" not in response.text and "owner-only" not in response.text
    assert service.links.store.list_for_asset(asset_id) == []


def test_a_links_key_cannot_retitle_someone_elses_public_gif(
    client: TestClient, service: Service
) -> None:
    asset_id = upload(client, seed=2)
    linker, _ = service.keys.create("linker", [Scope.LINKS])
    response = client.post(
        f"/api/v1/assets/{asset_id}/links",
        json={"title": "Buy cheap pills"},
        headers=bearer(linker),
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert service.links.store.list_for_asset(asset_id) == []


def test_the_uploader_and_an_admin_may_link(client: TestClient, service: Service) -> None:
    owner, _ = service.keys.create("owner")
    asset_id = upload(client, seed=3, headers=bearer(owner))
    mine = client.post(f"/api/v1/assets/{asset_id}/links", json={}, headers=bearer(owner))
    assert mine.status_code == 201
    admin = client.post(f"/api/v1/assets/{asset_id}/links", json={})
    assert admin.status_code == 201


@pytest.fixture
def moderated(tmp_path: Path, database_url: str) -> Iterator[tuple[TestClient, Service]]:
    """Moderation on, but no worker running: uploads stay pending until set here."""
    service = Service(make_settings(tmp_path, database_url, moderation="async"))
    client = TestClient(create_app(service=service), base_url="http://gifdist.test")
    client.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
    try:
        yield client, service
    finally:
        service.close()


def approve(service: Service, asset_id: str) -> None:
    service.assets.set_status(asset_id, AssetStatus.APPROVED, moderation={})
    service.catalog.changed(asset_id)


def test_someone_elses_pending_gif_cannot_be_linked(
    moderated: tuple[TestClient, Service],
) -> None:
    client, service = moderated
    asset_id = upload(client, seed=4)
    linker, _ = service.keys.create("linker", [Scope.LINKS])
    response = client.post(f"/api/v1/assets/{asset_id}/links", json={}, headers=bearer(linker))
    assert response.status_code == 404
    assert "secret" not in response.text


@pytest.mark.parametrize(
    "body",
    [
        {"title": "free money now"},
        {"title": "fine", "tags": ["gore"]},
        {"title": "p0rn"},
    ],
)
def test_a_link_title_or_tags_with_flagged_text_is_refused(
    moderated: tuple[TestClient, Service], body: dict[str, object]
) -> None:
    client, service = moderated
    asset_id = upload(client, seed=5)
    approve(service, asset_id)
    response = client.post(f"/api/v1/assets/{asset_id}/links", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "text_refused"
    assert service.links.store.list_for_asset(asset_id) == []


def test_a_clean_link_title_reaches_the_card(moderated: tuple[TestClient, Service]) -> None:
    client, service = moderated
    asset_id = upload(client, seed=6)
    approve(service, asset_id)
    made = client.post(f"/api/v1/assets/{asset_id}/links", json={"title": "Monday mood"})
    assert made.status_code == 201
    card = client.get(f"/s/{made.json()['short_code']}", headers={"User-Agent": SLACKBOT})
    assert 'content="Monday mood"' in card.text


def test_editing_a_link_to_flagged_text_is_refused(moderated: tuple[TestClient, Service]) -> None:
    client, service = moderated
    asset_id = upload(client, seed=7)
    approve(service, asset_id)
    code = client.post(f"/api/v1/assets/{asset_id}/links", json={}).json()["short_code"]
    response = client.patch(f"/api/v1/links/{code}", json={"title": "free money now"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "text_refused"
    assert client.get(f"/api/v1/links/{code}").json()["title"] != "free money now"

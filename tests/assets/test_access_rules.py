"""The rules written once in the domain behave the same through the API, the pages, the
hot paths and the CLI: the platform aliases and who sees everything."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gif_factory import make_gif
from starlette.testclient import TestClient
from typer.testing import CliRunner

from gifdist.accounts.keys import Scope
from gifdist.analytics import EventType, Platform
from gifdist.cli import app as cli
from gifdist.wiring import Service

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def upload(client: TestClient, headers: dict[str, str], title: str, seed: int) -> dict[str, Any]:
    response = client.post(
        "/api/v1/assets",
        files={"file": ("a.gif", make_gif(seed=seed), "image/gif")},
        data={"title": title},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("alias", ["fb", "FB", "facebook", " Facebook "])
def test_the_facebook_alias_works_when_making_a_link_and_on_a_click(
    client: TestClient, service: Service, alias: str
) -> None:
    asset = upload(client, {}, "cat", seed=61)
    made = client.post(f"/api/v1/assets/{asset['asset_id']}/links", json={"via": alias})
    assert made.status_code == 201, made.text
    assert made.json()["via"] == "facebook"
    code = client.post(f"/api/v1/assets/{asset['asset_id']}/links", json={}).json()["short_code"]
    followed = client.get(
        f"/s/{code}?via={alias.strip()}", headers={"User-Agent": FIREFOX}, follow_redirects=False
    )
    assert followed.status_code == 302
    service.events.flush()
    platforms = service.tracker.get_platform_metrics(asset["asset_id"])
    assert platforms[Platform.FACEBOOK.value]["clicks"] == 1


def test_an_unknown_platform_is_refused_with_the_list(client: TestClient) -> None:
    asset = upload(client, {}, "cat", seed=62)
    made = client.post(f"/api/v1/assets/{asset['asset_id']}/links", json={"via": "myspace"})
    assert made.status_code == 400
    assert made.json()["error"]["code"] == "invalid_via" and "facebook" in made.text


def test_any_admin_scoped_key_sees_every_gif_in_api_pages_and_stats(
    client: TestClient, service: Service
) -> None:
    alice, _ = service.keys.create("alice")
    admin, _ = service.keys.create("second admin", [Scope.ADMIN])
    as_alice = {"Authorization": f"Bearer {alice}"}
    as_admin = {"Authorization": f"Bearer {admin}"}
    theirs = upload(client, as_alice, "Alice's own cat", seed=63)
    service.capture.record_event(theirs["asset_id"], EventType.VIEW, Platform.WEB)
    service.events.flush()
    # the API and stats
    assert client.get(f"/api/v1/assets/{theirs['asset_id']}", headers=as_admin).status_code == 200
    stats = client.get(f"/api/v1/assets/{theirs['asset_id']}/stats", headers=as_admin)
    assert stats.status_code == 200 and stats.json()["views"] == 1
    # the library page of a signed-in admin key (not the configured admin key)
    client.headers.pop("Authorization", None)
    signed = client.post("/signin", data={"key": admin, "next": "/library"})
    assert signed.status_code == 200
    assert "Alice&#39;s own cat" in client.get("/library").text


def test_the_cli_sees_every_gif_as_the_local_operator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, service: Service, client: TestClient
) -> None:
    alice, _ = service.keys.create("alice")
    asset = upload(client, {"Authorization": f"Bearer {alice}"}, "alice", seed=64)
    monkeypatch.setenv("GIFDIST_DATA_DIR", str(service.settings.data_dir))
    monkeypatch.setenv("GIFDIST_DATABASE_URL", service.settings.resolved_database_url)
    monkeypatch.setenv("GIFDIST_BASE_URL", service.settings.base_url)
    result = CliRunner().invoke(cli, ["stats", asset["asset_id"], "--json"])
    assert result.exit_code == 0, result.output

"""Behind a trusted proxy, every per-client rule sees the client, not the proxy.

Reports, visitor ids (plays, unique visitors, page views) and the unique counts all
go through the one client-address function; one client rotating its User-Agent is
still one client.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ADMIN_KEY, make_settings
from gif_factory import make_gif
from starlette.testclient import TestClient

from gifdist.web.app import create_app
from gifdist.wiring import Service

PROXY = ("10.0.0.2", 40000)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.fixture
def proxied(tmp_path: Path, database_url: str) -> Iterator[tuple[TestClient, Service]]:
    settings = make_settings(
        tmp_path, database_url, trusted_proxies=["10.0.0.0/8"], report_threshold=2
    )
    service = Service(settings)
    with TestClient(
        create_app(service=service), base_url="http://gifdist.test", client=PROXY
    ) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
        try:
            yield client, service
        finally:
            service.close()


def shared(client: TestClient, seed: int) -> tuple[str, str]:
    files = {"file": ("a.gif", make_gif(seed=seed), "image/gif")}
    asset_id: str = client.post("/api/v1/assets", files=files).json()["asset_id"]
    code: str = client.post(f"/api/v1/assets/{asset_id}/links", json={}).json()["short_code"]
    return asset_id, code


def from_client(address: str, agent: str = FIREFOX) -> dict[str, str]:
    return {"X-Forwarded-For": address, "User-Agent": agent}


def test_reports_from_different_clients_behind_the_proxy_reach_the_threshold(
    proxied: tuple[TestClient, Service],
) -> None:
    client, _ = proxied
    asset_id, _ = shared(client, seed=1)
    first = client.post(f"/api/v1/assets/{asset_id}/report", headers=from_client("198.51.100.1"))
    again = client.post(f"/api/v1/assets/{asset_id}/report", headers=from_client("198.51.100.1"))
    assert first.json()["accepted"] and not again.json()["accepted"]
    second = client.post(f"/api/v1/assets/{asset_id}/report", headers=from_client("198.51.100.2"))
    assert second.json() == {
        "asset_id": asset_id,
        "accepted": True,
        "reports": 2,
        "under_review": True,
    }


def test_visitors_behind_the_proxy_are_told_apart_and_a_rotating_agent_is_one(
    proxied: tuple[TestClient, Service],
) -> None:
    client, service = proxied
    asset_id, code = shared(client, seed=2)
    for n in range(5):  # one client, five User-Agents, one click each
        agent = f"{FIREFOX} rotate/{n}"
        client.get(f"/s/{code}", headers=from_client("198.51.100.7", agent), follow_redirects=False)
        client.get(f"/a/{asset_id}.gif", headers=from_client("198.51.100.7", agent))
        client.get(f"/a/{asset_id}", headers=from_client("198.51.100.7", agent))
    client.get(f"/s/{code}", headers=from_client("198.51.100.8"), follow_redirects=False)
    client.get(f"/a/{asset_id}.gif", headers=from_client("198.51.100.8"))
    service.events.flush()

    report = client.get(f"/api/v1/assets/{asset_id}/stats").json()
    assert (report["clicks"], report["views"]) == (6, 5)  # raw counts keep every event
    assert report["plays"] == 2  # a play is counted once per visitor in the dedupe window
    assert report["unique_visitors"] == 2
    assert report["unique"] == {"views": 1, "plays": 2, "clicks": 2}
    link = client.get(f"/api/v1/links/{code}/stats").json()
    assert link["unique"]["clicks"] == 2 and link["clicks"] == 6

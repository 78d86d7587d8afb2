"""HTML pages carry the browser hardening headers; API docs load nothing from a CDN."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from gif_factory import make_gif
from starlette.testclient import TestClient

SLACKBOT = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"


def assert_hardened(response) -> None:  # type: ignore[no-untyped-def]
    assert response.headers["content-type"].startswith("text/html"), response.headers
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"


@pytest.fixture
def shared(client: TestClient) -> tuple[str, str]:
    files = {"file": ("a.gif", make_gif(seed=1), "image/gif")}
    asset_id: str = client.post("/api/v1/assets", files=files).json()["asset_id"]
    code: str = client.post(f"/api/v1/assets/{asset_id}/links", json={}).json()["short_code"]
    return asset_id, code


@pytest.mark.parametrize(
    ("path", "agent"),
    [
        ("/", None),
        ("/signin", None),
        ("/a/{asset}", None),
        ("/a/0123456789abcdef", None),  # an error page
        ("/s/{code}", SLACKBOT),  # the card, from the hot path
        ("/s/Zzzzzzzz", None),  # the hot path's 404 page
        ("/no/such/page", None),
    ],
)
def test_every_html_page_is_hardened(
    client: TestClient, shared: tuple[str, str], path: str, agent: str | None
) -> None:
    asset_id, code = shared
    headers = {"User-Agent": agent} if agent else {}
    response = client.get(
        path.format(asset=asset_id, code=code), headers=headers, follow_redirects=False
    )
    assert_hardened(response)


def test_api_docs_come_from_the_package_with_their_script_allowed_by_hash(
    client: TestClient,
) -> None:
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    assert "cdn" not in docs.text and "https://" not in docs.text
    for asset in re.findall(r'(?:src|href)="(/api/v1/docs/assets/[^"]+)"', docs.text):
        assert client.get(asset).status_code == 200, asset
    inline = re.search(r"<script>(.*?)</script>", docs.text, re.S)
    assert inline is not None
    digest = base64.b64encode(hashlib.sha256(inline.group(1).encode()).digest()).decode()
    csp = docs.headers["content-security-policy"]
    assert f"'sha256-{digest}'" in csp and "frame-ancestors 'none'" in csp

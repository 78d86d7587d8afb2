"""Private GIFs and signed URLs: minting, serving, refusing, rotating keys, CLI."""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlparse

import pytest
from conftest import ADMIN_KEY, make_settings
from gif_factory import make_gif
from starlette.testclient import TestClient
from typer.testing import CliRunner

from gifdist.accounts.keys import Scope
from gifdist.cli import app as cli
from gifdist.web.app import create_app
from gifdist.wiring import Service

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"}


def upload(client: TestClient, seed: int) -> tuple[str, bytes]:
    data = make_gif(width=32, height=24, frames=3, seed=seed)
    body = client.post("/api/v1/assets", files={"file": ("a.gif", data, "image/gif")}).json()
    return body["asset_id"], data


def local(url: str) -> str:
    parsed = urlparse(url)
    return f"{parsed.path}?{parsed.query}"


def with_params(url: str, **changes: str | None) -> str:
    parsed = urlparse(url)
    params = dict(parse_qsl(parsed.query))
    for name, value in changes.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    return f"{parsed.path}?{urlencode(params)}"


def assert_like_unknown(
    client: TestClient, asset_id: str, suffixes: tuple[str, ...] = (".gif", ".mp4", "/tiny.gif", "")
) -> None:
    """Without any signed-URL parameter, the GIF, its renditions and (when private) its
    page answer exactly as for an id that does not exist: its existence cannot be told."""
    unknown = "0" * len(asset_id)  # well-formed, never given out
    varying = {"x-request-id", "traceparent", "date"}
    for suffix in suffixes:
        ours = client.get(f"/a/{asset_id}{suffix}", headers=BROWSER)
        theirs = client.get(f"/a/{unknown}{suffix}", headers=BROWSER)
        assert ours.status_code == theirs.status_code == 404, suffix
        assert ours.text == theirs.text, suffix
        assert {k: v for k, v in ours.headers.items() if k not in varying} == {
            k: v for k, v in theirs.headers.items() if k not in varying
        }, suffix


def test_private_gif_is_served_only_through_a_signed_url(client: TestClient) -> None:
    asset_id, data = upload(client, seed=1)
    made_private = client.patch(f"/api/v1/assets/{asset_id}", json={"private": True})
    assert made_private.status_code == 200 and made_private.json()["private"] is True
    assert_like_unknown(client, asset_id)

    minted = client.post(f"/api/v1/assets/{asset_id}/signed-url", json={"expires_in": 600})
    assert minted.status_code == 200, minted.text
    urls = minted.json()
    assert urls["gif_url"].startswith(f"http://gifdist.test/a/{asset_id}.gif?")
    served = client.get(local(urls["gif_url"]), headers=BROWSER)
    assert served.status_code == 200 and served.content == data
    max_age = int(served.headers["cache-control"].split("max-age=")[1])
    assert served.headers["cache-control"].startswith("private") and 590 <= max_age <= 600
    ranged = client.get(local(urls["gif_url"]), headers={**BROWSER, "Range": "bytes=0-9"})
    assert ranged.status_code == 206 and ranged.content == data[:10]

    page = client.get(local(urls["page_url"]), headers=BROWSER)
    assert page.status_code == 200 and page.headers["cache-control"] == "private, no-store"
    assert page.headers["x-robots-tag"] == "noindex"
    embedded = page.text.split('class="gif"')[1].split('src="')[1].split('"')[0]
    shown = client.get(local(embedded.replace("&amp;", "&")), headers=BROWSER)
    assert shown.status_code == 200 and shown.content == data  # the page's GIF is signed too

    link = client.post(f"/api/v1/assets/{asset_id}/links", json={}).json()
    assert client.get(f"/s/{link['short_code']}", headers=BROWSER).status_code == 404

    public_again = client.patch(f"/api/v1/assets/{asset_id}", json={"private": False})
    assert public_again.json()["private"] is False
    assert client.get(f"/a/{asset_id}.gif", headers=BROWSER).status_code == 200


def test_tampered_expired_and_wrong_urls_get_403_with_a_reason(client: TestClient) -> None:
    asset_id, _ = upload(client, seed=2)
    client.patch(f"/api/v1/assets/{asset_id}", json={"private": True})
    url = client.post(f"/api/v1/assets/{asset_id}/signed-url", json={}).json()["gif_url"]
    signature = dict(parse_qsl(urlparse(url).query))["signature"]
    cases = [
        ("Missing signature", with_params(url, signature=None)),
        ("Missing expiration", with_params(url, expires=None)),
        ("Invalid signature", with_params(url, expires=str(int(time.time()) + 10**6))),
        ("Invalid signature", with_params(url, signature=signature[:-2])),
        ("Invalid expiration", with_params(url, expires="tomorrow")),
        ("Unknown or retired", with_params(url, kid="nope")),
        ("Duplicated", local(url) + "&expires=1"),
    ]
    for reason, path in cases:
        response = client.get(path, headers=BROWSER)
        assert response.status_code == 403, (reason, response.status_code)
        assert reason in response.text
    other_id, _ = upload(client, seed=12)  # a valid signature does not open another GIF
    client.patch(f"/api/v1/assets/{other_id}", json={"private": True})
    moved = client.get(local(url).replace(asset_id, other_id), headers=BROWSER)
    assert moved.status_code == 403 and "Invalid signature" in moved.text


def test_signed_url_expiry_and_skew(tmp_path: Path, database_url: str) -> None:
    service = Service(make_settings(tmp_path, database_url, signed_url_skew_seconds=0))
    try:
        with TestClient(create_app(service=service), base_url="http://gifdist.test") as client:
            client.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
            asset_id, _ = upload(client, seed=3)
            client.patch(f"/api/v1/assets/{asset_id}", json={"private": True})
            url = client.post(
                f"/api/v1/assets/{asset_id}/signed-url", json={"expires_in": 2}
            ).json()["gif_url"]
            assert client.get(local(url), headers=BROWSER).status_code == 200
            time.sleep(2.1)  # expiry is whole seconds: valid for at least 1 s, at most 2
            expired = client.get(local(url), headers=BROWSER)
            assert expired.status_code == 403 and "expired" in expired.text
    finally:
        service.close()


def test_old_key_verifies_after_rotation_until_retired(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'k.db'}"
    first = make_settings(tmp_path, db, signing_keys={"2025": "old-secret"})
    service = Service(first)
    try:
        with TestClient(create_app(service=service), base_url="http://gifdist.test") as client:
            client.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
            asset_id, _ = upload(client, seed=4)
            client.patch(f"/api/v1/assets/{asset_id}", json={"private": True})
            old_url = client.post(f"/api/v1/assets/{asset_id}/signed-url", json={}).json()
            assert old_url["key_id"] == "2025"
    finally:
        service.close()
    rotated = make_settings(tmp_path, db, signing_keys={"2025": "old-secret", "2026": "new-secret"})
    retired = make_settings(tmp_path, db, signing_keys={"2026": "new-secret"})
    for settings, expected in ((rotated, 200), (retired, 403)):
        service = Service(settings)
        try:
            with TestClient(create_app(service=service), base_url="http://gifdist.test") as client:
                client.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
                got = client.get(local(old_url["gif_url"]), headers=BROWSER)
                assert got.status_code == expected
                if expected == 200:
                    new = client.post(f"/api/v1/assets/{asset_id}/signed-url", json={}).json()
                    assert new["key_id"] == "2026"
        finally:
            service.close()


def test_require_signed_urls_covers_every_gif(tmp_path: Path, database_url: str) -> None:
    service = Service(make_settings(tmp_path, database_url, require_signed_urls=True))
    try:
        with TestClient(create_app(service=service), base_url="http://gifdist.test") as client:
            client.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
            asset_id, data = upload(client, seed=5)
            assert_like_unknown(client, asset_id, (".gif", ".mp4"))  # the page is public
            url = client.post(f"/api/v1/assets/{asset_id}/signed-url", json={}).json()["gif_url"]
            served = client.get(local(url), headers=BROWSER)
            assert served.status_code == 200 and served.content == data
            assert served.headers["cache-control"].startswith("public, max-age=")
    finally:
        service.close()


def test_bad_requests_for_private_and_signed_urls(client: TestClient, service: Service) -> None:
    asset_id, _ = upload(client, seed=6)
    for body, status in (
        ({"expires_in": 0}, 400),
        ({"expires_in": 10**9}, 400),
        ({"expires_in": "soon"}, 422),
        ({"expires_in": 60, "path": "/etc"}, 422),
    ):
        response = client.post(f"/api/v1/assets/{asset_id}/signed-url", json=body)
        assert response.status_code == status, (body, response.text)
    assert client.patch(f"/api/v1/assets/{asset_id}", json={"private": "maybe"}).status_code == 422
    empty = client.patch(f"/api/v1/assets/{asset_id}", json={})
    assert empty.status_code == 400 and empty.json()["error"]["code"] == "empty_change"
    missing = client.post("/api/v1/assets/0123456789abcdef/signed-url", json={})
    assert missing.status_code == 404
    stranger, _ = service.keys.create("stranger", [Scope.UPLOAD, Scope.READ])
    refused = client.patch(
        f"/api/v1/assets/{asset_id}",
        json={"private": True},
        headers={"Authorization": f"Bearer {stranger}"},
    )
    assert refused.status_code == 403  # not the uploader, not an admin
    assert client.get(f"/a/{asset_id}.gif", headers=BROWSER).status_code == 200


def test_cli_private_and_sign(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIFDIST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GIFDIST_DATABASE_URL", database_url)
    monkeypatch.setenv("GIFDIST_MODERATION", "off")
    monkeypatch.setenv("GIFDIST_BASE_URL", "http://cli.test")
    runner = CliRunner()
    gif = tmp_path / "g.gif"
    gif.write_bytes(make_gif(seed=7))
    uploaded = runner.invoke(cli, ["upload", str(gif)])
    assert uploaded.exit_code == 0
    [asset_id] = re.findall(r"/a/([0-9a-f]{16})", uploaded.output)
    made = runner.invoke(cli, ["assets", "private", asset_id])
    assert made.exit_code == 0 and "private" in made.output
    signed = runner.invoke(cli, ["assets", "sign", asset_id, "--expires-in", "60"])
    assert signed.exit_code == 0, signed.output
    assert f"http://cli.test/a/{asset_id}.gif?" in signed.stdout
    bad = runner.invoke(cli, ["assets", "sign", asset_id, "--expires-in", "0"])
    assert bad.exit_code == 2 and "expires_in" in bad.output
    missing = runner.invoke(cli, ["assets", "private", "0123456789abcdef"])
    assert missing.exit_code == 1 and "no asset" in missing.output


def test_other_keys_cannot_see_or_share_a_private_gif(client: TestClient, service: Service) -> None:
    asset_id, data = upload(client, seed=13)  # uploaded with the admin key
    client.patch(f"/api/v1/assets/{asset_id}", json={"private": True})
    stranger, _ = service.keys.create("stranger")  # upload, links, read, stats
    moderator, _ = service.keys.create("mod", [Scope.READ, Scope.MODERATE])
    as_stranger = {"Authorization": f"Bearer {stranger}"}
    assert client.get(f"/api/v1/assets/{asset_id}", headers=as_stranger).status_code == 404
    assert client.get(f"/api/v1/assets/{asset_id}/content", headers=as_stranger).status_code == 404
    minted = client.post(f"/api/v1/assets/{asset_id}/signed-url", json={}, headers=as_stranger)
    assert minted.status_code == 404  # they may not even learn that it exists
    as_moderator = {"Authorization": f"Bearer {moderator}"}
    content = client.get(f"/api/v1/assets/{asset_id}/content", headers=as_moderator)
    assert content.status_code == 200 and content.content == data
    assert client.post(f"/api/v1/assets/{asset_id}/signed-url", json={}).status_code == 200

    mine = client.post(
        "/api/v1/assets",
        files={"file": ("m.gif", make_gif(seed=14), "image/gif")},
        headers=as_stranger,
    ).json()["asset_id"]
    client.patch(f"/api/v1/assets/{mine}", json={"private": True}, headers=as_stranger)
    own = client.post(f"/api/v1/assets/{mine}/signed-url", json={}, headers=as_stranger)
    assert own.status_code == 200  # the uploader shares their own private GIF

"""Upload, describe, link and serve: the API end to end, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from gif_factory import html_bytes, make_gif, png_bytes, raw_gif
from starlette.testclient import TestClient

from gifdist.wiring import Service

SLACKBOT = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def upload(client: TestClient, data: bytes, **fields: str) -> tuple[int, dict]:
    response = client.post(
        "/api/v1/assets", files={"file": ("cat.gif", data, "image/gif")}, data=fields
    )
    return response.status_code, response.json()


def blob_files(service: Service) -> list[Path]:
    root = service.blobs.root
    return [p for p in root.rglob("*") if p.is_file() and p.relative_to(root).parts[0] != "tmp"]


def temp_files(service: Service) -> list[Path]:
    return [p for p in service.blobs.tmp_dir.iterdir()]


def assert_error(response, status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]


def test_upload_returns_201_with_the_asset_description(client: TestClient) -> None:
    data = make_gif(width=40, height=30, frames=4, duration_ms=120, seed=1)
    status, body = upload(client, data, title="Funny cat", tags="cat, funny ,cat")
    assert status == 201, body
    sha = hashlib.sha256(data).hexdigest()
    assert body["sha256"] == sha
    # the id is keyed: knowing the bytes does not give it away
    assert re.fullmatch(r"[0-9a-f]{16}", body["asset_id"]) and body["asset_id"] != sha[:16]
    assert body["canonical_url"] == f"http://gifdist.test/a/{body['asset_id']}"
    assert body["gif_url"] == f"http://gifdist.test/a/{body['asset_id']}.gif"
    assert (body["width"], body["height"], body["frames"]) == (40, 30, 4)
    assert body["duration_ms"] == 480
    assert body["bytes"] == len(data)
    assert body["status"] == "approved"
    assert body["title"] == "Funny cat"
    assert body["tags"] == ["cat", "funny"]


def test_same_bytes_return_existing_asset_with_200(client: TestClient, service: Service) -> None:
    data = make_gif(seed=2)
    first_status, first = upload(client, data)
    second_status, second = upload(client, data, title="other title")
    assert (first_status, second_status) == (201, 200)
    assert second["asset_id"] == first["asset_id"]
    assert len(blob_files(service)) == 1
    assert service.assets.count() == 1


def test_get_asset_returns_same_json(client: TestClient) -> None:
    _, body = upload(client, make_gif(seed=3), title="x")
    assert body.pop("already_uploaded") is False  # said only in the upload's answer
    response = client.get(f"/api/v1/assets/{body['asset_id']}")
    assert response.status_code == 200
    assert response.json() == body


def test_link_creation_and_lookup(client: TestClient) -> None:
    _, asset = upload(client, make_gif(seed=4), title="Cat")
    response = client.post(
        f"/api/v1/assets/{asset['asset_id']}/links", json={"title": "Shared cat", "via": "slack"}
    )
    assert response.status_code == 201, response.text
    link = response.json()
    assert len(link["short_code"]) == 8
    assert link["short_url"] == f"http://gifdist.test/s/{link['short_code']}"
    assert link["canonical_url"] == asset["canonical_url"]
    info = client.get(f"/api/v1/links/{link['short_code']}").json()
    assert info["asset_id"] == asset["asset_id"]
    assert info["via"] == "slack"
    assert info["title"] == "Shared cat"


def test_short_link_unfurls_for_bots_and_redirects_people(client: TestClient) -> None:
    _, asset = upload(client, make_gif(width=64, height=48, seed=5), title='Cat <script>"x"')
    code = client.post(f"/api/v1/assets/{asset['asset_id']}/links", json={}).json()["short_code"]

    bot = client.get(f"/s/{code}", headers={"User-Agent": SLACKBOT}, follow_redirects=False)
    assert bot.status_code == 200
    html = bot.text
    assert f'<meta property="og:url" content="{asset["canonical_url"]}">' in html
    assert f'<meta property="og:image" content="{asset["gif_url"]}">' in html
    assert '<meta property="og:image:width" content="64">' in html
    assert '<meta property="og:image:height" content="48">' in html
    assert '<meta property="og:image:type" content="image/gif">' in html
    assert '<meta name="twitter:card"' in html
    assert "application/json+oembed" in html
    assert "<script>" not in html and "Cat &lt;script&gt;&#34;x&#34;" in html

    person = client.get(f"/s/{code}", headers={"User-Agent": FIREFOX}, follow_redirects=False)
    assert person.status_code == 302
    assert person.headers["location"] == asset["canonical_url"]


@pytest.mark.parametrize(
    "agent",
    [
        "Discordbot/2.0 (+https://discordapp.com)",
        "Twitterbot/1.0",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5",
        "TelegramBot (like TwitterBot)",
        "WhatsApp/2.23.20.0",
    ],
)
def test_every_link_preview_bot_gets_the_card(client: TestClient, agent: str) -> None:
    _, asset = upload(client, make_gif(seed=6))
    code = client.post(f"/api/v1/assets/{asset['asset_id']}/links", json={}).json()["short_code"]
    response = client.get(f"/s/{code}", headers={"User-Agent": agent}, follow_redirects=False)
    assert response.status_code == 200
    assert 'property="og:image"' in response.text


def test_oembed_describes_the_gif(client: TestClient) -> None:
    _, asset = upload(client, make_gif(width=100, height=50, seed=7), title="Wide")
    code = client.post(f"/api/v1/assets/{asset['asset_id']}/links", json={}).json()["short_code"]
    for url in (asset["canonical_url"], f"http://gifdist.test/s/{code}"):
        response = client.get("/oembed", params={"url": url, "maxwidth": 50})
        assert response.status_code == 200
        body = response.json()
        assert body["type"] == "photo" and body["version"] == "1.0"
        assert body["url"] == asset["gif_url"]
        assert (body["width"], body["height"]) == (50, 25)
    assert client.get("/oembed", params={"url": "http://elsewhere.test/a/abc"}).status_code == 404
    assert (
        client.get("/oembed", params={"url": asset["canonical_url"], "format": "xml"}).status_code
        == 501
    )


def test_asset_page_and_bytes(client: TestClient) -> None:
    data = make_gif(seed=8)
    _, asset = upload(client, data, title="Page <i>title</i>", tags="<b>bold</b>")
    page = client.get(f"/a/{asset['asset_id']}")
    assert page.status_code == 200
    assert "Page &lt;i&gt;title&lt;/i&gt;" in page.text
    assert "&lt;b&gt;bold&lt;/b&gt;" in page.text
    assert f'width="{asset["width"]}"' in page.text
    gif = client.get(f"/a/{asset['asset_id']}.gif")
    assert gif.status_code == 200
    assert gif.content == data
    assert gif.headers["content-type"] == "image/gif"
    assert gif.headers["content-length"] == str(len(data))
    assert gif.headers["etag"] == f'"{asset["sha256"]}"'


def test_unknown_code_and_asset_get_404_pages(client: TestClient) -> None:
    for path in ("/s/Unknown1", "/a/0123456789abcdef", "/a/0123456789abcdef.gif", "/s/%2e%2e"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 404, path
        assert "text/html" in response.headers["content-type"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/assets/..%2F..%2Fetc",
        "/api/v1/assets/%2e%2e",
        "/api/v1/assets/ABC!",
        "/api/v1/links/..%2f",
    ],
)
def test_path_traversal_ids_are_404_json(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_pending_asset_is_not_served_publicly(tmp_path: Path, database_url: str) -> None:
    from conftest import ADMIN_KEY, make_settings

    from gifdist.web.app import create_app

    svc = Service(make_settings(tmp_path, database_url, moderation="async"))
    svc.background.clear()  # no worker: the asset stays pending
    try:
        with TestClient(create_app(service=svc)) as client:
            client.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
            status, asset = upload(client, make_gif(seed=9))
            assert status == 201 and asset["status"] == "pending"
            code = client.post(f"/api/v1/assets/{asset['asset_id']}/links", json={}).json()[
                "short_code"
            ]
            assert client.get(f"/a/{asset['asset_id']}.gif").status_code == 404
            assert client.get(f"/a/{asset['asset_id']}").status_code == 404
            bot = client.get(f"/s/{code}", headers={"User-Agent": SLACKBOT})
            assert bot.status_code == 404
            assert client.get(f"/api/v1/assets/{asset['asset_id']}").json()["status"] == "pending"
    finally:
        svc.close()


# bad input -------------------------------------------------------------------


def test_missing_and_wrong_keys(client: TestClient) -> None:
    data = {"file": ("a.gif", make_gif(seed=10), "image/gif")}
    no_key = client.post("/api/v1/assets", files=data, headers={"Authorization": ""})
    assert_error(no_key, 401, "unauthorized")
    wrong = client.post("/api/v1/assets", files=data, headers={"Authorization": "Bearer nope"})
    assert_error(wrong, 401, "invalid_key")


def test_key_without_scope_is_forbidden(client: TestClient, service: Service) -> None:
    from gifdist.accounts.keys import Scope

    secret, _ = service.keys.create("reader", [Scope.READ])
    response = client.post(
        "/api/v1/assets",
        files={"file": ("a.gif", make_gif(seed=11), "image/gif")},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert_error(response, 403, "missing_scope")


def test_revoked_key_is_refused(client: TestClient, service: Service) -> None:
    secret, key = service.keys.create("temp")
    assert service.keys.store.revoke(key.key_id)
    response = client.get("/api/v1/assets/abc", headers={"Authorization": f"Bearer {secret}"})
    assert_error(response, 401, "revoked_key")


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"", 422, "empty_file"),
        (png_bytes(), 415, "not_a_gif"),
        (html_bytes(), 415, "not_a_gif"),
        (raw_gif(screen=(65535, 65535), frames=[(0, 0, 1, 1)]), 422, "gif_dimensions_too_large"),
        (raw_gif(screen=(1, 1), frames=[(0, 0, 1, 1)] * 10_000), 422, "gif_too_many_frames"),
    ],
)
def test_bad_files_get_precise_errors_and_leave_nothing(
    client: TestClient, service: Service, data: bytes, status: int, code: str
) -> None:
    response = client.post("/api/v1/assets", files={"file": ("x.gif", data, "image/gif")})
    assert_error(response, status, code)
    assert blob_files(service) == []
    assert temp_files(service) == []
    assert service.assets.count() == 0


def test_truncated_gif_is_refused(client: TestClient, service: Service) -> None:
    data = make_gif(seed=12)
    response = client.post(
        "/api/v1/assets", files={"file": ("x.gif", data[: len(data) // 2], "image/gif")}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] in ("gif_truncated", "gif_corrupt")
    assert service.assets.count() == 0 and blob_files(service) == []


def test_oversized_upload_is_413_before_storage(tmp_path: Path, database_url: str) -> None:
    from conftest import ADMIN_KEY, make_settings

    from gifdist.web.app import create_app

    svc = Service(make_settings(tmp_path, database_url, max_upload_bytes=2000))
    try:
        with TestClient(create_app(service=svc)) as client:
            client.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
            big = make_gif(width=200, height=200, frames=3, seed=13, pattern="noise")
            assert len(big) > 2000
            response = client.post("/api/v1/assets", files={"file": ("big.gif", big, "image/gif")})
            assert_error(response, 413, "file_too_large")
            declared = client.post(
                "/api/v1/assets",
                content=b"x",
                headers={
                    "Content-Type": "multipart/form-data; boundary=b",
                    "Content-Length": str(2 * 1024**3),
                },
            )
            assert declared.status_code in (413, 400)
            assert svc.assets.count() == 0 and temp_files(svc) == [] and blob_files(svc) == []
    finally:
        svc.close()


def test_not_multipart_is_415(client: TestClient) -> None:
    response = client.post(
        "/api/v1/assets", content=make_gif(seed=14), headers={"Content-Type": "image/gif"}
    )
    assert_error(response, 415, "expected_multipart")


def test_truncated_multipart_body_is_400(client: TestClient, service: Service) -> None:
    body = b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.gif"\r\n\r\nGIF89a\x01\x00'
    response = client.post(
        "/api/v1/assets",
        content=body,
        headers={"Content-Type": "multipart/form-data; boundary=XyZ"},
    )
    assert_error(response, 400, "truncated_body")
    assert temp_files(service) == []


def test_missing_file_field_is_400(client: TestClient) -> None:
    response = client.post("/api/v1/assets", data={"title": "x"}, files={"other": ("a", b"1")})
    assert_error(response, 400, "missing_file")


def test_huge_title_is_refused(client: TestClient, service: Service) -> None:
    status, body = upload(client, make_gif(seed=15), title="t" * 100_000)
    assert status == 413
    assert body["error"]["code"] == "field_too_large"
    status, body = upload(client, make_gif(seed=15), title="t" * 301)
    assert status == 413 and body["error"]["code"] == "title_too_long"
    assert service.assets.count() == 0


def test_link_bad_input(client: TestClient) -> None:
    _, asset = upload(client, make_gif(seed=16))
    url = f"/api/v1/assets/{asset['asset_id']}/links"
    assert_error(client.post(url, json={"via": "myspace"}), 400, "invalid_via")
    assert client.post(
        url, content=b"{not json", headers={"Content-Type": "application/json"}
    ).status_code in (400, 422)
    assert_error(client.post(url, json={"unknown": 1}), 422, "invalid_input")
    assert_error(client.post("/api/v1/assets/0000000000000000/links", json={}), 404, "not_found")
    assert_error(
        client.post(
            url,
            content=b"{" + b" " * (2 * 1024 * 1024) + b"}",
            headers={"Content-Type": "application/json"},
        ),
        413,
        "payload_too_large",
    )


def test_asset_id_collision_stores_both(tmp_path: Path, database_url: str) -> None:
    from conftest import ADMIN_KEY, make_settings

    from gifdist.web.app import create_app

    svc = Service(make_settings(tmp_path, database_url, asset_id_length=1))
    try:
        with TestClient(create_app(service=svc)) as client:
            client.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
            assets = [upload(client, make_gif(seed=100 + i))[1] for i in range(20)]
            ids = [a["asset_id"] for a in assets]
            assert len(set(ids)) == 20  # 16 one-hex-digit ids cannot hold 20 files
            for asset in assets:
                got = client.get(f"/a/{asset['asset_id']}.gif")
                assert hashlib.sha256(got.content).hexdigest() == asset["sha256"]
    finally:
        svc.close()

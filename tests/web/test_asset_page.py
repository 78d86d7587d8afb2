"""The asset page knows who is looking: its owner gets the owner's panel (share, embed,
edit, privacy, delete, numbers) whatever the GIF's status; nobody else ever does."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from gif_factory import make_gif

from gifdist.accounts.keys import Scope

if TYPE_CHECKING:
    from starlette.testclient import TestClient

    from gifdist.wiring import Service

OWNER_SCOPES = [Scope.UPLOAD, Scope.READ, Scope.LINKS, Scope.STATS]


def sign_in(client: TestClient, key: str) -> str:
    """Sign the (cookie-only) client in; returns the session's CSRF token."""
    client.headers.pop("Authorization", None)
    response = client.post("/signin", data={"key": key, "next": "/upload"}, follow_redirects=False)
    assert response.status_code == 303
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/upload").text)
    assert found
    return found.group(1)


def upload(client: TestClient, csrf: str, title: str, seed: int) -> dict[str, Any]:
    gif = make_gif(width=40, height=30, frames=2, seed=seed)
    response = client.post(
        "/api/v1/assets",
        files={"file": ("a.gif", gif, "image/gif")},
        data={"title": title, "tags": "secret-tag", "description": "owner notes"},
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def make_link(client: TestClient, csrf: str, asset_id: str, via: str) -> str:
    response = client.post(
        f"/api/v1/assets/{asset_id}/links", json={"via": via}, headers={"X-CSRF-Token": csrf}
    )
    assert response.status_code == 201, response.text
    url: str = response.json()["short_url"]
    return url


def test_the_owner_gets_share_embed_edit_and_delete_on_their_page(
    client: TestClient, service: Service
) -> None:
    secret, key = service.keys.create("alice", OWNER_SCOPES)
    csrf = sign_in(client, secret)
    asset = upload(client, csrf, "Dancing <cat>", seed=1)
    slack = make_link(client, csrf, asset["asset_id"], "slack")

    response = client.get(f"/a/{asset['asset_id']}")
    assert response.status_code == 200
    html = response.text
    assert "Signed in as <strong>alice</strong>" in html
    assert 'href="/signin"' not in html
    assert 'id="owner"' in html and f'data-csrf="{csrf}"' in html
    # one button per platform, the Slack one already holding its link
    for via in ("slack", "discord", "teams", "twitter", "facebook", "web"):
        assert f'data-via="{via}"' in html
    assert f'data-via="slack" data-label="Slack" data-url="{slack}"' in html
    assert 'data-via="discord" data-label="Discord">' in html
    # embed codes, escaped once in the page
    page = f"http://gifdist.test/a/{asset['asset_id']}"
    assert f"[url={page}][img]{page}.gif[/img][/url]" in html
    assert f"[![Dancing &lt;cat&gt;]({page}.gif)]({page})" in html
    assert "alt=&#34;Dancing &amp;lt;cat&amp;gt;&#34;" in html
    assert 'id="edit-title" name="title" value="Dancing &lt;cat&gt;"' in html
    assert 'id="delete-start"' in html and 'id="privacy"' in html and ">Make private<" in html
    assert 'id="report-start"' not in html  # an owner does not report their own GIF
    assert '<script src="/static/asset-owner.js" defer></script>' in html
    assert "<script>" not in html and "style=" not in html
    assert response.headers["cache-control"] == "private, no-store"
    assert key.key_id not in html


def test_another_signed_in_owner_sees_no_owner_actions_nor_data(
    client: TestClient, service: Service
) -> None:
    alice, _ = service.keys.create("alice", OWNER_SCOPES)
    bob, _ = service.keys.create("bob", OWNER_SCOPES)
    alice_csrf = sign_in(client, alice)
    asset = upload(client, alice_csrf, "Alice's cat", seed=2)
    slack = make_link(client, alice_csrf, asset["asset_id"], "slack")

    sign_in(client, bob)
    response = client.get(f"/a/{asset['asset_id']}")
    assert response.status_code == 200
    html = response.text
    assert "Signed in as <strong>bob</strong>" in html
    assert 'id="owner"' not in html and "asset-owner.js" not in html
    for owner_only in ('id="edit"', 'id="delete-start"', 'id="privacy"', "data-via=", "[img]"):
        assert owner_only not in html
    assert slack not in html  # nor the owner's links
    assert 'id="report-start"' in html
    assert response.headers["cache-control"] == "private, no-store"
    # and the API agrees: bob can neither edit nor delete it
    bob_csrf = re.search(r'data-csrf="([^"]*)"', html)
    assert bob_csrf is None


def test_a_visitor_gets_the_report_button_and_a_shareable_cache_header(
    client: TestClient, service: Service
) -> None:
    alice, _ = service.keys.create("alice", OWNER_SCOPES)
    csrf = sign_in(client, alice)
    asset = upload(client, csrf, "cat", seed=3)
    client.cookies.clear()
    response = client.get(f"/a/{asset['asset_id']}")
    assert response.status_code == 200
    assert 'href="/signin"' in response.text and "Signed in as" not in response.text
    assert 'id="report-start"' in response.text and 'id="owner"' not in response.text
    assert response.headers["cache-control"] == "public, max-age=0, must-revalidate"
    assert response.headers["vary"] == "User-Agent, Cookie"


def test_a_flagged_gif_tells_its_owner_what_happens_next_and_stays_hidden(
    client: TestClient, service: Service
) -> None:
    alice, _ = service.keys.create("alice", OWNER_SCOPES)
    bob, _ = service.keys.create("bob", OWNER_SCOPES)
    csrf = sign_in(client, alice)
    asset = upload(client, csrf, "Held cat", seed=4)
    service.review.decide(asset["asset_id"], "flag", "moderator", "")

    html = client.get(f"/a/{asset['asset_id']}").text
    assert "Held for a moderator&#39;s review." in html
    assert 'data-status="flagged"' in html
    assert "data-via=" not in html  # no share buttons before approval
    assert "appear here once the GIF is approved" in html
    assert f'src="/api/v1/assets/{asset["asset_id"]}/content"' in html  # not public yet

    sign_in(client, bob)
    assert client.get(f"/a/{asset['asset_id']}").status_code == 404
    client.cookies.clear()
    assert client.get(f"/a/{asset['asset_id']}").status_code == 404


def test_a_private_gif_is_shown_to_its_owner_without_a_signature(
    client: TestClient, service: Service
) -> None:
    alice, _ = service.keys.create("alice", OWNER_SCOPES)
    csrf = sign_in(client, alice)
    asset = upload(client, csrf, "Private cat", seed=5)
    changed = client.patch(
        f"/api/v1/assets/{asset['asset_id']}",
        json={"private": True},
        headers={"X-CSRF-Token": csrf},
    )
    assert changed.status_code == 200
    html = client.get(f"/a/{asset['asset_id']}").text
    assert ">Make public<" in html and "data-via=" not in html
    assert re.search(r'src="[^"]+\.gif\?[^"]*signature=', html)  # signed bytes for the owner
    client.cookies.clear()
    assert (
        client.get(f"/a/{asset['asset_id']}").status_code == 404
    )  # unsigned: as for an unknown id


def test_a_deleted_gif_answers_410_and_the_page_still_names_the_viewer(
    client: TestClient, service: Service
) -> None:
    alice, _ = service.keys.create("alice", OWNER_SCOPES)
    csrf = sign_in(client, alice)
    asset = upload(client, csrf, "Short-lived cat", seed=6)
    deleted = client.delete(f"/api/v1/assets/{asset['asset_id']}", headers={"X-CSRF-Token": csrf})
    assert deleted.status_code == 204
    response = client.get(f"/a/{asset['asset_id']}")
    assert response.status_code == 410
    assert "Signed in as <strong>alice</strong>" in response.text
    assert response.headers["cache-control"] == "private, no-store"
    client.cookies.clear()
    anonymous = client.get(f"/a/{asset['asset_id']}")
    assert anonymous.status_code == 410 and "Signed in as" not in anonymous.text


def test_every_signed_in_page_names_the_viewer(client: TestClient, service: Service) -> None:
    alice, _ = service.keys.create("alice", OWNER_SCOPES)
    sign_in(client, alice)
    for path in ("/", "/upload", "/library", "/dashboard", "/gifs", "/signin"):
        response = client.get(path)
        assert "Signed in as <strong>alice</strong>" in response.text, path


def test_the_upload_page_describes_each_file_before_sending(
    client: TestClient, service: Service
) -> None:
    alice, _ = service.keys.create("alice", OWNER_SCOPES)
    sign_in(client, alice)
    html = client.get("/upload").text
    # one title, tags and description per file (in the per-file template), no batch title
    item = html[html.index('<template id="upload-item">') :]
    for field in ("f-title", "f-tags", "f-description"):
        assert f'class="{field}"' in item
    assert 'id="title"' not in html and 'id="tags"' not in html
    assert 'id="send"' in html


def test_the_dashboard_link_table_offers_copy_and_create(
    client: TestClient, service: Service
) -> None:
    alice, _ = service.keys.create("alice", OWNER_SCOPES)
    csrf = sign_in(client, alice)
    asset = upload(client, csrf, "cat", seed=7)
    slack = make_link(client, csrf, asset["asset_id"], "slack")
    html = client.get(f"/dashboard?asset={asset['asset_id']}").text
    assert f'data-copy="{slack}"' in html
    assert f'id="create-link" class="inline-form" data-asset="{asset["asset_id"]}"' in html
    assert f'data-csrf="{csrf}"' in html


def test_the_pages_the_hot_paths_answer_name_the_viewer_too(
    client: TestClient, service: Service
) -> None:
    """A password link's form and a deleted link's 410 come from the hot front, not
    the app's pages; they still name whoever is signed in, and only to them."""
    alice, _ = service.keys.create("alice", OWNER_SCOPES)
    csrf = sign_in(client, alice)
    asset = upload(client, csrf, "Guarded cat", seed=7)
    made = client.post(
        f"/api/v1/assets/{asset['asset_id']}/links",
        json={"via": "web", "password": "open sesame"},
        headers={"X-CSRF-Token": csrf},
    )
    assert made.status_code == 201, made.text
    locked = made.json()["short_code"]
    plain = make_link(client, csrf, asset["asset_id"], "slack").rsplit("/", 1)[1]
    assert (
        client.delete(f"/api/v1/links/{plain}", headers={"X-CSRF-Token": csrf}).status_code == 204
    )
    person = {
        "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
    }

    form = client.get(f"/s/{locked}", headers=person)
    assert form.status_code == 200 and 'type="password"' in form.text
    assert "Signed in as <strong>alice</strong>" in form.text
    assert form.headers["cache-control"] == "no-store"
    gone = client.get(f"/s/{plain}", headers=person)
    assert gone.status_code == 410 and "Signed in as <strong>alice</strong>" in gone.text

    client.cookies.clear()
    for code in (locked, plain):
        anonymous = client.get(f"/s/{code}", headers=person)
        assert "Signed in as" not in anonymous.text and 'href="/signin"' in anonymous.text

"""Owning GIFs and links: list, edit and delete, through the API and the CLI."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import make_settings
from gif_factory import make_gif
from starlette.testclient import TestClient

from gifdist.analytics import EventType, Platform
from gifdist.web.app import create_app
from gifdist.wiring import Service

SLACKBOT = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.fixture
def owners(service: Service) -> Iterator[tuple[TestClient, TestClient]]:
    alice, _ = service.keys.create("alice")
    bob, _ = service.keys.create("bob")
    app = create_app(service=service)
    with (
        TestClient(app, base_url="http://gifdist.test") as a,
        TestClient(app, base_url="http://gifdist.test") as b,
    ):
        a.headers["Authorization"] = f"Bearer {alice}"
        b.headers["Authorization"] = f"Bearer {bob}"
        yield a, b


def upload(client: TestClient, seed: int, **fields: str) -> dict[str, Any]:
    response = client.post(
        "/api/v1/assets", files={"file": ("x.gif", make_gif(seed=seed))}, data=fields
    )
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


def link(client: TestClient, asset_id: str, **body: Any) -> dict[str, Any]:
    response = client.post(f"/api/v1/assets/{asset_id}/links", json=body)
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


def test_listing_shows_only_mine_with_filters_sorts_and_cursor(
    owners: tuple[TestClient, TestClient], service: Service
) -> None:
    alice, bob = owners
    mine = [
        upload(alice, 70 + i, title=f"cat {i}", tags="cat" if i % 2 else "dog") for i in range(5)
    ]
    upload(bob, 80, title="bob's cat")
    service.capture.record_event(mine[1]["asset_id"], EventType.VIEW, Platform.WEB)
    service.events.flush()
    listed = alice.get("/api/v1/assets", params={"limit": 2}).json()
    assert [a["asset_id"] for a in listed["assets"]] == [mine[4]["asset_id"], mine[3]["asset_id"]]
    rest = alice.get("/api/v1/assets", params={"limit": 10, "cursor": listed["next_cursor"]}).json()
    assert [a["asset_id"] for a in rest["assets"]] == [m["asset_id"] for m in mine[2::-1]]
    assert rest["next_cursor"] is None
    tagged = alice.get("/api/v1/assets", params={"tag": "cat"}).json()["assets"]
    assert {a["asset_id"] for a in tagged} == {mine[1]["asset_id"], mine[3]["asset_id"]}
    by_views = alice.get("/api/v1/assets", params={"sort": "views"}).json()["assets"]
    assert by_views[0]["asset_id"] == mine[1]["asset_id"] and by_views[0]["views"] == 1
    assert "bob" not in str(alice.get("/api/v1/assets", params={"q": "cat"}).json())


@pytest.mark.parametrize(
    "params",
    [{"cursor": "not-a-cursor"}, {"sort": "random"}, {"status": "deleted"}, {"private": "maybe"}],
)
def test_bad_listing_parameters_get_a_400_or_422(
    owners: tuple[TestClient, TestClient], params: dict[str, str]
) -> None:
    response = owners[0].get("/api/v1/assets", params=params)
    assert response.status_code in (400, 422) and response.json()["error"]["code"]


def test_editing_text_and_privacy(owners: tuple[TestClient, TestClient]) -> None:
    alice, bob = owners
    asset = upload(alice, 71, title="Typo cta")
    changed = alice.patch(
        f"/api/v1/assets/{asset['asset_id']}",
        json={"title": "Typo cat", "tags": ["cat", "typo"], "description": "fixed"},
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["title"], changed.json()["tags"]) == ("Typo cat", ["cat", "typo"])
    assert alice.get(f"/api/v1/assets/{asset['asset_id']}").json()["description"] == "fixed"
    assert (
        alice.patch(f"/api/v1/assets/{asset['asset_id']}", json={"private": 1}).status_code == 422
    )
    # another owner learns nothing
    assert bob.patch(f"/api/v1/assets/{asset['asset_id']}", json={"title": "x"}).status_code == 403
    private = alice.patch(f"/api/v1/assets/{asset['asset_id']}", json={"private": True})
    assert private.json()["private"] is True
    assert bob.patch(f"/api/v1/assets/{asset['asset_id']}", json={"title": "x"}).status_code == 404


def test_delete_means_gone_everywhere(
    owners: tuple[TestClient, TestClient], service: Service
) -> None:
    alice, bob = owners
    asset = upload(alice, 72, title="bye")
    code = link(alice, asset["asset_id"], via="slack")["short_code"]
    service.capture.record_event(
        asset["asset_id"], EventType.VIEW, Platform.SLACK, short_code=code, visitor="v1"
    )
    service.events.flush()
    # one rollup, one total, two sketches (the link's and the asset's own)
    assert analytics_rows(service, asset["asset_id"]) == (1, 1, 2)
    assert alice.get(f"/a/{asset['asset_id']}.gif").status_code == 200  # cached on this node
    assert bob.delete(f"/api/v1/assets/{asset['asset_id']}").status_code == 403
    assert alice.delete(f"/api/v1/assets/{asset['asset_id']}").status_code == 204
    assert alice.get(f"/a/{asset['asset_id']}.gif").status_code == 410
    assert alice.get(f"/a/{asset['asset_id']}").status_code == 410
    person = alice.get(f"/s/{code}", headers={"User-Agent": FIREFOX}, follow_redirects=False)
    assert person.status_code == 410 and "deleted" in person.text and "<html" in person.text.lower()
    bot = alice.get(f"/s/{code}", headers={"User-Agent": SLACKBOT})
    assert bot.status_code == 410 and bot.headers["content-type"].startswith("text/plain")
    assert "og:image" not in bot.text
    assert alice.get(f"/api/v1/assets/{asset['asset_id']}").status_code == 404
    assert alice.delete(f"/api/v1/assets/{asset['asset_id']}").status_code == 404
    assert service.blobs.local_path(asset["sha256"]) is None  # no other asset used the bytes
    assert service.tracker.get_asset_metrics(asset["asset_id"])["views"] == 0
    assert analytics_rows(service, asset["asset_id"]) == (0, 0, 0)  # rollups, totals, sketches


def test_numbers_buffered_during_a_delete_do_not_come_back(
    owners: tuple[TestClient, TestClient], service: Service
) -> None:
    alice, _ = owners
    gone = upload(alice, 73, title="going")["asset_id"]
    kept = upload(alice, 74, title="staying")["asset_id"]
    # a view on another node (or still in this node's buffer) when the delete lands
    service.capture.record_event(gone, EventType.VIEW, Platform.WEB, visitor="v1")
    service.capture.record_event(kept, EventType.VIEW, Platform.WEB, visitor="v1")
    assert alice.delete(f"/api/v1/assets/{gone}").status_code == 204
    service.capture.record_event(gone, EventType.CLICK, Platform.WEB, visitor="v2")
    service.events.flush()
    assert analytics_rows(service, gone) == (0, 0, 0)
    assert analytics_rows(service, kept) == (1, 1, 1)  # the same batch's other GIF counts


def analytics_rows(service: Service, asset_id: str) -> tuple[int, ...]:
    """Rows an asset has in the rollups, the totals and the visitor sketches."""
    from sqlalchemy import func, select

    from gifdist.stores.schema import (
        analytics_rollups,
        analytics_totals,
        analytics_visitor_sketches,
    )

    with service.engine.connect() as conn:
        return tuple(
            int(
                conn.execute(
                    select(func.count()).select_from(t).where(t.c.asset_id == asset_id)
                ).scalar_one()
            )
            for t in (analytics_rollups, analytics_totals, analytics_visitor_sketches)
        )


def test_deleting_one_owners_copy_keeps_the_others_bytes(
    owners: tuple[TestClient, TestClient], service: Service
) -> None:
    alice, bob = owners
    data_seed = 73
    mine = upload(alice, data_seed)
    theirs = upload(bob, data_seed)
    assert alice.delete(f"/api/v1/assets/{mine['asset_id']}").status_code == 204
    served = bob.get(f"/a/{theirs['asset_id']}.gif")
    assert served.status_code == 200
    assert hashlib.sha256(served.content).hexdigest() == theirs["sha256"]


def test_links_list_edit_and_delete(owners: tuple[TestClient, TestClient]) -> None:
    alice, bob = owners
    asset = upload(alice, 74, title="linked")
    first = link(alice, asset["asset_id"], via="discord")
    second = link(alice, asset["asset_id"], title="Second")
    listed = alice.get(f"/api/v1/assets/{asset['asset_id']}/links").json()["links"]
    assert [x["short_code"] for x in listed] == [first["short_code"], second["short_code"]]
    assert {x["short_code"] for x in alice.get("/api/v1/links").json()["links"]} == {
        first["short_code"],
        second["short_code"],
    }
    assert bob.get("/api/v1/links").json()["links"] == []
    assert bob.get(f"/api/v1/assets/{asset['asset_id']}/links").status_code == 403
    edited = alice.patch(f"/api/v1/links/{first['short_code']}", json={"title": "New", "via": "fb"})
    assert edited.status_code == 200 and (edited.json()["title"], edited.json()["via"]) == (
        "New",
        "facebook",
    )
    card = alice.get(f"/s/{first['short_code']}", headers={"User-Agent": SLACKBOT})
    assert 'content="New"' in card.text
    assert bob.patch(f"/api/v1/links/{first['short_code']}", json={"title": "x"}).status_code == 404
    assert bob.delete(f"/api/v1/links/{first['short_code']}").status_code == 404
    assert alice.delete(f"/api/v1/links/{first['short_code']}").status_code == 204
    assert alice.get(f"/s/{first['short_code']}", follow_redirects=False).status_code == 410
    assert alice.delete(f"/api/v1/links/{first['short_code']}").status_code == 404
    assert alice.get(f"/s/{second['short_code']}", follow_redirects=False).status_code == 302


def test_edited_text_is_checked_like_upload_text(tmp_path: Path, database_url: str) -> None:
    svc = Service(make_settings(tmp_path, database_url, moderation="async"))
    svc.background.clear()  # no worker: decisions are not the point here
    try:
        secret, key = svc.keys.create("alice")
        sink = svc.uploads.new_sink()
        sink.write(make_gif(seed=75))
        asset = svc.uploads.ingest(sink, svc.uploads.clean_metadata("fine", None, None), key)
        with TestClient(create_app(service=svc), base_url="http://gifdist.test") as client:
            client.headers["Authorization"] = f"Bearer {secret}"
            path = f"/api/v1/assets/{asset.asset.asset_id}"
            refused = client.patch(path, json={"title": "free money"})
            assert refused.status_code == 400 and refused.json()["error"]["code"] == "text_refused"
            assert client.get(path).json()["title"] == "fine"  # nothing half-changed
            assert client.patch(path, json={"tags": ["kittens"]}).status_code == 200
    finally:
        svc.close()


def test_export_hands_an_owner_everything_and_erase_removes_it(
    owners: tuple[TestClient, TestClient],
    service: Service,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import json
    import zipfile

    from typer.testing import CliRunner

    from gifdist.cli import app as cli

    alice, bob = owners
    mine = [upload(alice, 77 + i, title=f"mine {i}") for i in range(3)]
    theirs = upload(bob, 90, title="bob's")
    link(alice, mine[0]["asset_id"], via="slack")
    alice_id = service.assets.get(mine[0]["asset_id"]).owner_key_id  # type: ignore[union-attr]
    monkeypatch.setenv("GIFDIST_DATA_DIR", str(service.settings.data_dir))
    monkeypatch.setenv("GIFDIST_DATABASE_URL", service.settings.resolved_database_url)
    runner = CliRunner()
    target = tmp_path / "alice.zip"
    exported = runner.invoke(cli, ["export", "--owner", alice_id, "-o", str(target)])
    assert exported.exit_code == 0, exported.output
    with zipfile.ZipFile(target) as archive:
        manifest = json.loads(archive.read("gifdist-export.json"))
        assert sorted(a["asset_id"] for a in manifest["assets"]) == sorted(
            m["asset_id"] for m in mine
        )
        first = next(a for a in manifest["assets"] if a["asset_id"] == mine[0]["asset_id"])
        assert first["links"][0]["via"] == "slack" and first["stats"]["views"] == 0
        gif = archive.read(first["file"])
        assert hashlib.sha256(gif).hexdigest() == mine[0]["sha256"]
        assert "bob" not in json.dumps(manifest)
    for m in mine:
        service.capture.record_event(m["asset_id"], EventType.PLAY, Platform.WEB, visitor="v9")
    service.events.flush()
    assert analytics_rows(service, mine[1]["asset_id"]) == (1, 1, 1)
    erased = runner.invoke(cli, ["erase", "--owner", alice_id, "--yes"])
    assert erased.exit_code == 0 and "erased 3 GIFs" in erased.output, erased.output
    assert all(analytics_rows(service, m["asset_id"]) == (0, 0, 0) for m in mine)
    service.capture.record_event(theirs["asset_id"], EventType.PLAY, Platform.WEB, visitor="v9")
    service.events.flush()
    assert analytics_rows(service, theirs["asset_id"]) == (1, 1, 1)
    time.sleep(2.1)  # another process, no Redis: this server's asset cache lives 2 s
    assert all(alice.get(f"/a/{m['asset_id']}.gif").status_code == 410 for m in mine)
    assert bob.get(f"/a/{theirs['asset_id']}.gif").status_code == 200
    again = runner.invoke(cli, ["erase", "--owner", alice_id, "--yes"])
    assert again.exit_code == 0 and "erased 0 GIFs" in again.output

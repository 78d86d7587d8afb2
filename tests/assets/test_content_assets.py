"""Content and assets: identical bytes are stored once, and each owner has their own GIF.

Deduplication saves bytes and work; it must never show one owner another's metadata,
reveal that a private copy exists, or let anyone compute another owner's asset id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import make_settings
from gif_factory import make_gif
from starlette.testclient import TestClient

from gifdist.accounts.keys import Scope
from gifdist.assets import AssetStatus
from gifdist.web.app import create_app
from gifdist.wiring import Service


@pytest.fixture
def two_owners(service: Service) -> Iterator[tuple[TestClient, TestClient]]:
    """In-process clients for two ordinary uploaders (no admin, no moderation scope)."""
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


def upload(client: TestClient, data: bytes, **fields: str) -> tuple[int, dict]:
    response = client.post(
        "/api/v1/assets", files={"file": ("x.gif", data, "image/gif")}, data=fields
    )
    return response.status_code, response.json()


def stored_blobs(service: Service) -> list[Path]:
    root = service.blobs.root
    return [p for p in root.rglob("*") if p.is_file() and p.relative_to(root).parts[0] != "tmp"]


def test_two_owners_of_identical_bytes_each_get_their_own_asset(
    two_owners: tuple[TestClient, TestClient], service: Service
) -> None:
    alice, bob = two_owners
    data = make_gif(seed=41)
    status_a, mine = upload(alice, data, title="Alice's secret", description="private notes")
    assert status_a == 201
    assert (
        alice.patch(f"/api/v1/assets/{mine['asset_id']}", json={"private": True}).status_code == 200
    )

    status_b, theirs = upload(bob, data, title="Bob's cat", tags="cat")
    assert status_b == 201, theirs
    assert theirs["asset_id"] != mine["asset_id"]
    assert (theirs["title"], theirs["tags"], theirs["private"]) == ("Bob's cat", ["cat"], False)
    assert theirs["already_uploaded"] is False
    text = str(theirs)
    assert "Alice" not in text and "private notes" not in text and mine["asset_id"] not in text
    # stored once, two assets
    assert len(stored_blobs(service)) == 1 and service.assets.count() == 2
    # bob cannot see or link alice's private asset; alice still sees her own text
    assert bob.get(f"/api/v1/assets/{mine['asset_id']}").status_code == 404
    page = bob.get(f"/a/{mine['asset_id']}")  # private: as for an unknown id, unsigned
    assert page.status_code == 404 and "Alice" not in page.text
    again = alice.get(f"/api/v1/assets/{mine['asset_id']}").json()
    assert (again["title"], again["private"]) == ("Alice's secret", True)
    # bob's public GIF is served from the shared bytes
    served = bob.get(f"/a/{theirs['asset_id']}.gif")
    assert hashlib.sha256(served.content).hexdigest() == hashlib.sha256(data).hexdigest()


def test_asset_ids_cannot_be_computed_from_the_bytes(
    two_owners: tuple[TestClient, TestClient],
) -> None:
    alice, bob = two_owners
    data = make_gif(seed=42)
    sha = hashlib.sha256(data).hexdigest()
    ids = {upload(alice, data)[1]["asset_id"], upload(bob, data)[1]["asset_id"]}
    assert len(ids) == 2
    assert not any(sha.startswith(asset_id) for asset_id in ids)


def test_reupload_by_the_same_owner_returns_their_asset_unchanged_and_says_so(
    two_owners: tuple[TestClient, TestClient], service: Service
) -> None:
    alice, _ = two_owners
    data = make_gif(seed=43)
    _, first = upload(alice, data, title="First title", tags="one")
    status, second = upload(alice, data, title="Second title", tags="two")
    assert status == 200
    assert second["asset_id"] == first["asset_id"]
    assert (second["title"], second["tags"]) == ("First title", ["one"])
    assert second["already_uploaded"] is True and "before" in second["message"]
    assert service.assets.count() == 1


def test_rejected_content_stays_blocked_for_another_owner(
    tmp_path: Path, database_url: str
) -> None:
    svc = Service(make_settings(tmp_path, database_url, moderation="async"))
    svc.background.clear()  # decisions are made by hand below
    try:
        alice, _ = svc.keys.create("alice")
        bob, _ = svc.keys.create("bob")
        with TestClient(create_app(service=svc), base_url="http://gifdist.test") as client:
            data = make_gif(seed=44)
            headers_a = {"Authorization": f"Bearer {alice}"}
            asset = client.post(
                "/api/v1/assets", files={"file": ("x.gif", data)}, headers=headers_a
            ).json()
            svc.review.decide(asset["asset_id"], "reject", "mod")
            refused = client.post(
                "/api/v1/assets",
                files={"file": ("x.gif", data)},
                headers={"Authorization": f"Bearer {bob}"},
            )
            assert refused.status_code == 422, refused.text
            assert refused.json()["error"]["code"] == "content_rejected"
            assert svc.assets.count() == 1
    finally:
        svc.close()


def test_rejecting_content_rejects_every_owners_asset_over_it(
    tmp_path: Path, database_url: str
) -> None:
    svc = Service(make_settings(tmp_path, database_url, moderation="async"))
    svc.background.clear()
    try:
        alice, alice_key = svc.keys.create("alice")
        bob, bob_key = svc.keys.create("bob")
        data = make_gif(seed=45)
        sinks = []
        for owner in (alice_key, bob_key):
            sink = svc.uploads.new_sink()
            sink.write(data)
            sinks.append(
                svc.uploads.ingest(sink, svc.uploads.clean_metadata("t", None, None), owner)
            )
        first, second = (r.asset for r in sinks)
        assert first.asset_id != second.asset_id
        svc.review.decide(first.asset_id, "reject", "mod")
        assert svc.catalog.require(second.asset_id).status is AssetStatus.REJECTED
        assert svc.blobs.local_path(first.sha256) is None  # quarantined
    finally:
        svc.close()


def test_local_uploads_without_an_owner_deduplicate_among_themselves(service: Service) -> None:
    data = make_gif(seed=46)
    results = []
    for title in ("one", "two"):
        sink = service.uploads.new_sink()
        sink.write(data)
        results.append(
            service.uploads.ingest(sink, service.uploads.clean_metadata(title, None, None), None)
        )
    assert [r.created for r in results] == [True, False]
    assert results[1].asset.title == "one"


def test_a_key_without_admin_scope_owns_what_it_uploads(service: Service) -> None:
    _, key = service.keys.create("uploader", [Scope.UPLOAD])
    sink = service.uploads.new_sink()
    sink.write(make_gif(seed=47))
    result = service.uploads.ingest(sink, service.uploads.clean_metadata("mine", None, None), key)
    assert result.asset.owner_key_id == key.key_id


def test_identical_bytes_are_scanned_once_for_every_owner(tmp_path: Path) -> None:
    """The second owner's text is checked on its own; the frames' verdict is reused."""
    from gifdist.moderation.visual_memory import REUSED

    svc = Service(make_settings(tmp_path, f"sqlite:///{tmp_path / 's.db'}", moderation="sync"))
    try:
        if svc.moderation.pipeline.scanner.visual_scanner is None:
            pytest.fail("the local visual scanner (gifdist[nsfw]) is part of the test install")
        _, alice = svc.keys.create("alice")
        _, bob = svc.keys.create("bob")
        data = make_gif(width=64, height=64, seed=48, pattern="stripes")
        sha = hashlib.sha256(data).hexdigest()
        results = []
        for owner, title in ((alice, "A dog"), (bob, "Same dog")):
            sink = svc.uploads.new_sink()
            sink.write(data)
            results.append(
                svc.uploads.ingest(sink, svc.uploads.clean_metadata(title, None, None), owner)
            )
        first, second = (r.asset for r in results)
        assert svc.assets.visual_verdict(sha) is not None
        assert not any(REUSED in r for r in first.moderation["reasons"])  # type: ignore[index]
        assert any(REUSED in r for r in second.moderation["reasons"])  # type: ignore[index]
        assert second.status is first.status is AssetStatus.APPROVED
    finally:
        svc.close()

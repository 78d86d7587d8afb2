"""Quotas are shown and enforced on upload with a clear 4xx; the account API."""

from __future__ import annotations

from gif_factory import make_gif
from starlette.testclient import TestClient

from gifdist.accounts.keys import Scope
from gifdist.accounts.users import Role
from gifdist.web.app import create_app
from gifdist.wiring import Service

SITE = "http://gifdist.test"
PASSWORD = "correct horse battery"


def _upload(api: TestClient, secret: str, colour: int) -> object:
    gif = make_gif(seed=colour)
    return api.post(
        "/api/v1/assets",
        files={"file": ("a.gif", gif, "image/gif")},
        headers={"Authorization": f"Bearer {secret}"},
    )


def test_uploads_past_the_daily_quota_get_429_with_a_message(service: Service) -> None:
    user = service.users.create("alice", PASSWORD)
    service.users.set_quota(user.user_id, bytes_stored=None, uploads_per_day=2)
    secret, _ = service.keys.create("cli", user_id=user.user_id)
    with TestClient(create_app(service=service), base_url=SITE) as api:
        assert _upload(api, secret, 10).status_code == 201
        assert _upload(api, secret, 20).status_code == 201
        again = _upload(api, secret, 10)
        assert again.status_code == 200  # the same bytes again: nothing new is stored
        refused = _upload(api, secret, 30)
        assert refused.status_code == 429, refused.text
        assert "uploads in the last 24 hours" in refused.json()["error"]["message"]
        me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).json()
        assert me["quota"]["uploads_last_24h"] == 2 and me["quota"]["max_uploads_per_day"] == 2
        assert me["quota"]["bytes_stored"] > 0


def test_uploads_past_the_storage_quota_get_413_and_store_nothing(service: Service) -> None:
    user = service.users.create("bob", PASSWORD)
    secret, _ = service.keys.create("cli", user_id=user.user_id)
    with TestClient(create_app(service=service), base_url=SITE) as api:
        assert _upload(api, secret, 10).status_code == 201
        used = service.quotas.usage(user).bytes_stored
        service.users.set_quota(user.user_id, bytes_stored=used + 10, uploads_per_day=None)
        refused = _upload(api, secret, 40)
        assert refused.status_code == 413, refused.text
        assert "storage quota" in refused.json()["error"]["message"]
        assert service.quotas.usage(service.users.get(user.user_id)).bytes_stored == used
        # operator keys have no quota
        admin = api.post(
            "/api/v1/assets",
            files={"file": ("a.gif", make_gif(seed=40), "image/gif")},
        )
        assert admin.status_code == 401  # no key at all
        operator = api.post(
            "/api/v1/assets",
            files={"file": ("a.gif", make_gif(seed=40), "image/gif")},
            headers={"Authorization": "Bearer test-admin-key-0123456789"},
        )
        assert operator.status_code == 201


def test_the_default_quota_applies_to_everyone(service: Service) -> None:
    service.quotas.max_uploads_per_day = 1
    user = service.users.create("carol", PASSWORD)
    secret, _ = service.keys.create("cli", user_id=user.user_id)
    with TestClient(create_app(service=service), base_url=SITE) as api:
        assert _upload(api, secret, 10).status_code == 201
        assert _upload(api, secret, 20).status_code == 429


def test_a_user_manages_their_keys_over_the_api(service: Service) -> None:
    user = service.users.create("dave", PASSWORD, Role.MEMBER)
    secret, first = service.keys.create("first", user_id=user.user_id)
    auth = {"Authorization": f"Bearer {secret}"}
    with TestClient(create_app(service=service), base_url=SITE) as api:
        made = api.post("/api/v1/me/keys", json={"name": "ci", "scopes": ["upload"]}, headers=auth)
        assert made.status_code == 201 and made.json()["key"].startswith("gd_")
        beyond = api.post(
            "/api/v1/me/keys", json={"name": "x", "scopes": ["moderate"]}, headers=auth
        )
        assert beyond.status_code == 403
        listed = api.get("/api/v1/me/keys", headers=auth).json()["keys"]
        assert [k["name"] for k in listed] == ["first", "ci"]
        assert api.get("/api/v1/users", headers=auth).status_code == 403
        other = service.users.create("erin", PASSWORD)
        _, theirs = service.keys.create("erin's", user_id=other.user_id)
        assert api.delete(f"/api/v1/me/keys/{theirs.key_id}", headers=auth).status_code == 404
        assert (
            api.delete(f"/api/v1/me/keys/{made.json()['key_id']}", headers=auth).status_code == 204
        )
        operator = api.get(
            "/api/v1/me", headers={"Authorization": "Bearer test-admin-key-0123456789"}
        )
        assert operator.status_code == 404
        users = api.get(
            "/api/v1/users", headers={"Authorization": "Bearer test-admin-key-0123456789"}
        )
        assert {u["username"] for u in users.json()["users"]} == {"dave", "erin"}
        assert "password_hash" not in users.text
    assert first.allows(Scope.UPLOAD)


def test_admins_invite_change_and_reset_users_over_the_api(service: Service) -> None:
    admin = service.users.create("root", PASSWORD, Role.ADMIN)
    root_key, _ = service.keys.create("root", (Scope.ADMIN,), user_id=admin.user_id)
    target = service.users.create("frank", PASSWORD)
    member_key, _ = service.keys.create("frank", user_id=target.user_id)
    auth = {"Authorization": f"Bearer {root_key}"}
    with TestClient(create_app(service=service), base_url=SITE) as api:
        invite = api.post("/api/v1/users/invites", json={"role": "moderator"}, headers=auth)
        assert invite.status_code == 201 and invite.json()["url"].startswith(f"{SITE}/invite/")
        token = invite.json()["url"].rsplit("/", 1)[1]
        assert service.users.accept_invite(token, "newmod", PASSWORD).role is Role.MODERATOR
        bad = api.post("/api/v1/users/invites", json={"role": "boss"}, headers=auth)
        assert bad.status_code == 400
        member = {"Authorization": f"Bearer {member_key}"}
        assert api.post("/api/v1/users/invites", json={}, headers=member).status_code == 403
        changed = api.patch(
            f"/api/v1/users/{target.user_id}", json={"role": "moderator"}, headers=auth
        )
        assert changed.status_code == 200 and changed.json()["role"] == "moderator"
        reset = api.post(f"/api/v1/users/{target.user_id}/reset", headers=auth)
        assert reset.status_code == 201 and "/reset/" in reset.json()["url"]
        off = api.patch(f"/api/v1/users/{target.user_id}", json={"disabled": True}, headers=auth)
        assert off.status_code == 200 and off.json()["disabled"] is True
        assert api.get("/api/v1/assets", headers=member).status_code == 401  # keys stop at once
        self_change = api.patch(
            f"/api/v1/users/{admin.user_id}", json={"disabled": True}, headers=auth
        )
        assert self_change.status_code == 403
        assert (
            api.patch("/api/v1/users/nobody", json={"role": "member"}, headers=auth).status_code
            == 404
        )


def test_racing_uploads_cannot_pass_the_quota_together(service: Service, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Six uploads at once from one user with two uploads a day left: two are stored,
    four refused. The quota is checked again inside each upload's transaction, under the
    owner's lock, so uploads that all passed the early check cannot all be stored."""
    import threading

    from gifdist.errors import TooManyRequests

    user = service.users.create("racer", PASSWORD)
    service.users.set_quota(user.user_id, bytes_stored=None, uploads_per_day=2)
    secret, _ = service.keys.create("cli", user_id=user.user_id)
    key = service.keys.verify(secret)
    files = []
    for n in range(6):
        path = tmp_path / f"{n}.gif"
        path.write_bytes(make_gif(width=48, height=48, frames=6, seed=200 + n, pattern="noise"))
        files.append(path)
    start = threading.Barrier(len(files))
    outcomes: list[object] = []

    def upload(path) -> None:  # type: ignore[no-untyped-def]
        start.wait()
        try:
            meta = service.uploads.clean_metadata(path.name, None, None)
            outcomes.append(service.uploads.ingest_file(path, meta, key))
        except TooManyRequests as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=upload, args=(path,)) for path in files]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    refused = [o for o in outcomes if isinstance(o, TooManyRequests)]
    assert len(outcomes) == 6 and len(refused) == 4, outcomes
    assert all(o.code == "quota_uploads" for o in refused)
    assert service.quotas.usage(service.users.get(user.user_id)).uploads_today == 2

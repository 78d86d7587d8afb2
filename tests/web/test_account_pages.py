"""Signing in as a person, the account page and the admin's users page, over HTTP."""

from __future__ import annotations

import re

import pyotp
import pytest
from starlette.testclient import TestClient

from gifdist.accounts.keys import Scope
from gifdist.accounts.users import Role, User
from gifdist.web.app import create_app
from gifdist.web.session import COOKIE
from gifdist.wiring import Service

SITE = "http://gifdist.test"
SAME = {"Origin": SITE, "Sec-Fetch-Site": "same-origin"}
PASSWORD = "correct horse battery"


@pytest.fixture
def browser(service: Service) -> TestClient:
    with TestClient(create_app(service=service), base_url=SITE) as client:
        yield client


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> object:
    return client.post(
        "/signin",
        data={"username": username, "password": password, "next": "/account"},
        headers=SAME,
        follow_redirects=False,
    )


def csrf_of(client: TestClient, path: str = "/account") -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert found, path
    return found.group(1)


def fresh_cookie_works(service: Service, cookie: str) -> bool:
    with TestClient(create_app(service=service), base_url=SITE) as other:
        other.cookies.set(COOKIE, cookie)
        return other.get("/account", follow_redirects=False).status_code == 200


def member(service: Service, name: str = "alice", role: Role = Role.MEMBER) -> User:
    return service.users.create(name, PASSWORD, role)


def test_password_sign_in_opens_the_account_page(browser: TestClient, service: Service) -> None:
    member(service)
    response = sign_in(browser, "Alice")
    assert response.status_code == 303 and response.headers["location"] == "/account"
    page = browser.get("/account")
    assert page.status_code == 200 and "alice" in page.text and "member" in page.text


def test_a_wrong_password_and_an_unknown_user_read_the_same(
    browser: TestClient, service: Service
) -> None:
    member(service)
    wrong = sign_in(browser, "alice", "not the password")
    unknown = sign_in(browser, "nobody", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    message = "wrong username or password"
    assert message in wrong.text and message in unknown.text
    assert COOKIE not in wrong.cookies


def test_a_megabyte_password_is_refused_cleanly(browser: TestClient, service: Service) -> None:
    member(service)
    response = sign_in(browser, "alice", "p" * (1024 * 1024))
    assert response.status_code in (401, 413)
    assert "Traceback" not in response.text
    almost = sign_in(browser, "alice", "p" * (900 * 1024))
    assert almost.status_code == 401 and "wrong username or password" in almost.text


def test_another_site_cannot_sign_anyone_in(browser: TestClient, service: Service) -> None:
    member(service)
    response = browser.post(
        "/signin",
        data={"username": "alice", "password": PASSWORD},
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
        follow_redirects=False,
    )
    assert response.status_code == 403 and COOKIE not in response.cookies


def test_sign_in_is_limited_per_account(browser: TestClient, service: Service) -> None:
    member(service)
    for _ in range(10):
        assert sign_in(browser, "alice", "not the password").status_code == 401
    refused = sign_in(browser, "alice")
    assert refused.status_code == 429 and "too many sign-in attempts" in refused.text


def test_keys_are_made_seen_and_revoked_in_the_browser(
    browser: TestClient, service: Service
) -> None:
    user = member(service)
    sign_in(browser, "alice")
    csrf = csrf_of(browser)
    made = browser.post(
        "/account/keys",
        data={"csrf": csrf, "name": "laptop", "scope": ["upload", "read"]},
        headers=SAME,
    )
    assert made.status_code == 200
    secret = re.search(r'<code id="new-key">([^<]+)</code>', made.text)
    assert secret and secret.group(1).startswith("gd_")
    key = service.keys.verify(secret.group(1))
    assert key.user_id == user.user_id and key.owner_id == user.user_id
    page = browser.get("/account").text
    assert "laptop" in page and secret.group(1) not in page  # shown once
    assert re.search(
        r"laptop</td>\s*<td>read upload</td>.*?<td>\d{4}-\d\d-\d\d \d\d:00</td>", page, re.S
    )
    beyond = browser.post(
        "/account/keys", data={"csrf": csrf, "name": "root", "scope": ["admin"]}, headers=SAME
    )
    assert beyond.status_code == 403 and "does not have: admin" in beyond.text
    no_csrf = browser.post(f"/account/keys/{key.key_id}/revoke", data={}, headers=SAME)
    assert no_csrf.status_code == 403
    revoked = browser.post(
        f"/account/keys/{key.key_id}/revoke",
        data={"csrf": csrf},
        headers=SAME,
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    api = TestClient(create_app(service=service), base_url=SITE)
    assert (
        api.get(
            "/api/v1/assets", headers={"Authorization": f"Bearer {secret.group(1)}"}
        ).status_code
        == 401
    )


def test_one_user_cannot_revoke_anothers_key(browser: TestClient, service: Service) -> None:
    other = member(service, "bob")
    _, key = service.keys.create("bob's", user_id=other.user_id)
    member(service)
    sign_in(browser, "alice")
    response = browser.post(
        f"/account/keys/{key.key_id}/revoke", data={"csrf": csrf_of(browser)}, headers=SAME
    )
    assert response.status_code == 404
    assert service.keys.store.find_by_id(key.key_id).revoked_at is None  # type: ignore[union-attr]


def test_totp_is_asked_for_and_a_replayed_code_refused(
    browser: TestClient, service: Service
) -> None:
    member(service)
    sign_in(browser, "alice")
    csrf = csrf_of(browser)
    setup = browser.post("/account/totp/start", data={"csrf": csrf}, headers=SAME)
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', setup.text)
    assert secret
    totp = pyotp.TOTP(secret.group(1))
    bad = browser.post(
        "/account/totp/enable",
        data={
            "csrf": csrf,
            "secret": secret.group(1),
            "code": "000000" if totp.now() != "000000" else "111111",
        },
        headers=SAME,
    )
    assert bad.status_code == 400
    code = totp.now()
    on = browser.post(
        "/account/totp/enable",
        data={"csrf": csrf, "secret": secret.group(1), "code": code},
        headers=SAME,
        follow_redirects=False,
    )
    assert on.status_code == 303
    with TestClient(create_app(service=service), base_url=SITE) as other:
        step = sign_in(other, "alice")
        assert step.status_code == 200 and "Your code" in step.text and COOKIE not in step.cookies
        ticket = re.search(r'name="ticket" value="([^"]+)"', step.text)
        assert ticket
        replay = other.post(
            "/signin/totp",
            data={"ticket": ticket.group(1), "code": code, "next": "/account"},
            headers=SAME,
            follow_redirects=False,
        )
        assert replay.status_code == 401  # the code that turned TOTP on is spent
        forged = other.post(
            "/signin/totp",
            data={"ticket": ticket.group(1) + "x", "code": code},
            headers=SAME,
            follow_redirects=False,
        )
        assert forged.status_code == 401 and COOKIE not in forged.cookies


def test_disabling_a_user_ends_their_live_session_at_once(
    browser: TestClient, service: Service
) -> None:
    user = member(service)
    cookie = sign_in(browser, "alice").cookies[COOKIE]  # type: ignore[attr-defined]
    assert fresh_cookie_works(service, cookie)
    service.users.disable(user.user_id)
    assert not fresh_cookie_works(service, cookie)
    service.users.enable(user.user_id)
    assert not fresh_cookie_works(service, cookie)  # ended, not paused


def test_password_change_keeps_this_browser_and_ends_the_others(
    browser: TestClient, service: Service
) -> None:
    member(service)
    elsewhere = TestClient(create_app(service=service), base_url=SITE)
    other_cookie = sign_in(elsewhere, "alice").cookies[COOKIE]  # type: ignore[attr-defined]
    sign_in(browser, "alice")
    changed = browser.post(
        "/account/password",
        data={
            "csrf": csrf_of(browser),
            "current": PASSWORD,
            "password": "a new password here",
            "confirm": "a new password here",
        },
        headers=SAME,
        follow_redirects=False,
    )
    assert changed.status_code == 303
    assert browser.get("/account", follow_redirects=False).status_code == 200
    assert not fresh_cookie_works(service, other_cookie)


def test_an_invite_link_makes_an_account_once(browser: TestClient, service: Service) -> None:
    token, _ = service.users.invite(Role.MODERATOR, "admin")
    form = browser.get(f"/invite/{token}")
    assert form.status_code == 200 and "moderator" in form.text
    mismatch = browser.post(
        f"/invite/{token}",
        data={"username": "newbie", "password": PASSWORD, "confirm": PASSWORD + "x"},
        headers=SAME,
    )
    assert mismatch.status_code == 400 and "differ" in mismatch.text
    look_alike = browser.post(
        f"/invite/{token}",
        data={"username": "pаypal", "password": PASSWORD, "confirm": PASSWORD},
        headers=SAME,
    )
    assert look_alike.status_code == 400 and "looks like another name" in look_alike.text
    joined = browser.post(
        f"/invite/{token}",
        data={"username": "newbie", "password": PASSWORD, "confirm": PASSWORD},
        headers=SAME,
        follow_redirects=False,
    )
    assert joined.status_code == 303 and joined.headers["location"] == "/account"
    assert service.users.find("newbie").role is Role.MODERATOR
    again = TestClient(create_app(service=service), base_url=SITE)
    assert again.get(f"/invite/{token}").status_code == 410
    assert again.get("/invite/nonsense").status_code == 404


def test_the_admin_invites_changes_roles_disables_and_makes_reset_links(
    browser: TestClient, service: Service
) -> None:
    member(service, "root", Role.ADMIN)
    target = member(service, "bob")
    sign_in(browser, "root")
    csrf = csrf_of(browser, "/admin/users")
    invite = browser.post(
        "/admin/users/invite", data={"csrf": csrf, "role": "member"}, headers=SAME
    )
    assert re.search(
        r'<code id="one-time-link">http://gifdist.test/invite/[\w-]+</code>', invite.text
    )
    role = browser.post(
        f"/admin/users/{target.user_id}",
        data={"csrf": csrf, "action": "role", "role": "moderator"},
        headers=SAME,
        follow_redirects=False,
    )
    assert role.status_code == 303 and service.users.get(target.user_id).role is Role.MODERATOR
    reset = browser.post(
        f"/admin/users/{target.user_id}", data={"csrf": csrf, "action": "reset"}, headers=SAME
    )
    link = re.search(r"/reset/([\w-]+)</code>", reset.text)
    assert link
    with TestClient(create_app(service=service), base_url=SITE) as bob:
        done = bob.post(
            f"/reset/{link.group(1)}",
            data={"password": "bob's new password", "confirm": "bob's new password"},
            headers=SAME,
            follow_redirects=False,
        )
        assert done.status_code == 303
        assert bob.get(f"/reset/{link.group(1)}").status_code == 410
    browser.post(
        f"/admin/users/{target.user_id}", data={"csrf": csrf, "action": "disable"}, headers=SAME
    )
    assert not service.users.get(target.user_id).active


def test_members_cannot_open_the_users_page(browser: TestClient, service: Service) -> None:
    target = member(service, "bob")
    member(service)
    sign_in(browser, "alice")
    assert browser.get("/admin/users").status_code == 403
    csrf = csrf_of(browser)
    browser.post(
        f"/admin/users/{target.user_id}", data={"csrf": csrf, "action": "disable"}, headers=SAME
    )
    assert service.users.get(target.user_id).active


def test_a_members_gifs_are_theirs_and_an_admin_sees_all(service: Service) -> None:
    alice, bob = member(service), member(service, "bob")
    from gif_factory import make_gif

    a_key, _ = service.keys.create("a", user_id=alice.user_id)
    a_second, _ = service.keys.create("a2", user_id=alice.user_id)
    b_key, _ = service.keys.create("b", user_id=bob.user_id)
    with TestClient(create_app(service=service), base_url=SITE) as api:
        uploaded = api.post(
            "/api/v1/assets",
            files={"file": ("a.gif", make_gif(), "image/gif")},
            headers={"Authorization": f"Bearer {a_key}"},
        )
        assert uploaded.status_code == 201, uploaded.text
        asset_id = uploaded.json()["asset_id"]

        def listed(secret: str) -> list[str]:
            body = api.get("/api/v1/assets", headers={"Authorization": f"Bearer {secret}"}).json()
            return [item["asset_id"] for item in body["assets"]]

        assert listed(a_second) == [asset_id]  # any of her keys
        assert listed(b_key) == []
        admin = member(service, "root", Role.ADMIN)
        root_key, _ = service.keys.create("r", (Scope.ADMIN,), user_id=admin.user_id)
        assert listed(root_key) == [asset_id]
        plain_key, _ = service.keys.create("r2", user_id=admin.user_id)
        assert listed(plain_key) == []  # an admin's key without the admin scope is narrower


def test_a_role_change_ends_the_users_sessions(browser: TestClient, service: Service) -> None:
    user = member(service)
    cookie = sign_in(browser, "alice").cookies[COOKIE]  # type: ignore[attr-defined]
    service.users.set_role(user.user_id, Role.MODERATOR)
    assert not fresh_cookie_works(service, cookie)
    assert sign_in(browser, "alice").status_code == 303
    assert "moderator" in browser.get("/account").text


def test_open_sign_up_only_when_the_deployment_allows_it(
    browser: TestClient, service: Service
) -> None:
    form = {"username": "walkin", "password": PASSWORD, "confirm": PASSWORD}
    assert browser.get("/signup").status_code == 403
    closed = browser.post("/signup", data=form, headers=SAME)
    assert closed.status_code == 403 and "invite" in closed.text
    service.users.signup = True
    joined = browser.post("/signup", data=form, headers=SAME, follow_redirects=False)
    assert joined.status_code == 303 and service.users.find("walkin").role is Role.MEMBER
    cross = browser.post(
        "/signup",
        data={**form, "username": "other"},
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert cross.status_code == 403

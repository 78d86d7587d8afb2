"""The HTML pages and their forms, cookies, headers, multipart uploads, the GIF-API
compatible routes and oEmbed answer hostile input with a 4xx or a normal page, never a
500 (on SQLite and on PostgreSQL, which cannot store a NUL and checks VARCHAR lengths)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from conftest import ADMIN_KEY, make_settings
from gif_factory import make_gif
from starlette.testclient import TestClient

from gifdist.accounts.users import Role
from gifdist.config import Settings
from gifdist.web.app import create_app
from gifdist.web.session import COOKIE
from gifdist.wiring import Service

SITE = "http://gifdist.test"
SAME = {"Origin": SITE, "Sec-Fetch-Site": "same-origin"}
PASSWORD = "correct horse battery"

HOSTILE = [
    "a\x00b",
    "\x00",
    "x" * 5000,
    "\u202egif\u202c",
    "9" * 40,
    "-1",
    "../etc/passwd",
    "💥" * 300,
    "<script>alert(1)</script>",
    " ",
]
# form bodies and query strings as raw bytes: invalid UTF-8 and encoded surrogates
# JSON can carry what a form cannot: a lone surrogate ("\ud800" on the wire)
JSON_HOSTILE = [*HOSTILE, "\ud800x", "a\udfff"]
RAW_VALUES = [b"%ff%fe", b"%ed%a0%80", b"a%00b", b"%c0%80"]


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url, signup=True)


@pytest.fixture
def browser(service: Service) -> Iterator[TestClient]:
    with TestClient(create_app(service=service), base_url=SITE) as client:
        yield client


def seg(value: str) -> str:
    """``value`` as one path segment (percent-encoded: the client sends no raw NUL)."""
    return quote(value, safe="")


def assert_clean(response: Any, context: object) -> None:
    assert response.status_code < 500, (context, response.status_code, response.text[:400])
    assert "Traceback" not in response.text, context


def form_bodies(fields: list[str], extra: dict[str, str] | None = None) -> Iterator[Any]:
    """Each field holding each hostile value (the others empty or as in ``extra``)."""
    for field in fields:
        for value in HOSTILE:
            yield field, {**(extra or {}), field: value}


def raw_form(field: str, raw: bytes, extra: dict[str, str] | None = None) -> bytes:
    parts = [f"{k}={v}".encode() for k, v in (extra or {}).items() if k != field]
    return b"&".join([*parts, field.encode() + b"=" + raw])


def post_raw(client: TestClient, path: str, body: bytes) -> Any:
    headers = {**SAME, "Content-Type": "application/x-www-form-urlencoded"}
    return client.post(path, content=body, headers=headers, follow_redirects=False)


def send_json(client: TestClient, method: str, path: str, body: object, headers: Any) -> Any:
    """``body`` as ASCII JSON, so a lone surrogate goes over the wire as ``\\ud800``."""
    content = json.dumps(body).encode()
    return client.request(
        method, path, content=content, headers={**headers, "Content-Type": "application/json"}
    )


def upload(client: TestClient, seed: int, **fields: str) -> str:
    data = make_gif(seed=seed)
    response = client.post(
        "/api/v1/assets",
        files={"file": ("a.gif", data, "image/gif")},
        data=fields,
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    )
    assert response.status_code == 201, response.text
    asset_id: str = response.json()["asset_id"]
    return asset_id


def sign_in_member(browser: TestClient, service: Service, name: str = "alice") -> str:
    service.users.create(name, PASSWORD, Role.MEMBER)
    response = browser.post(
        "/signin",
        data={"username": name, "password": PASSWORD, "next": "/account"},
        headers=SAME,
        follow_redirects=False,
    )
    assert response.status_code == 303
    found = re.search(r'name="csrf" value="([^"]+)"', browser.get("/account").text)
    assert found
    return found.group(1)


def sign_in_admin(browser: TestClient) -> str:
    response = browser.post(
        "/signin", data={"key": ADMIN_KEY}, headers=SAME, follow_redirects=False
    )
    assert response.status_code == 303
    found = re.search(r'name="csrf" value="([^"]+)"', browser.get("/admin/users").text)
    assert found
    return found.group(1)


# forms without a session ---------------------------------------------------------------


def test_sign_in_sign_up_invite_and_reset_forms_refuse_hostile_fields(
    browser: TestClient, service: Service
) -> None:
    service.users.create("bob", PASSWORD, Role.MEMBER)
    invite, _ = service.users.invite(Role.MEMBER, "test")
    forms: list[tuple[str, list[str], dict[str, str]]] = [
        ("/signin", ["username", "password", "key", "next"], {"password": "x"}),
        ("/signin/totp", ["ticket", "code", "next"], {}),
        ("/signup", ["username", "password", "confirm"], {"password": PASSWORD}),
        (f"/invite/{invite}", ["username", "password", "confirm"], {"password": PASSWORD}),
        ("/invite/not-a-token", ["username", "password"], {}),
        ("/reset/not-a-token", ["password", "confirm"], {}),
    ]
    for path, fields, extra in forms:
        for field, body in form_bodies(fields, extra):
            if field == "password" and "confirm" in fields:
                body = {**body, "confirm": body["password"]}
            response = browser.post(path, data=body, headers=SAME, follow_redirects=False)
            assert_clean(response, (path, field, body[field][:20]))
            browser.cookies.clear()
        for field in fields:
            for raw in RAW_VALUES:
                response = post_raw(browser, path, raw_form(field, raw, extra))
                assert_clean(response, (path, field, raw))
                browser.cookies.clear()
    for value in HOSTILE:
        segment = seg(value)
        for path in (f"/invite/{segment}", f"/reset/{segment}"):
            assert_clean(browser.get(path), path)
            assert_clean(
                browser.post(path, data={"password": "p", "confirm": "p"}, headers=SAME), path
            )
        assert_clean(browser.get("/signin", params={"next": value}), ("signin next", value))
        assert_clean(browser.get("/signin/oidc", params={"next": value}), ("oidc", value))
    # nothing stored was damaged: bob still signs in, the invite still works
    ok = browser.post(
        "/signin",
        data={"username": "bob", "password": PASSWORD},
        headers=SAME,
        follow_redirects=False,
    )
    assert ok.status_code == 303
    assert browser.get(f"/invite/{invite}").status_code == 200


def test_a_signed_ticket_with_a_hostile_user_id_is_refused(
    browser: TestClient, service: Service
) -> None:
    from itsdangerous import URLSafeTimedSerializer

    signer = URLSafeTimedSerializer(service.secret_key, salt="gifdist.signin-totp")
    for value in HOSTILE:
        ticket = signer.dumps({"u": value, "e": value})
        response = browser.post(
            "/signin/totp", data={"ticket": ticket, "code": "123456"}, headers=SAME
        )
        assert_clean(response, ("ticket", value[:20]))


# forms with a session --------------------------------------------------------------------


def test_account_forms_refuse_hostile_fields(browser: TestClient, service: Service) -> None:
    csrf = sign_in_member(browser, service)
    forms: list[tuple[str, list[str], dict[str, str]]] = [
        ("/account/keys", ["name", "scope"], {"name": "laptop", "scope": "read"}),
        ("/account/keys/abc/revoke", ["csrf"], {}),
        ("/account/password", ["current", "password", "confirm"], {"current": PASSWORD}),
        ("/account/totp/start", ["csrf"], {}),
        ("/account/totp/enable", ["secret", "code"], {"secret": "JBSWY3DPEHPK3PXP"}),
        ("/account/totp/disable", ["password"], {}),
    ]
    for path, fields, extra in forms:
        for field, body in form_bodies(fields, {"csrf": csrf, **extra}):
            if field == "password" and "confirm" in fields:
                body = {**body, "confirm": body["password"]}
            response = browser.post(path, data=body, headers=SAME, follow_redirects=False)
            assert_clean(response, (path, field, body[field][:20]))
        for field in fields:
            for raw in RAW_VALUES:
                response = post_raw(browser, path, raw_form(field, raw, {"csrf": csrf, **extra}))
                assert_clean(response, (path, field, raw))
    for value in HOSTILE:
        path = f"/account/keys/{seg(value)}/revoke"
        assert_clean(browser.post(path, data={"csrf": csrf}, headers=SAME), path)
    assert browser.get("/account").status_code == 200  # still signed in, page renders


def test_admin_users_forms_refuse_hostile_fields(browser: TestClient, service: Service) -> None:
    user = service.users.create("carol", PASSWORD, Role.MEMBER)
    csrf = sign_in_admin(browser)
    for field, body in form_bodies(["role", "csrf"], {"csrf": csrf}):
        response = browser.post("/admin/users/invite", data=body, headers=SAME)
        assert_clean(response, ("invite", field, body[field][:20]))
    for value in HOSTILE:
        segment = seg(value)
        for action in ("role", "disable", "enable", "reset", value):
            response = browser.post(
                f"/admin/users/{segment}",
                data={"csrf": csrf, "action": action, "role": value},
                headers=SAME,
            )
            assert_clean(response, ("users", value[:20], action[:20]))
        response = browser.post(
            f"/admin/users/{user.user_id}",
            data={"csrf": csrf, "action": "role", "role": value},
            headers=SAME,
        )
        assert_clean(response, ("role", value[:20]))
    assert service.users.get(user.user_id).role is Role.MEMBER


def test_moderation_page_and_decisions_refuse_hostile_values(
    browser: TestClient, service: Service
) -> None:
    asset_id = upload(browser, 301)
    csrf = sign_in_admin(browser)
    for value in HOSTILE:
        for name in ("status", "asset_id", "decision", "from", "to", "decided"):
            response = browser.get("/moderation", params={name: value})
            assert_clean(response, ("moderation", name, value[:20]))
        segment = seg(value)
        response = browser.post(
            f"/moderation/{segment}/decision",
            data={"csrf": csrf, "decision": "approve"},
            headers=SAME,
            follow_redirects=False,
        )
        assert_clean(response, ("decision path", value[:20]))
        for field in ("decision", "notes", "status"):
            body = {"csrf": csrf, "decision": "flag", "notes": "", "status": "", field: value}
            response = browser.post(
                f"/moderation/{asset_id}/decision", data=body, headers=SAME, follow_redirects=False
            )
            assert_clean(response, ("decision", field, value[:20]))
    for raw in RAW_VALUES:
        body = raw_form("notes", raw, {"csrf": csrf, "decision": "flag"})
        assert_clean(post_raw(browser, f"/moderation/{asset_id}/decision", body), raw)
    assert browser.get("/moderation").status_code == 200
    assert service.review.verify()["valid"]  # the audit chain is intact


# pages with query strings ---------------------------------------------------------------


def test_pages_survive_hostile_query_values(browser: TestClient, service: Service) -> None:
    asset_id = upload(browser, 302, title="a public one", tags="cats")
    sign_in_admin(browser)
    names = ["q", "tag", "offset", "page", "from", "to", "interval", "asset_id", "status", "next"]
    pages = ["/", "/gifs", "/gifs/more", "/library", "/dashboard", "/upload", f"/a/{asset_id}"]
    pages += [f"/a/{asset_id}/player", "/account", "/admin/users", "/oembed"]
    for path in pages:
        for value in HOSTILE:
            params = dict.fromkeys(names, value)
            params["url"] = value
            assert_clean(browser.get(path, params=params), (path, value[:20]))
        for raw in RAW_VALUES:
            query = b"&".join(n.encode() + b"=" + raw for n in [*names, "url"]).decode()
            assert_clean(browser.get(f"{path}?{query}"), (path, raw))
    for value in HOSTILE:
        url = f"{SITE}/a/{value}"
        assert_clean(browser.get("/oembed", params={"url": url}), ("oembed", value[:20]))
        url = f"{SITE}/s/{value}"
        assert_clean(browser.get("/oembed", params={"url": url, "maxwidth": value}), url[:40])


def test_gif_api_compatible_routes_survive_hostile_values(browser: TestClient) -> None:
    upload(browser, 303, title="dancing", tags="dance")
    names = ["q", "key", "api_key", "limit", "pos", "offset", "ids", "id", "media_filter"]
    names += ["rating", "locale", "country", "contentfilter", "lang", "type", "client_key"]
    routes = ["/v2/search", "/v2/featured", "/v2/posts", "/v2/categories", "/v2/autocomplete"]
    routes += ["/v2/search_suggestions", "/v2/trending_terms", "/v2/registershare"]
    routes += ["/v1/gifs/search", "/v1/gifs/trending", "/v1/gifs/search/tags", "/v1/gifs"]
    for value in HOSTILE:
        routes_here = [*routes, f"/v1/gifs/{seg(value)}"]
        for path in routes_here:
            for name in names:
                response = browser.get(path, params={"q": "dance", name: value})
                assert_clean(response, (path, name, value[:20]))
        response = browser.post("/v2/registershare", params={"id": value, "q": value})
        assert_clean(response, ("registershare", value[:20]))
    for path in routes:
        for raw in RAW_VALUES:
            query = b"&".join(n.encode() + b"=" + raw for n in names).decode()
            assert_clean(browser.get(f"{path}?{query}"), (path, raw))


# the unlock form of a password link -------------------------------------------------------


def test_unlock_form_refuses_hostile_passwords_and_codes(browser: TestClient) -> None:
    asset_id = upload(browser, 304)
    link = browser.post(
        f"/api/v1/assets/{asset_id}/links",
        json={"password": "open sesame"},
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    )
    assert link.status_code == 201, link.text
    code = link.json()["short_code"]
    for value in HOSTILE:
        response = browser.post(f"/s/{code}", data={"password": value}, follow_redirects=False)
        assert_clean(response, ("unlock", value[:20]))
        segment = seg(value)
        response = browser.post(f"/s/{segment}", data={"password": "x"}, follow_redirects=False)
        assert_clean(response, ("unlock code", value[:20]))
    for raw in RAW_VALUES:
        response = browser.post(
            f"/s/{code}",
            content=b"password=" + raw,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            follow_redirects=False,
        )
        assert_clean(response, ("unlock raw", raw))


def test_link_creation_refuses_out_of_range_numbers_and_hostile_text(
    browser: TestClient,
) -> None:
    asset_id = upload(browser, 305)
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    bodies: list[dict[str, Any]] = []
    for number in (2**63, -(2**63) - 1, 10**30, 2**31, -1, 0):
        bodies += [{"max_clicks": number}, {"expires_in": number}]
    for value in JSON_HOSTILE:
        bodies += [{"slug": value}, {"password": value}, {"expires_at": value}, {"via": value}]
        bodies += [{"title": value}, {"tags": [value]}]
    for body in bodies:
        response = send_json(browser, "POST", f"/api/v1/assets/{asset_id}/links", body, admin)
        assert_clean(response, ("link", str(body)[:60]))
    for number in (2**63, 10**30, -(2**63) - 1):
        response = browser.post(
            f"/api/v1/assets/{asset_id}/signed-url", json={"expires_in": number}, headers=admin
        )
        assert_clean(response, ("signed-url", number))


# multipart uploads -------------------------------------------------------------------------


def test_uploads_refuse_or_clean_hostile_text_fields(browser: TestClient, service: Service) -> None:
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    for index, value in enumerate(HOSTILE):
        for field in ("title", "tags", "description", "unknown"):
            data = make_gif(
                seed=400 + index * 4 + ("title", "tags", "description", "unknown").index(field)
            )
            response = browser.post(
                "/api/v1/assets",
                files={"file": ("a\x00.gif", data, "image/gif")},
                data={field: value},
                headers=admin,
            )
            assert_clean(response, ("upload", field, value[:20]))
            if response.status_code == 201:
                record = service.catalog.get(response.json()["asset_id"])
                assert record is not None
                assert "\x00" not in record.title and all("\x00" not in t for t in record.tags)
    raw_title = b"\xff\xfe\xed\xa0\x80"
    boundary = b"hostileboundary"
    body = (
        b"--"
        + boundary
        + b'\r\nContent-Disposition: form-data; name="title"\r\n\r\n'
        + raw_title
        + b"\r\n--"
        + boundary
        + b'\r\nContent-Disposition: form-data; name="file"; filename="a.gif"\r\n'
        b"Content-Type: image/gif\r\n\r\n" + make_gif(seed=460) + b"\r\n--" + boundary + b"--\r\n"
    )
    response = browser.post(
        "/api/v1/assets",
        content=body,
        headers={**admin, "Content-Type": "multipart/form-data; boundary=hostileboundary"},
    )
    assert_clean(response, "invalid UTF-8 title")


# cookies and headers ------------------------------------------------------------------------


def test_hostile_cookies_and_headers_are_ignored_or_refused(
    browser: TestClient, service: Service
) -> None:
    asset_id = upload(browser, 306)
    pages = ["/", "/upload", "/account", "/library", "/gifs", f"/a/{asset_id}", "/api/v1/assets"]
    cookie_values = [*HOSTILE, "a.b.c", '"quoted"', "%00", "x" * 4096]
    for value in cookie_values:
        for name in (COOKIE, "gifdist_oidc"):
            for path in pages:
                headers = {"Cookie": f"{name}=".encode() + value.encode()}
                response = browser.get(path, headers=headers, follow_redirects=False)
                assert_clean(response, ("cookie", name, value[:20], path))
    header_values = [
        b"a\x00b",
        b"\xff\xfe",
        b"Bearer a\x00b",
        b"Bearer \xff",
        b"Bearer " + b"x" * 5000,
    ]
    header_values += [b"Basic Og==", b"Bearer", b"Bearer  ", "Bearer \u202e".encode()]
    for value in header_values:
        for name in ("Authorization", "traceparent", "tracestate", "X-Request-Id", "Cookie"):
            for path in pages:
                try:
                    response = browser.get(path, headers={name: value}, follow_redirects=False)
                except Exception as exc:  # the client itself refused to send it
                    if type(exc).__name__ in ("LocalProtocolError", "InvalidHeader"):
                        continue
                    raise
                assert_clean(response, ("header", name, value[:20], path))
            response = browser.post(
                f"/api/v1/assets/{asset_id}/links", json={}, headers={name: value}
            )
            assert_clean(response, ("header post", name, value[:20]))
    assert service.catalog.get(asset_id) is not None


def test_json_text_fields_refuse_nul_and_lone_surrogates(
    browser: TestClient, service: Service
) -> None:
    asset_id = upload(browser, 307, title="kept title")
    sign_in_member(browser, service)
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    csrf = re.search(r'name="csrf" value="([^"]+)"', browser.get("/account").text)
    assert csrf
    member = {"X-CSRF-Token": csrf.group(1)}
    for value in JSON_HOSTILE:
        probes: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
            ("PATCH", f"/api/v1/assets/{asset_id}", {"title": value}, admin),
            ("PATCH", f"/api/v1/assets/{asset_id}", {"tags": [value]}, admin),
            ("PATCH", f"/api/v1/assets/{asset_id}", {"description": value}, admin),
            ("POST", "/api/v1/me/keys", {"name": value}, member),
            ("POST", f"/api/v1/assets/{asset_id}/report", {"reason": value}, {}),
            (
                "POST",
                f"/api/v1/moderation/assets/{asset_id}/decision",
                {"decision": "flag", "notes": value},
                admin,
            ),
            ("POST", "/api/v1/events", {"asset_id": asset_id, "event_type": value}, {}),
        ]
        for method, path, body, headers in probes:
            response = send_json(browser, method, path, body, headers)
            assert_clean(response, (method, path, body))
        for name in ("asset_id", "decision", "status"):
            response = (
                browser.get("/api/v1/moderation/audit", params={name: value}, headers=admin)
                if "\ud800" not in value and "\udfff" not in value
                else None
            )
            if response is not None:
                assert_clean(response, ("audit", name, value[:20]))
        if "\ud800" not in value and "\udfff" not in value:
            response = browser.get(
                "/api/v1/assets", params={"q": value, "tag": value}, headers=admin
            )
            assert_clean(response, ("assets list", value[:20]))
    record = service.catalog.get(asset_id)
    assert record is not None and "\x00" not in record.title


def test_a_key_with_the_longest_name_may_do_everything_it_is_allowed(
    browser: TestClient, service: Service
) -> None:
    """A key's name (up to 200 characters) labels what it does: invites and reset links
    (created_by), moderation decisions (the audit trail's moderator) and deletions.
    PostgreSQL checks VARCHAR lengths that SQLite ignores."""
    from gifdist.accounts.keys import Scope

    asset_id = upload(browser, 308)
    user = service.users.create("dave", PASSWORD, Role.MEMBER)
    secret, _ = service.keys.create("n" * 200 + "💥" * 20, [Scope.ADMIN])
    admin = {"Authorization": f"Bearer {secret}"}
    made = send_json(browser, "POST", "/api/v1/users/invites", {"role": "member"}, admin)
    assert made.status_code == 201, made.text
    reset = browser.post(f"/api/v1/users/{user.user_id}/reset", headers=admin)
    assert reset.status_code == 201, reset.text
    decided = send_json(
        browser,
        "POST",
        f"/api/v1/moderation/assets/{asset_id}/decision",
        {"decision": "approve", "notes": "fine"},
        admin,
    )
    assert decided.status_code == 200, decided.text
    link = send_json(browser, "POST", f"/api/v1/assets/{asset_id}/links", {}, admin)
    assert link.status_code == 201, link.text
    code = link.json()["short_code"]
    assert browser.delete(f"/api/v1/links/{code}", headers=admin).status_code == 204
    assert browser.delete(f"/api/v1/assets/{asset_id}", headers=admin).status_code in (200, 204)
    assert service.review.verify()["valid"]


EXTREME_TIMES = [
    "0001-01-01",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31",
    "9999-12-31T23:59:59-14:00",
    "1969-12-31T23:59:59Z",
    "-62135596800",
    str(2**63),
    "1" + "0" * 30,
]


def test_stats_and_audit_windows_refuse_times_at_the_ends_of_the_calendar(
    browser: TestClient,
) -> None:
    """A window starting a week before year 1, or ending in year 10000 in UTC, overflowed
    datetime arithmetic (500); such times are now a 400 bad_time."""
    asset_id = upload(browser, 309)
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    code = send_json(browser, "POST", f"/api/v1/assets/{asset_id}/links", {}, admin).json()
    paths = ["/api/v1/stats", "/api/v1/stats/top", f"/api/v1/assets/{asset_id}/stats"]
    paths += [f"/api/v1/links/{code['short_code']}/stats", "/api/v1/moderation/audit"]
    for path in paths:
        for value in EXTREME_TIMES:
            for name in ("from", "to"):
                response = browser.get(path, params={name: value}, headers=admin)
                assert_clean(response, (path, name, value))
                assert response.status_code == 400, (path, name, value, response.text)
                assert response.json()["error"]["code"] == "bad_time"
    sign_in_admin(browser)
    for path in ("/dashboard", "/moderation"):
        for value in EXTREME_TIMES:
            for name in ("from", "to"):
                assert_clean(browser.get(path, params={name: value}), (path, name, value))


def test_another_member_s_gif_is_never_shown_through_the_pages(
    browser: TestClient, service: Service
) -> None:
    """Member B, signed in, probes member A's private GIF by id and by its title words
    through every page: B gets what a stranger gets, and never A's title."""
    owner = service.users.create("erin", PASSWORD, Role.MEMBER)
    secret, _ = service.keys.create("erin's script", user_id=owner.user_id)
    data = make_gif(seed=310)
    made = browser.post(
        "/api/v1/assets",
        files={"file": ("a.gif", data, "image/gif")},
        data={"title": "ownersecretword", "tags": "ownersecrettag"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert made.status_code == 201, made.text
    asset_id = made.json()["asset_id"]
    hidden = browser.patch(
        f"/api/v1/assets/{asset_id}",
        json={"private": True},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert hidden.status_code == 200, hidden.text
    sign_in_member(browser, service, "frank")
    with TestClient(create_app(service=service), base_url=SITE) as stranger:
        for template in ("/a/{}", "/a/{}/player", "/a/{}.gif"):  # no more than a stranger
            theirs = browser.get(template.format(asset_id), follow_redirects=False)
            anyone = stranger.get(template.format(asset_id), follow_redirects=False)
            assert theirs.status_code == anyone.status_code >= 400, (template, theirs.text[:300])
            assert "ownersecret" not in theirs.text, template
    theirs = browser.get(f"/dashboard?asset={asset_id}")
    nothing = browser.get("/dashboard?asset=0123456789abcdef")
    assert theirs.status_code == nothing.status_code == 404
    assert "ownersecret" not in theirs.text
    for path in ("/library", "/gifs", "/gifs/more", "/dashboard", "/upload", "/account"):
        for q in ("ownersecretword", "ownersecrettag"):
            response = browser.get(path, params={"q": q, "tag": q})
            assert_clean(response, (path, q))
            assert "ownersecret" not in response.text.replace(q, ""), (path, q)
            assert asset_id not in response.text, (path, q)


def test_a_hostile_client_key_never_reaches_the_usage_counters(
    browser: TestClient, service: Service
) -> None:
    """The GIF APIs count calls per ``client_key`` and write the counts in batches: one
    value PostgreSQL cannot store used to fail every later batch (no usage recorded
    again). It is refused, and the well-formed calls are counted."""
    upload(browser, 311, title="dancing", tags="dance")
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    for value in ["a\x00b", "\x00", "x\x1fy", "\u202eevil", "k" * 200]:
        for path in ("/v2/search", "/v1/gifs/search", "/v2/registershare", "/v2/featured"):
            params = {"q": "dance", "id": "x", "client_key": value, "key": ADMIN_KEY}
            response = browser.get(path, params=params, headers=admin)
            assert_clean(response, (path, value[:20]))
    good = browser.get("/v2/search", params={"q": "dance", "client_key": "picker"}, headers=admin)
    assert good.status_code == 200, good.text
    service.gif_api_usage.flush()  # raised on PostgreSQL, and kept raising
    rows = service.gif_api_usage.report()
    assert any(row.client_key == "picker" for row in rows)
    assert all("\x00" not in row.client_key for row in rows)


def test_a_share_registered_with_hostile_text_is_still_counted(
    browser: TestClient, service: Service
) -> None:
    """``registershare``'s ``q`` and ``client_key`` go into the share event's metadata;
    a NUL there must not keep the event batch from being written."""
    asset_id = upload(browser, 312, title="dancing", tags="dance")
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    for q in ("a\x00b", "x" * 5000, "\u202e"):
        response = browser.get("/v2/registershare", params={"id": asset_id, "q": q}, headers=admin)
        assert_clean(response, ("registershare", q[:20]))
    service.events.flush()
    stats = browser.get(f"/api/v1/assets/{asset_id}/stats", headers=admin)
    assert stats.status_code == 200, stats.text
    assert stats.json()["total_events"] == 3, stats.json()["total_events"]


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "a\x00b"},
        {"sub": "ok", "email": "a\x00@example.com", "email_verified": True},
        {"sub": "ok2", "email": "x" * 400 + "@example.com", "email_verified": True},
        {"sub": "ok3", "email": "a\n@example.com", "email_verified": True},
        {"sub": "ok4", "preferred_username": "a\x00b" * 40},
    ],
)
def test_hostile_identity_provider_claims_are_refused_or_cleaned(
    service: Service, claims: dict[str, Any]
) -> None:
    """What a provider's ID token says ends up in the users table: a NUL or an over-long
    e-mail address is a clean refusal, never a database error."""
    from gifdist.accounts.oidc import OidcConfig, OidcSignIn
    from gifdist.errors import GifdistError

    config = OidcConfig("https://idp.example", "client", "secret", SITE, create_users=True)
    try:
        user = OidcSignIn(config, service.users)._user_for(claims)
    except GifdistError as exc:
        assert exc.status in (400, 401, 403), exc
    else:
        assert user.oidc_subject and "\x00" not in user.oidc_subject
        assert "\x00" not in user.username and "\x00" not in (user.email or "")

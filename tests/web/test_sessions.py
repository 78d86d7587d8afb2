"""Browser sessions end when they should, and other sites cannot sign people in or out."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import ADMIN_KEY, make_settings
from starlette.testclient import TestClient

from gifdist.web.app import create_app
from gifdist.web.session import COOKIE
from gifdist.wiring import Service

SITE = "http://gifdist.test"


def sign_in(client: TestClient, key: str = ADMIN_KEY, **headers: str) -> str:
    """Sign in from this site's page; returns the session cookie."""
    response = client.post(
        "/signin",
        data={"key": key, "next": "/upload"},
        headers={"Origin": SITE, "Sec-Fetch-Site": "same-origin", **headers},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    cookie: str = response.cookies[COOKIE]
    return cookie


def csrf_of(client: TestClient) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/upload").text)
    assert found
    return found.group(1)


def signed_in(service: Service, cookie: str) -> bool:
    """Does ``cookie`` still open the upload page and the API, from a fresh client?"""
    with TestClient(create_app(service=service), base_url=SITE) as other:
        other.cookies.set(COOKIE, cookie)
        page = other.get("/upload", follow_redirects=False)
        api = other.get("/api/v1/stats")
    assert (page.status_code == 200) == (api.status_code == 200), (page, api.text)
    return page.status_code == 200


@pytest.fixture
def browser(service: Service) -> TestClient:
    return TestClient(create_app(service=service), base_url=SITE)


def test_a_copied_cookie_stops_working_after_sign_out(
    browser: TestClient, service: Service
) -> None:
    cookie = sign_in(browser)
    copied = cookie
    assert signed_in(service, copied)
    out = browser.post(
        "/signout",
        data={"csrf": csrf_of(browser)},
        headers={"Origin": SITE},
        follow_redirects=False,
    )
    assert out.status_code == 303
    assert not signed_in(service, copied)


def test_revoking_a_key_ends_its_sessions(browser: TestClient, service: Service) -> None:
    secret, key = service.keys.create("someone")
    cookie = sign_in(browser, secret)
    assert signed_in(service, cookie)
    service.keys.store.revoke(key.key_id)
    assert not signed_in(service, cookie)


def test_rotating_the_admin_key_ends_sessions_made_with_the_old_one(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(tmp_path, database_url, secret_key="one-secret-for-both")
    first = Service(settings)
    try:
        cookie = sign_in(TestClient(create_app(service=first), base_url=SITE))
        assert signed_in(first, cookie)
    finally:
        first.close()
    same = Service(settings)
    try:
        assert signed_in(same, cookie)  # a restart alone keeps people signed in
    finally:
        same.close()
    rotated_settings = make_settings(
        tmp_path,
        database_url,
        secret_key="one-secret-for-both",
        admin_key="the-new-admin-key-42",
    )
    rotated = Service(rotated_settings)
    try:
        assert not signed_in(rotated, cookie)
    finally:
        rotated.close()


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site", "Origin": SITE},
        {"Sec-Fetch-Site": "same-site"},
    ],
)
def test_another_site_cannot_sign_a_visitor_in(
    browser: TestClient, service: Service, headers: dict[str, str]
) -> None:
    response = browser.post(
        "/signin", data={"key": ADMIN_KEY}, headers=headers, follow_redirects=False
    )
    assert response.status_code == 403
    assert COOKIE not in response.cookies
    assert "cross_site" in response.text or "own page" in response.text


def test_another_site_cannot_sign_a_visitor_out(browser: TestClient, service: Service) -> None:
    cookie = sign_in(browser)
    csrf = csrf_of(browser)
    response = browser.post(
        "/signout",
        data={"csrf": csrf},
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert signed_in(service, cookie)


def test_sign_in_from_a_typed_url_or_a_command_line_client_still_works(
    browser: TestClient,
) -> None:
    sign_in(browser, **{"Sec-Fetch-Site": "none"})
    plain = TestClient(browser.app, base_url=SITE)
    response = plain.post("/signin", data={"key": ADMIN_KEY}, follow_redirects=False)
    assert response.status_code == 303

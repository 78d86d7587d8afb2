"""OpenID Connect sign-in against a real provider on loopback (Authlib's server
components), on SQLite and PostgreSQL: matching by verified e-mail and subject, and
refusals for a wrong state, nonce or issuer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from conftest import make_settings
from oidc_provider import Provider, running_provider
from starlette.testclient import TestClient

from gifdist.accounts.users import Role
from gifdist.web.app import create_app
from gifdist.web.session import COOKIE
from gifdist.wiring import Service

SITE = "http://gifdist.test"
CALLBACK = f"{SITE}/signin/oidc/callback"


@pytest.fixture
def provider() -> Iterator[Provider]:
    with running_provider() as running:
        running.client.redirect_uris.append(CALLBACK)
        yield running


def _service(tmp_path: Path, database_url: str, provider: Provider, **extra: object) -> Service:
    settings = make_settings(
        tmp_path,
        database_url,
        oidc_issuer=extra.pop("issuer", provider.issuer),
        oidc_client_id="gifdist",
        oidc_client_secret=provider.client.client_secret,
        **extra,
    )
    return Service(settings)


@pytest.fixture
def service(tmp_path: Path, database_url: str, provider: Provider) -> Iterator[Service]:
    svc = _service(tmp_path, database_url, provider)
    try:
        yield svc
    finally:
        svc.close()


def to_provider_and_back(browser: TestClient) -> str:
    """Start at gifdist, let the provider approve; the callback URL it sends back to."""
    start = browser.get("/signin/oidc?next=/account", follow_redirects=False)
    assert start.status_code == 303, start.text
    authorize = start.headers["location"]
    assert authorize.startswith(f"{browser.app_state_issuer}/authorize")  # type: ignore[attr-defined]
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    approved = httpx.get(authorize, follow_redirects=False)
    assert approved.status_code == 302, approved.text
    back = approved.headers["location"]
    assert back.startswith(CALLBACK)
    return back.removeprefix(SITE)


@pytest.fixture
def browser(service: Service, provider: Provider) -> Iterator[TestClient]:
    with TestClient(create_app(service=service), base_url=SITE) as client:
        client.app_state_issuer = provider.issuer  # type: ignore[attr-defined]
        yield client


def test_a_user_is_matched_by_verified_email_then_by_subject(
    browser: TestClient, service: Service, provider: Provider
) -> None:
    zoe = service.users.create("zoe", None, Role.MODERATOR, email="Zoe@example.org")
    done = browser.get(to_provider_and_back(browser), follow_redirects=False)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/account"
    assert COOKIE in done.cookies
    page = browser.get("/account")
    assert page.status_code == 200 and "zoe" in page.text and "moderator" in page.text
    linked = service.users.get(zoe.user_id)
    assert linked.oidc_subject == f"{provider.issuer}#u-1"
    provider.user = {**provider.user, "email": "changed@example.org"}  # still the same subject
    browser.cookies.clear()
    again = browser.get(to_provider_and_back(browser), follow_redirects=False)
    assert again.status_code == 303
    assert browser.get("/api/v1/me").json()["username"] == "zoe"


def test_an_unverified_email_matches_nobody(
    browser: TestClient, service: Service, provider: Provider
) -> None:
    service.users.create("zoe", None, email="zoe@example.org")
    provider.user = {**provider.user, "email_verified": False}
    refused = browser.get(to_provider_and_back(browser), follow_redirects=False)
    assert refused.status_code == 403 and "no account here" in refused.text
    assert COOKIE not in refused.cookies


def test_a_wrong_or_missing_state_is_refused(
    browser: TestClient, service: Service, provider: Provider
) -> None:
    service.users.create("zoe", None, email="zoe@example.org")
    back = to_provider_and_back(browser)
    forged = back.replace("state=", "state=x")
    refused = browser.get(forged, follow_redirects=False)
    assert refused.status_code == 401 and COOKIE not in refused.cookies
    with TestClient(create_app(service=service), base_url=SITE) as stranger:
        # the right state in another browser (no signed cookie): refused too
        assert (
            stranger.get(to_provider_and_back(browser), follow_redirects=False).status_code == 401
        )


@pytest.mark.parametrize("override", [{"nonce": "not-the-nonce"}, {"iss": "http://127.0.0.1:1"}])
def test_an_id_token_with_a_wrong_nonce_or_issuer_is_refused(
    browser: TestClient, service: Service, provider: Provider, override: dict[str, str]
) -> None:
    service.users.create("zoe", None, email="zoe@example.org")
    provider.claims_override = override
    refused = browser.get(to_provider_and_back(browser), follow_redirects=False)
    assert refused.status_code == 401, refused.text
    assert "ID token was refused" in refused.text and COOKIE not in refused.cookies


def test_a_provider_naming_another_issuer_is_not_trusted(
    tmp_path: Path, database_url: str, provider: Provider
) -> None:
    svc = _service(tmp_path, database_url, provider, issuer=provider.issuer + "/")
    try:
        with TestClient(create_app(service=svc), base_url=SITE) as client:
            response = client.get("/signin/oidc", follow_redirects=False)
        assert response.status_code == 503 and "another issuer" in response.text
    finally:
        svc.close()


def test_new_people_become_members_only_when_allowed(
    tmp_path: Path, database_url: str, provider: Provider
) -> None:
    provider.user = {**provider.user, "preferred_username": "Zoë", "email": "zoe@example.org"}
    svc = _service(tmp_path, database_url, provider, oidc_create_users=True)
    try:
        with TestClient(create_app(service=svc), base_url=SITE) as client:
            client.app_state_issuer = provider.issuer  # type: ignore[attr-defined]
            done = client.get(to_provider_and_back(client), follow_redirects=False)
            assert done.status_code == 303
        made = svc.users.find("zoë")
        assert made.role is Role.MEMBER and made.password_hash is None
        assert made.email == "zoe@example.org"
    finally:
        svc.close()

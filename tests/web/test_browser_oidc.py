"""Single sign-on in a real browser: headless Chromium signs in at gifdist (a server
process) through an OpenID Connect provider on another host name, and back: the page's
button, the provider's redirects, the pending sign-in's cookie and the session cookie
as a browser keeps them, then a second sign-in that finds the same user."""

from __future__ import annotations

import httpx
import pytest
from browser import accessibility_violations, browser_page, screenshot
from oidc_provider import running_provider
from servers import SERVER_KEY, running_server

pytestmark = pytest.mark.server


def test_a_person_signs_in_with_single_sign_on_and_comes_back_as_the_same_user(
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    with running_provider(host_name="localhost") as provider:
        provider.user = {**provider.user, "sub": "zoe-1", "preferred_username": "Zoë"}
        env = {
            "GIFDIST_OIDC_ISSUER": provider.issuer,
            "GIFDIST_OIDC_CLIENT_ID": provider.client.client_id,
            "GIFDIST_OIDC_CLIENT_SECRET": provider.client.client_secret,
            "GIFDIST_OIDC_CREATE_USERS": "true",
        }
        with running_server(tmp_path, **env) as server:
            provider.client.redirect_uris.append(f"{server.base}/signin/oidc/callback")
            with browser_page() as (page, errors):
                page.goto(f"{server.base}/account")
                assert page.url.startswith(f"{server.base}/signin")
                assert accessibility_violations(page) == []
                page.click("#sso")
                page.wait_for_url(f"{server.base}/account")
                assert page.inner_text("main h1") == "zoë"
                screenshot(page, "oidc-signed-in")

                page.click("header button:has-text('Sign out')")
                page.wait_for_url(f"{server.base}/")
                page.goto(f"{server.base}/signin")
                page.click("#sso")
                page.wait_for_url(f"{server.base}/upload")
                assert "zoë" in page.inner_text("header")
                assert errors == []

            admin = {"Authorization": f"Bearer {SERVER_KEY}"}
            users = httpx.get(f"{server.base}/api/v1/users", headers=admin, timeout=10).json()
            people = [u for u in users["users"] if u["username"] == "zoë"]
            assert len(people) == 1 and people[0]["role"] == "member"

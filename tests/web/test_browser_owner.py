"""An owner manages a GIF from its page, and a visitor opens a password link, in
headless Chromium against a real server process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from browser import PERSON_USER_AGENT, accessibility_violations, browser_page, screenshot
from gif_factory import make_gif
from servers import SERVER_KEY, RunningServer, running_server

pytestmark = pytest.mark.server

ADMIN = {"Authorization": f"Bearer {SERVER_KEY}"}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    with running_server(tmp_path) as running:
        yield running


def sign_in(page: Any, server: RunningServer, path: str) -> None:
    # a GIF not yet public is a 404 to a signed-out visitor: sign in first, then go there
    page.goto(f"{server.base}/signin?next={quote(path, safe='')}")
    page.fill("#key", SERVER_KEY)
    page.press("#key", "Enter")
    page.wait_for_url(f"{server.base}{path}")


def fits_a_phone(page: Any) -> bool:
    """No horizontal scrolling of the whole page at phone width."""
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))
    finally:
        page.set_viewport_size({"width": 1100, "height": 900})


def test_owner_shares_edits_makes_a_qr_code_and_deletes(
    server: RunningServer, tmp_path: Path
) -> None:
    gif = tmp_path / "walking-cat.gif"
    gif.write_bytes(make_gif(width=80, height=60, frames=3, seed=21))

    with browser_page(user_agent=PERSON_USER_AGENT) as (page, errors):
        page.goto(f"{server.base}/upload")
        page.fill("#key", SERVER_KEY)
        page.press("#key", "Enter")
        page.wait_for_url(f"{server.base}/upload")
        assert "Signed in as" in page.inner_text("header")

        other = tmp_path / "other.gif"
        other.write_bytes(make_gif(width=30, height=20, seed=23))
        page.set_input_files("#files", [str(gif), str(other)])
        assert page.inner_text("#send") == "Upload 2 GIFs"
        page.click(".upload >> nth=1 >> .remove")  # changed my mind about that one
        assert page.locator(".upload").count() == 1
        assert page.inner_text("#send") == "Upload 1 GIF"
        page.fill(".upload .f-title", "Walking cat")
        page.fill(".upload .f-tags", "cat, walk")
        page.fill(".upload .f-description", "A cat out for a walk")
        assert page.locator(".upload .result:not([hidden])").count() == 0  # nothing sent yet
        page.click("#send")
        page.wait_for_selector(".upload .result:not([hidden])")
        canonical = page.get_attribute(".upload .canonical", "href")
        assert canonical
        asset_id = canonical.rsplit("/", 1)[1]
        asset = httpx.get(f"{server.base}/api/v1/assets/{asset_id}", headers=ADMIN).json()
        assert (asset["title"], asset["tags"]) == ("Walking cat", ["cat", "walk"])
        assert asset["description"] == "A cat out for a walk"

        # the same bytes again: the page says so and offers the GIF already there
        page.set_input_files("#files", [str(gif)])
        page.click("#send")
        again = page.locator(".upload >> nth=1")
        again.locator(".again:not([hidden])").wait_for()
        assert "uploaded this GIF before" in again.inner_text()
        assert again.locator(".mine").get_attribute("href") == f"/a/{asset_id}"

        # share: a Discord link made on demand, copied, and listed
        page.goto(canonical)
        assert "Signed in as" in page.inner_text("header")
        assert "Sign in" not in page.inner_text("header")
        page.click("#owner button[data-via=discord]")
        page.wait_for_selector("#owner button[data-via=discord][data-url]")
        discord = page.get_attribute("#owner button[data-via=discord]", "data-url")
        assert discord and discord.startswith(f"{server.base}/s/")
        assert page.evaluate("navigator.clipboard.readText()") == discord
        assert page.input_value("#share-url") == discord
        assert page.locator("#link-rows tr").count() == 1
        page.click("#owner button[data-copy^='[url=']")
        assert page.evaluate("navigator.clipboard.readText()").startswith("[url=")

        # QR: the SVG of the shown link, and a PNG to download
        page.click("#share-qr")
        page.wait_for_function(
            "() => { const i = document.getElementById('qr-image');"
            " return i.complete && i.naturalWidth > 0; }"
        )
        code = discord.rsplit("/", 1)[1]
        assert page.get_attribute("#qr-image", "src") == f"/s/{code}.svg"
        png = page.request.get(f"{server.base}{page.get_attribute('#qr-png', 'href')}")
        assert png.ok and png.body()[:8] == b"\x89PNG\r\n\x1a\n"

        # edit: a refused change says why and changes nothing
        page.fill("#edit-tags", ", ".join(f"tag{i}" for i in range(30)))
        page.click("#edit button[type=submit]")
        page.wait_for_selector("#edit-status:text('Not saved')")
        assert "tags" in page.inner_text("#edit-status")
        errors.clear()  # the refused change answers 4xx, which the console reports

        # edit: the title changes on the page and stays changed
        page.fill("#edit-title", "Strolling cat")
        page.fill("#edit-tags", "cat, stroll")
        page.click("#edit button[type=submit]")
        page.wait_for_selector("#edit-status:text('Saved.')")
        assert page.inner_text("#asset-title") == "Strolling cat"
        page.reload()
        assert page.inner_text("#asset-title") == "Strolling cat"
        assert page.input_value("#edit-tags") == "cat, stroll"

        # a password link, made with the options form
        page.click("#owner summary")
        page.fill("#link-slug", "strolling-secret")
        page.fill("#link-password", "open sesame")
        page.fill("#link-max-clicks", "5")
        page.click("#new-link button[type=submit]")
        page.wait_for_selector("#link-rows tr[data-code=strolling-secret]")
        assert "password" in page.inner_text("#link-rows tr[data-code=strolling-secret]")
        screenshot(page, "asset-owner")
        assert accessibility_violations(page) == []
        assert errors == []

        # a visitor (another browser context: no cookie) follows the password link
        visitor_context = page.context.browser.new_context(user_agent=PERSON_USER_AGENT)
        visitor = visitor_context.new_page()
        visitor_errors: list[str] = []
        visitor.on("pageerror", lambda exc: visitor_errors.append(str(exc)))
        visitor.on(
            "console", lambda m: visitor_errors.append(m.text) if m.type == "error" else None
        )
        visitor.goto(f"{server.base}/s/strolling-secret")
        assert "password-protected" in visitor.inner_text("h1")
        assert visitor.locator("img, video").count() == 0
        visitor.fill("#password", "open says me")
        visitor.click("main button[type=submit]")
        assert "not right" in visitor.inner_text("[role=alert]")
        visitor_errors.clear()  # the refused try answers 403, which the console reports
        visitor.fill("#password", "open sesame")
        visitor.click("main button[type=submit]")
        visitor.wait_for_url(canonical)
        assert visitor.inner_text("h1") == "Strolling cat"
        # a visitor gets no owner actions, and may report the GIF
        assert visitor.locator("#owner, #edit, #delete-start").count() == 0
        visitor.click("#report-start")
        visitor.fill("#report-reason", "just testing")
        visitor.click("#report-form button[type=submit]")
        visitor.wait_for_selector("#report-status:text('Thank you')")
        assert visitor_errors == []
        visitor_context.close()

        # the dashboard's link table: create a Teams link there, and copy it
        page.goto(f"{server.base}/dashboard?asset={asset_id}")
        page.select_option("#create-via", "teams")
        with page.expect_navigation():
            page.click("#create-link button[type=submit]")
        teams_row = page.locator("table.links tr", has_text="teams")
        assert teams_row.count() == 1
        teams_row.locator("button[data-copy]").click()
        teams_url = teams_row.locator("code").inner_text()
        assert page.evaluate("navigator.clipboard.readText()") == teams_url
        assert accessibility_violations(page) == []

        # delete, with a confirmation first
        page.goto(canonical)
        assert fits_a_phone(page)
        page.click("#delete-start")
        assert page.is_visible("#delete-confirm")
        page.click("#delete-no")
        assert not page.is_visible("#delete-confirm")
        page.click("#delete-start")
        page.click("#delete-yes")
        page.wait_for_url(f"{server.base}/library")
        gone = page.goto(canonical)
        assert gone is not None and gone.status == 410
        assert httpx.get(discord, follow_redirects=False).status_code == 410
        errors.clear()  # the 410 is reported by the console


def test_the_owner_page_follows_the_moderation_status_live(server: RunningServer) -> None:
    upload = httpx.post(
        f"{server.base}/api/v1/assets",
        headers=ADMIN,
        files={"file": ("f.gif", make_gif(width=64, height=48, seed=22), "image/gif")},
        data={"title": "Waiting cat"},
    )
    asset_id = upload.json()["asset_id"]
    decide = f"{server.base}/api/v1/moderation/assets/{asset_id}/decision"
    assert httpx.post(decide, headers=ADMIN, json={"decision": "flag"}).status_code == 200

    with browser_page(user_agent=PERSON_USER_AGENT) as (page, errors):
        sign_in(page, server, f"/a/{asset_id}")
        assert "Held for a moderator" in page.inner_text("#status-note")
        assert page.locator("#owner button[data-via]").count() == 0
        assert page.evaluate("document.querySelector('img.gif').naturalWidth") == 64
        check = httpx.post(decide, headers=ADMIN, json={"decision": "approve"})
        assert check.status_code == 200
        page.wait_for_selector("#owner button[data-via=slack]", timeout=15000)
        assert page.locator("#status-note").count() == 0

        # private: the page reloads without share buttons, and strangers get no page
        page.click("#privacy")
        page.wait_for_selector("#privacy:text('Make public')")
        assert page.locator("#owner button[data-via]").count() == 0
        assert httpx.get(f"{server.base}/a/{asset_id}").status_code == 404  # as for an unknown id
        page.click("#privacy")
        page.wait_for_selector("#privacy:text('Make private')")
        assert page.locator("#owner button[data-via]").count() == 6
        assert errors == []

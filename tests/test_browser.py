"""The pages people use, in headless Chromium against a real server process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from browser import accessibility_violations, browser_page, screenshot
from gif_factory import make_gif, png_bytes
from servers import SERVER_KEY, RunningServer, running_server

pytestmark = pytest.mark.server

SLACKBOT = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    with running_server(tmp_path) as running:
        yield running


def test_sign_in_upload_share_and_follow_links(server: RunningServer, tmp_path: Path) -> None:
    good = tmp_path / "dancing-cat.gif"
    good.write_bytes(make_gif(width=120, height=90, frames=6, seed=7, pattern="stripes"))
    bad = tmp_path / "not-really.gif"
    bad.write_bytes(png_bytes())

    with browser_page() as (page, errors):
        page.goto(f"{server.base}/upload")
        assert page.url.startswith(f"{server.base}/signin")
        screenshot(page, "signin")
        assert accessibility_violations(page) == []
        page.fill("#key", "wrong key")
        page.click("button[type=submit]")
        assert "unknown API key" in page.inner_text("[role=alert]")
        errors.clear()  # the refused sign-in answers 401, which the console reports

        page.fill("#key", SERVER_KEY)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server.base}/upload")
        page.fill("#tags", "cat, dance")
        page.set_input_files("#files", [str(good), str(bad)])
        page.wait_for_selector(".upload .result:not([hidden])")
        page.wait_for_selector(".upload .error-msg:not([hidden])")
        refused = page.inner_text(".upload .error-msg:not([hidden])")
        assert "GIF" in refused
        # The refused upload's 415 is the one console error Chromium should log here.
        assert [e for e in errors if "415" not in e] == [] and len(errors) == 1
        errors.clear()
        assert page.inner_text(".upload .status").startswith("Approved")
        canonical = page.get_attribute(".upload .canonical", "href")
        assert canonical and canonical.startswith(f"{server.base}/a/")

        page.click(".upload button[data-via=slack]")
        page.wait_for_selector(".upload button[data-via=slack][data-url]")
        slack_url = page.get_attribute(".upload button[data-via=slack]", "data-url")
        assert slack_url and slack_url.startswith(f"{server.base}/s/")
        assert page.evaluate("navigator.clipboard.readText()") == slack_url
        screenshot(page, "upload")
        assert accessibility_violations(page) == []

        bot = httpx.get(slack_url, headers={"User-Agent": SLACKBOT})
        assert bot.status_code == 200 and 'property="og:image"' in bot.text
        page.goto(slack_url)
        assert page.url == canonical
        assert page.locator("img.gif").get_attribute("width") == "120"
        screenshot(page, "asset")
        assert accessibility_violations(page) == []

        page.goto(f"{server.base}/library?q=dance")
        assert page.locator(".grid .card").count() == 1
        screenshot(page, "library")
        assert accessibility_violations(page) == []
        page.click("text=Sign out")
        page.wait_for_url(f"{server.base}/")
        page.goto(f"{server.base}/library")
        assert page.url.startswith(f"{server.base}/signin")
        assert errors == []

"""The pages people use, in headless Chromium against a real server process."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser import PERSON_USER_AGENT, accessibility_violations, browser_page, screenshot
from gif_factory import make_gif, png_bytes
from servers import SERVER_KEY, RunningServer, running_server

pytestmark = pytest.mark.server

SLACKBOT = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    # One report is enough to send a public GIF back to review.
    with running_server(tmp_path, GIFDIST_REPORT_THRESHOLD="1") as running:
        yield running


def sign_in(page: Any, server: RunningServer, path: str) -> None:
    page.goto(f"{server.base}{path}")
    assert page.url.startswith(f"{server.base}/signin")
    page.fill("#key", SERVER_KEY)
    page.press("#key", "Enter")
    page.wait_for_url(f"{server.base}{path}")


def check_page(page: Any, name: str) -> None:
    """Screenshot the page, then require no axe-core violations."""
    screenshot(page, name)
    assert accessibility_violations(page) == []


def fits_a_phone(page: Any) -> bool:
    """No horizontal scrolling of the whole page at phone width."""
    page.set_viewport_size(PHONE)
    try:
        return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))
    finally:
        page.set_viewport_size({"width": 1100, "height": 900})


def metric(page: Any, name: str) -> int:
    return int(page.inner_text(f".tiles [data-metric={name}]"))


def wait_for_dashboard(page: Any, url: str, *, clicks: int, timeout: float = 15) -> None:
    """Reload the dashboard until the analytics flush (about a second) shows the clicks."""
    deadline = time.monotonic() + timeout
    while True:
        page.goto(url)
        if metric(page, "clicks") >= clicks and metric(page, "views") >= 1:
            return
        assert time.monotonic() < deadline, page.inner_text(".tiles")
        time.sleep(0.5)


def upload_by_api(server: RunningServer, title: str, seed: int) -> dict[str, Any]:
    response = httpx.post(
        f"{server.base}/api/v1/assets",
        headers={"Authorization": f"Bearer {SERVER_KEY}"},
        files={"file": ("f.gif", make_gif(width=64, height=48, seed=seed), "image/gif")},
        data={"title": title},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_sign_in_upload_share_and_follow_links(server: RunningServer, tmp_path: Path) -> None:
    good = tmp_path / "dancing-cat.gif"
    good.write_bytes(make_gif(width=120, height=90, frames=6, seed=7, pattern="stripes"))
    bad = tmp_path / "not-really.gif"
    bad.write_bytes(png_bytes())

    with browser_page(user_agent=PERSON_USER_AGENT) as (page, errors):
        page.goto(f"{server.base}/upload")
        assert page.url.startswith(f"{server.base}/signin")
        check_page(page, "signin")
        page.fill("#key", "wrong key")
        page.press("#key", "Enter")
        assert "unknown API key" in page.inner_text("[role=alert]")
        errors.clear()  # the refused sign-in answers 401, which the console reports

        page.fill("#key", SERVER_KEY)
        page.press("#key", "Enter")
        page.wait_for_url(f"{server.base}/upload")
        page.set_input_files("#files", [str(good), str(bad)])
        # each GIF is described before anything is sent
        assert page.input_value(".upload >> nth=0 >> .f-title") == "dancing-cat"
        page.fill(".upload >> nth=0 >> .f-tags", "cat, dance")
        page.click("#send")
        page.wait_for_selector(".upload .result:not([hidden])")
        page.wait_for_selector(".upload .error-msg:not([hidden])")
        refused = page.inner_text(".upload .error-msg:not([hidden])")
        assert "GIF" in refused
        # The refused upload's 415 is the one console error Chromium should log here.
        assert [e for e in errors if "415" not in e] == [] and len(errors) == 1
        errors.clear()
        assert page.inner_text(".upload .status").startswith("Approved")
        thumb = page.locator(".upload .thumb")
        assert thumb.get_attribute("width") == "120" and thumb.get_attribute("height") == "90"
        canonical = page.get_attribute(".upload .canonical", "href")
        assert canonical and canonical.startswith(f"{server.base}/a/")
        asset_id = canonical.rsplit("/", 1)[1]

        page.click(".upload button[data-via=slack]")
        page.wait_for_selector(".upload button[data-via=slack][data-url]")
        slack_url = page.get_attribute(".upload button[data-via=slack]", "data-url")
        assert slack_url and slack_url.startswith(f"{server.base}/s/")
        assert page.evaluate("navigator.clipboard.readText()") == slack_url
        assert page.inner_text(".upload button[data-via=slack]") == "Copied"
        assert page.input_value(".upload .share-link input") == slack_url
        check_page(page, "upload")

        dashboard = f"{server.base}/dashboard?asset={asset_id}&range=24h&interval=hour"
        page.goto(dashboard)
        assert metric(page, "clicks") == 0 and metric(page, "views") == 0
        assert slack_url in page.inner_text("table.links")

        bot = httpx.get(slack_url, headers={"User-Agent": SLACKBOT})
        assert bot.status_code == 200 and 'property="og:image"' in bot.text
        page.goto(slack_url)
        assert page.url == canonical
        assert page.locator("img.gif").get_attribute("width") == "120"
        page.click("button[data-copy]")
        assert page.evaluate("navigator.clipboard.readText()") == canonical
        assert "copied" in page.inner_text(".copy-status")
        check_page(page, "asset")

        wait_for_dashboard(page, dashboard, clicks=1)
        assert metric(page, "plays") == 1  # the asset page's beacon
        slack = page.inner_text("[data-platform=slack]").split()
        assert slack[0] == "Slack" and slack[3] == "1"  # the person's click
        assert page.locator("figure.chart svg polyline").count() == 5
        csv_href = page.get_attribute("a[download]", "href")
        assert csv_href and "format=csv" in csv_href
        csv = page.request.get(f"{server.base}{csv_href}")
        assert csv.ok and csv.text().startswith("t,views,plays,clicks")
        check_page(page, "dashboard-asset")
        assert fits_a_phone(page)

        page.goto(f"{server.base}/dashboard")
        assert asset_id in page.inner_text("main")  # the top GIFs table
        check_page(page, "dashboard")
        two_days_ago = datetime.now(UTC) - timedelta(days=2)
        page.fill("#from", two_days_ago.strftime("%Y-%m-%dT%H:%M"))
        assert page.is_checked("input[name=range][value=custom]")
        page.select_option("#interval", "day")
        page.click("main form button[type=submit]")
        page.wait_for_url("**range=custom**")
        assert metric(page, "clicks") == 1

        page.goto(f"{server.base}/library?q=dance&sort=views")
        assert page.locator(".grid .card").count() == 1
        assert page.inner_text(".card [data-metric=views]") != "0 views"
        check_page(page, "library")
        page.click("text=Sign out")
        page.wait_for_url(f"{server.base}/")
        page.goto(f"{server.base}/library")
        assert page.url.startswith(f"{server.base}/signin")
        assert errors == []


def test_moderator_approves_a_reported_gif(server: RunningServer) -> None:
    asset = upload_by_api(server, "Reported <b>cat</b>", seed=11)
    report = httpx.post(
        f"{server.base}/api/v1/assets/{asset['asset_id']}/report",
        json={"reason": "looks like <script>spam</script>"},
    )
    assert report.status_code == 202 and report.json()["under_review"] is True

    with browser_page() as (page, errors):
        sign_in(page, server, "/moderation")
        item = page.locator(f"#review-{asset['asset_id']}")
        assert "Reported <b>cat</b>" in item.locator("h3").inner_text()
        assert "looks like <script>spam</script>" in item.inner_text()
        assert "flagged" in item.inner_text()
        image = item.locator("img").first
        assert image.get_attribute("width") == "64" and image.get_attribute("height") == "48"
        assert image.evaluate("img => img.complete && img.naturalWidth") == 64
        frames = item.locator(".frame-strip img")
        assert frames.count() >= 2  # the frames the scanner samples, for the reviewer
        frames.last.scroll_into_view_if_needed()
        page.wait_for_function(
            "els => els.every(img => img.complete && img.naturalWidth > 0)",
            arg=frames.element_handles(),
        )
        check_page(page, "moderation")
        assert fits_a_phone(page)

        item.locator("textarea").fill("Reviewed: harmless cat.")
        item.locator("button[value=approve]").focus()
        page.keyboard.press("Enter")
        page.wait_for_selector(".notice")
        assert f"Approved: GIF {asset['asset_id']}" in page.inner_text(".notice")
        assert page.locator(f"#review-{asset['asset_id']}").count() == 0
        assert "Hash chain verified" in page.inner_text(".chain")
        rows = page.locator("table.audit tbody tr")
        assert "approved" in rows.first.inner_text()
        assert "Reviewed: harmless cat." in rows.first.inner_text()

        page.fill("#audit-asset", asset["asset_id"])
        page.select_option("#audit-decision", "approve")
        page.click(".audit-filters button[type=submit]")
        page.wait_for_url(f"**asset_id={asset['asset_id']}**")
        assert page.locator("table.audit tbody tr").count() == 1
        export = page.get_attribute("a[href*='format=csv']", "href")
        assert export and "decision=approve" in export
        csv = page.request.get(f"{server.base}{export}")
        assert csv.ok and asset["asset_id"] in csv.text()
        check_page(page, "moderation-audit")
        assert httpx.get(f"{server.base}/a/{asset['asset_id']}").status_code == 200
        assert errors == []


def test_api_docs_render_offline_from_the_package_under_their_csp(server: RunningServer) -> None:
    requested: list[str] = []
    with browser_page() as (page, errors):
        page.on("request", lambda request: requested.append(request.url))
        page.goto(f"{server.base}/api/v1/docs")
        page.wait_for_selector(".opblock", timeout=15_000)
        assert "/api/v1/assets" in page.inner_text("#swagger-ui")
        assert errors == []  # a blocked script or a CSP violation is a console error
    assert requested and all(url.startswith(server.base) for url in requested), requested

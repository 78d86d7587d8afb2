"""A person joins from an invite, turns on TOTP, signs out and back in, makes a key and
uploads with it from the CLI: headless Chromium against a real server process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from browser import accessibility_violations, browser_page, screenshot
from gif_factory import make_gif
from servers import RunningServer, running_server

pytestmark = pytest.mark.server
PASSWORD = "a long enough password"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    with running_server(tmp_path) as running:
        yield running


def cli(server: RunningServer, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    port = server.base.rsplit(":", 1)[1]
    env = {
        **os.environ,
        "GIFDIST_DATA_DIR": str(tmp_path / f"data-{port}"),
        "GIFDIST_BASE_URL": server.base,
        "GIFDIST_MODERATION": "off",
    }
    env.pop("GIFDIST_ADMIN_KEY", None)
    env.pop("GIFDIST_KEY", None)
    return subprocess.run(
        [sys.executable, "-m", "gifdist.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_join_from_an_invite_with_totp_then_upload_with_a_key_from_the_cli(
    server: RunningServer, tmp_path: Path
) -> None:
    invite = cli(server, tmp_path, "users", "invite", "--role", "member")
    assert invite.returncode == 0, invite.stderr
    link = invite.stdout.strip()
    assert link.startswith(f"{server.base}/invite/")

    with browser_page() as (page, errors):
        page.goto(link)
        screenshot(page, "join")
        assert accessibility_violations(page) == []
        page.fill("#username", "Zoë")
        page.fill("#password", PASSWORD)
        page.fill("#confirm", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{server.base}/account")
        assert page.inner_text("main h1") == "zoë"

        page.click("text=Set up two-factor sign-in")
        secret = page.inner_text("#totp-secret")
        totp = pyotp.TOTP(secret)
        page.fill("#totp-code", totp.now())
        page.click("text=Turn two-factor on")
        page.wait_for_url(f"{server.base}/account?totp=on")
        assert "On:" in page.inner_text("#totp-status")
        screenshot(page, "account")
        assert accessibility_violations(page) == []

        page.click("header button:has-text('Sign out')")
        page.wait_for_url(f"{server.base}/")
        page.goto(f"{server.base}/account")
        assert page.url.startswith(f"{server.base}/signin")
        page.fill("#username", "ZOË")
        page.fill("#password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_selector("#code")
        # the code that turned TOTP on is spent: the next time step's code is accepted
        spent = totp.at(time.time() + 30)
        page.fill("#code", spent)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{server.base}/account")

        page.fill("#key-name", "laptop CLI")
        page.click("text=Make a key")
        key = page.inner_text("#new-key").strip()
        assert key.startswith("gd_")
        assert errors == []

    gif = tmp_path / "wave.gif"
    gif.write_bytes(make_gif(seed=5))
    uploaded = cli(server, tmp_path, "upload", str(gif), "--server", server.base, "--key", key)
    assert uploaded.returncode == 0, uploaded.stdout + uploaded.stderr
    assert f"{server.base}/s/" in uploaded.stdout

    with browser_page() as (page, _errors):
        page.goto(f"{server.base}/signin")
        page.fill("#username", "zoë")
        page.fill("#password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_selector("#code")
        page.fill("#code", spent)  # the same code again (not one of a later step): refused
        page.click("main button[type=submit]")
        assert "used already" in page.inner_text("[role=alert]")

"""``gifdist serve`` as an operator meets it: a port already in use, and the admin key."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from servers import free_port, running_server

pytestmark = pytest.mark.server

BANNER_END = "Open http://"


def serve_env(data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("GIFDIST_") or key == "GIFDIST_REQUIRE_SERVICES"
    }
    env.update(
        GIFDIST_DATA_DIR=str(data_dir),
        GIFDIST_BASE_URL=f"http://127.0.0.1:{port}",
        GIFDIST_MODERATION="off",
        GIFDIST_RATE_LIMITS="off",
        **extra,
    )
    return env


class Served:
    """A ``gifdist serve`` process writing its output to a file."""

    def __init__(self, port: int, env: dict[str, str], log: Path, *args: str) -> None:
        self.port = port
        self.log_path = log
        command = [sys.executable, "-m", "gifdist.cli", "serve", "--port", str(port), *args]
        with log.open("wb") as out:
            # A session of its own, so stopping it also stops granian's worker processes.
            self.process = subprocess.Popen(
                command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_banner(self) -> None:
        deadline = time.monotonic() + 40
        while BANNER_END not in self.log():
            assert self.process.poll() is None, f"exited early:\n{self.log()}"
            assert time.monotonic() < deadline, f"no banner:\n{self.log()}"
            time.sleep(0.2)

    def wait_until_ready(self) -> None:
        self.wait_for_banner()
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).is_success:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise AssertionError(f"not ready:\n{self.log()}")

    def stop(self) -> str:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        with contextlib.suppress(ProcessLookupError):  # a worker left behind
            os.killpg(self.process.pid, signal.SIGKILL)
        return self.log()


def test_a_second_server_on_a_port_in_use_refuses_to_start(tmp_path: Path) -> None:
    with running_server(tmp_path, "granian") as first:
        port = int(first.base.rsplit(":", 1)[1])
        second = subprocess.run(
            [sys.executable, "-m", "gifdist.cli", "serve", "--port", str(port)],
            env=serve_env(tmp_path / "second", port),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert httpx.get(f"{first.base}/healthz", timeout=5).status_code == 200
    assert second.returncode == 1
    assert "address in use" in second.stderr
    assert "--reuse-port" in second.stderr
    assert "Listening" not in second.stdout + second.stderr


def test_a_port_held_by_any_other_program_is_refused_too(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "gifdist.cli", "serve", "--port", str(port)],
            env=serve_env(tmp_path / "data", port),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1 and "address in use" in result.stderr


def test_reuse_port_shares_the_port_when_asked(tmp_path: Path) -> None:
    with running_server(tmp_path, "granian") as first:
        port = int(first.base.rsplit(":", 1)[1])
        second = Served(
            port, serve_env(tmp_path / "second", port), tmp_path / "second.log", "--reuse-port"
        )
        try:
            second.wait_until_ready()
            assert second.process.poll() is None, second.log()
        finally:
            printed = second.stop()
    assert "address in use" not in printed


def test_later_starts_say_how_to_make_an_admin_key_until_one_is_used(tmp_path: Path) -> None:
    port = free_port()
    env = serve_env(tmp_path / "data", port)
    hint = "gifdist keys create NAME --scope admin"

    first = Served(port, env, tmp_path / "first.log")
    first.wait_until_ready()
    printed = first.stop()
    assert "First start: created an admin API key" in printed
    assert "gifdist users create NAME --admin" in printed  # the way to a password sign-in
    match = re.search(r"gd_[A-Za-z0-9_-]+", printed)
    assert match is not None, printed
    assert hint not in printed

    second = Served(port, env, tmp_path / "second.log")
    second.wait_until_ready()
    response = httpx.get(
        f"http://127.0.0.1:{port}/api/v1/admin/dashboard",
        headers={"Authorization": f"Bearer {match.group(0)}"},
        timeout=10,
    )
    printed = second.stop()
    assert response.status_code == 200
    assert hint in printed and "First start" not in printed
    assert "gifdist users create NAME --admin" in printed  # no user yet: the other way in

    third = Served(port, env, tmp_path / "third.log")
    third.wait_until_ready()
    printed = third.stop()
    assert hint not in printed

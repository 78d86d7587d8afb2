"""Start real gifdist server processes for end-to-end tests."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis

SERVER_KEY = "server-test-admin-key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningServer:
    base: str
    log_path: Path
    process: subprocess.Popen[bytes]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def running_server(tmp_path: Path, server: str = "granian", **env: str) -> Iterator[RunningServer]:
    """``gifdist serve`` on a free port with its own data dir; stopped (SIGTERM) after."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / f"server-{port}.log"
    full_env = {
        **os.environ,
        "GIFDIST_DATA_DIR": str(tmp_path / f"data-{port}"),
        "GIFDIST_BASE_URL": base,
        "GIFDIST_ADMIN_KEY": SERVER_KEY,
        "GIFDIST_MODERATION": "off",
        "GIFDIST_RATE_LIMITS": "off",
        "GIFDIST_RENDITIONS": "off",  # tests that want conversions ask for them
        **env,
    }
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gifdist.cli", "serve", "--port", str(port), "--server", server],
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its workers form one group, stopped together
        )
    running = RunningServer(base, log_path, proc)
    try:
        _wait_ready(running)
        yield running
    finally:
        stop_process_group(proc)


def stop_process_group(proc: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """SIGTERM the server, then SIGKILL its whole group: a worker that hangs on
    shutdown (or outlives its parent) never lingers into the next test."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _wait_ready(running: RunningServer) -> None:
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            raise AssertionError(f"server exited early:\n{running.log()}")
        try:
            if httpx.get(f"{running.base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    running.process.kill()
    raise AssertionError(f"server did not start:\n{running.log()}")


@contextmanager
def redis_process(port: int, workdir: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A private redis-server on ``port`` (so killing it disturbs nobody)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed (Debian package redis-server)")
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port, socket_connect_timeout=0.2)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                proc.kill()
                raise
            time.sleep(0.05)
    try:
        yield proc
    finally:
        client.close()
        proc.kill()
        proc.wait()

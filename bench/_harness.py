"""Shared pieces for the HTTP benchmarks: a gifdist server, nginx, wrk.

Both servers are pinned to CPU 0 and wrk to CPU 1 (when ``taskset`` exists), each
server with one worker process, so the comparison is one core against one core.
"""

from __future__ import annotations

import io
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from PIL import Image

ADMIN_KEY = "bench-admin-key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pinned(cpu: int, argv: list[str]) -> list[str]:
    return ["taskset", "-c", str(cpu), *argv] if shutil.which("taskset") else argv


def make_gif_of_size(target_bytes: int, seed: int = 0) -> bytes:
    """A noise GIF of roughly ``target_bytes`` (noise barely compresses)."""
    rng = random.Random(seed)
    side = 16
    while True:
        frames = []
        for _ in range(4):
            frame = Image.new("P", (side, side))
            frame.putdata([rng.randrange(256) for _ in range(side * side)])
            frame.putpalette([rng.randrange(256) for _ in range(768)])
            frames.append(frame)
        out = io.BytesIO()
        frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=80, loop=0)
        if out.tell() >= target_bytes:
            return out.getvalue()
        side = int(side * max(1.1, (target_bytes / max(out.tell(), 1)) ** 0.5))


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


@dataclass
class Gifdist:
    base: str
    data_dir: Path
    process: subprocess.Popen[bytes] | None = None

    def stop(self) -> None:
        """Stop the server gracefully (it flushes what it holds); its data dir stays."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)

    def upload(self, data: bytes, title: str = "bench") -> dict:
        headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
        response = httpx.post(
            f"{self.base}/api/v1/assets",
            headers=headers,
            data={"title": title},
            files={"file": ("b.gif", data, "image/gif")},
            timeout=60,
        )
        response.raise_for_status()
        return response.json()

    def link(self, asset_id: str) -> str:
        headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
        response = httpx.post(
            f"{self.base}/api/v1/assets/{asset_id}/links", headers=headers, json={}, timeout=30
        )
        response.raise_for_status()
        return str(response.json()["short_code"])


@contextmanager
def gifdist_server(server: str = "granian", **env: str) -> Iterator[Gifdist]:
    """One gifdist worker on CPU 0, moderation and rate limits off.

    Logging is at WARNING, so the access log (on by default, at INFO) is left out
    of these figures; ``access_log.py`` measures its cost on its own.
    """
    data_dir = Path(tempfile.mkdtemp(prefix="gifdist-bench-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    full_env = {
        **os.environ,
        "GIFDIST_DATA_DIR": str(data_dir),
        "GIFDIST_BASE_URL": base,
        "GIFDIST_ADMIN_KEY": ADMIN_KEY,
        "GIFDIST_MODERATION": "off",
        "GIFDIST_RATE_LIMITS": "off",
        "GIFDIST_LOG_LEVEL": "warning",
        **env,
    }
    argv = pinned(
        0,
        [
            sys.executable,
            "-m",
            "gifdist.cli",
            "serve",
            "--port",
            str(port),
            "--server",
            server,
            "--workers",
            "1",
        ],
    )
    proc = subprocess.Popen(
        argv, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_http(f"{base}/healthz")
        yield Gifdist(base, data_dir, proc)
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=60)
        shutil.rmtree(data_dir, ignore_errors=True)


NGINX_CONF = """
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  types {{ image/gif gif; }}
  client_body_temp_path {root}/tmp;
  proxy_temp_path {root}/tmp;
  fastcgi_temp_path {root}/tmp;
  uwsgi_temp_path {root}/tmp;
  scgi_temp_path {root}/tmp;
  server {{
    listen 127.0.0.1:{port};
    root {root}/files;
    location /s/ {{ return 302 http://127.0.0.1:{port}/a/target; }}
    location /a/ {{ add_header Cache-Control "public, max-age=31536000, immutable"; }}
  }}
}}
"""


@contextmanager
def nginx_server(files: dict[str, bytes]) -> Iterator[str]:
    """nginx (one worker, sendfile) serving ``files`` under /a/ on CPU 0."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    root = Path(tempfile.mkdtemp(prefix="nginx-bench-"))
    root.chmod(0o755)  # nginx workers drop privileges and must read the files
    (root / "tmp").mkdir()
    (root / "files" / "a").mkdir(parents=True)
    for name, data in files.items():
        (root / "files" / "a" / name).write_bytes(data)
    port = free_port()
    conf = root / "nginx.conf"
    conf.write_text(NGINX_CONF.format(root=root, port=port))
    proc = subprocess.Popen(
        pinned(0, [binary, "-c", str(conf), "-p", str(root)]),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class WrkResult:
    requests_per_s: float
    bytes_per_s: float
    latency_p50_ms: float
    non_2xx_3xx: int


_UNITS = {"": 1, "K": 1e3, "M": 1e6, "G": 1e9, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "B": 1}


def wrk(
    url: str, *, seconds: int = 5, connections: int = 32, headers: dict[str, str] | None = None
) -> WrkResult:
    """Run wrk (one thread, on CPU 1) and parse its summary."""
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian package 'wrk'); `make bench` installs it")
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in (headers or {}).items():
        argv += ["-H", f"{name}: {value}"]
    out = subprocess.run(pinned(1, [*argv, url]), capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    transfer = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", out)
    bps = float(transfer.group(1)) * _UNITS[transfer.group(2)] if transfer else 0.0
    p50 = re.search(r"50%\s+([\d.]+)(\w+)", out)
    p50_ms = float(p50.group(1)) * {"us": 1e-3, "ms": 1, "s": 1e3}[p50.group(2)] if p50 else 0.0
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if errors and int(errors.group(1)) > 0:
        raise RuntimeError(f"{url} answered errors during the run:\n{out}")
    return WrkResult(rps, bps, p50_ms, int(errors.group(1)) if errors else 0)

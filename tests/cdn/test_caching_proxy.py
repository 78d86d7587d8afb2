"""gifdist behind a real caching proxy (nginx proxy_cache): hits, 304s and ranges."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from conftest import REQUIRE_SERVICES
from gif_factory import make_gif
from servers import SERVER_KEY, free_port, running_server

pytestmark = pytest.mark.server

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"}

CONF = """
{user}
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {root}/tmp;
  proxy_temp_path {root}/tmp;
  fastcgi_temp_path {root}/tmp;
  uwsgi_temp_path {root}/tmp;
  scgi_temp_path {root}/tmp;
  proxy_cache_path {root}/cache keys_zone=gifs:1m max_size=100m;
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass {upstream};
      proxy_cache gifs;
      proxy_cache_revalidate on;
      proxy_http_version 1.1;
      add_header X-Cache-Status $upstream_cache_status always;
    }}
  }}
}}
"""


def nginx_binary() -> str:
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None
    )
    if found is None:
        message = "nginx is not installed (Debian package 'nginx'; make test installs it)"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)
    return found


@contextmanager
def caching_proxy(upstream: str, root: Path) -> Iterator[str]:
    binary = nginx_binary()
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    for sub in ("tmp", "cache"):
        (root / sub).mkdir()
        (root / sub).chmod(0o777)  # nginx workers may run as another user
    port = free_port()
    conf = root / "nginx.conf"
    # as root, nginx workers switch to nobody, who cannot enter pytest's 0700 temp dirs
    user = "user root;" if os.geteuid() == 0 else ""
    conf.write_text(CONF.format(user=user, root=root, port=port, upstream=upstream))
    proc = subprocess.Popen(
        [binary, "-c", str(conf), "-p", str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                httpx.get(base + "/healthz", timeout=1)
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log = (root / "error.log").read_text() if (root / "error.log").exists() else ""
                    raise AssertionError(f"nginx did not start:\n{log}") from None
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_gifs_are_cached_revalidated_and_ranged_through_the_proxy(tmp_path: Path) -> None:
    data = make_gif(width=96, height=64, frames=8, seed=21, pattern="noise")
    with running_server(tmp_path) as server:
        with httpx.Client(base_url=server.base, timeout=10) as origin:
            asset = origin.post(
                "/api/v1/assets",
                files={"file": ("a.gif", data, "image/gif")},
                headers={"Authorization": f"Bearer {SERVER_KEY}"},
            ).json()
        path = f"/a/{asset['asset_id']}.gif"
        with (
            caching_proxy(server.base, tmp_path / "nginx") as proxy,
            httpx.Client(base_url=proxy, timeout=10, headers=BROWSER) as http,
        ):
            first = http.get(path)
            assert first.status_code == 200 and first.content == data
            assert first.headers["x-cache-status"] == "MISS"
            second = http.get(path)
            assert second.headers["x-cache-status"] == "HIT" and second.content == data
            assert second.headers["etag"] == f'"{asset["sha256"]}"'
            assert "immutable" in second.headers["cache-control"]

            not_modified = http.get(path, headers={"If-None-Match": second.headers["etag"]})
            assert not_modified.status_code == 304 and not_modified.content == b""

            ranged = http.get(path, headers={"Range": "bytes=10-99"})
            assert ranged.status_code == 206 and ranged.content == data[10:100]
            assert ranged.headers["content-range"] == f"bytes 10-99/{len(data)}"
            suffix = http.get(path, headers={"Range": "bytes=-25"})
            assert suffix.status_code == 206 and suffix.content == data[-25:]
            beyond = http.get(path, headers={"Range": f"bytes={len(data) + 5}-"})
            assert beyond.status_code == 416

            missing = http.get("/a/0123456789abcdef.gif")
            assert missing.status_code == 404
            assert http.get("/a/0123456789abcdef.gif").headers["x-cache-status"] != "HIT"

"""gifdist behind a real caching proxy (nginx proxy_cache): hits, 304s and ranges."""

from __future__ import annotations

import os
import re
import shutil
import socket
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
{modules}
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
      proxy_cache_key $uri$is_args$args;
      proxy_http_version 1.1;
      add_header X-Cache-Status $upstream_cache_status always;
    }}
    {purge}
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


PURGE_MODULE = Path("/usr/lib/nginx/modules/ngx_http_cache_purge_module.so")


def purge_module() -> Path:
    if not PURGE_MODULE.exists():
        message = (
            "nginx's cache-purge module is not installed (Debian package "
            "'libnginx-mod-http-cache-purge'; make test installs it)"
        )
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)
    return PURGE_MODULE


@contextmanager
def caching_proxy(
    upstream: str, root: Path, *, port: int | None = None, purge: bool = False
) -> Iterator[str]:
    binary = nginx_binary()
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    for sub in ("tmp", "cache"):
        (root / sub).mkdir()
        (root / sub).chmod(0o777)  # nginx workers may run as another user
    port = port or free_port()
    modules = f"load_module {purge_module()};" if purge else ""
    purging = (
        "location ~ ^/purge(/.*)$ { allow 127.0.0.1; deny all; "
        "proxy_cache_purge gifs $1$is_args$args; }"
        if purge
        else ""
    )
    conf = root / "nginx.conf"
    # as root, nginx workers switch to nobody, who cannot enter pytest's 0700 temp dirs
    user = "user root;" if os.geteuid() == 0 else ""
    conf.write_text(
        CONF.format(
            user=user, modules=modules, purge=purging, root=root, port=port, upstream=upstream
        )
    )
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
            assert "s-maxage=60" in second.headers["cache-control"]

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


ADMIN = {"Authorization": f"Bearer {SERVER_KEY}"}


def _upload(origin: httpx.Client, seed: int) -> str:
    data = make_gif(width=32, height=32, frames=2, seed=seed)
    response = origin.post("/api/v1/assets", files={"file": ("a.gif", data, "image/gif")})
    assert response.status_code == 201, response.text
    asset_id: str = response.json()["asset_id"]
    return asset_id


def _cached(http: httpx.Client, path: str) -> None:
    """The first fetch misses, and the proxy then serves ``path`` from its cache (nginx
    finishes writing the cache file just after the client has the last byte, so a
    loaded machine may need a moment before the first HIT)."""
    assert http.get(path).headers["x-cache-status"] == "MISS"
    deadline = time.monotonic() + 3
    while True:
        hit = http.get(path)
        if hit.headers["x-cache-status"] == "HIT" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert hit.status_code == 200 and hit.headers["x-cache-status"] == "HIT"


def _seconds_until_refused(http: httpx.Client, path: str, limit: float) -> float:
    """How long the proxy keeps serving ``path`` (fails past ``limit`` seconds)."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if http.get(path).status_code != 200:
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"the proxy still serves {path} after {limit} s")


def test_a_gif_made_private_leaves_the_proxy_within_the_shared_cache_window(
    tmp_path: Path,
) -> None:
    """No purge configured: s-maxage alone bounds how long the proxy serves it."""
    window = 2
    with (
        running_server(tmp_path, GIFDIST_SHARED_CACHE_SECONDS=str(window)) as server,
        httpx.Client(base_url=server.base, timeout=10, headers=ADMIN) as origin,
        caching_proxy(server.base, tmp_path / "nginx") as proxy,
        httpx.Client(base_url=proxy, timeout=10, headers=BROWSER) as http,
    ):
        asset_id = _upload(origin, seed=31)
        path = f"/a/{asset_id}.gif"
        _cached(http, path)
        assert (
            http.get(path)
            .headers["cache-control"]
            .startswith(f"public, max-age=31536000, s-maxage={window}")
        )
        private = origin.patch(f"/api/v1/assets/{asset_id}", json={"private": True})
        assert private.status_code == 200
        # nginx's cache clock ticks in whole seconds: a copy may outlive s-maxage by one
        assert _seconds_until_refused(http, path, limit=window + 3.0) <= window + 1.5
        assert http.get(path).status_code == 404  # as for an unknown id


def test_rejected_and_reported_gifs_are_purged_from_the_proxy_at_once(tmp_path: Path) -> None:
    """With a purge URL, takedowns reach the proxy long before a (here: one hour) s-maxage."""
    proxy_port = free_port()
    env = {
        "GIFDIST_SHARED_CACHE_SECONDS": "3600",
        "GIFDIST_CACHE_PURGE_URLS": f'["http://127.0.0.1:{proxy_port}/purge"]',
        "GIFDIST_REPORT_THRESHOLD": "1",
    }
    with (
        running_server(tmp_path, **env) as server,
        httpx.Client(base_url=server.base, timeout=10, headers=ADMIN) as origin,
        caching_proxy(server.base, tmp_path / "nginx", port=proxy_port, purge=True) as proxy,
        httpx.Client(base_url=proxy, timeout=10, headers=BROWSER) as http,
    ):
        rejected, reported, untouched = (_upload(origin, seed=n) for n in (41, 42, 43))
        for asset_id in (rejected, reported, untouched):
            _cached(http, f"/a/{asset_id}.gif")
        decision = origin.post(
            f"/api/v1/moderation/assets/{rejected}/decision", json={"decision": "reject"}
        )
        assert decision.status_code == 200, decision.text
        report = httpx.post(f"{server.base}/api/v1/assets/{reported}/report", json={})
        assert report.json()["under_review"] is True
        for asset_id in (rejected, reported):
            assert _seconds_until_refused(http, f"/a/{asset_id}.gif", limit=5.0) < 5.0
            assert http.get(f"/a/{asset_id}.gif").status_code == 404
        still = http.get(f"/a/{untouched}.gif")
        assert still.status_code == 200 and still.headers["x-cache-status"] == "HIT"


REFERENCE_CONF = Path(__file__).parents[2] / "deploy" / "nginx.conf"


def reference_conf(root: Path, port: int, upstream: str, edge_log_port: int = 9) -> str:
    """deploy/nginx.conf, pointed at a test server and a temporary directory; its cache
    hits go as log lines to UDP ``edge_log_port`` on loopback (9, discard, by default)."""
    text = REFERENCE_CONF.read_text()
    host_port = upstream.removeprefix("http://")
    replacements = {
        "server app1:8000; server app2:8000;": f"server {host_port};",
        "listen 80;": f"listen 127.0.0.1:{port};",
        "syslog:server=app1:5140,": f"syslog:server=127.0.0.1:{edge_log_port},",
        "/var/log/nginx/access.log": str(root / "access.log"),
        "/var/cache/nginx": str(root / "cache"),
        "load_module modules/": f"load_module {PURGE_MODULE.parent}/",
        "http {": (
            f"http {{ access_log off; client_body_temp_path {root}/tmp; proxy_temp_path {root}/tmp;"
        ),
    }
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    user = "user root;" if os.geteuid() == 0 else ""
    return f"{user}\npid {root}/nginx.pid;\nerror_log {root}/error.log warn;\ndaemon off;\n" + text


@contextmanager
def reference_proxy(upstream: str, root: Path, port: int, edge_log_port: int = 9) -> Iterator[str]:
    binary, _ = nginx_binary(), purge_module()
    for sub in ("tmp", "cache"):
        (root / sub).mkdir(parents=True)
        (root / sub).chmod(0o777)
    root.chmod(0o755)
    conf = root / "nginx.conf"
    conf.write_text(reference_conf(root, port, upstream, edge_log_port))
    proc = subprocess.Popen([binary, "-c", str(conf), "-p", str(root)], stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                httpx.get(base + "/healthz", timeout=1)
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"nginx did not start: {proc.stderr}") from None
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_reference_nginx_keeps_clients_from_naming_their_own_address(
    tmp_path: Path,
) -> None:
    """Through deploy/nginx.conf, a client rotating Forwarded/X-Forwarded-For values is
    still one client to the sign-in limit, and purges reach the cache."""
    port = free_port()
    env = {
        "GIFDIST_RATE_LIMITS": "on",
        "GIFDIST_RATE_LIMIT_SIGNIN": "2",
        "GIFDIST_TRUSTED_PROXIES": '["127.0.0.1"]',
        "GIFDIST_CACHE_PURGE_URLS": f'["http://127.0.0.1:{port}/purge"]',
        "GIFDIST_SHARED_CACHE_SECONDS": "3600",
    }
    with (
        running_server(tmp_path, **env) as server,
        reference_proxy(server.base, tmp_path / "nginx", port) as proxy,
        httpx.Client(base_url=proxy, timeout=10, headers=BROWSER) as http,
    ):
        statuses = [
            http.post(
                "/signin",
                data={"key": "wrong"},
                headers={"Forwarded": f"for=192.0.2.{n}", "X-Forwarded-For": f"192.0.2.{n}"},
            ).status_code
            for n in range(4)
        ]
        assert statuses[:2] == [401, 401] and statuses[2:] == [429, 429], statuses

        with httpx.Client(base_url=server.base, timeout=10, headers=ADMIN) as origin:
            asset_id = _upload(origin, seed=51)
            _cached(http, f"/a/{asset_id}.gif")
            origin.patch(f"/api/v1/assets/{asset_id}", json={"private": True})
        assert _seconds_until_refused(http, f"/a/{asset_id}.gif", limit=5.0) < 5.0


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _edge_counted(metrics: str) -> float:
    found = re.search(r'^gifdist_edge_log_lines_total\{result="counted"\} (\S+)$', metrics, re.M)
    return float(found.group(1)) if found else 0.0


def test_plays_the_reference_proxy_serves_from_its_cache_are_counted_once(
    tmp_path: Path,
) -> None:
    """Through deploy/nginx.conf: five people, each from their own address, fetch one
    GIF. The first fetch reaches the app, which counts it; the cache serves the rest and
    sends them as log lines, which the app counts too: five plays, not one. A repeat, a
    resumed range, a HEAD and a bot count nothing, from the cache or from the app."""
    port, udp = free_port(), free_udp_port()
    env = {
        "GIFDIST_TRUSTED_PROXIES": '["127.0.0.1"]',
        "GIFDIST_SHARED_CACHE_SECONDS": "3600",
        "GIFDIST_EDGE_LOG_LISTEN": f"127.0.0.1:{udp}",
        "GIFDIST_ANALYTICS_FLUSH_SECONDS": "0.2",
    }
    with (
        running_server(tmp_path, **env) as server,
        reference_proxy(server.base, tmp_path / "nginx", port, udp) as proxy,
        httpx.Client(base_url=server.base, timeout=10, headers=ADMIN) as origin,
    ):
        asset_id = _upload(origin, seed=61)
        path = f"/a/{asset_id}.gif"

        def person(n: int, **headers: str) -> httpx.Response:
            transport = httpx.HTTPTransport(local_address=f"127.0.0.{n}")
            with httpx.Client(base_url=proxy, transport=transport, timeout=10) as http:
                return http.get(path, headers={**BROWSER, **headers})

        caches = []
        for n in range(2, 7):
            fetched = person(n)
            assert fetched.status_code == 200
            caches.append(fetched.headers["x-cache-status"])
            time.sleep(0.2)  # nginx writes the cache file just after the last byte
        assert caches[0] == "MISS" and "HIT" in caches, caches
        assert person(2).headers["x-cache-status"] == "HIT"  # a repeat: one play
        assert person(7, Range="bytes=10-20").status_code == 206  # a resumed chunk
        slackbot = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"
        assert person(8, **{"User-Agent": slackbot}).headers["x-cache-status"] == "HIT"
        transport = httpx.HTTPTransport(local_address="127.0.0.9")
        with httpx.Client(base_url=proxy, transport=transport, headers=BROWSER) as http:
            assert http.head(path).status_code == 200

        def plays() -> int:
            return int(origin.get(f"/api/v1/assets/{asset_id}/stats").json()["plays"])

        deadline = time.monotonic() + 10
        while plays() < 5 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)  # anything counted twice would arrive by now
        assert plays() == 5
        assert _edge_counted(origin.get("/metrics").text) == caches.count("HIT")

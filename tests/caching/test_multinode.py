"""Two app nodes sharing one PostgreSQL, one Redis and one S3 server (moto on loopback)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from gif_factory import make_gif
from servers import SERVER_KEY, RunningServer, free_port, running_server

pytestmark = [pytest.mark.server, pytest.mark.postgres, pytest.mark.redis]

AUTH = {"Authorization": f"Bearer {SERVER_KEY}"}
SLACKBOT = {"User-Agent": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"}
BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"}
SHORTLINK_LIMIT = 40


class S3Server:
    """moto's S3 API server on loopback, which the test can stop and start again."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._factory = lambda: ThreadedMotoServer(
            ip_address="127.0.0.1", port=self.port, verbose=False
        )
        self.server = self._factory()

    def start(self, bucket: str) -> None:
        import boto3

        self.server.start()
        client = boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        client.create_bucket(Bucket=bucket)

    def stop(self) -> None:
        self.server.stop()
        self.server = self._factory()


@pytest.fixture
def s3() -> Iterator[S3Server]:
    server = S3Server()
    server.start("gifdist-nodes")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def nodes(
    tmp_path: Path, pg_schema_url: str, redis_url: str, s3: S3Server
) -> Iterator[tuple[RunningServer, RunningServer]]:
    yield from _two_nodes(tmp_path, pg_schema_url, redis_url, s3, rate_limits="on")


@pytest.fixture
def unlimited_nodes(
    tmp_path: Path, pg_schema_url: str, redis_url: str, s3: S3Server
) -> Iterator[tuple[RunningServer, RunningServer]]:
    """Without rate limits: the counters in the shared Redis outlive each test."""
    yield from _two_nodes(tmp_path, pg_schema_url, redis_url, s3, rate_limits="off")


def _two_nodes(
    tmp_path: Path,
    pg_schema_url: str,
    redis_url: str,
    s3: S3Server,
    *,
    rate_limits: str,
    **extra: str,
) -> Iterator[tuple[RunningServer, RunningServer]]:
    env = {
        "GIFDIST_DATABASE_URL": pg_schema_url,
        "GIFDIST_REDIS_URL": redis_url,
        "GIFDIST_STORAGE_URL": f"s3://gifdist-nodes/gifs?endpoint_url={s3.url}&region=us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "GIFDIST_SECRET_KEY": "one-secret-for-every-node",
        "GIFDIST_RATE_LIMITS": rate_limits,
        "GIFDIST_RATE_LIMIT_SHORTLINKS": str(SHORTLINK_LIMIT),
        **extra,
    }
    with ExitStack() as stack:
        a = stack.enter_context(running_server(tmp_path, **env))
        b = stack.enter_context(running_server(tmp_path, **env))
        yield a, b


def test_two_nodes_share_assets_events_limits_and_rejections(
    nodes: tuple[RunningServer, RunningServer], s3: S3Server
) -> None:
    a, b = nodes
    data = make_gif(width=80, height=60, frames=6, seed=31, pattern="noise")
    with (
        httpx.Client(base_url=a.base, timeout=10) as node_a,
        httpx.Client(base_url=b.base, timeout=10) as node_b,
    ):
        created = node_a.post(
            "/api/v1/assets", files={"file": ("a.gif", data, "image/gif")}, headers=AUTH
        )
        assert created.status_code == 201, created.text
        asset_id = created.json()["asset_id"]
        code = node_a.post(f"/api/v1/assets/{asset_id}/links", json={}, headers=AUTH).json()[
            "short_code"
        ]

        # bytes uploaded on A come from S3 through B, ranges included
        whole = node_b.get(f"/a/{asset_id}.gif", headers=BROWSER)
        assert whole.status_code == 200 and whole.content == data
        part = node_b.get(f"/a/{asset_id}.gif", headers={**BROWSER, "Range": "bytes=7-70"})
        assert part.status_code == 206 and part.content == data[7:71]
        assert part.headers["content-range"] == f"bytes 7-70/{len(data)}"
        assert (
            node_b.get(
                f"/a/{asset_id}.gif", headers={"If-None-Match": whole.headers["etag"]}
            ).status_code
            == 304
        )

        # events from both nodes land in one set of stats
        assert node_a.get(f"/s/{code}", headers=SLACKBOT).status_code == 200
        assert node_b.get(f"/s/{code}", headers=SLACKBOT).status_code == 200
        assert node_b.get(f"/s/{code}?via=slack", headers=BROWSER).status_code == 302
        deadline = time.monotonic() + 10
        while True:
            stats = node_a.get(f"/api/v1/links/{code}/stats", headers=AUTH).json()
            if stats["views"] + stats["clicks"] >= 3 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert (stats["views"], stats["clicks"]) == (2, 1)
        assert stats["platforms"]["slack"]["ctr"] == 50.0

        # one /s/ limit for the whole cluster
        left = int(node_a.get(f"/s/{code}", headers=SLACKBOT).headers["ratelimit-remaining"])
        passed, refused, turn = 0, 0, 0
        while refused == 0 and turn < 2 * SHORTLINK_LIMIT:
            node = node_a if turn % 2 == 0 else node_b
            status = node.get(f"/s/{code}", headers=SLACKBOT).status_code
            passed += status == 200
            refused += status == 429
            turn += 1
        assert refused == 1 and passed == left

        # a rejection on A stops delivery on B within 5 seconds
        rejected = node_a.post(
            f"/api/v1/moderation/assets/{asset_id}/decision",
            json={"decision": "reject", "notes": "test"},
            headers=AUTH,
        )
        assert rejected.status_code == 200
        started = time.monotonic()
        while node_b.get(f"/a/{asset_id}.gif", headers=BROWSER).status_code != 404:
            assert time.monotonic() - started < 5, "node B still serves a rejected GIF"
            time.sleep(0.1)

        # the object store goes away: a clean 503 with Retry-After, then recovery
        other = make_gif(width=40, height=30, frames=3, seed=32)
        second = node_a.post(
            "/api/v1/assets", files={"file": ("b.gif", other, "image/gif")}, headers=AUTH
        ).json()["asset_id"]
        assert node_b.get(f"/a/{second}.gif", headers=BROWSER).content == other
        s3.stop()
        down = node_b.get(f"/a/{second}.gif", headers=BROWSER)
        assert down.status_code == 503 and down.headers["retry-after"] == "5"
        assert node_a.get("/readyz").status_code == 503
        s3.start("gifdist-nodes")  # an empty store: moto keeps nothing across restarts
        assert node_a.get("/readyz").status_code == 200
        again = node_a.post(
            "/api/v1/assets",
            files={"file": ("c.gif", make_gif(seed=33), "image/gif")},
            headers=AUTH,
        )
        assert again.status_code == 201, again.text


def test_a_delete_on_one_node_is_gone_on_the_other_and_from_the_store(
    unlimited_nodes: tuple[RunningServer, RunningServer], s3: S3Server
) -> None:
    """Real server processes: B had the GIF and its link cached; after A deletes it, B
    answers 410 for the page, the bytes and the link, and S3 no longer holds the bytes."""
    import boto3

    a, b = unlimited_nodes
    data = make_gif(width=40, height=30, frames=3, seed=33)
    with (
        httpx.Client(base_url=a.base, timeout=10) as node_a,
        httpx.Client(base_url=b.base, timeout=10) as node_b,
    ):
        asset = node_a.post(
            "/api/v1/assets", files={"file": ("d.gif", data, "image/gif")}, headers=AUTH
        ).json()
        asset_id = asset["asset_id"]
        code = node_a.post(f"/api/v1/assets/{asset_id}/links", json={}, headers=AUTH).json()[
            "short_code"
        ]
        assert node_b.get(f"/a/{asset_id}.gif", headers=BROWSER).status_code == 200
        assert node_b.get(f"/s/{code}", headers=BROWSER).status_code == 302  # both cached on B
        assert node_a.delete(f"/api/v1/assets/{asset_id}", headers=AUTH).status_code == 204
        deadline = time.monotonic() + 5
        while node_b.get(f"/a/{asset_id}.gif", headers=BROWSER).status_code != 410:
            assert time.monotonic() < deadline, "node B still serves a deleted GIF"
            time.sleep(0.1)
        assert node_b.get(f"/s/{code}", headers=BROWSER).status_code == 410
        assert node_b.get(f"/s/{code}", headers=SLACKBOT).status_code == 410
        assert node_b.get(f"/a/{asset_id}", headers=BROWSER).status_code == 410
        client = boto3.client(
            "s3",
            endpoint_url=s3.url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        listed = client.list_objects_v2(Bucket="gifdist-nodes", Prefix="gifs/")
        keys = [item["Key"] for item in listed.get("Contents", [])]
        assert not any(asset["sha256"] in key for key in keys), keys


def test_a_delete_behind_the_reference_nginx_stops_the_cache_and_the_other_node(
    tmp_path: Path, pg_schema_url: str, redis_url: str, s3: S3Server
) -> None:
    """deploy/nginx.conf in front of two real nodes (an hour of s-maxage): after node A
    deletes a GIF the proxy had cached and node B had in memory, the proxy and B both
    answer 410 for its bytes, page and link within seconds (the purge and the Redis
    invalidation), not after the hour."""
    from cdn.test_caching_proxy import nginx_binary, purge_module, reference_conf

    port = free_port()
    env = {
        "GIFDIST_CACHE_PURGE_URLS": f'["http://127.0.0.1:{port}/purge"]',
        "GIFDIST_SHARED_CACHE_SECONDS": "3600",
        "GIFDIST_TRUSTED_PROXIES": '["127.0.0.1"]',
    }
    nodes = _two_nodes(tmp_path, pg_schema_url, redis_url, s3, rate_limits="off", **env)
    a, b = next(nodes)
    root = tmp_path / "nginx"
    for sub in ("tmp", "cache"):
        (root / sub).mkdir(parents=True)
        (root / sub).chmod(0o777)
    root.chmod(0o755)
    both = f"server {a.base.removeprefix('http://')}; server {b.base.removeprefix('http://')};"
    conf = reference_conf(root, port, a.base).replace(
        f"server {a.base.removeprefix('http://')};", both, 1
    )
    (root / "nginx.conf").write_text(conf)
    purge_module()
    proxy = subprocess.Popen(
        [nginx_binary(), "-c", str(root / "nginx.conf"), "-p", str(root)],
        stderr=subprocess.DEVNULL,
    )
    try:
        with (
            httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10, headers=BROWSER) as http,
            httpx.Client(base_url=a.base, timeout=10, headers=AUTH) as node_a,
            httpx.Client(base_url=b.base, timeout=10, headers=BROWSER) as node_b,
        ):
            _wait_for(lambda: http.get("/healthz").status_code == 200, "nginx did not start")
            data = make_gif(width=40, height=30, frames=3, seed=34)
            asset = node_a.post(
                "/api/v1/assets", files={"file": ("n.gif", data, "image/gif")}
            ).json()
            asset_id = asset["asset_id"]
            code = node_a.post(f"/api/v1/assets/{asset_id}/links", json={}).json()["short_code"]
            gif = f"/a/{asset_id}.gif"
            assert http.get(gif).headers["x-cache-status"] == "MISS"
            hit = http.get(gif)
            assert hit.headers["x-cache-status"] == "HIT" and hit.content == data
            assert node_b.get(gif).status_code == 200 and node_b.get(f"/s/{code}").is_redirect

            assert node_a.delete(f"/api/v1/assets/{asset_id}").status_code == 204
            _wait_for(lambda: http.get(gif).status_code == 410, "the proxy still serves it")
            _wait_for(lambda: node_b.get(gif).status_code == 410, "node B still serves it")
            for path in (f"/a/{asset_id}", f"/s/{code}"):
                assert http.get(path).status_code == 410, path
                assert node_b.get(path).status_code == 410, path
            assert http.get(f"/s/{code}", headers=SLACKBOT).status_code == 410
    finally:
        proxy.terminate()
        proxy.wait(timeout=10)
        nodes.close()


def _wait_for(done: Callable[[], bool], message: str, limit: float = 5.0) -> None:
    deadline = time.monotonic() + limit
    while True:
        try:
            if done():
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, message
        time.sleep(0.1)

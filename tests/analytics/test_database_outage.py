"""PostgreSQL goes away under a running server and comes back: clean 503s, no loss."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gif_factory import make_gif
from servers import SERVER_KEY, running_server
from tcp_proxy import TcpProxy

pytestmark = [pytest.mark.server, pytest.mark.postgres]

AUTH = {"Authorization": f"Bearer {SERVER_KEY}"}
BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"}


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    forwarder = TcpProxy("127.0.0.1", 5432)
    forwarder.start()
    try:
        yield forwarder
    finally:
        forwarder.stop()


def test_requests_fail_cleanly_while_the_database_is_down_and_recover(
    tmp_path: Path, pg_schema_url: str, proxy: TcpProxy
) -> None:
    proxied = pg_schema_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    with (
        running_server(
            tmp_path, GIFDIST_DATABASE_URL=proxied, GIFDIST_ANALYTICS_FLUSH_SECONDS="0.2"
        ) as server,
        httpx.Client(base_url=server.base, timeout=30) as http,
    ):
        data = make_gif(seed=61)
        asset_id = http.post(
            "/api/v1/assets", files={"file": ("a.gif", data, "image/gif")}, headers=AUTH
        ).json()["asset_id"]
        code = http.post(f"/api/v1/assets/{asset_id}/links", json={}, headers=AUTH).json()[
            "short_code"
        ]
        assert http.get(f"/s/{code}", headers=BROWSER).status_code == 302  # warm the caches

        proxy.stop()
        clicks = [http.get(f"/s/{code}?via=discord", headers=BROWSER) for _ in range(5)]
        assert [c.status_code for c in clicks] == [302] * 5  # served from memory, counted
        for method, path in (
            ("POST", f"/api/v1/assets/{asset_id}/links"),
            ("GET", "/s/Zz99Zz99"),
            ("GET", "/a/0123456789abcdef.gif"),
            ("GET", f"/api/v1/assets/{asset_id}/stats"),
        ):
            started = time.monotonic()
            response = http.request(method, path, headers={**AUTH, **BROWSER}, json={})
            assert response.status_code == 503, (path, response.status_code, response.text)
            assert response.headers["retry-after"] == "5"
            assert response.json()["error"]["code"] == "database_unavailable"
            assert time.monotonic() - started < 15  # bounded by the connect timeout
        assert http.get("/readyz").status_code == 503

        proxy.start()
        deadline = time.monotonic() + 30
        while http.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "the service did not recover"
            time.sleep(0.2)
        while True:  # the clicks acknowledged during the outage were kept and written
            stats = http.get(f"/api/v1/links/{code}/stats", headers=AUTH).json()
            if stats["platforms"]["discord"]["clicks"] >= 5 or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert stats["platforms"]["discord"]["clicks"] == 5
        again = http.post(
            "/api/v1/assets",
            files={"file": ("b.gif", make_gif(seed=62), "image/gif")},
            headers=AUTH,
        )
        assert again.status_code == 201
    assert "Traceback" not in server.log()

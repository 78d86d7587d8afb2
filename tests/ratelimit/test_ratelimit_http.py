"""Rate limits on the running service: headers, 429s, keys, proxies, shared Redis."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import ADMIN_KEY, make_settings
from gif_factory import make_gif
from servers import free_port, running_server
from starlette.testclient import TestClient

from gifdist.web.app import create_app
from gifdist.wiring import Service


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[tuple[TestClient, Service]]:
    settings = make_settings(
        tmp_path,
        f"sqlite:///{tmp_path / 'db.sqlite'}",
        rate_limits="on",
        rate_limit_shortlinks=3,
        rate_limit_uploads=2,
    )
    service = Service(settings)
    try:
        with TestClient(create_app(service=service)) as client:
            client.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
            yield client, service
    finally:
        service.close()


def test_limited_routes_send_ratelimit_headers_then_429(
    limited: tuple[TestClient, Service],
) -> None:
    client, _ = limited
    answers = [client.get("/s/Abcd1234", follow_redirects=False) for _ in range(4)]
    assert [a.status_code for a in answers] == [404, 404, 404, 429]
    assert answers[0].headers["ratelimit-limit"] == "3"
    assert [a.headers["ratelimit-remaining"] for a in answers[:3]] == ["2", "1", "0"]
    refused = answers[3]
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["error"]["code"] == "rate_limited"
    assert "x-request-id" in refused.headers


def test_unlimited_routes_have_no_ratelimit_headers(limited: tuple[TestClient, Service]) -> None:
    client, _ = limited
    assert "ratelimit-limit" not in client.get("/healthz").headers


def test_uploads_are_counted_per_key(limited: tuple[TestClient, Service]) -> None:
    client, service = limited
    other, _ = service.keys.create("other")
    statuses = [
        client.post(
            "/api/v1/assets", files={"file": ("a.gif", make_gif(seed=i), "image/gif")}
        ).status_code
        for i in range(3)
    ]
    assert statuses == [201, 201, 429]
    response = client.post(
        "/api/v1/assets",
        headers={"Authorization": f"Bearer {other}"},
        files={"file": ("a.gif", make_gif(seed=9), "image/gif")},
    )
    assert response.status_code == 201


def test_spoofed_forwarded_for_does_not_escape_the_limit(tmp_path: Path) -> None:
    with running_server(
        tmp_path, GIFDIST_RATE_LIMITS="on", GIFDIST_RATE_LIMIT_SHORTLINKS="2"
    ) as server:
        codes = [
            httpx.get(
                f"{server.base}/s/Abcd1234", headers={"X-Forwarded-For": f"198.51.100.{i}"}
            ).status_code
            for i in range(3)
        ]
    assert codes == [404, 404, 429]


def test_trusted_proxy_forwarded_for_separates_clients(tmp_path: Path) -> None:
    env = {
        "GIFDIST_RATE_LIMITS": "on",
        "GIFDIST_RATE_LIMIT_SHORTLINKS": "1",
        "GIFDIST_TRUSTED_PROXIES": '["127.0.0.1"]',
    }
    with running_server(tmp_path, **env) as server:
        codes = [
            httpx.get(f"{server.base}/s/Abcd1234", headers={"X-Forwarded-For": ip}).status_code
            for ip in ("198.51.100.1", "198.51.100.2", "198.51.100.1")
        ]
    assert codes == [404, 404, 429]


@pytest.mark.redis
def test_two_server_processes_share_one_limit_through_redis(tmp_path: Path, redis_url: str) -> None:
    import redis

    env = {
        "GIFDIST_RATE_LIMITS": "on",
        "GIFDIST_RATE_LIMIT_SHORTLINKS": "5",
        "GIFDIST_REDIS_URL": redis_url,
    }
    database = f"sqlite:///{tmp_path / 'shared.db'}"
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter("gifdist:rl:*shortlinks:ip:127.0.0.1*"):
        client.delete(key)
    with (
        running_server(tmp_path, GIFDIST_DATABASE_URL=database, **env) as a,
        running_server(tmp_path, GIFDIST_DATABASE_URL=database, **env) as b,
    ):
        codes = [httpx.get(f"{(a, b)[i % 2].base}/s/Abcd1234").status_code for i in range(8)]
    assert codes.count(429) == 3 and codes[:5] == [404] * 5
    for key in client.scan_iter("gifdist:rl:*shortlinks:ip:127.0.0.1*"):
        client.delete(key)


def test_unreachable_redis_falls_back_to_in_process_limits(tmp_path: Path) -> None:
    env = {
        "GIFDIST_RATE_LIMITS": "on",
        "GIFDIST_RATE_LIMIT_SHORTLINKS": "2",
        "GIFDIST_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
    }
    with running_server(tmp_path, **env) as server:
        codes = [httpx.get(f"{server.base}/s/Abcd1234").status_code for _ in range(3)]
        log = server.log()
    assert codes == [404, 404, 429]
    assert log.count("Redis unreachable") == 1


def test_unreachable_redis_refuses_when_configured(tmp_path: Path) -> None:
    env = {
        "GIFDIST_RATE_LIMITS": "on",
        "GIFDIST_RATE_LIMIT_ON_REDIS_FAILURE": "refuse",
        "GIFDIST_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
    }
    with running_server(tmp_path, **env) as server:
        response = httpx.get(f"{server.base}/s/Abcd1234")
        health = httpx.get(f"{server.base}/healthz")
    assert response.status_code == 503 and response.headers["retry-after"]
    assert health.status_code == 200


def test_a_beacon_flood_from_one_client_is_refused_whatever_its_user_agent(
    tmp_path: Path,
) -> None:
    settings = make_settings(
        tmp_path,
        f"sqlite:///{tmp_path / 'b.sqlite'}",
        rate_limits="on",
        rate_limit_beacons=3,
        trusted_proxies=["127.0.0.1"],
    )
    service = Service(settings)
    try:
        proxy = ("127.0.0.1", 50000)
        with TestClient(create_app(service=service), client=proxy) as client:
            body = {"asset_id": "0123456789abcdef", "event_type": "play"}
            one = {"X-Forwarded-For": "198.51.100.7"}
            flood = [
                client.post("/api/v1/events", json=body, headers={**one, "User-Agent": f"ua/{n}"})
                for n in range(5)
            ]
            assert [r.status_code for r in flood] == [202, 202, 202, 429, 429]
            assert flood[3].json()["error"]["code"] == "rate_limited"
            other = client.post(
                "/api/v1/events", json=body, headers={"X-Forwarded-For": "198.51.100.8"}
            )
            assert other.status_code == 202  # another client has its own budget
    finally:
        service.close()

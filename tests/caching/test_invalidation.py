"""A change on one node reaches every node's cache through Redis pub/sub."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import make_settings
from gif_factory import make_gif
from servers import free_port, redis_process

from gifdist.assets import AssetStatus
from gifdist.wiring import Service

pytestmark = pytest.mark.redis


def test_rejection_on_one_node_stops_delivery_on_the_other(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    shared = {"redis_url": redis_url, "storage_url": f"file://{tmp_path / 'blobs'}"}
    node_a = Service(make_settings(tmp_path / "a", database_url, **shared))
    node_b = Service(make_settings(tmp_path / "b", database_url, **shared))
    node_a.start_background()
    node_b.start_background()
    try:
        result = node_a.uploads.ingest_file(
            _gif(tmp_path), node_a.uploads.clean_metadata("t", None, None), None
        )
        asset_id = result.asset.asset_id
        node_b.catalog.cache.ttl = 3600  # prove the message, not the TTL, does the work
        assert node_b.catalog.get(asset_id).is_public  # type: ignore[union-attr]
        assert node_b.catalog.cache.get(asset_id) is not None
        node_a.assets.set_status(asset_id, AssetStatus.REJECTED)
        node_a.catalog.changed(asset_id)
        started = time.monotonic()
        deadline = started + 5
        while node_b.catalog.cache.get(asset_id) is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert node_b.catalog.cache.get(asset_id) is None
        assert time.monotonic() - started < 5
        assert not node_b.catalog.get(asset_id).is_public  # type: ignore[union-attr]
    finally:
        node_a.close()
        node_b.close()


def _gif(tmp_path: Path) -> Path:
    path = tmp_path / "node.gif"
    path.write_bytes(make_gif(seed=77))
    return path


def test_invalidation_survives_a_redis_restart(tmp_path: Path) -> None:
    from gifdist.caching.invalidation import RedisInvalidator

    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    seen: list[str] = []
    node_a = RedisInvalidator(url, lambda asset: None)
    node_b = RedisInvalidator(url, seen.append)
    try:
        with redis_process(port, tmp_path):
            node_a.start()
            node_b.start()
            node_a.publish("before")
            _wait_for(lambda: "before" in seen)
        node_a.publish("while-down")  # Redis is gone: best effort, never raises
        with redis_process(port, tmp_path):
            deadline = time.monotonic() + 15
            while "after" not in seen and time.monotonic() < deadline:
                node_a.publish("after")  # until node B has subscribed again
                time.sleep(0.2)
        assert "after" in seen
        assert "while-down" not in seen  # a lost message is covered by the cache TTL
    finally:
        node_a.stop()
        node_b.stop()


def _wait_for(condition, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_readiness_names_redis_when_it_is_down(tmp_path: Path, redis_url: str) -> None:
    from starlette.testclient import TestClient

    from gifdist.web.app import create_app

    for url, expected in ((redis_url, 200), (f"redis://127.0.0.1:{free_port()}/0", 503)):
        service = Service(make_settings(tmp_path, f"sqlite:///{tmp_path / 'r.db'}", redis_url=url))
        try:
            with TestClient(create_app(service=service)) as client:
                ready = client.get("/readyz")
                assert ready.status_code == expected
                checks = ready.json()["checks"]
                assert checks["database"] == "ok" and checks["blobs"] == "ok"
                assert (checks["redis"] == "ok") == (expected == 200)
        finally:
            service.close()

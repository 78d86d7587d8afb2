"""Shared fixtures: real databases (SQLite file and PostgreSQL), real Redis, apps.

PostgreSQL and Redis tests run whenever the servers are reachable. With
``GIFDIST_REQUIRE_SERVICES=1`` (set by ``make test`` in CI) an unreachable server
fails the test instead of skipping it.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine, text

from gifdist.config import Settings
from gifdist.stores.database import create_database_engine
from gifdist.stores.migrate import upgrade_database

if TYPE_CHECKING:
    from starlette.testclient import TestClient

    from gifdist.stores.blobs_s3 import S3BlobStore
    from gifdist.wiring import Service

PG_URL = os.environ.get("GIFDIST_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("GIFDIST_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE_SERVICES = os.environ.get("GIFDIST_REQUIRE_SERVICES") == "1"


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip (or, when services are required, fail) if a server is not reachable."""
    if _reachable(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}"
    if REQUIRE_SERVICES:
        pytest.fail(message + " (GIFDIST_REQUIRE_SERVICES=1)")
    pytest.skip(message)


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh, empty schema (dropped after)."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_database_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database URL on SQLite and on PostgreSQL (the test runs once for each)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'gifdist.db'}"
    return request.getfixturevalue("pg_schema_url")


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated engine on each database kind."""
    eng = create_database_engine(database_url)
    upgrade_database(eng)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def redis_url() -> str:
    """The real Redis server's URL (skip or fail when it is down)."""
    require_service("Redis", "127.0.0.1", 6379)
    return REDIS_URL


ADMIN_KEY = "test-admin-key-0123456789"


def make_settings(tmp_path: Path, database_url: str, **overrides: object) -> Settings:
    """Settings for a service on a temporary data dir (moderation and renditions off
    unless asked: a conversion per upload would slow every other test)."""
    values: dict[str, object] = {
        "data_dir": tmp_path / "data",
        "database_url": database_url,
        "base_url": "http://gifdist.test",
        "admin_key": ADMIN_KEY,
        "moderation": "off",
        "renditions": "off",
        "rate_limits": "off",
        "log_json": True,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url)


@pytest.fixture
def service(settings: Settings) -> Iterator[Service]:
    from gifdist.wiring import Service

    svc = Service(settings)
    try:
        yield svc
    finally:
        svc.close()


@pytest.fixture
def client(service: Service) -> Iterator[TestClient]:
    """An in-process HTTP client on the full app (lifespan run), admin key preset."""
    from starlette.testclient import TestClient

    from gifdist.web.app import create_app

    with TestClient(create_app(service=service), base_url="http://gifdist.test") as test_client:
        test_client.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
        yield test_client


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A real S3 API (moto's server) on loopback for the module's tests."""
    from moto.server import ThreadedMotoServer
    from servers import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_store(s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> S3BlobStore:
    """An S3 blob store on a fresh bucket of ``s3_endpoint``."""
    import boto3

    from gifdist.stores.blobs_s3 import S3BlobStore
    from gifdist.stores.factory import open_blob_store

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    bucket = f"gifdist-{tmp_path.name[-8:].lower().replace('_', '-')}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(
        Bucket=bucket
    )
    store = open_blob_store(
        f"s3://{bucket}/gifs?endpoint_url={s3_endpoint}&region=us-east-1",
        spool_dir=tmp_path / "spool",
    )
    assert isinstance(store, S3BlobStore)
    return store

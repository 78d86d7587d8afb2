"""A small GIF library on each kind of store, for the search contract tests.

``Library`` changes assets the way gifdist does (status, privacy, metadata,
deletion) and tells the search catalog after each change, as the service does.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, delete, update

from gifdist.analytics import AnalyticsTracker, EventType, InMemoryAnalyticsStore, Platform
from gifdist.assets import AssetMetadata, AssetRecord, AssetStatus
from gifdist.media.gif import GifInfo
from gifdist.search import Analyzer, MemorySearchStore, SearchCatalog
from gifdist.stores.analytics_sql import SqlAnalyticsStore
from gifdist.stores.assets_sql import SqlAssetStore
from gifdist.stores.database import create_database_engine
from gifdist.stores.migrate import upgrade_database
from gifdist.stores.schema import assets
from gifdist.stores.search_sql import SqlSearchStore

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
_INFO = GifInfo(width=320, height=240, frames=4, duration_ms=400, loop_count=0, version="89a")


class Library:
    """Assets plus a search catalog over them, on memory or on a migrated database."""

    def __init__(self, engine: Engine | None, *, language: str = "english") -> None:
        self.engine = engine
        self.records: dict[str, AssetRecord] = {}
        self.asset_store = SqlAssetStore(engine) if engine is not None else None
        self.analytics: Any = (
            SqlAnalyticsStore(engine) if engine is not None else InMemoryAnalyticsStore()
        )
        store: Any = SqlSearchStore(engine) if engine is not None else MemorySearchStore()
        self.catalog = SearchCatalog(
            store,
            Analyzer(language),
            lookup=self.lookup,
            activity=self.analytics,
            clock=NOW.timestamp,
            cache_seconds=0,
        )
        self._serial = 0

    def lookup(self, asset_id: str) -> AssetRecord | None:
        if self.asset_store is not None:
            return self.asset_store.get(asset_id)
        return self.records.get(asset_id)

    def add(
        self,
        title: str = "",
        tags: Sequence[str] = (),
        description: str = "",
        *,
        status: AssetStatus = AssetStatus.APPROVED,
        private: bool = False,
    ) -> str:
        self._serial += 1
        sha = hashlib.sha256(f"gif {self._serial}".encode()).hexdigest()
        asset_id = sha[:16]
        meta = AssetMetadata(title, tuple(tags), description)
        if self.asset_store is not None:
            self.asset_store.insert(
                candidate_ids=[asset_id],
                sha256=sha,
                size=1000 + self._serial,
                info=_INFO,
                meta=meta,
                status=status,
                owner_key_id="owner1",
                enqueue_moderation=False,
            )
            if private:
                self.asset_store.set_private(asset_id, True)
        else:
            created = NOW - timedelta(hours=1) + timedelta(microseconds=self._serial)
            self.records[asset_id] = AssetRecord(
                asset_id, sha, 1000 + self._serial, "image/gif", 320, 240, 4, 400,
                title, description, tuple(tags), status, private, "owner1", created, created,
            )  # fmt: skip
        self.catalog.refresh(asset_id)
        return asset_id

    def set_status(self, asset_id: str, status: AssetStatus) -> None:
        if self.asset_store is not None:
            self.asset_store.set_status(asset_id, status)
        else:
            self.records[asset_id] = dataclasses.replace(self.records[asset_id], status=status)
        self.catalog.refresh(asset_id)

    def set_private(self, asset_id: str, private: bool) -> None:
        if self.asset_store is not None:
            self.asset_store.set_private(asset_id, private)
        else:
            self.records[asset_id] = dataclasses.replace(self.records[asset_id], private=private)
        self.catalog.refresh(asset_id)

    def edit(self, asset_id: str, *, title: str, tags: Sequence[str] = ()) -> None:
        if self.engine is not None:
            with self.engine.begin() as conn:
                conn.execute(
                    update(assets)
                    .where(assets.c.asset_id == asset_id)
                    .values(title=title, tags=list(tags))
                )
        else:
            record = self.records[asset_id]
            self.records[asset_id] = dataclasses.replace(record, title=title, tags=tuple(tags))
        self.catalog.refresh(asset_id)

    def delete(self, asset_id: str) -> None:
        if self.engine is not None:
            with self.engine.begin() as conn:
                conn.execute(delete(assets).where(assets.c.asset_id == asset_id))
        else:
            del self.records[asset_id]
        self.catalog.refresh(asset_id)

    def events(self, asset_id: str, kind: EventType, count: int, hours_ago: float) -> None:
        stamp = NOW - timedelta(hours=hours_ago)
        self.analytics.record(
            [
                AnalyticsTracker.make_event(asset_id, kind, Platform.SLACK, None, timestamp=stamp)
                for _ in range(count)
            ]
        )

    def search(self, q: str, limit: int = 50, offset: int = 0, prefix: bool = False) -> list[str]:
        return list(self.catalog.search(q, limit=limit, offset=offset, prefix=prefix).asset_ids)


def open_library(kind: str, request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Library]:
    """The same library on the in-memory store, SQLite FTS5 or PostgreSQL."""
    if kind == "memory":
        yield Library(None)
        return
    url = (
        f"sqlite:///{tmp_path / 'search.db'}"
        if kind == "sqlite"
        else request.getfixturevalue("pg_schema_url")
    )
    engine = create_database_engine(url)
    upgrade_database(engine)
    try:
        yield Library(engine)
    finally:
        engine.dispose()

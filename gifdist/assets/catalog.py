"""Assets by id for every reader: cached in process, dropped on change on every node."""

from __future__ import annotations

from collections.abc import Callable

from gifdist.accounts.keys import ApiKey
from gifdist.assets.access import AccessPolicy
from gifdist.assets.model import AssetRecord, is_valid_asset_id
from gifdist.assets.store import AssetStore, BlobStore
from gifdist.caching.ttl import TTLCache
from gifdist.errors import NotFound
from gifdist.observability.tracing import span


class AssetCatalog:
    """Looks assets up (cache first) and tells every cache when one changes.

    ``publish`` sends a change to the other nodes (Redis pub/sub when configured);
    ``subscribe`` lets in-process caches of derived state (file representations)
    drop an asset whenever it changes here or elsewhere.
    """

    def __init__(
        self,
        store: AssetStore,
        blobs: BlobStore,
        access: AccessPolicy,
        *,
        publish: Callable[[str], None] | None = None,
        ttl: float = 2.0,
    ) -> None:
        self.store = store
        self.blobs = blobs
        self.access = access
        self._publish = publish
        self.cache: TTLCache[str, AssetRecord] = TTLCache(50_000, ttl=ttl)
        self._listeners: list[Callable[[str], None]] = [self.cache.invalidate]

    def cached(self, asset_id: str) -> AssetRecord | None:
        """From memory only (the event loop's fast path); None on a miss."""
        return self.cache.get(asset_id)

    def get(self, asset_id: str) -> AssetRecord | None:
        """The asset or None; malformed ids are never looked up."""
        if not is_valid_asset_id(asset_id):
            return None
        record = self.cache.get(asset_id)
        if record is None:
            with span("db.get_asset", asset_id=asset_id):
                record = self.store.get(asset_id)
            if record is not None:
                self.cache.set(asset_id, record)
        return record

    def require(self, asset_id: str) -> AssetRecord:
        """The asset; raises ``NotFound``."""
        record = self.get(asset_id)
        if record is None:
            raise NotFound(f"no asset with id {asset_id!r}")
        return record

    def blob_path(self, record: AssetRecord) -> str | None:
        """A local path holding the asset's bytes, or None (remote store, quarantined)."""
        return self.blobs.local_path(record.sha256)

    def set_private(self, asset_id: str, private: bool, key: ApiKey | None) -> AssetRecord:
        """Mark an asset private (bytes and page only through signed URLs) or public."""
        record = self.require(asset_id)
        self.access.check_manage(key, record, "change this GIF")
        updated = self.store.set_private(record.asset_id, private)
        self.changed(record.asset_id)
        if updated is None:
            raise NotFound(f"no asset with id {asset_id!r}")
        return updated

    def subscribe(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(asset_id)`` whenever an asset changes, here or on another node."""
        self._listeners.append(listener)

    def changed(self, asset_id: str) -> None:
        """Drop cached state of an asset here and on every other node."""
        self.forget(asset_id)
        if self._publish is not None:
            self._publish(asset_id)

    def forget(self, asset_id: str) -> None:
        """Drop cached state here only (what another node's change message does)."""
        for listener in self._listeners:
            listener(asset_id)

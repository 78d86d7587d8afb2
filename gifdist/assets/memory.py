"""The asset store in memory: the reference for the contract, and a store for tests and
the library used without a database."""

from __future__ import annotations

import builtins
import dataclasses
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from gifdist.assets.model import AssetMetadata, AssetRecord, AssetStatus
from gifdist.assets.store import Admission, DeletedAsset, PendingDelete
from gifdist.media.gif import GifInfo
from gifdist.moderation.queue import InMemoryModerationQueue


class InMemoryAssetStore:
    """Contents and assets in dicts behind one lock; new assets' jobs go to ``queue``."""

    def __init__(self, queue: InMemoryModerationQueue | None = None) -> None:
        self.queue = queue or InMemoryModerationQueue()
        self._lock = threading.RLock()
        self._contents: dict[str, dict[str, Any]] = {}
        self.pending: dict[str, PendingDelete] = {}  # read by InMemoryDeleteJournal
        self._assets: dict[str, AssetRecord] = {}
        self._rejected: set[str] = set()
        self._gone: set[tuple[str, str]] = set()
        self.link_codes: dict[str, set[str]] = {}  # asset id -> its links' codes, as SQL joins

    def get(self, asset_id: str) -> AssetRecord | None:
        with self._lock:
            return self._assets.get(asset_id)

    def get_for_owner(self, sha256: str, owner_key_id: str | None) -> AssetRecord | None:
        with self._lock:
            for record in self._assets.values():
                if record.sha256 == sha256 and record.owner_key_id == owner_key_id:
                    return record
            return None

    def is_rejected_hash(self, sha256: str) -> bool:
        with self._lock:
            return sha256 in self._rejected

    def insert(
        self,
        *,
        candidate_ids: Sequence[str],
        sha256: str,
        size: int,
        info: GifInfo,
        meta: AssetMetadata,
        status: AssetStatus,
        owner_key_id: str | None,
        enqueue_moderation: bool,
        admission: Admission | None = None,
    ) -> tuple[AssetRecord, bool]:
        now = datetime.now(UTC)
        with self._lock:
            existing = self.get_for_owner(sha256, owner_key_id)
            if existing is not None:
                return existing, False
            if admission is not None:  # under the one lock: one upload at a time
                mine = [a for a in self._assets.values() if a.owner_key_id == admission.owner_id]
                admission.check(
                    sum(a.bytes for a in mine),
                    sum(1 for a in mine if a.created_at >= admission.since),
                )
            asset_id = next(
                (
                    c
                    for c in candidate_ids
                    if c not in self._assets and ("asset", c) not in self._gone
                ),
                None,
            )
            if asset_id is None:
                raise LookupError(f"every candidate id for {sha256} is taken")
            content = self._contents.setdefault(
                sha256,
                {
                    "bytes": size,
                    "content_type": "image/gif",
                    "width": info.width,
                    "height": info.height,
                    "frames": info.frames,
                    "duration_ms": info.duration_ms,
                    "visual_verdict": None,
                },
            )
            record = AssetRecord(
                asset_id=asset_id,
                sha256=sha256,
                bytes=content["bytes"],
                content_type=content["content_type"],
                width=content["width"],
                height=content["height"],
                frames=content["frames"],
                duration_ms=content["duration_ms"],
                title=meta.title,
                description=meta.description,
                tags=tuple(meta.tags),
                status=status,
                private=False,
                owner_key_id=owner_key_id,
                created_at=now,
                updated_at=now,
            )
            self._assets[asset_id] = record
            if enqueue_moderation:
                self.queue.enqueue(asset_id)
            return record, True

    def assets_of_content(self, sha256: str) -> builtins.list[str]:
        with self._lock:
            return [r.asset_id for r in self._assets.values() if r.sha256 == sha256]

    def reject_content(self, sha256: str, moderation: dict[str, Any]) -> builtins.list[str]:
        with self._lock:
            changed = [
                r.asset_id
                for r in self._assets.values()
                if r.sha256 == sha256 and r.status is not AssetStatus.REJECTED
            ]
            for asset_id in changed:
                self._update(asset_id, status=AssetStatus.REJECTED, moderation=moderation)
            return changed

    def visual_verdict(self, sha256: str) -> dict[str, Any] | None:
        with self._lock:
            content = self._contents.get(sha256)
            verdict = content["visual_verdict"] if content else None
            return dict(verdict) if verdict else None

    def save_visual_verdict(self, sha256: str, verdict: dict[str, Any]) -> None:
        with self._lock:
            if sha256 in self._contents:
                self._contents[sha256]["visual_verdict"] = dict(verdict)

    def set_status(
        self, asset_id: str, status: AssetStatus, moderation: dict[str, Any] | None = None
    ) -> AssetRecord | None:
        with self._lock:
            changes: dict[str, Any] = {"status": status}
            if moderation is not None:
                changes["moderation"] = moderation
            record = self._update(asset_id, **changes)
            if record is not None and status is AssetStatus.APPROVED:
                self._rejected.discard(record.sha256)
            if record is not None and status is AssetStatus.REJECTED:
                self._rejected.add(record.sha256)
            return record

    def set_metadata(self, asset_id: str, meta: AssetMetadata) -> AssetRecord | None:
        with self._lock:
            return self._update(
                asset_id, title=meta.title, tags=tuple(meta.tags), description=meta.description
            )

    def set_private(self, asset_id: str, private: bool) -> AssetRecord | None:
        with self._lock:
            return self._update(asset_id, private=private)

    def list(
        self,
        *,
        owner_key_id: str | None = None,
        status: AssetStatus | None = None,
        search: str | None = None,
        private: bool | None = None,
        tag: str | None = None,
        oldest_first: bool = False,
        limit: int = 50,
        offset: int = 0,
    ) -> builtins.list[AssetRecord]:
        with self._lock:
            records = builtins.list(self._assets.values())
        if owner_key_id is not None:
            records = [r for r in records if r.owner_key_id == owner_key_id]
        if status is not None:
            records = [r for r in records if r.status is status]
        if private is not None:
            records = [r for r in records if r.private is private]
        if tag:
            wanted = tag.casefold()
            records = [r for r in records if any(t.casefold() == wanted for t in r.tags)]
        if search:
            needle = search.lower()
            records = [
                r
                for r in records
                if needle in r.title.lower() or any(needle in t.lower() for t in r.tags)
            ]
        records.sort(key=lambda r: r.asset_id)
        records.sort(key=lambda r: r.created_at, reverse=not oldest_first)
        return records[offset : offset + limit]

    def ids_for_owner(self, owner_key_id: str) -> builtins.list[str]:
        with self._lock:
            return [r.asset_id for r in self._assets.values() if r.owner_key_id == owner_key_id]

    def count(self) -> int:
        with self._lock:
            return len(self._assets)

    def has_content(self, sha256: str) -> bool:
        with self._lock:
            return sha256 in self._contents

    def delete_asset(self, asset_id: str, deleted_by: str | None) -> DeletedAsset | None:
        with self._lock:
            record = self._assets.pop(asset_id, None)
            if record is None:
                return None
            self.queue.finish(asset_id)
            codes = tuple(sorted(self.link_codes.pop(asset_id, set())))
            unused = not any(r.sha256 == record.sha256 for r in self._assets.values())
            if unused:
                self._contents.pop(record.sha256, None)
            self.pending[asset_id] = PendingDelete(asset_id, record.sha256 if unused else None)
            self._gone.add(("asset", asset_id))
            self._gone.update(("link", code) for code in codes)
            return DeletedAsset(asset_id, record.sha256, codes, content_unused=unused)

    def delete_link(self, short_code: str, deleted_by: str | None) -> bool:
        with self._lock:
            for codes in self.link_codes.values():
                if short_code in codes:
                    codes.discard(short_code)
                    self._gone.add(("link", short_code))
                    return True
            return False

    def is_gone(self, kind: str, key: str) -> bool:
        with self._lock:
            return (kind, key) in self._gone

    def _update(self, asset_id: str, **changes: Any) -> AssetRecord | None:
        record = self._assets.get(asset_id)
        if record is None:
            return None
        updated = dataclasses.replace(record, **changes, updated_at=datetime.now(UTC))
        self._assets[asset_id] = updated
        return updated


class InMemoryDeleteJournal:
    """The in-memory store's pending deletes (it has no renditions)."""

    def __init__(self, store: InMemoryAssetStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._removing: set[str] = set()

    def pending(self) -> builtins.list[PendingDelete]:
        return list(self.store.pending.values())

    def finish(self, asset_id: str) -> None:
        self.store.pending.pop(asset_id, None)

    def content_exists(self, sha256: str) -> bool:
        return self.store.has_content(sha256)

    def claim_removal(self, sha256: str, stale_after: float) -> bool:
        with self._lock:
            if sha256 in self._removing:
                return False
            self._removing.add(sha256)
            return True

    def release_removal(self, sha256: str) -> None:
        with self._lock:
            self._removing.discard(sha256)

    def unreferenced(self, names: Sequence[str]) -> builtins.list[str]:
        return [name for name in dict.fromkeys(names) if not self.store.has_content(name)]

"""Contents, assets, moderation jobs and rejected hashes in SQL.

A content row holds what is true of the bytes (size, dimensions, frames, the visual
verdict); an asset row is one owner's item over a content. Reads join the two into an
``AssetRecord``, so callers see one record per asset.
"""

from __future__ import annotations

import builtins
import json
import os
import socket
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, String, cast, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from gifdist.assets.model import AssetMetadata, AssetRecord, AssetStatus
from gifdist.assets.store import Admission, DeletedAsset, PendingDelete
from gifdist.media.gif import GifInfo
from gifdist.stores.database import storable
from gifdist.stores.quotas_sql import lock_owner, owner_usage
from gifdist.stores.schema import (
    asset_reports,
    assets,
    blob_removals,
    contents,
    moderation_jobs,
    pending_deletes,
    rejected_hashes,
    renditions,
    share_links,
    tombstones,
)

# One asset row joined with its content's byte facts.
_RECORD = select(
    assets,
    contents.c.bytes,
    contents.c.content_type,
    contents.c.width,
    contents.c.height,
    contents.c.frames,
    contents.c.duration_ms,
).join(contents, contents.c.sha256 == assets.c.sha256)


class AssetIdExhausted(Exception):
    """Every id length up to the full hash is taken by other content (never in practice)."""


class SqlAssetStore:
    """Asset rows plus the moderation job queue that goes with them."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, asset_id: str) -> AssetRecord | None:
        with self.engine.connect() as conn:
            return self._get(conn, asset_id)

    def get_for_owner(self, sha256: str, owner_key_id: str | None) -> AssetRecord | None:
        """The owner's own asset over these bytes, if they uploaded them before.

        Other owners' assets over the same bytes are never returned: deduplication
        must not tell one uploader anything about another's GIF.
        """
        with self.engine.connect() as conn:
            return self._owned(conn, sha256, owner_key_id)

    def is_rejected_hash(self, sha256: str) -> bool:
        with self.engine.connect() as conn:
            found = conn.execute(
                select(rejected_hashes.c.sha256).where(rejected_hashes.c.sha256 == sha256)
            ).first()
        return found is not None

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
        """Create the owner's asset over ``sha256`` (and the content row if it is new).

        The asset takes the first free candidate id (never a deleted one's). Returns ``(record, created)``;
        when the same owner stored the same bytes concurrently their existing asset is
        returned with ``created`` False.
        """
        now = datetime.now(UTC)
        for asset_id in candidate_ids:
            try:
                with self.engine.begin() as conn:
                    existing = self._owned(conn, sha256, owner_key_id)
                    if existing is not None:
                        return existing, False
                    if self._id_taken(conn, asset_id):
                        continue
                    if admission is not None:  # judged one upload at a time per owner
                        lock_owner(conn, admission.owner_id)
                        admission.check(*owner_usage(conn, admission.owner_id, admission.since))
                    self._ensure_content(conn, sha256, size, info, now)
                    conn.execute(
                        insert(assets).values(
                            **_row(asset_id, sha256, meta, status, owner_key_id, now)
                        )
                    )
                    if enqueue_moderation:
                        conn.execute(
                            insert(moderation_jobs).values(
                                asset_id=asset_id, state="queued", attempts=0, created_at=now
                            )
                        )
                    return self._must_get(conn, asset_id), True
            except IntegrityError:
                existing = self.get_for_owner(sha256, owner_key_id)
                if existing is not None:
                    return existing, False
        raise AssetIdExhausted(sha256)

    @staticmethod
    def _id_taken(conn: Connection, asset_id: str) -> bool:
        """In use, or deleted: a deleted id stays gone (its URLs answer 410 from every
        cache), so the same owner's re-upload of the same bytes gets the next id."""
        used = conn.execute(select(assets.c.asset_id).where(assets.c.asset_id == asset_id))
        if used.first() is not None:
            return True
        gone = select(tombstones.c.key).where(
            tombstones.c.kind == "asset", tombstones.c.key == asset_id
        )
        return conn.execute(gone).first() is not None

    @staticmethod
    def _ensure_content(
        conn: Connection, sha256: str, size: int, info: GifInfo, now: datetime
    ) -> None:
        # FOR SHARE: a delete holding the row finishes first, and then it is gone
        lookup = select(contents.c.sha256).where(contents.c.sha256 == sha256)
        found = conn.execute(lookup.with_for_update(read=True)).first()
        if found is None:
            conn.execute(insert(contents).values(**_content_row(sha256, size, info, now)))

    def assets_of_content(self, sha256: str) -> builtins.list[str]:
        """Every asset id over these bytes, whoever owns it (for content-wide decisions)."""
        with self.engine.connect() as conn:
            return [
                str(row[0])
                for row in conn.execute(select(assets.c.asset_id).where(assets.c.sha256 == sha256))
            ]

    def reject_content(self, sha256: str, moderation: dict[str, Any]) -> builtins.list[str]:
        """Reject every asset over these bytes (the bytes are what was refused).

        Returns the asset ids that changed, so their caches can be dropped.
        """
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            ids = [
                str(row[0])
                for row in conn.execute(
                    select(assets.c.asset_id).where(
                        assets.c.sha256 == sha256, assets.c.status != AssetStatus.REJECTED.value
                    )
                )
            ]
            if ids:
                conn.execute(
                    update(assets)
                    .where(assets.c.asset_id.in_(ids))
                    .values(
                        status=AssetStatus.REJECTED.value, moderation=moderation, updated_at=now
                    )
                )
            return ids

    def visual_verdict(self, sha256: str) -> dict[str, Any] | None:
        """The stored visual scan of these bytes (None before their first scan)."""
        with self.engine.connect() as conn:
            value = conn.execute(
                select(contents.c.visual_verdict).where(contents.c.sha256 == sha256)
            ).scalar()
        return dict(value) if value else None

    def save_visual_verdict(self, sha256: str, verdict: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(contents).where(contents.c.sha256 == sha256).values(visual_verdict=verdict)
            )

    def set_status(
        self, asset_id: str, status: AssetStatus, moderation: dict[str, Any] | None = None
    ) -> AssetRecord | None:
        """Record a moderation outcome; rejected content's hash is remembered."""
        now = datetime.now(UTC)
        values: dict[str, Any] = {"status": status.value, "updated_at": now}
        if moderation is not None:
            values["moderation"] = moderation
        with self.engine.begin() as conn:
            conn.execute(update(assets).where(assets.c.asset_id == asset_id).values(**values))
            record = self._get(conn, asset_id)
            if record is not None and status is AssetStatus.APPROVED:  # an appeal succeeded
                conn.execute(
                    delete(rejected_hashes).where(rejected_hashes.c.sha256 == record.sha256)
                )
            if record is not None and status is AssetStatus.REJECTED:
                exists = conn.execute(
                    select(rejected_hashes.c.sha256).where(
                        rejected_hashes.c.sha256 == record.sha256
                    )
                ).first()
                if exists is None:
                    conn.execute(
                        insert(rejected_hashes).values(
                            sha256=record.sha256, asset_id=asset_id, rejected_at=now
                        )
                    )
            return record

    def set_metadata(self, asset_id: str, meta: AssetMetadata) -> AssetRecord | None:
        with self.engine.begin() as conn:
            conn.execute(
                update(assets)
                .where(assets.c.asset_id == asset_id)
                .values(
                    title=meta.title,
                    tags=list(meta.tags),
                    description=meta.description,
                    updated_at=datetime.now(UTC),
                )
            )
            return self._get(conn, asset_id)

    def set_private(self, asset_id: str, private: bool) -> AssetRecord | None:
        with self.engine.begin() as conn:
            conn.execute(
                update(assets)
                .where(assets.c.asset_id == asset_id)
                .values(private=private, updated_at=datetime.now(UTC))
            )
            return self._get(conn, asset_id)

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
        """Assets, newest first, optionally filtered by owner, status and text.

        ``search`` matches the title or the tags, case-insensitively.
        """
        if not all(storable(text) for text in (owner_key_id or "", tag or "", search or "")):
            return []  # stored text holds no NUL, so nothing matches one
        order = assets.c.created_at.asc() if oldest_first else assets.c.created_at.desc()
        query = _RECORD.order_by(order, assets.c.asset_id).limit(limit).offset(offset)
        if owner_key_id is not None:
            query = query.where(assets.c.owner_key_id == owner_key_id)
        if status is not None:
            query = query.where(assets.c.status == status.value)
        if private is not None:
            query = query.where(assets.c.private.is_(private))
        if tag:
            quoted = json.dumps(tag.lower())[1:-1].replace("%", "").replace("_", "")
            query = query.where(func.lower(cast(assets.c.tags, String)).like(f'%"{quoted}"%'))
        if search:
            pattern = "%" + search.lower().replace("\\", "").replace("%", "").replace("_", "") + "%"
            query = query.where(
                func.lower(assets.c.title).like(pattern)
                | func.lower(cast(assets.c.tags, String)).like(pattern)
            )
        with self.engine.connect() as conn:
            return [_record(row) for row in conn.execute(query).mappings()]

    def ids_for_owner(self, owner_key_id: str) -> builtins.list[str]:
        """Every asset id uploaded with this key."""
        query = select(assets.c.asset_id).where(assets.c.owner_key_id == owner_key_id)
        with self.engine.connect() as conn:
            return [str(row[0]) for row in conn.execute(query)]

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(assets)).scalar_one())

    # deletion -------------------------------------------------------------

    def delete_asset(self, asset_id: str, deleted_by: str | None) -> DeletedAsset | None:
        """Remove an asset, its links, jobs and reports in one transaction, leaving
        tombstones (ids, hash, who, when) so its URLs answer 410. The content row goes
        too when no other asset uses it; the caller then removes the bytes."""
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            row = conn.execute(
                select(assets.c.sha256, assets.c.owner_key_id).where(assets.c.asset_id == asset_id)
            ).first()
            if row is None:
                return None
            sha256, owner = str(row[0]), row[1]
            # lock the content first: an upload of the same bytes waits (or we wait for
            # it), so "no asset uses it" below is true when the content row goes
            conn.execute(
                select(contents.c.sha256).where(contents.c.sha256 == sha256).with_for_update()
            ).first()
            codes = [
                str(c[0])
                for c in conn.execute(
                    select(share_links.c.short_code).where(share_links.c.asset_id == asset_id)
                )
            ]
            conn.execute(delete(share_links).where(share_links.c.asset_id == asset_id))
            conn.execute(delete(moderation_jobs).where(moderation_jobs.c.asset_id == asset_id))
            conn.execute(delete(asset_reports).where(asset_reports.c.asset_id == asset_id))
            conn.execute(delete(assets).where(assets.c.asset_id == asset_id))
            used = conn.execute(select(assets.c.asset_id).where(assets.c.sha256 == sha256)).first()
            if used is None:
                conn.execute(delete(contents).where(contents.c.sha256 == sha256))
            conn.execute(
                insert(pending_deletes).values(
                    asset_id=asset_id, sha256=None if used else sha256, queued_at=now
                )
            )
            stones = [("asset", asset_id, sha256)] + [("link", code, None) for code in codes]
            conn.execute(
                insert(tombstones),
                [
                    {
                        "kind": kind,
                        "key": key,
                        "sha256": sha,
                        "owner_key_id": owner,
                        "deleted_by": deleted_by,
                        "deleted_at": now,
                    }
                    for kind, key, sha in stones
                ],
            )
        return DeletedAsset(asset_id, sha256, tuple(codes), content_unused=used is None)

    def delete_link(self, short_code: str, deleted_by: str | None) -> bool:
        """Remove one link, leaving a tombstone; False if there was none."""
        with self.engine.begin() as conn:
            found = conn.execute(
                delete(share_links).where(share_links.c.short_code == short_code)
            ).rowcount
            if found:
                conn.execute(
                    insert(tombstones).values(
                        kind="link",
                        key=short_code,
                        deleted_by=deleted_by,
                        deleted_at=datetime.now(UTC),
                    )
                )
            return bool(found)

    def is_gone(self, kind: str, key: str) -> bool:
        """True when an asset or link with this id was deleted (its URLs answer 410)."""
        with self.engine.connect() as conn:
            found = conn.execute(
                select(tombstones.c.key).where(tombstones.c.kind == kind, tombstones.c.key == key)
            ).first()
        return found is not None

    def _get(self, conn: Connection, asset_id: str) -> AssetRecord | None:
        row = conn.execute(_RECORD.where(assets.c.asset_id == asset_id)).mappings().first()
        return _record(row) if row else None

    @staticmethod
    def _owned(conn: Connection, sha256: str, owner_key_id: str | None) -> AssetRecord | None:
        owner = (
            assets.c.owner_key_id.is_(None)
            if owner_key_id is None
            else assets.c.owner_key_id == owner_key_id
        )
        row = conn.execute(_RECORD.where(assets.c.sha256 == sha256, owner)).mappings().first()
        return _record(row) if row else None

    def _must_get(self, conn: Connection, asset_id: str) -> AssetRecord:
        record = self._get(conn, asset_id)
        assert record is not None
        return record


def _content_row(sha256: str, size: int, info: GifInfo, now: datetime) -> dict[str, Any]:
    return {
        "sha256": sha256,
        "bytes": size,
        "content_type": "image/gif",
        "width": info.width,
        "height": info.height,
        "frames": info.frames,
        "duration_ms": info.duration_ms,
        "visual_verdict": None,
        "created_at": now,
    }


def _row(
    asset_id: str,
    sha256: str,
    meta: AssetMetadata,
    status: AssetStatus,
    owner_key_id: str | None,
    now: datetime,
) -> dict[str, Any]:
    return {
        "asset_id": asset_id,
        "sha256": sha256,
        "title": meta.title,
        "description": meta.description,
        "tags": list(meta.tags),
        "status": status.value,
        "private": False,
        "owner_key_id": owner_key_id,
        "moderation": None,
        "created_at": now,
        "updated_at": now,
    }


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _record(row: Any) -> AssetRecord:
    return AssetRecord(
        asset_id=row["asset_id"],
        sha256=row["sha256"],
        bytes=int(row["bytes"]),
        content_type=row["content_type"],
        width=row["width"],
        height=row["height"],
        frames=row["frames"],
        duration_ms=row["duration_ms"],
        title=row["title"],
        description=row["description"],
        tags=tuple(row["tags"] or ()),
        status=AssetStatus(row["status"]),
        private=bool(row["private"]),
        owner_key_id=row["owner_key_id"],
        created_at=_aware(row["created_at"]),
        updated_at=_aware(row["updated_at"]),
        moderation=row["moderation"],
    )


def _claimant() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"  # per call: workers fork


def _claimant_alive(claimant: str) -> bool:
    """False only for a process of this host that no longer exists (it crashed)."""
    host, _, pid = claimant.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another node's: only its age can tell
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class SqlDeleteJournal:
    """The ``pending_deletes`` rows ``SqlAssetStore.delete_asset`` writes, and which
    blobs the contents and renditions still name."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def pending(self) -> builtins.list[PendingDelete]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(pending_deletes.c.asset_id, pending_deletes.c.sha256).order_by(
                    pending_deletes.c.queued_at
                )
            )
            return [PendingDelete(str(row[0]), row[1]) for row in rows]

    def finish(self, asset_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(pending_deletes).where(pending_deletes.c.asset_id == asset_id))

    def content_exists(self, sha256: str) -> bool:
        with self.engine.connect() as conn:
            found = conn.execute(select(contents.c.sha256).where(contents.c.sha256 == sha256))
            return found.first() is not None

    def claim_removal(self, sha256: str, stale_after: float) -> bool:
        now = datetime.now(UTC)
        try:
            with self.engine.begin() as conn:
                held = conn.execute(
                    select(blob_removals.c.claimed_by, blob_removals.c.started_at).where(
                        blob_removals.c.sha256 == sha256
                    )
                ).first()
                if held is not None:
                    started = held[1] if held[1].tzinfo else held[1].replace(tzinfo=UTC)
                    stale = started < now - timedelta(seconds=stale_after)
                    if not stale and _claimant_alive(str(held[0])):
                        return False
                    conn.execute(delete(blob_removals).where(blob_removals.c.sha256 == sha256))
                conn.execute(
                    insert(blob_removals).values(
                        sha256=sha256, claimed_by=_claimant(), started_at=now
                    )
                )
        except IntegrityError:  # another process claimed it at the same moment
            return False
        return True

    def release_removal(self, sha256: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(blob_removals).where(blob_removals.c.sha256 == sha256))

    def unreferenced(self, names: Sequence[str]) -> builtins.list[str]:
        wanted = list(dict.fromkeys(names))
        named: set[str] = set()
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), 500):  # bound the IN list
                chunk = wanted[start : start + 500]
                named.update(
                    str(row[0])
                    for row in conn.execute(
                        select(contents.c.sha256).where(contents.c.sha256.in_(chunk))
                    )
                )
                named.update(
                    str(row[0])
                    for row in conn.execute(
                        select(renditions.c.blob_sha256).where(renditions.c.blob_sha256.in_(chunk))
                    )
                )
        return [name for name in wanted if name not in named]

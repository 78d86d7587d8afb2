"""Renditions and their conversion jobs in SQL (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, and_, delete, func, insert, select, update

from gifdist.media.kinds import MADE_KINDS, RenditionKind
from gifdist.media.rendition_store import RenditionJobCounts, StoredRendition
from gifdist.stores.schema import assets, rendition_jobs, renditions

DONE = "done"


class SqlRenditionStore:
    """``RenditionStore`` over the ``renditions`` and ``rendition_jobs`` tables."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def for_content(self, sha256: str) -> dict[RenditionKind, StoredRendition]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(renditions).where(renditions.c.sha256 == sha256)).mappings()
            found = [_rendition(row) for row in rows if row["kind"] in _KINDS]
        return {item.kind: item for item in found}

    def record(self, items: Iterable[StoredRendition]) -> None:
        with self.engine.begin() as conn:
            for item in items:
                conn.execute(
                    delete(renditions).where(
                        renditions.c.sha256 == item.sha256, renditions.c.kind == item.kind.value
                    )
                )
                conn.execute(insert(renditions).values(**_row(item)))

    def remove_content(self, sha256: str) -> list[str]:
        with self.engine.begin() as conn:
            blobs = set(
                conn.execute(
                    select(renditions.c.blob_sha256).where(renditions.c.sha256 == sha256)
                ).scalars()
            )
            conn.execute(delete(renditions).where(renditions.c.sha256 == sha256))
            conn.execute(delete(rendition_jobs).where(rendition_jobs.c.sha256 == sha256))
            shared = set(
                conn.execute(
                    select(renditions.c.blob_sha256).where(renditions.c.blob_sha256.in_(blobs))
                ).scalars()
            )
        return sorted(blobs - shared)

    # the job queue ---------------------------------------------------------------

    def enqueue(self, sha256: str, *, retry_failed: bool = False) -> bool:
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            state = conn.execute(
                select(rendition_jobs.c.state).where(rendition_jobs.c.sha256 == sha256)
            ).scalar()
            if state is None:
                conn.execute(
                    insert(rendition_jobs).values(
                        sha256=sha256,
                        state="queued",
                        attempts=0,
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
                return True
            if state == "failed" and retry_failed:
                conn.execute(
                    update(rendition_jobs)
                    .where(rendition_jobs.c.sha256 == sha256)
                    .values(state="queued", attempts=0, next_attempt_at=now)
                )
                return True
        return False

    def claim(self, worker_id: str, now: datetime, *, only: str | None = None) -> str | None:
        """PostgreSQL uses ``FOR UPDATE SKIP LOCKED``; SQLite's write lock serialises."""
        with self.engine.begin() as conn:
            query = (
                select(rendition_jobs.c.sha256)
                .where(rendition_jobs.c.state == "queued", rendition_jobs.c.next_attempt_at <= now)
                .order_by(rendition_jobs.c.next_attempt_at)
                .limit(1)
            )
            if only is not None:
                query = query.where(rendition_jobs.c.sha256 == only)
            if conn.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            sha256 = conn.execute(query).scalar()
            if sha256 is None:
                return None
            conn.execute(
                update(rendition_jobs)
                .where(rendition_jobs.c.sha256 == sha256)
                .values(
                    state="running",
                    claimed_by=worker_id,
                    claimed_at=now,
                    attempts=rendition_jobs.c.attempts + 1,
                )
            )
            return str(sha256)

    def finish(self, sha256: str, note: str | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(rendition_jobs)
                .where(rendition_jobs.c.sha256 == sha256)
                .values(state=DONE, claimed_by=None, last_error=note[:2000] if note else None)
            )

    def fail(self, sha256: str, error: str, retry_at: datetime | None) -> int:
        values: dict[str, Any] = {"last_error": error[:2000], "claimed_by": None}
        if retry_at is None:
            values["state"] = "failed"
        else:
            values.update(state="queued", next_attempt_at=retry_at)
        with self.engine.begin() as conn:
            conn.execute(
                update(rendition_jobs).where(rendition_jobs.c.sha256 == sha256).values(**values)
            )
        return self.attempts(sha256)

    def attempts(self, sha256: str) -> int:
        with self.engine.connect() as conn:
            found = conn.execute(
                select(rendition_jobs.c.attempts).where(rendition_jobs.c.sha256 == sha256)
            ).scalar()
        return int(found or 0)

    def last_error(self, sha256: str) -> str | None:
        with self.engine.connect() as conn:
            found = conn.execute(
                select(rendition_jobs.c.last_error).where(rendition_jobs.c.sha256 == sha256)
            ).scalar()
        return None if found is None else str(found)

    def requeue_stale(self, claimed_before: datetime) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(
                update(rendition_jobs)
                .where(
                    and_(
                        rendition_jobs.c.state == "running",
                        rendition_jobs.c.claimed_at < claimed_before,
                    )
                )
                .values(state="queued", claimed_by=None)
            )
            return int(result.rowcount)

    def counts(self) -> RenditionJobCounts:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(rendition_jobs.c.state, func.count()).group_by(rendition_jobs.c.state)
            ).all()
        by_state = {str(state): int(count) for state, count in rows}
        return RenditionJobCounts(
            queued=by_state.get("queued", 0),
            running=by_state.get("running", 0),
            failed=by_state.get("failed", 0),
        )

    def failed_contents(self) -> list[str]:
        with self.engine.connect() as conn:
            query = select(rendition_jobs.c.sha256).where(rendition_jobs.c.state == "failed")
            return [str(sha) for sha in conn.execute(query).scalars()]

    def approved_contents(self) -> list[str]:
        """Hashes of contents with an approved asset and no finished conversion."""
        done = select(rendition_jobs.c.sha256).where(rendition_jobs.c.state == DONE)
        query = (
            select(assets.c.sha256)
            .where(assets.c.status == "approved", assets.c.sha256.not_in(done))
            .group_by(assets.c.sha256)
            .order_by(func.min(assets.c.created_at))
        )
        with self.engine.connect() as conn:
            return [str(sha) for sha in conn.execute(query).scalars()]


_KINDS = {kind.value for kind in MADE_KINDS}


def _row(item: StoredRendition) -> dict[str, Any]:
    return {
        "sha256": item.sha256,
        "kind": item.kind.value,
        "blob_sha256": item.blob_sha256,
        "content_type": item.content_type,
        "width": item.width,
        "height": item.height,
        "bytes": item.bytes,
        "created_at": item.created_at,
    }


def _rendition(row: Any) -> StoredRendition:
    created = row["created_at"]
    return StoredRendition(
        sha256=row["sha256"],
        kind=RenditionKind(row["kind"]),
        blob_sha256=row["blob_sha256"],
        content_type=row["content_type"],
        width=row["width"],
        height=row["height"],
        bytes=row["bytes"],
        created_at=created if created.tzinfo else created.replace(tzinfo=UTC),
    )

"""The moderation job queue in SQL: one row per asset waiting for a scan."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, delete, func, insert, select, update

from gifdist.stores.schema import moderation_jobs


class SqlModerationQueue:
    """``ModerationQueue`` on the ``moderation_jobs`` table (uploads insert their job in
    the same transaction as the asset, see ``SqlAssetStore.insert``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def claim(self, worker_id: str) -> str | None:
        """Take the oldest queued job; each job is handed to exactly one worker.

        PostgreSQL uses ``FOR UPDATE SKIP LOCKED``; SQLite's write lock (taken by
        ``BEGIN IMMEDIATE``) serialises claimers.
        """
        with self.engine.begin() as conn:
            query = (
                select(moderation_jobs.c.asset_id)
                .where(moderation_jobs.c.state == "queued")
                .order_by(moderation_jobs.c.created_at)
                .limit(1)
            )
            if conn.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            asset_id = conn.execute(query).scalar()
            if asset_id is None:
                return None
            conn.execute(
                update(moderation_jobs)
                .where(moderation_jobs.c.asset_id == asset_id)
                .values(
                    state="running",
                    claimed_by=worker_id,
                    claimed_at=datetime.now(UTC),
                    attempts=moderation_jobs.c.attempts + 1,
                )
            )
            return str(asset_id)

    def finish(self, asset_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(moderation_jobs).where(moderation_jobs.c.asset_id == asset_id))

    def fail(self, asset_id: str, error: str, *, max_attempts: int = 5) -> None:
        """Put a job back in the queue (or park it as failed after ``max_attempts``)."""
        with self.engine.begin() as conn:
            attempts = (
                conn.execute(
                    select(moderation_jobs.c.attempts).where(moderation_jobs.c.asset_id == asset_id)
                ).scalar()
                or 0
            )
            state = "failed" if attempts >= max_attempts else "queued"
            conn.execute(
                update(moderation_jobs)
                .where(moderation_jobs.c.asset_id == asset_id)
                .values(state=state, last_error=error[:2000], claimed_by=None)
            )

    def requeue_stale(self, older_than: datetime) -> int:
        """Return jobs claimed by a worker that died back to the queue."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(moderation_jobs)
                .where(
                    moderation_jobs.c.state == "running", moderation_jobs.c.claimed_at < older_than
                )
                .values(state="queued", claimed_by=None)
            )
            return int(result.rowcount)

    def enqueue(self, asset_id: str) -> None:
        """Queue an asset for (re-)moderation, e.g. after enough reports."""
        with self.engine.begin() as conn:
            exists = conn.execute(
                select(moderation_jobs.c.asset_id).where(moderation_jobs.c.asset_id == asset_id)
            ).first()
            if exists is None:
                conn.execute(
                    insert(moderation_jobs).values(
                        asset_id=asset_id, state="queued", attempts=0, created_at=datetime.now(UTC)
                    )
                )

    def pending(self) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(moderation_jobs)
                    .where(moderation_jobs.c.state.in_(("queued", "running")))
                ).scalar_one()
            )

"""What each owner uses, for quotas: bytes of their GIFs and uploads since a time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Engine, func, select, text

from gifdist.stores.schema import assets, contents

QUOTA_LOCK_SPACE = 0x51554F54  # "QUOT": advisory locks' first key, the owner's hash second


def owner_usage(conn: Connection, owner_id: str, since: datetime) -> tuple[int, int]:
    """(bytes of the owner's GIFs, the owner's GIFs made since ``since``), on ``conn``."""
    stored = (
        select(func.coalesce(func.sum(contents.c.bytes), 0))
        .select_from(assets.join(contents, assets.c.sha256 == contents.c.sha256))
        .where(assets.c.owner_key_id == owner_id)
    )
    recent = select(func.count()).where(
        assets.c.owner_key_id == owner_id, assets.c.created_at >= since
    )
    return int(conn.execute(stored).scalar_one()), int(conn.execute(recent).scalar_one())


def lock_owner(conn: Connection, owner_id: str) -> None:
    """Hold the owner's quota lock until ``conn``'s transaction ends: a PostgreSQL
    advisory lock per owner (SQLite's ``BEGIN IMMEDIATE`` already holds every writer
    to one at a time)."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            text("SELECT pg_advisory_xact_lock(:space, hashtext(:owner))"),
            {"space": QUOTA_LOCK_SPACE, "owner": owner_id},
        )


class SqlQuotaUsage:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self, owner_id: str, since: datetime) -> tuple[int, int]:
        """(bytes of the owner's GIFs, the owner's GIFs made since ``since``)."""
        with self.engine.connect() as conn:
            return owner_usage(conn, owner_id, since)

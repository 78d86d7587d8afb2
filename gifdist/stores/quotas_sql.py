"""What each owner uses, for quotas: bytes of their GIFs and uploads since a time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, func, select

from gifdist.stores.schema import assets, contents


class SqlQuotaUsage:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self, owner_id: str, since: datetime) -> tuple[int, int]:
        """(bytes of the owner's GIFs, the owner's GIFs made since ``since``)."""
        stored = (
            select(func.coalesce(func.sum(contents.c.bytes), 0))
            .select_from(assets.join(contents, assets.c.sha256 == contents.c.sha256))
            .where(assets.c.owner_key_id == owner_id)
        )
        recent = select(func.count()).where(
            assets.c.owner_key_id == owner_id, assets.c.created_at >= since
        )
        with self.engine.connect() as conn:
            return int(conn.execute(stored).scalar_one()), int(conn.execute(recent).scalar_one())

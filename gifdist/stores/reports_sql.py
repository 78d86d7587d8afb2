"""Abuse reports on assets: one per reporter and asset, counted since the last review."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from gifdist.stores.schema import asset_reports


class SqlReportStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, asset_id: str, reporter_hash: str, reason: str) -> bool:
        """Record a report; False if this reporter already reported this asset."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(asset_reports).values(
                        asset_id=asset_id,
                        reporter_hash=reporter_hash,
                        reason=reason,
                        created_at=datetime.now(UTC),
                    )
                )
        except IntegrityError:
            return False
        return True

    def count_since(self, asset_id: str, since: datetime | None) -> int:
        query = select(func.count()).where(asset_reports.c.asset_id == asset_id)
        if since is not None:
            query = query.where(asset_reports.c.created_at > since)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def reasons(self, asset_ids: Iterable[str], limit: int = 5) -> dict[str, list[str]]:
        """The latest report reasons of each asset (for the review queue)."""
        ids = list(asset_ids)
        if not ids:
            return {}
        found: dict[str, list[str]] = {}
        query = (
            select(asset_reports.c.asset_id, asset_reports.c.reason)
            .where(asset_reports.c.asset_id.in_(ids))
            .order_by(asset_reports.c.created_at.desc())
        )
        with self.engine.connect() as conn:
            for asset_id, reason in conn.execute(query):
                bucket = found.setdefault(asset_id, [])
                if len(bucket) < limit:
                    bucket.append(reason)
        return found

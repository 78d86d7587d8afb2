"""The moderation audit trail in SQL: append-only and hash-chained.

There is no update or delete here. Appends take the newest entry's hash under
the database's write lock (SQLite's ``BEGIN IMMEDIATE``; a PostgreSQL advisory
transaction lock), so concurrent writers on several nodes still form one chain.
"""

from __future__ import annotations

import builtins
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select, text

from gifdist.moderation.pipeline import (
    GENESIS_HASH,
    AuditEntry,
    ContentCategory,
    ModerationDecision,
)
from gifdist.stores.database import storable
from gifdist.stores.schema import audit_entries

AUDIT_LOCK_ID = 0x6769_6661  # "gifa"


class SqlAuditStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def append(self, entry: AuditEntry) -> AuditEntry:
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": AUDIT_LOCK_ID})
            last = conn.execute(
                select(audit_entries.c.entry_hash).order_by(audit_entries.c.seq.desc()).limit(1)
            ).scalar()
            entry.prev_hash = last or GENESIS_HASH
            entry.entry_hash = entry.compute_hash()
            conn.execute(
                insert(audit_entries).values(
                    entry_id=entry.audit_id,
                    timestamp=datetime.fromisoformat(entry.timestamp),
                    asset_id=entry.asset_id,
                    scan_id=str(entry.metadata.get("scan_id", "")),
                    decision=entry.decision.value,
                    moderator=entry.moderator,
                    category=entry.category.value,
                    confidence=entry.confidence,
                    reasons=list(entry.reasons),
                    notes=str(entry.metadata.get("notes", "")),
                    metadata=entry.metadata,
                    prev_hash=entry.prev_hash,
                    entry_hash=entry.entry_hash,
                )
            )
        return entry

    def list(
        self,
        asset_id: str | None = None,
        decision: ModerationDecision | None = None,
        limit: int = 100,
        start: str | None = None,
        end: str | None = None,
    ) -> builtins.list[AuditEntry]:
        if asset_id is not None and not storable(asset_id):
            return []  # no entry is about an asset id PostgreSQL could not even store
        query = select(audit_entries).order_by(audit_entries.c.seq.desc())
        if asset_id is not None:
            query = query.where(audit_entries.c.asset_id == asset_id)
        if decision is not None:
            query = query.where(audit_entries.c.decision == decision.value)
        if start is not None:
            query = query.where(audit_entries.c.timestamp >= _parse(start))
        if end is not None:
            query = query.where(audit_entries.c.timestamp <= _parse(end))
        if limit:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            rows = list(conn.execute(query).mappings())
        return [_entry(row) for row in reversed(rows)]

    def all_in_order(self) -> builtins.list[AuditEntry]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(audit_entries).order_by(audit_entries.c.seq)).mappings()
            return [_entry(row) for row in rows]


def _parse(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _entry(row: Any) -> AuditEntry:
    stamp = row["timestamp"]
    stamp = stamp.astimezone(UTC) if stamp.tzinfo else stamp.replace(tzinfo=UTC)
    return AuditEntry(
        audit_id=row["entry_id"],
        asset_id=row["asset_id"],
        decision=ModerationDecision(row["decision"]),
        category=ContentCategory(row["category"] or "unknown"),
        confidence=float(row["confidence"] or 0.0),
        moderator=row["moderator"],
        timestamp=stamp.isoformat(),
        reasons=list(row["reasons"] or []),
        metadata=dict(row["metadata"] or {}),
        prev_hash=row["prev_hash"],
        entry_hash=row["entry_hash"],
    )

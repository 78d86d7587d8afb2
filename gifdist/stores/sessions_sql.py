"""Browser sessions in SQL (hashes of session ids only, never the ids)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, delete, insert, select

from gifdist.stores.schema import web_sessions


@dataclass(frozen=True, slots=True)
class StoredSession:
    key_id: str
    key_version: str
    expires_at: datetime


class SqlSessionStore:
    """Session rows keyed by the SHA-256 of the cookie's random session id."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, session_hash: str, key_id: str, key_version: str, expires_at: datetime) -> None:
        """Store a new session (and drop expired ones, so the table stays small)."""
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            conn.execute(delete(web_sessions).where(web_sessions.c.expires_at < now))
            conn.execute(
                insert(web_sessions).values(
                    session_hash=session_hash,
                    key_id=key_id,
                    key_version=key_version,
                    created_at=now,
                    expires_at=expires_at,
                )
            )

    def get(self, session_hash: str) -> StoredSession | None:
        c = web_sessions.c
        query = select(c.key_id, c.key_version, c.expires_at).where(c.session_hash == session_hash)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
        return StoredSession(row.key_id, row.key_version, expires)

    def delete(self, session_hash: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(web_sessions).where(web_sessions.c.session_hash == session_hash))

    def delete_for_key(self, key_id: str) -> int:
        """End every session of a key (on revocation); returns how many."""
        with self.engine.begin() as conn:
            result = conn.execute(delete(web_sessions).where(web_sessions.c.key_id == key_id))
            return int(result.rowcount)

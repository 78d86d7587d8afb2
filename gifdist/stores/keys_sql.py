"""API keys in SQL."""

from __future__ import annotations

import builtins
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, insert, select, update

from gifdist.accounts.keys import ApiKey, parse_scopes
from gifdist.stores.schema import api_keys


class SqlKeyStore:
    """``KeyStore`` on the ``api_keys`` table (hashes only)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, key: ApiKey, key_hash: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(api_keys).values(
                    key_id=key.key_id,
                    key_hash=key_hash,
                    name=key.name,
                    scopes=" ".join(sorted(s.value for s in key.scopes)),
                    created_at=key.created_at,
                    revoked_at=key.revoked_at,
                    user_id=key.user_id,
                )
            )

    def find_by_hash(self, key_hash: str) -> ApiKey | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(select(api_keys).where(api_keys.c.key_hash == key_hash))
                .mappings()
                .first()
            )
        return _key(row) if row else None

    def find_by_id(self, key_id: str) -> ApiKey | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(select(api_keys).where(api_keys.c.key_id == key_id)).mappings().first()
            )
        return _key(row) if row else None

    def list(self) -> list[ApiKey]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(api_keys).order_by(api_keys.c.created_at)).mappings()
            return [_key(row) for row in rows]

    def list_for_user(self, user_id: str) -> builtins.list[ApiKey]:
        query = (
            select(api_keys)
            .where(api_keys.c.user_id == user_id)
            .order_by(api_keys.c.created_at, api_keys.c.key_id)
        )
        with self.engine.connect() as conn:
            return [_key(row) for row in conn.execute(query).mappings()]

    def revoke(self, key_id: str) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(
                update(api_keys)
                .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
            return result.rowcount > 0

    def touch(self, key_id: str, when: datetime) -> None:
        """Record that ``key_id`` was used at ``when``."""
        with self.engine.begin() as conn:
            conn.execute(
                update(api_keys).where(api_keys.c.key_id == key_id).values(last_used_at=when)
            )

    def any_used(self) -> bool:
        """Whether any stored key has ever been used."""
        query = select(api_keys.c.key_id).where(api_keys.c.last_used_at.is_not(None)).limit(1)
        with self.engine.connect() as conn:
            return conn.execute(query).first() is not None

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(api_keys)).scalar_one())


def _key(row: Any) -> ApiKey:
    return ApiKey(
        key_id=row["key_id"],
        name=row["name"],
        scopes=parse_scopes([row["scopes"]]),
        created_at=_aware(row["created_at"]),
        revoked_at=_aware(row["revoked_at"]) if row["revoked_at"] else None,
        last_used_at=_aware(row["last_used_at"]) if row["last_used_at"] else None,
        user_id=row["user_id"],
    )


def _aware(value: datetime) -> datetime:
    """SQLite returns naive datetimes; everything we store is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)

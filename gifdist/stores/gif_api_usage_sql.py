"""GIF API usage counters in SQL (SQLite and PostgreSQL): one row per day, API,
calling key, client and platform, incremented by deltas."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from gifdist.search import Deltas, GifApi, UsageKey, UsageKind
from gifdist.stores.schema import gif_api_usage

_u = gif_api_usage.c
_KEYS = ["day", "api", "key_id", "client_key", "platform"]
_KINDS = [kind.value for kind in UsageKind]


class SqlUsageStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, deltas: Deltas) -> None:
        rows = [
            {
                "day": key.day,
                "api": key.api.value,
                "key_id": key.key_id,
                "client_key": key.client_key,
                "platform": key.platform,
                **{kind.value: int(counts.get(kind, 0)) for kind in UsageKind},
            }
            for key, counts in deltas.items()
        ]
        if not rows:
            return
        with self.engine.begin() as conn:
            dialect: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
            stmt = dialect.insert(gif_api_usage)
            stmt = stmt.on_conflict_do_update(
                index_elements=_KEYS,
                set_={name: _u[name] + stmt.excluded[name] for name in _KINDS},
            )
            conn.execute(stmt, rows)

    def totals(self, since: date, key_id: str | None = None) -> dict[UsageKey, Counter[UsageKind]]:
        query = select(gif_api_usage).where(_u.day >= since)
        if key_id is not None:
            query = query.where(_u.key_id == key_id)
        with self.engine.connect() as conn:
            found = conn.execute(query).mappings().all()
        return {
            UsageKey(
                row["day"], GifApi(row["api"]), row["key_id"], row["client_key"], row["platform"]
            ): Counter({kind: int(row[kind.value]) for kind in UsageKind})
            for row in found
        }

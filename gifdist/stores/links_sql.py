"""Short links in SQL (SQLite or PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from gifdist.errors import NotFound
from gifdist.stores.schema import share_links


class SqlShareLinkStore:
    """``ShareLinkStore`` on the ``share_links`` table.

    A code is inserted only if free (the primary key decides, so two nodes drawing
    the same code cannot overwrite each other). Links may only point at stored
    assets: an unknown asset id raises ``NotFound``.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def insert_if_absent(self, short_code: str, record: dict[str, Any]) -> bool:
        values = {
            "short_code": short_code,
            "asset_id": record["asset_id"],
            "canonical_url": record["canonical_url"],
            "title": record.get("title") or "",
            "tags": list(record.get("tags") or []),
            "via": record.get("via"),
            "clicks": int(record.get("clicks") or 0),
            "created_by": record.get("created_by"),
            "created_at": datetime.fromisoformat(record["created_at"]),
            "slug_key": short_code.lower() if record.get("slug") else None,
            "expires_at": _when(record.get("expires_at")),
            "max_clicks": record.get("max_clicks"),
            "password_hash": record.get("password_hash"),
        }
        try:
            with self.engine.begin() as conn:
                if self._taken(conn, short_code, slug=bool(record.get("slug"))):
                    return False
                conn.execute(insert(share_links).values(**values))
        except IntegrityError as exc:
            if self.get(short_code) is not None:
                return False
            raise NotFound(f"asset {record['asset_id']!r} does not exist") from exc
        return True

    @staticmethod
    def _taken(conn: Any, short_code: str, *, slug: bool) -> bool:
        """A code is taken by the same code, or by a slug equal to it whatever its case;
        a new slug also by any code equal to it whatever its case."""
        folded = short_code.lower()
        clash = (share_links.c.short_code == short_code) | (share_links.c.slug_key == folded)
        if slug:
            clash = clash | (func.lower(share_links.c.short_code) == folded)
        return conn.execute(select(share_links.c.short_code).where(clash)).first() is not None

    def take_click(self, short_code: str) -> bool:
        """Count a person's click on a limited link; False once the limit was reached.

        One conditional update: two nodes racing for the last click cannot both win.
        """
        with self.engine.begin() as conn:
            result = conn.execute(
                update(share_links)
                .where(
                    share_links.c.short_code == short_code,
                    (share_links.c.max_clicks.is_(None))
                    | (share_links.c.clicks < share_links.c.max_clicks),
                )
                .values(clicks=share_links.c.clicks + 1)
            )
            return bool(result.rowcount)

    def get(self, short_code: str, *, conn: Any = None) -> dict[str, Any] | None:
        query = select(share_links).where(
            (share_links.c.short_code == short_code)
            | (share_links.c.slug_key == short_code.lower())
        )
        if conn is not None:
            row = conn.execute(query).mappings().first()
        else:
            with self.engine.connect() as own:
                row = own.execute(query).mappings().first()
        return _record(row) if row is not None else None

    def increment_clicks(self, short_code: str) -> dict[str, Any] | None:
        with self.engine.begin() as conn:
            result = conn.execute(
                update(share_links)
                .where(share_links.c.short_code == short_code)
                .values(clicks=share_links.c.clicks + 1)
            )
            if result.rowcount == 0:
                return None
            return self.get(short_code, conn=conn)

    def list_for_asset(self, asset_id: str) -> list[dict[str, Any]]:
        """Every link of an asset, oldest first."""
        query = (
            select(share_links)
            .where(share_links.c.asset_id == asset_id)
            .order_by(share_links.c.created_at)
        )
        with self.engine.connect() as conn:
            return [_record(row) for row in conn.execute(query).mappings()]

    def list_for_owner(self, created_by: str | None) -> list[dict[str, Any]]:
        """Every link one key made (None: every link), oldest first."""
        query = select(share_links).order_by(share_links.c.created_at)
        if created_by is not None:
            query = query.where(share_links.c.created_by == created_by)
        with self.engine.connect() as conn:
            return [_record(row) for row in conn.execute(query).mappings()]

    def update(self, short_code: str, changes: dict[str, Any]) -> dict[str, Any] | None:
        """Change a link's title, tags or via; the updated record, or None if unknown."""
        allowed = {k: v for k, v in changes.items() if k in ("title", "tags", "via")}
        with self.engine.begin() as conn:
            if allowed:
                conn.execute(
                    update(share_links)
                    .where(share_links.c.short_code == short_code)
                    .values(**allowed)
                )
            return self.get(short_code, conn=conn)

    def delete(self, short_code: str) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(delete(share_links).where(share_links.c.short_code == short_code))
            return bool(result.rowcount)


def _record(row: Any) -> dict[str, Any]:
    created = row["created_at"]
    return {
        "short_code": row["short_code"],
        "asset_id": row["asset_id"],
        "canonical_url": row["canonical_url"],
        "title": row["title"],
        "tags": list(row["tags"] or []),
        "via": row["via"],
        "created_by": row["created_by"],
        "created_at": created.isoformat() if isinstance(created, datetime) else str(created),
        "clicks": int(row["clicks"]),
        "slug": row["slug_key"] is not None,
        "expires_at": _iso(row["expires_at"]),
        "max_clicks": row["max_clicks"],
        "password_hash": row["password_hash"],
    }


def _when(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    return str(moment.isoformat())

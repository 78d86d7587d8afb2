"""unique-visitor sketches per day, asset, link, event type and audience; backfilled

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-01 13:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None

DAY_MS = 86_400_000


def upgrade() -> None:
    table = op.create_table(
        "analytics_visitor_sketches",
        sa.Column("day", sa.BigInteger(), primary_key=True),
        sa.Column("asset_id", sa.String(64), primary_key=True),
        sa.Column("short_code", sa.String(64), primary_key=True),
        sa.Column("event_type", sa.String(8), primary_key=True),
        sa.Column("audience", sa.String(8), primary_key=True),
        sa.Column("sketch", sa.LargeBinary(), nullable=False),
    )
    op.create_index(
        "ix_analytics_visitor_sketches_asset", "analytics_visitor_sketches", ["asset_id", "day"]
    )
    op.create_index(
        "ix_analytics_visitor_sketches_short_code",
        "analytics_visitor_sketches",
        ["short_code", "day"],
    )
    _backfill(table)


def _backfill(table: sa.Table) -> None:
    """Sketches of the visitors in the raw events still kept (people and bots)."""
    from gifdist.analytics.sketches import new_sketch

    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT DISTINCT ts_ms / :day, asset_id, COALESCE(short_code, ''), event_type, "
            "audience, visitor FROM analytics_events "
            "WHERE visitor IS NOT NULL AND audience IN ('person', 'bot')"
        ),
        {"day": DAY_MS},
    )
    visitors: dict[tuple[int, str, str, str, str], list[str]] = {}
    for day, asset, code, kind, audience, visitor in rows:
        visitors.setdefault((int(day), asset, code, kind, audience), []).append(visitor)
    batch = [
        {
            "day": key[0],
            "asset_id": key[1],
            "short_code": key[2],
            "event_type": key[3],
            "audience": key[4],
            "sketch": bytes(new_sketch(found).serialize_compact()),
        }
        for key, found in visitors.items()
    ]
    for start in range(0, len(batch), 1000):
        op.bulk_insert(table, batch[start : start + 1000])


def downgrade() -> None:
    op.drop_table("analytics_visitor_sketches")

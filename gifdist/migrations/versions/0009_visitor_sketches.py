"""asset day and hour aggregates, unique-visitor sketches; backfilled

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 13:10:00

Asset reports read whole days from ``analytics_asset_days`` and an asset's series from
``analytics_asset_hours`` instead of every (hour, link, platform, audience) rollup.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

DAY_MS = 86_400_000


def upgrade() -> None:
    _asset_aggregates()
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


def _asset_aggregates() -> None:
    """Per asset and day (all audiences) and per asset and hour (counted ones), from the
    hourly rollups."""
    op.create_table(
        "analytics_asset_days",
        sa.Column("asset_id", sa.String(64), primary_key=True),
        sa.Column("day", sa.BigInteger(), primary_key=True),
        sa.Column("platform", sa.String(16), primary_key=True),
        sa.Column("event_type", sa.String(8), primary_key=True),
        sa.Column("audience", sa.String(8), primary_key=True),
        sa.Column("count", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "analytics_asset_hours",
        sa.Column("asset_id", sa.String(64), primary_key=True),
        sa.Column("hour", sa.BigInteger(), primary_key=True),
        sa.Column("event_type", sa.String(8), primary_key=True),
        sa.Column("count", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_analytics_asset_hours_hour", "analytics_asset_hours", ["hour"])
    op.execute(
        "INSERT INTO analytics_asset_days (asset_id, day, platform, event_type, audience, count) "
        "SELECT asset_id, hour / 24, platform, event_type, audience, SUM(count) "
        "FROM analytics_rollups GROUP BY asset_id, hour / 24, platform, event_type, audience"
    )
    op.execute(
        "INSERT INTO analytics_asset_hours (asset_id, hour, event_type, count) "
        "SELECT asset_id, hour, event_type, SUM(count) FROM analytics_rollups "
        "WHERE audience IN ('person', 'bot') GROUP BY asset_id, hour, event_type"
    )


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
    op.drop_table("analytics_asset_hours")
    op.drop_table("analytics_asset_days")

"""all-time analytics totals per asset, for top-N without scanning rollups

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analytics_totals",
        sa.Column("asset_id", sa.String(64), primary_key=True),
        sa.Column("event_type", sa.String(8), primary_key=True),
        sa.Column("count", sa.BigInteger(), nullable=False),
    )
    # Existing rollups seed the totals (counted audiences only).
    op.execute(
        "INSERT INTO analytics_totals (asset_id, event_type, count) "
        "SELECT asset_id, event_type, SUM(count) FROM analytics_rollups "
        "WHERE audience IN ('person', 'bot') GROUP BY asset_id, event_type"
    )


def downgrade() -> None:
    op.drop_table("analytics_totals")

"""GIF API usage: searches, impressions and shares per day, key, client and platform

Revision ID: 0012
Revises: 0007
Create Date: 2026-12-01 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gif_api_usage",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("api", sa.String(8), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("client_key", sa.String(64), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("searches", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("impressions", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("shares", sa.BigInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint(
            "day", "api", "key_id", "client_key", "platform", name="pk_gif_api_usage"
        ),
    )
    op.create_index("ix_gif_api_usage_key_day", "gif_api_usage", ["key_id", "day"])


def downgrade() -> None:
    op.drop_index("ix_gif_api_usage_key_day", table_name="gif_api_usage")
    op.drop_table("gif_api_usage")

"""link controls: custom slugs (3–64 characters), expiry, a limit on people's clicks, passwords

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 10:40:00

Short codes widen to 64 characters wherever they are stored (PostgreSQL only: SQLite
does not enforce lengths, so its tables are left as they are rather than rebuilt).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

CODE_COLUMNS = (
    ("share_links", False),
    ("analytics_events", True),
    ("analytics_rollups", False),
)


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for table, nullable in CODE_COLUMNS:
            op.alter_column(
                table,
                "short_code",
                type_=sa.String(length=64),
                existing_type=sa.String(length=32),
                existing_nullable=nullable,
            )
    with op.batch_alter_table("share_links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("slug_key", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("max_clicks", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("password_hash", sa.String(length=200), nullable=True))
        batch_op.create_unique_constraint("uq_share_links_slug_key", ["slug_key"])


def downgrade() -> None:
    with op.batch_alter_table("share_links", schema=None) as batch_op:
        batch_op.drop_constraint("uq_share_links_slug_key", type_="unique")
        batch_op.drop_column("password_hash")
        batch_op.drop_column("max_clicks")
        batch_op.drop_column("expires_at")
        batch_op.drop_column("slug_key")

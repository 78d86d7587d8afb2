"""deletes whose later steps (analytics, bytes) are still to be done; bytes being removed

Revision ID: 0011
Revises: 0012
Create Date: 2026-12-01 12:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_deletes",
        sa.Column("asset_id", sa.String(64), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("asset_id", name="pk_pending_deletes"),
    )
    op.create_table(
        "blob_removals",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("claimed_by", sa.String(128), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name="pk_blob_removals"),
    )


def downgrade() -> None:
    op.drop_table("blob_removals")
    op.drop_table("pending_deletes")

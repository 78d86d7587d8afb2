"""content apart from assets: bytes by SHA-256 once, any number of owners' assets over them

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 10:00:00

Byte facts (size, type, dimensions, frames, duration) move from ``assets`` to a new
``contents`` table keyed by SHA-256; ``assets.sha256`` stops being unique (two owners
may hold the same bytes) and becomes unique per owner instead. Asset ids, links,
events and audit rows are untouched.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BYTE_FACTS = ("bytes", "content_type", "width", "height", "frames", "duration_ms")


def upgrade() -> None:
    op.create_table(
        "contents",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("frames", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("visual_verdict", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_contents")),
    )
    op.execute(
        "INSERT INTO contents (sha256, bytes, content_type, width, height, frames, "
        "duration_ms, created_at) SELECT sha256, bytes, content_type, width, height, "
        "frames, duration_ms, created_at FROM assets"
    )
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_constraint("uq_assets_sha256", type_="unique")
        for column in BYTE_FACTS:
            batch_op.drop_column(column)
        batch_op.create_index(batch_op.f("ix_assets_sha256"), ["sha256"], unique=False)
        batch_op.create_unique_constraint("uq_assets_owner_sha256", ["owner_key_id", "sha256"])
        batch_op.create_foreign_key(
            batch_op.f("fk_assets_sha256_contents"), "contents", ["sha256"], ["sha256"]
        )


def downgrade() -> None:
    """Only possible while every content has a single asset (as before 0004)."""
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_assets_sha256_contents"), type_="foreignkey")
        batch_op.drop_constraint("uq_assets_owner_sha256", type_="unique")
        batch_op.drop_index(batch_op.f("ix_assets_sha256"))
        batch_op.add_column(sa.Column("bytes", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("content_type", sa.String(length=64), nullable=True))
        for column in ("width", "height", "frames", "duration_ms"):
            batch_op.add_column(sa.Column(column, sa.Integer(), nullable=True))
    for column in BYTE_FACTS:
        op.execute(
            f"UPDATE assets SET {column} = (SELECT contents.{column} FROM contents "
            "WHERE contents.sha256 = assets.sha256)"
        )
    with op.batch_alter_table("assets", schema=None) as batch_op:
        for column in BYTE_FACTS:
            batch_op.alter_column(column, nullable=False)
        batch_op.create_unique_constraint("uq_assets_sha256", ["sha256"])
    op.drop_table("contents")

"""full-text search index: documents and tags, FTS5 on SQLite, GIN on PostgreSQL

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 09:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "search_documents",
        sa.Column(
            "doc_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("asset_id", sa.String(64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("language", sa.String(32), nullable=False),
        sa.Column("title_terms", sa.Text(), nullable=False),
        sa.Column("tag_terms", sa.Text(), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.UniqueConstraint("asset_id", name="uq_search_documents_asset_id"),
    )
    op.create_index("ix_search_documents_created_at", "search_documents", ["created_at"])
    op.create_table(
        "search_tags",
        sa.Column("asset_id", sa.String(64), primary_key=True),
        sa.Column("tag_key", sa.Text(), primary_key=True),
        sa.Column("tag", sa.Text(), nullable=False),
    )
    op.create_index("ix_search_tags_tag_key", "search_tags", ["tag_key"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_search_documents_vector ON search_documents "
            "USING gin (array_to_tsvector(string_to_array(NULLIF(terms, ''), ' ')))"
        )
    else:
        # The analyser has already folded and stemmed the terms: the tokenizer only
        # splits on spaces, it must not fold again. Title and tag terms have columns
        # of their own so a one-word search reads its ranking tiers from the index.
        op.execute(
            "CREATE VIRTUAL TABLE search_fts USING fts5(title_terms, tag_terms, terms, "
            "tokenize = 'unicode61 remove_diacritics 0', prefix = '2 3')"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TABLE search_fts")
    op.drop_table("search_tags")
    op.drop_table("search_documents")

"""users, one-time invite and reset links, and API keys that belong to users: each
existing key becomes the key of a user made for it (its GIFs and links stay its own)

Revision ID: 0008
Revises: 0011
Create Date: 2026-12-01 12:40:00
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("session_epoch", sa.String(32), nullable=False),
        sa.Column("totp_secret", sa.String(64), nullable=True),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("oidc_subject", sa.String(255), nullable=True),
        sa.Column("quota_bytes", sa.BigInteger(), nullable=True),
        sa.Column("quota_uploads_per_day", sa.Integer(), nullable=True),
        sa.UniqueConstraint("username", name="uq_users_username"),
        sa.UniqueConstraint("oidc_subject", name="uq_users_oidc_subject"),
    )
    op.create_index("ix_users_email", "users", ["email"])
    op.create_table(
        "account_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("role", sa.String(16), nullable=True),
        sa.Column("user_id", sa.String(32), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    )
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("user_id", sa.String(32), nullable=True))
        batch.create_index("ix_api_keys_user_id", ["user_id"])
    _users_for_existing_keys()


def _users_for_existing_keys() -> None:
    """A user per key, with the key's id as the user's id (so the owner of the key's
    GIFs and links is unchanged) and the role its scopes amount to. They have no
    password: they sign in with their key until an admin sends them a reset link."""
    conn = op.get_bind()
    keys = sa.table(
        "api_keys",
        sa.column("key_id", sa.String),
        sa.column("name", sa.String),
        sa.column("scopes", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("user_id", sa.String),
    )
    users = sa.table(
        "users",
        sa.column("user_id", sa.String),
        sa.column("username", sa.String),
        sa.column("role", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("session_epoch", sa.String),
    )
    taken: set[str] = set()
    rows = conn.execute(sa.select(keys.c.key_id, keys.c.name, keys.c.scopes, keys.c.created_at))
    for key_id, name, scopes, created_at in rows.fetchall():
        username = _username(name or "", key_id, taken)
        taken.add(username)
        granted = set((scopes or "").split())
        role = "admin" if "admin" in granted else "moderator" if "moderate" in granted else "member"
        conn.execute(
            sa.insert(users).values(
                user_id=key_id,
                username=username,
                role=role,
                created_at=created_at or datetime.now(UTC),
                session_epoch=secrets.token_hex(8),
            )
        )
        conn.execute(sa.update(keys).where(keys.c.key_id == key_id).values(user_id=key_id))


def _username(name: str, key_id: str, taken: set[str]) -> str:
    slug = re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-._")[:24]
    if len(slug) < 2 or slug in taken:
        slug = f"key-{key_id}"[:32]
    return slug


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_index("ix_api_keys_user_id")
        batch.drop_column("user_id")
    op.drop_table("account_tokens")
    op.drop_index("ix_users_email", "users")
    op.drop_table("users")

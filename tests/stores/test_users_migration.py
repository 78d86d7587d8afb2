"""Migration 0008: every existing key becomes the key of a user made for it, and
keeps working with the same GIFs, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from gifdist.accounts.keys import KeyRing, Scope, hash_key
from gifdist.accounts.users import Role, Users
from gifdist.stores.assets_sql import SqlAssetStore
from gifdist.stores.database import create_database_engine
from gifdist.stores.keys_sql import SqlKeyStore
from gifdist.stores.migrate import upgrade_database
from gifdist.stores.users_sql import SqlUserStore


def test_existing_keys_become_keys_of_users_made_for_them(database_url: str) -> None:
    eng = create_database_engine(database_url)
    try:
        upgrade_database(eng, "0011")
        now = datetime(2026, 11, 1, 12, tzinfo=UTC)
        rows = [
            ("aaaaaaaaaaaa", "Admin Laptop", "admin", "gd_aaaaaaaaaaaa_s1"),
            ("bbbbbbbbbbbb", "ci bot", "links read upload", "gd_bbbbbbbbbbbb_s2"),
            ("cccccccccccc", "ci bot", "moderate read", "gd_cccccccccccc_s3"),
            ("dddddddddddd", "", "read", "gd_dddddddddddd_s4"),
        ]
        with eng.begin() as conn:
            for key_id, name, scopes, secret in rows:
                conn.execute(
                    text(
                        "INSERT INTO api_keys (key_id, key_hash, name, scopes, created_at) "
                        "VALUES (:id, :hash, :name, :scopes, :now)"
                    ),
                    {
                        "id": key_id,
                        "hash": hash_key(secret),
                        "name": name,
                        "scopes": scopes,
                        "now": now,
                    },
                )
            conn.execute(
                text(
                    "INSERT INTO contents (sha256, bytes, content_type, width, height, frames, "
                    "duration_ms, created_at) VALUES (:sha, 10, 'image/gif', 1, 1, 1, 0, :now)"
                ),
                {"sha": "e" * 64, "now": now},
            )
            conn.execute(
                text(
                    "INSERT INTO assets (asset_id, sha256, title, description, tags, status, "
                    "private, owner_key_id, created_at, updated_at) VALUES ('a1', :sha, 't', '', "
                    "'[]', 'approved', :f, 'bbbbbbbbbbbb', :now, :now)"
                ),
                {"sha": "e" * 64, "now": now, "f": False},
            )
        upgrade_database(eng)
        users = {u.user_id: u for u in SqlUserStore(eng).list()}
        assert {u: (users[u].username, users[u].role) for u in users} == {
            "aaaaaaaaaaaa": ("admin-laptop", Role.ADMIN),
            "bbbbbbbbbbbb": ("ci-bot", Role.MEMBER),
            "cccccccccccc": ("key-cccccccccccc", Role.MODERATOR),  # the name was taken
            "dddddddddddd": ("key-dddddddddddd", Role.MEMBER),
        }
        assert all(u.password_hash is None and u.session_epoch for u in users.values())
        directory = Users(SqlUserStore(eng))
        ring = KeyRing(SqlKeyStore(eng), user_scopes=directory.key_scopes)
        admin = ring.verify("gd_aaaaaaaaaaaa_s1")
        assert admin.user_id == "aaaaaaaaaaaa" and admin.allows(Scope.ADMIN)
        bot = ring.verify("gd_bbbbbbbbbbbb_s2")
        assert bot.scopes == {Scope.LINKS, Scope.READ, Scope.UPLOAD}
        assert SqlAssetStore(eng).ids_for_owner(bot.owner_id) == ["a1"]  # still theirs
        assert ring.verify("gd_cccccccccccc_s3").allows(Scope.MODERATE)
    finally:
        eng.dispose()


def test_0008_downgrades_keeping_the_keys(database_url: str) -> None:
    from alembic import command

    from gifdist.stores.migrate import alembic_config

    eng = create_database_engine(database_url)
    try:
        upgrade_database(eng)
        ring = KeyRing(SqlKeyStore(eng))
        secret, _ = ring.create("ci", (Scope.READ,), user_id="u1")
        config = alembic_config(eng.url.render_as_string(hide_password=False))
        with eng.connect() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0011")
            connection.commit()
        with eng.connect() as conn:
            names = set(conn.execute(text("SELECT key_id FROM api_keys")).scalars())
            assert len(names) == 1
        upgrade_database(eng)
        assert KeyRing(SqlKeyStore(eng)).verify(secret).key_id in names
    finally:
        eng.dispose()

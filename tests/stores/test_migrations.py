"""Migrations create the schema the code expects, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, inspect, text

from gifdist.stores.database import create_database_engine
from gifdist.stores.migrate import current_revision, head_revision, upgrade_database
from gifdist.stores.schema import metadata


def test_migrated_database_has_every_table_and_column(engine: Engine) -> None:
    inspector = inspect(engine)
    for table in metadata.sorted_tables:
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        assert columns == {c.name for c in table.columns}, table.name


def test_upgrade_is_idempotent_and_reaches_head(database_url: str) -> None:
    eng = create_database_engine(database_url)
    try:
        assert current_revision(eng) is None
        upgrade_database(eng)
        upgrade_database(eng)
        assert current_revision(eng) == head_revision()
    finally:
        eng.dispose()


def test_nodes_starting_at_once_migrate_once(database_url: str, tmp_path: Path) -> None:
    """Six processes migrating a fresh database together: all succeed, the schema is whole."""
    env = {
        **os.environ,
        "GIFDIST_DATABASE_URL": database_url,
        "GIFDIST_DATA_DIR": str(tmp_path / "data"),
    }
    command = [sys.executable, "-m", "gifdist.cli", "db", "upgrade"]
    procs = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for _ in range(6)
    ]
    outputs = [proc.communicate(timeout=120)[0].decode() for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * 6, outputs
    eng = create_database_engine(database_url)
    try:
        assert current_revision(eng) == head_revision()
        assert set(inspect(eng).get_table_names()) >= {t.name for t in metadata.sorted_tables}
        with eng.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    finally:
        eng.dispose()


def _fill_schema_0003(conn: Connection) -> None:
    """Rows as gifdist wrote them before content and assets were split."""
    now = datetime(2026, 11, 1, 12, tzinfo=UTC)
    for n, (owner, private) in enumerate([("k1", False), ("k2", True), (None, False)]):
        conn.execute(
            text(
                "INSERT INTO assets (asset_id, sha256, bytes, content_type, width, height, "
                "frames, duration_ms, title, description, tags, status, private, owner_key_id, "
                "moderation, created_at, updated_at) VALUES (:id, :sha, :size, 'image/gif', "
                "40, 30, 4, 400, :title, '', :tags, 'approved', :private, :owner, NULL, :now, :now)"
            ),
            {
                "id": f"{n:x}" * 16,
                "sha": f"{n:x}" * 64,
                "size": 1000 + n,
                "title": f"title {n}",
                "tags": json.dumps([f"tag{n}"]),
                "private": private,
                "owner": owner,
                "now": now,
            },
        )
    conn.execute(
        text(
            "INSERT INTO share_links (short_code, asset_id, canonical_url, title, tags, via, "
            "clicks, created_by, created_at) VALUES ('Abc12345', :id, 'http://x/a/1', 't', "
            "'[]', 'slack', 7, 'k1', :now)"
        ),
        {"id": "1" * 16, "now": now},
    )
    conn.execute(
        text("INSERT INTO analytics_totals (asset_id, event_type, count) VALUES (:id, 'click', 7)"),
        {"id": "1" * 16},
    )


def test_content_split_keeps_ids_links_and_counts(database_url: str) -> None:
    """A database at 0003 (one asset row per SHA-256) upgrades with nothing lost."""
    from gifdist.stores.assets_sql import SqlAssetStore

    eng = create_database_engine(database_url)
    try:
        upgrade_database(eng, "0003")
        with eng.begin() as conn:
            _fill_schema_0003(conn)
        upgrade_database(eng)
        store = SqlAssetStore(eng)
        records = {r.asset_id: r for r in store.list()}
        assert sorted(records) == ["0" * 16, "1" * 16, "2" * 16]
        second = records["1" * 16]
        assert (second.sha256, second.bytes, second.width, second.height) == (
            "1" * 64,
            1001,
            40,
            30,
        )
        assert (second.frames, second.duration_ms, second.title, second.tags) == (
            4,
            400,
            "title 1",
            ("tag1",),
        )
        assert (second.private, second.owner_key_id) == (True, "k2")
        with eng.connect() as conn:
            link = conn.execute(text("SELECT asset_id, clicks FROM share_links")).one()
            total = conn.execute(text("SELECT count FROM analytics_totals")).scalar_one()
            contents = conn.execute(text("SELECT COUNT(*) FROM contents")).scalar_one()
        assert tuple(link) == ("1" * 16, 7) and total == 7 and contents == 3
        # after the split, a second owner may hold the same bytes
        assert store.get_for_owner("1" * 64, "k2") == second
        assert store.get_for_owner("1" * 64, "k1") is None
    finally:
        eng.dispose()

"""Migrations create the schema the code expects, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine, inspect, text

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

"""Migrations create the schema the code expects, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Engine, inspect

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

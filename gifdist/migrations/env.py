"""Alembic environment: runs migrations on the connection or URL it is given.

On PostgreSQL the whole upgrade holds an advisory lock, on SQLite the database's write
lock (one transaction), so when several app nodes start at once one migrates and the
others wait, then find nothing to do.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

from gifdist.stores.database import create_database_engine
from gifdist.stores.schema import metadata

MIGRATION_LOCK_ID = 0x6769_6664  # "gifd"


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        # SQLite runs DDL in transactions too: the whole upgrade is one, begun with
        # BEGIN IMMEDIATE (stores/database.py), so of several processes upgrading at once
        # one holds the write lock and the others, when they get it, read the new
        # revision and have nothing to do (without it each migration committed on its
        # own, and a second process could run one again: "duplicate column").
        transactional_ddl=True,
    )
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_ID})
        connection.commit()
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch migrations rebuild tables; with foreign keys on, dropping the old
        # table would cascade into its children. SQLite honours this pragma only
        # outside a transaction, so it goes straight to the driver between them.
        _sqlite_foreign_keys(connection, on=False)
    try:
        with context.begin_transaction():
            context.run_migrations()
        if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first():
            raise RuntimeError("a migration left rows whose foreign keys point nowhere")
    except BaseException:
        if sqlite:
            connection.rollback()
        raise
    finally:
        if sqlite:
            _sqlite_foreign_keys(connection, on=True)
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_ID})
            connection.commit()


def _sqlite_foreign_keys(connection: Connection, *, on: bool) -> None:
    connection.commit()
    connection.connection.dbapi_connection.execute(  # type: ignore[union-attr]
        f"PRAGMA foreign_keys={'ON' if on else 'OFF'}"
    )


def run_migrations_online() -> None:
    """Migrate through ``config.attributes['connection']`` or the configured URL."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_database_engine(context.config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


run_migrations_online()

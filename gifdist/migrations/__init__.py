"""Alembic migrations for the gifdist schema (SQLite and PostgreSQL)."""

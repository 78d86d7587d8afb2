"""Persistence adapters: SQL (SQLite | PostgreSQL), blobs, memory."""

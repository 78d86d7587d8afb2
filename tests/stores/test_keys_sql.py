"""API keys remember when they were last used (to the hour), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, update

from gifdist.accounts.keys import KeyRing, Scope
from gifdist.errors import Unauthorized
from gifdist.stores.keys_sql import SqlKeyStore
from gifdist.stores.schema import api_keys


def test_a_new_key_is_unused_until_it_authenticates(engine: Engine) -> None:
    ring = KeyRing(SqlKeyStore(engine))
    secret, key = ring.create("ci", (Scope.READ,))
    assert key.last_used_at is None
    assert ring.store.any_used() is False
    before = datetime.now(UTC)
    used = ring.verify(secret)
    assert used.key_id == key.key_id
    assert ring.store.any_used() is True
    stored = ring.store.find_by_id(key.key_id)
    assert stored is not None and stored.last_used_at is not None
    assert stored.last_used_at >= before - timedelta(seconds=1)


def test_last_use_is_written_at_most_once_an_hour(engine: Engine) -> None:
    ring = KeyRing(SqlKeyStore(engine))
    secret, key = ring.create("ci", (Scope.READ,))
    ring.verify(secret)
    first = ring.store.find_by_id(key.key_id)
    assert first is not None and first.last_used_at is not None
    ring.verify(secret)
    assert ring.store.find_by_id(key.key_id) == first  # within the hour: no write
    an_hour_ago = first.last_used_at - timedelta(hours=1, seconds=1)
    with engine.begin() as conn:
        conn.execute(update(api_keys).values(last_used_at=an_hour_ago))
    ring.verify(secret)
    later = ring.store.find_by_id(key.key_id)
    assert later is not None and later.last_used_at is not None
    assert later.last_used_at > an_hour_ago + timedelta(minutes=59)


def test_a_refused_key_is_not_counted_as_used(engine: Engine) -> None:
    ring = KeyRing(SqlKeyStore(engine))
    secret, key = ring.create("ci", (Scope.READ,))
    ring.store.revoke(key.key_id)
    with pytest.raises(Unauthorized):
        ring.verify(secret)
    with pytest.raises(Unauthorized):
        ring.verify("gd_unknown_key")
    assert ring.store.any_used() is False

"""The ``UserStore`` contract, on the in-memory store, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from gifdist.accounts.memory import InMemoryUserStore
from gifdist.accounts.users import AccountToken, Role, TokenKind, User, UserStore
from gifdist.errors import Conflict
from gifdist.stores.users_sql import SqlUserStore

KINDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=KINDS)
def store(request: pytest.FixtureRequest) -> Iterator[UserStore]:
    if request.param == "memory":
        yield InMemoryUserStore()
        return
    from gifdist.stores.database import create_database_engine
    from gifdist.stores.migrate import upgrade_database

    if request.param == "sqlite":
        url = f"sqlite:///{request.getfixturevalue('tmp_path') / 'users.db'}"
    else:
        url = request.getfixturevalue("pg_schema_url")
    engine: Engine = create_database_engine(url)
    upgrade_database(engine)
    try:
        yield SqlUserStore(engine)
    finally:
        engine.dispose()


def user(user_id: str, name: str, **kw: object) -> User:
    when = datetime(2026, 12, 1, tzinfo=UTC) + timedelta(seconds=len(user_id))
    return User(user_id, name, Role.MEMBER, when, session_epoch="e0", **kw)  # type: ignore[arg-type]


def test_users_are_found_by_id_name_subject_and_email(store: UserStore) -> None:
    store.add(user("u1", "alice", email="Alice@Example.org", oidc_subject="iss#1"))
    store.add(user("u22", "bob"))
    assert store.get("u1") == store.find_by_username("alice") == store.find_by_oidc("iss#1")
    assert store.find_by_email("alice@example.org") == store.get("u1")
    assert store.find_by_username("carol") is None and store.get("nope") is None
    assert [u.username for u in store.list()] == ["alice", "bob"] and store.count() == 2
    with pytest.raises(Conflict):
        store.add(user("u333", "alice"))


def test_a_value_with_a_nul_byte_finds_no_one(store: UserStore) -> None:
    """PostgreSQL text cannot hold NUL; such a lookup is an answer (no one), not an error."""
    store.add(user("u1", "alice", email="alice@example.org", oidc_subject="iss#1"))
    assert store.get("u1\x00") is None and store.find_by_username("alice\x00") is None
    assert store.find_by_oidc("iss#1\x00") is None
    assert store.find_by_email("alice@example.org\x00") is None
    assert store.get("u1") is not None


def test_updates_change_only_what_they_name(store: UserStore) -> None:
    store.add(user("u1", "alice"))
    assert store.update("u1", {"role": Role.ADMIN, "session_epoch": "e1"})
    changed = store.get("u1")
    assert changed is not None and changed.role is Role.ADMIN and changed.session_epoch == "e1"
    assert changed.username == "alice"
    assert not store.update("nope", {"role": Role.ADMIN})
    store.add(user("u22", "bob", oidc_subject="iss#2"))
    with pytest.raises(Conflict):
        store.update("u1", {"oidc_subject": "iss#2"})


def test_a_totp_step_is_used_once_and_never_an_earlier_one(store: UserStore) -> None:
    store.add(user("u1", "alice"))
    assert store.use_totp_step("u1", 100)
    assert not store.use_totp_step("u1", 100)
    assert not store.use_totp_step("u1", 99)
    assert store.use_totp_step("u1", 101)


def test_a_token_is_taken_once_and_not_after_it_expires(store: UserStore) -> None:
    now = datetime.now(UTC)
    token = AccountToken(TokenKind.INVITE, "admin", now, now + timedelta(hours=1), role=Role.MEMBER)
    store.add_token("h1", token)
    store.add_token(
        "h2", AccountToken(TokenKind.RESET, "admin", now, now - timedelta(seconds=1), user_id="u1")
    )
    assert store.peek_token("h1", TokenKind.RESET) is None  # the kind must match
    taken = store.take_token("h1", TokenKind.INVITE, now)
    assert taken is not None and taken.used_at is None and taken.role is Role.MEMBER
    again = store.take_token("h1", TokenKind.INVITE, now)
    assert again is not None and again.used_at is not None  # seen as used
    expired = store.take_token("h2", TokenKind.RESET, now)
    assert expired is not None and expired.used_at is None  # not taken: it had expired
    assert store.take_token("nope", TokenKind.INVITE, now) is None

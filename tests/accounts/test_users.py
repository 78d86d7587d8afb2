"""Users, roles, invites, resets, and keys that belong to users, on SQLite and PostgreSQL."""

from __future__ import annotations

import secrets
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import make_settings
from sqlalchemy import update

from gifdist.accounts.keys import Scope
from gifdist.accounts.passwords import MAX_CHARS, verify_password
from gifdist.accounts.users import Role
from gifdist.errors import (
    Conflict,
    Forbidden,
    Gone,
    InvalidInput,
    NotFound,
    TooManyRequests,
    Unauthorized,
)
from gifdist.stores.schema import account_tokens
from gifdist.wiring import Service

PASSWORD = "correct horse battery"


def test_a_user_signs_in_with_any_spelling_of_their_name(service: Service) -> None:
    user = service.users.create("Alice", PASSWORD, Role.MEMBER)
    assert user.username == "alice"
    assert user.password_hash and PASSWORD not in user.password_hash
    assert service.signin.password("ＡＬＩＣＥ", PASSWORD, "10.0.0.1").user_id == user.user_id
    with pytest.raises(Conflict):
        service.users.create("ALICE", PASSWORD)


@pytest.mark.parametrize(
    "name", ["pаypal", "раураl", "a b", "x", "-dash", "a" * 40, "name\u200b", "<script>"]
)
def test_look_alike_and_odd_usernames_are_refused(service: Service, name: str) -> None:
    with pytest.raises(InvalidInput):
        service.users.create(name, PASSWORD)


def test_usernames_in_one_other_alphabet_are_fine(service: Service) -> None:
    assert service.users.create("Иван", PASSWORD).username == "иван"
    assert service.users.create("josé", PASSWORD).username == "josé"


def test_wrong_password_and_unknown_user_get_the_same_answer_in_the_same_time(
    service: Service,
) -> None:
    service.users.create("bob", PASSWORD)
    answers, times = [], []
    for name, password in [("bob", "wrong password!"), ("nobody", "wrong password!")] * 3:
        start = time.perf_counter()
        with pytest.raises(Unauthorized) as caught:
            service.signin.password(name, password, "10.0.0.2")
        times.append(time.perf_counter() - start)
        answers.append((caught.value.message, caught.value.code))
    assert len(set(answers)) == 1
    known, unknown = sorted(times[0::2])[1], sorted(times[1::2])[1]
    assert 0.5 < known / unknown < 2.0, (known, unknown)  # both pay for one argon2 check


def test_a_megabyte_password_is_refused_without_hashing(service: Service) -> None:
    huge = "p" * (1024 * 1024)
    with pytest.raises(InvalidInput) as caught:
        service.users.create("carol", huge)
    assert caught.value.code == "password_too_long"
    service.users.create("carol", PASSWORD)
    start = time.perf_counter()
    with pytest.raises(Unauthorized):
        service.signin.password("carol", huge, "10.0.0.3")
    assert time.perf_counter() - start < 1.0
    assert not verify_password(service.users.find("carol").password_hash, "p" * (MAX_CHARS + 1))


def test_attempts_are_limited_per_account_and_per_client(service: Service) -> None:
    service.users.create("dave", PASSWORD)
    for n in range(10):
        with pytest.raises(Unauthorized):
            service.signin.password("dave", "wrong password!", f"10.1.0.{n}")
    with pytest.raises(TooManyRequests):  # the account is locked for a while, from anywhere
        service.signin.password("dave", PASSWORD, "10.1.1.1")
    service.users.create("erin", PASSWORD)
    assert service.signin.password("erin", PASSWORD, "10.1.1.1")  # others are not


def test_attempts_per_client_cover_every_name(service: Service) -> None:
    for n in range(50):
        with pytest.raises(Unauthorized):
            service.signin.password(f"user{n}", "wrong password!", "10.2.0.1")
    service.users.create("frank", PASSWORD)
    with pytest.raises(TooManyRequests):
        service.signin.password("frank", PASSWORD, "10.2.0.1")
    assert service.signin.password("frank", PASSWORD, "10.2.0.2")


def test_an_invite_makes_one_user_with_its_role_once(service: Service) -> None:
    token, _ = service.users.invite(Role.MODERATOR, "admin")
    user = service.users.accept_invite(token, "mod", PASSWORD)
    assert user.role is Role.MODERATOR
    with pytest.raises(Gone):
        service.users.accept_invite(token, "mod2", PASSWORD)
    with pytest.raises(NotFound):
        service.users.accept_invite("not-a-token", "mod3", PASSWORD)


def test_an_invite_is_taken_by_one_of_two_racing_sign_ups(service: Service) -> None:
    token, _ = service.users.invite(Role.MEMBER, "admin")
    results: list[object] = []

    def accept(name: str) -> None:
        try:
            results.append(service.users.accept_invite(token, name, PASSWORD))
        except Gone as exc:
            results.append(exc)

    threads = [threading.Thread(target=accept, args=(f"racer{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(isinstance(r, Gone) for r in results) == 1
    assert len([u for u in service.users.list() if u.username.startswith("racer")]) == 1


def test_an_invite_whose_username_is_taken_meanwhile_is_not_spent(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the name check and the insert another sign-up takes the name: the
    invite's user is refused with a clear conflict, and the invite can still be used."""
    token, _ = service.users.invite(Role.MODERATOR, "admin")
    store = service.users.store
    take = store.take_token

    def take_while_someone_signs_up(*args: object) -> object:
        taken = take(*args)  # type: ignore[arg-type]
        service.users.create("quick", PASSWORD)
        return taken

    monkeypatch.setattr(store, "take_token", take_while_someone_signs_up)
    with pytest.raises(Conflict, match="taken"):
        service.users.accept_invite(token, "quick", PASSWORD)
    monkeypatch.undo()
    user = service.users.accept_invite(token, "slow", PASSWORD)
    assert (user.username, user.role) == ("slow", Role.MODERATOR)
    with pytest.raises(Gone):
        service.users.accept_invite(token, "slower", PASSWORD)


def test_an_expired_invite_or_reset_link_is_refused(service: Service) -> None:
    invite, _ = service.users.invite(Role.MEMBER, "admin")
    user = service.users.create("gina", PASSWORD)
    reset, _ = service.users.reset_link(user.user_id, "admin")
    past = datetime.now(UTC) - timedelta(seconds=1)
    with service.engine.begin() as conn:
        conn.execute(update(account_tokens).values(expires_at=past))
    with pytest.raises(Gone) as caught:
        service.users.accept_invite(invite, "late", PASSWORD)
    assert "expired" in caught.value.message
    with pytest.raises(Gone):
        service.users.reset_password(reset, "a new password here")


def test_a_reset_link_sets_a_password_once_and_ends_sessions(service: Service) -> None:
    user = service.users.create("hank", PASSWORD)
    version = service.signin.session_version(user.subject)
    token, _ = service.users.reset_link(user.user_id, "admin")
    service.users.reset_password(token, "a new password here")
    assert service.signin.session_version(user.subject) != version
    assert service.signin.password("hank", "a new password here", "10.3.0.1")
    with pytest.raises(Gone):
        service.users.reset_password(token, "another password!")


def test_password_change_needs_the_current_one(service: Service) -> None:
    user = service.users.create("ivy", PASSWORD)
    with pytest.raises(Forbidden):
        service.users.change_password(user.user_id, "not it at all", "a new password here")
    service.users.change_password(user.user_id, PASSWORD, "a new password here")
    with pytest.raises(Unauthorized):
        service.signin.password("ivy", PASSWORD, "10.4.0.1")


def test_a_key_never_grants_more_than_its_users_role(service: Service) -> None:
    user = service.users.create("jack", PASSWORD, Role.MEMBER)
    secret, _ = service.keys.create("laptop", (Scope.ADMIN,), user_id=user.user_id)
    key = service.keys.verify(secret)
    assert not key.allows(Scope.ADMIN) and not key.allows(Scope.MODERATE)
    assert key.allows(Scope.UPLOAD) and key.owner_id == user.user_id
    service.users.set_role(user.user_id, Role.MODERATOR)
    assert service.keys.verify(secret).allows(Scope.MODERATE)
    narrow, _ = service.keys.create("bot", (Scope.READ,), user_id=user.user_id)
    service.users.set_role(user.user_id, Role.ADMIN)
    assert not service.keys.verify(narrow).allows(Scope.UPLOAD)  # nor more than it says


def test_disabling_a_user_stops_their_keys_and_sessions_at_once(service: Service) -> None:
    user = service.users.create("kim", PASSWORD)
    secret, _ = service.keys.create("laptop", user_id=user.user_id)
    version = service.signin.session_version(user.subject)
    assert service.keys.verify(secret)
    service.users.disable(user.user_id)
    with pytest.raises(Unauthorized) as caught:
        service.keys.verify(secret)
    assert caught.value.code == "account_disabled"
    assert service.signin.session_version(user.subject) != version
    with pytest.raises(Unauthorized):
        service.signin.principal(user.subject)
    with pytest.raises(Unauthorized) as refused:
        service.signin.password("kim", PASSWORD, "10.5.0.1")
    assert refused.value.code == "account_disabled"
    service.users.enable(user.user_id)
    assert service.keys.verify(secret)


def test_a_user_revokes_only_their_own_keys(service: Service) -> None:
    one = service.users.create("lee", PASSWORD)
    two = service.users.create("max", PASSWORD)
    _, key = service.keys.create("lee's", user_id=one.user_id)
    assert not service.keys.revoke_own(two.user_id, key.key_id)
    assert [k.key_id for k in service.keys.of_user(one.user_id)] == [key.key_id]
    assert service.keys.of_user(two.user_id) == []
    assert service.keys.revoke_own(one.user_id, key.key_id)
    assert not service.keys.revoke_own(one.user_id, key.key_id)


def test_sign_up_only_when_the_deployment_allows_it(service: Service) -> None:
    with pytest.raises(Forbidden):
        service.users.sign_up("nina", PASSWORD)
    service.users.signup = True
    assert service.users.sign_up("nina", PASSWORD).role is Role.MEMBER


def test_attempt_counts_are_shared_by_every_node_through_redis(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    """Two app nodes on one database and one Redis: failures on one count on the other."""
    name = f"node{secrets.token_hex(4)}"  # fresh counters whatever an earlier run left
    nodes = [
        Service(make_settings(tmp_path / str(n), database_url, redis_url=redis_url))
        for n in range(2)
    ]
    try:
        nodes[0].users.create(name, PASSWORD)
        for n in range(10):
            with pytest.raises(Unauthorized):
                nodes[n % 2].signin.password(name, "wrong password!", f"10.9.0.{n}")
        with pytest.raises(TooManyRequests):
            nodes[1].signin.password(name, PASSWORD, "10.9.1.1")
    finally:
        for node in nodes:
            node.close()

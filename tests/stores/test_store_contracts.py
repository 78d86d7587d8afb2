"""One contract per store protocol, run against every implementation of it.

The in-memory stores are the reference; the SQL adapters (SQLite and PostgreSQL) must
behave the same, so a use case never depends on which one it was handed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from gifdist.accounts.keys import ApiKey, InMemoryKeyStore, KeyStore, Scope, hash_key
from gifdist.assets.memory import InMemoryAssetStore, InMemoryDeleteJournal
from gifdist.assets.model import AssetMetadata, AssetStatus
from gifdist.assets.store import AssetStore, DeleteJournal, PendingDelete
from gifdist.media.gif import GifInfo
from gifdist.moderation.queue import InMemoryModerationQueue, ModerationQueue
from gifdist.moderation.reports import InMemoryReportStore, ReportStore
from gifdist.stores.assets_sql import SqlAssetStore, SqlDeleteJournal
from gifdist.stores.keys_sql import SqlKeyStore
from gifdist.stores.moderation_queue_sql import SqlModerationQueue
from gifdist.stores.reports_sql import SqlReportStore

INFO = GifInfo(width=40, height=30, frames=4, duration_ms=400, loop_count=0, version="89a")
KINDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=KINDS)
def store_engine(request: pytest.FixtureRequest) -> Iterator[Engine | None]:
    if request.param == "memory":
        yield None
        return
    url = request.getfixturevalue("pg_schema_url" if request.param == "postgres" else "tmp_path")
    from gifdist.stores.database import create_database_engine
    from gifdist.stores.migrate import upgrade_database

    if request.param == "sqlite":
        url = f"sqlite:///{url / 'contract.db'}"
    engine = create_database_engine(str(url))
    upgrade_database(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def queue(store_engine: Engine | None) -> ModerationQueue:
    return InMemoryModerationQueue() if store_engine is None else SqlModerationQueue(store_engine)


@pytest.fixture
def assets(store_engine: Engine | None, queue: ModerationQueue) -> AssetStore:
    if store_engine is None:
        assert isinstance(queue, InMemoryModerationQueue)
        return InMemoryAssetStore(queue)
    return SqlAssetStore(store_engine)


@pytest.fixture
def keys(store_engine: Engine | None) -> KeyStore:
    return InMemoryKeyStore() if store_engine is None else SqlKeyStore(store_engine)


@pytest.fixture
def reports(store_engine: Engine | None) -> ReportStore:
    return InMemoryReportStore() if store_engine is None else SqlReportStore(store_engine)


def add(store: AssetStore, sha: str, owner: str | None, title: str = "t", **kw: Any) -> Any:
    return store.insert(
        candidate_ids=kw.pop("ids", [f"{owner or 'x'}{sha}"[:16], f"{owner or 'x'}{sha}"[:20]]),
        sha256=sha * 64 if len(sha) == 1 else sha,
        size=1234,
        info=INFO,
        meta=AssetMetadata(title=title, tags=("cat",)),
        status=kw.pop("status", AssetStatus.PENDING),
        owner_key_id=owner,
        enqueue_moderation=kw.pop("queue", True),
    )


# assets -------------------------------------------------------------------------


def test_an_asset_joins_its_contents_facts(assets: AssetStore) -> None:
    record, created = add(assets, "a", "k1", "Cat")
    assert created
    got = assets.get(record.asset_id)
    assert got == record
    assert (got.bytes, got.width, got.height, got.frames, got.duration_ms) == (1234, 40, 30, 4, 400)
    assert (got.title, got.tags, got.owner_key_id, got.private) == ("Cat", ("cat",), "k1", False)


def test_each_owner_gets_their_own_asset_over_the_same_bytes(assets: AssetStore) -> None:
    mine, _ = add(assets, "b", "k1", "mine")
    theirs, created = add(assets, "b", "k2", "theirs")
    assert created and theirs.asset_id != mine.asset_id
    assert assets.get_for_owner("b" * 64, "k1") == mine
    assert assets.get_for_owner("b" * 64, "k2") == theirs
    assert assets.get_for_owner("b" * 64, "k3") is None
    assert sorted(assets.assets_of_content("b" * 64)) == sorted([mine.asset_id, theirs.asset_id])
    again, created = add(assets, "b", "k1", "ignored")
    assert not created and again == mine


def test_a_taken_candidate_id_moves_to_the_next(assets: AssetStore) -> None:
    first, _ = add(assets, "c", "k1", ids=["abcd", "abcdef"])
    second, _ = add(assets, "d", "k1", ids=["abcd", "abcdef"])
    assert (first.asset_id, second.asset_id) == ("abcd", "abcdef")


def test_rejecting_remembers_the_hash_and_an_appeal_forgets_it(assets: AssetStore) -> None:
    record, _ = add(assets, "e", "k1")
    other, _ = add(assets, "e", "k2")
    assets.set_status(record.asset_id, AssetStatus.REJECTED, moderation={"decision": "rejected"})
    assert assets.is_rejected_hash("e" * 64)
    assert assets.reject_content("e" * 64, {"content": True}) == [other.asset_id]
    assert assets.get(other.asset_id).status is AssetStatus.REJECTED  # type: ignore[union-attr]
    assets.set_status(record.asset_id, AssetStatus.APPROVED)
    assert not assets.is_rejected_hash("e" * 64)


def test_visual_verdicts_are_kept_per_content(assets: AssetStore) -> None:
    add(assets, "f", "k1")
    assert assets.visual_verdict("f" * 64) is None
    assets.save_visual_verdict("f" * 64, {"category": "safe", "confidence": 0.99})
    assert assets.visual_verdict("f" * 64) == {"category": "safe", "confidence": 0.99}


def test_listing_filters_by_owner_status_and_text_newest_first(assets: AssetStore) -> None:
    a, _ = add(assets, "1", "k1", "Funny cat")
    time.sleep(0.01)
    b, _ = add(assets, "2", "k1", "Sad dog")
    time.sleep(0.01)
    c, _ = add(assets, "3", "k2", "Cat nap")
    assets.set_status(b.asset_id, AssetStatus.APPROVED)
    assert [r.asset_id for r in assets.list()] == [c.asset_id, b.asset_id, a.asset_id]
    assert [r.asset_id for r in assets.list(oldest_first=True, limit=2)] == [a.asset_id, b.asset_id]
    assert [r.asset_id for r in assets.list(owner_key_id="k1")] == [b.asset_id, a.asset_id]
    assert [r.asset_id for r in assets.list(status=AssetStatus.APPROVED)] == [b.asset_id]
    assert {r.asset_id for r in assets.list(search="CAT")} == {a.asset_id, c.asset_id, b.asset_id}
    assert [r.asset_id for r in assets.list(search="nap")] == [c.asset_id]
    assert sorted(assets.ids_for_owner("k1")) == sorted([a.asset_id, b.asset_id])
    assert assets.count() == 3
    private = assets.set_private(a.asset_id, True)
    assert private is not None and private.private


def test_moderation_jobs_are_claimed_once_retried_and_finished(
    assets: AssetStore, queue: ModerationQueue
) -> None:
    record, _ = add(assets, "g", "k1")
    assert queue.pending() == 1
    assert queue.claim("w1") == record.asset_id
    assert queue.claim("w2") is None
    queue.fail(record.asset_id, "boom")
    assert queue.claim("w2") == record.asset_id
    assert queue.requeue_stale(datetime.now(UTC) + timedelta(seconds=1)) == 1
    assert queue.claim("w3") == record.asset_id
    queue.finish(record.asset_id)
    assert queue.pending() == 0
    queue.enqueue(record.asset_id)
    queue.enqueue(record.asset_id)
    assert queue.pending() == 1


def test_a_job_failing_too_often_is_parked(assets: AssetStore, queue: ModerationQueue) -> None:
    record, _ = add(assets, "h", "k1")
    for _ in range(2):
        assert queue.claim("w") == record.asset_id
        queue.fail(record.asset_id, "boom", max_attempts=2)
    assert queue.claim("w") is None and queue.pending() == 0


# keys and reports -----------------------------------------------------------------


def test_keys_are_found_by_hash_and_id_and_revoked_once(keys: KeyStore) -> None:
    key = ApiKey("abc123", "ci", frozenset({Scope.UPLOAD}), datetime.now(UTC))
    keys.add(key, hash_key("secret"))
    assert keys.find_by_hash(hash_key("secret")) == key
    assert keys.find_by_id("abc123") == key
    assert keys.find_by_hash(hash_key("other")) is None
    assert [k.key_id for k in keys.list()] == ["abc123"] and keys.count() == 1
    assert keys.revoke("abc123") and not keys.revoke("abc123")
    assert keys.find_by_id("abc123").revoked_at is not None  # type: ignore[union-attr]


def test_a_users_keys_are_listed_apart(keys: KeyStore) -> None:
    now = datetime.now(UTC)
    keys.add(ApiKey("k1", "a", frozenset({Scope.READ}), now, user_id="u1"), hash_key("s1"))
    keys.add(ApiKey("k2", "b", frozenset({Scope.READ}), now, user_id="u2"), hash_key("s2"))
    keys.add(ApiKey("k3", "op", frozenset({Scope.ADMIN}), now), hash_key("s3"))
    assert [k.key_id for k in keys.list_for_user("u1")] == ["k1"]
    assert keys.find_by_id("k2").user_id == "u2"  # type: ignore[union-attr]
    assert keys.list_for_user("nobody") == []


def test_one_report_per_reporter_counted_since_a_time(reports: ReportStore) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    assert reports.add("a1", "r1", "spam")
    assert not reports.add("a1", "r1", "again")
    assert reports.add("a1", "r2", "rude")
    assert reports.count_since("a1", None) == 2
    assert reports.count_since("a1", before) == 2
    assert reports.count_since("a1", datetime.now(UTC) + timedelta(seconds=5)) == 0
    assert sorted(reports.reasons(["a1", "zz"])["a1"]) == ["rude", "spam"]


def test_deleting_an_asset_leaves_tombstones_and_frees_unused_content(
    assets: AssetStore, store_engine: Engine | None, queue: ModerationQueue
) -> None:
    mine, _ = add(assets, "9", "k1")
    theirs, _ = add(assets, "9", "k2")
    code = _add_link(assets, store_engine, mine.asset_id)
    first = assets.delete_asset(mine.asset_id, "k1")
    assert first is not None and first.short_codes == (code,)
    assert not first.content_unused  # the other owner's asset still uses the bytes
    assert assets.get(mine.asset_id) is None and assets.is_gone("asset", mine.asset_id)
    assert assets.is_gone("link", code) and not assets.is_gone("asset", theirs.asset_id)
    assert queue.pending() == 1  # only the other asset's job is left
    last = assets.delete_asset(theirs.asset_id, "admin")
    assert last is not None and last.content_unused
    assert assets.delete_asset(theirs.asset_id, "admin") is None  # twice: nothing to delete
    assert assets.count() == 0


def _add_link(assets: AssetStore, engine: Engine | None, asset_id: str) -> str:
    if engine is None:
        assert isinstance(assets, InMemoryAssetStore)
        assets.link_codes.setdefault(asset_id, set()).add("Code1234")
        return "Code1234"
    from gifdist.sharelinks.links import ShareLinkGenerator
    from gifdist.stores.links_sql import SqlShareLinkStore

    made = ShareLinkGenerator("http://x", store=SqlShareLinkStore(engine)).create_share_link(
        asset_id
    )
    return made["short_code"]


def journal_of(assets: AssetStore, engine: Engine | None) -> DeleteJournal:
    if engine is None:
        assert isinstance(assets, InMemoryAssetStore)
        return InMemoryDeleteJournal(assets)
    return SqlDeleteJournal(engine)


def test_a_delete_leaves_a_pending_entry_until_its_later_steps_are_done(
    assets: AssetStore, store_engine: Engine | None
) -> None:
    journal = journal_of(assets, store_engine)
    shared, _ = add(assets, "a", "k1")
    other, _ = add(assets, "a", "k2")
    assets.delete_asset(shared.asset_id, "k1")
    assets.delete_asset(other.asset_id, "k2")
    sha = shared.sha256
    assert journal.pending() == [
        PendingDelete(shared.asset_id, None),  # the other asset still used the bytes
        PendingDelete(other.asset_id, sha),
    ]
    assert not journal.content_exists(sha)
    journal.finish(shared.asset_id)
    assert [p.asset_id for p in journal.pending()] == [other.asset_id]
    kept, _ = add(assets, "b", "k1")
    assert journal.unreferenced([kept.sha256, sha, sha]) == [sha]


def test_the_same_owner_re_uploading_deleted_bytes_gets_a_new_id(assets: AssetStore) -> None:
    ids = ["reupload1", "reupload2"]
    first, _ = add(assets, "c", "k1", ids=ids)
    assets.delete_asset(first.asset_id, "k1")
    again, created = add(assets, "c", "k1", ids=ids)
    assert created and again.asset_id != first.asset_id
    assert assets.is_gone("asset", first.asset_id) and not assets.is_gone("asset", again.asset_id)
    assert assets.delete_asset(again.asset_id, "k1") is not None  # no clash of tombstones


def test_one_remover_at_a_time_per_content(assets: AssetStore, store_engine: Engine | None) -> None:
    journal = journal_of(assets, store_engine)
    sha = "d" * 64
    assert journal.claim_removal(sha, stale_after=300)
    assert not journal.claim_removal(sha, stale_after=300)
    assert journal.claim_removal("e" * 64, stale_after=300)
    journal.release_removal(sha)
    assert journal.claim_removal(sha, stale_after=300)

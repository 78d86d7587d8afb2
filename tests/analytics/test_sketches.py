"""The aggregates of migration 0009 in SQL: unique visitors as HyperLogLog sketches
(merged across flushes and writers, counted per UTC day, backfilled from raw events)
and the per-asset day and hour tables that windows and series read."""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, insert, select

from gifdist.analytics import AnalyticsTracker, EventType, Platform
from gifdist.analytics.sketches import merged, union_estimate
from gifdist.stores.analytics_redis import RedisVisitorSketches
from gifdist.stores.analytics_sql import SqlAnalyticsStore
from gifdist.stores.database import create_database_engine
from gifdist.stores.migrate import upgrade_database
from gifdist.stores.schema import analytics_events, analytics_rollups, analytics_visitor_sketches

NOON = datetime(2026, 11, 20, 12, tzinfo=UTC)


def events(visitors: range, kind: EventType = EventType.PLAY, at: datetime = NOON) -> list:
    return [
        AnalyticsTracker.make_event("a", kind, Platform.WEB, timestamp=at, visitor=f"v{n}")
        for n in visitors
    ]


def test_a_sketch_merges_what_it_is_given_within_its_error() -> None:
    blob = merged(None, (f"v{n}" for n in range(2000)))
    blob = merged(blob, (f"v{n}" for n in range(1000, 3000)))  # 1,000 seen again
    assert abs(union_estimate([blob]) - 3000) < 3000 * 0.05
    assert round(union_estimate([merged(None, ["x"]), merged(None, ["x", "y"])])) == 2


@pytest.fixture(params=["sql", "redis"])
def sketched(request: pytest.FixtureRequest, engine: Engine) -> Iterator[SqlAnalyticsStore]:
    """An analytics store keeping its sketches in the database, or in Redis."""
    if request.param == "sql":
        yield SqlAnalyticsStore(engine)
        return
    redis = RedisVisitorSketches(
        request.getfixturevalue("redis_url"), prefix=f"test:uv:{uuid.uuid4().hex[:8]}"
    )
    try:
        yield SqlAnalyticsStore(engine, redis_sketches=redis)
    finally:
        redis.clear()


def test_flushes_merge_into_one_sketch_and_each_visitor_counts_once(
    sketched: SqlAnalyticsStore,
) -> None:
    store = sketched
    store.record(events(range(0, 600)))
    store.record(events(range(300, 900)))  # half of them again, in a later flush
    store.record(events(range(0, 100), EventType.VIEW))
    assert abs(store.unique_visitors(asset_id="a") - 900) < 900 * 0.05
    counts = store.unique_counts(asset_id="a")
    assert abs(counts["play"] - 900) < 900 * 0.05 and counts["view"] == 100
    assert store.unique_visitors(asset_id="b") == 0


def test_visitors_count_once_per_day(sketched: SqlAnalyticsStore) -> None:
    store = sketched
    store.record(events(range(10)))
    store.record(events(range(10), at=NOON + timedelta(days=1)))
    assert store.unique_visitors(asset_id="a") == 20  # ids are salted per day
    assert store.unique_visitors(asset_id="a", start=NOON + timedelta(hours=13)) == 10


def test_a_links_uniques_and_an_erase_reach_the_sketches(sketched: SqlAnalyticsStore) -> None:
    def linked(code: str, asset: str, visitors: range) -> list:
        return [
            AnalyticsTracker.make_event(
                asset, EventType.CLICK, Platform.SLACK, code, timestamp=NOON, visitor=f"v{n}"
            )
            for n in visitors
        ]

    sketched.record(linked("Ab12Cd34", "a", range(30)) + linked("Zz99Yy88", "b", range(5)))
    assert sketched.unique_counts(short_code="Ab12Cd34") == {"click": 30}
    assert sketched.unique_visitors(asset_ids=["a", "b"]) == 30  # v0..v4 saw both: once
    assert sketched.unique_visitors() == 30
    sketched.clear("a")
    assert sketched.unique_counts(short_code="Ab12Cd34") == {}
    assert sketched.unique_visitors(asset_id="a") == 0
    assert sketched.unique_visitors(asset_id="b") == 5


def test_two_writers_lose_no_visitors(engine: Engine, sketched: SqlAnalyticsStore) -> None:
    errors: list[BaseException] = []

    def write(offset: int) -> None:
        store = SqlAnalyticsStore(engine, redis_sketches=sketched.redis_sketches)
        try:
            for start in range(0, 400, 40):
                store.record(events(range(offset + start, offset + start + 40)))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n * 10_000,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert abs(sketched.unique_visitors(asset_id="a") - 800) < 800 * 0.05


def test_a_second_writer_of_a_sketch_waits_for_the_first_then_merges_into_it(
    engine: Engine,
) -> None:
    """Sketches take no lock of their own: the (asset, event type) totals row the first
    writer upserted holds the second until the first commits, which then reads the
    first one's sketch and adds to it."""
    first, second = SqlAnalyticsStore(engine), SqlAnalyticsStore(engine)
    done = threading.Event()

    def write_second() -> None:  # another hour and platform: only the totals row is shared
        second.record(
            [
                AnalyticsTracker.make_event(
                    "a",
                    EventType.PLAY,
                    Platform.SLACK,
                    timestamp=NOON + timedelta(hours=1),
                    visitor=f"v{n}",
                )
                for n in range(1000, 1300)
            ]
        )
        done.set()

    with engine.begin() as conn:
        first._write(conn, events(range(0, 300)))  # the first flush, not yet committed
        thread = threading.Thread(target=write_second)
        thread.start()
        assert not done.wait(0.5)  # held at the totals row (SQLite: at the write lock)
    thread.join(30)
    assert done.is_set()
    assert abs(first.unique_visitors(asset_id="a") - 600) < 600 * 0.05


def test_migration_0009_builds_sketches_from_kept_raw_events(database_url: str) -> None:
    engine = create_database_engine(database_url)
    try:
        upgrade_database(engine, "0008")
        rows = [
            {
                "event_id": f"e{n}",
                "ts_ms": int((NOON + timedelta(days=n % 2)).timestamp() * 1000),
                "asset_id": "a",
                "short_code": None,
                "platform": "web",
                "event_type": "view",
                "audience": "person" if n < 50 else "crawler",
                "visitor": f"v{n % 20}",
                "metadata": None,
            }
            for n in range(60)
        ]
        rollups = [
            {
                "hour": int(NOON.timestamp()) // 3600 + h,
                "asset_id": "a",
                "short_code": code,
                "platform": "web",
                "event_type": "view",
                "audience": "person",
                "count": 5,
            }
            for h in (0, 1, 30)
            for code in ("", "Ab12Cd34")
        ]
        with engine.begin() as conn:
            conn.execute(insert(analytics_events), rows)
            conn.execute(insert(analytics_rollups), rollups)
        upgrade_database(engine)
        store = SqlAnalyticsStore(engine)
        assert store.counts(asset_id="a") == Counter({("web", "view"): 30})
        assert store.counts(asset_id="a", start=NOON + timedelta(hours=2)) == Counter(
            {("web", "view"): 10}
        )
        series = store.series(asset_id="a", start=NOON, end=NOON + timedelta(days=2))
        assert [row["views"] for row in series] == [10, 10, 10]
        # people: v0..v19 on both days (n % 2 picks the day: 10 of each parity per day)
        assert store.unique_visitors(asset_id="a") == 20
        assert store.unique_counts(asset_id="a") == {"view": 20}
    finally:
        engine.dispose()


def test_migration_0018_merges_each_links_visitors_into_its_assets_sketch(
    database_url: str,
) -> None:
    engine = create_database_engine(database_url)
    day = int(NOON.timestamp() * 1000) // 86_400_000
    old = [  # before 0018: the asset's own sketch held only the visitors without a link
        (day, "a", "", "view", "person", range(0, 50)),
        (day, "a", "Ab12Cd34", "view", "person", range(40, 100)),  # 10 seen both ways
        (day, "a", "Zz99Yy88", "play", "bot", range(500, 505)),  # no own sketch yet
        (day + 1, "a", "Ab12Cd34", "view", "person", range(0, 7)),
        (day, "b", "", "view", "person", range(0, 3)),
    ]
    try:
        upgrade_database(engine, "0009")
        with engine.begin() as conn:
            conn.execute(
                insert(analytics_visitor_sketches),
                [
                    dict(
                        day=d,
                        asset_id=a,
                        short_code=c,
                        event_type=t,
                        audience=au,
                        sketch=merged(None, (f"v{n}" for n in found)),
                    )
                    for d, a, c, t, au, found in old
                ],
            )
        upgrade_database(engine)
        store = SqlAnalyticsStore(engine)
        assert store.unique_visitors(asset_id="a") == 100 + 7  # people only, per day
        assert store.unique_counts(asset_id="a") == {"view": 107, "play": 5}
        assert store.unique_counts(short_code="Ab12Cd34") == {"view": 67}
        assert store.unique_visitors(asset_id="b") == 3
        with engine.connect() as conn:
            rows = conn.execute(select(func.count()).select_from(analytics_visitor_sketches))
            assert rows.scalar() == 3 + 4  # the links' three kept; two asset sketches new
    finally:
        engine.dispose()


def _rollup_counts(engine: Engine, asset: str, low: int, high: int) -> Counter[tuple[str, str]]:
    r = analytics_rollups.c
    query = (
        select(r.platform, r.event_type, func.sum(r.count))
        .where(r.asset_id == asset, r.hour >= low, r.hour <= high)
        .where(r.audience.in_(["person", "bot"]))
        .group_by(r.platform, r.event_type)
    )
    with engine.connect() as conn:
        return Counter({(p, t): int(n) for p, t, n in conn.execute(query)})


def test_windows_read_whole_days_and_edge_hours_like_the_rollups(engine: Engine) -> None:
    rng = random.Random(3)
    store = SqlAnalyticsStore(engine)
    start = datetime(2026, 11, 10, tzinfo=UTC)
    batch = [
        AnalyticsTracker.make_event(
            rng.choice(["a", "b"]),
            rng.choice([EventType.VIEW, EventType.PLAY, EventType.CLICK]),
            rng.choice(list(Platform)),
            rng.choice([None, "Ab12Cd34"]),
            timestamp=start + timedelta(minutes=rng.randint(0, 6 * 24 * 60)),
            audience=rng.choice(["person", "person", "bot", "crawler"]),
        )
        for _ in range(3000)
    ]
    store.record(batch[:1500])
    store.record(batch[1500:])
    first_hour = int(start.timestamp()) // 3600
    for _ in range(25):
        low = first_hour + rng.randint(-5, 6 * 24)
        high = low + rng.randint(0, 4 * 24)
        window = {
            "start": datetime.fromtimestamp(low * 3600 + rng.randint(0, 3599), UTC),
            "end": datetime.fromtimestamp(high * 3600 + rng.randint(0, 3599), UTC),
        }
        assert store.counts(asset_id="a", **window) == _rollup_counts(engine, "a", low, high)
        series = store.series(asset_id="a", interval="hour", **window)
        assert sum(int(row["views"]) for row in series) == sum(  # type: ignore[call-overload]
            n for (_p, kind), n in _rollup_counts(engine, "a", low, high).items() if kind == "view"
        )
    everything = store.audiences(asset_ids=["a", "b"])
    assert sum(everything.values()) == 3000 and set(everything) == {"person", "bot", "crawler"}
    assert store.counts() == _rollup_counts(engine, "a", 0, 10**9) + _rollup_counts(
        engine, "b", 0, 10**9
    )

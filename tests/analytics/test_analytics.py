"""gifdist.analytics: the seed API, the in-memory and SQL stores, write-behind ingestion."""

from __future__ import annotations

import dataclasses
import random
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError

from gifdist.analytics import (
    AnalyticsEvent,
    AnalyticsTracker,
    EventType,
    InMemoryAnalyticsStore,
    Platform,
)
from gifdist.analytics.beacons import parse_beacon
from gifdist.analytics.buffer import EventBuffer, RetentionTask
from gifdist.analytics.reports import StatsReporter, make_window, series_csv
from gifdist.errors import InvalidInput, PayloadTooLarge
from gifdist.sharelinks import ShareLinkGenerator
from gifdist.stores.analytics_sql import SqlAnalyticsStore
from gifdist.stores.schema import analytics_events, analytics_rollups

# --- the seed README's examples -------------------------------------------------------


def test_seed_example_share_links_and_analytics() -> None:
    generator = ShareLinkGenerator(base_url="https://gifdist.io")
    tracker = AnalyticsTracker()
    link_info = generator.create_share_link(asset_id="abc123def456", title="Funny Cat GIF")
    tracker.track_event(
        asset_id="abc123def456",
        event_type=EventType.VIEW,
        platform=Platform.SLACK,
        short_code=link_info["short_code"],
    )
    short_link_metrics = tracker.get_short_link_metrics(link_info["short_code"])
    assert short_link_metrics["views"] == 1
    assert short_link_metrics["short_code"] == link_info["short_code"]


def test_seed_example_analytics_tracking() -> None:
    tracker = AnalyticsTracker()
    tracker.track_event(
        asset_id="abc123def456",
        event_type=EventType.VIEW,
        platform=Platform.SLACK,
        short_code="Ab12Cd34",
    )
    tracker.track_event(
        asset_id="abc123def456",
        event_type=EventType.PLAY,
        platform=Platform.SLACK,
        short_code="Ab12Cd34",
    )
    metrics = tracker.get_asset_metrics("abc123def456")
    assert (metrics["views"], metrics["plays"], metrics["clicks"]) == (1, 1, 0)
    assert metrics["ctr"] == 0.0
    assert metrics["play_rate"] == 100.0
    assert metrics["total_events"] == 2
    platform_metrics = tracker.get_platform_metrics("abc123def456")
    assert platform_metrics["slack"] == {
        "views": 1,
        "plays": 1,
        "clicks": 0,
        "ctr": 0.0,
        "play_rate": 100.0,
    }
    assert set(platform_metrics) == {"slack"}  # only platforms that have events
    top_assets = tracker.get_top_assets(metric="ctr", limit=5)
    assert [a["asset_id"] for a in top_assets] == ["abc123def456"]
    short_link_metrics = tracker.get_short_link_metrics("Ab12Cd34")
    assert short_link_metrics["views"] == 1
    assert short_link_metrics["ctr"] == 0.0


# --- tracker semantics ------------------------------------------------------------------


def test_enum_values_are_the_lower_case_names() -> None:
    # The seed's three, then the share a GIF client reports (Tenor's registershare).
    assert [e.value for e in EventType] == ["view", "play", "click", "share"]
    assert [p.value for p in Platform] == [
        "web",
        "slack",
        "discord",
        "teams",
        "twitter",
        "facebook",
        "other",
    ]


def test_ctr_and_play_rate_are_percentages_rounded_to_two_places() -> None:
    tracker = AnalyticsTracker()
    for _ in range(3):
        tracker.track_event("a1", EventType.VIEW)
    tracker.track_event("a1", EventType.CLICK)
    tracker.track_event("a1", EventType.PLAY)
    tracker.track_event("a1", EventType.PLAY)
    metrics = tracker.get_asset_metrics("a1")
    assert metrics["ctr"] == 33.33
    assert metrics["play_rate"] == 66.67
    assert tracker.get_asset_metrics("never-seen")["ctr"] == 0.0
    # clicks without views: no division by zero, CTR stays 0.0
    tracker.track_event("a2", EventType.CLICK)
    assert tracker.get_asset_metrics("a2") == {
        "asset_id": "a2",
        "views": 0,
        "plays": 0,
        "clicks": 1,
        "ctr": 0.0,
        "play_rate": 0.0,
        "total_events": 1,
    }


def test_track_event_returns_the_record_and_copies_metadata() -> None:
    tracker = AnalyticsTracker()
    meta = {"campaign": "launch"}
    record = tracker.track_event("a1", EventType.CLICK, Platform.DISCORD, "Ab12Cd34", meta)
    meta["campaign"] = "changed"
    assert record["asset_id"] == "a1"
    assert record["event_type"] == "click"
    assert record["platform"] == "discord"
    assert record["short_code"] == "Ab12Cd34"
    assert record["metadata"] == {"campaign": "launch"}
    stored = tracker.get_events_by_timeframe("a1")
    assert stored[0]["metadata"] == {"campaign": "launch"}
    assert datetime.fromisoformat(stored[0]["timestamp"]).tzinfo is not None


@pytest.mark.parametrize(
    ("call", "error", "text"),
    [
        (lambda t: t.track_event("a", "view"), TypeError, "EventType"),
        (lambda t: t.track_event("a", EventType.VIEW, "slack"), TypeError, "Platform"),
        (lambda t: t.track_event("", EventType.VIEW), ValueError, "asset_id"),
        (lambda t: t.track_event("a", EventType.VIEW, metadata=[1]), TypeError, "metadata"),
        (lambda t: t.get_top_assets(metric="shares"), ValueError, "unknown metric"),
        (lambda t: t.get_top_assets(limit=-1), ValueError, "limit"),
        (lambda t: t.get_top_assets(limit=True), ValueError, "limit"),
        (lambda t: t.get_top_assets(limit="3"), ValueError, "limit"),
    ],
)
def test_invalid_arguments_raise_clear_errors(call, error, text) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=text):
        call(AnalyticsTracker())


def test_top_assets_by_each_metric_and_limit() -> None:
    tracker = AnalyticsTracker()
    plan = {"a": (10, 1, 5), "b": (4, 2, 4), "c": (1, 1, 0)}  # views, clicks, plays
    for asset, (views, clicks, plays) in plan.items():
        for kind, n in (
            (EventType.VIEW, views),
            (EventType.CLICK, clicks),
            (EventType.PLAY, plays),
        ):
            for _ in range(n):
                tracker.track_event(asset, kind)
    assert [a["asset_id"] for a in tracker.get_top_assets("views")] == ["a", "b", "c"]
    assert [a["asset_id"] for a in tracker.get_top_assets("ctr")] == ["c", "b", "a"]
    assert [a["asset_id"] for a in tracker.get_top_assets("play_rate")] == ["b", "a", "c"]
    assert [a["asset_id"] for a in tracker.get_top_assets("clicks", limit=1)] == ["b"]
    assert tracker.get_top_assets("plays", limit=0) == []


def test_link_preview_bots_count_as_views_and_crawlers_never() -> None:
    tracker = AnalyticsTracker()
    tracker.track_event("a", EventType.VIEW, Platform.SLACK, audience="bot")
    tracker.track_event("a", EventType.VIEW, Platform.OTHER, audience="crawler")
    tracker.track_event("a", EventType.VIEW, Platform.WEB, audience="orphan")
    metrics = tracker.get_asset_metrics("a")
    assert metrics["views"] == 1
    assert tracker.get_platform_metrics("a")["slack"]["views"] == 1
    assert len(tracker.get_events_by_timeframe("a")) == 3  # kept, not counted


def test_events_by_timeframe_and_clear() -> None:
    tracker = AnalyticsTracker()
    base = datetime(2026, 11, 1, 12, tzinfo=UTC)
    for hours in range(5):
        tracker.track_event("a", EventType.VIEW, timestamp=base + timedelta(hours=hours))
    tracker.track_event("b", EventType.VIEW, timestamp=base)
    window = tracker.get_events_by_timeframe(
        "a", base + timedelta(hours=1), "2026-11-01T15:00:00+00:00"
    )
    assert len(window) == 3
    tracker.clear_events("a")
    assert tracker.get_asset_metrics("a")["views"] == 0
    assert tracker.get_asset_metrics("b")["views"] == 1
    tracker.clear_events()
    assert tracker.get_top_assets() == []


def test_in_memory_metrics_come_from_counters_not_a_scan() -> None:
    store = InMemoryAnalyticsStore(max_events=10)
    tracker = AnalyticsTracker(store)
    for _ in range(1000):
        tracker.track_event("a", EventType.VIEW, Platform.TEAMS)
    # only 10 raw events are kept, but the counters saw all 1,000
    assert len(tracker.get_events_by_timeframe("a")) == 10
    assert tracker.get_asset_metrics("a")["views"] == 1000
    assert tracker.get_platform_metrics("a")["teams"]["views"] == 1000


def test_concurrent_tracking_loses_nothing() -> None:
    tracker = AnalyticsTracker()

    def work() -> None:
        for _ in range(2000):
            tracker.track_event("a", EventType.PLAY, Platform.WEB, "Ab12Cd34")

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert tracker.get_asset_metrics("a")["plays"] == 16000
    assert tracker.get_short_link_metrics("Ab12Cd34")["plays"] == 16000


# --- SQL store, on SQLite and PostgreSQL ---------------------------------------------------


def random_events(n: int, seed: int = 3) -> list[AnalyticsEvent]:
    rng = random.Random(seed)
    base = datetime(2026, 11, 20, tzinfo=UTC)
    return [
        AnalyticsTracker.make_event(
            f"asset{rng.randrange(5)}",
            rng.choice(list(EventType)),
            rng.choice(list(Platform)),
            rng.choice([None, "Ab12Cd34", "Zz99Yy88"]),
            timestamp=base + timedelta(minutes=rng.randrange(60 * 72)),
            audience=rng.choice(["person", "person", "bot", "crawler"]),
        )
        for _ in range(n)
    ]


def test_sql_store_answers_like_the_in_memory_store(engine: Engine) -> None:
    events = random_events(3000)
    memory = AnalyticsTracker()
    sql = AnalyticsTracker(SqlAnalyticsStore(engine, raw_events=True))
    memory.store.record(events)
    for start in range(0, len(events), 700):  # several batches hit the same rollup rows
        sql.store.record(events[start : start + 700])
    for asset in ("asset0", "asset3", "missing"):
        assert sql.get_asset_metrics(asset) == memory.get_asset_metrics(asset)
        assert sql.get_platform_metrics(asset) == memory.get_platform_metrics(asset)
    assert sql.get_short_link_metrics("Ab12Cd34") == memory.get_short_link_metrics("Ab12Cd34")
    for metric in ("views", "ctr", "play_rate"):
        assert sql.get_top_assets(metric, 3) == memory.get_top_assets(metric, 3)
    assert len(sql.get_events_by_timeframe("asset1")) == len(
        memory.get_events_by_timeframe("asset1")
    )
    with engine.connect() as conn:
        rollup_rows = conn.execute(select(func.count()).select_from(analytics_rollups)).scalar()
    assert rollup_rows < len(events)  # queries read the rollups, not the raw events


def test_sql_store_time_windows_series_and_clear(engine: Engine) -> None:
    store = SqlAnalyticsStore(engine)
    tracker = AnalyticsTracker(store)
    base = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
    for hours, kind in [(0, EventType.VIEW), (0, EventType.CLICK), (1, EventType.VIEW)]:
        tracker.track_event("a", kind, Platform.SLACK, timestamp=base + timedelta(hours=hours))
    tracker.track_event("a", EventType.VIEW, timestamp=base + timedelta(days=2))
    tracker.track_event("b", EventType.VIEW, timestamp=base)
    counts = store.counts(asset_id="a", start=base, end=base + timedelta(hours=1))
    assert counts == Counter({("slack", "view"): 2, ("slack", "click"): 1})
    series = store.series(asset_id="a", start=base, end=base + timedelta(days=3), interval="day")
    assert series == [
        {"t": "2026-11-20T00:00:00+00:00", "views": 2, "plays": 0, "clicks": 1},
        {"t": "2026-11-22T00:00:00+00:00", "views": 1, "plays": 0, "clicks": 0},
    ]
    assert store.asset_totals(start=base + timedelta(days=1)) == {"a": Counter(view=1)}
    tracker.clear_events("a")
    assert tracker.get_asset_metrics("a")["views"] == 0
    assert tracker.get_asset_metrics("b")["views"] == 1


def test_retention_removes_old_raw_events_but_keeps_rollups(engine: Engine) -> None:
    store = SqlAnalyticsStore(engine, raw_events=True)
    tracker = AnalyticsTracker(store)
    now = datetime.now(UTC)
    tracker.track_event("a", EventType.VIEW, timestamp=now - timedelta(days=100))
    tracker.track_event("a", EventType.VIEW, timestamp=now - timedelta(days=1))
    assert RetentionTask(store, days=90).run_once() == 1
    assert len(tracker.get_events_by_timeframe("a")) == 1
    assert tracker.get_asset_metrics("a")["views"] == 2


def test_stats_report_has_seed_keys_platforms_and_a_zero_filled_series(engine: Engine) -> None:
    store = SqlAnalyticsStore(engine)
    tracker = AnalyticsTracker(store)
    now = datetime(2026, 11, 24, 12, 15, tzinfo=UTC)
    tracker.track_event("a", EventType.VIEW, Platform.DISCORD, timestamp=now - timedelta(hours=3))
    tracker.track_event("a", EventType.VIEW, Platform.WEB, timestamp=now)
    tracker.track_event("a", EventType.CLICK, Platform.DISCORD, timestamp=now)
    window = make_window(None, None, "hour", now=now)
    report = StatsReporter(store).report(window, asset_id="a")
    assert (report["views"], report["clicks"], report["ctr"]) == (2, 1, 50.0)
    assert report["platforms"]["discord"]["ctr"] == 100.0
    assert len(report["series"]) == 49  # two days of hours, both ends included
    assert [r["views"] for r in report["series"][-4:]] == [1, 0, 0, 1]
    csv_text = series_csv(report)
    assert csv_text.splitlines()[0] == "t,views,plays,clicks,ctr,play_rate"
    assert csv_text.splitlines()[-1] == "total,2,0,1,50.0,0.0"


@pytest.mark.parametrize(
    ("start", "end", "interval", "code"),
    [
        ("yesterday", None, None, "bad_time"),
        ("2026-11-24", "2026-11-01", None, "bad_time"),
        (None, None, "week", "bad_interval"),
        ("2020-01-01", "2026-01-01", "hour", "window_too_large"),
    ],
)
def test_stats_windows_are_validated(start, end, interval, code) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput) as info:
        make_window(start, end, interval)
    assert info.value.code == code


# --- write-behind ingestion ------------------------------------------------------------


class FlakyStore(InMemoryAnalyticsStore):
    """Fails the first ``failures`` writes, as a database that is down would."""

    def __init__(self, failures: int) -> None:
        super().__init__(max_events=1_000_000)
        self.failures = failures
        self.calls = 0

    def record(self, events):  # type: ignore[no-untyped-def]
        self.calls += 1
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("database unavailable")
        super().record(events)


def event(n: int = 0) -> AnalyticsEvent:
    return AnalyticsTracker.make_event(f"a{n % 3}", EventType.VIEW, Platform.WEB)


def test_failed_flushes_are_retried_not_dropped() -> None:
    store = FlakyStore(failures=3)
    buffer = EventBuffer(store, batch_size=50, flush_interval=0.01)
    for n in range(500):
        assert buffer.offer(event(n))
    buffer.start()
    buffer.stop()
    assert store.calls > 3
    assert buffer.written == 500 and buffer.dropped == 0
    assert sum(c["view"] for c in store.asset_totals().values()) == 500


def test_events_held_when_the_database_stays_down_survive_a_restart(tmp_path: Path) -> None:
    spill = tmp_path / "spill" / "events-1.jsonl"
    down = FlakyStore(failures=10**9)
    buffer = EventBuffer(down, batch_size=50, spill_path=spill)
    for n in range(120):
        buffer.offer(event(n))
    buffer.stop(timeout=0.3)
    assert buffer.dropped == 0 and buffer.written == 0
    store = InMemoryAnalyticsStore()
    assert EventBuffer(store, spill_path=tmp_path / "spill" / "events-2.jsonl").flush()
    assert sum(c["view"] for c in store.asset_totals().values()) == 120


def test_background_thread_writes_in_batches() -> None:
    store = InMemoryAnalyticsStore()
    buffer = EventBuffer(store, batch_size=100, flush_interval=0.05)
    buffer.start()
    try:
        for n in range(250):
            buffer.offer(event(n))
        deadline = datetime.now(UTC) + timedelta(seconds=5)
        while buffer.written < 250 and datetime.now(UTC) < deadline:
            threading.Event().wait(0.01)
        assert buffer.written == 250
    finally:
        buffer.stop()


def test_a_full_buffer_spills_to_disk_and_loses_nothing(tmp_path: Path) -> None:
    store = FlakyStore(failures=2)
    spill = tmp_path / "spill" / "events-1.jsonl"
    buffer = EventBuffer(store, max_events=10, batch_size=7, spill_path=spill)
    accepted = [buffer.offer(event(n)) for n in range(100)]
    assert all(accepted)
    assert buffer.depth == 10 and buffer.spilled == 90
    assert not buffer.flush()  # database down: nothing lost, nothing written twice
    assert not buffer.flush()
    assert buffer.flush()
    assert not list(spill.parent.glob("*.jsonl"))
    assert sum(c["view"] for c in store.asset_totals().values()) == 100
    assert buffer.dropped == 0


def test_spill_file_left_by_a_previous_process_is_written(tmp_path: Path) -> None:
    spill_dir = tmp_path / "spill"
    first = EventBuffer(
        InMemoryAnalyticsStore(), max_events=1, spill_path=spill_dir / "events-7.jsonl"
    )
    for n in range(5):
        first.offer(event(n))
    store = InMemoryAnalyticsStore()
    second = EventBuffer(store, spill_path=spill_dir / "events-8.jsonl")
    assert second.flush()
    assert sum(c["view"] for c in store.asset_totals().values()) == 4


def test_events_are_dropped_and_counted_only_when_they_cannot_spill() -> None:
    drops: list[int] = []
    buffer = EventBuffer(InMemoryAnalyticsStore(), max_events=5, on_drop=drops.append)
    results = [buffer.offer(event(n)) for n in range(8)]
    assert results == [True] * 5 + [False] * 3
    assert buffer.dropped == 3 and sum(drops) == 3


# --- beacons -------------------------------------------------------------------------------


def test_beacon_parses_a_play_with_a_recent_timestamp() -> None:
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    ts = int((now - timedelta(minutes=5)).timestamp() * 1000)
    beacon = parse_beacon(
        b'{"asset_id": "abc123", "event_type": "play", "platform": "slack", "ts": %d}' % ts,
        now=now,
    )
    assert beacon.event_type is EventType.PLAY
    assert beacon.platform is Platform.SLACK
    assert beacon.timestamp == now - timedelta(minutes=5)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "bad_json"),
        (b"\xff\xfe", "bad_json"),
        (b"[1, 2]", "bad_beacon"),
        (b'{"asset_id": "abc", "event_type": "click"}', "bad_event_type"),
        (b'{"asset_id": "abc", "event_type": 3}', "bad_event_type"),
        (b'{"asset_id": "abc", "event_type": []}', "bad_event_type"),
        (b'{"event_type": "play"}', "bad_beacon"),
        (b'{"asset_id": "../etc", "event_type": "play"}', "bad_beacon"),
        (b'{"short_code": "x", "event_type": "play"}', "bad_beacon"),
        (b'{"asset_id": "abc", "event_type": "play", "platform": "myspace"}', "bad_beacon"),
        (b'{"asset_id": "abc", "event_type": "play", "extra": 1}', "bad_beacon"),
        (b'{"asset_id": "abc", "event_type": "play", "ts": 1}', "bad_timestamp"),
        (b'{"asset_id": "abc", "event_type": "play", "ts": 9e30}', "bad_timestamp"),
        (b'{"asset_id": "abc", "event_type": "play", "ts": "now"}', "bad_timestamp"),
        (b"[" * 100_00 + b"]" * 100_00, None),
    ],
)
def test_malformed_beacons_are_refused_precisely(body: bytes, code: str | None) -> None:
    with pytest.raises((InvalidInput, PayloadTooLarge)) as info:
        parse_beacon(body)
    if code is not None:
        assert info.value.code == code
    else:
        assert info.value.status == 413


def test_far_future_beacon_is_refused() -> None:
    now = datetime.now(UTC)
    ts = int((now + timedelta(hours=1)).timestamp() * 1000)
    with pytest.raises(InvalidInput, match="future"):
        parse_beacon(b'{"asset_id": "abc", "event_type": "play", "ts": %d}' % ts, now=now)


def test_sql_batch_is_one_transaction(engine: Engine) -> None:
    store = SqlAnalyticsStore(engine, raw_events=True)
    good = event()
    duplicate = dataclasses.replace(good)
    with pytest.raises(IntegrityError):  # the same event id twice: the whole batch fails
        store.record([good, duplicate])
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(analytics_events)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(analytics_rollups)).scalar() == 0


# --- the in-memory tracker's counters and top-N orders -----------------------------


def _naive_top(events: list[tuple[str, EventType]], metric: str, limit: int) -> list[str]:
    counts: dict[str, Counter[str]] = {}
    for asset, kind in events:
        counts.setdefault(asset, Counter())[kind.value] += 1

    def value(c: Counter[str]) -> float:
        views, plays, clicks = c["view"], c["play"], c["click"]
        if metric in ("views", "plays", "clicks"):
            return {"views": views, "plays": plays, "clicks": clicks}[metric]
        part = clicks if metric == "ctr" else plays
        return round(part / views * 100, 2) if views else 0.0

    return sorted(counts, key=lambda a: (-value(counts[a]), a))[:limit]


def test_top_assets_follow_every_change_between_calls() -> None:
    rng = random.Random(7)
    tracker = AnalyticsTracker()
    seen: list[tuple[str, EventType]] = []
    kinds = [EventType.VIEW, EventType.VIEW, EventType.PLAY, EventType.CLICK]
    for step in range(40):
        for _ in range(rng.randint(1, 30)):
            asset, kind = f"a{rng.randint(0, 25)}", rng.choice(kinds)
            tracker.track_event(asset, kind, rng.choice(list(Platform)))
            seen.append((asset, kind))
        metric = ("views", "plays", "clicks", "ctr", "play_rate")[step % 5]
        top = tracker.get_top_assets(metric, 7)
        assert [row["asset_id"] for row in top] == _naive_top(seen, metric, 7), metric


def test_top_assets_rows_are_copies_and_forget_a_cleared_asset() -> None:
    tracker = AnalyticsTracker()
    for asset, n in (("a", 3), ("b", 2), ("c", 1)):
        for _ in range(n):
            tracker.track_event(asset, EventType.VIEW)
    top = tracker.get_top_assets("views", 2)
    assert [(r["asset_id"], r["views"]) for r in top] == [("a", 3), ("b", 2)]
    top[0]["views"] = 99
    assert tracker.get_top_assets("views", 1)[0]["views"] == 3
    tracker.clear_events("a")
    assert [r["asset_id"] for r in tracker.get_top_assets("views", 5)] == ["b", "c"]
    tracker.track_event("c", EventType.VIEW)
    tracker.track_event("c", EventType.VIEW)
    assert [r["asset_id"] for r in tracker.get_top_assets("views", 5)] == ["c", "b"]


def test_track_event_returns_the_seed_record_with_a_utc_timestamp() -> None:
    tracker = AnalyticsTracker()
    before = datetime.now(UTC)
    record = tracker.track_event("a", EventType.CLICK, Platform.TEAMS, "Ab12Cd34", {"k": 1})
    after = datetime.now(UTC)
    assert {k: record[k] for k in ("asset_id", "event_type", "platform", "short_code")} == {
        "asset_id": "a",
        "event_type": "click",
        "platform": "teams",
        "short_code": "Ab12Cd34",
    }
    assert record["metadata"] == {"k": 1}
    assert before <= datetime.fromisoformat(record["timestamp"]) <= after
    assert record["timestamp"].endswith("+00:00")
    [kept] = tracker.get_events_by_timeframe("a")
    assert kept["timestamp"] == record["timestamp"] and kept["event_id"] == record["event_id"]
    record["metadata"]["k"] = 2  # the caller's copy, not the tracker's
    assert tracker.get_events_by_timeframe("a")[0]["metadata"] == {"k": 1}


def test_a_links_asset_is_the_one_of_its_earliest_hour() -> None:
    tracker = AnalyticsTracker()
    now = datetime.now(UTC)
    tracker.track_event("later", EventType.VIEW, short_code="Ab12Cd34")
    tracker.track_event(
        "earlier", EventType.VIEW, short_code="Ab12Cd34", timestamp=now - timedelta(hours=3)
    )
    assert tracker.get_short_link_metrics("Ab12Cd34")["asset_id"] == "earlier"
    assert tracker.get_short_link_metrics("Ab12Cd34")["views"] == 2

"""Analytics at scale: ingest and query cost, against naive baselines in the same run.

1. Tracker: N events (1,000 assets, 7 platforms) through ``AnalyticsTracker`` with the
   in-memory store (incremental counters) vs a naive tracker that appends events to a
   list and scans it for every query.
2. SQL: the same events written through the write-behind buffer into SQLite (raw
   events + hourly rollups), then metric queries on the rollups vs the same
   aggregates computed from the raw events table.
3. HTTP: beacons (``POST /api/v1/events``) against a running server with wrk, next to
   ``GET /healthz`` as the baseline of a request that does nothing.

Usage: python bench/analytics.py [--events 1000000] [--seconds 5] [--skip-http]
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from gifdist.analytics import AnalyticsTracker, EventType, InMemoryAnalyticsStore, Platform
from gifdist.analytics.buffer import EventBuffer
from gifdist.stores.analytics_sql import SqlAnalyticsStore
from gifdist.stores.database import create_database_engine
from gifdist.stores.migrate import upgrade_database
from gifdist.stores.schema import analytics_events, analytics_rollups

PLATFORMS = list(Platform)
TYPES = [EventType.VIEW] * 6 + [EventType.PLAY] * 3 + [EventType.CLICK]


class NaiveTracker:
    """The obvious implementation: keep every event, scan them all per query."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def track_event(self, asset_id: str, event_type: EventType, platform: Platform) -> None:
        self.events.append({"asset_id": asset_id, "event_type": event_type, "platform": platform})

    def get_asset_metrics(self, asset_id: str) -> dict[str, Any]:
        mine = [e for e in self.events if e["asset_id"] == asset_id]
        views = sum(e["event_type"] is EventType.VIEW for e in mine)
        clicks = sum(e["event_type"] is EventType.CLICK for e in mine)
        return {"views": views, "ctr": round(clicks / views * 100, 2) if views else 0.0}

    def get_platform_metrics(self, asset_id: str) -> dict[str, Any]:
        out = {}
        for platform in PLATFORMS:
            mine = [
                e for e in self.events if e["asset_id"] == asset_id and e["platform"] is platform
            ]
            out[platform.value] = sum(e["event_type"] is EventType.VIEW for e in mine)
        return out

    def get_top_assets(self, metric: str = "views", limit: int = 10) -> list[str]:
        counts: dict[str, int] = {}
        for e in self.events:
            if e["event_type"] is EventType.VIEW:
                counts[e["asset_id"]] = counts.get(e["asset_id"], 0) + 1
        return sorted(counts, key=lambda a: -counts[a])[:limit]


def workload(n: int, seed: int = 1) -> list[tuple[str, EventType, Platform]]:
    rng = random.Random(seed)
    assets = [f"{i:016x}" for i in range(1000)]
    return [(rng.choice(assets), rng.choice(TYPES), rng.choice(PLATFORMS)) for _ in range(n)]


def timed(fn: Callable[[], Any], repeat: int = 5) -> float:
    """Median milliseconds of ``repeat`` runs."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def row(name: str, ours: float, theirs: float, unit: str, higher_is_better: bool) -> None:
    ratio = ours / theirs if higher_is_better else theirs / ours
    print(f"  {name:<28} {ours:>12,.2f} {theirs:>12,.2f} {unit:<9} {ratio:>8.1f}x")


def bench_tracker(events: list[tuple[str, EventType, Platform]]) -> None:
    tracker, naive = AnalyticsTracker(InMemoryAnalyticsStore(max_events=100_000)), NaiveTracker()
    start = time.perf_counter()
    for asset, kind, platform in events:
        tracker.track_event(asset, kind, platform)
    ours_ingest = len(events) / (time.perf_counter() - start)
    start = time.perf_counter()
    for asset, kind, platform in events:
        naive.track_event(asset, kind, platform)
    naive_ingest = len(events) / (time.perf_counter() - start)
    probe = events[0][0]
    assert tracker.get_asset_metrics(probe)["views"] == naive.get_asset_metrics(probe)["views"]
    print(f"\n1. tracker, {len(events):,} events            gifdist        naive")
    row("ingest", ours_ingest, naive_ingest, "events/s", True)
    row(
        "get_asset_metrics",
        timed(lambda: tracker.get_asset_metrics(probe)),
        timed(lambda: naive.get_asset_metrics(probe), 3),
        "ms",
        False,
    )
    row(
        "get_platform_metrics",
        timed(lambda: tracker.get_platform_metrics(probe)),
        timed(lambda: naive.get_platform_metrics(probe), 1),
        "ms",
        False,
    )
    row(
        "get_top_assets(views)",
        timed(lambda: tracker.get_top_assets("views", 10)),
        timed(lambda: naive.get_top_assets("views", 10), 3),
        "ms",
        False,
    )
    print("  (ingest: the naive list append does less work per event; gifdist validates,")
    print("   timestamps and updates counters so that every query is O(1) in the event count)")


def bench_sql(
    events: list[tuple[str, EventType, Platform]], workdir: Path, database_url: str | None
) -> None:
    engine = create_database_engine(database_url or f"sqlite:///{workdir / 'bench.db'}")
    upgrade_database(engine)
    if database_url:
        AnalyticsTracker(SqlAnalyticsStore(engine)).clear_events()
    store = SqlAnalyticsStore(engine)
    buffer = EventBuffer(store, max_events=len(events) + 1, batch_size=1000)
    # A launch day: the events arrive over six hours, so hourly rollups compress them.
    base = datetime.now(UTC) - timedelta(hours=6)
    step = timedelta(hours=6) / len(events)
    made = [
        AnalyticsTracker.make_event(a, k, p, timestamp=base + step * i)
        for i, (a, k, p) in enumerate(events)
    ]
    start = time.perf_counter()
    for event in made:
        buffer.offer(event)
    offer_rate = len(made) / (time.perf_counter() - start)
    start = time.perf_counter()
    assert buffer.flush()
    write_rate = len(made) / (time.perf_counter() - start)
    tracker = AnalyticsTracker(store)
    probe = events[0][0]
    e = analytics_events.c

    def raw_asset() -> None:
        with engine.connect() as conn:
            conn.execute(
                select(e.platform, e.event_type, func.count())
                .where(e.asset_id == probe, e.audience.in_(["person", "bot"]))
                .group_by(e.platform, e.event_type)
            ).all()

    def raw_top() -> None:
        with engine.connect() as conn:
            conn.execute(
                select(e.asset_id, func.count())
                .where(e.event_type == "view")
                .group_by(e.asset_id)
                .order_by(func.count().desc())
                .limit(10)
            ).all()

    with engine.connect() as conn:
        rollup_rows = conn.execute(select(func.count()).select_from(analytics_rollups)).scalar()
    kind = engine.dialect.name
    print(
        f"\n2. {kind}, {len(events):,} events ({rollup_rows:,} rollup rows)   rollups    raw table"
    )
    print(f"  offer (request path)         {offer_rate:>12,.0f} events/s")
    print(f"  batched write (1,000/txn)    {write_rate:>12,.0f} events/s")
    row(
        "asset metrics",
        timed(lambda: tracker.get_platform_metrics(probe)),
        timed(raw_asset),
        "ms",
        False,
    )
    row(
        "top 10 assets",
        timed(lambda: tracker.get_top_assets("views", 10)),
        timed(raw_top, 3),
        "ms",
        False,
    )
    engine.dispose()


LUA = """
counter = 0
request = function()
  counter = counter + 1
  local body = '{"asset_id":"%s","event_type":"play"}'
  return wrk.format("POST", "/api/v1/events",
    {["Content-Type"] = "text/plain", ["User-Agent"] = "Mozilla/5.0 bench/%s/" .. counter}, body)
end
"""


def _beacon_run(base: str, asset_id: str, workdir: Path, seconds: int) -> tuple[int, float]:
    """wrk posting beacons, each from a new visitor (so each is counted, none deduplicated)."""
    import uuid

    from _harness import pinned

    script = workdir / "beacon.lua"
    script.write_text(LUA % (asset_id, uuid.uuid4().hex))

    out = subprocess.run(
        pinned(1, ["wrk", "-t1", "-c32", f"-d{seconds}s", "-s", str(script), f"{base}/"]),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"beacons answered errors:\n{out}")
    sent = int(out.split(" requests in ")[0].split()[-1])
    rate = float(out.split("Requests/sec:")[1].split()[0])
    return sent, rate


def bench_http(beacons: int, seconds: int, workdir: Path) -> None:
    """About ``beacons`` beacons (one visitor each, so each is a counted play) through
    one worker, then a graceful stop, then the stored events are counted."""
    from _harness import gifdist_server, make_gif_of_size, wrk

    if not shutil.which("wrk"):
        print("\n3. HTTP beacons: skipped (wrk is not installed)")
        return
    with gifdist_server("granian") as gd:
        asset_id = gd.upload(make_gif_of_size(5_000))["asset_id"]
        health = wrk(f"{gd.base}/healthz", seconds=seconds)
        warm_sent, warm_rate = _beacon_run(gd.base, asset_id, workdir, 2)
        sent, rate = _beacon_run(gd.base, asset_id, workdir, max(1, round(beacons / warm_rate)))
        sent += warm_sent
        gd.stop()
        engine = create_database_engine(f"sqlite:///{gd.data_dir / 'gifdist.db'}")
        with engine.connect() as conn:
            stored = conn.execute(select(func.count()).select_from(analytics_events)).scalar()
        engine.dispose()
    print("\n3. HTTP, one granian worker, wrk -c32      beacons     /healthz")
    row("requests", rate, health.requests_per_s, "req/s", True)
    print(f"  {sent:,} beacons acknowledged; {stored:,} events stored after a graceful stop")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument(
        "--beacons", type=int, default=None, help="beacons sent over HTTP (default: --events)"
    )
    parser.add_argument(
        "--database-url",
        help="e.g. postgresql://postgres@127.0.0.1/test (its analytics are cleared)",
    )
    args = parser.parse_args()
    events = workload(args.events)
    workdir = Path(tempfile.mkdtemp(prefix="gifdist-bench-analytics-"))
    try:
        print("analytics benchmark (ratio > 1: gifdist is better)")
        bench_tracker(events)
        bench_sql(events, workdir, args.database_url)
        if not args.skip_http:
            bench_http(args.beacons or args.events, args.seconds, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

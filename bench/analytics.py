"""Analytics at scale: ingest and query cost, against naive baselines in the same run.

1. Tracker: 200k events (1,000 assets, 7 platforms, 3,000 links) through the library's
   ``AnalyticsTracker`` vs the seed's algorithm (a dict per event in a list, every query
   a scan), ingest and each query as a ratio.
2. Ingest: events through the write-behind buffer into SQLite (and each
   ``--database-url``): deltas only (the default) vs a raw row per event plus rollups.
3. Stats: the aggregates 10M events would leave; p50/p95 of the stats reports.
4. HTTP: beacons (``POST /api/v1/events``) against a running server with wrk, next to
   ``GET /healthz`` as the baseline of a request that does nothing.

Usage: python bench/analytics.py [--events 300000] [--database-url URL] [--skip-http]
"""

from __future__ import annotations

import argparse
import gc
import random
import shutil
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from gifdist.analytics import AnalyticsTracker, EventType, Platform
from gifdist.analytics.buffer import EventBuffer
from gifdist.stores.analytics_sql import SqlAnalyticsStore
from gifdist.stores.database import create_database_engine
from gifdist.stores.migrate import upgrade_database
from gifdist.stores.schema import analytics_rollups

PLATFORMS = list(Platform)
TYPES = [EventType.VIEW] * 6 + [EventType.PLAY] * 3 + [EventType.CLICK]


class SeedTracker:
    """The seed library's tracker, as its code does it: every event a dict (with an ISO
    timestamp) appended to a list, a per-asset metrics cache dropped on each new event
    of that asset, and every query a scan of the list."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.cache: dict[str, dict[str, Any]] = {}

    def track_event(
        self,
        asset_id: str,
        event_type: EventType,
        platform: Platform = Platform.WEB,
        short_code: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        record = {
            "asset_id": asset_id,
            "event_type": event_type.value,
            "platform": platform.value,
            "short_code": short_code,
            "timestamp": datetime.now(UTC).isoformat(),
            "metadata": metadata or {},
        }
        self.events.append(record)
        if asset_id in self.cache:
            del self.cache[asset_id]
        return record

    @staticmethod
    def _metrics(events: list[dict[str, Any]]) -> dict[str, Any]:
        views = sum(1 for e in events if e["event_type"] == "view")
        plays = sum(1 for e in events if e["event_type"] == "play")
        clicks = sum(1 for e in events if e["event_type"] == "click")
        return {
            "views": views,
            "plays": plays,
            "clicks": clicks,
            "ctr": round(clicks / views * 100, 2) if views else 0.0,
            "play_rate": round(plays / views * 100, 2) if views else 0.0,
            "total_events": len(events),
        }

    def get_asset_metrics(self, asset_id: str) -> dict[str, Any]:
        if asset_id not in self.cache:
            mine = [e for e in self.events if e["asset_id"] == asset_id]
            self.cache[asset_id] = {"asset_id": asset_id, **self._metrics(mine)}
        return self.cache[asset_id]

    def get_platform_metrics(self, asset_id: str) -> dict[str, Any]:
        mine = [e for e in self.events if e["asset_id"] == asset_id]
        grouped: dict[str, list[dict[str, Any]]] = {}
        for e in mine:
            grouped.setdefault(e["platform"], []).append(e)
        return {p: self._metrics(found) for p, found in grouped.items()}

    def get_short_link_metrics(self, short_code: str) -> dict[str, Any]:
        mine = [e for e in self.events if e.get("short_code") == short_code]
        return {"short_code": short_code, **self._metrics(mine)}

    def get_top_assets(self, metric: str = "views", limit: int = 10) -> list[dict[str, Any]]:
        assets = {e["asset_id"] for e in self.events}
        rows = [self.get_asset_metrics(a) for a in assets]
        return sorted(rows, key=lambda r: r.get(metric, 0), reverse=True)[:limit]


def workload(n: int, seed: int = 1) -> list[tuple[str, EventType, Platform, str | None]]:
    """``n`` events over 1,000 assets and 7 platforms; one in four through one of 3,000 links."""
    rng = random.Random(seed)
    assets = [f"{i:016x}" for i in range(1000)]
    codes = [f"L{i:07d}" for i in range(3000)]
    return [
        (
            rng.choice(assets),
            rng.choice(TYPES),
            rng.choice(PLATFORMS),
            rng.choice(codes) if rng.random() < 0.25 else None,
        )
        for _ in range(n)
    ]


def popular_workload(n: int, seed: int = 2) -> list[tuple[str, EventType, Platform, str | None]]:
    """``n`` events as traffic tends to be: 1,000 assets by Zipf popularity, platforms
    by share (web 40 %, slack 20 %, …), one link per asset used by 30 % of events."""
    rng = random.Random(seed)
    assets = [f"{i:016x}" for i in range(1000)]
    weights = [1 / (r + 1) for r in range(1000)]
    shares = [40, 20, 15, 10, 8, 5, 2]
    return [
        (asset, rng.choice(TYPES), platform, f"L{asset[-7:]}" if rng.random() < 0.3 else None)
        for asset, platform in zip(
            rng.choices(assets, weights, k=n), rng.choices(PLATFORMS, shares, k=n), strict=True
        )
    ]


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


def _query_ms(
    tracker: Any, event: tuple[str, EventType, Platform, str | None], query: Callable[[], Any]
) -> float:
    """Median ms of ``query`` right after one more event (so no answer is cached), after
    one untimed call (the first top-N of a metric builds its order, once per process)."""
    query()
    samples = []
    for _ in range(9):
        tracker.track_event(*event)
        start = time.perf_counter()
        query()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def bench_tracker(events: list[tuple[str, EventType, Platform, str | None]]) -> None:
    """The library tracker (in-memory store) against the seed's, fed the same events."""
    rates: dict[str, list[float]] = {"ours": [], "seed": []}
    for name in ("seed", "ours") * 3:  # interleaved, each on a fresh tracker
        ours, seed = AnalyticsTracker(), SeedTracker()
        gc.collect()
        track = ours.track_event if name == "ours" else seed.track_event
        start = time.perf_counter()
        for asset, kind, platform, code in events:
            track(asset, kind, platform, code)
        rates[name].append(len(events) / (time.perf_counter() - start))
    ours, seed = AnalyticsTracker(), SeedTracker()
    for asset, kind, platform, code in events:
        ours.track_event(asset, kind, platform, code)
        seed.track_event(asset, kind, platform, code)
    probe, code = events[0][0], next(e[3] for e in events if e[3])
    assert ours.get_asset_metrics(probe)["views"] == seed.get_asset_metrics(probe)["views"]
    assert (
        ours.get_short_link_metrics(code)["clicks"] == seed.get_short_link_metrics(code)["clicks"]
    )
    seed_top = [r["views"] for r in seed.get_top_assets("views", 10)]
    assert [r["views"] for r in ours.get_top_assets("views", 10)] == seed_top
    print(f"\n1. tracker, {len(events):,} events            gifdist         seed")
    ours_rate, seed_rate = statistics.median(rates["ours"]), statistics.median(rates["seed"])
    row("ingest (median of 3)", ours_rate, seed_rate, "events/s", True)
    one = (probe, EventType.VIEW, Platform.SLACK, code)
    queries: list[tuple[str, Callable[[Any], Any]]] = [
        ("get_asset_metrics", lambda t: t.get_asset_metrics(probe)),
        ("get_platform_metrics", lambda t: t.get_platform_metrics(probe)),
        ("get_short_link_metrics", lambda t: t.get_short_link_metrics(code)),
        ("get_top_assets(views, 10)", lambda t: t.get_top_assets("views", 10)),
        ("get_top_assets(ctr, 10)", lambda t: t.get_top_assets("ctr", 10)),
    ]
    for name, query in queries:
        row(
            name,
            _query_ms(ours, one, lambda q=query: q(ours)),  # type: ignore[misc]
            _query_ms(seed, one, lambda q=query: q(seed)),  # type: ignore[misc]
            "ms",
            False,
        )
    print("  (each query timed right after one more event of the probed asset, as in live")
    print("   traffic: the seed's cache of that asset is dropped, ours has nothing to drop;")
    print("   median of 9, after one untimed call of each)")


def _ingest(store: SqlAnalyticsStore, made: list[Any], batch_size: int) -> tuple[float, float]:
    """(offer events/s, offer + flush events/s) through the write-behind buffer."""
    buffer = EventBuffer(store, max_events=len(made) + 1, batch_size=batch_size)
    start = time.perf_counter()
    for event in made:
        buffer.offer(event)
    offered = time.perf_counter() - start
    assert buffer.flush()
    return len(made) / offered, len(made) / (time.perf_counter() - start)


def bench_ingest(
    events: list[tuple[str, EventType, Platform, str | None]], engine: Any, label: str
) -> None:
    """Events (20,000 visitors) through the buffer into the database, offer to stored:
    deltas only (the default) against a raw row per event plus rollups (the old path)."""
    base = datetime.now(UTC) - timedelta(hours=6)  # a launch day: six hours of events
    step = timedelta(hours=6) / len(events)
    made = [
        AnalyticsTracker.make_event(
            a, k, p, c, timestamp=base + step * i, visitor=f"v{i % 20_000:05d}"
        )
        for i, (a, k, p, c) in enumerate(events)
    ]
    results = {}
    for name, raw, batch in (("raw", True, 1000), ("deltas", False, 50_000)):
        store = SqlAnalyticsStore(engine, raw_events=raw)
        _empty(engine)
        gc.collect()
        results[name] = _ingest(store, made, batch)
    with engine.connect() as conn:
        rollup_rows = conn.execute(select(func.count()).select_from(analytics_rollups)).scalar()
    print(
        f"\n2. ingest into {label}, {len(events):,} events, one thread "
        f"({rollup_rows:,} rollup rows)     deltas   raw+rollups"
    )
    row("offer (request path)", results["deltas"][0], results["raw"][0], "events/s", True)
    row("offer + flush (stored)", results["deltas"][1], results["raw"][1], "events/s", True)


def _empty(engine: Any) -> None:
    """Empty analytics tables, as a new deployment's: PostgreSQL's are truncated, since
    ``clear()`` deletes rows and each run would insert among the last run's dead ones
    (which a real deployment's autovacuum would have reclaimed)."""
    if engine.dialect.name != "postgresql":
        SqlAnalyticsStore(engine).clear()
        return
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "TRUNCATE analytics_events, analytics_rollups, analytics_totals, "
            "analytics_asset_days, analytics_asset_hours, analytics_visitor_sketches"
        )


def _zipf_assets(n_assets: int, total: int) -> list[tuple[str, int]]:
    weights = [1 / (r + 1) for r in range(n_assets)]
    norm = sum(weights)
    return [(f"{r:016x}", round(total * w / norm)) for r, w in enumerate(weights)]


def bench_stats(engine: Any, label: str, total_events: int = 10_000_000) -> None:
    """Stats queries on the aggregates ``total_events`` would leave over 30 days: 1,000
    assets by Zipf popularity, the probe (the most popular, ~1.3M events) with every
    (hour, platform, type, link, audience) bucket, the others one bucket per hour."""
    from gifdist.analytics.reports import StatsReporter, make_window
    from gifdist.analytics.sketches import new_sketch
    from gifdist.stores.schema import (
        analytics_asset_days,
        analytics_asset_hours,
        analytics_totals,
        analytics_visitor_sketches,
    )

    _empty(engine)
    now = datetime.now(UTC)
    first_hour = int(now.timestamp()) // 3600 - 30 * 24
    assets = _zipf_assets(1000, total_events)
    probe, probe_events = assets[0]
    combos = [
        (p.value, t, code, "person")
        for p in PLATFORMS
        for t in ("view", "play", "click")
        for code in ("", "Probe001")
    ] + [(p.value, "view", "Probe001", "bot") for p in PLATFORMS]
    per_bucket = max(1, probe_events // (720 * len(combos)))
    rollups = [
        {
            "hour": first_hour + h,
            "asset_id": probe,
            "short_code": code,
            "platform": platform,
            "event_type": kind,
            "audience": audience,
            "count": per_bucket,
        }
        for h in range(720)
        for platform, kind, code, audience in combos
    ]
    for asset, n in assets[1:]:
        rollups.extend(
            {
                "hour": first_hour + h,
                "asset_id": asset,
                "short_code": "",
                "platform": "web",
                "event_type": "view",
                "audience": "person",
                "count": max(1, n // 720),
            }
            for h in range(720)
        )
    totals = [{"asset_id": a, "event_type": "view", "count": n} for a, n in assets]
    days: Counter[tuple[str, int, str, str, str]] = Counter()
    hours: Counter[tuple[str, int, str]] = Counter()
    for r in rollups:
        days[(r["asset_id"], r["hour"] // 24, r["platform"], r["event_type"], r["audience"])] += r[
            "count"
        ]
        hours[(r["asset_id"], r["hour"], r["event_type"])] += r["count"]
    day_rows = [
        dict(
            zip(
                ("asset_id", "day", "platform", "event_type", "audience", "count"),
                (*k, n),
                strict=True,
            )
        )
        for k, n in days.items()
    ]
    hour_rows = [
        dict(zip(("asset_id", "hour", "event_type", "count"), (*k, n), strict=True))
        for k, n in hours.items()
    ]
    day0 = first_hour // 24
    blob = bytes(new_sketch(f"v{i}" for i in range(2000)).serialize_compact())
    sketches = [
        {
            "day": day0 + d,
            "asset_id": probe,
            "short_code": code,
            "event_type": kind,
            "audience": "person",
            "sketch": blob,
        }
        for d in range(31)
        for kind in ("view", "play", "click")
        for code in ("", "Probe001")
    ]
    with engine.begin() as conn:
        for table, rows in (
            (analytics_rollups, rollups),
            (analytics_totals, totals),
            (analytics_asset_days, day_rows),
            (analytics_asset_hours, hour_rows),
            (analytics_visitor_sketches, sketches),
        ):
            for start in range(0, len(rows), 20_000):
                conn.execute(insert(table), rows[start : start + 20_000])
    reporter = StatsReporter(SqlAnalyticsStore(engine))
    default, month = (
        make_window(None, None, None),
        make_window((now - timedelta(days=30)).isoformat(), None, "hour"),
    )
    queries = [
        ("asset report (all time)", lambda: reporter.report(default, asset_id=probe)),
        ("top 10 assets", lambda: reporter.top(default, limit=10)),
        ("asset, by hour, 30 days", lambda: reporter.report(month, asset_id=probe)),
    ]
    print(
        f"\n3. stats on {label}: aggregates of {total_events:,} events "
        f"({len(rollups):,} rollup rows, the probe's {720 * len(combos):,}; "
        f"{len(day_rows):,} asset-day and {len(hour_rows):,} asset-hour rows)"
    )
    print("  query                          p50 ms     p95 ms   (target: p95 <= 10 ms)")
    for name, query in queries:
        query()
        samples = []
        for _ in range(20):
            start = time.perf_counter()
            query()
            samples.append((time.perf_counter() - start) * 1000)
        samples.sort()
        print(f"  {name:<28} {statistics.median(samples):>8.2f} {samples[18]:>10.2f}")
    SqlAnalyticsStore(engine).clear()


LUA = """
counter = 0
request = function()
  counter = counter + 1
  local address = string.format("%d.%%d.%%d.%%d", math.floor(counter / 65536) %% 256,
    math.floor(counter / 256) %% 256, counter %% 256)
  local body = '{"asset_id":"%s","event_type":"play"}'
  return wrk.format("POST", "/api/v1/events",
    {["Content-Type"] = "text/plain", ["User-Agent"] = "Mozilla/5.0 bench",
     ["X-Forwarded-For"] = address}, body)
end
"""


def _beacon_run(
    base: str, asset_id: str, workdir: Path, seconds: int, first_octet: int
) -> tuple[int, float]:
    """wrk posting beacons, each from a new visitor: a visitor is a client address, so
    each beacon comes through the trusted proxy (loopback) from its own address,
    ``first_octet``.x.y.z (so each is counted, none deduplicated)."""
    from _harness import pinned

    script = workdir / "beacon.lua"
    script.write_text(LUA % (first_octet, asset_id))

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
    with gifdist_server("granian", GIFDIST_TRUSTED_PROXIES='["127.0.0.1"]') as gd:
        asset_id = gd.upload(make_gif_of_size(5_000))["asset_id"]
        health = wrk(f"{gd.base}/healthz", seconds=seconds)
        warm_sent, warm_rate = _beacon_run(gd.base, asset_id, workdir, 2, 10)
        seconds_needed = max(1, round(beacons / warm_rate))
        sent, rate = _beacon_run(gd.base, asset_id, workdir, seconds_needed, 11)
        sent += warm_sent
        gd.stop()
        engine = create_database_engine(f"sqlite:///{gd.data_dir / 'gifdist.db'}")
        with engine.connect() as conn:
            stored = conn.execute(select(func.sum(analytics_rollups.c.count))).scalar()
        engine.dispose()
    print("\n3. HTTP, one granian worker, wrk -c32      beacons     /healthz")
    row("requests", rate, health.requests_per_s, "req/s", True)
    stored = stored or 0
    verdict = (  # wrk does not count the requests still in flight when it stops
        f"none lost ({stored - sent:,} more stored: answered after wrk stopped counting)"
        if stored >= sent
        else f"{sent - stored:,} NOT STORED"
    )
    print(
        f"  {sent:,} beacons acknowledged; {stored:,} events stored after a graceful stop: "
        f"{verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument(
        "--tracker-events", type=int, default=200_000, help="events for the library tracker"
    )
    parser.add_argument(
        "--beacons", type=int, default=None, help="beacons sent over HTTP (default: --events)"
    )
    parser.add_argument(
        "--database-url",
        action="append",
        default=[],
        help="also bench this database, e.g. postgresql://postgres@127.0.0.1/test "
        "(its analytics are cleared); SQLite in a temporary file always runs",
    )
    parser.add_argument("--skip-stats", action="store_true")
    parser.add_argument(
        "--stats-events", type=int, default=10_000_000, help="events the stats aggregates stand for"
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="gifdist-bench-analytics-"))
    try:
        print("analytics benchmark (ratio > 1: gifdist is better)")
        if args.tracker_events:
            bench_tracker(workload(args.tracker_events))
        events = workload(args.events)
        urls = [f"sqlite:///{workdir / 'bench.db'}", *args.database_url]
        for url in urls:
            engine = create_database_engine(url)
            upgrade_database(engine)
            label = engine.dialect.name
            bench_ingest(events, engine, f"{label} (uniform: the worst case)")
            bench_ingest(popular_workload(args.events), engine, f"{label} (Zipf popularity)")
            if not args.skip_stats:
                bench_stats(engine, label, args.stats_events)
            engine.dispose()
        if not args.skip_http:
            bench_http(args.beacons or args.events, args.seconds, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

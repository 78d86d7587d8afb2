"""Analytics in SQL: hourly rollups, daily visitor sketches, optional raw events.

A batch (everything the write-behind buffer held at a flush) is aggregated in Python
per (hour, asset, link, platform, event type, audience) and written in one
transaction as deltas (``INSERT … ON CONFLICT DO UPDATE count = count +
excluded.count``), so writes grow with buckets, not with events, and a query costs
assets × hours. Unique visitors are HyperLogLog sketches per (day, asset, link,
type, audience), merged into the stored sketch; an asset's own sketch (link ``''``)
holds all its visitors, so its uniques read no link's. Raw events (one
row each) are written only when ``raw_events`` is on (``GIFDIST_ANALYTICS_RAW_EVENTS``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypedDict, TypeVar, cast

from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    Select,
    Table,
    case,
    delete,
    func,
    insert,
    select,
)
from typing_extensions import Unpack

from gifdist.analytics.sketches import estimate, merged, parsed
from gifdist.analytics.tracker import (
    COUNTED_AUDIENCES,
    AnalyticsEvent,
    EventType,
    Key,
    Platform,
    top_by_metric,
)
from gifdist.analytics.types import hour_iso
from gifdist.stores.analytics_redis import RedisVisitorSketches
from gifdist.stores.schema import (
    analytics_asset_days,
    analytics_asset_hours,
    analytics_events,
    analytics_rollups,
    analytics_totals,
    analytics_visitor_sketches,
    tombstones,
)

HOUR_MS = 3_600_000
DAY_MS = 86_400_000
SketchKey = tuple[int, str, str, str, str]  # (day, asset, link or '', event type, audience)
_SERIES = ("view", "play", "click")  # a series row's views, plays, clicks


_Query = TypeVar("_Query", bound=Select[Any])


class EventScope(TypedDict, total=False):
    """Which events a query covers: one asset, several, one link, a time window."""

    asset_id: str | None
    asset_ids: Sequence[str] | None
    short_code: str | None
    start: datetime | None
    end: datetime | None


def _narrowed(selected: _Query, table: Table, **scope: Unpack[EventScope]) -> _Query:
    """``selected`` kept to one asset, several, one link and a time window; rollups are
    compared by hour bucket, raw events by millisecond."""
    c = table.c
    query: Select[Any] = selected
    asset_id, asset_ids = scope.get("asset_id"), scope.get("asset_ids")
    short_code, start, end = scope.get("short_code"), scope.get("start"), scope.get("end")
    if asset_id is not None:
        query = query.where(c.asset_id == asset_id)
    if asset_ids is not None:
        query = query.where(c.asset_id.in_(list(asset_ids)))
    if short_code is not None:
        query = query.where(c.short_code == short_code)
    if start is not None or end is not None:
        moment, scale = (
            (c.hour, HOUR_MS)
            if table is analytics_rollups or table is analytics_asset_hours
            else (c.day, DAY_MS)
            if table is analytics_visitor_sketches
            else (c.ts_ms, 1)
        )
        if start is not None:
            query = query.where(moment >= _ms(start) // scale)
        if end is not None:
            query = query.where(moment <= _ms(end) // scale)
    return cast(_Query, query)


def _ms(stamp: datetime) -> int:
    return int(stamp.timestamp() * 1000)


class SqlAnalyticsStore:
    """Analytics in the database; unique-visitor sketches there too, or in ``redis``."""

    def __init__(
        self,
        engine: Engine,
        *,
        raw_events: bool = False,
        redis_sketches: RedisVisitorSketches | None = None,
    ) -> None:
        self.engine = engine
        # Reads on PostgreSQL run outside a transaction: no BEGIN and ROLLBACK round trips
        # around each report query (a report's queries may then see a flush in between).
        self._reads = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if engine.dialect.name == "postgresql"
            else engine
        )
        self.raw_events = raw_events
        self.redis_sketches = redis_sketches

    def record(self, events: Sequence[AnalyticsEvent]) -> None:
        """Write a batch as rollup and total deltas, sketch merges and (if on) raw rows.

        Events of deleted assets are dropped: a view buffered (on any node) while its
        GIF was being deleted must not bring the erased numbers back."""
        if not events:
            return
        with self.engine.begin() as conn:
            gone = _deleted_assets(conn, {e.asset_id for e in events})
            if gone:
                events = [e for e in events if e.asset_id not in gone]
            if events:
                self._write(conn, events)

    def _write(self, conn: Connection, events: Sequence[AnalyticsEvent]) -> None:
        """The batch's deltas, in ``conn``'s transaction."""
        rollups: Counter[tuple[int, str, str, str, str, str]] = Counter()
        visitors: dict[SketchKey, set[str]] = {}
        for e in events:
            ts = int(e.timestamp.timestamp() * 1000)
            code, kind, audience = e.short_code or "", e.event_type._value_, e.audience
            rollups[(ts // HOUR_MS, e.asset_id, code, e.platform._value_, kind, audience)] += 1
            if e.visitor is not None and (audience == "person" or audience == "bot"):
                day = ts // DAY_MS
                visitors.setdefault((day, e.asset_id, "", kind, audience), set()).add(e.visitor)
                if code:  # the link's sketch, as well as the asset's own (all its visitors)
                    key = (day, e.asset_id, code, kind, audience)
                    visitors.setdefault(key, set()).add(e.visitor)
        totals: Counter[tuple[str, str]] = Counter()
        days: Counter[tuple[str, int, str, str, str]] = Counter()
        hours: Counter[tuple[str, int, str]] = Counter()
        for (hour, asset, _code, platform, kind, audience), count in rollups.items():
            days[(asset, hour // 24, platform, kind, audience)] += count
            if audience == "person" or audience == "bot":  # as sketched: see _merge_sketches
                totals[(asset, kind)] += count
                hours[(asset, hour, kind)] += count
        # PostgreSQL locks rows as it upserts: in key order, two writers cannot deadlock
        ordered = sorted if conn.dialect.name == "postgresql" else list
        if self.raw_events:
            conn.execute(insert(analytics_events), [_raw_row(e) for e in events])
        _execute_many(conn, _ROLLUP_UPSERT, [(*k, n) for k, n in ordered(rollups.items())])
        _execute_many(conn, _DAY_UPSERT, [(*k, n) for k, n in ordered(days.items())])
        _execute_many(conn, _HOUR_UPSERT, [(*k, n) for k, n in ordered(hours.items())])
        _execute_many(conn, _TOTAL_UPSERT, [(*k, n) for k, n in ordered(totals.items())])
        if visitors and self.redis_sketches is not None:
            self.redis_sketches.add(visitors)  # before the commit: a failure retries all
        elif visitors:
            _merge_sketches(conn, visitors)

    def counts(self, **scope: Unpack[EventScope]) -> Counter[Key]:
        """Counted events per (platform, event type) in the scope."""
        return self.counts_and_audiences(**scope)[0]

    def audiences(self, **scope: Unpack[EventScope]) -> dict[str, int]:
        """Events per audience (person, bot, crawler, orphan), crawlers included."""
        return self.counts_and_audiences(**scope)[1]

    def counts_and_audiences(
        self, **scope: Unpack[EventScope]
    ) -> tuple[Counter[Key], dict[str, int]]:
        """``counts`` and ``audiences`` together, from one read of the aggregates."""
        found: Counter[tuple[Any, ...]]
        if scope.get("short_code") is None:
            found = self._asset_sum(["platform", "event_type", "audience"], False, scope)
        else:
            r = analytics_rollups.c
            query = select(r.platform, r.event_type, r.audience, func.sum(r.count)).group_by(
                r.platform, r.event_type, r.audience
            )
            query = _narrowed(query, analytics_rollups, **scope)
            with self._reads.connect() as conn:
                found = Counter({(p, t, a): int(n) for p, t, a, n in conn.execute(query)})
        counts: Counter[Key] = Counter()
        audiences: Counter[str] = Counter()
        for (platform, kind, audience), n in found.items():
            audiences[str(audience)] += n
            if audience in COUNTED_AUDIENCES:
                counts[(str(platform), str(kind))] += n
        return counts, dict(audiences)

    def _asset_sum(
        self, group: list[str], counted: bool, scope: EventScope
    ) -> Counter[tuple[Any, ...]]:
        """Sums by ``group`` over assets (no link): whole days from the day table, the
        hours at the window's edges from the rollups."""
        found: Counter[tuple[Any, ...]] = Counter()
        with self._reads.connect() as conn:
            for table, low, high in _window_parts(scope.get("start"), scope.get("end")):
                c = table.c
                moment = c.day if table is analytics_asset_days else c.hour
                query = select(*(c[g] for g in group), func.sum(c.count)).group_by(
                    *(c[g] for g in group)
                )
                if counted:
                    query = query.where(c.audience.in_(sorted(COUNTED_AUDIENCES)))
                if scope.get("asset_id") is not None:
                    query = query.where(c.asset_id == scope.get("asset_id"))
                if scope.get("asset_ids") is not None:
                    query = query.where(c.asset_id.in_(list(scope.get("asset_ids") or ())))
                if low is not None:
                    query = query.where(moment >= low)
                if high is not None:
                    query = query.where(moment <= high)
                for *key, n in conn.execute(query):
                    found[tuple(key)] += int(n)
        return found

    def link_asset(self, short_code: str) -> str | None:
        """The asset of the earliest counted events that named ``short_code``."""
        r = analytics_rollups.c
        query = (
            select(r.asset_id)
            .where(r.short_code == short_code, r.audience.in_(sorted(COUNTED_AUDIENCES)))
            .order_by(r.hour, r.asset_id)
            .limit(1)
        )
        with self._reads.connect() as conn:
            found = conn.execute(query).scalar_one_or_none()
        return None if found is None else str(found)

    def unique_visitors(self, **scope: Unpack[EventScope]) -> int:
        """People counted once per UTC day (visitor ids are daily-salted), summed over
        the days the window touches: a HyperLogLog estimate (~1.6 % error)."""
        return self.uniques(**scope)[0]

    def unique_counts(self, **scope: Unpack[EventScope]) -> dict[str, int]:
        """Per event type, each visitor counted once per UTC day, over the days the
        window touches (people and bots; crawlers and orphans are left out)."""
        return self.uniques(**scope)[1]

    def uniques(self, **scope: Unpack[EventScope]) -> tuple[int, dict[str, int]]:
        """``unique_visitors`` and ``unique_counts`` together, each sketch read once."""
        if self.redis_sketches is not None:
            return (
                self.redis_sketches.unique_visitors(**scope),
                self.redis_sketches.unique_counts(**scope),
            )
        k = analytics_visitor_sketches.c
        query = _narrowed(
            select(k.day, k.event_type, k.audience, k.sketch), analytics_visitor_sketches, **scope
        )
        if scope.get("short_code") is None:  # an asset's own sketch holds its links' visitors
            query = query.where(k.short_code == "")
        people: dict[int, list[Any]] = {}
        by_type: dict[tuple[int, str], list[Any]] = {}
        with self._reads.connect() as conn:
            for day, kind, audience, blob in conn.execute(query):
                sketch = parsed(blob)
                if audience == "person":
                    people.setdefault(int(day), []).append(sketch)
                by_type.setdefault((int(day), kind), []).append(sketch)
        counts: Counter[str] = Counter()
        for (_day, kind), sketches in by_type.items():
            counts[kind] += round(estimate(sketches))
        return round(sum(estimate(s) for s in people.values())), dict(counts)

    def asset_totals(
        self,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        asset_ids: Sequence[str] | None = None,
    ) -> dict[str, Counter[str]]:
        """Counts per asset and event type: all-time from the totals table, else rollups."""
        if start is None and end is None:
            t = analytics_totals.c
            totals: dict[str, Counter[str]] = {}
            query = _narrowed(
                select(t.asset_id, t.event_type, t.count), analytics_totals, asset_ids=asset_ids
            )
            with self._reads.connect() as conn:
                for asset, kind, n in conn.execute(query):
                    totals.setdefault(asset, Counter())[kind] += int(n)
            return totals
        r = analytics_rollups.c
        query = (
            select(r.asset_id, r.event_type, func.sum(r.count))
            .where(r.audience.in_(sorted(COUNTED_AUDIENCES)))
            .group_by(r.asset_id, r.event_type)
        )
        query = _narrowed(query, analytics_rollups, asset_ids=asset_ids, start=start, end=end)
        found: dict[str, Counter[str]] = {}
        with self._reads.connect() as conn:
            for asset, kind, n in conn.execute(query):
                found.setdefault(asset, Counter())[kind] += int(n)
        return found

    def top_assets(self, metric: str, limit: int) -> list[dict[str, Any]]:
        """The ``limit`` best assets by ``metric`` over all time (ties by asset id)."""
        return top_by_metric(self.asset_totals(), metric, limit)

    def hourly_counts(
        self, event_types: Sequence[str], since_hour: int
    ) -> list[tuple[str, int, int]]:
        """(asset, epoch hour, count) for ``event_types`` since ``since_hour``, counted
        audiences only: what trending reads."""
        h = analytics_asset_hours.c
        query = (
            select(h.asset_id, h.hour, func.sum(h.count))
            .where(h.event_type.in_(list(event_types)), h.hour >= since_hour)
            .group_by(h.asset_id, h.hour)
        )
        with self._reads.connect() as conn:
            return [(str(a), int(h), int(n)) for a, h, n in conn.execute(query)]

    def series(
        self,
        *,
        asset_id: str | None = None,
        asset_ids: Sequence[str] | None = None,
        short_code: str | None = None,
        start: datetime,
        end: datetime,
        interval: str = "hour",
    ) -> list[dict[str, object]]:
        """Counts per hour or day between ``start`` and ``end`` (UTC buckets); without a
        link from the per-asset hours, with one from the rollups."""
        table = analytics_rollups if short_code is not None else analytics_asset_hours
        r = table.c
        step = 24 if interval == "day" else 1
        bucket = r.hour // step * step if step > 1 else r.hour
        query = select(
            bucket,
            *(
                func.sum(case((r.event_type == kind, r.count), else_=0)).cast(BigInteger)
                for kind in _SERIES  # a bigint, not PostgreSQL's numeric sum
            ),
        ).group_by(bucket)
        if table is analytics_rollups:
            query = query.where(r.audience.in_(sorted(COUNTED_AUDIENCES)))
        query = _narrowed(
            query,
            table,
            asset_id=asset_id,
            asset_ids=asset_ids,
            short_code=short_code,
            start=start,
            end=end,
        )
        with self._reads.connect() as conn:
            rows = sorted(tuple(row) for row in conn.execute(query))
        return [{"t": hour_iso(h), "views": v, "plays": p, "clicks": c} for h, v, p, c in rows]

    def events(
        self, asset_id: str, start: datetime | None, end: datetime | None
    ) -> list[AnalyticsEvent]:
        e = analytics_events.c
        query = _narrowed(
            select(analytics_events).order_by(e.ts_ms),
            analytics_events,
            asset_id=asset_id,
            start=start,
            end=end,
        )
        with self._reads.connect() as conn:
            return [
                AnalyticsEvent(
                    row["event_id"],
                    row["asset_id"],
                    EventType(row["event_type"]),
                    Platform(row["platform"]),
                    datetime.fromtimestamp(row["ts_ms"] / 1000, UTC),
                    row["short_code"],
                    row["audience"],
                    row["visitor"],
                    dict(row["metadata"] or {}),
                )
                for row in conn.execute(query.limit(100_000)).mappings()
            ]

    def clear(self, asset_id: str | None = None) -> None:
        if self.redis_sketches is not None:
            self.redis_sketches.clear(asset_id)
        with self.engine.begin() as conn:
            for table in (
                analytics_events,
                analytics_rollups,
                analytics_totals,
                analytics_asset_days,
                analytics_asset_hours,
                analytics_visitor_sketches,
            ):
                stmt = delete(table)
                if asset_id is not None:
                    stmt = stmt.where(table.c.asset_id == asset_id)
                conn.execute(stmt)

    def purge_events_older_than(self, cutoff: datetime) -> int:
        """Retention: delete raw events before ``cutoff`` (rollups are kept)."""
        with self.engine.begin() as conn:
            result = conn.execute(
                delete(analytics_events).where(analytics_events.c.ts_ms < _ms(cutoff))
            )
            return int(result.rowcount)


def _raw_row(e: AnalyticsEvent) -> dict[str, Any]:
    return {
        "event_id": e.event_id,
        "ts_ms": _ms(e.timestamp),
        "asset_id": e.asset_id,
        "short_code": e.short_code,
        "platform": e.platform.value,
        "event_type": e.event_type.value,
        "audience": e.audience,
        "visitor": e.visitor,
        "metadata": e.metadata or None,
    }


_ROLLUP_UPSERT = (
    "INSERT INTO analytics_rollups (hour, asset_id, short_code, platform, event_type, "
    "audience, count) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (hour, asset_id, short_code, "
    "platform, event_type, audience) DO UPDATE SET count = analytics_rollups.count + "
    "excluded.count"
)
_TOTAL_UPSERT = (
    "INSERT INTO analytics_totals (asset_id, event_type, count) VALUES (?, ?, ?) "
    "ON CONFLICT (asset_id, event_type) DO UPDATE SET count = analytics_totals.count + "
    "excluded.count"
)
_DAY_UPSERT = (
    "INSERT INTO analytics_asset_days (asset_id, day, platform, event_type, audience, count) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (asset_id, day, platform, event_type, audience) "
    "DO UPDATE SET count = analytics_asset_days.count + excluded.count"
)
_HOUR_UPSERT = (
    "INSERT INTO analytics_asset_hours (asset_id, hour, event_type, count) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (asset_id, hour, event_type) DO UPDATE SET count = "
    "analytics_asset_hours.count + excluded.count"
)
_SKETCHES_OF = (
    "SELECT day, asset_id, short_code, event_type, audience, sketch "
    "FROM analytics_visitor_sketches WHERE day = ANY(%b::bigint[]) "
    "AND asset_id = ANY(%b::text[]) AND short_code = ANY(%b::text[])"
)
_SKETCH_UPSERT = (
    "INSERT INTO analytics_visitor_sketches (day, asset_id, short_code, event_type, audience, "
    "sketch) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (day, asset_id, short_code, event_type, "
    "audience) DO UPDATE SET sketch = excluded.sketch"
)


def _window_parts(
    start: datetime | None, end: datetime | None
) -> list[tuple[Table, int | None, int | None]]:
    """Where a windowed sum over assets reads: (table, first, last) with days for the day
    table and hours for the rollups; the window is hour-precise as the rollups are."""
    low = _ms(start) // HOUR_MS if start is not None else None
    high = _ms(end) // HOUR_MS if end is not None else None
    first = -(-low // 24) if low is not None else None  # the first whole day
    last = (high + 1) // 24 - 1 if high is not None else None  # the last whole day
    if first is not None and last is not None and first > last:
        return [(analytics_rollups, low, high)]
    parts: list[tuple[Table, int | None, int | None]] = [(analytics_asset_days, first, last)]
    if low is not None and first is not None and low < first * 24:
        parts.append((analytics_rollups, low, first * 24 - 1))
    if high is not None and last is not None and high > last * 24 + 23:
        parts.append((analytics_rollups, (last + 1) * 24, high))
    return parts


def _execute_many(conn: Connection, sql: str, rows: list[tuple[Any, ...]]) -> None:
    """Many rows through the driver (``?`` placeholders; SQLAlchemy's per-row parameter
    processing costs more than the database's work here): SQLite's ``executemany``; on
    PostgreSQL ``COPY`` into a session's temporary table shaped like the target, then
    one ``INSERT … SELECT`` from it in key order (so two writers lock rows in the same
    order), which is 1.15–1.2× faster than one statement over ``unnest`` of arrays."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.exec_driver_sql(sql, rows)
        return
    head, rest = sql.split(" VALUES (", 1)
    tail = rest.split(")", 1)[1]
    table, names = head.removeprefix("INSERT INTO ").split(" ", 1)
    columns = names.strip("()")
    delta = f"delta_{table}"
    conn.exec_driver_sql(
        f"CREATE TEMP TABLE IF NOT EXISTS {delta} (LIKE {table}) ON COMMIT DELETE ROWS"
    )
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {delta} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    conn.exec_driver_sql(f"{head} SELECT {columns} FROM {delta} ORDER BY {columns}{tail}")
    conn.exec_driver_sql(f"TRUNCATE {delta}")  # empty for the next statement on it


def _merge_sketches(conn: Connection, visitors: dict[SketchKey, set[str]]) -> None:
    """Add ``visitors`` to the stored sketches of their keys: read, merge, upsert.

    Two writers never lose each other's visitors without a lock of their own here: a
    sketch key's (asset, event type) has its row in ``analytics_totals``, which the
    transaction upserted first (people and bots are both totalled and sketched) and so
    holds locked until it commits. A second writer of the same key waits at that row,
    then reads the first one's committed sketch. On SQLite the transaction holds the
    database's write lock.
    """
    keys = sorted(visitors)
    stored = _stored_sketches(conn, keys)
    _execute_many(
        conn,
        _SKETCH_UPSERT,
        [(*key, merged(stored.get(key), visitors[key])) for key in keys],
    )


def _stored_sketches(conn: Connection, keys: list[SketchKey]) -> dict[SketchKey, bytes]:
    """The stored sketches of ``keys``; on PostgreSQL read by their days, assets and links
    (arrays, hashed), so a batch's new links do not read back every link's sketch."""
    if conn.dialect.name == "postgresql" and keys:
        wanted_keys = set(keys)
        found = conn.exec_driver_sql(
            _SKETCHES_OF,
            tuple(sorted({key[i] for key in keys}) for i in range(3)),
        )
        return {
            key: bytes(blob)
            for day, asset, code, kind, audience, blob in found
            if (key := (int(day), asset, code, kind, audience)) in wanted_keys and blob
        }
    k = analytics_visitor_sketches.c
    days = sorted({key[0] for key in keys})
    assets = sorted({key[1] for key in keys})
    wanted = set(keys)
    stored: dict[SketchKey, bytes] = {}
    for start in range(0, len(assets), 500):
        query = select(k.day, k.asset_id, k.short_code, k.event_type, k.audience, k.sketch).where(
            k.day.in_(days), k.asset_id.in_(assets[start : start + 500])
        )
        for day, asset, code, kind, audience, blob in conn.execute(query):
            key = (int(day), asset, code, kind, audience)
            if key in wanted and blob:
                stored[key] = bytes(blob)
    return stored


def _deleted_assets(conn: Connection, asset_ids: set[str]) -> set[str]:
    """Which of ``asset_ids`` have a tombstone (one indexed lookup per 500 ids)."""
    t = tombstones.c
    ids = sorted(asset_ids)
    gone: set[str] = set()
    for i in range(0, len(ids), 500):
        query = select(t.key).where(t.kind == "asset", t.key.in_(ids[i : i + 500]))
        gone.update(conn.execute(query).scalars())
    return gone

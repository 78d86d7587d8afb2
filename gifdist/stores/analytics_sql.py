"""Analytics in SQL: raw events plus hourly rollups; metric queries read rollups.

A batch is written in one transaction: raw events inserted, rollups upserted
(``INSERT … ON CONFLICT DO UPDATE count = count + excluded.count``) after the
batch was pre-aggregated in Python, so a query costs assets × hours, not events.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypedDict, TypeVar, cast

from sqlalchemy import Engine, Select, Table, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from typing_extensions import Unpack

from gifdist.analytics.tracker import (
    COUNTED_AUDIENCES,
    AnalyticsEvent,
    EventType,
    Key,
    Platform,
    top_by_metric,
)
from gifdist.stores.schema import analytics_events, analytics_rollups, analytics_totals

HOUR_MS = 3_600_000


def _upsert_adding(dialect: Any, table: Table, keys: list[str]) -> Any:
    """``INSERT … ON CONFLICT (keys) DO UPDATE SET count = count + excluded.count``."""
    stmt = dialect.insert(table)
    return stmt.on_conflict_do_update(
        index_elements=keys, set_={"count": table.c.count + stmt.excluded.count}
    )


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
        moment, scale = (c.hour, HOUR_MS) if table is analytics_rollups else (c.ts_ms, 1)
        if start is not None:
            query = query.where(moment >= _ms(start) // scale)
        if end is not None:
            query = query.where(moment <= _ms(end) // scale)
    return cast(_Query, query)


def _ms(stamp: datetime) -> int:
    return int(stamp.timestamp() * 1000)


class SqlAnalyticsStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, events: Sequence[AnalyticsEvent]) -> None:
        if not events:
            return
        rollups: Counter[tuple[int, str, str, str, str, str]] = Counter()
        rows = []
        for e in events:
            ts = _ms(e.timestamp)
            rows.append(
                {
                    "event_id": e.event_id,
                    "ts_ms": ts,
                    "asset_id": e.asset_id,
                    "short_code": e.short_code,
                    "platform": e.platform.value,
                    "event_type": e.event_type.value,
                    "audience": e.audience,
                    "visitor": e.visitor,
                    "metadata": e.metadata or None,
                }
            )
            rollups[
                (
                    ts // HOUR_MS,
                    e.asset_id,
                    e.short_code or "",
                    e.platform.value,
                    e.event_type.value,
                    e.audience,
                )
            ] += 1
        totals: Counter[tuple[str, str]] = Counter()
        for (_hour, asset, _code, _platform, kind, audience), count in rollups.items():
            if audience in COUNTED_AUDIENCES:
                totals[(asset, kind)] += count
        with self.engine.begin() as conn:
            conn.execute(insert(analytics_events), rows)
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            keys = ["hour", "asset_id", "short_code", "platform", "event_type", "audience"]
            conn.execute(
                _upsert_adding(dialect, analytics_rollups, keys),
                [
                    dict(zip([*keys, "count"], (*key, n), strict=True))
                    for key, n in sorted(rollups.items())
                ],
            )
            if totals:
                conn.execute(
                    _upsert_adding(dialect, analytics_totals, ["asset_id", "event_type"]),
                    [
                        {"asset_id": asset, "event_type": kind, "count": n}
                        for (asset, kind), n in sorted(totals.items())
                    ],
                )

    def counts(self, **scope: Unpack[EventScope]) -> Counter[Key]:
        r = analytics_rollups.c
        query = (
            select(r.platform, r.event_type, func.sum(r.count))
            .where(r.audience.in_(sorted(COUNTED_AUDIENCES)))
            .group_by(r.platform, r.event_type)
        )
        query = _narrowed(query, analytics_rollups, **scope)
        with self.engine.connect() as conn:
            return Counter({(p, t): int(n) for p, t, n in conn.execute(query)})

    def link_asset(self, short_code: str) -> str | None:
        """The asset of the earliest counted events that named ``short_code``."""
        r = analytics_rollups.c
        query = (
            select(r.asset_id)
            .where(r.short_code == short_code, r.audience.in_(sorted(COUNTED_AUDIENCES)))
            .order_by(r.hour, r.asset_id)
            .limit(1)
        )
        with self.engine.connect() as conn:
            found = conn.execute(query).scalar_one_or_none()
        return None if found is None else str(found)

    def audiences(self, **scope: Unpack[EventScope]) -> dict[str, int]:
        """Events per audience (person, bot, crawler, orphan), crawlers included."""
        r = analytics_rollups.c
        query = select(r.audience, func.sum(r.count)).group_by(r.audience)
        query = _narrowed(query, analytics_rollups, **scope)
        with self.engine.connect() as conn:
            return {audience: int(n) for audience, n in conn.execute(query)}

    def unique_visitors(self, **scope: Unpack[EventScope]) -> int:
        """Distinct people (daily-salted visitor hashes) in the raw events still kept."""
        e = analytics_events.c
        query = select(func.count(func.distinct(e.visitor))).where(
            e.audience == "person", e.visitor.is_not(None)
        )
        query = _narrowed(query, analytics_events, **scope)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def unique_counts(self, **scope: Unpack[EventScope]) -> dict[str, int]:
        """Per event type, each visitor counted once per UTC day (visitor ids are
        daily-salted, so distinct ids are distinct visitor-days), over the raw events
        still kept; crawlers and orphans are left out as in the raw counts."""
        e = analytics_events.c
        query = (
            select(e.event_type, func.count(func.distinct(e.visitor)))
            .where(e.audience.in_(sorted(COUNTED_AUDIENCES)), e.visitor.is_not(None))
            .group_by(e.event_type)
        )
        query = _narrowed(query, analytics_events, **scope)
        with self.engine.connect() as conn:
            return {kind: int(n) for kind, n in conn.execute(query)}

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
            with self.engine.connect() as conn:
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
        with self.engine.connect() as conn:
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
        r = analytics_rollups.c
        query = (
            select(r.asset_id, r.hour, func.sum(r.count))
            .where(
                r.audience.in_(sorted(COUNTED_AUDIENCES)),
                r.event_type.in_(list(event_types)),
                r.hour >= since_hour,
            )
            .group_by(r.asset_id, r.hour)
        )
        with self.engine.connect() as conn:
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
        """Counts per hour or day between ``start`` and ``end`` (UTC buckets)."""
        r = analytics_rollups.c
        query = (
            select(r.hour, r.event_type, func.sum(r.count))
            .where(r.audience.in_(sorted(COUNTED_AUDIENCES)))
            .group_by(r.hour, r.event_type)
        )
        query = _narrowed(
            query,
            analytics_rollups,
            asset_id=asset_id,
            asset_ids=asset_ids,
            short_code=short_code,
            start=start,
            end=end,
        )
        step = 24 if interval == "day" else 1
        buckets: dict[int, Counter[str]] = {}
        with self.engine.connect() as conn:
            for hour, kind, n in conn.execute(query):
                buckets.setdefault(int(hour) // step * step, Counter())[kind] += int(n)
        return [
            {
                "t": datetime.fromtimestamp(h * 3600, UTC).isoformat(),
                "views": c["view"],
                "plays": c["play"],
                "clicks": c["click"],
            }
            for h, c in sorted(buckets.items())
        ]

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
        with self.engine.connect() as conn:
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
        with self.engine.begin() as conn:
            for table in (analytics_events, analytics_rollups, analytics_totals):
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

"""Stats reports for an asset, a short link or the top assets, over a time window.

Built on the SQL analytics store's hourly rollups, so a report costs
(platforms × event types) rows for the totals and (buckets × event types) rows for
the series, however many events there were. Shared by the HTTP API and the CLI.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from gifdist.analytics.tracker import METRICS, counts_by_type, metrics_from_counts
from gifdist.analytics.types import Platform, hour_iso
from gifdist.errors import InvalidInput
from gifdist.stores.analytics_sql import SqlAnalyticsStore

Interval = Literal["hour", "day"]

MAX_BUCKETS = {"hour": 24 * 93, "day": 3 * 366}
DEFAULT_SPAN = {"hour": timedelta(days=2), "day": timedelta(days=30)}


@dataclass(frozen=True, slots=True)
class Window:
    """A report window: ``start``/``end`` filter the totals only when given."""

    start: datetime | None
    end: datetime | None
    interval: Interval
    series_start: datetime
    series_end: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
            "interval": self.interval,
        }


EARLIEST_TIME = datetime(1970, 1, 1, tzinfo=UTC)  # analytics start at the epoch
LATEST_TIME = datetime(9000, 1, 1, tzinfo=UTC)


def parse_time(value: str | None, name: str) -> datetime | None:
    """ISO 8601 (``2026-11-24``, ``2026-11-24T10:00:00Z``) or epoch seconds; UTC if naive."""
    if value is None or value == "":
        return None
    text = value.strip()
    try:
        if text.lstrip("-").replace(".", "", 1).isdigit():
            parsed = datetime.fromtimestamp(float(text), UTC)
        else:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        in_utc = parsed.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        raise InvalidInput(
            f"{name} must be an ISO 8601 time or epoch seconds, got {value[:40]!r}",
            code="bad_time",
        ) from None
    if not EARLIEST_TIME <= in_utc < LATEST_TIME:
        # a window reaching year 1 or 9999 overflows datetime arithmetic
        raise InvalidInput(
            f"{name} must be between {EARLIEST_TIME.year} and {LATEST_TIME.year - 1}, "
            f"got {value[:40]!r}",
            code="bad_time",
        )
    return parsed


def make_window(
    start: str | None, end: str | None, interval: str | None, *, now: datetime | None = None
) -> Window:
    """Validate the query parameters of a stats request into a ``Window``."""
    chosen = interval or "hour"
    if chosen not in ("hour", "day"):
        raise InvalidInput("interval must be hour or day", code="bad_interval")
    begin, finish = parse_time(start, "from"), parse_time(end, "to")
    if begin is not None and finish is not None and begin > finish:
        raise InvalidInput("from must not be after to", code="bad_time")
    now = now or datetime.now(UTC)
    series_end = finish or now
    series_start = begin or series_end - DEFAULT_SPAN[chosen]
    step = timedelta(hours=1) if chosen == "hour" else timedelta(days=1)
    if (series_end - series_start) / step > MAX_BUCKETS[chosen]:
        hint = " (use interval=day)" if chosen == "hour" else ""
        raise InvalidInput(
            f"at most {MAX_BUCKETS[chosen]} {chosen} buckets per report{hint}",
            code="window_too_large",
        )
    return Window(begin, finish, chosen, series_start, series_end)  # type: ignore[arg-type]


def _zero_filled(rows: list[dict[str, Any]], window: Window) -> list[dict[str, Any]]:
    first = window.series_start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if window.interval == "day":
        first = first.replace(hour=0)
    found = {row["t"]: row for row in rows}
    series = []
    hour, last = int(first.timestamp()) // 3600, window.series_end.timestamp() // 3600
    hours = 1 if window.interval == "hour" else 24
    while hour <= last:
        stamp = hour_iso(hour)
        row = found.get(stamp)
        if row is None:
            series.append({"t": stamp, **_EMPTY})
        else:
            views, plays, clicks = row["views"], row["plays"], row["clicks"]
            series.append(
                {
                    "t": stamp,
                    "views": views,
                    "plays": plays,
                    "clicks": clicks,
                    "ctr": round(clicks / views * 100, 2) if views else 0.0,
                    "play_rate": round(plays / views * 100, 2) if views else 0.0,
                }
            )
        hour += hours
    return series


_EMPTY = {"views": 0, "plays": 0, "clicks": 0, "ctr": 0.0, "play_rate": 0.0}


class StatsReporter:
    """Answers the stats API and ``gifdist stats`` from the analytics store."""

    def __init__(self, store: SqlAnalyticsStore) -> None:
        self.store = store

    def report(
        self,
        window: Window,
        *,
        asset_id: str | None = None,
        short_code: str | None = None,
        asset_ids: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """One asset's, one link's, or (``asset_ids``, or everything) several assets' stats."""
        scope: dict[str, Any] = {
            "asset_id": asset_id,
            "short_code": short_code,
            "asset_ids": asset_ids,
        }
        counts, audiences = self.store.counts_and_audiences(
            **scope, start=window.start, end=window.end
        )
        totals = counts_by_type(counts)
        visitors, unique = self.store.uniques(**scope, start=window.start, end=window.end)
        series = self.store.series(
            **scope,
            start=window.series_start,
            end=window.series_end,
            interval=window.interval,
        )
        return {
            **({"asset_id": asset_id} if asset_id is not None else {}),
            **({"short_code": short_code} if short_code is not None else {}),
            **metrics_from_counts(totals),
            "total_events": sum(totals.values()),
            "unique_visitors": visitors,
            "unique": _unique(unique),
            "audiences": {"person": 0, "bot": 0, "crawler": 0, **audiences},
            "platforms": {
                p.value: metrics_from_counts(counts_by_type(counts, p.value)) for p in Platform
            },
            **window.to_json(),
            "series": _zero_filled(series, window),
        }

    def top(
        self,
        window: Window,
        *,
        metric: str = "views",
        limit: int = 10,
        min_views: int = 0,
        with_series: bool = False,
        asset_ids: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        if metric not in METRICS:
            raise InvalidInput(
                f"unknown metric {metric!r}; use one of {', '.join(METRICS)}", code="bad_metric"
            )
        rows = [
            {"asset_id": asset, **metrics_from_counts(counts)}
            for asset, counts in self.store.asset_totals(
                start=window.start, end=window.end, asset_ids=asset_ids
            ).items()
            if counts["view"] >= min_views
        ]
        rows.sort(key=lambda row: (-row[metric], row["asset_id"]))
        rows = rows[:limit]
        if with_series:
            for row in rows:
                series = self.store.series(
                    asset_id=row["asset_id"],
                    start=window.series_start,
                    end=window.series_end,
                    interval=window.interval,
                )
                row["series"] = _zero_filled(series, window)
        return {"metric": metric, "limit": limit, **window.to_json(), "assets": rows}


def _unique(counts: dict[str, int]) -> dict[str, int]:
    """Views, plays and clicks with each visitor counted once per day."""
    return {
        "views": counts.get("view", 0),
        "plays": counts.get("play", 0),
        "clicks": counts.get("click", 0),
    }


CSV_COLUMNS = ("t", "views", "plays", "clicks", "ctr", "play_rate")


def series_csv(report: dict[str, Any]) -> str:
    """The report's time series as CSV (one row per bucket, then a total row)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in report["series"]:
        writer.writerow([row[c] for c in CSV_COLUMNS])
    writer.writerow(["total", *(report[c] for c in CSV_COLUMNS[1:])])
    return out.getvalue()


def top_csv(report: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("asset_id", *CSV_COLUMNS[1:]))
    for row in report["assets"]:
        writer.writerow([row["asset_id"], *(row[c] for c in CSV_COLUMNS[1:])])
    return out.getvalue()

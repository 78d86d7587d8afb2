"""The dashboard: views, plays, clicks and CTR over a window, per GIF and per link."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from gifdist.accounts.keys import ApiKey, Scope
from gifdist.analytics.reports import Window, make_window, parse_time
from gifdist.analytics.tracker import METRICS
from gifdist.assets.model import AssetRecord
from gifdist.errors import GifdistError, InvalidInput, NotFound
from gifdist.web.pages.base import missing_scope, page, param, query_url, service_of, to_signin
from gifdist.web.pages.owner import PLATFORMS
from gifdist.web.pages.signin import current_user
from gifdist.wiring import Service

router = APIRouter(include_in_schema=False)

METRIC_LABELS = {
    "views": "Views",
    "plays": "Plays",
    "clicks": "Clicks",
    "ctr": "CTR",
    "play_rate": "Play rate",
}
RANGES = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
RANGE_LABELS = (
    ("24h", "Last 24 hours"),
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
    ("custom", "Custom"),
)
DEFAULT_INTERVAL = {"24h": "hour", "7d": "day", "30d": "day", "custom": "hour"}
MAX_LINK_ROWS = 50


@dataclass(frozen=True, slots=True)
class DashboardQuery:
    """The dashboard's query string, as typed (shown back in the form)."""

    range: str
    start: str
    end: str
    interval: str
    asset_id: str
    metric: str

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> DashboardQuery:
        start, end = param(params, "from", 40), param(params, "to", 40)
        chosen = param(params, "range", 16) or ("custom" if start or end else "7d")
        return cls(
            range=chosen,
            start=start,
            end=end,
            interval=param(params, "interval", 16) or DEFAULT_INTERVAL.get(chosen, "hour"),
            asset_id=param(params, "asset", 64),
            metric=param(params, "metric", 16) or "views",
        )

    def window(self, now: datetime) -> Window:
        """The report window; ``InvalidInput`` names the bad parameter."""
        if self.range not in DEFAULT_INTERVAL:
            raise InvalidInput("range must be 24h, 7d, 30d or custom", code="bad_range")
        if self.metric not in METRICS:
            raise InvalidInput(f"rank by one of {', '.join(METRICS)}", code="bad_metric")
        if self.range == "custom":
            return make_window(self.start or None, self.end or None, self.interval, now=now)
        start = (now - RANGES[self.range]).isoformat(timespec="seconds")
        return make_window(start, None, self.interval, now=now)

    def keep(self) -> str:
        """This query without the asset, for links to another asset or to all of them."""
        params = {"range": self.range, "interval": self.interval, "metric": self.metric}
        if self.range == "custom":
            params.update({"from": self.start, "to": self.end})
        return urlencode({k: v for k, v in params.items() if v})

    def api_params(self, window: Window) -> dict[str, str]:
        """The same window as API query parameters (for the CSV downloads)."""
        return {
            "from": window.series_start.isoformat(timespec="seconds"),
            **({"to": window.end.isoformat(timespec="seconds")} if window.end else {}),
            "interval": window.interval,
        }


def _local_input(value: str) -> str:
    """A typed time as a datetime-local value (UTC), or '' if it is not one."""
    try:
        parsed = parse_time(value, "time")
    except InvalidInput:
        return ""
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M") if parsed else ""


def _tick_label(stamp: str, interval: str, with_day: bool) -> str:
    moment = datetime.fromisoformat(stamp)
    if interval == "day":
        return moment.strftime("%b %d")
    return moment.strftime("%b %d %H:00" if with_day else "%H:00")


def line_chart(
    series: list[dict[str, Any]],
    keys: tuple[str, ...],
    interval: str,
    *,
    percent: bool = False,
    width: int = 720,
    height: int = 220,
) -> dict[str, Any]:
    """Coordinates for an SVG line chart of ``keys`` over ``series`` (no JS needed)."""
    left, right, top, bottom = 48, 44, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([row[k] for row in series for k in keys] + [0])
    scale = _nice_ceiling(peak, percent)
    count = max(len(series) - 1, 1)

    def x(i: int) -> float:
        return round(left + plot_w * i / count, 1)

    def y(v: float) -> float:
        return round(top + plot_h - plot_h * v / scale, 1)

    lines = [
        {
            "key": key,
            "label": METRIC_LABELS[key],
            "points": " ".join(f"{x(i)},{y(row[key])}" for i, row in enumerate(series)),
            "dots": [(x(i), y(row[key])) for i, row in enumerate(series)]
            if len(series) <= 40
            else [],
        }
        for key in keys
    ]
    step = max(1, len(series) // 6)
    with_day = len(series) > 24
    x_ticks = [
        {"x": x(i), "label": _tick_label(series[i]["t"], interval, with_day)}
        for i in range(0, len(series), step)
    ]
    y_ticks = [
        {"y": y(scale * f), "label": _number(scale * f) + ("%" if percent else "")}
        for f in (0, 0.5, 1)
    ]
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "lines": lines,
        "x_ticks": x_ticks,
        "y_ticks": y_ticks,
        "base_y": y(0),
    }


def _nice_ceiling(peak: float, percent: bool) -> float:
    if peak <= 0:
        return 100.0 if percent else 4.0
    for ceiling in (1, 2, 4, 5, 10, 20, 25, 50, 100):
        if peak <= ceiling:
            return float(ceiling)
    magnitude = 10 ** (len(str(int(peak))) - 1)
    return float(-(-peak // magnitude) * magnitude)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _asset_titles(service: Service, asset_ids: list[str]) -> dict[str, AssetRecord | None]:
    return {asset_id: service.catalog.get(asset_id) for asset_id in asset_ids}


def _link_rows(service: Service, window: Window, asset_id: str) -> list[dict[str, Any]]:
    links = service.links.store.list_for_asset(asset_id)[-MAX_LINK_ROWS:]
    rows = []
    for link in reversed(links):
        report = service.stats.report(window, short_code=link["short_code"])
        rows.append({**service.sharing.to_json(link), **report})
    return rows


def _dashboard_data(
    service: Service, query: DashboardQuery, window: Window, key: ApiKey
) -> dict[str, Any]:
    """Everything the dashboard shows for one window: the key's own GIFs, or every GIF
    for admins (raises ``NotFound``/``Forbidden``)."""
    asset = None
    if query.asset_id:
        asset = service.catalog.get(query.asset_id)
        if asset is None:
            raise NotFound(f"There is no GIF with id {query.asset_id!r}.")
        service.access.check_stats(key, asset)
    scope = service.access.stats_scope(key)
    if asset is not None:
        report = service.stats.report(window, asset_id=asset.asset_id)
    else:
        report = service.stats.report(window, asset_ids=scope)
    top = service.stats.top(window, metric=query.metric, limit=10, asset_ids=scope)["assets"]
    api = query.api_params(window)
    if asset:
        csv_url = query_url(f"/api/v1/assets/{asset.asset_id}/stats", **api, format="csv")
    else:
        csv_url = query_url("/api/v1/stats", **api, format="csv")
    series = report["series"]
    return {
        "asset": asset,
        "report": report,
        "platforms": [
            {"name": name, **row}
            for name, row in report["platforms"].items()
            if row["views"] or row["plays"] or row["clicks"]
        ],
        "top": top,
        "top_assets": _asset_titles(service, [row["asset_id"] for row in top]),
        "links": _link_rows(service, window, asset.asset_id) if asset else [],
        "csv_url": csv_url,
        "top_csv_url": query_url("/api/v1/stats/top", **api, metric=query.metric, format="csv"),
        "count_chart": line_chart(series, ("views", "plays", "clicks"), window.interval),
        "rate_chart": line_chart(series, ("ctr", "play_rate"), window.interval, percent=True),
    }


@router.get("/dashboard")
async def dashboard(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return to_signin(request)
    if not user[1].allows(Scope.STATS):
        return missing_scope(user, Scope.STATS, "the dashboard")
    service = service_of(request)
    query = DashboardQuery.parse(request.query_params)
    context: dict[str, Any] = {"data": None, "error": None}
    status = 200
    try:
        window = query.window(datetime.now(UTC))
        context["data"] = await run_in_threadpool(_dashboard_data, service, query, window, user[1])
    except GifdistError as exc:
        context["error"], status = exc.message, exc.status
    return page(
        "dashboard.html",
        user,
        status=status,
        current="dashboard",
        query=query,
        ranges=RANGE_LABELS,
        metrics=METRIC_LABELS,
        from_value=_local_input(query.start),
        to_value=_local_input(query.end),
        platforms=PLATFORMS,
        **context,
    )

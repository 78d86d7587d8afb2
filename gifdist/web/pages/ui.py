"""The pages people use: upload, their library, the dashboard, moderation (signing in
and the account pages are in ``account``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from gifdist.accounts.keys import ApiKey, Scope
from gifdist.analytics.reports import Window, make_window, parse_time
from gifdist.analytics.tracker import METRICS, metrics_from_counts
from gifdist.assets.model import AssetRecord
from gifdist.errors import GifdistError, InvalidInput, NotFound, Unauthorized
from gifdist.media.rendition_store import rendition_url
from gifdist.media.renditions import RenditionKind
from gifdist.web.pages.render import render
from gifdist.web.session import COOKIE, Session, SessionCodec, check_csrf
from gifdist.wiring import Service

router = APIRouter(include_in_schema=False)

User = tuple[Session, ApiKey]

PAGE_SIZE = 24
SORTS = (
    ("new", "Newest first"),
    ("old", "Oldest first"),
    ("views", "Most viewed"),
    ("ctr", "Highest CTR"),
)
# Sorting by a metric ranks every matching GIF in memory; past this many, the
# library ranks only the newest ones (and says so).
RANKED_SORT_LIMIT = 5000
NO_STORE = {"Cache-Control": "no-store"}

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
QUEUE_FILTERS = (("", "Flagged and pending"), ("flagged", "Flagged"), ("pending", "Pending"))
DECISION_FILTERS = (
    ("", "Any decision"),
    ("approve", "Approved"),
    ("reject", "Rejected"),
    ("flag", "Flagged"),
)
DECISION_DONE = {"approve": "Approved", "reject": "Rejected", "flag": "Kept flagged"}
AUDIT_ROWS = 100


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def _sessions(request: Request) -> SessionCodec:
    codec: SessionCodec = request.app.state.sessions
    return codec


async def current_user(request: Request) -> User | None:
    """The signed-in session and its key, or None."""
    if COOKIE not in request.cookies:
        return None
    session = await run_in_threadpool(_sessions(request).read, request)
    if session is None:
        return None
    try:
        key = await run_in_threadpool(_service(request).signin.principal, session.key_id)
    except Unauthorized:
        return None
    return session, key


def page(template: str, user: User | None, status: int = 200, **context: Any) -> HTMLResponse:
    key = user[1] if user else None
    html = render(
        template,
        signed_in=user is not None,
        csrf=user[0].csrf if user else "",
        http_status=status,
        can_stats=bool(key and key.allows(Scope.STATS)),
        can_moderate=bool(key and key.allows(Scope.MODERATE)),
        **context,
    )
    return HTMLResponse(html, status_code=status, headers=NO_STORE)


def _missing_scope(user: User, scope: Scope, what: str) -> HTMLResponse:
    return page(
        "error.html",
        user,
        status=403,
        heading=f"You can't open {what}",
        message=f"Your API key lacks the {scope.value!r} scope. "
        "Ask an admin for a key that has it, then sign in with that key.",
    )


def _safe_next(value: str | None) -> str:
    """Only local paths are followed after sign-in (no open redirect)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/upload"


def _to_signin(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/signin?next={quote(target, safe='')}", status_code=303)


def _param(params: Mapping[str, str], name: str, limit: int = 64) -> str:
    return params.get(name, "").strip()[:limit]


def _page_number(raw: str) -> int:
    try:
        return max(1, min(int(raw or 1), 10_000))
    except ValueError:
        return 1


def _query_url(path: str, **params: str | int | None) -> str:
    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{path}?{urlencode(kept)}" if kept else path


# upload and library ----------------------------------------------------------------


@router.get("/upload")
async def upload_page(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return _to_signin(request)
    settings = _service(request).settings
    return page(
        "upload.html",
        user,
        current="upload",
        max_bytes=settings.max_upload_bytes,
        max_mb=settings.max_upload_bytes // (1024 * 1024),
        max_title=settings.max_title_chars,
    )


def _library_items(
    service: Service, owner: str | None, query: str, sort: str, page_no: int
) -> tuple[list[dict[str, Any]], bool, bool]:
    """One page of the library with each GIF's all-time numbers; (items, more, capped)."""
    ranked = sort in ("views", "ctr")
    limit = RANKED_SORT_LIMIT if ranked else PAGE_SIZE + 1
    records = service.assets.list(
        owner_key_id=owner,
        search=query or None,
        oldest_first=sort == "old",
        limit=limit,
        offset=0 if ranked else (page_no - 1) * PAGE_SIZE,
    )
    totals = service.analytics_store.asset_totals()
    items = [
        {"asset": record, **metrics_from_counts(totals.get(record.asset_id, Counter()))}
        for record in records
    ]
    if not ranked:
        shown = items[:PAGE_SIZE]
        return _with_previews(service, shown), len(items) > PAGE_SIZE, False
    items.sort(key=lambda item: (-item[sort], -item["views"], item["asset"].asset_id))
    start = (page_no - 1) * PAGE_SIZE
    shown = items[start : start + PAGE_SIZE]
    return _with_previews(service, shown), len(items) > start + PAGE_SIZE, len(records) >= limit


def _with_previews(service: Service, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each item's ``preview``: its tiny WebP and still when made (None: not yet)."""
    for item in items:
        record: AssetRecord = item["asset"]
        tiny = service.renditions.renditions(record.sha256)
        still = tiny.get(RenditionKind.TINY_STILL)
        public = record.is_public and not service.settings.require_signed_urls
        item["preview"] = None
        if still is not None and public:
            base = f"/a/{record.asset_id}"
            webp = RenditionKind.TINY_WEBP in tiny
            item["preview"] = {
                "still": rendition_url(base, RenditionKind.TINY_STILL),
                "webp": rendition_url(base, RenditionKind.TINY_WEBP) if webp else None,
                "width": still.width,
                "height": still.height,
            }
    return items


@router.get("/library")
async def library(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return _to_signin(request)
    params = request.query_params
    page_no = _page_number(_param(params, "page", 8))
    sort = _param(params, "sort", 16)
    sort = sort if sort in dict(SORTS) else "new"
    query = _param(params, "q", 200)
    service = _service(request)
    owner = service.access.library_owner(user[1])
    items, has_more, capped = await run_in_threadpool(
        _library_items, service, owner, query, sort, page_no
    )
    return page(
        "library.html",
        user,
        current="library",
        items=items,
        q=query,
        sort=sort,
        sorts=SORTS,
        page=page_no,
        has_more=has_more,
        capped=capped,
        ranked_limit=RANKED_SORT_LIMIT,
    )


# dashboard -------------------------------------------------------------------------


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
        start, end = _param(params, "from", 40), _param(params, "to", 40)
        chosen = _param(params, "range", 16) or ("custom" if start or end else "7d")
        return cls(
            range=chosen,
            start=start,
            end=end,
            interval=_param(params, "interval", 16) or DEFAULT_INTERVAL.get(chosen, "hour"),
            asset_id=_param(params, "asset", 64),
            metric=_param(params, "metric", 16) or "views",
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
        csv_url = _query_url(f"/api/v1/assets/{asset.asset_id}/stats", **api, format="csv")
    else:
        csv_url = _query_url("/api/v1/stats", **api, format="csv")
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
        "top_csv_url": _query_url("/api/v1/stats/top", **api, metric=query.metric, format="csv"),
        "count_chart": line_chart(series, ("views", "plays", "clicks"), window.interval),
        "rate_chart": line_chart(series, ("ctr", "play_rate"), window.interval, percent=True),
    }


@router.get("/dashboard")
async def dashboard(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return _to_signin(request)
    if not user[1].allows(Scope.STATS):
        return _missing_scope(user, Scope.STATS, "the dashboard")
    service = _service(request)
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
        **context,
    )


# moderation ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """The audit trail filters, as typed."""

    asset_id: str
    decision: str
    start: str
    end: str

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> AuditQuery:
        return cls(
            asset_id=_param(params, "asset_id", 64),
            decision=_param(params, "decision", 16),
            start=_param(params, "from", 40),
            end=_param(params, "to", 40),
        )

    def export_url(self) -> str:
        return _query_url(
            "/api/v1/moderation/audit",
            asset_id=self.asset_id,
            decision=self.decision,
            **{"from": self.start, "to": self.end},
            limit=0,
            format="csv",
        )


def _audit_entries(service: Service, query: AuditQuery) -> list[dict[str, Any]]:
    """Newest first (``InvalidInput`` for a bad decision or time)."""
    if query.decision and query.decision not in dict(DECISION_FILTERS):
        raise InvalidInput("decision must be approve, reject or flag", code="bad_decision")
    entries = service.review.audit(
        asset_id=query.asset_id or None,
        decision=query.decision or None,
        start=parse_time(query.start, "from"),
        end=parse_time(query.end, "to"),
        limit=AUDIT_ROWS,
    )
    return [entry.to_dict() for entry in reversed(entries)]


def _queue_items(service: Service, status: str) -> list[dict[str, Any]]:
    """The queue with each GIF's stored review frames (rendered at scan time; this
    page never decodes a GIF)."""
    if status not in dict(QUEUE_FILTERS):
        raise InvalidInput("status must be flagged or pending", code="bad_status")
    items: list[dict[str, Any]] = service.review.queue(status or None, 50, 0)
    for item in items:
        try:
            item["frames"] = [
                {k: v for k, v in f.items() if k != "png"}
                for f in service.frames.sampled(item["asset_id"], render_missing=False)
            ]
        except GifdistError:
            item["frames"] = []  # gone meanwhile: the GIF is still listed
    return items


def _moderation_data(service: Service, params: Mapping[str, str]) -> dict[str, Any]:
    status = _param(params, "status", 16)
    audit = AuditQuery.parse(params)
    data: dict[str, Any] = {"queue_status": status, "audit": audit, "items": [], "entries": []}
    data["queue_error"] = data["audit_error"] = None
    try:
        data["items"] = _queue_items(service, status)
    except InvalidInput as exc:
        data["queue_error"] = exc.message
    try:
        data["entries"] = _audit_entries(service, audit)
    except InvalidInput as exc:
        data["audit_error"] = exc.message
    data["chain"] = service.review.verify()
    return data


async def _moderation_page(
    request: Request,
    user: User,
    *,
    notice: str | None = None,
    error: str | None = None,
    status: int = 400,
) -> HTMLResponse:
    params = request.query_params
    data = await run_in_threadpool(_moderation_data, _service(request), params)
    decided = _param(params, "decided", 64)
    done = DECISION_DONE.get(_param(params, "decision", 16))
    if notice is None and decided and done:
        notice = f"{done}: GIF {decided}."
    invalid = error or data["queue_error"] or data["audit_error"]
    return page(
        "moderation.html",
        user,
        status=status if invalid else 200,
        current="moderation",
        notice=notice,
        error=error,
        queue_filters=QUEUE_FILTERS,
        decision_filters=DECISION_FILTERS,
        **data,
    )


@router.get("/moderation")
async def moderation(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return _to_signin(request)
    if not user[1].allows(Scope.MODERATE):
        return _missing_scope(user, Scope.MODERATE, "the moderation queue")
    return await _moderation_page(request, user)


@router.post("/moderation/{asset_id}/decision")
async def moderation_decision(
    asset_id: str,
    request: Request,
    csrf: str = Form("", max_length=256),
    decision: str = Form("", max_length=16),
    notes: str = Form("", max_length=5000),
    status: str = Form("", max_length=16),
) -> Response:
    user = await current_user(request)
    if user is None:
        return _to_signin(request)
    check_csrf(user[0], csrf)
    if not user[1].allows(Scope.MODERATE):
        return _missing_scope(user, Scope.MODERATE, "the moderation queue")
    service = _service(request)
    reviewer = f"{user[1].name} ({user[1].key_id})"
    try:
        await run_in_threadpool(service.review.decide, asset_id, decision, reviewer, notes)
    except GifdistError as exc:
        return await _moderation_page(request, user, error=exc.message, status=exc.status)
    target = _query_url(
        "/moderation",
        status=status if status in dict(QUEUE_FILTERS) else None,
        decided=asset_id[:64],
        decision=decision.strip().lower(),
    )
    return RedirectResponse(target, status_code=303)

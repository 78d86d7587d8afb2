"""The JSON API under ``/api/v1``: thin routes over ``Service``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.responses import FileResponse, PlainTextResponse, StreamingResponse

from gifdist.accounts.keys import Scope
from gifdist.analytics.reports import Window, make_window, series_csv, top_csv
from gifdist.assets.model import AssetRecord
from gifdist.errors import InvalidInput, NotFound
from gifdist.media.rendition_store import renditions_json
from gifdist.search import MAX_REPORT_DAYS
from gifdist.sharelinks.controls import parse_controls
from gifdist.web.api.accounts import router as accounts_router
from gifdist.web.api.admin import router as admin_router
from gifdist.web.api.manage import router as manage_router
from gifdist.web.api.moderation import router as moderation_router
from gifdist.web.auth import authorise, service_of
from gifdist.web.multipart import receive_upload

router = APIRouter(prefix="/api/v1")
router.include_router(moderation_router)
router.include_router(admin_router)
router.include_router(manage_router)
router.include_router(accounts_router)


class LinkRequest(BaseModel):
    """Body of ``POST /api/v1/assets/{asset_id}/links``."""

    model_config = ConfigDict(extra="forbid", strict=True)  # true is not 1, "1" is not 1

    title: str | None = Field(None, description="Title shown in link previews.")
    tags: list[str] | str | None = Field(None, description="Tags, a list or comma-separated.")
    via: str | None = Field(
        None,
        description="Platform the link is for (slack, discord, teams, twitter, facebook, web);"
        " clicks on it are attributed there.",
    )
    slug: str | None = Field(
        None, description="A custom code: 3–64 of A–Z a–z 0–9 - _, unique whatever its case."
    )
    expires_at: str | None = Field(None, description="ISO 8601: the link answers 410 after.")
    expires_in: StrictInt | None = Field(None, description="Seconds until the link expires.")
    max_clicks: StrictInt | None = Field(
        None, description="People's clicks allowed (link-preview bots never count)."
    )
    password: str | None = Field(
        None, description="People must enter it; bots see neither the GIF nor its URL."
    )


@router.post("/assets", status_code=201, summary="Upload a GIF")
async def upload_asset(request: Request, response: Response) -> dict[str, Any]:
    """Upload a GIF as multipart field ``file`` with optional ``title``, ``tags``
    (comma-separated) and ``description``. A new GIF answers 201; bytes the caller
    uploaded before answer 200 with their existing asset, unchanged, and
    ``already_uploaded: true``. Another owner's copy of the same bytes is never
    shown: each owner gets an asset of their own."""
    service = service_of(request)
    key = await authorise(request, Scope.UPLOAD)
    received = await receive_upload(request, service)
    try:
        meta = service.uploads.clean_metadata(
            received.fields.get("title"),
            received.fields.get("tags"),
            received.fields.get("description"),
        )
    except Exception:
        received.sink.discard()
        raise
    result = await run_in_threadpool(service.uploads.ingest, received.sink, meta, key)
    response.status_code = 201 if result.created else 200
    body = await run_in_threadpool(asset_json, service, result.asset)
    body["already_uploaded"] = not result.created
    if not result.created:
        body["message"] = "You uploaded this GIF before: this is your existing GIF, unchanged."
    return body


@router.get("/assets/{asset_id}", summary="Describe an asset")
async def get_asset(asset_id: str, request: Request) -> dict[str, Any]:
    service = service_of(request)
    key = await authorise(request, Scope.READ)
    record = await run_in_threadpool(service.catalog.require, asset_id)
    service.access.check_view(key, record)
    return await run_in_threadpool(asset_json, service, record)


def asset_json(service: Any, record: AssetRecord, expires_in: int | None = None) -> dict[str, Any]:
    """The asset's API representation with its ``renditions`` (signed when asked)."""
    body = record.to_json(service.settings.base_url)
    sign = None
    if expires_in is not None:
        sign = lambda url: service.signing.sign(url, expires_in)  # noqa: E731
    gif = {
        "url": body["gif_url"],
        "width": record.width,
        "height": record.height,
        "bytes": record.bytes,
        "content_type": record.content_type,
    }
    stored = service.renditions.renditions(record.sha256)
    body["renditions"] = renditions_json(body["canonical_url"], gif, stored, sign)
    return body


@router.get("/assets/{asset_id}/content", summary="The GIF bytes, whatever its status")
async def asset_content(asset_id: str, request: Request) -> Response:
    """Lets key holders (uploaders, moderators) see a GIF before it is public."""
    service = service_of(request)
    key = await authorise(request, Scope.READ)
    record = await run_in_threadpool(service.catalog.require, asset_id)
    service.access.check_view(key, record)
    path = await run_in_threadpool(service.catalog.blob_path, record)
    headers = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
    if path is not None:
        return FileResponse(path, media_type=record.content_type, headers=headers)
    size = await run_in_threadpool(service.blobs.size, record.sha256)
    if size is None:
        raise NotFound("the bytes of this asset are no longer stored")
    chunks = service.blobs.iter_range(record.sha256, 0, size - 1)
    return StreamingResponse(
        iterate_in_threadpool(chunks),
        media_type=record.content_type,
        headers={**headers, "Content-Length": str(size)},
    )


@router.post("/assets/{asset_id}/links", status_code=201, summary="Create a short link")
async def create_link(asset_id: str, body: LinkRequest, request: Request) -> dict[str, Any]:
    service = service_of(request)
    key = await authorise(request, Scope.LINKS)
    return await run_in_threadpool(
        lambda: service.sharing.create(
            asset_id,
            title=body.title,
            tags=body.tags,
            via=body.via,
            owner=key,
            controls=parse_controls(
                slug=body.slug,
                expires_at=body.expires_at,
                expires_in=body.expires_in,
                max_clicks=body.max_clicks,
                password=body.password,
            ),
        )
    )


class AssetChange(BaseModel):
    """Body of ``PATCH /api/v1/assets/{asset_id}``: any of the fields."""

    model_config = ConfigDict(extra="forbid", strict=True)  # true is not 1, "1" is not 1

    title: str | None = Field(None, description="The GIF's title.")
    tags: list[str] | str | None = Field(None, description="Tags, a list or comma-separated.")
    description: str | None = Field(None, description="The GIF's description.")
    private: StrictBool | None = Field(
        None, description="true: the GIF and its page are served only through signed URLs."
    )


class SignedUrlRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # true is not 1, "1" is not 1

    expires_in: int = Field(3600, description="Seconds the URLs stay valid.")


@router.patch("/assets/{asset_id}", summary="Change a GIF's text or privacy")
async def change_asset(asset_id: str, body: AssetChange, request: Request) -> dict[str, Any]:
    """The uploader (or an admin) may edit the title, tags and description (checked
    like upload text) and make a GIF private: its bytes and page are then served only
    through signed URLs, and its short links stop resolving. Cards that platforms
    already cached are theirs to refresh."""
    service = service_of(request)
    key = await authorise(request, Scope.UPLOAD)
    if not body.model_fields_set:
        raise InvalidInput(
            "give at least one of title, tags, description and private", code="empty_change"
        )
    record = await run_in_threadpool(
        lambda: service.editor.edit(
            asset_id,
            key,
            title=body.title,
            tags=body.tags,
            description=body.description,
            private=body.private,
        )
    )
    return await run_in_threadpool(asset_json, service, record)


@router.post("/assets/{asset_id}/signed-url", summary="Mint signed URLs for an asset")
async def signed_url(asset_id: str, body: SignedUrlRequest, request: Request) -> dict[str, Any]:
    """Signed, expiring URLs for the GIF bytes and its page (for private GIFs, or when
    the deployment requires signatures for all bytes)."""
    service = service_of(request)
    key = await authorise(request, Scope.READ)
    record = await run_in_threadpool(service.catalog.require, asset_id)
    urls = service.signing.urls(record, body.expires_in, key)
    signed = await run_in_threadpool(asset_json, service, record, body.expires_in)
    urls["renditions"] = signed["renditions"]
    return urls


@router.get("/links/{code}", summary="Describe a short link")
async def get_link(code: str, request: Request) -> dict[str, Any]:
    """The link and its click count, for its GIF's uploader and admins (the same
    policy as the link's stats)."""
    service = service_of(request)
    key = await authorise(request, Scope.READ)
    link = await run_in_threadpool(service.sharing.get, code)
    if link is None:
        raise NotFound(f"no short link {code[:64]!r}")
    record = await run_in_threadpool(service.catalog.require, link["asset_id"])
    service.access.check_stats(key, record)
    metrics = await run_in_threadpool(service.tracker.get_short_link_metrics, link["short_code"])
    return {**service.sharing.to_json(link), "clicks": metrics["clicks"]}


# analytics -----------------------------------------------------------------------


@dataclass(frozen=True)
class StatsParams:
    """The query parameters every stats route takes."""

    start: str | None = Query(
        None, alias="from", max_length=40, description="ISO 8601 or epoch seconds."
    )
    end: str | None = Query(
        None, alias="to", max_length=40, description="ISO 8601 or epoch seconds."
    )
    interval: str | None = Query(None, max_length=8, description="Series buckets: hour or day.")
    format: str = Query("json", max_length=8, description="json or csv.")

    def window(self) -> Window:
        return make_window(self.start, self.end, self.interval)


def _stats_response(report: dict[str, Any], fmt: str, to_csv: Any, name: str) -> Any:
    if fmt == "csv":
        return PlainTextResponse(
            to_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    if fmt != "json":
        raise InvalidInput("format must be json or csv", code="bad_format")
    return report


@router.get("/assets/{asset_id}/stats", summary="Views, plays, clicks and CTR of an asset")
async def asset_stats(
    asset_id: str,
    request: Request,
    params: StatsParams = Depends(),
) -> Any:
    """Totals (seed metric keys), ``platforms`` and a zero-filled ``series`` for
    ``from``–``to`` (ISO 8601 or epoch seconds) by ``interval`` hour or day;
    ``format=csv`` gives the series as CSV."""
    service = service_of(request)
    key = await authorise(request, Scope.STATS)
    window = params.window()
    record = await run_in_threadpool(service.catalog.require, asset_id)
    service.access.check_stats(key, record)
    report = await run_in_threadpool(lambda: service.stats.report(window, asset_id=record.asset_id))
    return _stats_response(report, params.format, series_csv, f"{record.asset_id}-stats")


@router.get("/links/{code}/stats", summary="Views, plays, clicks and CTR of a short link")
async def link_stats(
    code: str,
    request: Request,
    params: StatsParams = Depends(),
) -> Any:
    service = service_of(request)
    key = await authorise(request, Scope.STATS)
    window = params.window()
    link = await run_in_threadpool(service.sharing.get, code)
    if link is None:
        raise NotFound(f"no short link {code[:64]!r}")
    record = await run_in_threadpool(service.catalog.require, link["asset_id"])
    service.access.check_stats(key, record)
    report = await run_in_threadpool(
        lambda: service.stats.report(window, short_code=link["short_code"])
    )
    report["asset_id"] = link["asset_id"]
    return _stats_response(report, params.format, series_csv, f"{link['short_code']}-stats")


@router.get("/stats", summary="Views, plays, clicks and CTR of every asset together")
async def overall_stats(
    request: Request,
    params: StatsParams = Depends(),
) -> Any:
    """The same report as an asset's, over every asset (``format=csv`` for the series)."""
    service = service_of(request)
    key = await authorise(request, Scope.STATS)
    window = params.window()
    scope = await run_in_threadpool(service.access.stats_scope, key)
    report = await run_in_threadpool(lambda: service.stats.report(window, asset_ids=scope))
    return _stats_response(report, params.format, series_csv, "all-stats")


@router.get("/stats/top", summary="Top assets by a metric")
async def top_assets(
    request: Request,
    metric: str = Query("views", max_length=16),
    limit: int = Query(10, ge=1, le=100),
    min_views: int = Query(0, ge=0),
    params: StatsParams = Depends(),
) -> Any:
    """``metric``: views, plays, clicks, ctr or play_rate; ``min_views`` keeps a GIF
    seen twice from topping the CTR list. With ``interval``, each asset carries its
    series."""
    service = service_of(request)
    key = await authorise(request, Scope.STATS)
    window = params.window()
    scope = await run_in_threadpool(service.access.stats_scope, key)
    report = await run_in_threadpool(
        lambda: service.stats.top(
            window,
            metric=metric,
            limit=limit,
            min_views=min_views,
            with_series=bool(params.interval),
            asset_ids=scope,
        )
    )
    return _stats_response(report, params.format, top_csv, "top-assets")


@router.get("/stats/gif-api", summary="GIF API clients: searches, impressions and shares")
async def gif_api_usage(
    request: Request, days: int = Query(30, ge=1, le=MAX_REPORT_DAYS)
) -> dict[str, Any]:
    """What Tenor- and GIPHY-compatible clients did over the last ``days`` days, per
    calling key, ``client_key`` and platform (``via``); a key sees its own calls,
    admins every client's."""
    service = service_of(request)
    key = await authorise(request, Scope.STATS)
    owner = service.access.usage_scope(key)
    rows = await run_in_threadpool(service.gif_api_usage.report, days, owner)
    totals = {
        "searches": sum(r.searches for r in rows),
        "impressions": sum(r.impressions for r in rows),
        "shares": sum(r.shares for r in rows),
    }
    return {"days": days, "totals": totals, "clients": [r.to_json() for r in rows]}

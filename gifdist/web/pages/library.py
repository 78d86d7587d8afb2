"""The library: the viewer's own GIFs (everyone's for admins), searched and sorted."""

from __future__ import annotations

from collections import Counter
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from gifdist.analytics.tracker import metrics_from_counts
from gifdist.assets.model import AssetRecord
from gifdist.media.rendition_store import rendition_url
from gifdist.media.renditions import RenditionKind
from gifdist.web.pages.base import page, page_number, param, service_of, to_signin
from gifdist.web.pages.signin import current_user
from gifdist.wiring import Service

router = APIRouter(include_in_schema=False)

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
        return to_signin(request)
    params = request.query_params
    page_no = page_number(param(params, "page", 8))
    sort = param(params, "sort", 16)
    sort = sort if sort in dict(SORTS) else "new"
    query = param(params, "q", 200)
    service = service_of(request)
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

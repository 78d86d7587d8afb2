"""The public gallery: search box, tag pages, trending, infinite scroll of tiny GIFs.

Only approved, public GIFs appear (the search index holds nothing else). The page
renders its first results on the server, so it works without JavaScript;
``gallery.js`` then loads more from ``/gifs/more`` as the reader scrolls.
``GIFDIST_GALLERY=off`` turns both routes into 404s.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from gifdist.assets import AssetRecord
from gifdist.errors import GifdistError, NotFound
from gifdist.search import RenditionKind, SearchPage, media_of
from gifdist.web.pages.base import page
from gifdist.web.pages.signin import current_user
from gifdist.wiring import Service

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 24
MAX_OFFSET = 5000
TOP_TAGS = 12


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    if not service.settings.gallery:
        raise NotFound("There is no gallery on this gifdist.")
    return service


@router.get("/gifs")
async def gallery(request: Request) -> Response:
    """Trending GIFs, or the results of ``q`` (a search) or ``tag`` (a tag page)."""
    service = _service(request)
    q, tag = _text(request, "q"), _text(request, "tag")
    offset = _offset(request)
    problem = ""
    try:
        found, total, tags = await run_in_threadpool(_first_page, service, q or tag, offset)
    except GifdistError as exc:
        found, total, tags, problem = [], 0, [], exc.message
    more = offset + len(found) < total
    return page(
        "gallery.html",
        await current_user(request),
        status=400 if problem else 200,
        current="gallery",
        q=q,
        tag=tag,
        items=found,
        total=total,
        tags=tags,
        problem=problem,
        next_offset=offset + len(found) if more else None,
    )


@router.get("/gifs/more")
async def more(request: Request) -> JSONResponse:
    """The next results of the same query, for infinite scroll."""
    service = _service(request)
    words = _text(request, "q") or _text(request, "tag")
    offset = _offset(request)
    result = await run_in_threadpool(_results, service, words, offset)
    items = [_item(service, r) for r in result[0]]
    end = offset + len(result[1].asset_ids)
    headers = {"Cache-Control": "public, max-age=30"}
    next_offset = end if end < result[1].total and result[1].asset_ids else None
    return JSONResponse({"items": items, "next": next_offset}, headers=headers)


def _first_page(
    service: Service, words: str, offset: int
) -> tuple[list[dict[str, Any]], int, list[str]]:
    records, found = _results(service, words, offset)
    tags = (
        [t.tag for t in service.search.related_tags(words, limit=TOP_TAGS)]
        if words
        else [c.tag for c in service.search.categories(limit=TOP_TAGS)]
    )
    return [_item(service, r) for r in records], found.total, tags


def _results(service: Service, words: str, offset: int) -> tuple[list[AssetRecord], SearchPage]:
    if words:
        found = service.search.search(words, limit=PAGE_SIZE, offset=offset)
    else:
        found = service.search.featured(limit=PAGE_SIZE, offset=offset)
    records = [service.catalog.get(a) for a in found.asset_ids]
    return [r for r in records if r is not None and r.is_public], found


def _item(service: Service, record: AssetRecord) -> dict[str, Any]:
    media = media_of(record, service.settings.base_url, service.search_renditions)
    tiny = media.get(RenditionKind.TINY_GIF) or media[RenditionKind.GIF]
    return {
        "id": record.asset_id,
        "title": record.title or "Untitled GIF",
        "page": f"/a/{record.asset_id}",
        "img": tiny.url,
        "width": tiny.width,
        "height": tiny.height,
    }


def _text(request: Request, name: str) -> str:
    return request.query_params.get(name, "").strip()[:500]


def _offset(request: Request) -> int:
    try:
        return max(0, min(int(request.query_params.get("offset", "0")), MAX_OFFSET))
    except ValueError:
        return 0

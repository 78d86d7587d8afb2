"""Tenor's v2 API shape under ``/v2``: GIF pickers built for Tenor work unchanged.

Responses follow Tenor's public reference: ``results`` of response objects with
``media_formats`` (``gif``, ``mediumgif``, ``tinygif``, ``mp4``, ``tinymp4``,
``webp``, ``tinywebp``, … each ``url``, ``dims``, ``duration``, ``size``) and an
opaque ``next`` to pass back as ``pos``. docs/gif-apis.md lists the mapping.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from gifdist.analytics.tracker import EventType
from gifdist.assets import AssetRecord
from gifdist.errors import InvalidInput, NotFound
from gifdist.search import GifApi, Rendition, RenditionKind, SearchPage, media_of
from gifdist.web.api.gif_apis import (
    MAX_LIMIT,
    ClientUsage,
    Cursor,
    choice_param,
    client_usage,
    gif_api_caller,
    ids_param,
    int_param,
    locale_param,
    public_records,
    text_param,
)
from gifdist.web.auth import service_of
from gifdist.wiring import Service

router = APIRouter(prefix="/v2", tags=["Tenor v2 compatible"])

DEFAULT_LIMIT = 20
CONTENT_FILTERS = ("off", "low", "medium", "high")  # every served GIF is moderated already
# Tenor format name → the renditions that can stand for it, best first.
FORMATS: dict[str, tuple[RenditionKind, ...]] = {
    "gif": (RenditionKind.GIF,),
    "mediumgif": (RenditionKind.GIF,),
    "tinygif": (RenditionKind.TINY_GIF, RenditionKind.GIF),
    "nanogif": (RenditionKind.TINY_GIF,),
    "mp4": (RenditionKind.MP4,),
    "loopedmp4": (RenditionKind.MP4,),
    "tinymp4": (RenditionKind.TINY_MP4,),
    "nanomp4": (RenditionKind.TINY_MP4,),
    "webp": (RenditionKind.WEBP,),
    "tinywebp": (RenditionKind.TINY_WEBP,),
    "nanowebp": (RenditionKind.TINY_WEBP,),
    "gifpreview": (RenditionKind.STILL,),
    "tinygifpreview": (RenditionKind.TINY_STILL,),
    "nanogifpreview": (RenditionKind.TINY_STILL,),
}
# Names Tenor documents that gifdist never has (transparent stickers, WebM): accepted
# in media_filter, never present.
ABSENT_FORMATS = frozenset(
    {
        "preview",
        "webm",
        "tinywebm",
        "nanowebm",
        "webp_transparent",
        "tinywebp_transparent",
        "nanowebp_transparent",
        "gif_transparent",
        "tinygif_transparent",
        "nanogif_transparent",
    }
)
SHORTHANDS = {"minimal": ("gif", "tinygif", "mp4"), "basic": ("gif", "tinygif", "mp4", "tinymp4")}


def _json(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, headers={"Cache-Control": "private, max-age=60"})


@router.get("/search", summary="Tenor-compatible search")
async def search(request: Request) -> JSONResponse:
    """Public GIFs matching ``q``, best first; ``next`` pages on as ``pos``."""
    service = service_of(request)
    usage = client_usage(request, GifApi.TENOR, await gif_api_caller(request, "key"))
    q = text_param(request, "q")
    return await _results_page(
        request, usage, lambda limit, offset: service.search.search(q, limit=limit, offset=offset)
    )


@router.get("/featured", summary="Tenor-compatible featured GIFs")
async def featured(request: Request) -> JSONResponse:
    """Trending GIFs (clicks and shares of the last day), then the newest."""
    service = service_of(request)
    usage = client_usage(request, GifApi.TENOR, await gif_api_caller(request, "key"))
    return await _results_page(
        request, usage, lambda limit, offset: service.search.featured(limit=limit, offset=offset)
    )


@router.get("/posts", summary="Tenor-compatible GIFs by id")
async def posts(request: Request) -> JSONResponse:
    """The public GIFs among ``ids`` (others are left out), in the order asked."""
    service = service_of(request)
    usage = client_usage(request, GifApi.TENOR, await gif_api_caller(request, "key"))
    formats = media_filter(request)
    _common_params(request)
    records = await public_records(service, ids_param(request))
    usage.searched(len(records))
    return _json({"results": [result_object(service, r, formats) for r in records]})


@router.get("/categories", summary="Tenor-compatible categories")
async def categories(request: Request) -> JSONResponse:
    """The most used tags, each with its newest GIF and the search that opens it."""
    service = service_of(request)
    await gif_api_caller(request, "key")
    locale = locale_param(request)
    choice_param(request, "type", "featured", ("featured", "trending"))
    choice_param(request, "contentfilter", "off", CONTENT_FILTERS)
    found = await run_in_threadpool(service.search.categories, limit=DEFAULT_LIMIT)
    records = {r.asset_id: r for r in await public_records(service, [c.asset_id for c in found])}
    base = service.settings.base_url
    tags = [
        {
            "searchterm": c.tag,
            "path": f"{base}/v2/search?q={quote(c.tag)}&locale={locale}&component=categories",
            "image": _tiny_gif_url(service, records[c.asset_id]),
            "name": f"#{c.tag}",
        }
        for c in found
        if c.asset_id in records
    ]
    return _json({"locale": locale, "tags": tags})


@router.get("/autocomplete", summary="Tenor-compatible autocomplete")
async def autocomplete(request: Request) -> JSONResponse:
    """Tags that complete what was typed, most used first."""
    service = service_of(request)
    await gif_api_caller(request, "key")
    locale = locale_param(request)
    limit = int_param(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    q = text_param(request, "q")
    results = await run_in_threadpool(service.search.autocomplete, q, limit=limit)
    return _json({"locale": locale, "results": results})


@router.get("/search_suggestions", summary="Tenor-compatible search suggestions")
async def search_suggestions(request: Request) -> JSONResponse:
    """Related tags: the most common tags among the best matches of ``q``."""
    service = service_of(request)
    await gif_api_caller(request, "key")
    locale = locale_param(request)
    limit = int_param(request, "limit", 8, 1, MAX_LIMIT)
    q = text_param(request, "q")
    related = await run_in_threadpool(service.search.related_tags, q, limit=limit)
    return _json({"locale": locale, "results": [t.tag for t in related]})


@router.get("/trending_terms", summary="Tenor-compatible trending terms")
async def trending_terms(request: Request) -> JSONResponse:
    """The most used tags of public GIFs."""
    service = service_of(request)
    await gif_api_caller(request, "key")
    locale = locale_param(request)
    limit = int_param(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    found = await run_in_threadpool(service.search.categories, limit=limit)
    return _json({"locale": locale, "results": [c.tag for c in found]})


@router.get("/registershare", summary="Tenor-compatible share registration")
@router.post("/registershare", include_in_schema=False)
async def registershare(request: Request) -> JSONResponse:
    """Counts a share of the GIF ``id`` in its analytics (on the platform ``via`` names)
    and in the calling client's usage."""
    service = service_of(request)
    caller = await gif_api_caller(request, "key")
    usage = client_usage(request, GifApi.TENOR, caller)
    locale_param(request)
    asset_id = text_param(request, "id").strip()
    records = await public_records(service, [asset_id]) if asset_id else []
    if not records:
        raise NotFound(f"no public GIF with id {asset_id[:70]!r}")
    client = {
        "client_key": text_param(request, "client_key")[:64],
        "key_id": caller.key_id if caller else "",
        "q": text_param(request, "q")[:200],
        "api": "tenor",
    }
    service.events.offer(
        service.tracker.make_event(
            records[0].asset_id, EventType.SHARE, usage.platform, None, client
        )
    )
    usage.shared()
    return JSONResponse({}, headers={"Cache-Control": "no-store"})


async def _results_page(
    request: Request, usage: ClientUsage, fetch: Callable[[int, int], SearchPage]
) -> JSONResponse:
    service = service_of(request)
    formats = media_filter(request)
    limit = int_param(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    cursor = Cursor(service.secret_key)
    offset = cursor.decode(request.query_params.get("pos"))
    _common_params(request)
    page = await run_in_threadpool(fetch, limit, offset)
    records = await public_records(service, page.asset_ids)
    end = offset + len(page.asset_ids)
    next_pos = cursor.encode(end) if end < page.total and page.asset_ids else ""
    usage.searched(len(records))
    return _json(
        {"results": [result_object(service, r, formats) for r in records], "next": next_pos}
    )


def _common_params(request: Request) -> None:
    """Parameters Tenor clients send that need no work here, checked all the same."""
    locale_param(request)
    choice_param(request, "contentfilter", "off", CONTENT_FILTERS)
    choice_param(request, "random", "false", ("true", "false"))


def media_filter(request: Request) -> tuple[str, ...]:
    """The Tenor format names asked for (every one gifdist has, when none is given)."""
    raw = request.query_params.get("media_filter", "").strip().lower()
    if not raw:
        return tuple(FORMATS)
    names: list[str] = []
    for name in (n.strip() for n in raw.split(",")):
        if name in SHORTHANDS:
            names += SHORTHANDS[name]
        elif name in FORMATS or name in ABSENT_FORMATS:
            names.append(name)
        elif name:
            raise InvalidInput(
                f"unknown media_filter format {name[:40]!r}", code="invalid_media_filter"
            )
    return tuple(dict.fromkeys(n for n in names if n in FORMATS))


def media_formats(
    service: Service, record: AssetRecord, formats: tuple[str, ...]
) -> dict[str, Any]:
    media = media_of(record, service.settings.base_url, service.search_renditions)
    found: dict[str, Any] = {}
    for name in formats:
        rendition = next((media[k] for k in FORMATS[name] if k in media), None)
        if rendition is not None:
            found[name] = _media_object(rendition)
    return found


def _media_object(rendition: Rendition) -> dict[str, Any]:
    return {
        "url": rendition.url,
        "dims": [rendition.width, rendition.height],
        "duration": round(rendition.duration_ms / 1000, 3),
        "size": rendition.bytes,
    }


def result_object(
    service: Service, record: AssetRecord, formats: tuple[str, ...]
) -> dict[str, Any]:
    """One Tenor response object for a public GIF."""
    page_url = f"{service.settings.base_url}/a/{record.asset_id}"
    return {
        "id": record.asset_id,
        "title": record.title,
        "media_formats": media_formats(service, record, formats),
        "created": record.created_at.timestamp(),
        "content_description": record.description or record.title,
        "itemurl": page_url,
        "url": page_url,
        "tags": list(record.tags),
        "flags": [],
        "hasaudio": False,
        "hascaption": False,
        "bg_color": "",
    }


def _tiny_gif_url(service: Service, record: AssetRecord) -> str:
    media = media_of(record, service.settings.base_url, service.search_renditions)
    return (media.get(RenditionKind.TINY_GIF) or media[RenditionKind.GIF]).url

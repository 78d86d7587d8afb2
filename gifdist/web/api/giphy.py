"""GIPHY's v1 GIF API shape under ``/v1/gifs``: GIPHY clients work unchanged.

Responses follow GIPHY's public reference: ``data`` (GIF objects with ``images``
renditions whose numbers are strings, as GIPHY sends them), ``pagination``
(``total_count``, ``count``, ``offset``) and ``meta`` (``status``, ``msg``,
``response_id``). docs/gif-apis.md lists the mapping.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from gifdist.assets import AssetRecord, is_valid_asset_id
from gifdist.errors import NotFound
from gifdist.search import GifApi, Rendition, RenditionKind, SearchPage, media_of
from gifdist.web.api.gif_apis import (
    MAX_LIMIT,
    MAX_OFFSET,
    ClientUsage,
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

router = APIRouter(prefix="/v1/gifs", tags=["GIPHY v1 compatible"])

DEFAULT_LIMIT = 25
RATINGS = ("y", "g", "pg", "pg-13", "r")  # every served GIF passed moderation: all are "g"
GIF_KINDS = (RenditionKind.GIF,)
TINY_KINDS = (RenditionKind.TINY_GIF, RenditionKind.GIF)
# GIPHY rendition name → (gif kinds, still kinds, mp4 kinds, webp kinds), best first.
IMAGES: dict[str, tuple[tuple[RenditionKind, ...], ...]] = {
    "original": (GIF_KINDS, (), (RenditionKind.MP4,), (RenditionKind.WEBP,)),
    "downsized": (GIF_KINDS, (), (), ()),
    "downsized_large": (GIF_KINDS, (), (), ()),
    "downsized_medium": (GIF_KINDS, (), (), ()),
    "fixed_height": (GIF_KINDS, (), (RenditionKind.MP4,), (RenditionKind.WEBP,)),
    "fixed_width": (GIF_KINDS, (), (RenditionKind.MP4,), (RenditionKind.WEBP,)),
    "fixed_height_small": (TINY_KINDS, (), (RenditionKind.TINY_MP4,), (RenditionKind.TINY_WEBP,)),
    "fixed_width_small": (TINY_KINDS, (), (RenditionKind.TINY_MP4,), (RenditionKind.TINY_WEBP,)),
    "preview_gif": (TINY_KINDS, (), (), ()),
    "original_still": ((), (RenditionKind.STILL,), (), ()),
    "fixed_height_still": ((), (RenditionKind.STILL,), (), ()),
    "fixed_width_still": ((), (RenditionKind.STILL,), (), ()),
    "downsized_still": ((), (RenditionKind.STILL,), (), ()),
    "fixed_height_small_still": ((), (RenditionKind.TINY_STILL, RenditionKind.STILL), (), ()),
    "fixed_width_small_still": ((), (RenditionKind.TINY_STILL, RenditionKind.STILL), (), ()),
}


def _json(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, headers={"Cache-Control": "private, max-age=60"})


def meta() -> dict[str, Any]:
    return {"status": 200, "msg": "OK", "response_id": uuid.uuid4().hex}


@router.get("/search", summary="GIPHY-compatible search")
async def search(request: Request) -> JSONResponse:
    """Public GIFs matching ``q``, best first, ``limit`` from ``offset``."""
    service = service_of(request)
    usage = client_usage(request, GifApi.GIPHY, await gif_api_caller(request, "api_key"))
    q = text_param(request, "q")
    return await _gifs_page(
        request, usage, lambda limit, offset: service.search.search(q, limit=limit, offset=offset)
    )


@router.get("/trending", summary="GIPHY-compatible trending GIFs")
async def trending(request: Request) -> JSONResponse:
    """Trending GIFs (clicks and shares of the last day), then the newest."""
    service = service_of(request)
    usage = client_usage(request, GifApi.GIPHY, await gif_api_caller(request, "api_key"))
    return await _gifs_page(
        request, usage, lambda limit, offset: service.search.featured(limit=limit, offset=offset)
    )


@router.get("/search/tags", summary="GIPHY-compatible tag autocomplete")
async def search_tags(request: Request) -> JSONResponse:
    """Tags completing ``q``, most used first."""
    service = service_of(request)
    await gif_api_caller(request, "api_key")
    limit = int_param(request, "limit", 5, 1, MAX_LIMIT)
    offset = int_param(request, "offset", 0, 0, MAX_OFFSET)
    q = text_param(request, "q")
    found = await run_in_threadpool(service.search.autocomplete, q, limit=offset + limit)
    names = found[offset:]
    return _json(
        {
            "data": [{"name": name, "analytics_response_payload": ""} for name in names],
            "pagination": {"total_count": len(found), "count": len(names), "offset": offset},
            "meta": meta(),
        }
    )


@router.get("", summary="GIPHY-compatible GIFs by id")
async def gifs_by_id(request: Request) -> JSONResponse:
    """The public GIFs among ``ids`` (others are left out), in the order asked."""
    service = service_of(request)
    usage = client_usage(request, GifApi.GIPHY, await gif_api_caller(request, "api_key"))
    choice_param(request, "rating", "g", RATINGS)
    records = await public_records(service, ids_param(request))
    usage.searched(len(records))
    data = [gif_object(service, r) for r in records]
    return _json(
        {
            "data": data,
            "pagination": {"total_count": len(data), "count": len(data), "offset": 0},
            "meta": meta(),
        }
    )


@router.get("/{gif_id}", summary="GIPHY-compatible GIF by id")
async def gif_by_id(gif_id: str, request: Request) -> JSONResponse:
    service = service_of(request)
    usage = client_usage(request, GifApi.GIPHY, await gif_api_caller(request, "api_key"))
    choice_param(request, "rating", "g", RATINGS)
    records = await public_records(service, [gif_id]) if is_valid_asset_id(gif_id) else []
    if not records:
        raise NotFound(f"no public GIF with id {gif_id[:70]!r}")
    usage.searched(1)
    return _json({"data": gif_object(service, records[0]), "meta": meta()})


async def _gifs_page(
    request: Request, usage: ClientUsage, fetch: Callable[[int, int], SearchPage]
) -> JSONResponse:
    service = service_of(request)
    limit = int_param(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = int_param(request, "offset", 0, 0, MAX_OFFSET)
    choice_param(request, "rating", "g", RATINGS)
    locale_param(request, default="en")
    page = await run_in_threadpool(fetch, limit, offset)
    records = await public_records(service, page.asset_ids)
    data = [gif_object(service, r) for r in records]
    usage.searched(len(data))
    pagination = {"total_count": page.total, "count": len(data), "offset": offset}
    return _json({"data": data, "pagination": pagination, "meta": meta()})


def gif_object(service: Service, record: AssetRecord) -> dict[str, Any]:
    """One GIPHY GIF object for a public GIF."""
    base = service.settings.base_url
    page_url = f"{base}/a/{record.asset_id}"
    created = record.created_at.strftime("%Y-%m-%d %H:%M:%S")
    return {
        "type": "gif",
        "id": record.asset_id,
        "url": page_url,
        "slug": record.asset_id,
        "bitly_gif_url": page_url,
        "bitly_url": page_url,
        "embed_url": page_url,
        "username": "",
        "source": "",
        "title": record.title,
        "alt_text": record.description or record.title,
        "rating": "g",
        "content_url": "",
        "source_tld": "",
        "source_post_url": "",
        "is_sticker": 0,
        "import_datetime": created,
        "trending_datetime": "0000-00-00 00:00:00",
        "images": images(service, record),
        "analytics_response_payload": "",
    }


def images(service: Service, record: AssetRecord) -> dict[str, dict[str, str]]:
    media = media_of(record, service.settings.base_url, service.search_renditions)
    found: dict[str, dict[str, str]] = {}
    for name, (gifs, stills, mp4s, webps) in IMAGES.items():
        image = _image(media, gifs, stills, mp4s, webps, record.frames)
        if image:
            found[name] = image
    mp4 = media.get(RenditionKind.MP4)
    if mp4 is not None:
        found["original_mp4"] = {**_dims(mp4), "mp4": mp4.url, "mp4_size": str(mp4.bytes)}
    preview = media.get(RenditionKind.TINY_MP4)
    if preview is not None:
        found["preview"] = {**_dims(preview), "mp4": preview.url, "mp4_size": str(preview.bytes)}
    tiny_webp = media.get(RenditionKind.TINY_WEBP)
    if tiny_webp is not None:
        found["preview_webp"] = {
            **_dims(tiny_webp),
            "url": tiny_webp.url,
            "size": str(tiny_webp.bytes),
        }
    return found


def _image(
    media: dict[RenditionKind, Rendition],
    gifs: tuple[RenditionKind, ...],
    stills: tuple[RenditionKind, ...],
    mp4s: tuple[RenditionKind, ...],
    webps: tuple[RenditionKind, ...],
    frames: int,
) -> dict[str, str]:
    main = _first(media, gifs or stills)
    if main is None:
        return {}
    image = {**_dims(main), "url": main.url, "size": str(main.bytes)}
    if gifs and main.kind is RenditionKind.GIF:
        image["frames"] = str(frames)
    mp4 = _first(media, mp4s)
    if mp4 is not None:
        image |= {"mp4": mp4.url, "mp4_size": str(mp4.bytes)}
    webp = _first(media, webps)
    if webp is not None:
        image |= {"webp": webp.url, "webp_size": str(webp.bytes)}
    return image


def _first(
    media: dict[RenditionKind, Rendition], kinds: tuple[RenditionKind, ...]
) -> Rendition | None:
    return next((media[k] for k in kinds if k in media), None)


def _dims(rendition: Rendition) -> dict[str, str]:
    return {"width": str(rendition.width), "height": str(rendition.height)}

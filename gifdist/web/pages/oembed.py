"""``/oembed``: the oEmbed answer for asset pages and short links."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from gifdist.errors import GifdistError, InvalidInput, NotFound
from gifdist.web.auth import service_of
from gifdist.web.pages.embeds import oembed_body
from gifdist.wiring import Service

router = APIRouter()


class NotImplementedFormat(GifdistError):
    code = "unsupported_format"
    status = 501


@router.get("/oembed", summary="oEmbed for asset pages and short links")
async def oembed(
    request: Request,
    url: str = Query(..., max_length=2048),
    format: str = Query("json", max_length=16),
    maxwidth: int | None = Query(None, ge=1, le=10000),
    maxheight: int | None = Query(None, ge=1, le=10000),
) -> JSONResponse:
    """``type: video`` (the player) once the MP4 is made, else ``type: photo``
    (the GIF); the rendition that fits ``maxwidth``/``maxheight`` is chosen."""
    if format not in ("json", ""):  # oEmbed says 501 for formats we do not serve
        raise NotImplementedFormat("only format=json is supported")
    service = service_of(request)
    base_url = service.settings.base_url
    record = await run_in_threadpool(_resolve_embed_url, service, url)
    renditions = await run_in_threadpool(service.renditions.renditions, record.sha256)
    body = oembed_body(base_url, record, renditions, maxwidth, maxheight)
    shared = min(3600, service.settings.shared_cache_seconds)
    return JSONResponse(body, headers={"Cache-Control": f"public, max-age=3600, s-maxage={shared}"})


# consumers probe with HEAD before fetching (same answer without the body)
router.add_api_route("/oembed", oembed, methods=["HEAD"], include_in_schema=False)


def _resolve_embed_url(service: Service, url: str) -> Any:
    """The public asset an oEmbed ``url`` (asset page or short link) points at."""
    base = urlparse(service.settings.base_url)
    parsed = urlparse(url)
    if (parsed.scheme, parsed.netloc) != (base.scheme, base.netloc):
        raise NotFound("that URL is not served by this gifdist")
    path = parsed.path[len(base.path) :] if base.path else parsed.path
    if path.startswith("/s/"):
        link = service.sharing.get(path[3:])
        if link is None:
            raise NotFound("no such short link")
        path = f"/a/{link['asset_id']}"
    if not path.startswith("/a/"):
        raise InvalidInput("url must be an asset page or a short link", code="bad_url")
    asset_id = path[3:].removesuffix(".gif")
    record = service.catalog.get(asset_id)
    if record is None or not record.is_public:
        raise NotFound("no such GIF")
    return record

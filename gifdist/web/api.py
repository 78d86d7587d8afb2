"""The JSON API under ``/api/v1``: thin routes over ``Service``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse

from gifdist.errors import NotFound
from gifdist.keys import ApiKey, Scope, bearer_token
from gifdist.service import Service
from gifdist.web.multipart import receive_upload
from gifdist.web.session import check_csrf

router = APIRouter(prefix="/api/v1")


class LinkRequest(BaseModel):
    """Body of ``POST /api/v1/assets/{asset_id}/links``."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, description="Title shown in link previews.")
    tags: list[str] | str | None = Field(None, description="Tags, a list or comma-separated.")
    via: str | None = Field(
        None,
        description="Platform the link is for (slack, discord, teams, twitter, facebook, web);"
        " clicks on it are attributed there.",
    )


def service_of(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def authorise(request: Request, scope: Scope) -> ApiKey:
    """The caller's key, checked for ``scope`` (401 without a key, 403 without the scope).

    A bearer token wins; otherwise a browser session cookie is accepted, with its
    CSRF token required on state-changing methods.
    """
    service = service_of(request)
    token = bearer_token(request.headers.get("authorization"))
    session = None if token else request.app.state.sessions.read(request)
    if session is not None:
        if request.method not in SAFE_METHODS:
            check_csrf(session, request.headers.get("x-csrf-token"))
        key = await run_in_threadpool(service.keys.by_id, session.key_id)
    else:
        key = await run_in_threadpool(service.keys.verify, token)
    key.require(scope)
    return key


@router.post("/assets", status_code=201, summary="Upload a GIF")
async def upload_asset(request: Request, response: Response) -> dict[str, Any]:
    """Upload a GIF as multipart field ``file`` with optional ``title``, ``tags``
    (comma-separated) and ``description``. New bytes answer 201; bytes already
    stored answer 200 with the existing asset."""
    service = service_of(request)
    key = await authorise(request, Scope.UPLOAD)
    received = await receive_upload(request, service)
    try:
        meta = service.clean_metadata(
            received.fields.get("title"),
            received.fields.get("tags"),
            received.fields.get("description"),
        )
    except Exception:
        received.sink.discard()
        raise
    result = await run_in_threadpool(service.ingest_upload, received.sink, meta, key)
    response.status_code = 201 if result.created else 200
    return result.asset.to_json(service.settings.base_url)


@router.get("/assets/{asset_id}", summary="Describe an asset")
async def get_asset(asset_id: str, request: Request) -> dict[str, Any]:
    service = service_of(request)
    await authorise(request, Scope.READ)
    record = await run_in_threadpool(service.require_asset, asset_id)
    return record.to_json(service.settings.base_url)


@router.get("/assets/{asset_id}/content", summary="The GIF bytes, whatever its status")
async def asset_content(asset_id: str, request: Request) -> FileResponse:
    """Lets key holders (uploaders, moderators) see a GIF before it is public."""
    service = service_of(request)
    await authorise(request, Scope.READ)
    record = await run_in_threadpool(service.require_asset, asset_id)
    path = await run_in_threadpool(service.blob_path, record)
    if path is None:
        raise NotFound("the bytes of this asset are no longer stored")
    return FileResponse(
        path,
        media_type=record.content_type,
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
    )


@router.post("/assets/{asset_id}/links", status_code=201, summary="Create a short link")
async def create_link(asset_id: str, body: LinkRequest, request: Request) -> dict[str, Any]:
    service = service_of(request)
    key = await authorise(request, Scope.LINKS)
    return await run_in_threadpool(
        lambda: service.create_link(
            asset_id, title=body.title, tags=body.tags, via=body.via, owner=key
        )
    )


@router.get("/links/{code}", summary="Describe a short link")
async def get_link(code: str, request: Request) -> dict[str, Any]:
    service = service_of(request)
    await authorise(request, Scope.READ)
    link = await run_in_threadpool(service.get_link, code)
    if link is None:
        raise NotFound(f"no short link {code[:64]!r}")
    return service.link_json(link)

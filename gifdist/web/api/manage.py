"""Owning GIFs and links: list, edit, delete (thin routes over the library, the editor
and the share links)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool
from starlette.concurrency import run_in_threadpool

from gifdist.accounts.keys import Scope
from gifdist.assets.library import SORTS, AssetQuery
from gifdist.web.auth import authorise, service_of

router = APIRouter()


@router.get("/assets", summary="List your GIFs")
async def list_assets(
    request: Request,
    status: str | None = Query(None, max_length=16, description="pending, approved, …"),
    private: StrictBool | None = Query(None),
    tag: str | None = Query(None, max_length=50),
    q: str | None = Query(None, max_length=200, description="Words in the title or tags."),
    sort: str = Query("new", max_length=8, description=" | ".join(SORTS)),
    limit: int = Query(50, ge=1, le=100),
    cursor: str | None = Query(None, max_length=64, description="next_cursor of the last page."),
) -> dict[str, Any]:
    """Your GIFs (admins: everyone's) with their all-time numbers, newest first unless
    ``sort`` says otherwise; follow ``next_cursor`` for the next page."""
    service = service_of(request)
    key = await authorise(request, Scope.READ)
    query = AssetQuery(status, private, tag, q, sort, limit, cursor)
    page = await run_in_threadpool(service.library.list, key, query)
    base = service.settings.base_url
    return {
        "assets": [{**record.to_json(base), **metrics} for record, metrics in page.items],
        "next_cursor": page.next_cursor,
        "capped": page.capped,
    }


@router.delete("/assets/{asset_id}", status_code=204, summary="Delete a GIF for good")
async def delete_asset(asset_id: str, request: Request) -> Response:
    """The GIF, its links and its numbers are removed; its URLs answer 410 Gone. The
    bytes leave storage once no other owner's GIF uses them."""
    service = service_of(request)
    key = await authorise(request, Scope.UPLOAD)
    await run_in_threadpool(service.editor.delete, asset_id, key)
    return Response(status_code=204)


@router.get("/assets/{asset_id}/links", summary="The short links of a GIF")
async def asset_links(asset_id: str, request: Request) -> dict[str, Any]:
    service = service_of(request)
    key = await authorise(request, Scope.READ)
    return {"links": await run_in_threadpool(service.sharing.list, key, asset_id)}


@router.get("/links", summary="List your short links")
async def list_links(request: Request) -> dict[str, Any]:
    """Every link on your GIFs (admins: all links), oldest first."""
    service = service_of(request)
    key = await authorise(request, Scope.READ)
    return {"links": await run_in_threadpool(service.sharing.list, key)}


class LinkChange(BaseModel):
    """Body of ``PATCH /api/v1/links/{code}``: any of the fields."""

    model_config = ConfigDict(extra="forbid", strict=True)  # true is not 1, "1" is not 1

    title: str | None = Field(None, description="Title shown in link previews.")
    tags: list[str] | str | None = Field(None, description="Tags, a list or comma-separated.")
    via: str | None = Field(None, description="Platform the link is for.")


@router.patch("/links/{code}", summary="Change a short link")
async def change_link(code: str, body: LinkChange, request: Request) -> dict[str, Any]:
    """Link-preview cards that platforms already cached are theirs to refresh."""
    service = service_of(request)
    key = await authorise(request, Scope.LINKS)
    return await run_in_threadpool(
        lambda: service.sharing.edit(code, key, title=body.title, tags=body.tags, via=body.via)
    )


@router.delete("/links/{code}", status_code=204, summary="Delete a short link")
async def delete_link(code: str, request: Request) -> Response:
    service = service_of(request)
    key = await authorise(request, Scope.LINKS)
    await run_in_threadpool(service.sharing.delete, code, key)
    return Response(status_code=204)

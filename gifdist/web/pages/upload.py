"""The upload page: drop or pick GIFs, describe each, send them."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from gifdist.web.pages.base import page, service_of, to_signin
from gifdist.web.pages.signin import current_user

router = APIRouter(include_in_schema=False)


@router.get("/upload")
async def upload_page(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return to_signin(request)
    settings = service_of(request).settings
    return page(
        "upload.html",
        user,
        current="upload",
        max_bytes=settings.max_upload_bytes,
        max_mb=settings.max_upload_bytes // (1024 * 1024),
        max_title=settings.max_title_chars,
        max_description=settings.max_description_chars,
    )

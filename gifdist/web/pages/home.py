"""The home page: what gifdist does, how to upload with the API, a search box."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from gifdist.web.pages.base import page, service_of
from gifdist.web.pages.signin import current_user

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home(request: Request) -> HTMLResponse:
    settings = service_of(request).settings
    return page(
        "home.html",
        await current_user(request),
        base_url=settings.base_url,
        gallery=settings.gallery,
    )

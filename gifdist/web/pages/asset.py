"""The asset page (``/a/{id}``) and the bare player page that platforms embed."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse

from gifdist.analytics.capture import Visit
from gifdist.assets.model import AssetRecord, AssetStatus, is_valid_asset_id
from gifdist.errors import Forbidden, Gone, NotFound
from gifdist.platforms import card_bot
from gifdist.web.auth import service_of
from gifdist.web.hotpath import REVALIDATE, remaining_seconds
from gifdist.web.middleware.client_ip import ClientAddresses
from gifdist.web.middleware.security_headers import FRAMEABLE_CSP
from gifdist.web.pages.base import User, viewer_context
from gifdist.web.pages.embeds import oembed_link, tiny_media
from gifdist.web.pages.owner import owner_panel
from gifdist.web.pages.render import asset_context, render
from gifdist.web.pages.signin import current_user
from gifdist.web.session import COOKIE
from gifdist.wiring import Service

router = APIRouter(include_in_schema=False)


@router.get("/a/{asset_id}")
async def asset_page(asset_id: str, request: Request) -> HTMLResponse:
    """The GIF's page. Its owner (and admins) also get the owner's panel, whatever the
    GIF's status; everyone else sees it only once approved and public (or signed)."""
    service = service_of(request)
    base_url = service.settings.base_url
    record = await run_in_threadpool(service.catalog.get, asset_id)
    gone = record is None and is_valid_asset_id(asset_id)
    if gone and await run_in_threadpool(service.assets.is_gone, "asset", asset_id):
        raise Gone("This GIF was deleted by its owner.")
    if record is None:
        raise NotFound("There is no such GIF.")
    user = await current_user(request) if COOKIE in request.cookies else None
    if user is not None and service.access.may_manage(user[1], record):
        return await _owner_page(request, service, record, user)
    if record.status is not AssetStatus.APPROVED:
        raise NotFound("There is no such GIF.")
    headers = {"Cache-Control": REVALIDATE}
    sign = None
    if record.private:
        refusal = service.signing.refusal(request.url.path, request.url.query)
        if refusal is not None:
            status, message = refusal
            raise NotFound(message) if status == 404 else Forbidden(message)
        remaining = max(1, remaining_seconds(request.query_params.get("expires")))
        sign = lambda url: service.signing.sign(url, remaining)  # noqa: E731
        headers = {"Cache-Control": "private, no-store", "X-Robots-Tag": "noindex"}
    elif service.settings.require_signed_urls:
        sign = lambda url: service.signing.sign(url, 3600)  # noqa: E731
        headers = {"Cache-Control": "private, max-age=300"}
    if user is not None:  # the page names who is signed in: never for a shared cache
        headers["Cache-Control"] = "private, no-store"
    renditions = await run_in_threadpool(service.renditions.renditions, record.sha256)
    bot = card_bot(request.headers.get("user-agent"))
    context = asset_context(base_url, record, renditions=renditions, bot=bot, sign=sign)
    # link-preview bots get their platform's card; signed-in people their name
    headers["Vary"] = "User-Agent, Cookie"
    headers["Link"] = oembed_link(context)
    visit = Visit(
        user_agent=request.headers.get("user-agent"),
        client=client_address_of(request),
        referer=request.headers.get("referer"),
    )
    service.capture.page_view(record.asset_id, visit)
    page = render("asset.html", **context, **viewer_context(user), owner=None, playable=True)
    return HTMLResponse(page, headers=headers)


async def _owner_page(
    request: Request, service: Service, record: AssetRecord, user: User
) -> HTMLResponse:
    """The page with the owner's panel: share, embed, QR, edit, privacy, delete, stats."""
    base_url = service.settings.base_url
    sign = None
    if record.private or service.settings.require_signed_urls:
        sign = lambda url: service.signing.sign(url, 3600)  # noqa: E731
    approved = record.status is AssetStatus.APPROVED
    renditions = await run_in_threadpool(service.renditions.renditions, record.sha256)
    context = asset_context(
        base_url, record, renditions=renditions if approved else {}, bot=None, sign=sign
    )
    if not approved:  # not served publicly yet: the owner sees it through the API
        context["gif_url"] = f"/api/v1/assets/{record.asset_id}/content"
    panel = await run_in_threadpool(owner_panel, service, record, user[1])
    if record.is_public:
        visit = Visit(
            user_agent=request.headers.get("user-agent"),
            client=client_address_of(request),
            referer=request.headers.get("referer"),
        )
        service.capture.page_view(record.asset_id, visit)
    page = render(
        "asset.html", **context, **viewer_context(user), owner=panel, playable=record.is_public
    )
    headers = {"Cache-Control": "private, no-store", "X-Robots-Tag": "noindex", "Vary": "Cookie"}
    return HTMLResponse(page, headers=headers)


@router.get("/a/{asset_id}/player")
async def player_page(asset_id: str, request: Request) -> HTMLResponse:
    """A bare looping video for X's player card and oEmbed iframes (public GIFs)."""
    service = service_of(request)
    record = await run_in_threadpool(service.catalog.get, asset_id)
    if record is None or not record.is_public:
        raise NotFound("There is no such GIF.")
    renditions = await run_in_threadpool(service.renditions.renditions, record.sha256)
    sign = None
    if service.settings.require_signed_urls:
        sign = lambda url: service.signing.sign(url, 3600)  # noqa: E731
    context = asset_context(service.settings.base_url, record, renditions=renditions, sign=sign)
    if request.query_params.get("size") == "tiny":
        context["media"] = tiny_media(context["media"])
    # framed by the platforms that embed it: no frame restriction on this page
    headers = {"Cache-Control": REVALIDATE, "Content-Security-Policy": FRAMEABLE_CSP}
    return HTMLResponse(render("player.html", **context), headers=headers)


def client_address_of(request: Request) -> str:
    """The request's client address, through the deployment's trusted proxies."""
    addresses: ClientAddresses = request.app.state.client_addresses
    return addresses(request.scope)

"""The account pages: sign in (password, then a TOTP code if on), sign out, sign up
from an invite (or openly, when allowed), reset a password from a one-time link, the
account page (keys, password, two-factor, quotas), and the admin's users page.

Forms without a session (sign-in, sign-up, reset) must come from this site's own
pages; forms with one carry its CSRF token.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from gifdist.accounts import totp
from gifdist.accounts.keys import ApiKey, Scope, parse_scopes
from gifdist.accounts.oidc import Pending
from gifdist.accounts.users import Role, User, parse_role
from gifdist.errors import Forbidden, GifdistError, InvalidInput, NotFound, Unauthorized
from gifdist.web.pages.base import NO_STORE, page
from gifdist.web.pages.base import to_signin as _to_signin
from gifdist.web.pages.signin import _safe_next, current_user
from gifdist.web.session import SessionCodec, check_csrf, check_same_origin
from gifdist.wiring import Service

router = APIRouter(include_in_schema=False)

PENDING_SECONDS = 300  # between the password and the TOTP code
KEY_SCOPES = tuple(s for s in Scope)


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def _sessions(request: Request) -> SessionCodec:
    codec: SessionCodec = request.app.state.sessions
    return codec


def _client(request: Request) -> str:
    return str(request.app.state.client_addresses(request.scope))


def _pending(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(_service(request).secret_key, salt="gifdist.signin-totp")


async def _signed_in(request: Request, user: User, target: str) -> Response:
    response = RedirectResponse(target, status_code=303)
    await run_in_threadpool(_sessions(request).issue, response, user.subject)
    return response


# sign in and out -------------------------------------------------------------------


@router.get("/signin")
async def signin_form(request: Request, next: str = "/upload") -> Response:
    settings = _service(request).settings
    return page(
        "signin.html",
        await current_user(request),
        next=_safe_next(next),
        error=None,
        signup=settings.signup,
        sso=_service(request).oidc is not None,
    )


@router.post("/signin")
async def signin(
    request: Request,
    username: str = Form("", max_length=256),
    password: str = Form(""),
    key: str = Form("", max_length=512),
    next: str = Form("/upload", max_length=2048),
) -> Response:
    """A username and password (or, as before, an API key)."""
    service = _service(request)
    check_same_origin(request, service.settings.base_url)  # no signing people in from afar
    target = _safe_next(next)
    try:
        if key.strip() and not username:
            api_key = await run_in_threadpool(service.keys.verify, key.strip())
            response = RedirectResponse(target, status_code=303)
            await run_in_threadpool(_sessions(request).issue, response, api_key.key_id)
            return response
        user = await run_in_threadpool(
            service.signin.password, username, password, _client(request)
        )
    except GifdistError as exc:
        return page(
            "signin.html",
            None,
            status=exc.status,
            next=target,
            error=exc.message,
            username=username[:64],
            signup=service.settings.signup,
            sso=service.oidc is not None,
        )
    if user.totp_secret is None:
        return await _signed_in(request, user, target)
    ticket = _pending(request).dumps({"u": user.user_id, "e": user.session_epoch})
    return page("signin_totp.html", None, ticket=ticket, next=target, error=None)


@router.post("/signin/totp")
async def signin_totp(
    request: Request,
    ticket: str = Form("", max_length=1024),
    code: str = Form("", max_length=32),
    next: str = Form("/upload", max_length=2048),
) -> Response:
    """The second step: a code from the user's authenticator, used once."""
    service = _service(request)
    check_same_origin(request, service.settings.base_url)
    target = _safe_next(next)
    try:
        data = _pending(request).loads(ticket, max_age=PENDING_SECONDS)
    except BadSignature:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("u"), str):
        return page("signin.html", None, status=401, next=target, error="Sign in again.")
    try:
        user = await run_in_threadpool(service.signin.totp, data["u"], code, _client(request))
        if user.session_epoch != data.get("e"):
            raise Unauthorized("sign in again", code="session_expired")
    except GifdistError as exc:
        return page(
            "signin_totp.html",
            None,
            status=exc.status,
            ticket=ticket,
            next=target,
            error=exc.message,
        )
    return await _signed_in(request, user, target)


@router.post("/signout")
async def signout(request: Request, csrf: str = Form("", max_length=256)) -> Response:
    """End the session server side (a copied cookie stops working too)."""
    check_same_origin(request, _service(request).settings.base_url)
    codec = _sessions(request)
    session = await run_in_threadpool(codec.read, request)
    if session is not None:
        check_csrf(session, csrf)
        await run_in_threadpool(codec.end, session)
    response = RedirectResponse("/", status_code=303)
    codec.clear(response)
    return response


# single sign-on (OpenID Connect) ------------------------------------------------------

OIDC_COOKIE = "gifdist_oidc"
OIDC_SECONDS = 600


def _oidc_serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(_service(request).secret_key, salt="gifdist.oidc")


@router.get("/signin/oidc")
async def oidc_begin(request: Request, next: str = "/upload") -> Response:
    """Off to the provider; the state, nonce and PKCE verifier wait in a signed cookie."""
    oidc = _service(request).oidc
    if oidc is None:
        return _link_error(NotFound("Single sign-on is not set up here."))
    try:
        url, pending = await run_in_threadpool(oidc.begin)
    except GifdistError as exc:
        return _link_error(exc)
    response = RedirectResponse(url, status_code=303, headers=NO_STORE)
    value = _oidc_serializer(request).dumps({**pending.to_dict(), "next": _safe_next(next)})
    response.set_cookie(
        OIDC_COOKIE,
        value,
        max_age=OIDC_SECONDS,
        httponly=True,
        samesite="lax",  # the provider's redirect back is a top-level GET
        secure=_sessions(request).secure,
        path="/signin/oidc",
    )
    return response


@router.get("/signin/oidc/callback")
async def oidc_callback(request: Request) -> Response:
    service = _service(request)
    if service.oidc is None:
        return _link_error(NotFound("Single sign-on is not set up here."))
    params = request.query_params
    data: Any = None
    raw = request.cookies.get(OIDC_COOKIE, "")
    if raw and len(raw) < 4096:
        try:
            data = _oidc_serializer(request).loads(raw, max_age=OIDC_SECONDS)
        except BadSignature:
            data = None
    target = _safe_next(data.get("next") if isinstance(data, dict) else None)
    if "error" in params:
        error = Unauthorized(f"The provider said: {params.get('error', '')[:200]}")
        return _sso_refused(error)
    try:
        user = await run_in_threadpool(
            service.oidc.finish,
            Pending.from_dict(data),
            params.get("state", "")[:512],
            params.get("code", "")[:2048],
        )
    except GifdistError as exc:
        return _sso_refused(exc)
    response = await _signed_in(request, user, target)
    response.delete_cookie(OIDC_COOKIE, path="/signin/oidc")
    return response


def _sso_refused(exc: GifdistError) -> HTMLResponse:
    response = page(
        "signin.html", None, status=exc.status, next="/upload", error=exc.message, sso=True
    )
    response.delete_cookie(OIDC_COOKIE, path="/signin/oidc")
    return response


# invites, sign-up and resets ----------------------------------------------------------


@router.get("/invite/{token}")
async def invite_form(token: str, request: Request) -> Response:
    try:
        invite = await run_in_threadpool(_service(request).users.check_invite, token)
    except GifdistError as exc:
        return _link_error(exc)
    role = invite.role.value if invite.role else "member"
    return page("join.html", None, action=f"/invite/{token}", role=role, error=None)


@router.post("/invite/{token}")
async def invite_accept(
    token: str,
    request: Request,
    username: str = Form("", max_length=256),
    password: str = Form(""),
    confirm: str = Form(""),
) -> Response:
    service = _service(request)
    check_same_origin(request, service.settings.base_url)
    try:
        _same(password, confirm)
        user = await run_in_threadpool(service.users.accept_invite, token, username, password)
    except GifdistError as exc:
        if exc.status in (404, 410):
            return _link_error(exc)
        return _join_refused(f"/invite/{token}", exc, username)
    return await _signed_in(request, user, "/account")


def _join_refused(action: str, exc: GifdistError, username: str) -> Response:
    """The join form again, saying why (the chosen name kept, the passwords not)."""
    return page(
        "join.html",
        None,
        status=exc.status,
        action=action,
        error=exc.message,
        username=username[:64],
    )


@router.get("/signup")
async def signup_form(request: Request) -> Response:
    if not _service(request).settings.signup:
        return _link_error(Forbidden("Sign-up is closed here; ask an admin for an invite."))
    return page("join.html", None, action="/signup", role="member", error=None)


@router.post("/signup")
async def signup(
    request: Request,
    username: str = Form("", max_length=256),
    password: str = Form(""),
    confirm: str = Form(""),
) -> Response:
    service = _service(request)
    check_same_origin(request, service.settings.base_url)
    try:
        _same(password, confirm)
        user = await run_in_threadpool(service.users.sign_up, username, password)
    except GifdistError as exc:
        return _join_refused("/signup", exc, username)
    return await _signed_in(request, user, "/account")


@router.get("/reset/{token}")
async def reset_form(token: str, request: Request) -> Response:
    try:
        await run_in_threadpool(_service(request).users.check_reset, token)
    except GifdistError as exc:
        return _link_error(exc)
    return page("reset.html", None, action=f"/reset/{token}", error=None)


@router.post("/reset/{token}")
async def reset(
    token: str, request: Request, password: str = Form(""), confirm: str = Form("")
) -> Response:
    service = _service(request)
    check_same_origin(request, service.settings.base_url)
    try:
        _same(password, confirm)
        user = await run_in_threadpool(service.users.reset_password, token, password)
    except GifdistError as exc:
        if exc.status in (404, 410):
            return _link_error(exc)
        return page(
            "reset.html", None, status=exc.status, action=f"/reset/{token}", error=exc.message
        )
    return await _signed_in(request, user, "/account")


def _same(password: str, confirm: str) -> None:
    if password != confirm:
        raise InvalidInput("the two passwords differ", code="password_mismatch")


def _link_error(exc: GifdistError) -> HTMLResponse:
    return page(
        "error.html",
        None,
        status=exc.status,
        heading="This link cannot be used",
        message=exc.message,
    )


# the account page -----------------------------------------------------------------


async def _account_user(request: Request) -> tuple[Any, User] | None:
    """The signed-in session and its user (None for key sessions and visitors)."""
    signed = await current_user(request)
    if signed is None or signed[1].user_id is None:
        return None
    try:
        user = await run_in_threadpool(_service(request).users.get, signed[1].user_id)
    except GifdistError:
        return None
    return signed, user


def _account_context(service: Service, user: User) -> dict[str, Any]:
    keys = service.keys.of_user(user.user_id)
    usage = service.quotas.usage(user)
    return {
        "me": user,
        "keys": sorted(keys, key=lambda k: (k.revoked_at is not None, k.created_at), reverse=False),
        "scopes": [s for s in KEY_SCOPES if s in user.role.scopes],
        "usage": usage,
    }


async def _account_page(
    request: Request,
    signed: Any,
    user: User,
    *,
    status: int = 200,
    **extra: Any,
) -> HTMLResponse:
    service = _service(request)
    context = await run_in_threadpool(_account_context, service, user)
    extra.setdefault("notice", None)
    extra.setdefault("error", None)
    extra.setdefault("new_key", None)
    extra.setdefault("totp_setup", None)
    return page("account.html", signed, status=status, current="account", **context, **extra)


@router.get("/account")
async def account(request: Request) -> Response:
    found = await _account_user(request)
    if found is None:
        signed = await current_user(request)
        if signed is not None:  # signed in with a key that belongs to no user
            return page(
                "error.html",
                signed,
                status=403,
                heading="This session has no account",
                message="You signed in with an operator key. Sign in with a username instead.",
            )
        return _to_signin(request)
    return await _account_page(request, *found)


@router.post("/account/keys")
async def account_key_create(
    request: Request,
    csrf: str = Form("", max_length=256),
    name: str = Form("", max_length=200),
    scope: list[str] = Form([]),
) -> Response:
    found = await _account_user(request)
    if found is None:
        return _to_signin(request)
    signed, user = found
    check_csrf(signed[0], csrf)
    service = _service(request)
    try:
        if not name.strip():
            raise InvalidInput("give the key a name (what uses it)", code="missing_name")
        scopes = parse_scopes(scope[:20])
        beyond = scopes - user.role.scopes
        if beyond:
            raise Forbidden(
                f"your role ({user.role.value}) does not have: "
                + ", ".join(sorted(s.value for s in beyond)),
                code="scope_beyond_role",
            )
        secret, key = await run_in_threadpool(
            lambda: service.keys.create(name, scopes, user_id=user.user_id)
        )
    except GifdistError as exc:
        return await _account_page(request, signed, user, status=exc.status, error=exc.message)
    return await _account_page(request, signed, user, new_key={"secret": secret, "key": key})


@router.post("/account/keys/{key_id}/revoke")
async def account_key_revoke(
    key_id: str, request: Request, csrf: str = Form("", max_length=256)
) -> Response:
    found = await _account_user(request)
    if found is None:
        return _to_signin(request)
    signed, user = found
    check_csrf(signed[0], csrf)
    service = _service(request)
    revoked = await run_in_threadpool(service.keys.revoke_own, user.user_id, key_id[:64])
    if not revoked:
        return await _account_page(
            request, signed, user, status=404, error="You have no such active key."
        )
    return RedirectResponse("/account?revoked=1", status_code=303)


@router.post("/account/password")
async def account_password(
    request: Request,
    csrf: str = Form("", max_length=256),
    current: str = Form(""),
    password: str = Form(""),
    confirm: str = Form(""),
) -> Response:
    """A new password ends every other session; this browser gets a new one."""
    found = await _account_user(request)
    if found is None:
        return _to_signin(request)
    signed, user = found
    check_csrf(signed[0], csrf)
    service = _service(request)
    try:
        _same(password, confirm)
        changed = await run_in_threadpool(
            service.users.change_password, user.user_id, current, password
        )
    except GifdistError as exc:
        return await _account_page(request, signed, user, status=exc.status, error=exc.message)
    await run_in_threadpool(_sessions(request).end, signed[0])
    return await _signed_in(request, changed, "/account?password=1")


@router.post("/account/totp/start")
async def account_totp_start(request: Request, csrf: str = Form("", max_length=256)) -> Response:
    found = await _account_user(request)
    if found is None:
        return _to_signin(request)
    signed, user = found
    check_csrf(signed[0], csrf)
    secret = totp.new_secret()
    setup = {"secret": secret, "uri": totp.provisioning_uri(secret, user.username)}
    return await _account_page(request, signed, user, totp_setup=setup)


@router.post("/account/totp/enable")
async def account_totp_enable(
    request: Request,
    csrf: str = Form("", max_length=256),
    secret: str = Form("", max_length=64),
    code: str = Form("", max_length=32),
) -> Response:
    found = await _account_user(request)
    if found is None:
        return _to_signin(request)
    signed, user = found
    check_csrf(signed[0], csrf)
    service = _service(request)
    try:
        await run_in_threadpool(service.signin.second_factor.enable, user, secret, code)
    except GifdistError as exc:
        setup = {"secret": secret, "uri": totp.provisioning_uri(secret, user.username)}
        return await _account_page(
            request, signed, user, status=exc.status, error=exc.message, totp_setup=setup
        )
    return RedirectResponse("/account?totp=on", status_code=303)


@router.post("/account/totp/disable")
async def account_totp_disable(
    request: Request, csrf: str = Form("", max_length=256), password: str = Form("")
) -> Response:
    found = await _account_user(request)
    if found is None:
        return _to_signin(request)
    signed, user = found
    check_csrf(signed[0], csrf)
    service = _service(request)
    try:
        await run_in_threadpool(service.signin.second_factor.disable, user, password)
    except GifdistError as exc:
        return await _account_page(request, signed, user, status=exc.status, error=exc.message)
    return RedirectResponse("/account?totp=off", status_code=303)


# the admin's users page --------------------------------------------------------------


async def _admin(request: Request) -> tuple[Any, ApiKey] | None:
    signed = await current_user(request)
    if signed is None or not signed[1].allows(Scope.ADMIN):
        return None
    return signed


async def _users_page(
    request: Request, signed: Any, *, status: int = 200, **extra: Any
) -> HTMLResponse:
    users = await run_in_threadpool(_service(request).users.list)
    extra.setdefault("notice", None)
    extra.setdefault("error", None)
    extra.setdefault("link", None)
    return page(
        "users.html",
        signed,
        status=status,
        current="users",
        users=users,
        roles=[r.value for r in Role],
        **extra,
    )


@router.get("/admin/users")
async def users_page(request: Request) -> Response:
    signed = await _admin(request)
    if signed is None:
        if await current_user(request) is None:
            return _to_signin(request)
        return page(
            "error.html",
            await current_user(request),
            status=403,
            heading="Admins only",
            message="Only an admin may manage users.",
        )
    return await _users_page(request, signed)


@router.post("/admin/users/invite")
async def users_invite(
    request: Request,
    csrf: str = Form("", max_length=256),
    role: str = Form("member", max_length=16),
) -> Response:
    signed = await _admin(request)
    if signed is None:
        return _to_signin(request)
    check_csrf(signed[0], csrf)
    service = _service(request)
    try:
        token, invite = await run_in_threadpool(
            service.users.invite, parse_role(role), signed[1].name
        )
    except GifdistError as exc:
        return await _users_page(request, signed, status=exc.status, error=exc.message)
    link = {
        "url": f"{service.settings.base_url}/invite/{token}",
        "what": f"Invite for a {invite.role}",
        "expires": invite.expires_at,
    }
    return await _users_page(request, signed, link=link)


@router.post("/admin/users/{user_id}")
async def users_change(
    user_id: str,
    request: Request,
    csrf: str = Form("", max_length=256),
    action: str = Form("", max_length=16),
    role: str = Form("", max_length=16),
) -> Response:
    """``action``: role (with ``role``), disable, enable or reset (a one-time link)."""
    signed = await _admin(request)
    if signed is None:
        return _to_signin(request)
    check_csrf(signed[0], csrf)
    service = _service(request)
    users = service.users
    try:
        target = await run_in_threadpool(users.get, user_id[:64])
        if target.user_id == signed[1].user_id and action in ("disable", "role"):
            raise Forbidden(
                "you cannot disable yourself or change your own role here", code="self_change"
            )
        if action == "role":
            await run_in_threadpool(users.set_role, target.user_id, parse_role(role))
        elif action == "disable":
            await run_in_threadpool(users.disable, target.user_id)
        elif action == "enable":
            await run_in_threadpool(users.enable, target.user_id)
        elif action == "reset":
            token, reset_token = await run_in_threadpool(
                users.reset_link, target.user_id, signed[1].name
            )
            link = {
                "url": f"{service.settings.base_url}/reset/{token}",
                "what": f"Password reset link for {target.username}",
                "expires": reset_token.expires_at,
            }
            return await _users_page(request, signed, link=link)
        else:
            raise InvalidInput("action must be role, disable, enable or reset", code="bad_action")
    except GifdistError as exc:
        return await _users_page(request, signed, status=exc.status, error=exc.message)
    return RedirectResponse("/admin/users", status_code=303, headers=NO_STORE)

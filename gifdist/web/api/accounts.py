"""The caller's own account over the API: who they are, their quota, their keys; and,
for admins, the users (thin routes over ``gifdist.accounts``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from gifdist.accounts.keys import ApiKey, Scope, parse_scopes
from gifdist.accounts.users import AccountToken, Role, User, parse_role
from gifdist.errors import Forbidden, NotFound
from gifdist.web.auth import authorise, service_of

router = APIRouter()


def _key_json(key: ApiKey) -> dict[str, Any]:
    return {
        "key_id": key.key_id,
        "name": key.name,
        "scopes": sorted(s.value for s in key.scopes),
        "created_at": key.created_at.isoformat(),
        "last_used_at": key.last_used_at.isoformat() if key.last_used_at else None,
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
    }


async def _me(request: Request, scope: Scope) -> User:
    caller = await authorise(request, scope)
    if caller.user_id is None:
        raise NotFound("this is an operator key: it belongs to no user", code="no_user")
    return await run_in_threadpool(service_of(request).users.get, caller.user_id)


@router.get("/me", summary="Who you are, and your quota")
async def me(request: Request) -> dict[str, Any]:
    service = service_of(request)
    user = await _me(request, Scope.READ)
    usage = await run_in_threadpool(service.quotas.usage, user)
    return {**user.to_json(), "quota": usage.to_json()}


@router.get("/me/keys", summary="Your API keys (never their secrets)")
async def my_keys(request: Request) -> dict[str, Any]:
    user = await _me(request, Scope.READ)
    keys = await run_in_threadpool(service_of(request).keys.of_user, user.user_id)
    return {"keys": [_key_json(key) for key in keys]}


class NewKey(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(..., min_length=1, max_length=200)
    scopes: list[str] = Field(
        default_factory=lambda: ["upload", "links", "read", "stats"], max_length=20
    )


@router.post("/me/keys", status_code=201, summary="Make a key (shown once)")
async def make_key(request: Request, body: NewKey) -> dict[str, Any]:
    """A key for scripts; it never grants more than your role."""
    service = service_of(request)
    user = await _me(request, Scope.READ)
    scopes = parse_scopes(body.scopes)
    beyond = scopes - user.role.scopes
    if beyond:
        names = ", ".join(sorted(s.value for s in beyond))
        raise Forbidden(
            f"your role ({user.role.value}) does not have: {names}", code="scope_beyond_role"
        )
    secret, key = await run_in_threadpool(
        lambda: service.keys.create(body.name, scopes, user_id=user.user_id)
    )
    return {"key": secret, **_key_json(key)}


@router.delete("/me/keys/{key_id}", status_code=204, summary="Revoke one of your keys")
async def revoke_key(key_id: str, request: Request) -> Response:
    service = service_of(request)
    user = await _me(request, Scope.READ)
    if not await run_in_threadpool(service.keys.revoke_own, user.user_id, key_id[:64]):
        raise NotFound(f"you have no active key with id {key_id[:64]!r}")
    return Response(status_code=204)


@router.get("/users", summary="Every user (admins)")
async def list_users(request: Request) -> dict[str, Any]:
    await authorise(request, Scope.ADMIN)
    users = await run_in_threadpool(service_of(request).users.list)
    return {"users": [user.to_json() for user in users]}


class NewInvite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str = Field("member", max_length=16)


def _link_json(url: str, token: AccountToken) -> dict[str, Any]:
    return {"url": url, "expires_at": token.expires_at.isoformat()}


@router.post("/users/invites", status_code=201, summary="A one-time invite link (admins)")
async def make_invite(request: Request, body: NewInvite) -> dict[str, Any]:
    service = service_of(request)
    caller = await authorise(request, Scope.ADMIN)
    role = parse_role(body.role)
    token, invite = await run_in_threadpool(service.users.invite, role, caller.name)
    return {**_link_json(f"{service.settings.base_url}/invite/{token}", invite), "role": role.value}


class UserChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str | None = Field(None, max_length=16)
    disabled: bool | None = None


@router.patch("/users/{user_id}", summary="Change a user's role, or disable them (admins)")
async def change_user(user_id: str, request: Request, body: UserChange) -> dict[str, Any]:
    """A role change or disabling ends the user's sessions; disabling stops their keys."""
    service = service_of(request)
    caller = await authorise(request, Scope.ADMIN)
    users = service.users
    target = await run_in_threadpool(users.get, user_id[:64])
    if target.user_id == caller.user_id:
        raise Forbidden("you cannot change your own role or disable yourself", code="self_change")
    role: Role | None = parse_role(body.role) if body.role is not None else None
    if role is not None:
        target = await run_in_threadpool(users.set_role, target.user_id, role)
    if body.disabled is True:
        target = await run_in_threadpool(users.disable, target.user_id)
    elif body.disabled is False:
        target = await run_in_threadpool(users.enable, target.user_id)
    return target.to_json()


@router.post("/users/{user_id}/reset", status_code=201, summary="A one-time reset link (admins)")
async def make_reset(user_id: str, request: Request) -> dict[str, Any]:
    service = service_of(request)
    caller = await authorise(request, Scope.ADMIN)
    token, reset = await run_in_threadpool(service.users.reset_link, user_id[:64], caller.name)
    return _link_json(f"{service.settings.base_url}/reset/{token}", reset)

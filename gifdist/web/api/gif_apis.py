"""What the Tenor- and GIPHY-compatible APIs share: who may call, parameters, hits.

GIF pickers, keyboards and bots pass their key in the query string (Tenor's
``key``, GIPHY's ``api_key``); gifdist takes one of its own API keys there (or as
a bearer token), with the ``search`` scope. With ``GIFDIST_GIF_API_ACCESS=public``
no key is needed and a key gifdist does not know is ignored, so a client that can
only change its base URL keeps working.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from gifdist.accounts.keys import ApiKey, Scope, bearer_token
from gifdist.analytics.types import Platform
from gifdist.assets import AssetRecord, is_valid_asset_id
from gifdist.errors import InvalidInput, NotFound, Unauthorized
from gifdist.platforms import PLATFORM_NAMES, platform_from_via
from gifdist.search import GifApi, GifApiUsage, UsageKind, client_key_of
from gifdist.web.auth import service_of
from gifdist.wiring import Service

MAX_LIMIT = 50
MAX_OFFSET = 5000
MAX_IDS = 50
_LOCALE = re.compile(r"[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,4})?")


async def gif_api_caller(request: Request, key_param: str) -> ApiKey | None:
    """The calling key (None when anonymous calls are allowed and none was sent).

    Raises ``NotFound`` when the APIs are off, ``Unauthorized``/``Forbidden`` for a
    missing, unknown or under-scoped key when keys are required.
    """
    service = service_of(request)
    access = service.settings.gif_api_access
    if access == "off":
        raise NotFound(f"nothing at {request.url.path[:200]}")
    secret = request.query_params.get(key_param) or bearer_token(
        request.headers.get("authorization")
    )
    if access == "public":
        return await _known_key(service, secret)
    if not secret:
        raise Unauthorized(
            f"an API key with the search scope is required: pass ?{key_param}=<gifdist key>",
            code="missing_key",
        )
    key = await run_in_threadpool(service.keys.verify, secret)
    key.require(Scope.SEARCH)
    return key


async def _known_key(service: Service, secret: str | None) -> ApiKey | None:
    if not secret:
        return None
    try:
        return await run_in_threadpool(service.keys.verify, secret)
    except Unauthorized:
        return None


@dataclass(frozen=True, slots=True)
class ClientUsage:
    """One GIF API call's client (key, ``client_key``, platform), counted in
    ``GifApiUsage``: a search and its impressions, or a share."""

    usage: GifApiUsage
    api: GifApi
    key_id: str | None
    client_key: str
    platform: Platform

    def searched(self, impressions: int) -> None:
        self.usage.record(
            self.api,
            self.key_id,
            self.client_key,
            self.platform.value,
            {UsageKind.SEARCHES: 1, UsageKind.IMPRESSIONS: impressions},
        )

    def shared(self) -> None:
        self.usage.record(
            self.api, self.key_id, self.client_key, self.platform.value, {UsageKind.SHARES: 1}
        )


def client_usage(request: Request, api: GifApi, caller: ApiKey | None) -> ClientUsage:
    """The caller's usage counter; ``via`` names the platform the client serves
    (``InvalidInput`` for one gifdist does not know), ``client_key`` the client."""
    client_key = client_key_of(request.query_params.get("client_key", ""))
    via = request.query_params.get("via", "").strip()
    platform = platform_from_via(via) if via else Platform.OTHER
    if platform is None:
        raise InvalidInput(
            f"via must be one of {', '.join(PLATFORM_NAMES)}; got {via[:40]!r}",
            code="invalid_via",
        )
    return ClientUsage(
        service_of(request).gif_api_usage,
        api,
        caller.key_id if caller else None,
        client_key,
        platform,
    )


def int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter within ``low``..``high`` (``InvalidInput`` otherwise)."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number", code=f"invalid_{name}") from None
    if not low <= value <= high:
        raise InvalidInput(
            f"{name} must be between {low} and {high}; got {value}", code=f"invalid_{name}"
        )
    return value


def choice_param(request: Request, name: str, default: str, allowed: Sequence[str]) -> str:
    value = request.query_params.get(name, default).strip().lower() or default
    if value not in allowed:
        raise InvalidInput(
            f"{name} must be one of {', '.join(allowed)}; got {value[:40]!r}",
            code=f"invalid_{name}",
        )
    return value


def locale_param(request: Request, default: str = "en_US") -> str:
    value = request.query_params.get("locale", "").strip() or default
    if not _LOCALE.fullmatch(value):
        raise InvalidInput("locale must look like en or en_US", code="invalid_locale")
    return value


def text_param(request: Request, name: str) -> str:
    return request.query_params.get(name, "")


def ids_param(request: Request) -> list[str]:
    """``ids=a,b,c``: at most 50 asset ids; malformed ones are refused."""
    raw = request.query_params.get("ids", "")
    ids = list(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    if not ids:
        raise InvalidInput("ids must list one or more GIF ids, comma-separated", code="invalid_ids")
    if len(ids) > MAX_IDS:
        raise InvalidInput(f"at most {MAX_IDS} ids per request", code="invalid_ids")
    bad = [i for i in ids if not is_valid_asset_id(i)]
    if bad:
        raise InvalidInput(f"not a GIF id: {bad[0][:70]!r}", code="invalid_ids")
    return ids


async def public_records(service: Service, asset_ids: Sequence[str]) -> list[AssetRecord]:
    """The records of ``asset_ids`` in order, keeping only approved, public ones."""

    def load() -> list[AssetRecord]:
        found = (service.catalog.get(a) for a in asset_ids)
        return [r for r in found if r is not None and r.is_public]

    return await run_in_threadpool(load)


class Cursor:
    """Opaque, tamper-evident page positions (Tenor's ``pos``/``next``)."""

    def __init__(self, secret: bytes) -> None:
        self._key = hmac.new(secret, b"gif-api-cursor", hashlib.sha256).digest()

    def encode(self, offset: int) -> str:
        body = str(offset).encode()
        mac = hmac.new(self._key, body, hashlib.sha256).digest()[:6]
        return base64.urlsafe_b64encode(body + b"." + mac).decode().rstrip("=")

    def decode(self, pos: str | None) -> int:
        """The offset ``pos`` stands for (0 when absent); ``InvalidInput`` if tampered."""
        if not pos:
            return 0
        try:
            raw = base64.urlsafe_b64decode(pos + "=" * (-len(pos) % 4))
            body, mac = raw.split(b".", 1)
            expected = hmac.new(self._key, body, hashlib.sha256).digest()[:6]
            offset = int(body)
        except ValueError:
            raise _bad_pos() from None
        if not hmac.compare_digest(mac, expected) or not 0 <= offset <= MAX_OFFSET:
            raise _bad_pos()
        return offset


def _bad_pos() -> InvalidInput:
    return InvalidInput("pos is not a position this server handed out in next", code="invalid_pos")

"""Listing GIFs: one owner's (or, for admins, everyone's), filtered, sorted, paged.

The API's ``GET /api/v1/assets``, the library page and ``gifdist assets list`` all
list through here, so they filter, sort and page the same way.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gifdist.accounts.keys import ApiKey
from gifdist.assets.access import AccessPolicy
from gifdist.assets.model import AssetRecord, AssetStatus
from gifdist.assets.store import AssetStore
from gifdist.errors import InvalidInput

SORTS = ("new", "old", "views", "ctr")
RANKED_LIMIT = 5000  # views and CTR rank at most this many of the newest matches
MAX_PAGE = 100

MetricsFor = Callable[[list[str]], dict[str, dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class AssetQuery:
    """What to list; every field optional. ``cursor`` is what the last page returned."""

    status: str | None = None
    private: bool | None = None
    tag: str | None = None
    text: str | None = None
    sort: str = "new"
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class AssetPage:
    items: list[tuple[AssetRecord, dict[str, Any]]]  # each GIF with its all-time numbers
    next_cursor: str | None
    capped: bool  # a ranked sort looked at only the newest RANKED_LIMIT matches


class AssetLibrary:
    def __init__(self, store: AssetStore, access: AccessPolicy, metrics_for: MetricsFor) -> None:
        self.store = store
        self.access = access
        self.metrics_for = metrics_for

    def list(self, key: ApiKey | None, query: AssetQuery) -> AssetPage:
        """A page of the GIFs ``key`` may manage; raises ``InvalidInput`` for bad filters."""
        status = _status(query.status)
        if query.sort not in SORTS:
            raise InvalidInput(f"sort must be one of {', '.join(SORTS)}", code="bad_sort")
        if isinstance(query.limit, bool) or not 1 <= query.limit <= MAX_PAGE:
            raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}", code="bad_limit")
        offset = _offset(query.cursor)
        ranked = query.sort in ("views", "ctr")
        records = self.store.list(
            owner_key_id=self.access.library_owner(key),
            status=status,
            search=query.text or None,
            private=query.private,
            tag=query.tag or None,
            oldest_first=query.sort == "old",
            limit=RANKED_LIMIT if ranked else query.limit + 1,
            offset=0 if ranked else offset,
        )
        metrics = self.metrics_for([r.asset_id for r in records])
        items = [(r, metrics[r.asset_id]) for r in records]
        if ranked:
            sort = query.sort
            items.sort(key=lambda i: (-i[1][sort], -i[1]["views"], i[0].asset_id))
            items = items[offset:]
        more = len(items) > query.limit
        next_cursor = _cursor(offset + query.limit) if more else None
        return AssetPage(items[: query.limit], next_cursor, ranked and len(records) >= RANKED_LIMIT)


def _status(value: str | None) -> AssetStatus | None:
    if value is None or value == "":
        return None
    try:
        return AssetStatus(value)
    except ValueError:
        names = ", ".join(s.value for s in AssetStatus)
        raise InvalidInput(f"status must be one of {names}", code="bad_status") from None


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def _offset(cursor: str | None) -> int:
    """The position a cursor stands for; a cursor that is not one of ours is refused."""
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, number = text.partition(":")
        offset = int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput("cursor is not one this server gave out", code="bad_cursor") from None
    if kind != "o" or not 0 <= offset <= 10_000_000:
        raise InvalidInput("cursor is not one this server gave out", code="bad_cursor")
    return offset

"""Client-reported analytics events (``POST /api/v1/events``), parsed and checked.

A beacon is small JSON sent by the asset page's script (``navigator.sendBeacon``
sends it as text/plain). Only plays and views may be reported this way; clicks are
seen by the server itself. Client clocks are trusted within a narrow window.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from gifdist.analytics.types import EventType, Platform
from gifdist.assets.model import is_valid_asset_id
from gifdist.errors import InvalidInput, PayloadTooLarge
from gifdist.platforms import platform_from_via
from gifdist.sharelinks.links import is_valid_short_code

MAX_BEACON_BYTES = 4096
MAX_PAST = timedelta(hours=24)
MAX_FUTURE = timedelta(minutes=5)
FIELDS = frozenset({"asset_id", "short_code", "event_type", "platform", "ts"})
REPORTABLE = {"play": EventType.PLAY, "view": EventType.VIEW}


@dataclass(frozen=True, slots=True)
class Beacon:
    event_type: EventType
    platform: Platform
    asset_id: str | None
    short_code: str | None
    timestamp: datetime | None


class InvalidBeacon(InvalidInput):
    code = "bad_beacon"
    status = 422


def _bad(message: str, code: str = "bad_beacon") -> InvalidBeacon:
    return InvalidBeacon(message, code=code)


def parse_beacon(body: bytes, *, now: datetime | None = None) -> Beacon:
    """Parse a beacon body; ``InvalidInput``/``PayloadTooLarge`` say precisely what is wrong."""
    if len(body) > MAX_BEACON_BYTES:
        raise PayloadTooLarge(f"a beacon is at most {MAX_BEACON_BYTES} bytes")
    try:
        data: Any = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise _bad(f"the beacon is not valid JSON: {str(exc)[:100]}", "bad_json") from None
    if not isinstance(data, dict):
        raise _bad("the beacon must be a JSON object")
    unknown = sorted(str(k)[:40] for k in set(data) - FIELDS)
    if unknown:
        raise _bad(f"unknown beacon fields: {', '.join(unknown)}")
    kind = data.get("event_type")
    if not isinstance(kind, str) or kind not in REPORTABLE:
        raise _bad("event_type must be play or view", "bad_event_type")
    asset_id, short_code = data.get("asset_id"), data.get("short_code")
    if asset_id is None and short_code is None:
        raise _bad("a beacon names an asset_id or a short_code")
    if asset_id is not None and not (isinstance(asset_id, str) and is_valid_asset_id(asset_id)):
        raise _bad("asset_id is not a valid asset id")
    if short_code is not None and not (
        isinstance(short_code, str) and is_valid_short_code(short_code)
    ):
        raise _bad("short_code is not a valid short code")
    platform = Platform.WEB
    if data.get("platform") is not None:
        found = platform_from_via(data["platform"]) if isinstance(data["platform"], str) else None
        if found is None:
            raise _bad("platform must be one of " + ", ".join(p.value for p in Platform))
        platform = found
    return Beacon(REPORTABLE[kind], platform, asset_id, short_code, _timestamp(data.get("ts"), now))


def _timestamp(value: Any, now: datetime | None) -> datetime | None:
    """``ts`` in epoch milliseconds; at most 24 h old and 5 min ahead of the server."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad("ts must be epoch milliseconds", "bad_timestamp")
    now = now or datetime.now(UTC)
    try:
        stamp = datetime.fromtimestamp(value / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        raise _bad("ts is out of range", "bad_timestamp") from None
    if stamp < now - MAX_PAST or stamp > now + MAX_FUTURE:
        raise _bad("ts is more than 24 hours old or in the future", "bad_timestamp")
    return stamp

"""Unique visitors without storing IP addresses: a daily-salted keyed hash.

The salt for a day is HMAC(secret, date), so the same visitor hashes the same way
all day (uniques can be counted) and differently tomorrow (no long-term tracking),
and without the secret the hash cannot be tied back to an address.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC, date, datetime

MAX_KNOWN = 16_384  # recent (address, user agent) pairs remembered for today


class VisitorHasher:
    """Turns (client address, user agent) into a 16-hex-character daily visitor id."""

    def __init__(self, secret: bytes, *, today: Callable[[], date] | None = None) -> None:
        self._secret = secret
        self._today = today or (lambda: datetime.now(UTC).date())
        self._day: date | None = None
        self._salt = b""
        self._known: dict[tuple[str | None, str | None], str] = {}

    def _salt_for_today(self) -> bytes:
        day = self._today()
        if day != self._day:
            self._salt = hmac.new(self._secret, day.isoformat().encode(), hashlib.sha256).digest()
            self._day = day
            self._known.clear()
        return self._salt

    def visitor_id(self, client: str | None, user_agent: str | None) -> str:
        salt = self._salt_for_today()
        key = (client, (user_agent or "")[:512])
        known = self._known.get(key)
        if known is not None:  # a visitor's next request costs a dict lookup, not an HMAC
            return known
        material = f"{client or '-'}\x00{(user_agent or '')[:512]}".encode("utf-8", "replace")
        visitor = hmac.new(salt, material, hashlib.sha256).hexdigest()[:16]
        if len(self._known) >= MAX_KNOWN:
            self._known.clear()
        self._known[key] = visitor
        return visitor

"""Unique visitors without storing IP addresses: a daily-salted keyed hash.

A visitor is a client address for one UTC day (the address resolved through the
deployment's trusted proxies). The User-Agent is deliberately not part of it: a
client that rotates its User-Agent would otherwise count as a new visitor each
time, and its repeated plays, views and clicks would never be deduplicated. The
cost is that people behind one NAT address count as one visitor.

The salt for a day is HMAC(secret, date), so the same visitor hashes the same way
all day (uniques can be counted) and differently tomorrow (no long-term tracking),
and without the secret the hash cannot be tied back to an address.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC, date, datetime

MAX_KNOWN = 16_384  # recent addresses remembered for today


class VisitorHasher:
    """Turns a client address into a 16-hex-character daily visitor id."""

    def __init__(self, secret: bytes, *, today: Callable[[], date] | None = None) -> None:
        self._secret = secret
        self._today = today or (lambda: datetime.now(UTC).date())
        self._day: date | None = None
        self._salt = b""
        self._known: dict[str | None, str] = {}

    def _salt_for_today(self) -> bytes:
        day = self._today()
        if day != self._day:
            self._salt = hmac.new(self._secret, day.isoformat().encode(), hashlib.sha256).digest()
            self._day = day
            self._known.clear()
        return self._salt

    def visitor_id(self, client: str | None) -> str:
        """Today's id for ``client`` (None or ``"unknown"`` share one id)."""
        salt = self._salt_for_today()
        known = self._known.get(client)
        if known is not None:  # a visitor's next request costs a dict lookup, not an HMAC
            return known
        material = f"{client or '-'}".encode("utf-8", "replace")
        visitor = hmac.new(salt, material, hashlib.sha256).hexdigest()[:16]
        if len(self._known) >= MAX_KNOWN:
            self._known.clear()
        self._known[client] = visitor
        return visitor

"""Link controls: custom slugs, expiry and a limit on people's clicks.

Link-preview bots and crawlers never consume a click limit (they are not people), and
the click that reaches the limit still goes through. After its expiry or its last
click a link answers 410 Gone with a page that says why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from gifdist.accounts.passwords import encodable
from gifdist.errors import InvalidInput

SLUG = re.compile(r"[A-Za-z0-9_-]{3,64}")
# Words that name pages or routes, or would read as official.
RESERVED = frozenset(
    {
        "a", "admin", "api", "assets", "audit", "dashboard", "docs", "gifs", "healthz",
        "library", "links", "login", "logout", "metrics", "moderation", "oembed", "readyz",
        "s", "signin", "signout", "static", "stats", "upload", "v1", "v2", "www",
    }
)  # fmt: skip
MAX_EXPIRY = timedelta(days=3650)


@dataclass(frozen=True, slots=True)
class LinkControls:
    """What a new link asks for; every field optional."""

    slug: str | None = None
    expires_at: datetime | None = None
    max_clicks: int | None = None
    password_hash: str | None = None


def parse_controls(
    *,
    slug: Any = None,
    expires_at: Any = None,
    expires_in: Any = None,
    max_clicks: Any = None,
    password: Any = None,
) -> LinkControls:
    """Check a request's controls; raises ``InvalidInput`` with the reason."""
    return LinkControls(
        slug=_slug(slug),
        expires_at=_expiry(expires_at, expires_in),
        max_clicks=_max_clicks(max_clicks),
        password_hash=_password_hash(password),
    )


_HASHER = PasswordHasher()  # argon2id with the library's current recommended costs
MAX_PASSWORD_CHARS = 256


def _password_hash(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("password must be non-empty text", code="bad_password")
    if len(value) > MAX_PASSWORD_CHARS:
        raise InvalidInput(
            f"password is longer than {MAX_PASSWORD_CHARS} characters", code="bad_password"
        )
    if not encodable(value):
        raise InvalidInput(
            "password cannot contain lone surrogates (invalid Unicode)", code="bad_password"
        )
    return str(_HASHER.hash(value))


def password_matches(password_hash: str, attempt: str) -> bool:
    """Constant-time check of an attempt (argon2 verification)."""
    if len(attempt) > MAX_PASSWORD_CHARS or not encodable(attempt):
        return False
    try:
        return bool(_HASHER.verify(password_hash, attempt))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _slug(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not SLUG.fullmatch(value):
        raise InvalidInput(
            "slug must be 3–64 of the letters A–Z a–z, digits, '-' and '_'", code="bad_slug"
        )
    if value.lower() in RESERVED:
        raise InvalidInput(f"the slug {value!r} is reserved; choose another", code="reserved_slug")
    return value


def _expiry(expires_at: Any, expires_in: Any) -> datetime | None:
    if expires_at is not None and expires_in is not None:
        raise InvalidInput("give expires_at or expires_in, not both", code="bad_expiry")
    now = datetime.now(UTC)
    if expires_in is not None:
        if isinstance(expires_in, bool) or not isinstance(expires_in, int) or expires_in <= 0:
            raise InvalidInput("expires_in must be a positive number of seconds", code="bad_expiry")
        if expires_in > MAX_EXPIRY.total_seconds():
            raise InvalidInput("expires_in is more than ten years", code="bad_expiry")
        return now + timedelta(seconds=expires_in)
    if expires_at is None:
        return None
    try:
        when = datetime.fromisoformat(expires_at) if isinstance(expires_at, str) else None
    except ValueError:
        when = None
    if when is None:
        raise InvalidInput("expires_at must be an ISO 8601 time", code="bad_expiry")
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    if when <= now:
        raise InvalidInput("expires_at is in the past", code="bad_expiry")
    if when - now > MAX_EXPIRY:
        raise InvalidInput("expires_at is more than ten years away", code="bad_expiry")
    return when


def _max_clicks(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 10**12:
        raise InvalidInput("max_clicks must be a positive whole number", code="bad_max_clicks")
    return value


def expired(link: dict[str, Any], now: datetime | None = None) -> bool:
    """True once a link's expiry has passed."""
    when = link.get("expires_at")
    if not when:
        return False
    moment = datetime.fromisoformat(when) if isinstance(when, str) else when
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return (now or datetime.now(UTC)) >= moment

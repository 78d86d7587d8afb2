"""Browser sessions: an API key exchanged for a signed, HttpOnly, SameSite cookie.

The cookie holds the key's id and a CSRF token, signed with the service secret
(never the key itself). Every state-changing request made with the cookie must
carry the CSRF token (form field ``csrf`` or header ``X-CSRF-Token``).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from gifdist.errors import Forbidden

COOKIE = "gifdist_session"
MAX_AGE = 14 * 24 * 3600


@dataclass(frozen=True, slots=True)
class Session:
    key_id: str
    csrf: str


class SessionCodec:
    """Signs and verifies session cookies with the service secret."""

    def __init__(self, secret: bytes, *, secure: bool) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="gifdist.session")
        self.secure = secure

    def issue(self, response: Response, key_id: str) -> Session:
        """Set a fresh session cookie on ``response``."""
        session = Session(key_id, secrets.token_urlsafe(24))
        value = self._serializer.dumps({"k": session.key_id, "c": session.csrf})
        response.set_cookie(
            COOKIE,
            value,
            max_age=MAX_AGE,
            httponly=True,
            samesite="lax",
            secure=self.secure,
            path="/",
        )
        return session

    def read(self, request: Request) -> Session | None:
        """The request's valid session, or None (missing, tampered or expired)."""
        raw = request.cookies.get(COOKIE)
        if not raw or len(raw) > 4096:
            return None
        try:
            data = self._serializer.loads(raw, max_age=MAX_AGE)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("k"), str):
            return None
        return Session(data["k"], str(data.get("c", "")))

    def clear(self, response: Response) -> None:
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=self.secure)


def check_csrf(session: Session, supplied: str | None) -> None:
    """Raise ``Forbidden`` unless ``supplied`` matches the session's CSRF token."""
    if not supplied or not hmac.compare_digest(supplied.encode(), session.csrf.encode()):
        raise Forbidden(
            "missing or wrong CSRF token; reload the page and try again", code="csrf_failed"
        )

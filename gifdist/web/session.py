"""Browser sessions: an API key exchanged for a signed, HttpOnly, SameSite cookie.

The cookie holds a random session id and a CSRF token, signed with the service
secret (never the key itself). The session lives server side (``web_sessions``,
by the hash of its id), so signing out ends it everywhere, and it remembers the
key's version, so rotating ``GIFDIST_ADMIN_KEY`` or revoking a key ends it too.
Every state-changing request made with the cookie must carry the CSRF token (form
field ``csrf`` or header ``X-CSRF-Token``); signing in and out, which happen
without a token, must come from this site's own pages (``Origin`` /
``Sec-Fetch-Site``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from gifdist.errors import Forbidden
from gifdist.stores.sessions_sql import SqlSessionStore

COOKIE = "gifdist_session"
MAX_AGE = 14 * 24 * 3600


@dataclass(frozen=True, slots=True)
class Session:
    key_id: str
    csrf: str
    session_id: str = ""


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class SessionCodec:
    """Issues, verifies and ends session cookies (the rows behind them in ``store``).

    ``key_version(key_id)`` is what a session must still match to stay valid.
    ``read`` and ``issue`` touch the database: call them from a thread.
    """

    def __init__(
        self,
        secret: bytes,
        *,
        secure: bool,
        store: SqlSessionStore,
        key_version: Callable[[str], str],
    ) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="gifdist.session")
        self.secure = secure
        self.store = store
        self.key_version = key_version

    def issue(self, response: Response, key_id: str) -> Session:
        """Start a session for ``key_id`` and set its cookie on ``response``."""
        session = Session(key_id, secrets.token_urlsafe(24), secrets.token_urlsafe(32))
        expires = datetime.now(UTC) + timedelta(seconds=MAX_AGE)
        self.store.add(_hash(session.session_id), key_id, self.key_version(key_id), expires)
        value = self._serializer.dumps({"s": session.session_id, "c": session.csrf})
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
        """The request's live session, or None (missing, tampered, expired, signed
        out, or its key rotated)."""
        raw = request.cookies.get(COOKIE)
        if not raw or len(raw) > 4096:
            return None
        try:
            data = self._serializer.loads(raw, max_age=MAX_AGE)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("s"), str):
            return None
        stored = self.store.get(_hash(data["s"]))
        if stored is None or stored.expires_at <= datetime.now(UTC):
            return None
        if not hmac.compare_digest(stored.key_version, self.key_version(stored.key_id)):
            return None
        return Session(stored.key_id, str(data.get("c", "")), data["s"])

    def end(self, session: Session) -> None:
        """Sign ``session`` out server side: its cookie is dead from now on."""
        if session.session_id:
            self.store.delete(_hash(session.session_id))

    def clear(self, response: Response) -> None:
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=self.secure)


def check_csrf(session: Session, supplied: str | None) -> None:
    """Raise ``Forbidden`` unless ``supplied`` matches the session's CSRF token."""
    if not supplied or not hmac.compare_digest(supplied.encode(), session.csrf.encode()):
        raise Forbidden(
            "missing or wrong CSRF token; reload the page and try again", code="csrf_failed"
        )


def check_same_origin(request: Request, base_url: str) -> None:
    """Raise ``Forbidden`` when a browser says the request comes from another site.

    ``Sec-Fetch-Site`` is trusted when sent (same-origin, or none for a typed URL);
    otherwise ``Origin`` must be this deployment's origin. A request with neither
    header does not come from a modern browser's cross-site form, so it is allowed
    (command-line clients).
    """
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        if site.strip().lower() in ("same-origin", "none"):
            return
        raise Forbidden("this form must be sent from this site's own page", code="cross_site")
    origin = request.headers.get("origin")
    if origin is None:
        return
    if origin.strip().rstrip("/").lower() != _origin(base_url):
        raise Forbidden("this form must be sent from this site's own page", code="cross_site")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()

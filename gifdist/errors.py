"""Exception types shared by the domain, the stores, the web layer and the CLI.

Every error a client can cause carries a stable machine ``code`` and an HTTP
``status``; the web layer turns them into ``{"error": {"code", "message"}}`` in
one place and the CLI prints the message and exits non-zero.
"""

from __future__ import annotations


class GifdistError(Exception):
    """Base class for every error gifdist raises on purpose."""

    code = "error"
    status = 500

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InvalidInput(GifdistError):
    """The request or argument is malformed (400)."""

    code = "invalid_input"
    status = 400


class InvalidMedia(InvalidInput):
    """The uploaded bytes are not an acceptable GIF (415 for wrong type, 422 otherwise)."""

    code = "invalid_gif"
    status = 422


class UnsupportedMediaType(InvalidMedia):
    """The uploaded bytes are not a GIF at all (415)."""

    code = "not_a_gif"
    status = 415


class PayloadTooLarge(InvalidInput):
    """The request body or a field is larger than allowed (413)."""

    code = "payload_too_large"
    status = 413


class NotFound(GifdistError):
    """The asset, link or key does not exist or is not visible (404)."""

    code = "not_found"
    status = 404


class Gone(GifdistError):
    """The asset or link was deleted by its owner (410): caches and unfurlers drop it."""

    code = "gone"
    status = 410


class Unauthorized(GifdistError):
    """No credentials or unknown credentials (401)."""

    code = "unauthorized"
    status = 401


class Forbidden(GifdistError):
    """Known credentials without the needed scope, or a bad signature (403)."""

    code = "forbidden"
    status = 403


class Conflict(GifdistError):
    """The request conflicts with stored state (409)."""

    code = "conflict"
    status = 409


class TooManyRequests(GifdistError):
    """A rate limit refused the request (429)."""

    code = "rate_limited"
    status = 429

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServiceUnavailable(GifdistError):
    """A dependency (database, blob store, Redis) is unavailable (503)."""

    code = "unavailable"
    status = 503

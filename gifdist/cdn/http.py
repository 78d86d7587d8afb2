"""CDN-facing HTTP helpers: cache policies, byte ranges and signed URLs.

``CachePolicy``, ``RangeRequest``, ``SignedURL`` and ``CDNHelper`` are the seed
API. ``parse_ranges`` is the full RFC 9110 §14 parser the web layer uses
(multiple ranges, coalescing, a cap against amplification). Signed URLs are
HMAC-SHA256 over the path, the expiry and every other query parameter in a
canonical order, verified in constant time, with key rotation (a ``kid``
parameter names the key) and a clock-skew allowance.

Deliberately stricter than the seed: Range headers follow RFC 9110 (a malformed
or non-``bytes`` range is ignored and the whole body served, a range starting
past the end is 416).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from email.utils import formatdate
from typing import Final
from urllib.parse import parse_qsl, quote, urlencode, urlparse

__all__ = [
    "SIGNING_NOT_CONFIGURED",
    "UNSATISFIABLE",
    "CDNHelper",
    "CachePolicy",
    "RangeRequest",
    "SignedURL",
    "parse_ranges",
]


class _Unsatisfiable:
    """Marker: the Range header is valid but no range overlaps the content (416)."""

    def __repr__(self) -> str:
        return "UNSATISFIABLE"


UNSATISFIABLE: Final = _Unsatisfiable()
MAX_RANGE_HEADER = 4096
_DIGITS = frozenset("0123456789")


class CachePolicy:
    """Cache-Control policies (durations in seconds)."""

    IMMUTABLE_CACHE = 31_536_000  # one year: content-addressed bytes
    LONG_CACHE = 86_400
    SHORT_CACHE = 3_600
    NO_CACHE = 0

    @staticmethod
    def get_headers(
        cache_duration: int = LONG_CACHE, is_immutable: bool = False, is_private: bool = False
    ) -> dict[str, str]:
        """``Cache-Control`` (and ``Expires`` for HTTP/1.0 caches) for a response."""
        if not isinstance(cache_duration, int) or cache_duration < 0:
            raise ValueError("cache_duration must be a non-negative number of seconds")
        if cache_duration == 0:
            return {
                "Cache-Control": "no-cache, no-store, must-revalidate",
                "Pragma": "no-cache",
                "Expires": "0",
            }
        parts = ["private" if is_private else "public", f"max-age={cache_duration}"]
        if is_immutable:
            parts.append("immutable")
        return {
            "Cache-Control": ", ".join(parts),
            "Expires": formatdate(time.time() + cache_duration, usegmt=True),
        }


def _number(text: str) -> int | None:
    text = text.strip(" \t")
    if not text or len(text) > 19 or not set(text) <= _DIGITS:
        return None
    return int(text)


def parse_ranges(
    header: str | None, size: int, *, max_ranges: int = 16
) -> list[tuple[int, int]] | None | _Unsatisfiable:
    """Parse a ``Range`` header against content of ``size`` bytes.

    Returns None when the header is absent, not ``bytes``, syntactically invalid,
    or asks for more than ``max_ranges`` pieces after coalescing (answer 200 with
    the whole content, RFC 9110 §14.2); ``UNSATISFIABLE`` when it is valid but no
    range overlaps the content (416); else the inclusive ``(start, end)`` ranges,
    sorted with overlapping and adjacent ones merged. Never raises.
    """
    if not header or len(header) > MAX_RANGE_HEADER:
        return None
    unit, sep, spec = header.partition("=")
    if not sep or unit.lower() != "bytes":
        return None
    wanted: list[tuple[int, int]] = []
    any_valid = False
    for part in spec.split(","):
        parsed = _parse_one(part.strip(" \t"), size)
        if parsed is None:
            return None
        any_valid = True
        if parsed != ():
            wanted.append(parsed)  # type: ignore[arg-type]
    if not any_valid:
        return None
    if not wanted:
        return UNSATISFIABLE
    merged = _coalesce(wanted)
    return merged if len(merged) <= max_ranges else None


def _parse_one(part: str, size: int) -> tuple[int, int] | tuple[()] | None:
    """One range-spec: (start, end), () when valid but unsatisfiable, None when invalid."""
    if not part or "-" not in part:
        return None
    first, _, last = part.partition("-")
    if not first.strip(" \t"):  # suffix range: the last N bytes
        length = _number(last)
        if length is None:
            return None
        return (max(0, size - length), size - 1) if length > 0 and size > 0 else ()
    start = _number(first)
    if start is None:
        return None
    if not last.strip(" \t"):  # open range: from start to the end
        return () if start >= size else (start, size - 1)
    end = _number(last)
    if end is None or end < start:
        return None
    if start >= size:
        return ()
    return start, min(end, size - 1)


def _coalesce(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


class RangeRequest:
    """The seed's single-range helpers."""

    @staticmethod
    def parse_range_header(range_header: str | None, content_length: int) -> tuple[int, int] | None:
        """The first satisfiable range as inclusive ``(start, end)``, or None."""
        ranges = parse_ranges(range_header, content_length, max_ranges=1_000)
        if not isinstance(ranges, list):
            return None
        return ranges[0]

    @staticmethod
    def get_range_response_headers(
        start: int, end: int, total_length: int, content_type: str = "application/octet-stream"
    ) -> dict[str, str]:
        return {
            "Content-Type": content_type,
            "Content-Length": str(end - start + 1),
            "Content-Range": f"bytes {start}-{end}/{total_length}",
            "Accept-Ranges": "bytes",
        }

    @staticmethod
    def get_full_response_headers(
        total_length: int, content_type: str = "application/octet-stream"
    ) -> dict[str, str]:
        return {
            "Content-Type": content_type,
            "Content-Length": str(total_length),
            "Accept-Ranges": "bytes",
        }


class SignedURL:
    """HMAC-SHA256 signed, expiring URLs with key rotation.

    ``secret_key`` is one secret, or a mapping ``{key_id: secret}`` with
    ``active_key_id`` naming the one new URLs are signed with; URLs signed with
    any key still in the mapping verify. ``clock_skew`` seconds of lateness are
    tolerated. The signature covers the path, ``expires``, ``kid`` and every other
    query parameter, so none can be added, removed, changed or duplicated.
    """

    SIGNATURE = "signature"
    EXPIRES = "expires"
    KEY_ID = "kid"

    def __init__(
        self,
        secret_key: str | bytes | Mapping[str, str | bytes],
        *,
        active_key_id: str | None = None,
        clock_skew: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if isinstance(secret_key, Mapping):
            keys = {str(k): _as_bytes(v) for k, v in secret_key.items()}
        else:
            keys = {"": _as_bytes(secret_key)}
        if not keys or any(not v for v in keys.values()):
            raise ValueError("Secret key cannot be empty")
        self._keys = keys
        self.active_key_id = active_key_id if active_key_id is not None else next(iter(keys))
        if self.active_key_id not in keys:
            raise ValueError(f"unknown active key id {self.active_key_id!r}")
        if clock_skew < 0:
            raise ValueError("clock_skew must not be negative")
        self.clock_skew = clock_skew
        self._clock = clock

    def generate_signed_url(
        self,
        base_url: str,
        expiration_seconds: int = 3600,
        additional_params: Mapping[str, str] | None = None,
    ) -> str:
        """``base_url`` plus ``expires``, optional ``kid`` and ``signature`` parameters."""
        if expiration_seconds <= 0:
            raise ValueError("expiration_seconds must be positive")
        parsed = urlparse(base_url)
        params = [
            (k, v)
            for k, v in parse_qsl(parsed.query, keep_blank_values=True)
            if k not in (self.SIGNATURE, self.EXPIRES, self.KEY_ID)
        ]
        params += [(str(k), str(v)) for k, v in (additional_params or {}).items()]
        params.append((self.EXPIRES, str(int(self._clock()) + int(expiration_seconds))))
        if self.active_key_id:
            params.append((self.KEY_ID, self.active_key_id))
        signature = self._sign(self._keys[self.active_key_id], parsed.path, params)
        params.append((self.SIGNATURE, signature))
        return f"{parsed.scheme}://{parsed.netloc}{parsed.path}?{urlencode(params)}"

    def validate_signed_url(self, url: str) -> tuple[bool, str | None]:
        """``(True, None)`` or ``(False, reason)``; never raises."""
        try:
            parsed = urlparse(url)
            params = parse_qsl(parsed.query, keep_blank_values=True, strict_parsing=False)
        except (ValueError, TypeError):
            return False, "Invalid URL format"
        names = [k for k, _ in params]
        if len(names) != len(set(names)):
            return False, "Duplicated query parameter"
        values = dict(params)
        if self.EXPIRES not in values:
            return False, "Missing expiration parameter"
        if self.SIGNATURE not in values:
            return False, "Missing signature parameter"
        key = self._keys.get(values.get(self.KEY_ID, ""))
        if key is None:
            return False, "Unknown or retired signing key"
        expires = _number(values[self.EXPIRES])
        if expires is None:
            return False, "Invalid expiration parameter"
        signed = [(k, v) for k, v in params if k != self.SIGNATURE]
        expected = self._sign(key, parsed.path, signed)
        if not hmac.compare_digest(values[self.SIGNATURE].encode(), expected.encode()):
            return False, "Invalid signature"
        if self._clock() >= expires + self.clock_skew:
            return False, "URL has expired"
        return True, None

    @staticmethod
    def _sign(key: bytes, path: str, params: list[tuple[str, str]]) -> str:
        canonical = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in sorted(params))
        digest = hmac.new(key, f"{path}\n{canonical}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _as_bytes(value: str | bytes) -> bytes:
    return value.encode() if isinstance(value, str) else bytes(value)


#: The seed's message when a signed URL is asked of a helper without a secret key.
SIGNING_NOT_CONFIGURED = (
    "Signed URL handler not configured. Provide secret_key during initialization."
)


class CDNHelper:
    """Headers and signed URLs for asset delivery in one place."""

    def __init__(
        self,
        secret_key: str | bytes | Mapping[str, str | bytes] | None = None,
        **signed_url_options: object,
    ) -> None:
        self.signed_url_handler = (
            SignedURL(secret_key, **signed_url_options)  # type: ignore[arg-type]
            if secret_key
            else None
        )

    def get_asset_headers(
        self,
        content_type: str,
        content_length: int,
        is_immutable: bool = False,
        cache_duration: int = CachePolicy.LONG_CACHE,
        range_header: str | None = None,
    ) -> tuple[dict[str, str], tuple[int, int] | None, int]:
        """``(headers, range_spec, status)``: 206 with Content-Range for a satisfiable
        single range, 416 with ``bytes */len`` for an unsatisfiable one, else 200."""
        headers = CachePolicy.get_headers(cache_duration=cache_duration, is_immutable=is_immutable)
        ranges = parse_ranges(range_header, content_length) if range_header else None
        if ranges is UNSATISFIABLE:
            headers.update({"Content-Range": f"bytes */{content_length}", "Accept-Ranges": "bytes"})
            return headers, None, 416
        if isinstance(ranges, list):
            start, end = ranges[0]
            headers.update(
                RangeRequest.get_range_response_headers(start, end, content_length, content_type)
            )
            return headers, (start, end), 206
        headers.update(RangeRequest.get_full_response_headers(content_length, content_type))
        return headers, None, 200

    def create_signed_asset_url(self, asset_url: str, expiration_seconds: int = 3600) -> str:
        """``asset_url`` signed to expire in ``expiration_seconds``.

        Raises:
            ValueError: no ``secret_key`` was given, or the expiry is not positive.
        """
        return self._handler().generate_signed_url(asset_url, expiration_seconds)

    def validate_asset_url(self, url: str) -> tuple[bool, str | None]:
        """``(True, None)`` or ``(False, reason)`` for a signed URL.

        Raises:
            ValueError: no ``secret_key`` was given.
        """
        return self._handler().validate_signed_url(url)

    def _handler(self) -> SignedURL:
        if self.signed_url_handler is None:
            raise ValueError(SIGNING_NOT_CONFIGURED)
        return self.signed_url_handler

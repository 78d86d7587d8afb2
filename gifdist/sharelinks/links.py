"""Canonical asset URLs and short share links.

``ShareLinkGenerator`` is the public API of the seed spec. It keeps links in a
``ShareLinkStore``: in memory by default (so library use needs nothing else), or
the SQL store the service wires in. Codes are 8 letters and digits drawn from
``secrets``; a new code that collides with a stored one is drawn again, never
written over it.
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
import secrets
import string
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from gifdist.errors import Conflict, InvalidInput

__all__ = [
    "InMemoryShareLinkStore",
    "ShareLinkGenerator",
    "ShareLinkStore",
    "create_asset_hash",
]

DEFAULT_TITLE = "GIF on gifdist"


class ShareLinkStore(Protocol):
    """Where short links live. Records are plain dicts with the seed's keys."""

    def insert_if_absent(self, short_code: str, record: dict[str, Any]) -> bool:
        """Store ``record`` under a new code; False (and no change) if the code exists."""
        ...

    def get(self, short_code: str) -> dict[str, Any] | None:
        """The stored record, or None."""
        ...

    def increment_clicks(self, short_code: str) -> dict[str, Any] | None:
        """Add one click and return the updated record, or None if unknown."""
        ...

    def list_for_asset(self, asset_id: str) -> list[dict[str, Any]]:
        """Every link of an asset, oldest first."""
        ...

    def take_click(self, short_code: str) -> bool:
        """Count a person's click on a limited link; False once its limit was reached."""
        ...

    def list_for_owner(self, created_by: str | None) -> list[dict[str, Any]]:
        """Every link one key made (None: every link), oldest first."""
        ...

    def update(self, short_code: str, changes: dict[str, Any]) -> dict[str, Any] | None:
        """Change a link's ``title``, ``tags`` or ``via``; the record, or None if unknown."""
        ...

    def delete(self, short_code: str) -> bool:
        """Remove a link; False if there was none."""
        ...


class InMemoryShareLinkStore:
    """Thread-safe dict-backed store; records are deep-copied in and out."""

    def __init__(self) -> None:
        self._links: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def insert_if_absent(self, short_code: str, record: dict[str, Any]) -> bool:
        with self._lock:
            folded = short_code.lower()
            for code, existing in self._links.items():
                if code == short_code or (
                    (existing.get("slug") or record.get("slug")) and code.lower() == folded
                ):
                    return False
            self._links[short_code] = copy.deepcopy(record)
            return True

    def get(self, short_code: str) -> dict[str, Any] | None:
        with self._lock:
            record = self._links.get(short_code)
            if record is None:
                folded = short_code.lower()
                record = next(
                    (r for c, r in self._links.items() if r.get("slug") and c.lower() == folded),
                    None,
                )
            return copy.deepcopy(record) if record is not None else None

    def take_click(self, short_code: str) -> bool:
        with self._lock:
            record = self._links.get(short_code)
            if record is None:
                return False
            limit = record.get("max_clicks")
            if limit is not None and record["clicks"] >= limit:
                return False
            record["clicks"] += 1
            return True

    def increment_clicks(self, short_code: str) -> dict[str, Any] | None:
        with self._lock:
            record = self._links.get(short_code)
            if record is None:
                return None
            record["clicks"] += 1
            return copy.deepcopy(record)

    def list_for_asset(self, asset_id: str) -> list[dict[str, Any]]:
        with self._lock:
            found = [
                {**r, "short_code": code}
                for code, r in self._links.items()
                if r.get("asset_id") == asset_id
            ]
            return copy.deepcopy(sorted(found, key=lambda r: str(r.get("created_at", ""))))

    def list_for_owner(self, created_by: str | None) -> list[dict[str, Any]]:
        with self._lock:
            found = [
                {**r, "short_code": code}
                for code, r in self._links.items()
                if created_by is None or r.get("created_by") == created_by
            ]
            return copy.deepcopy(sorted(found, key=lambda r: str(r.get("created_at", ""))))

    def update(self, short_code: str, changes: dict[str, Any]) -> dict[str, Any] | None:
        with self._lock:
            record = self._links.get(short_code)
            if record is None:
                return None
            record.update({k: v for k, v in changes.items() if k in ("title", "tags", "via")})
            return copy.deepcopy(record)

    def delete(self, short_code: str) -> bool:
        with self._lock:
            return self._links.pop(short_code, None) is not None

    def __len__(self) -> int:
        with self._lock:
            return len(self._links)


class ShareLinkGenerator:
    """Creates canonical URLs and short links for assets, and resolves them."""

    ALPHABET = string.ascii_letters + string.digits
    SHORT_LINK_LENGTH = 8
    MAX_CODE_ATTEMPTS = 16
    HASH_ID_LENGTH = 16

    def __init__(
        self, base_url: str = "https://gifdist.io", *, store: ShareLinkStore | None = None
    ) -> None:
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.store: ShareLinkStore = store if store is not None else InMemoryShareLinkStore()

    def generate_short_code(self) -> str:
        """A random 8-character code of ASCII letters and digits (62^8 ≈ 2.2e14 codes)."""
        return "".join(secrets.choice(self.ALPHABET) for _ in range(self.SHORT_LINK_LENGTH))

    def create_canonical_url(self, asset_id: str, asset_type: str = "gif") -> str:
        """The persistent page URL of an asset: ``{base_url}/a/{asset_id}``."""
        _require_id(asset_id)
        return f"{self.base_url}/a/{asset_id}"

    def create_short_url(self, short_code: str) -> str:
        """The public URL of a short code: ``{base_url}/s/{short_code}``."""
        return f"{self.base_url}/s/{short_code}"

    def create_share_link(
        self,
        asset_id: str,
        title: str = "",
        tags: Sequence[str] | None = None,
        *,
        via: str | None = None,
        created_by: str | None = None,
        slug: str | None = None,
        expires_at: datetime | None = None,
        max_clicks: int | None = None,
        password_hash: str | None = None,
    ) -> dict[str, str]:
        """Create a short link for ``asset_id``.

        Returns ``short_url``, ``canonical_url`` and ``short_code``. ``via`` records
        the platform the link is meant for, so clicks on it are attributed there.
        Raises ``Conflict`` if no free code could be drawn (practically never).
        """
        _require_id(asset_id)
        record = {
            "asset_id": asset_id,
            "canonical_url": self.create_canonical_url(asset_id),
            "title": str(title or ""),
            "tags": [str(tag) for tag in (tags or [])],
            "via": via,
            "created_by": created_by,
            "created_at": datetime.now(UTC).isoformat(),
            "clicks": 0,
        }
        if expires_at is not None:
            record["expires_at"] = expires_at.isoformat()
        if max_clicks is not None:
            record["max_clicks"] = max_clicks
        if password_hash is not None:
            record["password_hash"] = password_hash
        if slug is not None:
            record["slug"] = True
            if not self.store.insert_if_absent(slug, record):
                raise Conflict(
                    f"the slug {slug!r} is taken (slugs are unique whatever their case)",
                    code="slug_taken",
                )
            return {
                "short_url": self.create_short_url(slug),
                "canonical_url": str(record["canonical_url"]),
                "short_code": slug,
            }
        for _ in range(self.MAX_CODE_ATTEMPTS):
            code = self.generate_short_code()
            if self.store.insert_if_absent(code, record):
                return {
                    "short_url": self.create_short_url(code),
                    "canonical_url": str(record["canonical_url"]),
                    "short_code": code,
                }
        raise Conflict("could not allocate a free short code; try again", code="code_exhausted")

    def resolve_short_link(self, short_code: str) -> dict[str, Any] | None:
        """The link's record (asset_id, canonical_url, title, tags, created_at, clicks).

        Counts a click. Returns None for unknown or malformed codes.
        """
        if not is_valid_short_code(short_code):
            return None
        return self.store.increment_clicks(short_code)

    def lookup_short_link(self, short_code: str) -> dict[str, Any] | None:
        """Like ``resolve_short_link`` but without counting a click."""
        if not is_valid_short_code(short_code):
            return None
        return self.store.get(short_code)

    def generate_hash_based_id(self, content_hash: str, length: int | None = None) -> str:
        """A deterministic asset id: the first 16 hex characters of the content hash."""
        if not isinstance(content_hash, str) or not content_hash:
            raise InvalidInput("content_hash must be a non-empty hex string")
        normalised = content_hash.lower()
        if any(ch not in "0123456789abcdef" for ch in normalised):
            raise InvalidInput("content_hash must be hexadecimal")
        return normalised[: length or self.HASH_ID_LENGTH]

    def get_share_metadata(self, short_code: str) -> dict[str, Any] | None:
        """Open Graph metadata for a link: title, canonical_url, tags, asset_id."""
        record = self.lookup_short_link(short_code)
        if record is None:
            return None
        return {
            "title": record.get("title") or DEFAULT_TITLE,
            "canonical_url": record["canonical_url"],
            "tags": list(record.get("tags") or []),
            "asset_id": record["asset_id"],
        }


_CODE = re.compile(r"[A-Za-z0-9_-]{3,64}")


def is_valid_short_code(short_code: object) -> bool:
    """True for a drawn code (8 letters and digits) or a custom slug: 3–64 of
    ``A–Z a–z 0–9 - _``. Anything else is never looked up."""
    return isinstance(short_code, str) and _CODE.fullmatch(short_code) is not None


def _require_id(asset_id: object) -> None:
    if not isinstance(asset_id, str) or not asset_id.strip():
        raise InvalidInput("asset_id must be a non-empty string")


def create_asset_hash(file_path: str | os.PathLike[str]) -> str:
    """The SHA-256 hex digest of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(file_path, "rb") as handle:
        while block := handle.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()

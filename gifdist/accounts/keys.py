"""API keys: creation, hashing, scopes and verification.

A key looks like ``gd_<key_id>_<secret>``. Only its SHA-256 is stored, so a
leaked database does not leak usable keys. Scopes say what a key may do.
"""

from __future__ import annotations

import builtins
import dataclasses
import hashlib
import hmac
import secrets
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from gifdist.errors import Forbidden, InvalidInput, Unauthorized


class Scope(StrEnum):
    """What a key may do."""

    UPLOAD = "upload"
    LINKS = "links"
    READ = "read"
    STATS = "stats"
    MODERATE = "moderate"
    SEARCH = "search"  # the Tenor- and GIPHY-compatible APIs, for GIF pickers and bots
    ADMIN = "admin"


DEFAULT_SCOPES = (Scope.UPLOAD, Scope.LINKS, Scope.READ, Scope.STATS)
ALL_SCOPES = tuple(Scope)


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored key (never its secret)."""

    key_id: str
    name: str
    scopes: frozenset[Scope]
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    user_id: str | None = None  # the user the key belongs to (None: an operator key)

    @property
    def owner_id(self) -> str:
        """Whose GIFs and links this caller's are: the user's, or an operator key's own."""
        return self.user_id or self.key_id

    def allows(self, scope: Scope) -> bool:
        """True if the key has ``scope`` or is an admin key."""
        return self.revoked_at is None and (scope in self.scopes or Scope.ADMIN in self.scopes)

    def require(self, scope: Scope) -> None:
        """Raise ``Forbidden`` unless the key allows ``scope``."""
        if not self.allows(scope):
            raise Forbidden(f"this key lacks the {scope.value!r} scope", code="missing_scope")


class KeyStore(Protocol):
    def add(self, key: ApiKey, key_hash: str) -> None: ...
    def find_by_hash(self, key_hash: str) -> ApiKey | None: ...
    def find_by_id(self, key_id: str) -> ApiKey | None: ...
    def list(self) -> list[ApiKey]: ...
    def list_for_user(self, user_id: str) -> builtins.list[ApiKey]: ...
    def revoke(self, key_id: str) -> bool: ...
    def count(self) -> int: ...
    def touch(self, key_id: str, when: datetime) -> None: ...
    def any_used(self) -> bool: ...


def parse_scopes(values: Iterable[str]) -> frozenset[Scope]:
    """Turn scope names into ``Scope`` values; raise ``InvalidInput`` on unknown ones."""
    scopes: set[Scope] = set()
    for raw in values:
        for name in raw.replace(",", " ").split():
            try:
                scopes.add(Scope(name.strip().lower()))
            except ValueError:
                known = ", ".join(s.value for s in Scope)
                raise InvalidInput(f"unknown scope {name!r}; known scopes: {known}") from None
    if not scopes:
        raise InvalidInput("a key needs at least one scope")
    return frozenset(scopes)


def hash_key(secret: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


# What a user's keys may do at most (their role's scopes), or None when the user is
# disabled or gone: then their keys stop.
UserScopes = Callable[[str], frozenset[Scope] | None]


class KeyRing:
    """Creates and verifies keys against a store plus an optional configured admin key.

    A key that belongs to a user is cut down to the user's role (``user_scopes``) each
    time it is used, and refused once the user is disabled.
    """

    ADMIN_KEY_ID = "env-admin"

    def __init__(
        self,
        store: KeyStore,
        *,
        admin_key: str | None = None,
        user_scopes: UserScopes | None = None,
    ) -> None:
        self.store = store
        self._admin_key_hash = hash_key(admin_key) if admin_key else None
        self.user_scopes = user_scopes

    def create(
        self,
        name: str,
        scopes: Iterable[Scope] = DEFAULT_SCOPES,
        *,
        user_id: str | None = None,
    ) -> tuple[str, ApiKey]:
        """Make a new key (of ``user_id``, or an operator key); returns the secret
        (shown once) and its record."""
        name = name.strip()
        if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in name):
            raise InvalidInput(
                "a key name cannot contain control characters (such as NUL or a line break)",
                code="bad_name",
            )
        key_id = secrets.token_hex(6)
        secret = f"gd_{key_id}_{secrets.token_urlsafe(24)}"
        now = datetime.now(UTC)
        key = ApiKey(key_id, name[:200], frozenset(scopes), now, user_id=user_id)
        self.store.add(key, hash_key(secret))
        return secret, key

    def of_user(self, user_id: str) -> list[ApiKey]:
        """A user's keys, revoked ones included, oldest first."""
        return self.store.list_for_user(user_id)

    def revoke_own(self, user_id: str, key_id: str) -> bool:
        """Revoke one of ``user_id``'s keys; False when they have no such active key."""
        key = self.store.find_by_id(key_id)
        if key is None or key.user_id != user_id:
            return False
        return self.store.revoke(key_id)

    def _held(self, key: ApiKey) -> ApiKey:
        """``key`` as its user may use it now (``Unauthorized`` once they are disabled)."""
        if key.user_id is None or self.user_scopes is None:
            return key
        allowed = self.user_scopes(key.user_id)
        if allowed is None:
            raise Unauthorized("this key's account is disabled", code="account_disabled")
        asked = frozenset(ALL_SCOPES) if Scope.ADMIN in key.scopes else key.scopes
        return dataclasses.replace(key, scopes=asked & allowed)

    def list(self) -> list[ApiKey]:
        """Every stored key, revoked ones included (never their secrets)."""
        return self.store.list()

    def revoke(self, key_id: str) -> bool:
        """Revoke a key; False when no active key has this id."""
        return self.store.revoke(key_id)

    def verify(self, secret: str | None) -> ApiKey:
        """The key for ``secret``; raise ``Unauthorized`` if missing, unknown or revoked."""
        if not secret:
            raise Unauthorized("an API key is required: send 'Authorization: Bearer <key>'")
        if len(secret) > 256:
            raise Unauthorized("unknown API key", code="invalid_key")
        digest = hash_key(secret)
        if self._admin_key_hash and hmac.compare_digest(digest, self._admin_key_hash):
            return ApiKey(self.ADMIN_KEY_ID, "GIFDIST_ADMIN_KEY", frozenset(ALL_SCOPES), _EPOCH)
        key = self.store.find_by_hash(digest)
        if key is None:
            raise Unauthorized("unknown API key", code="invalid_key")
        if key.revoked_at is not None:
            raise Unauthorized("this API key has been revoked", code="revoked_key")
        held = self._held(key)
        self._note_use(key)
        return held

    def _note_use(self, key: ApiKey) -> None:
        """Record when ``key`` was last used, at most once per ``LAST_USED_RESOLUTION``."""
        now = datetime.now(UTC)
        if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
            self.store.touch(key.key_id, now)

    def by_id(self, key_id: str) -> ApiKey:
        """The active key with ``key_id`` (for sessions); ``Unauthorized`` otherwise."""
        if key_id == self.ADMIN_KEY_ID and self._admin_key_hash:
            return ApiKey(self.ADMIN_KEY_ID, "GIFDIST_ADMIN_KEY", frozenset(ALL_SCOPES), _EPOCH)
        key = self.store.find_by_id(key_id) if key_id != self.ADMIN_KEY_ID else None
        if key is None or key.revoked_at is not None:
            raise Unauthorized("your session has ended; sign in again", code="session_expired")
        try:
            return self._held(key)
        except Unauthorized:
            raise Unauthorized(
                "your session has ended; sign in again", code="session_expired"
            ) from None

    def session_version(self, key_id: str) -> str:
        """What a session remembers of its key: for ``GIFDIST_ADMIN_KEY``, a digest of
        the configured key, so rotating it ends the sessions made with the old one
        (stored keys end theirs by being revoked)."""
        if key_id == self.ADMIN_KEY_ID and self._admin_key_hash:
            return hashlib.sha256(b"session\x00" + self._admin_key_hash.encode()).hexdigest()[:32]
        return ""


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A key's last use is kept to the hour: one write per key per hour, not per request.
LAST_USED_RESOLUTION = timedelta(hours=1)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def ensure_initial_key(keys: KeyRing, *, admin_key_configured: bool) -> str | None:
    """Create an admin key when no key exists at all; returns its secret once."""
    if admin_key_configured or keys.store.count() > 0:
        return None
    secret, _ = keys.create("initial admin key", tuple(Scope))
    return secret


class InMemoryKeyStore:
    """Keys in a dict (the contract's reference implementation)."""

    def __init__(self) -> None:
        self._keys: dict[str, tuple[ApiKey, str]] = {}

    def add(self, key: ApiKey, key_hash: str) -> None:
        if key.key_id in self._keys or any(h == key_hash for _, h in self._keys.values()):
            raise ValueError("a key with this id or secret exists")
        self._keys[key.key_id] = (key, key_hash)

    def find_by_hash(self, key_hash: str) -> ApiKey | None:
        return next((k for k, h in self._keys.values() if h == key_hash), None)

    def find_by_id(self, key_id: str) -> ApiKey | None:
        found = self._keys.get(key_id)
        return found[0] if found else None

    def list(self) -> list[ApiKey]:
        return sorted((k for k, _ in self._keys.values()), key=lambda k: k.created_at)

    def list_for_user(self, user_id: str) -> builtins.list[ApiKey]:
        return [key for key in self.list() if key.user_id == user_id]

    def revoke(self, key_id: str) -> bool:
        found = self._keys.get(key_id)
        if found is None or found[0].revoked_at is not None:
            return False
        key, key_hash = found
        self._keys[key_id] = (dataclasses.replace(key, revoked_at=datetime.now(UTC)), key_hash)
        return True

    def count(self) -> int:
        return len(self._keys)

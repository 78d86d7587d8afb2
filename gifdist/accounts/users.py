"""People: users with a username, a password and a role, made by invite or sign-up.

A role is a set of key scopes, so the one access policy (``gifdist.assets.access``)
decides for people exactly as it does for keys: a member's GIFs, links and stats are
theirs, a moderator also moderates, an admin sees and manages everything. A user's
API keys never grant more than the user's role, and stop with the user.

Invite and reset links are one-time tokens, stored by hash, that expire. Every
change that should end a user's sessions (password, role, disable) turns the user's
``session_epoch``, which each session must still match.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from gifdist.accounts.keys import ALL_SCOPES, ApiKey, Scope
from gifdist.accounts.passwords import check_new_password, hash_password, verify_password
from gifdist.accounts.usernames import normalise_username
from gifdist.errors import Conflict, Forbidden, Gone, InvalidInput, NotFound, Unauthorized


class Role(StrEnum):
    """What a person may do, as the key scopes it amounts to."""

    ADMIN = "admin"
    MODERATOR = "moderator"
    MEMBER = "member"

    @property
    def scopes(self) -> frozenset[Scope]:
        return ROLE_SCOPES[self]


_MEMBER = frozenset({Scope.UPLOAD, Scope.LINKS, Scope.READ, Scope.STATS, Scope.SEARCH})
ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.MEMBER: _MEMBER,
    Role.MODERATOR: _MEMBER | {Scope.MODERATE},
    Role.ADMIN: frozenset(ALL_SCOPES),
}

SUBJECT_PREFIX = "u:"  # a session's subject for a user (key ids never hold a colon)


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise InvalidInput(f"unknown role {value!r}; roles: {known}", code="bad_role") from None


@dataclass(frozen=True, slots=True)
class User:
    """A person (their password hash and TOTP secret are never shown)."""

    user_id: str
    username: str
    role: Role
    created_at: datetime
    password_hash: str | None = field(default=None, repr=False)
    disabled_at: datetime | None = None
    session_epoch: str = ""
    totp_secret: str | None = field(default=None, repr=False)
    totp_last_step: int | None = None
    email: str | None = None
    oidc_subject: str | None = None
    quota_bytes: int | None = None
    quota_uploads_per_day: int | None = None

    @property
    def active(self) -> bool:
        return self.disabled_at is None

    @property
    def subject(self) -> str:
        """What a browser session of this user remembers."""
        return SUBJECT_PREFIX + self.user_id

    def principal(self) -> ApiKey:
        """The caller the access policy sees for this user's browser session."""
        return ApiKey(
            self.subject, self.username, self.role.scopes, self.created_at, user_id=self.user_id
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "username": self.username,
            "role": self.role.value,
            "created_at": self.created_at.isoformat(),
            "disabled": not self.active,
            "totp": self.totp_secret is not None,
            "email": self.email,
        }


class TokenKind(StrEnum):
    INVITE = "invite"
    RESET = "reset"


@dataclass(frozen=True, slots=True)
class AccountToken:
    """A one-time link: an invite (makes a user with ``role``) or a password reset
    (for ``user_id``)."""

    kind: TokenKind
    created_by: str
    created_at: datetime
    expires_at: datetime
    role: Role | None = None
    user_id: str | None = None
    used_at: datetime | None = None


class UserStore(Protocol):
    def add(self, user: User) -> None: ...  # ``Conflict`` when the username is taken
    def get(self, user_id: str) -> User | None: ...
    def find_by_username(self, username: str) -> User | None: ...
    def find_by_oidc(self, subject: str) -> User | None: ...
    def find_by_email(self, email: str) -> User | None: ...
    def list(self) -> list[User]: ...
    def count(self) -> int: ...
    def update(self, user_id: str, changes: dict[str, Any]) -> bool: ...
    def use_totp_step(self, user_id: str, step: int) -> bool: ...
    def add_token(self, token_hash: str, token: AccountToken) -> None: ...
    def take_token(
        self, token_hash: str, kind: TokenKind, now: datetime
    ) -> AccountToken | None: ...
    def peek_token(self, token_hash: str, kind: TokenKind) -> AccountToken | None: ...
    def release_token(
        self, token_hash: str, kind: TokenKind, taken_at: datetime
    ) -> None: ...  # unused again, if ``taken_at`` is still when it was taken


_USER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def is_user_id(value: object) -> bool:
    """Whether ``value`` has the shape of a user id (hex today; a migrated key id before)."""
    return isinstance(value, str) and _USER_ID.fullmatch(value) is not None


def token_hash(token: str) -> str:
    return hashlib.sha256(b"account-token\x00" + token.encode("utf-8", "surrogatepass")).hexdigest()


def new_epoch() -> str:
    return secrets.token_hex(8)


class Users:
    """The user directory: create, invite, sign up, reset, change role, disable."""

    def __init__(
        self,
        store: UserStore,
        *,
        signup: bool = False,
        invite_ttl: timedelta = timedelta(days=3),
        reset_ttl: timedelta = timedelta(days=1),
    ) -> None:
        self.store = store
        self.signup = signup
        self.invite_ttl = invite_ttl
        self.reset_ttl = reset_ttl

    def create(
        self,
        username: str,
        password: str | None,
        role: Role = Role.MEMBER,
        *,
        email: str | None = None,
        oidc_subject: str | None = None,
    ) -> User:
        """A new user (``password`` None: one who signs in through OIDC or a reset link)."""
        name = normalise_username(username)
        if email is not None and (
            len(email) > 320 or "@" not in email or not email.isprintable()
        ):  # a NUL or a line break is no part of an address (nor storable on PostgreSQL)
            raise InvalidInput("that is not an e-mail address", code="bad_email")
        hashed = hash_password(password) if password is not None else None
        user = User(
            user_id=secrets.token_hex(6),
            username=name,
            role=role,
            created_at=datetime.now(UTC),
            password_hash=hashed,
            session_epoch=new_epoch(),
            email=email.strip() if email else None,
            oidc_subject=oidc_subject,
        )
        if self.store.find_by_username(name) is not None:
            raise Conflict(f"the username {name!r} is taken", code="username_taken")
        self.store.add(user)
        return user

    def list(self) -> list[User]:
        return self.store.list()

    def get(self, user_id: str) -> User:
        user = self.store.get(user_id) if is_user_id(user_id) else None
        if user is None:
            raise NotFound(f"no user with id {user_id!r}")
        return user

    def find(self, name_or_id: str) -> User:
        """A user by username (any spelling of it) or id; ``NotFound`` otherwise."""
        user = self.store.get(name_or_id) if is_user_id(name_or_id) else None
        if user is None:
            try:
                user = self.store.find_by_username(normalise_username(name_or_id))
            except InvalidInput:
                user = None
        if user is None:
            raise NotFound(f"no user named {name_or_id!r}")
        return user

    # invites and sign-up ------------------------------------------------------------

    def invite(self, role: Role, created_by: str) -> tuple[str, AccountToken]:
        """A one-time invite token for a new user with ``role``."""
        return self._token(TokenKind.INVITE, created_by, self.invite_ttl, role=role)

    def check_invite(self, token: str) -> AccountToken:
        """The invite behind ``token`` if it can still be used (``Gone`` otherwise)."""
        found = self.store.peek_token(token_hash(token), TokenKind.INVITE) if token else None
        return _usable(found, "invite")

    def accept_invite(self, token: str, username: str, password: str) -> User:
        """Make the invited user; the invite cannot be used again."""
        name = normalise_username(username)
        check_new_password(password)
        self.check_invite(token)
        if self.store.find_by_username(name) is not None:
            raise Conflict(f"the username {name!r} is taken", code="username_taken")
        now = datetime.now(UTC)
        taken = self.store.take_token(token_hash(token), TokenKind.INVITE, now)
        invite = _usable(taken, "invite")
        try:
            return self.create(name, password, invite.role or Role.MEMBER)
        except BaseException:  # the name was taken meanwhile: the invite is not spent
            self.store.release_token(token_hash(token), TokenKind.INVITE, now)
            raise

    def sign_up(self, username: str, password: str) -> User:
        """A new member, when the deployment allows sign-up."""
        if not self.signup:
            raise Forbidden(
                "sign-up is closed here; ask an admin for an invite", code="signup_closed"
            )
        return self.create(username, password, Role.MEMBER)

    # passwords ----------------------------------------------------------------------

    def change_password(self, user_id: str, current: str, new: str) -> User:
        """Set a new password (the current one is required); other sessions end."""
        user = self.get(user_id)
        check_new_password(new)
        if not verify_password(user.password_hash, current):
            raise Forbidden("the current password is not right", code="wrong_password")
        return self._update(user, password_hash=hash_password(new), session_epoch=new_epoch())

    def reset_link(self, user_id: str, created_by: str) -> tuple[str, AccountToken]:
        """A one-time token with which the user sets a new password (no mail needed)."""
        user = self.get(user_id)
        return self._token(TokenKind.RESET, created_by, self.reset_ttl, user_id=user.user_id)

    def check_reset(self, token: str) -> AccountToken:
        found = self.store.peek_token(token_hash(token), TokenKind.RESET) if token else None
        return _usable(found, "reset link")

    def reset_password(self, token: str, new: str) -> User:
        """Use a reset token: the new password is set and every session ends."""
        check_new_password(new)
        self.check_reset(token)
        taken = self.store.take_token(token_hash(token), TokenKind.RESET, datetime.now(UTC))
        reset = _usable(taken, "reset link")
        user = self.get(reset.user_id or "")
        return self._update(user, password_hash=hash_password(new), session_epoch=new_epoch())

    # roles and disabling ------------------------------------------------------------

    def set_role(self, user_id: str, role: Role) -> User:
        """Change the role; the user's sessions end (their keys follow the new role)."""
        user = self.get(user_id)
        if user.role is role:
            return user
        return self._update(user, role=role.value, session_epoch=new_epoch())

    def disable(self, user_id: str) -> User:
        """Stop the user at once: sessions and keys are refused from now on."""
        user = self.get(user_id)
        if not user.active:
            return user
        return self._update(user, disabled_at=datetime.now(UTC), session_epoch=new_epoch())

    def enable(self, user_id: str) -> User:
        user = self.get(user_id)
        return self._update(user, disabled_at=None) if not user.active else user

    def set_quota(
        self, user_id: str, *, bytes_stored: int | None, uploads_per_day: int | None
    ) -> User:
        """Per-user limits (None: the deployment's default)."""
        user = self.get(user_id)
        for value in (bytes_stored, uploads_per_day):
            if value is not None and value < 0:
                raise InvalidInput("a quota is zero (unlimited) or more", code="bad_quota")
        return self._update(user, quota_bytes=bytes_stored, quota_uploads_per_day=uploads_per_day)

    def key_scopes(self, user_id: str) -> frozenset[Scope] | None:
        """What a key of ``user_id`` may do at most; None when the user is gone or disabled."""
        user = self.store.get(user_id) if is_user_id(user_id) else None
        return user.role.scopes if user is not None and user.active else None

    def _update(self, user: User, **changes: Any) -> User:
        self.store.update(user.user_id, changes)
        typed: dict[str, Any] = {k: (Role(v) if k == "role" else v) for k, v in changes.items()}
        return dataclasses.replace(user, **typed)

    def _token(
        self, kind: TokenKind, created_by: str, ttl: timedelta, **what: Any
    ) -> tuple[str, AccountToken]:
        secret = secrets.token_urlsafe(24)
        now = datetime.now(UTC)
        token = AccountToken(kind, created_by[:64], now, now + ttl, **what)
        self.store.add_token(token_hash(secret), token)
        return secret, token


def _usable(token: AccountToken | None, what: str) -> AccountToken:
    if token is None:
        raise NotFound(f"this {what} is not valid", code=f"bad_{what.split()[0]}")
    if token.used_at is not None:
        raise Gone(f"this {what} has been used already", code=f"used_{what.split()[0]}")
    if token.expires_at <= datetime.now(UTC):
        raise Gone(f"this {what} has expired", code=f"expired_{what.split()[0]}")
    return token


def not_signed_in() -> Unauthorized:
    return Unauthorized("your session has ended; sign in again", code="session_expired")

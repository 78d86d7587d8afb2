"""Users and their one-time links in SQL."""

from __future__ import annotations

import builtins
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from gifdist.accounts.users import AccountToken, Role, TokenKind, User
from gifdist.errors import Conflict
from gifdist.stores.schema import account_tokens, users

_CHANGEABLE = frozenset(
    {
        "role",
        "password_hash",
        "disabled_at",
        "session_epoch",
        "totp_secret",
        "totp_last_step",
        "email",
        "oidc_subject",
        "quota_bytes",
        "quota_uploads_per_day",
    }
)


class SqlUserStore:
    """``UserStore`` on the ``users`` and ``account_tokens`` tables."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, user: User) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(users).values(
                        user_id=user.user_id,
                        username=user.username,
                        role=user.role.value,
                        password_hash=user.password_hash,
                        created_at=user.created_at,
                        disabled_at=user.disabled_at,
                        session_epoch=user.session_epoch,
                        totp_secret=user.totp_secret,
                        totp_last_step=user.totp_last_step,
                        email=user.email,
                        oidc_subject=user.oidc_subject,
                        quota_bytes=user.quota_bytes,
                        quota_uploads_per_day=user.quota_uploads_per_day,
                    )
                )
        except IntegrityError:
            raise Conflict(
                f"the username {user.username!r} is taken", code="username_taken"
            ) from None

    def _one(self, *where: Any) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(*where)).mappings().first()
        return _user(row) if row else None

    def get(self, user_id: str) -> User | None:
        return self._one(users.c.user_id == user_id) if _storable(user_id) else None

    def find_by_username(self, username: str) -> User | None:
        return self._one(users.c.username == username) if _storable(username) else None

    def find_by_oidc(self, subject: str) -> User | None:
        return self._one(users.c.oidc_subject == subject) if _storable(subject) else None

    def find_by_email(self, email: str) -> User | None:
        if not _storable(email):
            return None
        return self._one(func.lower(users.c.email) == email.lower())

    def list(self) -> builtins.list[User]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(users).order_by(users.c.created_at, users.c.username))
            return [_user(row) for row in rows.mappings()]

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(users)).scalar_one())

    def update(self, user_id: str, changes: dict[str, Any]) -> bool:
        unknown = set(changes) - _CHANGEABLE
        if unknown:
            raise ValueError(f"cannot change {sorted(unknown)}")
        values = {k: (v.value if isinstance(v, Role) else v) for k, v in changes.items()}
        try:
            with self.engine.begin() as conn:
                result = conn.execute(
                    update(users).where(users.c.user_id == user_id).values(**values)
                )
        except IntegrityError:
            raise Conflict("another user already has this sign-in", code="identity_taken") from None
        return result.rowcount > 0

    def use_totp_step(self, user_id: str, step: int) -> bool:
        """Record ``step`` as used unless it (or a later one) was: atomic, so two
        requests with the same code cannot both pass."""
        c = users.c
        with self.engine.begin() as conn:
            result = conn.execute(
                update(users)
                .where(
                    c.user_id == user_id,
                    or_(c.totp_last_step.is_(None), c.totp_last_step < step),
                )
                .values(totp_last_step=step)
            )
            return result.rowcount > 0

    def add_token(self, token_hash: str, token: AccountToken) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(account_tokens).values(
                    token_hash=token_hash,
                    kind=token.kind.value,
                    role=token.role.value if token.role else None,
                    user_id=token.user_id,
                    created_by=token.created_by,
                    created_at=token.created_at,
                    expires_at=token.expires_at,
                    used_at=token.used_at,
                )
            )

    def peek_token(self, token_hash: str, kind: TokenKind) -> AccountToken | None:
        c = account_tokens.c
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    select(account_tokens).where(c.token_hash == token_hash, c.kind == kind.value)
                )
                .mappings()
                .first()
            )
        return _token(row) if row else None

    def release_token(self, token_hash: str, kind: TokenKind, taken_at: datetime) -> None:
        """Unused again, if it is still marked used at ``taken_at`` (by this taker)."""
        c = account_tokens.c
        with self.engine.begin() as conn:
            conn.execute(
                update(account_tokens)
                .where(c.token_hash == token_hash, c.kind == kind.value, c.used_at == taken_at)
                .values(used_at=None)
            )

    def take_token(self, token_hash: str, kind: TokenKind, now: datetime) -> AccountToken | None:
        """Mark the token used, if it is unused and unexpired (atomic: one taker wins).
        Returns it as it was (None when it was not taken)."""
        c = account_tokens.c
        with self.engine.begin() as conn:
            result = conn.execute(
                update(account_tokens)
                .where(
                    c.token_hash == token_hash,
                    c.kind == kind.value,
                    c.used_at.is_(None),
                    c.expires_at > now,
                )
                .values(used_at=now)
            )
            if result.rowcount == 0:
                row = (
                    conn.execute(
                        select(account_tokens).where(
                            c.token_hash == token_hash, c.kind == kind.value
                        )
                    )
                    .mappings()
                    .first()
                )
                return _token(row) if row else None
            row = (
                conn.execute(select(account_tokens).where(c.token_hash == token_hash))
                .mappings()
                .one()
            )
        taken = _token(row)
        return AccountToken(
            taken.kind,
            taken.created_by,
            taken.created_at,
            taken.expires_at,
            taken.role,
            taken.user_id,
        )


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _user(row: Any) -> User:
    created = _aware(row["created_at"])
    assert created is not None
    return User(
        user_id=row["user_id"],
        username=row["username"],
        role=Role(row["role"]),
        created_at=created,
        password_hash=row["password_hash"],
        disabled_at=_aware(row["disabled_at"]),
        session_epoch=row["session_epoch"],
        totp_secret=row["totp_secret"],
        totp_last_step=row["totp_last_step"],
        email=row["email"],
        oidc_subject=row["oidc_subject"],
        quota_bytes=row["quota_bytes"],
        quota_uploads_per_day=row["quota_uploads_per_day"],
    )


def _token(row: Any) -> AccountToken:
    created, expires = _aware(row["created_at"]), _aware(row["expires_at"])
    assert created is not None and expires is not None
    return AccountToken(
        kind=TokenKind(row["kind"]),
        created_by=row["created_by"],
        created_at=created,
        expires_at=expires,
        role=Role(row["role"]) if row["role"] else None,
        user_id=row["user_id"],
        used_at=_aware(row["used_at"]),
    )


def _storable(value: str) -> bool:
    """PostgreSQL text cannot hold a NUL, so no stored user matches a value with one
    (and asking would be an error there, not an answer)."""
    return "\x00" not in value

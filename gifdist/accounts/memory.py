"""Users and one-time links in dicts (the ``UserStore`` contract's reference)."""

from __future__ import annotations

import dataclasses
import threading
from datetime import datetime
from typing import Any

from gifdist.accounts.users import AccountToken, Role, TokenKind, User
from gifdist.errors import Conflict


class InMemoryUserStore:
    def __init__(self) -> None:
        self._users: dict[str, User] = {}
        self._tokens: dict[str, AccountToken] = {}
        self._lock = threading.Lock()

    def add(self, user: User) -> None:
        with self._lock:
            if user.user_id in self._users or self._find("username", user.username):
                raise Conflict(f"the username {user.username!r} is taken", code="username_taken")
            self._users[user.user_id] = user

    def _find(self, field: str, value: str) -> User | None:
        return next((u for u in self._users.values() if getattr(u, field) == value), None)

    def get(self, user_id: str) -> User | None:
        return self._users.get(user_id)

    def find_by_username(self, username: str) -> User | None:
        return self._find("username", username)

    def find_by_oidc(self, subject: str) -> User | None:
        return self._find("oidc_subject", subject)

    def find_by_email(self, email: str) -> User | None:
        wanted = email.lower()
        return next((u for u in self._users.values() if (u.email or "").lower() == wanted), None)

    def list(self) -> list[User]:
        return sorted(self._users.values(), key=lambda u: (u.created_at, u.username))

    def count(self) -> int:
        return len(self._users)

    def update(self, user_id: str, changes: dict[str, Any]) -> bool:
        with self._lock:
            user = self._users.get(user_id)
            if user is None:
                return False
            typed: dict[str, Any] = {k: (Role(v) if k == "role" else v) for k, v in changes.items()}
            subject = typed.get("oidc_subject")
            if subject is not None and self._find("oidc_subject", subject) not in (None, user):
                raise Conflict("another user already has this sign-in", code="identity_taken")
            self._users[user_id] = dataclasses.replace(user, **typed)
            return True

    def use_totp_step(self, user_id: str, step: int) -> bool:
        with self._lock:
            user = self._users.get(user_id)
            if user is None or (user.totp_last_step is not None and user.totp_last_step >= step):
                return False
            self._users[user_id] = dataclasses.replace(user, totp_last_step=step)
            return True

    def add_token(self, token_hash: str, token: AccountToken) -> None:
        self._tokens[token_hash] = token

    def peek_token(self, token_hash: str, kind: TokenKind) -> AccountToken | None:
        found = self._tokens.get(token_hash)
        return found if found is not None and found.kind is kind else None

    def release_token(self, token_hash: str, kind: TokenKind, taken_at: datetime) -> None:
        with self._lock:
            found = self.peek_token(token_hash, kind)
            if found is not None and found.used_at == taken_at:
                self._tokens[token_hash] = dataclasses.replace(found, used_at=None)

    def take_token(self, token_hash: str, kind: TokenKind, now: datetime) -> AccountToken | None:
        with self._lock:
            found = self.peek_token(token_hash, kind)
            if found is None or found.used_at is not None or found.expires_at <= now:
                return found
            self._tokens[token_hash] = dataclasses.replace(found, used_at=now)
            return found

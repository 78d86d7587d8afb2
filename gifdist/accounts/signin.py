"""Signing in: a username and password (then a TOTP code when the user has one),
limited per account and per client, with one answer for every failure.

Also what a browser session resolves to: a user's session names ``u:<user_id>`` and
is valid while the user's ``session_epoch`` is the one it was made with.
"""

from __future__ import annotations

import secrets

from gifdist.accounts.keys import ApiKey, KeyRing
from gifdist.accounts.passwords import verify_password
from gifdist.accounts.totp import SecondFactor
from gifdist.accounts.usernames import normalise_username
from gifdist.accounts.users import SUBJECT_PREFIX, User, UserStore, not_signed_in
from gifdist.errors import InvalidInput, TooManyRequests, Unauthorized
from gifdist.ratelimit import (
    LimitBackend,
    LimitRule,
    MemoryLimitBackend,
    RateLimitBackendUnavailable,
    RateLimitConfig,
    combine_decisions,
)

WRONG = "wrong username or password"
WINDOW_SECONDS = 900.0


class SignIn:
    """Checks credentials and resolves session subjects to callers."""

    def __init__(
        self,
        store: UserStore,
        keys: KeyRing,
        attempts: LimitBackend,
        *,
        per_account: int = 10,
        per_client: int = 50,
    ) -> None:
        self.store = store
        self.keys = keys
        self.second_factor = SecondFactor(store)
        self.attempts = attempts
        self._fallback = MemoryLimitBackend()  # while a shared counter store is down
        self._account = RateLimitConfig(per_account, WINDOW_SECONDS)
        self._client = RateLimitConfig(per_client, WINDOW_SECONDS)

    def password(self, username: str, password: str, client: str) -> User:
        """The user whose password this is; ``Unauthorized`` (the same message whether
        the name exists or not) or ``TooManyRequests``."""
        try:
            name = normalise_username(username)
        except InvalidInput:
            name = ""
        self._take_attempt(name or "-", client)
        user = self.store.find_by_username(name) if name else None
        matched = verify_password(user.password_hash if user else None, password)
        if user is None or not matched:
            raise Unauthorized(WRONG, code="bad_credentials")
        if not user.active:
            raise Unauthorized("this account is disabled; ask an admin", code="account_disabled")
        return user

    def totp(self, user_id: str, code: str, client: str) -> User:
        """The second step: a fresh code of the user's authenticator."""
        user = self.store.get(user_id)
        if user is None or not user.active:
            raise not_signed_in()
        self._take_attempt(user.username, client)
        self.second_factor.check(user, code)
        return user

    def _take_attempt(self, account: str, client: str) -> None:
        rules = [
            LimitRule(f"signin:account:{account}", self._account),
            LimitRule(f"signin:client:{client or '-'}", self._client),
        ]
        try:
            decisions = self.attempts.hit(rules, 1)
        except RateLimitBackendUnavailable:
            decisions = self._fallback.hit(rules, 1)
        decision = combine_decisions(decisions)
        if not decision.allowed:
            wait = max(1, int(decision.retry_after + 0.999))
            raise TooManyRequests(
                f"too many sign-in attempts; try again in {wait} seconds", retry_after=wait
            )

    def principal(self, subject: str) -> ApiKey:
        """The caller a session subject stands for (``Unauthorized`` when it is gone)."""
        if subject.startswith(SUBJECT_PREFIX):
            user = self.store.get(subject.removeprefix(SUBJECT_PREFIX))
            if user is None or not user.active:
                raise not_signed_in()
            return user.principal()
        return self.keys.by_id(subject)

    def session_version(self, subject: str) -> str:
        """What a session of ``subject`` must still match (a disabled user matches nothing)."""
        if subject.startswith(SUBJECT_PREFIX):
            user = self.store.get(subject.removeprefix(SUBJECT_PREFIX))
            if user is None or not user.active:
                return "gone:" + secrets.token_hex(8)
            return user.session_epoch
        return self.keys.session_version(subject)

"""An optional second factor: time-based one-time codes (RFC 6238, through pyotp).

A code is accepted once: the time step it matched is stored, and a code of that
step or an earlier one is refused (a replayed or shoulder-surfed code is useless).
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime

import pyotp

from gifdist.accounts.passwords import verify_password
from gifdist.accounts.users import User, UserStore
from gifdist.errors import Forbidden, InvalidInput, Unauthorized

ISSUER = "gifdist"
DRIFT_STEPS = 1  # a code of the step before or after is accepted too (clock drift)


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str, issuer: str = ISSUER) -> str:
    """The ``otpauth://`` URI an authenticator app scans."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def matching_step(secret: str, code: str, when: datetime | None = None) -> int | None:
    """The time step ``code`` belongs to (within the drift), or None."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now = when or datetime.now(UTC)
    current = totp.timecode(now)
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


class SecondFactor:
    """Turns TOTP on and off for a user and checks their codes (each used once)."""

    def __init__(self, store: UserStore) -> None:
        self.store = store

    def enable(self, user: User, secret: str, code: str) -> None:
        """Keep ``secret`` once the user proves their app has it (a current code)."""
        if user.totp_secret is not None:
            raise InvalidInput("two-factor sign-in is already on", code="totp_on")
        if len(secret) != 32 or not _is_base32(secret):
            raise InvalidInput("that TOTP secret is not one this page made", code="bad_totp_secret")
        step = matching_step(secret, code)
        if step is None:
            raise InvalidInput(
                "that code is not right; check the time on your device", code="bad_totp"
            )
        self.store.update(user.user_id, {"totp_secret": secret, "totp_last_step": step})

    def disable(self, user: User, password: str) -> None:
        if not verify_password(user.password_hash, password):
            raise Forbidden("the password is not right", code="wrong_password")
        self.store.update(user.user_id, {"totp_secret": None, "totp_last_step": None})

    def check(self, user: User, code: str) -> None:
        """Raise ``Unauthorized`` unless ``code`` is a fresh code of the user's secret."""
        if user.totp_secret is None:
            return
        step = matching_step(user.totp_secret, code)
        if step is None or not self.store.use_totp_step(user.user_id, step):
            raise Unauthorized("that code is not right, or was used already", code="bad_totp")


def _is_base32(value: str) -> bool:
    return all(c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" for c in value)

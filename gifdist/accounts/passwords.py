"""Passwords: argon2id hashes (argon2-cffi), checked in the same time whether or not
the account exists, and bounded in length so a huge password costs nothing."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from gifdist.errors import InvalidInput

MIN_CHARS = 10
MAX_CHARS = 1024  # longer is refused before any hashing

_HASHER = PasswordHasher()  # argon2id, the library's recommended costs
# Checked against when there is no account, so an unknown name takes as long as a
# wrong password.
_DUMMY_HASH = _HASHER.hash("gifdist: no such account")


def encodable(text: str) -> bool:
    """Whether ``text`` is valid Unicode (a lone surrogate, which JSON can carry as
    ``\\ud800``, has no UTF-8 form and cannot be hashed)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_new_password(password: str) -> None:
    """Raise ``InvalidInput`` unless ``password`` may be set."""
    if not encodable(password):
        raise InvalidInput(
            "a password cannot contain lone surrogates (invalid Unicode)", code="bad_password"
        )
    if len(password) > MAX_CHARS:
        raise InvalidInput(
            f"a password has at most {MAX_CHARS} characters", code="password_too_long"
        )
    if len(password) < MIN_CHARS:
        raise InvalidInput(
            f"a password has at least {MIN_CHARS} characters", code="password_too_short"
        )


def hash_password(password: str) -> str:
    check_new_password(password)
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; as slow for a missing hash as for a wrong one."""
    if len(password) > MAX_CHARS or not encodable(password):
        password = ""  # never hash a huge or unencodable input; still spend the same time
    try:
        return _HASHER.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _HASHER.check_needs_rehash(stored_hash)

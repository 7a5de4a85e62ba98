"""Argon2id password hashing (STACK "passwords")."""

import contextlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app

MIN_PASSWORD_LENGTH = 10


def _hasher() -> PasswordHasher:
    config = current_app.config
    return PasswordHasher(
        time_cost=config["ARGON2_TIME_COST"],
        memory_cost=config["ARGON2_MEMORY_KIB"],
        parallelism=1,
    )


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> tuple[bool, str | None]:
    """Check a password; return (ok, new_hash) where new_hash is set when parameters changed.

    An account without a password (an invitation not yet accepted) is checked against a dummy
    hash, so the time taken does not tell which accounts exist.
    """
    hasher = _hasher()
    if not password_hash:
        with contextlib.suppress(VerificationError):
            hasher.verify(_dummy_hash(hasher), password)
        return False, None
    try:
        hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    if hasher.check_needs_rehash(password_hash):
        return True, hasher.hash(password)
    return True, None


_DUMMY: dict[tuple[int, int], str] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    key = (hasher.time_cost, hasher.memory_cost)
    if key not in _DUMMY:
        _DUMMY[key] = hasher.hash("not-a-real-password-just-for-timing")
    return _DUMMY[key]

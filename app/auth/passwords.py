"""Argon2id password hashing (STACK "passwords")."""

import contextlib
import unicodedata
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from flask_babel import gettext as _

from app.i18n import N_

# OWASP ASVS V6.2: at least 12 characters for clinicians (health data for a whole caseload),
# 8 for patients (their own record); at most 200 here (ASVS: at least 64 must be allowed); no
# composition rules; refused when it is a common password.
MIN_CLINICIAN_PASSWORD = 12
MIN_PATIENT_PASSWORD = 8
MAX_PASSWORD_LENGTH = 200
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")
COMMON_PASSWORD = N_("This password is one of the most common ones; choose another.")


def min_password_length(is_patient: bool) -> int:
    return MIN_PATIENT_PASSWORD if is_patient else MIN_CLINICIAN_PASSWORD


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (see the header of common_passwords.txt)."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def password_problem(password: str, *, is_patient: bool) -> str | None:
    """Return why a new password is refused, or None when it is fine."""
    minimum = min_password_length(is_patient)
    # Length counts characters as people type them (NFC), not bytes.
    length = len(unicodedata.normalize("NFC", password))
    if length < minimum:
        return _("Use at least %(count)s characters.", count=minimum)
    if length > MAX_PASSWORD_LENGTH:
        return _("Use at most %(count)s characters.", count=MAX_PASSWORD_LENGTH)
    if password.strip().lower() in common_passwords():
        return _(COMMON_PASSWORD)
    return None


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

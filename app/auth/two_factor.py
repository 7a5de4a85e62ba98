"""TOTP second factor for clinicians (DESIGN §4 "Clinician accounts", STACK "pyotp").

RFC 6238 codes of 6 digits every 30 s, accepted with one step of clock drift either side and
only once: the last accepted time step is stored, and accepting a code is one conditional UPDATE
(``totp_last_step < step``), so a code replayed in the same step — even by two requests at the
same moment — is refused. The secret is kept sealed with a key derived from SECRET_KEY, so a
copy of the database alone does not give the codes. Recovery codes are random, single-use and
kept as SHA-256 (like invitation tokens, they carry enough entropy that a fast hash is right).
Patients are never asked for a second factor.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app

from app import audit
from app.auth.models import Clinic, RecoveryCode, User
from app.auth.passwords import verify_password
from app.auth.sessions import revoke_all
from app.errors import ValidationFailed
from app.extensions import db

ISSUER = "Homestretch"
STEP_SECONDS = 30
DRIFT_STEPS = 1
RECOVERY_CODES = 10
# Recovery codes: 10 characters from an unambiguous alphabet (~50 bits), shown as xxxxx-xxxxx.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
WRONG_CODE = "That code is not right. Enter the 6-digit code your app shows now."


def requires_second_factor(user: User) -> bool:
    """Clinicians who enrolled answer a second step after their password; patients never."""
    return user.is_clinician and user.totp_secret is not None


def clinic_requires_2fa(clinic: Clinic) -> bool:
    """The clinic's setting, or the configuration's default when the clinic never chose."""
    if clinic.require_2fa is not None:
        return clinic.require_2fa
    return bool(current_app.config.get("REQUIRE_2FA"))


def must_enrol(user: User) -> bool:
    """A clinician of a clinic that requires a second factor, who has none yet."""
    if not user.is_clinician or user.totp_secret is not None:
        return False
    # The user loader brings the clinic's choice along (no query); otherwise load the clinic.
    choice = user.__dict__.get("clinic_require_2fa", _UNKNOWN)
    if choice is _UNKNOWN:
        return clinic_requires_2fa(user.clinic)
    if choice is not None:
        return bool(choice)
    return bool(current_app.config.get("REQUIRE_2FA"))


_UNKNOWN = object()


# ---------------------------------------------------------------------------- secrets


def _fernet() -> Fernet:
    digest = hashlib.sha256(f"totp-secret:{current_app.config['SECRET_KEY']}".encode())
    return Fernet(base64.urlsafe_b64encode(digest.digest()))


def seal_secret(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def unseal_secret(sealed: str | None) -> str | None:
    if not sealed:
        return None
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken:
        return None


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    """The otpauth:// URI an authenticator app reads (as text or from the QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email or str(user.id), issuer_name=ISSUER)


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """Return the time step whose code is `code` (now, or one step either side), else None."""
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // STEP_SECONDS
    for step in (current, current - DRIFT_STEPS, current + DRIFT_STEPS):
        if secrets.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def _accept_step(user: User, step: int) -> bool:
    """Store `step` as the last accepted one unless it (or a later one) was already used."""
    done = db.session.execute(
        sa.update(User)
        .where(
            User.id == user.id,
            sa.or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount == 1:
        user.totp_last_step = step
        return True
    return False


# ---------------------------------------------------------------------------- enrolment


def pending_secret(user: User) -> str | None:
    return unseal_secret(user.totp_pending_secret)


def start_enrolment(user: User) -> str:
    """Give the user a new secret waiting for its first code (kept sealed on the user)."""
    secret = new_secret()
    db.session.execute(
        sa.update(User)
        .where(User.id == user.id)
        .values(totp_pending_secret=seal_secret(secret))
        .execution_options(synchronize_session=False)
    )
    return secret


def confirm_enrolment(user: User, code: str, now: datetime, *, password: str) -> list[str]:
    """Turn the waiting secret on with the password and a first code; return ten new recovery
    codes (shown once)."""
    if not verify_password(user.password_hash, password or "")[0]:
        audit.record("2fa.enrol_failed", actor=user, outcome="failed", side=True, now=now)
        raise ValidationFailed({"password": "Your password is not right."})
    secret = pending_secret(user)
    step = matching_step(secret, code, now) if secret else None
    if secret is None or step is None:
        audit.record("2fa.enrol_failed", actor=user, outcome="failed", side=True, now=now)
        raise ValidationFailed({"code": WRONG_CODE})
    user.totp_secret = seal_secret(secret)
    user.totp_pending_secret = None
    user.totp_last_step = step
    user.totp_enabled_at = now
    codes = replace_recovery_codes(user, now)
    audit.record("2fa.enable", actor=user, object_type="user", object_id=user.id, now=now)
    return codes


def replace_recovery_codes(user: User, now: datetime) -> list[str]:
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
    db.session.add_all(
        RecoveryCode(user_id=user.id, code_hash=_code_digest(code), created_at=now)
        for code in codes
    )
    return codes


def _recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def _code_digest(code: str) -> str:
    normalised = "".join(c for c in code.lower() if c.isalnum())
    return hashlib.sha256(f"recovery:{normalised}".encode()).hexdigest()


def use_recovery_code(user: User, code: str, now: datetime) -> bool:
    """Use up one recovery code (one conditional UPDATE: of two concurrent uses one wins)."""
    if not any(c.isalpha() for c in code):
        return False
    used = db.session.execute(
        sa.update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _code_digest(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return used.rowcount == 1


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )


# ---------------------------------------------------------------------------- the second step


@dataclass(frozen=True)
class Verified:
    recovery_code: bool


def verify_second_factor(user: User, code: str, now: datetime) -> Verified | None:
    """Check a TOTP code (once per time step) or a recovery code (once); audit either way."""
    code = (code or "").strip()
    secret = unseal_secret(user.totp_secret)
    step = matching_step(secret, code, now) if secret else None
    if step is not None and _accept_step(user, step):
        audit.record("2fa.verify", actor=user, object_type="user", object_id=user.id, now=now)
        return Verified(recovery_code=False)
    if use_recovery_code(user, code, now):
        audit.record(
            "2fa.recovery_code_used", actor=user, object_type="user", object_id=user.id, now=now
        )
        return Verified(recovery_code=True)
    audit.record(
        "2fa.verify_failed",
        actor=user,
        object_type="user",
        object_id=user.id,
        outcome="failed",
        side=True,
        details={"replayed": step is not None},
        now=now,
    )
    return None


# ---------------------------------------------------------------------------- resets


def _turn_off(user: User) -> None:
    user.totp_secret = None
    user.totp_pending_secret = None
    user.totp_last_step = None
    user.totp_enabled_at = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def reset_own_second_factor(user: User, password: str, recovery_code: str, now: datetime) -> None:
    """Turn the user's second factor off with their password and one recovery code."""
    ok, _ = verify_password(user.password_hash, password or "")
    errors: dict[str, str] = {}
    if not ok:
        errors["password"] = "Your password is not right."
    elif not use_recovery_code(user, recovery_code or "", now):
        errors["recovery_code"] = "That recovery code is not right or was already used."
    if errors:
        audit.record("2fa.reset_failed", actor=user, outcome="failed", side=True, now=now)
        raise ValidationFailed(errors)
    _turn_off(user)
    audit.record("2fa.reset", actor=user, object_type="user", object_id=user.id, now=now)


def admin_reset_second_factor(user: User, *, by: User, now: datetime) -> None:
    """An admin turns another clinician's second factor off; their logins end (audited)."""
    if user.id == by.id:
        raise ValidationFailed(
            {"user": "Reset your own second factor with your password and a recovery code."}
        )
    _turn_off(user)
    revoke_all(user, now)
    audit.record(
        "2fa.admin_reset",
        actor=by,
        clinic_id=user.clinic_id,
        object_type="user",
        object_id=user.id,
        now=now,
    )


def store_pending_secret(user_id: int, sealed: str) -> None:
    """Keep a new secret waiting for its first code, unless one is already waiting."""
    db.session.execute(
        sa.update(User)
        .where(User.id == user_id, User.totp_pending_secret.is_(None))
        .values(totp_pending_secret=sealed)
    )

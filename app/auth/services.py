"""Accounts: create users, authenticate with a per-account back-off, invitations."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app

from app import audit
from app.auth.models import Clinic, Invitation, User
from app.auth.passwords import MIN_PASSWORD_LENGTH, hash_password, verify_password
from app.auth.sessions import revoke_all, token_digest
from app.enums import Role
from app.errors import ValidationFailed
from app.extensions import db


def normalise_email(email: str | None) -> str | None:
    email = (email or "").strip().lower()
    return email or None


def check_email(email: str, field: str = "email") -> str:
    """Return the normalised address or refuse one that cannot be an email address."""
    try:
        return validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise ValidationFailed({field: "Enter a valid email address."}) from None


def get_or_create_clinic(name: str, now: datetime) -> Clinic:
    clinic = db.session.scalar(sa.select(Clinic).where(Clinic.name == name))
    if clinic is None:
        clinic = Clinic(name=name, created_at=now)
        db.session.add(clinic)
        db.session.flush()
    return clinic


def check_password_strength(password: str, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            {field: f"Use at least {MIN_PASSWORD_LENGTH} characters."},
        )


def create_user(
    *,
    clinic: Clinic,
    role: Role,
    name: str,
    email: str | None,
    password: str | None,
    now: datetime,
    created_by: User | None = None,
) -> User:
    """Create an account; without a password it waits for an invitation to be accepted."""
    email = normalise_email(email)
    if email is not None:
        email = check_email(email)
    if email is not None and db.session.scalar(sa.select(User.id).where(User.email == email)):
        raise ValidationFailed({"email": "An account with this email already exists."})
    if password is not None:
        check_password_strength(password)
    user = User(
        clinic=clinic,
        role=role,
        name=name.strip(),
        email=email,
        password_hash=hash_password(password) if password else None,
        created_at=now,
    )
    db.session.add(user)
    db.session.flush()
    audit.record(
        "user.create",
        actor=created_by,
        clinic_id=clinic.id,
        object_type="user",
        object_id=user.id,
        details={"role": role.value},
        now=now,
    )
    return user


def authenticate(email: str, password: str, now: datetime) -> User | None:
    """Return the user for a correct email and password, else None, the same way every time.

    Wrong password, unknown email and a locked account all take the same path and the same
    time (STACK "passwords"): a dummy hash is verified where there is nothing to verify.
    """
    config = current_app.config
    user = db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))
    if user is None or (user.locked_until is not None and user.locked_until > now):
        verify_password(None, password)
        return None
    ok, new_hash = verify_password(user.password_hash, password)
    if not ok or not user.is_active:
        user.failed_logins += 1
        if user.failed_logins >= config["LOGIN_MAX_FAILURES"]:
            user.locked_until = now + config["LOGIN_LOCKOUT"]
            user.failed_logins = 0
        return None
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if new_hash:
        user.password_hash = new_hash
    return user


def revoke_invitations(user: User, now: datetime) -> None:
    """Make every open invitation of the user unusable."""
    db.session.execute(
        sa.update(Invitation)
        .where(
            Invitation.user_id == user.id,
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )


def issue_invitation(
    user: User, *, created_by: User | None, now: datetime, hours: int | None = None
) -> str:
    """Revoke the user's open invitations and issue a new single-use token (shown once)."""
    revoke_invitations(user, now)
    token = secrets.token_urlsafe(32)
    lifetime = timedelta(hours=hours or current_app.config["INVITATION_HOURS"])
    db.session.add(
        Invitation(
            clinic_id=user.clinic_id,
            user_id=user.id,
            token_hash=token_digest(token),
            created_by_id=created_by.id if created_by else None,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return token


def find_invitation(token: str, now: datetime) -> Invitation | None:
    """Return the usable invitation for a token, or None if unknown, used, revoked or expired."""
    invitation = db.session.scalar(
        sa.select(Invitation).where(Invitation.token_hash == token_digest(token))
    )
    if invitation is None or not invitation.is_usable(now):
        return None
    return invitation


@dataclass(frozen=True)
class Acceptance:
    password: str
    email: str | None = None


def accept_invitation(invitation: Invitation, data: Acceptance, now: datetime) -> User:
    """Set the invited user's password (and email if they had none) and use up the token."""
    user = invitation.user
    if not invitation.is_usable(now):
        raise ValidationFailed({"token": "This invitation link has expired or was already used."})
    errors: dict[str, str] = {}
    if user.email is None:
        email = normalise_email(data.email)
        if email is not None:
            try:
                email = check_email(email)
            except ValidationFailed as exc:
                errors.update(exc.errors)
                email = None
        if email is None:
            errors.setdefault("email", "Enter your email address.")
        elif db.session.scalar(sa.select(User.id).where(User.email == email)):
            errors["email"] = "An account with this email already exists."
        else:
            user.email = email
    if len(data.password) < MIN_PASSWORD_LENGTH:
        errors["password"] = f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if errors:
        raise ValidationFailed(errors)
    user.password_hash = hash_password(data.password)
    revoke_all(user, now)
    invitation.used_at = now
    user.last_login_at = now  # accepting signs the person in
    audit.record(
        "invitation.accept",
        actor=user,
        clinic_id=user.clinic_id,
        object_type="invitation",
        object_id=invitation.id,
        now=now,
    )
    return user

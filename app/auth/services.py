"""Accounts: create users, authenticate with a per-account back-off, invitations."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app import audit
from app.auth.models import Clinic, Invitation, LoginFailure, User
from app.auth.passwords import hash_password, password_problem, verify_password
from app.auth.sessions import revoke_all, token_digest
from app.enums import Role
from app.errors import ValidationFailed
from app.extensions import db
from app.i18n import LANGUAGES, force_locale, language_of
from app.inputs import has_control
from app.links import invitation_url
from app.mail import send_after_commit
from app.transactions import defer_write


def _used_link() -> str:
    """Why an invitation link no longer works, in the invitee's language."""
    return _("This invitation link has expired or was already used.")


# A clinician sees a link they just made on the next page they open, within this time.
REVEAL_WITHIN = timedelta(minutes=15)


def normalise_email(email: str | None) -> str | None:
    email = (email or "").strip().lower()
    return email or None


def check_email(email: str, field: str = "email") -> str:
    """Return the normalised address or refuse one that cannot be an email address."""
    try:
        return validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise ValidationFailed({field: _("Enter a valid email address.")}) from None


def get_or_create_clinic(name: str, now: datetime) -> Clinic:
    clinic = db.session.scalar(sa.select(Clinic).where(Clinic.name == name))
    if clinic is None:
        clinic = Clinic(name=name, created_at=now)
        db.session.add(clinic)
        db.session.flush()
    return clinic


def check_password_strength(password: str, role: Role, field: str = "password") -> None:
    """Refuse a new password that breaks the rules for the role (passwords.password_problem)."""
    problem = password_problem(password, is_patient=role is Role.PATIENT)
    if problem is not None:
        raise ValidationFailed({field: problem})


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
        check_password_strength(password, role)
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


def authenticate(email: str, password: str, now: datetime, ip: str | None) -> User | None:
    """Return the user for a correct email and password, else None, the same way every time.

    Wrong password, unknown email and a locked-out address all take the same path and the same
    time (STACK "passwords"): a dummy hash is verified where there is nothing to verify.
    The back-off (DESIGN §6) counts per account *and* client address: five wrong passwords
    from one address lock that address out of that account for a while, and nobody else; past
    ten wrong passwords from anywhere, every attempt on the account is slowed down, not refused.
    Both counts are single UPDATEs, so concurrent attempts are all counted.
    """
    config = current_app.config
    address = normalise_email(email)
    where = (ip or "unknown")[:45]
    # Text with control characters names no account (DESIGN §6): the same answer, no query.
    user = (
        None
        if address is None or has_control(address)
        else db.session.scalar(sa.select(User).where(User.email == address))
    )
    if user is None or _locked_out(user, where, now):
        verify_password(None, password)
        # Never the address typed (it may be a password typed in the wrong field).
        audit.record(
            "auth.login_failed",
            actor=user,
            outcome="failed",
            side=True,
            details={"reason": "locked_out" if user is not None else "unknown_account"},
            now=now,
        )
        return None
    _slow_down(user.failed_logins, config)
    ok, new_hash = verify_password(user.password_hash, password)
    if not ok or not user.is_active:
        _count_failure(user, where, now, config)
        audit.record(
            "auth.login_failed",
            actor=user,
            outcome="failed",
            side=True,
            details={"reason": "wrong_password" if not ok else "inactive"},
            now=now,
        )
        return None
    # With a second factor the password alone clears nothing: the counts of wrong attempts
    # (passwords and codes alike) start again only once the code is right (issue 14).
    cleared = {} if user.totp_secret else {"failed_logins": 0}
    db.session.execute(
        sa.update(User)
        .where(User.id == user.id)
        .values(
            **cleared,
            last_login_at=now,
            **({"password_hash": new_hash} if new_hash else {}),
        )
        .execution_options(synchronize_session="fetch")
    )
    if not user.totp_secret:
        db.session.execute(sa.delete(LoginFailure).where(LoginFailure.user_id == user.id))
    return user


def second_factor_allowed(user: User, ip: str | None, now: datetime) -> bool:
    """Whether a second-factor code may be tried from this address now (the password back-off).

    Wrong codes count like wrong passwords, per account and per address, so guessing codes
    from many logins or many addresses is slowed and locked out the same way (DESIGN §6).
    """
    config = current_app.config
    _slow_down(user.failed_logins, config)
    return not _locked_out(user, (ip or "unknown")[:45], now)


def count_wrong_code(user: User, ip: str | None, now: datetime) -> None:
    _count_failure(user, (ip or "unknown")[:45], now, current_app.config)


def clear_login_failures(user: User) -> None:
    """The whole login succeeded: its counts of wrong attempts start again."""
    db.session.execute(
        sa.update(User)
        .where(User.id == user.id)
        .values(failed_logins=0)
        .execution_options(synchronize_session="fetch")
    )
    db.session.execute(sa.delete(LoginFailure).where(LoginFailure.user_id == user.id))


def _locked_out(user: User, ip: str, now: datetime) -> bool:
    until = db.session.scalar(
        sa.select(LoginFailure.locked_until).where(
            LoginFailure.user_id == user.id, LoginFailure.ip == ip
        )
    )
    return until is not None and until > now


def slowdown_seconds(failed_logins: int, after: int, longest: float) -> float:
    """Return how long an attempt on an account waits: 0, then doubling from 0.25 s (capped)."""
    over = failed_logins - after
    return 0.0 if over < 0 else min(longest, 0.25 * 2 ** min(over, 16))


def _slow_down(failed_logins: int, config: Any) -> None:
    delay = slowdown_seconds(
        failed_logins, config["LOGIN_SLOWDOWN_AFTER"], config["LOGIN_SLOWDOWN_MAX_SECONDS"]
    )
    if delay > 0:
        time.sleep(delay)


def _count_failure(user: User, ip: str, now: datetime, config: Any) -> None:
    """Count one wrong password for the account and for the address, atomically."""
    db.session.execute(
        sa.update(User)
        .where(User.id == user.id)
        .values(failed_logins=User.failed_logins + 1)
        .execution_options(synchronize_session=False)
    )
    insert = (postgresql_insert if db.engine.dialect.name == "postgresql" else sqlite_insert)(
        LoginFailure
    )
    failures = db.session.scalar(
        insert.values(user_id=user.id, ip=ip, failures=1, last_failed_at=now)
        .on_conflict_do_update(
            index_elements=[LoginFailure.user_id, LoginFailure.ip],
            set_={
                "failures": LoginFailure.failures + 1,
                "last_failed_at": now,
            },
        )
        .returning(LoginFailure.failures)
    )
    if failures is not None and failures >= config["LOGIN_MAX_FAILURES"]:
        db.session.execute(
            sa.update(LoginFailure)
            .where(LoginFailure.user_id == user.id, LoginFailure.ip == ip)
            .values(failures=0, locked_until=now + config["LOGIN_LOCKOUT"])
        )


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
    user: User,
    *,
    created_by: User | None,
    now: datetime,
    email: str | None = None,
    hours: int | None = None,
) -> str:
    """Revoke the user's open invitations and issue a new single-use token.

    Only the token's hash is kept, with the address it goes to (``email``; the invitee confirms
    it on accepting) and, for the clinician who issued it, a sealed copy that their next page
    view shows once (``reveal_invitation``) — the token is never kept in a cookie (DESIGN §6).
    """
    revoke_invitations(user, now)
    token = secrets.token_urlsafe(32)
    lifetime = timedelta(hours=hours or current_app.config["INVITATION_HOURS"])
    db.session.add(
        Invitation(
            clinic_id=user.clinic_id,
            user_id=user.id,
            token_hash=token_digest(token),
            email=email or user.email,
            sealed_token=seal(token) if created_by is not None else None,
            created_by_id=created_by.id if created_by else None,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return token


def reveal_invitation(invitation: Invitation, viewer: User, now: datetime) -> str | None:
    """Return the invitation's token once, to the clinician who issued it, soon after.

    The sealed copy is cleared by the request's commit path, so the link appears on one page
    view only; anyone later at the same computer sees no link.
    """
    sealed = invitation.sealed_token
    if (
        sealed is None
        or invitation.created_by_id != viewer.id
        or now - invitation.created_at > REVEAL_WITHIN
        or not invitation.is_usable(now)
    ):
        return None
    token = unseal(sealed)
    invitation_id = invitation.id
    defer_write(
        lambda: db.session.execute(
            sa.update(Invitation)
            .where(Invitation.id == invitation_id, Invitation.sealed_token == sealed)
            .values(sealed_token=None)
        )
    )
    return token


def _fernet() -> Fernet:
    digest = hashlib.sha256(f"invitation-view:{current_app.config['SECRET_KEY']}".encode())
    return Fernet(base64.urlsafe_b64encode(digest.digest()))


def seal(token: str) -> str:
    """Encrypt a token for its one-time view (key derived from SECRET_KEY)."""
    return _fernet().encrypt(token.encode()).decode()


def unseal(sealed: str) -> str | None:
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken:
        return None


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
    # The language of the phone accepting, kept for a patient whose therapist chose none, so
    # the mail and notifications sent with no browser asking speak it too (issue 16).
    language: str | None = None


def accept_invitation(invitation: Invitation, data: Acceptance, now: datetime) -> User:
    """Set the invited user's password (and email if they had none) and use up the token.

    Using the token is one conditional UPDATE, so of many concurrent acceptances exactly one
    wins (DESIGN §6); the others are told the link was already used.
    """
    user = invitation.user
    # An account that already has a password (set by a reset) is not taken over by its old
    # invitation link: the link is used up, and that person logs in (with any second factor).
    if not invitation.is_usable(now) or user.password_hash is not None:
        raise ValidationFailed({"token": _used_link()})
    errors: dict[str, str] = {}
    if user.email is None:
        email = normalise_email(data.email) or normalise_email(invitation.email)
        if email is not None:
            try:
                email = check_email(email)
            except ValidationFailed as exc:
                errors.update(exc.errors)
                email = None
        if email is None:
            errors.setdefault("email", _("Enter your email address."))
        elif db.session.scalar(sa.select(User.id).where(User.email == email)):
            errors["email"] = _(
                "An account with this email already exists: log in with it, or use another address."
            )
        else:
            user.email = email
    try:
        check_password_strength(data.password, user.role)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    used = db.session.execute(
        sa.update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
        .values(used_at=now, sealed_token=None)
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:
        raise ValidationFailed({"token": _used_link()})
    user.password_hash = hash_password(data.password)
    if user.patient is not None and user.patient.language is None and data.language in LANGUAGES:
        user.patient.language = data.language
    revoke_all(user, now)
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


@dataclass(frozen=True)
class InvitedClinician:
    user: User
    token: str
    emailed: bool


def invite_therapist(
    clinic: Clinic, *, name: str, email: str, by: User | None, now: datetime
) -> InvitedClinician:
    """Create a therapist account with a single-use invitation, email it, audit it.

    As for patients, the address goes on the invitation and is confirmed on accepting, so the
    answer never tells whether it already has an account (DESIGN §6).
    """
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = "Enter the therapist's name."
    elif len(name) > 120:
        errors["name"] = "Keep the name under 120 characters."
    address = None
    try:
        address = check_email((email or "").strip())
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    assert address is not None
    user = create_user(
        clinic=clinic,
        role=Role.THERAPIST,
        name=name,
        email=None,
        password=None,
        now=now,
        created_by=by,
    )
    token = issue_invitation(user, created_by=by, now=now, email=address)
    _audit_invitation("invitation.issue", user, by, now)
    inviter = f"{by.name} invited you" if by is not None else "You are invited"
    emailed = send_after_commit(
        address,
        "You are invited to Homestretch",
        f"{inviter} to {clinic.name} on Homestretch.\n\n"
        f"Set your password here: {invitation_url(token)}\n\n{link_lifetime()}",
    )
    return InvitedClinician(user, token, emailed)


def open_invitation(user: User) -> Invitation | None:
    """Return the user's newest invitation that is neither used nor revoked."""
    return db.session.scalar(
        sa.select(Invitation)
        .where(
            Invitation.user_id == user.id,
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    )


def reissue_invitation(user: User, *, by: User, now: datetime) -> tuple[str, bool]:
    """Replace the user's invitation with a new link (the old one stops working), email it."""
    if user.password_hash is not None:
        raise ValidationFailed({"invitation": f"{user.name} has already set a password."})
    previous = db.session.scalar(
        sa.select(Invitation.email)
        .where(Invitation.user_id == user.id, Invitation.email.is_not(None))
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
        .limit(1)
    )
    token = issue_invitation(user, created_by=by, now=now, email=previous)
    _audit_invitation("invitation.issue", user, by, now)
    if not previous:
        return token, False
    # A patient's link comes in their language; a clinician's (no patient) in English.
    with force_locale(language_of(user.patient)):
        subject = _("A new link for Homestretch")
        body = (
            _(
                "Here is a new link to set your password in Homestretch; the earlier one no "
                "longer works."
            )
            + f"\n\n{invitation_url(token)}\n\n{link_lifetime()}"
        )
    emailed = send_after_commit(previous, subject, body)
    return token, emailed


def withdraw_invitation(user: User, *, by: User, now: datetime) -> None:
    """Make the user's open invitation links stop working, audited."""
    revoke_invitations(user, now)
    _audit_invitation("invitation.revoke", user, by, now)


def _audit_invitation(action: str, user: User, by: User | None, now: datetime) -> None:
    audit.record(
        action,
        actor=by,
        patient=user.patient,
        clinic_id=user.clinic_id,
        object_type="user",
        object_id=user.id,
        now=now,
    )


def link_lifetime() -> str:
    """The sentence every invitation email ends with."""
    return _(
        "The link works once and expires in %(hours)s hours.",
        hours=current_app.config["INVITATION_HOURS"],
    )

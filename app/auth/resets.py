"""Password reset by email and password change (DESIGN §4 "Clinician accounts", §6).

A reset link carries a random token (``secrets.token_urlsafe(32)``); only its SHA-256 is kept,
with a 1-hour lifetime, and using it is one conditional UPDATE, so it works once. Asking for a
link answers the same for every address; the message goes out on a thread of its own, so the
answer never waits for the mail server and takes the same time whether or not the address has
an account. A new password (by reset or by change) ends every login session of that user.
"""

from __future__ import annotations

import secrets
import threading
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from app import audit
from app.auth.models import PasswordReset, User
from app.auth.passwords import hash_password, verify_password
from app.auth.services import check_password_strength, normalise_email, revoke_invitations
from app.auth.sessions import revoke_all, token_digest
from app.errors import ValidationFailed
from app.extensions import db
from app.i18n import browser_language, force_locale, language_of
from app.inputs import has_control
from app.links import external_url
from app.mail import mail_configured, send_mail
from app.transactions import after_commit

RESET_LIFETIME = timedelta(hours=1)
USED_RESET = "This reset link has expired or was already used. Ask for a new one."


def request_reset(email: str, now: datetime) -> None:
    """Email a reset link when the address has an active account; do nothing visible otherwise."""
    address = normalise_email(email)
    user = (
        None
        if address is None or has_control(address)
        else db.session.scalar(sa.select(User).where(User.email == address))
    )
    if user is None or not user.is_active:
        audit.record("password.reset_request", outcome="failed", side=True, now=now)
        return
    # Only the newest link works.
    db.session.execute(
        sa.update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    db.session.add(
        PasswordReset(
            user_id=user.id,
            token_hash=token_digest(token),
            created_at=now,
            expires_at=now + RESET_LIFETIME,
        )
    )
    audit.record(
        "password.reset_request", actor=user, object_type="user", object_id=user.id, now=now
    )
    link = external_url("auth.reset_password", token=token)
    # A patient reads it in their language; a clinician's is English (app/i18n.py).
    with force_locale(language_of(user.patient, fallback=browser_language())):
        body = "\n\n".join(
            (
                _("Someone asked to reset your Homestretch password. If it was you, choose a new "
                  "one here:"),
                link,
                _("The link works once and expires in 1 hour. If it was not you, ignore this "
                  "message: your password stays as it is."),
            )
        )  # fmt: skip
        subject = _("Reset your Homestretch password")
    send_in_background(user.email, subject, body)


def send_in_background(to: str, subject: str, body: str) -> None:
    """Send after the commit, on a thread, so the answer never waits for the mail server."""
    if not mail_configured():
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def send() -> None:
        with app.app_context():
            send_mail(to, subject, body)

    after_commit(lambda: threading.Thread(target=send, daemon=True).start())


def find_reset(token: str, now: datetime) -> PasswordReset | None:
    reset = db.session.scalar(
        sa.select(PasswordReset).where(PasswordReset.token_hash == token_digest(token))
    )
    if reset is None or not reset.is_usable(now):
        return None
    return reset


def reset_password(reset: PasswordReset, password: str, now: datetime) -> User:
    """Set a new password with a reset link (once), ending every login of that user."""
    user = reset.user
    check_password_strength(password, user.role)
    used = db.session.execute(
        sa.update(PasswordReset)
        .where(
            PasswordReset.id == reset.id,
            PasswordReset.used_at.is_(None),
            PasswordReset.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:
        raise ValidationFailed({"password": USED_RESET})
    _set_password(user, password, now)
    audit.record("password.reset", actor=user, object_type="user", object_id=user.id, now=now)
    return user


def change_password(user: User, current: str, new: str, now: datetime) -> None:
    """Change a password with the current one, ending every login of that user."""
    ok, _ = verify_password(user.password_hash, current or "")
    if not ok:
        audit.record(
            "password.change_failed",
            actor=user,
            object_type="user",
            object_id=user.id,
            outcome="failed",
            side=True,
            now=now,
        )
        raise ValidationFailed({"current_password": "Your current password is not right."})
    check_password_strength(new, user.role)
    _set_password(user, new, now)
    audit.record("password.change", actor=user, object_type="user", object_id=user.id, now=now)


def _set_password(user: User, password: str, now: datetime) -> None:
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    revoke_all(user, now)
    revoke_invitations(user, now)  # an old invitation link can no longer set a password

"""Server-side login sessions (STACK "Sessions"): revocable, with idle and absolute limits.

Flask-Login stores `User.get_id()` in the cookie; here that id is a random per-login token whose
SHA-256 is a row in `user_sessions`, so logging out (or a password change) revokes the cookie
everywhere it was copied.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, request
from flask_login import LoginManager

from app.auth.models import Clinic, User, UserSession
from app.db import utcnow
from app.enums import Role
from app.extensions import db
from app.transactions import defer_write

TOUCH_INTERVAL = timedelta(minutes=1)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def init_login_manager(login_manager: LoginManager) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"  # "strong" logs phones out when their IP changes
    login_manager.user_loader(load_user)


def idle_limit(user: User, remember: bool) -> timedelta:
    config = current_app.config
    if user.role is Role.PATIENT:
        if remember:
            return timedelta(days=config["PATIENT_REMEMBER_DAYS"])
        return config["PATIENT_IDLE_TIMEOUT"]
    return config["CLINICIAN_IDLE_TIMEOUT"]


def absolute_limit(user: User, remember: bool) -> timedelta:
    if user.role is Role.PATIENT and remember:
        return timedelta(days=current_app.config["PATIENT_REMEMBER_DAYS"])
    return current_app.config["SESSION_ABSOLUTE_TIMEOUT"]


def load_user(token: str) -> User | None:
    """Return the user of a live login session, or None when it is revoked or timed out."""
    now = utcnow()
    row = db.session.execute(
        # The clinic's second-factor choice comes along, so the setup gate costs no query.
        sa.select(UserSession, User, Clinic.require_2fa)
        .join(User, User.id == UserSession.user_id)
        .join(Clinic, Clinic.id == User.clinic_id)
        .where(UserSession.token_hash == token_digest(token))
    ).first()
    if row is None:
        return None
    login, user, require_2fa = row
    user.clinic_require_2fa = require_2fa
    if (
        login.second_factor_pending  # password given, second factor not yet: not logged in
        or login.revoked_at is not None
        or not user.is_active
        or now - login.last_seen_at > idle_limit(user, login.remember)
        or now - login.created_at > absolute_limit(user, login.remember)
    ):
        return None
    if now - login.last_seen_at > TOUCH_INTERVAL:
        touch(login.id, now)
    user.login_token = token
    return user


def touch(login_id: int, now: datetime) -> None:
    """Record activity as a side write of the request, so page reads stay read-only."""
    defer_write(
        lambda: db.session.execute(
            sa.update(UserSession).where(UserSession.id == login_id).values(last_seen_at=now)
        )
    )


def start(user: User, *, remember: bool, now: datetime, pending: bool = False) -> str:
    """Open a login session for `user` and return its token.

    A ``pending`` one waits for the second factor: it is nobody's login until
    ``complete_second_factor`` (the user loader refuses it).
    """
    token = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(
            user_id=user.id,
            token_hash=token_digest(token),
            remember=remember and user.role is Role.PATIENT,
            created_at=now,
            last_seen_at=now,
            user_agent=(request.user_agent.string or "")[:255] if request else None,
            ip=request.remote_addr if request else None,
            second_factor_pending=pending,
        )
    )
    user.login_token = token
    return token


# A login waiting for its second factor lasts this long (then the password is asked again).
PENDING_LIMIT = timedelta(minutes=5)
# Wrong codes on one pending login before it is ended (the password is asked again).
PENDING_MAX_FAILURES = 5


def pending_login(token: str | None, now: datetime) -> tuple[UserSession, User] | None:
    """Return the login waiting for a second factor under `token`, if it is still usable."""
    if not token:
        return None
    row = db.session.execute(
        sa.select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(
            UserSession.token_hash == token_digest(token),
            UserSession.second_factor_pending.is_(True),
            UserSession.revoked_at.is_(None),
        )
    ).first()
    if row is None:
        return None
    login, user = row
    if not user.is_active or now - login.created_at > PENDING_LIMIT:
        return None
    return login, user


def complete_second_factor(login: UserSession, user: User, token: str, now: datetime) -> None:
    """Make a pending login a real one (from now on it reaches the user's data)."""
    login.second_factor_pending = False
    login.last_seen_at = now
    user.login_token = token


def count_second_factor_failure(login: UserSession, now: datetime) -> bool:
    """Count a wrong code on a pending login; return True when that ended it."""
    failures = db.session.scalar(
        sa.update(UserSession)
        .where(UserSession.id == login.id)
        .values(second_factor_failures=UserSession.second_factor_failures + 1)
        .returning(UserSession.second_factor_failures)
        .execution_options(synchronize_session=False)
    )
    if failures is not None and failures >= PENDING_MAX_FAILURES:
        db.session.execute(
            sa.update(UserSession)
            .where(UserSession.id == login.id)
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
        return True
    return False


def revoke(token: str | None, now: datetime) -> None:
    if not token:
        return
    db.session.execute(
        sa.update(UserSession)
        .where(UserSession.token_hash == token_digest(token), UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def revoke_all(user: User, now: datetime) -> None:
    """Log a user out everywhere, e.g. after a password change."""
    db.session.execute(
        sa.update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )

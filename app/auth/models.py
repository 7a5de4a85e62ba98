"""Clinics, users, login sessions and invitations."""

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UTCDateTime, utcnow
from app.enums import Role, enum_type
from app.extensions import db

if TYPE_CHECKING:
    from app.patient.models import Patient


class Clinic(db.Model):
    __tablename__ = "clinics"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    # Per-clinic alert thresholds (CLINICAL: every [D] number is a per-clinic default).
    policy_overrides: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    # Whom a patient calls after a red-flag answer (DESIGN §4 `instruction`): the clinic for
    # "contact today", the local emergency number (e.g. 999, 911, 112) for an emergency.
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    emergency_number: Mapped[str | None] = mapped_column(sa.String(12))
    # Clinicians need a second factor before any patient data (DESIGN §4 "Clinician accounts").
    # None follows the configuration's REQUIRE_2FA (on in production, off in tests and the demo).
    require_2fa: Mapped[bool | None] = mapped_column()
    # CLINICAL §8: questionnaires this clinic switched off (only those whose file allows it,
    # such as the Keele STarT Back tool), on top of the deployment's DISABLED_INSTRUMENTS.
    questionnaires_off: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    users: Mapped[list["User"]] = relationship(back_populates="clinic")

    def __repr__(self) -> str:
        return f"<Clinic {self.id} {self.name!r}>"


class User(db.Model):
    __tablename__ = "users"
    __table_args__ = (sa.CheckConstraint("failed_logins >= 0", name="failed_logins_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(sa.ForeignKey("clinics.id"), index=True)
    role: Mapped[Role] = mapped_column(enum_type(Role, "user_role", 16))
    # A patient invited without an email gives one when accepting (DESIGN §1).
    email: Mapped[str | None] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    # Wrong passwords since the last login, from anywhere: past a threshold every attempt on
    # the account is slowed down (never locked: ASVS V6, DESIGN §6). Counted by one UPDATE.
    failed_logins: Mapped[int] = mapped_column(default=0)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # TOTP second factor (clinicians only): the secret sealed with a key derived from
    # SECRET_KEY, one waiting for its first code, and the last accepted time step (a code is
    # accepted once: STACK "pyotp").
    totp_secret: Mapped[str | None] = mapped_column(sa.String(255))
    totp_pending_secret: Mapped[str | None] = mapped_column(sa.String(255))
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    clinic: Mapped[Clinic] = relationship(back_populates="users")
    patient: Mapped["Patient | None"] = relationship(
        back_populates="user", foreign_keys="Patient.user_id", uselist=False
    )

    # Flask-Login reads these; get_id is the login-session token, set per request.
    login_token = None  # type: str | None  (not a column: the token of this login)

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str | None:
        return self.login_token

    @property
    def is_clinician(self) -> bool:
        return self.role in (Role.ADMIN, Role.THERAPIST)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class LoginFailure(db.Model):
    """Wrong passwords for one account from one client address (DESIGN §6 back-off).

    Enough of them lock that address out of that account for a while; the right password from
    any other address (the patient's own phone) still works.
    """

    __tablename__ = "login_failures"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "ip"),
        sa.CheckConstraint("failures >= 0", name="failures_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    ip: Mapped[str] = mapped_column(sa.String(45))
    failures: Mapped[int] = mapped_column(default=0)
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class UserSession(db.Model):
    """One login on one device (STACK "Sessions"): revocable, with idle and absolute limits."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    remember: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_agent: Mapped[str | None] = mapped_column(sa.String(255))
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    # After the password, before the second factor: such a login reaches nothing but /auth/2fa.
    second_factor_pending: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    second_factor_failures: Mapped[int] = mapped_column(default=0, server_default="0")

    user: Mapped[User] = relationship()


class Invitation(db.Model):
    """A single-use, expiring, revocable link that lets a user set their password."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(sa.ForeignKey("clinics.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # Where the link was sent; the invitee confirms (or changes) it when accepting, so creating
    # an invitation never reveals whether an address has an account elsewhere.
    email: Mapped[str | None] = mapped_column(sa.String(254))
    # The token encrypted for one view by the clinician who issued it (never in a cookie).
    sealed_token: Mapped[str | None] = mapped_column(sa.Text)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])

    def is_usable(self, now: datetime) -> bool:
        return self.used_at is None and self.revoked_at is None and now < self.expires_at


class RecoveryCode(db.Model):
    """A single-use second-factor recovery code, kept only as its SHA-256."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PasswordReset(db.Model):
    """A single-use, expiring password-reset link (only the token's SHA-256 is kept)."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def is_usable(self, now: datetime) -> bool:
        return self.used_at is None and now < self.expires_at

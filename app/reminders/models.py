"""Reminder settings, the reminders sent (one row per patient, local day and kind) and the
browsers' Web Push subscriptions (DESIGN §4 "Reminders", issue 12)."""

from datetime import date, datetime, time
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UTCDateTime, utcnow
from app.enums import enum_type
from app.extensions import db
from app.reminders.schedule import DEFAULT_TIME, ReminderKind

if TYPE_CHECKING:
    from app.patient.models import Patient


class ReminderSettings(db.Model):
    """One patient's choices; a patient without a row has the defaults of DESIGN §4.

    ``days`` None follows the program's weekdays as they change; ``channels`` None means the
    default (email when the patient has an address, push once subscribed).
    """

    __tablename__ = "reminder_settings"

    patient_id: Mapped[int] = mapped_column(
        sa.ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True
    )
    enabled: Mapped[bool] = mapped_column(default=True)
    days: Mapped[list[int] | None] = mapped_column(sa.JSON)
    local_time: Mapped[time] = mapped_column(sa.Time, default=DEFAULT_TIME)
    channels: Mapped[list[str] | None] = mapped_column(sa.JSON)
    # Set by the one-click unsubscribe link (RFC 8058); choosing email again clears it.
    email_unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    patient: Mapped["Patient"] = relationship()


class SentReminder(db.Model):
    """A reminder claimed for one patient, local day and kind.

    The row is inserted (and committed) before anything is sent, so two overlapping runs of
    ``flask reminders send`` never send one reminder twice: the unique key decides who sends.
    """

    __tablename__ = "sent_reminders"
    __table_args__ = (sa.UniqueConstraint("patient_id", "local_date", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id", ondelete="CASCADE"))
    local_date: Mapped[date]
    kind: Mapped[ReminderKind] = mapped_column(enum_type(ReminderKind, "reminder_kind", 12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What went out, once the notifiers have answered: the channels that delivered.
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    channels: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    error: Mapped[str | None] = mapped_column(sa.String(200))


class PushSubscription(db.Model):
    """A browser's ``PushSubscription.toJSON()``; a 404 or 410 from its service removes it."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        sa.ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    endpoint: Mapped[str] = mapped_column(sa.String(2048), unique=True)
    p256dh: Mapped[str] = mapped_column(sa.String(200))
    auth: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def as_subscription(self) -> dict:
        """Return the subscription as ``PushSubscription.toJSON()`` gives it."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}

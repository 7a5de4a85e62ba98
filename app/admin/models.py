"""The audit log: who read or changed which patient's data, when and from where.

Append-only: the application has no path that updates or deletes a row, and on PostgreSQL a
trigger (migration 0009) refuses UPDATE and DELETE on audit_events.
"""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db import UTCDateTime, utcnow
from app.extensions import db


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (
        sa.Index("ix_audit_events_patient_created", "patient_id", "created_at"),
        sa.Index("ix_audit_events_clinic_created", "clinic_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clinics.id"))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    patient_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("patients.id", ondelete="SET NULL")
    )
    # Every patient the event names, as ",12,15," (a list read is one event naming all the
    # patients it showed; the admin view filters on it with LIKE '%,12,%').
    patient_ids: Mapped[str | None] = mapped_column(sa.Text)
    action: Mapped[str] = mapped_column(sa.String(60))
    # ok, denied or failed.
    outcome: Mapped[str] = mapped_column(sa.String(12), default="ok", server_default="ok")
    object_type: Mapped[str | None] = mapped_column(sa.String(40))
    object_id: Mapped[int | None]
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    user_agent: Mapped[str | None] = mapped_column(sa.String(255))
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

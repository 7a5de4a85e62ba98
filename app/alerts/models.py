"""Alerts raised by the rules, and referrals made from them."""

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UTCDateTime, utcnow
from app.enums import AlertAction, AlertKind, AlertStatus, Severity, enum_type
from app.extensions import db

if TYPE_CHECKING:
    from app.auth.models import User
    from app.patient.models import Patient

_OPEN = "status IN ('open', 'acknowledged', 'snoozed')"


class Alert(db.Model):
    __tablename__ = "alerts"
    __table_args__ = (
        # CLINICAL §5: one open alert (open, acknowledged or snoozed) per patient and kind.
        sa.Index(
            "uq_alerts_one_open_per_kind",
            "patient_id",
            "kind",
            unique=True,
            sqlite_where=sa.text(_OPEN),
            postgresql_where=sa.text(_OPEN),
        ),
        sa.Index("ix_alerts_clinic_status", "clinic_id", "status"),
        sa.Index("ix_alerts_patient_kind_resolved", "patient_id", "kind", "resolved_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id", ondelete="CASCADE"))
    clinic_id: Mapped[int] = mapped_column(sa.ForeignKey("clinics.id"))
    kind: Mapped[AlertKind] = mapped_column(enum_type(AlertKind, "alert_kind", 24))
    severity: Mapped[Severity] = mapped_column(enum_type(Severity, "severity", 8))
    status: Mapped[AlertStatus] = mapped_column(
        enum_type(AlertStatus, "alert_status", 12), default=AlertStatus.OPEN
    )
    rule_id: Mapped[str] = mapped_column(sa.String(40))
    rule_version: Mapped[str] = mapped_column(sa.String(20))
    reason: Mapped[str] = mapped_column(sa.Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    session_ids: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    check_in_ids: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    dedup_key: Mapped[str] = mapped_column(sa.String(80))
    snoozed_until: Mapped[date | None]
    condition_cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    action: Mapped[AlertAction | None] = mapped_column(enum_type(AlertAction, "alert_action", 14))
    note: Mapped[str | None] = mapped_column(sa.Text)
    superseded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("alerts.id"))

    patient: Mapped["Patient"] = relationship()


class Referral(db.Model):
    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        sa.ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    alert_id: Mapped[int | None] = mapped_column(sa.ForeignKey("alerts.id"))
    to_whom: Mapped[str] = mapped_column(sa.String(200))
    reason: Mapped[str] = mapped_column(sa.Text)
    summary: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    patient: Mapped["Patient"] = relationship()
    created_by: Mapped["User | None"] = relationship()

"""Read-side queries for the alert inbox and the alerts API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.access import patient_scope
from app.alerts.models import Alert, Referral
from app.auth.models import User
from app.enums import OPEN_ALERT_STATUSES, AlertKind, AlertStatus, Severity
from app.extensions import db
from app.patient.models import Patient
from app.timeutil import local_date

SEVERITY_RANK = {
    Severity.URGENT: 0,
    Severity.HIGH: 1,
    Severity.MEDIUM: 2,
    Severity.LOW: 3,
    Severity.INFO: 4,
}


@dataclass(frozen=True)
class AlertFilter:
    status: str = "open"  # open (open, acknowledged, snoozed) | resolved | all
    patient_id: int | None = None
    kind: AlertKind | None = None
    severity: Severity | None = None


def alerts_for(user: User, filters: AlertFilter, limit: int = 500) -> list[Alert]:
    """Alerts of the patients the user may see, most serious and newest first."""
    query = (
        sa.select(Alert)
        .join(Patient, Patient.id == Alert.patient_id)
        .where(patient_scope(user))
        .options(selectinload(Alert.patient).selectinload(Patient.user))
    )
    if filters.status == "open":
        query = query.where(Alert.status.in_(OPEN_ALERT_STATUSES))
    elif filters.status == "resolved":
        query = query.where(Alert.status.in_((AlertStatus.RESOLVED, AlertStatus.SUPERSEDED)))
    if filters.patient_id is not None:
        query = query.where(Alert.patient_id == filters.patient_id)
    if filters.kind is not None:
        query = query.where(Alert.kind == filters.kind)
    if filters.severity is not None:
        query = query.where(Alert.severity == filters.severity)
    alerts = list(db.session.scalars(query.order_by(Alert.updated_at.desc()).limit(limit)))
    return sorted(
        alerts,
        key=lambda a: (
            a.status not in OPEN_ALERT_STATUSES,
            SEVERITY_RANK[a.severity],
            -a.updated_at.timestamp(),
        ),
    )


def get_alert_or_none(user: User, alert_id: int) -> Alert | None:
    return db.session.scalar(
        sa.select(Alert)
        .join(Patient, Patient.id == Alert.patient_id)
        .where(Alert.id == alert_id, patient_scope(user))
    )


def is_snoozed(alert: Alert, now: datetime) -> bool:
    """Snoozed until a date in the patient's own calendar (as snoozing and the engine count)."""
    return alert.status is AlertStatus.SNOOZED and (
        alert.snoozed_until is None or alert.snoozed_until > local_date(now, alert.patient.timezone)
    )


def get_referral_or_none(user: User, referral_id: int) -> Referral | None:
    return db.session.scalar(
        sa.select(Referral)
        .join(Patient, Patient.id == Referral.patient_id)
        .where(Referral.id == referral_id, patient_scope(user))
    )

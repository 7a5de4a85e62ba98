"""Read-side queries for the alert inbox and the alerts API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.access import patient_scope
from app.alerts.models import Alert, Referral
from app.auth.models import User
from app.enums import OPEN_ALERT_STATUSES, AlertKind, AlertStatus, Severity
from app.extensions import db
from app.patient.models import Patient
from app.timeutil import local_date


def triage_key(severity: Severity, status: AlertStatus, created_at: datetime) -> tuple:
    """The one triage order (DESIGN §4): most serious first; within a severity an alert not yet
    acknowledged before an acknowledged one, the most recently raised first."""
    return (-severity.rank, 0 if status is AlertStatus.OPEN else 1, -created_at.timestamp())


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
            *triage_key(a.severity, a.status, a.created_at),
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


@dataclass(frozen=True)
class Linked:
    """A session or check-in an alert points at: when, and where on the patient page."""

    kind: str  # "session" | "check-in"
    id: int
    local_date: date
    at: datetime


def linked_data(alert: Alert) -> list[Linked]:
    """Return the sessions and check-ins behind an alert, oldest first, in two queries."""
    from app.patient.models import CheckIn, Session

    items: list[Linked] = []
    if alert.session_ids:
        for row in db.session.execute(
            sa.select(Session.id, Session.local_date, Session.completed_at).where(
                Session.id.in_(alert.session_ids), Session.patient_id == alert.patient_id
            )
        ):
            items.append(Linked("session", row.id, row.local_date, row.completed_at))
    if alert.check_in_ids:
        for row in db.session.execute(
            sa.select(CheckIn.id, CheckIn.local_date, CheckIn.recorded_at).where(
                CheckIn.id.in_(alert.check_in_ids), CheckIn.patient_id == alert.patient_id
            )
        ):
            items.append(Linked("check-in", row.id, row.local_date, row.recorded_at))
    return sorted(items, key=lambda item: item.at)

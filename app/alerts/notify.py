"""Tell therapists about alerts by email: urgent and high at once, the rest in a daily digest.

No health detail ever goes into an email (STACK): only that something needs attention and a
link. Sending happens after the transaction that raised the alert has committed (the request's
commit path calls ``send_at_once``; so do the commands).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import sqlalchemy as sa
from flask import g, has_app_context
from sqlalchemy.orm import aliased

from app.alerts.models import Alert
from app.auth.models import User
from app.enums import OPEN_ALERT_STATUSES, Role, Severity
from app.extensions import db
from app.links import external_url
from app.mail import mail_configured, send_mail
from app.patient.models import Patient

AT_ONCE = (Severity.URGENT, Severity.HIGH)
DIGEST = (Severity.MEDIUM, Severity.LOW, Severity.INFO)


def mark_pending() -> None:
    """Ask for the at-once notifications to be sent after this request commits."""
    if has_app_context():
        g.alerts_pending = True


def _due(severities: tuple[Severity, ...]) -> list[tuple[Alert, User]]:
    therapist = aliased(User)
    rows = db.session.execute(
        sa.select(Alert, therapist)
        .join(Patient, Patient.id == Alert.patient_id)
        .join(therapist, therapist.id == Patient.therapist_id)
        .where(
            Alert.notified_at.is_(None),
            Alert.status.in_(OPEN_ALERT_STATUSES),
            Alert.severity.in_(severities),
            therapist.email.is_not(None),
            therapist.is_active.is_(True),
            therapist.role.in_((Role.THERAPIST, Role.ADMIN)),
        )
        .order_by(Alert.id)
    ).all()
    return [(alert, user) for alert, user in rows]


def send_at_once(now: datetime) -> int:
    """Email the therapist of every urgent or high alert not yet notified; return the count.

    Marks what was sent; the caller commits (the request's commit path, or the command).
    """
    if not mail_configured():
        return 0
    sent = 0
    for alert, therapist in _due(AT_ONCE):
        label = "urgent" if alert.severity is Severity.URGENT else "important"
        if send_mail(
            therapist.email,
            f"Homestretch: an {label} alert needs your attention",
            f"A patient in your caseload has an {label} alert.\n\n"
            f"Open it in Homestretch: {external_url('alerts.detail', alert_id=alert.id)}\n",
        ):
            alert.notified_at = now
            sent += 1
    return sent


def send_digest(now: datetime) -> int:
    """Email each therapist one digest of their other new alerts; return emails sent."""
    if not mail_configured():
        return 0
    by_therapist: dict[int, list[Alert]] = defaultdict(list)
    people: dict[int, User] = {}
    for alert, therapist in _due(DIGEST):
        by_therapist[therapist.id].append(alert)
        people[therapist.id] = therapist
    sent = 0
    for therapist_id, alerts in by_therapist.items():
        count = len(alerts)
        if send_mail(
            people[therapist_id].email,
            f"Homestretch: {count} new alert{'s' if count != 1 else ''} to review",
            f"You have {count} new alert{'s' if count != 1 else ''} in your caseload.\n\n"
            f"Review them in Homestretch: {external_url('alerts.inbox')}\n",
        ):
            for alert in alerts:
                alert.notified_at = now
            sent += 1
    return sent

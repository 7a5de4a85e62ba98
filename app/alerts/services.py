"""Acting on alerts: acknowledge, snooze for 1–14 days, resolve with an action (CLINICAL §5).

Regress and progress apply the stage change; "referred" creates a referral with a generated
summary. An action on an alert in the wrong state raises Conflict (DESIGN §4: 409).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from app import audit
from app.alerts.models import Alert, Referral
from app.auth.models import User
from app.enums import OPEN_ALERT_STATUSES, RED_FLAG_KINDS, AlertAction, AlertStatus
from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.programs.queries import current_program
from app.programs.services import change_stage
from app.timeutil import local_date

MAX_NOTE = 2000
SNOOZE_DAYS = (1, 14)


@dataclass(frozen=True)
class ReferralData:
    to: str
    reason: str


def _require_open(alert: Alert, what: str) -> None:
    if alert.status not in OPEN_ALERT_STATUSES:
        raise Conflict(f"This alert is {alert.status.value}; it cannot be {what}.")


def _transition(
    alert: Alert,
    allowed: tuple[AlertStatus, ...],
    what: str,
    *conditions: sa.ColumnElement[bool],
    **values: object,
) -> bool:
    """Move the alert on with one conditional UPDATE, so of two racing requests one wins.

    DESIGN §6: on PostgreSQL the second request waits for the first's row lock, then finds
    the status changed and gets a Conflict (409), whatever its own copy of the alert said.
    With extra ``conditions``, a row they exclude is not a conflict: it says False.
    """
    moved = db.session.execute(
        sa.update(Alert)
        .where(Alert.id == alert.id, Alert.status.in_(allowed), *conditions)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(alert)
    if moved.rowcount == 1:
        return True
    if conditions and alert.status in allowed:
        return False
    raise Conflict(f"This alert is {alert.status.value}; it cannot be {what}.")


def acknowledge_alert(alert: Alert, *, by: User, now: datetime) -> Alert:
    """Say the alert has been seen; it stays open until resolved."""
    _require_open(alert, "acknowledged")
    if alert.status is AlertStatus.ACKNOWLEDGED:
        raise Conflict("This alert is already acknowledged.")
    _transition(
        alert,
        (AlertStatus.OPEN, AlertStatus.SNOOZED),
        "acknowledged",
        status=AlertStatus.ACKNOWLEDGED,
        snoozed_until=None,
        updated_at=now,
    )
    _audit("alert.acknowledge", alert, by, now)
    return alert


def snooze_alert(alert: Alert, days: int, *, by: User, now: datetime) -> Alert:
    """Hide the alert from "needs attention" for 1–14 days (it still counts as open).

    Red-flag alerts cannot be snoozed (DESIGN §4, CLINICAL §6: a yes is never queued).
    """
    low, high = SNOOZE_DAYS
    if isinstance(days, bool) or not isinstance(days, int) or not low <= days <= high:
        raise ValidationFailed({"days": f"Snooze for {low} to {high} days."})
    if alert.kind in RED_FLAG_KINDS:
        raise Conflict("A red-flag alert cannot be snoozed: act on it, then resolve it.")
    _require_open(alert, "snoozed")
    until = local_date(now, alert.patient.timezone) + timedelta(days=days)
    # Snoozing again moves the date; the same snooze twice (a double tap, two racing requests)
    # changes nothing the second time and is audited once.
    same = sa.and_(Alert.status == AlertStatus.SNOOZED, Alert.snoozed_until == until)
    if _transition(
        alert,
        OPEN_ALERT_STATUSES,
        "snoozed",
        ~same,
        status=AlertStatus.SNOOZED,
        snoozed_until=until,
        updated_at=now,
    ):
        _audit("alert.snooze", alert, by, now, {"days": days})
    return alert


def resolve_alert(
    alert: Alert,
    action: str,
    note: str = "",
    *,
    by: User,
    now: datetime,
    referral: ReferralData | None = None,
) -> Alert:
    """Close the alert with what was done; regress/progress change the stage at once."""
    errors: dict[str, str] = {}
    try:
        chosen = AlertAction(action)
    except ValueError:
        chosen = None
        errors["action"] = "Choose one of: " + ", ".join(a.value for a in AlertAction) + "."
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        errors["note"] = f"Keep the note under {MAX_NOTE:,} characters."
    if chosen is AlertAction.REFERRED:
        if referral is None or not referral.to.strip():
            errors["referral.to"] = "Say to whom the patient is referred."
        if referral is None or not referral.reason.strip():
            errors["referral.reason"] = "Give the reason for the referral."
    if errors:
        raise ValidationFailed(errors)
    _require_open(alert, "resolved")
    assert chosen is not None
    program = current_program(alert.patient)
    target = None
    if chosen in (AlertAction.REGRESSED, AlertAction.PROGRESSED):
        if program is None:
            raise ValidationFailed({"action": "The patient has no program to change."})
        step = -1 if chosen is AlertAction.REGRESSED else 1
        target = program.stage + step
        if not 1 <= target <= 4:
            side = "below" if step < 0 else "above"
            raise ValidationFailed({"action": f"Stage {program.stage} has no stage {side}."})
    # Claim the alert first: of concurrent resolutions exactly one goes on (DESIGN §6).
    _transition(
        alert,
        OPEN_ALERT_STATUSES,
        "resolved",
        status=AlertStatus.RESOLVED,
        action=chosen,
        note=note or None,
        resolved_at=now,
        resolved_by_id=by.id,
        snoozed_until=None,
        updated_at=now,
    )
    if program is not None and target is not None:
        change_stage(
            program,
            target,
            reason=note or f"Resolving the alert: {alert.kind.value.replace('_', ' ').lower()}",
            by=by,
            now=now,
        )
    if chosen is AlertAction.REFERRED:
        assert referral is not None
        from app.alerts.referrals import referral_summary

        db.session.add(
            Referral(
                patient_id=alert.patient_id,
                alert_id=alert.id,
                to_whom=referral.to.strip()[:200],
                reason=referral.reason.strip(),
                summary=referral_summary(alert.patient, now, alert),
                created_by_id=by.id,
                created_at=now,
            )
        )
    _audit("alert.resolve", alert, by, now, {"action": chosen.value})
    db.session.flush()
    return alert


def _audit(action: str, alert: Alert, by: User, now: datetime, details: dict | None = None) -> None:
    audit.record(
        action,
        actor=by,
        patient=alert.patient,
        object_type="alert",
        object_id=alert.id,
        # The kind of action, never the alert's kind or its evidence (no health values).
        details=details or {},
        now=now,
    )

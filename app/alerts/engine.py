"""The alert engine: load timelines, call the pure rules, persist alerts idempotently.

After every session and check-in (HTML, API and offline replays alike, through the services),
and in `flask alerts sweep` for every active patient, `evaluate_patients` brings alerts and the
caseload summaries up to date in the caller's transaction (CLINICAL §5):

- one open alert (open, acknowledged or snoozed) per patient and kind, enforced by a partial
  unique index; re-evaluation refreshes its evidence and may raise its severity;
- after a resolution the same kind fires again only after `rearm_days` and only if the
  condition still holds; red flags are exempt: every new "yes" raises (or refreshes) the alert
  and notifies at once, but an answer already alerted on is never raised twice;
- NON_RESPONSE_6W supersedes an open PERSISTENT_PAIN;
- alerts never close themselves: when the condition no longer holds they show "condition
  cleared since";
- a snoozed alert whose date has come is open again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app import audit
from app.alerts.models import Alert
from app.alerts.notify import mark_pending
from app.alerts.rules import Finding, evaluate
from app.assessment import assess_patients
from app.caseload.summary import refresh_summaries
from app.clinical.assessment import Assessment
from app.db import sqlite_immediate
from app.enums import OPEN_ALERT_STATUSES, RED_FLAG_KINDS, AlertKind, AlertStatus, Severity
from app.extensions import db
from app.patient.models import Patient

NOTIFY_AT_ONCE = (Severity.URGENT, Severity.HIGH)


@dataclass
class Outcome:
    """What an evaluation changed, for notifications, commands and tests."""

    created: list[Alert] = field(default_factory=list)
    refreshed: list[Alert] = field(default_factory=list)
    superseded: list[Alert] = field(default_factory=list)
    cleared: list[Alert] = field(default_factory=list)
    notify: list[Alert] = field(default_factory=list)
    patients: int = 0

    def merge(self, other: Outcome) -> None:
        """Add another evaluation's changes to this one."""
        self.patients += other.patients
        self.created += other.created
        self.refreshed += other.refreshed
        self.superseded += other.superseded
        self.cleared += other.cleared
        self.notify += other.notify


def evaluate_patients(patient_ids: Iterable[int], now: datetime) -> Outcome:
    """Re-evaluate alerts and refresh the caseload rows of these patients as of `now`.

    Runs after every change to a patient's data, in the caller's transaction (the caller
    commits), in a fixed number of queries per batch.
    """
    ids = list(dict.fromkeys(patient_ids))
    outcome = Outcome(patients=len(ids))
    if not ids:
        return outcome
    db.session.flush()
    assessments = assess_patients(ids, now)
    alerts: dict[int, list[Alert]] = defaultdict(list)
    clinics = dict(
        db.session.execute(
            sa.select(Patient.id, Patient.clinic_id).where(Patient.id.in_(ids))
        ).all()
    )
    for alert in db.session.scalars(sa.select(Alert).where(Alert.patient_id.in_(ids))):
        alerts[alert.patient_id].append(alert)
    for patient_id, assessment in assessments.items():
        _apply(assessment, clinics[patient_id], alerts[patient_id], now, outcome)
    for alert in outcome.notify:
        alert.notified_at = None  # every new red-flag yes and every raise notifies again
    if outcome.notify:
        mark_pending()
    db.session.flush()
    refresh_summaries(assessments, now)
    return outcome


def _apply(
    assessment: Assessment,
    clinic_id: int,
    alerts: list[Alert],
    now: datetime,
    outcome: Outcome,
) -> None:
    timeline, policy = assessment.timeline, assessment.policy
    today = assessment.today
    open_by_kind = {a.kind: a for a in alerts if a.status in OPEN_ALERT_STATUSES}
    last_resolved: dict[AlertKind, datetime] = {}
    alerted_check_ins: dict[AlertKind, set[int]] = defaultdict(set)
    for alert in alerts:
        if alert.resolved_at is not None:
            previous = last_resolved.get(alert.kind)
            if previous is None or alert.resolved_at > previous:
                last_resolved[alert.kind] = alert.resolved_at
        alerted_check_ins[alert.kind].update(alert.check_in_ids or ())

    # A snoozed alert is back in the "needs attention" view once its date has come.
    for alert in open_by_kind.values():
        if (
            alert.status is AlertStatus.SNOOZED
            and alert.snoozed_until is not None
            and alert.snoozed_until <= today
        ):
            alert.status = AlertStatus.OPEN
            alert.snoozed_until = None
            alert.updated_at = now

    findings = evaluate(timeline, policy, now, assessment=assessment)
    fired = set()
    for finding in findings:
        fired.add(finding.kind)
        existing = open_by_kind.get(finding.kind)
        if finding.kind in RED_FLAG_KINDS:
            new_answers = set(finding.check_in_ids) - alerted_check_ins[finding.kind]
            if existing is None and not new_answers:
                continue  # this answer was alerted on and resolved; never raise it twice
            if existing is not None:
                _refresh(existing, finding, now, outcome)
                if new_answers:
                    outcome.notify.append(existing)  # every new yes notifies at once
                continue
        elif existing is not None:
            _refresh(existing, finding, now, outcome)
            continue
        else:
            resolved = last_resolved.get(finding.kind)
            if resolved is not None and now - resolved < timedelta(days=policy.rearm_days):
                continue  # CLINICAL §5: rearm only after rearm_days
        alert = _create(timeline.patient_id, clinic_id, finding, now)
        open_by_kind[finding.kind] = alert
        outcome.created.append(alert)
        if alert.severity in NOTIFY_AT_ONCE:
            outcome.notify.append(alert)

    # CLINICAL §5: NON_RESPONSE_6W supersedes an open PERSISTENT_PAIN, with a link.
    non_response = open_by_kind.get(AlertKind.NON_RESPONSE_6W)
    persistent = open_by_kind.get(AlertKind.PERSISTENT_PAIN)
    if non_response is not None and persistent is not None:
        persistent.status = AlertStatus.SUPERSEDED
        persistent.superseded_by_id = non_response.id
        persistent.resolved_at = now
        persistent.updated_at = now
        outcome.superseded.append(persistent)

    # Alerts never close themselves; they say since when the condition no longer holds.
    for kind, alert in open_by_kind.items():
        if alert.status not in OPEN_ALERT_STATUSES:
            continue
        if kind not in fired and alert.condition_cleared_at is None:
            alert.condition_cleared_at = now
            alert.updated_at = now
            outcome.cleared.append(alert)


def _refresh(alert: Alert, finding: Finding, now: datetime, outcome: Outcome) -> None:
    """Bring an open alert's evidence up to date; touch updated_at only when it changed."""
    values = {
        "reason": finding.reason,
        "evidence": dict(finding.evidence),
        "session_ids": list(finding.session_ids),
        "check_in_ids": sorted(set(alert.check_in_ids or ()) | set(finding.check_in_ids)),
        "rule_id": finding.rule_id,
        "rule_version": finding.rule_version,
        "condition_cleared_at": None,
    }
    if finding.severity.rank > alert.severity.rank:
        values["severity"] = finding.severity
        if finding.severity in NOTIFY_AT_ONCE:
            outcome.notify.append(alert)
    changed = {name: value for name, value in values.items() if getattr(alert, name) != value}
    if not changed:
        return
    for name, value in changed.items():
        setattr(alert, name, value)
    alert.updated_at = now
    outcome.refreshed.append(alert)


def _create(patient_id: int, clinic_id: int, finding: Finding, now: datetime) -> Alert:
    """Insert an alert; if a concurrent evaluation inserted the same one, refresh that one."""
    alert = Alert(
        patient_id=patient_id,
        clinic_id=clinic_id,
        kind=finding.kind,
        severity=finding.severity,
        status=AlertStatus.OPEN,
        rule_id=finding.rule_id,
        rule_version=finding.rule_version,
        reason=finding.reason,
        evidence=dict(finding.evidence),
        session_ids=list(finding.session_ids),
        check_in_ids=list(finding.check_in_ids),
        dedup_key=f"{patient_id}:{finding.kind.value}",
        created_at=now,
        updated_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(alert)
            db.session.flush()
    except IntegrityError:
        # The partial unique index says another evaluation got there first.
        existing = db.session.scalar(
            sa.select(Alert).where(
                Alert.patient_id == patient_id,
                Alert.kind == finding.kind,
                Alert.status.in_(OPEN_ALERT_STATUSES),
            )
        )
        if existing is None:
            raise
        _refresh(existing, finding, now, Outcome())
        return existing
    # Raised by the rules (no actor); the kind and evidence stay out of the log (DESIGN §6).
    audit.record(
        "alert.raise",
        clinic_id=clinic_id,
        patients=[patient_id],
        object_type="alert",
        object_id=alert.id,
        now=now,
    )
    return alert


SWEEP_BATCH = 500


def evaluate_clinic(clinic_id: int, now: datetime) -> Outcome:
    """Re-evaluate every patient of a clinic (after its thresholds changed), in batches.

    Runs in the caller's transaction, so the new policy, the alerts and the caseload rows
    change together.
    """
    ids = list(
        db.session.scalars(
            sa.select(Patient.id)
            .where(Patient.clinic_id == clinic_id, Patient.archived_at.is_(None))
            .order_by(Patient.id)
        )
    )
    total = Outcome()
    for start in range(0, len(ids), SWEEP_BATCH):
        total.merge(evaluate_patients(ids[start : start + SWEEP_BATCH], now))
    return total


def active_patient_ids() -> list[int]:
    """Patients with a program in force (active, paused or suspended), not archived."""
    from app.programs.models import Program

    return list(
        db.session.scalars(
            sa.select(Patient.id)
            .join(Program, Program.patient_id == Patient.id)
            .where(Patient.archived_at.is_(None), Program.status != "ended")
            .order_by(Patient.id)
        )
    )


def sweep(now: datetime, batch: int = SWEEP_BATCH) -> Outcome:
    """Evaluate every active patient, committing per batch; safe to run concurrently."""
    with sqlite_immediate():  # writes that read first queue on SQLite's lock (STACK)
        return _sweep(now, batch)


def _sweep(now: datetime, batch: int) -> Outcome:
    total = Outcome()
    ids = active_patient_ids()
    db.session.commit()
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        total.merge(evaluate_patients(chunk, now))
        db.session.commit()
    return total

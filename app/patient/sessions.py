"""Log a performed session exactly once, with its traffic light (DESIGN §4, CLINICAL §3–§4).

HTML pages, the JSON API, offline replays and the demo seed all log through ``log_session``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from app import audit
from app.alerts.engine import evaluate_patients
from app.assessment import policy_for
from app.clinical.adherence import is_completed
from app.clinical.traffic_light import session_light
from app.enums import ItemStatus
from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.inputs import check_instant
from app.patient.idempotency import (
    Logged,
    client_id,
    find_reported,
    insert_once,
    iso,
    payload_hash,
    replay,
)
from app.patient.models import CheckIn, Patient, Session, SessionExercise
from app.programs.models import Program, ProgramItem
from app.timeutil import local_date, local_midnight

# DESIGN §4: phone clocks drift; times up to 15 minutes ahead of the server are accepted.
CLOCK_SKEW = timedelta(minutes=15)
MAX_NOTES = 2000
MAX_SKIP_REASON = 200
REPORTED_STATUSES = (ItemStatus.DONE, ItemStatus.PARTIAL, ItemStatus.SKIPPED)


def pain_error(value: Any, *, required: bool = False) -> str | None:
    """Return the message for a value that is not an NPRS score (CLINICAL §1), else None."""
    if value is None:
        return _("Give a pain rating from 0 to 10.") if required else None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
        return _("Pain is a whole number from 0 (none) to 10 (worst imaginable).")
    return None


@dataclass(frozen=True)
class ExerciseResult:
    program_item_id: int
    status: str
    sets_done: int | None = None
    reps_done: int | None = None
    hold_seconds: int | None = None
    pain_during: int | None = None
    skip_reason: str | None = None


@dataclass(frozen=True)
class SessionReport:
    """A performed session as the phone reports it (DESIGN §4 `POST /api/v1/sessions`)."""

    id: str
    program_id: int
    completed_at: datetime
    pain_before: int
    exercises: tuple[ExerciseResult, ...]
    started_at: datetime | None = None
    pain_after: int | None = None
    effort: int | None = None
    notes: str = ""

    def canonical(self) -> dict[str, Any]:
        """Return the report as plain data, times in UTC, for the idempotency hash."""
        return {
            "id": self.id,
            "program_id": self.program_id,
            "completed_at": iso(self.completed_at),
            "started_at": iso(self.started_at),
            "pain_before": self.pain_before,
            "pain_after": self.pain_after,
            "effort": self.effort,
            "notes": self.notes or "",
            "exercises": [vars(result) for result in self.exercises],
        }


def log_session(patient: Patient, report: SessionReport, *, now: datetime) -> Logged:
    """Store a performed session exactly once (idempotent by the phone's UUID).

    The same id with the same content returns the stored session (created=False); the same id
    with different content raises Conflict; invalid input raises ValidationFailed and stores
    nothing.
    """
    key = client_id(report.id)
    report_hash = payload_hash({**report.canonical(), "id": key})
    existing = find_reported(Session, patient.id, key)
    if existing is not None:
        return replay(existing, report_hash, "session")

    program = db.session.scalar(
        sa.select(Program).where(Program.id == report.program_id, Program.patient_id == patient.id)
    )
    if program is None:
        raise NotFound(_("There is no such program for this patient."), field="program_id")
    items = {
        item.id: item
        for item in db.session.scalars(
            sa.select(ProgramItem).where(ProgramItem.program_id == program.id)
        )
    }
    _check_session(patient, program, items, report, now)

    completed_at = report.completed_at
    day = local_date(completed_at, patient.timezone)
    reported = {result.program_item_id: result for result in report.exercises}
    # Items in force when the session was done; any reported item counts as prescribed too.
    prescribed = [
        item
        for item in sorted(items.values(), key=lambda i: i.position)
        if item.id in reported or item.in_force_at(completed_at)
    ]
    done = sum(
        1
        for result in report.exercises
        if result.status in (ItemStatus.DONE.value, ItemStatus.PARTIAL.value)
    )
    policy = policy_for(patient.clinic)
    morning = morning_pain(patient, day + timedelta(days=1))
    light = session_light(
        report.pain_before,
        [result.pain_during for result in report.exercises],
        report.pain_after,
        morning,
        policy,
    )
    session = Session(
        patient_id=patient.id,
        program_id=program.id,
        client_id=key,
        started_at=report.started_at,
        completed_at=completed_at,
        local_date=day,
        stage=program.stage,
        pain_before=report.pain_before,
        pain_after=report.pain_after,
        peak_pain=light.peak,
        effort=report.effort,
        notes=(report.notes or "").strip(),
        prescribed_items=len(prescribed),
        completed_items=done,
        completed=is_completed(len(prescribed), done, policy),
        light=light.light,
        light_provisional=light.provisional,
        payload_hash=report_hash,
        created_at=now,
    )
    for position, item in enumerate(prescribed, start=1):
        result = reported.get(item.id)
        session.exercises.append(
            SessionExercise(
                program_item_id=item.id,
                exercise_id=item.exercise_id,
                position=position,
                status=ItemStatus(result.status) if result else ItemStatus.NOT_DONE,
                sets_done=result.sets_done if result else None,
                reps_done=result.reps_done if result else None,
                hold_seconds=result.hold_seconds if result else None,
                pain_during=result.pain_during if result else None,
                skip_reason=(result.skip_reason or None) if result else None,
            )
        )
    stored = insert_once(session)
    if stored is not session:
        return replay(stored, report_hash, "session")
    # Who logged it and which session, never what it held (no pain values: DESIGN §6).
    audit.record(
        "session.log",
        actor_id=patient.user_id,
        patient=patient,
        object_type="session",
        object_id=session.id,
        now=now,
    )
    evaluate_patients([patient.id], now)
    return Logged(session, True)


def _check_session(
    patient: Patient,
    program: Program,
    items: dict[int, ProgramItem],
    report: SessionReport,
    now: datetime,
) -> None:
    errors: dict[str, str] = {}
    for name in ("pain_before", "pain_after"):
        if (
            message := pain_error(getattr(report, name), required=name == "pain_before")
        ) is not None:
            errors[name] = message
    if report.effort is not None and (
        isinstance(report.effort, bool)
        or not isinstance(report.effort, int)
        or not 0 <= report.effort <= 10
    ):
        errors["effort"] = _("Effort is a whole number from 0 (very easy) to 10 (hardest).")
    if len(report.notes or "") > MAX_NOTES:
        errors["notes"] = _("Keep notes under %(count)s characters.", count=format(MAX_NOTES, ","))
    started = local_midnight(program.start_date, patient.timezone)
    check_time(errors, "completed_at", report.completed_at, now, not_before=started)
    if report.started_at is not None:
        check_time(errors, "started_at", report.started_at, now, not_before=started)
        if (
            "completed_at" not in errors
            and "started_at" not in errors
            and report.started_at > report.completed_at
        ):
            errors["started_at"] = _("The start time is after the finish time.")
    if not report.exercises:
        errors["exercises"] = _("List at least one exercise of the program.")
    seen: set[int] = set()
    for index, result in enumerate(report.exercises):
        where = f"exercises[{index}]"
        if result.program_item_id not in items:
            errors[f"{where}.program_item_id"] = _("This exercise is not part of the program.")
        elif result.program_item_id in seen:
            errors[f"{where}.program_item_id"] = _("This exercise is listed twice.")
        seen.add(result.program_item_id)
        if result.status not in {s.value for s in REPORTED_STATUSES}:
            errors[f"{where}.status"] = _("Say done, partial or skipped.")
        if (message := pain_error(result.pain_during)) is not None:
            errors[f"{where}.pain_during"] = message
        for name in ("sets_done", "reps_done", "hold_seconds"):
            value = getattr(result, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1000
            ):
                errors[f"{where}.{name}"] = _("Use a whole number from 0 to 1000.")
        if result.skip_reason is not None and len(result.skip_reason) > MAX_SKIP_REASON:
            errors[f"{where}.skip_reason"] = _(
                "Keep the reason under %(count)s characters.", count=MAX_SKIP_REASON
            )
    if errors:
        raise ValidationFailed(errors)


def check_time(
    errors: dict[str, str],
    name: str,
    instant: datetime,
    now: datetime,
    *,
    not_before: datetime | None = None,
    too_early: str | None = None,
) -> None:
    """Refuse an instant without offset, outside 2000–2100, ahead of the clock or too early.

    DESIGN §4, §6: up to 15 minutes ahead of the server is accepted (phone clocks drift); the
    years are checked first, so no arithmetic on an extreme instant can overflow.
    """
    if instant.tzinfo is None or instant.utcoffset() is None:
        errors[name] = _("Give the time with its UTC offset, e.g. 2026-03-01T08:30:00+00:00.")
        return
    try:
        check_instant(instant)
    except ValueError as exc:
        errors[name] = str(exc)
        return
    if instant > now + CLOCK_SKEW:
        errors[name] = _("This time is in the future.")
    elif not_before is not None and instant < not_before:
        errors[name] = too_early or _("This time is before the program started.")


def morning_pain(patient: Patient, day: date) -> int | None:
    """Return the morning pain of the first check-in on a local day (CLINICAL §4)."""
    return db.session.scalar(
        sa.select(CheckIn.morning_pain)
        .where(
            CheckIn.patient_id == patient.id,
            CheckIn.local_date == day,
            CheckIn.morning_pain.is_not(None),
        )
        .order_by(CheckIn.recorded_at, CheckIn.id)
        .limit(1)
    )

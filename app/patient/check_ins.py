"""Record a check-in once and act on red flags at once (CLINICAL §1, §6; DESIGN §4, §6).

A next-morning pain settles the light of the previous day's sessions; an emergency answer
suspends the program and an urgent one pauses it, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from app import audit
from app.alerts.engine import evaluate_patients
from app.alerts.rules import red_flags_due as due_questions
from app.assessment import assess_patient, policy_for
from app.clinical import red_flags
from app.clinical.traffic_light import session_light
from app.enums import CheckInKind, ProgramStatus
from app.errors import ValidationFailed
from app.extensions import db
from app.patient.idempotency import client_id, find_reported, insert_once, iso, payload_hash, replay
from app.patient.models import CheckIn, Patient, RedFlagAnswer, Session
from app.patient.sessions import CLOCK_SKEW, check_time, morning_pain, pain_error
from app.programs.queries import current_program
from app.programs.services import current_episode, pause_program, suspend_program
from app.timeutil import local_date, local_midnight

SELF_CARE = ("ice", "heat", "medication", "walking", "other")


@dataclass(frozen=True)
class CheckInReport:
    """A check-in as the phone reports it (DESIGN §4 `POST /api/v1/checkins`)."""

    id: str
    recorded_at: datetime
    morning_pain: int | None = None
    red_flags: Mapping[str, bool] = field(default_factory=dict)
    self_care: tuple[str, ...] = ()
    kind: CheckInKind = CheckInKind.MORNING

    def canonical(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "recorded_at": iso(self.recorded_at),
            "morning_pain": self.morning_pain,
            "red_flags": dict(sorted(self.red_flags.items())),
            "self_care": sorted(self.self_care),
            "kind": CheckInKind(self.kind).value,
        }


@dataclass(frozen=True)
class CheckInResult:
    check_in: CheckIn
    created: bool
    instruction: red_flags.Instruction
    red_flags_due: tuple[str, ...]


def record_check_in(patient: Patient, report: CheckInReport, *, now: datetime) -> CheckInResult:
    """Store a check-in once; act on red flags at once (CLINICAL §6, DESIGN §6).

    An emergency answer suspends the program and an urgent one pauses it, in the same
    transaction. A next-morning pain settles the light of the previous day's sessions.
    """
    key = client_id(report.id)
    report_hash = payload_hash({**report.canonical(), "id": key})
    existing = find_reported(CheckIn, patient.id, key)
    if existing is not None:
        logged = replay(existing, report_hash, "check-in")
        return _check_in_result(patient, logged.obj, False, now)

    _check_check_in(patient, report, now)
    answers = {question: bool(answer) for question, answer in report.red_flags.items()}
    if answers.get("RF12"):
        # CLINICAL §6: a yes is never cleared automatically; a later "no" leaves it set.
        patient.risk_modifier = True
    level = red_flags.classify(answers, patient.risk_modifier)
    check_in = CheckIn(
        patient_id=patient.id,
        client_id=key,
        kind=CheckInKind(report.kind),
        recorded_at=report.recorded_at,
        local_date=local_date(report.recorded_at, patient.timezone),
        morning_pain=report.morning_pain,
        self_care=sorted(set(report.self_care)),
        red_flag_level=level,
        full_screen=red_flags.is_full_screen(answers),
        payload_hash=report_hash,
        created_at=now,
    )
    for question in red_flags.QUESTION_IDS:
        if question in answers:
            check_in.red_flags.append(
                RedFlagAnswer(patient_id=patient.id, question=question, answer=answers[question])
            )
    stored = insert_once(check_in)
    if stored is not check_in:
        logged = replay(stored, report_hash, "check-in")
        return _check_in_result(patient, logged.obj, False, now)

    _act_on_red_flags(patient, check_in, now)
    if check_in.morning_pain is not None:
        _settle_lights(patient, check_in)
    audit.record(
        "check_in.record",
        actor=patient.user,
        patient=patient,
        object_type="check_in",
        object_id=check_in.id,
        now=now,
    )
    evaluate_patients([patient.id], now)
    return _check_in_result(patient, check_in, True, now)


def _check_check_in(patient: Patient, report: CheckInReport, now: datetime) -> None:
    errors: dict[str, str] = {}
    if (message := pain_error(report.morning_pain)) is not None:
        errors["morning_pain"] = message
    # DESIGN §6: nothing from before the patient was enrolled, and no pain reading from before
    # the episode (it could be back-dated into the baseline window).
    episode = current_episode(patient)
    if report.morning_pain is not None and episode is not None:
        check_time(
            errors,
            "recorded_at",
            report.recorded_at,
            now,
            not_before=local_midnight(episode.start_date, patient.timezone),
            too_early=_("This time is before your program started."),
        )
    else:
        check_time(
            errors,
            "recorded_at",
            report.recorded_at,
            now,
            not_before=patient.created_at - CLOCK_SKEW,
            too_early=_("This time is before you joined."),
        )
    unknown = sorted(set(report.red_flags) - set(red_flags.QUESTION_IDS))
    if unknown:
        errors["red_flags"] = _(
            "Unknown question %(questions)s; use RF1 to RF12.", questions=", ".join(unknown)
        )
    elif any(not isinstance(answer, bool) for answer in report.red_flags.values()):
        errors["red_flags"] = _("Answer each question with yes (true) or no (false).")
    strange = sorted(set(report.self_care) - set(SELF_CARE))
    if strange:
        errors["self_care"] = _("Use the words %(words)s.", words=", ".join(SELF_CARE))
    if report.morning_pain is None and not report.red_flags and "morning_pain" not in errors:
        errors["morning_pain"] = _("Give your pain this morning, or answer the symptom questions.")
    if errors:
        raise ValidationFailed(errors)


def _act_on_red_flags(patient: Patient, check_in: CheckIn, now: datetime) -> None:
    """Suspend (emergency) or pause (urgent) the program at once (CLINICAL §5, §6)."""
    program = current_program(patient)
    if program is None:
        return
    yes = ", ".join(a.question for a in check_in.red_flags if a.answer)
    if check_in.red_flag_level is red_flags.RedFlagLevel.EMERGENCY:
        suspend_program(program, now=now, reason=f"Emergency red-flag answer ({yes})")
    elif (
        check_in.red_flag_level is red_flags.RedFlagLevel.URGENT
        and program.status is ProgramStatus.ACTIVE
    ):
        pause_program(program, by=None, now=now, reason=f"Urgent red-flag answer ({yes})")


def _settle_lights(patient: Patient, check_in: CheckIn) -> None:
    """Give the previous day's sessions their final light once the morning pain arrives."""
    if morning_pain(patient, check_in.local_date) != check_in.morning_pain:
        return  # an earlier check-in that day already settled them
    policy = policy_for(patient.clinic)
    previous_day = check_in.local_date - timedelta(days=1)
    sessions = db.session.scalars(
        sa.select(Session).where(
            Session.patient_id == patient.id, Session.local_date == previous_day
        )
    )
    for session in sessions:
        light = session_light(
            session.pain_before,
            [e.pain_during for e in session.exercises],
            session.pain_after,
            check_in.morning_pain,
            policy,
        )
        session.light = light.light
        session.light_provisional = False


def red_flags_due(patient: Patient, now: datetime) -> tuple[str, ...]:
    """Return the red-flag questions to ask next (DESIGN §4, CLINICAL §6)."""
    return due_questions(assess_patient(patient, now))


def instruction_for(patient: Patient, level: red_flags.RedFlagLevel) -> red_flags.Instruction:
    """What the patient is told at this level, with their clinic's numbers (DESIGN §4)."""
    clinic = patient.clinic
    therapist = patient.therapist
    return red_flags.instruction(
        level,
        emergency_number=clinic.emergency_number,
        therapist=therapist.name if therapist else None,
        clinic=clinic.name,
        clinic_phone=clinic.phone,
    )


def _check_in_result(
    patient: Patient, check_in: CheckIn, created: bool, now: datetime
) -> CheckInResult:
    return CheckInResult(
        check_in=check_in,
        created=created,
        instruction=instruction_for(patient, check_in.red_flag_level),
        red_flags_due=red_flags_due(patient, now),
    )

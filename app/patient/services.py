"""What patients report, and how patients come to exist.

The core services of DESIGN §3: create patient, log session, record check-in. HTML views, the
JSON API, the CLI and the demo seed all call these with an explicit `now`.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app import audit
from app.alerts.engine import patient_changed
from app.auth.models import Clinic, User
from app.auth.services import create_user, issue_invitation
from app.clinical import red_flags
from app.clinical.adherence import is_completed
from app.clinical.pain import Reading, baseline
from app.clinical.policy import Policy
from app.clinical.traffic_light import Light, session_light
from app.enums import CheckInKind, ItemStatus, ProgramStatus, Role
from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.patient.models import CheckIn, Patient, RedFlagAnswer, Session, SessionExercise
from app.programs.models import Program, ProgramItem
from app.programs.services import current_program, pause_program, suspend_program
from app.timeutil import is_timezone, local_date, local_midnight

# DESIGN §4: phone clocks drift; times up to 15 minutes ahead of the server are accepted.
CLOCK_SKEW = timedelta(minutes=15)
MAX_NOTES = 2000
MAX_NAME = 120
MAX_GOALS = 2000
MAX_SKIP_REASON = 200
SELF_CARE = ("ice", "heat", "medication", "walking", "other")
REPORTED_STATUSES = (ItemStatus.DONE, ItemStatus.PARTIAL, ItemStatus.SKIPPED)


def policy_for(clinic: Clinic) -> Policy:
    """Return the clinic's thresholds: CLINICAL defaults with the clinic's own changes."""
    return Policy.from_overrides(clinic.policy_overrides or {})


def _pain_error(value: Any, *, required: bool = False) -> str | None:
    if value is None:
        return "Give a pain rating from 0 to 10." if required else None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
        return "Pain is a whole number from 0 (none) to 10 (worst imaginable)."
    return None


def _client_id(value: Any) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise ValidationFailed({"id": "The id must be a UUID made by the app."}) from None


def _hash(payload: Mapping[str, Any]) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _iso(instant: datetime | None) -> str | None:
    return None if instant is None else instant.astimezone(UTC).isoformat()


# ---------------------------------------------------------------------------- patients


@dataclass(frozen=True)
class NewPatient:
    name: str
    timezone: str
    email: str | None = None
    intake_pain: int | None = None
    goals: str = ""
    intake_red_flags: Mapping[str, bool] = field(default_factory=dict)


def create_patient(
    clinic: Clinic, therapist: User, data: NewPatient, *, by: User | None, now: datetime
) -> tuple[Patient, str]:
    """Create a patient with a single-use invitation; return the patient and the token.

    Intake red-flag answers (RF9, RF12) are recorded as an intake check-in, so a yes raises
    the same screen result as any other (CLINICAL §6).
    """
    errors: dict[str, str] = {}
    name = (data.name or "").strip()
    if not name:
        errors["name"] = "Enter the patient's name."
    elif len(name) > MAX_NAME:
        errors["name"] = f"Keep the name under {MAX_NAME} characters."
    if not is_timezone(data.timezone):
        errors["timezone"] = "Choose a timezone from the list, such as Europe/London."
    if (message := _pain_error(data.intake_pain)) is not None:
        errors["intake_pain"] = message
    if len(data.goals or "") > MAX_GOALS:
        errors["goals"] = f"Keep the goals under {MAX_GOALS} characters."
    unknown = set(data.intake_red_flags) - set(red_flags.INTAKE_IDS)
    if unknown:
        errors["intake_red_flags"] = "Only RF9 and RF12 are asked at intake."
    elif any(not isinstance(answer, bool) for answer in data.intake_red_flags.values()):
        errors["intake_red_flags"] = "Answer each intake question with yes (true) or no (false)."
    if therapist.clinic_id != clinic.id or therapist.role not in (Role.THERAPIST, Role.ADMIN):
        errors["therapist_email"] = "Choose a therapist of this clinic."
    if errors:
        raise ValidationFailed(errors)

    user = create_user(
        clinic=clinic,
        role=Role.PATIENT,
        name=name,
        email=data.email,
        password=None,
        now=now,
        created_by=by,
    )
    patient = Patient(
        user=user,
        clinic_id=clinic.id,
        therapist_id=therapist.id,
        timezone=data.timezone,
        intake_pain=data.intake_pain,
        goals=(data.goals or "").strip(),
        risk_modifier=bool(data.intake_red_flags.get("RF12")),
        created_at=now,
    )
    db.session.add(patient)
    db.session.flush()
    token = issue_invitation(user, created_by=by, now=now)
    audit.record(
        "patient.create", actor=by, patient=patient, object_type="patient", object_id=patient.id
    )
    if data.intake_red_flags:
        record_check_in(
            patient,
            CheckInReport(
                id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"homestretch:intake:{patient.id}")),
                recorded_at=now,
                red_flags=dict(data.intake_red_flags),
                kind=CheckInKind.INTAKE,
            ),
            now=now,
        )
    patient_changed([patient.id], now)
    return patient, token


# ---------------------------------------------------------------------------- sessions


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
            "completed_at": _iso(self.completed_at),
            "started_at": _iso(self.started_at),
            "pain_before": self.pain_before,
            "pain_after": self.pain_after,
            "effort": self.effort,
            "notes": self.notes or "",
            "exercises": [vars(result) for result in self.exercises],
        }


@dataclass(frozen=True)
class Logged:
    """A service answer: the stored object and whether this call created it."""

    obj: Any
    created: bool


def log_session(patient: Patient, report: SessionReport, *, now: datetime) -> Logged:
    """Store a performed session exactly once (idempotent by the phone's UUID).

    The same id with the same content returns the stored session (created=False); the same id
    with different content raises Conflict; invalid input raises ValidationFailed and stores
    nothing.
    """
    client_id = _client_id(report.id)
    report_hash = _hash({**report.canonical(), "id": client_id})
    existing = _find(Session, patient, client_id)
    if existing is not None:
        return _replay(existing, report_hash, "session")

    program = db.session.scalar(
        sa.select(Program).where(Program.id == report.program_id, Program.patient_id == patient.id)
    )
    if program is None:
        raise NotFound("There is no such program for this patient.", field="program_id")
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
    morning = _morning_pain(patient, day + timedelta(days=1))
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
        client_id=client_id,
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
    stored = _insert_once(session, patient, client_id)
    if stored is not session:
        return _replay(stored, report_hash, "session")
    patient_changed([patient.id], now)
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
            message := _pain_error(getattr(report, name), required=name == "pain_before")
        ) is not None:
            errors[name] = message
    if report.effort is not None and (
        isinstance(report.effort, bool)
        or not isinstance(report.effort, int)
        or not 0 <= report.effort <= 10
    ):
        errors["effort"] = "Effort is a whole number from 0 (very easy) to 10 (hardest)."
    if len(report.notes or "") > MAX_NOTES:
        errors["notes"] = f"Keep notes under {MAX_NOTES:,} characters."
    _check_time(errors, "completed_at", report.completed_at, patient, program, now)
    if report.started_at is not None:
        _check_time(errors, "started_at", report.started_at, patient, program, now)
        if (
            "completed_at" not in errors
            and "started_at" not in errors
            and report.started_at > report.completed_at
        ):
            errors["started_at"] = "The start time is after the finish time."
    if not report.exercises:
        errors["exercises"] = "List at least one exercise of the program."
    seen: set[int] = set()
    for index, result in enumerate(report.exercises):
        where = f"exercises[{index}]"
        if result.program_item_id not in items:
            errors[f"{where}.program_item_id"] = "This exercise is not part of the program."
        elif result.program_item_id in seen:
            errors[f"{where}.program_item_id"] = "This exercise is listed twice."
        seen.add(result.program_item_id)
        if result.status not in {s.value for s in REPORTED_STATUSES}:
            errors[f"{where}.status"] = "Say done, partial or skipped."
        if (message := _pain_error(result.pain_during)) is not None:
            errors[f"{where}.pain_during"] = message
        for name in ("sets_done", "reps_done", "hold_seconds"):
            value = getattr(result, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1000
            ):
                errors[f"{where}.{name}"] = "Use a whole number from 0 to 1000."
        if result.skip_reason is not None and len(result.skip_reason) > MAX_SKIP_REASON:
            errors[f"{where}.skip_reason"] = f"Keep the reason under {MAX_SKIP_REASON} characters."
    if errors:
        raise ValidationFailed(errors)


def _check_time(
    errors: dict[str, str],
    name: str,
    instant: datetime,
    patient: Patient,
    program: Program | None,
    now: datetime,
) -> None:
    if instant.tzinfo is None:
        errors[name] = "Give the time with its UTC offset, e.g. 2026-03-01T08:30:00+00:00."
    elif instant > now + CLOCK_SKEW:
        errors[name] = "This time is in the future."
    elif program is not None and instant < local_midnight(program.start_date, patient.timezone):
        errors[name] = "This time is before the program started."


def _find(model: type[Session] | type[CheckIn], patient: Patient, client_id: str) -> Any:
    return db.session.scalar(
        sa.select(model).where(model.patient_id == patient.id, model.client_id == client_id)
    )


def _replay(existing: Any, report_hash: str, what: str) -> Logged:
    if existing.payload_hash != report_hash:
        raise Conflict(
            f"A {what} with this id was already saved with different content. "
            "Use a new id for a new report."
        )
    return Logged(existing, False)


def _insert_once(obj: Any, patient: Patient, client_id: str) -> Any:
    """Insert; if a concurrent request stored the same client id first, return that row."""
    try:
        with db.session.begin_nested():
            db.session.add(obj)
            db.session.flush()
    except IntegrityError:
        stored = _find(type(obj), patient, client_id)
        if stored is None:
            raise
        return stored
    return obj


def _morning_pain(patient: Patient, day: date) -> int | None:
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


# ---------------------------------------------------------------------------- check-ins


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
            "recorded_at": _iso(self.recorded_at),
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
    client_id = _client_id(report.id)
    report_hash = _hash({**report.canonical(), "id": client_id})
    existing = _find(CheckIn, patient, client_id)
    if existing is not None:
        logged = _replay(existing, report_hash, "check-in")
        return _check_in_result(patient, logged.obj, False, now)

    _check_check_in(patient, report, now)
    answers = {question: bool(answer) for question, answer in report.red_flags.items()}
    if answers.get("RF12"):
        # CLINICAL §6: a yes is never cleared automatically; a later "no" leaves it set.
        patient.risk_modifier = True
    level = red_flags.classify(answers, patient.risk_modifier)
    check_in = CheckIn(
        patient_id=patient.id,
        client_id=client_id,
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
    stored = _insert_once(check_in, patient, client_id)
    if stored is not check_in:
        logged = _replay(stored, report_hash, "check-in")
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
        details={"red_flag_level": level.value} if answers else {},
        now=now,
    )
    patient_changed([patient.id], now)
    return _check_in_result(patient, check_in, True, now)


def _check_check_in(patient: Patient, report: CheckInReport, now: datetime) -> None:
    errors: dict[str, str] = {}
    if (message := _pain_error(report.morning_pain)) is not None:
        errors["morning_pain"] = message
    _check_time(errors, "recorded_at", report.recorded_at, patient, None, now)
    unknown = sorted(set(report.red_flags) - set(red_flags.QUESTION_IDS))
    if unknown:
        errors["red_flags"] = f"Unknown question {', '.join(unknown)}; use RF1 to RF12."
    elif any(not isinstance(answer, bool) for answer in report.red_flags.values()):
        errors["red_flags"] = "Answer each question with yes (true) or no (false)."
    strange = sorted(set(report.self_care) - set(SELF_CARE))
    if strange:
        errors["self_care"] = f"Use the words {', '.join(SELF_CARE)}."
    if report.morning_pain is None and not report.red_flags and "morning_pain" not in errors:
        errors["morning_pain"] = "Give your pain this morning, or answer the symptom questions."
    if errors:
        raise ValidationFailed(errors)


def _act_on_red_flags(patient: Patient, check_in: CheckIn, now: datetime) -> None:
    """Suspend (emergency) or pause (urgent) the program at once (CLINICAL §5, §6)."""
    program = current_program(patient)
    if program is None:
        return
    yes = ", ".join(a.question for a in check_in.red_flags if a.answer)
    if check_in.red_flag_level is red_flags.Level.EMERGENCY:
        suspend_program(program, now=now, reason=f"Emergency red-flag answer ({yes})")
    elif (
        check_in.red_flag_level is red_flags.Level.URGENT and program.status is ProgramStatus.ACTIVE
    ):
        pause_program(program, by=None, now=now, reason=f"Urgent red-flag answer ({yes})")


def _settle_lights(patient: Patient, check_in: CheckIn) -> None:
    """Give the previous day's sessions their final light once the morning pain arrives."""
    if _morning_pain(patient, check_in.local_date) != check_in.morning_pain:
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
    today = local_date(now, patient.timezone)
    last_screen = db.session.scalar(
        sa.select(sa.func.max(CheckIn.recorded_at)).where(
            CheckIn.patient_id == patient.id, CheckIn.full_screen.is_(True)
        )
    )
    trigger = False
    if last_screen is not None:
        trigger = (
            db.session.scalar(
                sa.select(sa.func.count(Session.id)).where(
                    Session.patient_id == patient.id,
                    Session.completed_at > last_screen,
                    Session.light == Light.RED,
                )
            )
            or 0
        ) > 0
    last_day = local_date(last_screen, patient.timezone) if last_screen else None
    return red_flags.questions_due(
        last_day, trigger, today, policy_for(patient.clinic).red_flag_weekly_days
    )


def _check_in_result(
    patient: Patient, check_in: CheckIn, created: bool, now: datetime
) -> CheckInResult:
    return CheckInResult(
        check_in=check_in,
        created=created,
        instruction=red_flags.instruction(check_in.red_flag_level),
        red_flags_due=red_flags_due(patient, now),
    )


# ---------------------------------------------------------------------------- eased session

# CLINICAL §7: a painful item is eased with its easier variant, or 30–50 % less volume.
EASE_FACTOR = 0.6  # 40 % less, in the middle of the 30–50 % range
EASE_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class EasedItem:
    """How one program item is shown in the eased session."""

    item: ProgramItem
    exercise: Any  # the Exercise to show: the easier variant, or the item's own
    dosage: dict[str, Any]  # the dosage to show, as DosageMixin.dosage() gives it
    change: str  # "easier" | "less" | "" (unchanged)
    note: str


@dataclass(frozen=True)
class EasedSession:
    """The session to offer after a RED session or a FLARE, until the therapist decides."""

    reason: str  # "red" | "flare"
    message: str
    items: tuple[EasedItem, ...]
    suggest_previous_stage: int | None


def _less_volume(dosage: dict[str, Any]) -> dict[str, Any]:
    eased = dict(dosage)

    def cut(value: int) -> int:
        return max(1, round(value * EASE_FACTOR))

    if eased.get("reps_per_set"):
        eased["reps_per_set"] = [cut(r) for r in eased["reps_per_set"]]
    elif eased.get("reps"):
        eased["reps"] = cut(eased["reps"])
    elif eased.get("duration_seconds"):
        eased["duration_seconds"] = cut(eased["duration_seconds"])
    elif eased.get("distance_m"):
        eased["distance_m"] = cut(eased["distance_m"])
    elif eased.get("sets", 1) > 1:
        eased["sets"] = cut(eased["sets"])
    return eased


def eased_session(patient: Patient, program: Program, *, now: datetime) -> EasedSession | None:
    """Return the eased session the player offers, or None for the session as prescribed.

    CLINICAL §7: after a RED session each painful item is swapped for its easier variant (or
    done with 30–50 % less volume) until the therapist decides; a FLARE (CLINICAL §5: ≥ 2 RED
    sessions in 7 days, or a morning pain ≥ 8 and ≥ 2 above baseline) eases every item. A
    therapist's stage change after the trigger is their decision and ends the easing. The
    previous stage's session cannot be logged against this program's items, so after 2 RED
    sessions every item is eased and the move back a stage is left to the therapist, who is
    alerted (FLARE).
    """
    since = max(
        now - EASE_WINDOW,
        max(
            (c.created_at for c in program.stage_changes),
            default=local_midnight(program.start_date, patient.timezone),
        ),
    )
    red = list(
        db.session.scalars(
            sa.select(Session)
            .where(
                Session.patient_id == patient.id,
                Session.program_id == program.id,
                Session.light == Light.RED,
                Session.completed_at > since,
            )
            .order_by(Session.completed_at)
        )
    )
    policy = policy_for(patient.clinic)
    flare_morning = False
    if not red:
        flare_morning = _flare_morning(patient, program, since, now, policy)
        if not flare_morning:
            return None
    painful: set[int] | None = set()  # None: every item
    if len(red) >= 2 or flare_morning:
        painful = None
    else:
        session = red[-1]
        ceiling = max(policy.green_ceiling, session.pain_before)
        for result in session.exercises:
            if result.pain_during is not None and result.pain_during > ceiling:
                painful.add(result.program_item_id)
        if not painful:
            painful = None  # the pain came after or next morning: no single item to blame
    items = []
    for item in program.items:
        if painful is not None and item.id not in painful:
            items.append(EasedItem(item, item.exercise, item.dosage(), "", ""))
        elif item.exercise.easier is not None:
            easier = item.exercise.easier
            items.append(
                EasedItem(item, easier, easier.dosage(), "easier", f"Easier: {easier.name}")
            )
        else:
            note = item.exercise.easier_note or "Do about a third less than usual."
            items.append(EasedItem(item, item.exercise, _less_volume(item.dosage()), "less", note))
    flare = len(red) >= 2 or flare_morning
    message = (
        "Your back has had a rough week, so today's session is gentler. "
        "Your therapist has been told and will decide what comes next."
        if flare
        else "Your last session was too much, so we've eased it off. Your therapist has been told."
    )
    previous = program.stage - 1 if len(red) >= 2 and program.stage > 1 else None
    return EasedSession("flare" if flare else "red", message, tuple(items), previous)


def _flare_morning(
    patient: Patient, program: Program, since: datetime, now: datetime, policy: Policy
) -> bool:
    """CLINICAL §5 FLARE: a morning pain in the window ≥ 8 and ≥ 2 above the baseline."""
    worst = db.session.scalar(
        sa.select(sa.func.max(CheckIn.morning_pain)).where(
            CheckIn.patient_id == patient.id,
            CheckIn.recorded_at > since,
            CheckIn.recorded_at <= now + CLOCK_SKEW,
        )
    )
    if worst is None or worst < 8:
        return False
    start = program.episode.start_date
    end = local_midnight(start + timedelta(days=policy.baseline_max_days), patient.timezone)
    readings = [
        Reading(day, value)
        for day, value in db.session.execute(
            sa.select(Session.local_date, Session.pain_before).where(
                Session.patient_id == patient.id, Session.completed_at < end
            )
        )
    ] + [
        Reading(day, value)
        for day, value in db.session.execute(
            sa.select(CheckIn.local_date, CheckIn.morning_pain).where(
                CheckIn.patient_id == patient.id,
                CheckIn.recorded_at < end,
                CheckIn.morning_pain.is_not(None),
            )
        )
    ]
    base = baseline(readings, start, patient.intake_pain, policy)
    return base is not None and worst - base >= 2

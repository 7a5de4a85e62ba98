"""Programs: assign a staged routine, change its stage, pause, suspend and resume it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa

from app import audit
from app.alerts.engine import evaluate_patients
from app.auth.models import User
from app.clinical.adherence import default_weekdays
from app.enums import (
    OPEN_ALERT_STATUSES,
    AlertAction,
    AlertKind,
    AlertStatus,
    ProgramStatus,
    Side,
    StageDirection,
)
from app.errors import ValidationFailed
from app.extensions import db
from app.formatting import dose_label
from app.patient.models import Patient
from app.programs.models import (
    DOSAGE_FIELDS,
    MAX_DISTANCE_M,
    MAX_DURATION_SECONDS,
    MAX_HOLD_SECONDS,
    MAX_REPS,
    MAX_REST_SECONDS,
    MAX_SETS,
    EpisodeOfCare,
    Exercise,
    Program,
    ProgramItem,
    ProgramStatusChange,
    RoutineTemplate,
    ScheduleChange,
    StageChange,
)
from app.programs.queries import current_program
from app.timeutil import local_date, local_midnight

MAX_REASON = 1000


@dataclass(frozen=True)
class Assignment:
    """What a therapist chooses when assigning a program (DESIGN §4)."""

    template: str
    stage: int
    sessions_per_week: int | None = None
    weekdays: tuple[int, ...] | None = None
    start_date: date | None = None
    new_episode: bool = False


def find_template(slug: str, clinic_id: int) -> RoutineTemplate | None:
    return db.session.scalar(
        sa.select(RoutineTemplate)
        .where(
            RoutineTemplate.slug == slug,
            sa.or_(RoutineTemplate.clinic_id.is_(None), RoutineTemplate.clinic_id == clinic_id),
        )
        .order_by(RoutineTemplate.clinic_id.is_(None))
    )


def current_episode(patient: Patient) -> EpisodeOfCare | None:
    return db.session.scalar(
        sa.select(EpisodeOfCare)
        .where(EpisodeOfCare.patient_id == patient.id, EpisodeOfCare.ended_on.is_(None))
        .order_by(EpisodeOfCare.start_date.desc(), EpisodeOfCare.id.desc())
    )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _schedule(
    sessions_per_week: int | None, weekdays: tuple[int, ...] | None, fallback: int
) -> tuple[int, list[int]]:
    if sessions_per_week is not None and (
        not _is_int(sessions_per_week) or not 1 <= sessions_per_week <= 7
    ):
        raise ValidationFailed({"sessions_per_week": "Choose between 1 and 7 sessions a week."})
    if weekdays is not None:
        if not weekdays or any(not _is_int(d) or not 0 <= d <= 6 for d in weekdays):
            raise ValidationFailed(
                {"weekdays": "Pick at least one weekday (0 = Monday … 6 = Sunday)."}
            )
        days = sorted(set(weekdays))
        if len(days) != len(weekdays):
            raise ValidationFailed({"weekdays": "Each weekday can be picked only once."})
        if sessions_per_week is not None and sessions_per_week != len(days):
            raise ValidationFailed(
                {
                    "weekdays": f"{sessions_per_week} sessions a week need {sessions_per_week} "
                    f"weekdays; {len(days)} were picked."
                }
            )
        return len(days), days
    per_week = fallback if sessions_per_week is None else sessions_per_week
    return per_week, list(default_weekdays(per_week))


def assign_program(
    patient: Patient, assignment: Assignment, *, by: User | None, now: datetime
) -> Program:
    """Assign a template at a stage; it replaces the program in force (kept in history).

    The episode of care continues unless `new_episode` is set, which also starts a new baseline
    (DESIGN §2).
    """
    template = find_template(assignment.template, patient.clinic_id)
    if template is None:
        raise ValidationFailed({"template": f"There is no routine called {assignment.template!r}."})
    stage = template.stage(assignment.stage) if _is_int(assignment.stage) else None
    if stage is None:
        numbers = ", ".join(str(s.number) for s in template.stages)
        raise ValidationFailed({"stage": f"Choose one of the stages {numbers}."})
    per_week, weekdays = _schedule(
        assignment.sessions_per_week, assignment.weekdays, stage.sessions_per_week
    )
    today = local_date(now, patient.timezone)
    start = assignment.start_date or today
    if (start - today).days > 60 or (today - start).days > 14:
        raise ValidationFailed(
            {"start_date": "Choose a start date from 2 weeks ago to 2 months ahead."}
        )

    previous = current_program(patient)
    if previous is not None:
        end_program(previous, by=by, now=now, reason="Replaced by a new program")
    episode = current_episode(patient)
    if episode is not None and assignment.new_episode:
        episode.ended_on = today
        episode = None
    if episode is None:
        episode = EpisodeOfCare(
            patient=patient,
            start_date=start,
            created_by_id=by.id if by else None,
            created_at=now,
        )
        db.session.add(episode)

    # A program may start on an earlier day; its items count from that day's local midnight.
    since = min(now, local_midnight(start, patient.timezone))
    program = Program(
        patient=patient,
        episode=episode,
        template=template,
        stage=stage.number,
        sessions_per_week=per_week,
        weekdays=weekdays,
        start_date=start,
        stage_started_on=start,
        status=ProgramStatus.ACTIVE,
        created_by_id=by.id if by else None,
        created_at=now,
    )
    db.session.add(program)
    for position, link in enumerate(stage.default_exercises, start=1):
        exercise = link.exercise
        program.all_items.append(
            ProgramItem(
                exercise=exercise, position=position, added_at=since, **exercise.copy_dosage()
            )
        )
    program.stage_changes.append(
        StageChange(
            from_stage=previous.stage if previous else None,
            to_stage=stage.number,
            direction=StageDirection.ASSIGN,
            reason="Program assigned",
            effective_date=start,
            changed_by_id=by.id if by else None,
            created_at=now,
        )
    )
    program.schedule_changes.append(
        ScheduleChange(
            sessions_per_week=per_week,
            weekdays=weekdays,
            effective_date=start,
            changed_by_id=by.id if by else None,
            created_at=now,
        )
    )
    program.status_changes.append(
        ProgramStatusChange(
            status=ProgramStatus.ACTIVE,
            reason="Program assigned",
            local_date=start,
            changed_by_id=by.id if by else None,
            created_at=now,
        )
    )
    db.session.flush()
    audit.record(
        "program.assign",
        actor=by,
        patient=patient,
        object_type="program",
        object_id=program.id,
        now=now,
    )
    evaluate_patients([patient.id], now)
    return program


def end_program(program: Program, *, by: User | None, now: datetime, reason: str) -> None:
    _set_status(program, ProgramStatus.ENDED, by=by, now=now, reason=reason)
    program.ended_at = now


def _set_status(
    program: Program, status: ProgramStatus, *, by: User | None, now: datetime, reason: str
) -> None:
    """Change the status with a history row; assign_program refreshes the summary itself."""
    program.status = status
    program.status_changes.append(
        ProgramStatusChange(
            status=status,
            reason=reason[:MAX_REASON],
            local_date=local_date(now, program.patient.timezone),
            changed_by_id=by.id if by else None,
            created_at=now,
        )
    )


def _change_status(
    program: Program,
    status: ProgramStatus,
    action: str,
    *,
    by: User | None,
    now: datetime,
    reason: str,
) -> None:
    """Set a new status with its history row, audit it and refresh the read model."""
    _set_status(program, status, by=by, now=now, reason=reason)
    audit.record(
        action,
        actor=by,
        patient=program.patient,
        object_type="program",
        object_id=program.id,
        now=now,
    )
    evaluate_patients([program.patient_id], now)


def pause_program(program: Program, *, by: User | None, now: datetime, reason: str) -> None:
    """Pause an active program (a therapist's choice, or an urgent red flag)."""
    if lock_program(program).status is ProgramStatus.ACTIVE:
        _change_status(
            program, ProgramStatus.PAUSED, "program.pause", by=by, now=now, reason=reason
        )


def suspend_program(program: Program, *, now: datetime, reason: str) -> None:
    """Suspend a program after an emergency red flag; only a therapist resumes it."""
    if lock_program(program).status not in (ProgramStatus.SUSPENDED, ProgramStatus.ENDED):
        _change_status(
            program, ProgramStatus.SUSPENDED, "program.suspend", by=None, now=now, reason=reason
        )


def resume_program(program: Program, *, by: User, now: datetime, reason: str = "") -> None:
    """Resume a paused or suspended program; audited (DESIGN §2)."""
    if lock_program(program).status not in (ProgramStatus.PAUSED, ProgramStatus.SUSPENDED):
        raise ValidationFailed({"status": "Only a paused or suspended program can be resumed."})
    _change_status(
        program, ProgramStatus.ACTIVE, "program.resume", by=by, now=now, reason=reason or "Resumed"
    )


# CLINICAL §8: the discharge questionnaires stay due this long after the episode ended.
DISCHARGE_MEASURES_DAYS = 14


def discharge_program(program: Program, *, by: User, now: datetime, reason: str = "") -> None:
    """Discharge the patient: end the program and its episode of care (CLINICAL §8).

    The measures due at discharge (PSFS and any disability measure) then fall due for the
    patient, for ``DISCHARGE_MEASURES_DAYS``; no alert is raised on an ended program.
    """
    if lock_program(program).status is ProgramStatus.ENDED:
        raise ValidationFailed({"status": "This program has already ended."})
    _change_status(
        program,
        ProgramStatus.ENDED,
        "program.discharge",
        by=by,
        now=now,
        reason=reason or "Discharged",
    )
    program.ended_at = now
    episode = db.session.get(EpisodeOfCare, program.episode_id)
    if episode is not None and episode.ended_on is None:
        episode.ended_on = local_date(now, program.patient.timezone)


def recently_discharged(patient: Patient, today: date) -> EpisodeOfCare | None:
    """The episode the patient was discharged from in the last days, if none is open since."""
    if current_episode(patient) is not None:
        return None
    return db.session.scalar(
        sa.select(EpisodeOfCare)
        .where(
            EpisodeOfCare.patient_id == patient.id,
            EpisodeOfCare.ended_on.is_not(None),
            EpisodeOfCare.ended_on >= today - timedelta(days=DISCHARGE_MEASURES_DAYS),
        )
        .order_by(EpisodeOfCare.ended_on.desc(), EpisodeOfCare.id.desc())
        .limit(1)
    )


def lock_program(program: Program) -> Program:
    """Take the program's row lock, so changes to one program happen one after another.

    DESIGN §6: on PostgreSQL a second stage, status or item change waits for the first to
    commit and then sees its result (SQLite's BEGIN IMMEDIATE already serialises writers).
    """
    db.session.execute(sa.select(Program.id).where(Program.id == program.id).with_for_update())
    db.session.refresh(program)
    return program


@dataclass(frozen=True)
class StagePlanItem:
    """One exercise of the target stage's session: carried over (with its dose) or new."""

    exercise: Exercise
    dosage: dict[str, Any]
    carried_over: bool

    @property
    def dose(self) -> str:
        """The dose in words, as the builder and the player say it."""
        return dose_label(SimpleNamespace(**self.dosage, exercise=self.exercise))


@dataclass(frozen=True)
class StagePlan:
    """What a stage change does to the program, for a preview and for the change itself."""

    to_stage: int
    items: tuple[StagePlanItem, ...]
    dropped: tuple[Exercise, ...]
    name: str = ""


def stage_plan(program: Program, to_stage: int) -> StagePlan | None:
    """Return the session of `to_stage` as it would be: carried-over exercises keep the
    therapist's dosage (DESIGN §4), new ones start at the library's default dose."""
    stage = program.template.stage(to_stage) if program.template and _is_int(to_stage) else None
    if stage is None:
        return None
    current = {item.exercise_id: item for item in program.items}
    items = []
    for link in stage.default_exercises:
        kept = current.get(link.exercise_id)
        source = kept if kept is not None else link.exercise
        items.append(StagePlanItem(link.exercise, source.copy_dosage(), kept is not None))
    staying = {link.exercise_id for link in stage.default_exercises}
    dropped = tuple(item.exercise for item in program.items if item.exercise_id not in staying)
    return StagePlan(to_stage, tuple(items), dropped, stage.name)


def change_stage(
    program: Program, to_stage: int, *, reason: str, by: User | None, now: datetime
) -> StageChange:
    """Advance or regress a program to another stage's default session, with a reason.

    Exercises that carry over keep the therapist's dosage; an advance resolves an open
    READY_TO_PROGRESS alert as "progressed" (DESIGN §4).
    """
    lock_program(program)
    plan = stage_plan(program, to_stage)
    errors: dict[str, str] = {}
    if plan is None:
        errors["stage"] = "Choose one of the stages of this routine."
    elif to_stage == program.stage:
        errors["stage"] = f"The program is already at stage {to_stage}."
    if not reason or not reason.strip():
        errors["reason"] = "Give a reason for the change."
    elif len(reason) > MAX_REASON:
        errors["reason"] = f"Keep the reason under {MAX_REASON} characters."
    if program.status is ProgramStatus.ENDED:
        errors["stage"] = "This program has ended."
    if errors:
        raise ValidationFailed(errors)
    assert plan is not None
    for item in program.items:
        item.removed_at = now
    next_position = max((i.position for i in program.all_items), default=0) + 1
    for offset, planned in enumerate(plan.items):
        program.all_items.append(
            ProgramItem(
                exercise=planned.exercise,
                position=next_position + offset,
                added_at=now,
                **planned.dosage,
            )
        )
    advance = to_stage > program.stage
    change = StageChange(
        from_stage=program.stage,
        to_stage=to_stage,
        direction=StageDirection.ADVANCE if advance else StageDirection.REGRESS,
        reason=reason.strip(),
        effective_date=local_date(now, program.patient.timezone),
        changed_by_id=by.id if by else None,
        created_at=now,
    )
    program.stage_changes.append(change)
    program.stage = to_stage
    program.stage_started_on = change.effective_date
    db.session.flush()
    db.session.expire(program, ["items"])
    audit.record(
        "program.stage",
        actor=by,
        patient=program.patient,
        object_type="program",
        object_id=program.id,
        details={"direction": "advance" if to_stage > change.from_stage else "regress"},
        now=now,
    )
    if advance:
        _resolve_ready_to_progress(program, by, now)
    evaluate_patients([program.patient_id], now)
    return change


def _resolve_ready_to_progress(program: Program, by: User | None, now: datetime) -> None:
    """Close an open READY_TO_PROGRESS as "progressed": the therapist has acted on it."""
    from app.alerts.models import Alert

    db.session.execute(
        sa.update(Alert)
        .where(
            Alert.patient_id == program.patient_id,
            Alert.kind == AlertKind.READY_TO_PROGRESS,
            Alert.status.in_(OPEN_ALERT_STATUSES),
        )
        .values(
            status=AlertStatus.RESOLVED,
            action=AlertAction.PROGRESSED,
            note=f"Advanced to stage {program.stage}.",
            resolved_at=now,
            resolved_by_id=by.id if by else None,
            snoozed_until=None,
            updated_at=now,
        )
        .execution_options(synchronize_session="fetch")
    )


# ---------------------------------------------------------------------------- dosage and items

DOSAGE_LIMITS = {
    "sets": (1, MAX_SETS),
    "reps": (1, MAX_REPS),
    "hold_seconds": (1, MAX_HOLD_SECONDS),
    "duration_seconds": (1, MAX_DURATION_SECONDS),
    "distance_m": (1, MAX_DISTANCE_M),
    "rest_seconds": (0, MAX_REST_SECONDS),
}
UNITS = {
    "sets": "sets",
    "reps": "repetitions",
    "hold_seconds": "seconds",
    "duration_seconds": "seconds",
    "distance_m": "metres",
    "rest_seconds": "seconds",
}
AMOUNT_FIELDS = ("reps", "reps_per_set", "hold_seconds", "duration_seconds", "distance_m")


def check_dosage(dosage: dict[str, Any]) -> dict[str, Any]:
    """Validate a complete dosage (DESIGN §2 fields); return it normalised or raise."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for name, (low, high) in DOSAGE_LIMITS.items():
        value = dosage.get(name)
        if value is None:
            if name in ("sets", "rest_seconds"):
                errors[name] = f"Give the number of {UNITS[name]}."
            clean[name] = None
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            errors[name] = f"Use a whole number from {low} to {high} {UNITS[name]}."
        clean[name] = value
    pyramid = dosage.get("reps_per_set")
    if pyramid in (None, [], ()):
        clean["reps_per_set"] = None
    elif not isinstance(pyramid, list | tuple) or not all(
        isinstance(r, int) and not isinstance(r, bool) and 1 <= r <= MAX_REPS for r in pyramid
    ):
        errors["reps_per_set"] = f"List whole numbers of repetitions from 1 to {MAX_REPS}."
    elif len(pyramid) > MAX_SETS:
        errors["reps_per_set"] = f"Use at most {MAX_SETS} sets."
    else:
        clean["reps_per_set"] = list(pyramid)
        # One rule for the builder page and the API: a pyramid names every set.
        if dosage.get("sets") is None:
            errors.pop("sets", None)
            clean["sets"] = len(pyramid)
        elif "sets" not in errors and clean["sets"] != len(pyramid):
            errors["sets"] = (
                f"{len(pyramid)} repetitions per set were given for {clean['sets']} sets."
            )
        if clean.get("reps") is not None:
            errors["reps"] = "Give either repetitions or repetitions per set, not both."
    try:
        clean["side"] = Side(dosage.get("side") or Side.BOTH.value)
    except ValueError:
        errors["side"] = "Choose left, right, both or alternating."
    load = (dosage.get("load") or "").strip()
    if len(load) > 80:
        errors["load"] = "Keep the load note under 80 characters."
    clean["load"] = load or None
    if not errors and all(clean.get(name) in (None, []) for name in AMOUNT_FIELDS):
        errors["reps"] = "Give repetitions, a hold, a duration or a distance."
    if errors:
        raise ValidationFailed(errors)
    return clean


def update_item_dosage(
    item: ProgramItem, changes: dict[str, Any], *, by: User, now: datetime
) -> ProgramItem:
    """Change some dosage fields of an item; the others keep their values."""
    lock_program(item.program)
    db.session.refresh(item)
    if item.removed_at is not None or item.program.status is ProgramStatus.ENDED:
        raise ValidationFailed({"item": "This exercise is no longer part of an active program."})
    unknown = set(changes) - set(DOSAGE_FIELDS)
    if unknown:
        raise ValidationFailed(dict.fromkeys(sorted(unknown), "Not a dosage field."))
    current = {field: getattr(item, field) for field in DOSAGE_FIELDS}
    current["side"] = item.side.value
    merged = {**current, **changes}
    if "reps_per_set" in changes and changes["reps_per_set"] and "reps" not in changes:
        merged["reps"] = None
    if changes.get("reps_per_set") and "sets" not in changes:
        merged["sets"] = len(changes["reps_per_set"])
    if "reps" in changes and changes["reps"] is not None and "reps_per_set" not in changes:
        merged["reps_per_set"] = None
    clean = check_dosage(merged)
    before = item.dosage()
    for field in DOSAGE_FIELDS:
        setattr(item, field, clean[field])
    db.session.flush()
    audit.record(
        "program.dosage",
        actor=by,
        patient=item.program.patient,
        object_type="program_item",
        object_id=item.id,
        details={"changed": sorted(k for k, v in item.dosage().items() if before.get(k) != v)},
        now=now,
    )
    return item


def add_item(program: Program, exercise: Exercise, *, by: User, now: datetime) -> ProgramItem:
    """Add a library exercise at the end of the program with its default dosage."""
    lock_program(program)
    if program.status is ProgramStatus.ENDED:
        raise ValidationFailed({"program": "This program has ended."})
    if exercise.archived_at is not None or exercise.clinic_id not in (
        None,
        program.patient.clinic_id,
    ):
        raise ValidationFailed({"exercise_id": "Choose an exercise from the library."})
    position = max((i.position for i in program.all_items), default=0) + 1
    item = ProgramItem(exercise=exercise, position=position, added_at=now, **exercise.copy_dosage())
    program.all_items.append(item)
    db.session.flush()
    db.session.expire(program, ["items"])
    audit.record(
        "program.item_add",
        actor=by,
        patient=program.patient,
        object_type="program_item",
        object_id=item.id,
        details={"exercise": exercise.slug},
        now=now,
    )
    return item


def remove_item(item: ProgramItem, *, by: User, now: datetime) -> None:
    """Take an exercise out of the program; past sessions keep their results."""
    program = lock_program(item.program)
    db.session.refresh(item)
    if item.removed_at is not None:
        return
    if len(program.items) <= 1:
        raise ValidationFailed({"item": "A program needs at least one exercise."})
    item.removed_at = now
    db.session.flush()
    db.session.expire(program, ["items"])
    audit.record(
        "program.item_remove",
        actor=by,
        patient=program.patient,
        object_type="program_item",
        object_id=item.id,
        now=now,
    )


def move_item(item: ProgramItem, offset: int, *, by: User, now: datetime) -> None:
    """Move an exercise up (-1) or down (+1) in the session order."""
    lock_program(item.program)
    items = list(item.program.items)
    index = items.index(item)
    target = index + offset
    if offset not in (-1, 1) or not 0 <= target < len(items):
        return
    other = items[target]
    item.position, other.position = other.position, item.position
    db.session.flush()
    db.session.expire(item.program, ["items"])
    audit.record(
        "program.item_move",
        actor=by,
        patient=item.program.patient,
        object_type="program_item",
        object_id=item.id,
        details={"offset": offset},
        now=now,
    )


def change_schedule(
    program: Program,
    *,
    sessions_per_week: int | None,
    weekdays: tuple[int, ...] | None,
    effective: date | None,
    by: User,
    now: datetime,
) -> ScheduleChange:
    """Change sessions per week and weekdays from a date on (kept as history, CLINICAL §3)."""
    lock_program(program)
    per_week, days = _schedule(sessions_per_week, weekdays, program.sessions_per_week)
    today = local_date(now, program.patient.timezone)
    effective = effective or today
    if effective < today:
        raise ValidationFailed({"effective_date": "A schedule change cannot start in the past."})
    change = ScheduleChange(
        sessions_per_week=per_week,
        weekdays=days,
        effective_date=effective,
        changed_by_id=by.id,
        created_at=now,
    )
    program.schedule_changes.append(change)
    # The program holds the latest plan; the history says from which day each one counts.
    program.sessions_per_week = per_week
    program.weekdays = days
    db.session.flush()
    audit.record(
        "program.schedule",
        actor=by,
        patient=program.patient,
        object_type="program",
        object_id=program.id,
        now=now,
    )
    evaluate_patients([program.patient_id], now)
    return change

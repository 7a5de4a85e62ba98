"""Programs: assign a staged routine, change its stage, pause, suspend and resume it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from app import audit
from app.auth.models import User
from app.clinical.adherence import default_weekdays
from app.enums import ProgramStatus, StageDirection
from app.errors import ValidationFailed
from app.extensions import db
from app.patient.models import Patient
from app.programs.models import (
    EpisodeOfCare,
    Program,
    ProgramItem,
    ProgramStatusChange,
    RoutineTemplate,
    ScheduleChange,
    StageChange,
)
from app.timeutil import local_date

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


def current_program(patient: Patient) -> Program | None:
    """Return the program in force (active, paused or suspended), if any."""
    return db.session.scalar(
        sa.select(Program).where(
            Program.patient_id == patient.id, Program.status != ProgramStatus.ENDED
        )
    )


def current_episode(patient: Patient) -> EpisodeOfCare | None:
    return db.session.scalar(
        sa.select(EpisodeOfCare)
        .where(EpisodeOfCare.patient_id == patient.id, EpisodeOfCare.ended_on.is_(None))
        .order_by(EpisodeOfCare.start_date.desc(), EpisodeOfCare.id.desc())
    )


def _schedule(
    sessions_per_week: int | None, weekdays: tuple[int, ...] | None, fallback: int
) -> tuple[int, list[int]]:
    errors: dict[str, str] = {}
    if weekdays is not None:
        days = sorted(set(weekdays))
        if not days or any(not isinstance(d, int) or not 0 <= d <= 6 for d in days):
            errors["weekdays"] = "Pick at least one weekday (0 = Monday … 6 = Sunday)."
        elif len(days) != len(weekdays):
            errors["weekdays"] = "Each weekday can be picked only once."
        elif sessions_per_week is not None and sessions_per_week != len(days):
            errors["weekdays"] = (
                f"{sessions_per_week} sessions a week need {sessions_per_week} weekdays; "
                f"{len(days)} were picked."
            )
        if errors:
            raise ValidationFailed(errors)
        return len(days), days
    per_week = fallback if sessions_per_week is None else sessions_per_week
    if not isinstance(per_week, int) or not 1 <= per_week <= 7:
        raise ValidationFailed({"sessions_per_week": "Choose between 1 and 7 sessions a week."})
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
    stage = template.stage(assignment.stage) if isinstance(assignment.stage, int) else None
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
            patient=patient, start_date=start, created_by_id=by.id if by else None, created_at=now
        )
        db.session.add(episode)

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
            ProgramItem(exercise=exercise, position=position, **exercise.copy_dosage())
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
        details={"template": template.slug, "stage": stage.number, "weekdays": weekdays},
        now=now,
    )
    return program


def end_program(program: Program, *, by: User | None, now: datetime, reason: str) -> None:
    _set_status(program, ProgramStatus.ENDED, by=by, now=now, reason=reason)
    program.ended_at = now


def _set_status(
    program: Program, status: ProgramStatus, *, by: User | None, now: datetime, reason: str
) -> None:
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


def pause_program(program: Program, *, by: User | None, now: datetime, reason: str) -> None:
    """Pause an active program (a therapist's choice, or an urgent red flag)."""
    if program.status is not ProgramStatus.ACTIVE:
        return
    _set_status(program, ProgramStatus.PAUSED, by=by, now=now, reason=reason)
    audit.record(
        "program.pause",
        actor=by,
        patient=program.patient,
        object_type="program",
        object_id=program.id,
        details={"reason": reason},
        now=now,
    )


def suspend_program(program: Program, *, now: datetime, reason: str) -> None:
    """Suspend a program after an emergency red flag; only a therapist resumes it."""
    if program.status in (ProgramStatus.SUSPENDED, ProgramStatus.ENDED):
        return
    _set_status(program, ProgramStatus.SUSPENDED, by=None, now=now, reason=reason)
    audit.record(
        "program.suspend",
        patient=program.patient,
        object_type="program",
        object_id=program.id,
        details={"reason": reason},
        now=now,
    )


def resume_program(program: Program, *, by: User, now: datetime, reason: str = "") -> None:
    """Resume a paused or suspended program; audited (DESIGN §2)."""
    if program.status not in (ProgramStatus.PAUSED, ProgramStatus.SUSPENDED):
        raise ValidationFailed({"status": "Only a paused or suspended program can be resumed."})
    _set_status(program, ProgramStatus.ACTIVE, by=by, now=now, reason=reason or "Resumed")
    audit.record(
        "program.resume",
        actor=by,
        patient=program.patient,
        object_type="program",
        object_id=program.id,
        details={"reason": reason},
        now=now,
    )


def change_stage(
    program: Program, to_stage: int, *, reason: str, by: User | None, now: datetime
) -> StageChange:
    """Advance or regress a program to another stage's default session, with a reason."""
    template = program.template
    stage = template.stage(to_stage) if template and isinstance(to_stage, int) else None
    errors: dict[str, str] = {}
    if stage is None:
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
    assert stage is not None
    for item in program.items:
        item.removed_at = now
    next_position = max((i.position for i in program.all_items), default=0) + 1
    for offset, link in enumerate(stage.default_exercises):
        program.all_items.append(
            ProgramItem(
                exercise=link.exercise,
                position=next_position + offset,
                **link.exercise.copy_dosage(),
            )
        )
    change = StageChange(
        from_stage=program.stage,
        to_stage=to_stage,
        direction=StageDirection.ADVANCE if to_stage > program.stage else StageDirection.REGRESS,
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
        details={"from": change.from_stage, "to": to_stage, "reason": change.reason},
        now=now,
    )
    return change

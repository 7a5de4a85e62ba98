"""Read-side queries for the patient's own pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.clinical.adherence import ScheduleChange, StatusChange, scheduled_days
from app.enums import ProgramStatus
from app.extensions import db
from app.patient.models import Patient, Session
from app.patient.services import red_flags_due
from app.programs.models import Program, ProgramItem
from app.timeutil import local_date

# A rough pace for the estimate of a session's length.
SECONDS_PER_REP = 4


@dataclass(frozen=True)
class TodayView:
    today: date
    program: Program | None
    status: str  # active | paused | suspended | none
    stage_name: str | None
    items: list[ProgramItem]
    scheduled_today: bool
    done_today: bool
    week_done: int
    week_planned: int
    streak: int
    next_session: date | None
    minutes: int
    red_flags_due: tuple[str, ...]


def item_seconds(item: ProgramItem) -> int:
    """Estimate how long one item takes, rests included."""
    if item.duration_seconds:
        work = item.duration_seconds * item.sets
    elif item.distance_m:
        work = item.sets * max(20, item.distance_m)  # about a metre a second, carrying
    else:
        reps = sum(item.reps_per_set) if item.reps_per_set else item.sets * (item.reps or 1)
        work = reps * max(SECONDS_PER_REP, (item.hold_seconds or 0) + 2)
    if item.side.value in ("both", "alternating") and _per_side(item):
        work *= 2
    return work + item.rest_seconds * max(0, item.sets - 1)


def _per_side(item: ProgramItem) -> bool:
    return "each side" in (item.exercise.dose_text or "")


def _calendar(program: Program) -> tuple[list[ScheduleChange], list[StatusChange]]:
    schedule = [
        ScheduleChange(change.effective_date, tuple(change.weekdays))
        for change in program.schedule_changes
    ]
    statuses = [StatusChange(change.local_date, change.status) for change in program.status_changes]
    return schedule, statuses


def today_view(patient: Patient, now: datetime) -> TodayView:
    """Return everything the patient's home page shows, in a handful of queries."""
    today = local_date(now, patient.timezone)
    program = db.session.scalar(
        sa.select(Program)
        .where(Program.patient_id == patient.id, Program.status != ProgramStatus.ENDED)
        .options(
            selectinload(Program.items).selectinload(ProgramItem.exercise),
            selectinload(Program.schedule_changes),
            selectinload(Program.status_changes),
            selectinload(Program.template),
        )
    )
    due = red_flags_due(patient, now)
    if program is None:
        return TodayView(today, None, "none", None, [], False, False, 0, 0, 0, None, 0, due)

    schedule, statuses = _calendar(program)
    week_start = today - timedelta(days=today.weekday())
    history_start = min(week_start, today - timedelta(days=60))
    done_days = set(
        db.session.scalars(
            sa.select(Session.local_date).where(
                Session.patient_id == patient.id,
                Session.local_date >= history_start,
                Session.completed.is_(True),
            )
        )
    )
    active = program.status is ProgramStatus.ACTIVE
    scheduled_today = active and today >= program.start_date and today.weekday() in program.weekdays
    # Today is not yet on the plan's calendar history (a pause takes effect the next day),
    # so the week's plan counts the days to come on the current weekdays while active.
    week_end = week_start + timedelta(days=6)
    past = scheduled_days(schedule, statuses, week_start, min(today, week_end))
    to_come = [
        week_start + timedelta(days=offset)
        for offset in range((today - week_start).days + 1, 7)
        if active and (week_start + timedelta(days=offset)).weekday() in program.weekdays
    ]
    week_planned = len(past) + len(to_come)
    week_done = len({day for day in done_days if week_start <= day <= week_end})

    streak = 0
    last = today if today in done_days else today - timedelta(days=1)
    for day in reversed(scheduled_days(schedule, statuses, history_start, last)):
        if day not in done_days:
            break
        streak += 1

    next_session = None
    if active:
        for offset in range(1, 8):
            day = today + timedelta(days=offset)
            if day >= program.start_date and day.weekday() in program.weekdays:
                next_session = day
                break
    stage = program.template.stage(program.stage) if program.template else None
    return TodayView(
        today=today,
        program=program,
        status=program.status.value,
        stage_name=stage.name if stage else None,
        items=list(program.items),
        scheduled_today=scheduled_today,
        done_today=today in done_days,
        week_done=week_done,
        week_planned=week_planned,
        streak=streak,
        next_session=next_session,
        minutes=max(1, round(sum(item_seconds(i) for i in program.items) / 60)),
        red_flags_due=due,
    )

"""Read-side queries for the patient's own pages."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.access import patient_scope
from app.alerts.models import Alert
from app.clinical.adherence import ScheduleChange, StatusChange, scheduled_days
from app.clinical.pain import PainChange, Reading, baseline, current, pain_change
from app.enums import OPEN_ALERT_STATUSES, AlertKind, ProgramStatus, Side
from app.extensions import db
from app.formatting import number
from app.patient.models import CheckIn, Patient, Session, SessionExercise
from app.patient.services import EasedSession, eased_session, policy_for, red_flags_due
from app.programs.models import (
    Exercise,
    Program,
    ProgramItem,
    RoutineTemplate,
    TemplateStage,
)
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
    checked_in_today: bool = False
    eased: EasedSession | None = None
    messages: tuple[str, ...] = ()


# CLINICAL §5, "patient sees": plain words for the alerts open about this patient.
PATIENT_MESSAGES: dict[AlertKind, str] = {
    AlertKind.RED_FLAG_PROMPT: "Your therapist will review the symptom you reported.",
    AlertKind.PERSISTENT_PAIN: "Your therapist will review your plan with you.",
    AlertKind.NON_RESPONSE_6W: "Your therapist will review your plan with you.",
    AlertKind.LOW_ADHERENCE: (
        "A short session still counts. Even a few minutes today helps your back."
    ),
}


def patient_messages(patient: Patient) -> tuple[str, ...]:
    """Return the messages of the patient's open alerts, each once, in table order."""
    kinds = set(
        db.session.scalars(
            sa.select(Alert.kind).where(
                Alert.patient_id == patient.id, Alert.status.in_(OPEN_ALERT_STATUSES)
            )
        )
    )
    return tuple(dict.fromkeys(PATIENT_MESSAGES[k] for k in PATIENT_MESSAGES if k in kinds))


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
    checked_in = (
        db.session.scalar(
            sa.select(CheckIn.id)
            .where(
                CheckIn.patient_id == patient.id,
                CheckIn.local_date == today,
                CheckIn.morning_pain.is_not(None),
            )
            .limit(1)
        )
        is not None
    )
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
        checked_in_today=checked_in,
        eased=eased_session(patient, program, now=now) if active else None,
        messages=patient_messages(patient),
    )


# ---------------------------------------------------------------------------- player


@dataclass(frozen=True)
class PlayerStep:
    """One exercise as the player shows it (the eased version when there is one)."""

    item: ProgramItem
    exercise: Exercise
    dosage: dict
    change: str
    note: str
    per_side: bool
    seconds: int


@dataclass(frozen=True)
class PlayerView:
    program: Program
    stage_name: str | None
    steps: list[PlayerStep]
    eased: EasedSession | None
    minutes: int


class _Dose:
    """Give a dosage dict the attribute shape the `dose` filter and `item_seconds` read."""

    def __init__(self, dosage: dict, exercise: Exercise) -> None:
        self.__dict__.update(dosage)
        self.side = Side(dosage["side"])
        self.exercise = exercise


def own_program(patient: Patient, program_id: int) -> Program | None:
    """Return the patient's program in force with this id; another's or an ended one is None."""
    return db.session.scalar(
        sa.select(Program)
        .join(Patient, Patient.id == Program.patient_id)
        .where(
            Program.id == program_id,
            Program.patient_id == patient.id,
            Program.status != ProgramStatus.ENDED,
            patient_scope(patient.user),
        )
        .options(
            selectinload(Program.items).selectinload(ProgramItem.exercise),
            selectinload(Program.template),
            selectinload(Program.stage_changes),
        )
    )


def player_view(patient: Patient, program: Program, now: datetime) -> PlayerView:
    eased = eased_session(patient, program, now=now)
    steps = []
    if eased is not None:
        pairs = [(e.item, e.exercise, e.dosage, e.change, e.note) for e in eased.items]
    else:
        pairs = [(i, i.exercise, i.dosage(), "", "") for i in program.items]
    for item, exercise, dosage, change, note in pairs:
        shaped = _Dose(dosage, exercise)
        steps.append(
            PlayerStep(
                item=item,
                exercise=exercise,
                dosage=dosage,
                change=change,
                note=note,
                per_side="each side" in (exercise.dose_text or ""),
                seconds=item_seconds(shaped),  # type: ignore[arg-type]
            )
        )
    stage = program.template.stage(program.stage) if program.template else None
    return PlayerView(
        program=program,
        stage_name=stage.name if stage else None,
        steps=steps,
        eased=eased,
        minutes=max(1, round(sum(step.seconds for step in steps) / 60)),
    )


def dose_of(dosage: dict, exercise: Exercise) -> object:
    """Wrap a dosage dict so templates can pass it to the `dose` filter."""
    return _Dose(dosage, exercise)


def find_session(patient: Patient, client_id: str) -> Session | None:
    try:
        key = str(uuid.UUID(str(client_id)))
    except ValueError:
        return None
    return db.session.scalar(
        sa.select(Session)
        .where(Session.patient_id == patient.id, Session.client_id == key)
        .options(
            selectinload(Session.exercises)
            .selectinload(SessionExercise.program_item)
            .selectinload(ProgramItem.exercise)
        )
    )


def find_check_in(patient: Patient, client_id: str) -> CheckIn | None:
    try:
        key = str(uuid.UUID(str(client_id)))
    except ValueError:
        return None
    return db.session.scalar(
        sa.select(CheckIn).where(CheckIn.patient_id == patient.id, CheckIn.client_id == key)
    )


def current_program_of(patient: Patient) -> Program | None:
    return db.session.scalar(
        sa.select(Program).where(
            Program.patient_id == patient.id, Program.status != ProgramStatus.ENDED
        )
    )


# ---------------------------------------------------------------------------- progress


@dataclass(frozen=True)
class ChartPoint:
    day: date
    value: Fraction
    x: float
    y: float


@dataclass(frozen=True)
class WeekRow:
    start: date
    done: int
    planned: int


@dataclass(frozen=True)
class ProgressView:
    program: Program | None
    stage_name: str | None
    stage_aim: str
    next_stage: TemplateStage | None
    days_in_stage: int
    change: PainChange | None
    sentence: str
    points: list[ChartPoint]
    polyline: str
    baseline_y: float | None
    weeks: list[WeekRow]
    week_bar_max: int
    readings: int


CHART_W, CHART_H, CHART_PAD = 320, 160, 24


def _y(value: Fraction | float) -> float:
    return round(CHART_PAD / 2 + (10 - float(value)) / 10 * (CHART_H - CHART_PAD), 1)


def _readings(patient: Patient, since: date) -> list[Reading]:
    """Resting-pain readings (CLINICAL §1): sessions' pain before and morning pains."""
    rows = db.session.execute(
        sa.select(Session.local_date, Session.pain_before).where(
            Session.patient_id == patient.id, Session.local_date >= since
        )
    ).all()
    rows += db.session.execute(
        sa.select(CheckIn.local_date, CheckIn.morning_pain).where(
            CheckIn.patient_id == patient.id,
            CheckIn.local_date >= since,
            CheckIn.morning_pain.is_not(None),
        )
    ).all()
    return [Reading(day, value) for day, value in rows]


def progress_view(patient: Patient, now: datetime, weeks: int = 8) -> ProgressView:
    """Return the resting-pain trend, sessions per week and the stage, for /progress."""
    today = local_date(now, patient.timezone)
    program = db.session.scalar(
        sa.select(Program)
        .where(Program.patient_id == patient.id, Program.status != ProgramStatus.ENDED)
        .options(
            selectinload(Program.schedule_changes),
            selectinload(Program.status_changes),
            selectinload(Program.template).selectinload(RoutineTemplate.stages),
            selectinload(Program.episode),
        )
    )
    if program is None:
        return ProgressView(None, None, "", None, 0, None, "", [], "", None, [], 1, 0)
    policy = policy_for(patient.clinic)
    start = program.episode.start_date
    readings = _readings(patient, start)
    base = baseline(readings, start, patient.intake_pain, policy)
    now_pain = current(readings, today, policy)
    change = pain_change(base, now_pain, policy)
    span_weeks = max(0, (today - start).days) // 7
    if base is not None and now_pain is not None:
        over = f"{span_weeks} week{'' if span_weeks == 1 else 's'}" if span_weeks else "a week"
        sentence = f"Pain {number(base)} → {number(now_pain)} over {over}."
    elif base is not None:
        sentence = (
            f"Pain at the start: {number(base)}. Rate your pain before each session and each "
            "morning to see the trend."
        )
    else:
        sentence = (
            "Not enough pain ratings yet: rate your pain before each session and each morning."
        )

    # Daily means of the readings of the last `weeks` weeks, for the chart.
    chart_start = max(start, today - timedelta(days=7 * weeks - 1))
    by_day: dict[date, list[int]] = {}
    for reading in readings:
        if chart_start <= reading.local_date <= today:
            by_day.setdefault(reading.local_date, []).append(reading.value)
    span = max(1, (today - chart_start).days)
    points = []
    for day in sorted(by_day):
        value = Fraction(sum(by_day[day]), len(by_day[day]))
        x = round(CHART_PAD + (day - chart_start).days / span * (CHART_W - 2 * CHART_PAD), 1)
        points.append(ChartPoint(day, value, x, _y(value)))
    polyline = " ".join(f"{p.x},{p.y}" for p in points)

    schedule, statuses = _calendar(program)
    done_days = set(
        db.session.scalars(
            sa.select(Session.local_date).where(
                Session.patient_id == patient.id,
                Session.local_date >= today - timedelta(days=7 * 6),
                Session.completed.is_(True),
            )
        )
    )
    this_monday = today - timedelta(days=today.weekday())
    rows = []
    for back in range(5, -1, -1):
        monday = this_monday - timedelta(weeks=back)
        if monday + timedelta(days=6) < start:
            continue
        sunday = monday + timedelta(days=6)
        planned = len(scheduled_days(schedule, statuses, monday, min(sunday, today)))
        if monday == this_monday and program.status is ProgramStatus.ACTIVE:
            planned += sum(
                1
                for offset in range((today - monday).days + 1, 7)
                if (monday + timedelta(days=offset)).weekday() in program.weekdays
            )
        done = len({d for d in done_days if monday <= d <= sunday})
        rows.append(WeekRow(monday, done, planned))

    template = program.template
    stage = template.stage(program.stage) if template else None
    next_stage = template.stage(program.stage + 1) if template else None
    return ProgressView(
        program=program,
        stage_name=stage.name if stage else None,
        stage_aim=stage.aim if stage else "",
        next_stage=next_stage,
        days_in_stage=max(0, (today - program.stage_started_on).days) + 1,
        change=change,
        sentence=sentence,
        points=points,
        polyline=polyline,
        baseline_y=_y(base) if base is not None else None,
        weeks=rows,
        week_bar_max=max([1, *(max(r.done, r.planned) for r in rows)]),
        readings=len(readings),
    )

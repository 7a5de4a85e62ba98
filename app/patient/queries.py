"""Read-side queries for the patient's own pages: today, the player, progress.

Every number comes from the patient's one assessment (``app.assessment``); the dose of every
exercise from the one eased-session decision (``app.patient.easing``).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy.orm import selectinload

from app.alerts.models import Alert
from app.alerts.rules import red_flags_due
from app.assessment import assess_patient
from app.clinical import numbers
from app.clinical.adherence import scheduled_days
from app.clinical.assessment import Assessment
from app.clinical.pain import PainStatus
from app.enums import OPEN_ALERT_STATUSES, AlertKind, ProgramStatus, Side
from app.extensions import db
from app.i18n import localized
from app.patient.easing import Step, TodaysSession, todays_session
from app.patient.models import CheckIn, Patient, Session, SessionExercise
from app.programs.models import (
    Exercise,
    Program,
    ProgramItem,
    RoutineTemplate,
    TemplateStage,
)
from app.programs.queries import current_program

# A rough pace for the estimate of a session's length.
SECONDS_PER_REP = 4


def program_options() -> tuple[Any, ...]:
    """Eager loads for a program the patient pages render (nothing lazy in a template)."""
    return (
        selectinload(Program.items)
        .selectinload(ProgramItem.exercise)
        .selectinload(Exercise.easier),
        selectinload(Program.stage_changes),
        selectinload(Program.template).selectinload(RoutineTemplate.stages),
    )


# CLINICAL §5, "patient sees": what happens next, and when, in plain words and without a
# diagnosis, for each kind of alert open about this patient. The times are the clinic's
# promise: "contact patient today" for an urgent red flag, review within 48 h for a prompt
# (CLINICAL §5, §6); a flare or worsening pain is looked at on the same 2-day footing, a plan
# that is not helping enough within a week. Marked for translation; `patient_messages` gives text.
PATIENT_MESSAGES: dict[AlertKind, Any] = {
    AlertKind.RED_FLAG_EMERGENCY: _l(
        "Your therapist has been told about the symptom you reported and will contact you. "
        "Your exercises stay stopped until you have spoken."
    ),
    AlertKind.RED_FLAG_URGENT: _l(
        "Your therapist has been told about the symptom you reported and will contact you "
        "today. If you have not heard by the end of the day, call your clinic."
    ),
    AlertKind.RED_FLAG_PROMPT: _l(
        "Your therapist will review the symptom you reported within 2 days. You can carry on "
        "with your exercises unless they make it worse."
    ),
    AlertKind.FLARE: _l(
        "Your therapist has been told your back has had a rough week and will review your plan "
        "within 2 days. Until then, keep to the gentler session and stop any exercise that "
        "makes your pain much worse."
    ),
    AlertKind.WORSENING: _l(
        "Your pain has been higher than when you started. Your therapist has been told and will "
        "review your plan with you within 2 days. Until then, keep to what feels manageable."
    ),
    AlertKind.PERSISTENT_PAIN: _l(
        "Your therapist will review your plan with you. Expect to hear from them within a week."
    ),
    AlertKind.NON_RESPONSE_6W: _l(
        "Your therapist will review your plan with you. Expect to hear from them within a week."
    ),
    AlertKind.LOW_ADHERENCE: _l(
        "A short session still counts. Even a few minutes today helps your back."
    ),
}
# While one of these is open (or pain has worsened) there is no streak praise and no talk of
# the next stage (issue 10).
CONCERNS = frozenset(
    {
        AlertKind.RED_FLAG_EMERGENCY,
        AlertKind.RED_FLAG_URGENT,
        AlertKind.RED_FLAG_PROMPT,
        AlertKind.FLARE,
        AlertKind.WORSENING,
    }
)


@dataclass(frozen=True)
class Guidance:
    """What the patient pages say while alerts about the patient are open."""

    messages: tuple[str, ...] = ()
    concern: bool = False  # pain worsening, or a flare or red-flag alert open


def open_alert_kinds(patient: Patient) -> set[AlertKind]:
    return set(
        db.session.scalars(
            sa.select(Alert.kind).where(
                Alert.patient_id == patient.id, Alert.status.in_(OPEN_ALERT_STATUSES)
            )
        )
    )


def patient_messages(patient: Patient, kinds: set[AlertKind] | None = None) -> tuple[str, ...]:
    """Return the messages of the patient's open alerts, each once, in table order, in the
    language of the current request."""
    kinds = open_alert_kinds(patient) if kinds is None else kinds
    return tuple(dict.fromkeys(str(PATIENT_MESSAGES[k]) for k in PATIENT_MESSAGES if k in kinds))


def guidance(patient: Patient, a: Assessment) -> Guidance:
    """Return what happens next (CLINICAL §5 "patient sees") and whether to hold back praise."""
    kinds = open_alert_kinds(patient)
    return Guidance(
        messages=patient_messages(patient, kinds),
        concern=bool(kinds & CONCERNS) or a.status is PainStatus.WORSENED,
    )


def sided_slugs() -> tuple[str, ...]:
    """Return the built-in exercises done once on each side, for the offline player shell.

    The shell holds no personal data and no clinic's own content, so it names the built-in
    library only; an exercise a clinic added is guided as one side offline.
    """
    return tuple(
        db.session.scalars(
            sa.select(Exercise.slug)
            .where(Exercise.clinic_id.is_(None), Exercise.dose_text.contains("each side"))
            .order_by(Exercise.slug)
        )
    )


def step_seconds(step: Step) -> int:
    """Estimate how long one exercise takes at the dose shown, rests included."""
    d = step.dosage
    sets = d["sets"]
    if d.get("duration_seconds"):
        work = d["duration_seconds"] * sets
    elif d.get("distance_m"):
        work = sets * max(20, d["distance_m"])  # about a metre a second, carrying
    else:
        reps = sum(d["reps_per_set"]) if d.get("reps_per_set") else sets * (d.get("reps") or 1)
        work = reps * max(SECONDS_PER_REP, (d.get("hold_seconds") or 0) + 2)
    if d["side"] in (Side.BOTH.value, Side.ALTERNATING.value) and per_side(step.exercise):
        work *= 2
    return work + d["rest_seconds"] * max(0, sets - 1)


def per_side(exercise: Exercise) -> bool:
    """Return whether the exercise is done once on each side (CLINICAL §7 "each side")."""
    return "each side" in (exercise.dose_text or "")


def minutes(session: TodaysSession) -> int:
    return max(1, round(sum(step_seconds(step) for step in session.steps) / 60))


def dose_of(dosage: dict[str, Any], exercise: Exercise) -> SimpleNamespace:
    """Give a dosage dict the attribute shape the ``dose`` filter reads (item.side, .exercise)."""
    return SimpleNamespace(**{**dosage, "side": Side(dosage["side"])}, exercise=exercise)


# ---------------------------------------------------------------------------- today


@dataclass(frozen=True)
class TodayView:
    today: date
    program: Program | None
    status: str  # active | paused | suspended | none
    stage_name: str | None
    session: TodaysSession | None
    scheduled_today: bool
    done_today: bool
    week_done: int
    week_planned: int
    streak: int
    next_session: date | None
    minutes: int
    red_flags_due: tuple[str, ...]
    checked_in_today: bool = False
    guidance: Guidance = Guidance()

    @property
    def messages(self) -> tuple[str, ...]:
        return self.guidance.messages

    @property
    def steps(self) -> tuple[Step, ...]:
        return self.session.steps if self.session else ()


def _done_days(a: Assessment) -> set[date]:
    return set(a.completed_dates)


def week_progress(a: Assessment, program: Program) -> tuple[int, int]:
    """Return (done, planned) sessions of this week (Monday to Sunday, CLINICAL §3 days)."""
    today = a.today
    week_start = today - timedelta(days=today.weekday())
    week_end = week_start + timedelta(days=6)
    timeline = a.timeline
    # Today is not yet on the status history (a pause takes effect the next day), so the days
    # to come count on the current weekdays while the program is active.
    past = scheduled_days(timeline.schedule, timeline.statuses, week_start, today)
    active = program.status is ProgramStatus.ACTIVE
    to_come = [
        week_start + timedelta(days=offset)
        for offset in range((today - week_start).days + 1, 7)
        if active and (week_start + timedelta(days=offset)).weekday() in program.weekdays
    ]
    done = len({day for day in _done_days(a) if week_start <= day <= week_end})
    return done, len(past) + len(to_come)


def streak(a: Assessment) -> int:
    """Count the planned days done in a row up to today (within the days the timeline holds)."""
    timeline, done = a.timeline, _done_days(a)
    if timeline.episode_start is None:
        return 0
    first = max(timeline.episode_start, a.today - timedelta(days=a.policy.window_days))
    last = a.today if a.today in done else a.today - timedelta(days=1)
    count = 0
    for day in reversed(scheduled_days(timeline.schedule, timeline.statuses, first, last)):
        if day not in done:
            break
        count += 1
    return count


def today_view(patient: Patient, now: datetime) -> TodayView:
    """Return everything the patient's home page shows, in a handful of queries."""
    a = assess_patient(patient, now)
    today = a.today
    program = current_program(patient, *program_options())
    due = red_flags_due(a)
    if program is None:
        return TodayView(today, None, "none", None, None, False, False, 0, 0, 0, None, 0, due)

    active = program.status is ProgramStatus.ACTIVE
    scheduled_today = active and today >= program.start_date and today.weekday() in program.weekdays
    done, planned = week_progress(a, program)
    next_session = None
    if active:
        for offset in range(1, 8):
            day = today + timedelta(days=offset)
            if day >= program.start_date and day.weekday() in program.weekdays:
                next_session = day
                break
    stage = program.template.stage(program.stage) if program.template else None
    session = todays_session(a, program)
    checked_in = any(
        c.local_date == today and c.morning_pain is not None for c in a.timeline.check_ins
    )
    return TodayView(
        today=today,
        program=program,
        status=program.status.value,
        stage_name=localized(stage, "name") if stage else None,
        session=session,
        scheduled_today=scheduled_today,
        done_today=today in _done_days(a),
        week_done=done,
        week_planned=planned,
        streak=streak(a),
        next_session=next_session,
        minutes=minutes(session),
        red_flags_due=due,
        checked_in_today=checked_in,
        guidance=guidance(patient, a),
    )


# ---------------------------------------------------------------------------- player


@dataclass(frozen=True)
class PlayerView:
    program: Program
    stage_name: str | None
    session: TodaysSession
    minutes: int

    @property
    def steps(self) -> tuple[Step, ...]:
        return self.session.steps


def own_program(patient: Patient, program_id: int) -> Program | None:
    """Return the patient's program in force with this id; another's or an ended one is None."""
    program = current_program(patient, *program_options())
    return program if program is not None and program.id == program_id else None


def player_view(patient: Patient, program: Program, now: datetime) -> PlayerView:
    """Return the guided session: each step at the dose of today's (possibly eased) session."""
    session = todays_session(assess_patient(patient, now), program)
    stage = program.template.stage(program.stage) if program.template else None
    return PlayerView(
        program=program,
        stage_name=localized(stage, "name") if stage else None,
        session=session,
        minutes=minutes(session),
    )


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
        sa.select(CheckIn)
        .where(CheckIn.patient_id == patient.id, CheckIn.client_id == key)
        .options(selectinload(CheckIn.red_flags))
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
    assessment: Assessment
    program: Program | None
    stage_name: str | None
    stage_aim: str
    next_stage: TemplateStage | None
    days_in_stage: int
    sentence: str
    points: list[ChartPoint]
    polyline: str
    baseline_y: float | None
    weeks: list[WeekRow]
    week_bar_max: int
    guidance: Guidance = Guidance()

    @property
    def change(self):  # type: ignore[no-untyped-def]
        return self.assessment.change


CHART_W, CHART_H, CHART_PAD = 320, 160, 24
CHART_WEEKS = 8
TABLE_WEEKS = 6


def _y(value: Fraction | float) -> float:
    return round(CHART_PAD / 2 + (10 - float(value)) / 10 * (CHART_H - CHART_PAD), 1)


def progress_sentence(a: Assessment) -> str:
    """Say the patient's trend in plain words, from the assessment's numbers."""
    start = a.timeline.episode_start
    if a.baseline is not None and a.current is not None and start is not None:
        span_weeks = max(0, (a.today - start).days) // 7
        before, now = numbers.pain(a.baseline), numbers.pain(a.current)
        if span_weeks:
            return ngettext(
                "Pain %(before)s → %(now)s over %(num)s week.",
                "Pain %(before)s → %(now)s over %(num)s weeks.",
                span_weeks,
                before=before,
                now=now,
            )
        return _("Pain %(before)s → %(now)s over a week.", before=before, now=now)
    if a.baseline is not None:
        return _(
            "Pain at the start: %(pain)s. Rate your pain before each session and each morning "
            "to see the trend.",
            pain=numbers.pain(a.baseline),
        )
    return _("Not enough pain ratings yet: rate your pain before each session and each morning.")


def _daily_readings(patient: Patient, since: date, until: date) -> dict[date, list[int]]:
    """Resting-pain readings (CLINICAL §1) per local day in a bounded window, for the chart."""
    by_day: dict[date, list[int]] = defaultdict(list)
    rows = db.session.execute(
        sa.select(Session.local_date, Session.pain_before).where(
            Session.patient_id == patient.id,
            Session.local_date >= since,
            Session.local_date <= until,
        )
    ).all()
    rows += db.session.execute(
        sa.select(CheckIn.local_date, CheckIn.morning_pain).where(
            CheckIn.patient_id == patient.id,
            CheckIn.local_date >= since,
            CheckIn.local_date <= until,
            CheckIn.morning_pain.is_not(None),
        )
    ).all()
    for day, value in rows:
        by_day[day].append(value)
    return by_day


def progress_view(patient: Patient, now: datetime) -> ProgressView:
    """Return the resting-pain trend, sessions per week and the stage, for /progress."""
    a = assess_patient(patient, now)
    today = a.today
    program = current_program(
        patient, selectinload(Program.template).selectinload(RoutineTemplate.stages)
    )
    if program is None or a.timeline.episode_start is None:
        return ProgressView(
            a, None, None, "", None, 0, "", [], "", None, [], 1, guidance(patient, a)
        )
    start = a.timeline.episode_start

    chart_start = max(start, today - timedelta(days=7 * CHART_WEEKS - 1))
    by_day = _daily_readings(patient, chart_start, today)
    span = max(1, (today - chart_start).days)
    points = []
    for day in sorted(by_day):
        value = Fraction(sum(by_day[day]), len(by_day[day]))
        x = round(CHART_PAD + (day - chart_start).days / span * (CHART_W - 2 * CHART_PAD), 1)
        points.append(ChartPoint(day, value, x, _y(value)))

    this_monday = today - timedelta(days=today.weekday())
    first_monday = this_monday - timedelta(weeks=TABLE_WEEKS - 1)
    done_days = set(
        db.session.scalars(
            sa.select(Session.local_date).where(
                Session.patient_id == patient.id,
                Session.local_date >= first_monday,
                Session.completed.is_(True),
            )
        )
    )
    timeline = a.timeline
    rows = []
    for back in range(TABLE_WEEKS - 1, -1, -1):
        monday = this_monday - timedelta(weeks=back)
        sunday = monday + timedelta(days=6)
        if sunday < start:
            continue
        if monday == this_monday:
            done, planned = week_progress(a, program)
        else:
            planned = len(scheduled_days(timeline.schedule, timeline.statuses, monday, sunday))
            done = len({d for d in done_days if monday <= d <= sunday})
        rows.append(WeekRow(monday, done, planned))

    template = program.template
    stage = template.stage(program.stage) if template else None
    next_stage = template.stage(program.stage + 1) if template else None
    return ProgressView(
        assessment=a,
        program=program,
        stage_name=localized(stage, "name") if stage else None,
        stage_aim=localized(stage, "aim") if stage else "",
        next_stage=next_stage,
        days_in_stage=max(0, (today - program.stage_started_on).days) + 1,
        sentence=progress_sentence(a),
        points=points,
        polyline=" ".join(f"{p.x},{p.y}" for p in points),
        baseline_y=_y(a.baseline) if a.baseline is not None else None,
        weeks=rows,
        week_bar_max=max([1, *(max(r.done, r.planned) for r in rows)]),
        guidance=guidance(patient, a),
    )

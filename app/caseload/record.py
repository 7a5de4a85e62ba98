"""The therapist's patient record: the assessment's numbers and a few recent weeks of data.

The numbers (baseline, current, change, adherence) are the patient's one assessment; the rows
shown (chart, calendar, sessions, check-ins) are those of a window of weeks that pages back
through older ones, so the page costs the same few queries after a week or after two years.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.alerts.models import Alert, Referral
from app.alerts.queries import Linked
from app.assessment import assess_patient
from app.charts import PainChart, pain_chart
from app.clinical import numbers
from app.clinical.adherence import ScheduleFact, StatusFact, scheduled_days
from app.clinical.assessment import Assessment
from app.enums import OPEN_ALERT_STATUSES
from app.extensions import db
from app.patient.models import CheckIn, OutcomeResponse, Patient, Session, SessionExercise
from app.programs.models import Program, ProgramItem, StageChange
from app.programs.queries import current_program
from app.timeutil import local_date

WEEKS_SHOWN = 6
MAX_ALERTS = 50
MAX_STAGE_CHANGES = 30
MAX_OUTCOMES = 30
MAX_REFERRALS = 20


@dataclass(frozen=True)
class CalendarDay:
    day: date
    state: str  # done | partial | missed | due | rest | paused | future | before
    label: str


@dataclass(frozen=True)
class Window:
    """The weeks the page shows, and where the older and newer pages start."""

    first: date
    last: date
    older: date | None  # ``until`` of the page before, None when nothing older exists
    newer: date | None  # ``until`` of the page after, None on the latest page

    @property
    def is_latest(self) -> bool:
        return self.newer is None


@dataclass(frozen=True)
class PatientRecord:
    patient: Patient
    assessment: Assessment
    program: Program | None
    window: Window
    sessions: list[Session]
    check_ins: list[CheckIn]
    alerts: list[Alert]
    stage_changes: list[StageChange]
    outcomes: list[OutcomeResponse]
    referrals: list[Referral]
    chart: PainChart
    chart_rows: list[tuple[date, str, int]]
    calendar: list[list[CalendarDay]]
    summary: str

    @property
    def today(self) -> date:
        return self.assessment.today

    def linked(self, alert: Alert) -> list[Linked]:
        """The shown sessions and check-ins behind an alert (no query: they are loaded)."""
        sessions = set(alert.session_ids or ())
        check_ins = set(alert.check_in_ids or ())
        items = [
            Linked("session", s.id, s.local_date, s.completed_at)
            for s in self.sessions
            if s.id in sessions
        ] + [
            Linked("check-in", c.id, c.local_date, c.recorded_at)
            for c in self.check_ins
            if c.id in check_ins
        ]
        return sorted(items, key=lambda item: item.at)


def shown_window(patient: Patient, today: date, until: date | None) -> Window:
    """Return the weeks ending on ``until`` (default today), Monday-aligned, with paging links."""
    last = min(until or today, today)
    first = last - timedelta(days=last.weekday() + 7 * (WEEKS_SHOWN - 1))
    joined = local_date(patient.created_at, patient.timezone)
    older = first - timedelta(days=1) if first > joined else None
    newer_last = last + timedelta(weeks=WEEKS_SHOWN)
    newer = None if last >= today else min(newer_last, today)
    return Window(first, last, older, newer)


def patient_record(patient: Patient, now: datetime, until: date | None = None) -> PatientRecord:
    """Load one patient's record for the therapist in a fixed handful of queries."""
    assessment = assess_patient(patient, now)
    today = assessment.today
    window = shown_window(patient, today, until)
    program = current_program(
        patient, selectinload(Program.items).selectinload(ProgramItem.exercise)
    )
    sessions = list(
        db.session.scalars(
            sa.select(Session)
            .where(
                Session.patient_id == patient.id,
                Session.local_date >= window.first,
                Session.local_date <= window.last,
            )
            .options(
                selectinload(Session.exercises)
                .selectinload(SessionExercise.program_item)
                .selectinload(ProgramItem.exercise)
            )
            .order_by(Session.completed_at.desc())
        )
    )
    check_ins = list(
        db.session.scalars(
            sa.select(CheckIn)
            .where(
                CheckIn.patient_id == patient.id,
                CheckIn.local_date >= window.first,
                CheckIn.local_date <= window.last,
            )
            .options(selectinload(CheckIn.red_flags))
            .order_by(CheckIn.recorded_at.desc())
        )
    )
    alerts = list(
        db.session.scalars(
            sa.select(Alert)
            .where(Alert.patient_id == patient.id)
            .order_by(Alert.status.in_(OPEN_ALERT_STATUSES).desc(), Alert.created_at.desc())
            .limit(MAX_ALERTS)
        )
    )
    stage_changes = list(
        db.session.scalars(
            sa.select(StageChange)
            .join(Program, Program.id == StageChange.program_id)
            .where(Program.patient_id == patient.id)
            .options(selectinload(StageChange.changed_by))
            .order_by(StageChange.created_at.desc())
            .limit(MAX_STAGE_CHANGES)
        )
    )
    outcomes = list(
        db.session.scalars(
            sa.select(OutcomeResponse)
            .where(OutcomeResponse.patient_id == patient.id)
            .order_by(OutcomeResponse.recorded_at.desc())
            .limit(MAX_OUTCOMES)
        )
    )
    referrals = list(
        db.session.scalars(
            sa.select(Referral)
            .where(Referral.patient_id == patient.id)
            .order_by(Referral.created_at.desc())
            .limit(MAX_REFERRALS)
        )
    )
    chart, chart_rows = _chart(assessment, window, sessions, check_ins)
    timeline = assessment.timeline
    calendar = (
        _calendar(sessions, timeline.schedule, timeline.statuses, program.start_date, window, today)
        if program is not None and timeline.episode_start is not None
        else []
    )
    return PatientRecord(
        patient=patient,
        assessment=assessment,
        program=program,
        window=window,
        sessions=sessions,
        check_ins=check_ins,
        alerts=alerts,
        stage_changes=stage_changes,
        outcomes=outcomes,
        referrals=referrals,
        chart=chart,
        chart_rows=chart_rows,
        calendar=calendar,
        summary=pain_sentence(assessment),
    )


def pain_sentence(a: Assessment) -> str:
    """Say the trend in one sentence, e.g. "Resting pain 6.0 → 4.3 over 3 weeks (improved)"."""
    start = a.timeline.episode_start
    if a.baseline is None or a.current is None or start is None:
        return "Not enough pain ratings yet for a trend (3 in a week are needed)."
    weeks = max(1, (a.today - start).days // 7)
    status = {"improved": "improved", "worsened": "worse", "no_change": "no meaningful change"}
    return (
        f"Resting pain {numbers.pain(a.baseline)} → {numbers.pain(a.current)} over {weeks} "
        f"week{'s' if weeks != 1 else ''} ({status.get(a.status.value, 'unknown')})."
    )


def _chart(
    a: Assessment, window: Window, sessions: list[Session], check_ins: list[CheckIn]
) -> tuple[PainChart, list[tuple[date, str, int]]]:
    start = max(window.first, a.timeline.episode_start or window.first)
    mornings = sorted(
        (c.local_date, c.morning_pain)
        for c in check_ins
        if c.morning_pain is not None and c.local_date >= start
    )
    shown = [s for s in sessions if s.local_date >= start]
    befores = sorted((s.local_date, s.pain_before) for s in shown)
    daily: dict[date, list[int]] = defaultdict(list)
    for day, value in [*befores, *mornings]:
        daily[day].append(value)
    trend = [(day, sum(v) / len(v)) for day, v in sorted(daily.items())]
    peaks = sorted((s.local_date, s.peak_pain) for s in shown if s.peak_pain is not None)
    afters = sorted((s.local_date, s.pain_after) for s in shown if s.pain_after is not None)
    chart = pain_chart(
        start,
        window.last,
        [
            ("Resting pain (daily mean)", "series-rest", trend),
            ("Session peak", "series-peak", peaks),
            ("Pain after session", "series-after", afters),
            ("Morning check-in", "series-morning", mornings),
        ],
        float(a.baseline) if a.baseline is not None else None,
    )
    rows = [(d, "session, pain before", v) for d, v in befores]
    rows += [(d, "session peak", v) for d, v in peaks]
    rows += [(d, "pain after session", v) for d, v in afters]
    rows += [(d, "morning check-in", v) for d, v in mornings]
    return chart, sorted(rows)


def _calendar(
    sessions: list[Session],
    schedule: tuple[ScheduleFact, ...],
    statuses: tuple[StatusFact, ...],
    start: date,
    window: Window,
    today: date,
) -> list[list[CalendarDay]]:
    first, last = window.first, window.first + timedelta(days=7 * WEEKS_SHOWN - 1)
    scheduled = set(scheduled_days(schedule, statuses, first, last))
    active = set(
        scheduled_days(
            [ScheduleFact(c.effective, tuple(range(7))) for c in schedule], statuses, first, last
        )
    )
    by_day: dict[date, list[Session]] = defaultdict(list)
    for s in sessions:
        by_day[s.local_date].append(s)
    weekdays_now = schedule[-1].weekdays if schedule else ()
    weeks: list[list[CalendarDay]] = []
    for w in range(WEEKS_SHOWN):
        row = []
        for d in range(7):
            day = first + timedelta(days=7 * w + d)
            done = by_day.get(day, [])
            if day < start:
                state, text = "before", "before the program"
            elif day > today:
                state = "future"
                text = "scheduled" if day.weekday() in weekdays_now else "rest day"
            elif any(s.completed for s in done):
                state, text = "done", "session done"
            elif done:
                state, text = "partial", "session partly done"
            elif day in scheduled:
                state, text = ("missed", "missed") if day < today else ("due", "due today")
            elif day not in active:
                state, text = "paused", "paused"
            else:
                state, text = "rest", "rest day"
            row.append(CalendarDay(day, state, f"{day:%a %d %b}: {text}"))
        weeks.append(row)
    return weeks

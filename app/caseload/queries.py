"""Read-side queries for the therapist's pages; a fixed number of SQL queries per page."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import sqlalchemy as sa
from sqlalchemy.orm import aliased, selectinload

from app.access import patient_scope
from app.alerts.models import Alert
from app.auth.models import User
from app.caseload.models import PatientSummary
from app.caseload.summary import DATA_DAYS_FOR_CODE
from app.charts import PainChart, pain_chart
from app.clinical.adherence import (
    Adherence,
    ScheduleChange,
    StatusChange,
    adherence_14d,
    scheduled_days,
)
from app.clinical.pain import PainChange, Reading, baseline, current, pain_change
from app.clinical.policy import Policy
from app.enums import OPEN_ALERT_STATUSES, AlertKind, AlertStatus, ProgramStatus
from app.extensions import db
from app.patient.models import CheckIn, OutcomeResponse, Patient, Session, SessionExercise
from app.programs.models import EpisodeOfCare, Program, ProgramItem, StageChange
from app.timeutil import local_date

SEVERITY_RANK = {"urgent": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
ATTENTION_SEVERITIES = ("urgent", "high", "medium")
INACTIVE_DAYS = 7


@dataclass(frozen=True)
class DataDays:
    days: int
    period_start: date | None
    period_end: date | None

    @property
    def needed_for_16(self) -> int:
        return max(0, DATA_DAYS_FOR_CODE - self.days)


@dataclass(frozen=True)
class CaseloadRow:
    id: int
    name: str
    email: str | None
    timezone: str
    therapist_name: str | None
    invited: bool
    stage: int | None
    program_status: str
    program_day: int | None
    adherence: Decimal | None
    baseline: Decimal | None
    current: Decimal | None
    pain_status: str
    partial_adherence: bool
    last_activity: datetime | None
    data_days: DataDays
    spark: str
    open_alerts: dict[str, int]
    attention_alerts: dict[str, int]
    ready_to_progress: bool
    as_of: date | None

    @property
    def week(self) -> int | None:
        return (
            None
            if self.program_day is None or self.program_day < 1
            else ((self.program_day - 1) // 7 + 1)
        )

    @property
    def badges(self) -> list[tuple[str, int]]:
        return [(s, self.open_alerts[s]) for s in SEVERITY_RANK if s in self.open_alerts]

    @property
    def top_severity(self) -> str | None:
        ranked = sorted(self.attention_alerts, key=SEVERITY_RANK.__getitem__)
        return ranked[0] if ranked else None

    @property
    def needs_attention(self) -> bool:
        top = self.top_severity
        return (top in ATTENTION_SEVERITIES) or self.pain_status == "WORSENED"

    def priority(self) -> tuple:
        """DESIGN §4 order: highest open-alert severity, then WORSENED, then lowest adherence,
        then name. Snoozed alerts leave the order until their date (CLINICAL §5)."""
        top = self.top_severity
        return (
            SEVERITY_RANK[top] if top else len(SEVERITY_RANK),
            0 if self.pain_status == "WORSENED" else 1,
            float(self.adherence) if self.adherence is not None else 2.0,
            self.name.lower(),
            self.id,
        )


SUMMARY_COLUMNS = (
    PatientSummary.as_of,
    PatientSummary.episode_start,
    PatientSummary.stage,
    PatientSummary.program_status,
    PatientSummary.adherence,
    PatientSummary.baseline,
    PatientSummary.current,
    PatientSummary.pain_status,
    PatientSummary.partial_adherence,
    PatientSummary.last_activity_at,
    PatientSummary.data_days,
    PatientSummary.period_start,
    PatientSummary.period_end,
    PatientSummary.spark,
)


@dataclass(frozen=True)
class CaseloadFilter:
    search: str = ""
    stage: int | None = None
    attention: bool = False
    inactive: bool = False


def caseload(user: User, now: datetime, filters: CaseloadFilter | None = None) -> list[CaseloadRow]:
    """Return the user's patients in priority order, in two queries whatever their number."""
    filters = filters or CaseloadFilter()
    therapist = aliased(User)
    patient_user = aliased(User)
    query = (
        sa.select(
            Patient.id,
            Patient.timezone,
            patient_user.name,
            patient_user.email,
            patient_user.password_hash.is_(None).label("invited"),
            therapist.name.label("therapist_name"),
            *SUMMARY_COLUMNS,
        )
        .join(patient_user, patient_user.id == Patient.user_id)
        .outerjoin(therapist, therapist.id == Patient.therapist_id)
        .outerjoin(PatientSummary, PatientSummary.patient_id == Patient.id)
        .where(patient_scope(user), Patient.archived_at.is_(None))
    )
    if filters.search:
        query = query.where(
            sa.func.lower(patient_user.name).like(f"%{filters.search.strip().lower()}%")
        )
    if filters.stage is not None:
        query = query.where(PatientSummary.stage == filters.stage)
    rows = db.session.execute(query).all()

    alert_rows = db.session.execute(
        sa.select(Alert.patient_id, Alert.severity, Alert.status, Alert.snoozed_until, Alert.kind)
        .join(Patient, Patient.id == Alert.patient_id)
        .where(patient_scope(user), Alert.status.in_(OPEN_ALERT_STATUSES))
    ).all()
    ready = {row.patient_id for row in alert_rows if row.kind is AlertKind.READY_TO_PROGRESS}
    todays: dict[str, date] = {}
    zone_of = {}
    for row in rows:
        zone_of[row.id] = row.timezone
        if row.timezone not in todays:
            todays[row.timezone] = local_date(now, row.timezone)
    open_alerts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    attention: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for patient_id, severity, status, snoozed_until, _kind in alert_rows:
        open_alerts[patient_id][severity.value] += 1
        # A snoozed alert leaves "needs attention" until its date, in the patient's calendar.
        snoozed = status is AlertStatus.SNOOZED and (
            snoozed_until is None
            or patient_id not in zone_of
            or snoozed_until > todays[zone_of[patient_id]]
        )
        if not snoozed:
            attention[patient_id][severity.value] += 1

    result = []
    for row in rows:
        start = row.episode_start
        result.append(
            CaseloadRow(
                id=row.id,
                name=row.name,
                email=row.email,
                timezone=row.timezone,
                therapist_name=row.therapist_name,
                invited=row.invited,
                stage=row.stage,
                program_status=row.program_status or "none",
                program_day=(todays[row.timezone] - start).days + 1 if start else None,
                adherence=row.adherence,
                baseline=row.baseline,
                current=row.current,
                pain_status=row.pain_status or "UNKNOWN",
                partial_adherence=bool(row.partial_adherence),
                last_activity=row.last_activity_at,
                data_days=DataDays(row.data_days or 0, row.period_start, row.period_end),
                spark=row.spark or "",
                open_alerts=dict(open_alerts.get(row.id, {})),
                attention_alerts=dict(attention.get(row.id, {})),
                ready_to_progress=row.id in ready,
                as_of=row.as_of,
            )
        )
    if filters.attention:
        result = [r for r in result if r.needs_attention]
    if filters.inactive:
        cutoff = now - timedelta(days=INACTIVE_DAYS)
        result = [r for r in result if r.last_activity is None or r.last_activity < cutoff]
    return sorted(result, key=CaseloadRow.priority)


# ---------------------------------------------------------------------------- patient detail

DETAIL_WEEKS = 12
CALENDAR_WEEKS = 6


@dataclass(frozen=True)
class CalendarDay:
    day: date
    state: str  # done | partial | missed | rest | paused | future | before
    label: str


@dataclass(frozen=True)
class PatientDetail:
    patient: Patient
    program: Program | None
    episode: EpisodeOfCare | None
    today: date
    sessions: list[Session]
    check_ins: list[CheckIn]
    alerts: list[Alert]
    stage_changes: list[StageChange]
    outcomes: list[OutcomeResponse]
    chart: PainChart
    chart_rows: list[tuple[date, str, int]]
    baseline: Fraction | None
    current: Fraction | None
    change: PainChange
    adherence: Adherence | None
    calendar: list[list[CalendarDay]]
    summary: str


def patient_detail(patient: Patient, now: datetime) -> PatientDetail:
    """Load one patient's record for the therapist in a fixed handful of queries."""
    tz = patient.timezone
    today = local_date(now, tz)
    since = today - timedelta(weeks=DETAIL_WEEKS)
    episode = db.session.scalar(
        sa.select(EpisodeOfCare)
        .where(EpisodeOfCare.patient_id == patient.id, EpisodeOfCare.ended_on.is_(None))
        .order_by(EpisodeOfCare.start_date.desc())
    )
    program = db.session.scalar(
        sa.select(Program)
        .where(Program.patient_id == patient.id, Program.status != ProgramStatus.ENDED)
        .options(
            selectinload(Program.items).selectinload(ProgramItem.exercise),
            selectinload(Program.schedule_changes),
            selectinload(Program.status_changes),
        )
    )
    first_day = min(since, episode.start_date) if episode else since
    sessions = list(
        db.session.scalars(
            sa.select(Session)
            .where(Session.patient_id == patient.id, Session.local_date >= first_day)
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
            .where(CheckIn.patient_id == patient.id, CheckIn.local_date >= first_day)
            .options(selectinload(CheckIn.red_flags))
            .order_by(CheckIn.recorded_at.desc())
        )
    )
    alerts = list(
        db.session.scalars(
            sa.select(Alert)
            .where(Alert.patient_id == patient.id)
            .order_by(Alert.created_at.desc())
            .limit(50)
        )
    )
    stage_changes = list(
        db.session.scalars(
            sa.select(StageChange)
            .join(Program, Program.id == StageChange.program_id)
            .where(Program.patient_id == patient.id)
            .options(selectinload(StageChange.changed_by))
            .order_by(StageChange.created_at.desc())
        )
    )
    outcomes = list(
        db.session.scalars(
            sa.select(OutcomeResponse)
            .where(OutcomeResponse.patient_id == patient.id)
            .order_by(OutcomeResponse.recorded_at.desc())
        )
    )

    policy = Policy.from_overrides(patient.clinic.policy_overrides or {})
    readings = [Reading(s.local_date, s.pain_before) for s in sessions] + [
        Reading(c.local_date, c.morning_pain) for c in check_ins if c.morning_pain is not None
    ]
    base = baseline(readings, episode.start_date, patient.intake_pain, policy) if episode else None
    now_pain = current(readings, today, policy)
    change = pain_change(base, now_pain, policy)

    chart_start = max(since, episode.start_date) if episode else since
    shown = [s for s in sessions if s.local_date >= chart_start]
    resting = sorted(
        [(s.local_date, s.pain_before) for s in shown]
        + [
            (c.local_date, c.morning_pain)
            for c in check_ins
            if c.morning_pain is not None and c.local_date >= chart_start
        ]
    )
    daily: dict[date, list[int]] = defaultdict(list)
    for day, value in resting:
        daily[day].append(value)
    trend = [(day, sum(v) / len(v)) for day, v in sorted(daily.items())]
    peaks = sorted((s.local_date, s.peak_pain) for s in shown if s.peak_pain is not None)
    afters = sorted((s.local_date, s.pain_after) for s in shown if s.pain_after is not None)
    mornings = sorted(
        (c.local_date, c.morning_pain)
        for c in check_ins
        if c.morning_pain is not None and c.local_date >= chart_start
    )
    chart = pain_chart(
        chart_start,
        today,
        [
            ("Resting pain (daily mean)", "series-rest", trend),
            ("Session peak", "series-peak", peaks),
            ("Pain after session", "series-after", afters),
            ("Morning check-in", "series-morning", mornings),
        ],
        float(base) if base is not None else None,
    )
    chart_rows = [
        (d, "session, pain before", v)
        for d, v in sorted((s.local_date, s.pain_before) for s in shown)
    ]
    chart_rows += [(d, "session peak", v) for d, v in peaks]
    chart_rows += [(d, "pain after session", v) for d, v in afters]
    chart_rows += [(d, "morning check-in", v) for d, v in mornings]
    chart_rows.sort()

    adherence = None
    calendar: list[list[CalendarDay]] = []
    if program is not None and episode is not None:
        schedule = [
            ScheduleChange(c.effective_date, tuple(c.weekdays)) for c in program.schedule_changes
        ]
        statuses = [StatusChange(c.local_date, c.status.value) for c in program.status_changes]
        done = [s.local_date for s in sessions if s.completed]
        adherence = adherence_14d(done, schedule, statuses, episode.start_date, today, policy)
        calendar = _calendar(sessions, schedule, statuses, program.start_date, today)

    return PatientDetail(
        patient=patient,
        program=program,
        episode=episode,
        today=today,
        sessions=sessions,
        check_ins=check_ins,
        alerts=alerts,
        stage_changes=stage_changes,
        outcomes=outcomes,
        chart=chart,
        chart_rows=chart_rows,
        baseline=base,
        current=now_pain,
        change=change,
        adherence=adherence,
        calendar=calendar,
        summary=pain_sentence(
            base, now_pain, change, episode.start_date if episode else None, today
        ),
    )


def pain_sentence(
    base: Fraction | None,
    now_pain: Fraction | None,
    change: PainChange,
    start: date | None,
    today: date,
) -> str:
    """Say the trend in one sentence, e.g. "Resting pain 6 → 4 over 3 weeks (improved)"."""
    if base is None or now_pain is None or start is None:
        return "Not enough pain ratings yet for a trend (3 in a week are needed)."
    weeks = max(1, (today - start).days // 7)
    status = {
        "IMPROVED": "improved",
        "WORSENED": "worse",
        "NO_CHANGE": "no meaningful change",
    }.get(change.status.value.upper(), "unknown")
    return (
        f"Resting pain {float(base):.1f} → {float(now_pain):.1f} over {weeks} "
        f"week{'s' if weeks != 1 else ''} ({status})."
    )


def _calendar(
    sessions: list[Session],
    schedule: list[ScheduleChange],
    statuses: list[StatusChange],
    start: date,
    today: date,
) -> list[list[CalendarDay]]:
    first = today - timedelta(days=today.weekday() + 7 * (CALENDAR_WEEKS - 1))
    last = first + timedelta(days=7 * CALENDAR_WEEKS - 1)
    scheduled = set(scheduled_days(schedule, statuses, first, last))
    active = set(
        scheduled_days(
            [ScheduleChange(c.effective, tuple(range(7))) for c in schedule], statuses, first, last
        )
    )
    by_day: dict[date, list[Session]] = defaultdict(list)
    for s in sessions:
        by_day[s.local_date].append(s)
    weeks: list[list[CalendarDay]] = []
    for w in range(CALENDAR_WEEKS):
        row = []
        for d in range(7):
            day = first + timedelta(days=7 * w + d)
            done = by_day.get(day, [])
            if day < start:
                state, text = "before", "before the program"
            elif day > today:
                state, text = (
                    "future",
                    "scheduled"
                    if day.weekday() in (schedule[-1].weekdays if schedule else ())
                    else "rest day",
                )
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

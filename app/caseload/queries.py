"""Read-side queries for the therapist's pages; a fixed number of SQL queries per page."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from fractions import Fraction

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from app.access import patient_scope
from app.alerts.models import Alert
from app.alerts.queries import triage_key
from app.auth.models import User
from app.caseload.models import PatientSummary, stored_adherence
from app.caseload.summary import DATA_DAYS_FOR_CODE
from app.clinical.timeline import FunctionFact
from app.enums import OPEN_ALERT_STATUSES, AlertKind, AlertStatus, Severity
from app.extensions import db
from app.measures.trends import caseload_function, caseload_function_columns
from app.messages.models import Message, Side
from app.patient.models import Patient
from app.timeutil import local_date

ATTENTION_SEVERITIES = (Severity.URGENT, Severity.HIGH, Severity.MEDIUM)
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
class OpenAlert:
    """What the caseload row needs of one open alert."""

    id: int
    kind: AlertKind
    severity: Severity
    status: AlertStatus
    created_at: datetime
    snoozed: bool  # snoozed until a date still to come, in the patient's calendar

    @property
    def new(self) -> bool:
        return self.status is AlertStatus.OPEN


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
    adherence: Fraction | None
    baseline: Fraction | None
    current: Fraction | None
    pain_status: str
    partial_adherence: bool
    last_activity: datetime | None
    data_days: DataDays
    spark: str
    alerts: tuple[OpenAlert, ...] = field(default=())
    as_of: date | None = None
    unread_messages: int = 0  # the patient's messages their therapist has not read yet
    function: FunctionFact | None = None  # the latest PSFS of the episode and its change

    @property
    def week(self) -> int | None:
        return (
            None
            if self.program_day is None or self.program_day < 1
            else ((self.program_day - 1) // 7 + 1)
        )

    @property
    def open_alerts(self) -> dict[str, int]:
        """Open alerts (open, acknowledged or snoozed) counted by severity."""
        counts: dict[str, int] = defaultdict(int)
        for alert in self.alerts:
            counts[alert.severity.value] += 1
        return dict(counts)

    @property
    def attention_alerts(self) -> list[OpenAlert]:
        """Open alerts that are not snoozed, most urgent first (DESIGN §4 order)."""
        return sorted((a for a in self.alerts if not a.snoozed), key=alert_priority)

    @property
    def top_alert(self) -> OpenAlert | None:
        ranked = self.attention_alerts
        return ranked[0] if ranked else None

    @property
    def top_severity(self) -> str | None:
        top = self.top_alert
        return top.severity.value if top else None

    @property
    def ready_to_progress(self) -> bool:
        return self.program_status == "active" and any(
            a.kind is AlertKind.READY_TO_PROGRESS for a in self.alerts
        )

    @property
    def needs_attention(self) -> bool:
        top = self.top_alert
        return (top is not None and top.severity in ATTENTION_SEVERITIES) or (
            self.pain_status == "WORSENED"
        )

    def priority(self) -> tuple:
        """DESIGN §4 order: the highest open-alert severity; within it an unacknowledged alert
        before an acknowledged one, the most recently raised first; then WORSENED pain, then
        lowest adherence, then name. Snoozed alerts leave the order until their date."""
        top = self.top_alert
        return (
            alert_priority(top) if top else (1, 0, 0.0),
            0 if self.pain_status == "WORSENED" else 1,
            self.adherence if self.adherence is not None else Fraction(2),
            self.name.lower(),
            self.id,
        )


def alert_priority(alert: OpenAlert) -> tuple:
    """Sort key of an open alert (the one triage order of DESIGN §4)."""
    return triage_key(alert.severity, alert.status, alert.created_at)


SUMMARY_COLUMNS = (
    PatientSummary.as_of,
    PatientSummary.episode_start,
    PatientSummary.stage,
    PatientSummary.program_status,
    PatientSummary.adherence_known,
    PatientSummary.adherence_completed,
    PatientSummary.adherence_scheduled,
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
    messages: bool = False  # only patients whose messages wait to be read
    matches_nothing: bool = False  # the search held text that can match no name


def caseload(user: User, now: datetime, filters: CaseloadFilter | None = None) -> list[CaseloadRow]:
    """Return the user's patients in priority order, in two queries whatever their number."""
    filters = filters or CaseloadFilter()
    if filters.matches_nothing:
        return []
    therapist = aliased(User)
    patient_user = aliased(User)
    # Unread messages per patient, grouped once and joined: no query per patient (DESIGN §5).
    join_function, function_columns = caseload_function_columns(Patient.id)
    unread = (
        sa.select(Message.patient_id, sa.func.count(Message.id).label("unread"))
        .where(Message.sender == Side.PATIENT, Message.read_at.is_(None))
        .group_by(Message.patient_id)
        .subquery()
    )
    query = (
        sa.select(
            Patient.id,
            Patient.timezone,
            patient_user.name,
            patient_user.email,
            patient_user.password_hash.is_(None).label("invited"),
            therapist.name.label("therapist_name"),
            unread.c.unread,
            *function_columns,
            *SUMMARY_COLUMNS,
        )
        .join(patient_user, patient_user.id == Patient.user_id)
        .outerjoin(therapist, therapist.id == Patient.therapist_id)
        .outerjoin(PatientSummary, PatientSummary.patient_id == Patient.id)
        .outerjoin(unread, unread.c.patient_id == Patient.id)
        .where(patient_scope(user), Patient.archived_at.is_(None))
    )
    query = join_function(query)
    if filters.search:
        query = query.where(
            sa.func.lower(patient_user.name).like(f"%{filters.search.strip().lower()}%")
        )
    if filters.stage is not None:
        query = query.where(PatientSummary.stage == filters.stage)
    rows = db.session.execute(query).all()

    alert_rows = db.session.execute(
        sa.select(
            Alert.id,
            Alert.patient_id,
            Alert.kind,
            Alert.severity,
            Alert.status,
            Alert.snoozed_until,
            Alert.created_at,
        )
        .join(Patient, Patient.id == Alert.patient_id)
        .where(patient_scope(user), Alert.status.in_(OPEN_ALERT_STATUSES))
    ).all()
    todays = {zone: local_date(now, zone) for zone in {row.timezone for row in rows}}
    zone_of = {row.id: row.timezone for row in rows}
    alerts: dict[int, list[OpenAlert]] = defaultdict(list)
    for a in alert_rows:
        if a.patient_id not in zone_of:
            continue
        # A snoozed alert leaves "needs attention" until its date, in the patient's calendar.
        snoozed = a.status is AlertStatus.SNOOZED and (
            a.snoozed_until is None or a.snoozed_until > todays[zone_of[a.patient_id]]
        )
        alerts[a.patient_id].append(
            OpenAlert(a.id, a.kind, a.severity, a.status, a.created_at, snoozed)
        )

    result = []
    for row in rows:
        start = row.episode_start
        adherence = stored_adherence(
            row.adherence_known, row.adherence_completed, row.adherence_scheduled
        )
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
                adherence=adherence,
                baseline=Fraction(row.baseline) if row.baseline else None,
                current=Fraction(row.current) if row.current else None,
                pain_status=row.pain_status or "UNKNOWN",
                partial_adherence=bool(row.partial_adherence),
                last_activity=row.last_activity_at,
                data_days=DataDays(row.data_days or 0, row.period_start, row.period_end),
                spark=row.spark or "",
                alerts=tuple(alerts.get(row.id, ())),
                as_of=row.as_of,
                unread_messages=row.unread or 0,
                function=caseload_function(row),
            )
        )
    if filters.attention:
        result = [r for r in result if r.needs_attention]
    if filters.messages:
        result = [r for r in result if r.unread_messages]
    if filters.inactive:
        cutoff = now - timedelta(days=INACTIVE_DAYS)
        result = [r for r in result if r.last_activity is None or r.last_activity < cutoff]
    return sorted(result, key=CaseloadRow.priority)

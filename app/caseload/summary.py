"""Keep the caseload read model up to date (DESIGN §5).

`refresh_summaries` recomputes the summary rows of some patients from their bounded timelines
in a fixed number of queries per batch; services call it in the same transaction as each change,
and `flask alerts sweep` calls it for everyone, so day-dependent numbers (adherence, current pain,
data days) move on even on days without any report.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from fractions import Fraction

import sqlalchemy as sa

from app.alerts.rules import partial_adherence_hold
from app.caseload.models import PatientSummary
from app.charts import sparkline
from app.clinical.assessment import Assessment
from app.extensions import db
from app.patient.models import CheckIn, Session

# CLINICAL §10: remote-monitoring periods are rolling 30-day periods from the monitoring start.
PERIOD_DAYS = 30
DATA_DAYS_FOR_CODE = 16
TREND_DAYS = 28


def exact_text(value: Fraction | None) -> str | None:
    """Store an exact value as text ("21/4"), so the caseload rounds it as every page does."""
    return None if value is None else str(value)


def data_days(a: Assessment) -> tuple[int, date | None, date | None]:
    """Count distinct local days with a session or check-in in the current 30-day period."""
    start, today = a.timeline.episode_start, a.today
    if start is None or today < start:
        return 0, None, None
    period_start = start + timedelta(days=PERIOD_DAYS * ((today - start).days // PERIOD_DAYS))
    period_end = period_start + timedelta(days=PERIOD_DAYS - 1)
    timeline = a.timeline
    days = {s.local_date for s in timeline.sessions} | {c.local_date for c in timeline.check_ins}
    return sum(1 for d in days if period_start <= d <= today), period_start, period_end


def trend(assessment: Assessment) -> str:
    """Sparkline points of the daily mean resting pain over the last 28 days."""
    first = assessment.today - timedelta(days=TREND_DAYS - 1)
    by_day: dict[date, list[int]] = defaultdict(list)
    for reading in assessment.readings:
        if reading.local_date >= first:
            by_day[reading.local_date].append(reading.value)
    values: list[float | None] = [None] * TREND_DAYS
    for day, readings in by_day.items():
        values[(day - first).days] = sum(readings) / len(readings)
    return sparkline(values)


def refresh_summaries(assessments: Mapping[int, Assessment], now: datetime) -> None:
    """Rewrite the summary rows of these patients from their assessments (the caller commits)."""
    ids = list(assessments)
    if not ids:
        return
    db.session.flush()
    last_session = dict(
        db.session.execute(
            sa.select(Session.patient_id, sa.func.max(Session.completed_at))
            .where(Session.patient_id.in_(ids))
            .group_by(Session.patient_id)
        ).all()
    )
    last_check_in = dict(
        db.session.execute(
            sa.select(CheckIn.patient_id, sa.func.max(CheckIn.recorded_at))
            .where(CheckIn.patient_id.in_(ids))
            .group_by(CheckIn.patient_id)
        ).all()
    )
    existing = {
        row.patient_id: row
        for row in db.session.scalars(
            sa.select(PatientSummary).where(PatientSummary.patient_id.in_(ids))
        )
    }
    for patient_id, a in assessments.items():
        timeline = a.timeline
        days, period_start, period_end = data_days(a)
        summary = existing.get(patient_id)
        if summary is None:
            summary = PatientSummary(patient_id=patient_id)
            db.session.add(summary)
        adherence = a.adherence
        stamps = [t for t in (last_session.get(patient_id), last_check_in.get(patient_id)) if t]
        values = {
            "as_of": a.today,
            "refreshed_at": now,
            "episode_start": timeline.episode_start,
            "stage": timeline.stage,
            "program_status": timeline.program_status,
            "adherence_known": adherence is not None and adherence.ratio is not None,
            "adherence_completed": adherence.completed if adherence else 0,
            "adherence_scheduled": adherence.scheduled if adherence else 0,
            "baseline": exact_text(a.baseline),
            "current": exact_text(a.current),
            "pain_status": a.status.value.upper(),
            "partial_adherence": partial_adherence_hold(a, a.policy),
            "last_activity_at": max(stamps) if stamps else None,
            "data_days": days,
            "period_start": period_start,
            "period_end": period_end,
            "spark": trend(a),
        }
        for field, value in values.items():
            if getattr(summary, field, None) != value:
                setattr(summary, field, value)

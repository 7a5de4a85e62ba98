"""Load the clinic outcomes report from the database (the statistics are ``app.measures.report``).

Baseline, current pain and ``adherence_14d`` come from the one assessment every page uses
(``app.assessment``), as of the end of the period; PSFS scores from the stored responses; the
time to first action from the audit log (acknowledge, snooze or resolve, whichever came first).
A fixed number of queries whatever the clinic's size.
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction

import sqlalchemy as sa

from app.admin.models import AuditEvent
from app.alerts.models import Alert
from app.assessment import assess_patients
from app.auth.models import Clinic, User
from app.enums import Role
from app.export.csv_safe import write_csv
from app.extensions import db
from app.measures.catalog import rounded
from app.measures.instruments import Score
from app.measures.report import AlertRecord, EpisodeRecord, OutcomesReport, outcomes_report
from app.patient.models import OutcomeResponse, Patient
from app.programs.models import EpisodeOfCare

FIRST_ACTIONS = ("alert.acknowledge", "alert.snooze", "alert.resolve")


@dataclass(frozen=True)
class OutcomesPage:
    report: OutcomesReport
    therapists: dict[int | None, str]
    therapist_id: int | None  # the filter, None = the whole clinic


def load_episodes(clinic: Clinic, start: date, end: date, now: datetime) -> list[EpisodeRecord]:
    """Return the clinic's episodes overlapping the period, as plain records."""
    rows = db.session.execute(
        sa.select(EpisodeOfCare, Patient.therapist_id)
        .join(Patient, Patient.id == EpisodeOfCare.patient_id)
        .where(
            Patient.clinic_id == clinic.id,
            EpisodeOfCare.start_date <= end,
            sa.or_(EpisodeOfCare.ended_on.is_(None), EpisodeOfCare.ended_on >= start),
        )
    ).all()
    episodes = [row[0] for row in rows]
    ids = [episode.id for episode in episodes]
    psfs: dict[int, list[tuple[date, Fraction]]] = defaultdict(list)
    if ids:
        for episode_id, day, result in db.session.execute(
            sa.select(
                OutcomeResponse.episode_id, OutcomeResponse.local_date, OutcomeResponse.result
            )
            .where(OutcomeResponse.episode_id.in_(ids), OutcomeResponse.instrument == "psfs")
            .order_by(OutcomeResponse.recorded_at, OutcomeResponse.id)
        ):
            psfs[episode_id].append((day, Score.from_dict(result).score))
    # Pain and adherence as of the end of the period (the end of its last day, UTC), never later.
    at = min(now, datetime.combine(end + timedelta(days=1), time(), UTC) - timedelta(seconds=1))
    current = [e.patient_id for e in episodes if e.ended_on is None]
    assessed = assess_patients(current, at) if current else {}
    alerts: dict[int, list[AlertRecord]] = defaultdict(list)
    patient_ids = list({episode.patient_id for episode in episodes})
    if patient_ids:
        alert_rows = db.session.execute(
            sa.select(Alert.id, Alert.patient_id, Alert.kind, Alert.created_at).where(
                Alert.patient_id.in_(patient_ids), Alert.clinic_id == clinic.id
            )
        ).all()
        first_action = dict(
            db.session.execute(
                sa.select(AuditEvent.object_id, sa.func.min(AuditEvent.created_at))
                .where(
                    AuditEvent.object_type == "alert",
                    AuditEvent.action.in_(FIRST_ACTIONS),
                    AuditEvent.object_id.in_([row.id for row in alert_rows] or [0]),
                )
                .group_by(AuditEvent.object_id)
            ).all()
        )
        for row in alert_rows:
            acted = first_action.get(row.id)
            if acted is not None and acted.tzinfo is None:
                acted = acted.replace(tzinfo=UTC)
            alerts[row.patient_id].append(
                AlertRecord(row.kind.value, row.created_at, acted if acted else None)
            )
    records = []
    for episode, therapist_id in rows:
        a = assessed.get(episode.patient_id) if episode.ended_on is None else None
        start_pain = a.baseline if a is not None else None
        end_pain = a.current if a is not None else None
        records.append(
            EpisodeRecord(
                episode_id=episode.id,
                therapist_id=therapist_id,
                start=episode.start_date,
                ended_on=episode.ended_on,
                psfs=psfs[episode.id],
                pain_start=start_pain,
                pain_end=end_pain,
                adherence_14d=a.adherence_ratio if a is not None else None,
                # An alert belongs to the patient's current episode (alerts name no episode).
                alerts=[
                    alert
                    for alert in alerts[episode.patient_id]
                    if alert.raised_at.date() >= episode.start_date
                    and (episode.ended_on is None or alert.raised_at.date() <= episode.ended_on)
                ],
            )
        )
    return records


def clinic_outcomes(
    clinic: Clinic, start: date, end: date, now: datetime, *, therapist_id: int | None = None
) -> OutcomesPage:
    """Return the report of a period for the clinic page and its CSV."""
    report = outcomes_report(load_episodes(clinic, start, end, now), start, end)
    names: dict[int | None, str] = {
        user.id: user.name
        for user in db.session.scalars(
            sa.select(User).where(User.clinic_id == clinic.id, User.role != Role.PATIENT)
        )
    }
    names[None] = "Not assigned"
    return OutcomesPage(report, names, therapist_id)


def _share(value: Fraction | None) -> Decimal | None:
    # Numbers, not text: a negative change must not be mistaken for a formula and quoted.
    return rounded(None if value is None else value * 100, 1)


def _num(value: Fraction | None, places: int = 2) -> Decimal | None:
    return rounded(value, places)


HEADER = (
    "group",
    "period_start",
    "period_end",
    "episodes",
    "psfs_measured",
    "psfs_mic_met",
    "psfs_mic_met_percent",
    "pain_measured",
    "median_pain_change",
    "pain_improved",
    "pain_improved_percent",
    "adherence_measured",
    "median_adherence_14d",
    "alert_kind",
    "alerts_raised",
    "alerts_actioned",
    "median_hours_to_first_action",
)


def outcomes_csv(page: OutcomesPage) -> str:
    """The report as CSV: one row per group (clinic, each therapist), then one per alert kind."""
    report = page.report
    groups = [("Clinic", report.clinic)]
    groups += [(page.therapists.get(t, f"User {t}"), s) for t, s in report.by_therapist.items()]
    rows = []
    for name, stats in groups:
        base = [
            name,
            report.period_start,
            report.period_end,
            stats.episodes,
            stats.function_measured,
            stats.function_mic_met,
            _share(stats.function_mic_share),
            stats.pain_measured,
            _num(stats.median_pain_change),
            stats.pain_improved,
            _share(stats.pain_improved_share),
            stats.adherence_measured,
            _num(stats.median_adherence),
        ]
        rows.append([*base, "", "", "", ""])
        for kind in stats.alerts:
            rows.append(
                [
                    *base,
                    kind.kind,
                    kind.raised,
                    kind.actioned,
                    _num(kind.median_hours_to_action, 1),
                ]
            )
    out = io.StringIO()
    write_csv(out, HEADER, rows)
    return out.getvalue()

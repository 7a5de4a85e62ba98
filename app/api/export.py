"""Data that leaves with the patient (DESIGN §4 "Export"): a FHIR R4 Bundle and CSV.

Every export is audited as a read of the patient's record; a clinician reaches only patients
they may see (another clinic's, or an unassigned therapist's, answer 404), a patient only
themselves.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from flask import Response, current_app
from flask_login import current_user
from sqlalchemy.orm import selectinload

from app import audit
from app.access import get_patient_or_404
from app.api.core import api_route, own_patient
from app.caseload.queries import caseload
from app.clinical import numbers
from app.db import utcnow
from app.enums import Role, Severity
from app.export import build_bundle, csv_text
from app.export.loader import export_records
from app.extensions import db
from app.patient.models import Patient, Session, SessionExercise
from app.programs.models import ProgramItem

CLINICIANS = (Role.THERAPIST, Role.ADMIN)
FHIR_JSON = "application/fhir+json"


def _bundle_response(patient: Patient, filename: str) -> Response:
    now = utcnow()
    bundle = build_bundle(
        export_records(patient, now),
        base_url=current_app.config["PUBLIC_BASE_URL"],
        generated_at=now,
    )
    audit.record(
        "patient.export",
        actor=current_user,
        patient=patient,
        object_type="patient",
        object_id=patient.id,
        details={"format": "fhir"},
    )
    response = current_app.json.response(bundle)
    response.mimetype = FHIR_JSON
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _csv(text: str, filename: str) -> Response:
    response = Response(text.encode("utf-8"), mimetype="text/csv")
    response.charset = "utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@api_route(
    "/patients/<int:patient_id>/fhir",
    "get",
    "The patient's record as a FHIR R4 collection Bundle (application/fhir+json)",
    responses={200: ("A FHIR R4 Bundle of type collection", None)},
    tags=("export",),
    roles=CLINICIANS,
)
def api_patient_fhir(patient_id: int) -> Response:
    patient = get_patient_or_404(current_user, patient_id)
    return _bundle_response(patient, f"homestretch-{patient.record_number}.fhir.json")


@api_route(
    "/me/export",
    "get",
    "Your own record as a FHIR R4 collection Bundle: your right of access",
    responses={200: ("A FHIR R4 Bundle of type collection", None)},
    tags=("export",),
    roles=(Role.PATIENT,),
)
def api_my_export() -> Response:
    return _bundle_response(own_patient(), "my-homestretch-record.fhir.json")


SESSION_COLUMNS = (
    "session_id",
    "local_date",
    "completed_at",
    "stage",
    "pain_before",
    "pain_after",
    "peak_pain",
    "effort",
    "light",
    "counted",
    "notes",
    "exercise",
    "exercise_status",
    "sets_done",
    "reps_done",
    "hold_seconds",
    "pain_during",
    "skip_reason",
)


@api_route(
    "/patients/<int:patient_id>/sessions.csv",
    "get",
    "The patient's sessions as CSV: one row per session and exercise result",
    responses={200: ("UTF-8 CSV with a header row", None)},
    tags=("export",),
    roles=CLINICIANS,
)
def api_sessions_csv(patient_id: int) -> Response:
    patient = get_patient_or_404(current_user, patient_id)
    sessions = db.session.scalars(
        db.select(Session)
        .where(Session.patient_id == patient.id)
        .options(
            selectinload(Session.exercises)
            .selectinload(SessionExercise.program_item)
            .selectinload(ProgramItem.exercise)
        )
        .order_by(Session.completed_at, Session.id)
    )
    rows = []
    for s in sessions:
        session_cells = {
            "session_id": s.client_id,
            "local_date": s.local_date,
            "completed_at": s.completed_at,
            "stage": s.stage,
            "pain_before": s.pain_before,
            "pain_after": s.pain_after,
            "peak_pain": s.peak_pain,
            "effort": s.effort,
            "light": s.light,
            "counted": s.completed,
            "notes": s.notes,
        }
        for e in s.exercises or [None]:
            rows.append(
                session_cells
                | (
                    {
                        "exercise": e.program_item.exercise.name,
                        "exercise_status": e.status,
                        "sets_done": e.sets_done,
                        "reps_done": e.reps_done,
                        "hold_seconds": e.hold_seconds,
                        "pain_during": e.pain_during,
                        "skip_reason": e.skip_reason,
                    }
                    if e is not None
                    else {}
                )
            )
    audit.record(
        "patient.export",
        actor=current_user,
        patient=patient,
        object_type="patient",
        object_id=patient.id,
        details={"format": "sessions.csv"},
    )
    return _csv(csv_text(SESSION_COLUMNS, rows), f"sessions-{patient.record_number}.csv")


CASELOAD_COLUMNS = (
    "id",
    "name",
    "email",
    "stage",
    "program_day",
    "adherence_14d",
    "baseline",
    "current",
    "pain_status",
    "last_activity",
    "data_days",
    "data_period_start",
    "data_period_end",
    "open_alerts_urgent",
    "open_alerts_high",
    "open_alerts_medium",
    "open_alerts_low",
    "open_alerts_info",
    "unread_messages",
    "psfs_latest",
    "psfs_change",
)


def _decimal(value: Fraction | None, places: int) -> Decimal | None:
    """An exact value as the pages round it (halves away from zero), as a number cell."""
    return None if value is None else Decimal(numbers.fixed(value, places))


@api_route(
    "/caseload.csv",
    "get",
    "The caller's caseload as CSV, in the caseload's priority order",
    responses={200: ("UTF-8 CSV with a header row", None)},
    tags=("export",),
    roles=CLINICIANS,
)
def api_caseload_csv() -> Response:
    rows = [
        {
            "id": r.id,
            "name": r.name,
            "email": r.email,
            "stage": r.stage,
            "program_day": r.program_day,
            "adherence_14d": _decimal(r.adherence, 3),
            "baseline": _decimal(r.baseline, 1),
            "current": _decimal(r.current, 1),
            "pain_status": r.pain_status,
            "last_activity": r.last_activity,
            "data_days": r.data_days.days,
            "data_period_start": r.data_days.period_start,
            "data_period_end": r.data_days.period_end,
            **{
                f"open_alerts_{severity}": r.open_alerts.get(severity, 0)
                for severity in Severity  # most serious first
            },
            "unread_messages": r.unread_messages,
            "psfs_latest": _decimal(r.function.latest, 1) if r.function else None,
            "psfs_change": (
                _decimal(r.function.latest - r.function.first, 1)
                if r.function and r.function.count > 1
                else None
            ),
        }
        for r in caseload(current_user, utcnow())
    ]
    audit.record(
        "caseload.export",
        actor=current_user,
        clinic_id=current_user.clinic_id,
        details={"rows": len(rows)},
    )
    return _csv(csv_text(CASELOAD_COLUMNS, rows), "caseload.csv")

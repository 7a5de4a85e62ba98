"""Read-side queries for the therapist's pages; a fixed number of SQL queries per page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from app.access import patient_scope
from app.auth.models import User
from app.enums import ProgramStatus
from app.extensions import db
from app.patient.models import CheckIn, Patient, Session
from app.programs.models import Program


@dataclass(frozen=True)
class PatientRow:
    id: int
    name: str
    email: str | None
    timezone: str
    therapist_name: str | None
    stage: int | None
    program_status: ProgramStatus | None
    invited: bool
    last_activity: datetime | None


def patient_rows(user: User) -> list[PatientRow]:
    """Return the user's patients with stage and last activity, by name, in one query."""
    last_session = (
        sa.select(Session.patient_id, sa.func.max(Session.completed_at).label("at"))
        .group_by(Session.patient_id)
        .subquery()
    )
    last_check_in = (
        sa.select(CheckIn.patient_id, sa.func.max(CheckIn.recorded_at).label("at"))
        .group_by(CheckIn.patient_id)
        .subquery()
    )
    therapist = aliased(User)
    patient_user = aliased(User)
    rows = db.session.execute(
        sa.select(
            Patient.id,
            patient_user.name,
            patient_user.email,
            patient_user.password_hash.is_(None).label("invited"),
            Patient.timezone,
            therapist.name.label("therapist_name"),
            Program.stage,
            Program.status,
            last_session.c.at.label("last_session"),
            last_check_in.c.at.label("last_check_in"),
        )
        .join(patient_user, patient_user.id == Patient.user_id)
        .outerjoin(therapist, therapist.id == Patient.therapist_id)
        .outerjoin(
            Program,
            sa.and_(Program.patient_id == Patient.id, Program.status != ProgramStatus.ENDED),
        )
        .outerjoin(last_session, last_session.c.patient_id == Patient.id)
        .outerjoin(last_check_in, last_check_in.c.patient_id == Patient.id)
        .where(patient_scope(user), Patient.archived_at.is_(None))
        .order_by(patient_user.name, Patient.id)
    )
    return [
        PatientRow(
            id=row.id,
            name=row.name,
            email=row.email,
            timezone=row.timezone,
            therapist_name=row.therapist_name,
            stage=row.stage,
            program_status=row.status,
            invited=row.invited,
            last_activity=max(
                (at for at in (row.last_session, row.last_check_in) if at is not None),
                default=None,
            ),
        )
        for row in rows
    ]

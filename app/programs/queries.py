"""Read-side queries for the exercise library."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app.enums import ProgramStatus
from app.extensions import db
from app.patient.models import Patient
from app.programs.models import Exercise, Program


def library_scope(clinic_id: int) -> sa.ColumnElement[bool]:
    """Built-in exercises and the clinic's own (DESIGN §2); nothing of other clinics."""
    return sa.or_(Exercise.clinic_id.is_(None), Exercise.clinic_id == clinic_id)


def library(
    clinic_id: int,
    *,
    search: str = "",
    stage: int | None = None,
    target: str = "",
    include_archived: bool = False,
) -> list[Exercise]:
    query = sa.select(Exercise).where(library_scope(clinic_id))
    if not include_archived:
        query = query.where(Exercise.archived_at.is_(None))
    if search:
        pattern = f"%{search.strip().lower()}%"
        query = query.where(
            sa.or_(
                sa.func.lower(Exercise.name).like(pattern),
                sa.func.lower(Exercise.target).like(pattern),
            )
        )
    if stage is not None:
        query = query.where(Exercise.stage_from <= stage, Exercise.stage_to >= stage)
    if target:
        query = query.where(sa.func.lower(Exercise.target).like(f"%{target.strip().lower()}%"))
    return list(db.session.scalars(query.order_by(Exercise.stage_from, Exercise.name, Exercise.id)))


def targets(clinic_id: int) -> list[str]:
    """Return the distinct single targets named in the library, for the filter."""
    words: set[str] = set()
    for value in db.session.scalars(
        sa.select(Exercise.target).where(library_scope(clinic_id), Exercise.archived_at.is_(None))
    ):
        words.update(part.strip() for part in value.split(",") if part.strip())
    return sorted(words)


def get_exercise(clinic_id: int, exercise_id: int) -> Exercise | None:
    return db.session.scalar(
        sa.select(Exercise).where(Exercise.id == exercise_id, library_scope(clinic_id))
    )


def current_program(patient: Patient, *options: Any) -> Program | None:
    """Return the patient's program in force (active, paused or suspended), if any."""
    return db.session.scalar(
        sa.select(Program)
        .where(Program.patient_id == patient.id, Program.status != ProgramStatus.ENDED)
        .options(*options)
    )

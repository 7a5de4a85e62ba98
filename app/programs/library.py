"""Library services: a clinic's own exercises (built-in ones are read-only)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from app import audit
from app.auth.models import User
from app.errors import ValidationFailed
from app.extensions import db
from app.figures.service import figure_error
from app.programs.models import Exercise
from app.programs.services import check_dosage


@dataclass(frozen=True)
class ExerciseData:
    name: str
    target: str
    steps: tuple[str, ...]
    dosage: dict[str, Any]
    stage_from: int = 1
    stage_to: int = 1
    summary: str = ""
    position: str = ""
    cues: tuple[str, ...] = ()
    safety: str = ""
    easier_note: str | None = None
    harder_note: str | None = None
    figure: dict[str, str] | None = None


def lines(text: str | None) -> tuple[str, ...]:
    return tuple(line.strip() for line in (text or "").splitlines() if line.strip())


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:70] or "exercise"


def _check(data: ExerciseData) -> dict[str, Any]:
    errors: dict[str, str] = {}
    if not data.name.strip():
        errors["name"] = "Give the exercise a name."
    if not data.target.strip():
        errors["target"] = "Say what it trains."
    if not data.steps:
        errors["steps"] = "Write at least one step."
    if (message := figure_error(data.figure)) is not None:
        errors["figure"] = message
    if not (1 <= data.stage_from <= data.stage_to <= 4):
        errors["stage_to"] = "The last stage cannot come before the first."
    try:
        dosage = check_dosage(data.dosage)
    except ValidationFailed as exc:
        errors.update(exc.errors)
        dosage = {}
    if errors:
        raise ValidationFailed(errors)
    return dosage


def _apply(exercise: Exercise, data: ExerciseData, dosage: dict[str, Any]) -> None:
    exercise.name = data.name.strip()
    exercise.target = data.target.strip()
    exercise.summary = data.summary.strip()
    exercise.position = data.position.strip()
    exercise.steps = list(data.steps)
    exercise.cues = list(data.cues)
    exercise.safety = data.safety.strip()
    exercise.stage_from = data.stage_from
    exercise.stage_to = data.stage_to
    exercise.easier_note = (data.easier_note or "").strip() or None
    exercise.harder_note = (data.harder_note or "").strip() or None
    exercise.figure = dict(data.figure) if data.figure else None
    for field, value in dosage.items():
        setattr(exercise, field, value)


def create_exercise(clinic_id: int, data: ExerciseData, *, by: User, now: datetime) -> Exercise:
    dosage = _check(data)
    base = _slug(data.name)
    taken = set(
        db.session.scalars(
            sa.select(Exercise.slug).where(
                Exercise.clinic_id == clinic_id, Exercise.slug.like(f"{base}%")
            )
        )
    )
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    exercise = Exercise(clinic_id=clinic_id, slug=slug, created_at=now, updated_at=now)
    _apply(exercise, data, dosage)
    db.session.add(exercise)
    db.session.flush()
    audit.record(
        "exercise.create", actor=by, object_type="exercise", object_id=exercise.id, now=now
    )
    return exercise


def _own(exercise: Exercise, by: User) -> None:
    if exercise.clinic_id is None:
        raise ValidationFailed({"exercise": "Built-in exercises are read-only; copy it instead."})
    if exercise.clinic_id != by.clinic_id:
        raise ValidationFailed({"exercise": "This exercise belongs to another clinic."})


def update_exercise(exercise: Exercise, data: ExerciseData, *, by: User, now: datetime) -> None:
    _own(exercise, by)
    dosage = _check(data)
    _apply(exercise, data, dosage)
    exercise.updated_at = now
    audit.record(
        "exercise.update", actor=by, object_type="exercise", object_id=exercise.id, now=now
    )


def set_archived(exercise: Exercise, archived: bool, *, by: User, now: datetime) -> None:
    """Archive (hide from the library and from new programs) or restore a clinic exercise."""
    _own(exercise, by)
    exercise.archived_at = now if archived else None
    audit.record(
        "exercise.archive" if archived else "exercise.restore",
        actor=by,
        object_type="exercise",
        object_id=exercise.id,
        now=now,
    )

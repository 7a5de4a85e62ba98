"""Load the built-in staged content from its data file, idempotently.

Re-running never duplicates: exercises and the template are matched by slug and updated in
place, so an edited file updates the library (CLINICAL §7 content lives in app/content/).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from app.enums import Side
from app.extensions import db
from app.programs.models import Exercise, RoutineTemplate, TemplateStage, TemplateStageExercise

CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"
BUILTIN_FILES = ("low_back_core_stability.json",)
BUILTIN_TEMPLATE = "low-back-core-stability"

EXERCISE_FIELDS = (
    "name",
    "target",
    "summary",
    "position",
    "steps",
    "cues",
    "safety",
    "dose_text",
    "easier_note",
    "harder_note",
    "translations",  # the same texts in other languages (issue 16)
)


@dataclass(frozen=True)
class LoadReport:
    created: int
    updated: int


def load_builtin_content(now: datetime) -> LoadReport:
    created = updated = 0
    for name in BUILTIN_FILES:
        data = json.loads((CONTENT_DIR / name).read_text(encoding="utf-8"))
        c, u = _load(data, now)
        created += c
        updated += u
    db.session.flush()
    return LoadReport(created, updated)


def _load(data: dict[str, Any], now: datetime) -> tuple[int, int]:
    existing = {
        e.slug: e
        for e in db.session.scalars(sa.select(Exercise).where(Exercise.clinic_id.is_(None)))
    }
    created = updated = 0
    for entry in data["exercises"]:
        exercise = existing.get(entry["slug"])
        if exercise is None:
            exercise = Exercise(slug=entry["slug"], clinic_id=None, created_at=now)
            db.session.add(exercise)
            existing[entry["slug"]] = exercise
            created += 1
        if _apply_exercise(exercise, entry, now):
            updated += 0 if exercise.id is None else 1
    db.session.flush()
    for entry in data["exercises"]:
        exercise = existing[entry["slug"]]
        easier_id = existing[entry["easier"]].id if entry.get("easier") else None
        harder_id = existing[entry["harder"]].id if entry.get("harder") else None
        if (exercise.easier_id, exercise.harder_id) != (easier_id, harder_id):
            exercise.easier_id = easier_id
            exercise.harder_id = harder_id
            exercise.updated_at = now

    spec = data["template"]
    template = db.session.scalar(
        sa.select(RoutineTemplate).where(
            RoutineTemplate.clinic_id.is_(None), RoutineTemplate.slug == spec["slug"]
        )
    )
    if template is None:
        template = RoutineTemplate(slug=spec["slug"], clinic_id=None, created_at=now)
        db.session.add(template)
        created += 1
    template.name = spec["name"]
    template.description = spec.get("description", "")
    template.content_version = data.get("version", 1)
    for stage_spec in spec["stages"]:
        stage = template.stage(stage_spec["number"])
        if stage is None:
            stage = TemplateStage(number=stage_spec["number"])
            template.stages.append(stage)
        for field in (
            "name",
            "aim",
            "frequency",
            "sessions_per_week",
            "progression_criteria",
            "translations",
        ):
            if getattr(stage, field) != stage_spec.get(field):
                setattr(stage, field, stage_spec.get(field))
        wanted = [existing[slug] for slug in stage_spec["default_session"]]
        if [link.exercise for link in stage.default_exercises] != wanted:
            stage.default_exercises.clear()
            db.session.flush()
            for position, exercise in enumerate(wanted, start=1):
                stage.default_exercises.append(
                    TemplateStageExercise(exercise=exercise, position=position)
                )
    return created, updated


def _apply_exercise(exercise: Exercise, entry: dict[str, Any], now: datetime) -> bool:
    """Copy the file's fields onto the row; return True if anything changed."""
    values: dict[str, Any] = {field: entry.get(field) for field in EXERCISE_FIELDS}
    values["stage_from"] = min(entry["stages"])
    values["stage_to"] = max(entry["stages"])
    dosage = entry["dosage"]
    values.update(
        sets=dosage["sets"],
        reps=dosage.get("reps"),
        reps_per_set=dosage.get("reps_per_set"),
        hold_seconds=dosage.get("hold_seconds"),
        duration_seconds=dosage.get("duration_seconds"),
        distance_m=dosage.get("distance_m"),
        rest_seconds=dosage.get("rest_seconds") or 0,
        side=Side(dosage.get("side") or "both"),
        load=dosage.get("load"),
    )
    changed = False
    for field, value in values.items():
        if getattr(exercise, field) != value:
            setattr(exercise, field, value)
            changed = True
    if changed:
        exercise.updated_at = now
    return changed

"""Load the built-in staged content idempotently (CLINICAL §7; app/programs/content.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.programs import content
from app.programs.content import BUILTIN_TEMPLATE, LoadReport, load_builtin_content
from app.programs.models import (
    Exercise,
    RoutineTemplate,
    TemplateStage,
    TemplateStageExercise,
)
from tests.conftest import PatientBundle

FIRST_LOAD = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
SECOND_LOAD = datetime(2026, 3, 20, 8, 0, tzinfo=UTC)
SHIPPED = content.CONTENT_DIR / "low_back_core_stability.json"
DATA: dict[str, Any] = json.loads(SHIPPED.read_text(encoding="utf-8"))
TABLES = (Exercise, RoutineTemplate, TemplateStage, TemplateStageExercise)


def count(model: type) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def exercise(slug: str) -> Exercise:
    return db.session.scalars(
        sa.select(Exercise).where(Exercise.slug == slug, Exercise.clinic_id.is_(None))
    ).one()


def template() -> RoutineTemplate:
    return db.session.scalars(
        sa.select(RoutineTemplate).where(RoutineTemplate.slug == BUILTIN_TEMPLATE)
    ).one()


@pytest.fixture
def edited_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[Callable[[dict[str, Any]], None]], None]:
    """Return a function that points the loader at an edited copy of the shipped file."""

    def edit(change: Callable[[dict[str, Any]], None]) -> None:
        data = json.loads(SHIPPED.read_text(encoding="utf-8"))
        change(data)
        (tmp_path / SHIPPED.name).write_text(json.dumps(data, indent=2), encoding="utf-8")
        monkeypatch.setattr(content, "CONTENT_DIR", tmp_path)

    return edit


def entry(data: dict[str, Any], slug: str) -> dict[str, Any]:
    return next(e for e in data["exercises"] if e["slug"] == slug)


def test_the_first_load_creates_the_library_and_the_template():
    report = load_builtin_content(FIRST_LOAD)

    assert report == LoadReport(created=len(DATA["exercises"]) + 1, updated=0)
    assert count(Exercise) == len(DATA["exercises"])
    assert count(RoutineTemplate) == 1
    assert count(TemplateStage) == 4
    assert count(TemplateStageExercise) == sum(
        len(stage["default_session"]) for stage in DATA["template"]["stages"]
    )
    assert template().name == DATA["template"]["name"]


def test_loading_twice_creates_and_changes_nothing_the_second_time():
    load_builtin_content(FIRST_LOAD)
    db.session.commit()
    before = {model: count(model) for model in TABLES}
    rows = {e.slug: (e.id, e.updated_at) for e in db.session.scalars(sa.select(Exercise))}

    report = load_builtin_content(SECOND_LOAD)
    db.session.commit()
    db.session.expire_all()

    assert report == LoadReport(created=0, updated=0)
    assert {model: count(model) for model in TABLES} == before
    assert {e.slug: (e.id, e.updated_at) for e in db.session.scalars(sa.select(Exercise))} == rows


def test_every_loaded_exercise_is_stamped_with_the_load_time_given():
    load_builtin_content(FIRST_LOAD)
    db.session.commit()
    db.session.expire_all()

    stamps = {e.slug: e.updated_at for e in db.session.scalars(sa.select(Exercise))}
    assert {slug for slug, stamp in stamps.items() if stamp != FIRST_LOAD} == set()


def test_an_edited_data_file_updates_the_exercise_in_place(edited_content):
    load_builtin_content(FIRST_LOAD)
    db.session.commit()
    brace_id = exercise("abdominal-brace").id

    def change(data: dict[str, Any]) -> None:
        brace = entry(data, "abdominal-brace")
        brace["name"] = "Abdominal brace, lying"
        brace["cues"] = [*brace["cues"], "let the breath flow"]
        brace["dosage"]["reps"] = 12
        brace["dosage"]["side"] = "alternating"

    edited_content(change)
    report = load_builtin_content(SECOND_LOAD)
    db.session.commit()
    db.session.expire_all()

    assert report == LoadReport(created=0, updated=1)
    brace = exercise("abdominal-brace")
    assert brace.id == brace_id
    assert brace.name == "Abdominal brace, lying"
    assert brace.cues[-1] == "let the breath flow"
    assert (brace.reps, brace.side.value) == (12, "alternating")
    assert brace.updated_at == SECOND_LOAD
    assert exercise("cat-camel").updated_at == FIRST_LOAD
    assert count(Exercise) == len(DATA["exercises"])


def test_an_edited_data_file_adds_exercises_and_changes_default_sessions(edited_content):
    load_builtin_content(FIRST_LOAD)
    db.session.commit()

    def change(data: dict[str, Any]) -> None:
        new = json.loads(json.dumps(entry(data, "pelvic-tilt")))
        new.update(slug="standing-pelvic-tilt", name="Standing pelvic tilt")
        data["exercises"].append(new)
        first = data["template"]["stages"][0]
        first["default_session"] = ["standing-pelvic-tilt", *first["default_session"][:3]]
        first["sessions_per_week"] = 6
        data["template"]["name"] = "Low back core stability (2nd edition)"
        data["version"] = 2

    edited_content(change)
    report = load_builtin_content(SECOND_LOAD)
    db.session.commit()
    db.session.expire_all()

    assert report.created == 1
    stage = template().stage(1)
    assert stage is not None
    assert [link.exercise.slug for link in stage.default_exercises] == [
        "standing-pelvic-tilt",
        "diaphragmatic-breathing",
        "abdominal-brace",
        "cat-camel",
    ]
    assert [link.position for link in stage.default_exercises] == [1, 2, 3, 4]
    assert stage.sessions_per_week == 6
    assert template().name == "Low back core stability (2nd edition)"
    assert template().content_version == 2
    assert count(RoutineTemplate) == 1


def test_an_edited_variant_link_is_applied(edited_content):
    load_builtin_content(FIRST_LOAD)
    db.session.commit()

    def change(data: dict[str, Any]) -> None:
        entry(data, "bird-dog")["easier"] = "dead-bug"

    edited_content(change)
    load_builtin_content(SECOND_LOAD)
    db.session.commit()
    db.session.expire_all()

    assert exercise("bird-dog").easier is exercise("dead-bug")


def test_an_edited_dose_does_not_change_programs_already_assigned(
    make_patient: Callable[..., PatientBundle], edited_content
):
    bundle = make_patient(stage=1)
    assert bundle.program is not None
    brace_item = next(i for i in bundle.program.items if i.exercise.slug == "abdominal-brace")

    def change(data: dict[str, Any]) -> None:
        entry(data, "abdominal-brace")["dosage"]["reps"] = 15

    edited_content(change)
    load_builtin_content(SECOND_LOAD)
    db.session.commit()
    db.session.expire_all()

    assert exercise("abdominal-brace").reps == 15
    assert brace_item.reps == 10


def test_every_stage_default_session_holds_four_or_five_exercises_of_its_stage():
    load_builtin_content(FIRST_LOAD)

    stages = template().stages
    assert [stage.number for stage in stages] == [1, 2, 3, 4]
    for stage in stages:
        links = stage.default_exercises
        assert 4 <= len(links) <= 5, stage.number
        assert [link.position for link in links] == list(range(1, len(links) + 1))
        for link in links:
            assert link.exercise.stage_from <= stage.number <= link.exercise.stage_to


def test_easier_and_harder_links_point_at_library_entries():
    load_builtin_content(FIRST_LOAD)

    assert exercise("side-plank-from-feet").easier is exercise("side-bridge-from-knees")
    assert exercise("side-bridge-from-knees").harder is exercise("side-plank-from-feet")
    assert exercise("graded-walking").easier is None
    for spec in DATA["exercises"]:
        row = exercise(spec["slug"])
        assert (row.easier.slug if row.easier else None) == spec["easier"]
        assert (row.harder.slug if row.harder else None) == spec["harder"]


def test_dosage_ranges_start_at_their_lower_end():
    load_builtin_content(FIRST_LOAD)

    curl_up = exercise("mcgill-curl-up")
    assert (curl_up.sets, curl_up.reps_per_set, curl_up.hold_seconds) == (3, [5, 3, 1], 10)
    carry = exercise("suitcase-carry")
    assert (carry.sets, carry.distance_m) == (3, 20)
    breathing = exercise("diaphragmatic-breathing")
    assert (breathing.duration_seconds, breathing.reps) == (300, None)
    assert exercise("cat-camel").reps == 6

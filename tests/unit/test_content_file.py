"""Check the built-in *Low back core stability* content file (CLINICAL.md §7, DESIGN.md §2)."""

import json
import re
from pathlib import Path

import pytest

CONTENT_FILE = (
    Path(__file__).resolve().parents[2] / "app" / "content" / "low_back_core_stability.json"
)
SIDES = {"left", "right", "both", "alternating"}
DOSAGE_FIELDS = {
    "sets",
    "reps",
    "reps_per_set",
    "hold_seconds",
    "duration_seconds",
    "distance_m",
    "rest_seconds",
    "side",
    "load",
}
AMOUNT_FIELDS = ("reps", "reps_per_set", "duration_seconds", "distance_m", "hold_seconds")
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")

RAW = CONTENT_FILE.read_text(encoding="utf-8")
CONTENT = json.loads(RAW)
TEMPLATE = CONTENT["template"]
EXERCISES = CONTENT["exercises"]
BY_SLUG = {exercise["slug"]: exercise for exercise in EXERCISES}


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


each_exercise = pytest.mark.parametrize(
    "exercise", EXERCISES, ids=[exercise["slug"] for exercise in EXERCISES]
)


def test_file_is_written_with_two_space_indent_and_plain_utf8():
    assert json.dumps(CONTENT, indent=2, ensure_ascii=False) + "\n" == RAW


def test_library_holds_at_least_24_exercises_with_unique_slugs():
    slugs = [exercise["slug"] for exercise in EXERCISES]
    assert len(slugs) >= 24
    assert len(set(slugs)) == len(slugs)


def test_template_and_exercise_slugs_are_lowercase_hyphenated():
    for slug in [TEMPLATE["slug"], *BY_SLUG]:
        assert SLUG.match(slug), slug


@each_exercise
def test_easier_and_harder_links_name_other_exercises_in_the_file(exercise):
    for link in ("easier", "harder"):
        target = exercise[link]
        if target is not None:
            assert target in BY_SLUG, f"{exercise['slug']}.{link} -> {target}"
            assert target != exercise["slug"]


def test_template_has_four_stages_numbered_one_to_four():
    assert [stage["number"] for stage in TEMPLATE["stages"]] == [1, 2, 3, 4]


@pytest.mark.parametrize("stage", TEMPLATE["stages"], ids=lambda stage: f"stage-{stage['number']}")
def test_each_default_session_holds_four_or_five_known_exercises_of_its_stage(stage):
    session = stage["default_session"]
    assert 4 <= len(session) <= 5
    assert len(set(session)) == len(session)
    for slug in session:
        assert slug in BY_SLUG, slug
        assert stage["number"] in BY_SLUG[slug]["stages"], slug


def test_stage_one_progression_asks_therapist_to_confirm_braced_holds():
    criteria = TEMPLATE["stages"][0]["progression_criteria"]
    assert "10 × 10 s braced holds" in criteria
    assert "therapist" in criteria


@each_exercise
def test_exercise_belongs_to_valid_stages(exercise):
    assert exercise["stages"]
    assert set(exercise["stages"]) <= {1, 2, 3, 4}


@each_exercise
def test_every_exercise_has_at_least_three_steps_one_cue_and_an_easier_note(exercise):
    assert len(exercise["steps"]) >= 3
    assert len(exercise["cues"]) >= 1
    assert all(text.strip() for text in exercise["steps"] + exercise["cues"])
    assert exercise["easier_note"].strip()
    assert exercise["safety"].strip()


@each_exercise
def test_dosage_fields_are_valid(exercise):
    dosage = exercise["dosage"]
    assert set(dosage) == DOSAGE_FIELDS
    assert _is_count(dosage["sets"])
    assert dosage["side"] in SIDES
    for field in ("reps", "hold_seconds", "duration_seconds", "distance_m"):
        assert dosage[field] is None or _is_count(dosage[field]), field
    if dosage["hold_seconds"] is not None:
        assert dosage["hold_seconds"] <= 300
    rest = dosage["rest_seconds"]
    assert isinstance(rest, int) and 0 <= rest <= 300
    assert dosage["load"] is None or dosage["load"].strip()


@each_exercise
def test_pyramid_reps_per_set_are_positive_and_descending_with_one_entry_per_set(exercise):
    dosage = exercise["dosage"]
    pyramid = dosage["reps_per_set"]
    if pyramid is None:
        return
    assert dosage["reps"] is None
    assert len(pyramid) == dosage["sets"]
    assert all(_is_count(reps) for reps in pyramid)
    assert pyramid == sorted(pyramid, reverse=True)


@each_exercise
def test_every_dosage_says_how_much_to_do(exercise):
    dosage = exercise["dosage"]
    assert any(dosage[field] is not None for field in AMOUNT_FIELDS)


def test_stage_four_offers_at_least_five_exercises():
    assert sum(4 in exercise["stages"] for exercise in EXERCISES) >= 5

"""Figures over HTTP (DESIGN §4 "Figures"): public, cacheable, inert SVG for every exercise."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.programs.models import Exercise

MAX_BYTES = 4096


@pytest.fixture
def bundle(make_patient):
    return make_patient(start_days_ago=3)


@pytest.fixture
def as_therapist(app, login, bundle):
    return login(bundle.therapist, test_client=app.test_client())


@pytest.fixture
def as_patient(app, login, bundle):
    return login(bundle.user, test_client=app.test_client())


def test_the_library_lists_every_exercise_with_a_figure_that_answers_inert_svg(app, as_therapist):
    library = as_therapist.get("/api/v1/exercises")

    assert library.status_code == 200
    exercises = library.get_json()["exercises"]
    assert exercises and all(e["figure_url"] for e in exercises if e["builtin"])
    assert set(exercises[0]) == {
        "slug",
        "name",
        "stage",
        "stages",
        "target",
        "builtin",
        "figure_url",
    }
    anonymous = app.test_client()
    for entry in exercises:
        for suffix in ("", "&frame=start", "&frame=end"):
            answer = anonymous.get(entry["figure_url"] + suffix)
            assert answer.status_code == 200, entry["slug"]
            assert answer.mimetype == "image/svg+xml"
            assert len(answer.data) <= MAX_BYTES
            assert answer.headers["Content-Security-Policy"] == (
                "default-src 'none'; style-src 'unsafe-inline'"
            )
            assert "max-age=31536000" in answer.headers["Cache-Control"]
            assert "Set-Cookie" not in answer.headers
            svg = answer.get_data(as_text=True)
            assert 'role="img"' in svg and "<title" in svg and "<script" not in svg


def test_still_frames_differ_from_each_other_and_do_not_move(app, builtin_content):
    client = app.test_client()

    moving = client.get("/figures/bird-dog.svg").get_data(as_text=True)
    start = client.get("/figures/bird-dog.svg?frame=start").get_data(as_text=True)
    end = client.get("/figures/bird-dog.svg?frame=end").get_data(as_text=True)

    assert start != end
    assert "@keyframes" in moving and "@keyframes" not in start + end


def test_a_repeated_request_for_a_figure_is_answered_not_modified(app, builtin_content):
    client = app.test_client()
    first = client.get("/figures/glute-bridge.svg")

    again = client.get(
        "/figures/glute-bridge.svg", headers={"If-None-Match": first.headers["ETag"]}
    )

    assert again.status_code == 304


@pytest.mark.parametrize(
    "path, status",
    [
        ("/figures/bird-dog.svg?frame=middle", 400),
        ("/figures/no-such-exercise.svg", 404),
        ("/figures/Bird_Dog!.svg", 404),
        ("/figures/bird-dog.svg?clinic=abc", 404),
        ("/figures/bird-dog.svg?clinic=99999999999999999999", 404),
        ("/figures/poses/standing/no-such-pose.svg", 404),
        # A side view and a view from above cannot be blended into one movement.
        ("/figures/poses/standing/supine-from-above.svg", 404),
    ],
)
def test_bad_figure_requests_answer_4xx_not_5xx(app, builtin_content, path, status):
    assert app.test_client().get(path).status_code == status


def test_todays_items_carry_figure_urls_that_draw(app, as_patient):
    today = as_patient.get("/api/v1/me/today").get_json()

    urls = [item["exercise"]["figure_url"] for item in today["items"]]
    assert urls and all(urls)
    assert all(app.test_client().get(url).status_code == 200 for url in urls)


def clinic_exercise_form(**overrides: str) -> dict[str, str]:
    return {
        "name": "Wall sit",
        "target": "Thighs",
        "steps": "Lean against a wall\nSlide down until your knees bend",
        "stage_from": "2",
        "stage_to": "3",
        "sets": "2",
        "hold_seconds": "20",
        "rest_seconds": "30",
        "side": "both",
        "figure": "poses",
        "figure_start": "standing",
        "figure_end": "squat-lift",
    } | overrides


def test_a_clinic_exercise_takes_two_library_poses_and_serves_them_for_its_clinic_only(
    app, as_therapist, bundle, make_user
):
    created = as_therapist.post("/programs/exercises/new", data=clinic_exercise_form())

    assert created.status_code == 302, created.get_data(as_text=True)
    exercise = db.session.scalar(sa.select(Exercise).where(Exercise.name == "Wall sit"))
    assert exercise.figure == {"start": "standing", "end": "squat-lift"}
    page = as_therapist.get(f"/programs/exercises/{exercise.id}").get_data(as_text=True)
    shown = re.search(r'src="(/figures/wall-sit\.svg\?[^"]+)"', page.replace("&amp;", "&"))
    assert shown and f"clinic={exercise.clinic_id}" in shown.group(1)
    url = shown.group(1)
    anonymous = app.test_client()
    svg = anonymous.get(url).get_data(as_text=True)
    assert "Lean against a wall" in svg  # its own words for a screen reader
    other = make_user().clinic_id
    assert anonymous.get(f"/figures/{exercise.slug}.svg?clinic={other}").status_code == 404
    assert anonymous.get(f"/figures/{exercise.slug}.svg").status_code == 404


def test_a_clinic_exercise_can_reuse_a_built_in_figure(as_therapist):
    created = as_therapist.post(
        "/programs/exercises/new", data=clinic_exercise_form(figure="builtin:bird-dog")
    )

    assert created.status_code == 302
    exercise = db.session.scalar(sa.select(Exercise).where(Exercise.name == "Wall sit"))
    assert exercise.figure == {"slug": "bird-dog"}


@pytest.mark.parametrize(
    "overrides",
    [
        {"figure": "builtin:no-such-exercise"},
        {"figure_end": "no-such-pose"},
        {"figure_end": "supine-from-above"},
    ],
)
def test_a_figure_that_cannot_be_drawn_is_refused_and_nothing_is_stored(as_therapist, overrides):
    refused = as_therapist.post("/programs/exercises/new", data=clinic_exercise_form(**overrides))

    assert refused.status_code == 422
    assert 'id="figure-error"' in refused.get_data(as_text=True)
    assert db.session.scalar(sa.select(Exercise).where(Exercise.name == "Wall sit")) is None


def test_copying_a_built_in_exercise_keeps_its_figure(as_therapist):
    exercise_id = db.session.scalar(sa.select(Exercise.id).where(Exercise.slug == "bird-dog"))

    form = as_therapist.get(f"/programs/exercises/new?copy={exercise_id}").get_data(as_text=True)

    assert '<option selected value="builtin:bird-dog">' in form
    assert "/figures/bird-dog.svg" in form

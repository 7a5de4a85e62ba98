"""The patient's JSON API (DESIGN §4): today, sessions and check-ins, idempotent by client id."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.clinical.red_flags import INSTRUCTIONS, WEEKLY_IDS, RedFlagLevel
from app.db import utcnow
from app.enums import ProgramStatus, Role
from app.extensions import db
from app.patient.models import CheckIn, Session, SessionExercise


def count(model: type) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def session_body(program, **changes) -> dict:
    done = utcnow() - timedelta(minutes=1)
    body = {
        "id": str(uuid.uuid4()),
        "program_id": program.id,
        "started_at": (done - timedelta(minutes=20)).isoformat(),
        "completed_at": done.isoformat(),
        "pain_before": 3,
        "pain_after": 2,
        "effort": 4,
        "notes": "felt fine",
        "exercises": [
            {"program_item_id": item.id, "status": "done", "sets_done": 1, "pain_during": 3}
            for item in program.items[:4]
        ],
    }
    body.update(changes)
    return body


@pytest.fixture
def patient(make_patient, login):
    bundle = make_patient()
    login(bundle.user)
    return bundle


# ---------------------------------------------------------------------------- today


def test_today_answers_with_exactly_the_design_fields(client, patient):
    answer = client.get("/api/v1/me/today").get_json()

    assert set(answer) == {
        "contact",  # the numbers to call after a red flag, kept on the phone for offline
        "program_id",
        "stage",
        "scheduled_today",
        "done_today",
        "status",
        "red_flags_due",
        "items",
    }
    assert answer["program_id"] == patient.program.id
    assert answer["status"] == "active"
    assert answer["red_flags_due"] == list(WEEKLY_IDS)  # never screened yet
    item = answer["items"][0]
    assert set(item) == {
        "id",
        "exercise",
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
    assert set(item["exercise"]) == {"slug", "name", "steps", "cues", "figure_url", "figure_alt"}
    assert item["exercise"]["slug"] == "diaphragmatic-breathing"


def test_today_says_none_with_no_items_when_nothing_is_assigned(client, make_patient, login):
    login(make_patient(stage=None).user)

    answer = client.get("/api/v1/me/today").get_json()

    assert answer["status"] == "none"
    assert answer["items"] == []
    assert answer["program_id"] is None


def test_today_shows_done_after_a_session(client, patient):
    client.post("/api/v1/sessions", json=session_body(patient.program))

    assert client.get("/api/v1/me/today").get_json()["done_today"] is True


# ---------------------------------------------------------------------------- sessions


def test_a_new_session_is_201_with_its_traffic_light_and_per_exercise_results(client, patient):
    response = client.post("/api/v1/sessions", json=session_body(patient.program))

    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    assert answer["light"] == "green"
    assert answer["light_provisional"] is True
    assert answer["light_message"] == "Good response — keep going"
    assert [e["status"] for e in answer["exercises"]] == ["done"] * 4 + ["not_done"]
    assert answer["completed"] is True
    assert count(Session) == 1
    assert count(SessionExercise) == 5


def test_an_identical_replay_is_200_with_the_same_body_whatever_the_key_order(client, patient):
    body = session_body(patient.program)
    first = client.post("/api/v1/sessions", json=body)
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=3)

    replay = client.post("/api/v1/sessions", data=reordered, content_type="application/json")

    assert replay.status_code == 200
    assert replay.get_json() == first.get_json()
    assert count(Session) == 1


def test_the_same_id_with_a_different_body_is_409_and_changes_nothing(client, patient):
    body = session_body(patient.program)
    client.post("/api/v1/sessions", json=body)

    response = client.post("/api/v1/sessions", json={**body, "pain_before": 7})

    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert count(Session) == 1
    assert db.session.scalar(sa.select(Session.pain_before)) == 3


def test_a_phone_clock_up_to_15_minutes_ahead_is_accepted(client, patient):
    ahead = (utcnow() + timedelta(minutes=14)).isoformat()

    response = client.post(
        "/api/v1/sessions", json=session_body(patient.program, completed_at=ahead)
    )

    assert response.status_code == 201


def _other_patients_item(make_patient):
    return make_patient().program.items[0].id


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        pytest.param({"pain_before": 11}, 422, "pain_before", id="pain-11"),
        pytest.param({"pain_before": "abc"}, 422, "pain_before", id="pain-abc"),
        pytest.param({"pain_after": -1}, 422, "pain_after", id="pain-after-negative"),
        pytest.param({"effort": 2.5}, 422, "effort", id="effort-fraction"),
        pytest.param({"completed_at": "FUTURE"}, 422, "completed_at", id="future-time"),
        pytest.param({"completed_at": "2026-03-01T10:00:00"}, 422, "completed_at", id="no-offset"),
        pytest.param({"id": None}, 422, "id", id="missing-id"),
        pytest.param({"id": "not-a-uuid"}, 422, "id", id="bad-id"),
        pytest.param({"exercises": []}, 422, "exercises", id="no-exercises"),
        pytest.param({"exercises": "OTHER"}, 422, "exercises[0].program_item_id", id="other-item"),
        pytest.param({"program_id": "OTHER"}, 404, "program_id", id="other-program"),
        pytest.param({"notes": "x" * 2001}, 422, "notes", id="notes-too-long"),
    ],
)
def test_bad_sessions_are_refused_with_problem_json_naming_the_field_and_nothing_is_stored(
    client, patient, make_patient, change, status, field
):
    body = session_body(patient.program)
    for name, value in change.items():
        if value is None:
            del body[name]
        elif value == "FUTURE":
            body[name] = (utcnow() + timedelta(minutes=16)).isoformat()
            del body["started_at"]
        elif value == "OTHER" and name == "exercises":
            body[name] = [{"program_item_id": _other_patients_item(make_patient), "status": "done"}]
        elif value == "OTHER":
            body[name] = make_patient().program.id
        else:
            body[name] = value

    response = client.post("/api/v1/sessions", json=body)

    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert {"type", "title", "status", "detail", "errors"} <= set(problem)
    assert field in {error["field"] for error in problem["errors"]}
    assert count(Session) == 0
    assert count(SessionExercise) == 0


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        pytest.param("[1, 2]", "application/json", 400, id="a-list"),
        pytest.param('"text"', "application/json", 400, id="a-string"),
        pytest.param("{not json", "application/json", 400, id="not-json"),
        pytest.param("pain_before=3", "application/x-www-form-urlencoded", 415, id="a-form"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_refused(client, patient, data, content_type, status):
    response = client.post("/api/v1/sessions", data=data, content_type=content_type)

    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert count(Session) == 0


def test_logged_out_is_401_and_a_therapist_is_403(client, make_patient, make_user, login):
    bundle = make_patient()
    assert client.post("/api/v1/sessions", json=session_body(bundle.program)).status_code == 401
    login(make_user(Role.THERAPIST))
    assert client.post("/api/v1/sessions", json=session_body(bundle.program)).status_code == 403
    assert count(Session) == 0


# ---------------------------------------------------------------------------- check-ins


def check_in_body(**changes) -> dict:
    body = {"id": str(uuid.uuid4()), "recorded_at": utcnow().isoformat(), "morning_pain": 3}
    body.update(changes)
    return body


def test_a_morning_check_in_answers_with_the_instruction_and_the_questions_due(client, patient):
    response = client.post(
        "/api/v1/checkins",
        json=check_in_body(red_flags=dict.fromkeys(WEEKLY_IDS, False), self_care=["heat"]),
    )

    assert response.status_code == 201
    answer = response.get_json()
    assert answer["instruction"] == {
        "level": "none",
        "text": INSTRUCTIONS[RedFlagLevel.NONE],
        "call": None,
    }
    assert answer["red_flags_due"] == []  # the full screen was just answered
    assert answer["self_care"] == ["heat"]


def test_an_emergency_answer_suspends_the_program_and_says_go_now(client, patient):
    response = client.post(
        "/api/v1/checkins", json=check_in_body(morning_pain=None, red_flags={"RF2": True})
    )

    assert response.status_code == 201
    assert response.get_json()["instruction"]["level"] == "emergency"
    db.session.refresh(patient.program)
    assert patient.program.status is ProgramStatus.SUSPENDED


def test_an_urgent_answer_pauses_the_program(client, patient):
    response = client.post("/api/v1/checkins", json=check_in_body(red_flags={"RF7": True}))

    assert response.get_json()["instruction"]["level"] == "urgent"
    db.session.refresh(patient.program)
    assert patient.program.status is ProgramStatus.PAUSED


def test_check_ins_are_idempotent_by_client_id(client, patient):
    body = check_in_body()
    first = client.post("/api/v1/checkins", json=body)
    replay = client.post("/api/v1/checkins", json=body)
    conflict = client.post("/api/v1/checkins", json={**body, "morning_pain": 9})

    assert (first.status_code, replay.status_code, conflict.status_code) == (201, 200, 409)
    assert replay.get_json() == first.get_json()
    assert count(CheckIn) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param({"morning_pain": 11}, "morning_pain", id="pain-11"),
        pytest.param({"red_flags": {"RF99": True}}, "red_flags.RF99", id="unknown-question"),
        pytest.param({"red_flags": {"RF1": "yes"}}, "red_flags.RF1", id="not-a-bool"),
        pytest.param({"self_care": ["yoga"]}, "self_care[0]", id="unknown-self-care"),
        pytest.param({"morning_pain": None}, "morning_pain", id="nothing-reported"),
    ],
)
def test_bad_check_ins_are_refused_and_nothing_is_stored(client, patient, change, field):
    response = client.post("/api/v1/checkins", json=check_in_body(**change))

    assert response.status_code == 422
    fields = {error["field"] for error in response.get_json()["errors"]}
    assert any(name.startswith(field) for name in fields), fields
    assert count(CheckIn) == 0


# ---------------------------------------------------------------------------- CSRF and docs


def test_replays_need_a_csrf_token_which_the_csrf_endpoint_gives(client, patient, csrf_enabled):
    body = session_body(patient.program)
    refused = client.post("/api/v1/sessions", json=body)
    token = client.get("/api/v1/csrf").get_json()["csrf_token"]
    accepted = client.post("/api/v1/sessions", json=body, headers={"X-CSRFToken": token})

    assert refused.status_code == 400
    assert refused.mimetype == "application/problem+json"
    assert accepted.status_code == 201


def test_the_openapi_document_describes_the_patient_endpoints(client):
    document = client.get("/api/v1/openapi.json").get_json()

    paths = document["paths"]
    assert {"/api/v1/me/today", "/api/v1/sessions", "/api/v1/checkins"} <= set(paths)
    session_schema = document["components"]["schemas"]["SessionIn"]
    assert {"id", "program_id", "completed_at", "pain_before", "exercises"} <= set(
        session_schema["required"]
    )
    assert session_schema["properties"]["pain_before"]["maximum"] == 10
    assert "409" in paths["/api/v1/sessions"]["post"]["responses"]

"""The inputs an outside security test found answering 500, each now a clear 4xx that changes
nothing (DESIGN §6). These run on SQLite and on PostgreSQL, where NUL characters and ids from
2**31 used to reach the database."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.auth.models import User
from app.extensions import db
from app.patient.models import CheckIn, Patient, Session
from app.programs.models import Exercise
from tests.conftest import PASSWORD

HUGE = [2**31, 2**63, 18446744073709551616]


def count(model: type) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


@pytest.fixture
def bundle(make_patient):
    return make_patient(start_days_ago=3)


@pytest.fixture
def as_patient(app, login, bundle):
    return login(bundle.user, test_client=app.test_client())


@pytest.fixture
def as_therapist(app, login, bundle):
    return login(bundle.therapist, test_client=app.test_client())


def session_body(bundle, **changes):  # type: ignore[no-untyped-def]
    body = {
        "id": str(uuid.uuid4()),
        "program_id": bundle.program.id,
        "completed_at": (bundle.program.start_date.isoformat() + "T18:00:00+00:00"),
        "pain_before": 3,
        "exercises": [{"program_item_id": bundle.program.items[0].id, "status": "done"}],
    }
    body.update(changes)
    return body


# ---------------------------------------------------------------------------- ids


@pytest.mark.parametrize("huge", HUGE)
def test_ids_beyond_the_database_range_are_404_in_urls(as_therapist, huge):
    for path in (
        f"/caseload/patients/{huge}",
        f"/programs/{huge}",
        f"/alerts/{huge}",
        f"/programs/exercises/{huge}",
        f"/api/v1/patients/{huge}/program",
    ):
        response = as_therapist.get(path)
        assert response.status_code in (404, 405), (path, response.status_code)


@pytest.mark.parametrize("huge", HUGE)
def test_ids_beyond_the_database_range_are_422_in_queries_and_bodies(
    as_therapist, as_patient, bundle, huge
):
    listed = as_therapist.get(f"/api/v1/alerts?patient_id={huge}")
    logged = as_patient.post("/api/v1/sessions", json=session_body(bundle, program_id=huge))
    item = as_patient.post(
        "/api/v1/sessions",
        json=session_body(bundle, exercises=[{"program_item_id": huge, "status": "done"}]),
    )

    assert listed.status_code == 422
    assert [e["field"] for e in listed.get_json()["errors"]] == ["patient_id"]
    assert logged.status_code == 422
    assert item.status_code == 422
    assert count(Session) == 0


def test_an_out_of_range_copy_or_stage_in_the_library_is_ignored(as_therapist):
    assert as_therapist.get(f"/programs/exercises/new?copy={2**40}").status_code == 200
    assert as_therapist.get(f"/programs/?stage={2**40}").status_code == 200


# ---------------------------------------------------------------------------- instants


@pytest.mark.parametrize(
    "instant",
    ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1970-01-01T00:00:00+00:00"],
)
def test_instants_outside_2000_to_2100_are_422_before_any_arithmetic(as_patient, bundle, instant):
    session = as_patient.post("/api/v1/sessions", json=session_body(bundle, completed_at=instant))
    started = as_patient.post("/api/v1/sessions", json=session_body(bundle, started_at=instant))
    check_in = as_patient.post(
        "/api/v1/checkins",
        json={"id": str(uuid.uuid4()), "recorded_at": instant, "morning_pain": 3},
    )

    for response, field in (
        (session, "completed_at"),
        (started, "started_at"),
        (check_in, "recorded_at"),
    ):
        assert response.status_code == 422, response.get_json()
        assert field in {e["field"] for e in response.get_json()["errors"]}
    assert count(Session) == count(CheckIn) == 0


def test_a_pain_reading_from_before_the_episode_is_refused(as_patient, bundle):
    before = bundle.program.start_date - timedelta(days=2)
    response = as_patient.post(
        "/api/v1/checkins",
        json={
            "id": str(uuid.uuid4()),
            "recorded_at": f"{before.isoformat()}T08:00:00+00:00",
            "morning_pain": 2,
        },
    )

    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == ["recorded_at"]
    assert count(CheckIn) == 0


@pytest.mark.parametrize("started_at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_the_players_hidden_start_time_is_ignored_when_it_cannot_be_a_time(
    as_patient, bundle, started_at
):
    page = as_patient.get(f"/session/{bundle.program.id}").get_data(as_text=True)
    client_id = page.split('name="client_id" type="hidden" value="')[1].split('"')[0]
    data = {"client_id": client_id, "started_at": started_at, "pain_before": "3"}
    for item in bundle.program.items:
        data[f"ex{item.id}-item_id"] = str(item.id)
        data[f"ex{item.id}-status"] = "done"

    response = as_patient.post(f"/session/{bundle.program.id}", data=data)

    assert response.status_code == 302
    stored = db.session.scalar(sa.select(Session))
    assert stored.started_at is None


# ---------------------------------------------------------------------------- bodies


def test_json_nested_thousands_of_levels_deep_is_400(as_patient):
    for body in ("[" * 5000 + "]" * 5000, '{"a":' * 5000 + "1" + "}" * 5000):
        response = as_patient.post("/api/v1/sessions", data=body, content_type="application/json")
        assert response.status_code == 400
        assert response.mimetype == "application/problem+json"


def test_a_body_over_one_megabyte_is_413_and_not_read(as_patient, as_therapist):
    big = "x" * (1024 * 1024 + 1)
    api = as_patient.post("/api/v1/sessions", data=big, content_type="application/json")
    page = as_therapist.post("/caseload/patients/new", data={"name": big})

    assert api.status_code == 413 and api.mimetype == "application/problem+json"
    assert page.status_code == 413 and "larger than 1 MB" in page.get_data(as_text=True)


# ---------------------------------------------------------------------------- text


def test_a_line_break_in_next_is_ignored_after_login(client, make_user):
    user = make_user()
    response = client.post(
        "/auth/login",
        data={"email": user.email, "password": PASSWORD, "next": "/caseload/\r\nSet-Cookie: x=y"},
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/caseload/"


def test_a_nul_in_the_login_email_is_an_ordinary_failed_login(client, make_user):
    user = make_user()
    response = client.post("/auth/login", data={"email": user.email + "\x00", "password": PASSWORD})

    assert response.status_code == 200
    assert "Email or password is incorrect." in response.get_data(as_text=True)


@pytest.mark.parametrize("text", ["a\x00b", "bell\x07", "escape\x1b[31m"])
def test_control_characters_in_free_text_are_422_and_nothing_is_stored(
    as_patient, as_therapist, bundle, text
):
    users = count(User)
    notes = as_patient.post("/api/v1/sessions", json=session_body(bundle, notes=text))
    skip = as_patient.post(
        "/api/v1/sessions",
        json=session_body(
            bundle,
            exercises=[
                {
                    "program_item_id": bundle.program.items[0].id,
                    "status": "skipped",
                    "skip_reason": text,
                }
            ],
        ),
    )
    api_patient = as_therapist.post(
        "/api/v1/patients", json={"name": text, "timezone": "Europe/London"}
    )
    page_patient = as_therapist.post(
        "/caseload/patients/new",
        data={"name": "Ada", "timezone": "Europe/London", "goals": text},
    )
    exercise = as_therapist.post(
        "/programs/exercises/new",
        data={"name": text, "target": "hips", "steps": "Stand", "sets": "1", "reps": "5"},
    )

    for response in (notes, skip, api_patient, page_patient, exercise):
        assert response.status_code == 422, response.status_code
    assert count(Session) == 0
    assert count(User) == users
    assert count(Patient) == 1
    assert count(Exercise) == 26


def test_tabs_and_line_breaks_are_fine_in_free_text(as_patient, bundle):
    response = as_patient.post(
        "/api/v1/sessions", json=session_body(bundle, notes="Line one\r\nLine two\tend")
    )

    assert response.status_code == 201


@pytest.mark.parametrize(
    "path", ["/caseload/?q=a%00b", "/programs/?q=a%00b", "/programs/?target=%00"]
)
def test_searches_with_control_characters_match_nothing(as_therapist, path):
    response = as_therapist.get(path)

    assert response.status_code == 200
    assert "No patient matches" in response.get_data(as_text=True) or "No exercise" in (
        response.get_data(as_text=True)
    )

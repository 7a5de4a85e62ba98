"""The therapist's JSON API (DESIGN §4): create a patient, assign a program, change a dosage,
change the stage, resume; problem+json errors, CSRF, and the OpenAPI document."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from app.auth.models import Invitation, User
from app.enums import ProgramStatus, Role
from app.extensions import db
from app.patient.models import Patient
from app.programs.content import BUILTIN_TEMPLATE
from app.programs.models import EpisodeOfCare, Program, ProgramItem, StageChange
from app.programs.services import pause_program, suspend_program
from tests.conftest import PatientBundle

PROBLEM_KEYS = {"type", "title", "status", "detail", "errors"}
META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
THERAPIST_PATHS = {
    "/api/v1/caseload": {"get"},
    "/api/v1/patients": {"post"},
    "/api/v1/patients/{patient_id}/program": {"post"},
    "/api/v1/programs/{program_id}/items/{item_id}": {"patch"},
    "/api/v1/programs/{program_id}/stage": {"post"},
    "/api/v1/programs/{program_id}/resume": {"post"},
}


def count(model: type) -> int:
    db.session.commit()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def problem(response, status: int) -> dict:  # type: ignore[no-untyped-def]
    """Check an RFC 9457 answer and return its body."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert set(body) == PROBLEM_KEYS
    assert body["status"] == status
    for error in body["errors"]:
        assert set(error) == {"field", "message"}
        assert error["message"]
    return body


def error_fields(body: dict) -> set[str]:
    return {error["field"] for error in body["errors"]}


def fresh(model: type, ident: int):  # type: ignore[no-untyped-def]
    db.session.commit()
    obj = db.session.get(model, ident)
    db.session.refresh(obj)
    return obj


@pytest.fixture
def therapist(make_user: Callable[..., User]) -> User:
    return make_user(Role.THERAPIST)


@pytest.fixture
def api(client, login, therapist):  # type: ignore[no-untyped-def]
    return login(therapist)


@pytest.fixture
def bundle(make_patient, therapist) -> PatientBundle:  # type: ignore[no-untyped-def]
    return make_patient(therapist=therapist, name="Ada Lovelace", password=None)


# ---------------------------------------------------------------------------- create patient


NEW_PATIENT = {
    "name": "Grace Hopper",
    "timezone": "America/New_York",
    "email": "grace@example.org",
    "intake_pain": 6,
    "goals": "Walk the dog",
    "intake_red_flags": {"RF9": False, "RF12": False},
}


def test_creating_a_patient_answers_201_with_its_id_and_a_working_invitation_url(
    api, app, therapist, builtin_content
):
    response = api.post("/api/v1/patients", json=NEW_PATIENT)

    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"id", "invitation_url"}
    patient = db.session.get(Patient, body["id"])
    assert patient.name == "Grace Hopper"
    assert patient.therapist_id == therapist.id
    assert (patient.timezone, patient.intake_pain) == ("America/New_York", 6)
    # The address waits on the invitation; the patient confirms it on accepting.
    assert patient.user.email is None
    assert (
        db.session.scalar(sa.select(Invitation.email).where(Invitation.user_id == patient.user_id))
        == "grace@example.org"
    )
    assert "/auth/invite/" in body["invitation_url"]
    path = "/auth/invite/" + body["invitation_url"].rsplit("/auth/invite/", 1)[1]
    assert app.test_client().get(path).status_code == 200


def test_a_patient_needs_only_a_name_and_a_timezone(api, builtin_content):
    response = api.post("/api/v1/patients", json={"name": "Bo", "timezone": "Asia/Tokyo"})

    assert response.status_code == 201
    assert db.session.get(Patient, response.get_json()["id"]).user.email is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"timezone": "Mars/Base"}, "timezone", id="timezone-Mars/Base"),
        pytest.param({"intake_pain": 11}, "intake_pain", id="intake-pain-11"),
        pytest.param({"intake_pain": "6"}, "intake_pain", id="intake-pain-as-text"),
        pytest.param({"name": None}, "name", id="name-missing"),
        pytest.param({"name": ""}, "name", id="name-empty"),
        pytest.param({"intake_red_flags": {"RF1": True}}, "intake_red_flags.RF1", id="rf1"),
        pytest.param({"therapist_email": "x@example.org"}, "therapist_email", id="not-admin"),
        pytest.param({"shoe_size": 44}, "shoe_size", id="unknown-field"),
    ],
)
def test_an_invalid_patient_is_422_with_the_field_name_and_nothing_is_saved(
    api, builtin_content, changes, field
):
    body = {**NEW_PATIENT, **changes}
    body = {k: v for k, v in body.items() if v is not None}
    before = (count(User), count(Patient), count(Invitation))

    response = api.post("/api/v1/patients", json=body)

    assert field in error_fields(problem(response, 422))
    assert (count(User), count(Patient), count(Invitation)) == before


@pytest.mark.parametrize("email", ["not-an-email", "two@at@example.org", "a b@example.org"])
def test_an_email_that_is_not_an_address_is_422_and_nothing_is_saved(api, builtin_content, email):
    before = (count(User), count(Patient))

    response = api.post("/api/v1/patients", json={**NEW_PATIENT, "email": email})

    assert "email" in error_fields(problem(response, 422))
    assert (count(User), count(Patient)) == before


def test_an_address_with_an_account_elsewhere_gets_the_same_answer_as_a_new_one(
    api, make_user, make_clinic, builtin_content
):
    # DESIGN §6: creating a patient never reveals that a person is a patient of another clinic.
    elsewhere = make_user(Role.PATIENT, clinic=make_clinic())

    taken = api.post("/api/v1/patients", json={**NEW_PATIENT, "email": elsewhere.email})
    fresh = api.post("/api/v1/patients", json={**NEW_PATIENT, "email": "new@example.org"})

    assert taken.status_code == fresh.status_code == 201
    assert set(taken.get_json()) == set(fresh.get_json()) == {"id", "invitation_url"}


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        pytest.param('[{"name": "Grace"}]', "application/json", 400, id="json-array"),
        pytest.param('"Grace"', "application/json", 400, id="json-string"),
        pytest.param("{name: Grace", "application/json", 400, id="not-json"),
        pytest.param("", "application/json", 400, id="empty-body"),
        pytest.param(
            "name=Grace&timezone=Europe%2FLondon",
            "application/x-www-form-urlencoded",
            415,
            id="form-encoded",
        ),
        pytest.param('{"name": "Grace"}', "text/plain", 415, id="text-plain"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_refused(
    api, builtin_content, data, content_type, status
):
    before = count(Patient)

    response = api.post("/api/v1/patients", data=data, content_type=content_type)

    problem(response, status)
    assert count(Patient) == before


def test_an_admin_can_create_a_patient_for_a_therapist_of_the_clinic(
    client, login, make_user, therapist, builtin_content
):
    admin = make_user(Role.ADMIN, clinic=therapist.clinic)
    stranger = make_user(Role.THERAPIST)
    login(admin)

    mine = client.post(
        "/api/v1/patients", json={**NEW_PATIENT, "therapist_email": therapist.email.upper()}
    )
    foreign = client.post(
        "/api/v1/patients",
        json={**NEW_PATIENT, "email": "other@example.org", "therapist_email": stranger.email},
    )

    assert mine.status_code == 201
    assert db.session.get(Patient, mine.get_json()["id"]).therapist_id == therapist.id
    assert "therapist_email" in error_fields(problem(foreign, 422))
    assert count(Patient) == 1


# ---------------------------------------------------------------------------- assign program


def test_assigning_a_program_answers_201_with_its_items(api, make_patient, therapist):
    bundle = make_patient(therapist=therapist, stage=None, password=None)

    response = api.post(
        f"/api/v1/patients/{bundle.patient.id}/program",
        json={"template": BUILTIN_TEMPLATE, "stage": 2, "weekdays": [0, 2, 4]},
    )

    assert response.status_code == 201
    body = response.get_json()
    assert body["patient_id"] == bundle.patient.id
    assert (body["template"], body["stage"], body["status"]) == (BUILTIN_TEMPLATE, 2, "active")
    assert (body["weekdays"], body["sessions_per_week"]) == ([0, 2, 4], 3)
    assert body["items"]
    assert [i["position"] for i in body["items"]] == sorted(i["position"] for i in body["items"])
    first = body["items"][0]
    assert {"id", "exercise", "sets", "reps", "hold_seconds", "rest_seconds", "side"} <= set(first)
    assert set(first["exercise"]) == {"id", "slug", "name"}
    program = db.session.get(Program, body["id"])
    assert [item.id for item in program.items] == [i["id"] for i in body["items"]]


def test_sessions_per_week_defaults_to_5(api, make_patient, therapist):
    bundle = make_patient(therapist=therapist, stage=None, password=None)

    response = api.post(
        f"/api/v1/patients/{bundle.patient.id}/program",
        json={"template": BUILTIN_TEMPLATE, "stage": 1},
    )

    assert response.status_code == 201
    assert response.get_json()["sessions_per_week"] == 5
    assert len(response.get_json()["weekdays"]) == 5


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"stage": 9}, "stage", id="stage-9"),
        pytest.param({"stage": 0}, "stage", id="stage-0"),
        pytest.param({"stage": "2"}, "stage", id="stage-as-text"),
        pytest.param({"template": "no-such-routine"}, "template", id="unknown-template"),
        pytest.param({"weekdays": [0, 7]}, "weekdays[1]", id="weekday-7"),
        pytest.param({"weekdays": [1, 1]}, "weekdays", id="weekday-twice"),
        pytest.param({"sessions_per_week": 3, "weekdays": [0, 2]}, "weekdays", id="mismatch"),
        pytest.param({"start_date": "2000-01-01"}, "start_date", id="start-long-ago"),
        pytest.param({"colour": "red"}, "colour", id="unknown-field"),
    ],
)
def test_an_invalid_assignment_is_422_and_leaves_the_program_in_force(api, bundle, changes, field):
    before = (count(Program), count(ProgramItem), count(EpisodeOfCare))

    response = api.post(
        f"/api/v1/patients/{bundle.patient.id}/program",
        json={"template": BUILTIN_TEMPLATE, "stage": 2, **changes},
    )

    assert field in error_fields(problem(response, 422))
    assert (count(Program), count(ProgramItem), count(EpisodeOfCare)) == before
    program = fresh(Program, bundle.program.id)
    assert (program.status, program.stage) == (ProgramStatus.ACTIVE, 1)


def test_a_new_program_replaces_the_active_one_and_continues_the_episode(api, bundle):
    old = bundle.program

    response = api.post(
        f"/api/v1/patients/{bundle.patient.id}/program",
        json={"template": BUILTIN_TEMPLATE, "stage": 3},
    )

    assert response.status_code == 201
    new = response.get_json()
    old = fresh(Program, old.id)
    assert old.status is ProgramStatus.ENDED
    assert old.ended_at is not None
    assert new["episode_id"] == old.episode_id
    in_force = db.session.scalars(
        sa.select(Program).where(
            Program.patient_id == bundle.patient.id, Program.status != ProgramStatus.ENDED
        )
    ).all()
    assert [p.id for p in in_force] == [new["id"]]


def test_a_new_episode_starts_when_asked(api, bundle):
    response = api.post(
        f"/api/v1/patients/{bundle.patient.id}/program",
        json={"template": BUILTIN_TEMPLATE, "stage": 1, "new_episode": True},
    )

    assert response.status_code == 201
    assert response.get_json()["episode_id"] != bundle.program.episode_id
    assert fresh(EpisodeOfCare, bundle.program.episode_id).ended_on is not None


def test_assigning_to_an_unknown_patient_is_404(api, builtin_content):
    response = api.post(
        "/api/v1/patients/999999/program", json={"template": BUILTIN_TEMPLATE, "stage": 1}
    )

    problem(response, 404)
    assert count(Program) == 0


# ---------------------------------------------------------------------------- dosage


def brace(bundle: PatientBundle) -> ProgramItem:
    return next(i for i in bundle.program.items if i.exercise.slug == "abdominal-brace")


def test_patching_a_dosage_changes_only_the_fields_given(api, bundle):
    item = brace(bundle)

    response = api.patch(
        f"/api/v1/programs/{bundle.program.id}/items/{item.id}",
        json={"sets": 3, "hold_seconds": 20, "side": "alternating", "load": "light band"},
    )

    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == item.id
    assert (body["sets"], body["reps"], body["hold_seconds"]) == (3, 10, 20)
    assert (body["side"], body["load"]) == ("alternating", "light band")
    stored = fresh(ProgramItem, item.id)
    assert (stored.sets, stored.reps, stored.hold_seconds, stored.load) == (3, 10, 20, "light band")


def test_a_pyramid_replaces_the_repetitions(api, bundle):
    item = brace(bundle)

    response = api.patch(
        f"/api/v1/programs/{bundle.program.id}/items/{item.id}", json={"reps_per_set": [5, 3, 1]}
    )

    assert response.status_code == 200
    body = response.get_json()
    assert (body["reps_per_set"], body["reps"], body["sets"]) == ([5, 3, 1], None, 3)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"reps": -1}, "reps", id="negative-reps"),
        pytest.param({"hold_seconds": 301}, "hold_seconds", id="hold-301"),
        pytest.param({"sets": 0}, "sets", id="zero-sets"),
        pytest.param({"sets": None}, "sets", id="sets-null"),
        pytest.param({"rest_seconds": None}, "rest_seconds", id="rest-null"),
        pytest.param({"sets": 2.5}, "sets", id="fractional-sets"),
        pytest.param({"side": "upside-down"}, "side", id="unknown-side"),
        pytest.param({"reps_per_set": [5, 0]}, "reps_per_set[1]", id="pyramid-zero"),
        pytest.param({"reps": 8, "reps_per_set": [5, 3]}, "reps", id="reps-and-pyramid"),
        pytest.param({"tempo": "slow"}, "tempo", id="unknown-field"),
    ],
)
def test_an_invalid_dosage_is_422_and_changes_nothing(api, bundle, changes, field):
    item = brace(bundle)
    before = item.dosage()

    response = api.patch(f"/api/v1/programs/{bundle.program.id}/items/{item.id}", json=changes)

    assert field in error_fields(problem(response, 422))
    assert fresh(ProgramItem, item.id).dosage() == before


def test_the_dosage_of_an_ended_program_cannot_change(api, bundle):
    item = brace(bundle)
    api.post(
        f"/api/v1/patients/{bundle.patient.id}/program",
        json={"template": BUILTIN_TEMPLATE, "stage": 1},
    )

    response = api.patch(f"/api/v1/programs/{bundle.program.id}/items/{item.id}", json={"sets": 2})

    problem(response, 422)
    assert fresh(ProgramItem, item.id).sets == 1


def test_an_item_that_is_not_in_the_program_is_404(api, bundle, make_patient, therapist):
    other = make_patient(therapist=therapist, password=None)
    item = other.program.items[0]

    response = api.patch(f"/api/v1/programs/{bundle.program.id}/items/{item.id}", json={"sets": 2})

    problem(response, 404)
    assert fresh(ProgramItem, item.id).sets == item.sets


# ---------------------------------------------------------------------------- stage, resume


def test_changing_the_stage_answers_the_program_with_the_new_stages_items(api, bundle):
    stage_1_items = {item.id for item in bundle.program.items}

    response = api.post(
        f"/api/v1/programs/{bundle.program.id}/stage",
        json={"stage": 2, "reason": "Brace is solid"},
    )

    assert response.status_code == 200
    body = response.get_json()
    assert body["stage"] == 2
    assert {i["id"] for i in body["items"]}.isdisjoint(stage_1_items)
    change = db.session.scalar(
        sa.select(StageChange)
        .where(StageChange.program_id == bundle.program.id)
        .order_by(StageChange.id.desc())
    )
    assert (change.from_stage, change.to_stage, change.reason) == (1, 2, "Brace is solid")

    back = api.post(
        f"/api/v1/programs/{bundle.program.id}/stage", json={"stage": 1, "reason": "Flare"}
    )
    assert back.status_code == 200
    assert back.get_json()["stage"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"stage": 9, "reason": "Why not"}, "stage", id="stage-9"),
        pytest.param({"stage": 1, "reason": "Same"}, "stage", id="same-stage"),
        pytest.param({"stage": 2}, "reason", id="no-reason"),
        pytest.param({"stage": 2, "reason": "   "}, "reason", id="blank-reason"),
        pytest.param({"stage": 2, "reason": "x" * 1001}, "reason", id="long-reason"),
    ],
)
def test_an_invalid_stage_change_is_422_and_changes_nothing(api, bundle, body, field):
    before = (count(StageChange), count(ProgramItem))

    response = api.post(f"/api/v1/programs/{bundle.program.id}/stage", json=body)

    assert field in error_fields(problem(response, 422))
    assert (count(StageChange), count(ProgramItem)) == before
    assert fresh(Program, bundle.program.id).stage == 1


def test_resuming_an_active_program_is_422(api, bundle):
    response = api.post(f"/api/v1/programs/{bundle.program.id}/resume", json={})

    assert "status" in error_fields(problem(response, 422))
    assert fresh(Program, bundle.program.id).status is ProgramStatus.ACTIVE


@pytest.mark.parametrize("how", ["paused", "suspended"])
def test_a_paused_or_suspended_program_resumes(api, bundle, therapist, now, how):
    program = db.session.get(Program, bundle.program.id)
    if how == "paused":
        pause_program(program, by=therapist, now=now, reason="Holiday")
    else:
        suspend_program(program, now=now, reason="Emergency red flag")
    db.session.commit()

    response = api.post(f"/api/v1/programs/{program.id}/resume", json={"reason": "Seen in clinic"})

    assert response.status_code == 200
    assert response.get_json()["status"] == "active"
    assert fresh(Program, program.id).status is ProgramStatus.ACTIVE


def test_the_therapist_api_needs_a_login(client, bundle):
    response = client.post(
        f"/api/v1/programs/{bundle.program.id}/stage", json={"stage": 2, "reason": "x"}
    )

    problem(response, 401)
    assert fresh(Program, bundle.program.id).stage == 1


# ---------------------------------------------------------------------------- CSRF, OpenAPI


def test_with_csrf_on_a_post_needs_the_token_from_the_pages_meta_tag(
    csrf_enabled, client, login, therapist, builtin_content
):
    login(therapist)

    refused = client.post("/api/v1/patients", json=NEW_PATIENT)

    problem(refused, 400)
    assert count(Patient) == 0
    page = client.get("/caseload/").get_data(as_text=True)
    token = META_CSRF.search(page).group(1)
    wrong = client.post("/api/v1/patients", json=NEW_PATIENT, headers={"X-CSRFToken": "nope"})
    problem(wrong, 400)

    accepted = client.post("/api/v1/patients", json=NEW_PATIENT, headers={"X-CSRFToken": token})

    assert accepted.status_code == 201
    assert count(Patient) == 1


def test_with_csrf_on_patch_and_stage_calls_need_the_token_too(
    csrf_enabled, client, login, therapist, bundle
):
    login(therapist)
    item = brace(bundle)

    patch = client.patch(f"/api/v1/programs/{bundle.program.id}/items/{item.id}", json={"sets": 4})
    stage = client.post(
        f"/api/v1/programs/{bundle.program.id}/stage", json={"stage": 2, "reason": "x"}
    )

    problem(patch, 400)
    problem(stage, 400)
    assert fresh(ProgramItem, item.id).sets == 1
    assert fresh(Program, bundle.program.id).stage == 1
    token = META_CSRF.search(client.get("/caseload/").get_data(as_text=True)).group(1)
    ok = client.patch(
        f"/api/v1/programs/{bundle.program.id}/items/{item.id}",
        json={"sets": 4},
        headers={"X-CSRFToken": token},
    )
    assert ok.status_code == 200


def test_the_openapi_document_lists_every_therapist_path_with_its_errors(client, app):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.1")
    paths = document["paths"]
    for path, methods in THERAPIST_PATHS.items():
        assert path in paths, path
        assert methods <= set(paths[path]), path
        for method in methods:
            operation = paths[path][method]
            assert {"200", "201"} & set(operation["responses"]), (path, method)
            assert "404" in operation["responses"] or path == "/api/v1/caseload"
            if method != "get":
                assert "requestBody" in operation
                assert "422" in operation["responses"]
                names = {p["name"] for p in operation.get("parameters", [])}
                assert "X-CSRFToken" in names
    # every therapist route of the app is documented (and nothing that does not exist)
    documented = {
        (re.sub(r"\{(\w+)\}", r"<\1>", path), method)
        for path, entry in paths.items()
        for method in entry
    }
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and rule.endpoint != "api.openapi":
            flask_path = re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", rule.rule)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert (flask_path, method.lower()) in documented, (rule.rule, method)
    schemas = document["components"]["schemas"]
    caseload = schemas["CaseloadPatient"]["properties"]
    assert set(caseload) == {
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
        "open_alerts",
        "unread_messages",
        "psfs",
    }


def test_patching_sets_that_disagree_with_the_pyramid_is_422_and_changes_nothing(
    client, login, make_patient
):
    bundle = make_patient()
    login(bundle.therapist)
    item = bundle.program.items[0]
    before = item.dosage()
    response = client.patch(
        f"/api/v1/programs/{bundle.program.id}/items/{item.id}",
        json={"sets": 2, "reps_per_set": [5, 3, 1]},
    )
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "sets"
    db.session.refresh(item)
    assert item.dosage() == before

"""Object-level access on every therapist-side route that names a patient, program or exercise.

DESIGN §1: a therapist reaches only the patients of their clinic assigned to them, an admin the
whole clinic; nothing crosses clinics. DESIGN §4: an object that is not yours is 404 (HTML page or
problem+json), never 403, so existence does not leak; patients get 403 on therapist pages.

Each route has a case with a request that succeeds for the assigned therapist and the clinic
admin (so a 404 for the others is the access check, not validation), and the whole database is
compared before and after each refused request. The route list comes from `app.url_map`: a new
route with an object id fails `test_every_therapist_route_with_an_object_id_has_an_access_case`
until it gets a case here.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from app.admin.models import AuditEvent
from app.auth.models import User
from app.db import utcnow
from app.enums import AlertKind, Role
from app.extensions import db
from app.programs import library as library_services
from app.programs.content import BUILTIN_TEMPLATE
from app.programs.models import Exercise, Program
from app.programs.services import pause_program
from tests.conftest import PASSWORD, PatientBundle
from tests.integration.route_access_measures import psfs_body

ROUTE_PREFIXES = ("programs.", "caseload.", "messages.", "measures.", "api.")
# Tables a request may touch without changing anyone's data: the login session's "last seen"
# and the audit log (checked separately: a refused request records nothing about the patient).
UNCOMPARED_TABLES = {"user_sessions", "audit_events"}


# ---------------------------------------------------------------------------- the world


@dataclass
class World:
    """Two clinics; clinic A has an admin, the assigned therapist and a colleague."""

    admin: User
    therapist: User
    colleague: User
    outsider: User
    outsider_admin: User
    patient_user: User  # a patient who logs in (of the same therapist)
    mine: PatientBundle  # the patient the therapist works on (invitation still pending)
    admins: PatientBundle  # an identical patient the admin works on
    clinic_exercise_id: int
    admin_exercise_id: int
    extra_exercise_id: int  # a built-in exercise not in the stage 1 program
    items: dict[int, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)
    alerts: dict[int, int] = field(default_factory=dict)  # patient id → an open alert's id

    def target(self, actor: str) -> PatientBundle:
        return self.admins if actor == "admin" else self.mine

    def exercise_for(self, actor: str) -> int:
        return self.admin_exercise_id if actor == "admin" else self.clinic_exercise_id


def _clinic_exercise(clinic_id: int, by: User, name: str) -> int:
    exercise = library_services.create_exercise(
        clinic_id,
        library_services.ExerciseData(
            name=name,
            target="core",
            steps=("Lie on your back.", "Brace gently."),
            dosage={"sets": 2, "reps": 8, "rest_seconds": 30, "side": "both"},
        ),
        by=by,
        now=utcnow(),
    )
    db.session.commit()
    return exercise.id


@pytest.fixture
def world(make_clinic, make_user, make_patient, make_alert) -> World:
    clinic = make_clinic("Clinic A")
    other = make_clinic("Clinic B")
    admin = make_user(Role.ADMIN, clinic=clinic)
    therapist = make_user(Role.THERAPIST, clinic=clinic)
    colleague = make_user(Role.THERAPIST, clinic=clinic)
    outsider = make_user(Role.THERAPIST, clinic=other)
    outsider_admin = make_user(Role.ADMIN, clinic=other)
    mine = make_patient(therapist=therapist, password=None, name="Mina Mine")
    admins = make_patient(therapist=therapist, password=None, name="Adam Admins")
    patient_user = make_patient(therapist=therapist, stage=None).user
    in_program = {item.exercise_id for item in mine.program.items}
    extra = db.session.scalar(
        sa.select(Exercise.id)
        .where(Exercise.clinic_id.is_(None), Exercise.id.not_in(in_program))
        .order_by(Exercise.id)
    )
    w = World(
        admin=admin,
        therapist=therapist,
        colleague=colleague,
        outsider=outsider,
        outsider_admin=outsider_admin,
        patient_user=patient_user,
        mine=mine,
        admins=admins,
        clinic_exercise_id=_clinic_exercise(clinic.id, therapist, "Clinic bridge"),
        admin_exercise_id=_clinic_exercise(clinic.id, admin, "Clinic dead bug"),
        extra_exercise_id=extra,
    )
    for bundle in (mine, admins):
        w.items[bundle.program.id] = [(i.id, i.dosage()) for i in bundle.program.items]
        w.alerts[bundle.patient.id] = make_alert(
            bundle,
            AlertKind.PERSISTENT_PAIN,
            reason="Pain has not improved for three weeks (made by the test)",
            evidence={"baseline": 6, "current": 6},
        ).id
    return w


def dump_database() -> dict[str, list[str]]:
    """Every row of every compared table, as sorted text (what a request could have changed)."""
    db.session.commit()  # start a fresh transaction: see what the requests stored
    return {
        table.name: sorted(repr(tuple(row)) for row in db.session.execute(table.select()))
        for table in db.metadata.sorted_tables
        if table.name not in UNCOMPARED_TABLES
    }


def audit_events_by(user: User) -> int:
    """Events by `user` that name a patient (their logins and refusals name none)."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.actor_id == user.id, AuditEvent.patient_ids.is_not(None))
    )


@pytest.fixture
def client_for(app: Flask, client: FlaskClient) -> Callable[[User], FlaskClient]:
    """A fresh browser (cookie jar) logged in as `user` (CSRF is off in these tests)."""

    def make(user: User) -> FlaskClient:
        c = app.test_client()
        response = c.post("/auth/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 302, user.email
        return c

    return make


# ---------------------------------------------------------------------------- the cases


def dosage_form(item_id: int, dosage: dict[str, Any], **changes: Any) -> dict[str, str]:
    """The builder's dosage form for an item, filled with its dosage and some changes."""
    values = {**dosage, **changes}
    data = {}
    for name, value in values.items():
        if name == "reps_per_set":
            value = ", ".join(map(str, value or []))
        data[f"item{item_id}-{name}"] = "" if value is None else str(value)
    return data


def exercise_form(**changes: str) -> dict[str, str]:
    return {
        "name": "Clinic bridge, edited",
        "target": "glutes",
        "steps": "Lie on your back.\nLift your hips.",
        "cues": "Breathe out as you lift",
        "stage_from": "1",
        "stage_to": "2",
        "sets": "2",
        "reps": "10",
        "rest_seconds": "30",
        "side": "both",
        **changes,
    }


@dataclass(frozen=True)
class Case:
    """One route: how to call it on the actor's object, and what success looks like."""

    path: Callable[[World, str], str]
    body: Callable[[World, str], dict[str, Any]] | None = None
    ok: int = 200
    changes: bool = False  # a successful call changes stored data
    prepare: Callable[[World], None] | None = None
    clinic_wide: bool = False  # a clinic's exercise: every clinician of the clinic may use it

    @property
    def api(self) -> bool:
        return False


@dataclass(frozen=True)
class ApiCase(Case):
    @property
    def api(self) -> bool:
        return True


def program_id(w: World, actor: str) -> int:
    return w.target(actor).program.id


def patient_id(w: World, actor: str) -> int:
    return w.target(actor).patient.id


def first_item(w: World, actor: str) -> tuple[int, dict[str, Any]]:
    return w.items[program_id(w, actor)][1]  # abdominal brace: reps and a hold


def alert_id(w: World, actor: str) -> int:
    return w.alerts[patient_id(w, actor)]


def pause_both(w: World) -> None:
    for bundle in (w.mine, w.admins):
        program = db.session.get(Program, bundle.program.id)
        pause_program(program, by=w.therapist, now=utcnow(), reason="Away on holiday")
    db.session.commit()


CASES: dict[tuple[str, str], Case] = {
    # ------------------------------------------------------------------ caseload (HTML)
    ("caseload.patient_detail", "GET"): Case(lambda w, a: f"/caseload/patients/{patient_id(w, a)}"),
    ("caseload.invitation", "GET"): Case(
        lambda w, a: f"/caseload/patients/{patient_id(w, a)}/invitation"
    ),
    ("caseload.reissue_invitation", "POST"): Case(
        lambda w, a: f"/caseload/patients/{patient_id(w, a)}/invitation/reissue",
        lambda w, a: {},
        ok=302,
        changes=True,
    ),
    ("caseload.revoke_invitation", "POST"): Case(
        lambda w, a: f"/caseload/patients/{patient_id(w, a)}/invitation/revoke",
        lambda w, a: {},
        ok=302,
        changes=True,
    ),
    # ------------------------------------------------------------------ programs (HTML)
    ("programs.assign", "GET"): Case(lambda w, a: f"/programs/assign/{patient_id(w, a)}"),
    ("programs.assign", "POST"): Case(
        lambda w, a: f"/programs/assign/{patient_id(w, a)}",
        lambda w, a: {"template": BUILTIN_TEMPLATE, "stage": "2"},
        ok=302,
        changes=True,
    ),
    ("programs.builder", "GET"): Case(lambda w, a: f"/programs/{program_id(w, a)}"),
    ("programs.handout", "GET"): Case(lambda w, a: f"/programs/{program_id(w, a)}/handout"),
    ("programs.item_dosage", "POST"): Case(
        lambda w, a: f"/programs/{program_id(w, a)}/items/{first_item(w, a)[0]}",
        lambda w, a: dosage_form(*first_item(w, a), sets=3, hold_seconds=20),
        ok=302,
        changes=True,
    ),
    ("programs.item_add", "POST"): Case(
        lambda w, a: f"/programs/{program_id(w, a)}/items",
        lambda w, a: {"exercise_id": str(w.extra_exercise_id)},
        ok=302,
        changes=True,
    ),
    ("programs.item_remove", "POST"): Case(
        lambda w, a: f"/programs/{program_id(w, a)}/items/{first_item(w, a)[0]}/remove",
        lambda w, a: {},
        ok=302,
        changes=True,
    ),
    ("programs.item_move", "POST"): Case(
        lambda w, a: f"/programs/{program_id(w, a)}/items/{first_item(w, a)[0]}/move/down",
        lambda w, a: {},
        ok=302,
        changes=True,
    ),
    ("programs.stage", "POST"): Case(
        lambda w, a: f"/programs/{program_id(w, a)}/stage",
        lambda w, a: {"stage": "2", "reason": "Brace held well for two weeks"},
        ok=302,
        changes=True,
    ),
    ("programs.schedule", "POST"): Case(
        lambda w, a: f"/programs/{program_id(w, a)}/schedule",
        lambda w, a: {"weekdays": ["0", "2", "4"]},
        ok=302,
        changes=True,
    ),
    ("programs.pause", "POST"): Case(
        lambda w, a: f"/programs/{program_id(w, a)}/pause",
        lambda w, a: {"reason": "Travelling"},
        ok=302,
        changes=True,
    ),
    ("programs.discharge", "POST"): Case(
        lambda w, a: f"/programs/{program_id(w, a)}/discharge",
        lambda w, a: {"reason": "Goals met"},
        ok=302,
        changes=True,
    ),
    ("programs.resume", "POST"): Case(
        lambda w, a: f"/programs/{program_id(w, a)}/resume",
        lambda w, a: {"reason": "Back home"},
        ok=302,
        changes=True,
        prepare=pause_both,
    ),
    # ------------------------------------------------------------------ the clinic's exercises
    ("programs.exercise", "GET"): Case(
        lambda w, a: f"/programs/exercises/{w.exercise_for(a)}", clinic_wide=True
    ),
    ("programs.edit_exercise", "GET"): Case(
        lambda w, a: f"/programs/exercises/{w.exercise_for(a)}/edit", clinic_wide=True
    ),
    ("programs.edit_exercise", "POST"): Case(
        lambda w, a: f"/programs/exercises/{w.exercise_for(a)}/edit",
        lambda w, a: exercise_form(),
        ok=302,
        changes=True,
        clinic_wide=True,
    ),
    ("programs.archive_exercise", "POST"): Case(
        lambda w, a: f"/programs/exercises/{w.exercise_for(a)}/archive",
        lambda w, a: {},
        ok=302,
        changes=True,
        clinic_wide=True,
    ),
    # ------------------------------------------------------------------ messages
    ("messages.patient_thread", "GET"): Case(
        lambda w, a: f"/caseload/patients/{patient_id(w, a)}/messages"
    ),
    ("messages.patient_thread", "POST"): Case(
        lambda w, a: f"/caseload/patients/{patient_id(w, a)}/messages",
        lambda w, a: {"client_id": str(uuid.uuid4()), "body": "How did the brace feel?"},
        ok=302,
        changes=True,
    ),
    # ------------------------------------------------------------------ outcome measures
    ("measures.patient_page", "GET"): Case(lambda w, a: f"/measures/patients/{patient_id(w, a)}"),
    ("measures.request_page", "POST"): Case(
        lambda w, a: f"/measures/patients/{patient_id(w, a)}/request",
        lambda w, a: {"instrument": "psfs"},
        ok=302,
        changes=True,
    ),
    # ------------------------------------------------------------------ JSON API
    ("api.get_patient_messages", "GET"): ApiCase(
        lambda w, a: f"/api/v1/patients/{patient_id(w, a)}/messages"
    ),
    ("api.post_patient_message", "POST"): ApiCase(
        lambda w, a: f"/api/v1/patients/{patient_id(w, a)}/messages",
        lambda w, a: {"id": str(uuid.uuid4()), "body": "How did the brace feel?"},
        ok=201,
        changes=True,
    ),
    ("api.api_patient_fhir", "GET"): ApiCase(
        lambda w, a: f"/api/v1/patients/{patient_id(w, a)}/fhir"
    ),
    ("api.api_sessions_csv", "GET"): ApiCase(
        lambda w, a: f"/api/v1/patients/{patient_id(w, a)}/sessions.csv"
    ),
    ("api.api_assign_program", "POST"): ApiCase(
        lambda w, a: f"/api/v1/patients/{patient_id(w, a)}/program",
        lambda w, a: {"template": BUILTIN_TEMPLATE, "stage": 2},
        ok=201,
        changes=True,
    ),
    ("api.api_update_item", "PATCH"): ApiCase(
        lambda w, a: f"/api/v1/programs/{program_id(w, a)}/items/{first_item(w, a)[0]}",
        lambda w, a: {"sets": 3, "hold_seconds": 20},
        changes=True,
    ),
    ("api.api_change_stage", "POST"): ApiCase(
        lambda w, a: f"/api/v1/programs/{program_id(w, a)}/stage",
        lambda w, a: {"stage": 2, "reason": "Ready for more"},
        changes=True,
    ),
    ("api.api_resume", "POST"): ApiCase(
        lambda w, a: f"/api/v1/programs/{program_id(w, a)}/resume",
        lambda w, a: {"reason": "Back home"},
        changes=True,
        prepare=pause_both,
    ),
    ("api.api_acknowledge", "POST"): ApiCase(
        lambda w, a: f"/api/v1/alerts/{alert_id(w, a)}/acknowledge",
        lambda w, a: {},
        changes=True,
    ),
    ("api.api_snooze", "POST"): ApiCase(
        lambda w, a: f"/api/v1/alerts/{alert_id(w, a)}/snooze",
        lambda w, a: {"days": 3},
        changes=True,
    ),
    ("api.api_resolve", "POST"): ApiCase(
        lambda w, a: f"/api/v1/alerts/{alert_id(w, a)}/resolve",
        lambda w, a: {"action": "contacted", "note": "Phoned, feeling better"},
        changes=True,
    ),
}

# Outcome measures (DESIGN §4 "Outcome measures").
CASES.update(
    {
        ("api.api_patient_measures", "GET"): ApiCase(
            lambda w, a: f"/api/v1/patients/{patient_id(w, a)}/measures"
        ),
        ("api.api_enter_measure", "POST"): ApiCase(
            lambda w, a: f"/api/v1/patients/{patient_id(w, a)}/measures",
            lambda w, a: psfs_body(),
            ok=201,
            changes=True,
        ),
        ("api.api_request_measure", "POST"): ApiCase(
            lambda w, a: f"/api/v1/patients/{patient_id(w, a)}/measure-requests",
            lambda w, a: {"instrument": "psfs"},
            ok=201,
            changes=True,
        ),
    }
)


def send(c: FlaskClient, case: Case, method: str, w: World, actor: str):  # type: ignore[no-untyped-def]
    path = case.path(w, actor)
    body = case.body(w, actor) if case.body else None
    if case.api:
        return c.open(path, method=method, json=body)
    return c.open(path, method=method, data=body)


def case_id(key: tuple[str, str]) -> str:
    return f"{key[1]} {key[0]}"


# ---------------------------------------------------------------------------- tests


def test_every_therapist_route_with_an_object_id_has_an_access_case(app):
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith(ROUTE_PREFIXES) and rule.arguments
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    missing = routes - set(CASES)
    assert not missing, f"add an access case for {sorted(missing)}"
    assert set(CASES) <= routes, "a case names a route that no longer exists"


@pytest.mark.parametrize("key", sorted(CASES), ids=case_id)
def test_only_the_assigned_therapist_and_the_clinic_admin_reach_the_object(world, client_for, key):
    endpoint, method = key
    case = CASES[key]
    if case.prepare:
        case.prepare(world)
    refused = [
        ("another clinic's therapist", world.outsider, 404),
        ("another clinic's admin", world.outsider_admin, 404),
    ]
    if not case.clinic_wide:
        refused.append(("an unassigned colleague of the same clinic", world.colleague, 404))
    refused.append(("a patient", world.patient_user, 403))
    allowed = ["therapist", "admin", *(["colleague"] if case.clinic_wide else [])]
    clients = {user.id: client_for(user) for _, user, _ in refused}
    clients.update({actor: client_for(getattr(world, actor)) for actor in allowed})
    before = dump_database()

    for who, user, status in refused:
        response = send(clients[user.id], case, method, world, "therapist")

        assert response.status_code == status, f"{who}: {response.status_code}"
        if case.api:
            assert response.mimetype == "application/problem+json", who
            assert response.get_json()["status"] == status, who
        else:
            assert response.mimetype == "text/html", who
            assert world.mine.patient.name not in response.get_data(as_text=True), who
        assert dump_database() == before, f"{who} changed stored data through {endpoint}"
        assert audit_events_by(user) == 0, f"{who} left an audit event"

    for actor in allowed:
        before = dump_database()

        response = send(clients[actor], case, method, world, actor)

        assert response.status_code == case.ok, (
            f"{actor}: {response.status_code} {response.get_data(as_text=True)[:300]}"
        )
        if case.ok == 302:
            assert "/auth/login" not in response.headers["Location"]
        if case.changes:
            assert dump_database() != before, f"{actor}: {endpoint} saved nothing"


def test_an_item_of_another_patients_program_is_not_found_through_my_program(
    world, client_for, make_patient
):
    stranger = make_patient(name="Stella Stranger")  # another clinic, another therapist
    foreign_item = stranger.program.items[0]
    c = client_for(world.therapist)
    own_program = world.mine.program.id
    before = dump_database()

    html = c.post(
        f"/programs/{own_program}/items/{foreign_item.id}",
        data=dosage_form(foreign_item.id, foreign_item.dosage(), sets=4),
    )
    moved = c.post(f"/programs/{own_program}/items/{foreign_item.id}/move/up")
    removed = c.post(f"/programs/{own_program}/items/{foreign_item.id}/remove")
    api = c.patch(f"/api/v1/programs/{own_program}/items/{foreign_item.id}", json={"sets": 4})

    assert (html.status_code, moved.status_code, removed.status_code) == (404, 404, 404)
    assert api.status_code == 404
    assert api.mimetype == "application/problem+json"
    assert dump_database() == before


def test_the_patient_who_owns_the_program_still_gets_403_on_its_therapist_pages(
    world, client_for, make_patient
):
    owner = make_patient(therapist=world.therapist)
    c = client_for(owner.user)
    before = dump_database()

    pages = [
        f"/caseload/patients/{owner.patient.id}",
        f"/programs/{owner.program.id}",
        f"/programs/{owner.program.id}/handout",
        f"/programs/assign/{owner.patient.id}",
    ]
    for page in pages:
        assert c.get(page).status_code == 403, page
    stage = c.post(f"/api/v1/programs/{owner.program.id}/stage", json={"stage": 2, "reason": "x"})
    assert stage.status_code == 403
    assert stage.mimetype == "application/problem+json"
    assert dump_database() == before


def test_a_logged_out_visitor_is_sent_to_login_and_the_api_answers_401(world, client):
    before = dump_database()
    for (endpoint, method), case in CASES.items():
        response = send(client, case, method, world, "therapist")
        if case.api:
            assert response.status_code == 401, endpoint
            assert response.mimetype == "application/problem+json"
        else:
            assert response.status_code == 302, endpoint
            assert response.headers["Location"].startswith("/auth/login")
    assert dump_database() == before


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/patients/{patient}/program", {"template": "nope", "stage": 9}),
        ("PATCH", "/api/v1/programs/{program}/items/{item}", {"sets": -1}),
        ("POST", "/api/v1/programs/{program}/stage", {"stage": 9}),
        ("POST", "/api/v1/programs/{program}/resume", {"reason": 7}),
        ("POST", "/api/v1/alerts/{alert}/snooze", {"days": 99}),
        ("POST", "/api/v1/alerts/{alert}/resolve", {"action": "shrug"}),
    ],
)
def test_an_outsiders_invalid_body_is_still_404_so_validation_does_not_reveal_the_object(
    world, client_for, method, path, body
):
    url = path.format(
        patient=world.mine.patient.id,
        program=world.mine.program.id,
        item=first_item(world, "therapist")[0],
        alert=alert_id(world, "therapist"),
    )
    clients = [client_for(user) for user in (world.outsider, world.colleague)]
    before = dump_database()

    for c in clients:
        response = c.open(url, method=method, json=body)

        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["errors"] == []
    assert dump_database() == before


def test_copying_another_clinics_exercise_into_the_library_is_404(world, client_for):
    theirs = _clinic_exercise(world.outsider.clinic_id, world.outsider, "Their secret move")
    c = client_for(world.therapist)

    response = c.get(f"/programs/exercises/new?copy={theirs}")

    assert response.status_code == 404
    assert "Their secret move" not in response.get_data(as_text=True)
    assert "Their secret move" not in c.get("/programs/?q=secret").get_data(as_text=True)

"""The therapist's HTML flows, through the real forms (issue 3 items 1–6).

Invite a patient (link and QR code; reissue and revoke), assign and adjust a program (dosage,
items, stage, schedule, pause and resume), the exercise library (clinic exercises; built-in ones
are read-only), the printable handout and the patient detail page. Bad input gets a field-level
message and changes nothing.
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.admin.models import AuditEvent
from app.auth.models import Invitation, User
from app.enums import ProgramStatus, Role, StageDirection
from app.extensions import db
from app.patient.check_ins import CheckInReport, record_check_in
from app.patient.models import Patient
from app.patient.sessions import ExerciseResult, SessionReport, log_session
from app.programs import library
from app.programs.content import BUILTIN_TEMPLATE
from app.programs.models import (
    Exercise,
    Program,
    ProgramItem,
    ProgramStatusChange,
    ScheduleChange,
    StageChange,
)
from tests.conftest import PASSWORD, PatientBundle

INVITE_LINK = re.compile(r'id="invite-link"[^>]*value="([^"]+)"')
FIELD_ERROR = '<p class="error" id="{}-error">'


def count(model: type) -> int:
    db.session.commit()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


def field_error(response, name: str) -> str:  # type: ignore[no-untyped-def]
    """Return the message shown under a form field (or fail if there is none)."""
    body = response.get_data(as_text=True)
    match = re.search(re.escape(FIELD_ERROR.format(name)) + r"([^<]+)</p>", body)
    assert match, f"no field-level message for {name!r}"
    return html.unescape(match.group(1))


def token_of(url: str) -> str:
    return url.rsplit("/auth/invite/", 1)[1]


@pytest.fixture
def therapist(make_user: Callable[..., User]) -> User:
    return make_user(Role.THERAPIST, name="Theo Therapist")


@pytest.fixture
def therapist_client(client, login, therapist):  # type: ignore[no-untyped-def]
    return login(therapist)


@pytest.fixture
def bundle(make_patient, therapist) -> PatientBundle:  # type: ignore[no-untyped-def]
    return make_patient(therapist=therapist, name="Ada Lovelace", password=None)


def reload_program(program_id: int) -> Program:
    db.session.commit()
    program = db.session.get(Program, program_id)
    assert program is not None
    db.session.refresh(program)
    return program


def item_by_slug(program: Program, slug: str) -> ProgramItem:
    return next(i for i in program.items if i.exercise.slug == slug)


def dosage_form(item: ProgramItem, **changes: object) -> dict[str, str]:
    values = {**item.dosage(), **changes}
    data = {}
    for name, value in values.items():
        if name == "reps_per_set":
            value = ", ".join(map(str, value or []))
        data[f"item{item.id}-{name}"] = "" if value is None else str(value)
    return data


# ---------------------------------------------------------------------------- invitations


INVITE = {
    "name": "Grace Hopper",
    "email": "grace@example.org",
    "timezone": "Europe/Berlin",
    "intake_pain": "6",
    "goals": "Garden for an hour",
    "rf9": "no",
    "rf12": "no",
}


def test_inviting_a_patient_shows_a_link_and_a_qr_code_that_open_the_invitation(
    therapist_client, app, builtin_content
):
    form = therapist_client.get("/caseload/patients/new")
    assert form.status_code == 200
    default = app.config["DEFAULT_TIMEZONE"]
    body = form.get_data(as_text=True)
    assert re.search(rf'<input[^>]*list="timezones"[^>]*value="{default}"', body)
    assert '<option value="America/New_York">America/New York</option>' in body

    response = therapist_client.post("/caseload/patients/new", data=INVITE)

    assert response.status_code == 302
    patient = db.session.scalar(sa.select(Patient))
    assert patient.name == "Grace Hopper"
    assert (patient.timezone, patient.intake_pain, patient.goals) == (
        "Europe/Berlin",
        6,
        "Garden for an hour",
    )
    assert response.headers["Location"] == f"/caseload/patients/{patient.id}/invitation"
    page = therapist_client.get(response.headers["Location"])
    body = text(page)
    link = INVITE_LINK.search(body)
    assert link, "no invitation link on the page"
    assert "<svg" in body and 'role="img"' in body and "QR code" in body
    assert "grace@example.org" in body
    anonymous = app.test_client()
    assert anonymous.get(f"/auth/invite/{token_of(link.group(1))}").status_code == 200


def test_a_reissued_invitation_shows_only_the_new_link_and_the_old_one_stops_working(
    therapist_client, app, builtin_content
):
    therapist_client.post("/caseload/patients/new", data=INVITE)
    patient = db.session.scalar(sa.select(Patient))
    page = f"/caseload/patients/{patient.id}/invitation"
    old = token_of(INVITE_LINK.search(text(therapist_client.get(page))).group(1))

    reissued = therapist_client.post(f"{page}/reissue")

    assert reissued.status_code == 302
    body = text(therapist_client.get(page))
    new = token_of(INVITE_LINK.search(body).group(1))
    assert new != old
    assert old not in body
    anonymous = app.test_client()
    assert anonymous.get(f"/auth/invite/{old}").status_code == 404
    assert anonymous.get(f"/auth/invite/{new}").status_code == 200
    invitations = db.session.scalars(sa.select(Invitation).order_by(Invitation.id)).all()
    assert [i.revoked_at is not None for i in invitations] == [True, False]


def test_the_invitation_link_is_shown_once_to_the_clinician_who_made_it_and_never_kept(
    therapist_client, app, builtin_content, make_user, login
):
    created = therapist_client.post("/caseload/patients/new", data=INVITE)
    patient = db.session.scalar(sa.select(Patient))
    page = f"/caseload/patients/{patient.id}/invitation"
    assert created.headers["Location"] == page

    first = text(therapist_client.get(page))
    again = text(therapist_client.get(page))

    token = token_of(INVITE_LINK.search(first).group(1))
    assert app.test_client().get(f"/auth/invite/{token}").status_code == 200
    assert INVITE_LINK.search(again) is None and token not in again
    assert "Its link is shown only once" in again
    # Nothing in the login cookie holds it (DESIGN §6: never kept in a cookie).
    cookie = therapist_client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    session = app.session_interface.get_signing_serializer(app).loads(cookie.value)
    assert token not in repr(session)
    # A colleague who may see the patient (the clinic's admin) never sees the link.
    admin = make_user(Role.ADMIN, clinic=patient.clinic)
    other = login(admin, test_client=app.test_client())
    assert INVITE_LINK.search(text(other.get(page))) is None


def test_revoking_the_invitation_makes_its_link_404(therapist_client, app, builtin_content):
    therapist_client.post("/caseload/patients/new", data=INVITE)
    patient = db.session.scalar(sa.select(Patient))
    page = f"/caseload/patients/{patient.id}/invitation"
    token = token_of(INVITE_LINK.search(text(therapist_client.get(page))).group(1))

    revoked = therapist_client.post(f"{page}/revoke")

    assert revoked.status_code == 302
    body = text(therapist_client.get(page))
    assert INVITE_LINK.search(body) is None
    assert token not in body
    assert "There is no open invitation" in body
    assert app.test_client().get(f"/auth/invite/{token}").status_code == 404


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        pytest.param({"timezone": "Mars/Base"}, "timezone", "timezone", id="timezone-Mars/Base"),
        pytest.param({"intake_pain": "11"}, "intake_pain", "0 to 10", id="intake-pain-11"),
        pytest.param({"name": ""}, "name", "name", id="missing-name"),
        pytest.param({"email": "not an address"}, "email", "valid email", id="bad-email"),
    ],
)
def test_bad_invitation_input_gets_a_field_message_and_saves_nothing(
    therapist_client, make_patient, therapist, changes, field, words
):
    existing = make_patient(therapist=therapist, password=None)
    db.session.execute(
        sa.update(User).where(User.id == existing.user.id).values(email="ada@example.org")
    )
    db.session.commit()
    before = (count(User), count(Patient), count(Invitation), count(AuditEvent))

    response = therapist_client.post("/caseload/patients/new", data={**INVITE, **changes})

    assert response.status_code == 422
    assert words.lower() in field_error(response, field).lower()
    assert (count(User), count(Patient), count(Invitation), count(AuditEvent)) == before


# ---------------------------------------------------------------------------- programs


def test_assigning_stage_1_then_changing_a_dosage_shows_on_the_builder_and_the_handout(
    therapist_client, make_patient, therapist
):
    bundle = make_patient(therapist=therapist, stage=None, password=None)

    assigned = therapist_client.post(
        f"/programs/assign/{bundle.patient.id}", data={"template": BUILTIN_TEMPLATE, "stage": "1"}
    )

    assert assigned.status_code == 302
    program = db.session.scalar(sa.select(Program).where(Program.patient_id == bundle.patient.id))
    assert assigned.headers["Location"] == f"/programs/{program.id}"
    assert program.stage == 1
    item = item_by_slug(program, "abdominal-brace")

    saved = therapist_client.post(
        f"/programs/{program.id}/items/{item.id}", data=dosage_form(item, sets=3, hold_seconds=20)
    )

    assert saved.status_code == 302
    item = item_by_slug(reload_program(program.id), "abdominal-brace")
    assert (item.sets, item.reps, item.hold_seconds) == (3, 10, 20)
    builder = text(therapist_client.get(f"/programs/{program.id}"))
    assert "3 × 10 · 20 s hold" in builder
    handout = text(therapist_client.get(f"/programs/{program.id}/handout"))
    assert "Abdominal brace" in handout
    assert "3 × 10 · 20 s hold" in handout


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"reps": -1}, "reps", id="negative-reps"),
        pytest.param({"hold_seconds": 301}, "hold_seconds", id="hold-301"),
        pytest.param({"sets": 0}, "sets", id="zero-sets"),
        pytest.param({"sets": ""}, "sets", id="no-sets"),
        pytest.param({"rest_seconds": 601}, "rest_seconds", id="rest-601"),
        pytest.param({"reps_per_set": "5, x"}, "reps_per_set", id="pyramid-not-numbers"),
        pytest.param({"side": "upside-down"}, "side", id="unknown-side"),
    ],
)
def test_a_bad_dosage_gets_a_field_message_and_changes_nothing(
    therapist_client, bundle, changes, field
):
    program = bundle.program
    item = item_by_slug(program, "abdominal-brace")
    before = item.dosage()
    prefix = f"item{item.id}"

    response = therapist_client.post(
        f"/programs/{program.id}/items/{item.id}", data=dosage_form(item, **changes)
    )

    assert response.status_code == 422
    assert field_error(response, f"{prefix}-{field}")
    assert item_by_slug(reload_program(program.id), "abdominal-brace").dosage() == before


def test_a_dosage_that_the_service_refuses_is_shown_on_the_form_and_not_saved(
    therapist_client, bundle
):
    program = bundle.program
    item = item_by_slug(program, "abdominal-brace")
    before = item.dosage()

    # both reps and a pyramid: the form accepts each field, the service refuses the mix
    response = therapist_client.post(
        f"/programs/{program.id}/items/{item.id}",
        data=dosage_form(item, reps=10, reps_per_set="5, 3, 1"),
    )

    assert response.status_code == 422
    assert "either" in field_error(response, f"item{item.id}-reps")
    assert item_by_slug(reload_program(program.id), "abdominal-brace").dosage() == before


def test_adding_an_unknown_exercise_gets_a_message_and_adds_nothing(therapist_client, bundle):
    program = bundle.program
    items = count(ProgramItem)
    unknown = (db.session.scalar(sa.select(sa.func.max(Exercise.id))) or 0) + 1000

    response = therapist_client.post(
        f"/programs/{program.id}/items", data={"exercise_id": str(unknown)}
    )

    assert response.status_code == 422
    assert field_error(response, "exercise_id")
    assert count(ProgramItem) == items


def test_adding_another_clinics_exercise_is_refused(therapist_client, bundle, make_user, now):
    stranger = make_user(Role.THERAPIST)
    theirs = library.create_exercise(
        stranger.clinic_id,
        library.ExerciseData(
            name="Secret move",
            target="core",
            steps=("Do it.",),
            dosage={"sets": 1, "reps": 5, "rest_seconds": 0},
        ),
        by=stranger,
        now=now,
    )
    db.session.commit()
    items = count(ProgramItem)

    response = therapist_client.post(
        f"/programs/{bundle.program.id}/items", data={"exercise_id": str(theirs.id)}
    )

    assert response.status_code == 422
    assert count(ProgramItem) == items
    assert "Secret move" not in text(therapist_client.get(f"/programs/{bundle.program.id}"))


def test_adding_a_library_exercise_puts_it_last_with_its_default_dosage(therapist_client, bundle):
    program = bundle.program
    exercise = db.session.scalar(sa.select(Exercise).where(Exercise.slug == "bird-dog"))
    assert exercise is not None

    response = therapist_client.post(
        f"/programs/{program.id}/items", data={"exercise_id": exercise.id}
    )

    assert response.status_code == 302
    items = reload_program(program.id).items
    assert items[-1].exercise.slug == "bird-dog"
    assert items[-1].sets == exercise.sets


@pytest.mark.parametrize(
    ("data", "field"),
    [
        pytest.param({"stage": "9", "reason": "Why not"}, "stage", id="stage-9"),
        pytest.param({"stage": "1", "reason": "Same"}, "stage", id="same-stage"),
        pytest.param({"stage": "2", "reason": ""}, "reason", id="no-reason"),
    ],
)
def test_a_bad_stage_change_gets_a_message_and_changes_nothing(
    therapist_client, bundle, data, field
):
    program = bundle.program
    before = (count(StageChange), count(ProgramItem))

    response = therapist_client.post(f"/programs/{program.id}/stage", data=data)

    assert response.status_code == 422
    assert field_error(response, field)
    assert reload_program(program.id).stage == 1
    assert (count(StageChange), count(ProgramItem)) == before


def test_advancing_the_stage_with_a_reason_is_kept_in_the_history(
    therapist_client, bundle, therapist
):
    program = bundle.program
    old_items = {item.id for item in program.items}

    response = therapist_client.post(
        f"/programs/{program.id}/stage", data={"stage": "2", "reason": "Brace solid for 2 weeks"}
    )

    assert response.status_code == 302
    program = reload_program(program.id)
    assert program.stage == 2
    assert not old_items & {item.id for item in program.items}  # stage 2's own exercises
    change = db.session.scalar(
        sa.select(StageChange).where(
            StageChange.program_id == program.id, StageChange.direction == StageDirection.ADVANCE
        )
    )
    assert (change.from_stage, change.to_stage) == (1, 2)
    assert change.reason == "Brace solid for 2 weeks"
    assert change.changed_by_id == therapist.id
    builder = text(therapist_client.get(f"/programs/{program.id}"))
    assert "Stage 1 → 2 (advance)" in builder
    assert "Brace solid for 2 weeks" in builder
    assert "Theo Therapist" in builder


def test_removing_and_reordering_items(therapist_client, bundle):
    program = bundle.program
    slugs = [item.exercise.slug for item in program.items]
    second = program.items[1]

    moved = therapist_client.post(f"/programs/{program.id}/items/{second.id}/move/up")
    assert moved.status_code == 302
    assert [i.exercise.slug for i in reload_program(program.id).items] == [
        slugs[1],
        slugs[0],
        *slugs[2:],
    ]

    therapist_client.post(f"/programs/{program.id}/items/{second.id}/move/down")
    assert [i.exercise.slug for i in reload_program(program.id).items] == slugs

    removed = therapist_client.post(f"/programs/{program.id}/items/{second.id}/remove")
    assert removed.status_code == 302
    remaining = [i.exercise.slug for i in reload_program(program.id).items]
    assert remaining == [s for s in slugs if s != slugs[1]]
    # the removed item stays in the database for past sessions
    assert db.session.get(ProgramItem, second.id).removed_at is not None
    assert (
        therapist_client.post(f"/programs/{program.id}/items/{second.id}/remove").status_code == 404
    )


def test_the_last_exercise_cannot_be_removed(therapist_client, bundle):
    program = bundle.program
    items = program.items
    for item in items[:-1]:
        therapist_client.post(f"/programs/{program.id}/items/{item.id}/remove")

    last = therapist_client.post(f"/programs/{program.id}/items/{items[-1].id}/remove")

    assert last.status_code == 302
    assert len(reload_program(program.id).items) == 1
    assert "at least one exercise" in text(therapist_client.get(f"/programs/{program.id}"))


def test_an_unknown_move_direction_is_404_and_moves_nothing(therapist_client, bundle):
    program = bundle.program
    slugs = [i.exercise.slug for i in program.items]

    response = therapist_client.post(
        f"/programs/{program.id}/items/{program.items[1].id}/move/sideways"
    )

    assert response.status_code == 404
    assert [i.exercise.slug for i in reload_program(program.id).items] == slugs


def test_pausing_then_resuming_the_program_is_kept_as_history(therapist_client, bundle, therapist):
    program = bundle.program

    paused = therapist_client.post(f"/programs/{program.id}/pause", data={"reason": "Travelling"})

    assert paused.status_code == 302
    assert reload_program(program.id).status is ProgramStatus.PAUSED
    builder = text(therapist_client.get(f"/programs/{program.id}"))
    assert "This program is paused" in builder
    assert "Travelling" in builder

    resumed = therapist_client.post(f"/programs/{program.id}/resume", data={"reason": "Back home"})

    assert resumed.status_code == 302
    assert reload_program(program.id).status is ProgramStatus.ACTIVE
    changes = db.session.scalars(
        sa.select(ProgramStatusChange)
        .where(ProgramStatusChange.program_id == program.id)
        .order_by(ProgramStatusChange.id)
    ).all()
    assert [(c.status, c.reason) for c in changes[-2:]] == [
        (ProgramStatus.PAUSED, "Travelling"),
        (ProgramStatus.ACTIVE, "Back home"),
    ]
    assert all(c.changed_by_id == therapist.id for c in changes[-2:])
    assert db.session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.action == "program.resume", AuditEvent.actor_id == therapist.id
        )
    )


def test_resuming_an_active_program_changes_nothing(therapist_client, bundle):
    program = bundle.program
    before = count(ProgramStatusChange)

    response = therapist_client.post(f"/programs/{program.id}/resume", data={"reason": "?"})

    assert response.status_code == 302
    assert count(ProgramStatusChange) == before
    assert "Only a paused or suspended program" in text(
        therapist_client.get(f"/programs/{program.id}")
    )


def test_changing_the_schedule_keeps_the_date_it_takes_effect(therapist_client, bundle):
    program = bundle.program

    response = therapist_client.post(
        f"/programs/{program.id}/schedule", data={"weekdays": ["1", "3"]}
    )

    assert response.status_code == 302
    program = reload_program(program.id)
    assert (program.weekdays, program.sessions_per_week) == ([1, 3], 2)
    assert db.session.scalar(
        sa.select(ScheduleChange)
        .where(ScheduleChange.program_id == program.id)
        .order_by(ScheduleChange.id.desc())
    ).weekdays == [1, 3]
    empty = therapist_client.post(f"/programs/{program.id}/schedule", data={})
    assert empty.status_code == 422
    assert "Pick at least one day." in text(empty)
    assert reload_program(program.id).weekdays == [1, 3]


# ---------------------------------------------------------------------------- library


EXERCISE = {
    "name": "Wall sit",
    "target": "legs, endurance",
    "summary": "Sit against a wall",
    "steps": "Lean on a wall.\nSlide down a little.",
    "cues": "Keep breathing",
    "stage_from": "2",
    "stage_to": "3",
    "sets": "2",
    "hold_seconds": "30",
    "rest_seconds": "45",
    "side": "both",
}


def test_a_clinic_exercise_can_be_created_edited_and_archived(therapist_client, builtin_content):
    created = therapist_client.post("/programs/exercises/new", data=EXERCISE)

    assert created.status_code == 302
    exercise = db.session.scalar(sa.select(Exercise).where(Exercise.name == "Wall sit"))
    assert exercise.clinic_id is not None
    assert exercise.steps == ["Lean on a wall.", "Slide down a little."]
    assert created.headers["Location"] == f"/programs/exercises/{exercise.id}"
    assert "Wall sit" in text(therapist_client.get("/programs/?q=wall"))

    edited = therapist_client.post(
        f"/programs/exercises/{exercise.id}/edit", data={**EXERCISE, "name": "Wall squat hold"}
    )

    assert edited.status_code == 302
    db.session.commit()
    db.session.refresh(exercise)
    assert exercise.name == "Wall squat hold"

    archived = therapist_client.post(f"/programs/exercises/{exercise.id}/archive")

    assert archived.status_code == 302
    db.session.commit()
    db.session.refresh(exercise)
    assert exercise.archived_at is not None
    assert "Wall squat hold" not in text(therapist_client.get("/programs/"))
    assert "archived" in text(therapist_client.get(f"/programs/exercises/{exercise.id}"))


def test_a_bad_clinic_exercise_gets_field_messages_and_is_not_saved(
    therapist_client, builtin_content
):
    before = count(Exercise)

    response = therapist_client.post(
        "/programs/exercises/new",
        data={**EXERCISE, "name": "", "hold_seconds": "301", "stage_from": "3", "stage_to": "2"},
    )

    assert response.status_code == 422
    assert field_error(response, "name")
    assert field_error(response, "hold_seconds")
    assert count(Exercise) == before


def test_built_in_exercises_are_read_only(therapist_client, builtin_content):
    exercise = db.session.scalar(sa.select(Exercise).where(Exercise.slug == "abdominal-brace"))
    before = (exercise.name, exercise.archived_at)

    page = text(therapist_client.get(f"/programs/exercises/{exercise.id}"))
    edit_page = therapist_client.get(f"/programs/exercises/{exercise.id}/edit")
    edit = therapist_client.post(f"/programs/exercises/{exercise.id}/edit", data=EXERCISE)
    archive = therapist_client.post(f"/programs/exercises/{exercise.id}/archive")

    assert "built-in (read-only)" in page
    assert (edit_page.status_code, edit.status_code, archive.status_code) == (403, 403, 403)
    db.session.commit()
    db.session.refresh(exercise)
    assert (exercise.name, exercise.archived_at) == before


def test_the_library_can_be_searched_and_filtered_by_stage(therapist_client, builtin_content):
    everything = text(therapist_client.get("/programs/"))
    braces = text(therapist_client.get("/programs/?q=BRACE"))
    stage_4 = text(therapist_client.get("/programs/?stage=4"))

    assert "Diaphragmatic breathing" in everything and "Cat–camel" in everything
    assert "Abdominal brace" in braces
    assert "Cat–camel" not in braces
    assert "Diaphragmatic breathing" not in stage_4
    for exercise in db.session.scalars(sa.select(Exercise)):
        at_stage_4 = exercise.stage_from <= 4 <= exercise.stage_to
        assert (f">{exercise.name}</a>" in stage_4) is at_stage_4, exercise.name
    assert "No exercise matches" in text(therapist_client.get("/programs/?q=zzzz"))


def test_an_exercise_page_shows_steps_cues_dosage_and_its_variants(
    therapist_client, builtin_content
):
    exercise = db.session.scalar(sa.select(Exercise).where(Exercise.slug == "abdominal-brace"))

    page = text(therapist_client.get(f"/programs/exercises/{exercise.id}"))

    for step in exercise.steps:
        assert step in page
    for cue in exercise.cues:
        assert cue in page
    assert "Starting dose" in page
    assert "Easier" in page and "Harder" in page


# ---------------------------------------------------------------------------- handout, detail


def test_the_handout_is_one_printable_page_with_the_exercises_and_an_inline_qr(
    therapist_client, bundle
):
    program = bundle.program

    response = therapist_client.get(f"/programs/{program.id}/handout")

    assert response.status_code == 200
    body = text(response)
    assert "handout.css" in body
    assert "Ada Lovelace" in body
    for item in program.items:
        assert item.exercise.name in body
        assert item.exercise.steps[0] in body
    assert re.search(r'<svg role="img" aria-label="QR code[^"]*"', body)
    assert "<img" not in body.split('class="handout-qr"')[1].split("</figure>")[0]  # inline QR
    # Each exercise's start and end frames, side by side.
    for item in program.items:
        assert f'src="/figures/{item.exercise.slug}.svg?' in body and "frame=start" in body
    assert "emergency department" in body


def test_the_patient_detail_shows_sessions_check_ins_and_a_pain_chart_and_is_audited(
    therapist_client, make_patient, therapist, now
):
    bundle = make_patient(therapist=therapist, name="Ada Lovelace", start_days_ago=5)
    program = bundle.program
    for days_ago, pain in ((4, 6), (2, 5), (1, 4)):
        at = now - timedelta(days=days_ago, hours=1)
        log_session(
            bundle.patient,
            SessionReport(
                id=str(uuid.uuid4()),
                program_id=program.id,
                completed_at=at,
                pain_before=pain,
                pain_after=pain - 1,
                notes=f"Session note {days_ago}",
                exercises=tuple(
                    ExerciseResult(item.id, "done", pain_during=pain) for item in program.items
                ),
            ),
            now=now,
        )
    record_check_in(
        bundle.patient,
        CheckInReport(id=str(uuid.uuid4()), recorded_at=now - timedelta(hours=20), morning_pain=3),
        now=now,
    )
    db.session.commit()

    response = therapist_client.get(f"/caseload/patients/{bundle.patient.id}")

    assert response.status_code == 200
    body = text(response)
    assert body.count('id="session-') == 3
    assert "Session note 2" in body
    assert body.count('id="check-in-') == 1
    assert re.search(r'<svg[^>]*role="img"', body)
    assert re.search(r"<table[^>]*>\s*<caption>[^<]*: data</caption>", body)
    assert "6 → 5" in body  # pain before → after of the first session
    event = db.session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.action == "patient.read", AuditEvent.patient_id == bundle.patient.id
        )
    )
    assert event is not None
    assert event.actor_id == therapist.id
    assert event.object_id == bundle.patient.id


def test_after_someone_else_reissues_the_link_the_old_token_is_no_longer_shown(
    therapist_client, app, make_user, therapist, builtin_content
):
    therapist_client.post("/caseload/patients/new", data=INVITE)
    patient = db.session.scalar(sa.select(Patient))
    page = f"/caseload/patients/{patient.id}/invitation"
    old = token_of(INVITE_LINK.search(text(therapist_client.get(page))).group(1))
    admin = make_user(Role.ADMIN, clinic=therapist.clinic)
    admins_browser = app.test_client()
    admins_browser.post("/auth/login", data={"email": admin.email, "password": PASSWORD})

    assert admins_browser.post(f"{page}/reissue").status_code == 302

    body = text(therapist_client.get(page))
    assert app.test_client().get(f"/auth/invite/{old}").status_code == 404
    assert old not in body, "the page shows a link (and QR code) that no longer works"

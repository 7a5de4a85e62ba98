"""Screens a clinic can work from: red flags in words, someone to call, no snoozed red flags,
triage order, dosages kept across a stage change, no progression while suspended."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.alerts.models import Alert
from app.enums import AlertAction, AlertKind, AlertStatus, ProgramStatus, Role, Severity
from app.extensions import db
from app.patient.check_ins import CheckInReport, record_check_in
from app.programs.services import change_stage, suspend_program, update_item_dosage


@pytest.fixture
def bundle(make_patient):
    bundle = make_patient(start_days_ago=10)
    clinic = bundle.patient.clinic
    clinic.phone = "+44 20 7946 0018"
    clinic.emergency_number = "999"
    db.session.commit()
    return bundle


@pytest.fixture
def as_patient(app, login, bundle):
    return login(bundle.user, test_client=app.test_client())


@pytest.fixture
def as_therapist(app, login, bundle):
    return login(bundle.therapist, test_client=app.test_client())


def answer(client, **red_flags):  # type: ignore[no-untyped-def]
    from app.db import utcnow

    response = client.post(
        "/api/v1/checkins",
        json={"id": str(uuid.uuid4()), "recorded_at": utcnow().isoformat(), "red_flags": red_flags},
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


# ---------------------------------------------------------------------------- safety and contact


def test_an_emergency_answer_says_whom_to_call_with_the_local_emergency_number(as_patient):
    instruction = answer(as_patient, RF2=True)["instruction"]

    assert instruction["level"] == "emergency"
    assert "call 999" in instruction["text"]
    assert instruction["call"] == {
        "number": "999",
        "who": "the emergency services",
        "label": "Call 999",
    }
    assert instruction["text"].count("Your therapist has been told") == 1


def test_an_urgent_answer_names_the_therapist_and_the_clinics_phone(as_patient, bundle):
    instruction = answer(as_patient, RF7=True)["instruction"]

    assert instruction["level"] == "urgent"
    assert bundle.therapist.name in instruction["text"]
    assert "+44 20 7946 0018" in instruction["text"]
    assert instruction["call"]["number"] == "+44 20 7946 0018"
    assert bundle.therapist.name in instruction["call"]["who"]


def test_the_kept_program_carries_the_numbers_for_offline_use(as_patient, bundle):
    contact = as_patient.get("/api/v1/me/today").get_json()["contact"]

    assert contact == {
        "therapist": bundle.therapist.name,
        "clinic": bundle.patient.clinic.name,
        "clinic_phone": "+44 20 7946 0018",
        "emergency_number": "999",
    }


def test_red_flag_reasons_name_the_symptom_in_words_with_the_code_as_reference(
    as_patient, as_therapist
):
    answer(as_patient, RF3=True)

    alerts = as_therapist.get("/api/v1/alerts").get_json()["alerts"]
    reason = next(a for a in alerts if a["kind"] == "RED_FLAG_EMERGENCY")["reason"]

    assert "new leaking of urine or stool" in reason
    assert "RF3; possible cauda equina" in reason
    assert "answered yes" not in reason
    page = as_therapist.get("/alerts/").get_data(as_text=True)
    assert "new leaking of urine or stool" in page


def test_a_red_flag_alert_cannot_be_snoozed(as_patient, as_therapist):
    answer(as_patient, RF10=True)
    alert = db.session.scalar(sa.select(Alert).where(Alert.kind == AlertKind.RED_FLAG_PROMPT))

    response = as_therapist.post(f"/api/v1/alerts/{alert.id}/snooze", json={"days": 7})

    assert response.status_code == 409
    db.session.expire_all()
    assert db.session.get(Alert, alert.id).status is AlertStatus.OPEN
    detail = as_therapist.get(f"/alerts/{alert.id}").get_data(as_text=True)
    assert "Snooze" not in detail


def test_clinic_settings_hold_the_phone_and_emergency_number(app, login, make_user):
    admin = login(make_user(Role.ADMIN), test_client=app.test_client())

    saved = admin.patch(
        "/api/v1/clinic/settings", json={"phone": "+1 (555) 010-9999", "emergency_number": "911"}
    )
    refused = admin.patch("/api/v1/clinic/settings", json={"emergency_number": "call 911"})

    assert saved.status_code == 200
    assert saved.get_json() == {
        "phone": "+1 (555) 010-9999",
        "emergency_number": "911",
        "require_2fa": False,
        "questionnaires_off": [],
    }
    assert refused.status_code == 422
    assert [e["field"] for e in refused.get_json()["errors"]] == ["emergency_number"]
    assert admin.get("/api/v1/clinic/settings").get_json()["emergency_number"] == "911"


def test_a_patient_phone_is_taken_at_invitation_and_shown_as_a_link(as_therapist):
    created = as_therapist.post(
        "/api/v1/patients",
        json={"name": "Pat Phone", "timezone": "Europe/London", "phone": "+44 7700 900123"},
    )
    assert created.status_code == 201
    page = as_therapist.get(f"/caseload/patients/{created.get_json()['id']}")

    assert 'href="tel:+447700900123"' in page.get_data(as_text=True)
    refused = as_therapist.post(
        "/api/v1/patients", json={"name": "Pat", "timezone": "Europe/London", "phone": "call me"}
    )
    assert refused.status_code == 422


# ---------------------------------------------------------------------------- triage


def test_within_a_severity_a_new_alert_ranks_before_an_acknowledged_one_and_newest_first(
    as_therapist, make_patient, make_alert, bundle
):
    therapist = bundle.therapist
    older_new = make_patient(therapist=therapist, name="Older New")
    acknowledged = make_patient(therapist=therapist, name="Acknowledged")
    newest_new = make_patient(therapist=therapist, name="Newest New")
    make_alert(older_new, AlertKind.WORSENING, Severity.HIGH, age=timedelta(days=3))
    make_alert(
        acknowledged,
        AlertKind.FLARE,
        Severity.HIGH,
        status=AlertStatus.ACKNOWLEDGED,
        age=timedelta(minutes=5),
    )
    make_alert(newest_new, AlertKind.RED_FLAG_URGENT, Severity.HIGH, age=timedelta(hours=1))

    names = [p["name"] for p in as_therapist.get("/api/v1/caseload").get_json()["patients"]]

    assert names[:3] == ["Newest New", "Older New", "Acknowledged"]


# ---------------------------------------------------------------------------- stages


def test_advancing_keeps_the_dosage_of_exercises_that_carry_over_and_closes_ready_to_progress(
    bundle, make_alert, now
):
    program = bundle.program
    walking = next(i for i in program.items if i.exercise.slug == "graded-walking")
    update_item_dosage(walking, {"duration_seconds": 1500}, by=bundle.therapist, now=now)
    ready = make_alert(bundle, AlertKind.READY_TO_PROGRESS)

    change_stage(program, 2, reason="Ready", by=bundle.therapist, now=now)
    db.session.commit()

    carried = next(i for i in program.items if i.exercise.slug == "graded-walking")
    assert carried.id != walking.id and carried.duration_seconds == 1500
    db.session.expire_all()
    closed = db.session.get(Alert, ready.id)
    assert closed.status is AlertStatus.RESOLVED and closed.action is AlertAction.PROGRESSED


def test_the_builder_previews_what_a_stage_change_keeps_adds_and_drops(as_therapist, bundle, now):
    from app.programs.services import stage_plan

    program = bundle.program
    walking = next(i for i in program.items if i.exercise.slug == "graded-walking")
    update_item_dosage(walking, {"duration_seconds": 1500}, by=bundle.therapist, now=now)
    db.session.commit()
    plan = stage_plan(program, 2)
    assert plan is not None

    page = as_therapist.get(f"/programs/{program.id}").get_data(as_text=True)

    preview = page.split('data-stage-preview="2"', 1)[1].split("</section>", 1)[0]
    assert "What changes at stage 2" in preview
    assert "Graded walking" in preview and "25 min" in preview
    assert "kept at your dosage" in preview
    new = [i.exercise.name for i in plan.items if not i.carried_over]
    assert new and all(name in preview for name in new)
    assert "new, at the library dose" in preview
    if plan.dropped:
        assert "Leaves the program" in preview
    assert program.stage == 1, "a preview changes nothing"


def test_a_suspended_program_is_offered_no_progression(as_therapist, bundle, make_alert, now):
    make_alert(bundle, AlertKind.READY_TO_PROGRESS)
    suspend_program(bundle.program, now=now, reason="Emergency red-flag answer")
    db.session.commit()
    assert bundle.program.status is ProgramStatus.SUSPENDED

    page = as_therapist.get(f"/caseload/patients/{bundle.patient.id}").get_data(as_text=True)
    caseload = as_therapist.get("/caseload/").get_data(as_text=True)

    assert "Advance to stage" not in page
    assert "ready to progress" not in caseload


def test_an_emergency_answer_suspends_at_once(bundle, now):
    record_check_in(
        bundle.patient,
        CheckInReport(id=str(uuid.uuid4()), recorded_at=now, red_flags={"RF1": True}),
        now=now,
    )
    db.session.commit()
    db.session.refresh(bundle.program)
    assert bundle.program.status is ProgramStatus.SUSPENDED


# ---------------------------------------------------------------------------- invitation


def newest_patient():  # type: ignore[no-untyped-def]
    from app.patient.models import Patient

    return db.session.scalar(sa.select(Patient).order_by(Patient.id.desc()).limit(1))


def invite_form(**overrides: object) -> dict[str, object]:
    return {"name": "Ada Invite", "timezone": "America/New York", "rf9": "no", "rf12": "no"} | (
        overrides
    )


def test_a_program_chosen_at_invitation_is_assigned_with_the_patient(as_therapist):
    from app.programs.queries import current_program

    created = as_therapist.post(
        "/caseload/patients/new", data=invite_form(stage="2", sessions_per_week="4")
    )

    assert created.status_code == 302
    patient = newest_patient()
    assert patient.timezone == "America/New_York"
    program = current_program(patient)
    assert program is not None and program.status is ProgramStatus.ACTIVE
    assert (program.stage, program.sessions_per_week) == (2, 4)
    assert program.items, "the patient would open an empty program"


def test_assign_later_at_invitation_leaves_the_patient_without_a_program(as_therapist):
    from app.programs.queries import current_program

    created = as_therapist.post("/caseload/patients/new", data=invite_form(stage="0"))

    assert created.status_code == 302
    patient = newest_patient()
    assert current_program(patient) is None


def test_an_unknown_timezone_at_invitation_is_refused_and_creates_nobody(as_therapist):

    refused = as_therapist.post("/caseload/patients/new", data=invite_form(timezone="Mars/Base"))

    assert refused.status_code == 422
    assert "Choose a timezone" in refused.get_data(as_text=True)
    assert newest_patient().name != "Ada Invite"

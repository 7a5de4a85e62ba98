"""The end of care and a clinic's questionnaires: discharge asks for the discharge PSFS, and a
clinic may switch the STarT Back tool off (CLINICAL §8)."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from app.admin.models import AuditEvent
from app.enums import ProgramStatus
from app.extensions import db
from app.programs.models import EpisodeOfCare, Program
from app.timeutil import local_date
from tests.integration.route_access_measures import psfs_body


def test_a_discharge_ends_the_program_and_asks_for_the_discharge_psfs_once(
    app, login, make_patient, now, time_machine
):
    bundle = make_patient(start_days_ago=30)
    therapist = login(bundle.therapist, test_client=app.test_client())
    patient = login(bundle.user, test_client=app.test_client())
    program_id = bundle.program.id
    intake = {**psfs_body(), "completed_at": (now - timedelta(days=29)).isoformat()}
    assert patient.post("/api/v1/measures", json=intake).status_code == 201

    answer = therapist.post(f"/programs/{program_id}/discharge", data={"reason": "Goals met"})

    assert answer.status_code == 302
    db.session.expire_all()
    program = db.session.get(Program, program_id)
    episode = db.session.get(EpisodeOfCare, program.episode_id)
    assert program.status is ProgramStatus.ENDED
    assert episode.ended_on == local_date(now, bundle.patient.timezone)
    actions = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.action == "program.discharge")
    ).all()
    assert actions == ["program.discharge"]

    # The patient is told the program has finished and asked for the discharge PSFS only.
    today = patient.get("/today").get_data(as_text=True)
    assert "You have finished your program" in today
    assert "Your therapist has not set up your program yet" not in today
    due = patient.get("/api/v1/me/measures").get_json()["due"]
    assert [(d["instrument"], d["reason"]) for d in due] == [("psfs", "discharge")]
    # The discharge PSFS re-rates the activities named at intake (CLINICAL §8).
    assert "Lifting my child" in patient.get("/measures?instrument=psfs").get_data(as_text=True)

    sent = patient.post("/api/v1/measures", json=psfs_body())
    assert sent.status_code == 201
    assert patient.get("/api/v1/me/measures").get_json()["due"] == []

    # A second discharge changes nothing.
    again = therapist.post(f"/programs/{program_id}/discharge", data={"reason": "Twice"})
    assert again.status_code == 302
    assert "already ended" in therapist.get(again.headers["Location"]).get_data(as_text=True)


def test_the_discharge_questionnaire_is_due_for_two_weeks_then_no_more(
    app, login, make_patient, now, time_machine
):
    bundle = make_patient(start_days_ago=30)
    therapist = login(bundle.therapist, test_client=app.test_client())
    therapist.post(f"/programs/{bundle.program.id}/discharge", data={})

    def due_after(days: int) -> list[str]:
        time_machine.move_to(now + timedelta(days=days), tick=False)
        patient = login(bundle.user, test_client=app.test_client())  # logins do not last weeks
        return [d["instrument"] for d in patient.get("/api/v1/me/measures").get_json()["due"]]

    assert due_after(14) == ["psfs"]
    assert due_after(15) == []
    patient = login(bundle.user, test_client=app.test_client())
    today = patient.get("/today").get_data(as_text=True)
    assert "You have finished your program" not in today


def test_a_clinic_switches_start_back_off_and_its_patients_are_no_longer_asked(
    app, login, make_patient, make_user
):
    from app.enums import Role

    bundle = make_patient()
    admin = login(
        make_user(Role.ADMIN, clinic=bundle.patient.clinic), test_client=app.test_client()
    )
    patient = login(bundle.user, test_client=app.test_client())
    due = {d["instrument"] for d in patient.get("/api/v1/me/measures").get_json()["due"]}
    assert "start-back" in due

    refused = admin.patch("/api/v1/clinic/settings", json={"questionnaires_off": ["psfs"]})
    assert refused.status_code == 422
    assert [e["field"] for e in refused.get_json()["errors"]] == ["questionnaires_off"]
    saved = admin.patch("/api/v1/clinic/settings", json={"questionnaires_off": ["start-back"]})
    assert saved.status_code == 200 and saved.get_json()["questionnaires_off"] == ["start-back"]

    due = {d["instrument"] for d in patient.get("/api/v1/me/measures").get_json()["due"]}
    assert due == {"nprs", "psfs"}
    offered = {i["slug"] for i in patient.get("/api/v1/instruments").get_json()["instruments"]}
    assert "start-back" not in offered
    answer = patient.get("/measures?instrument=start-back")
    assert "Keele" not in answer.get_data(as_text=True)

    # The settings page shows the choice, and unticking it offers the tool again.
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert re.search(r'<input checked [^>]*value="start-back"', page)
    admin.post("/admin/settings", data={"phone": "", "emergency_number": ""})
    due = {d["instrument"] for d in patient.get("/api/v1/me/measures").get_json()["due"]}
    assert "start-back" in due

"""The ready-to-progress suggestion shows on the caseload and the patient page, one click away."""

import sqlalchemy as sa

from app.enums import AlertKind, AlertStatus
from app.extensions import db
from app.programs.models import StageChange


def test_caseload_marks_a_patient_ready_to_progress(client, login, make_patient, make_alert):
    bundle = make_patient(name="Ready Rita")
    make_alert(bundle, AlertKind.READY_TO_PROGRESS, reason="Ready")
    login(bundle.therapist)
    page = client.get("/caseload/").get_data(as_text=True)
    assert "ready to progress" in page


def test_one_click_on_the_patient_page_advances_the_stage_and_resolves_the_alert(
    client, login, make_patient, make_alert
):
    bundle = make_patient(stage=2)
    alert = make_alert(bundle, AlertKind.READY_TO_PROGRESS, reason="Ready")
    login(bundle.therapist)
    page = client.get(f"/caseload/patients/{bundle.patient.id}").get_data(as_text=True)
    assert "Advance to stage 3" in page
    response = client.post(
        f"/alerts/{alert.id}/resolve",
        data={"action": "progressed", "note": "Ready to progress: applied from the suggestion."},
    )
    assert response.status_code == 302
    db.session.refresh(alert)
    db.session.refresh(bundle.program)
    assert alert.status is AlertStatus.RESOLVED
    assert bundle.program.stage == 3
    change = db.session.scalar(
        sa.select(StageChange).where(
            StageChange.program_id == bundle.program.id, StageChange.to_stage == 3
        )
    )
    assert change.direction.value == "advance"


def test_at_stage_four_the_suggestion_is_to_plan_discharge(client, login, make_patient, make_alert):
    bundle = make_patient(stage=4)
    make_alert(bundle, AlertKind.READY_TO_PROGRESS, reason="Ready")
    login(bundle.therapist)
    page = client.get(f"/caseload/patients/{bundle.patient.id}").get_data(as_text=True)
    assert "plan discharge to a maintenance routine" in page
    assert "Advance to stage" not in page

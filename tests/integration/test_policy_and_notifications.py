"""Per-clinic thresholds (audited, versioned on alerts) and alert emails without health data."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.admin.models import AuditEvent
from app.admin.policy import update_policy
from app.alerts.models import Alert
from app.alerts.notify import send_at_once, send_digest
from app.clinical.policy import Policy
from app.enums import AlertKind, Role
from app.extensions import db
from app.patient.check_ins import CheckInReport, record_check_in


def defaults_as_text() -> dict[str, str]:
    from app.admin.policy import SETTINGS, show

    return {name: show(getattr(Policy(), name)) for name in SETTINGS}


def test_admin_sees_the_default_thresholds(client, login, make_user):
    admin = make_user(Role.ADMIN)
    login(admin)
    page = client.get("/admin/policy").get_data(as_text=True)
    assert "Alert thresholds" in page
    assert 'value="80 %"' in page  # adherent
    assert 'value="21"' in page  # persistent pain from day 21


def test_changing_a_threshold_is_saved_audited_and_versioned(client, login, make_user):
    admin = make_user(Role.ADMIN)
    login(admin)
    values = defaults_as_text() | {"persistent_day": "28", "adherent": "75 %"}
    response = client.post("/admin/policy", data=values)
    assert response.status_code == 302
    db.session.refresh(admin.clinic)
    overrides = admin.clinic.policy_overrides
    assert overrides["persistent_day"] == 28
    assert overrides["adherent"] == "3/4"
    assert overrides["version"].endswith("+c1")
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "policy.update"))
    assert event.details["after"]["persistent_day"] == 28
    assert event.actor_id == admin.id


@pytest.mark.parametrize(
    ("field", "value"),
    [("persistent_day", "soon"), ("adherent", "150 %"), ("rearm_days", "-1")],
)
def test_invalid_threshold_gets_a_field_message_and_changes_nothing(
    client, login, make_user, field, value
):
    admin = make_user(Role.ADMIN)
    login(admin)
    response = client.post("/admin/policy", data=defaults_as_text() | {field: value})
    assert response.status_code == 422
    db.session.refresh(admin.clinic)
    assert admin.clinic.policy_overrides in ({}, None)


def test_therapists_cannot_change_thresholds(client, login, make_user):
    login(make_user(Role.THERAPIST))
    assert client.get("/admin/policy").status_code == 403


def test_alerts_record_the_clinic_policy_version(make_patient, now):
    bundle = make_patient()
    update_policy(
        bundle.patient.clinic,
        defaults_as_text() | {"rearm_days": "10"},
        by=bundle.therapist,
        now=now,
    )
    record_check_in(
        bundle.patient,
        CheckInReport(
            id="6f1c1f2e-2b1b-4a5c-9d3e-000000000001", recorded_at=now, red_flags={"RF10": True}
        ),
        now=now,
    )
    alert = db.session.scalar(sa.select(Alert).where(Alert.patient_id == bundle.patient.id))
    assert alert.kind is AlertKind.RED_FLAG_PROMPT
    assert alert.rule_version.endswith("+c1")


def test_an_emergency_red_flag_emails_the_therapist_at_once_without_health_details(
    client, login, make_patient, smtp, now
):
    bundle = make_patient()
    login(bundle.user)
    smtp.messages.clear()  # the invitation
    response = client.post(
        "/api/v1/checkins",
        json={
            "id": "0b3a9c1e-5a7d-4e9b-8c1f-000000000002",
            "recorded_at": now.isoformat(),
            "red_flags": {"RF2": True},
        },
    )
    assert response.status_code == 201
    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    body = message.content.decode()
    assert message.rcpt_tos == [bundle.therapist.email]
    assert "/alerts/" in body
    for private in ("RF2", "urine", "bladder", bundle.user.name, "emergency department"):
        assert private not in body
    alert = db.session.scalar(sa.select(Alert).where(Alert.patient_id == bundle.patient.id))
    assert alert.notified_at is not None


def test_medium_alerts_wait_for_the_daily_digest(make_patient, smtp, now):
    bundle = make_patient()
    smtp.messages.clear()  # the invitation
    record_check_in(
        bundle.patient,
        CheckInReport(
            id="2c6d9f0a-3e4b-4f5a-8b7c-000000000003", recorded_at=now, red_flags={"RF11": True}
        ),
        now=now,
    )
    db.session.commit()
    assert send_at_once(now) == 0
    assert send_digest(now + timedelta(hours=12)) == 1
    assert "1 new alert" in smtp.messages[0].content.decode()
    assert send_digest(now + timedelta(hours=13)) == 0


def test_no_email_is_attempted_when_mail_is_not_configured(make_patient, make_alert, now):
    bundle = make_patient()
    make_alert(bundle, AlertKind.FLARE, reason="x")
    assert send_at_once(now) == 0


def test_inviting_a_patient_with_an_email_sends_the_link_without_health_details(
    client, login, make_user, builtin_content, smtp
):
    therapist = make_user(Role.THERAPIST)
    login(therapist)
    response = client.post(
        "/caseload/patients/new",
        data={
            "name": "Mail Patient",
            "email": "mail.patient@example.org",
            "timezone": "Europe/London",
            "intake_pain": "6",
            "goals": "Walk the dog",
            "rf9": "yes",
            "rf12": "no",
        },
    )
    assert response.status_code == 302
    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    body = message.content.decode()
    assert message.rcpt_tos == ["mail.patient@example.org"]
    assert "/auth/invite/" in body
    for private in ("Walk the dog", "cancer", "RF9", "pain"):
        assert private not in body

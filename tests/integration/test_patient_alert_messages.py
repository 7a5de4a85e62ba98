"""The patient sees the CLINICAL §5 message of the alerts open about them, in plain words."""

import sqlalchemy as sa

from app.alerts.models import Alert
from app.enums import AlertKind, AlertStatus, Severity
from app.extensions import db


def open_alert(bundle, kind: AlertKind, status: AlertStatus = AlertStatus.OPEN) -> None:
    db.session.add(
        Alert(
            patient_id=bundle.patient.id,
            clinic_id=bundle.patient.clinic_id,
            kind=kind,
            severity=Severity.MEDIUM,
            status=status,
            rule_id="r",
            rule_version="v",
            reason="reason with numbers",
            dedup_key=f"{bundle.patient.id}:{kind}",
        )
    )
    db.session.commit()


def test_persistent_pain_tells_the_patient_their_therapist_will_review_the_plan(
    client, login, make_patient
):
    bundle = make_patient()
    open_alert(bundle, AlertKind.PERSISTENT_PAIN)
    login(bundle.user)
    page = client.get("/today").get_data(as_text=True)
    assert "Your therapist will review your plan with you." in page
    assert "reason with numbers" not in page  # the therapist's evidence stays with them


def test_low_adherence_gives_a_gentle_nudge_and_resolved_alerts_say_nothing(
    client, login, make_patient
):
    bundle = make_patient()
    open_alert(bundle, AlertKind.LOW_ADHERENCE)
    open_alert(bundle, AlertKind.PERSISTENT_PAIN, AlertStatus.RESOLVED)
    login(bundle.user)
    page = client.get("/today").get_data(as_text=True)
    assert "A short session still counts" in page
    assert "review your plan" not in page


def test_the_same_message_is_shown_once(client, login, make_patient):
    bundle = make_patient()
    open_alert(bundle, AlertKind.PERSISTENT_PAIN, AlertStatus.SUPERSEDED)
    open_alert(bundle, AlertKind.NON_RESPONSE_6W)
    login(bundle.user)
    page = client.get("/today").get_data(as_text=True)
    assert page.count("Your therapist will review your plan with you.") == 1
    assert db.session.scalar(sa.select(sa.func.count(Alert.id))) == 2

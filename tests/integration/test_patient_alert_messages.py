"""The patient sees the CLINICAL §5 message of the alerts open about them, in plain words."""

import sqlalchemy as sa

from app.alerts.models import Alert
from app.enums import AlertKind, AlertStatus
from app.extensions import db


def test_persistent_pain_tells_the_patient_their_therapist_will_review_the_plan(
    client, login, make_patient, make_alert
):
    bundle = make_patient()
    make_alert(bundle, AlertKind.PERSISTENT_PAIN)
    login(bundle.user)
    page = client.get("/today").get_data(as_text=True)
    assert "Your therapist will review your plan with you." in page
    assert "reason with numbers" not in page  # the therapist's evidence stays with them


def test_low_adherence_gives_a_gentle_nudge_and_resolved_alerts_say_nothing(
    client, login, make_patient, make_alert
):
    bundle = make_patient()
    make_alert(bundle, AlertKind.LOW_ADHERENCE)
    make_alert(bundle, AlertKind.PERSISTENT_PAIN, status=AlertStatus.RESOLVED)
    login(bundle.user)
    page = client.get("/today").get_data(as_text=True)
    assert "A short session still counts" in page
    assert "review your plan" not in page


def test_the_same_message_is_shown_once(client, login, make_patient, make_alert):
    bundle = make_patient()
    make_alert(bundle, AlertKind.PERSISTENT_PAIN, status=AlertStatus.SUPERSEDED)
    make_alert(bundle, AlertKind.NON_RESPONSE_6W)
    login(bundle.user)
    page = client.get("/today").get_data(as_text=True)
    assert page.count("Your therapist will review your plan with you.") == 1
    assert db.session.scalar(sa.select(sa.func.count(Alert.id))) == 2

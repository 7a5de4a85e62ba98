"""Alerts in the JSON API (DESIGN §4): list with filters, acknowledge, snooze, resolve.

Errors are RFC 9457 problem+json: 409 for an action on an alert in the wrong state, 422 with the
field names for invalid fields, 404 for another clinic's alert (never 403 for patient data), and
403 for a patient using a clinician endpoint. Alerts are made directly: these tests are about
acting on alerts, not about the rules.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.alerts.models import Alert, Referral
from app.db import utcnow
from app.enums import AlertAction, AlertKind, AlertStatus, Role, Severity
from app.extensions import db
from app.programs.models import Program
from app.timeutil import local_date
from tests.conftest import PatientBundle

FIELDS = {
    "id",
    "patient_id",
    "kind",
    "severity",
    "status",
    "reason",
    "evidence",
    "session_ids",
    "created_at",
    "updated_at",
}
TIMEZONE = "America/Los_Angeles"


def reload(alert: Alert) -> Alert:
    db.session.expire_all()
    return db.session.get(Alert, alert.id)


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert {"type", "title", "status", "detail", "errors"} <= set(body)
    assert body["status"] == status
    return body


def error_fields(body: dict) -> set[str]:
    return {e["field"] for e in body["errors"]}


@pytest.fixture
def therapist(make_user):
    return make_user(Role.THERAPIST)


@pytest.fixture
def bundle(make_patient, therapist) -> PatientBundle:
    return make_patient(therapist=therapist, stage=2, start_days_ago=10, timezone=TIMEZONE)


@pytest.fixture
def alert(bundle, make_alert) -> Alert:
    return make_alert(bundle, AlertKind.PERSISTENT_PAIN, Severity.MEDIUM)


@pytest.fixture
def api(client, login, therapist):
    login(therapist)
    return client


@pytest.fixture
def caseload(make_patient, therapist, bundle, make_alert) -> dict[str, Alert]:
    """Alerts in every status over two patients of the therapist."""
    other = make_patient(therapist=therapist)
    return {
        "urgent": make_alert(
            bundle,
            AlertKind.RED_FLAG_EMERGENCY,
            Severity.URGENT,
            evidence={"baseline": "6", "current": "6", "program_day": 25},
        ),
        "high": make_alert(other, AlertKind.FLARE, Severity.HIGH, status=AlertStatus.ACKNOWLEDGED),
        "medium": make_alert(bundle, AlertKind.PERSISTENT_PAIN, Severity.MEDIUM),
        "low": make_alert(
            other,
            AlertKind.LOW_ADHERENCE,
            Severity.LOW,
            status=AlertStatus.SNOOZED,
            snoozed_until=date.today() + timedelta(days=3),
        ),
        "resolved": make_alert(
            bundle, AlertKind.WORSENING, Severity.HIGH, status=AlertStatus.RESOLVED
        ),
        "superseded": make_alert(
            other, AlertKind.PERSISTENT_PAIN, Severity.MEDIUM, status=AlertStatus.SUPERSEDED
        ),
    }


def ids(response) -> list[int]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [a["id"] for a in response.get_json()["alerts"]]


# ---------------------------------------------------------------------------- list


def test_the_list_gives_open_alerts_most_serious_first_with_the_design_fields(api, caseload):
    response = api.get("/api/v1/alerts")

    assert ids(response) == [caseload[k].id for k in ("urgent", "high", "medium", "low")]
    for item in response.get_json()["alerts"]:
        assert set(item) >= FIELDS
    first = response.get_json()["alerts"][0]
    assert first["kind"] == "RED_FLAG_EMERGENCY"
    assert first["severity"] == "urgent"
    assert first["status"] == "open"
    assert first["reason"] == "RED_FLAG_EMERGENCY made by the test."
    assert first["evidence"] == {"baseline": "6", "current": "6", "program_day": 25}
    assert first["session_ids"] == []
    assert first["patient_id"] == caseload["urgent"].patient_id


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("open", {"urgent", "high", "medium", "low"}),
        ("resolved", {"resolved", "superseded"}),
        ("all", {"urgent", "high", "medium", "low", "resolved", "superseded"}),
    ],
)
def test_the_list_filters_by_status(api, caseload, status, expected):
    assert set(ids(api.get(f"/api/v1/alerts?status={status}"))) == {
        caseload[k].id for k in expected
    }


def test_the_list_filters_by_patient_kind_and_severity(api, caseload, bundle):
    by_patient = ids(api.get(f"/api/v1/alerts?status=all&patient_id={bundle.patient.id}"))
    assert set(by_patient) == {caseload[k].id for k in ("urgent", "medium", "resolved")}

    by_kind = ids(api.get("/api/v1/alerts?status=all&kind=PERSISTENT_PAIN"))
    assert set(by_kind) == {caseload["medium"].id, caseload["superseded"].id}

    by_severity = ids(api.get("/api/v1/alerts?severity=high"))
    assert by_severity == [caseload["high"].id]

    combined = ids(
        api.get(
            f"/api/v1/alerts?patient_id={bundle.patient.id}&kind=PERSISTENT_PAIN&severity=medium"
        )
    )
    assert combined == [caseload["medium"].id]


@pytest.mark.parametrize("query", ["status=closed", "kind=NOPE", "severity=huge", "patient_id=x"])
def test_an_invalid_filter_is_422(api, caseload, query):
    assert_problem(api.get(f"/api/v1/alerts?{query}"), 422)


# ---------------------------------------------------------------------------- actions


def test_acknowledge_with_an_empty_object(api, alert):
    response = api.post(f"/api/v1/alerts/{alert.id}/acknowledge", json={})

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["id"] == alert.id
    assert body["status"] == "acknowledged"
    assert set(body) >= FIELDS
    assert reload(alert).status is AlertStatus.ACKNOWLEDGED


def test_snooze_for_3_days_in_the_patients_calendar(api, alert):
    today = local_date(utcnow(), TIMEZONE)

    response = api.post(f"/api/v1/alerts/{alert.id}/snooze", json={"days": 3})

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "snoozed"
    assert body["snoozed_until"] == (today + timedelta(days=3)).isoformat()
    assert reload(alert).snoozed_until == today + timedelta(days=3)


def test_resolve_with_an_action_and_a_note(api, alert, therapist):
    response = api.post(
        f"/api/v1/alerts/{alert.id}/resolve", json={"action": "contacted", "note": "Called her"}
    )

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "resolved"
    assert body["action"] == "contacted"
    assert body["note"] == "Called her"
    after = reload(alert)
    assert after.action is AlertAction.CONTACTED
    assert after.resolved_by_id == therapist.id
    assert after.resolved_at is not None


def test_resolve_as_regressed_changes_the_stage(api, alert, bundle):
    response = api.post(f"/api/v1/alerts/{alert.id}/resolve", json={"action": "regressed"})

    assert response.status_code == 200, response.get_json()
    db.session.expire_all()
    assert db.session.get(Program, bundle.program.id).stage == 1


def test_resolve_as_referred_creates_the_referral(api, alert, bundle):
    response = api.post(
        f"/api/v1/alerts/{alert.id}/resolve",
        json={
            "action": "referred",
            "note": "",
            "referral": {"to": "Pain clinic", "reason": "Persistent pain at 6 weeks"},
        },
    )

    assert response.status_code == 200, response.get_json()
    [referral] = db.session.scalars(sa.select(Referral)).all()
    assert (referral.alert_id, referral.patient_id) == (alert.id, bundle.patient.id)
    assert (referral.to_whom, referral.reason) == ("Pain clinic", "Persistent pain at 6 weeks")
    assert referral.summary["criteria"]


# ---------------------------------------------------------------------------- wrong state


def test_resolving_twice_is_409(api, alert):
    assert (
        api.post(f"/api/v1/alerts/{alert.id}/resolve", json={"action": "no_action"}).status_code
        == 200
    )

    body = assert_problem(
        api.post(f"/api/v1/alerts/{alert.id}/resolve", json={"action": "contacted"}), 409
    )
    assert "resolved" in body["detail"]
    assert reload(alert).action is AlertAction.NO_ACTION


@pytest.mark.parametrize(
    ("path", "body"),
    [("acknowledge", {}), ("snooze", {"days": 2}), ("resolve", {"action": "regressed"})],
)
@pytest.mark.parametrize("status", [AlertStatus.RESOLVED, AlertStatus.SUPERSEDED])
def test_any_action_on_a_closed_alert_is_409_and_changes_nothing(
    api, bundle, path, body, status, make_alert
):
    closed = make_alert(bundle, AlertKind.FLARE, Severity.HIGH, status=status)

    assert_problem(api.post(f"/api/v1/alerts/{closed.id}/{path}", json=body), 409)

    after = reload(closed)
    assert (after.status, after.snoozed_until, after.action) == (status, None, None)
    db.session.expire_all()
    assert db.session.get(Program, bundle.program.id).stage == 2


def test_acknowledging_twice_is_409(api, alert):
    api.post(f"/api/v1/alerts/{alert.id}/acknowledge", json={})

    assert_problem(api.post(f"/api/v1/alerts/{alert.id}/acknowledge", json={}), 409)


# ---------------------------------------------------------------------------- invalid fields


@pytest.mark.parametrize("days", [0, 15, -3, "3", 2.5, True, None])
def test_snooze_days_outside_1_to_14_or_not_an_integer_is_422_on_days(api, alert, days):
    body = assert_problem(api.post(f"/api/v1/alerts/{alert.id}/snooze", json={"days": days}), 422)

    assert error_fields(body) == {"days"}
    after = reload(alert)
    assert (after.status, after.snoozed_until) == (AlertStatus.OPEN, None)


def test_snooze_without_days_is_422_on_days(api, alert):
    body = assert_problem(api.post(f"/api/v1/alerts/{alert.id}/snooze", json={}), 422)

    assert error_fields(body) == {"days"}


def test_resolve_with_an_unknown_action_is_422(api, alert):
    body = assert_problem(
        api.post(f"/api/v1/alerts/{alert.id}/resolve", json={"action": "ignored"}), 422
    )

    assert error_fields(body) == {"action"}
    assert reload(alert).status is AlertStatus.OPEN


def test_referred_without_a_referral_is_422_with_the_field_names(api, alert):
    body = assert_problem(
        api.post(f"/api/v1/alerts/{alert.id}/resolve", json={"action": "referred"}), 422
    )

    assert error_fields(body) == {"referral.to", "referral.reason"}
    assert reload(alert).status is AlertStatus.OPEN
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Referral)) == 0


def test_referred_with_an_empty_recipient_is_422_on_referral_to(api, alert):
    body = assert_problem(
        api.post(
            f"/api/v1/alerts/{alert.id}/resolve",
            json={"action": "referred", "referral": {"to": "", "reason": "Persistent pain"}},
        ),
        422,
    )

    assert error_fields(body) == {"referral.to"}
    assert reload(alert).status is AlertStatus.OPEN


@pytest.mark.parametrize(
    ("path", "body"),
    [("snooze", {"days": 3, "force": True}), ("resolve", {"action": "contacted", "x": 1})],
)
def test_an_unknown_field_is_422(api, alert, path, body):
    answer = assert_problem(api.post(f"/api/v1/alerts/{alert.id}/{path}", json=body), 422)

    assert error_fields(answer) & {"force", "x"}
    assert reload(alert).status is AlertStatus.OPEN


NOT_AN_OBJECT = [
    pytest.param({"json": []}, 400, id="a-list"),
    pytest.param({"data": "{not json", "content_type": "application/json"}, 400, id="not-json"),
    pytest.param(
        {"data": "days=3", "content_type": "application/x-www-form-urlencoded"}, 415, id="a-form"
    ),
]


@pytest.mark.parametrize("path", ["snooze", "resolve"])
@pytest.mark.parametrize(("kwargs", "status"), NOT_AN_OBJECT)
def test_a_body_that_is_not_a_json_object_is_rejected(api, alert, path, kwargs, status):
    assert_problem(api.post(f"/api/v1/alerts/{alert.id}/{path}", **kwargs), status)
    assert reload(alert).status is AlertStatus.OPEN


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        *NOT_AN_OBJECT,
        pytest.param({"json": {"force": True}}, 422, id="unknown-field"),
    ],
)
def test_acknowledge_rejects_a_body_that_is_not_an_empty_json_object(api, alert, kwargs, status):
    assert_problem(api.post(f"/api/v1/alerts/{alert.id}/acknowledge", **kwargs), status)
    assert reload(alert).status is AlertStatus.OPEN


# ---------------------------------------------------------------------------- access


ACTIONS = [
    ("acknowledge", {}),
    ("snooze", {"days": 3}),
    ("resolve", {"action": "regressed"}),
]


@pytest.mark.parametrize("who", ["other-clinic-therapist", "other-clinic-admin", "unassigned"])
def test_someone_elses_alert_is_404_everywhere_and_absent_from_the_list(
    client, login, make_user, therapist, bundle, alert, who
):
    if who == "other-clinic-therapist":
        outsider = make_user(Role.THERAPIST)
    elif who == "other-clinic-admin":
        outsider = make_user(Role.ADMIN)
    else:
        outsider = make_user(Role.THERAPIST, clinic=therapist.clinic)
    login(outsider)

    for path, body in ACTIONS:
        assert_problem(client.post(f"/api/v1/alerts/{alert.id}/{path}", json=body), 404)
    assert ids(client.get("/api/v1/alerts?status=all")) == []
    assert ids(client.get(f"/api/v1/alerts?status=all&patient_id={bundle.patient.id}")) == []
    after = reload(alert)
    assert (after.status, after.snoozed_until, after.action) == (AlertStatus.OPEN, None, None)
    db.session.expire_all()
    assert db.session.get(Program, bundle.program.id).stage == 2


def test_an_alert_that_does_not_exist_is_404(api):
    for path, body in ACTIONS:
        assert_problem(api.post(f"/api/v1/alerts/999999/{path}", json=body), 404)


def test_an_admin_of_the_clinic_sees_and_acts_on_its_alerts(
    client, login, make_user, therapist, alert
):
    login(make_user(Role.ADMIN, clinic=therapist.clinic))

    assert ids(client.get("/api/v1/alerts")) == [alert.id]
    assert client.post(f"/api/v1/alerts/{alert.id}/acknowledge", json={}).status_code == 200


def test_a_patient_gets_403(client, login, bundle, alert):
    login(bundle.user)

    assert_problem(client.get("/api/v1/alerts"), 403)
    for path, body in ACTIONS:
        assert_problem(client.post(f"/api/v1/alerts/{alert.id}/{path}", json=body), 403)
    assert reload(alert).status is AlertStatus.OPEN


def test_logged_out_is_401(client, alert):
    assert_problem(client.get("/api/v1/alerts"), 401)
    assert_problem(client.post(f"/api/v1/alerts/{alert.id}/acknowledge", json={}), 401)

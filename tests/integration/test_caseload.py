"""The caseload page and `GET /api/v1/caseload` (DESIGN §4, §5; issue 3 item 4).

Patients who need attention come first: the highest open-alert severity (urgent, high, medium,
low, info), then WORSENED pain, then the lowest adherence, then the name. Snoozed alerts leave the
order until their date (CLINICAL §5). The page costs a fixed number of SQL queries whatever the
caseload size.

Where a test is about one tier of the order it writes the read model (`PatientSummary`) directly:
through the services a WORSENED trend also raises a high WORSENING alert, which would hide the
tier under test.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.auth.models import User
from app.caseload.models import PatientSummary
from app.enums import AlertKind, AlertStatus, Role, Severity
from app.extensions import db
from app.patient.models import Patient
from app.patient.sessions import log_session
from app.programs.content import BUILTIN_TEMPLATE
from tests.conftest import PatientBundle, session_report

SEVERITY_KIND = {
    Severity.URGENT: AlertKind.RED_FLAG_EMERGENCY,
    Severity.HIGH: AlertKind.WORSENING,
    Severity.MEDIUM: AlertKind.PERSISTENT_PAIN,
    Severity.LOW: AlertKind.LOW_ADHERENCE,
    Severity.INFO: AlertKind.READY_TO_PROGRESS,
}
API_FIELDS = {
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
DATA_DAYS_FIELDS = {"days", "period_start", "period_end", "needed_for_16"}
ROW_NAME = re.compile(r'<th scope="row">\s*<a href="/caseload/patients/\d+">([^<]+)</a>')


@pytest.fixture
def therapist(make_user: Callable[..., User]) -> User:
    return make_user(Role.THERAPIST)


@pytest.fixture
def therapist_client(client, login, therapist):  # type: ignore[no-untyped-def]
    return login(therapist)


@pytest.fixture
def patient_of(make_patient, therapist) -> Callable[..., PatientBundle]:  # type: ignore[no-untyped-def]
    """A patient of the logged-in therapist; cheap: no password, stage 1 unless told."""

    def make(name: str, **options: object) -> PatientBundle:
        options.setdefault("password", None)
        return make_patient(therapist=therapist, name=name, **options)

    return make


def set_summary(bundle: PatientBundle, **values: object) -> None:
    """Overwrite a summary row; ``adherence`` is given as a ratio and stored as counts."""
    if "adherence" in values:
        ratio = values.pop("adherence")
        values.update(
            adherence_known=ratio is not None,
            adherence_completed=int(Decimal(ratio or 0) * 100),
            adherence_scheduled=100,
        )
    db.session.execute(
        sa.update(PatientSummary)
        .where(PatientSummary.patient_id == bundle.patient.id)
        .values(**values)
    )
    db.session.commit()


def summary_of(bundle: PatientBundle) -> PatientSummary:
    db.session.commit()  # see what the last request stored
    row = db.session.scalar(
        sa.select(PatientSummary).where(PatientSummary.patient_id == bundle.patient.id)
    )
    assert row is not None
    return row


def log_a_session(bundle: PatientBundle, at: datetime, now: datetime, pain: int = 3) -> None:
    program = bundle.program
    assert program is not None
    log_session(
        bundle.patient,
        session_report(program, completed_at=at, pain_before=pain, pain_after=pain),
        now=now,
    )
    db.session.commit()


def api_names(client) -> list[str]:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/caseload")
    assert response.status_code == 200
    return [p["name"] for p in response.get_json()["patients"]]


def page_names(client, query: str = "") -> list[str]:  # type: ignore[no-untyped-def]
    response = client.get(f"/caseload/{query}")
    assert response.status_code == 200
    return ROW_NAME.findall(response.get_data(as_text=True))


# ---------------------------------------------------------------------------- query count


def test_the_caseload_costs_the_same_queries_with_5_and_with_50_patients(
    therapist_client, patient_of, count_queries, make_alert
):
    def add_patients(start: int, stop: int) -> None:
        for n in range(start, stop):
            bundle = patient_of(f"Patient {n:02d}", stage=1 + n % 4)
            if n % 3 == 0:
                severity = Severity.URGENT if n % 2 else Severity.MEDIUM
                make_alert(bundle, SEVERITY_KIND[severity], severity)

    def measure(path: str) -> int:
        therapist_client.get(path)  # warm-up: login session touch, caches
        with count_queries() as queries:
            response = therapist_client.get(path)
        assert response.status_code == 200
        return len(queries)

    add_patients(0, 5)
    page_5, api_5 = measure("/caseload/"), measure("/api/v1/caseload")
    assert len(page_names(therapist_client)) == 5
    add_patients(5, 50)
    page_50, api_50 = measure("/caseload/"), measure("/api/v1/caseload")

    assert len(page_names(therapist_client)) == 50
    assert page_50 == page_5
    assert api_50 == api_5
    assert page_5 <= 10, f"{page_5} queries for the caseload page"


# ---------------------------------------------------------------------------- order


def test_a_patient_with_an_open_urgent_alert_comes_above_a_quiet_one(
    therapist_client, patient_of, make_alert
):
    patient_of("Aaron Quiet")
    urgent = patient_of("Zed Urgent")
    make_alert(urgent, SEVERITY_KIND[Severity.URGENT], Severity.URGENT)

    assert api_names(therapist_client) == ["Zed Urgent", "Aaron Quiet"]
    assert page_names(therapist_client) == ["Zed Urgent", "Aaron Quiet"]
    row = therapist_client.get("/api/v1/caseload").get_json()["patients"][0]
    assert row["open_alerts"] == {"urgent": 1}


def test_worsened_pain_comes_before_the_lowest_adherence_and_adherence_before_the_name(
    therapist_client, patient_of
):
    low = patient_of("Ann Lowest")
    middle = patient_of("Ben Middle")
    worse = patient_of("Zoe Worse")
    unknown = patient_of("Abe Unknown")
    set_summary(low, adherence=Decimal("0.1"), pain_status="NO_CHANGE")
    set_summary(middle, adherence=Decimal("0.5"), pain_status="IMPROVED")
    set_summary(worse, adherence=Decimal("0.95"), pain_status="WORSENED")
    set_summary(unknown, adherence=None, pain_status="UNKNOWN")

    expected = ["Zoe Worse", "Ann Lowest", "Ben Middle", "Abe Unknown"]
    assert api_names(therapist_client) == expected
    assert page_names(therapist_client) == expected


def test_alert_severity_ranks_first_then_worsened_then_adherence(
    therapist_client, patient_of, make_alert
):
    high = patient_of("Hal High")
    urgent = patient_of("Uma Urgent")
    low_alert = patient_of("Lou Low")
    worse = patient_of("Wes Worse")
    quiet = patient_of("Abby Quiet")
    make_alert(high, SEVERITY_KIND[Severity.HIGH], Severity.HIGH)
    make_alert(urgent, SEVERITY_KIND[Severity.URGENT], Severity.URGENT)
    make_alert(low_alert, SEVERITY_KIND[Severity.LOW], Severity.LOW)
    set_summary(worse, pain_status="WORSENED", adherence=Decimal("1"))
    set_summary(quiet, adherence=Decimal("0"))

    assert api_names(therapist_client) == [
        "Uma Urgent",
        "Hal High",
        "Lou Low",
        "Wes Worse",
        "Abby Quiet",
    ]


def test_a_snoozed_alert_does_not_lift_a_patient_until_its_date(
    therapist_client, patient_of, now, make_alert
):
    patient_of("Adam Quiet")
    snoozed = patient_of("Zoe Snoozed")
    make_alert(
        snoozed,
        SEVERITY_KIND[Severity.URGENT],
        Severity.URGENT,
        status=AlertStatus.SNOOZED,
        snoozed_until=now.date() + timedelta(days=3),
    )
    due = patient_of("Yan Snooze Over")
    make_alert(
        due,
        SEVERITY_KIND[Severity.HIGH],
        Severity.HIGH,
        status=AlertStatus.SNOOZED,
        snoozed_until=now.date() - timedelta(1),
    )
    acknowledged = patient_of("Xena Acknowledged")
    make_alert(
        acknowledged,
        SEVERITY_KIND[Severity.MEDIUM],
        Severity.MEDIUM,
        status=AlertStatus.ACKNOWLEDGED,
    )

    answer = therapist_client.get("/api/v1/caseload").get_json()["patients"]

    assert [p["name"] for p in answer] == [
        "Yan Snooze Over",
        "Xena Acknowledged",
        "Adam Quiet",
        "Zoe Snoozed",
    ]
    # A snoozed alert is still open: it is counted, it only does not lift the patient.
    assert answer[-1]["open_alerts"] == {"urgent": 1}
    assert "Zoe Snoozed" not in page_names(therapist_client, "?show=attention")


def test_resolved_and_superseded_alerts_neither_count_nor_lift(
    therapist_client, patient_of, make_alert
):
    patient_of("Adam Quiet")
    done = patient_of("Zack Resolved")
    make_alert(done, SEVERITY_KIND[Severity.URGENT], Severity.URGENT, status=AlertStatus.RESOLVED)

    answer = therapist_client.get("/api/v1/caseload").get_json()["patients"]

    assert [p["name"] for p in answer] == ["Adam Quiet", "Zack Resolved"]
    assert answer[1]["open_alerts"] == {}


# ---------------------------------------------------------------------------- filters


def test_needs_attention_shows_urgent_high_medium_alerts_and_worsened_pain_only(
    therapist_client, patient_of, make_alert
):
    make_alert(patient_of("Una Urgent"), SEVERITY_KIND[Severity.URGENT], Severity.URGENT)
    make_alert(patient_of("Meg Medium"), SEVERITY_KIND[Severity.MEDIUM], Severity.MEDIUM)
    make_alert(patient_of("Lou Low"), SEVERITY_KIND[Severity.LOW], Severity.LOW)
    set_summary(patient_of("Wes Worse"), pain_status="WORSENED")
    patient_of("Quinn Quiet")

    assert page_names(therapist_client, "?show=attention") == [
        "Una Urgent",
        "Meg Medium",
        "Wes Worse",
    ]
    assert len(page_names(therapist_client)) == 5


def test_the_stage_filter_shows_only_patients_at_that_stage(therapist_client, patient_of):
    patient_of("Sam Stage One", stage=1)
    patient_of("Tess Stage Two", stage=2)
    patient_of("Nina No Program", stage=None)

    assert page_names(therapist_client, "?stage=2") == ["Tess Stage Two"]
    assert page_names(therapist_client, "?stage=1") == ["Sam Stage One"]
    # an impossible stage is ignored rather than hiding everyone
    assert len(page_names(therapist_client, "?stage=9")) == 3


def test_the_inactive_filter_shows_patients_without_activity_for_a_week(
    therapist_client, patient_of, now
):
    active = patient_of("Ava Active", start_days_ago=12)
    lapsed = patient_of("Leo Lapsed", start_days_ago=12)
    patient_of("Nell Never")
    log_a_session(active, now - timedelta(hours=2), now)
    log_a_session(lapsed, now - timedelta(days=10), now)

    assert sorted(page_names(therapist_client, "?show=inactive")) == ["Leo Lapsed", "Nell Never"]
    assert "Ava Active" in page_names(therapist_client)


def test_search_finds_patients_by_part_of_their_name_in_any_case(therapist_client, patient_of):
    patient_of("Ada Lovelace")
    patient_of("Grace Hopper")

    assert page_names(therapist_client, "?q=LOVE") == ["Ada Lovelace"]
    assert page_names(therapist_client, "?q=hop") == ["Grace Hopper"]
    assert page_names(therapist_client, "?q=nobody") == []
    assert "No patient matches" in therapist_client.get("/caseload/?q=nobody").get_data(
        as_text=True
    )


def test_a_therapist_sees_only_their_own_patients_and_the_admin_the_whole_clinic(
    client, login, make_user, make_patient
):
    therapist = make_user(Role.THERAPIST)
    colleague = make_user(Role.THERAPIST, clinic=therapist.clinic)
    admin = make_user(Role.ADMIN, clinic=therapist.clinic)
    make_patient(therapist=therapist, name="Mine Only", password=None)
    make_patient(therapist=colleague, name="Colleagues Patient", password=None)
    make_patient(name="Other Clinic Patient", password=None)

    login(therapist)
    assert api_names(client) == ["Mine Only"]
    assert page_names(client) == ["Mine Only"]
    client.post("/auth/logout")
    login(admin)
    assert sorted(api_names(client)) == ["Colleagues Patient", "Mine Only"]


# ---------------------------------------------------------------------------- API shape


def test_the_api_answers_exactly_the_design_fields(therapist_client, patient_of, now, make_alert):
    bundle = patient_of("Ada Lovelace", start_days_ago=10)
    log_a_session(bundle, now - timedelta(hours=3), now, pain=4)
    make_alert(bundle, SEVERITY_KIND[Severity.HIGH], Severity.HIGH)
    make_alert(patient_of("Bob Brand New", stage=None), SEVERITY_KIND[Severity.INFO], Severity.INFO)

    response = therapist_client.get("/api/v1/caseload")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"patients"}
    ada, bob = body["patients"]
    for row in (ada, bob):
        assert set(row) == API_FIELDS
        assert set(row["data_days"]) == DATA_DAYS_FIELDS
    assert ada["id"] == bundle.patient.id
    assert ada["name"] == "Ada Lovelace"
    assert ada["email"] == bundle.user.email
    assert ada["stage"] == 1
    assert ada["program_day"] == 11
    assert ada["adherence_14d"] is None or 0 <= ada["adherence_14d"] <= 1
    assert ada["pain_status"] in {"IMPROVED", "NO_CHANGE", "WORSENED", "UNKNOWN"}
    assert ada["last_activity"] is not None
    assert ada["data_days"]["days"] == 1
    assert ada["data_days"]["needed_for_16"] == 15
    assert ada["data_days"]["period_start"] == (now - timedelta(days=10)).date().isoformat()
    assert ada["open_alerts"] == {"high": 1}
    assert bob["stage"] is None
    assert bob["program_day"] is None
    assert bob["last_activity"] is None
    assert bob["data_days"] == {
        "days": 0,
        "period_start": None,
        "period_end": None,
        "needed_for_16": 16,
    }
    assert bob["open_alerts"] == {"info": 1}


def test_the_caseload_api_refuses_patients_and_logged_out_callers(client, login, make_patient):
    assert client.get("/api/v1/caseload").status_code == 401
    login(make_patient().user)
    response = client.get("/api/v1/caseload")
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"


# ---------------------------------------------------------------------------- read model


def test_the_summary_follows_assignment_stage_changes_pause_and_resume(
    therapist_client, patient_of
):
    bundle = patient_of("Ada Lovelace", stage=None)

    assign = therapist_client.post(
        f"/programs/assign/{bundle.patient.id}",
        data={"template": BUILTIN_TEMPLATE, "stage": "1"},
    )
    assert assign.status_code == 302
    assert (summary_of(bundle).stage, summary_of(bundle).program_status) == (1, "active")
    program_id = int(assign.headers["Location"].rstrip("/").split("/")[-1])

    stage = therapist_client.post(
        f"/programs/{program_id}/stage", data={"stage": "2", "reason": "Brace is solid"}
    )
    assert stage.status_code == 302
    assert summary_of(bundle).stage == 2
    assert api_names(therapist_client) == ["Ada Lovelace"]
    assert therapist_client.get("/api/v1/caseload").get_json()["patients"][0]["stage"] == 2

    api_stage = therapist_client.post(
        f"/api/v1/programs/{program_id}/stage", json={"stage": 3, "reason": "Ready"}
    )
    assert api_stage.status_code == 200
    assert summary_of(bundle).stage == 3

    therapist_client.post(f"/programs/{program_id}/pause", data={"reason": "Holiday"})
    assert summary_of(bundle).program_status == "paused"
    assert "paused" in therapist_client.get("/caseload/").get_data(as_text=True)
    therapist_client.post(f"/api/v1/programs/{program_id}/resume", json={})
    assert summary_of(bundle).program_status == "active"

    replaced = therapist_client.post(
        f"/api/v1/patients/{bundle.patient.id}/program",
        json={"template": BUILTIN_TEMPLATE, "stage": 1},
    )
    assert replaced.status_code == 201
    assert summary_of(bundle).stage == 1


def test_a_patient_without_a_program_still_appears_with_an_invitation_pending(
    therapist_client, patient_of
):
    bundle = patient_of("Nina New", stage=None)

    page = therapist_client.get("/caseload/").get_data(as_text=True)

    assert "Nina New" in page
    assert "invitation pending" in page
    assert db.session.get(Patient, bundle.patient.id) is not None

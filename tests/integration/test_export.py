"""The export over HTTP (DESIGN §4 "Export", issue 15): a patient's whole record as FHIR R4 from
the same data the pages show, the patient's own copy, and spreadsheet-safe CSV."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from fhir.resources.R4B.bundle import Bundle

from app.audit import AuditEvent
from app.enums import Role
from app.export import unresolved_references
from app.extensions import db
from app.patient.check_ins import CheckInReport, record_check_in
from app.patient.sessions import log_session
from tests.conftest import session_report
from tests.integration.test_fhir_validator import SCRIPT, node_or_skip

LOINC_PAIN = "72514-3"


@pytest.fixture
def bundle(make_patient, now):
    """A patient with two sessions (one with a formula-like note) and two check-ins."""
    bundle = make_patient(start_days_ago=6, name="Eve Export")
    program = bundle.program
    log_session(
        bundle.patient,
        session_report(
            program,
            completed_at=now - timedelta(days=2),
            pain_before=4,
            pain_after=5,
            pain_during=6,
            notes='=HYPERLINK("http://evil.example","click")',
        ),
        now=now - timedelta(days=2),
    )
    log_session(
        bundle.patient,
        session_report(program, completed_at=now - timedelta(days=1), pain_before=3, pain_after=3),
        now=now - timedelta(days=1),
    )
    record_check_in(
        bundle.patient,
        CheckInReport(
            id=str(uuid.uuid4()),
            recorded_at=now - timedelta(hours=20),
            morning_pain=2,
            red_flags={f"RF{n}": False for n in (1, 2, 3, 4, 5, 6, 7, 8, 10, 11)},
        ),
        now=now - timedelta(hours=20),
    )
    db.session.commit()
    return bundle


@pytest.fixture
def as_therapist(app, login, bundle):
    return login(bundle.therapist, test_client=app.test_client())


def resources(data: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == kind]


def test_the_fhir_export_holds_every_reading_logged_and_every_reference_resolves(
    as_therapist, bundle
):
    answer = as_therapist.get(f"/api/v1/patients/{bundle.patient.id}/fhir")

    assert answer.status_code == 200
    assert answer.mimetype == "application/fhir+json"
    assert "attachment" in answer.headers["Content-Disposition"]
    data = answer.get_json(force=True)
    Bundle.model_validate(data)  # the R4B models parse it
    assert data["type"] == "collection"
    assert unresolved_references(data) == []
    [patient] = resources(data, "Patient")
    assert patient["name"][0]["text"] == "Eve Export"
    pains = [
        o
        for o in resources(data, "Observation")
        if any(c["code"] == LOINC_PAIN for c in o["code"]["coding"])
    ]
    items = len(bundle.program.items)
    # Session 1: before 4, after 5 and 6 during each exercise; session 2: 3 and 3; morning 2.
    assert sorted(o["valueInteger"] for o in pains) == sorted([4, 5, *[6] * items, 3, 3, 2])
    [care_plan] = resources(data, "CarePlan")
    assert len(care_plan["activity"]) == items
    timing = care_plan["activity"][0]["detail"]["scheduledTiming"]["repeat"]
    assert timing["dayOfWeek"]
    assert resources(data, "QuestionnaireResponse"), "the red-flag screen is exported"
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "patient.export"))
    assert event is not None and event.patient_id == bundle.patient.id


def test_the_exported_record_passes_the_independent_r4_validator(as_therapist, bundle, tmp_path):
    node = node_or_skip()
    data = as_therapist.get(f"/api/v1/patients/{bundle.patient.id}/fhir").get_json(force=True)
    path = tmp_path / "export.json"
    path.write_text(json.dumps(data), encoding="utf-8")

    result = subprocess.run(
        [node, str(SCRIPT), str(path)], capture_output=True, text=True, timeout=300, check=False
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_another_clinic_and_an_unassigned_therapist_get_404(app, login, bundle, make_user):
    stranger = login(make_user(), test_client=app.test_client())
    colleague = login(make_user(clinic=bundle.therapist.clinic), test_client=app.test_client())

    for client in (stranger, colleague):
        for path in ("fhir", "sessions.csv"):
            assert client.get(f"/api/v1/patients/{bundle.patient.id}/{path}").status_code == 404


def test_a_patient_downloads_only_their_own_record(app, login, bundle, make_patient):
    other = make_patient(name="Olga Other")
    client = login(bundle.user, test_client=app.test_client())

    answer = client.get("/api/v1/me/export")

    assert answer.status_code == 200
    data = answer.get_json(force=True)
    assert [p["name"][0]["text"] for p in resources(data, "Patient")] == ["Eve Export"]
    assert "Olga Other" not in answer.get_data(as_text=True)
    assert other.patient.id != bundle.patient.id
    assert client.get(f"/api/v1/patients/{other.patient.id}/fhir").status_code == 403


def test_the_sessions_csv_has_one_row_per_exercise_result_and_neutralises_formulas(
    as_therapist, bundle
):
    answer = as_therapist.get(f"/api/v1/patients/{bundle.patient.id}/sessions.csv")

    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    items = len(bundle.program.items)
    assert len(rows) == 2 * items
    assert {row["notes"] for row in rows} == {'\'=HYPERLINK("http://evil.example","click")', ""}
    assert {row["pain_during"] for row in rows if row["notes"]} == {"6"}


def test_the_caseload_csv_has_the_caseload_rows_in_order(app, login, make_user, make_patient):
    therapist = make_user(Role.THERAPIST)
    for name in ("Ann", "=cmd|' /C calc'!A0", "Bob"):
        make_patient(therapist=therapist, name=name)
    client = login(therapist, test_client=app.test_client())

    api = client.get("/api/v1/caseload").get_json()["patients"]
    answer = client.get("/api/v1/caseload.csv")

    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert [int(row["id"]) for row in rows] == [p["id"] for p in api]
    assert "'=cmd|' /C calc'!A0" in {row["name"] for row in rows}
    assert rows[0].keys() >= {"adherence_14d", "baseline", "current", "open_alerts_urgent"}
    assert rows[0].keys() >= {"unread_messages", "psfs_latest", "psfs_change"}


def test_the_patient_page_and_the_caseload_offer_the_downloads(as_therapist, bundle):
    record = as_therapist.get(f"/caseload/patients/{bundle.patient.id}").get_data(as_text=True)
    assert f'href="/api/v1/patients/{bundle.patient.id}/fhir" download' in record
    assert f'href="/api/v1/patients/{bundle.patient.id}/sessions.csv" download' in record
    caseload = as_therapist.get("/caseload/").get_data(as_text=True)
    assert 'href="/api/v1/caseload.csv" download' in caseload


def test_the_patient_downloads_their_data_from_their_account_page(app, login, bundle):
    client = login(bundle.user, test_client=app.test_client())
    today = client.get("/today").get_data(as_text=True)
    assert 'href="/account"' in today  # every patient page's footer

    page = client.get("/account")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Eve Export" in html and bundle.therapist.name in html
    assert 'href="/api/v1/me/export" download' in html
    download = client.get("/api/v1/me/export")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment;")

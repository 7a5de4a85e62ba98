"""A complete audit log without health values (issue 14; DESIGN §6, ASVS V16, HIPAA 164.312(b)).

Every read and change of a patient's data, every login, failed login, second-factor event,
reset and refusal is one row: who, when, from where, what, which patients, outcome. A list read
is one row naming every patient it showed. Rows hold kinds of action, never their content.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import audit
from app.admin.models import AuditEvent
from app.alerts.models import Alert
from app.db import utcnow
from app.enums import AlertKind, Role
from app.extensions import db
from tests.conftest import PASSWORD, POSTGRES_ADMIN_URL, skip_or_fail, throwaway_postgres

NOTE = "my left knee clicks when I kneel"
RESOLVE_NOTE = "phoned her, she is seeing her GP"


def events(action: str | None = None) -> list[AuditEvent]:
    query = sa.select(AuditEvent).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


def names(event: AuditEvent) -> set[int]:
    return {int(i) for i in (event.patient_ids or "").strip(",").split(",") if i}


@pytest.fixture
def clinic(app, client, make_user, make_patient):
    """A therapist with two patients, the clinic admin, and a logged-in client for each."""
    therapist = make_user(Role.THERAPIST)
    admin = make_user(Role.ADMIN, clinic=therapist.clinic)
    first = make_patient(therapist=therapist, name="Ada Patient")
    second = make_patient(therapist=therapist, name="Bo Patient")

    def client_for(user):
        c = app.test_client()
        assert (
            c.post("/auth/login", data={"email": user.email, "password": PASSWORD}).status_code
            == 302
        )
        return c

    return {
        "therapist": therapist,
        "admin": admin,
        "first": first,
        "second": second,
        "client_for": client_for,
    }


def session_body(program) -> dict:
    done = utcnow() - timedelta(minutes=1)
    return {
        "id": str(uuid.uuid4()),
        "program_id": program.id,
        "started_at": (done - timedelta(minutes=20)).isoformat(),
        "completed_at": done.isoformat(),
        "pain_before": 7,
        "pain_after": 9,
        "notes": NOTE,
        "exercises": [
            {"program_item_id": item.id, "status": "skipped", "skip_reason": "hurt too much"}
            for item in program.items[:2]
        ],
    }


def test_a_logged_session_a_patient_page_and_a_caseload_read_each_name_the_patient(clinic):
    first, second = clinic["first"], clinic["second"]
    patient = clinic["client_for"](first.user)
    assert patient.post("/api/v1/sessions", json=session_body(first.program)).status_code == 201
    (logged,) = events("session.log")
    assert names(logged) == {first.patient.id} and logged.actor_id == first.user.id
    assert logged.details == {}

    therapist = clinic["client_for"](clinic["therapist"])
    assert therapist.get(f"/caseload/patients/{first.patient.id}").status_code == 200
    assert names(events("patient.read")[-1]) == {first.patient.id}

    before = len(events())
    assert therapist.get("/caseload/").status_code == 200
    assert therapist.get("/api/v1/caseload").status_code == 200
    reads = events("caseload.read")
    # One event per list read, naming every patient it showed.
    assert len(reads) == 2 and len(events()) == before + 2
    for read in reads:
        assert names(read) == {first.patient.id, second.patient.id}
        assert read.actor_id == clinic["therapist"].id and read.ip == "127.0.0.1"


def test_a_patient_reading_their_own_pages_leaves_an_event(clinic):
    first = clinic["first"]
    patient = clinic["client_for"](first.user)
    assert patient.get("/today").status_code == 200
    assert patient.get("/api/v1/me/today").status_code == 200
    assert patient.get("/manifest.webmanifest").status_code == 200  # no patient data
    reads = events("patient.self_read")
    assert [r.details["endpoint"] for r in reads] == ["patient.today", "api.me_today"]
    assert all(names(r) == {first.patient.id} for r in reads)


def test_the_alert_lists_are_one_event_naming_their_patients(clinic, make_alert):
    first = clinic["first"]
    make_alert(first, AlertKind.PERSISTENT_PAIN)
    therapist = clinic["client_for"](clinic["therapist"])
    assert therapist.get("/alerts/").status_code == 200
    assert therapist.get("/api/v1/alerts").status_code == 200
    reads = events("alerts.read")
    assert len(reads) == 2 and all(names(r) == {first.patient.id} for r in reads)


def test_logins_failures_and_refusals_are_recorded(app, client, clinic, make_user):
    user = clinic["therapist"]
    c = app.test_client()
    c.post("/auth/login", data={"email": user.email, "password": "not the password"})
    c.post("/auth/login", data={"email": "nobody@example.org", "password": "whatever it is"})
    failed = events("auth.login_failed")
    assert len(failed) == 2 and all(e.outcome == "failed" for e in failed)
    assert failed[0].actor_id == user.id and failed[1].actor_id is None
    c.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert events("auth.login")[-1].actor_id == user.id

    outsider = clinic["client_for"](make_user(Role.THERAPIST))
    assert outsider.get(f"/caseload/patients/{clinic['first'].patient.id}").status_code == 404
    assert c.get("/admin/").status_code == 403
    denied = events("access.denied")
    assert len(denied) == 2 and all(e.outcome == "denied" for e in denied)
    # A refusal names no patient: existence does not leak, not even into a log.
    assert all(e.patient_ids is None for e in denied)


def test_the_csv_holds_no_health_values_passwords_or_tokens(client, smtp, clinic):
    first = clinic["first"]
    patient = clinic["client_for"](first.user)
    patient.post("/api/v1/sessions", json=session_body(first.program))
    answer = patient.post(
        "/api/v1/checkins",
        json={
            "id": str(uuid.uuid4()),
            "recorded_at": utcnow().isoformat(),
            "morning_pain": 8,
            "red_flags": {"RF2": True},
        },
    )
    assert answer.status_code == 201
    level = answer.get_json()["instruction"]["level"]
    therapist = clinic["client_for"](clinic["therapist"])
    alert = db.session.scalar(sa.select(Alert).where(Alert.patient_id == first.patient.id))
    assert therapist.get(f"/alerts/{alert.id}").status_code == 200
    resolved = therapist.post(
        f"/api/v1/alerts/{alert.id}/resolve", json={"action": "contacted", "note": RESOLVE_NOTE}
    )
    assert resolved.status_code == 200
    client.post("/auth/reset", data={"email": clinic["therapist"].email})
    admin = clinic["client_for"](clinic["admin"])
    response = admin.get("/admin/audit.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)

    rows = list(csv.DictReader(io.StringIO(text)))
    actions = {row["action"] for row in rows}
    assert {
        "session.log",
        "check_in.record",
        "alert.raise",
        "alert.read",
        "alert.resolve",
    } <= actions
    forbidden = [
        NOTE,
        "hurt too much",
        RESOLVE_NOTE,
        "RF2",
        "red_flag",
        "pain",
        level,
        PASSWORD,
        first.invitation_token,
        *(kind.value for kind in AlertKind),
        *(kind.name for kind in AlertKind),
    ]
    for message in smtp.to(clinic["therapist"].email):
        forbidden.extend(part for part in message.split() if "/auth/reset/" in part)
    for value in forbidden:
        assert value.lower() not in text.lower(), value


def test_another_clinics_admin_sees_none_of_these_rows(clinic, login, make_user, client):
    first = clinic["first"]
    patient = clinic["client_for"](first.user)
    patient.post("/api/v1/sessions", json=session_body(first.program))
    login(make_user(Role.ADMIN))
    page = client.get(f"/admin/audit?patient={first.patient.id}")
    assert page.status_code == 200
    assert "session.log" not in page.get_data(as_text=True)
    exported = client.get("/admin/audit.csv").get_data(as_text=True)
    assert "session.log" not in exported and "caseload.read" not in exported


def test_the_admin_view_filters_pages_and_is_audited_itself(clinic):
    first, second = clinic["first"], clinic["second"]
    therapist = clinic["client_for"](clinic["therapist"])
    therapist.get(f"/caseload/patients/{first.patient.id}")
    therapist.get(f"/caseload/patients/{second.patient.id}")
    therapist.get("/caseload/")
    admin = clinic["client_for"](clinic["admin"])

    page = admin.get(f"/admin/audit?patient={second.patient.id}&action=patient.read")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.count("<tr>") == 2  # the header and the one read of that patient
    by_patient = admin.get(f"/admin/audit?patient={first.patient.id}").get_data(as_text=True)
    assert "caseload.read" in by_patient and "patient.read" in by_patient  # list reads too
    by_user = admin.get(f"/admin/audit?user={clinic['admin'].id}&action=audit")
    assert "audit.read" in by_user.get_data(as_text=True)
    today = utcnow().date()
    empty = admin.get(f"/admin/audit?until={(today - timedelta(days=2)).isoformat()}")
    assert "No events match" in empty.get_data(as_text=True)
    assert admin.get("/admin/audit?since=garbage&page=x&patient=-1").status_code == 200

    for _ in range(55):
        audit.record("test.filler", actor=clinic["admin"])
    db.session.commit()
    first_page = admin.get("/admin/audit").get_data(as_text=True)
    assert "page=2" in first_page
    assert admin.get("/admin/audit?page=2").status_code == 200
    reads = events("audit.read")
    assert reads and reads[0].details.get("patient_id") == second.patient.id
    admin.get("/admin/audit.csv?action=patient.read")
    assert events("audit.export")[-1].details == {"action": "patient.read"}


def test_the_csv_is_formula_safe(clinic):
    audit.record("=cmd|' /C calc'!A0", actor=clinic["admin"])
    db.session.commit()
    admin = clinic["client_for"](clinic["admin"])
    text = admin.get("/admin/audit.csv").get_data(as_text=True)
    assert "'=cmd" in text


def test_a_list_read_is_one_insert_and_the_page_stays_within_budget(clinic, count_queries):
    therapist = clinic["client_for"](clinic["therapist"])
    therapist.get("/caseload/")  # warm up
    with count_queries() as queries:
        assert therapist.get("/caseload/").status_code == 200
    inserts = [q for q in queries if q.lstrip().upper().startswith("INSERT INTO AUDIT_EVENTS")]
    assert len(inserts) == 1
    assert len(queries) <= 30


def test_there_is_no_update_or_delete_path_in_the_app():
    import pathlib

    root = pathlib.Path(audit.__file__).parent
    for path in root.rglob("*.py"):
        source = path.read_text()
        for bad in ("update(AuditEvent)", "delete(AuditEvent)", "AuditEvent.__table__.delete"):
            assert bad not in source, f"{path} changes audit rows"


def test_postgresql_refuses_to_change_or_delete_an_audit_row():
    from flask_migrate import upgrade

    from app import create_app

    try:
        with throwaway_postgres(POSTGRES_ADMIN_URL) as url:
            app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x", "TESTING": True})
            with app.app_context():
                upgrade()
                engine = db.engine
                with engine.begin() as conn:
                    conn.execute(
                        sa.text(
                            "INSERT INTO audit_events (action, details, created_at, outcome)"
                            " VALUES ('test', '{}', now(), 'ok')"
                        )
                    )
                for statement in (
                    "UPDATE audit_events SET action = 'changed'",
                    "DELETE FROM audit_events",
                ):
                    with (
                        pytest.raises(sa.exc.DBAPIError, match="append-only"),
                        engine.begin() as conn,
                    ):
                        conn.execute(sa.text(statement))
                with engine.connect() as conn:
                    assert (
                        conn.execute(sa.text("SELECT action FROM audit_events")).scalar() == "test"
                    )
                db.session.remove()
                engine.dispose()
    except ConnectionError as exc:
        skip_or_fail(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {exc}")

"""Concurrent writes and audited reads against a live, threaded server: no 5xx, nothing lost.

Patients log sessions while a therapist opens their pages (each read writes an audit event).
On SQLite the audited reads queue for the write lock instead of failing with "database is
locked" (STACK "SQLite"); on PostgreSQL the same requests run in parallel.
"""

from __future__ import annotations

import threading
import uuid

import sqlalchemy as sa

from app.admin.models import AuditEvent
from app.extensions import db
from app.patient.models import Session
from tests.conftest import Browser

PATIENTS = 4
SESSIONS_EACH = 8
PAGE_READS = 24


def test_concurrent_session_logs_and_audited_page_reads_never_answer_5xx(
    live_server, make_user, make_patient, now
):
    therapist = make_user()
    bundles = [make_patient(therapist=therapist) for _ in range(PATIENTS)]
    db.session.commit()
    # Plain values: the threads run outside this test's app context.
    patients = [(b.user.email, b.patient.id, b.program.id, b.program.items[0].id) for b in bundles]
    therapist_email = therapist.email

    def patient_logs(email: str, program_id: int, item_id: int) -> Browser:
        browser = Browser(live_server.url)
        assert browser.log_in(email) == 200
        for _ in range(SESSIONS_EACH):
            browser.send(
                "/api/v1/sessions",
                json_body={
                    "id": str(uuid.uuid4()),
                    "program_id": program_id,
                    "completed_at": now.isoformat(),
                    "pain_before": 3,
                    "exercises": [{"program_item_id": item_id, "status": "done"}],
                },
            )
        return browser

    def therapist_reads() -> Browser:
        browser = Browser(live_server.url)
        assert browser.log_in(therapist_email) == 200
        for n in range(PAGE_READS):
            browser.send(f"/caseload/patients/{patients[n % PATIENTS][1]}")
        return browser

    browsers: list[Browser] = []
    threads = [
        threading.Thread(target=lambda p=p: browsers.append(patient_logs(p[0], p[2], p[3])))
        for p in patients
    ] + [threading.Thread(target=lambda: browsers.append(therapist_reads()))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    statuses = [status for browser in browsers for status in browser.statuses]
    assert len(browsers) == PATIENTS + 1
    logins = 2 * (PATIENTS + 1)  # a login opens the form, then posts it
    assert len(statuses) == PATIENTS * SESSIONS_EACH + PAGE_READS + logins
    assert all(status < 500 for status in statuses), statuses
    assert statuses.count(201) == PATIENTS * SESSIONS_EACH
    db.session.rollback()  # see what the server committed
    assert db.session.scalar(sa.select(sa.func.count(Session.id))) == PATIENTS * SESSIONS_EACH
    reads = db.session.scalar(
        sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "patient.read")
    )
    assert reads == PAGE_READS

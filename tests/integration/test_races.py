"""Transitions two requests can race on are serialised by the database (DESIGN §6).

Real parallel requests against a live, threaded server: on PostgreSQL they run at the same time
in separate transactions, so only a conditional UPDATE, a row lock or a unique constraint makes
exactly one of them win; on SQLite BEGIN IMMEDIATE queues them and the same answers hold.
"""

from __future__ import annotations

import json
import urllib.parse
import uuid

import sqlalchemy as sa

from app.admin.models import AuditEvent
from app.alerts.models import Alert, Referral
from app.auth.models import User
from app.auth.passwords import verify_password
from app.enums import AlertKind, AlertStatus
from app.extensions import db
from app.patient.models import Session
from tests.conftest import PASSWORD, Browser, in_parallel

PARALLEL = 8


def logged_in(live_server, email: str) -> Browser:  # type: ignore[no-untyped-def]
    browser = Browser(live_server.url)
    assert browser.log_in(email) == 200
    return browser


def test_eight_concurrent_resolutions_of_one_alert_give_exactly_one_200(
    live_server, make_patient, make_alert
):
    bundle = make_patient()
    alert = make_alert(bundle, AlertKind.NON_RESPONSE_6W)
    alert_id, email = alert.id, bundle.therapist.email
    browsers = [logged_in(live_server, email) for _ in range(PARALLEL)]
    body = {"action": "referred", "note": "", "referral": {"to": "Pain clinic", "reason": "6 w"}}

    statuses = in_parallel(
        *(
            lambda b=b: b.send(f"/api/v1/alerts/{alert_id}/resolve", json_body=body)
            for b in browsers
        )
    )

    assert sorted(statuses) == [200] + [409] * (PARALLEL - 1), statuses
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Referral.id))) == 1
    assert db.session.get(Alert, alert_id).status is AlertStatus.RESOLVED
    resolved = sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "alert.resolve")
    assert db.session.scalar(resolved) == 1


def test_eight_concurrent_acceptances_of_one_invitation_give_exactly_one_account(
    live_server, make_patient
):
    bundle = make_patient(password=None)
    token, user_id = bundle.invitation_token, bundle.user.id
    passwords = [f"password number {n} is long" for n in range(PARALLEL)]

    def accept(password: str) -> int:
        form = urllib.parse.urlencode({"password": password}).encode()
        return Browser(live_server.url).send(f"/auth/invite/{token}", data=form)

    statuses = in_parallel(*(lambda p=p: accept(p) for p in passwords))

    # The winner is taken to its home page (200 after the redirect); the others are refused:
    # 422 when they lose the conditional UPDATE, 404 when the link is already used up.
    assert statuses.count(200) == 1, statuses
    assert all(status in (404, 422) for status in statuses if status != 200), statuses
    db.session.rollback()
    stored = db.session.get(User, user_id).password_hash
    assert sum(verify_password(stored, p)[0] for p in passwords) == 1


def test_twenty_identical_session_posts_store_one_row_and_give_identical_answers(
    live_server, make_patient, now
):
    bundle = make_patient()
    body = {
        "id": str(uuid.uuid4()),
        "program_id": bundle.program.id,
        "completed_at": now.isoformat(),
        "pain_before": 4,
        "exercises": [{"program_item_id": bundle.program.items[0].id, "status": "done"}],
    }
    browsers = [logged_in(live_server, bundle.user.email) for _ in range(20)]

    answers = in_parallel(
        *(lambda b=b: b.call("/api/v1/sessions", json_body=body) for b in browsers)
    )

    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * 19 + [201], statuses
    assert len({json.dumps(json.loads(text), sort_keys=True) for _, text in answers}) == 1
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Session.id))) == 1


def test_concurrent_wrong_passwords_are_each_counted(live_server, make_user):
    user = make_user()
    user_id, email = user.id, user.email
    attempts = 4  # below the per-address lockout, so every one reaches the password check

    in_parallel(
        *(
            lambda: Browser(live_server.url).log_in(email, "a wrong password")
            for _ in range(attempts)
        )
    )

    db.session.rollback()
    assert db.session.get(User, user_id).failed_logins == attempts
    assert PASSWORD  # the right one was never tried

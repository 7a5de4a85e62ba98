"""Transitions two requests can race on are serialised by the database (DESIGN §6).

Real parallel requests against a live, threaded server: on PostgreSQL they run at the same time
in separate transactions, so only a conditional UPDATE, a row lock or a unique constraint makes
exactly one of them win; on SQLite BEGIN IMMEDIATE queues them and the same answers hold.
"""

from __future__ import annotations

import json
import secrets
import urllib.parse
import uuid
from datetime import timedelta

import sqlalchemy as sa

from app.admin.models import AuditEvent
from app.alerts.models import Alert, Referral
from app.auth.models import PasswordReset, User
from app.auth.passwords import verify_password
from app.auth.sessions import token_digest
from app.db import utcnow
from app.enums import AlertKind, AlertStatus
from app.extensions import db
from app.patient.models import Session
from app.programs.models import Program, StageChange
from tests.conftest import PASSWORD, Browser, LiveServer, in_parallel

PARALLEL = 8


def logged_in(live_server, email: str) -> Browser:  # type: ignore[no-untyped-def]
    browser = Browser(live_server.url)
    assert browser.log_in(email) == 200
    return browser


def post_at_once(live_server: LiveServer, email: str, path: str, body: object) -> list[object]:
    """Log PARALLEL browsers in as `email`, then post the same JSON body from all at once."""
    browsers = [logged_in(live_server, email) for _ in range(PARALLEL)]
    return in_parallel(*(lambda b=b: b.send(path, json_body=body) for b in browsers))


def set_passwords_at_once(live_server: LiveServer, path: str, confirm: bool = False) -> list[str]:
    """Post PARALLEL different passwords to one single-use link at once; return the passwords.

    The winner is taken on (200 after the redirect); the others are refused: 422 when they
    lose the conditional UPDATE, 404 when the link is already used up.
    """
    passwords = [f"password number {n} is long" for n in range(PARALLEL)]

    def use(password: str) -> int:
        fields = {"password": password, **({"confirm": password} if confirm else {})}
        form = urllib.parse.urlencode(fields).encode()
        return Browser(live_server.url).send(path, data=form)

    statuses = in_parallel(*(lambda p=p: use(p) for p in passwords))
    assert statuses.count(200) == 1, statuses
    assert all(status in (404, 422) for status in statuses if status != 200), statuses
    return passwords


def audit_count(action: str) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == action)
    )


def test_eight_concurrent_resolutions_of_one_alert_give_exactly_one_200(
    live_server, make_patient, make_alert
):
    bundle = make_patient()
    alert = make_alert(bundle, AlertKind.NON_RESPONSE_6W)
    alert_id, email = alert.id, bundle.therapist.email
    body = {"action": "referred", "note": "", "referral": {"to": "Pain clinic", "reason": "6 w"}}

    statuses = post_at_once(live_server, email, f"/api/v1/alerts/{alert_id}/resolve", body)

    assert sorted(statuses) == [200] + [409] * (PARALLEL - 1), statuses
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Referral.id))) == 1
    assert db.session.get(Alert, alert_id).status is AlertStatus.RESOLVED
    assert audit_count("alert.resolve") == 1


def test_eight_concurrent_acknowledgements_of_one_alert_give_exactly_one_200(
    live_server, make_patient, make_alert
):
    bundle = make_patient()
    alert = make_alert(bundle, AlertKind.PERSISTENT_PAIN)
    alert_id, email = alert.id, bundle.therapist.email

    statuses = post_at_once(live_server, email, f"/api/v1/alerts/{alert_id}/acknowledge", {})

    assert sorted(statuses) == [200] + [409] * (PARALLEL - 1), statuses
    db.session.rollback()
    assert db.session.get(Alert, alert_id).status is AlertStatus.ACKNOWLEDGED
    assert audit_count("alert.acknowledge") == 1


def test_eight_concurrent_identical_snoozes_of_one_alert_snooze_it_once(
    live_server, make_patient, make_alert
):
    # Snoozing a snoozed alert moves its date (the page offers it); the same snooze eight times
    # at once is one change, audited once, and every request sees the alert snoozed.
    bundle = make_patient()
    alert = make_alert(bundle, AlertKind.PERSISTENT_PAIN)
    alert_id, email = alert.id, bundle.therapist.email

    statuses = post_at_once(live_server, email, f"/api/v1/alerts/{alert_id}/snooze", {"days": 3})

    db.session.rollback()
    snoozes = audit_count("alert.snooze")
    assert statuses == [200] * PARALLEL, (statuses, snoozes)
    assert db.session.get(Alert, alert_id).status is AlertStatus.SNOOZED
    assert snoozes == 1


def test_eight_concurrent_uses_of_one_reset_link_change_the_password_once(live_server, make_user):
    user = make_user()
    user_id, token, now = user.id, secrets.token_urlsafe(32), utcnow()
    db.session.add(
        PasswordReset(
            user_id=user_id,
            token_hash=token_digest(token),
            created_at=now,
            expires_at=now + timedelta(hours=1),
        )
    )
    db.session.commit()

    passwords = set_passwords_at_once(live_server, f"/auth/reset/{token}", confirm=True)

    db.session.rollback()
    stored = db.session.get(User, user_id).password_hash
    assert sum(verify_password(stored, p)[0] for p in passwords) == 1
    assert audit_count("password.reset") == 1


def test_eight_concurrent_stage_changes_of_one_program_store_one_change(live_server, make_patient):
    bundle = make_patient(stage=1)
    program_id, email = bundle.program.id, bundle.therapist.email
    body = {"stage": 2, "reason": "Ready for more load."}

    statuses = post_at_once(live_server, email, f"/api/v1/programs/{program_id}/stage", body)

    # The losers wait for the program's row lock, then find it already at stage 2 (422).
    assert sorted(statuses) == [200] + [422] * (PARALLEL - 1), statuses
    db.session.rollback()
    changes = sa.select(StageChange.direction).where(StageChange.program_id == program_id)
    # The assignment's own row, then exactly one advance.
    assert sorted(d.value for d in db.session.scalars(changes)) == ["advance", "assign"]
    assert db.session.get(Program, program_id).stage == 2
    assert audit_count("program.stage") == 1


def test_eight_concurrent_acceptances_of_one_invitation_give_exactly_one_account(
    live_server, make_patient
):
    bundle = make_patient(password=None)
    token, user_id = bundle.invitation_token, bundle.user.id

    passwords = set_passwords_at_once(live_server, f"/auth/invite/{token}")

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

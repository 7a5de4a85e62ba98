"""Logging in and out, login sessions, invitations and safe redirects."""

import re
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.auth import sessions
from app.auth.models import LoginFailure, User, UserSession
from app.auth.passwords import hash_password
from app.auth.services import issue_invitation, slowdown_seconds
from app.auth.views import LOGIN_FAILED, safe_next
from app.db import utcnow
from app.enums import Role
from app.extensions import db
from tests.conftest import PASSWORD, csrf_token_from


def post_login(client, email, password, **extra):
    return client.post("/auth/login", data={"email": email, "password": password, **extra})


def test_patient_lands_on_today_after_logging_in(client, make_patient):
    bundle = make_patient()
    response = post_login(client, bundle.user.email, PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/today"


def test_therapist_lands_on_caseload_and_admin_on_clinic(client, make_user):
    therapist = make_user(Role.THERAPIST)
    admin = make_user(Role.ADMIN)
    assert post_login(client, therapist.email, PASSWORD).headers["Location"] == "/caseload/"
    client.post("/auth/logout")
    assert post_login(client, admin.email, PASSWORD).headers["Location"] == "/admin/"


def test_wrong_password_and_unknown_email_get_the_same_page(client, make_user):
    user = make_user()
    wrong = post_login(client, user.email, "not the password")
    unknown = post_login(client, "nobody@example.org", "not the password")
    assert wrong.status_code == unknown.status_code == 200
    assert LOGIN_FAILED in wrong.get_data(as_text=True)

    def page_without_emails(response) -> str:
        # CSRF tokens carry a timestamp, so two pages a second apart differ there only.
        text = re.sub(
            r'(csrf[-_]token"[^>]*(?:value|content)=")[^"]+', r"\1", response.get_data(as_text=True)
        )
        return text.replace(user.email, "").replace("nobody@example.org", "")

    assert page_without_emails(wrong) == page_without_emails(unknown)


def test_email_is_matched_without_regard_to_case_or_spaces(client, make_user):
    user = make_user(email="Case.Person@example.org")
    response = post_login(client, "  CASE.person@EXAMPLE.org ", PASSWORD)
    assert response.status_code == 302
    assert user.email == "case.person@example.org"


def from_address(app, ip: str):  # type: ignore[no-untyped-def]
    """A client whose requests come from `ip`."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def test_repeated_failures_lock_out_that_address_only(app, make_user):
    user = make_user()
    guesser, phone = from_address(app, "203.0.113.9"), from_address(app, "198.51.100.7")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        post_login(guesser, user.email, "wrong password")

    # The guessing address is refused even with the right password …
    refused = post_login(guesser, user.email, PASSWORD)
    assert refused.status_code == 200
    assert LOGIN_FAILED in refused.get_data(as_text=True)
    # … while the person's own phone still logs in (DESIGN §6: nobody locks anyone out).
    assert post_login(phone, user.email, PASSWORD).status_code == 302
    locked = db.session.scalar(
        sa.select(LoginFailure.locked_until).where(LoginFailure.ip == "203.0.113.9")
    )
    assert locked is None  # a successful login clears every address's count


def test_the_lockout_of_an_address_ends_after_its_time(app, make_user):
    user = make_user()
    guesser = from_address(app, "203.0.113.9")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        post_login(guesser, user.email, "wrong password")
    db.session.execute(sa.update(LoginFailure).values(locked_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()

    assert post_login(guesser, user.email, PASSWORD).status_code == 302


def test_every_wrong_password_counts_for_the_account(app, make_user):
    user = make_user()
    for n in range(7):
        post_login(from_address(app, f"192.0.2.{n}"), user.email, "wrong password")

    db.session.expire_all()
    assert db.session.get(User, user.id).failed_logins == 7


@pytest.mark.parametrize(
    ("failed", "seconds"), [(0, 0.0), (9, 0.0), (10, 0.25), (11, 0.5), (13, 2.0), (40, 2.0)]
)
def test_many_wrong_passwords_slow_the_account_down_rather_than_lock_it(failed, seconds):
    assert slowdown_seconds(failed, after=10, longest=2.0) == seconds


def test_a_slowed_down_account_still_logs_in_with_the_right_password(app, client, make_user):
    user = make_user()
    db.session.execute(sa.update(User).where(User.id == user.id).values(failed_logins=12))
    db.session.commit()
    app.config["LOGIN_SLOWDOWN_MAX_SECONDS"] = 0.2
    try:
        started = time.perf_counter()
        response = post_login(client, user.email, PASSWORD)
        elapsed = time.perf_counter() - started
    finally:
        app.config["LOGIN_SLOWDOWN_MAX_SECONDS"] = 2.0

    assert response.status_code == 302
    assert elapsed >= 0.2
    db.session.expire_all()
    assert db.session.get(User, user.id).failed_logins == 0


def test_logout_clears_the_cookie_session(app, client, login, make_user):
    user = make_user()
    login(user)
    with client.session_transaction() as cookie:
        cookie["left-behind"] = "something"

    client.post("/auth/logout")

    with client.session_transaction() as cookie:
        assert "left-behind" not in cookie


def test_form_post_without_csrf_token_is_rejected_with_400(client, make_user, csrf_enabled):
    user = make_user()
    response = post_login(client, user.email, PASSWORD)
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)


def test_form_post_with_csrf_token_logs_in(client, make_user, csrf_enabled):
    user = make_user()
    token = csrf_token_from(client.get("/auth/login").get_data(as_text=True))
    assert post_login(client, user.email, PASSWORD, csrf_token=token).status_code == 302


def test_logout_revokes_the_login_session_so_a_copied_cookie_stops_working(
    app, client, login, make_user
):
    user = make_user()
    login(user)
    copied = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    assert client.get("/caseload/").status_code == 200

    client.post("/auth/logout")

    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], copied)
    response = thief.get("/caseload/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")
    row = db.session.scalar(sa.select(UserSession).where(UserSession.user_id == user.id))
    assert row.revoked_at is not None


def test_logout_needs_a_post(client, login, make_user):
    login(make_user())
    assert client.get("/auth/logout").status_code == 405


def test_clinician_session_ends_after_idle_timeout(app, client, login, make_user):
    user = make_user()
    login(user)
    row = db.session.scalar(sa.select(UserSession).where(UserSession.user_id == user.id))
    row.last_seen_at -= app.config["CLINICIAN_IDLE_TIMEOUT"] + timedelta(seconds=1)
    db.session.commit()
    assert client.get("/caseload/").status_code == 302


def test_patient_session_survives_the_clinician_idle_timeout(app, client, login, make_patient):
    bundle = make_patient()
    login(bundle.user)
    row = db.session.scalar(sa.select(UserSession).where(UserSession.user_id == bundle.user.id))
    row.last_seen_at -= app.config["CLINICIAN_IDLE_TIMEOUT"] + timedelta(minutes=1)
    db.session.commit()
    assert client.get("/today").status_code == 200


def test_session_ends_after_absolute_timeout_even_when_active(app, client, login, make_user):
    user = make_user()
    login(user)
    row = db.session.scalar(sa.select(UserSession).where(UserSession.user_id == user.id))
    row.created_at -= app.config["SESSION_ABSOLUTE_TIMEOUT"] + timedelta(seconds=1)
    db.session.commit()
    assert client.get("/caseload/").status_code == 302


def test_activity_is_recorded_at_most_once_a_minute(client, login, make_user, count_queries):
    user = make_user()
    login(user)
    row = db.session.scalar(sa.select(UserSession).where(UserSession.user_id == user.id))
    stale = row.last_seen_at - sessions.TOUCH_INTERVAL * 2
    row.last_seen_at = stale
    db.session.commit()

    with count_queries() as first:
        client.get("/caseload/")
    db.session.expire_all()
    touched = db.session.get(UserSession, row.id).last_seen_at
    with count_queries() as second:
        client.get("/caseload/")

    # The first page after a quiet minute records the activity (the idle timeout counts from
    # it); the next one, seconds later, writes nothing.
    assert touched > stale + sessions.TOUCH_INTERVAL
    assert [q for q in first if "UPDATE user_sessions" in q]
    assert not [q for q in second if q.lstrip().upper().startswith("UPDATE")]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/today", "/today"),
        ("/caseload/?q=a", "/caseload/?q=a"),
        ("https://evil.example/", None),
        ("//evil.example/", None),
        ("/\\evil.example", None),
        ("javascript:alert(1)", None),
        ("", None),
    ],
)
def test_next_redirect_accepts_only_local_paths(target, expected):
    assert safe_next(target) == expected


def test_login_follows_a_local_next_but_not_another_site(client, make_user):
    user = make_user()
    ok = post_login(client, user.email, PASSWORD, next="/caseload/?filter=x")
    assert ok.headers["Location"] == "/caseload/?filter=x"
    client.post("/auth/logout")
    evil = post_login(client, user.email, PASSWORD, next="https://evil.example/")
    assert evil.headers["Location"] == "/caseload/"


def test_password_is_stored_as_argon2id(make_user):
    user = make_user()
    assert user.password_hash.startswith("$argon2id$")


def test_login_rehashes_a_password_made_with_old_parameters(app, client, make_user):
    user = make_user()
    app.config["ARGON2_TIME_COST"] = 2
    try:
        assert post_login(client, user.email, PASSWORD).status_code == 302
        db.session.refresh(user)
        assert "t=2" in user.password_hash
    finally:
        app.config["ARGON2_TIME_COST"] = 1


def test_invited_patient_sets_a_password_and_lands_on_today(client, make_patient):
    bundle = make_patient(password=None)
    page = client.get(f"/auth/invite/{bundle.invitation_token}")
    assert page.status_code == 200
    response = client.post(
        f"/auth/invite/{bundle.invitation_token}", data={"password": "a long new password"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/today"
    assert client.get("/today").status_code == 200


def test_invitation_cannot_be_used_twice(client, make_patient):
    bundle = make_patient(password=None)
    url = f"/auth/invite/{bundle.invitation_token}"
    client.post(url, data={"password": "a long new password"})
    client.post("/auth/logout")
    again = client.post(url, data={"password": "another long password"})
    assert again.status_code == 404
    assert "does not work" in again.get_data(as_text=True)


def test_expired_or_reissued_invitation_does_not_work(client, make_patient, now):
    bundle = make_patient(password=None)
    newer = issue_invitation(bundle.user, created_by=bundle.therapist, now=now)
    db.session.commit()
    assert client.get(f"/auth/invite/{bundle.invitation_token}").status_code == 404
    assert client.get(f"/auth/invite/{newer}").status_code == 200
    expired = issue_invitation(bundle.user, created_by=None, now=now - timedelta(hours=80))
    db.session.commit()
    assert client.get(f"/auth/invite/{expired}").status_code == 404


def test_short_password_on_invitation_shows_a_field_message_and_saves_nothing(client, make_patient):
    bundle = make_patient(password=None)
    response = client.post(f"/auth/invite/{bundle.invitation_token}", data={"password": "short"})
    assert response.status_code == 422
    assert "at least 8 characters" in response.get_data(as_text=True)
    db.session.refresh(bundle.user)
    assert bundle.user.password_hash is None


def test_patient_invited_without_email_must_give_one(client, make_user, builtin_content, now):
    from app.patient.enrolment import NewPatient, invite_patient

    therapist = make_user()
    invited = invite_patient(
        therapist.clinic,
        NewPatient(name="No Email", timezone="Europe/Paris"),
        by=therapist,
        now=now,
    )
    patient, token = invited.patient, invited.token
    db.session.commit()
    missing = client.post(f"/auth/invite/{token}", data={"password": "a long new password"})
    assert "Enter your email" in missing.get_data(as_text=True)
    ok = client.post(
        f"/auth/invite/{token}",
        data={"password": "a long new password", "email": "no.email@example.org"},
    )
    assert ok.status_code == 302
    assert db.session.get(User, patient.user_id).email == "no.email@example.org"


def test_password_hash_of_unaccepted_invitation_never_logs_in(client, make_patient):
    bundle = make_patient(password=None)
    assert post_login(client, bundle.user.email, "").status_code == 200
    assert post_login(client, bundle.user.email, "anything at all").status_code == 200


def test_inactive_user_cannot_log_in(client, make_user):
    user = make_user()
    user.is_active = False
    user.password_hash = hash_password(PASSWORD)
    db.session.commit()
    assert post_login(client, user.email, PASSWORD).status_code == 200

"""TOTP second factor for clinicians (issue 14; DESIGN §4 "Clinician accounts").

Codes come from pyotp on the test's side and the clock is moved with time-machine, so a code of
the next time step, a replay in the same step and the ±1 step of drift are exact.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import sqlalchemy as sa
import time_machine

from app.admin.models import AuditEvent
from app.auth.models import RecoveryCode, User
from app.auth.two_factor import seal_secret, unseal_secret
from app.enums import Role
from app.extensions import db
from tests.conftest import PASSWORD

# The middle of a 30-second step, so moving by whole steps never lands on a boundary.
T0 = datetime(2026, 6, 1, 9, 0, 15, tzinfo=UTC)
URI = re.compile(r"otpauth://totp/[^<\s\"]+")
CODE = re.compile(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>")


def step(n: int) -> datetime:
    return T0 + timedelta(seconds=30 * n)


def enrol(client, user: User) -> tuple[str, list[str]]:
    """Go through setup as `user` (already logged in); return the secret and recovery codes."""
    page = client.get("/auth/2fa/setup")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    uri = URI.search(html).group(0).replace("&amp;", "&")
    secret = pyotp.parse_uri(uri).secret
    assert "<svg" in html  # the QR code, inline
    done = client.post(
        "/auth/2fa/setup", data={"code": pyotp.TOTP(secret).at(step(0)), "password": PASSWORD}
    )
    assert done.status_code == 200
    codes = CODE.findall(done.get_data(as_text=True))
    return secret, codes


def log_in_password(client, user: User):
    return client.post("/auth/login", data={"email": user.email, "password": PASSWORD})


@pytest.fixture
def enrolled(client, make_user):
    """A therapist with a second factor, logged out again; returns (user, secret, codes)."""
    user = make_user(Role.THERAPIST)
    with time_machine.travel(step(0), tick=False):
        assert log_in_password(client, user).status_code == 302
        secret, codes = enrol(client, user)
        client.post("/auth/logout")
    return user, secret, codes


def test_enrolment_refuses_a_wrong_code_then_accepts_the_right_one(client, login, make_user):
    user = make_user(Role.THERAPIST)
    with time_machine.travel(step(0), tick=False):
        login(user)
        page = client.get("/auth/2fa/setup").get_data(as_text=True)
        uri = URI.search(page).group(0).replace("&amp;", "&")
        assert "issuer=Homestretch" in uri
        secret = pyotp.parse_uri(uri).secret
        # The same secret is shown again on a reload (it waits on the user, sealed).
        again = client.get("/auth/2fa/setup").get_data(as_text=True)
        assert pyotp.parse_uri(URI.search(again).group(0).replace("&amp;", "&")).secret == secret

        wrong = client.post("/auth/2fa/setup", data={"code": "000000", "password": PASSWORD})
        assert wrong.status_code == 422
        # The right code without the password turns nothing on (a session left open).
        code = pyotp.TOTP(secret).now()
        no_password = client.post("/auth/2fa/setup", data={"code": code, "password": "guess"})
        assert no_password.status_code == 422
        assert "Your password is not right." in no_password.get_data(as_text=True)
        db.session.refresh(user)
        assert user.totp_secret is None

        right = client.post("/auth/2fa/setup", data={"code": code, "password": PASSWORD})
    assert right.status_code == 200
    codes = CODE.findall(right.get_data(as_text=True))
    assert len(codes) == 10 and len(set(codes)) == 10
    db.session.refresh(user)
    assert user.totp_secret is not None and secret not in user.totp_secret  # sealed
    assert unseal_secret(user.totp_secret) == secret
    stored = db.session.scalars(sa.select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10 and not set(codes) & set(stored)  # hashed, never in the clear
    actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert {"2fa.enrol_failed", "2fa.enable"} <= actions


def test_login_needs_the_second_step_before_any_patient_data(client, enrolled):
    user, secret, _ = enrolled
    with time_machine.travel(step(2), tick=False):
        response = log_in_password(client, user)
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/auth/2fa")
        # Password alone: the caseload and the API stay closed.
        caseload = client.get("/caseload/")
        assert caseload.status_code == 302 and "/auth/login" in caseload.headers["Location"]
        assert client.get("/api/v1/caseload").status_code == 401
        assert client.get("/auth/2fa").status_code == 200

        wrong = client.post("/auth/2fa", data={"code": "123456"})
        assert wrong.status_code == 200
        assert "not right" in wrong.get_data(as_text=True)
        assert client.get("/api/v1/caseload").status_code == 401

        done = client.post("/auth/2fa", data={"code": pyotp.TOTP(secret).now()})
        assert done.status_code == 302
        assert client.get("/caseload/").status_code == 200
        assert client.get("/api/v1/caseload").status_code == 200


def test_a_code_is_accepted_once_and_with_one_step_of_drift(client, enrolled):
    user, secret, _ = enrolled
    totp = pyotp.TOTP(secret)
    with time_machine.travel(step(4), tick=False):
        log_in_password(client, user)
        code = totp.at(step(4))
        assert client.post("/auth/2fa", data={"code": code}).status_code == 302
        client.post("/auth/logout")

        # The same code again in the same step: refused (the last accepted step is stored).
        log_in_password(client, user)
        replay = client.post("/auth/2fa", data={"code": code})
        assert replay.status_code == 200
        assert client.get("/api/v1/caseload").status_code == 401
        # The code of one step ahead (a phone clock a little fast) works.
        assert client.post("/auth/2fa", data={"code": totp.at(step(5))}).status_code == 302
        client.post("/auth/logout")

    with time_machine.travel(step(8), tick=False):
        log_in_password(client, user)
        # Two steps old: refused; one step old (a slow phone): accepted.
        assert client.post("/auth/2fa", data={"code": totp.at(step(6))}).status_code == 200
        assert client.post("/auth/2fa", data={"code": totp.at(step(7))}).status_code == 302
    failed = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "2fa.verify_failed")
    ).all()
    assert len(failed) == 2 and all(e.outcome == "failed" for e in failed)
    assert any(e.details.get("replayed") for e in failed)


def test_a_recovery_code_works_once(client, enrolled):
    user, _, codes = enrolled
    with time_machine.travel(step(3), tick=False):
        log_in_password(client, user)
        assert client.post("/auth/2fa", data={"code": codes[0].upper()}).status_code == 302
        assert client.get("/caseload/").status_code == 200
        client.post("/auth/logout")

        log_in_password(client, user)
        assert client.post("/auth/2fa", data={"code": codes[0]}).status_code == 200
        assert client.get("/caseload/").status_code == 302
    used = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.used_at.is_not(None))
    )
    assert used == 1


def test_too_many_wrong_codes_end_the_pending_login(client, enrolled):
    user, secret, _ = enrolled
    with time_machine.travel(step(3), tick=False):
        log_in_password(client, user)
        for _ in range(4):
            assert client.post("/auth/2fa", data={"code": "000000"}).status_code == 200
        ended = client.post("/auth/2fa", data={"code": "000000"})
        assert ended.status_code == 302 and "/auth/login" in ended.headers["Location"]
        # Even the right code no longer completes that login: the password is asked again.
        late = client.post("/auth/2fa", data={"code": pyotp.TOTP(secret).now()})
        assert late.status_code == 302 and "/auth/login" in late.headers["Location"]
        assert client.get("/caseload/").status_code == 302


def test_wrong_codes_count_like_wrong_passwords_across_logins_and_lock_the_address_out(
    client, enrolled
):
    user, secret, _ = enrolled
    with time_machine.travel(step(3), tick=False):
        # A correct password does not clear the count of wrong codes: new logins keep it.
        for wrong in (3, 2):
            assert log_in_password(client, user).headers["Location"].endswith("/auth/2fa")
            for _ in range(wrong):
                client.post("/auth/2fa", data={"code": "000000"})
        # Five wrong codes from this address: it is locked out of the account, like passwords.
        locked = log_in_password(client, user)
        assert locked.status_code == 200 and "/auth/2fa" not in locked.headers.get("Location", "")
        assert client.get("/caseload/").status_code == 302
    with time_machine.travel(step(3) + timedelta(minutes=16), tick=False):
        assert log_in_password(client, user).headers["Location"].endswith("/auth/2fa")
        right = client.post("/auth/2fa", data={"code": pyotp.TOTP(secret).now()})
        assert right.status_code == 302
        assert client.get("/caseload/").status_code == 200
    db.session.expire_all()
    assert db.session.get(User, user.id).failed_logins == 0


def test_a_clinician_resets_their_own_second_factor_with_password_and_recovery_code(
    client, enrolled
):
    user, secret, codes = enrolled
    with time_machine.travel(step(3), tick=False):
        log_in_password(client, user)
        client.post("/auth/2fa", data={"code": pyotp.TOTP(secret).now()})
        bad = client.post(
            "/auth/2fa/reset", data={"password": "wrong password!!", "recovery_code": codes[1]}
        )
        assert bad.status_code == 422
        ok = client.post("/auth/2fa/reset", data={"password": PASSWORD, "recovery_code": codes[1]})
        assert ok.status_code == 302
    db.session.refresh(user)
    assert user.totp_secret is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode)) == 0
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "2fa.reset"))


def test_an_admin_resets_another_clinicians_second_factor_and_it_is_audited(
    app, client, enrolled, make_user
):
    user, _, _ = enrolled
    admin = make_user(Role.ADMIN, clinic=user.clinic)
    outsider = make_user(Role.ADMIN)
    other = app.test_client()
    other.post("/auth/login", data={"email": outsider.email, "password": PASSWORD})
    assert other.post(f"/admin/users/{user.id}/2fa/reset").status_code == 404

    log_in_password(client, admin)
    assert "Reset" in client.get("/admin/").get_data(as_text=True)
    assert client.post(f"/admin/users/{user.id}/2fa/reset").status_code == 302
    db.session.refresh(user)
    assert user.totp_secret is None
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "2fa.admin_reset"))
    assert event.actor_id == admin.id and event.object_id == user.id
    assert event.clinic_id == user.clinic_id
    # Without a second factor, the password alone logs in again (the clinic does not require it).
    client.post("/auth/logout")
    assert log_in_password(client, user).headers["Location"].endswith("/caseload/")


def test_require_2fa_sends_an_unenrolled_therapist_to_setup_and_leaves_patients_alone(
    client, login, make_user, make_patient
):
    therapist = make_user(Role.THERAPIST)
    admin = make_user(Role.ADMIN, clinic=therapist.clinic)
    bundle = make_patient(therapist=therapist)
    login(admin)
    bad = client.patch("/api/v1/clinic/settings", json={"require_2fa": "yes"})
    assert bad.status_code == 422
    changed = client.patch("/api/v1/clinic/settings", json={"require_2fa": True})
    assert changed.status_code == 200 and changed.get_json()["require_2fa"] is True
    # The admin too is a clinician without a second factor: setup comes first.
    assert client.get("/admin/").headers["Location"].endswith("/auth/2fa/setup")
    client.post("/auth/logout")

    login(therapist)
    page = client.get("/caseload/")
    assert page.status_code == 302 and page.headers["Location"].endswith("/auth/2fa/setup")
    assert client.get(f"/caseload/patients/{bundle.patient.id}").status_code == 302
    api = client.get("/api/v1/caseload")
    assert api.status_code == 403 and api.mimetype == "application/problem+json"
    assert client.get("/auth/2fa/setup").status_code == 200
    client.post("/auth/logout")

    login(bundle.user)
    assert client.get("/today").status_code == 200
    assert client.get("/api/v1/me/today").status_code == 200


def test_require_2fa_follows_the_configuration_until_the_clinic_chooses(app, make_user):
    user = make_user(Role.THERAPIST)
    from app.auth.two_factor import clinic_requires_2fa

    assert clinic_requires_2fa(user.clinic) is False  # tests (and the demo) run without it
    app.config["REQUIRE_2FA"] = True
    try:
        assert clinic_requires_2fa(user.clinic) is True
        user.clinic.require_2fa = False
        assert clinic_requires_2fa(user.clinic) is False
    finally:
        app.config["REQUIRE_2FA"] = False


def test_production_configuration_requires_a_second_factor():
    from config import DevelopmentConfig, ProductionConfig, TestingConfig

    assert ProductionConfig.REQUIRE_2FA is True
    assert DevelopmentConfig.REQUIRE_2FA is False and TestingConfig.REQUIRE_2FA is False


def test_patients_are_never_asked_for_a_second_factor(client, login, make_patient):
    bundle = make_patient()
    # Even with a secret on the account (it cannot be set up by a patient), no second step.
    bundle.user.totp_secret = seal_secret(pyotp.random_base32())
    db.session.commit()
    response = login(bundle.user)
    assert client.get("/today").status_code == 200
    assert response.get("/auth/2fa/setup").status_code == 403

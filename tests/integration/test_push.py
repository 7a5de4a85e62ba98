"""Web Push end to end with a local push service on 127.0.0.1 (issue 12 acceptance).

The patient subscribes through the API with a browser's keys; `flask reminders send` (and a
therapist's message) then post RFC 8291 aes128gcm bodies with an RFC 8292 VAPID header for the
key `GET /api/v1/push/key` publishes; decrypting with the subscriber's keys (http_ece) gives a
payload without health data; a 404 or 410 removes the subscription.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from app.db import utcnow
from app.enums import Role
from app.extensions import db
from app.reminders.models import PushSubscription, SentReminder
from app.reminders.push import ALLOWED_PAYLOAD_KEYS
from tests.push_service import (
    PushService,
    Subscriber,
    b64url,
    b64url_decode,
    push_services,
    subscriber,
    vapid_parameters,
    verified_claims,
)

START = datetime(2027, 3, 1, 13, 0, tzinfo=UTC)  # Monday 08:00 in New York
AT_18 = datetime(2027, 3, 1, 23, 0, tzinfo=UTC)  # 18:00 in New York
NEXT_DAY_18 = datetime(2027, 3, 2, 23, 0, tzinfo=UTC)


@pytest.fixture
def push_service() -> Iterator[Callable[..., PushService]]:
    yield from push_services()


def subscribe(client, phone: Subscriber):  # type: ignore[no-untyped-def]
    """Store this phone's push subscription as its browser would."""
    return client.post("/api/v1/me/push-subscriptions", json=phone.subscription())


def verified_vapid(authorization: str, public_key: str) -> dict:
    """Check ``vapid t=<JWT>, k=<key>`` (RFC 8292 §3): the key, the ES256 signature; claims."""
    parameters = vapid_parameters(authorization)
    assert parameters["k"] == public_key
    return verified_claims(parameters["t"], public_key)


@pytest.fixture
def now(time_machine) -> datetime:  # type: ignore[no-untyped-def]
    time_machine.move_to(START, tick=False)
    return utcnow()


def send(app) -> str:  # type: ignore[no-untyped-def]
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["reminders", "send"])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    return result.output


HEALTH_WORDS = ("pain", "alert", "adherence", "session", "red", "flare", "stage")


def assert_no_health_data(payload: dict, bundle) -> None:  # type: ignore[no-untyped-def]
    assert set(payload) <= ALLOWED_PAYLOAD_KEYS
    text = json.dumps(payload).lower()
    for word in (*HEALTH_WORDS, bundle.patient.name.lower()):
        assert word not in text, word
    for item in bundle.program.items:
        assert item.exercise.name.lower() not in text


# ---------------------------------------------------------------------------- reminders


def test_a_push_reminder_is_aes128gcm_signed_for_the_published_key_and_says_nothing_health(
    app, client, login, make_patient, push_service, time_machine
):
    service = push_service(201)
    bundle = make_patient(timezone="America/New_York", sessions_per_week=7)
    login(bundle.user)
    key = client.get("/api/v1/push/key").get_json()["public_key"]
    phone = subscriber(service.endpoint())

    assert subscribe(client, phone).status_code == 201
    assert subscribe(client, phone).status_code == 200
    settings = client.get("/api/v1/me/reminders").get_json()
    assert (settings["channels"], settings["push_devices"]) == (["email", "push"], 1)
    only_push = client.put("/api/v1/me/reminders", json={"channels": ["push"]}).get_json()
    assert only_push["channels"] == ["push"]

    time_machine.move_to(AT_18, tick=False)
    output = send(app)

    assert "1 reminders sent" in output
    (request,) = service.received
    assert request.path == "/push/sub-1"
    assert request.headers["content-encoding"] == "aes128gcm"
    assert 0 < int(request.headers["ttl"]) <= 3 * 3600  # not past 21:00 local
    claims = verified_vapid(request.headers["authorization"], key)
    assert claims["aud"] == service.origin
    assert claims["sub"].startswith(("mailto:", "https://"))
    assert b"exercises" not in request.body  # encrypted on the wire
    payload = phone.decrypt(request.body)
    assert payload == {
        "title": "Homestretch",
        "body": "Your exercises for today are ready.",
        "url": "/today",
        "tag": "reminder",
    }
    assert_no_health_data(payload, bundle)
    (row,) = db.session.scalars(sa.select(SentReminder)).all()
    assert row.channels == ["push"]
    stored = db.session.scalar(sa.select(PushSubscription))
    assert stored.last_sent_at == AT_18


@pytest.mark.parametrize("status", [404, 410])
def test_a_gone_subscription_is_removed(
    app, client, login, make_patient, push_service, time_machine, status
):
    gone, alive = push_service(status), push_service(201)
    bundle = make_patient(timezone="America/New_York", sessions_per_week=7)
    login(bundle.user)
    old_phone, new_phone = subscriber(gone.endpoint("old")), subscriber(alive.endpoint("new"))
    for phone in (old_phone, new_phone):
        assert subscribe(client, phone).status_code == 201

    time_machine.move_to(AT_18, tick=False)
    assert "1 expired push subscriptions removed" in send(app)

    assert len(gone.received) == len(alive.received) == 1
    endpoints = db.session.scalars(sa.select(PushSubscription.endpoint)).all()
    assert endpoints == [new_phone.endpoint]
    time_machine.move_to(NEXT_DAY_18, tick=False)
    send(app)
    assert len(gone.received) == 1  # never contacted again
    assert len(alive.received) == 2


# ---------------------------------------------------------------------------- messages


def test_a_therapist_message_reaches_the_phone_without_its_text(
    app, client, login, make_patient, push_service, smtp
):
    service = push_service(201)
    bundle = make_patient()
    login(bundle.user)
    phone = subscriber(service.endpoint())
    assert subscribe(client, phone).status_code == 201
    emails_before = len(smtp.to(bundle.user.email))

    therapist = login(bundle.therapist, test_client=app.test_client())
    body = {
        "id": str(uuid.uuid4()),
        "body": "Your knee clicking is normal; keep the bird dog slow.",
    }
    path = f"/api/v1/patients/{bundle.patient.id}/messages"
    assert therapist.post(path, json=body).status_code == 201

    (request,) = service.received
    payload = phone.decrypt(request.body)
    assert payload["url"] == "/messages"
    assert payload["tag"] == "message"
    assert "knee" not in json.dumps(payload).lower()
    assert_no_health_data(payload, bundle)
    # The phone took it: no email as well.
    assert len(smtp.to(bundle.user.email)) == emails_before


def test_when_the_phone_is_gone_the_patient_is_emailed_instead(
    app, client, login, make_patient, push_service, smtp
):
    service = push_service(410)
    bundle = make_patient()
    login(bundle.user)
    phone = subscriber(service.endpoint())
    assert subscribe(client, phone).status_code == 201

    therapist = login(bundle.therapist, test_client=app.test_client())
    body = {"id": str(uuid.uuid4()), "body": "See you on Tuesday."}
    path = f"/api/v1/patients/{bundle.patient.id}/messages"
    assert therapist.post(path, json=body).status_code == 201

    assert len(service.received) == 1
    assert db.session.scalar(sa.select(sa.func.count(PushSubscription.id))) == 0
    (text,) = [t for t in smtp.to(bundle.user.email) if "new message" in t]
    assert "Tuesday" not in text


# ---------------------------------------------------------------------------- the API


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"endpoint": "http://localhost:8080/push/x"}, "endpoint"),
        ({"endpoint": "https://10.0.0.5/push/x"}, "endpoint"),
        ({"endpoint": "https://169.254.169.254/latest"}, "endpoint"),
        ({"endpoint": "http://push.example.com/x"}, "endpoint"),
        ({"endpoint": "https://push.example.com/é"}, "endpoint"),
        ({"endpoint": ""}, "endpoint"),
        ({"keys": {"p256dh": "bm90IGEga2V5", "auth": b64url(os.urandom(16))}}, "keys.p256dh"),
        ({"keys": {"auth": b64url(os.urandom(16))}}, "keys.p256dh"),
        ({"keys": "none"}, "keys"),
        ({"extra": 1}, "extra"),
    ],
)
def test_a_subscription_that_is_not_a_public_https_push_service_is_422(
    client, login, make_patient, change, field
):
    bundle = make_patient()
    login(bundle.user)
    good = subscriber("https://fcm.googleapis.com/fcm/send/abc").subscription()
    response = client.post("/api/v1/me/push-subscriptions", json={**good, **change})
    assert response.status_code == 422, response.get_json()
    assert field in {e["field"] for e in response.get_json()["errors"]}
    assert db.session.scalar(sa.select(sa.func.count(PushSubscription.id))) == 0


def test_a_public_https_endpoint_is_accepted_and_deleting_it_is_204(client, login, make_patient):
    bundle = make_patient()
    login(bundle.user)
    phone = subscriber("https://updates.push.services.mozilla.com/wpush/v2/gAAAA")
    created = subscribe(client, phone)
    assert created.status_code == 201
    assert created.get_json()["endpoint"] == phone.endpoint

    gone = client.delete("/api/v1/me/push-subscriptions", json={"endpoint": phone.endpoint})
    assert gone.status_code == 204
    assert gone.get_data() == b""
    again = client.delete("/api/v1/me/push-subscriptions", json={"endpoint": phone.endpoint})
    assert again.status_code == 204
    assert db.session.scalar(sa.select(sa.func.count(PushSubscription.id))) == 0


def test_another_patient_cannot_delete_a_subscription_but_a_new_login_takes_it_over(
    app, client, login, make_patient
):
    first, second = make_patient(), make_patient()
    phone = subscriber("https://web.push.apple.com/QGx8")
    login(first.user)
    assert subscribe(client, phone).status_code == 201

    other = login(second.user, test_client=app.test_client())
    deleted = other.delete("/api/v1/me/push-subscriptions", json={"endpoint": phone.endpoint})
    assert deleted.status_code == 204
    assert db.session.scalar(sa.select(PushSubscription.patient_id)) == first.patient.id

    # The same browser, now logged in as the second patient, subscribes again: it moves.
    assert subscribe(other, phone).status_code == 201
    assert db.session.scalar(sa.select(PushSubscription.patient_id)) == second.patient.id


def test_the_push_key_is_the_configured_vapid_key_and_only_for_patients(
    app, client, login, make_patient, make_user
):
    bundle = make_patient()
    login(bundle.user)
    key = client.get("/api/v1/push/key").get_json()["public_key"]
    assert key == app.config["VAPID_PUBLIC_KEY"]
    point = b64url_decode(key)
    assert len(point) == 65 and point[0] == 4
    therapist = login(make_user(Role.THERAPIST), test_client=app.test_client())
    assert therapist.get("/api/v1/push/key").status_code == 403


def test_without_vapid_keys_push_is_off_and_says_so(app, client, login, make_patient):
    bundle = make_patient()
    login(bundle.user)
    saved = app.config["VAPID_PRIVATE_KEY"], app.config["VAPID_PUBLIC_KEY"]
    app.config.update(VAPID_PRIVATE_KEY=None, VAPID_PUBLIC_KEY=None)
    try:
        response = client.get("/api/v1/push/key")
        assert response.status_code == 404
        assert "not set up" in response.get_json()["detail"]
        phone = subscriber("https://web.push.apple.com/QGx8").subscription()
        assert client.post("/api/v1/me/push-subscriptions", json=phone).status_code == 404
    finally:
        app.config.update(VAPID_PRIVATE_KEY=saved[0], VAPID_PUBLIC_KEY=saved[1])

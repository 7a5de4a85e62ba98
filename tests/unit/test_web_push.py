"""Unit tests for Web Push sending and VAPID helpers (DESIGN §4 "Reminders", issue 12 item 4).

A local push service on 127.0.0.1 (a random free port, in a thread) records what it receives;
nothing else is contacted.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable, Iterator

import http_ece
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from app.reminders.push import (
    ALLOWED_PAYLOAD_KEYS,
    generate_vapid_keys,
    load_private_key,
    public_key_from_private,
    send_push,
    validate_endpoint,
    validate_subscription,
)
from tests.push_service import (
    PushService,
    b64url,
    b64url_decode,
    push_services,
    subscriber,
    vapid_parameters,
    verified_claims,
)

SUBJECT = "mailto:admin@homestretch.example"
PAYLOAD = {"title": "Homestretch", "body": "Your exercises for today are ready", "url": "/today"}


@pytest.fixture
def push_service() -> Iterator[Callable[..., PushService]]:
    """Start push services on demand; stop and join every one after the test."""
    yield from push_services()


@pytest.fixture(scope="module")
def vapid() -> tuple[str, str]:
    return generate_vapid_keys()


# --- VAPID keys -------------------------------------------------------------------------------


def test_generated_keys_publish_an_uncompressed_p256_point(vapid: tuple[str, str]) -> None:
    private, public = vapid
    point = b64url_decode(public)
    assert len(point) == 65 and point[0] == 4
    assert "=" not in public and "=" not in private
    assert len(b64url_decode(private)) == 32
    assert public_key_from_private(private) == public


def test_the_public_key_is_the_same_from_raw_pem_and_der_private_keys() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    raw = b64url(key.private_numbers().private_value.to_bytes(32, "big"))
    assert public_key_from_private(pem) == public_key_from_private(b64url(der))
    assert public_key_from_private(raw) == public_key_from_private(pem.encode())


@pytest.mark.parametrize("bad", ["", "not a key", b64url(b"\x01" * 31), "/etc/passwd"])
def test_a_private_key_that_is_not_p256_is_refused_without_quoting_it(bad: str) -> None:
    with pytest.raises(ValueError, match="not a P-256 private key") as caught:
        load_private_key(bad)
    assert not bad or bad not in str(caught.value)


# --- sending ----------------------------------------------------------------------------------


def test_push_is_aes128gcm_with_a_ttl_and_a_vapid_header_for_the_published_key(
    push_service: Callable[..., PushService], vapid: tuple[str, str]
) -> None:
    private, public = vapid
    service = push_service(201)
    browser = subscriber(service.endpoint())

    before = int(time.time())
    result = send_push(
        browser.subscription(),
        PAYLOAD,
        private_key=private,
        subject=SUBJECT,
        ttl=3600,
        allow_local=True,
    )
    after = int(time.time())

    assert result.ok and result.status == 201 and not result.gone
    (request,) = service.received
    assert request.path == "/push/sub-1"
    assert request.headers["content-encoding"] == "aes128gcm"
    assert request.headers["ttl"] == "3600"
    assert request.headers["urgency"] == "normal"
    parameters = vapid_parameters(request.headers["authorization"])
    assert parameters["k"] == public == public_key_from_private(private)
    claims = verified_claims(parameters["t"], parameters["k"])
    assert claims["aud"] == service.origin
    assert claims["sub"] == SUBJECT
    assert isinstance(claims["exp"], int)
    assert before < claims["exp"] <= after + 24 * 3600  # RFC 8292 §2: at most 24 hours ahead


def test_a_vapid_token_signed_by_another_key_does_not_verify(
    push_service: Callable[..., PushService], vapid: tuple[str, str]
) -> None:
    private, _ = vapid
    service = push_service(201)
    send_push(
        subscriber(service.endpoint()).subscription(),
        PAYLOAD,
        private_key=private,
        subject=SUBJECT,
        allow_local=True,
    )
    token = vapid_parameters(service.received[0].headers["authorization"])["t"]
    _, other = generate_vapid_keys()
    with pytest.raises(InvalidSignature):
        verified_claims(token, other)


def test_the_body_decrypts_with_the_subscriber_keys_to_a_payload_without_health_data(
    push_service: Callable[..., PushService], vapid: tuple[str, str]
) -> None:
    private, _ = vapid
    service = push_service(201)
    browser = subscriber(service.endpoint())
    send_push(
        browser.subscription(), PAYLOAD, private_key=private, subject=SUBJECT, allow_local=True
    )

    (request,) = service.received
    assert b"exercises" not in request.body  # encrypted on the wire
    plaintext = http_ece.decrypt(
        request.body,
        private_key=browser.private_key,
        auth_secret=browser.auth,
        version="aes128gcm",
    )
    message = json.loads(plaintext)
    assert message == PAYLOAD
    assert set(message) <= ALLOWED_PAYLOAD_KEYS


@pytest.mark.parametrize(
    "payload",
    [
        {**PAYLOAD, "pain": "7"},
        {**PAYLOAD, "exercise": "Bird dog"},
        {"title": "Homestretch", "body": 7},
        {**PAYLOAD, "url": "https://elsewhere.example/today"},
        {**PAYLOAD, "url": "//elsewhere.example/today"},
        {"title": "Homestretch", "body": "x" * 4000},
    ],
)
def test_a_payload_that_could_carry_more_than_the_allowed_texts_is_refused_before_sending(
    push_service: Callable[..., PushService], vapid: tuple[str, str], payload: dict[str, object]
) -> None:
    service = push_service(201)
    with pytest.raises(ValueError):
        send_push(
            subscriber(service.endpoint()).subscription(),
            payload,  # type: ignore[arg-type]
            private_key=vapid[0],
            subject=SUBJECT,
            allow_local=True,
        )
    assert service.received == []


@pytest.mark.parametrize("status", [404, 410])
def test_a_gone_subscription_is_reported_for_removal(
    push_service: Callable[..., PushService], vapid: tuple[str, str], status: int
) -> None:
    service = push_service(status)
    result = send_push(
        subscriber(service.endpoint()).subscription(),
        PAYLOAD,
        private_key=vapid[0],
        subject=SUBJECT,
        allow_local=True,
    )
    assert (result.ok, result.status, result.gone) == (False, status, True)
    assert len(service.received) == 1


def test_a_busy_push_service_is_reported_with_its_retry_after_and_not_gone(
    push_service: Callable[..., PushService], vapid: tuple[str, str]
) -> None:
    service = push_service(429, {"Retry-After": "120"})
    result = send_push(
        subscriber(service.endpoint()).subscription(),
        PAYLOAD,
        private_key=vapid[0],
        subject=SUBJECT,
        allow_local=True,
    )
    assert (result.ok, result.status, result.gone, result.retry_after) == (False, 429, False, "120")
    assert result.error == "push service answered 429"


def test_a_redirect_from_the_push_service_is_not_followed(
    push_service: Callable[..., PushService], vapid: tuple[str, str]
) -> None:
    target = push_service(201)
    bouncer = push_service(307, {"Location": target.endpoint("elsewhere")})
    result = send_push(
        subscriber(bouncer.endpoint()).subscription(),
        PAYLOAD,
        private_key=vapid[0],
        subject=SUBJECT,
        allow_local=True,
    )
    assert (result.ok, result.status, result.gone) == (False, 307, False)
    assert target.received == []


def test_an_unreachable_push_service_is_reported_not_raised(vapid: tuple[str, str]) -> None:
    # A port held by this test and never listened on: the connection is refused, and no other
    # process can take the port meanwhile.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        result = send_push(
            subscriber(f"http://127.0.0.1:{port}/push/x").subscription(),
            PAYLOAD,
            private_key=vapid[0],
            subject=SUBJECT,
            allow_local=True,
            timeout=5,
        )
    assert not result.ok and result.status is None and not result.gone
    assert result.error is not None and "unreachable" in result.error


def test_a_local_endpoint_is_never_contacted_outside_testing(
    push_service: Callable[..., PushService], vapid: tuple[str, str]
) -> None:
    service = push_service(201)
    result = send_push(
        subscriber(service.endpoint()).subscription(),
        PAYLOAD,
        private_key=vapid[0],
        subject=SUBJECT,
    )
    assert not result.ok and result.status is None
    assert service.received == []


@pytest.mark.parametrize(
    "settings",
    [{"subject": "admin@homestretch.example"}, {"ttl": -1}, {"urgency": "now"}, {"topic": "a b"}],
)
def test_bad_push_settings_are_refused(vapid: tuple[str, str], settings: dict[str, object]) -> None:
    arguments: dict[str, object] = {"private_key": vapid[0], "subject": SUBJECT, **settings}
    browser = subscriber("https://push.example.com/x")
    with pytest.raises(ValueError):
        send_push(browser.subscription(), PAYLOAD, **arguments)  # type: ignore[arg-type]


def test_a_topic_is_sent_so_a_newer_reminder_replaces_an_undelivered_one(
    push_service: Callable[..., PushService], vapid: tuple[str, str]
) -> None:
    service = push_service(201)
    send_push(
        subscriber(service.endpoint()).subscription(),
        PAYLOAD,
        private_key=vapid[0],
        subject=SUBJECT,
        allow_local=True,
        topic="reminder",
    )
    assert service.received[0].headers["topic"] == "reminder"


# --- endpoint validation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://fcm.googleapis.com/fcm/send/abc:def",
        "https://updates.push.services.mozilla.com/wpush/v2/gAAAA",
        "https://web.push.apple.com/QGx8",
        "https://push.example.com:8443/x",
        "https://8.8.8.8/push",
    ],
)
def test_public_https_endpoints_are_accepted(url: str) -> None:
    assert validate_endpoint(url, allow_local=False) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://fcm.googleapis.com/fcm/send/abc",  # https required
        "ftp://push.example.com/x",
        "https://localhost/push",
        "https://push.localhost/push",
        "https://printer.local/push",
        "https://intranet/push",  # a single-label name
        "https://127.0.0.1/push",
        "http://127.0.0.1:8080/push",  # only the testing configuration accepts it
        "https://127.1/push",  # legacy IPv4 forms the resolver accepts
        "https://2130706433/push",
        "https://10.0.0.5/push",
        "https://192.168.1.10/push",
        "https://172.16.0.1/push",
        "https://169.254.169.254/latest/meta-data",
        "https://100.64.0.1/push",
        "https://0.0.0.0/push",
        "https://[::1]/push",
        "https://[fe80::1]/push",
        "https://[fd00::1]/push",
        "https://[::ffff:127.0.0.1]/push",
        "https://user:secret@push.example.com/x",
        "https://push.example.com/x#frag",
        "https://push.example.com:99999/x",
        "https://push.example.com/a b",
        "not a url",
        "",
        "https://push.example.com/" + "x" * 2100,
    ],
)
def test_endpoints_that_are_not_public_https_are_refused_in_production(url: str) -> None:
    assert validate_endpoint(url, allow_local=False) is not None


def test_the_testing_configuration_accepts_127_0_0_1_only() -> None:
    assert validate_endpoint("http://127.0.0.1:5001/push/x", allow_local=True) is None
    assert validate_endpoint("https://127.0.0.1/push/x", allow_local=True) is None
    for url in (
        "http://localhost:5001/push",
        "http://[::1]:5001/push",
        "http://10.0.0.5/push",
        "http://192.168.1.10/push",
        "http://169.254.169.254/",
        "http://push.example.com/x",
    ):
        assert validate_endpoint(url, allow_local=True) is not None, url


@pytest.mark.parametrize(
    ("keys", "problem"),
    [
        (None, "no keys"),
        ({"auth": b64url(os.urandom(16))}, "p256dh"),
        ({"p256dh": b64url(b"\x04" + b"\x01" * 64), "auth": b64url(os.urandom(16))}, "p256dh"),
        ({"p256dh": "not+base64/url!", "auth": b64url(os.urandom(16))}, "p256dh"),
        ({"p256dh": "GOOD", "auth": b64url(os.urandom(8))}, "auth"),
        ({"p256dh": "GOOD"}, "auth"),
    ],
)
def test_a_subscription_with_bad_keys_is_refused(keys: dict[str, str] | None, problem: str) -> None:
    good = subscriber("https://push.example.com/x").subscription()
    if keys is not None and keys.get("p256dh") == "GOOD":
        keys = {**keys, "p256dh": good["keys"]["p256dh"]}  # type: ignore[index]
    bad = {"endpoint": "https://push.example.com/x", "keys": keys}
    message = validate_subscription(bad, allow_local=False)
    assert message is not None and problem in message
    assert validate_subscription(good, allow_local=False) is None


def test_a_host_name_that_resolves_inside_is_never_contacted(
    monkeypatch: pytest.MonkeyPatch, vapid: tuple[str, str]
) -> None:
    # A public-looking name pointing at a private address (DNS tricks such as *.nip.io).
    def resolve(host: str, *args: object, **kwargs: object) -> list[tuple]:
        assert host == "10.0.0.5.nip.io"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", 443))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    contacted: list[object] = []
    monkeypatch.setattr("app.reminders.push.webpush", lambda *a, **k: contacted.append(a))

    result = send_push(
        subscriber("https://10.0.0.5.nip.io/push/x").subscription(),
        PAYLOAD,
        private_key=vapid[0],
        subject=SUBJECT,
    )

    assert not result.ok and "private address" in (result.error or "")
    assert contacted == []

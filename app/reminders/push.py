"""Web Push: VAPID keys, endpoint checks and sending one message; no Flask, no database.

DESIGN §4 "Reminders": messages are RFC 8291 ``aes128gcm`` with RFC 8292 VAPID, sent through
pywebpush; a 404 or 410 answer means the subscription is gone and the caller deletes it. Push
endpoints must be https on a public host in production; the testing configuration also accepts
``http://127.0.0.1`` so tests can run a local push service. No message carries health data: the
payload may hold only a title, a body, a same-site path and a tag.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

import requests
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02, VapidException
from pywebpush import WebPushException, webpush

ALLOWED_PAYLOAD_KEYS: Final = frozenset({"title", "body", "url", "tag"})
GONE_STATUSES: Final = frozenset({404, 410})  # RFC 8030 §7.3: the subscription has expired
# RFC 8291 §4: push services accept at least 4096 octets of body, i.e. 3993 of plaintext.
MAX_PAYLOAD_BYTES: Final = 3993
MAX_ENDPOINT_LENGTH: Final = 2048
MAX_TTL_SECONDS: Final = 28 * 24 * 3600  # push services keep messages about four weeks at most
# RFC 8292 §2: the JWT must expire within 24 hours; half of that leaves room for clock skew.
VAPID_TOKEN_SECONDS: Final = 12 * 3600
URGENCIES: Final = frozenset({"very-low", "low", "normal", "high"})  # RFC 8030 §5.3
_TOPIC = re.compile(r"[A-Za-z0-9_-]{1,32}")  # RFC 8030 §5.4: ≤ 32 base64url characters
# Special-use names that never reach a public push service (RFC 6761, RFC 6762, RFC 8375).
_LOCAL_SUFFIXES: Final = (".localhost", ".local", ".internal", ".home.arpa")


@dataclass(frozen=True)
class PushResult:
    """Outcome of one push: ``gone`` tells the caller to delete the subscription.

    ``status`` is the push service's HTTP status (None when no answer came); ``error`` says
    what went wrong without any key or payload; ``retry_after`` echoes the service's header.
    """

    ok: bool
    status: int | None = None
    gone: bool = False
    error: str | None = None
    retry_after: str | None = None


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    """Decode base64url with or without padding; raise ValueError on anything else."""
    if not isinstance(text, str) or not re.fullmatch(r"[A-Za-z0-9_-]*={0,2}", text):
        raise ValueError("not base64url")
    stripped = text.rstrip("=")
    try:
        return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
    except binascii.Error as exc:
        raise ValueError("not base64url") from exc


def _application_server_key(key: ec.EllipticCurvePrivateKey) -> str:
    """Return the base64url uncompressed P-256 point of a private key's public half."""
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return _b64url(point)


def generate_vapid_keys() -> tuple[str, str]:
    """Return a new (private key, application server key) pair, both base64url.

    The private key is the raw 32-byte P-256 scalar (the format of ``web-push
    generate-vapid-keys``, one line for ``VAPID_PRIVATE_KEY``); the public one is the 65-byte
    uncompressed point a browser's ``pushManager.subscribe`` takes.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    scalar = key.private_numbers().private_value.to_bytes(32, "big")
    return _b64url(scalar), _application_server_key(key)


def load_private_key(private: str | bytes) -> ec.EllipticCurvePrivateKey:
    """Return the P-256 key from a raw base64url scalar, a PEM, or a base64url DER.

    Raises ValueError (never quoting the key) for anything else.
    """
    text = private.decode("ascii", "replace") if isinstance(private, bytes) else private
    text = text.strip()
    try:
        if "-----BEGIN" in text:
            key: Any = serialization.load_pem_private_key(text.encode("ascii"), password=None)
        else:
            raw = _b64url_decode("".join(text.split()))
            if len(raw) == 32:
                key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
            else:
                key = serialization.load_der_private_key(raw, password=None)
    except (ValueError, TypeError, UnicodeError, UnsupportedAlgorithm) as exc:
        raise ValueError("VAPID private key is not a P-256 private key") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("VAPID private key is not a P-256 private key")
    return key


def public_key_from_private(private: str | bytes) -> str:
    """Return the application server key (base64url) that ``GET /api/v1/push/key`` publishes."""
    return _application_server_key(load_private_key(private))


def _ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Return the address a host names literally, also in legacy forms such as 127.1."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        # The resolver reads "127.1", "0x7f.1" and "2130706433" as IPv4 addresses too.
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def validate_endpoint(url: str, *, allow_local: bool) -> str | None:
    """Return why a push endpoint is refused, or None when it is acceptable.

    Production: https only, no credentials, and a public host — no private, loopback,
    link-local or other non-global address, no ``localhost`` or other special-use or
    single-label name. ``allow_local`` (the testing configuration) also accepts 127.0.0.1,
    over http too. Host names are not resolved here: ``send_push`` resolves them before each
    send and refuses one that points inside.
    """
    if not isinstance(url, str) or not url:
        return "the endpoint is missing"
    if len(url) > MAX_ENDPOINT_LENGTH:
        return f"the endpoint is longer than {MAX_ENDPOINT_LENGTH} characters"
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        return "the endpoint contains spaces or control characters"
    if not url.isascii():
        # Browsers hand out ASCII endpoints (punycode hosts, percent-encoded paths); anything
        # else could not be a real subscription, nor fit the unique index on PostgreSQL.
        return "the endpoint must be an ASCII URL"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        return "the endpoint is not a valid URL"
    host = (parts.hostname or "").rstrip(".")
    if parts.scheme not in {"http", "https"} or not host:
        return "the endpoint must be an https URL"
    if parts.username is not None or parts.password is not None:
        return "the endpoint must not carry credentials"
    if parts.fragment:
        return "the endpoint must not have a fragment"
    if allow_local and host == "127.0.0.1":
        return None
    if parts.scheme != "https":
        return "the endpoint must use https"
    address = _ip_literal(host)
    if address is not None:
        if not address.is_global:
            return "the endpoint's host is a private, loopback or link-local address"
        return None
    if host == "localhost" or host.endswith(_LOCAL_SUFFIXES) or "." not in host:
        return "the endpoint's host is not a public host name"
    return None


def validate_subscription(subscription: Mapping[str, Any], *, allow_local: bool) -> str | None:
    """Return why a ``PushSubscription.toJSON()`` is refused, or None when it is acceptable.

    Checks the endpoint (``validate_endpoint``), that ``keys.p256dh`` is a P-256 point and that
    ``keys.auth`` is a 16-byte secret (RFC 8291 §3), all base64url.
    """
    if not isinstance(subscription, Mapping):
        return "the subscription must be an object"
    problem = validate_endpoint(subscription.get("endpoint"), allow_local=allow_local)
    if problem:
        return problem
    keys = subscription.get("keys")
    if not isinstance(keys, Mapping):
        return "the subscription has no keys"
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(
            ec.SECP256R1(), _b64url_decode(keys.get("p256dh"))
        )
    except ValueError:
        return "keys.p256dh is not a base64url P-256 public key"
    try:
        auth = _b64url_decode(keys.get("auth"))
    except ValueError:
        auth = b""
    if len(auth) != 16:
        return "keys.auth is not a base64url 16-byte secret"
    return None


def _encode_payload(payload: Mapping[str, Any]) -> str:
    """Return the payload as JSON, refusing keys or values that could carry health data."""
    unknown = set(payload) - ALLOWED_PAYLOAD_KEYS
    if unknown:
        raise ValueError(f"push payload keys not allowed: {', '.join(sorted(map(str, unknown)))}")
    for key, value in payload.items():
        if not isinstance(value, str):
            raise ValueError(f"push payload {key!r} must be a string")
    url = payload.get("url")
    if url is not None and (not url.startswith("/") or url.startswith("//") or "\\" in url):
        raise ValueError("push payload 'url' must be a path on this site")
    text = json.dumps(dict(payload), ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    if len(text.encode("utf-8")) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"push payload is longer than {MAX_PAYLOAD_BYTES} bytes")
    return text


def _origin(url: str) -> str:
    """Return the ASCII origin of a URL (RFC 6454), the VAPID ``aud`` (RFC 8292 §2)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    default_port = {"http": 80, "https": 443}.get(parts.scheme)
    port = "" if parts.port in (None, default_port) else f":{parts.port}"
    return f"{parts.scheme}://{host}{port}"


def _resolves_inside(endpoint: str, *, allow_local: bool) -> bool:
    """Whether the endpoint's host name resolves to a private, loopback or link-local address.

    A name that points inside (``10.0.0.5.nip.io``, an internal host) is refused like such an
    address written out; a name that does not resolve is left to the request to report.
    """
    host = (urlsplit(endpoint).hostname or "").rstrip(".")
    if (allow_local and host == "127.0.0.1") or _ip_literal(host) is not None:
        return False  # literal addresses were checked by validate_endpoint
    try:
        found = socket.getaddrinfo(host, 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return False
    return any(not ipaddress.ip_address(info[4][0].split("%")[0]).is_global for info in found)


class _NoRedirectSession(requests.Session):
    """A requests session that never follows redirects (a push endpoint must not bounce us)."""

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs["allow_redirects"] = False
        return super().request(*args, **kwargs)


def send_push(
    subscription: Mapping[str, Any],
    payload: Mapping[str, str],
    *,
    private_key: str | bytes | ec.EllipticCurvePrivateKey,
    subject: str,
    ttl: int = 3600,
    timeout: float = 10,
    allow_local: bool = False,
    topic: str | None = None,
    urgency: str = "normal",
) -> PushResult:
    """Encrypt ``payload`` for one subscription and post it to its push service.

    - ``subscription``: ``PushSubscription.toJSON()`` (``endpoint``, ``keys.p256dh``,
      ``keys.auth``); re-checked here, and a refused one is never contacted.
    - ``payload``: only ``title``, ``body``, ``url`` (a path) and ``tag``, all strings.
    - ``private_key``, ``subject``: ``VAPID_PRIVATE_KEY`` and ``VAPID_SUBJECT`` (mailto: or
      https:); ``ttl``: seconds the service may hold the message (RFC 8030 §5.2);
      ``topic``: lets a newer message replace an undelivered one (RFC 8030 §5.4).

    Network errors and refusals come back in the result, never raised; a bad payload, key or
    setting (a programming or configuration error) raises ValueError before anything is sent.
    """
    data = _encode_payload(payload)
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        if not isinstance(private_key.curve, ec.SECP256R1):
            raise ValueError("VAPID private key is not a P-256 private key")
        key = private_key
    else:
        key = load_private_key(private_key)
    if not subject.startswith(("mailto:", "https://")):
        raise ValueError("VAPID subject must be a mailto: or https: URL")
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not 0 <= ttl <= MAX_TTL_SECONDS:
        raise ValueError(f"ttl must be an integer from 0 to {MAX_TTL_SECONDS} seconds")
    if urgency not in URGENCIES:
        raise ValueError(f"urgency must be one of {', '.join(sorted(URGENCIES))}")
    if topic is not None and not _TOPIC.fullmatch(topic):
        raise ValueError("topic must be 1–32 base64url characters")

    problem = validate_subscription(subscription, allow_local=allow_local)
    if problem:
        return PushResult(ok=False, error=problem)
    endpoint = subscription["endpoint"]
    if _resolves_inside(endpoint, allow_local=allow_local):
        return PushResult(ok=False, error="the endpoint's host resolves to a private address")
    claims: dict[str, str | int] = {
        "aud": _origin(endpoint),
        "exp": int(time.time()) + VAPID_TOKEN_SECONDS,
        "sub": subject,
    }
    headers: dict[str, str | int | float] = {"Urgency": urgency}
    if topic is not None:
        headers["Topic"] = topic
    try:
        with _NoRedirectSession() as session:
            response = webpush(
                {
                    "endpoint": endpoint,
                    "keys": {name: subscription["keys"][name] for name in ("p256dh", "auth")},
                },
                data=data,
                # An instance, not a string: pywebpush would read a string naming a file.
                vapid_private_key=Vapid02(private_key=key),
                vapid_claims=claims,
                content_encoding="aes128gcm",
                ttl=ttl,
                timeout=timeout,
                headers=headers,
                requests_session=session,
            )
    except WebPushException as exc:
        status = exc.status_code
        if status is None:
            return PushResult(ok=False, error="push could not be prepared")
        return PushResult(
            ok=False,
            status=status,
            gone=status in GONE_STATUSES,
            error=f"push service answered {status}",
            retry_after=exc.retry_after,
        )
    except VapidException:
        return PushResult(ok=False, error="VAPID claims were refused")
    except requests.RequestException as exc:
        return PushResult(ok=False, error=f"push service unreachable ({type(exc).__name__})")
    status = response.status_code  # type: ignore[union-attr]
    return PushResult(ok=True, status=status)

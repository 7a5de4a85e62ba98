"""A local Web Push service and a subscribing browser, for the push tests (RFC 8030/8291/8292).

The service listens on 127.0.0.1, records every request and answers a chosen status; the
subscriber holds the private half of its keys, so a test can decrypt what the app sent.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer

import http_ece
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Received:
    """One request the push service received."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class PushService:
    """A push service on 127.0.0.1 answering every request with ``status``."""

    server: HTTPServer
    status: int = 201
    answer_headers: dict[str, str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def endpoint(self, token: str = "sub-1") -> str:
        return f"{self.origin}/push/{token}"


def push_services() -> Iterator[Callable[..., PushService]]:
    """The body of a ``push_service`` fixture: start services on demand, stop them after."""
    started: list[tuple[HTTPServer, threading.Thread]] = []

    def start(status: int = 201, headers: dict[str, str] | None = None) -> PushService:
        service: PushService

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                # Recorded before answering, so the client sees it once its request returns.
                service.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                self.send_response(service.status)
                for name, value in service.answer_headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = HTTPServer(("127.0.0.1", 0), Handler)  # port 0: the kernel picks a free one
        service = PushService(server, status, dict(headers or {}))
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.start()
        started.append((server, thread))
        return service

    yield start
    for server, thread in started:
        server.shutdown()
        thread.join()
        server.server_close()


@dataclass(frozen=True)
class Subscriber:
    """A browser's push subscription with the private half of its keys."""

    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    endpoint: str

    def subscription(self) -> dict[str, object]:
        """Return what ``PushSubscription.toJSON()`` gives."""
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": b64url(point), "auth": b64url(self.auth)},
        }

    def decrypt(self, body: bytes) -> dict:
        """Decrypt an ``aes128gcm`` push body (RFC 8291) and parse its JSON."""
        plaintext = http_ece.decrypt(
            body, private_key=self.private_key, auth_secret=self.auth, version="aes128gcm"
        )
        return json.loads(plaintext)


def subscriber(endpoint: str) -> Subscriber:
    return Subscriber(ec.generate_private_key(ec.SECP256R1()), os.urandom(16), endpoint)


def vapid_parameters(authorization: str) -> dict[str, str]:
    """Parse ``vapid t=<JWT>, k=<key>`` (RFC 8292 §3)."""
    scheme, _, rest = authorization.partition(" ")
    assert scheme.lower() == "vapid"
    return dict(part.strip().split("=", 1) for part in rest.split(","))


def verified_claims(token: str, public_key: str) -> dict[str, object]:
    """Verify an ES256 JWT with a base64url P-256 point and return its claims.

    Raises ``InvalidSignature`` for a token the published key did not sign.
    """
    header, claims, signature = token.split(".")
    assert json.loads(b64url_decode(header)) == {"typ": "JWT", "alg": "ES256"}
    raw = b64url_decode(signature)
    assert len(raw) == 64
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(public_key))
    key.verify(
        encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")),
        f"{header}.{claims}".encode("ascii"),
        ec.ECDSA(hashes.SHA256()),
    )
    return json.loads(b64url_decode(claims))

"""The VAPID key pair push messages are signed with (RFC 8292), from the configuration.

``VAPID_PRIVATE_KEY`` (a raw base64url P-256 scalar as ``web-push generate-vapid-keys`` prints
it, a PEM, or a base64url DER) and ``VAPID_SUBJECT`` (mailto: or https:) come from the
environment through ``config.py``; ``VAPID_PUBLIC_KEY``, when given, must be the private key's
public half. In development a key is generated once into the instance folder, like the secret
key; the testing configuration makes a fresh one per app; production without a key has no push
(reminders go by email) and says so at ``GET /api/v1/push/key``.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path

from flask import Flask, current_app

from app.reminders.push import generate_vapid_keys, public_key_from_private

KEY_FILE = "vapid_private_key"


@dataclass(frozen=True)
class VapidSettings:
    """The VAPID key pair and contact the app pushes with."""

    private_key: str
    public_key: str
    subject: str


def _development_key(app: Flask) -> str:
    key_file = Path(app.instance_path) / KEY_FILE
    if not key_file.exists():
        private, _public = generate_vapid_keys()
        key_file.write_text(private + "\n")
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _default_subject(app: Flask) -> str:
    base = app.config.get("PUBLIC_BASE_URL") or ""
    if base.startswith("https://"):
        return base.rstrip("/")
    address = parseaddr(app.config.get("MAIL_FROM") or "")[1] or "homestretch@localhost"
    return f"mailto:{address}"


def configure_vapid(app: Flask) -> None:
    """Settle the VAPID settings at start-up; refuse a key pair that does not fit together."""
    config = app.config
    private = (config.get("VAPID_PRIVATE_KEY") or "").strip()
    if not private:
        if config.get("TESTING"):
            private, _public = generate_vapid_keys()
        elif config.get("ENV_NAME") == "development":
            private = _development_key(app)
        else:
            config["VAPID_PRIVATE_KEY"] = config["VAPID_PUBLIC_KEY"] = None
            return
    try:
        public = public_key_from_private(private)
    except ValueError:
        raise RuntimeError(
            "VAPID_PRIVATE_KEY is not a P-256 private key (give the base64url key that "
            "`npx web-push generate-vapid-keys` prints, or a PEM)."
        ) from None
    given_public = (config.get("VAPID_PUBLIC_KEY") or "").strip().rstrip("=")
    if given_public and given_public != public:
        raise RuntimeError("VAPID_PUBLIC_KEY is not the public half of VAPID_PRIVATE_KEY.")
    subject = (config.get("VAPID_SUBJECT") or "").strip() or _default_subject(app)
    if not subject.startswith(("mailto:", "https://")):
        raise RuntimeError("VAPID_SUBJECT must be a mailto: or https:// URL (RFC 8292).")
    config.update(VAPID_PRIVATE_KEY=private, VAPID_PUBLIC_KEY=public, VAPID_SUBJECT=subject)


def vapid_settings() -> VapidSettings | None:
    """Return the VAPID settings, or None when push is not set up."""
    config = current_app.config
    if not config.get("VAPID_PRIVATE_KEY") or not config.get("VAPID_PUBLIC_KEY"):
        return None
    return VapidSettings(
        config["VAPID_PRIVATE_KEY"], config["VAPID_PUBLIC_KEY"], config["VAPID_SUBJECT"]
    )


def allow_local_endpoints() -> bool:
    """Whether push endpoints on http://127.0.0.1 are accepted (the testing configuration)."""
    config = current_app.config
    if config.get("ENV_NAME") == "production":
        return False
    return bool(config.get("PUSH_ALLOW_LOCAL_ENDPOINTS") or config.get("TESTING"))

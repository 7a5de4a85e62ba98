"""Configuration classes; the only place that reads the environment."""

from __future__ import annotations

import os
from datetime import timedelta


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _database_url(url: str | None) -> str | None:
    """Use psycopg 3 for plain postgres:// and postgresql:// URLs."""
    if not url:
        return None
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Config:
    """Settings shared by every environment."""

    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = _database_url(os.environ.get("DATABASE_URL"))
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SQLALCHEMY_RECORD_QUERIES = False

    # STACK "Sessions": server-side login sessions with idle and absolute timeouts.
    CLINICIAN_IDLE_TIMEOUT = timedelta(minutes=int(os.environ.get("CLINICIAN_IDLE_MINUTES", 15)))
    PATIENT_IDLE_TIMEOUT = timedelta(minutes=int(os.environ.get("PATIENT_IDLE_MINUTES", 60)))
    SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=int(os.environ.get("SESSION_ABSOLUTE_HOURS", 12)))
    PATIENT_REMEMBER_DAYS = int(os.environ.get("PATIENT_REMEMBER_DAYS", 30))
    # DESIGN §6 back-off: wrong passwords from one address lock that address out of the account
    # for a while; past LOGIN_SLOWDOWN_AFTER wrong passwords from anywhere, each attempt on the
    # account waits (0.25 s doubling, at most LOGIN_SLOWDOWN_MAX_SECONDS), never a lock.
    LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", 5))
    LOGIN_LOCKOUT = timedelta(minutes=int(os.environ.get("LOGIN_LOCKOUT_MINUTES", 15)))
    LOGIN_SLOWDOWN_AFTER = int(os.environ.get("LOGIN_SLOWDOWN_AFTER", 10))
    LOGIN_SLOWDOWN_MAX_SECONDS = float(os.environ.get("LOGIN_SLOWDOWN_MAX_SECONDS", 2))

    SESSION_COOKIE_NAME = "homestretch_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_NAME = "homestretch_remember"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_DURATION = timedelta(days=PATIENT_REMEMBER_DAYS)

    # DESIGN §6: bodies over 1 MB are refused (413) before they are read.
    MAX_CONTENT_LENGTH = 1024 * 1024
    MAX_FORM_MEMORY_SIZE = 1024 * 1024

    WTF_CSRF_TIME_LIMIT = 3600
    WTF_CSRF_HEADERS = ["X-CSRFToken", "X-CSRF-Token"]

    RATELIMIT_STORAGE_URI = os.environ.get("REDIS_URL") or "memory://"
    RATELIMIT_LOGIN = os.environ.get("RATELIMIT_LOGIN", "30 per minute")
    RATELIMIT_HEADERS_ENABLED = False

    INVITATION_HOURS = int(os.environ.get("INVITATION_HOURS", 72))
    # DESIGN §4 "Clinician accounts": whether clinicians must set up a second factor before any
    # patient data, for clinics that never chose (their admin can turn it on or off).
    REQUIRE_2FA = _env_bool("REQUIRE_2FA", False)
    DEFAULT_TIMEZONE = os.environ.get("DEFAULT_TIMEZONE", "Europe/London")
    # Every link that leaves a request (invitations, emails, the handout's QR code) is built on
    # this, never on the request's Host header (DESIGN §4). Required in production.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL")  # e.g. https://clinic.example.org
    # How many proxies in front of the app set X-Forwarded-For / -Proto (0: none, trust no
    # header). Behind one TLS proxy: 1. The client address feeds the login back-off and audit.
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", 0))

    MAIL_SERVER = os.environ.get("MAIL_SERVER")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", 25))
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_FROM = os.environ.get("MAIL_FROM", "homestretch@localhost")

    # Web Push for reminders and message notices (DESIGN §4 "Reminders", RFC 8292 VAPID): the
    # P-256 private key (base64url, as `npx web-push generate-vapid-keys` prints it, or a PEM),
    # optionally its public half (checked against it) and a contact, mailto: or https:.
    # Development generates a key into the instance folder; production without one has no push.
    VAPID_PRIVATE_KEY = os.environ.get("VAPID_PRIVATE_KEY")
    VAPID_PUBLIC_KEY = os.environ.get("VAPID_PUBLIC_KEY")
    VAPID_SUBJECT = os.environ.get("VAPID_SUBJECT")  # default: PUBLIC_BASE_URL or mailto:MAIL_FROM
    PUSH_TIMEOUT_SECONDS = float(os.environ.get("PUSH_TIMEOUT_SECONDS", 10))
    # Push endpoints must be https on a public host; testing also accepts http://127.0.0.1.
    PUSH_ALLOW_LOCAL_ENDPOINTS = False
    # Outcome measures (CLINICAL §8): a folder of extra questionnaire files (a licensed ODI, say;
    # default instance/instruments) and instruments switched off (comma-separated, e.g.
    # "start-back"; only those whose file allows it).
    INSTRUMENTS_DIR = os.environ.get("INSTRUMENTS_DIR")
    DISABLED_INSTRUMENTS = tuple(
        name.strip()
        for name in os.environ.get("DISABLED_INSTRUMENTS", "").split(",")
        if name.strip()
    )

    HSTS = False
    ENV_NAME = "base"

    # Argon2id parameters (OWASP ASVS 5 Appendix C: m >= 19 MiB, t >= 2, p = 1).
    ARGON2_TIME_COST = int(os.environ.get("ARGON2_TIME_COST", 3))
    ARGON2_MEMORY_KIB = int(os.environ.get("ARGON2_MEMORY_KIB", 65536))


class DevelopmentConfig(Config):
    """Local use: SQLite file in the instance folder, a per-instance secret key."""

    ENV_NAME = "development"
    # The address `make run` serves on (it passes its own when HOST or PORT change).
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000"


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    # Cheap hashing keeps the suite fast; production parameters are tested separately.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_KIB = 1024
    SECRET_KEY = "testing-secret-key-not-for-production"
    SQLALCHEMY_DATABASE_URI = _database_url(os.environ.get("DATABASE_URL")) or "sqlite://"
    RATELIMIT_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"
    PUBLIC_BASE_URL = "http://homestretch.test"
    PUSH_ALLOW_LOCAL_ENDPOINTS = True  # tests run a local push service on 127.0.0.1


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    HSTS = True
    REQUIRE_2FA = _env_bool("REQUIRE_2FA", True)


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_class() -> type[Config]:
    """Pick the configuration named by HOMESTRETCH_ENV (default: development)."""
    name = os.environ.get("HOMESTRETCH_ENV", "development").strip().lower()
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(
            f"HOMESTRETCH_ENV={name!r} is not one of {', '.join(sorted(CONFIGS))}"
        ) from None

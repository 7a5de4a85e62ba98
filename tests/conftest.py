"""Test harness: app and database, clients and logins, factories, query counts, live server.

The suite runs on SQLite by default and on PostgreSQL when DATABASE_URL points at one; on
PostgreSQL it creates a throwaway database for the run and drops it at the end (STACK). Each test
starts from empty tables.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from app import create_app
from app.alerts.models import Alert
from app.auth.models import Clinic, User
from app.auth.services import create_user
from app.db import utcnow
from app.enums import (
    AlertKind,
    AlertStatus,
    CheckInKind,
    ItemStatus,
    Light,
    RedFlagLevel,
    Role,
    Severity,
)
from app.extensions import db
from app.patient.enrolment import NewPatient, invite_patient
from app.patient.models import CheckIn, Patient, Session, SessionExercise
from app.patient.sessions import ExerciseResult, SessionReport
from app.programs.content import BUILTIN_TEMPLATE, load_builtin_content
from app.programs.models import Program
from app.programs.services import Assignment, assign_program
from app.timeutil import at_local

PASSWORD = "correct horse battery"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def skip_or_fail(reason: str) -> None:
    """Skip with a clear reason on a laptop; in CI a missing service is a failure."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this must not be skipped)")
    pytest.skip(reason)


# ---------------------------------------------------------------------------- databases


def _postgres_url(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@contextmanager
def throwaway_postgres(admin_url: str) -> Iterator[str]:
    """Create a PostgreSQL database for this run and drop it afterwards."""
    admin = sa.create_engine(_postgres_url(admin_url), isolation_level="AUTOCOMMIT")
    name = f"homestretch_test_{os.getpid()}_{secrets.token_hex(4)}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        raise ConnectionError(str(exc)) from exc
    try:
        yield str(sa.make_url(_postgres_url(admin_url)).set(database=name).render_as_string(False))
    finally:
        with admin.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                ),
                {"n": name},
            )
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("DATABASE_URL")
    if url and url.startswith(("postgres", "postgresql")):
        with throwaway_postgres(url) as test_url:
            yield test_url
        return
    path = tmp_path_factory.mktemp("db") / "test.sqlite3"
    yield f"sqlite:///{path}"


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "SECRET_KEY": "test-secret-key",
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_KIB": 1024,
        }
    )
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


def _empty_tables() -> None:
    # DELETE in dependency order: on the few rows a test leaves it is much faster than
    # TRUNCATE, which rewrites every table's files on PostgreSQL.
    for table in reversed(db.metadata.sorted_tables):
        if table.name == "audit_events" and db.engine.dialect.name == "postgresql":
            # Append-only: a trigger refuses DELETE (migration 0009); TRUNCATE is the owner's.
            if db.session.scalar(sa.select(sa.exists().select_from(table))):
                db.session.execute(sa.text("TRUNCATE audit_events"))
            continue
        db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture(autouse=True)
def app_context(app: Flask) -> Iterator[None]:
    """Give every test an app context and empty tables afterwards."""
    with app.app_context():
        yield
        db.session.rollback()
        _empty_tables()
        db.session.remove()


@pytest.fixture
def csrf_enabled(app: Flask) -> Iterator[None]:
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


class IsolatedClient(FlaskClient):
    """A test client whose requests each run in their own app context, as in production.

    The test's own session commits first (so the request sees what the test set up, and the
    test's next read sees what the request stored) and `g` does not leak between requests.
    """

    def open(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        db.session.commit()
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def now() -> datetime:
    return utcnow()


# ---------------------------------------------------------------------------- factories


@pytest.fixture
def builtin_content(now: datetime) -> None:
    load_builtin_content(now)
    db.session.commit()


@pytest.fixture
def make_clinic() -> Callable[..., Clinic]:
    def make(name: str | None = None) -> Clinic:
        clinic = Clinic(name=name or f"Clinic {uuid.uuid4().hex[:8]}")
        db.session.add(clinic)
        db.session.commit()
        return clinic

    return make


@pytest.fixture
def make_user(make_clinic: Callable[..., Clinic], now: datetime) -> Callable[..., User]:
    def make(
        role: Role = Role.THERAPIST,
        *,
        clinic: Clinic | None = None,
        email: str | None = None,
        name: str | None = None,
        password: str | None = PASSWORD,
    ) -> User:
        user = create_user(
            clinic=clinic or make_clinic(),
            role=role,
            name=name or f"{role.value.title()} {uuid.uuid4().hex[:4]}",
            email=email or f"{role.value}-{uuid.uuid4().hex[:8]}@example.org",
            password=password,
            now=now,
        )
        db.session.commit()
        return user

    return make


@dataclass
class PatientBundle:
    patient: Patient
    user: User
    therapist: User
    program: Program | None
    invitation_token: str
    extra: dict = field(default_factory=dict)


@pytest.fixture
def make_patient(
    make_user: Callable[..., User], builtin_content: None, now: datetime
) -> Callable[..., PatientBundle]:
    def make(
        *,
        therapist: User | None = None,
        name: str | None = None,
        timezone: str = "Europe/London",
        stage: int | None = 1,
        start_days_ago: int = 0,
        sessions_per_week: int | None = None,
        password: str | None = PASSWORD,
        intake_pain: int | None = 5,
        intake_red_flags: dict[str, bool] | None = None,
    ) -> PatientBundle:
        therapist = therapist or make_user(Role.THERAPIST)
        email = f"patient-{uuid.uuid4().hex[:8]}@example.org"
        invited = invite_patient(
            therapist.clinic,
            NewPatient(
                name=name or f"Patient {uuid.uuid4().hex[:4]}",
                timezone=timezone,
                email=email,
                intake_pain=intake_pain,
                intake_red_flags=intake_red_flags or {},
            ),
            by=therapist,
            now=now - timedelta(days=start_days_ago, minutes=5),
        )
        patient, token = invited.patient, invited.token
        if password:
            from app.auth.passwords import hash_password

            # As if the invitation had been accepted: the address is confirmed, a password set.
            patient.user.email = email
            patient.user.password_hash = hash_password(password)
        program = None
        if stage is not None:
            program = assign_program(
                patient,
                Assignment(
                    template=BUILTIN_TEMPLATE,
                    stage=stage,
                    sessions_per_week=sessions_per_week,
                    start_date=(now - timedelta(days=start_days_ago)).date()
                    if start_days_ago
                    else None,
                ),
                by=therapist,
                now=now - timedelta(days=start_days_ago, minutes=1),
            )
        db.session.commit()
        return PatientBundle(patient, patient.user, therapist, program, token)

    return make


def session_report(
    program: Program,
    *,
    completed_at: datetime,
    pain_before: int = 3,
    pain_after: int | None = 3,
    statuses: Sequence[str] | None = None,
    pain_during: int | None = None,
    client_id: str | None = None,
    **fields: object,
) -> SessionReport:
    """A session report for `program`: every item done (or the given statuses), 25 min long."""
    items = list(program.items)
    statuses = list(statuses) if statuses is not None else ["done"] * len(items)
    values: dict = {
        "id": client_id or str(uuid.uuid4()),
        "program_id": program.id,
        "completed_at": completed_at,
        "started_at": completed_at - timedelta(minutes=25),
        "pain_before": pain_before,
        "pain_after": pain_after,
        "exercises": tuple(
            ExerciseResult(item.id, status, pain_during=pain_during)
            for item, status in zip(items, statuses, strict=False)
        ),
    }
    values.update(fields)
    return SessionReport(**values)


def insert_history(bundle: PatientBundle, days: Iterable[int], pain: int) -> None:
    """Store sessions (every item done) and morning check-ins directly, without evaluating.

    A cheap long history: day k is program day k + 1, a session at 18:00 and a check-in at 08:00.
    """
    program = bundle.program
    assert program is not None
    start = program.start_date
    tz = bundle.patient.timezone
    items = list(program.items)
    rows: list = []
    for k in days:
        day = start + timedelta(days=k)
        done = at_local(day, 18, 0, tz)
        session = Session(
            patient_id=bundle.patient.id,
            program_id=program.id,
            client_id=str(uuid.uuid4()),
            started_at=done - timedelta(minutes=25),
            completed_at=done,
            local_date=day,
            stage=program.stage,
            pain_before=pain,
            pain_after=pain,
            peak_pain=pain,
            prescribed_items=len(items),
            completed_items=len(items),
            completed=True,
            light=Light.GREEN,
            light_provisional=False,
            payload_hash="0" * 64,
            created_at=done,
        )
        session.exercises = [
            SessionExercise(
                program_item_id=item.id,
                exercise_id=item.exercise_id,
                position=position,
                status=ItemStatus.DONE,
            )
            for position, item in enumerate(items, start=1)
        ]
        rows.append(session)
        morning = at_local(day, 8, 0, tz)
        rows.append(
            CheckIn(
                patient_id=bundle.patient.id,
                client_id=str(uuid.uuid4()),
                kind=CheckInKind.MORNING,
                recorded_at=morning,
                local_date=day,
                morning_pain=pain,
                red_flag_level=RedFlagLevel.NONE,
                payload_hash="0" * 64,
                created_at=morning,
            )
        )
    db.session.add_all(rows)
    db.session.commit()


# CLINICAL §5 table: each kind's severity, so a test alert looks like one the rules raise.
KIND_SEVERITY = {
    AlertKind.RED_FLAG_EMERGENCY: Severity.URGENT,
    AlertKind.RED_FLAG_URGENT: Severity.HIGH,
    AlertKind.RED_FLAG_PROMPT: Severity.MEDIUM,
    AlertKind.FLARE: Severity.HIGH,
    AlertKind.WORSENING: Severity.HIGH,
    AlertKind.PERSISTENT_PAIN: Severity.MEDIUM,
    AlertKind.NON_RESPONSE_6W: Severity.HIGH,
    AlertKind.LOW_ADHERENCE: Severity.LOW,
    AlertKind.READY_TO_PROGRESS: Severity.INFO,
}


def store_alert(
    bundle: PatientBundle,
    kind: AlertKind,
    severity: Severity | None = None,
    *,
    status: AlertStatus = AlertStatus.OPEN,
    snoozed_until: date | None = None,
    reason: str | None = None,
    evidence: dict | None = None,
    session_ids: list[int] | None = None,
    created_at: datetime | None = None,
    age: timedelta = timedelta(hours=1),
) -> Alert:
    """Store an alert as the engine would, without running the rules (what `make_alert` makes).

    A plain function too, for helpers outside a fixture.
    """
    when = created_at or utcnow() - age
    closed = status in (AlertStatus.RESOLVED, AlertStatus.SUPERSEDED)
    alert = Alert(
        patient_id=bundle.patient.id,
        clinic_id=bundle.patient.clinic_id,
        kind=kind,
        severity=severity or KIND_SEVERITY[kind],
        status=status,
        rule_id=f"CLINICAL-5/{kind.value}",
        rule_version="2026.1/2026.1",
        reason=reason or f"{kind.value} made by the test.",
        evidence=evidence or {},
        session_ids=session_ids or [],
        dedup_key=f"{bundle.patient.id}:{kind.value}",
        snoozed_until=snoozed_until,
        created_at=when,
        updated_at=when,
        resolved_at=when if closed else None,
    )
    db.session.add(alert)
    db.session.commit()
    return alert


@pytest.fixture
def make_alert() -> Callable[..., Alert]:
    """Store an alert as the engine would, without running the rules."""
    return store_alert


# ---------------------------------------------------------------------------- mail


class Inbox:
    """What a local SMTP server (aiosmtpd) received."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append(envelope)
        return "250 OK"

    def to(self, address: str) -> list[str]:
        """Return the texts of the messages sent to `address`."""
        return [m.content.decode() for m in self.messages if address in m.rcpt_tos]


@pytest.fixture
def smtp(app: Flask) -> Iterator[Inbox]:
    """Point the app's mail at a local SMTP server for the test."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    # A free port can be taken by another process before the server binds it: try another.
    for attempt in range(5):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        try:
            controller.start()
            break
        except OSError:
            if attempt == 4:
                raise
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    yield inbox
    app.config.update(MAIL_SERVER=None)
    controller.stop()


# ---------------------------------------------------------------------------- logins


CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


@pytest.fixture
def login(client: FlaskClient) -> Callable[..., FlaskClient]:
    """Log a user in through the real form; works with CSRF on or off."""

    def do(user: User, password: str = PASSWORD, test_client: FlaskClient | None = None):
        c = test_client or client
        page = c.get("/auth/login")
        data = {"email": user.email, "password": password}
        match = CSRF_INPUT.search(page.get_data(as_text=True))
        if match:
            data["csrf_token"] = match.group(1)
        response = c.post("/auth/login", data=data)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return c

    return do


# ---------------------------------------------------------------------------- query counts


@pytest.fixture
def count_queries() -> Callable[[], Iterator[list[str]]]:
    """Count the SQL statements run inside a `with count_queries() as queries:` block."""

    @contextmanager
    def counting() -> Iterator[list[str]]:
        statements: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
            if not statement.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE")):
                statements.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", record)

    return counting


# ---------------------------------------------------------------------------- live server


@dataclass
class LiveServer:
    url: str
    app: Flask
    _server: object
    _thread: threading.Thread

    def stop(self) -> None:
        """Stop serving and free the port, so a test can start again on the same one."""
        self._server.shutdown()  # type: ignore[attr-defined]
        self._server.server_close()  # type: ignore[attr-defined]
        self._thread.join(timeout=5)


def start_live_server(app: Flask, port: int = 0) -> LiveServer:
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return LiveServer(f"http://127.0.0.1:{server.port}", app, server, thread)


class Browser:
    """A cookie-keeping HTTP client for a live server; it records every status it gets."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        self.statuses: list[int] = []

    def call(
        self,
        path: str,
        data: bytes | None = None,
        json_body: object = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        """Send a request (POST when there is a body) and return its status and body."""
        headers = dict(headers or {})
        if json_body is not None:
            data = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base + path, data=data, headers=headers)
        try:
            with self.opener.open(request, timeout=60) as response:
                status, body = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read()
        self.statuses.append(status)
        return status, body

    def send(self, path: str, data: bytes | None = None, json_body: object = None) -> int:
        return self.call(path, data, json_body)[0]

    def csrf_token(self, path: str = "/") -> str:
        """Read the CSRF token from a page's csrf-token meta tag (DESIGN §4)."""
        _, page = self.call(path)
        match = re.search(rb'<meta name="csrf-token" content="([^"]+)"', page)
        assert match, f"no csrf-token meta tag on {path}"
        return match.group(1).decode()

    def form_post(self, path: str, fields: dict[str, str]) -> tuple[int, bytes]:
        """Open the page at `path` and post its form with `fields` (and its CSRF token)."""
        _, page = self.call(path)
        token = CSRF_INPUT.search(page.decode())
        data = {**fields, **({"csrf_token": token.group(1)} if token else {})}
        return self.call(path, data=urllib.parse.urlencode(data).encode())

    def log_in(self, email: str, password: str = PASSWORD) -> int:
        return self.form_post("/auth/login", {"email": email, "password": password})[0]


def in_parallel(*calls: Callable[[], object]) -> list[object]:
    """Run the calls at the same moment in threads and return their results in order."""
    results: list[object] = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(index: int, call: Callable[[], object]) -> None:
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    """Serve the app on a free port; links it makes (invitations, QR codes) point at it."""
    server = start_live_server(app)
    configured = app.config["PUBLIC_BASE_URL"]
    app.config["PUBLIC_BASE_URL"] = server.url
    yield server
    app.config["PUBLIC_BASE_URL"] = configured
    server.stop()


# ---------------------------------------------------------------------------- browsers

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def system_chromium() -> str | None:
    configured = os.environ.get("CHROMIUM_PATH")
    for candidate in (configured, *CHROMIUM_CANDIDATES):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict:
    """Launch Debian's Chromium; Playwright's own browser downloads are impossible here."""
    executable = system_chromium()
    if executable is None:
        skip_or_fail("no system Chromium found (apt-get install -y chromium)")
    return {
        "executable_path": executable,
        "args": CHROMIUM_ARGS,
        "headless": True,
        "env": {**os.environ, "HOME": tempfile.gettempdir()},
    }


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)

"""Commands: users create, content load, seed-demo."""

from datetime import UTC, datetime

import sqlalchemy as sa

from app.auth.models import User
from app.demo import DEMO_PASSWORD
from app.enums import OPEN_ALERT_STATUSES, AlertKind, ProgramStatus, RedFlagLevel, Role
from app.extensions import db
from app.models import Alert, AuditEvent, CheckIn, Exercise, Patient, Program, Session


def run(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    db.session.rollback()
    return result


def table_counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def test_users_create_makes_an_admin_who_can_log_in(app, client):
    result = run(
        app,
        "users",
        "create",
        "--role",
        "admin",
        "--email",
        "Boss@Example.org",
        "--password",
        "a good long password",
        "--clinic",
        "North Clinic",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.email == "boss@example.org"))
    assert user.role is Role.ADMIN
    assert user.clinic.name == "North Clinic"
    login = client.post(
        "/auth/login", data={"email": "boss@example.org", "password": "a good long password"}
    )
    assert login.status_code == 302


def test_users_create_without_password_prints_an_invitation_link(app):
    result = run(app, "users", "create", "--role", "therapist", "--email", "t@example.org")
    assert result.exit_code == 0, result.output
    assert "/auth/invite/" in result.output
    # The same invitation as the admin page's, audited like it (issue 8).
    issued = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.action == "invitation.issue")
    ).all()
    assert issued == ["invitation.issue"]


def test_users_create_patient_needs_a_therapist_of_that_clinic(app, builtin_content):
    run(
        app,
        "users",
        "create",
        "--role",
        "therapist",
        "--email",
        "t@example.org",
        "--password",
        "a good long password",
        "--clinic",
        "C1",
    )
    missing = run(
        app, "users", "create", "--role", "patient", "--email", "p@example.org", "--clinic", "C1"
    )
    assert missing.exit_code != 0
    assert "--therapist" in missing.output
    bad_tz = run(
        app,
        "users",
        "create",
        "--role",
        "patient",
        "--email",
        "p@example.org",
        "--clinic",
        "C1",
        "--therapist",
        "t@example.org",
        "--timezone",
        "Mars/Base",
    )
    assert bad_tz.exit_code != 0
    assert "Unknown timezone" in bad_tz.output
    ok = run(
        app,
        "users",
        "create",
        "--role",
        "patient",
        "--email",
        "p@example.org",
        "--clinic",
        "C1",
        "--therapist",
        "t@example.org",
        "--timezone",
        "Europe/Berlin",
        "--password",
        "a good long password",
    )
    assert ok.exit_code == 0, ok.output
    patient = db.session.scalar(
        sa.select(Patient)
        .join(User, User.id == Patient.user_id)
        .where(User.email == "p@example.org")
    )
    assert patient.timezone == "Europe/Berlin"
    assert patient.therapist.email == "t@example.org"


def test_users_create_refuses_a_duplicate_email_and_adds_nothing(app):
    run(
        app,
        "users",
        "create",
        "--role",
        "admin",
        "--email",
        "a@example.org",
        "--password",
        "a good long password",
    )
    before = table_counts()
    again = run(
        app,
        "users",
        "create",
        "--role",
        "admin",
        "--email",
        "a@example.org",
        "--password",
        "a good long password",
    )
    assert again.exit_code != 0
    assert "already exists" in again.output
    assert table_counts() == before


def test_content_load_is_idempotent(app):
    first = run(app, "content", "load")
    count = db.session.scalar(sa.select(sa.func.count(Exercise.id)))
    second = run(app, "content", "load")
    assert first.exit_code == second.exit_code == 0
    assert count >= 24
    assert db.session.scalar(sa.select(sa.func.count(Exercise.id))) == count
    assert "0 created, 0 updated" in second.output


def test_seed_demo_builds_a_clinic_with_varied_histories_and_is_idempotent(
    app, client, time_machine
):
    # Late in the day, when a day-0 persona's session time has passed: the patient who has not
    # accepted the invitation still has nothing logged (this failed after 17:00 in London).
    time_machine.move_to(datetime(2026, 11, 30, 23, 0, tzinfo=UTC), tick=True)
    result = run(app, "seed-demo")
    assert result.exit_code == 0, result.output
    for email in ("admin@example.com", "alex@example.com", "maria@example.com"):
        assert email in result.output
    assert DEMO_PASSWORD in result.output
    counts = table_counts()

    roles = dict(
        db.session.execute(sa.select(User.role, sa.func.count()).group_by(User.role)).all()
    )
    assert roles[Role.ADMIN] == 1
    assert roles[Role.THERAPIST] == 2
    assert roles[Role.PATIENT] >= 12
    # Most patients have 6+ weeks of history; one is brand new with nothing logged.
    spans = db.session.execute(
        sa.select(
            Session.patient_id, sa.func.min(Session.local_date), sa.func.max(Session.local_date)
        ).group_by(Session.patient_id)
    ).all()
    long_histories = [p for p, first, last in spans if (last - first).days >= 38]
    assert len(long_histories) >= 8
    without_sessions = db.session.scalar(
        sa.select(sa.func.count(Patient.id)).where(~Patient.id.in_(sa.select(Session.patient_id)))
    )
    assert without_sessions == 1
    # The histories include the situations the alerts are for.
    statuses = set(db.session.scalars(sa.select(Program.status)))
    assert {ProgramStatus.ACTIVE, ProgramStatus.SUSPENDED, ProgramStatus.PAUSED} <= statuses
    levels = set(db.session.scalars(sa.select(CheckIn.red_flag_level)))
    assert {RedFlagLevel.EMERGENCY, RedFlagLevel.URGENT, RedFlagLevel.PROMPT} <= levels
    lights = set(db.session.scalars(sa.select(Session.light)))
    assert {"green", "amber", "red"} <= {str(light) for light in lights}
    # The engine, not the seed, raised an alert of every kind from those histories.
    open_kinds = set(
        db.session.scalars(sa.select(Alert.kind).where(Alert.status.in_(OPEN_ALERT_STATUSES)))
    )
    assert open_kinds == set(AlertKind)

    again = run(app, "seed-demo")
    assert again.exit_code == 0
    assert "nothing changed" in again.output
    assert table_counts() == counts

    for email in ("admin@example.com", "alex@example.com", "maria@example.com"):
        response = client.post("/auth/login", data={"email": email, "password": DEMO_PASSWORD})
        assert response.status_code == 302, email
        client.post("/auth/logout")


def test_seed_demo_if_empty_leaves_a_database_with_users_alone(app):
    run(
        app,
        "users",
        "create",
        "--role",
        "admin",
        "--email",
        "a@example.org",
        "--password",
        "a good long password",
    )
    result = run(app, "seed-demo", "--if-empty")
    assert result.exit_code == 0
    assert "not empty" in result.output
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1


def test_reminders_vapid_keys_prints_a_matching_pair_for_the_environment(app):
    from app.reminders.push import public_key_from_private

    result = app.test_cli_runner().invoke(args=["reminders", "vapid-keys"])
    assert result.exit_code == 0, result.output
    values = dict(line.split("=", 1) for line in result.output.splitlines())
    assert set(values) == {"VAPID_PRIVATE_KEY", "VAPID_PUBLIC_KEY"}
    assert public_key_from_private(values["VAPID_PRIVATE_KEY"]) == values["VAPID_PUBLIC_KEY"]

"""Flask commands (DESIGN §4): users create, seed-demo, content load, alerts, reminders."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup

from app.auth.models import Clinic, User
from app.auth.services import create_user, get_or_create_clinic, normalise_email
from app.db import sqlite_immediate, utcnow
from app.enums import Role
from app.errors import ValidationFailed
from app.extensions import db
from app.links import invitation_url
from app.timeutil import is_timezone

users = AppGroup("users", help="Manage accounts.")
alerts = AppGroup("alerts", help="Evaluate the alert rules.")
content = AppGroup("content", help="Manage the built-in exercise content.")
reminders = AppGroup("reminders", help="Send session reminders.")

DEFAULT_CLINIC = "Homestretch Clinic"


def writes(command: Callable[..., None]) -> Callable[..., None]:
    """Run a command's transactions with SQLite's write lock taken up front (STACK)."""

    @functools.wraps(command)
    def wrapped(*args: Any, **kwargs: Any) -> None:
        with sqlite_immediate():
            command(*args, **kwargs)

    return wrapped


def _fail(message: str) -> None:
    db.session.rollback()
    raise click.ClickException(message)


@users.command("create")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--email", required=True, help="Login email.")
@click.option("--password", help="Leave out to print an invitation link instead.")
@click.option("--name", help="Display name (default: the part of the email before @).")
@click.option("--clinic", "clinic_name", default=DEFAULT_CLINIC, show_default=True)
@click.option("--therapist", "therapist_email", help="For patients: their therapist's email.")
@click.option("--timezone", default=None, help="For patients: IANA timezone.")
@writes
def create_user_command(
    role: str,
    email: str,
    password: str | None,
    name: str | None,
    clinic_name: str,
    therapist_email: str | None,
    timezone: str | None,
) -> None:
    """Create an admin, a therapist or a patient."""
    from app.auth.services import (
        Acceptance,
        accept_invitation,
        find_invitation,
        invite_therapist,
        issue_invitation,
    )
    from app.patient.enrolment import NewPatient, invite_patient

    now = utcnow()
    role_enum = Role(role)
    display_name = name or email.split("@", 1)[0]
    try:
        if role_enum is Role.PATIENT:
            clinic = db.session.scalar(sa.select(Clinic).where(Clinic.name == clinic_name))
            if clinic is None:
                _fail(f"There is no clinic called {clinic_name!r}; create its therapist first.")
            if not therapist_email:
                _fail("A patient needs --therapist EMAIL.")
            tz = timezone or current_app.config["DEFAULT_TIMEZONE"]
            if not is_timezone(tz):
                _fail(f"Unknown timezone {tz!r}; use an IANA name such as Europe/London.")
            invited = invite_patient(
                clinic,
                NewPatient(
                    name=display_name, timezone=tz, email=email, therapist_email=therapist_email
                ),
                by=None,
                now=now,
            )
            token: str | None = invited.token
            if password:
                invitation = find_invitation(invited.token, now)
                assert invitation is not None
                accept_invitation(invitation, Acceptance(password=password), now)
                token = None
        elif role_enum is Role.THERAPIST and not password:
            # The same invitation as the admin page's: mailed and audited (issue 8).
            clinic = get_or_create_clinic(clinic_name, now)
            token = invite_therapist(clinic, name=display_name, email=email, by=None, now=now).token
        else:
            clinic = get_or_create_clinic(clinic_name, now)
            user = create_user(
                clinic=clinic,
                role=role_enum,
                name=display_name,
                email=email,
                password=password,
                now=now,
            )
            token = None
            if not password:
                user = db.session.scalar(
                    sa.select(User).where(User.email == normalise_email(email))
                )
                token = issue_invitation(user, created_by=None, now=now)
    except ValidationFailed as exc:
        _fail("; ".join(f"{field}: {message}" for field, message in exc.errors.items()))
    db.session.commit()
    click.echo(f"Created {role} {normalise_email(email)} in {clinic_name!r}.")
    if token:
        click.echo(
            f"Invitation link (valid {current_app.config['INVITATION_HOURS']} h): "
            f"{invitation_url(token)}"
        )


@content.command("load")
@writes
def load_content_command() -> None:
    """Load or update the built-in staged exercise content (safe to repeat)."""
    from app.programs.content import load_builtin_content

    report = load_builtin_content(utcnow())
    db.session.commit()
    click.echo(f"Built-in content: {report.created} created, {report.updated} updated.")


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Only seed a database that has no users yet.")
@writes
def seed_demo_command(if_empty: bool) -> None:
    """Create the demo clinic with realistic histories (does nothing if it exists)."""
    from app.demo import DEMO_PASSWORD, seed_demo

    if if_empty and db.session.scalar(sa.select(User.id).limit(1)) is not None:
        click.echo("The database is not empty; the demo clinic was not added.")
        return
    result = seed_demo(utcnow())
    db.session.commit()
    if result.created:
        click.echo(
            f"Demo clinic created: {result.patients} patients, {result.sessions} sessions, "
            f"{result.check_ins} check-ins."
        )
    else:
        click.echo("Demo clinic already exists; nothing changed.")
    click.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for role, email in result.logins:
        click.echo(f"  {role:<10} {email}")
    if result.invitation_token:
        click.echo(f"  new patient's invitation: {invitation_url(result.invitation_token)}")


@alerts.command("sweep")
@writes
def sweep_command() -> None:
    """Evaluate every active patient now (safe to run concurrently and repeatedly)."""
    import time

    from app.alerts.engine import sweep
    from app.alerts.notify import send_at_once

    started = time.perf_counter()
    outcome = sweep(utcnow())
    seconds = time.perf_counter() - started
    sent = send_at_once(utcnow())
    db.session.commit()
    click.echo(
        f"Evaluated {outcome.patients} patients in {seconds:.1f} s: "
        f"{len(outcome.created)} new alerts, {len(outcome.refreshed)} refreshed, "
        f"{len(outcome.superseded)} superseded, {len(outcome.cleared)} cleared; "
        f"{sent} emails sent."
    )


@alerts.command("digest")
@writes
def digest_command() -> None:
    """Email each therapist a digest of new medium, low and info alerts (run daily)."""
    from app.alerts.notify import send_digest

    sent = send_digest(utcnow())
    db.session.commit()
    click.echo(f"{sent} digest emails sent.")


@reminders.command("send")
@click.option(
    "--batch",
    default=500,
    show_default=True,
    type=click.IntRange(1, 5000),
    help="Patients loaded and claimed per transaction.",
)
@writes
def send_reminders_command(batch: int) -> None:
    """Send due session reminders and follow-ups (run every 15 minutes; safe to overlap).

    Each reminder is claimed by a unique row (patient, local day, kind) and the claim is
    committed before anything is sent, so a second or concurrent run never sends it again.
    """
    from app.reminders.services import SendReport, claim_due, deliver_claimed, reminder_patient_ids

    ids = reminder_patient_ids()
    db.session.commit()
    report = SendReport(patients=len(ids))
    for start in range(0, len(ids), batch):
        claimed = claim_due(ids[start : start + batch], utcnow())
        db.session.commit()  # the claims are in: from here no other run sends these
        report.merge(deliver_claimed(claimed))
        db.session.commit()  # what was delivered, and push subscriptions that are gone
    kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(report.by_kind.items()))
    click.echo(
        f"Checked {report.patients} patients: {report.sent} reminders sent"
        f"{f' ({kinds})' if kinds else ''}, {report.failed} could not be delivered, "
        f"{report.removed_subscriptions} expired push subscriptions removed."
    )


@reminders.command("vapid-keys")
def vapid_keys_command() -> None:
    """Print a new VAPID key pair for Web Push (set both in production's environment)."""
    from app.reminders.push import generate_vapid_keys

    private, public = generate_vapid_keys()
    click.echo(f"VAPID_PRIVATE_KEY={private}")
    click.echo(f"VAPID_PUBLIC_KEY={public}")


def backup_command(directory: str | None) -> None:
    """Write a timestamped backup of the database (SQLite VACUUM INTO, or pg_dump)."""
    from pathlib import Path

    from app.backup import BackupError, backup_database

    target = Path(directory) if directory else Path(current_app.instance_path) / "backups"
    try:
        path = backup_database(target, utcnow())
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    from app import audit

    # A copy of every patient's data left the database: that is a read the log keeps.
    audit.record("database.backup", object_type="backup")
    db.session.commit()
    click.echo(f"Backup written to {path}")


def init_app(app: Flask) -> None:
    from flask_migrate.cli import db as db_commands

    db_commands.command("backup")(
        click.option("--to", "directory", help="Folder for the file (default: instance/backups).")(
            backup_command
        )
    )
    app.cli.add_command(users)
    app.cli.add_command(alerts)
    app.cli.add_command(content)
    app.cli.add_command(reminders)
    app.cli.add_command(seed_demo_command)

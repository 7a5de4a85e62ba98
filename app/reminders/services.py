"""Reminder settings, push subscriptions, one-click unsubscribe, and sending due reminders.

The API, the patient's pages and ``flask reminders send`` all go through these functions; the
rules of *when* a reminder is due are pure and live in ``app.reminders.schedule``.

Sending is two steps so that no reminder ever goes out twice (issue 12): ``claim_due`` inserts
one row per patient, local day and kind — ``INSERT … ON CONFLICT DO NOTHING RETURNING`` keeps
only the rows this run won — and the caller commits; only then does ``deliver_claimed`` send,
and the caller commits what the notifiers answered. A crash between the two loses a reminder
rather than doubling one; two overlapping runs send each reminder once, on SQLite (the write
lock queues them) and on PostgreSQL (the unique index decides).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.exc import IntegrityError

from app import audit
from app.assessment.timeline import program_calendars
from app.auth.models import Clinic, User
from app.db import utcnow
from app.enums import ProgramStatus
from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.i18n import force_locale, language_of
from app.inputs import DB_INT_MAX
from app.links import external_url
from app.patient.models import Patient, Session
from app.programs.models import Program
from app.programs.queries import current_program
from app.reminders.models import PushSubscription, ReminderSettings, SentReminder
from app.reminders.notifiers import (
    EMAIL,
    PUSH,
    Notice,
    PushTarget,
    Recipient,
    deliver,
    reachable,
)
from app.reminders.push import validate_subscription
from app.reminders.schedule import (
    DEFAULT_TIME,
    LATEST_SEND_TIME,
    QUIET_UNTIL,
    DueReminder,
    ReminderInput,
    ReminderKind,
    due_reminders,
)
from app.reminders.vapid import allow_local_endpoints, vapid_settings
from app.timeutil import local_date

BATCH = 500
UNSUBSCRIBE_SALT = "homestretch.reminders.unsubscribe"


# ---------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class ReminderView:
    """A patient's reminder settings as the API and the settings page show them.

    ``days`` are the program's weekdays while ``follows_program``; ``channels`` are those that
    can reach the patient now (email needs an address and no unsubscribe, push a subscription).
    """

    enabled: bool
    days: tuple[int, ...]
    follows_program: bool
    time: time
    channels: tuple[str, ...]
    has_email: bool
    email_unsubscribed: bool
    push_devices: int


def _settings(patient: Patient) -> ReminderSettings | None:
    return db.session.get(ReminderSettings, patient.id)


def _program_weekdays(patient: Patient) -> tuple[int, ...]:
    program = current_program(patient)
    return tuple(sorted(program.weekdays or ())) if program else ()


def _push_count(patient: Patient) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(PushSubscription.id)).where(
            PushSubscription.patient_id == patient.id
        )
    )


def effective_channels(
    chosen: Sequence[str] | None, *, has_email: bool, unsubscribed: bool, push_devices: int
) -> tuple[str, ...]:
    """Return the channels a patient's reminders go by (DESIGN §4 default: all that reach)."""
    wanted = (EMAIL, PUSH) if chosen is None else tuple(chosen)
    channels = []
    if EMAIL in wanted and has_email and not unsubscribed:
        channels.append(EMAIL)
    if PUSH in wanted and push_devices:
        channels.append(PUSH)
    return tuple(channels)


def reminder_view(patient: Patient) -> ReminderView:
    """Return the patient's reminder settings, with the defaults where they chose nothing."""
    settings = _settings(patient)
    devices = _push_count(patient)
    has_email = bool(patient.user.email)
    unsubscribed = settings is not None and settings.email_unsubscribed_at is not None
    follows = settings is None or settings.days is None
    return ReminderView(
        enabled=settings.enabled if settings is not None else True,
        days=_program_weekdays(patient) if follows else tuple(settings.days or ()),
        follows_program=follows,
        time=settings.local_time if settings is not None else DEFAULT_TIME,
        channels=effective_channels(
            settings.channels if settings is not None else None,
            has_email=has_email,
            unsubscribed=unsubscribed,
            push_devices=devices,
        ),
        has_email=has_email,
        email_unsubscribed=unsubscribed,
        push_devices=devices,
    )


UNSET: Any = object()


@dataclass(frozen=True)
class ReminderChange:
    """What the patient changes; fields left UNSET keep their value.

    ``days`` None means "follow the program's weekdays"; days equal to the program's weekdays
    also keep following them, so a schedule change moves the reminders too.
    """

    enabled: Any = UNSET
    days: Any = UNSET
    time: Any = UNSET
    channels: Any = UNSET


def _settings_for_update(patient: Patient, now: datetime) -> ReminderSettings:
    """Return the patient's settings row, creating it (once, even under concurrent requests)."""
    settings = _settings(patient)
    if settings is not None:
        return settings
    settings = ReminderSettings(patient_id=patient.id, created_at=now, updated_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(settings)
            db.session.flush()
    except IntegrityError:
        # A concurrent request (a second one-click POST, say) created it first: use that one.
        stored = db.session.get(ReminderSettings, patient.id)
        if stored is None:
            raise
        return stored
    return settings


def check_time(value: time) -> str | None:
    """Return why a reminder time is refused (quiet hours), or None."""
    if not QUIET_UNTIL <= value <= LATEST_SEND_TIME:
        return _(
            "Choose a time from %(earliest)s to %(latest)s: no reminder is sent at night.",
            earliest=QUIET_UNTIL.strftime("%H:%M"),
            latest=LATEST_SEND_TIME.strftime("%H:%M"),
        )
    return None


def update_reminders(patient: Patient, change: ReminderChange, *, now: datetime) -> ReminderView:
    """Change a patient's reminder settings; refuse bad values (nothing changes) with reasons."""
    current = reminder_view(patient)
    errors: dict[str, str] = {}
    days = change.days
    if days is not UNSET and days is not None:
        if any(isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 6 for d in days):
            errors["days"] = _("Days are numbers from 0 (Monday) to 6 (Sunday).")
        elif not days:
            errors["days"] = _("Pick at least one day, or turn reminders off.")
        else:
            days = sorted(set(days))
    if change.time is not UNSET and (message := check_time(change.time)):
        errors["time"] = message
    channels = change.channels
    if channels is not UNSET:
        channels = [c for c in (EMAIL, PUSH) if c in set(channels)]
        if EMAIL in channels and not current.has_email:
            errors["channels"] = _(
                "Your account has no email address; ask your clinic to add one, or use phone "
                "notifications."
            )
        elif PUSH in channels and not current.push_devices:
            errors["channels"] = _("Allow notifications on this phone first, then choose them.")
    enabled = current.enabled if change.enabled is UNSET else bool(change.enabled)
    if enabled and channels is not UNSET and not channels and "channels" not in errors:
        errors["channels"] = _("Choose email or phone notifications, or turn reminders off.")
    if errors:
        raise ValidationFailed(errors)

    settings = _settings_for_update(patient, now)
    settings.enabled = enabled
    if days is not UNSET:
        following = days is None or (
            current.follows_program and tuple(days) == _program_weekdays(patient)
        )
        settings.days = None if following else list(days)
    if change.time is not UNSET:
        settings.local_time = change.time.replace(second=0, microsecond=0)
    if channels is not UNSET:
        settings.channels = list(channels)
        if EMAIL in channels:
            settings.email_unsubscribed_at = None  # choosing email again is opting back in
    settings.updated_at = now
    db.session.flush()
    audit.record(
        "reminders.update",
        actor=patient.user,
        patient=patient,
        object_type="reminder_settings",
        object_id=patient.id,
        details={"enabled": settings.enabled},
        now=now,
    )
    return reminder_view(patient)


# ---------------------------------------------------------------------------- push subscriptions


def subscribe_push(
    patient: Patient, subscription: Mapping[str, Any], *, now: datetime
) -> tuple[PushSubscription, bool]:
    """Store a browser's subscription; return it and whether it is new for this patient.

    The same endpoint again is the same subscription (its keys are refreshed); an endpoint a
    previous login on the same browser stored moves to this patient. Subscribing turns push on
    for the patient's reminders.
    """
    if vapid_settings() is None:
        raise NotFound(_("Phone notifications are not set up on this server."))
    problem = validate_subscription(subscription, allow_local=allow_local_endpoints())
    if problem:
        if problem.startswith(("keys.p256dh", "keys.auth")):
            field_name = problem.split(" ", 1)[0]
        else:
            field_name = "keys" if "no keys" in problem else "endpoint"
        # The field message stays the technical English of push.validate_subscription (the
        # browser's subscription is at fault, not anything the patient typed).
        raise ValidationFailed({field_name: problem[0].upper() + problem[1:] + "."})
    endpoint = subscription["endpoint"]
    keys = subscription["keys"]
    existing = db.session.scalar(
        sa.select(PushSubscription).where(PushSubscription.endpoint == endpoint)
    )
    created = existing is None or existing.patient_id != patient.id
    if existing is None:
        existing = PushSubscription(
            patient_id=patient.id,
            endpoint=endpoint,
            p256dh=keys["p256dh"],
            auth=keys["auth"],
            created_at=now,
        )
        try:
            with db.session.begin_nested():
                db.session.add(existing)
                db.session.flush()
        except IntegrityError:
            # A concurrent request stored the same endpoint first: update that one.
            existing = db.session.scalar(
                sa.select(PushSubscription).where(PushSubscription.endpoint == endpoint)
            )
            if existing is None:
                raise
            created = existing.patient_id != patient.id
    if existing.patient_id != patient.id:
        existing.created_at = now
    existing.patient_id = patient.id
    existing.p256dh, existing.auth = keys["p256dh"], keys["auth"]
    settings = _settings(patient)
    if settings is not None and settings.channels is not None and PUSH not in settings.channels:
        settings.channels = [*settings.channels, PUSH]
        settings.updated_at = now
    db.session.flush()
    return existing, created


def unsubscribe_push(patient: Patient, endpoint: str) -> bool:
    """Forget one of the patient's subscriptions; say whether there was one."""
    deleted = db.session.execute(
        sa.delete(PushSubscription).where(
            PushSubscription.patient_id == patient.id, PushSubscription.endpoint == endpoint
        )
    )
    return bool(deleted.rowcount)


def push_targets(patient_ids: Sequence[int]) -> dict[int, tuple[PushTarget, ...]]:
    """Return every subscription of these patients, as plain data, in one query."""
    targets: dict[int, list[PushTarget]] = defaultdict(list)
    if not patient_ids:
        return {}
    for row in db.session.execute(
        sa.select(
            PushSubscription.id,
            PushSubscription.patient_id,
            PushSubscription.endpoint,
            PushSubscription.p256dh,
            PushSubscription.auth,
        )
        .where(PushSubscription.patient_id.in_(patient_ids))
        .order_by(PushSubscription.id)
    ):
        targets[row.patient_id].append(PushTarget(row.id, row.endpoint, row.p256dh, row.auth))
    return {patient_id: tuple(rows) for patient_id, rows in targets.items()}


def record_push_outcome(gone: Sequence[int], reached: Sequence[int], now: datetime) -> None:
    """Remove the subscriptions a push service called gone (404/410); note the ones reached."""
    if gone:
        db.session.execute(sa.delete(PushSubscription).where(PushSubscription.id.in_(gone)))
    if reached:
        db.session.execute(
            sa.update(PushSubscription)
            .where(PushSubscription.id.in_(reached))
            .values(last_sent_at=now)
        )


# ---------------------------------------------------------------------------- unsubscribe


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(patient_id: int) -> str:
    """Return the signed token of a patient's one-click unsubscribe link (no login needed)."""
    return _serializer().dumps({"p": patient_id})


def unsubscribe_url(patient_id: int) -> str:
    return external_url("reminders.unsubscribe", token=unsubscribe_token(patient_id))


def patient_for_token(token: str) -> Patient | None:
    """Return the patient a signed unsubscribe token names, or None for any other string."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    patient_id = data.get("p") if isinstance(data, dict) else None
    if isinstance(patient_id, bool) or not isinstance(patient_id, int) or patient_id < 1:
        return None
    if patient_id > DB_INT_MAX:
        return None
    return db.session.get(Patient, patient_id)


def unsubscribe_email(patient: Patient, *, now: datetime) -> bool:
    """Stop the reminder and message emails of a patient; say whether anything changed."""
    settings = _settings_for_update(patient, now)
    if settings.email_unsubscribed_at is not None:
        return False
    settings.email_unsubscribed_at = now
    settings.updated_at = now
    db.session.flush()
    audit.record(
        "reminders.unsubscribe",
        patient=patient,
        object_type="reminder_settings",
        object_id=patient.id,
        details={"channel": EMAIL},
        now=now,
    )
    return True


# ---------------------------------------------------------------------------- notices


def reminder_notice(kind: ReminderKind, ttl: int) -> Notice:
    """Return what a reminder says: that the exercises are ready, never which or why.

    In the current locale: callers build it inside ``force_locale`` of the patient's language.
    """
    reason = _("You get this email because reminders are on in Homestretch.")
    if kind is ReminderKind.FOLLOW_UP:
        # CLINICAL §5 LOW_ADHERENCE: the patient's "gentle nudge" is this follow-up.
        return Notice(
            kind=kind.value,
            subject=_("Your exercises are ready when you are"),
            title="Homestretch",
            text=_("Your exercises are ready when you are. A short session today still counts."),
            path="/today",
            link_label=_("Open today's exercises"),
            reason=reason,
            ttl=ttl,
        )
    return Notice(
        kind=kind.value,
        subject=_("Your exercises for today are ready"),
        title="Homestretch",
        text=_("Your exercises for today are ready."),
        path="/today",
        link_label=_("Open today's exercises"),
        reason=reason,
        ttl=ttl,
    )


# ---------------------------------------------------------------------------- sending


def _reminded(query: sa.Select) -> sa.Select:
    """Limit a select on Patient to those who may get reminders: an active program, an account
    in use, not archived (with their reminder settings joined, if any)."""
    return (
        query.join(User, User.id == Patient.user_id)
        .join(
            Program,
            sa.and_(Program.patient_id == Patient.id, Program.status == ProgramStatus.ACTIVE),
        )
        .outerjoin(ReminderSettings, ReminderSettings.patient_id == Patient.id)
        .where(
            Patient.archived_at.is_(None),
            User.is_active.is_(True),
            User.password_hash.is_not(None),
        )
        .order_by(Patient.id)
    )


def reminder_patient_ids() -> list[int]:
    """Patients who may get reminders and have not turned them off."""
    return list(
        db.session.scalars(
            _reminded(sa.select(Patient.id)).where(
                sa.or_(ReminderSettings.enabled.is_(None), ReminderSettings.enabled.is_(True))
            )
        )
    )


@dataclass(frozen=True)
class Claimed:
    """A reminder this run won the right to send (its row is in), as plain data."""

    row_id: int
    reminder: DueReminder
    recipient: Recipient


@dataclass
class SendReport:
    """What one run did, for the command's summary line."""

    patients: int = 0
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    by_kind: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    removed_subscriptions: int = 0

    def merge(self, other: SendReport) -> None:
        self.patients += other.patients
        self.claimed += other.claimed
        self.sent += other.sent
        self.failed += other.failed
        self.removed_subscriptions += other.removed_subscriptions
        for kind, count in other.by_kind.items():
            self.by_kind[kind] += count


def _load(ids: Sequence[int], now: datetime) -> tuple[list[ReminderInput], dict[int, Recipient]]:
    """Load the facts the pure rules read for a batch of patients, in six queries."""
    rows = db.session.execute(
        _reminded(
            sa.select(
                Patient.id,
                Patient.timezone,
                Patient.language,
                User.email,
                Clinic.name.label("clinic"),
                Program.id.label("program_id"),
                Program.start_date,
                ReminderSettings.enabled,
                ReminderSettings.days,
                ReminderSettings.local_time,
                ReminderSettings.channels,
                ReminderSettings.email_unsubscribed_at,
            )
        )
        .join(Clinic, Clinic.id == Patient.clinic_id)
        .where(Patient.id.in_(ids))
    ).all()
    if not rows:
        return [], {}
    todays = {row.id: local_date(now, row.timezone) for row in rows}
    since = min(todays.values()) - timedelta(days=1)
    patient_ids = [row.id for row in rows]
    owner = {row.program_id: row.id for row in rows}

    schedules, statuses = program_calendars(owner)
    session_dates: dict[int, set] = defaultdict(set)
    for row in db.session.execute(
        sa.select(Session.patient_id, Session.local_date)
        .where(Session.patient_id.in_(patient_ids), Session.local_date >= since)
        .distinct()
    ):
        session_dates[row.patient_id].add(row.local_date)
    sent: dict[int, set] = defaultdict(set)
    for row in db.session.execute(
        sa.select(SentReminder.patient_id, SentReminder.local_date, SentReminder.kind).where(
            SentReminder.patient_id.in_(patient_ids), SentReminder.local_date >= since
        )
    ):
        sent[row.patient_id].add((row.local_date, row.kind))
    targets = push_targets(patient_ids)

    base_url = current_app.config["PUBLIC_BASE_URL"]
    settings_url = external_url("reminders.settings")
    # One URL built, then a token per patient (no request context per patient in a batch).
    unsubscribe_base = external_url("reminders.unsubscribe", token="TOKEN").rsplit("TOKEN", 1)[0]
    inputs: list[ReminderInput] = []
    recipients: dict[int, Recipient] = {}
    for row in rows:
        unsubscribed = row.email_unsubscribed_at is not None
        recipient = Recipient(
            patient_id=row.id,
            clinic=row.clinic,
            base_url=base_url,
            email=row.email if row.email and not unsubscribed else None,
            push=targets.get(row.id, ()),
            unsubscribe_url=unsubscribe_base + unsubscribe_token(row.id),
            settings_url=settings_url,
            language=language_of(row),
        )
        chosen = effective_channels(
            row.channels,
            has_email=bool(row.email),
            unsubscribed=unsubscribed,
            push_devices=len(recipient.push),
        )
        recipients[row.id] = recipient
        inputs.append(
            ReminderInput(
                patient_id=row.id,
                timezone=row.timezone,
                schedule=tuple(schedules[row.id]),
                statuses=tuple(statuses[row.id]),
                program_start=row.start_date,
                enabled=row.enabled if row.enabled is not None else True,
                days=tuple(row.days) if row.days is not None else None,
                time=row.local_time or DEFAULT_TIME,
                # Only channels that can reach the patient now: none, and nothing is due.
                channels=reachable(recipient, chosen),
                session_dates=frozenset(session_dates[row.id]),
                sent=frozenset(sent[row.id]),
            )
        )
    return inputs, recipients


def _insert_claims(values: list[dict[str, Any]]) -> list[sa.Row]:
    """INSERT the rows, skipping those another run holds; return the ones inserted."""
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = (
        insert(SentReminder)
        .values(values)
        .on_conflict_do_nothing(index_elements=["patient_id", "local_date", "kind"])
        .returning(SentReminder.id, SentReminder.patient_id, SentReminder.kind)
    )
    return list(db.session.execute(statement))


def claim_due(patient_ids: Sequence[int], now: datetime) -> list[Claimed]:
    """Find the reminders due at ``now`` for these patients and claim each one once.

    The caller commits before delivering (``deliver_claimed``): the committed row is what
    stops every other run — and this one, if it is run again — from sending it a second time.
    """
    inputs, recipients = _load(patient_ids, now)
    due = due_reminders(inputs, now)
    if not due:
        return []
    won = _insert_claims(
        [
            {
                "patient_id": reminder.patient_id,
                "local_date": reminder.local_date,
                "kind": reminder.kind,
                "created_at": now,
                "channels": [],
            }
            for reminder in due
        ]
    )
    by_key = {(row.patient_id, ReminderKind(row.kind)): row.id for row in won}
    return [
        Claimed(by_key[(r.patient_id, r.kind)], r, recipients[r.patient_id])
        for r in due
        if (r.patient_id, r.kind) in by_key
    ]


def deliver_claimed(claimed: Sequence[Claimed], now: datetime | None = None) -> SendReport:
    """Send each claimed reminder on its channels, then record what happened (caller commits).

    Reads nothing from the database while it talks to mail and push services, so a slow
    service never holds a lock.
    """
    report = SendReport(claimed=len(claimed))
    results: list[dict[str, Any]] = []
    gone: list[int] = []
    reached: list[int] = []
    for claim in claimed:
        instant = utcnow()
        ttl = int((claim.reminder.send_until - instant).total_seconds())
        # The patient's language, also from the command line (no browser asks there).
        with force_locale(claim.recipient.language):
            notice = reminder_notice(claim.reminder.kind, max(60, ttl))
            outcome = deliver(claim.recipient, notice, claim.reminder.channels)
        gone.extend(outcome.gone)
        reached.extend(outcome.reached)
        if outcome.delivered:
            report.sent += 1
            report.by_kind[claim.reminder.kind.value] += 1
        else:
            report.failed += 1
        results.append(
            {
                "id": claim.row_id,
                "sent_at": instant if outcome.delivered else None,
                "channels": list(outcome.delivered),
                "error": outcome.error,
            }
        )
    if results:
        db.session.execute(sa.update(SentReminder), results)
    record_push_outcome(gone, reached, now or utcnow())
    report.removed_subscriptions = len(set(gone))
    return report


@dataclass(frozen=True)
class ReminderStatus:
    """What the therapist sees of a patient's reminders: on or off, and by which channels."""

    enabled: bool
    channels: tuple[str, ...]


def reminder_status(patient: Patient) -> ReminderStatus:
    """Return whether the patient's reminders are on and how they go, in one query."""
    devices = (
        sa.select(sa.func.count(PushSubscription.id))
        .where(PushSubscription.patient_id == Patient.id)
        .scalar_subquery()
    )
    row = db.session.execute(
        sa.select(
            ReminderSettings.enabled,
            ReminderSettings.channels,
            ReminderSettings.email_unsubscribed_at,
            devices.label("devices"),
        )
        .select_from(Patient)
        .outerjoin(ReminderSettings, ReminderSettings.patient_id == Patient.id)
        .where(Patient.id == patient.id)
    ).one()
    return ReminderStatus(
        enabled=row.enabled if row.enabled is not None else True,
        channels=effective_channels(
            row.channels,
            has_email=bool(patient.user.email),
            unsubscribed=row.email_unsubscribed_at is not None,
            push_devices=row.devices or 0,
        ),
    )

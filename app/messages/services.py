"""Send and read messages between a patient and their clinic (DESIGN §4 "Messages").

A message is identified by its writer's client UUID, like a session: the same id with the same
text is a replay (the stored message), with other text a conflict, and two concurrent sends of
one id store one row. Reading a thread marks the other side's messages read; writing a reply
does too. The other side is told that a message is waiting — by email for the clinic, by push
(else email) for the patient — after the commit, and never with the message's text.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app import audit
from app.access import patient_scope
from app.auth.models import User
from app.enums import Role
from app.errors import ValidationFailed
from app.extensions import db
from app.i18n import force_locale, language_of
from app.inputs import CONTROL_MESSAGE, has_control
from app.links import external_url
from app.mail import send_after_commit
from app.messages.models import MAX_BODY, Message, Side
from app.patient.idempotency import Logged, client_id, payload_hash, replay
from app.patient.models import Patient
from app.reminders.models import PushSubscription, ReminderSettings
from app.reminders.notifiers import EMAIL, PUSH, Notice, Recipient, deliver, reachable
from app.reminders.services import push_targets, unsubscribe_url
from app.transactions import after_commit, defer_write

log = logging.getLogger(__name__)

THREAD_PAGE = 50  # messages per page of a thread (the page and the API page back with before)
# One "a message is waiting" notice until the other side reads, renewed after this long.
NOTIFY_AGAIN_AFTER = timedelta(hours=12)
PUSH_TTL_SECONDS = 3 * 24 * 3600


@dataclass(frozen=True)
class MessageReport:
    """A message as the writer's app sends it: its client UUID and its text."""

    id: str
    body: str


@dataclass(frozen=True)
class Thread:
    """A page of a thread, oldest first, and which messages this reading marked read."""

    messages: Sequence[Message]
    has_earlier: bool
    newly_read: frozenset[int]
    read_now: datetime

    def read_at(self, message: Message) -> datetime | None:
        """Return when a message was read, counting this reading."""
        if message.read_at is None and message.id in self.newly_read:
            return self.read_now
        return message.read_at

    @property
    def earliest_id(self) -> int | None:
        return self.messages[0].id if self.messages else None


def side_of(user: User) -> Side:
    return Side.PATIENT if user.role is Role.PATIENT else Side.THERAPIST


def marks_read(patient: Patient, reader: User) -> bool:
    """Whether ``reader`` reading the thread counts as the other side having read it.

    The patient reads for themselves; on the clinic side their therapist does (an admin looking
    in does not clear the therapist's unread count), or any clinician when no therapist is
    assigned.
    """
    if reader.role is Role.PATIENT:
        return reader.id == patient.user_id
    return patient.therapist_id is None or patient.therapist_id == reader.id


def load_thread(
    patient_id: int, *, before: int | None = None, limit: int = THREAD_PAGE
) -> tuple[list[Message], bool]:
    """Return the latest ``limit`` messages (before the id ``before``) oldest first, and
    whether there are earlier ones; authors are loaded in the same query."""
    query = (
        sa.select(Message)
        .options(joinedload(Message.author))
        .where(Message.patient_id == patient_id)
        .order_by(Message.id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        query = query.where(Message.id < before)
    rows = list(db.session.scalars(query))
    return list(reversed(rows[:limit])), len(rows) > limit


def mark_read(patient_id: int, sender: Side, up_to: int, now: datetime) -> int:
    """Mark ``sender``'s unread messages up to the id ``up_to`` read; one conditional UPDATE."""
    result = db.session.execute(
        sa.update(Message)
        .where(
            Message.patient_id == patient_id,
            Message.sender == sender,
            Message.read_at.is_(None),
            Message.id <= up_to,
        )
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def read_thread(
    patient: Patient,
    reader: User,
    *,
    now: datetime,
    before: int | None = None,
    limit: int = THREAD_PAGE,
) -> Thread:
    """Return a page of the thread for ``reader``; what it shows of the other side is read.

    The marking is a side write of the request (``defer_write``), so it never fails the read.
    """
    messages, earlier = load_thread(patient.id, before=before, limit=limit)
    side = side_of(reader)
    newly: list[int] = []
    if marks_read(patient, reader):
        newly = [m.id for m in messages if m.sender is not side and m.read_at is None]
    if newly:
        up_to, patient_id = max(newly), patient.id
        defer_write(lambda: mark_read(patient_id, side.other, up_to, now))
    return Thread(messages, earlier, frozenset(newly), now)


def unread_count(patient_id: int, sender: Side) -> int:
    """Return how many of ``sender``'s messages in a thread are unread."""
    return db.session.scalar(
        sa.select(sa.func.count(Message.id)).where(
            Message.patient_id == patient_id, Message.sender == sender, Message.read_at.is_(None)
        )
    )


def unread_for_clinician(user: User) -> int:
    """Return how many messages of the patients ``user`` sees wait to be read (the navigation).

    One query whatever the caseload; the caseload rows carry the same count per patient.
    """
    return (
        db.session.scalar(
            sa.select(sa.func.count(Message.id))
            .join(Patient, Patient.id == Message.patient_id)
            .where(
                patient_scope(user),
                Patient.archived_at.is_(None),
                Message.sender == Side.PATIENT,
                Message.read_at.is_(None),
            )
        )
        or 0
    )


def check_body(text: str | None) -> str:
    """Return the message text to store (trimmed), or refuse it with a plain reason."""
    body = (text or "").strip()
    if not body:
        raise ValidationFailed({"body": _("Write a message first.")})
    if len(body) > MAX_BODY:
        raise ValidationFailed(
            {"body": _("Keep a message to %(number)s characters or fewer.", number=f"{MAX_BODY:,}")}
        )
    if has_control(body):
        raise ValidationFailed({"body": _(CONTROL_MESSAGE)})
    return body


def _stored(patient_id: int, author_id: int, key: str) -> Message | None:
    return db.session.scalar(
        sa.select(Message).where(
            Message.patient_id == patient_id,
            Message.author_id == author_id,
            Message.client_id == key,
        )
    )


def send_message(patient: Patient, author: User, report: MessageReport, *, now: datetime) -> Logged:
    """Store a message exactly once (idempotent by the writer's UUID) and notify the other side.

    Raises ValidationFailed for a bad id or text (nothing stored) and Conflict for an id
    already used with other text. The caller has checked that ``author`` may write here.
    """
    key = client_id(report.id)
    body = check_body(report.body)
    report_hash = payload_hash({"id": key, "body": body})
    existing = _stored(patient.id, author.id, key)
    if existing is not None:
        return replay(existing, report_hash, "message")

    side = side_of(author)
    message = Message(
        patient_id=patient.id,
        sender=side,
        author_id=author.id,
        client_id=key,
        body=body,
        payload_hash=report_hash,
        sent_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(message)
            db.session.flush()
    except IntegrityError:
        stored = _stored(patient.id, author.id, key)
        if stored is None:
            raise
        return replay(stored, report_hash, "message")

    if marks_read(patient, author):
        mark_read(patient.id, side.other, message.id, now)  # a reply means they read it
    audit.record(
        "message.send",
        actor=author,
        patient=patient,
        object_type="message",
        object_id=message.id,
        details={"from": side.value},
        now=now,
    )
    if not _told_recently(patient.id, side, message.id, now):
        if side is Side.PATIENT:
            _notify_clinic(patient)
        else:
            _notify_patient(patient)
    return Logged(message, True)


def _told_recently(patient_id: int, sender: Side, message_id: int, now: datetime) -> bool:
    """Whether an earlier unread message of ``sender`` already told the other side lately."""
    return (
        db.session.scalar(
            sa.select(Message.id)
            .where(
                Message.patient_id == patient_id,
                Message.sender == sender,
                Message.read_at.is_(None),
                Message.id != message_id,
                Message.sent_at >= now - NOTIFY_AGAIN_AFTER,
            )
            .limit(1)
        )
        is not None
    )


def _clinic_readers(patient: Patient) -> list[User]:
    """The patient's therapist, or the clinic's admins when none is assigned or reachable.

    A message to a therapist who left (deactivated, or without an email) still reaches someone.
    """
    therapist = patient.therapist
    if therapist is not None and therapist.is_active and therapist.email:
        return [therapist]
    return list(
        db.session.scalars(
            sa.select(User).where(
                User.clinic_id == patient.clinic_id,
                User.role == Role.ADMIN,
                User.is_active.is_(True),
                User.email.is_not(None),
            )
        )
    )


def _notify_clinic(patient: Patient) -> None:
    """Email the clinic that a message is waiting — never its text, nor the patient's name."""
    link = external_url("messages.patient_thread", patient_id=patient.id)
    for reader in _clinic_readers(patient):
        send_after_commit(
            reader.email,
            "Homestretch: a patient has sent you a message",
            "A patient in your caseload has sent you a message in Homestretch.\n\n"
            f"Read it in Homestretch: {link}\n\n"
            "Messages are only shown in Homestretch, never in an email.\n",
        )


def message_notice() -> Notice:
    """What the patient is told when their clinic writes: that a message is waiting.

    In the current locale: callers build it inside ``force_locale`` of the patient's language.
    """
    return Notice(
        kind="message",
        subject=_("You have a new message in Homestretch"),
        title="Homestretch",
        text=_("You have a new message from your clinic."),
        path="/messages",
        link_label=_("Read it in Homestretch"),
        reason=_("You get this email when your clinic writes to you in Homestretch."),
        ttl=PUSH_TTL_SECONDS,
    )


def _notify_patient(patient: Patient) -> None:
    """Tell the patient by push, or else by email, once the message is committed."""
    settings = db.session.get(ReminderSettings, patient.id)
    unsubscribed = settings is not None and settings.email_unsubscribed_at is not None
    email = patient.user.email if patient.user.is_active and not unsubscribed else None
    recipient = Recipient(
        patient_id=patient.id,
        clinic=patient.clinic.name,
        base_url=current_app.config["PUBLIC_BASE_URL"],
        email=email,
        push=push_targets([patient.id]).get(patient.id, ()),
        unsubscribe_url=unsubscribe_url(patient.id),
        settings_url=external_url("reminders.settings"),
        language=language_of(patient),
    )
    if not reachable(recipient, (PUSH, EMAIL)):
        return
    after_commit(lambda: _deliver_to_patient(recipient))


def _deliver_to_patient(recipient: Recipient) -> None:
    """Push to the patient's browsers; when none takes it, email. Runs after the commit."""
    try:
        # The patient's language, not the writing therapist's (their request is English).
        with force_locale(recipient.language):
            notice = message_notice()
            outcome = deliver(recipient, notice, (PUSH,))
            if not outcome.delivered:
                deliver(recipient, notice, (EMAIL,))
        if outcome.gone or outcome.reached:
            _record_push(outcome.gone, outcome.reached)
    except Exception:  # the message is stored; a failed notice must not fail the request
        log.exception("Could not notify a patient of a new message")


def _record_push(gone: Sequence[int], reached: Sequence[int]) -> None:
    """Write the push services' answers in a short transaction of its own (after the commit)."""
    from app.db import utcnow

    with db.engine.begin() as connection:
        if gone:
            connection.execute(sa.delete(PushSubscription).where(PushSubscription.id.in_(gone)))
        if reached:
            connection.execute(
                sa.update(PushSubscription)
                .where(PushSubscription.id.in_(reached))
                .values(last_sent_at=utcnow())
            )

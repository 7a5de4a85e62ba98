"""One notifier interface for every channel: email and Web Push today, SMS could be a third.

Whoever has something to tell a patient (the reminder scheduler, a therapist's message) builds
a ``Notice`` — what to say, never any health data: no pain, no exercise, no alert, no message
text — and a ``Recipient``, and calls ``deliver`` with the channels to use. Each channel is one
``Notifier`` in ``NOTIFIERS``; adding SMS is a new class there and nothing else changes.

Notifiers read no database and never raise: the caller records what they answer (which push
subscriptions are gone, which channels delivered) in its own transaction.
"""

from __future__ import annotations

import smtplib
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any, ClassVar, Protocol

from flask import current_app, render_template

from app.reminders import push
from app.reminders.vapid import allow_local_endpoints, vapid_settings

EMAIL = "email"
PUSH = "push"


@dataclass(frozen=True)
class Notice:
    """What one notification says, in every channel's shape.

    - ``kind``: "reminder", "follow_up" or "message" (also the push ``tag`` and ``topic``).
    - ``subject``: the email subject; ``title``: the push title and the email's heading.
    - ``text``: one plain sentence (the push body, the email's first line).
    - ``path``: the same-site page it opens ("/today", "/messages"); ``link_label`` its words.
    - ``ttl``: seconds a push service may hold the message.
    - ``reason``: why the patient gets this email (shown above the unsubscribe line).
    """

    kind: str
    subject: str
    title: str
    text: str
    path: str
    link_label: str
    reason: str
    ttl: int = 3600

    def push_payload(self) -> dict[str, str]:
        """Return the only fields a push payload may carry (``push.ALLOWED_PAYLOAD_KEYS``)."""
        return {"title": self.title, "body": self.text, "url": self.path, "tag": self.kind}


@dataclass(frozen=True)
class PushTarget:
    """One stored push subscription, as plain data (no ORM object crosses the commit)."""

    id: int
    endpoint: str
    p256dh: str
    auth: str

    def subscription(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


@dataclass(frozen=True)
class Recipient:
    """Whom a notice goes to and how they can be reached.

    ``base_url`` is PUBLIC_BASE_URL (every link is built on it, never on a request's Host);
    ``unsubscribe_url`` the signed one-click link of RFC 8058 (None: no unsubscribe headers);
    ``settings_url`` the page where the patient changes days, time and channels;
    ``language`` the patient's language ("en" or "es"): callers build and deliver the notice
    inside ``force_locale(recipient.language)``.
    """

    patient_id: int
    clinic: str
    base_url: str
    email: str | None = None
    push: tuple[PushTarget, ...] = ()
    unsubscribe_url: str | None = None
    settings_url: str | None = None
    language: str = "en"


@dataclass(frozen=True)
class Delivery:
    """One channel's answer: ``gone`` and ``reached`` are push subscription ids."""

    channel: str
    delivered: bool
    gone: tuple[int, ...] = ()
    reached: tuple[int, ...] = ()
    error: str | None = None


class Notifier(Protocol):
    """A channel: whether it can reach a recipient now, and sending one notice there."""

    channel: ClassVar[str]

    def can_reach(self, recipient: Recipient) -> bool: ...

    def send(self, recipient: Recipient, notice: Notice) -> Delivery: ...


# ---------------------------------------------------------------------------- email


def send_email_message(message: EmailMessage) -> str | None:
    """Send a prepared message over the configured SMTP server; return an error or None."""
    config = current_app.config
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        current_app.logger.warning("Could not send a notification email: %s", type(exc).__name__)
        return f"mail server refused or unreachable ({type(exc).__name__})"
    return None


class EmailNotifier:
    """Plain and HTML parts, RFC 8058 one-click unsubscribe headers, a footer naming the clinic."""

    channel: ClassVar[str] = EMAIL

    def can_reach(self, recipient: Recipient) -> bool:
        return bool(recipient.email) and bool(current_app.config.get("MAIL_SERVER"))

    def message(self, recipient: Recipient, notice: Notice) -> EmailMessage:
        """Build the email (separately from sending, so it can be checked)."""
        sender = current_app.config["MAIL_FROM"]
        context = {
            "notice": notice,
            "clinic": recipient.clinic,
            "link": recipient.base_url.rstrip("/") + notice.path,
            "unsubscribe_url": recipient.unsubscribe_url,
            "settings_url": recipient.settings_url,
        }
        message = EmailMessage()
        message["From"] = sender
        message["To"] = recipient.email
        message["Subject"] = notice.subject
        message["Date"] = formatdate(localtime=False)
        domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
        message["Message-ID"] = make_msgid(domain=domain)
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies
        if recipient.unsubscribe_url:
            # RFC 2369 and RFC 8058: one POST to this address unsubscribes, without a login.
            message["List-Unsubscribe"] = f"<{recipient.unsubscribe_url}>"
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content(render_template("reminders/email.txt", **context))
        message.add_alternative(render_template("reminders/email.html", **context), subtype="html")
        return message

    def send(self, recipient: Recipient, notice: Notice) -> Delivery:
        error = send_email_message(self.message(recipient, notice))
        return Delivery(EMAIL, error is None, error=error)


# ---------------------------------------------------------------------------- push


class PushNotifier:
    """RFC 8291 aes128gcm with RFC 8292 VAPID to every subscription of the recipient."""

    channel: ClassVar[str] = PUSH

    def can_reach(self, recipient: Recipient) -> bool:
        return bool(recipient.push) and vapid_settings() is not None

    def send(self, recipient: Recipient, notice: Notice) -> Delivery:
        vapid = vapid_settings()
        if vapid is None:
            return Delivery(PUSH, False, error="push is not set up")
        gone: list[int] = []
        reached: list[int] = []
        errors: list[str] = []
        for target in recipient.push:
            result = push.send_push(
                target.subscription(),
                notice.push_payload(),
                private_key=vapid.private_key,
                subject=vapid.subject,
                ttl=max(0, min(notice.ttl, push.MAX_TTL_SECONDS)),
                timeout=float(current_app.config.get("PUSH_TIMEOUT_SECONDS", 10)),
                allow_local=allow_local_endpoints(),
                topic=notice.kind.replace("_", "-"),
            )
            if result.ok:
                reached.append(target.id)
            elif result.gone:
                gone.append(target.id)
            elif result.error:
                errors.append(result.error)
        return Delivery(
            PUSH,
            bool(reached),
            gone=tuple(gone),
            reached=tuple(reached),
            error=None if reached else ("; ".join(dict.fromkeys(errors)) or None),
        )


NOTIFIERS: dict[str, Notifier] = {EMAIL: EmailNotifier(), PUSH: PushNotifier()}
CHANNELS: tuple[str, ...] = tuple(NOTIFIERS)


def reachable(recipient: Recipient, channels: Iterable[str]) -> tuple[str, ...]:
    """Return the channels among ``channels`` that can reach the recipient now."""
    return tuple(
        channel
        for channel in channels
        if channel in NOTIFIERS and NOTIFIERS[channel].can_reach(recipient)
    )


@dataclass
class Outcome:
    """What ``deliver`` did, over every channel."""

    deliveries: list[Delivery] = field(default_factory=list)

    @property
    def delivered(self) -> tuple[str, ...]:
        return tuple(d.channel for d in self.deliveries if d.delivered)

    @property
    def gone(self) -> tuple[int, ...]:
        return tuple(i for d in self.deliveries for i in d.gone)

    @property
    def reached(self) -> tuple[int, ...]:
        return tuple(i for d in self.deliveries for i in d.reached)

    @property
    def error(self) -> str | None:
        errors = [f"{d.channel}: {d.error}" for d in self.deliveries if d.error]
        return "; ".join(errors)[:200] or None


def deliver(recipient: Recipient, notice: Notice, channels: Iterable[str]) -> Outcome:
    """Send ``notice`` on each of ``channels`` that can reach the recipient; never raise."""
    outcome = Outcome()
    for channel in reachable(recipient, channels):
        try:
            outcome.deliveries.append(NOTIFIERS[channel].send(recipient, notice))
        except Exception as exc:  # one broken channel must not stop the rest of a batch
            current_app.logger.exception("The %s notifier failed", channel)
            outcome.deliveries.append(Delivery(channel, False, error=type(exc).__name__))
    return outcome

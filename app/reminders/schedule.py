"""Which session reminders are due at an instant: facts and ``now`` in, candidates out.

DESIGN §4 "Reminders" and issue 12 item 2. No Flask, no database, no clock. ``flask reminders
send`` runs every 15 minutes, so the test is "the local send time has passed today", never "it is
the send time now"; the caller records each reminder it sends under the unique key (patient,
``local_date``, ``kind``) and passes recent ones back in ``ReminderInput.sent``.

Choices (documented for the settings page and the README):

- **Quiet hours** are 21:00–08:00 local: nothing is due then. A chosen time inside them, or too
  close to 21:00 for a 15-minute run to catch, is clamped into the day (``send_time``): before
  08:00 goes out at 08:00, after 20:45 at 20:45 — the last start every 15-minute cadence still
  reaches before 21:00. Clamping rather than dropping keeps a patient who asked for reminders
  from silently getting none; the settings form should still offer only 08:00–20:45.
- **One message a day.** The **follow-up** (CLINICAL §5 LOW_ADHERENCE "gentle nudge": the day
  after a scheduled day with nothing logged) goes out at the patient's reminder time, like the
  reminder, and takes the place of that day's reminder: at most one of the two per patient and
  local day. Sending it at the reminder time rather than at 08:00 gives the patient the day to
  come back on their own: a session logged today cancels it.
- **Scheduled** means the program's calendar (CLINICAL §3, ``app.clinical.adherence``): weekdays
  in force that day while the program was active, a pause counting from the end of the day it
  happened. The follow-up reads that calendar whatever days the patient picked for reminders.
- **Active today** means active by that calendar *and* by the last recorded status: a pause,
  suspension or end recorded today stops today's message at once (the patient's page already
  says "paused"), though the calendar still counts the day; a resume recorded today, like the
  calendar, brings messages back from tomorrow.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Final

from app.clinical.adherence import ProgramStatus, ScheduleFact, StatusFact, scheduled_days
from app.timeutil import at_local, local_date, zone

DEFAULT_TIME: Final = time(18, 0)  # DESIGN §4: default reminder time, local
QUIET_FROM: Final = time(21, 0)  # issue 12: nothing between 21:00 …
QUIET_UNTIL: Final = time(8, 0)  # … and 08:00 local
# The command runs every 15 minutes: any such cadence has exactly one run in [20:45, 21:00).
LATEST_SEND_TIME: Final = time(20, 45)
EVERY_WEEKDAY: Final = (0, 1, 2, 3, 4, 5, 6)


class ReminderKind(StrEnum):
    """Kind of reminder; with the patient and local day it is the unique key of a sent one."""

    REMINDER = "reminder"  # today's session
    FOLLOW_UP = "follow_up"  # the day after a scheduled day with nothing logged


@dataclass(frozen=True)
class ReminderInput:
    """One patient's reminder settings and the recent facts the decision reads.

    - ``timezone``: IANA name; every date below is a local date in it.
    - ``days``: weekdays (0 = Monday … 6 = Sunday) the patient picked, or None to follow the
      program's weekdays as they change (DESIGN §4 default).
    - ``time``: local wall-clock time of the reminder (default 18:00).
    - ``channels``: where to send ("email", "push"); with none nothing is due.
    - ``schedule``, ``statuses``: the program's schedule and status histories (CLINICAL §3).
    - ``program_start``: day 1 of the program; None when nothing is assigned.
    - ``session_dates``: local dates with a logged session (today and yesterday suffice).
    - ``sent``: (local date, kind) of reminders already sent (today and yesterday suffice).
    """

    patient_id: int
    timezone: str
    schedule: tuple[ScheduleFact, ...]
    statuses: tuple[StatusFact, ...]
    program_start: date | None
    enabled: bool = True
    days: tuple[int, ...] | None = None
    time: time = DEFAULT_TIME
    channels: tuple[str, ...] = ("email",)
    session_dates: frozenset[date] = field(default_factory=frozenset)
    sent: frozenset[tuple[date, ReminderKind]] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        """Check the timezone and weekdays; accept "HH:MM" and any iterables for collections."""
        zone(self.timezone)  # raises ValueError for an unknown timezone
        if self.days is not None:
            for weekday in self.days:
                if (
                    isinstance(weekday, bool)
                    or not isinstance(weekday, int)
                    or not 0 <= weekday <= 6
                ):
                    raise ValueError(f"weekday must be an integer from 0 to 6, got {weekday!r}")
            object.__setattr__(self, "days", tuple(sorted(set(self.days))))
        if isinstance(self.time, str):  # "HH:MM", as the API carries it
            object.__setattr__(self, "time", time.fromisoformat(self.time))
        if self.time.tzinfo is not None:
            raise ValueError("the reminder time is a local wall-clock time, without tzinfo")
        object.__setattr__(self, "schedule", tuple(self.schedule))
        object.__setattr__(self, "statuses", tuple(self.statuses))
        object.__setattr__(self, "channels", tuple(self.channels))
        object.__setattr__(self, "session_dates", frozenset(self.session_dates))
        object.__setattr__(
            self, "sent", frozenset((day, ReminderKind(kind)) for day, kind in self.sent)
        )


@dataclass(frozen=True)
class DueReminder:
    """A reminder to send now; (``patient_id``, ``local_date``, ``kind``) is its unique key.

    ``due_at`` is the UTC instant it became due; ``send_until`` the UTC instant quiet hours start
    that day — a push TTL should not reach past it.
    """

    patient_id: int
    kind: ReminderKind
    local_date: date
    due_at: datetime
    send_until: datetime
    channels: tuple[str, ...]
    reason: str


def send_time(chosen: time) -> time:
    """Return the local time a reminder chosen for ``chosen`` goes out, clamped to 08:00–20:45."""
    plain = chosen.replace(second=0, microsecond=0, tzinfo=None, fold=0)
    if plain < QUIET_UNTIL:
        return QUIET_UNTIL
    if plain > LATEST_SEND_TIME:
        return LATEST_SEND_TIME
    return plain


def local_instant(day: date, wall: time, timezone: str) -> datetime:
    """Return the UTC instant of a wall-clock time on a local day (DST-correct).

    A time skipped by a spring-forward change is read with the offset before the change, so it
    lands as far after the gap as it was into it (02:30 → 03:30 summer time); a time repeated by
    a fall-back change means its first occurrence (PEP 495 ``fold=0``).
    """
    return at_local(day, wall.hour, wall.minute, timezone)


def _is_active(statuses: tuple[StatusFact, ...], day: date) -> bool:
    """Return whether the program is active on ``day`` by the calendar and as last recorded."""
    # A schedule of every weekday makes "scheduled" mean "active" — this reuses the calendar's
    # status rules (a pause counts from the end of the day it happened) without copying them.
    if not scheduled_days((ScheduleFact(day, EVERY_WEEKDAY),), statuses, day, day):
        return False
    # The calendar still counts the day of a pause (CLINICAL §3), but the patient's /today
    # already says "paused": a pause, suspension or end recorded today stops today's message.
    # Stable sort: among changes on the same date the one given last is in force, as there.
    recorded = [
        change
        for change in sorted(statuses, key=lambda c: c.local_date)
        if change.local_date <= day
    ]
    return bool(recorded) and recorded[-1].status == ProgramStatus.ACTIVE


def _due_for(patient: ReminderInput, now: datetime) -> DueReminder | None:
    """Return the one reminder due for ``patient`` at ``now``, if any."""
    if not patient.enabled or not patient.channels or patient.program_start is None:
        return None
    today = local_date(now, patient.timezone)
    if today < patient.program_start:
        return None
    # One message a day: a reminder or a follow-up already sent today settles it.
    if any((today, kind) in patient.sent for kind in ReminderKind):
        return None
    if today in patient.session_dates:
        return None  # done (or at least logged) today: nothing to remind of or follow up
    wall = send_time(patient.time)
    due_at = local_instant(today, wall, patient.timezone)
    send_until = local_instant(today, QUIET_FROM, patient.timezone)
    if not due_at <= now < send_until:
        return None  # not yet, or quiet hours
    # Issue 12: never during a pause or suspension (nor after the program ended).
    if not _is_active(patient.statuses, today):
        return None

    yesterday = today - timedelta(days=1)
    scheduled = set(scheduled_days(patient.schedule, patient.statuses, yesterday, today))
    if (
        yesterday >= patient.program_start
        and yesterday in scheduled  # a paused day is never scheduled (CLINICAL §3)
        and yesterday not in patient.session_dates
        and (yesterday, ReminderKind.FOLLOW_UP) not in patient.sent  # never two days running
    ):
        return DueReminder(
            patient.patient_id,
            ReminderKind.FOLLOW_UP,
            today,
            due_at,
            send_until,
            patient.channels,
            f"nothing logged on scheduled day {yesterday.isoformat()}",
        )

    if patient.days is None:
        reminder_day = today in scheduled
        which = "a scheduled day"
    else:
        reminder_day = today.weekday() in patient.days
        which = "a reminder day the patient picked"
    if not reminder_day:
        return None
    return DueReminder(
        patient.patient_id,
        ReminderKind.REMINDER,
        today,
        due_at,
        send_until,
        patient.channels,
        f"{today.isoformat()} is {which}, nothing logged by {wall:%H:%M}",
    )


def due_reminders(patients: Iterable[ReminderInput], now: datetime) -> list[DueReminder]:
    """Return the reminders due at ``now``, at most one per patient, in input order.

    Issue 12 item 2: on a reminder day (the patient's days, else the program's scheduled days),
    once the local send time has passed and before 21:00, with nothing logged today and the
    program active today, one ``reminder``; the day after a scheduled day with nothing logged,
    a ``follow_up`` in its place — not when one went out yesterday, not when the program is
    paused or suspended today. Nothing already in ``sent`` is returned. Linear in patients.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    now = now.astimezone(UTC)
    due = []
    for patient in patients:
        reminder = _due_for(patient, now)
        if reminder is not None:
            due.append(reminder)
    return due

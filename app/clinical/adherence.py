"""Scheduled days, completed sessions and 14-day adherence (CLINICAL §3)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from fractions import Fraction
from typing import Final

from app.clinical.policy import Policy

# CLINICAL §3: default scheduled weekdays (0 = Monday … 6 = Sunday) by sessions per week.
DEFAULT_WEEKDAYS: Final[dict[int, tuple[int, ...]]] = {
    7: (0, 1, 2, 3, 4, 5, 6),  # every day
    6: (0, 1, 2, 3, 4, 5),  # Mon–Sat
    5: (0, 1, 2, 3, 4),  # Mon–Fri
    4: (0, 1, 3, 4),  # Mon/Tue/Thu/Fri
    3: (0, 2, 4),  # Mon/Wed/Fri
    2: (1, 4),  # Tue/Fri
    1: (2,),  # Wed
}


class ProgramStatus(StrEnum):
    """Status of a program; only ACTIVE days can be scheduled (CLINICAL §3, DESIGN §2)."""

    ACTIVE = "active"
    PAUSED = "paused"
    SUSPENDED = "suspended"
    ENDED = "ended"


class AdherenceBand(StrEnum):
    """Adherence band of CLINICAL §3: ≥ 80 % adherent, 50–79 % partial, < 50 % low."""

    ADHERENT = "adherent"
    PARTIAL = "partial"
    LOW = "low"
    UNKNOWN = "unknown"


def default_weekdays(sessions_per_week: int) -> tuple[int, ...]:
    """Return the default weekdays for 1–7 sessions a week (CLINICAL §3)."""
    if (
        isinstance(sessions_per_week, bool)
        or not isinstance(sessions_per_week, int)
        or sessions_per_week not in DEFAULT_WEEKDAYS
    ):
        raise ValueError(
            f"sessions per week must be an integer from 1 to 7, got {sessions_per_week!r}"
        )
    return DEFAULT_WEEKDAYS[sessions_per_week]


@dataclass(frozen=True)
class ScheduleFact:
    """Scheduled weekdays (0 = Monday) in force from ``effective`` on (CLINICAL §3)."""

    effective: date
    weekdays: tuple[int, ...]

    def __post_init__(self) -> None:
        """Reject weekdays outside 0–6."""
        for weekday in self.weekdays:
            if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
                raise ValueError(f"weekday must be an integer from 0 to 6, got {weekday!r}")


@dataclass(frozen=True)
class StatusFact:
    """A program status ("active", "paused", "suspended", "ended") recorded on a local date."""

    local_date: date
    status: str

    def __post_init__(self) -> None:
        """Reject unknown statuses."""
        if self.status not in set(ProgramStatus):
            raise ValueError(
                f"status must be one of {', '.join(ProgramStatus)}, got {self.status!r}"
            )


class _Calendar:
    """Answer "was this day scheduled?" from schedule and status histories in O(log n)."""

    def __init__(self, schedule: Iterable[ScheduleFact], statuses: Iterable[StatusFact]) -> None:
        """Sort both histories once; later entries win ties on the same date."""
        # Stable sorts: among changes on the same date, the one given last is in force.
        ordered_schedule = sorted(schedule, key=lambda change: change.effective)
        self._schedule_from = [change.effective for change in ordered_schedule]
        self._weekdays = [frozenset(change.weekdays) for change in ordered_schedule]

        ordered_statuses = sorted(statuses, key=lambda change: change.local_date)
        # STACK "Scheduled days": a pause counts from the end of the day it happened, so every
        # status change recorded on day D is in force from D + 1 — the day of a pause still counts
        # as active, and a resume takes effect the next day. The first change is the program
        # start and applies from its own date, so day 1 of a program is active. With no status
        # history no day is active.
        self._status_from = [
            change.local_date if index == 0 else change.local_date + timedelta(days=1)
            for index, change in enumerate(ordered_statuses)
        ]
        self._status = [change.status for change in ordered_statuses]

    def is_active(self, day: date) -> bool:
        """Return whether the program was active on ``day``."""
        index = bisect_right(self._status_from, day) - 1
        return index >= 0 and self._status[index] == ProgramStatus.ACTIVE

    def is_scheduled(self, day: date) -> bool:
        """Return whether ``day`` is a scheduled weekday while the program was active."""
        # CLINICAL §3: the weekdays in force that day (the latest change effective on or before
        # it); before the first schedule change nothing is scheduled.
        index = bisect_right(self._schedule_from, day) - 1
        if index < 0 or day.weekday() not in self._weekdays[index]:
            return False
        # CLINICAL §3: paused and suspended days are left out.
        return self.is_active(day)


def _days(start: date, end: date) -> Iterable[date]:
    """Yield each date from ``start`` to ``end`` inclusive."""
    for offset in range((end - start).days + 1):
        yield start + timedelta(days=offset)


def scheduled_days(
    schedule: Sequence[ScheduleFact],
    statuses: Sequence[StatusFact],
    start: date,
    end: date,
) -> list[date]:
    """Return the scheduled days in [start, end] (empty when start > end).

    CLINICAL §3: a day on the weekdays in force that day, while the program was active.
    """
    calendar = _Calendar(schedule, statuses)
    return [day for day in _days(start, end) if calendar.is_scheduled(day)]


def is_completed(prescribed_items: int, done_or_partial_items: int, policy: Policy) -> bool:
    """Return whether a session counts as completed (CLINICAL §3: ≥ 75 % of items done or partly).

    A session with no prescribed item is never completed.
    """
    if prescribed_items < 0 or done_or_partial_items < 0:
        raise ValueError("item counts cannot be negative")
    if done_or_partial_items > prescribed_items:
        raise ValueError(
            f"{done_or_partial_items} items done of only {prescribed_items} prescribed"
        )
    if prescribed_items == 0:
        return False
    return Fraction(done_or_partial_items, prescribed_items) >= policy.completed_fraction


@dataclass(frozen=True)
class Adherence:
    """Adherence over a window; ``ratio`` None means unknown (no scheduled day in the window).

    ``completed`` counts local days with a completed session (it may exceed ``scheduled``; the
    ratio is capped at 1). The window is empty (``window_start`` > ``window_end``) before day 1.
    The band cut-offs are copied from the policy so ``band`` needs no arguments.
    """

    ratio: Fraction | None
    completed: int
    scheduled: int
    window_start: date
    window_end: date
    adherent_from: Fraction = Fraction(4, 5)
    partial_from: Fraction = Fraction(1, 2)

    @property
    def band(self) -> AdherenceBand:
        """Return the CLINICAL §3 band: ≥ 80 % adherent, 50–79 % partial, < 50 % low."""
        if self.ratio is None:
            return AdherenceBand.UNKNOWN
        if self.ratio >= self.adherent_from:
            return AdherenceBand.ADHERENT
        if self.ratio >= self.partial_from:
            return AdherenceBand.PARTIAL
        return AdherenceBand.LOW


def adherence_14d(
    completed_session_dates: Sequence[date],
    schedule: Sequence[ScheduleFact],
    statuses: Sequence[StatusFact],
    episode_start: date,
    today: date,
    policy: Policy,
) -> Adherence:
    """Return adherence over the last 14 local days, today included (CLINICAL §3).

    ``completed_session_dates`` holds the local date of each completed session, repeats allowed.
    """
    if today < episode_start:
        # CLINICAL §2: before day 1 no rule fires — an empty window and unknown adherence.
        return Adherence(None, 0, 0, episode_start, today, policy.adherent, policy.low_adherence)
    # CLINICAL §3: the window runs from max(program day 1, today − 13) to today.
    start = max(episode_start, today - timedelta(days=policy.adherence_window_days - 1))
    # CLINICAL §3: sessions on unscheduled days count, at most one per local day.
    done_days = {day for day in completed_session_dates if start <= day <= today}
    # CLINICAL §3: today counts as scheduled only once a session is done today.
    last_day = today if today in done_days else today - timedelta(days=1)
    scheduled = len(scheduled_days(schedule, statuses, start, last_day))
    completed = len(done_days)
    # CLINICAL §3: min(1, completed ÷ scheduled); no scheduled day → unknown.
    ratio = min(Fraction(1), Fraction(completed, scheduled)) if scheduled else None
    return Adherence(
        ratio, completed, scheduled, start, today, policy.adherent, policy.low_adherence
    )


def missed_last_scheduled(
    completed_session_dates: Sequence[date],
    schedule: Sequence[ScheduleFact],
    statuses: Sequence[StatusFact],
    episode_start: date,
    today: date,
    n: int = 3,
) -> bool:
    """Return whether the last ``n`` scheduled days since day 1 all lack a completed session.

    CLINICAL §5 (LOW_ADHERENCE): today counts only once it has a session; with fewer than ``n``
    scheduled days since day 1 the answer is False. Callers pass ``policy.low_adherence_missed``.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n!r}")
    if today < episode_start:
        # CLINICAL §2: before day 1 no rule fires.
        return False
    calendar = _Calendar(schedule, statuses)
    done_days = set(completed_session_dates)
    # CLINICAL §5: today counts only once it has a session (and then it is not missed).
    day = today if today in done_days else today - timedelta(days=1)
    missed = 0
    # Walk back from the newest day so a long episode costs only as many steps as needed.
    while day >= episode_start:
        if calendar.is_scheduled(day):
            if day in done_days:
                return False
            missed += 1
            if missed == n:
                return True
        day -= timedelta(days=1)
    return False

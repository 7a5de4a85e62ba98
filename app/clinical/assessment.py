"""The numbers every screen and rule shares, computed once per patient view (CLINICAL §1–§3).

``assess`` turns a timeline, the clinic's policy and ``now`` into baseline, current, change and
status, adherence and its window, and the readings behind them. The caseload read model, the
patient record, ``/progress``, ``/today``, the player and the alert rules all read this one
object; nothing else recomputes these numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction

from app.clinical.adherence import Adherence, adherence_14d
from app.clinical.pain import (
    PainChange,
    PainStatus,
    Reading,
    baseline,
    current,
    pain_change,
    program_day,
)
from app.clinical.policy import Policy
from app.clinical.timeline import CheckInFact, SessionFact, Timeline
from app.timeutil import local_date


@dataclass(frozen=True)
class Assessment:
    """Today, program day, baseline, current, pain change and adherence of one patient.

    ``sessions``, ``check_ins`` and ``readings`` are those of the episode up to today (none before
    day 1). ``adherence`` is None outside the program.
    """

    timeline: Timeline
    policy: Policy
    now: datetime
    today: date
    program_day: int | None
    in_program: bool
    sessions: tuple[SessionFact, ...]
    check_ins: tuple[CheckInFact, ...]
    readings: tuple[Reading, ...]
    current_window: tuple[date, date]
    readings_used: int
    change: PainChange
    adherence: Adherence | None
    completed_dates: tuple[date, ...] = ()

    @property
    def baseline(self) -> Fraction | None:
        return self.change.baseline

    @property
    def current(self) -> Fraction | None:
        return self.change.current

    @property
    def status(self) -> PainStatus:
        return self.change.status

    @property
    def adherence_ratio(self) -> Fraction | None:
        return None if self.adherence is None else self.adherence.ratio

    def last_days(self, days: int) -> tuple[date, date]:
        """Return the window of the last ``days`` local days, today included."""
        return (self.today - timedelta(days=days - 1), self.today)


def fact_order(fact: SessionFact | CheckInFact) -> tuple[date, int]:
    """Sort facts by local date, then by id (the order they were recorded in)."""
    return (fact.local_date, fact.id)


def patient_today(timeline: Timeline, now: datetime) -> date:
    """Return the patient's local calendar date at ``now`` (an aware instant)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be an aware datetime, got {now!r}")
    # DESIGN §3: days are the patient's local calendar days.
    return local_date(now, timeline.timezone)


def assess(timeline: Timeline, policy: Policy, now: datetime) -> Assessment:
    """Compute today, program day, baseline, current, pain change and adherence once."""
    today = patient_today(timeline, now)
    start = timeline.episode_start
    window = (today - timedelta(days=policy.current_days - 1), today)
    if start is None or today < start:
        # CLINICAL §2: before program day 1 (or with no episode) no trend or adherence rule fires.
        return Assessment(
            timeline=timeline,
            policy=policy,
            now=now,
            today=today,
            program_day=None if start is None else program_day(start, today),
            in_program=False,
            sessions=(),
            check_ins=(),
            readings=(),
            current_window=window,
            readings_used=0,
            change=pain_change(None, None, policy),
            adherence=None,
        )

    # A fact belongs to the episode from its local date on; facts after today are not yet known
    # at ``now`` (a replayed history must give the same answer as the live one).
    sessions = tuple(
        sorted((s for s in timeline.sessions if start <= s.local_date <= today), key=fact_order)
    )
    check_ins = tuple(
        sorted((c for c in timeline.check_ins if start <= c.local_date <= today), key=fact_order)
    )
    # CLINICAL §1: resting-pain readings = session pain before + check-in morning pain.
    readings = tuple(
        sorted(
            [Reading(s.local_date, s.pain_before) for s in sessions]
            + [
                Reading(c.local_date, c.morning_pain)
                for c in check_ins
                if c.morning_pain is not None
            ],
            key=lambda reading: reading.local_date,
        )
    )
    # CLINICAL §2: baseline (intake fallback) and current, compared exactly.
    change = pain_change(
        baseline(readings, start, timeline.intake_pain, policy),
        current(readings, today, policy),
        policy,
    )
    readings_used = sum(1 for r in readings if window[0] <= r.local_date <= window[1])
    # CLINICAL §3: adherence over max(day 1, today − 13) … today.
    completed_dates = tuple(s.local_date for s in sessions if s.completed)
    adherence = adherence_14d(
        completed_dates, timeline.schedule, timeline.statuses, start, today, policy
    )
    return Assessment(
        timeline=timeline,
        policy=policy,
        now=now,
        today=today,
        program_day=program_day(start, today),
        in_program=True,
        sessions=sessions,
        check_ins=check_ins,
        readings=readings,
        current_window=window,
        readings_used=readings_used,
        change=change,
        adherence=adherence,
        completed_dates=completed_dates,
    )

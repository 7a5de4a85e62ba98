"""Change in resting pain: program day, baseline, current and status (CLINICAL §1–§2)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from fractions import Fraction

from app.clinical.policy import Policy

# CLINICAL §1: the 0–10 Numeric Pain Rating Scale, integers only.
PAIN_MIN = 0
PAIN_MAX = 10


class PainStatus(StrEnum):
    """Trend of resting pain against baseline (CLINICAL §2)."""

    IMPROVED = "improved"
    NO_CHANGE = "no_change"
    WORSENED = "worsened"
    UNKNOWN = "unknown"


def check_pain(value: object, what: str = "pain") -> int:
    """Return ``value`` if it is an NPRS score (integer 0–10), else raise ValueError."""
    # CLINICAL §1: integers 0–10 only; reject anything else (bool is not a score).
    if isinstance(value, bool) or not isinstance(value, int) or not PAIN_MIN <= value <= PAIN_MAX:
        raise ValueError(f"{what} must be an integer from 0 to 10, got {value!r}")
    return value


@dataclass(frozen=True)
class Reading:
    """One resting-pain reading on a local date.

    CLINICAL §1: a session's pain before, or a check-in's morning pain; never peak or after.
    """

    local_date: date
    value: int

    def __post_init__(self) -> None:
        """Reject values outside the NPRS."""
        check_pain(self.value, "reading value")


def program_day(episode_start: date, today: date) -> int:
    """Return the program day of ``today``: 1 on the episode start, below 1 before it."""
    # CLINICAL §2: program day 1 is the episode start date in the patient's local calendar.
    return (today - episode_start).days + 1


def _mean(values: Sequence[int]) -> Fraction:
    """Return the exact mean of a non-empty sequence of integers."""
    # CLINICAL §2: compare exactly, never with binary floating point.
    return Fraction(sum(values), len(values))


def baseline(
    readings: Sequence[Reading],
    episode_start: date,
    intake_pain: int | None,
    policy: Policy,
) -> Fraction | None:
    """Return the baseline resting pain, or None when it is unknown.

    CLINICAL §2: mean of the readings on program days 1–7; with fewer than 3, extend day by day up
    to day 14; with still fewer than 3, the intake pain; else unknown. The mean is per reading.
    """
    if intake_pain is not None:
        check_pain(intake_pain, "intake pain")
    by_day: dict[int, list[int]] = {}
    for reading in readings:
        day = program_day(episode_start, reading.local_date)
        if 1 <= day <= policy.baseline_max_days:
            by_day.setdefault(day, []).append(reading.value)

    values: list[int] = []
    for day in range(1, policy.baseline_max_days + 1):
        values.extend(by_day.get(day, ()))
        # CLINICAL §2: days 1–7 always count; later days only while fewer than 3 readings.
        if day >= policy.baseline_days and len(values) >= policy.min_readings:
            return _mean(values)
    # CLINICAL §2: fall back to the intake pain, else unknown.
    return Fraction(intake_pain) if intake_pain is not None else None


def current(readings: Sequence[Reading], today: date, policy: Policy) -> Fraction | None:
    """Return the current resting pain, or None with fewer than 3 readings.

    CLINICAL §2: mean of the readings in the last 7 local days, today included, per reading.
    """
    first = today - timedelta(days=policy.current_days - 1)
    values = [r.value for r in readings if first <= r.local_date <= today]
    if len(values) < policy.min_readings:
        return None
    return _mean(values)


@dataclass(frozen=True)
class PainChange:
    """The comparison of current with baseline resting pain.

    ``points`` is current − baseline (negative = less pain); ``percent`` is that change as a
    percentage of baseline (−100/3 means a third less pain), None when baseline is 0 or unknown.
    ``recovered`` is the RECOVERED label shown beside IMPROVED (CLINICAL §2).
    """

    baseline: Fraction | None
    current: Fraction | None
    status: PainStatus
    recovered: bool
    points: Fraction | None
    percent: Fraction | None


def pain_change(
    baseline: Fraction | int | None, current: Fraction | int | None, policy: Policy
) -> PainChange:
    """Compare current with baseline resting pain by the CLINICAL §2 rules."""
    base = Fraction(baseline) if baseline is not None else None
    now = Fraction(current) if current is not None else None
    if base is None or now is None:
        # CLINICAL §2: with an unknown baseline or current no trend rule fires.
        return PainChange(base, now, PainStatus.UNKNOWN, False, None, None)

    points = now - base
    percent = points / base * 100 if base != 0 else None
    fall = base - now
    if fall > 0 and (
        # CLINICAL §2: IMPROVED when baseline − current ≥ 2 (Childs 2005) ...
        fall >= policy.improve_points
        # ... or ≥ 30 % of baseline and at least 1 point (Ostelo 2008). `fall > 0` keeps a
        # clinic's zero thresholds from calling "no change" an improvement.
        or (fall >= policy.improve_fraction * base and fall >= policy.improve_floor_points)
    ):
        status = PainStatus.IMPROVED
    elif -fall >= policy.worsen_points:
        # CLINICAL §2: WORSENED when current − baseline ≥ 2 (Childs 2005).
        status = PainStatus.WORSENED
    else:
        status = PainStatus.NO_CHANGE
    # CLINICAL §2: RECOVERED (current = 0) is a label beside IMPROVED, not a status.
    recovered = status is PainStatus.IMPROVED and now == 0
    return PainChange(base, now, status, recovered, points, percent)

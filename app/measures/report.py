"""The clinic outcomes report: pure statistics from plain episode records (CLINICAL §2, §3, §5, §8).

The numbers behind ``/admin/outcomes`` and its per-therapist view, computed exactly (medians and
shares are Fractions; the median of an even count is the mean of the two middle values).

Which data count for a period ``[period_start, period_end]`` (both included) [D]:

- an episode counts when it overlaps the period: it started on or before ``period_end`` and had
  not ended before ``period_start``;
- function: episodes with at least two PSFS scores dated up to ``period_end``; each compares its
  latest such score with the first of the episode by the PSFS minimal important change (2 points
  on the mean, higher is better; CLINICAL §8);
- pain: episodes with both ``pain_start`` (baseline, or the intake NPRS) and ``pain_end`` (current,
  or the discharge NPRS) as the caller computed them at the end of the period; the change is
  ``pain_end − pain_start`` (negative = less pain), improved by 2 points or by 30 % and at least
  1 point (CLINICAL §2, Ostelo 2008);
- adherence: the episodes' ``adherence_14d`` (CLINICAL §3) where known;
- alerts: those of the counted episodes raised in the period (by the date of ``raised_at``, in
  whatever timezone the caller gives); time to first action over the actioned ones only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from app.measures.instruments import Mic, shipped_instruments

_MICROSECOND = timedelta(microseconds=1)
_HOUR_US = timedelta(hours=1) // _MICROSECOND


def _hours(delta: timedelta) -> Fraction:
    """Return a duration in hours, exactly (timedelta counts whole microseconds)."""
    return Fraction(delta // _MICROSECOND, _HOUR_US)


def _exact(value: object, what: str) -> Fraction:
    """Return ``value`` as a Fraction; reject floats and bools, which are not exact."""
    if isinstance(value, bool) or not isinstance(value, int | Fraction | Decimal):
        raise ValueError(f"{what} must be an int, Fraction or Decimal, got {value!r}")
    return Fraction(value)


@dataclass(frozen=True)
class AlertRecord:
    """An alert of an episode: its kind, when it was raised and first acted on (None: not yet)."""

    kind: str
    raised_at: datetime
    first_action_at: datetime | None = None

    def __post_init__(self) -> None:
        """Reject a first action before the alert was raised."""
        if self.first_action_at is not None and self.first_action_at < self.raised_at:
            raise ValueError("an alert cannot be acted on before it was raised")


@dataclass(frozen=True)
class EpisodeRecord:
    """What the report needs of one episode of care, as plain values.

    ``psfs`` holds (local date, PSFS score) pairs; ``pain_start``/``pain_end`` are NPRS values
    (0–10, exact); ``adherence_14d`` a fraction from 0 to 1.
    """

    episode_id: int
    therapist_id: int | None
    start: date
    ended_on: date | None = None
    psfs: Sequence[tuple[date, Fraction | int]] = ()
    pain_start: Fraction | int | None = None
    pain_end: Fraction | int | None = None
    adherence_14d: Fraction | int | None = None
    alerts: Sequence[AlertRecord] = ()

    def __post_init__(self) -> None:
        """Store exact numbers in tuples and reject values off their scales."""
        psfs = tuple((when, _exact(value, "a PSFS score")) for when, value in self.psfs)
        object.__setattr__(self, "psfs", psfs)
        object.__setattr__(self, "alerts", tuple(self.alerts))
        for name, low, high in (
            ("pain_start", 0, 10),
            ("pain_end", 0, 10),
            ("adherence_14d", 0, 1),
        ):
            value = getattr(self, name)
            if value is None:
                continue
            exact = _exact(value, name)
            if not low <= exact <= high:
                raise ValueError(f"{name} must lie between {low} and {high}, got {value!r}")
            object.__setattr__(self, name, exact)
        if self.ended_on is not None and self.ended_on < self.start:
            raise ValueError("an episode cannot end before it starts")


@dataclass(frozen=True)
class AlertKindStats:
    """Alerts of one kind: how many were raised, how many acted on, the median hours to act."""

    kind: str
    raised: int
    actioned: int
    median_hours_to_action: Fraction | None


@dataclass(frozen=True)
class OutcomeStats:
    """The outcomes of a group of episodes (the clinic, or one therapist's caseload).

    Shares are Fractions of the measured episodes, None when none was measured.
    """

    episodes: int
    function_measured: int
    function_mic_met: int
    function_mic_share: Fraction | None
    pain_measured: int
    median_pain_change: Fraction | None
    pain_improved: int
    pain_improved_share: Fraction | None
    adherence_measured: int
    median_adherence: Fraction | None
    alerts: tuple[AlertKindStats, ...]


@dataclass(frozen=True)
class OutcomesReport:
    """The report of a period: the whole clinic, and each therapist (None = unassigned)."""

    period_start: date
    period_end: date
    clinic: OutcomeStats
    by_therapist: Mapping[int | None, OutcomeStats]


def median(values: Iterable[Fraction | int]) -> Fraction | None:
    """Return the exact median (even count: mean of the two middle values), None if empty."""
    ordered = sorted(Fraction(value) for value in values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def _share(part: int, whole: int) -> Fraction | None:
    return Fraction(part, whole) if whole else None


def in_period(episode: EpisodeRecord, period_start: date, period_end: date) -> bool:
    """Return whether the episode overlaps the period."""
    return episode.start <= period_end and (
        episode.ended_on is None or episode.ended_on >= period_start
    )


def outcome_stats(
    episodes: Sequence[EpisodeRecord],
    period_start: date,
    period_end: date,
    function_mic: Mic,
    pain_mic: Mic,
) -> OutcomeStats:
    """Compute the outcomes of episodes already chosen for the period (see the module doc)."""
    function_measured = function_met = 0
    pain_changes: list[Fraction] = []
    pain_improved = 0
    adherence: list[Fraction] = []
    alerts: dict[str, list[AlertRecord]] = {}
    for episode in episodes:
        scores = sorted(
            (pair for pair in episode.psfs if pair[0] <= period_end), key=lambda pair: pair[0]
        )
        if len(scores) >= 2:
            function_measured += 1
            # CLINICAL §8: PSFS improved by ≥ 2 points on the mean, latest against first.
            function_met += function_mic.met(scores[0][1], scores[-1][1])
        if episode.pain_start is not None and episode.pain_end is not None:
            start, end = Fraction(episode.pain_start), Fraction(episode.pain_end)
            pain_changes.append(end - start)
            # CLINICAL §2: improved by 2 points, or 30 % and at least 1 point.
            pain_improved += pain_mic.met(start, end)
        if episode.adherence_14d is not None:
            adherence.append(Fraction(episode.adherence_14d))
        for alert in episode.alerts:
            if period_start <= alert.raised_at.date() <= period_end:
                alerts.setdefault(alert.kind, []).append(alert)

    kinds = []
    for kind in sorted(alerts):
        waits = [
            _hours(alert.first_action_at - alert.raised_at)
            for alert in alerts[kind]
            if alert.first_action_at is not None
        ]
        kinds.append(AlertKindStats(kind, len(alerts[kind]), len(waits), median(waits)))
    return OutcomeStats(
        episodes=len(episodes),
        function_measured=function_measured,
        function_mic_met=function_met,
        function_mic_share=_share(function_met, function_measured),
        pain_measured=len(pain_changes),
        median_pain_change=median(pain_changes),
        pain_improved=pain_improved,
        pain_improved_share=_share(pain_improved, len(pain_changes)),
        adherence_measured=len(adherence),
        median_adherence=median(adherence),
        alerts=tuple(kinds),
    )


def outcomes_report(
    episodes: Iterable[EpisodeRecord],
    period_start: date,
    period_end: date,
    *,
    function_mic: Mic | None = None,
    pain_mic: Mic | None = None,
) -> OutcomesReport:
    """Report the clinic's outcomes for a period, overall and per therapist.

    The minimal important changes default to those of the shipped PSFS and NPRS files.
    """
    if period_end < period_start:
        raise ValueError("the period must not end before it starts")
    shipped = shipped_instruments()
    function_mic = function_mic or shipped["psfs"].mic
    pain_mic = pain_mic or shipped["nprs"].mic
    assert function_mic is not None and pain_mic is not None
    chosen = [episode for episode in episodes if in_period(episode, period_start, period_end)]
    groups: dict[int | None, list[EpisodeRecord]] = {}
    for episode in chosen:
        groups.setdefault(episode.therapist_id, []).append(episode)
    # Therapists by id, the unassigned episodes last.
    order = sorted(groups, key=lambda therapist: (therapist is None, therapist or 0))
    return OutcomesReport(
        period_start,
        period_end,
        outcome_stats(chosen, period_start, period_end, function_mic, pain_mic),
        {
            therapist: outcome_stats(
                groups[therapist], period_start, period_end, function_mic, pain_mic
            )
            for therapist in order
        },
    )

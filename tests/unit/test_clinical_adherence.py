"""Unit tests for scheduled days, completed sessions and adherence (CLINICAL §3, §5)."""

from datetime import date, timedelta
from fractions import Fraction

import pytest

from app.clinical import (
    DEFAULT_WEEKDAYS,
    AdherenceBand,
    Policy,
    ScheduleFact,
    StatusFact,
    adherence_14d,
    default_weekdays,
    is_completed,
    missed_last_scheduled,
    scheduled_days,
)

POLICY = Policy()
MONDAY = date(2026, 3, 2)
EVERY_DAY = (0, 1, 2, 3, 4, 5, 6)
MON_WED_FRI = (0, 2, 4)


def d(offset: int) -> date:
    """Return the date ``offset`` days after MONDAY (0 = Monday 2 March 2026)."""
    return MONDAY + timedelta(days=offset)


def days(first: int, last: int) -> list[date]:
    """Return every date from d(first) to d(last) inclusive."""
    return [d(offset) for offset in range(first, last + 1)]


def test_the_reference_date_is_a_monday() -> None:
    assert MONDAY.weekday() == 0


# --- default weekdays -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("per_week", "weekdays"),
    [
        (7, (0, 1, 2, 3, 4, 5, 6)),
        (6, (0, 1, 2, 3, 4, 5)),
        (5, (0, 1, 2, 3, 4)),
        (4, (0, 1, 3, 4)),
        (3, (0, 2, 4)),
        (2, (1, 4)),
        (1, (2,)),
    ],
)
def test_default_weekdays_follow_sessions_per_week(
    per_week: int, weekdays: tuple[int, ...]
) -> None:
    assert default_weekdays(per_week) == weekdays
    assert len(DEFAULT_WEEKDAYS[per_week]) == per_week


@pytest.mark.parametrize("per_week", [0, 8, -1, True, 3.0])
def test_default_weekdays_reject_impossible_frequencies(per_week: object) -> None:
    with pytest.raises(ValueError, match="1 to 7"):
        default_weekdays(per_week)  # type: ignore[arg-type]


@pytest.mark.parametrize("weekday", [7, -1, True])
def test_schedule_change_rejects_weekdays_outside_the_week(weekday: object) -> None:
    with pytest.raises(ValueError, match="0 to 6"):
        ScheduleFact(MONDAY, (0, weekday))  # type: ignore[arg-type]


def test_status_change_rejects_unknown_statuses() -> None:
    with pytest.raises(ValueError, match="status must be one of"):
        StatusFact(MONDAY, "deleted")


# --- scheduled days ---------------------------------------------------------------------------

STARTED = [StatusFact(d(0), "active")]


@pytest.mark.parametrize(
    ("schedule", "statuses", "expected"),
    [
        pytest.param(
            [ScheduleFact(d(0), MON_WED_FRI)],
            STARTED,
            [d(0), d(2), d(4), d(7)],
            id="weekdays-in-force",
        ),
        pytest.param(
            [ScheduleFact(d(2), MON_WED_FRI)],
            STARTED,
            [d(2), d(4), d(7)],
            id="nothing-before-the-first-schedule",
        ),
        pytest.param(
            [ScheduleFact(d(0), MON_WED_FRI), ScheduleFact(d(3), (1, 3))],
            STARTED,
            [d(0), d(2), d(3), d(8)],
            id="a-change-takes-effect-on-its-date",
        ),
        pytest.param(
            [ScheduleFact(d(3), (1, 3)), ScheduleFact(d(0), MON_WED_FRI)],
            STARTED,
            [d(0), d(2), d(3), d(8)],
            id="history-in-any-order",
        ),
        pytest.param(
            [ScheduleFact(d(0), MON_WED_FRI), ScheduleFact(d(0), EVERY_DAY)],
            [StatusFact(d(0), "active"), StatusFact(d(1), "paused")],
            [d(0), d(1)],
            id="same-day-changes-the-last-wins",
        ),
        pytest.param(
            [ScheduleFact(d(0), EVERY_DAY)],
            [StatusFact(d(0), "active"), StatusFact(d(2), "paused")],
            [d(0), d(1), d(2)],
            id="a-pause-counts-from-the-end-of-its-day",
        ),
        pytest.param(
            [ScheduleFact(d(0), EVERY_DAY)],
            [
                StatusFact(d(0), "active"),
                StatusFact(d(2), "paused"),
                StatusFact(d(5), "active"),
            ],
            [d(0), d(1), d(2), d(6), d(7), d(8)],
            id="a-resume-counts-from-the-next-day",
        ),
        pytest.param(
            [ScheduleFact(d(0), EVERY_DAY)],
            [StatusFact(d(0), "active"), StatusFact(d(4), "suspended")],
            days(0, 4),
            id="suspended-days-left-out",
        ),
        pytest.param(
            [ScheduleFact(d(0), EVERY_DAY)],
            [StatusFact(d(0), "active"), StatusFact(d(6), "ended")],
            days(0, 6),
            id="ended-days-left-out",
        ),
        pytest.param(
            [ScheduleFact(d(0), EVERY_DAY)],
            [StatusFact(d(3), "active")],
            days(3, 8),
            id="the-program-start-applies-from-its-own-date",
        ),
        pytest.param([ScheduleFact(d(0), EVERY_DAY)], [], [], id="no-status-no-active-day"),
        pytest.param([], STARTED, [], id="no-schedule-no-day"),
    ],
)
def test_scheduled_days_respect_weekdays_and_status_on_each_day(
    schedule: list[ScheduleFact], statuses: list[StatusFact], expected: list[date]
) -> None:
    assert scheduled_days(schedule, statuses, d(0), d(8)) == expected


def test_scheduled_days_of_an_inverted_range_are_empty() -> None:
    assert scheduled_days([ScheduleFact(d(0), EVERY_DAY)], STARTED, d(5), d(4)) == []


# --- completed sessions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prescribed", "done", "completed"),
    [
        (4, 3, True),
        (5, 4, True),
        (4, 4, True),
        (8, 6, True),
        (4, 2, False),
        (5, 3, False),
        (7, 5, False),
        (1, 0, False),
        (0, 0, False),
    ],
)
def test_a_session_is_completed_at_75_percent_of_its_items(
    prescribed: int, done: int, completed: bool
) -> None:
    assert is_completed(prescribed, done, POLICY) is completed


@pytest.mark.parametrize(("prescribed", "done"), [(4, 5), (-1, 0), (4, -1)])
def test_is_completed_rejects_impossible_counts(prescribed: int, done: int) -> None:
    with pytest.raises(ValueError, match="item"):
        is_completed(prescribed, done, POLICY)


# --- adherence_14d ----------------------------------------------------------------------------

LONG_AGO = d(-60)
DAILY = [ScheduleFact(LONG_AGO, EVERY_DAY)]
RUNNING = [StatusFact(LONG_AGO, "active")]
SUNDAY = d(13)  # window Monday d(0) … Sunday d(13)


def test_a_full_daily_fortnight_is_adherent() -> None:
    result = adherence_14d(days(0, 13), DAILY, RUNNING, LONG_AGO, d(13), POLICY)
    assert (result.ratio, result.completed, result.scheduled) == (1, 14, 14)
    assert (result.window_start, result.window_end) == (d(0), d(13))
    assert result.band is AdherenceBand.ADHERENT


@pytest.mark.parametrize(
    ("done", "ratio", "band"),
    [
        (8, Fraction(4, 5), AdherenceBand.ADHERENT),
        (7, Fraction(7, 10), AdherenceBand.PARTIAL),
        (5, Fraction(1, 2), AdherenceBand.PARTIAL),
        (4, Fraction(2, 5), AdherenceBand.LOW),
        (0, Fraction(0), AdherenceBand.LOW),
    ],
)
def test_adherence_bands_cut_at_80_and_50_percent(
    done: int, ratio: Fraction, band: AdherenceBand
) -> None:
    weekdays = [ScheduleFact(LONG_AGO, (0, 1, 2, 3, 4))]
    sessions = [day for day in days(0, 13) if day.weekday() < 5][:done]
    result = adherence_14d(sessions, weekdays, RUNNING, LONG_AGO, SUNDAY, POLICY)
    assert result.scheduled == 10
    assert result.ratio == ratio
    assert result.band is band


def test_just_under_80_percent_is_partial() -> None:
    # 11 of 14 is 78.6 %: partial, even though it rounds to "79".
    sessions = [*days(0, 9), d(13)]
    result = adherence_14d(sessions, DAILY, RUNNING, LONG_AGO, d(13), POLICY)
    assert result.ratio == Fraction(11, 14)
    assert result.band is AdherenceBand.PARTIAL


def test_today_is_not_scheduled_until_a_session_is_done_today() -> None:
    before = adherence_14d(days(0, 12), DAILY, RUNNING, LONG_AGO, d(13), POLICY)
    after = adherence_14d(days(0, 13), DAILY, RUNNING, LONG_AGO, d(13), POLICY)
    assert (before.scheduled, before.ratio) == (13, 1)
    assert (after.scheduled, after.ratio) == (14, 1)


def test_a_missed_fortnight_is_low_only_for_the_days_already_over() -> None:
    result = adherence_14d([], DAILY, RUNNING, LONG_AGO, d(13), POLICY)
    assert (result.ratio, result.scheduled) == (0, 13)


def test_paused_days_are_left_out_from_the_end_of_the_pause_day() -> None:
    statuses = [*RUNNING, StatusFact(d(3), "paused"), StatusFact(d(9), "active")]
    # Active d(0)…d(3) and d(10)…d(12): 7 scheduled days before today d(13).
    sessions = [d(0), d(1), d(2), d(3), d(10), d(11)]
    result = adherence_14d(sessions, DAILY, statuses, LONG_AGO, d(13), POLICY)
    assert result.scheduled == 7
    assert result.ratio == Fraction(6, 7)


def test_a_schedule_change_takes_effect_on_its_date() -> None:
    schedule = [ScheduleFact(LONG_AGO, EVERY_DAY), ScheduleFact(d(7), MON_WED_FRI)]
    # Daily d(0)…d(6) = 7 days, then Mon/Wed/Fri d(7), d(9), d(11) = 3 days, before today d(13).
    result = adherence_14d(days(0, 6), schedule, RUNNING, LONG_AGO, d(13), POLICY)
    assert result.scheduled == 10
    assert result.ratio == Fraction(7, 10)


def test_two_sessions_on_one_day_count_once() -> None:
    sessions = [d(0), d(0), d(2), d(2), d(2)]
    schedule = [ScheduleFact(LONG_AGO, MON_WED_FRI)]
    result = adherence_14d(sessions, schedule, RUNNING, LONG_AGO, SUNDAY, POLICY)
    assert (result.completed, result.scheduled) == (2, 6)
    assert result.ratio == Fraction(1, 3)


def test_sessions_on_unscheduled_days_count_and_the_ratio_stops_at_one() -> None:
    schedule = [ScheduleFact(LONG_AGO, MON_WED_FRI)]
    tuesdays_and_thursdays = [d(1), d(3), d(8), d(10)]
    result = adherence_14d(tuesdays_and_thursdays, schedule, RUNNING, LONG_AGO, SUNDAY, POLICY)
    assert result.ratio == Fraction(4, 6)
    every_day = adherence_14d(days(0, 13), schedule, RUNNING, LONG_AGO, SUNDAY, POLICY)
    assert (every_day.completed, every_day.scheduled, every_day.ratio) == (14, 6, 1)


def test_the_window_starts_at_day_one_in_a_young_episode() -> None:
    start = d(10)
    sessions = [d(5), d(9), d(10), d(11)]  # the first two belong to no day of this episode
    result = adherence_14d(sessions, DAILY, RUNNING, start, d(13), POLICY)
    assert result.window_start == start
    assert (result.completed, result.scheduled) == (2, 3)


def test_sessions_outside_the_window_are_ignored() -> None:
    sessions = [d(-1), d(-5), d(14)]
    result = adherence_14d(sessions, DAILY, RUNNING, LONG_AGO, d(13), POLICY)
    assert result.completed == 0


def test_adherence_is_unknown_before_day_one() -> None:
    result = adherence_14d([d(0)], DAILY, RUNNING, d(5), d(0), POLICY)
    assert result.ratio is None
    assert result.band is AdherenceBand.UNKNOWN
    assert result.window_start > result.window_end
    assert (result.completed, result.scheduled) == (0, 0)


@pytest.mark.parametrize(
    ("schedule", "statuses", "start"),
    [
        pytest.param(DAILY, RUNNING, d(13), id="day-one-before-any-session"),
        pytest.param(
            DAILY,
            [*RUNNING, StatusFact(d(-1), "suspended")],
            LONG_AGO,
            id="suspended-all-window",
        ),
        pytest.param(
            [ScheduleFact(LONG_AGO, (6,))], RUNNING, d(7), id="only-sunday-today-not-done"
        ),
    ],
)
def test_adherence_is_unknown_with_no_scheduled_day_in_the_window(
    schedule: list[ScheduleFact], statuses: list[StatusFact], start: date
) -> None:
    result = adherence_14d([], schedule, statuses, start, d(13), POLICY)
    assert result.ratio is None
    assert result.band is AdherenceBand.UNKNOWN


def test_bands_follow_the_clinic_policy() -> None:
    strict = Policy.from_overrides({"adherent": "9/10", "low_adherence": "3/5"})
    sessions = [day for day in days(0, 13) if day.weekday() < 5][:8]
    weekdays = [ScheduleFact(LONG_AGO, (0, 1, 2, 3, 4))]
    assert adherence_14d(sessions, weekdays, RUNNING, LONG_AGO, SUNDAY, strict).band == "partial"
    five = sessions[:5]
    assert adherence_14d(five, weekdays, RUNNING, LONG_AGO, SUNDAY, strict).band == "low"


# --- missed_last_scheduled --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sessions", "start", "today", "missed"),
    [
        pytest.param([], d(0), d(5), True, id="three-missed"),
        pytest.param([d(1)], d(0), d(5), True, id="a-session-before-the-last-three"),
        pytest.param([d(4)], d(0), d(5), False, id="one-of-the-last-three-done"),
        pytest.param([d(5)], d(0), d(5), False, id="a-session-today"),
        pytest.param([], d(3), d(5), False, id="only-two-days-since-day-one"),
        pytest.param([], d(2), d(5), True, id="exactly-three-days-since-day-one"),
        pytest.param([], d(6), d(5), False, id="before-day-one"),
    ],
)
def test_missed_last_scheduled_counts_today_only_once_it_has_a_session(
    sessions: list[date], start: date, today: date, missed: bool
) -> None:
    assert missed_last_scheduled(sessions, DAILY, RUNNING, start, today) is missed


def test_missed_last_scheduled_skips_unscheduled_and_paused_days() -> None:
    schedule = [ScheduleFact(LONG_AGO, MON_WED_FRI)]
    statuses = [*RUNNING, StatusFact(d(6), "paused"), StatusFact(d(8), "active")]
    # Scheduled before Friday d(11): Mon d(0), Wed d(2), Fri d(4), [paused d(7)], Wed d(9).
    assert missed_last_scheduled([d(0)], schedule, statuses, LONG_AGO, d(11)) is True
    assert missed_last_scheduled([d(2)], schedule, statuses, LONG_AGO, d(11)) is False


def test_missed_last_scheduled_takes_the_count_from_the_caller() -> None:
    assert missed_last_scheduled([d(1)], DAILY, RUNNING, LONG_AGO, d(4), n=2) is True
    assert missed_last_scheduled([d(1)], DAILY, RUNNING, LONG_AGO, d(4), n=3) is False
    with pytest.raises(ValueError, match="at least 1"):
        missed_last_scheduled([], DAILY, RUNNING, LONG_AGO, d(4), n=0)

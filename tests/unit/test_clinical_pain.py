"""Unit tests for baseline, current and change in resting pain (CLINICAL §1–§2)."""

from datetime import date, timedelta
from fractions import Fraction

import pytest

from app.clinical import (
    PainStatus,
    Policy,
    Reading,
    baseline,
    current,
    pain_change,
    program_day,
)

POLICY = Policy()
START = date(2026, 3, 2)


def on_day(day: int, value: int) -> Reading:
    """Return a reading on program day ``day`` (day 1 = START)."""
    return Reading(START + timedelta(days=day - 1), value)


def days_ago(offset: int, value: int, today: date) -> Reading:
    """Return a reading ``offset`` local days before ``today``."""
    return Reading(today - timedelta(days=offset), value)


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (START, 1),
        (START + timedelta(days=6), 7),
        (START + timedelta(days=20), 21),
        (START - timedelta(days=1), 0),
        (START - timedelta(days=5), -4),
    ],
)
def test_program_day_counts_the_episode_start_as_day_one(today: date, expected: int) -> None:
    assert program_day(START, today) == expected


@pytest.mark.parametrize("value", [-1, 11, True, 2.5, "3"])
def test_reading_rejects_values_outside_the_nprs(value: object) -> None:
    with pytest.raises(ValueError, match="0 to 10"):
        Reading(START, value)  # type: ignore[arg-type]


# --- baseline ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("readings", "intake", "expected"),
    [
        pytest.param([(1, 6), (3, 6), (7, 6)], None, Fraction(6), id="three-readings-in-week-one"),
        pytest.param([(1, 5), (2, 6), (2, 6)], None, Fraction(17, 3), id="mean-per-reading"),
        pytest.param(
            [(1, 4), (4, 5), (6, 6), (7, 7), (8, 10)],
            None,
            Fraction(11, 2),
            id="whole-week-one-and-no-later-day",
        ),
        pytest.param([(1, 4), (5, 4), (8, 7)], 9, Fraction(5), id="extends-to-day-8"),
        pytest.param(
            [(2, 3), (9, 6), (11, 9), (12, 9)],
            None,
            Fraction(6),
            id="extends-day-by-day-and-stops-at-three-readings",
        ),
        pytest.param([(3, 4), (14, 7), (14, 7)], None, Fraction(6), id="day-14-still-counts"),
        pytest.param([(3, 4), (13, 5), (15, 7)], 8, Fraction(8), id="day-15-is-too-late"),
        pytest.param([(1, 4), (2, 4)], 7, Fraction(7), id="two-readings-fall-back-to-intake"),
        pytest.param([], 0, Fraction(0), id="intake-of-zero-is-known"),
        pytest.param([(1, 4), (2, 4)], None, None, id="no-intake-is-unknown"),
        pytest.param([(0, 9), (-3, 9), (1, 3), (2, 3)], 5, Fraction(5), id="before-day-1-ignored"),
    ],
)
def test_baseline_follows_the_week_one_then_extend_then_intake_rule(
    readings: list[tuple[int, int]], intake: int | None, expected: Fraction | None
) -> None:
    given = [on_day(day, value) for day, value in readings]
    assert baseline(given, START, intake, POLICY) == expected


def test_baseline_needs_as_many_readings_as_the_policy_says() -> None:
    policy = Policy.from_overrides({"min_readings": 4})
    readings = [on_day(1, 2), on_day(2, 2), on_day(3, 2), on_day(10, 6)]
    assert baseline(readings, START, None, policy) == Fraction(3)


def test_baseline_rejects_an_impossible_intake_pain() -> None:
    with pytest.raises(ValueError, match="intake pain"):
        baseline([], START, 11, POLICY)


# --- current ----------------------------------------------------------------------------------

TODAY = date(2026, 4, 20)


@pytest.mark.parametrize(
    ("offsets", "expected"),
    [
        pytest.param([(0, 4), (3, 5), (6, 6)], Fraction(5), id="today-and-six-days-ago-count"),
        pytest.param([(0, 4), (0, 5), (1, 5)], Fraction(14, 3), id="mean-per-reading"),
        pytest.param([(0, 4), (3, 5)], None, id="two-readings-unknown"),
        pytest.param([(0, 4), (3, 5), (7, 6)], None, id="seven-days-ago-is-outside"),
        pytest.param([(-1, 4), (3, 5), (4, 6)], None, id="tomorrow-is-outside"),
        pytest.param([], None, id="no-readings-unknown"),
    ],
)
def test_current_is_the_mean_of_the_last_seven_days_with_three_readings(
    offsets: list[tuple[int, int]], expected: Fraction | None
) -> None:
    readings = [days_ago(offset, value, TODAY) for offset, value in offsets]
    assert current(readings, TODAY, POLICY) == expected


# --- pain_change ------------------------------------------------------------------------------

F = Fraction


@pytest.mark.parametrize(
    ("base", "now", "status"),
    [
        pytest.param(F(6), F(4), PainStatus.IMPROVED, id="fall-of-exactly-2"),
        pytest.param(F(8), F(6), PainStatus.IMPROVED, id="fall-of-2-is-25-percent-of-8"),
        pytest.param(F(8), F(61, 10), PainStatus.NO_CHANGE, id="fall-of-1.9-and-24-percent"),
        pytest.param(F(6), F(13, 3), PainStatus.NO_CHANGE, id="fall-of-1.67-and-28-percent"),
        pytest.param(F(10), F(71, 10), PainStatus.IMPROVED, id="fall-of-2.9"),
        pytest.param(F(3), F(2), PainStatus.IMPROVED, id="33-percent-and-1-point"),
        pytest.param(F(3), F(21, 10), PainStatus.NO_CHANGE, id="30-percent-but-0.9-point"),
        pytest.param(F(2), F(3, 2), PainStatus.NO_CHANGE, id="25-percent-and-half-a-point"),
        pytest.param(F(2), F(1), PainStatus.IMPROVED, id="50-percent-and-1-point"),
        pytest.param(F(5), F(7, 2), PainStatus.IMPROVED, id="exactly-30-percent-1.5-points"),
        pytest.param(F(5), F(18, 5), PainStatus.NO_CHANGE, id="28-percent-1.4-points"),
        pytest.param(F(6), F(21, 5), PainStatus.IMPROVED, id="exactly-30-percent-1.8-points"),
        pytest.param(F(10, 3), F(7, 3), PainStatus.IMPROVED, id="30-percent-exactly-1-point"),
        pytest.param(F(4), F(6), PainStatus.WORSENED, id="rise-of-exactly-2"),
        pytest.param(F(4), F(59, 10), PainStatus.NO_CHANGE, id="rise-of-1.9"),
        pytest.param(F(0), F(2), PainStatus.WORSENED, id="rise-from-zero"),
        pytest.param(F(0), F(0), PainStatus.NO_CHANGE, id="zero-stays-zero"),
        pytest.param(F(5), F(5), PainStatus.NO_CHANGE, id="unchanged"),
        pytest.param(None, F(5), PainStatus.UNKNOWN, id="unknown-baseline"),
        pytest.param(F(5), None, PainStatus.UNKNOWN, id="unknown-current"),
    ],
)
def test_pain_change_status_follows_the_2_point_and_30_percent_rules(
    base: Fraction | None, now: Fraction | None, status: PainStatus
) -> None:
    assert pain_change(base, now, POLICY).status is status


def test_a_two_point_fall_in_means_counts_as_two_where_floats_would_not() -> None:
    # In binary floating point 13/3 − 7/3 is 1.9999999999999996; CLINICAL §2 says it is 2.
    start_readings = [on_day(1, 4), on_day(2, 4), on_day(3, 5)]
    today = START + timedelta(days=30)
    recent = [days_ago(0, 2, today), days_ago(1, 2, today), days_ago(2, 3, today)]
    change = pain_change(
        baseline(start_readings, START, None, POLICY), current(recent, today, POLICY), POLICY
    )
    assert change.points == -2
    assert change.status is PainStatus.IMPROVED


def test_a_thirty_percent_one_point_fall_in_means_counts_where_floats_would_not() -> None:
    # Baseline 8/3, current 5/3: a fall of exactly 1 point and 37.5 % (floats give 0.999…).
    change = pain_change(Fraction(8, 3), Fraction(5, 3), POLICY)
    assert change.points == -1
    assert change.status is PainStatus.IMPROVED


def test_six_six_six_to_four_four_four_is_improved() -> None:
    today = START + timedelta(days=30)
    base = baseline([on_day(1, 6), on_day(2, 6), on_day(3, 6)], START, None, POLICY)
    now = current([days_ago(n, 4, today) for n in range(3)], today, POLICY)
    assert pain_change(base, now, POLICY).status is PainStatus.IMPROVED


def test_pain_change_reports_points_and_percent_of_baseline() -> None:
    change = pain_change(Fraction(3), Fraction(2), POLICY)
    assert change.points == -1
    assert change.percent == Fraction(-100, 3)
    assert (change.baseline, change.current) == (3, 2)


@pytest.mark.parametrize(("base", "now"), [(Fraction(0), Fraction(1)), (None, Fraction(1))])
def test_percent_is_unknown_without_a_positive_baseline(
    base: Fraction | None, now: Fraction
) -> None:
    assert pain_change(base, now, POLICY).percent is None


def test_unknown_change_has_no_points() -> None:
    change = pain_change(Fraction(5), None, POLICY)
    assert (change.points, change.percent, change.recovered) == (None, None, False)


@pytest.mark.parametrize(
    ("base", "now", "recovered"),
    [
        (Fraction(4), Fraction(0), True),
        (Fraction(4), Fraction(1, 3), False),
        (Fraction(0), Fraction(0), False),
    ],
)
def test_recovered_is_a_label_beside_improved_at_zero_pain(
    base: Fraction, now: Fraction, recovered: bool
) -> None:
    assert pain_change(base, now, POLICY).recovered is recovered


def test_a_clinic_can_raise_the_improvement_threshold() -> None:
    strict = Policy.from_overrides({"improve_points": 3, "improve_fraction": "1/2"})
    assert pain_change(Fraction(6), Fraction(4), strict).status is PainStatus.NO_CHANGE
    assert pain_change(Fraction(6), Fraction(3), strict).status is PainStatus.IMPROVED


def test_zero_thresholds_never_call_no_change_an_improvement() -> None:
    lax = Policy.from_overrides({"improve_floor_points": 0, "improve_fraction": 0})
    assert pain_change(Fraction(0), Fraction(0), lax).status is PainStatus.NO_CHANGE

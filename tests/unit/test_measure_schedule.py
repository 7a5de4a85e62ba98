"""Unit tests for the schedule of due outcome measures (CLINICAL §8; DESIGN §4)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from app.measures import (
    DISCHARGE,
    REQUESTED,
    Due,
    due_measures,
    load_instrument_file,
    point_reason,
    shipped_instruments,
    validate_disabled,
)

SHIPPED = shipped_instruments()
# Intake order on the phone: pain, risk, function.
INSTRUMENTS = [SHIPPED["nprs"], SHIPPED["start-back"], SHIPPED["psfs"]]
ODI = load_instrument_file(
    Path(__file__).resolve().parents[1] / "fixtures" / "instruments" / "odi.json"
)
START = date(2026, 3, 2)
INTAKE_DONE = [("nprs", START), ("start-back", START), ("psfs", START)]


def day(number: int) -> date:
    """Return the local date of program day ``number`` (day 1 = START)."""
    return START + timedelta(days=number - 1)


def due_on(
    number: int,
    completed: list[tuple[str, date]] | None = None,
    **options: object,
) -> list[Due]:
    """Return what is due on program day ``number`` with the shipped instruments."""
    done = INTAKE_DONE if completed is None else completed
    return due_measures(INSTRUMENTS, START, day(number), done, **options)  # type: ignore[arg-type]


def test_intake_measures_are_all_due_on_day_one() -> None:
    assert due_on(1, completed=[]) == [
        Due("nprs", START, "intake"),
        Due("start-back", START, "intake"),
        Due("psfs", START, "intake"),
    ]


@pytest.mark.parametrize("days_before", [1, 7])
def test_nothing_is_due_before_program_day_one(days_before: int) -> None:
    today = START - timedelta(days=days_before)
    assert due_measures(INSTRUMENTS, START, today, [], [("psfs", today)]) == []


def test_an_intake_measure_done_on_day_one_is_not_due_again() -> None:
    done = [("nprs", START), ("psfs", START)]
    assert due_on(1, completed=done) == [Due("start-back", START, "intake")]


def test_a_missed_intake_measure_stays_due_with_its_first_date() -> None:
    assert due_on(10, completed=[("nprs", START)]) == [
        Due("start-back", START, "intake"),
        Due("psfs", START, "intake"),
    ]


def test_an_intake_measure_done_at_the_clinic_visit_just_before_day_one_counts() -> None:
    assert due_on(1, completed=[(sb, START - timedelta(days=3)) for sb, _ in INTAKE_DONE]) == []


@pytest.mark.parametrize("number", [2, 10, 20])
def test_nothing_is_due_between_intake_and_week_three(number: int) -> None:
    assert due_on(number) == []


def test_psfs_is_due_at_week_three_on_day_21() -> None:
    assert due_on(21) == [Due("psfs", day(21), "week 3")]


def test_a_psfs_completed_on_day_19_satisfies_week_three() -> None:
    # [D] a completion up to 3 days before the due date counts for it (day 18 onwards).
    assert due_on(21, completed=[*INTAKE_DONE, ("psfs", day(19))]) == []
    assert due_on(21, completed=[*INTAKE_DONE, ("psfs", day(18))]) == []


def test_a_psfs_completed_four_days_early_does_not_satisfy_week_three() -> None:
    assert due_on(21, completed=[*INTAKE_DONE, ("psfs", day(17))]) == [
        Due("psfs", day(21), "week 3")
    ]


def test_the_intake_psfs_does_not_satisfy_week_three() -> None:
    assert due_on(22, completed=[("nprs", START), ("start-back", START), ("psfs", START)]) == [
        Due("psfs", day(21), "week 3")
    ]


@pytest.mark.parametrize("number", [22, 30, 41])
def test_a_missed_week_three_psfs_stays_due_until_week_six(number: int) -> None:
    assert due_on(number) == [Due("psfs", day(21), "week 3")]


def test_week_six_supersedes_a_missed_week_three() -> None:
    assert due_on(42) == [Due("psfs", day(42), "week 6")]


def test_a_late_week_three_psfs_is_satisfied_when_done() -> None:
    assert due_on(35, completed=[*INTAKE_DONE, ("psfs", day(30))]) == []


def test_a_late_week_three_psfs_does_not_satisfy_week_six() -> None:
    assert due_on(42, completed=[*INTAKE_DONE, ("psfs", day(30))]) == [
        Due("psfs", day(42), "week 6")
    ]


def test_psfs_is_due_at_week_twelve_on_day_84_and_stays_due_until_done() -> None:
    done = [*INTAKE_DONE, ("psfs", day(21)), ("psfs", day(42))]
    assert due_on(83, completed=done) == []
    assert due_on(84, completed=done) == [Due("psfs", day(84), "week 12")]
    assert due_on(120, completed=done) == [Due("psfs", day(84), "week 12")]
    assert due_on(120, completed=[*done, ("psfs", day(90))]) == []


def test_a_moved_clock_walks_through_the_schedule() -> None:
    # A patient who completes each measure on the day it falls due.
    done: list[tuple[str, date]] = []
    seen: list[tuple[int, str, str]] = []
    for number in range(1, 100):
        for due in due_on(number, completed=done):
            seen.append((number, due.instrument, due.reason))
            done.append((due.instrument, day(number)))
    assert seen == [
        (1, "nprs", "intake"),
        (1, "start-back", "intake"),
        (1, "psfs", "intake"),
        (21, "psfs", "week 3"),
        (42, "psfs", "week 6"),
        (84, "psfs", "week 12"),
    ]


def test_a_disabled_instrument_is_never_due() -> None:
    assert due_on(1, completed=[], disabled={"start-back"}) == [
        Due("nprs", START, "intake"),
        Due("psfs", START, "intake"),
    ]
    assert due_on(5, completed=[], requested=[("start-back", day(5))], disabled={"start-back"}) == [
        Due("nprs", START, "intake"),
        Due("psfs", START, "intake"),
    ]


def test_a_therapist_request_makes_a_measure_due_now() -> None:
    assert due_on(15, requested=[("nprs", day(15))]) == [Due("nprs", day(15), REQUESTED)]
    assert REQUESTED == "requested by your therapist"


def test_a_request_stays_due_until_completed_on_or_after_it() -> None:
    requested = [("nprs", day(15))]
    assert due_on(18, requested=requested) == [Due("nprs", day(15), REQUESTED)]
    # A completion before the request does not answer it: the therapist asked after seeing it.
    before = [*INTAKE_DONE, ("nprs", day(14))]
    assert due_on(18, completed=before, requested=requested) == [Due("nprs", day(15), REQUESTED)]
    on_the_day = [*INTAKE_DONE, ("nprs", day(15))]
    assert due_on(18, completed=on_the_day, requested=requested) == []


def test_only_the_latest_request_for_an_instrument_counts() -> None:
    done = [*INTAKE_DONE, ("nprs", day(12))]
    requested = [("nprs", day(10)), ("nprs", day(14))]
    assert due_on(15, completed=done, requested=requested) == [Due("nprs", day(14), REQUESTED)]


def test_a_request_dated_after_today_is_not_due_yet() -> None:
    assert due_on(15, requested=[("nprs", day(16))]) == []


def test_a_request_and_a_scheduled_point_show_once_with_the_older_reason() -> None:
    assert due_on(22, requested=[("psfs", day(22))]) == [Due("psfs", day(21), "week 3")]
    assert due_on(22, requested=[("psfs", day(10))]) == [Due("psfs", day(10), REQUESTED)]
    # One completion answers both.
    assert (
        due_on(23, completed=[*INTAKE_DONE, ("psfs", day(22))], requested=[("psfs", day(22))]) == []
    )


def test_a_request_for_an_unknown_instrument_is_ignored() -> None:
    assert due_on(15, requested=[("rmdq", day(15))]) == []


def test_discharge_makes_psfs_due_in_place_of_the_scheduled_point() -> None:
    assert due_on(50, discharge_on=day(50)) == [Due("psfs", day(50), DISCHARGE)]
    # It replaces the pending week-6 point rather than adding to it.
    assert due_on(55, discharge_on=day(50)) == [Due("psfs", day(50), "discharge")]


def test_discharge_is_satisfied_by_a_psfs_within_the_tolerance() -> None:
    done = [*INTAKE_DONE, ("psfs", day(42)), ("psfs", day(84))]
    assert due_on(86, completed=done, discharge_on=day(86)) == []
    # Weeks later the completion still counts: the discharge date, not today, opens the window.
    assert due_on(120, completed=done, discharge_on=day(86)) == []
    assert due_on(90, completed=done, discharge_on=day(90)) == [Due("psfs", day(90), "discharge")]


def test_a_planned_discharge_is_not_due_before_its_date() -> None:
    assert due_on(44, completed=[*INTAKE_DONE, ("psfs", day(42))], discharge_on=day(50)) == []


def test_nprs_and_start_back_are_not_due_at_discharge() -> None:
    assert [due.instrument for due in due_on(60, completed=[], discharge_on=day(60))] == [
        "nprs",
        "start-back",
        "psfs",
    ]
    reasons = {due.instrument: due.reason for due in due_on(60, completed=[], discharge_on=day(60))}
    assert reasons == {"nprs": "intake", "start-back": "intake", "psfs": "discharge"}


def test_a_clinic_added_disability_measure_follows_its_own_schedule() -> None:
    instruments = [*INSTRUMENTS, ODI]
    done = [*INTAKE_DONE, ("odi", START)]
    assert due_measures(instruments, START, day(21), done) == [
        Due("psfs", day(21), "week 3"),
        Due("odi", day(21), "week 3"),
    ]


def test_due_measures_are_listed_oldest_first() -> None:
    done = [("nprs", START), ("start-back", START)]
    assert due_on(25, completed=done, requested=[("nprs", day(24))]) == [
        Due("psfs", day(21), "week 3"),
        Due("nprs", day(24), REQUESTED),
    ]
    assert due_on(25, completed=done, requested=[("nprs", day(18))]) == [
        Due("nprs", day(18), REQUESTED),
        Due("psfs", day(21), "week 3"),
    ]


def test_a_zero_tolerance_needs_a_completion_on_or_after_the_due_date() -> None:
    done = [*INTAKE_DONE, ("psfs", day(20))]
    assert due_on(21, completed=done, tolerance_days=0) == [Due("psfs", day(21), "week 3")]


@pytest.mark.parametrize("tolerance", [-1, True, 1.5])
def test_the_tolerance_must_be_a_whole_number_of_days(tolerance: object) -> None:
    with pytest.raises(ValueError, match="tolerance_days"):
        due_on(21, tolerance_days=tolerance)


@pytest.mark.parametrize(
    ("number", "reason"),
    [(1, "intake"), (21, "week 3"), (42, "week 6"), (84, "week 12"), (10, "day 10")],
)
def test_a_scheduled_day_is_named_for_the_patient(number: int, reason: str) -> None:
    assert point_reason(number) == reason


def test_only_an_instrument_that_allows_it_can_be_switched_off() -> None:
    assert validate_disabled(SHIPPED, ["start-back"]) == {}
    assert validate_disabled(SHIPPED, ["psfs", "nprs", "rmdq"]) == {
        "psfs": "Patient-Specific Functional Scale cannot be switched off",
        "nprs": "Numeric Pain Rating Scale cannot be switched off",
        "rmdq": "there is no such instrument",
    }

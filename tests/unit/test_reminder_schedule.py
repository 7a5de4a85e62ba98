"""Unit tests for the pure reminder schedule (DESIGN §4 "Reminders", issue 12 item 2).

Every instant is explicit: no clock is read. 2 March 2026 is a Monday.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.clinical.adherence import ScheduleFact, StatusFact
from app.reminders import (
    LATEST_SEND_TIME,
    DueReminder,
    ReminderInput,
    ReminderKind,
    due_reminders,
    local_instant,
    send_time,
)

TZ = "Europe/Madrid"
MONDAY = date(2026, 3, 2)
MON_TO_FRI = (0, 1, 2, 3, 4)
EVERY_DAY = (0, 1, 2, 3, 4, 5, 6)
REMINDER = ReminderKind.REMINDER
FOLLOW_UP = ReminderKind.FOLLOW_UP


def d(offset: int) -> date:
    """Return the date ``offset`` days after MONDAY."""
    return MONDAY + timedelta(days=offset)


def at(day: date, hour: int, minute: int = 0, tz: str = TZ) -> datetime:
    """Return the UTC instant of a local wall-clock time."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def patient(**changes: object) -> ReminderInput:
    """Return a Mon–Fri patient whose program started on MONDAY, with ``changes`` applied."""
    fields: dict[str, object] = {
        "patient_id": 1,
        "timezone": TZ,
        "schedule": (ScheduleFact(MONDAY, MON_TO_FRI),),
        "statuses": (StatusFact(MONDAY, "active"),),
        "program_start": MONDAY,
    }
    fields.update(changes)
    return ReminderInput(**fields)  # type: ignore[arg-type]


def kinds(reminders: list[DueReminder]) -> list[tuple[int, date, ReminderKind]]:
    return [(r.patient_id, r.local_date, r.kind) for r in reminders]


# --- today's reminder -------------------------------------------------------------------------


def test_reminder_is_due_once_the_local_time_has_passed_on_a_scheduled_day() -> None:
    tuesday = d(1)
    monday_done = patient(session_dates={d(0)})
    assert due_reminders([monday_done], at(tuesday, 17, 59)) == []

    (reminder,) = due_reminders([monday_done], at(tuesday, 18, 0))
    assert reminder.kind is REMINDER
    assert reminder.local_date == tuesday
    assert reminder.due_at == at(tuesday, 18, 0)
    assert reminder.send_until == at(tuesday, 21, 0)
    assert reminder.channels == ("email",)
    assert "2026-03-03" in reminder.reason


def test_a_run_after_the_reminder_time_still_finds_it_due() -> None:
    # The command runs every 15 minutes: "has passed today", not "is now".
    monday_done = patient(session_dates={d(0)})
    assert kinds(due_reminders([monday_done], at(d(1), 19, 37))) == [(1, d(1), REMINDER)]


def test_no_reminder_once_a_session_is_logged_today() -> None:
    done = patient(session_dates={d(1)})
    assert due_reminders([done], at(d(1), 18, 30)) == []


def test_no_reminder_when_one_was_already_sent_today() -> None:
    sent = patient(sent={(d(1), "reminder")}, session_dates={d(0)})
    assert due_reminders([sent], at(d(1), 18, 30)) == []
    assert due_reminders([sent], at(d(1), 20, 59)) == []


def test_a_reminder_sent_yesterday_does_not_stop_todays() -> None:
    sent = patient(sent={(d(1), "reminder")}, session_dates={d(1)})
    assert kinds(due_reminders([sent], at(d(2), 18, 30))) == [(1, d(2), REMINDER)]


def test_no_reminder_on_a_day_the_program_does_not_schedule() -> None:
    saturday = d(5)
    friday_done = patient(session_dates={d(4)})
    assert due_reminders([friday_done], at(saturday, 18, 30)) == []


def test_nothing_for_a_disabled_patient_one_without_channels_or_before_day_1() -> None:
    now = at(d(1), 18, 30)
    assert due_reminders([patient(enabled=False)], now) == []
    assert due_reminders([patient(channels=())], now) == []
    assert due_reminders([patient(program_start=None, schedule=(), statuses=())], now) == []
    later_start = patient(
        program_start=d(2),
        schedule=(ScheduleFact(d(2), MON_TO_FRI),),
        statuses=(StatusFact(d(2), "active"),),
    )
    assert due_reminders([later_start], now) == []


def test_the_reminder_time_may_be_given_as_hh_mm() -> None:
    (reminder,) = due_reminders([patient(time="19:30")], at(d(0), 19, 30))
    assert reminder.due_at == at(d(0), 19, 30)


def test_channels_are_handed_on() -> None:
    (reminder,) = due_reminders([patient(channels=("email", "push"))], at(d(0), 18, 30))
    assert reminder.channels == ("email", "push")


# --- follow-up --------------------------------------------------------------------------------


def test_follow_up_is_due_the_day_after_a_missed_scheduled_day_in_place_of_the_reminder() -> None:
    monday_missed = patient(sent={(d(0), "reminder")})
    tuesday = d(1)
    assert due_reminders([monday_missed], at(tuesday, 17, 59)) == []

    (follow_up,) = due_reminders([monday_missed], at(tuesday, 18, 0))
    assert follow_up.kind is FOLLOW_UP
    assert follow_up.local_date == tuesday
    assert "2026-03-02" in follow_up.reason


def test_follow_up_goes_out_only_once_and_then_nothing_more_that_day() -> None:
    followed_up = patient(sent={(d(0), "reminder"), (d(1), "follow_up")})
    assert due_reminders([followed_up], at(d(1), 18, 15)) == []
    assert due_reminders([followed_up], at(d(1), 20, 45)) == []


def test_no_follow_up_two_days_running() -> None:
    # Monday and Tuesday missed; Tuesday had its follow-up, so Wednesday is a plain reminder.
    history = patient(sent={(d(0), "reminder"), (d(1), "follow_up")})
    assert kinds(due_reminders([history], at(d(2), 18, 0))) == [(1, d(2), REMINDER)]
    # Wednesday missed too: Thursday may follow up again (not two days running).
    history = replace(history, sent=history.sent | {(d(2), REMINDER)})
    assert kinds(due_reminders([history], at(d(3), 18, 0))) == [(1, d(3), FOLLOW_UP)]


def test_follow_up_also_comes_on_a_day_that_is_not_a_reminder_day() -> None:
    # Friday missed, Saturday is not scheduled: the follow-up still comes on Saturday.
    assert kinds(due_reminders([patient()], at(d(5), 18, 0))) == [(1, d(5), FOLLOW_UP)]


def test_no_follow_up_after_a_day_that_was_not_scheduled() -> None:
    # Saturday is not scheduled, so nothing is missed; Sunday is not scheduled either.
    assert due_reminders([patient(session_dates={d(4)})], at(d(6), 18, 0)) == []


def test_no_follow_up_when_yesterday_has_a_logged_session() -> None:
    assert kinds(due_reminders([patient(session_dates={d(0)})], at(d(1), 18, 0))) == [
        (1, d(1), REMINDER)
    ]


def test_no_follow_up_once_the_patient_logs_a_session_today() -> None:
    assert due_reminders([patient(session_dates={d(1)})], at(d(1), 18, 0)) == []


def test_no_follow_up_for_the_day_before_day_1() -> None:
    # Program day 1 is Tuesday; Monday is before it (and has no schedule) — plain reminder.
    started_tuesday = patient(
        program_start=d(1),
        schedule=(ScheduleFact(d(1), EVERY_DAY),),
        statuses=(StatusFact(d(1), "active"),),
    )
    assert kinds(due_reminders([started_tuesday], at(d(1), 18, 0))) == [(1, d(1), REMINDER)]
    assert kinds(due_reminders([started_tuesday], at(d(2), 18, 0))) == [(1, d(2), FOLLOW_UP)]


# --- quiet hours ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hour", "minute"), [(21, 0), (22, 30), (23, 59), (0, 0), (2, 30), (6, 0), (7, 59)]
)
def test_nothing_is_due_during_quiet_hours(hour: int, minute: int) -> None:
    # Wednesday night or Thursday morning, nothing logged that day, yesterday done: without
    # quiet hours a reminder would be due, whatever the chosen time.
    day = d(2) if hour >= 21 else d(3)
    for chosen in (time(18, 0), time(hour, minute), time(22, 30), time(6, 0)):
        waiting = patient(time=chosen, session_dates={day - timedelta(days=1)})
        assert due_reminders([waiting], at(day, hour, minute)) == []
        assert due_reminders([waiting], at(day, 20, 45))  # the same day is due before 21:00


def test_a_reminder_time_in_the_evening_quiet_hours_goes_out_at_20_45() -> None:
    night_owl = patient(time=time(22, 30))
    assert due_reminders([night_owl], at(d(1), 20, 44)) == []
    (reminder,) = due_reminders([night_owl], at(d(1), 20, 45))
    assert reminder.due_at == at(d(1), 20, 45)
    assert due_reminders([night_owl], at(d(1), 21, 0)) == []


def test_a_reminder_time_before_8_waits_until_8() -> None:
    early = patient(time=time(6, 0), session_dates={d(0)})
    assert due_reminders([early], at(d(1), 7, 59)) == []
    (reminder,) = due_reminders([early], at(d(1), 8, 0))
    assert reminder.due_at == at(d(1), 8, 0)


@pytest.mark.parametrize(
    ("chosen", "sent_at"),
    [
        (time(0, 0), time(8, 0)),
        (time(2, 30), time(8, 0)),
        (time(7, 59), time(8, 0)),
        (time(8, 0), time(8, 0)),
        (time(18, 0), time(18, 0)),
        (time(20, 45), time(20, 45)),
        (time(20, 50), LATEST_SEND_TIME),
        (time(21, 0), LATEST_SEND_TIME),
        (time(23, 59), LATEST_SEND_TIME),
    ],
)
def test_send_time_is_clamped_into_the_day(chosen: time, sent_at: time) -> None:
    assert send_time(chosen) == sent_at


# --- pauses and suspensions -------------------------------------------------------------------


@pytest.mark.parametrize("status", ["paused", "suspended", "ended"])
def test_nothing_while_the_program_is_not_active(status: str) -> None:
    # Recorded on Sunday: in force from Monday (CLINICAL §3: from the end of the day).
    stopped = patient(statuses=(StatusFact(MONDAY, "active"), StatusFact(d(6), status)))
    assert due_reminders([stopped], at(d(7), 18, 0)) == []  # Monday: no reminder
    assert due_reminders([stopped], at(d(8), 18, 0)) == []  # Tuesday: no follow-up either


def test_a_pause_recorded_today_stops_todays_reminder() -> None:
    paused_today = patient(
        statuses=(StatusFact(MONDAY, "active"), StatusFact(d(1), "paused")),
        session_dates={d(0)},
    )
    assert due_reminders([paused_today], at(d(1), 18, 0)) == []


def test_no_follow_up_after_resuming_when_the_missed_day_was_paused() -> None:
    # Paused from Tuesday, resumed on Wednesday (in force Thursday): Wednesday was paused, so
    # Thursday has a plain reminder, not a follow-up.
    resumed = patient(
        statuses=(
            StatusFact(MONDAY, "active"),
            StatusFact(d(0), "paused"),
            StatusFact(d(2), "active"),
        ),
    )
    assert due_reminders([resumed], at(d(2), 18, 0)) == []  # the resume counts from tomorrow
    assert kinds(due_reminders([resumed], at(d(3), 18, 0))) == [(1, d(3), REMINDER)]


def test_no_follow_up_on_the_first_paused_day_after_a_missed_day() -> None:
    # Monday missed, paused on Monday (in force Tuesday): no follow-up during the pause.
    paused = patient(statuses=(StatusFact(MONDAY, "active"), StatusFact(d(0), "paused")))
    assert due_reminders([paused], at(d(1), 18, 0)) == []


# --- which days -------------------------------------------------------------------------------


def test_patient_picked_days_replace_the_program_weekdays() -> None:
    weekend = patient(days=(5, 6), session_dates={d(0), d(1), d(2), d(3), d(4)})
    assert due_reminders([weekend], at(d(1), 18, 0)) == []  # Tuesday: a program day, not picked
    assert kinds(due_reminders([weekend], at(d(5), 18, 0))) == [(1, d(5), REMINDER)]


def test_program_weekdays_are_followed_through_a_schedule_change() -> None:
    # Mon–Fri until Tuesday 10 March, Mon/Wed/Fri from Wednesday 11 March.
    changed = (ScheduleFact(MONDAY, MON_TO_FRI), ScheduleFact(d(9), (0, 2, 4)))
    follows_program = patient(schedule=changed)
    picked = replace(follows_program, days=(1, 3))  # Tuesday and Thursday
    tuesday, wednesday, thursday = d(8), d(9), d(10)

    def due_on(p: ReminderInput, day: date) -> list[tuple[int, date, ReminderKind]]:
        # A session yesterday, so only today's reminder is in question.
        yesterday_done = replace(p, session_dates={day - timedelta(days=1)})
        return kinds(due_reminders([yesterday_done], at(day, 18, 0)))

    assert due_on(follows_program, tuesday) == [(1, tuesday, REMINDER)]
    assert due_on(follows_program, wednesday) == [(1, wednesday, REMINDER)]
    assert due_on(follows_program, thursday) == []
    assert due_on(picked, tuesday) == [(1, tuesday, REMINDER)]
    assert due_on(picked, wednesday) == []
    assert due_on(picked, thursday) == [(1, thursday, REMINDER)]


def test_follow_up_reads_the_program_schedule_in_force_on_the_missed_day() -> None:
    # Thursday 12 March is no longer scheduled after the change: Friday has no follow-up.
    changed = (ScheduleFact(MONDAY, MON_TO_FRI), ScheduleFact(d(9), (0, 2, 4)))
    thursday_free = patient(schedule=changed, session_dates={d(9)})
    assert kinds(due_reminders([thursday_free], at(d(11), 18, 0))) == [(1, d(11), REMINDER)]
    # Before the change Thursday 5 March was scheduled: Friday 6 March follows up.
    assert kinds(due_reminders([thursday_free], at(d(4), 18, 0))) == [(1, d(4), FOLLOW_UP)]


# --- time zones and summer time ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "day", "expected"),
    [
        # US: summer time starts Sunday 8 March 2026, ends Sunday 1 November 2026.
        ("America/New_York", date(2026, 3, 7), datetime(2026, 3, 7, 23, 0, tzinfo=UTC)),
        ("America/New_York", date(2026, 3, 8), datetime(2026, 3, 8, 22, 0, tzinfo=UTC)),
        ("America/New_York", date(2026, 3, 9), datetime(2026, 3, 9, 22, 0, tzinfo=UTC)),
        ("America/New_York", date(2026, 10, 31), datetime(2026, 10, 31, 22, 0, tzinfo=UTC)),
        ("America/New_York", date(2026, 11, 1), datetime(2026, 11, 1, 23, 0, tzinfo=UTC)),
        ("America/New_York", date(2026, 11, 2), datetime(2026, 11, 2, 23, 0, tzinfo=UTC)),
        # EU: summer time starts Sunday 29 March 2026, ends Sunday 25 October 2026.
        ("Europe/London", date(2026, 3, 28), datetime(2026, 3, 28, 18, 0, tzinfo=UTC)),
        ("Europe/London", date(2026, 3, 29), datetime(2026, 3, 29, 17, 0, tzinfo=UTC)),
        ("Europe/London", date(2026, 3, 30), datetime(2026, 3, 30, 17, 0, tzinfo=UTC)),
        ("Europe/London", date(2026, 10, 24), datetime(2026, 10, 24, 17, 0, tzinfo=UTC)),
        ("Europe/London", date(2026, 10, 25), datetime(2026, 10, 25, 18, 0, tzinfo=UTC)),
        ("Europe/London", date(2026, 10, 26), datetime(2026, 10, 26, 18, 0, tzinfo=UTC)),
    ],
)
def test_reminder_at_18_local_is_18_local_across_summer_time_changes(
    tz: str, day: date, expected: datetime
) -> None:
    every_day = patient(
        timezone=tz,
        schedule=(ScheduleFact(MONDAY, EVERY_DAY),),
        session_dates={day - timedelta(days=1)},
    )
    assert due_reminders([every_day], expected - timedelta(minutes=1)) == []
    (reminder,) = due_reminders([every_day], expected)
    assert (reminder.local_date, reminder.due_at) == (day, expected)
    assert reminder.send_until == expected + timedelta(hours=3)


@pytest.mark.parametrize(
    ("tz", "day", "wall", "expected"),
    [
        # Skipped local times move forward by the gap: 02:30 → 03:30 summer time.
        ("America/New_York", date(2026, 3, 8), time(2, 30), datetime(2026, 3, 8, 7, 30)),
        ("Europe/London", date(2026, 3, 29), time(1, 30), datetime(2026, 3, 29, 1, 30)),
        # Repeated local times mean their first occurrence (still summer time).
        ("America/New_York", date(2026, 11, 1), time(1, 30), datetime(2026, 11, 1, 5, 30)),
        ("Europe/London", date(2026, 10, 25), time(1, 30), datetime(2026, 10, 25, 0, 30)),
    ],
)
def test_skipped_and_repeated_local_times_resolve_forward_and_first(
    tz: str, day: date, wall: time, expected: datetime
) -> None:
    assert local_instant(day, wall, tz) == expected.replace(tzinfo=UTC)


def test_a_0230_choice_goes_out_at_8_on_the_us_spring_forward_day() -> None:
    every_day = patient(
        timezone="America/New_York",
        schedule=(ScheduleFact(MONDAY, EVERY_DAY),),
        session_dates={date(2026, 3, 7)},
        time=time(2, 30),
    )
    assert due_reminders([every_day], datetime(2026, 3, 8, 7, 30, tzinfo=UTC)) == []
    (reminder,) = due_reminders([every_day], datetime(2026, 3, 8, 12, 0, tzinfo=UTC))
    assert reminder.due_at == datetime(2026, 3, 8, 12, 0, tzinfo=UTC)  # 08:00 EDT


def test_patients_in_different_timezones_in_one_call() -> None:
    tuesday = date(2026, 3, 3)
    london = patient(patient_id=1, timezone="Europe/London", session_dates={MONDAY})
    new_york = patient(patient_id=2, timezone="America/New_York", session_dates={MONDAY})

    # 18:30 UTC: 18:30 in London (due), 13:30 in New York (not yet).
    assert kinds(due_reminders([london, new_york], datetime(2026, 3, 3, 18, 30, tzinfo=UTC))) == [
        (1, tuesday, REMINDER)
    ]
    # 23:00 UTC: quiet hours in London, 18:00 in New York.
    assert kinds(due_reminders([london, new_york], datetime(2026, 3, 3, 23, 0, tzinfo=UTC))) == [
        (2, tuesday, REMINDER)
    ]
    # 20:00 UTC, New York's reminder at 14:00 local (19:00 UTC): both, in input order.
    early_new_york = replace(new_york, time=time(14, 0))
    both = due_reminders([early_new_york, london], datetime(2026, 3, 3, 20, 0, tzinfo=UTC))
    assert kinds(both) == [(2, tuesday, REMINDER), (1, tuesday, REMINDER)]
    assert [r.due_at for r in both] == [
        datetime(2026, 3, 3, 19, 0, tzinfo=UTC),
        datetime(2026, 3, 3, 18, 0, tzinfo=UTC),
    ]


def test_the_local_date_is_the_patients_day_not_the_utc_day() -> None:
    # 01:30 UTC on Wednesday is still Tuesday 20:30 in New York.
    new_york = patient(timezone="America/New_York", session_dates={MONDAY})
    (reminder,) = due_reminders([new_york], datetime(2026, 3, 4, 1, 30, tzinfo=UTC))
    assert reminder.local_date == date(2026, 3, 3)


# --- inputs -----------------------------------------------------------------------------------


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        due_reminders([patient()], datetime(2026, 3, 3, 18, 0))


@pytest.mark.parametrize(
    "changes",
    [{"timezone": "Mars/Olympus"}, {"days": (7,)}, {"days": (True,)}, {"sent": {(MONDAY, "sms")}}],
)
def test_bad_settings_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        patient(**changes)


def test_many_patients_come_back_in_input_order() -> None:
    crowd = [patient(patient_id=n, session_dates={MONDAY}) for n in range(500)]
    due = due_reminders(crowd, at(d(1), 18, 0))
    assert [r.patient_id for r in due] == list(range(500))


# --- invariants -------------------------------------------------------------------------------


@settings(database=None, derandomize=True, max_examples=500, deadline=None)
@given(
    tz=st.sampled_from(["America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Tehran"]),
    minutes=st.integers(min_value=0, max_value=60 * 24 * 365),
    chosen=st.times(),
    days=st.none() | st.lists(st.integers(0, 6), max_size=7).map(tuple),
    weekdays=st.lists(st.integers(0, 6), min_size=1, max_size=7).map(tuple),
    done=st.sets(st.integers(0, 2), max_size=1),
    sent=st.sets(st.tuples(st.integers(0, 1), st.sampled_from(list(ReminderKind))), max_size=1),
    pause_offset=st.none() | st.integers(300, 400),
)
def test_due_reminders_keep_their_invariants(
    tz: str,
    minutes: int,
    chosen: time,
    days: tuple[int, ...] | None,
    weekdays: tuple[int, ...],
    done: set[int],
    sent: set[tuple[int, ReminderKind]],
    pause_offset: int | None,
) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    today = now.astimezone(ZoneInfo(tz)).date()
    statuses = [StatusFact(date(2025, 12, 1), "active")]
    if pause_offset is not None:
        statuses.append(StatusFact(date(2025, 12, 1) + timedelta(days=pause_offset), "paused"))
    p = patient(
        timezone=tz,
        program_start=date(2025, 12, 1),
        schedule=(ScheduleFact(date(2025, 12, 1), weekdays),),
        statuses=tuple(statuses),
        days=days,
        time=chosen,
        session_dates={today - timedelta(days=n) for n in done},
        sent={(today - timedelta(days=n), kind) for n, kind in sent},
    )
    due = due_reminders([p], now)
    assert len(due) <= 1
    for reminder in due:
        local = now.astimezone(ZoneInfo(tz))
        assert reminder.local_date == today
        assert time(8, 0) <= local.time() < time(21, 0)
        assert reminder.due_at <= now < reminder.send_until
        assert (today, reminder.kind) not in p.sent
        assert not any((today, kind) in p.sent for kind in ReminderKind)
        assert today not in p.session_dates
        if reminder.kind is FOLLOW_UP:
            assert (today - timedelta(days=1), FOLLOW_UP) not in p.sent

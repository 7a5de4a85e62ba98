"""Unit tests for the alert rules, table-driven over patient trajectories (CLINICAL §2–§6)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from itertools import count
from typing import Any

import pytest

from app.alerts.evidence import RULES_VERSION
from app.alerts.rules import (
    Finding,
    evaluate,
    flare,
    non_response_6w,
    partial_adherence_hold,
    persistent_pain,
    ready_to_progress,
    red_flag_findings,
)
from app.clinical.adherence import ScheduleFact, StatusFact
from app.clinical.assessment import assess
from app.clinical.pain import PainStatus
from app.clinical.policy import Policy
from app.clinical.red_flags import RedFlagLevel
from app.clinical.timeline import CheckInFact, SessionFact, Timeline
from app.clinical.traffic_light import Light
from app.enums import AlertKind, Severity
from app.timeutil import at_local, local_date

POLICY = Policy()
START = date(2026, 3, 2)  # a Monday: program day 1
TZ = "Europe/Berlin"
EVERY_DAY = (0, 1, 2, 3, 4, 5, 6)
MON_FRI = (0, 1, 2, 3, 4)
TUE_FRI = (1, 4)
RED_FLAG_KINDS = {
    AlertKind.RED_FLAG_EMERGENCY,
    AlertKind.RED_FLAG_URGENT,
    AlertKind.RED_FLAG_PROMPT,
}


def day(n: int) -> date:
    """Return the local date of program day ``n`` (day 1 = START)."""
    return START + timedelta(days=n - 1)


def noon(n: int, timezone: str = TZ) -> datetime:
    """Return the UTC instant of local noon on program day ``n``."""
    return at_local(day(n), 12, 0, timezone)


@dataclass
class History:
    """Build a patient's sessions and check-ins by program day, then a Timeline."""

    sessions: list[SessionFact] = field(default_factory=list)
    check_ins: list[CheckInFact] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: count(1))

    def session(
        self,
        n: int,
        pain: int = 6,
        *,
        completed: bool = True,
        light: Light = Light.GREEN,
        effort: int | None = None,
        stage: int = 2,
        on: date | None = None,
    ) -> History:
        local = on or day(n)
        fact = SessionFact(next(self._ids), local, completed, light, effort, pain, stage)
        self.sessions.append(fact)
        return self

    def daily(self, days: Iterable[int], pain: int = 6, **kwargs: Any) -> History:
        for n in days:
            self.session(n, pain, **kwargs)
        return self

    def check_in(
        self,
        n: int,
        morning: int | None = None,
        *,
        level: RedFlagLevel = RedFlagLevel.NONE,
        yes: tuple[str, ...] = (),
        on: date | None = None,
    ) -> History:
        fact = CheckInFact(next(self._ids), on or day(n), morning, level, yes)
        self.check_ins.append(fact)
        return self

    def mornings(self, days: Iterable[int], pain: int) -> History:
        for n in days:
            self.check_in(n, pain)
        return self

    def timeline(self, **overrides: Any) -> Timeline:
        values: dict[str, Any] = {
            "patient_id": 1,
            "timezone": TZ,
            "episode_start": START,
            "intake_pain": None,
            "stage": 2,
            "stage_started_on": START,
            "program_status": "active",
            "schedule": (ScheduleFact(START, EVERY_DAY),),
            "statuses": (StatusFact(START, "active"),),
            "sessions": tuple(self.sessions),
            "check_ins": tuple(self.check_ins),
            "has_logged_in": True,
        }
        values.update(overrides)
        return Timeline(**values)


def run(timeline: Timeline, n: int, policy: Policy = POLICY) -> dict[AlertKind, Finding]:
    """Evaluate at local noon of program day ``n`` and index the findings by kind."""
    findings = evaluate(timeline, policy, noon(n, timeline.timezone))
    by_kind = {finding.kind: finding for finding in findings}
    assert len(by_kind) == len(findings), "one finding per kind"
    return by_kind


def steady(last: int, pain: int = 6) -> History:
    """Return a fully adherent patient with the same resting pain every day up to ``last``."""
    return History().daily(range(1, last + 1), pain)


# --- PERSISTENT_PAIN and NON_RESPONSE_6W: program day ----------------------------------------


@pytest.mark.parametrize(("today", "fires"), [(20, False), (21, True), (30, True)])
def test_persistent_pain_alert_waits_for_three_weeks(today: int, fires: bool) -> None:
    found = run(steady(today).timeline(), today)
    assert (AlertKind.PERSISTENT_PAIN in found) is fires
    if fires:
        assert found[AlertKind.PERSISTENT_PAIN].severity is Severity.MEDIUM


@pytest.mark.parametrize(
    ("today", "function_improved", "expected"),
    [
        (41, False, {AlertKind.PERSISTENT_PAIN: Severity.MEDIUM}),
        (42, False, {AlertKind.NON_RESPONSE_6W: Severity.HIGH}),
        (42, True, {AlertKind.NON_RESPONSE_6W: Severity.MEDIUM}),
    ],
)
def test_non_response_alert_waits_for_six_weeks_and_supersedes_persistent_pain(
    today: int, function_improved: bool, expected: dict[AlertKind, Severity]
) -> None:
    timeline = steady(today, pain=5).timeline(function_improved=function_improved)
    found = run(timeline, today)
    assert {kind: finding.severity for kind, finding in found.items()} == expected
    if AlertKind.NON_RESPONSE_6W in found:
        evidence = found[AlertKind.NON_RESPONSE_6W].evidence
        assert evidence["supersedes"] == "PERSISTENT_PAIN"
        assert evidence["function_improved"] is function_improved


def test_persistent_pain_rule_alone_still_holds_when_non_response_supersedes_it() -> None:
    timeline = steady(42, pain=5).timeline()
    assert persistent_pain(timeline, POLICY, noon(42)) is not None
    assert non_response_6w(timeline, POLICY, noon(42)) is not None
    assert AlertKind.PERSISTENT_PAIN not in run(timeline, 42)


@pytest.mark.parametrize(
    ("last_pains", "expected"),
    [
        # current = 35/7 = 5: non-response.
        ((5, 5, 5, 5, 5, 5, 5), AlertKind.NON_RESPONSE_6W),
        # current = 34/7 ≈ 4.86: below 5, only persistent pain.
        ((5, 5, 5, 5, 5, 5, 4), AlertKind.PERSISTENT_PAIN),
    ],
)
def test_non_response_needs_current_pain_of_five(
    last_pains: tuple[int, ...], expected: AlertKind
) -> None:
    history = History().daily(range(1, 36), 5)
    for n, pain in zip(range(36, 43), last_pains, strict=True):
        history.session(n, pain)
    found = run(history.timeline(), 42)
    assert set(found) == {expected}


# --- adherence gates -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weekdays", "statuses", "done", "ratio", "fires"),
    [
        # Every day: window days 8–21 holds 14 scheduled days.
        (EVERY_DAY, (), range(11, 22), Fraction(11, 14), False),
        (EVERY_DAY, (), range(10, 22), Fraction(12, 14), True),
        # Mon–Fri: days 8–21 hold 10 scheduled days; 8 of 10 is exactly 80 %.
        (MON_FRI, (), (8, 9, 10, 11, 12, 15, 16), Fraction(7, 10), False),
        (MON_FRI, (), (8, 9, 10, 11, 12, 15, 16, 17), Fraction(4, 5), True),
        # Mon–Fri, paused from the end of day 7 and resumed on day 14: 5 scheduled days.
        (MON_FRI, ((7, "paused"), (14, "active")), (15, 16, 17), Fraction(3, 5), False),
        (MON_FRI, ((7, "paused"), (14, "active")), (15, 16, 17, 18), Fraction(4, 5), True),
    ],
)
def test_persistent_pain_needs_eighty_percent_adherence(
    weekdays: tuple[int, ...],
    statuses: tuple[tuple[int, str], ...],
    done: Iterable[int],
    ratio: Fraction,
    fires: bool,
) -> None:
    # Morning check-ins carry the pain trend whatever the sessions do.
    history = History().mornings(range(1, 22), 6).daily(done, 6)
    timeline = history.timeline(
        schedule=(ScheduleFact(START, weekdays),),
        statuses=(
            StatusFact(START, "active"),
            *(StatusFact(day(n), status) for n, status in statuses),
        ),
    )
    assessment = assess(timeline, POLICY, noon(21))
    assert assessment.adherence is not None
    assert assessment.adherence.ratio == ratio
    assert assessment.status is PainStatus.NO_CHANGE
    # CLINICAL §5: below 80 % no alert, but the therapist sees "partial adherence".
    assert partial_adherence_hold(assessment, POLICY) is not fires
    assert (AlertKind.PERSISTENT_PAIN in run(timeline, 21)) is fires


def test_non_response_is_held_back_by_partial_adherence() -> None:
    history = History().mornings(range(1, 43), 6).daily(range(32, 43), 6)
    timeline = history.timeline()
    assessment = assess(timeline, POLICY, noon(42))
    assert assessment.adherence is not None
    assert assessment.adherence.ratio == Fraction(11, 14)
    assert partial_adherence_hold(assessment, POLICY)
    assert not {AlertKind.PERSISTENT_PAIN, AlertKind.NON_RESPONSE_6W} & set(run(timeline, 42))


def test_no_adherence_gated_rule_fires_when_nothing_was_scheduled() -> None:
    history = History().mornings(range(1, 22), 6)
    timeline = history.timeline(schedule=())
    assessment = assess(timeline, POLICY, noon(21))
    assert assessment.adherence is not None
    assert assessment.adherence.ratio is None
    assert not partial_adherence_hold(assessment, POLICY)
    assert run(timeline, 21) == {}


# --- change in pain: exact thresholds ---------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "session_pain", "mornings", "policy", "status", "fires"),
    [
        # Baseline 7: current 51/10 = 5.1 is a 1.9 fall (and < 30 %): no change.
        (7, 5, (5, 5, 6), POLICY, PainStatus.NO_CHANGE, True),
        # Baseline 7: current 50/10 = 5.0 is a 2.0 fall, counted exactly: improved.
        (7, 5, (5, 5, 5), POLICY, PainStatus.IMPROVED, False),
        # Baseline 5: current 3.5 is exactly 30 % (1.5 points ≥ 1): improved.
        (5, 4, (2, 2, 3), POLICY, PainStatus.IMPROVED, False),
        # Baseline 5: current 3.6 is 28 %: no change.
        (5, 4, (2, 3, 3), POLICY, PainStatus.NO_CHANGE, True),
        # Baseline 3: current 2.1 is exactly 30 % but only 0.9 points: under the 1-point floor.
        (3, 2, (2, 2, 3), Policy(persistent_min_current=2), PainStatus.NO_CHANGE, True),
        # Baseline 3: current 2.0 is 1 point and 33 %: improved.
        (3, 2, (2, 2, 2), Policy(persistent_min_current=2), PainStatus.IMPROVED, False),
    ],
)
def test_improvement_stops_persistent_pain_at_two_points_or_thirty_percent(
    base: int,
    session_pain: int,
    mornings: tuple[int, ...],
    policy: Policy,
    status: PainStatus,
    fires: bool,
) -> None:
    history = History().daily(range(1, 15), base).daily(range(15, 22), session_pain)
    for n, pain in zip((19, 20, 21), mornings, strict=True):
        history.check_in(n, pain)
    timeline = history.timeline()
    assessment = assess(timeline, policy, noon(21))
    assert assessment.baseline == base
    assert assessment.readings_used == 10
    assert assessment.status is status
    assert (AlertKind.PERSISTENT_PAIN in run(timeline, 21, policy)) is fires


@pytest.mark.parametrize(
    ("recent", "current", "fires"),
    [
        ((6, 6, 6), Fraction(6), True),  # +2 exactly
        ((5, 6, 6), Fraction(17, 3), False),  # +1.67
    ],
)
def test_worsening_fires_at_two_points_exactly(
    recent: tuple[int, ...], current: Fraction, fires: bool
) -> None:
    history = History().daily(range(1, 8), 4)
    for n, pain in zip((12, 13, 14), recent, strict=True):
        history.session(n, pain)
    timeline = history.timeline()
    found = run(timeline, 14)
    assert assess(timeline, POLICY, noon(14)).current == current
    assert (AlertKind.WORSENING in found) is fires
    if fires:
        finding = found[AlertKind.WORSENING]
        assert finding.severity is Severity.HIGH
        assert finding.evidence["change_points"] == "2"
        assert finding.session_ids == tuple(s.id for s in history.sessions[-3:])


def test_worsening_fires_whatever_the_adherence() -> None:
    # Three sessions in two weeks of daily schedule: low adherence, yet worsening is shown.
    history = History().mornings(range(1, 8), 3).mornings(range(19, 22), 8).daily((20,), 8)
    found = run(history.timeline(), 21)
    assert AlertKind.WORSENING in found
    assert found[AlertKind.WORSENING].evidence["adherence"] == "1/13"


@pytest.mark.parametrize(
    ("extra_morning", "expected"),
    [(False, set()), (True, {AlertKind.PERSISTENT_PAIN})],
)
def test_fewer_than_three_readings_in_seven_days_fire_no_trend_rule(
    extra_morning: bool, expected: set[AlertKind]
) -> None:
    # Tue/Fri: days 16 and 19 are the only sessions in the last 7 days before day 22.
    history = History().daily((2, 5, 9, 12, 16, 19), 6)
    if extra_morning:
        history.check_in(20, 6)
    timeline = history.timeline(schedule=(ScheduleFact(START, TUE_FRI),), intake_pain=6)
    assessment = assess(timeline, POLICY, noon(22))
    assert assessment.readings_used == (3 if extra_morning else 2)
    assert assessment.adherence is not None
    assert assessment.adherence.ratio == 1
    assert set(run(timeline, 22)) == expected


def test_fewer_than_three_readings_hide_even_a_big_rise() -> None:
    history = History().daily((2, 5, 9, 12), 2).daily((16, 19), 9)
    timeline = history.timeline(schedule=(ScheduleFact(START, TUE_FRI),))
    assert assess(timeline, POLICY, noon(22)).status is PainStatus.UNKNOWN
    assert run(timeline, 22) == {}


# --- FLARE ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("red_days", "fires"),
    [
        ((9, 10), True),
        ((10,), False),
        ((4, 10), True),  # day 4 is 6 days before day 10: inside the 7 days
        ((3, 10), False),  # day 3 is 7 days before: outside
    ],
)
def test_flare_needs_two_red_sessions_in_seven_days(red_days: tuple[int, ...], fires: bool) -> None:
    history = History()
    for n in range(1, 11):
        history.session(n, 4, light=Light.RED if n in red_days else Light.GREEN)
    found = run(history.timeline(), 10)
    assert (AlertKind.FLARE in found) is fires
    if fires:
        finding = found[AlertKind.FLARE]
        assert finding.severity is Severity.HIGH
        red_ids = tuple(s.id for s in history.sessions if s.light is Light.RED)
        assert finding.session_ids == red_ids
        assert finding.evidence["red_session_count"] == 2
        assert finding.evidence["triggers"] == ["red_sessions"]


@pytest.mark.parametrize(
    ("base", "morning", "fires"),
    [
        (6, 8, True),  # ≥ 8 and 2 above baseline
        (7, 8, False),  # only 1 above baseline
        (5, 7, False),  # 2 above baseline but below 8
        (6, 9, True),
    ],
)
def test_flare_by_a_high_morning_pain_above_baseline(base: int, morning: int, fires: bool) -> None:
    history = History().daily(range(1, 8), base).check_in(9, morning)
    found = run(history.timeline(), 10)
    assert (AlertKind.FLARE in found) is fires
    if fires:
        finding = found[AlertKind.FLARE]
        assert finding.check_in_ids == (history.check_ins[0].id,)
        assert finding.session_ids == ()
        assert finding.evidence["morning_pains"][0]["value"] == morning
        assert finding.reason.startswith(
            f"Flare: morning pain {morning} on {day(9).isoformat()}, {morning - base} above "
            f"baseline {base}.0"
        )


def test_flare_by_morning_pain_needs_a_known_baseline() -> None:
    history = History().check_in(3, 9)
    assert flare(history.timeline(), POLICY, noon(5)) is None


# --- LOW_ADHERENCE ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("logged_in", "today", "done", "status", "fires"),
    [
        (True, 7, (), "active", True),  # 0 of 6 from day 7
        (True, 6, (), "active", False),  # too early
        (False, 10, (), "active", False),  # never logged in
        (True, 10, (), "paused", False),  # needs an active program
        (True, 21, range(16, 22), "active", True),  # 6/14 = 43 %
        (True, 21, range(15, 22), "active", False),  # 7/14 = 50 %
        (True, 14, range(1, 11), "active", True),  # 10/13 but days 11–13 missed
        (True, 14, range(1, 14), "active", False),  # day 13 done; today not yet due
        (True, 14, (*range(1, 11), 14), "active", False),  # done today: not missed
    ],
)
def test_low_adherence_needs_a_login_and_a_week(
    logged_in: bool, today: int, done: Iterable[int], status: str, fires: bool
) -> None:
    timeline = History().daily(done, 3).timeline(has_logged_in=logged_in, program_status=status)
    found = run(timeline, today)
    assert (AlertKind.LOW_ADHERENCE in found) is fires
    if fires:
        assert found[AlertKind.LOW_ADHERENCE].severity is Severity.LOW


def test_low_adherence_reason_gives_the_numbers() -> None:
    finding = run(History().daily(range(1, 11), 3).timeline(), 14)[AlertKind.LOW_ADHERENCE]
    assert finding.reason == (
        "77 % adherence over 14 days (10 of 13 scheduled sessions) on program day 14; "
        "the last 3 scheduled days were missed."
    )
    assert finding.evidence["missed_last_scheduled"] is True
    assert finding.evidence["below_low_cutoff"] is False


# --- READY_TO_PROGRESS ------------------------------------------------------------------------


def progressing(
    today: int = 20,
    *,
    amber: int | None = None,
    red: int | None = None,
    efforts: tuple[int | None, ...] = (3, 4, 4, 5),
    stage: int = 2,
    missed: Iterable[int] = (),
) -> History:
    """Return daily GREEN sessions at ``stage``; the last ones carry ``efforts``."""
    history = History()
    first_rated = today - len(efforts) + 1
    for n in range(1, today + 1):
        if n in missed:
            continue
        light = Light.AMBER if n == amber else Light.RED if n == red else Light.GREEN
        effort = efforts[n - first_rated] if n >= first_rated else None
        history.session(n, 3, light=light, effort=effort, stage=stage)
    return history


@pytest.mark.parametrize(("days_in_stage", "fires"), [(13, False), (14, True)])
def test_ready_to_progress_waits_two_weeks_in_stage(days_in_stage: int, fires: bool) -> None:
    timeline = progressing().timeline(stage_started_on=day(20 - days_in_stage))
    found = run(timeline, 20)
    assert (AlertKind.READY_TO_PROGRESS in found) is fires
    if fires:
        finding = found[AlertKind.READY_TO_PROGRESS]
        assert finding.severity is Severity.INFO
        assert finding.evidence["days_in_stage"] == 14
        assert finding.evidence["suggestion"] == "advance to stage 3"


@pytest.mark.parametrize(
    ("amber", "red", "fires"),
    [
        (None, None, True),
        (14, None, False),  # AMBER 6 days ago
        (13, None, True),  # AMBER 7 days ago
        (12, None, True),  # AMBER 8 days ago
        (None, 7, False),  # RED 13 days ago
        (None, 6, True),  # RED 14 days ago
    ],
)
def test_ready_to_progress_is_blocked_by_recent_amber_or_red_sessions(
    amber: int | None, red: int | None, fires: bool
) -> None:
    found = run(progressing(amber=amber, red=red).timeline(), 20)
    assert (AlertKind.READY_TO_PROGRESS in found) is fires


@pytest.mark.parametrize(
    ("efforts", "fires"),
    [
        ((3, 4, 4, 5), True),
        ((9, 3, 4, 5), True),  # 3 of 4
        ((3, 4, 6, 7), False),  # 2 of 4
        ((2, 2, 2, 2, 9, 9), False),  # only the last 4 count
        ((4, 4), False),  # fewer than 3 rated sessions
        ((4, None, 4, None, 4), True),  # unrated sessions are skipped
    ],
)
def test_ready_to_progress_needs_easy_effort_in_three_of_the_last_four_sessions(
    efforts: tuple[int | None, ...], fires: bool
) -> None:
    found = run(progressing(efforts=efforts).timeline(), 20)
    assert (AlertKind.READY_TO_PROGRESS in found) is fires


def test_ready_to_progress_at_stage_four_suggests_discharge() -> None:
    timeline = progressing(stage=4).timeline(stage=4)
    finding = ready_to_progress(timeline, POLICY, noon(20))
    assert finding is not None
    assert run(timeline, 20) == {AlertKind.READY_TO_PROGRESS: finding}
    assert finding.evidence["suggestion"] == "discharge to maintenance"
    assert finding.reason.endswith("plan discharge to a maintenance routine.")
    assert finding.session_ids == tuple(s.id for s in timeline.sessions[-4:])


def test_ready_to_progress_from_stage_one_asks_for_the_braced_holds() -> None:
    finding = run(progressing(stage=1).timeline(stage=1), 20)[AlertKind.READY_TO_PROGRESS]
    assert finding.evidence["suggestion"] == "advance to stage 2"
    assert "10 × 10 s braced holds" in finding.reason


@pytest.mark.parametrize(
    ("overrides", "missed"),
    [
        ({"program_status": "paused"}, ()),
        ({"stage": None}, ()),
        ({}, (10, 12, 15)),  # 11/14 adherence
    ],
)
def test_ready_to_progress_needs_an_active_adherent_program(
    overrides: dict[str, Any], missed: tuple[int, ...]
) -> None:
    found = run(progressing(missed=missed).timeline(**overrides), 20)
    assert AlertKind.READY_TO_PROGRESS not in found


def test_effort_from_an_earlier_stage_does_not_count_towards_progress() -> None:
    history = progressing(efforts=())
    for n in (17, 18, 19):
        history.session(n, 3, effort=2, stage=1)
    assert AlertKind.READY_TO_PROGRESS not in run(history.timeline(), 20)


# --- red flags --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "yes", "kind", "severity"),
    [
        (RedFlagLevel.EMERGENCY, ("RF2",), AlertKind.RED_FLAG_EMERGENCY, Severity.URGENT),
        (RedFlagLevel.URGENT, ("RF7",), AlertKind.RED_FLAG_URGENT, Severity.HIGH),
        (RedFlagLevel.URGENT, ("RF10", "RF12"), AlertKind.RED_FLAG_URGENT, Severity.HIGH),
        (RedFlagLevel.PROMPT, ("RF11",), AlertKind.RED_FLAG_PROMPT, Severity.MEDIUM),
    ],
)
def test_each_red_flag_level_raises_its_alert(
    level: RedFlagLevel, yes: tuple[str, ...], kind: AlertKind, severity: Severity
) -> None:
    history = steady(10, pain=3).check_in(8, level=level, yes=yes)
    found = run(history.timeline(), 10)
    assert set(found) == {kind}
    finding = found[kind]
    assert finding.severity is severity
    assert finding.check_in_ids == (history.check_ins[0].id,)
    assert finding.evidence["answers"] == list(yes)
    assert finding.evidence["check_in_date"] == day(8).isoformat()
    assert finding.rule_id == f"CLINICAL-5/{kind.value}"
    for question in yes:
        assert question in finding.reason


def test_red_flags_fire_without_a_program() -> None:
    history = History().check_in(1, level=RedFlagLevel.EMERGENCY, yes=("RF1", "RF3"))
    timeline = history.timeline(
        episode_start=None, stage=None, stage_started_on=None, program_status="none"
    )
    finding = run(timeline, 2)[AlertKind.RED_FLAG_EMERGENCY]
    assert finding.evidence["program_day"] is None
    assert finding.reason == (
        f"Emergency red flag on {day(1).isoformat()}: numbness or altered feeling in the saddle "
        "area (between the legs, genitals, back passage) (RF1; possible cauda equina); new "
        "leaking of urine or stool (RF3; possible cauda equina); the patient was told to go to "
        "an emergency department now."
    )


def test_each_level_takes_its_latest_check_in_within_31_days() -> None:
    history = (
        History()
        .check_in(1, level=RedFlagLevel.PROMPT, yes=("RF10",))  # 31 days before day 32: too old
        .check_in(5, level=RedFlagLevel.URGENT, yes=("RF6",))
        .check_in(9, level=RedFlagLevel.URGENT, yes=("RF8",))
        .check_in(10, level=RedFlagLevel.EMERGENCY, yes=("RF5",))
        .check_in(11, level=RedFlagLevel.NONE)
    )
    found = run(history.timeline(), 32)
    assert set(found) & RED_FLAG_KINDS == {
        AlertKind.RED_FLAG_URGENT,
        AlertKind.RED_FLAG_EMERGENCY,
    }
    assert found[AlertKind.RED_FLAG_URGENT].evidence["answers"] == ["RF8"]
    assert found[AlertKind.RED_FLAG_URGENT].evidence["days_ago"] == 23
    # A day earlier the prompt check-in is 30 days old and still counts.
    assert AlertKind.RED_FLAG_PROMPT in run(history.timeline(), 31)


def test_red_flag_rule_returns_one_finding_per_level_in_severity_order() -> None:
    history = (
        History()
        .check_in(2, level=RedFlagLevel.PROMPT, yes=("RF10",))
        .check_in(3, level=RedFlagLevel.EMERGENCY, yes=("RF2",))
    )
    findings = red_flag_findings(history.timeline(), POLICY, noon(4))
    assert [f.kind for f in findings] == [
        AlertKind.RED_FLAG_EMERGENCY,
        AlertKind.RED_FLAG_PROMPT,
    ]


# --- no rule before day 1 ---------------------------------------------------------------------


def test_only_red_flags_fire_before_program_day_one() -> None:
    # Data that would raise FLARE, WORSENING and LOW_ADHERENCE if the program had started.
    history = (
        History()
        .daily(range(-20, 0), 9, light=Light.RED)
        .check_in(-1, 9, level=RedFlagLevel.PROMPT, yes=("RF11",))
    )
    timeline = history.timeline(intake_pain=2)
    assessment = assess(timeline, POLICY, noon(0))
    assert assessment.program_day == 0
    assert not assessment.in_program
    assert set(run(timeline, 0)) == {AlertKind.RED_FLAG_PROMPT}


def test_facts_from_before_the_episode_do_not_feed_its_rules() -> None:
    # A new episode (new baseline) began on day 1; RED sessions of the old one are left out.
    history = History().daily((-1, 0), 8, light=Light.RED).daily(range(1, 4), 4)
    timeline = history.timeline(intake_pain=4)
    assert AlertKind.FLARE not in run(timeline, 3)
    assert assess(timeline, POLICY, noon(3)).readings_used == 3


# --- paused and ended programs ----------------------------------------------------------------


def test_a_paused_program_still_shows_persistent_pain_on_its_active_days() -> None:
    # Paused from the end of day 13; morning check-ins keep the trend.
    history = History().daily(range(1, 14), 6).mornings(range(1, 22), 6)
    timeline = history.timeline(
        program_status="paused",
        statuses=(StatusFact(START, "active"), StatusFact(day(13), "paused")),
    )
    assessment = assess(timeline, POLICY, noon(21))
    assert assessment.adherence is not None
    assert (assessment.adherence.completed, assessment.adherence.scheduled) == (6, 6)
    assert set(run(timeline, 21)) == {AlertKind.PERSISTENT_PAIN}


# --- evidence and reason carry the numbers ----------------------------------------------------


def test_persistent_pain_reason_and_evidence_carry_the_numbers() -> None:
    history = History().daily((n for n in range(1, 25) if n != 15), 6)
    finding = run(history.timeline(), 24)[AlertKind.PERSISTENT_PAIN]
    assert finding.reason == (
        "Pain 6.0 → 6.0 (0 points, 0 %) after 24 days with 93 % adherence over 14 days."
    )
    evidence = finding.evidence
    assert evidence["baseline"] == "6"
    assert evidence["baseline_rounded"] == 6.0
    assert evidence["current"] == "6"
    assert evidence["change_points"] == "0"
    assert evidence["change_percent"] == "0"
    assert evidence["adherence"] == "13/14"
    assert evidence["adherence_rounded"] == 0.93
    assert evidence["adherence_window"] == {
        "start": day(11).isoformat(),
        "end": day(24).isoformat(),
        "completed": 13,
        "scheduled": 14,
    }
    assert evidence["program_day"] == 24
    assert evidence["readings_used"] == 7
    assert evidence["pain_status"] == "no_change"
    assert finding.session_ids == tuple(s.id for s in history.sessions[-7:])
    assert finding.rule_id == "CLINICAL-5/PERSISTENT_PAIN"
    assert finding.rule_version == f"{RULES_VERSION}/{POLICY.version}"
    json.dumps(evidence, allow_nan=False)


def test_fractional_numbers_are_exact_strings_with_rounded_floats() -> None:
    history = History().daily(range(1, 15), 7).daily(range(15, 22), 5)
    for n, pain in zip((19, 20, 21), (5, 5, 6), strict=True):
        history.check_in(n, pain)
    finding = run(history.timeline(), 21)[AlertKind.PERSISTENT_PAIN]
    assert finding.evidence["current"] == "51/10"
    assert finding.evidence["current_rounded"] == 5.1
    assert finding.evidence["change_points"] == "-19/10"
    assert finding.evidence["change_percent"] == "-190/7"
    assert finding.evidence["change_percent_rounded"] == -27.14
    assert finding.reason.startswith("Pain 7.0 → 5.1 (-1.9 points, -27 %) after 21 days")
    assert finding.check_in_ids == tuple(c.id for c in history.check_ins)


# --- local days and timezones -----------------------------------------------------------------


def test_now_near_midnight_gives_each_timezone_its_own_today() -> None:
    # 06:30 UTC on 21 March 2026 is 23:30 on 20 March in Los Angeles (PDT) and 07:30 on 21 March
    # in Berlin (CET): the same instant, two local days.
    now = datetime(2026, 3, 21, 6, 30, tzinfo=UTC)
    start = date(2026, 3, 1)

    def timeline_in(timezone: str) -> Timeline:
        history = History()
        for offset in range(20):
            logged = datetime(2026, 3, 1, 12, tzinfo=UTC) + timedelta(days=offset)
            history.session(0, 6, on=local_date(logged, timezone))
        return history.timeline(
            timezone=timezone,
            episode_start=start,
            stage_started_on=start,
            schedule=(ScheduleFact(start, EVERY_DAY),),
            statuses=(StatusFact(start, "active"),),
        )

    los_angeles = timeline_in("America/Los_Angeles")
    berlin = timeline_in("Europe/Berlin")
    assert assess(los_angeles, POLICY, now).today == date(2026, 3, 20)
    assert assess(berlin, POLICY, now).today == date(2026, 3, 21)
    assert assess(los_angeles, POLICY, now).program_day == 20
    assert assess(berlin, POLICY, now).program_day == 21
    kinds_la = {f.kind for f in evaluate(los_angeles, POLICY, now)}
    kinds_berlin = {f.kind for f in evaluate(berlin, POLICY, now)}
    assert AlertKind.PERSISTENT_PAIN not in kinds_la
    assert AlertKind.PERSISTENT_PAIN in kinds_berlin


def test_a_reading_near_local_midnight_belongs_to_its_local_day() -> None:
    # One RED session at 06:30 UTC on 21 March: 23:30 on 20 March in Los Angeles, 07:30 on
    # 21 March in Berlin. On 27 March the 7-day window starts on 21 March in both zones.
    start = date(2026, 3, 1)
    late = datetime(2026, 3, 21, 6, 30, tzinfo=UTC)
    later = datetime(2026, 3, 25, 12, tzinfo=UTC)
    now = datetime(2026, 3, 27, 18, tzinfo=UTC)

    def flare_in(timezone: str) -> bool:
        history = History()
        history.session(0, 4, light=Light.RED, on=local_date(late, timezone))
        history.session(0, 4, light=Light.RED, on=local_date(later, timezone))
        timeline = history.timeline(
            timezone=timezone,
            episode_start=start,
            schedule=(ScheduleFact(start, EVERY_DAY),),
            statuses=(StatusFact(start, "active"),),
        )
        return flare(timeline, POLICY, now) is not None

    assert local_date(late, "America/Los_Angeles") == date(2026, 3, 20)
    assert local_date(late, "Europe/Berlin") == date(2026, 3, 21)
    assert not flare_in("America/Los_Angeles")
    assert flare_in("Europe/Berlin")


@pytest.mark.parametrize(
    "now_local_day",
    [
        date(2026, 4, 1),  # the week holds Sunday 29 March, a 23-hour day (GMT → BST)
        date(2026, 10, 28),  # the week holds Sunday 25 October, a 25-hour day (BST → GMT)
    ],
)
def test_current_window_is_seven_local_days_across_a_clock_change(now_local_day: date) -> None:
    timezone = "Europe/London"
    start = now_local_day - timedelta(days=30)
    first = now_local_day - timedelta(days=6)
    history = History()
    # 00:30 local today: during BST that is 23:30 UTC on the day before.
    now = at_local(now_local_day, 0, 30, timezone)
    # Two readings a day, at 00:30 and 23:30 local, up to now: the evening of the day before the
    # window reads 10; every reading inside the window reads 2.
    for offset in range(-1, 7):
        local_day = first + timedelta(days=offset)
        for hour, minute in ((0, 30), (23, 30)):
            instant = at_local(local_day, hour, minute, timezone)
            if instant <= now:
                value = 2 if local_day >= first else 10
                history.check_in(0, value, on=local_date(instant, timezone))
    timeline = history.timeline(
        timezone=timezone,
        episode_start=start,
        intake_pain=2,
        schedule=(),
        statuses=(StatusFact(start, "active"),),
    )
    assessment = assess(timeline, POLICY, now)
    assert assessment.today == now_local_day
    window_start, window_end = assessment.current_window
    assert (window_start, window_end) == (first, now_local_day)
    assert (window_end - window_start).days + 1 == 7
    # Six whole days and this morning's 00:30 reading; the 23:30 reading before the window is out.
    assert assessment.readings_used == 13
    assert assessment.current == 2


# --- inputs -----------------------------------------------------------------------------------


def test_evaluate_refuses_a_naive_now() -> None:
    with pytest.raises(ValueError, match="aware"):
        evaluate(steady(21).timeline(), POLICY, datetime(2026, 3, 22, 12))


def test_a_quiet_adherent_patient_raises_nothing() -> None:
    history = progressing(efforts=())
    assert run(history.timeline(stage_started_on=day(15)), 20) == {}


def test_reason_rounds_halves_away_from_zero_without_floating_point() -> None:
    # Baseline 5/4 shows as 1.3 and a 9/4 rise as +2.3 (binary floats would print 1.2 and +2.2).
    history = History().session(1, 1).session(2, 1).session(3, 1).session(4, 2)
    history.daily((8, 9, 10), 4)
    finding = run(history.timeline(), 10)[AlertKind.WORSENING]
    assert finding.evidence["baseline"] == "5/4"
    assert finding.evidence["current"] == "7/2"
    assert finding.reason == (
        "Pain worsened 1.3 → 3.5 (+2.3 points, +180 %) after 10 days "
        "with 70 % adherence over 10 days."
    )

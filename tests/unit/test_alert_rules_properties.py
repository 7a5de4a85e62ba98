"""Property tests for invariants of the alert rules (CLINICAL §2–§6)."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.alerts.rules import (
    Finding,
    evaluate,
)
from app.clinical.adherence import ScheduleFact, StatusFact
from app.clinical.assessment import assess
from app.clinical.policy import Policy
from app.clinical.red_flags import RedFlagLevel
from app.clinical.timeline import CheckInFact, SessionFact, Timeline
from app.clinical.traffic_light import Light
from app.enums import AlertKind, Severity
from app.timeutil import at_local

START = date(2026, 1, 5)  # a Monday: program day 1 when there is an episode
# No example database on disk: these runs must leave the repository untouched.
SETTINGS = settings(database=None, deadline=None, max_examples=100)
TIMEZONES = (
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "America/Los_Angeles",
    "Pacific/Auckland",
    "Asia/Kolkata",
)
POLICIES = (
    Policy(),
    Policy(adherent=Fraction(9, 10), persistent_min_current=0, version="strict"),
    Policy(flare_red_sessions=1, progress_effort_sessions=0, rearm_days=0, version="loose"),
)
RED_FLAG_KINDS = {
    AlertKind.RED_FLAG_EMERGENCY,
    AlertKind.RED_FLAG_URGENT,
    AlertKind.RED_FLAG_PROMPT,
}
LEVEL_ANSWERS = {
    RedFlagLevel.NONE: (),
    RedFlagLevel.PROMPT: ("RF10",),
    RedFlagLevel.URGENT: ("RF6",),
    RedFlagLevel.EMERGENCY: ("RF2", "RF3"),
}

pain = st.integers(min_value=0, max_value=10)


def day(n: int) -> date:
    """Return the local date of program day ``n`` (day 1 = START)."""
    return START + timedelta(days=n - 1)


@st.composite
def timelines(draw: st.DrawFn, min_day: int = -5, max_day: int = 75) -> tuple[Timeline, datetime]:
    """Draw a timeline and a ``now`` whose local date is program day ``min_day``–``max_day``."""
    timezone = draw(st.sampled_from(TIMEZONES))
    today = draw(st.integers(min_value=min_day, max_value=max_day))
    minute = draw(st.integers(min_value=0, max_value=24 * 60 - 1))
    now = at_local(day(today), minute // 60, minute % 60, timezone)

    # Facts from two weeks before day 1 to two days after today (future facts must be ignored).
    first, last = min(1, today) - 14, today + 2
    fact_days = st.integers(min_value=first, max_value=last)
    dense = draw(st.booleans())
    skipped = draw(st.sets(fact_days, max_size=12))
    chosen = draw(st.sets(fact_days, max_size=40))
    session_days = (
        [n for n in range(max(1, today - 40), today + 1) if n not in skipped]
        if dense
        else sorted(chosen)
    )
    # Per-fact details come from one seeded generator: many small draws would make each example
    # slow to generate, and the structure above is what shrinking needs.
    rng = draw(st.randoms(use_true_random=False))
    level_pain = draw(pain)
    # A trend of −2 … +2 points a week, so pain can improve, stay or worsen.
    slope = Fraction(draw(st.integers(min_value=-4, max_value=4)), 14)
    stage = draw(st.none() | st.integers(min_value=1, max_value=4))
    # Dense histories are mostly GREEN in one stage, so READY_TO_PROGRESS can fire too.
    lights = [Light.GREEN] * 17 + [Light.AMBER, Light.RED, Light.UNKNOWN] if dense else list(Light)
    ids = iter(range(1, 10_000))

    def resting(n: int, spread: int) -> int:
        value = level_pain + round(slope * n) + rng.randint(-spread, spread)
        return min(10, max(0, value))

    sessions = [
        SessionFact(
            id=next(ids),
            local_date=day(n),
            completed=rng.random() < (0.9 if dense else 0.5),
            light=rng.choice(lights),
            effort=rng.choice([None, rng.randint(0, 7)]),
            pain_before=resting(n, 1),
            stage=stage if stage is not None and rng.random() < 0.9 else rng.randint(1, 4),
        )
        for n in session_days
    ]
    check_ins = []
    for n in draw(st.lists(fact_days, max_size=30)):
        level = rng.choice(
            [RedFlagLevel.NONE] * 20
            + [RedFlagLevel.PROMPT, RedFlagLevel.URGENT, RedFlagLevel.EMERGENCY]
        )
        morning = rng.choice([None, resting(n, 2)])
        check_ins.append(CheckInFact(next(ids), day(n), morning, level, LEVEL_ANSWERS[level]))

    schedule = [ScheduleFact(day(1), draw(st.sampled_from([(0, 1, 2, 3, 4, 5, 6), (0, 2, 4)])))]
    for _ in range(draw(st.integers(min_value=0, max_value=2))):
        weekdays = tuple(sorted(draw(st.sets(st.integers(min_value=0, max_value=6)))))
        schedule.append(ScheduleFact(day(draw(fact_days)), weekdays))
    statuses = [StatusFact(day(1), "active")]
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        status = draw(st.sampled_from(["active", "paused", "suspended", "ended"]))
        statuses.append(StatusFact(day(draw(fact_days)), status))

    has_episode = draw(st.integers(min_value=0, max_value=9)) > 0
    timeline = Timeline(
        patient_id=draw(st.integers(min_value=1, max_value=10**6)),
        timezone=timezone,
        episode_start=day(1) if has_episode else None,
        intake_pain=draw(st.none() | pain),
        stage=stage,
        stage_started_on=None if stage is None else day(draw(fact_days)),
        program_status=draw(st.sampled_from(["active", "paused", "suspended", "ended", "none"])),
        schedule=tuple(schedule),
        statuses=tuple(statuses),
        sessions=tuple(sessions),
        check_ins=tuple(check_ins),
        has_logged_in=draw(st.booleans()),
        function_improved=draw(st.booleans()),
    )
    return timeline, now


def _json_ready(value: Any) -> bool:
    """Return whether ``value`` is made only of str, int, float, bool, None, lists and dicts."""
    if value is None or isinstance(value, str | int | float | bool):
        return True
    if isinstance(value, list):
        return all(_json_ready(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_ready(v) for k, v in value.items())
    return False


@SETTINGS
@given(drawn=timelines(), policy=st.sampled_from(POLICIES))
def test_evaluate_never_raises_and_returns_well_formed_findings(
    drawn: tuple[Timeline, datetime], policy: Policy
) -> None:
    timeline, now = drawn
    findings = evaluate(timeline, policy, now)
    kinds = [finding.kind for finding in findings]
    assert len(kinds) == len(set(kinds))
    for finding in findings:
        assert isinstance(finding, Finding)
        assert isinstance(finding.kind, AlertKind)
        assert isinstance(finding.severity, Severity)
        assert finding.rule_id == f"CLINICAL-5/{finding.kind.value}"
        assert finding.rule_version.endswith(f"/{policy.version}")
        assert finding.reason.endswith(".")
        assert list(finding.session_ids) == sorted(set(finding.session_ids))
        assert list(finding.check_in_ids) == sorted(set(finding.check_in_ids))


@SETTINGS
@given(drawn=timelines(), policy=st.sampled_from(POLICIES))
def test_every_finding_evidence_is_json_serialisable(
    drawn: tuple[Timeline, datetime], policy: Policy
) -> None:
    timeline, now = drawn
    for finding in evaluate(timeline, policy, now):
        assert _json_ready(finding.evidence)
        text = json.dumps(finding.evidence, allow_nan=False)
        assert json.loads(text) == finding.evidence
        for name in ("baseline", "current", "adherence", "program_day", "readings_used"):
            assert name in finding.evidence


@SETTINGS
@given(drawn=timelines(min_day=1), policy=st.sampled_from(POLICIES))
def test_persistent_pain_and_non_response_never_fire_below_adherent(
    drawn: tuple[Timeline, datetime], policy: Policy
) -> None:
    timeline, now = drawn
    adherence = assess(timeline, policy, now).adherence
    kinds = {finding.kind for finding in evaluate(timeline, policy, now)}
    if adherence is None or adherence.ratio is None or adherence.ratio < policy.adherent:
        assert AlertKind.PERSISTENT_PAIN not in kinds
        assert AlertKind.NON_RESPONSE_6W not in kinds
    # NON_RESPONSE_6W supersedes PERSISTENT_PAIN: never both.
    assert not {AlertKind.PERSISTENT_PAIN, AlertKind.NON_RESPONSE_6W} <= kinds


@SETTINGS
@given(
    drawn=timelines(min_day=15),
    drops=st.lists(st.integers(min_value=0, max_value=10), min_size=1, max_size=80),
    policy=st.sampled_from(POLICIES),
)
def test_lowering_the_latest_readings_never_creates_worsening(
    drawn: tuple[Timeline, datetime], drops: list[int], policy: Policy
) -> None:
    """Lower resting-pain readings dated after the baseline window; WORSENING cannot appear.

    Readings inside the baseline window (days 1–14) also move the baseline, so lowering one there
    can widen the gap; "latest" means after it.
    """
    timeline, now = drawn
    if timeline.episode_start is None:
        return
    first_latest = timeline.episode_start + timedelta(days=policy.baseline_max_days)

    def lower(value: int, index: int) -> int:
        return max(0, value - drops[index % len(drops)])

    sessions = tuple(
        dataclasses.replace(s, pain_before=lower(s.pain_before, i))
        if s.local_date >= first_latest
        else s
        for i, s in enumerate(timeline.sessions)
    )
    check_ins = tuple(
        dataclasses.replace(c, morning_pain=lower(c.morning_pain, i + 1))
        if c.morning_pain is not None and c.local_date >= first_latest
        else c
        for i, c in enumerate(timeline.check_ins)
    )
    lowered = dataclasses.replace(timeline, sessions=sessions, check_ins=check_ins)
    before = {finding.kind for finding in evaluate(timeline, policy, now)}
    after = {finding.kind for finding in evaluate(lowered, policy, now)}
    if AlertKind.WORSENING not in before:
        assert AlertKind.WORSENING not in after
    assert assess(lowered, policy, now).baseline == assess(timeline, policy, now).baseline


@SETTINGS
@given(drawn=timelines(min_day=-10, max_day=0), policy=st.sampled_from(POLICIES))
def test_only_red_flags_fire_before_program_day_one(
    drawn: tuple[Timeline, datetime], policy: Policy
) -> None:
    timeline, now = drawn
    assert {finding.kind for finding in evaluate(timeline, policy, now)} <= RED_FLAG_KINDS


@SETTINGS
@given(drawn=timelines(), policy=st.sampled_from(POLICIES), data=st.data())
def test_the_order_of_facts_does_not_change_the_findings(
    drawn: tuple[Timeline, datetime], policy: Policy, data: st.DataObject
) -> None:
    timeline, now = drawn
    shuffled = dataclasses.replace(
        timeline,
        sessions=tuple(data.draw(st.permutations(timeline.sessions))),
        check_ins=tuple(data.draw(st.permutations(timeline.check_ins))),
    )
    assert evaluate(shuffled, policy, now) == evaluate(timeline, policy, now)

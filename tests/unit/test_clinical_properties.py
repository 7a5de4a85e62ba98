"""Property tests for invariants of the clinical rules (CLINICAL §2–§4)."""

from datetime import date, timedelta
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from app.clinical import (
    Light,
    PainStatus,
    Policy,
    Reading,
    ScheduleFact,
    StatusFact,
    adherence_14d,
    baseline,
    current,
    pain_change,
    session_light,
)

POLICY = Policy()
ORIGIN = date(2026, 1, 5)
# No example database on disk: these runs must leave the repository untouched.
SETTINGS = settings(database=None, deadline=None, max_examples=200)

offsets = st.integers(min_value=0, max_value=60)
pain = st.integers(min_value=0, max_value=10)


def at(offset: int) -> date:
    """Return the date ``offset`` days after ORIGIN."""
    return ORIGIN + timedelta(days=offset)


schedules = st.lists(
    st.builds(
        lambda offset, weekdays: ScheduleFact(at(offset), tuple(sorted(weekdays))),
        offsets,
        st.sets(st.integers(min_value=0, max_value=6)),
    ),
    max_size=4,
)
statuses = st.lists(
    st.builds(
        lambda offset, status: StatusFact(at(offset), status),
        offsets,
        st.sampled_from(["active", "paused", "suspended", "ended"]),
    ),
    max_size=5,
)


@SETTINGS
@given(
    sessions=st.lists(offsets, max_size=40),
    schedule=schedules,
    history=statuses,
    start=offsets,
    today=offsets,
)
def test_adherence_ratio_is_unknown_or_between_zero_and_one(
    sessions: list[int],
    schedule: list[ScheduleFact],
    history: list[StatusFact],
    start: int,
    today: int,
) -> None:
    result = adherence_14d(
        [at(o) for o in sessions], schedule, history, at(start), at(today), POLICY
    )
    assert result.ratio is None or 0 <= result.ratio <= 1
    assert (result.ratio is None) == (result.scheduled == 0)
    assert result.scheduled <= POLICY.adherence_window_days


@SETTINGS
@given(
    early=st.lists(st.tuples(st.integers(min_value=1, max_value=14), pain), max_size=12),
    intake=st.none() | pain,
    recent=st.lists(st.tuples(st.integers(min_value=0, max_value=6), pain), max_size=12),
    drops=st.lists(st.integers(min_value=0, max_value=10), min_size=12, max_size=12),
)
def test_lowering_current_readings_never_turns_a_trend_into_worsened(
    early: list[tuple[int, int]],
    intake: int | None,
    recent: list[tuple[int, int]],
    drops: list[int],
) -> None:
    today = at(60)
    base = baseline([Reading(at(day - 1), value) for day, value in early], ORIGIN, intake, POLICY)
    readings = [Reading(today - timedelta(days=ago), value) for ago, value in recent]
    lowered = [
        Reading(r.local_date, max(0, r.value - drop))
        for r, drop in zip(readings, drops, strict=False)
    ]
    before = pain_change(base, current(readings, today, POLICY), POLICY)
    after = pain_change(base, current(lowered, today, POLICY), POLICY)
    if before.status is not PainStatus.WORSENED:
        assert after.status is not PainStatus.WORSENED
    if before.status is PainStatus.IMPROVED:
        assert after.status is PainStatus.IMPROVED


@SETTINGS
@given(
    base=st.fractions(min_value=0, max_value=10, max_denominator=30),
    now=st.fractions(min_value=0, max_value=10, max_denominator=30),
)
def test_pain_change_points_are_exact(base: Fraction, now: Fraction) -> None:
    change = pain_change(base, now, POLICY)
    assert change.points == now - base
    assert (change.status is PainStatus.WORSENED) == (now - base >= 2)


SEVERITY = {Light.GREEN: 0, Light.AMBER: 1, Light.RED: 2}


@SETTINGS
@given(
    before=pain,
    during=st.lists(pain, min_size=1, max_size=5),
    after=st.none() | pain,
    morning=st.none() | pain,
    extra=st.integers(min_value=0, max_value=10),
)
def test_more_pain_during_exercise_never_makes_the_light_better(
    before: int, during: list[int], after: int | None, morning: int | None, extra: int
) -> None:
    worse = [min(10, during[0] + extra), *during[1:]]
    light = session_light(before, during, after, morning, POLICY).light
    worse_light = session_light(before, worse, after, morning, POLICY).light
    assert SEVERITY[worse_light] >= SEVERITY[light]

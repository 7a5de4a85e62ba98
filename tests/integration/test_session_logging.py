"""Log a performed session: storage, completion, traffic light, idempotency, validation.

DESIGN §4 `POST /api/v1/sessions`, CLINICAL §3 (completed sessions) and §4 (traffic light).
Every service call gets an explicit `now`; the program starts on a fixed Monday.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.enums import ItemStatus, Light
from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.patient.check_ins import CheckInReport, record_check_in
from app.patient.models import Session, SessionExercise
from app.patient.sessions import ExerciseResult, SessionReport, log_session
from app.programs.content import BUILTIN_TEMPLATE
from app.programs.models import Program
from app.programs.services import Assignment, assign_program, change_stage
from tests.conftest import PatientBundle
from tests.conftest import session_report as make_session_report

START = date(2026, 3, 2)  # a Monday: program day 1
ASSIGNED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # the server clock for every call
DONE_AT = datetime(2026, 3, 3, 18, 0, tzinfo=UTC)  # Tuesday evening in London


def count(model: type) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


@pytest.fixture
def enrol(make_patient: Callable[..., PatientBundle]) -> Callable[..., PatientBundle]:
    """Return a factory for a patient on the built-in routine from START (a fixed Monday)."""

    def make(*, timezone: str = "Europe/London", stage: int = 1) -> PatientBundle:
        bundle = make_patient(stage=None, timezone=timezone)
        bundle.program = assign_program(
            bundle.patient,
            Assignment(template=BUILTIN_TEMPLATE, stage=stage, start_date=START),
            by=bundle.therapist,
            now=ASSIGNED_AT,
        )
        db.session.commit()
        return bundle

    return make


@pytest.fixture
def bundle(enrol: Callable[..., PatientBundle]) -> PatientBundle:
    return enrol()


def results(
    program: Program, statuses: Sequence[str], pain_during: int | None = None
) -> tuple[ExerciseResult, ...]:
    """Report the first len(statuses) items of the program with these statuses."""
    items = program.items[: len(statuses)]
    return tuple(
        ExerciseResult(program_item_id=item.id, status=status, pain_during=pain_during)
        for item, status in zip(items, statuses, strict=True)
    )


def report(
    program: Program,
    *,
    statuses: Sequence[str] = ("done",) * 5,
    pain_during: int | None = None,
    **fields: object,
) -> SessionReport:
    """A session at DONE_AT with effort 4, unless the test says otherwise."""
    completed_at = fields.pop("completed_at", DONE_AT)
    fields.setdefault("effort", 4)
    return make_session_report(
        program,
        completed_at=completed_at,  # type: ignore[arg-type]
        statuses=statuses,
        pain_during=pain_during,
        **fields,
    )


# ---------------------------------------------------------------------------- storing


def test_a_new_session_is_stored_with_a_row_for_every_prescribed_item(bundle):
    program = bundle.program
    logged = log_session(
        bundle.patient,
        report(program, statuses=("done", "partial", "skipped"), notes="  felt fine  "),
        now=NOW,
    )

    session = logged.obj
    assert logged.created is True
    assert session.id is not None
    assert session.patient_id == bundle.patient.id
    assert session.stage == 1
    assert session.notes == "felt fine"
    assert session.prescribed_items == 5
    assert session.completed_items == 2
    assert [e.program_item_id for e in session.exercises] == [i.id for i in program.items]
    assert [e.status for e in session.exercises] == [
        ItemStatus.DONE,
        ItemStatus.PARTIAL,
        ItemStatus.SKIPPED,
        ItemStatus.NOT_DONE,
        ItemStatus.NOT_DONE,
    ]
    assert count(Session) == 1
    assert count(SessionExercise) == 5


def test_per_exercise_details_are_kept(bundle):
    item = bundle.program.items[1]
    detail = ExerciseResult(
        program_item_id=item.id,
        status="skipped",
        sets_done=0,
        reps_done=4,
        hold_seconds=7,
        pain_during=4,
        skip_reason="back twinged",
    )

    session = log_session(bundle.patient, report(bundle.program, exercises=(detail,)), now=NOW).obj

    stored = next(e for e in session.exercises if e.program_item_id == item.id)
    assert (stored.sets_done, stored.reps_done, stored.hold_seconds) == (0, 4, 7)
    assert stored.pain_during == 4
    assert stored.skip_reason == "back twinged"
    assert stored.exercise_id == item.exercise_id


@pytest.mark.parametrize(
    ("statuses", "removed", "completed"),
    [
        pytest.param(("done", "done", "partial"), 1, True, id="3-of-4-done-or-partial"),
        pytest.param(("done", "done", "skipped", "skipped"), 1, False, id="2-of-4"),
        pytest.param(("done", "partial", "done", "done"), 0, True, id="4-of-5"),
        pytest.param(("done", "done", "done"), 0, False, id="3-of-5"),
        pytest.param(("done", "done"), 0, False, id="2-of-5"),
        pytest.param(("skipped",) * 5, 0, False, id="all-skipped"),
    ],
)
def test_a_session_is_completed_when_three_quarters_of_the_items_are_done(
    bundle, statuses, removed, completed
):
    program = bundle.program
    for item in program.items[len(program.items) - removed :]:
        item.removed_at = ASSIGNED_AT  # taken out of the program before the session
    db.session.flush()
    db.session.expire(program, ["items"])

    session = log_session(bundle.patient, report(program, statuses=statuses), now=NOW).obj

    assert session.prescribed_items == 5 - removed
    assert session.completed is completed


# ---------------------------------------------------------------------------- traffic light


@pytest.mark.parametrize(
    ("before", "during", "after", "light", "peak"),
    [
        pytest.param(2, 3, 2, Light.GREEN, 3, id="peak-3-green"),
        pytest.param(2, 4, 3, Light.AMBER, 4, id="peak-4-amber"),
        pytest.param(2, 3, 5, Light.AMBER, 5, id="after-5-amber"),
        pytest.param(2, 6, 3, Light.RED, 6, id="peak-6-red"),
        pytest.param(6, 6, 5, Light.GREEN, 6, id="resting-6-peak-6-green"),
        pytest.param(6, 7, 6, Light.AMBER, 7, id="resting-6-peak-7-amber"),
        pytest.param(6, 8, 6, Light.RED, 8, id="resting-6-peak-8-red"),
        pytest.param(4, None, None, Light.UNKNOWN, None, id="no-rating-unknown"),
    ],
)
def test_the_traffic_light_is_provisional_until_the_morning_check_in(
    bundle, before, during, after, light, peak
):
    session = log_session(
        bundle.patient,
        report(bundle.program, pain_before=before, pain_during=during, pain_after=after),
        now=NOW,
    ).obj

    assert session.light is light
    assert session.peak_pain == peak
    assert session.light_provisional is True


def test_a_session_logged_after_the_next_morning_check_in_gets_a_final_light(bundle):
    morning = datetime(2026, 3, 4, 7, 30, tzinfo=UTC)
    record_check_in(
        bundle.patient,
        CheckInReport(id=str(uuid.uuid4()), recorded_at=morning, morning_pain=5),
        now=morning,
    )

    # Provisionally GREEN (peak 3, before 3), but the next morning is 5 = before + 2.
    session = log_session(
        bundle.patient, report(bundle.program, pain_before=3, pain_during=3), now=NOW
    ).obj

    assert session.light is Light.RED
    assert session.light_provisional is False


def test_a_check_in_on_the_same_day_does_not_settle_the_light(bundle):
    same_day = DONE_AT - timedelta(hours=10)
    record_check_in(
        bundle.patient,
        CheckInReport(id=str(uuid.uuid4()), recorded_at=same_day, morning_pain=9),
        now=NOW,
    )

    session = log_session(bundle.patient, report(bundle.program), now=NOW).obj

    assert session.light is Light.GREEN
    assert session.light_provisional is True


# ---------------------------------------------------------------------------- local days


@pytest.mark.parametrize(
    ("timezone", "expected"),
    [
        ("America/Los_Angeles", date(2026, 3, 3)),  # 15:30 the same day
        ("Asia/Tokyo", date(2026, 3, 4)),  # 08:30 the next morning
        ("Europe/London", date(2026, 3, 3)),
    ],
)
def test_the_session_belongs_to_the_local_day_of_the_patient(enrol, timezone, expected):
    bundle = enrol(timezone=timezone)
    late = datetime(2026, 3, 3, 23, 30, tzinfo=UTC)

    session = log_session(bundle.patient, report(bundle.program, completed_at=late), now=NOW).obj

    assert session.local_date == expected


# ---------------------------------------------------------------------------- idempotency


def test_replaying_the_same_session_returns_the_stored_one_and_stores_nothing_new(bundle):
    first = report(bundle.program, statuses=("done", "partial"), pain_during=4)
    stored = log_session(bundle.patient, first, now=NOW)
    db.session.commit()

    replay = log_session(bundle.patient, replace(first), now=NOW + timedelta(hours=1))

    assert replay.created is False
    assert replay.obj.id == stored.obj.id
    assert count(Session) == 1
    assert count(SessionExercise) == 5


def test_a_replay_with_the_id_in_upper_case_is_the_same_session(bundle):
    first = report(bundle.program)
    stored = log_session(bundle.patient, first, now=NOW)

    replay = log_session(bundle.patient, replace(first, id=first.id.upper()), now=NOW)

    assert replay.created is False
    assert replay.obj.id == stored.obj.id


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"pain_before": 4}, id="pain-before"),
        pytest.param({"notes": "different"}, id="notes"),
        pytest.param({"completed_at": DONE_AT + timedelta(minutes=1)}, id="completed-at"),
        pytest.param({"statuses": ("done", "done", "done", "done", "skipped")}, id="exercises"),
    ],
)
def test_the_same_id_with_different_content_is_a_conflict_and_changes_nothing(bundle, change):
    first = report(bundle.program)
    stored = log_session(bundle.patient, first, now=NOW).obj
    db.session.commit()
    change = dict(change)
    statuses = change.pop("statuses", ("done",) * 5)

    with pytest.raises(Conflict):
        log_session(
            bundle.patient,
            report(bundle.program, id=first.id, statuses=statuses, **change),
            now=NOW,
        )

    db.session.rollback()
    db.session.expire_all()
    assert count(Session) == 1
    assert count(SessionExercise) == 5
    assert stored.pain_before == 3
    assert stored.notes == ""
    assert stored.completed_at == DONE_AT
    assert stored.completed_items == 5


def test_the_same_id_from_another_patient_is_a_different_session(bundle, enrol):
    other = enrol()
    first = report(bundle.program)
    log_session(bundle.patient, first, now=NOW)

    logged = log_session(other.patient, report(other.program, id=first.id), now=NOW)

    assert logged.created is True
    assert count(Session) == 2


# ---------------------------------------------------------------------------- validation

LATER = NOW + timedelta(minutes=16)


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        pytest.param({"pain_before": 11}, {"pain_before"}, id="pain-before-11"),
        pytest.param({"pain_before": -1}, {"pain_before"}, id="pain-before-negative"),
        pytest.param({"pain_before": True}, {"pain_before"}, id="pain-before-bool"),
        pytest.param({"pain_before": 2.5}, {"pain_before"}, id="pain-before-fraction"),
        pytest.param({"pain_before": None}, {"pain_before"}, id="pain-before-missing"),
        pytest.param({"pain_after": 11}, {"pain_after"}, id="pain-after-11"),
        pytest.param({"effort": 11}, {"effort"}, id="effort-11"),
        pytest.param({"effort": False}, {"effort"}, id="effort-bool"),
        pytest.param({"notes": "x" * 2001}, {"notes"}, id="notes-2001-chars"),
        pytest.param(
            {"completed_at": LATER, "started_at": None}, {"completed_at"}, id="16-min-ahead"
        ),
        pytest.param(
            {"completed_at": datetime(2026, 3, 1, 23, 59, tzinfo=UTC), "started_at": None},
            {"completed_at"},
            id="before-program-start",
        ),
        pytest.param(
            {"started_at": DONE_AT + timedelta(seconds=1)}, {"started_at"}, id="starts-after-end"
        ),
        pytest.param(
            {"started_at": datetime(2026, 3, 1, 23, 0, tzinfo=UTC)},
            {"started_at"},
            id="starts-before-program-start",
        ),
        pytest.param(
            {"completed_at": DONE_AT.replace(tzinfo=None), "started_at": None},
            {"completed_at"},
            id="naive-completed-at",
        ),
        pytest.param({"exercises": ()}, {"exercises"}, id="no-exercises"),
        pytest.param({"id": "not-a-uuid"}, {"id"}, id="bad-uuid"),
    ],
)
def test_invalid_sessions_are_refused_with_the_field_names_and_nothing_is_stored(
    bundle, change, fields
):
    with pytest.raises(ValidationFailed) as refused:
        log_session(bundle.patient, report(bundle.program, **change), now=NOW)

    assert set(refused.value.errors) == fields
    assert count(Session) == 0
    assert count(SessionExercise) == 0


@pytest.mark.parametrize(
    ("result", "field"),
    [
        pytest.param({"status": "finished"}, "status", id="unknown-status"),
        pytest.param({"status": "not_done"}, "status", id="not-done-is-not-reported"),
        pytest.param({"pain_during": 11}, "pain_during", id="pain-during-11"),
        pytest.param({"sets_done": -1}, "sets_done", id="negative-sets"),
        pytest.param({"reps_done": 1001}, "reps_done", id="too-many-reps"),
        pytest.param({"hold_seconds": True}, "hold_seconds", id="bool-hold"),
        pytest.param({"skip_reason": "x" * 201}, "skip_reason", id="long-skip-reason"),
    ],
)
def test_invalid_exercise_results_name_the_item_and_field(bundle, result, field):
    first = bundle.program.items[0]
    exercises = (
        ExerciseResult(program_item_id=first.id, status="done"),
        ExerciseResult(
            **{"program_item_id": bundle.program.items[1].id, "status": "done"} | result
        ),
    )

    with pytest.raises(ValidationFailed) as refused:
        log_session(bundle.patient, report(bundle.program, exercises=exercises), now=NOW)

    assert set(refused.value.errors) == {f"exercises[1].{field}"}
    assert count(Session) == 0


def test_a_time_14_minutes_ahead_of_the_server_is_accepted_as_it_is(bundle):
    ahead = NOW + timedelta(minutes=14)

    session = log_session(
        bundle.patient, report(bundle.program, completed_at=ahead, started_at=None), now=NOW
    ).obj

    assert session.completed_at == ahead


def test_a_session_at_local_midnight_of_the_start_date_is_accepted(enrol):
    bundle = enrol(timezone="Asia/Tokyo")
    midnight = datetime(2026, 3, 2, 0, 0, tzinfo=ZoneInfo("Asia/Tokyo"))

    session = log_session(
        bundle.patient, report(bundle.program, completed_at=midnight, started_at=None), now=NOW
    ).obj

    assert session.local_date == START
    with pytest.raises(ValidationFailed) as refused:
        log_session(
            bundle.patient,
            report(bundle.program, completed_at=midnight - timedelta(seconds=1), started_at=None),
            now=NOW,
        )
    assert set(refused.value.errors) == {"completed_at"}


def test_a_naive_start_time_is_refused_with_a_message(bundle):
    naive = (DONE_AT - timedelta(minutes=20)).replace(tzinfo=None)

    with pytest.raises(ValidationFailed) as refused:
        log_session(bundle.patient, report(bundle.program, started_at=naive), now=NOW)

    assert set(refused.value.errors) == {"started_at"}


def test_an_item_of_another_patients_program_is_refused(bundle, enrol):
    other = enrol()
    foreign = ExerciseResult(program_item_id=other.program.items[0].id, status="done")

    with pytest.raises(ValidationFailed) as refused:
        log_session(bundle.patient, report(bundle.program, exercises=(foreign,)), now=NOW)

    assert set(refused.value.errors) == {"exercises[0].program_item_id"}
    assert count(Session) == 0


def test_an_item_listed_twice_is_refused(bundle):
    item = bundle.program.items[0]
    twice = (
        ExerciseResult(program_item_id=item.id, status="done"),
        ExerciseResult(program_item_id=item.id, status="partial"),
    )

    with pytest.raises(ValidationFailed) as refused:
        log_session(bundle.patient, report(bundle.program, exercises=twice), now=NOW)

    assert set(refused.value.errors) == {"exercises[1].program_item_id"}
    assert count(Session) == 0


def test_several_mistakes_are_reported_together(bundle):
    with pytest.raises(ValidationFailed) as refused:
        log_session(
            bundle.patient,
            report(bundle.program, pain_before=12, effort=-3, notes="x" * 2001, exercises=()),
            now=NOW,
        )

    assert set(refused.value.errors) == {"pain_before", "effort", "notes", "exercises"}


def test_another_patients_program_is_not_found(bundle, enrol):
    other = enrol()

    with pytest.raises(NotFound):
        log_session(bundle.patient, report(other.program), now=NOW)

    assert count(Session) == 0


def test_an_unknown_program_is_not_found(bundle):
    with pytest.raises(NotFound):
        log_session(bundle.patient, report(bundle.program, program_id=999_999), now=NOW)


# ---------------------------------------------------------------------------- stage changes


def test_items_removed_before_the_session_are_not_prescribed(bundle):
    program = bundle.program
    old_items = list(program.items)
    change_stage(program, 2, reason="Ready", by=bundle.therapist, now=DONE_AT - timedelta(days=1))
    new_items = program.items

    session = log_session(
        bundle.patient,
        report(program, statuses=("done",) * 5),
        now=NOW,
    ).obj

    assert session.prescribed_items == 5
    assert {e.program_item_id for e in session.exercises} == {i.id for i in new_items}
    assert not {e.program_item_id for e in session.exercises} & {i.id for i in old_items}
    assert session.completed is True


def test_a_session_done_before_a_stage_change_and_synced_after_it_keeps_its_items(bundle):
    program = bundle.program
    old_items = list(program.items)
    done_offline = report(program, statuses=("done",) * 5)
    change_stage(program, 2, reason="Ready", by=bundle.therapist, now=DONE_AT + timedelta(hours=1))

    session = log_session(bundle.patient, done_offline, now=NOW).obj

    assert {e.program_item_id for e in session.exercises} == {i.id for i in old_items}
    assert session.prescribed_items == 5
    assert session.completed is True


# ---------------------------------------------------------------------------- cost


def test_logging_a_session_costs_the_same_number_of_queries_whatever_the_history(
    bundle, count_queries
):
    def log_one(at: datetime) -> int:
        with count_queries() as queries:
            log_session(bundle.patient, report(bundle.program, completed_at=at), now=NOW)
        return len(queries)

    # The first call loads the clinic and the program into the session; measure after it.

    first = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
    log_session(bundle.patient, report(bundle.program, completed_at=first), now=NOW)
    early = log_one(first + timedelta(minutes=30))
    for hours in range(1, 21):
        at = first + timedelta(hours=hours)
        log_session(bundle.patient, report(bundle.program, completed_at=at), now=NOW)
    late = log_one(datetime(2026, 3, 4, 11, 0, tzinfo=UTC))

    assert late == early


@pytest.mark.parametrize(
    ("ahead", "accepted"),
    [
        pytest.param(timedelta(minutes=15), True, id="15-min-ahead-accepted"),
        pytest.param(timedelta(minutes=15, seconds=1), False, id="15-min-1-s-ahead-refused"),
        pytest.param(timedelta(minutes=16), False, id="16-min-ahead-refused"),
    ],
)
def test_phone_clocks_may_run_up_to_15_minutes_ahead(bundle, ahead, accepted):
    session = report(bundle.program, completed_at=NOW + ahead)
    check_in = CheckInReport(id=str(uuid.uuid4()), recorded_at=NOW + ahead, morning_pain=3)

    if accepted:
        assert log_session(bundle.patient, session, now=NOW).created
        assert record_check_in(bundle.patient, check_in, now=NOW).created
    else:
        with pytest.raises(ValidationFailed) as refused:
            log_session(bundle.patient, session, now=NOW)
        assert set(refused.value.errors) == {"completed_at"}
        with pytest.raises(ValidationFailed) as refused:
            record_check_in(bundle.patient, check_in, now=NOW)
        assert set(refused.value.errors) == {"recorded_at"}

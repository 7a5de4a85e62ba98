"""Record a check-in: morning pain, red flags, self-care, and when the screen is due again.

DESIGN §4 `POST /api/v1/checkins`, CLINICAL §4 (the morning settles the light) and §6 (red-flag
screen). Every service call gets an explicit `now`; the program starts on a fixed Monday.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.clinical.red_flags import WEEKLY_IDS
from app.enums import CheckInKind, Light, ProgramStatus, RedFlagLevel
from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.patient.check_ins import CheckInReport, CheckInResult, record_check_in, red_flags_due
from app.patient.models import CheckIn, RedFlagAnswer, Session
from app.patient.sessions import ExerciseResult, SessionReport, log_session
from app.programs.content import BUILTIN_TEMPLATE
from app.programs.services import Assignment, assign_program
from tests.conftest import PatientBundle

START = date(2026, 3, 2)  # a Monday: program day 1
ASSIGNED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SESSION_AT = datetime(2026, 3, 3, 18, 0, tzinfo=UTC)  # Tuesday evening in London
MORNING = datetime(2026, 3, 4, 7, 30, tzinfo=UTC)  # Wednesday morning in London
NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
ALL_NO = dict.fromkeys(WEEKLY_IDS, False)


def count(model: type) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


@pytest.fixture
def enrol(make_patient: Callable[..., PatientBundle]) -> Callable[..., PatientBundle]:
    """Return a factory for a patient on the built-in routine from START (a fixed Monday)."""

    def make(*, timezone: str = "Europe/London", **intake: object) -> PatientBundle:
        bundle = make_patient(stage=None, timezone=timezone, **intake)
        # Enrolled before the fixed dates these tests report on (nothing predates enrolment).
        bundle.patient.created_at = ASSIGNED_AT - timedelta(days=1)
        bundle.program = assign_program(
            bundle.patient,
            Assignment(template=BUILTIN_TEMPLATE, stage=1, start_date=START),
            by=bundle.therapist,
            now=ASSIGNED_AT,
        )
        db.session.commit()
        return bundle

    return make


@pytest.fixture
def bundle(enrol: Callable[..., PatientBundle]) -> PatientBundle:
    return enrol()


def check_in(
    bundle: PatientBundle,
    *,
    at: datetime = MORNING,
    now: datetime | None = None,
    morning_pain: int | None = None,
    red_flags: Mapping[str, object] | None = None,
    **fields: object,
) -> CheckInResult:
    report = CheckInReport(
        id=str(fields.pop("id", uuid.uuid4())),
        recorded_at=at,
        morning_pain=morning_pain,
        red_flags=red_flags or {},  # type: ignore[arg-type]
        **fields,  # type: ignore[arg-type]
    )
    return record_check_in(bundle.patient, report, now=now or max(at, NOW))


def session(
    bundle: PatientBundle,
    *,
    at: datetime = SESSION_AT,
    before: int = 3,
    peak: int = 3,
    now: datetime = NOW,
) -> Session:
    """Log a full session with pain before `before` and pain during and after `peak`."""
    assert bundle.program is not None
    return log_session(
        bundle.patient,
        SessionReport(
            id=str(uuid.uuid4()),
            program_id=bundle.program.id,
            completed_at=at,
            pain_before=before,
            pain_after=peak,
            exercises=tuple(
                ExerciseResult(program_item_id=item.id, status="done", pain_during=peak)
                for item in bundle.program.items
            ),
        ),
        now=now,
    ).obj


# ---------------------------------------------------------------------------- morning pain


def test_a_morning_check_in_is_stored_with_its_pain_and_self_care(bundle):
    result = check_in(bundle, morning_pain=4, self_care=("walking", "heat", "heat"))

    stored = result.check_in
    assert result.created is True
    assert stored.id is not None
    assert stored.kind is CheckInKind.MORNING
    assert stored.morning_pain == 4
    assert stored.local_date == date(2026, 3, 4)
    assert stored.self_care == ["heat", "walking"]
    assert stored.red_flag_level is RedFlagLevel.NONE
    assert stored.full_screen is False
    assert result.instruction.level is RedFlagLevel.NONE
    assert count(CheckIn) == 1


def test_the_check_in_belongs_to_the_local_day_of_the_patient(enrol):
    late = datetime(2026, 3, 3, 23, 30, tzinfo=UTC)
    los_angeles = enrol(timezone="America/Los_Angeles")
    tokyo = enrol(timezone="Asia/Tokyo")

    assert check_in(los_angeles, at=late, morning_pain=2).check_in.local_date == date(2026, 3, 3)
    assert check_in(tokyo, at=late, morning_pain=2).check_in.local_date == date(2026, 3, 4)


def test_replaying_a_check_in_returns_the_stored_one_and_stores_nothing_new(bundle):
    client_id = str(uuid.uuid4())
    first = check_in(bundle, id=client_id, morning_pain=4, red_flags={"RF10": True})
    db.session.commit()

    replay = check_in(
        bundle, id=client_id, morning_pain=4, red_flags={"RF10": True}, now=NOW + timedelta(hours=2)
    )

    assert replay.created is False
    assert replay.check_in.id == first.check_in.id
    assert replay.instruction.level is RedFlagLevel.PROMPT
    assert count(CheckIn) == 1
    assert count(RedFlagAnswer) == 1


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"morning_pain": 5}, id="morning-pain"),
        pytest.param({"red_flags": {"RF10": True}}, id="red-flags"),
        pytest.param({"self_care": ("ice",)}, id="self-care"),
        pytest.param({"at": MORNING + timedelta(minutes=1)}, id="recorded-at"),
    ],
)
def test_the_same_check_in_id_with_different_content_is_a_conflict(bundle, change):
    client_id = str(uuid.uuid4())
    first = check_in(bundle, id=client_id, morning_pain=4).check_in
    db.session.commit()

    with pytest.raises(Conflict):
        check_in(bundle, **{"id": client_id, "morning_pain": 4, **change})

    db.session.rollback()
    db.session.expire_all()
    assert count(CheckIn) == 1
    assert count(RedFlagAnswer) == 0
    assert first.morning_pain == 4
    assert first.recorded_at == MORNING


# ---------------------------------------------------------------------------- settling lights


@pytest.mark.parametrize(
    ("before", "peak", "morning", "light"),
    [
        pytest.param(3, 3, 3, Light.GREEN, id="settles-green"),
        pytest.param(3, 3, 4, Light.AMBER, id="morning-one-above-amber"),
        pytest.param(3, 3, 5, Light.RED, id="morning-two-above-red"),
        pytest.param(3, 5, 2, Light.AMBER, id="amber-peak-stays-amber"),
        pytest.param(2, 6, 0, Light.RED, id="red-peak-stays-red"),
    ],
)
def test_the_next_morning_pain_settles_the_previous_days_sessions(
    bundle, before, peak, morning, light
):
    logged = session(bundle, before=before, peak=peak)
    assert logged.light_provisional is True

    check_in(bundle, morning_pain=morning)

    assert logged.light is light
    assert logged.light_provisional is False


def test_only_the_first_check_in_of_the_morning_settles_the_light(bundle):
    logged = session(bundle, before=3, peak=3)
    check_in(bundle, at=MORNING, morning_pain=5)
    assert logged.light is Light.RED

    check_in(bundle, at=MORNING + timedelta(hours=2), morning_pain=3)

    assert logged.light is Light.RED
    assert logged.light_provisional is False


def test_an_earlier_check_in_that_arrives_late_becomes_the_first_of_the_morning(bundle):
    logged = session(bundle, before=3, peak=3)
    check_in(bundle, at=MORNING + timedelta(hours=2), morning_pain=5)
    assert logged.light is Light.RED

    # Recorded at 07:30 on the phone, sent from the offline outbox at 10:00.
    check_in(bundle, at=MORNING, morning_pain=3)

    assert logged.light is Light.GREEN


def test_a_check_in_two_days_later_leaves_the_light_provisional(bundle):
    logged = session(bundle, before=3, peak=3)

    check_in(bundle, at=MORNING + timedelta(days=1), morning_pain=9)

    assert logged.light is Light.GREEN
    assert logged.light_provisional is True


def test_a_red_flag_only_check_in_does_not_settle_the_light(bundle):
    logged = session(bundle, before=3, peak=3)

    check_in(bundle, red_flags={"RF10": False})

    assert logged.light_provisional is True


def test_the_next_morning_is_the_patients_local_morning(enrol):
    tokyo = enrol(timezone="Asia/Tokyo")
    # 08:00 on Tuesday in Tokyo, then 07:30 on Wednesday in Tokyo (22:30 UTC on Tuesday).
    logged = session(tokyo, at=datetime(2026, 3, 2, 23, 0, tzinfo=UTC), before=3, peak=3)

    check_in(tokyo, at=datetime(2026, 3, 3, 22, 30, tzinfo=UTC), morning_pain=5)

    assert logged.local_date == date(2026, 3, 3)
    assert logged.light is Light.RED
    assert logged.light_provisional is False


# ---------------------------------------------------------------------------- red flags


@pytest.mark.parametrize("question", ["RF1", "RF2", "RF3", "RF4", "RF5"])
def test_a_cauda_equina_answer_is_an_emergency_and_suspends_the_program(bundle, question):
    result = check_in(bundle, red_flags={**ALL_NO, question: True})

    assert result.instruction.level is RedFlagLevel.EMERGENCY
    assert "emergency department" in result.instruction.text
    assert result.check_in.red_flag_level is RedFlagLevel.EMERGENCY
    assert bundle.program.status is ProgramStatus.SUSPENDED
    assert bundle.program.status_changes[-1].status is ProgramStatus.SUSPENDED
    assert question in bundle.program.status_changes[-1].reason


@pytest.mark.parametrize("question", ["RF6", "RF7", "RF8"])
def test_an_urgent_answer_pauses_the_program(bundle, question):
    result = check_in(bundle, red_flags={question: True})

    assert result.instruction.level is RedFlagLevel.URGENT
    assert "today" in result.instruction.text
    assert bundle.program.status is ProgramStatus.PAUSED


@pytest.mark.parametrize("question", ["RF9", "RF10", "RF11"])
def test_a_malignancy_answer_is_a_prompt_and_the_program_stays_active(bundle, question):
    result = check_in(bundle, red_flags={question: True})

    assert result.instruction.level is RedFlagLevel.PROMPT
    assert bundle.program.status is ProgramStatus.ACTIVE


@pytest.mark.parametrize("question", ["RF9", "RF10", "RF11"])
def test_a_malignancy_answer_is_urgent_when_intake_rf12_was_yes(enrol, question):
    bundle = enrol(intake_red_flags={"RF12": True})

    result = check_in(bundle, red_flags={question: True})

    assert result.instruction.level is RedFlagLevel.URGENT
    assert bundle.program.status is ProgramStatus.PAUSED


def test_rf12_yes_in_the_same_screen_raises_a_prompt_answer_to_urgent(bundle):
    result = check_in(bundle, red_flags={"RF10": True, "RF12": True})

    assert result.instruction.level is RedFlagLevel.URGENT
    assert bundle.patient.risk_modifier is True


def test_one_screen_takes_the_highest_level_of_its_yes_answers(bundle):
    result = check_in(bundle, red_flags={**ALL_NO, "RF3": True, "RF7": True, "RF10": True})

    assert result.instruction.level is RedFlagLevel.EMERGENCY
    assert bundle.program.status is ProgramStatus.SUSPENDED


def test_an_emergency_suspends_a_program_that_was_already_paused(bundle):
    check_in(bundle, red_flags={"RF6": True})
    assert bundle.program.status is ProgramStatus.PAUSED

    check_in(bundle, at=MORNING + timedelta(hours=1), red_flags={"RF2": True})

    assert bundle.program.status is ProgramStatus.SUSPENDED


def test_red_flag_answers_are_kept_one_row_per_question(bundle):
    answers = {**ALL_NO, "RF5": True}

    stored = check_in(bundle, red_flags=answers).check_in

    assert stored.red_flag_answers() == answers
    assert stored.full_screen is True
    assert count(RedFlagAnswer) == len(WEEKLY_IDS)


@pytest.mark.parametrize(
    ("answers", "fields"),
    [
        pytest.param({"RF13": True}, {"red_flags"}, id="unknown-question"),
        pytest.param({"rf1": False}, {"red_flags"}, id="lower-case-id"),
        pytest.param({"RF1": "no"}, {"red_flags"}, id="string-answer"),
        pytest.param({"RF1": 0}, {"red_flags"}, id="integer-answer"),
        pytest.param({"RF1": None}, {"red_flags"}, id="no-answer"),
    ],
)
def test_unknown_questions_and_non_bool_answers_are_refused(bundle, answers, fields):
    with pytest.raises(ValidationFailed) as refused:
        check_in(bundle, morning_pain=3, red_flags=answers)

    assert set(refused.value.errors) == fields
    assert count(CheckIn) == 0
    assert bundle.program.status is ProgramStatus.ACTIVE


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        pytest.param({"self_care": ("ice", "massage")}, {"self_care"}, id="unknown-self-care"),
        pytest.param({"morning_pain": None}, {"morning_pain"}, id="nothing-reported"),
        pytest.param({"morning_pain": 11}, {"morning_pain"}, id="morning-pain-11"),
        pytest.param({"morning_pain": True}, {"morning_pain"}, id="morning-pain-bool"),
        pytest.param({"at": NOW + timedelta(minutes=16)}, {"recorded_at"}, id="16-min-ahead"),
        pytest.param({"at": MORNING.replace(tzinfo=None)}, {"recorded_at"}, id="naive-time"),
        pytest.param({"id": "1234"}, {"id"}, id="bad-uuid"),
    ],
)
def test_invalid_check_ins_are_refused_and_nothing_is_stored(bundle, fields, errors):
    values = {"morning_pain": 3, **fields}

    with pytest.raises(ValidationFailed) as refused:
        check_in(bundle, now=NOW, **values)

    assert set(refused.value.errors) == errors
    assert count(CheckIn) == 0


def test_every_self_care_word_is_accepted(bundle):
    words = ("ice", "heat", "medication", "walking", "other")

    stored = check_in(bundle, morning_pain=2, self_care=words).check_in

    assert stored.self_care == sorted(words)


def test_a_new_symptom_can_be_reported_without_a_morning_pain(bundle):
    result = check_in(bundle, red_flags={"RF11": True}, kind=CheckInKind.SYMPTOM)

    assert result.check_in.morning_pain is None
    assert result.check_in.kind is CheckInKind.SYMPTOM


# ---------------------------------------------------------------------------- screen due


def test_the_weekly_screen_is_due_when_none_was_ever_answered(bundle):
    assert red_flags_due(bundle.patient, NOW) == WEEKLY_IDS
    assert set(WEEKLY_IDS) == {f"RF{n}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 10, 11)}


def test_a_full_screen_clears_the_due_list_for_a_week(bundle):
    result = check_in(bundle, morning_pain=3, red_flags=ALL_NO)

    assert result.red_flags_due == ()
    assert red_flags_due(bundle.patient, MORNING + timedelta(days=6, hours=12)) == ()
    assert red_flags_due(bundle.patient, MORNING + timedelta(days=7)) == WEEKLY_IDS


def test_a_partial_screen_does_not_count_as_the_weekly_screen(bundle):
    partial = {question: False for question in WEEKLY_IDS if question != "RF11"}

    result = check_in(bundle, morning_pain=3, red_flags=partial)

    assert result.check_in.full_screen is False
    assert result.red_flags_due == WEEKLY_IDS


def test_seven_days_are_counted_in_local_calendar_days(enrol):
    bundle = enrol(timezone="Europe/London")
    monday_night = datetime(2026, 3, 2, 23, 0, tzinfo=UTC)
    check_in(bundle, at=monday_night, now=monday_night, red_flags=ALL_NO)

    # Next Monday 08:00 is only 6 days and 9 hours later, but 7 local days.
    assert red_flags_due(bundle.patient, datetime(2026, 3, 8, 23, 59, tzinfo=UTC)) == ()
    assert red_flags_due(bundle.patient, datetime(2026, 3, 9, 8, 0, tzinfo=UTC)) == WEEKLY_IDS


def test_a_red_session_since_the_last_screen_makes_the_screen_due_again(bundle):
    screened = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    check_in(bundle, at=screened, now=screened, red_flags=ALL_NO)
    assert red_flags_due(bundle.patient, NOW) == ()

    red = session(bundle, at=SESSION_AT, before=2, peak=7)

    assert red.light is Light.RED
    assert red_flags_due(bundle.patient, NOW) == WEEKLY_IDS


def test_a_red_session_before_the_last_screen_does_not_make_it_due(bundle):
    session(bundle, at=SESSION_AT, before=2, peak=7)

    result = check_in(bundle, morning_pain=2, red_flags=ALL_NO)

    assert result.red_flags_due == ()


def test_a_session_that_turns_red_next_morning_makes_the_screen_due(bundle):
    screened = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    check_in(bundle, at=screened, now=screened, red_flags=ALL_NO)
    session(bundle, before=3, peak=3)
    assert red_flags_due(bundle.patient, NOW) == ()

    result = check_in(bundle, morning_pain=6)

    assert result.red_flags_due == WEEKLY_IDS


def test_intake_answers_do_not_count_as_a_weekly_screen(enrol):
    bundle = enrol(intake_red_flags={"RF9": False, "RF12": False})

    assert red_flags_due(bundle.patient, NOW) == WEEKLY_IDS

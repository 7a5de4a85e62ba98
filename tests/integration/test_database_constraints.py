"""The database itself refuses impossible rows, and hands back aware UTC timestamps.

The services validate first; these constraints are the last line (CLINICAL §1 pain range,
DESIGN §2 one program in force, DESIGN §4 idempotency by client UUID, DESIGN §3 UTC storage).
Rows are written with `db.session` directly, bypassing the services.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, StatementError

from app.enums import CheckInKind, Light, ProgramStatus
from app.extensions import db
from app.patient.models import CheckIn, RedFlagAnswer, Session, SessionExercise
from app.programs.models import Exercise, Program, ProgramItem
from tests.conftest import PatientBundle

AT = datetime(2026, 3, 3, 18, 0, tzinfo=UTC)
TOKYO = timezone(timedelta(hours=9))


@pytest.fixture
def bundle(make_patient: Callable[..., PatientBundle]) -> PatientBundle:
    return make_patient(stage=1)


def session_row(bundle: PatientBundle, **values: object) -> Session:
    assert bundle.program is not None
    fields: dict = {
        "patient_id": bundle.patient.id,
        "program_id": bundle.program.id,
        "client_id": str(uuid.uuid4()),
        "completed_at": AT,
        "local_date": AT.date(),
        "stage": 1,
        "pain_before": 3,
        "pain_after": 3,
        "peak_pain": 3,
        "prescribed_items": 5,
        "completed_items": 5,
        "completed": True,
        "light": Light.GREEN,
        "light_provisional": True,
        "payload_hash": "0" * 64,
        "created_at": AT,
        **values,
    }
    return Session(**fields)


def check_in_row(bundle: PatientBundle, **values: object) -> CheckIn:
    fields: dict = {
        "patient_id": bundle.patient.id,
        "client_id": str(uuid.uuid4()),
        "kind": CheckInKind.MORNING,
        "recorded_at": AT,
        "local_date": AT.date(),
        "morning_pain": 3,
        "payload_hash": "0" * 64,
        **values,
    }
    return CheckIn(**fields)


def item_row(bundle: PatientBundle, **values: object) -> ProgramItem:
    assert bundle.program is not None
    template = bundle.program.items[0]
    fields: dict = {
        "program_id": bundle.program.id,
        "exercise_id": template.exercise_id,
        "position": 99,
        **template.copy_dosage(),
        **values,
    }
    return ProgramItem(**fields)


def refused(*rows: object) -> None:
    """Assert the database rejects these rows, then roll the transaction back."""
    db.session.add_all(rows)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def accepted(*rows: object) -> None:
    db.session.add_all(rows)
    db.session.flush()


def count(model: type) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


# ---------------------------------------------------------------------------- sessions


def test_a_valid_session_row_is_accepted(bundle):
    accepted(session_row(bundle))

    assert count(Session) == 1


@pytest.mark.parametrize(
    "values",
    [
        pytest.param({"pain_before": 11}, id="pain-before-11"),
        pytest.param({"pain_before": -1}, id="pain-before-negative"),
        pytest.param({"pain_after": 11}, id="pain-after-11"),
        pytest.param({"peak_pain": 11}, id="peak-11"),
        pytest.param({"effort": 11}, id="effort-11"),
        pytest.param({"prescribed_items": -1, "completed_items": 0}, id="negative-items"),
        pytest.param({"completed_items": 6}, id="more-done-than-prescribed"),
    ],
)
def test_out_of_range_session_values_are_rejected_by_the_database(bundle, values):
    refused(session_row(bundle, **values))

    assert count(Session) == 0


def test_a_duplicate_client_id_for_the_same_patient_is_rejected(bundle):
    client_id = str(uuid.uuid4())
    accepted(session_row(bundle, client_id=client_id))
    db.session.commit()

    refused(session_row(bundle, client_id=client_id, completed_at=AT + timedelta(hours=1)))

    assert count(Session) == 1


def test_the_same_client_id_for_another_patient_is_accepted(bundle, make_patient):
    other = make_patient(stage=1)
    client_id = str(uuid.uuid4())

    accepted(session_row(bundle, client_id=client_id), session_row(other, client_id=client_id))

    assert count(Session) == 2


def test_an_unknown_light_is_rejected_by_the_database(bundle):
    row = session_row(bundle)
    accepted(row)
    db.session.commit()

    with pytest.raises(IntegrityError):
        db.session.execute(
            sa.text("UPDATE sessions SET light = 'purple' WHERE id = :id"), {"id": row.id}
        )
    db.session.rollback()

    assert db.session.scalar(sa.select(Session.light)) is Light.GREEN


def test_one_program_item_appears_once_per_session(bundle):
    row = session_row(bundle)
    item = bundle.program.items[0]
    accepted(row)

    def result() -> SessionExercise:
        return SessionExercise(
            session_id=row.id,
            program_item_id=item.id,
            exercise_id=item.exercise_id,
            position=1,
            status="done",
        )

    refused(result(), result())


@pytest.mark.parametrize(
    "values",
    [
        pytest.param({"pain_during": 11}, id="pain-during-11"),
        pytest.param({"sets_done": -1}, id="negative-sets"),
        pytest.param({"reps_done": -1}, id="negative-reps"),
        pytest.param({"hold_seconds": -1}, id="negative-hold"),
    ],
)
def test_out_of_range_exercise_results_are_rejected_by_the_database(bundle, values):
    row = session_row(bundle)
    item = bundle.program.items[0]
    accepted(row)

    refused(
        SessionExercise(
            session_id=row.id,
            program_item_id=item.id,
            exercise_id=item.exercise_id,
            position=1,
            status="done",
            **values,
        )
    )


# ---------------------------------------------------------------------------- check-ins


def test_a_morning_pain_of_11_is_rejected_by_the_database(bundle):
    refused(check_in_row(bundle, morning_pain=11))


def test_a_duplicate_check_in_client_id_is_rejected(bundle):
    client_id = str(uuid.uuid4())
    accepted(check_in_row(bundle, client_id=client_id))

    refused(check_in_row(bundle, client_id=client_id))


def test_an_unknown_red_flag_question_is_rejected_by_the_database(bundle):
    row = check_in_row(bundle, morning_pain=None)
    accepted(row)

    refused(
        RedFlagAnswer(
            check_in_id=row.id, patient_id=bundle.patient.id, question="RF13", answer=True
        )
    )


def test_a_question_is_answered_once_per_check_in(bundle):
    row = check_in_row(bundle, morning_pain=None)
    accepted(row)

    refused(
        RedFlagAnswer(
            check_in_id=row.id, patient_id=bundle.patient.id, question="RF1", answer=False
        ),
        RedFlagAnswer(
            check_in_id=row.id, patient_id=bundle.patient.id, question="RF1", answer=True
        ),
    )


# ---------------------------------------------------------------------------- programs


def test_a_valid_program_item_row_is_accepted(bundle):
    accepted(item_row(bundle))


@pytest.mark.parametrize(
    "values",
    [
        pytest.param({"sets": 0}, id="sets-0"),
        pytest.param({"sets": 11}, id="sets-11"),
        pytest.param({"reps": 0}, id="reps-0"),
        pytest.param({"hold_seconds": 0}, id="hold-0"),
        pytest.param({"hold_seconds": 301}, id="hold-301"),
        pytest.param({"duration_seconds": 3601}, id="duration-3601"),
        pytest.param({"distance_m": 0}, id="distance-0"),
        pytest.param({"rest_seconds": -1}, id="rest-negative"),
    ],
)
def test_impossible_dosages_are_rejected_by_the_database(bundle, values):
    refused(item_row(bundle, **values))

    assert count(ProgramItem) == 5


def test_changing_an_item_to_zero_sets_is_rejected_by_the_database(bundle):
    item = bundle.program.items[0]

    with pytest.raises(IntegrityError):
        db.session.execute(sa.update(ProgramItem).where(ProgramItem.id == item.id).values(sets=0))
    db.session.rollback()

    assert db.session.get(ProgramItem, item.id).sets == 1


def program_row(bundle: PatientBundle, status: ProgramStatus) -> Program:
    assert bundle.program is not None
    current = bundle.program
    return Program(
        patient_id=bundle.patient.id,
        episode_id=current.episode_id,
        template_id=current.template_id,
        stage=2,
        sessions_per_week=5,
        weekdays=[0, 1, 2, 3, 4],
        start_date=current.start_date,
        stage_started_on=current.start_date,
        status=status,
        created_at=AT,
    )


@pytest.mark.parametrize(
    "status", [ProgramStatus.ACTIVE, ProgramStatus.PAUSED, ProgramStatus.SUSPENDED]
)
def test_a_second_program_in_force_for_a_patient_is_rejected(bundle, status):
    refused(program_row(bundle, status))

    assert count(Program) == 1


def test_ended_programs_are_kept_beside_the_one_in_force(bundle):
    accepted(program_row(bundle, ProgramStatus.ENDED), program_row(bundle, ProgramStatus.ENDED))

    assert count(Program) == 3


def test_another_patient_may_have_a_program_in_force(bundle, make_patient):
    other = make_patient(stage=1)

    assert other.program is not None
    assert count(Program) == 2


@pytest.mark.parametrize(
    "values",
    [
        pytest.param({"stage": 5}, id="stage-5"),
        pytest.param({"sessions_per_week": 0}, id="zero-a-week"),
    ],
)
def test_impossible_programs_are_rejected_by_the_database(bundle, values):
    row = program_row(bundle, ProgramStatus.ENDED)
    for name, value in values.items():
        setattr(row, name, value)

    refused(row)


def test_a_second_built_in_exercise_with_the_same_slug_is_rejected(bundle):
    original = bundle.program.items[0].exercise

    refused(
        Exercise(
            slug=original.slug,
            clinic_id=None,
            name="Copy",
            target="copy",
            created_at=AT,
            updated_at=AT,
        )
    )


# ---------------------------------------------------------------------------- timestamps


def test_timestamps_are_read_back_as_aware_utc(bundle):
    in_tokyo = datetime(2026, 3, 4, 3, 0, tzinfo=TOKYO)
    accepted(session_row(bundle, completed_at=in_tokyo, started_at=in_tokyo - timedelta(hours=1)))
    accepted(check_in_row(bundle, recorded_at=in_tokyo))
    db.session.commit()
    db.session.expire_all()

    stored = db.session.scalars(sa.select(Session)).one()
    completed_at = db.session.scalar(sa.select(Session.completed_at))
    recorded_at = db.session.scalar(sa.select(CheckIn.recorded_at))
    for value in (stored.completed_at, stored.started_at, stored.created_at, recorded_at):
        assert value.tzinfo is not None
        assert value.utcoffset() == timedelta(0)
    assert stored.completed_at == datetime(2026, 3, 3, 18, 0, tzinfo=UTC)
    assert completed_at == in_tokyo
    assert recorded_at == in_tokyo


def test_timestamps_written_by_the_services_are_aware_utc(bundle):
    db.session.expire_all()
    program = db.session.get(Program, bundle.program.id)

    assert program.created_at.utcoffset() == timedelta(0)
    assert bundle.patient.created_at.utcoffset() == timedelta(0)
    assert program.status_changes[0].created_at.tzinfo is not None


def test_a_naive_timestamp_is_refused_before_it_reaches_the_database(bundle):
    db.session.add(session_row(bundle, completed_at=AT.replace(tzinfo=None)))

    with pytest.raises(StatementError, match="naive datetime"):
        db.session.flush()
    db.session.rollback()

    assert count(Session) == 0

"""Create patients, assign staged programs, change their stage and status.

DESIGN §2 (program, episode of care, stage and status history) and §4 (`POST /api/v1/patients`,
`POST /api/v1/patients/<id>/program`, `.../stage`, `.../resume`), CLINICAL §3 (default weekdays)
and §6 (intake red flags). Every service call gets an explicit `now`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.admin.models import AuditEvent
from app.auth.models import Invitation, User
from app.auth.services import Acceptance, accept_invitation, find_invitation
from app.enums import CheckInKind, ProgramStatus, RedFlagLevel, Role, StageDirection
from app.errors import ValidationFailed
from app.extensions import db
from app.patient.enrolment import NewPatient, invite_patient
from app.patient.models import CheckIn, Patient
from app.programs.content import BUILTIN_TEMPLATE
from app.programs.models import (
    EpisodeOfCare,
    Program,
    ProgramItem,
    ProgramStatusChange,
    RoutineTemplate,
    ScheduleChange,
    StageChange,
)
from app.programs.services import (
    Assignment,
    assign_program,
    change_stage,
    current_program,
    pause_program,
    resume_program,
    suspend_program,
)
from tests.conftest import PASSWORD, PatientBundle

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # Monday morning in London
TODAY = date(2026, 3, 2)
LATER = NOW + timedelta(days=10)


def count(model: type) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def stage_slugs(number: int) -> list[str]:
    template = db.session.scalar(
        sa.select(RoutineTemplate).where(RoutineTemplate.slug == BUILTIN_TEMPLATE)
    )
    assert template is not None
    stage = template.stage(number)
    assert stage is not None
    return [link.exercise.slug for link in stage.default_exercises]


@pytest.fixture
def patient(make_patient: Callable[..., PatientBundle]) -> PatientBundle:
    """A London patient with no program yet (the built-in content is loaded)."""
    return make_patient(stage=None)


def assign(bundle: PatientBundle, *, now: datetime = NOW, **choices: object) -> Program:
    values: dict = {"template": BUILTIN_TEMPLATE, "stage": 1, **choices}
    return assign_program(bundle.patient, Assignment(**values), by=bundle.therapist, now=now)


# ---------------------------------------------------------------------------- create patient


@pytest.fixture
def therapist(make_user: Callable[..., User]) -> User:
    return make_user(Role.THERAPIST)


def new_patient(**fields: object) -> NewPatient:
    values: dict = {
        "name": "Ada Lovelace",
        "timezone": "Europe/London",
        "email": "ada@example.org",
        "intake_pain": 6,
        "goals": "Lift my grandchild",
        **fields,
    }
    return NewPatient(**values)


def test_a_new_patient_gets_an_account_waiting_for_its_invitation(therapist):
    invited = invite_patient(
        therapist.clinic, new_patient(name="  Ada Lovelace "), by=therapist, now=NOW
    )
    patient, token = invited.patient, invited.token

    assert patient.id is not None
    assert patient.name == "Ada Lovelace"
    assert patient.user.role is Role.PATIENT
    assert patient.user.password_hash is None
    assert patient.therapist_id == therapist.id
    assert patient.clinic_id == therapist.clinic_id
    assert (patient.timezone, patient.intake_pain) == ("Europe/London", 6)
    assert patient.risk_modifier is False
    assert token
    assert count(Invitation) == 1
    # The address waits on the invitation until the patient confirms it on accepting.
    assert patient.user.email is None
    assert db.session.scalar(sa.select(Invitation.email)) == "ada@example.org"
    assert count(CheckIn) == 0
    assert db.session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.action == "patient.create", AuditEvent.patient_id == patient.id
        )
    )


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        pytest.param({"timezone": "Mars/Base"}, "timezone", id="unknown-timezone"),
        pytest.param({"timezone": ""}, "timezone", id="no-timezone"),
        pytest.param({"intake_pain": 11}, "intake_pain", id="intake-pain-11"),
        pytest.param({"intake_pain": -1}, "intake_pain", id="intake-pain-negative"),
        pytest.param({"name": "   "}, "name", id="blank-name"),
        pytest.param({"name": "x" * 121}, "name", id="long-name"),
        pytest.param({"goals": "x" * 2001}, "goals", id="long-goals"),
        pytest.param({"intake_red_flags": {"RF1": True}}, "intake_red_flags", id="rf1-at-intake"),
    ],
)
def test_invalid_patients_are_refused_and_nothing_is_added(therapist, fields, error):
    users = count(User)

    with pytest.raises(ValidationFailed) as refused:
        invite_patient(therapist.clinic, new_patient(**fields), by=therapist, now=NOW)

    assert set(refused.value.errors) == {error}
    assert count(User) == users
    assert count(Patient) == 0
    assert count(Invitation) == 0


@pytest.mark.parametrize("email", ["ada@example.org", "  ADA@Example.org "])
def test_an_address_already_in_use_gets_the_same_answer_and_is_claimed_only_on_accepting(
    make_user, make_clinic, email
):
    # Someone of another clinic already has this address (DESIGN §6: existence never leaks).
    make_user(Role.PATIENT, clinic=make_clinic(), email="ada@example.org")
    therapist = make_user(Role.THERAPIST)

    invited = invite_patient(therapist.clinic, new_patient(email=email), by=therapist, now=NOW)

    assert invited.patient.id is not None
    assert invited.patient.user.email is None
    invitation = find_invitation(invited.token, NOW)
    with pytest.raises(ValidationFailed) as refused:
        accept_invitation(invitation, Acceptance(password=PASSWORD), NOW + timedelta(minutes=1))
    assert set(refused.value.errors) == {"email"}
    accepted = accept_invitation(
        invitation,
        Acceptance(password=PASSWORD, email="ada.other@example.org"),
        NOW + timedelta(minutes=2),
    )
    assert accepted.email == "ada.other@example.org"


def test_a_therapist_cannot_give_their_patient_to_someone_else(make_user, therapist):
    colleague = make_user(Role.THERAPIST, clinic=therapist.clinic)

    with pytest.raises(ValidationFailed) as refused:
        invite_patient(
            therapist.clinic,
            new_patient(therapist_email=colleague.email),
            by=therapist,
            now=NOW,
        )

    assert set(refused.value.errors) == {"therapist_email"}
    assert count(Patient) == 0


def test_an_admin_assigns_a_therapist_of_their_clinic_only(make_user, make_clinic):
    admin = make_user(Role.ADMIN)
    colleague = make_user(Role.THERAPIST, clinic=admin.clinic)
    outsider = make_user(Role.THERAPIST, clinic=make_clinic())
    users = count(User)

    with pytest.raises(ValidationFailed) as refused:
        invite_patient(admin.clinic, new_patient(therapist_email=outsider.email), by=admin, now=NOW)
    assert set(refused.value.errors) == {"therapist_email"}
    assert count(User) == users

    invited = invite_patient(
        admin.clinic, new_patient(therapist_email=colleague.email), by=admin, now=NOW
    )
    assert invited.patient.therapist_id == colleague.id


def test_a_patient_account_cannot_be_anyones_therapist(make_user, make_clinic):
    admin = make_user(Role.ADMIN)
    other = make_user(Role.PATIENT, clinic=admin.clinic)

    with pytest.raises(ValidationFailed) as refused:
        invite_patient(admin.clinic, new_patient(therapist_email=other.email), by=admin, now=NOW)

    assert set(refused.value.errors) == {"therapist_email"}


def test_intake_cancer_history_records_an_intake_check_in_at_prompt_level(therapist):
    patient = invite_patient(
        therapist.clinic,
        new_patient(intake_red_flags={"RF9": True, "RF12": False}),
        by=therapist,
        now=NOW,
    ).patient

    stored = db.session.scalars(sa.select(CheckIn).where(CheckIn.patient_id == patient.id)).one()
    assert stored.kind is CheckInKind.INTAKE
    assert stored.recorded_at == NOW
    assert stored.red_flag_level is RedFlagLevel.PROMPT
    assert stored.red_flag_answers() == {"RF9": True, "RF12": False}
    assert patient.risk_modifier is False


def test_intake_cancer_history_with_steroid_use_is_urgent(therapist):
    patient = invite_patient(
        therapist.clinic,
        new_patient(intake_red_flags={"RF9": True, "RF12": True}),
        by=therapist,
        now=NOW,
    ).patient

    stored = db.session.scalars(sa.select(CheckIn).where(CheckIn.patient_id == patient.id)).one()
    assert stored.red_flag_level is RedFlagLevel.URGENT
    assert patient.risk_modifier is True


def test_intake_steroid_use_alone_is_a_modifier_not_a_flag(therapist):
    patient = invite_patient(
        therapist.clinic,
        new_patient(intake_red_flags={"RF12": True}),
        by=therapist,
        now=NOW,
    ).patient

    stored = db.session.scalars(sa.select(CheckIn).where(CheckIn.patient_id == patient.id)).one()
    assert stored.red_flag_level is RedFlagLevel.NONE
    assert patient.risk_modifier is True


def test_a_non_bool_intake_answer_is_refused_before_anything_is_added(therapist):
    users = count(User)

    with pytest.raises(ValidationFailed) as refused:
        invite_patient(
            therapist.clinic,
            new_patient(intake_red_flags={"RF9": "yes"}),
            by=therapist,
            now=NOW,
        )

    assert set(refused.value.errors) == {"intake_red_flags"}
    assert count(User) == users
    assert count(Patient) == 0


# ---------------------------------------------------------------------------- assign


def test_assigning_a_program_copies_the_stage_default_session_with_its_dosage(patient):
    program = assign(patient, stage=2)

    assert program.status is ProgramStatus.ACTIVE
    assert program.stage == 2
    assert program.start_date == TODAY
    assert program.stage_started_on == TODAY
    assert program.created_by_id == patient.therapist.id
    assert [item.exercise.slug for item in program.items] == stage_slugs(2)
    assert [item.position for item in program.items] == [1, 2, 3, 4, 5]
    for item in program.items:
        assert item.dosage() == item.exercise.dosage()
        assert item.removed_at is None
    curl_up = program.items[0]
    assert (curl_up.sets, curl_up.reps_per_set, curl_up.hold_seconds) == (3, [5, 3, 1], 10)


def test_assigning_a_program_records_its_schedule_status_and_stage_history(patient):
    program = assign(patient, stage=2, sessions_per_week=3)

    (schedule,) = program.schedule_changes
    assert (schedule.sessions_per_week, schedule.weekdays) == (3, [0, 2, 4])
    assert schedule.effective_date == TODAY
    (status,) = program.status_changes
    assert status.status is ProgramStatus.ACTIVE
    assert status.local_date == TODAY
    (stage,) = program.stage_changes
    assert (stage.from_stage, stage.to_stage) == (None, 2)
    assert stage.direction is StageDirection.ASSIGN
    assert stage.changed_by_id == patient.therapist.id
    assert program.episode.start_date == TODAY
    assert count(EpisodeOfCare) == 1
    assert count(ScheduleChange) == 1


@pytest.mark.parametrize(
    ("per_week", "weekdays"),
    [
        (7, [0, 1, 2, 3, 4, 5, 6]),
        (6, [0, 1, 2, 3, 4, 5]),
        (5, [0, 1, 2, 3, 4]),
        (4, [0, 1, 3, 4]),
        (3, [0, 2, 4]),
        (2, [1, 4]),
        (1, [2]),
    ],
)
def test_sessions_per_week_give_the_clinical_default_weekdays(patient, per_week, weekdays):
    program = assign(patient, sessions_per_week=per_week)

    assert (program.sessions_per_week, program.weekdays) == (per_week, weekdays)


@pytest.mark.parametrize(("stage", "per_week"), [(1, 7), (2, 5), (3, 5), (4, 5)])
def test_without_a_schedule_the_stage_frequency_applies(patient, stage, per_week):
    program = assign(patient, stage=stage)

    assert program.sessions_per_week == per_week


def test_picked_weekdays_set_the_sessions_per_week(patient):
    program = assign(patient, weekdays=(5, 1))

    assert (program.sessions_per_week, program.weekdays) == (2, [1, 5])
    assert program.schedule_changes[0].weekdays == [1, 5]


def test_picked_weekdays_agreeing_with_sessions_per_week_are_accepted(patient):
    program = assign(patient, sessions_per_week=3, weekdays=(1, 3, 6))

    assert (program.sessions_per_week, program.weekdays) == (3, [1, 3, 6])


@pytest.mark.parametrize(
    ("choices", "error"),
    [
        pytest.param({"sessions_per_week": 3, "weekdays": (0, 2)}, "weekdays", id="mismatch"),
        pytest.param({"weekdays": ()}, "weekdays", id="no-weekday"),
        pytest.param({"weekdays": (7,)}, "weekdays", id="weekday-7"),
        pytest.param({"weekdays": (-1, 2)}, "weekdays", id="weekday-negative"),
        pytest.param({"weekdays": (1, 1, 3)}, "weekdays", id="weekday-twice"),
        pytest.param({"sessions_per_week": 0}, "sessions_per_week", id="zero-a-week"),
        pytest.param({"sessions_per_week": 8}, "sessions_per_week", id="eight-a-week"),
        pytest.param({"stage": 9}, "stage", id="stage-9"),
        pytest.param({"stage": 0}, "stage", id="stage-0"),
        pytest.param({"stage": "2"}, "stage", id="stage-as-text"),
        pytest.param({"template": "knee-rehab"}, "template", id="unknown-template"),
        pytest.param({"start_date": TODAY - timedelta(days=15)}, "start_date", id="too-early"),
        pytest.param({"start_date": TODAY + timedelta(days=61)}, "start_date", id="too-late"),
    ],
)
def test_invalid_assignments_are_refused_and_nothing_is_added(patient, choices, error):
    with pytest.raises(ValidationFailed) as refused:
        assign(patient, **choices)

    assert set(refused.value.errors) == {error}
    assert count(Program) == 0
    assert count(EpisodeOfCare) == 0
    assert count(ProgramItem) == 0


@pytest.mark.parametrize(
    "choices",
    [
        pytest.param(
            {"sessions_per_week": True},
            id="bool-per-week",
        ),
        pytest.param(
            {"weekdays": (1, "3")},
            id="text-weekday",
        ),
        pytest.param(
            {"stage": True},
            id="bool-stage",
        ),
        pytest.param({"stage": 2.0}, id="fractional-stage"),
    ],
)
def test_badly_typed_choices_are_refused_with_a_message(patient, choices):
    with pytest.raises(ValidationFailed):
        assign(patient, **choices)

    assert count(Program) == 0


def test_the_start_date_defaults_to_today_in_the_patients_timezone(make_patient):
    late_evening = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
    tokyo = make_patient(stage=None, timezone="Asia/Tokyo")
    los_angeles = make_patient(stage=None, timezone="America/Los_Angeles")

    assert assign(tokyo, now=late_evening).start_date == date(2026, 3, 3)
    assert assign(los_angeles, now=late_evening).start_date == date(2026, 3, 2)


def test_a_start_date_in_the_future_is_kept(patient):
    program = assign(patient, start_date=TODAY + timedelta(days=7))

    assert program.start_date == TODAY + timedelta(days=7)
    assert program.episode.start_date == TODAY + timedelta(days=7)


def test_assigning_again_ends_the_previous_program_and_continues_the_episode(patient):
    first = assign(patient, stage=1)
    db.session.commit()

    second = assign(patient, stage=2, now=LATER)

    assert first.status is ProgramStatus.ENDED
    assert first.ended_at == LATER
    assert first.status_changes[-1].status is ProgramStatus.ENDED
    assert second.status is ProgramStatus.ACTIVE
    assert current_program(patient.patient) is second
    assert second.episode_id == first.episode_id
    assert count(EpisodeOfCare) == 1
    assert count(Program) == 2
    (stage,) = second.stage_changes
    assert (stage.from_stage, stage.to_stage) == (1, 2)
    assert [item.exercise.slug for item in first.items] == stage_slugs(1)


def test_assigning_over_a_suspended_program_ends_it(patient):
    first = assign(patient)
    suspend_program(first, now=NOW, reason="Emergency red-flag answer (RF2)")

    second = assign(patient, now=LATER)

    assert first.status is ProgramStatus.ENDED
    assert current_program(patient.patient) is second


def test_a_new_episode_ends_the_old_one_and_starts_from_the_new_start_date(patient):
    first = assign(patient)
    db.session.commit()

    second = assign(patient, stage=2, new_episode=True, now=LATER)

    assert second.episode_id != first.episode_id
    assert first.episode.ended_on == LATER.date()
    assert second.episode.start_date == LATER.date()
    assert second.episode.ended_on is None
    assert count(EpisodeOfCare) == 2


def test_the_first_program_with_new_episode_starts_one_episode(patient):
    program = assign(patient, new_episode=True)

    assert program.episode.start_date == TODAY
    assert count(EpisodeOfCare) == 1


# ---------------------------------------------------------------------------- stage changes


def test_advancing_a_stage_swaps_the_items_and_records_why(patient):
    program = assign(patient, stage=1)
    old_items = list(program.items)
    db.session.commit()

    change = change_stage(program, 2, reason="  Ready for holds  ", by=patient.therapist, now=LATER)

    assert change.direction is StageDirection.ADVANCE
    assert (change.from_stage, change.to_stage) == (1, 2)
    assert change.reason == "Ready for holds"
    assert change.effective_date == LATER.date()
    assert change.changed_by_id == patient.therapist.id
    assert program.stage == 2
    assert program.stage_started_on == LATER.date()
    assert all(item.removed_at == LATER for item in old_items)
    assert [item.exercise.slug for item in program.items] == stage_slugs(2)
    assert all(item.removed_at is None for item in program.items)
    assert [item.position for item in program.items] == [6, 7, 8, 9, 10]
    assert count(ProgramItem) == 10
    assert [c.direction for c in program.stage_changes] == [
        StageDirection.ASSIGN,
        StageDirection.ADVANCE,
    ]


def test_going_back_a_stage_is_recorded_as_a_regression(patient):
    program = assign(patient, stage=3)

    change = change_stage(program, 2, reason="Two RED sessions", by=patient.therapist, now=LATER)

    assert change.direction is StageDirection.REGRESS
    assert (change.from_stage, change.to_stage) == (3, 2)
    assert [item.exercise.slug for item in program.items] == stage_slugs(2)


@pytest.mark.parametrize(
    ("to_stage", "reason", "error"),
    [
        pytest.param(2, "", "reason", id="no-reason"),
        pytest.param(2, "   ", "reason", id="blank-reason"),
        pytest.param(2, "x" * 1001, "reason", id="long-reason"),
        pytest.param(1, "Again", "stage", id="same-stage"),
        pytest.param(5, "Beyond", "stage", id="stage-5"),
    ],
)
def test_invalid_stage_changes_are_refused_and_change_nothing(patient, to_stage, reason, error):
    program = assign(patient, stage=1)
    db.session.commit()

    with pytest.raises(ValidationFailed) as refused:
        change_stage(program, to_stage, reason=reason, by=patient.therapist, now=LATER)

    assert set(refused.value.errors) == {error}
    db.session.rollback()
    assert program.stage == 1
    assert count(ProgramItem) == 5
    assert count(StageChange) == 1
    assert all(item.removed_at is None for item in program.items)


def test_an_ended_program_cannot_change_stage(patient):
    first = assign(patient, stage=1)
    assign(patient, stage=1, now=LATER)

    with pytest.raises(ValidationFailed) as refused:
        change_stage(first, 2, reason="Ready", by=patient.therapist, now=LATER)

    assert set(refused.value.errors) == {"stage"}


# ---------------------------------------------------------------------------- status


def test_pausing_and_resuming_are_kept_in_the_status_history(patient):
    program = assign(patient)
    therapist = patient.therapist

    pause_program(program, by=therapist, now=NOW + timedelta(days=1), reason="Holiday")
    assert program.status is ProgramStatus.PAUSED
    assert current_program(patient.patient) is program

    resume_program(program, by=therapist, now=NOW + timedelta(days=8), reason="Back home")

    assert program.status is ProgramStatus.ACTIVE
    assert [(c.status, c.reason) for c in program.status_changes] == [
        (ProgramStatus.ACTIVE, "Program assigned"),
        (ProgramStatus.PAUSED, "Holiday"),
        (ProgramStatus.ACTIVE, "Back home"),
    ]
    assert program.status_changes[-1].changed_by_id == therapist.id
    assert program.status_changes[-1].local_date == date(2026, 3, 10)


def test_a_suspended_program_is_resumed_by_a_therapist_and_audited(patient):
    program = assign(patient)
    suspend_program(program, now=NOW, reason="Emergency red-flag answer (RF1)")
    assert program.status is ProgramStatus.SUSPENDED

    resume_program(program, by=patient.therapist, now=LATER, reason="Seen in clinic")

    assert program.status is ProgramStatus.ACTIVE
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "program.resume")
    ).one()
    assert event.actor_id == patient.therapist.id
    assert event.object_id == program.id
    assert event.patient_id == patient.patient.id


@pytest.mark.parametrize("status", [ProgramStatus.ACTIVE, ProgramStatus.ENDED])
def test_only_a_paused_or_suspended_program_can_be_resumed(patient, status):
    program = assign(patient)
    if status is ProgramStatus.ENDED:
        assign(patient, now=LATER)
    changes = count(ProgramStatusChange)

    with pytest.raises(ValidationFailed) as refused:
        resume_program(program, by=patient.therapist, now=LATER)

    assert set(refused.value.errors) == {"status"}
    assert program.status is status
    assert count(ProgramStatusChange) == changes


def test_pausing_a_program_that_is_not_active_changes_nothing(patient):
    program = assign(patient)
    suspend_program(program, now=NOW, reason="Emergency")
    changes = count(ProgramStatusChange)

    pause_program(program, by=patient.therapist, now=LATER, reason="Holiday")
    suspend_program(program, now=LATER, reason="Emergency again")

    assert program.status is ProgramStatus.SUSPENDED
    assert count(ProgramStatusChange) == changes


def test_an_ended_program_is_never_suspended(patient):
    first = assign(patient)
    assign(patient, now=LATER)

    suspend_program(first, now=LATER, reason="Emergency")

    assert first.status is ProgramStatus.ENDED

"""The therapist's JSON API (DESIGN §4): caseload, patients, programs — on the same services
as the HTML pages. Objects outside the caller's scope are 404, never 403."""

from __future__ import annotations

from datetime import date, datetime
from fractions import Fraction
from typing import Annotated, Literal

from flask import Response
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from app import audit
from app.access import get_patient_or_404, get_program_or_404
from app.api.core import ApiError, api_route, json_response, parse_body
from app.api.schemas import DosageOut
from app.caseload.queries import caseload
from app.clinical.timeline import FunctionFact
from app.db import utcnow
from app.enums import Role
from app.extensions import db
from app.figures.service import figure_url
from app.inputs import Text
from app.links import invitation_url
from app.patient.enrolment import NewPatient, invite_patient
from app.programs.models import Program, ProgramItem
from app.programs.queries import library
from app.programs.services import (
    Assignment,
    assign_program,
    change_stage,
    resume_program,
    update_item_dosage,
)

CLINICIANS = (Role.ADMIN, Role.THERAPIST)
Pain = Annotated[StrictInt, Field(ge=0, le=10)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------------------- models


class DataDaysOut(BaseModel):
    days: int
    period_start: date | None
    period_end: date | None
    needed_for_16: int


class FunctionOut(BaseModel):
    instrument: str = Field(description="The function measure: psfs")
    latest: float = Field(description="The latest score (0–10, higher is better)")
    change: float | None = Field(description="Against the first of the episode; null if one")
    mic_met: bool | None = Field(description="Whether the change reaches the MIC; null if one")
    latest_on: date


class CaseloadPatient(BaseModel):
    id: int
    name: str
    email: str | None
    stage: int | None
    program_day: int | None
    adherence_14d: float | None = Field(description="0–1 over the last 14 days; null if unknown")
    baseline: float | None
    current: float | None
    pain_status: Literal["IMPROVED", "NO_CHANGE", "WORSENED", "UNKNOWN"]
    last_activity: datetime | None
    data_days: DataDaysOut
    open_alerts: dict[str, int] = Field(description="Open alerts counted by severity")
    unread_messages: int = Field(description="The patient's messages not yet read by the clinic")
    psfs: FunctionOut | None = Field(
        description="The latest function measure of the episode (PSFS), null before the first"
    )


class CaseloadOut(BaseModel):
    patients: list[CaseloadPatient]


class IntakeRedFlags(Strict):
    RF9: StrictBool | None = None
    RF12: StrictBool | None = None


class PatientIn(Strict):
    name: Annotated[Text, Field(min_length=1, max_length=120)]
    timezone: Text = Field(description="IANA name, e.g. Europe/London")
    email: Annotated[Text, Field(max_length=254)] | None = None
    phone: Annotated[Text, Field(max_length=40)] | None = None
    date_of_birth: date | None = None
    intake_pain: Pain | None = None
    goals: Annotated[Text, Field(max_length=2000)] = ""
    intake_red_flags: IntakeRedFlags = IntakeRedFlags()
    therapist_email: Text | None = Field(None, description="Admins only: the therapist")
    language: Literal["en", "es"] | None = Field(
        None, description="The patient's language; null follows their browser (DESIGN §4)"
    )


class PatientCreated(BaseModel):
    id: int
    invitation_url: str


class ProgramIn(Strict):
    template: Text = Field(description="Template slug, e.g. low-back-core-stability")
    stage: Annotated[StrictInt, Field(ge=1, le=4)]
    sessions_per_week: Annotated[StrictInt, Field(ge=1, le=7)] = 5
    weekdays: list[Annotated[StrictInt, Field(ge=0, le=6)]] | None = None
    start_date: date | None = None
    new_episode: StrictBool = False


class LibraryExerciseOut(BaseModel):
    id: int
    slug: str
    name: str


class LibraryEntryOut(BaseModel):
    slug: str
    name: str
    stage: int = Field(description="The first stage the exercise belongs to")
    stages: list[int] = Field(description="Every stage it belongs to")
    target: str
    builtin: bool
    figure_url: str | None = Field(description="Path of the moving figure (SVG), if any")


class LibraryOut(BaseModel):
    exercises: list[LibraryEntryOut]


class ItemOut(DosageOut):
    id: int
    position: int
    exercise: LibraryExerciseOut


class ProgramOut(BaseModel):
    id: int
    patient_id: int
    template: str | None
    stage: int
    status: str
    sessions_per_week: int
    weekdays: list[int]
    start_date: date
    episode_id: int
    items: list[ItemOut]


class DosageIn(Strict):
    sets: Annotated[StrictInt, Field(ge=1, le=10)] | None = None
    reps: Annotated[StrictInt, Field(ge=1, le=100)] | None = None
    reps_per_set: list[Annotated[StrictInt, Field(ge=1, le=100)]] | None = None
    hold_seconds: Annotated[StrictInt, Field(ge=1, le=300)] | None = None
    duration_seconds: Annotated[StrictInt, Field(ge=1, le=3600)] | None = None
    distance_m: Annotated[StrictInt, Field(ge=1, le=2000)] | None = None
    rest_seconds: Annotated[StrictInt, Field(ge=0, le=600)] | None = None
    side: Literal["left", "right", "both", "alternating"] | None = None
    load: Annotated[Text, Field(max_length=80)] | None = None


class StageIn(Strict):
    stage: Annotated[StrictInt, Field(ge=1, le=4)]
    reason: Annotated[Text, Field(min_length=1, max_length=1000)]


class ResumeIn(Strict):
    reason: Annotated[Text, Field(max_length=1000)] = ""


def item_out(item: ProgramItem) -> ItemOut:
    return ItemOut(
        id=item.id,
        position=item.position,
        exercise=LibraryExerciseOut(
            id=item.exercise.id, slug=item.exercise.slug, name=item.exercise.name
        ),
        **item.dosage(),
    )


def program_out(program: Program) -> ProgramOut:
    db.session.refresh(program, ["items"])
    return ProgramOut(
        id=program.id,
        patient_id=program.patient_id,
        template=program.template.slug if program.template else None,
        stage=program.stage,
        status=program.status.value,
        sessions_per_week=program.sessions_per_week,
        weekdays=list(program.weekdays),
        start_date=program.start_date,
        episode_id=program.episode_id,
        items=[item_out(item) for item in program.items],
    )


def _float(value: Fraction | None) -> float | None:
    """JSON numbers for exact values (the pages round the exact value, CLINICAL §2)."""
    return None if value is None else float(value)


def _function(fact: FunctionFact | None) -> FunctionOut | None:
    if fact is None:
        return None
    several = fact.count > 1
    return FunctionOut(
        instrument=fact.instrument,
        latest=float(fact.latest),
        change=float(fact.latest - fact.first) if several else None,
        mic_met=fact.mic_met if several else None,
        latest_on=fact.latest_on,
    )


# ---------------------------------------------------------------------------- endpoints


@api_route(
    "/caseload",
    "get",
    "The caller's patients in priority order",
    responses={200: ("Patients, those who need attention first", CaseloadOut)},
    tags=("therapist",),
    roles=CLINICIANS,
)
def api_caseload() -> Response:
    rows = caseload(current_user, utcnow())
    audit.record_list_read("caseload.read", current_user, (row.id for row in rows))
    return json_response(
        CaseloadOut(
            patients=[
                CaseloadPatient(
                    id=r.id,
                    name=r.name,
                    email=r.email,
                    stage=r.stage,
                    program_day=r.program_day,
                    adherence_14d=_float(r.adherence),
                    baseline=_float(r.baseline),
                    current=_float(r.current),
                    pain_status=r.pain_status,
                    last_activity=r.last_activity,
                    data_days=DataDaysOut(
                        days=r.data_days.days,
                        period_start=r.data_days.period_start,
                        period_end=r.data_days.period_end,
                        needed_for_16=r.data_days.needed_for_16,
                    ),
                    open_alerts=r.open_alerts,
                    unread_messages=r.unread_messages,
                    psfs=_function(r.function),
                )
                for r in rows
            ]
        )
    )


@api_route(
    "/exercises",
    "get",
    "The clinic's exercise library (built-in and the clinic's own), with figures",
    responses={200: ("The library, by stage then name", LibraryOut)},
    tags=("therapist",),
    roles=CLINICIANS,
)
def api_exercises() -> Response:
    return json_response(
        LibraryOut(
            exercises=[
                LibraryEntryOut(
                    slug=e.slug,
                    name=e.name,
                    stage=e.stage_from,
                    stages=list(range(e.stage_from, e.stage_to + 1)),
                    target=e.target,
                    builtin=e.built_in,
                    figure_url=figure_url(e),
                )
                for e in library(current_user.clinic_id)
            ]
        )
    )


@api_route(
    "/patients",
    "post",
    "Create a patient and a single-use invitation",
    request=PatientIn,
    responses={201: ("Created", PatientCreated)},
    tags=("therapist",),
    roles=CLINICIANS,
)
def api_create_patient() -> Response:
    body, _ = parse_body(PatientIn)
    invited = invite_patient(
        current_user.clinic,
        NewPatient(
            name=body.name,
            timezone=body.timezone,
            email=body.email,
            phone=body.phone,
            date_of_birth=body.date_of_birth,
            intake_pain=body.intake_pain,
            goals=body.goals,
            intake_red_flags=body.intake_red_flags.model_dump(exclude_none=True),
            therapist_email=body.therapist_email,
            language=body.language,
        ),
        by=current_user,
        now=utcnow(),
    )
    return json_response(
        PatientCreated(id=invited.patient.id, invitation_url=invitation_url(invited.token)), 201
    )


@api_route(
    "/patients/<int:patient_id>/program",
    "post",
    "Assign a staged program; it replaces the active one",
    request=ProgramIn,
    responses={201: ("The new program", ProgramOut)},
    tags=("therapist",),
    roles=CLINICIANS,
)
def api_assign_program(patient_id: int) -> Response:
    patient = get_patient_or_404(current_user, patient_id)
    body, raw = parse_body(ProgramIn)
    program = assign_program(
        patient,
        Assignment(
            template=body.template,
            stage=body.stage,
            # DESIGN §4: sessions_per_week defaults to 5; weekdays, when given, decide it.
            sessions_per_week=body.sessions_per_week
            if "sessions_per_week" in raw or body.weekdays is None
            else None,
            weekdays=tuple(body.weekdays) if body.weekdays is not None else None,
            start_date=body.start_date,
            new_episode=body.new_episode,
        ),
        by=current_user,
        now=utcnow(),
    )
    return json_response(program_out(program), 201)


@api_route(
    "/programs/<int:program_id>/items/<int:item_id>",
    "patch",
    "Change an item's dosage (only the fields given)",
    request=DosageIn,
    responses={200: ("The item", ItemOut)},
    tags=("therapist",),
    roles=CLINICIANS,
)
def api_update_item(program_id: int, item_id: int) -> Response:
    program = get_program_or_404(current_user, program_id)
    body, _ = parse_body(DosageIn)
    item = next((i for i in program.items if i.id == item_id), None)
    if item is None:
        raise ApiError(404, "Not found", "No such item in this program.")
    update_item_dosage(item, body.model_dump(exclude_unset=True), by=current_user, now=utcnow())
    return json_response(item_out(item))


@api_route(
    "/programs/<int:program_id>/stage",
    "post",
    "Advance or regress the stage, with a reason",
    request=StageIn,
    responses={200: ("The program", ProgramOut)},
    tags=("therapist",),
    roles=CLINICIANS,
)
def api_change_stage(program_id: int) -> Response:
    program = get_program_or_404(current_user, program_id)
    body, _ = parse_body(StageIn)
    change_stage(program, body.stage, reason=body.reason, by=current_user, now=utcnow())
    return json_response(program_out(program))


@api_route(
    "/programs/<int:program_id>/resume",
    "post",
    "Resume a paused or suspended program",
    request=ResumeIn,
    responses={200: ("The program", ProgramOut)},
    tags=("therapist",),
    roles=CLINICIANS,
)
def api_resume(program_id: int) -> Response:
    program = get_program_or_404(current_user, program_id)
    body, _ = parse_body(ResumeIn)
    resume_program(program, by=current_user, now=utcnow(), reason=body.reason)
    return json_response(program_out(program))

"""The patient's JSON API (DESIGN §4): today, sessions and check-ins, idempotent by client id."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from flask import Response
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from app.api.core import api_route, json_response, own_patient, parse_body
from app.api.schemas import DosageOut
from app.clinical import red_flags
from app.clinical.traffic_light import MESSAGES
from app.db import utcnow
from app.enums import CheckInKind, Role
from app.figures.service import description_of, figure_url
from app.i18n import localized
from app.inputs import Id, Instant, Text
from app.patient.check_ins import CheckInReport, record_check_in
from app.patient.models import CheckIn, Session
from app.patient.queries import today_view
from app.patient.sessions import (
    MAX_NOTES,
    MAX_SKIP_REASON,
    ExerciseResult,
    SessionReport,
    log_session,
)

Pain = Annotated[StrictInt, Field(ge=0, le=10, description="0–10 NPRS: 0 none … 10 worst")]
Count = Annotated[StrictInt, Field(ge=0, le=1000)]
TAGS = ("patient",)
RedFlagId = Literal[red_flags.QUESTION_IDS]  # type: ignore[valid-type]
SelfCare = Literal["ice", "heat", "medication", "walking", "other"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------------------- requests


class ExerciseResultIn(Strict):
    program_item_id: Id
    status: Literal["done", "partial", "skipped"]
    sets_done: Count | None = None
    reps_done: Count | None = None
    hold_seconds: Count | None = None
    pain_during: Pain | None = None
    skip_reason: Annotated[Text, Field(max_length=MAX_SKIP_REASON)] | None = None


class SessionIn(Strict):
    """A performed session. Times carry their UTC offset; up to 15 min ahead is accepted."""

    id: uuid.UUID = Field(description="The phone's UUID for this session (idempotency key)")
    program_id: Id
    started_at: Instant | None = None
    completed_at: Instant
    pain_before: Pain
    pain_after: Pain | None = None
    effort: Annotated[StrictInt, Field(ge=0, le=10)] | None = None
    exercises: Annotated[list[ExerciseResultIn], Field(min_length=1)]
    notes: Annotated[Text, Field(max_length=MAX_NOTES)] = ""


class CheckInIn(Strict):
    """Next-morning pain, red-flag answers (only those asked) and self-care."""

    id: uuid.UUID = Field(description="The phone's UUID for this check-in (idempotency key)")
    recorded_at: Instant
    morning_pain: Pain | None = None
    red_flags: dict[RedFlagId, StrictBool] = Field(default_factory=dict)
    self_care: list[SelfCare] = Field(default_factory=list)
    kind: Literal["morning", "symptom"] = "morning"


# ---------------------------------------------------------------------------- answers


class ExerciseOut(BaseModel):
    slug: str
    name: str
    steps: list[str]
    cues: list[str]
    figure_url: str | None = Field(
        None, description="Path of the moving figure (SVG); add ?frame=start or end for a still"
    )
    figure_alt: str | None = Field(
        None, description="The figure's text alternative: the movement in a sentence"
    )


class TodayItemOut(DosageOut):
    id: int
    exercise: ExerciseOut


class CallOut(BaseModel):
    number: str = Field(description="The number to dial (the tel: link)")
    who: str = Field(description="Whom it reaches: the emergency services, or the clinic")
    label: str = Field(description="The button's words, e.g. Call 999")


class InstructionOut(BaseModel):
    level: Literal["emergency", "urgent", "prompt", "none"]
    text: str
    call: CallOut | None = Field(
        None,
        description="Whom to call: the clinic's emergency number for an emergency, the "
        "clinic's phone (with the therapist's name) for urgent",
    )


class ContactOut(BaseModel):
    """The numbers the patient needs after a red-flag answer, kept on the phone offline."""

    therapist: str | None
    clinic: str
    clinic_phone: str | None
    emergency_number: str | None


class TodayOut(BaseModel):
    contact: ContactOut
    program_id: int | None
    stage: int | None
    scheduled_today: bool
    done_today: bool
    status: Literal["active", "paused", "suspended", "none"]
    red_flags_due: list[str]
    items: list[TodayItemOut]


class ExerciseResultOut(BaseModel):
    program_item_id: int
    exercise: str
    status: str
    sets_done: int | None
    reps_done: int | None
    hold_seconds: int | None
    pain_during: int | None
    skip_reason: str | None


class SessionOut(BaseModel):
    id: str
    program_id: int
    stage: int
    local_date: date
    started_at: datetime | None
    completed_at: datetime
    pain_before: int
    pain_after: int | None
    peak_pain: int | None
    effort: int | None
    notes: str
    prescribed_items: int
    completed_items: int
    completed: bool
    light: Literal["green", "amber", "red", "unknown"]
    light_provisional: bool
    light_message: str
    exercises: list[ExerciseResultOut]


class CheckInOut(BaseModel):
    id: str
    kind: str
    recorded_at: datetime
    local_date: date
    morning_pain: int | None
    self_care: list[str]
    red_flags: dict[str, bool]
    instruction: InstructionOut
    red_flags_due: list[str]


class CsrfOut(BaseModel):
    csrf_token: str


# ---------------------------------------------------------------------------- endpoints


@api_route(
    "/me/today",
    "GET",
    "Today's session for the logged-in patient",
    responses={200: ("Today's program, items and status", TodayOut)},
    tags=TAGS,
    roles=(Role.PATIENT,),
)
def me_today() -> Response:
    patient = own_patient()
    view = today_view(patient, utcnow())
    program = view.program
    return json_response(
        TodayOut(
            contact=ContactOut(
                therapist=patient.therapist.name if patient.therapist else None,
                clinic=patient.clinic.name,
                clinic_phone=patient.clinic.phone,
                emergency_number=patient.clinic.emergency_number,
            ),
            program_id=program.id if program else None,
            stage=program.stage if program else None,
            scheduled_today=view.scheduled_today,
            done_today=view.done_today,
            status=view.status,  # type: ignore[arg-type]
            red_flags_due=list(view.red_flags_due),
            # The dose of today's session: eased after a RED session or a FLARE (CLINICAL §7).
            items=[
                TodayItemOut(
                    id=step.item.id,
                    exercise=ExerciseOut(
                        slug=step.exercise.slug,
                        # In the patient's language where the content has it (issue 16).
                        name=localized(step.exercise, "name"),
                        steps=list(localized(step.exercise, "steps") or []),
                        cues=list(localized(step.exercise, "cues") or []),
                        figure_url=(url := figure_url(step.exercise)),
                        figure_alt=description_of(step.exercise) if url else None,
                    ),
                    **step.dosage,
                )
                for step in view.steps
            ],
        )
    )


def session_out(session: Session) -> SessionOut:
    return SessionOut(
        id=session.client_id,
        program_id=session.program_id,
        stage=session.stage,
        local_date=session.local_date,
        started_at=session.started_at,
        completed_at=session.completed_at,
        pain_before=session.pain_before,
        pain_after=session.pain_after,
        peak_pain=session.peak_pain,
        effort=session.effort,
        notes=session.notes,
        prescribed_items=session.prescribed_items,
        completed_items=session.completed_items,
        completed=session.completed,
        light=session.light.value,
        light_provisional=session.light_provisional,
        light_message=_(MESSAGES[session.light]),
        exercises=[
            ExerciseResultOut(
                program_item_id=result.program_item_id,
                exercise=result.program_item.exercise.name,
                status=result.status.value,
                sets_done=result.sets_done,
                reps_done=result.reps_done,
                hold_seconds=result.hold_seconds,
                pain_during=result.pain_during,
                skip_reason=result.skip_reason,
            )
            for result in session.exercises
        ],
    )


@api_route(
    "/sessions",
    "POST",
    "Log a performed session (idempotent by its client id)",
    request=SessionIn,
    responses={
        201: ("Stored; the answer is the session with its traffic light", SessionOut),
        200: ("The same session was already stored: the stored one", SessionOut),
        409: ("This id was already used for a different session", None),
    },
    tags=TAGS,
    roles=(Role.PATIENT,),
)
def post_session() -> Response:
    body, _raw = parse_body(SessionIn)
    patient = own_patient()
    now = utcnow()
    report = SessionReport(
        id=str(body.id),
        program_id=body.program_id,
        completed_at=body.completed_at,
        started_at=body.started_at,
        pain_before=body.pain_before,
        pain_after=body.pain_after,
        effort=body.effort,
        notes=body.notes,
        exercises=tuple(ExerciseResult(**result.model_dump()) for result in body.exercises),
    )
    logged = log_session(patient, report, now=now)
    answer = session_out(logged.obj)
    return json_response(answer, 201 if logged.created else 200)


def instruction_out(instruction: red_flags.Instruction) -> InstructionOut:
    call = instruction.call
    return InstructionOut(
        level=instruction.level.value,
        text=instruction.text,
        call=CallOut(number=call.number, who=call.who, label=call.label) if call else None,
    )


def check_in_out(check_in: CheckIn, instruction: red_flags.Instruction, due: tuple) -> CheckInOut:
    return CheckInOut(
        id=check_in.client_id,
        kind=check_in.kind.value,
        recorded_at=check_in.recorded_at,
        local_date=check_in.local_date,
        morning_pain=check_in.morning_pain,
        self_care=list(check_in.self_care or []),
        red_flags=check_in.red_flag_answers(),
        instruction=instruction_out(instruction),
        red_flags_due=list(due),
    )


@api_route(
    "/checkins",
    "POST",
    "Record a check-in: morning pain, red flags, self-care (idempotent by its client id)",
    request=CheckInIn,
    responses={
        201: ("Stored; what to tell the patient, and the questions due next", CheckInOut),
        200: ("The same check-in was already stored", CheckInOut),
        409: ("This id was already used for a different check-in", None),
    },
    tags=TAGS,
    roles=(Role.PATIENT,),
)
def post_check_in() -> Response:
    body, _raw = parse_body(CheckInIn)
    patient = own_patient()
    now = utcnow()
    result = record_check_in(
        patient,
        CheckInReport(
            id=str(body.id),
            recorded_at=body.recorded_at,
            morning_pain=body.morning_pain,
            red_flags=dict(body.red_flags),
            self_care=tuple(body.self_care),
            kind=CheckInKind(body.kind),
        ),
        now=now,
    )
    answer = check_in_out(result.check_in, result.instruction, result.red_flags_due)
    return json_response(answer, 201 if result.created else 200)


@api_route(
    "/csrf",
    "GET",
    "A fresh CSRF token, for replaying what waited on the phone",
    responses={200: ("A token for the X-CSRFToken header", CsrfOut)},
    tags=TAGS,
    roles=(Role.PATIENT,),
)
def csrf_token() -> Response:
    return json_response(CsrfOut(csrf_token=generate_csrf()))

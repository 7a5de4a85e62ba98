"""Outcome measures (DESIGN §4 "Outcome measures", CLINICAL §8): instruments, what is due, and
scored responses idempotent by client UUID like sessions.

Patients answer at ``/me/measures`` and ``/measures``; clinicians read and enter them in clinic
at ``/patients/<id>/measures`` for a patient they may see (anyone else's is 404) and ask for one
now at ``/patients/<id>/measure-requests``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from flask import Response
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from app import audit
from app.access import get_patient_or_404
from app.api.core import (
    api_route,
    json_response,
    own_patient,
    parse_body,
    visible_patient,
)
from app.db import utcnow
from app.enums import Role
from app.inputs import Instant, Text
from app.measures.catalog import available_instruments, rounded
from app.measures.schedule import REQUESTED, Due
from app.measures.services import (
    MeasureReport,
    MeasureView,
    carried_for,
    due_for,
    patient_measures,
    request_measure,
    submit_measure,
)
from app.patient.models import OutcomeResponse, Patient

CLINICIANS = (Role.ADMIN, Role.THERAPIST)
EVERYONE = (Role.ADMIN, Role.THERAPIST, Role.PATIENT)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------------------- bodies


class AnswerIn(Strict):
    item: Text = Field(description='The item id the instrument lists: "1", "2", …')
    value: StrictInt | Annotated[Text, Field(max_length=40)] = Field(
        description="A whole number on the item's scale, or one of its option values"
    )
    label: Annotated[Text, Field(max_length=200)] | None = Field(
        None, description="PSFS: the activity the patient named"
    )


class MeasureIn(Strict):
    """A completed questionnaire; the answers are checked by the instrument's file."""

    id: uuid.UUID = Field(description="The phone's UUID for this response (idempotency key)")
    instrument: Annotated[Text, Field(max_length=40)] = Field(description="nprs, psfs, start-back…")
    completed_at: Instant
    answers: Annotated[list[AnswerIn], Field(max_length=50)]


class MeasureRequestIn(Strict):
    instrument: Annotated[Text, Field(max_length=40)]


# ---------------------------------------------------------------------------- answers


class InstrumentOut(BaseModel):
    slug: str
    name: str
    version: str
    domain: str
    licence: str
    can_disable: bool
    intro: str
    items: list[dict[str, Any]] = Field(description="Fixed items (empty for PSFS)")
    patient_named: dict[str, Any] | None = Field(
        None, description="PSFS: the patient names 3–5 activities and rates each 0–10"
    )
    mic: dict[str, Any] | None = Field(None, description="Minimal important change")


class InstrumentsOut(BaseModel):
    instruments: list[InstrumentOut]


class ActivityOut(BaseModel):
    item: str
    label: str


class DueOut(BaseModel):
    instrument: str
    name: str
    due_date: date
    reason: str = Field(description='"intake", "week 3", …, "requested by your therapist"')
    activities: list[ActivityOut] = Field(
        default_factory=list, description="PSFS: the activities to re-rate (named last time)"
    )


class DueListOut(BaseModel):
    due: list[DueOut]


class InterpretationOut(BaseModel):
    band: str
    text: str


class MeasureOut(BaseModel):
    id: str = Field(description="The client UUID")
    instrument: str
    version: str
    completed_at: datetime
    in_clinic: bool = Field(description="Entered by a clinician in clinic")
    answers: list[dict[str, Any]]
    score: float = Field(description="Rounded to 2 decimals; score_exact is the exact value")
    score_exact: str = Field(description='Exact, as a fraction: "17/3"')
    subscores: dict[str, float]
    interpretation: InterpretationOut | None
    change: float | None = Field(
        description="Against the first of this instrument in the episode; null for the first"
    )
    change_exact: str | None
    mic_met: bool | None = Field(
        description="The change reached the minimal important change (null: none defined, or "
        "the first of the episode)"
    )


class MeasuresOut(BaseModel):
    measures: list[MeasureOut] = Field(description="Oldest first")


def _float(value: Any) -> float | None:
    found = rounded(value)
    return None if found is None else float(found)


def measure_out(view: MeasureView) -> MeasureOut:
    response, result = view.response, view.score
    interpretation = result.interpretation
    return MeasureOut(
        id=response.client_id,
        instrument=response.instrument,
        version=response.version,
        completed_at=response.recorded_at,
        in_clinic=response.in_clinic,
        answers=list(response.answers.get("answers", [])),
        score=_float(result.score) or 0.0,
        score_exact=str(result.score),
        subscores={name: float(rounded(value) or 0) for name, value in result.subscores.items()},
        interpretation=None
        if interpretation is None
        else InterpretationOut(band=interpretation.band, text=interpretation.text),
        change=None if view.change is None else _float(view.change.points),
        change_exact=None if view.change is None else str(view.change.points),
        mic_met=view.mic_met,
    )


def due_out(patient: Patient, due: Due) -> DueOut:
    instruments = available_instruments(patient.clinic)
    instrument = instruments[due.instrument]
    return DueOut(
        instrument=due.instrument,
        name=instrument.name,
        due_date=due.due_date,
        reason=due.reason,
        activities=[
            ActivityOut(item=item, label=label) for item, label in carried_for(patient, instrument)
        ],
    )


# ---------------------------------------------------------------------------- helpers


def _submit(patient: Patient) -> Response:
    body, _raw = parse_body(MeasureIn)
    logged = submit_measure(
        patient,
        MeasureReport(
            id=str(body.id),
            instrument=body.instrument,
            completed_at=body.completed_at,
            answers=tuple(answer.model_dump(exclude_none=True) for answer in body.answers),
        ),
        by=current_user,
        now=utcnow(),
    )
    stored: OutcomeResponse = logged.obj
    view = next(
        v for v in patient_measures(patient, stored.instrument) if v.response.id == stored.id
    )
    return json_response(measure_out(view), 201 if logged.created else 200)


SUBMIT_RESPONSES = {
    201: ("Stored; the score, subscores, interpretation and change", MeasureOut),
    200: ("The same response was already stored: the stored one", MeasureOut),
    409: ("This id was already used for a different response", None),
    422: ("Each bad answer named by its place (answers[2].value); nothing stored", None),
}


# ---------------------------------------------------------------------------- endpoints


@api_route(
    "/instruments",
    "GET",
    "The questionnaires this clinic uses, with their items and licence notices",
    responses={200: ("The instruments", InstrumentsOut)},
    tags=("measures",),
    roles=EVERYONE,
)
def api_instruments() -> Response:
    return json_response(
        InstrumentsOut(
            instruments=[
                InstrumentOut(**instrument.to_dict())
                for instrument in available_instruments(current_user.clinic).values()
            ]
        )
    )


@api_route(
    "/me/measures",
    "GET",
    "The questionnaires due for the logged-in patient",
    responses={200: ("Due questionnaires, oldest first", DueListOut)},
    tags=("patient",),
    roles=(Role.PATIENT,),
)
def api_my_measures() -> Response:
    patient = own_patient()
    return json_response(
        DueListOut(due=[due_out(patient, due) for due in due_for(patient, utcnow())])
    )


@api_route(
    "/measures",
    "POST",
    "Send a completed questionnaire (idempotent by its client id)",
    request=MeasureIn,
    responses=SUBMIT_RESPONSES,
    tags=("patient",),
    roles=(Role.PATIENT,),
)
def api_post_measure() -> Response:
    return _submit(own_patient())


@api_route(
    "/patients/<patient_id>/measures",
    "GET",
    "A patient's scored measures with change against the episode's first",
    responses={200: ("Oldest first", MeasuresOut)},
    tags=("therapist",),
    roles=CLINICIANS,
)
def api_patient_measures(patient_id: str) -> Response:
    patient = visible_patient(patient_id)
    views = patient_measures(patient)
    audit.record(
        "measures.read",
        actor=current_user,
        patient=patient,
        object_type="patient",
        object_id=patient.id,
    )
    return json_response(MeasuresOut(measures=[measure_out(view) for view in views]))


@api_route(
    "/patients/<patient_id>/measures",
    "POST",
    "Enter a questionnaire completed in clinic (idempotent by its client id)",
    request=MeasureIn,
    responses=SUBMIT_RESPONSES,
    tags=("therapist",),
    roles=CLINICIANS,
)
def api_enter_measure(patient_id: str) -> Response:
    return _submit(visible_patient(patient_id))


@api_route(
    "/patients/<int:patient_id>/measure-requests",
    "POST",
    "Ask the patient to complete a questionnaire now",
    request=MeasureRequestIn,
    responses={201: ("Due for the patient from today", DueOut)},
    tags=("therapist",),
    roles=CLINICIANS,
)
def api_request_measure(patient_id: int) -> Response:
    patient = get_patient_or_404(current_user, patient_id)
    body, _raw = parse_body(MeasureRequestIn)
    request = request_measure(patient, body.instrument, by=current_user, now=utcnow())
    due = Due(request.instrument, request.requested_on, REQUESTED)
    return json_response(due_out(patient, due), 201)

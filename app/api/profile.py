"""The patient's profile: who they are to the app and the language it speaks (DESIGN §4)."""

from __future__ import annotations

from typing import Literal

from flask import Response
from flask_babel import refresh
from pydantic import BaseModel, ConfigDict, Field

from app.api.core import api_route, json_response, own_patient, parse_body
from app.db import utcnow
from app.enums import Role
from app.i18n import current_language
from app.patient.models import Patient
from app.patient.profile import set_language

TAGS = ("patient",)
Language = Literal["en", "es"]


class ProfileOut(BaseModel):
    name: str
    timezone: str
    language: Language | None = Field(
        description="The patient's chosen language; null follows the browser's Accept-Language"
    )
    language_now: Language = Field(description="The language this answer's texts are in")


class ProfileIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: Language | None = Field(description='"en", "es", or null to follow the browser')


def profile_out(patient: Patient) -> ProfileOut:
    return ProfileOut(
        name=patient.user.name,
        timezone=patient.timezone,
        language=patient.language,  # type: ignore[arg-type]
        language_now=current_language(),  # type: ignore[arg-type]
    )


@api_route(
    "/me",
    "GET",
    "The patient's profile and language",
    responses={200: ("The profile", ProfileOut)},
    tags=TAGS,
    roles=(Role.PATIENT,),
)
def get_me() -> Response:
    return json_response(profile_out(own_patient()))


@api_route(
    "/me",
    "PATCH",
    "Choose the language of the patient's pages, messages and API texts",
    request=ProfileIn,
    responses={200: ("The profile now", ProfileOut)},
    tags=TAGS,
    roles=(Role.PATIENT,),
)
def patch_me() -> Response:
    body, _raw = parse_body(ProfileIn)
    patient = set_language(own_patient(), body.language, now=utcnow())
    refresh()  # the answer is already in the new language
    return json_response(profile_out(patient))

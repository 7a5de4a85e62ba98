"""The clinic's thresholds and settings in the JSON API (DESIGN §4).

``GET /api/v1/clinic/policy`` shows every threshold with its finite bounds; ``PATCH`` changes some
of them (admins), refusing unknown names and values outside their bounds with nothing changed.
Fractions travel as decimal strings ("0.3"), or "n/d" when they do not end ("1/3").
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from flask import Response
from flask_login import current_user
from pydantic import BaseModel, Field

from app.admin.policy import SETTINGS, update_policy
from app.admin.settings import clinic_settings, update_clinic_settings
from app.api.core import ApiError, api_route, json_response, parse_body
from app.assessment import policy_for
from app.clinical import numbers
from app.clinical.policy import Policy
from app.db import utcnow
from app.enums import Role

Value = int | str


class PolicyOut(BaseModel):
    version: str
    values: dict[str, Value] = Field(description="Every threshold; fractions as decimal strings")
    bounds: dict[str, list[Value]] = Field(description="Inclusive [low, high] of every value")


class PolicyPatch(BaseModel):
    """Some thresholds by name, e.g. {"adherence_window_days": 21, "adherent": "0.75"}."""

    model_config = {"extra": "allow"}


def _value(value: Fraction | int) -> Value:
    return numbers.decimal_text(value) if isinstance(value, Fraction) else value


def policy_out(policy: Policy) -> PolicyOut:
    return PolicyOut(
        version=policy.version,
        values={name: _value(getattr(policy, name)) for name in SETTINGS},
        bounds={name: [_value(low), _value(high)] for name, (low, high) in Policy.bounds().items()},
    )


@api_route(
    "/clinic/policy",
    "GET",
    "The clinic's alert thresholds with their bounds",
    responses={200: ("Thresholds, version and bounds", PolicyOut)},
    tags=("clinic",),
    roles=(Role.ADMIN, Role.THERAPIST),
)
def api_clinic_policy() -> Response:
    return json_response(policy_out(policy_for(current_user.clinic)))


@api_route(
    "/clinic/policy",
    "PATCH",
    "Change some thresholds (admins); every patient's numbers follow at once",
    request=PolicyPatch,
    responses={200: ("The new thresholds", PolicyOut)},
    tags=("clinic",),
    roles=(Role.ADMIN,),
)
def api_update_clinic_policy() -> Response:
    changes = _body()
    policy = update_policy(current_user.clinic, changes, by=current_user, now=utcnow())
    return json_response(policy_out(policy))


def _body() -> dict[str, Any]:
    _, raw = parse_body(PolicyPatch)
    if not raw:
        raise ApiError(
            422, "Invalid fields", "Name at least one threshold to change.", {"body": "empty"}
        )
    strange = {
        name: "Give a number or a decimal string."
        for name, value in raw.items()
        if isinstance(value, bool) or not isinstance(value, int | float | str)
    }
    if strange:
        raise ApiError(422, "Invalid fields", "Some fields need your attention.", strange)
    return raw


class SettingsOut(BaseModel):
    phone: str | None = Field(description="The clinic's phone, for 'contact today' answers")
    emergency_number: str | None = Field(description="The local emergency number, e.g. 999")
    require_2fa: bool = Field(
        description="Clinicians must set up a second factor before any patient data"
    )
    questionnaires_off: list[str] = Field(
        description="Questionnaires this clinic does not offer (only those that may be "
        "switched off, such as start-back)"
    )


class SettingsPatch(BaseModel):
    """Some settings by name, e.g. {"phone": "+44 20 7946 0000", "require_2fa": true}."""

    model_config = {"extra": "allow"}


@api_route(
    "/clinic/settings",
    "GET",
    "The clinic's settings (admins)",
    responses={200: ("The settings", SettingsOut)},
    tags=("clinic",),
    roles=(Role.ADMIN,),
)
def api_clinic_settings() -> Response:
    return json_response(SettingsOut(**clinic_settings(current_user.clinic)))


@api_route(
    "/clinic/settings",
    "PATCH",
    "Change the clinic's settings (admins); 422 names each bad value",
    request=SettingsPatch,
    responses={200: ("The new settings", SettingsOut)},
    tags=("clinic",),
    roles=(Role.ADMIN,),
)
def api_update_clinic_settings() -> Response:
    _, raw = parse_body(SettingsPatch)
    settings = update_clinic_settings(current_user.clinic, raw, by=current_user, now=utcnow())
    return json_response(SettingsOut(**settings))

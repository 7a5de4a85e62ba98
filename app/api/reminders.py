"""Reminder settings and Web Push subscriptions (DESIGN §4 "Reminders")."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Literal

from flask import Response
from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt

from app.api.core import ApiError, api_route, json_response, own_patient, parse_body
from app.db import utcnow
from app.enums import Role
from app.inputs import Text
from app.reminders.push import MAX_ENDPOINT_LENGTH
from app.reminders.schedule import LATEST_SEND_TIME, QUIET_UNTIL
from app.reminders.services import (
    UNSET,
    ReminderChange,
    ReminderView,
    reminder_view,
    subscribe_push,
    unsubscribe_push,
    update_reminders,
)
from app.reminders.vapid import vapid_settings

TAGS = ("patient",)
Weekday = Annotated[StrictInt, Field(ge=0, le=6, description="0 = Monday … 6 = Sunday")]
Channel = Literal["email", "push"]
WALL_TIME = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RemindersOut(BaseModel):
    enabled: bool
    days: list[int] = Field(description="Reminder weekdays, 0 = Monday … 6 = Sunday")
    time: str = Field(description="Local time, HH:MM")
    channels: list[Channel] = Field(description="How reminders reach the patient now")
    days_follow_program: bool = Field(
        description="True while the days are the program's weekdays (they follow its changes)"
    )
    has_email: bool
    email_unsubscribed: bool = Field(description="Reminder emails were stopped by the link")
    push_devices: int = Field(description="Browsers subscribed to phone notifications")


class RemindersIn(Strict):
    """Only the fields given change. ``days`` null goes back to the program's weekdays."""

    enabled: StrictBool = Field(None, description="Reminders on or off")  # type: ignore[assignment]
    days: Annotated[list[Weekday], Field(min_length=1, max_length=7)] | None = None
    time: Annotated[Text, Field(pattern=WALL_TIME)] = Field(  # type: ignore[assignment]
        None,
        description=f"Local time HH:MM, from {QUIET_UNTIL:%H:%M} to {LATEST_SEND_TIME:%H:%M}",
    )
    channels: Annotated[list[Channel], Field(max_length=2)] = Field(  # type: ignore[assignment]
        None, description="email and/or push"
    )


class PushKeyOut(BaseModel):
    public_key: str = Field(description="The VAPID application server key, base64url")


class PushKeysIn(Strict):
    p256dh: Annotated[Text, Field(min_length=1, max_length=200)]
    auth: Annotated[Text, Field(min_length=1, max_length=64)]


class PushSubscriptionIn(BaseModel):
    """What ``PushSubscription.toJSON()`` gives."""

    model_config = ConfigDict(extra="forbid")

    endpoint: Annotated[Text, Field(min_length=1, max_length=MAX_ENDPOINT_LENGTH)]
    expirationTime: Annotated[StrictInt | StrictFloat, Field(ge=0)] | None = None
    keys: PushKeysIn


class PushSubscriptionOut(BaseModel):
    endpoint: str
    created_at: datetime


class PushEndpointIn(Strict):
    endpoint: Annotated[Text, Field(min_length=1, max_length=MAX_ENDPOINT_LENGTH)]


def reminders_out(view: ReminderView) -> RemindersOut:
    return RemindersOut(
        enabled=view.enabled,
        days=list(view.days),
        time=f"{view.time:%H:%M}",
        channels=list(view.channels),
        days_follow_program=view.follows_program,
        has_email=view.has_email,
        email_unsubscribed=view.email_unsubscribed,
        push_devices=view.push_devices,
    )


@api_route(
    "/me/reminders",
    "GET",
    "The patient's session reminder settings",
    responses={200: ("Days, local time and channels", RemindersOut)},
    tags=TAGS,
    roles=(Role.PATIENT,),
)
def get_reminders() -> Response:
    return json_response(reminders_out(reminder_view(own_patient())))


@api_route(
    "/me/reminders",
    "PUT",
    "Change the reminder settings (only the fields given)",
    request=RemindersIn,
    responses={200: ("The settings now", RemindersOut)},
    tags=TAGS,
    roles=(Role.PATIENT,),
)
def put_reminders() -> Response:
    body, _raw = parse_body(RemindersIn)
    # Null is refused by the types (except days: null, back to the program's weekdays).
    given = body.model_fields_set
    change = ReminderChange(
        enabled=body.enabled if "enabled" in given else UNSET,
        days=(tuple(body.days) if body.days is not None else None) if "days" in given else UNSET,
        time=time.fromisoformat(body.time) if "time" in given else UNSET,
        channels=tuple(body.channels) if "channels" in given else UNSET,
    )
    view = update_reminders(own_patient(), change, now=utcnow())
    return json_response(reminders_out(view))


@api_route(
    "/push/key",
    "GET",
    "The VAPID application server key for pushManager.subscribe()",
    responses={200: ("The public key", PushKeyOut)},
    tags=TAGS,
    roles=(Role.PATIENT,),
)
def push_key() -> Response:
    vapid = vapid_settings()
    if vapid is None:
        raise ApiError(404, "Not found", _("Phone notifications are not set up on this server."))
    return json_response(PushKeyOut(public_key=vapid.public_key))


@api_route(
    "/me/push-subscriptions",
    "POST",
    "Store this browser's push subscription (PushSubscription.toJSON())",
    request=PushSubscriptionIn,
    responses={
        201: ("Stored; reminders now also come as phone notifications", PushSubscriptionOut),
        200: ("This endpoint was already stored (its keys are refreshed)", PushSubscriptionOut),
    },
    tags=TAGS,
    roles=(Role.PATIENT,),
)
def post_push_subscription() -> Response:
    body, _raw = parse_body(PushSubscriptionIn)
    subscription, created = subscribe_push(
        own_patient(),
        {"endpoint": body.endpoint, "keys": body.keys.model_dump()},
        now=utcnow(),
    )
    answer = PushSubscriptionOut(endpoint=subscription.endpoint, created_at=subscription.created_at)
    return json_response(answer, 201 if created else 200)


@api_route(
    "/me/push-subscriptions",
    "DELETE",
    "Forget this browser's push subscription",
    request=PushEndpointIn,
    responses={204: ("Forgotten (or it was not stored)", None)},
    tags=TAGS,
    roles=(Role.PATIENT,),
)
def delete_push_subscription() -> Response:
    body, _raw = parse_body(PushEndpointIn)
    unsubscribe_push(own_patient(), body.endpoint)
    return Response(status=204)

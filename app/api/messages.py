"""Messages between a patient and their therapist (DESIGN §4 "Messages").

The patient reads and writes their own thread at ``/me/messages``; clinicians at
``/patients/<id>/messages`` for a patient they may see (another clinic's, or one assigned to
another therapist, is 404). Threads are oldest first; reading marks the other side's messages
read.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from flask import Response
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field

from app import audit
from app.api.core import (
    api_route,
    json_response,
    own_patient,
    parse_body,
    parse_query,
    visible_patient,
)
from app.db import utcnow
from app.enums import Role
from app.inputs import QueryId, Text
from app.messages.models import MAX_BODY, Message
from app.messages.services import MessageReport, Thread, read_thread, send_message
from app.patient.models import Patient

CLINICIANS = (Role.ADMIN, Role.THERAPIST)


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID = Field(description="The writer's UUID for this message (idempotency key)")
    body: Annotated[Text, Field(min_length=1, max_length=MAX_BODY)]


class MessagesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    before: QueryId | None = Field(
        None, description="Page back: messages older than the message with this number"
    )


class MessageOut(BaseModel):
    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True)

    id: str = Field(description="The writer's UUID")
    number: int = Field(description="Position in the thread; use it with ?before= to page back")
    sender: Literal["patient", "therapist"] = Field(alias="from")
    author: str = Field(description="Name of the writer")
    body: str
    sent_at: datetime
    read_at: datetime | None = Field(description="When the other side read it")


class MessagesOut(BaseModel):
    messages: list[MessageOut] = Field(description="Oldest first")
    has_earlier: bool = Field(description="Older messages exist: ask again with ?before=")


def message_out(message: Message, thread: Thread | None = None) -> MessageOut:
    return MessageOut(
        id=message.client_id,
        number=message.id,
        sender=message.sender.value,
        author=message.author.name,
        body=message.body,
        sent_at=message.sent_at,
        read_at=thread.read_at(message) if thread is not None else message.read_at,
    )


def thread_out(thread: Thread) -> MessagesOut:
    return MessagesOut(
        messages=[message_out(m, thread) for m in thread.messages],
        has_earlier=thread.has_earlier,
    )


def _send(patient: Patient) -> Response:
    body, _raw = parse_body(MessageIn)
    logged = send_message(
        patient, current_user, MessageReport(id=str(body.id), body=body.body), now=utcnow()
    )
    return json_response(message_out(logged.obj), 201 if logged.created else 200)


SEND_RESPONSES = {
    201: ("Sent; the other side is told a message is waiting (never its text)", MessageOut),
    200: ("The same message was already sent: the stored one", MessageOut),
    409: ("This id was already used for a different message", None),
}


@api_route(
    "/me/messages",
    "GET",
    "The patient's messages with their therapist, oldest first (marks theirs read)",
    query=MessagesQuery,
    responses={200: ("The latest messages", MessagesOut)},
    tags=("patient",),
    roles=(Role.PATIENT,),
)
def get_my_messages() -> Response:
    query = parse_query(MessagesQuery)
    patient = own_patient()
    return json_response(
        thread_out(read_thread(patient, current_user, now=utcnow(), before=query.before))
    )


@api_route(
    "/me/messages",
    "POST",
    "Send a message to the therapist (idempotent by its client id)",
    request=MessageIn,
    responses=SEND_RESPONSES,
    tags=("patient",),
    roles=(Role.PATIENT,),
)
def post_my_message() -> Response:
    return _send(own_patient())


@api_route(
    "/patients/<patient_id>/messages",
    "GET",
    "A patient's messages, oldest first (their therapist reading marks them read)",
    query=MessagesQuery,
    responses={200: ("The latest messages", MessagesOut)},
    tags=("therapist",),
    roles=CLINICIANS,
)
def get_patient_messages(patient_id: str) -> Response:
    query = parse_query(MessagesQuery)
    patient = visible_patient(patient_id)
    thread = read_thread(patient, current_user, now=utcnow(), before=query.before)
    audit.record(
        "messages.read",
        actor=current_user,
        patient=patient,
        object_type="patient",
        object_id=patient.id,
    )
    return json_response(thread_out(thread))


@api_route(
    "/patients/<patient_id>/messages",
    "POST",
    "Write to a patient (idempotent by its client id)",
    request=MessageIn,
    responses=SEND_RESPONSES,
    tags=("therapist",),
    roles=CLINICIANS,
)
def post_patient_message(patient_id: str) -> Response:
    return _send(visible_patient(patient_id))

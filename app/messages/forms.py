"""The message form of the patient's and the therapist's pages."""

from __future__ import annotations

import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import AnyOf, InputRequired, Length, Optional

from app.messages.models import MAX_BODY
from app.patient.forms import valid_uuid

RETURN_TO = ("record", "thread")
# What a message is about when it comes from another screen; its words open the message.
SUBJECTS = {"symptom": "A new symptom: "}


class MessageForm(FlaskForm):
    """One message; the hidden UUID makes a double tap on "Send" store it once."""

    client_id = HiddenField(validators=[valid_uuid])
    body = TextAreaField(
        _l("Your message"),
        validators=[
            InputRequired(_l("Write a message first.")),
            Length(
                max=MAX_BODY,
                message=_l(
                    "Keep a message to %(number)s characters or fewer.", number=f"{MAX_BODY:,}"
                ),
            ),
        ],
    )
    return_to = HiddenField(validators=[Optional(), AnyOf(RETURN_TO)])
    subject = HiddenField(validators=[Optional(), AnyOf(tuple(SUBJECTS))])

    @property
    def text(self) -> str:
        """The message as sent: the subject's opening words, then what was written."""
        return SUBJECTS.get(self.subject.data or "", "") + (self.body.data or "").strip()

    def fresh(self) -> MessageForm:
        """Give the form a new client UUID (for the next message)."""
        self.client_id.data = str(uuid.uuid4())
        return self

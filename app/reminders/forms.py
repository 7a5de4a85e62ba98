"""The patient's reminder settings form (it works without JavaScript)."""

from __future__ import annotations

from datetime import time

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, SelectMultipleField
from wtforms.validators import InputRequired, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.forms import choices
from app.reminders.schedule import LATEST_SEND_TIME, QUIET_UNTIL

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
FOLLOW_PROGRAM = "program"
OWN_DAYS = "own"


def time_choices(current: time | None = None) -> list:
    """Every quarter hour from 08:00 to 20:45 (no reminder at night), and the stored time."""
    times = [
        time(hour, minute)
        for hour in range(QUIET_UNTIL.hour, LATEST_SEND_TIME.hour + 1)
        for minute in (0, 15, 30, 45)
        if QUIET_UNTIL <= time(hour, minute) <= LATEST_SEND_TIME
    ]
    if current is not None and current not in times:
        times = sorted([*times, current])
    return choices((f"{t:%H:%M}", f"{t:%H:%M}") for t in times)


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ReminderForm(FlaskForm):
    enabled = BooleanField("Remind me of my exercises")
    which_days = RadioField(
        "On which days?",
        choices=choices(
            [
                (FOLLOW_PROGRAM, "The days of my program (they follow its changes)"),
                (OWN_DAYS, "Days I choose"),
            ]
        ),
        default=FOLLOW_PROGRAM,
        validators=[InputRequired("Choose the days of your program or your own.")],
    )
    days = CheckboxesField(
        "My days",
        choices=choices(enumerate(WEEKDAYS)),
        coerce=int,
    )
    time = SelectField(
        "At what time?",
        choices=time_choices(),
        validators=[InputRequired("Choose a time.")],
    )
    email = BooleanField("By email")
    push = BooleanField("As phone notifications")

    def chosen_time(self) -> time:
        return time.fromisoformat(self.time.data)

    def validate_days(self, field: CheckboxesField) -> None:
        if self.which_days.data == OWN_DAYS and not field.data:
            raise ValidationError("Pick at least one day, or choose the days of your program.")

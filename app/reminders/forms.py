"""The patient's reminder settings form (it works without JavaScript)."""

from __future__ import annotations

from datetime import time

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, SelectMultipleField
from wtforms.validators import InputRequired, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.forms import choices
from app.reminders.schedule import LATEST_SEND_TIME, QUIET_UNTIL

WEEKDAYS = (
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
)
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
    enabled = BooleanField(_l("Remind me of my exercises"))
    which_days = RadioField(
        _l("On which days?"),
        choices=choices(
            [
                (FOLLOW_PROGRAM, _l("The days of my program (they follow its changes)")),
                (OWN_DAYS, _l("Days I choose")),
            ]
        ),
        default=FOLLOW_PROGRAM,
        validators=[InputRequired(_l("Choose the days of your program or your own."))],
    )
    days = CheckboxesField(
        _l("My days"),
        choices=choices(enumerate(WEEKDAYS)),
        coerce=int,
    )
    time = SelectField(
        _l("At what time?"),
        choices=time_choices(),
        validators=[InputRequired(_l("Choose a time."))],
    )
    email = BooleanField(_l("By email"))
    push = BooleanField(_l("As phone notifications"))

    def chosen_time(self) -> time:
        return time.fromisoformat(self.time.data)

    def validate_days(self, field: CheckboxesField) -> None:
        if self.which_days.data == OWN_DAYS and not field.data:
            raise ValidationError(_("Pick at least one day, or choose the days of your program."))

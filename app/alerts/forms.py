from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.enums import AlertAction
from app.forms import choices

ACTION_LABELS = {
    AlertAction.CONTACTED: "Contacted the patient",
    AlertAction.RE_EVALUATED: "Re-evaluated",
    AlertAction.REGRESSED: "Regressed one stage",
    AlertAction.PROGRESSED: "Progressed one stage",
    AlertAction.REFERRED: "Referred on",
    AlertAction.NO_ACTION: "No action needed",
}


class AcknowledgeForm(FlaskForm):
    """One button."""


class SnoozeForm(FlaskForm):
    days = IntegerField(
        "Snooze for (days)",
        default=3,
        validators=[
            InputRequired("Give a number of days."),
            NumberRange(1, 14, "Snooze for 1 to 14 days."),
        ],
    )


class ResolveForm(FlaskForm):
    action = SelectField(
        "What was done", choices=choices((a.value, label) for a, label in ACTION_LABELS.items())
    )
    note = TextAreaField("Note", validators=[Optional(), Length(max=2000)])
    referral_to = StringField(
        "Referred to (for a referral)",
        validators=[Optional(), Length(max=200)],
        description="For example: Dr Lee, interventional pain clinic, City Hospital",
    )
    referral_reason = TextAreaField(
        "Reason for the referral", validators=[Optional(), Length(max=2000)]
    )

from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from app.forms import choices
from app.timeutil import known_timezones

YES_NO = choices([("", "Not asked"), ("no", "No"), ("yes", "Yes")])


def timezone_choices() -> list[SelectChoice]:
    return choices((name, name) for name in sorted(known_timezones()) if "/" in name)


class InvitePatientForm(FlaskForm):
    name = StringField(
        "Name", validators=[DataRequired("Enter the patient's name."), Length(max=120)]
    )
    email = EmailField(
        "Email (optional)",
        validators=[Optional(), Email("Enter a valid email address."), Length(max=254)],
        description="Leave empty if the patient has none with them; they add one when accepting.",
    )
    phone = StringField(
        "Phone (optional)",
        validators=[Optional(), Length(max=40)],
        description="So you can call the patient back after a red-flag answer.",
    )
    timezone = SelectField("Timezone", validate_choice=False)
    intake_pain = IntegerField(
        "Pain today (0–10)",
        validators=[Optional(), NumberRange(0, 10, "Pain is a whole number from 0 to 10.")],
    )
    goals = TextAreaField("Goals", validators=[Optional(), Length(max=2000)])
    rf9 = RadioField("Has the patient ever had cancer? (RF9)", choices=YES_NO, default="")
    rf12 = RadioField(
        "Long-term steroid tablets, osteoporosis, immune-suppressing treatment or injected drug "
        "use? (RF12)",
        choices=YES_NO,
        default="",
    )

    def intake_red_flags(self) -> dict[str, bool]:
        answers = {"RF9": self.rf9.data, "RF12": self.rf12.data}
        return {q: a == "yes" for q, a in answers.items() if a in ("yes", "no")}


class InviteTherapistForm(FlaskForm):
    name = StringField(
        "Name", validators=[DataRequired("Enter the therapist's name."), Length(max=120)]
    )
    email = EmailField(
        "Email",
        validators=[
            DataRequired("Enter an email."),
            Email("Enter a valid email address."),
            Length(max=254),
        ],
    )


class InvitationForm(FlaskForm):
    """Reissue or revoke an invitation (one button each)."""

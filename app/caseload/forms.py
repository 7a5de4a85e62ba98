from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from app.forms import choices
from app.i18n import LANGUAGE_NAMES
from app.timeutil import known_timezones

YES_NO = choices([("", "Not asked"), ("no", "No"), ("yes", "Yes")])


# The zones most clinics use, offered first; the rest follow (the field also takes any IANA name).
COMMON_TIMEZONES = (
    "Europe/London",
    "Europe/Dublin",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Phoenix",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Toronto",
    "America/Mexico_City",
    "Australia/Sydney",
    "Pacific/Auckland",
)


def timezone_choices() -> list[SelectChoice]:
    """Every IANA zone with a region, the common ones first (a datalist searches them all)."""
    common = [name for name in COMMON_TIMEZONES if name in known_timezones()]
    rest = sorted(name for name in known_timezones() if "/" in name and name not in common)
    return choices((name, name.replace("_", " ")) for name in [*common, *rest])


# "" follows the language of the patient's phone (DESIGN §4 "Language").
LANGUAGE_CHOICES = choices(
    [("", "The phone's language"), *((code, name) for code, name in LANGUAGE_NAMES.items())]
)

ASSIGN_LATER = 0
STAGE_CHOICES = choices(
    [
        (ASSIGN_LATER, "Not now: assign a program later"),
        (1, "Stage 1 · Activate"),
        (2, "Stage 2 · Stabilise"),
        (3, "Stage 3 · Load"),
        (4, "Stage 4 · Function"),
    ]
)


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
    date_of_birth = DateField(
        "Date of birth",
        validators=[Optional()],
        description="Optional; it identifies the patient on a referral letter.",
    )
    timezone = StringField(
        "Timezone",
        validators=[DataRequired("Choose the patient's timezone.")],
        description="Start typing a city or region, e.g. London or New York.",
    )
    intake_pain = IntegerField(
        "Pain today (0–10)",
        validators=[Optional(), NumberRange(0, 10, "Pain is a whole number from 0 to 10.")],
    )
    goals = TextAreaField("Goals", validators=[Optional(), Length(max=2000)])
    language = SelectField(
        "Language",
        choices=LANGUAGE_CHOICES,
        default="",
        description="The language of the patient's pages, messages and exercise instructions; "
        "the patient can change it in their account.",
    )
    stage = SelectField(
        "Program",
        choices=STAGE_CHOICES,
        coerce=int,
        default=1,
        description="Assign the low back core stability routine now, so the patient sees "
        "their exercises as soon as they accept.",
    )
    sessions_per_week = IntegerField(
        "Sessions per week",
        validators=[Optional(), NumberRange(1, 7, "Choose between 1 and 7.")],
        description="Leave empty for the stage's usual frequency.",
    )
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

"""Forms for the library and the program builder; they check fields, services check rules."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.enums import Side
from app.forms import choices
from app.programs.models import (
    MAX_DISTANCE_M,
    MAX_DURATION_SECONDS,
    MAX_HOLD_SECONDS,
    MAX_REPS,
    MAX_REST_SECONDS,
    MAX_SETS,
    DosageMixin,
)

WEEKDAY_NAMES = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]
WEEKDAYS = choices(WEEKDAY_NAMES)
SIDES = choices((s.value, s.value) for s in Side)
STAGES = choices((n, f"Stage {n}") for n in range(1, 5))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def parse_pyramid(text: str | None) -> list[int] | None:
    """Read "5, 3, 1" (or "5-3-1") as repetitions per set; None when empty."""
    if not text or not text.strip():
        return None
    parts = [p for p in text.replace("-", ",").replace(" ", ",").split(",") if p]
    return [int(p) for p in parts]


class DosageFields:
    """The dosage fields of DESIGN §2, with the database's limits."""

    sets = IntegerField(
        "Sets", validators=[InputRequired("Give the number of sets."), NumberRange(1, MAX_SETS)]
    )
    reps = IntegerField("Repetitions", validators=[Optional(), NumberRange(1, MAX_REPS)])
    reps_per_set = StringField(
        "Repetitions per set (pyramid)",
        validators=[Optional(), Length(max=60)],
        description="For example 5, 3, 1. Leave empty for the same repetitions each set.",
    )
    hold_seconds = IntegerField(
        "Hold (seconds)", validators=[Optional(), NumberRange(1, MAX_HOLD_SECONDS)]
    )
    duration_seconds = IntegerField(
        "Duration (seconds)", validators=[Optional(), NumberRange(1, MAX_DURATION_SECONDS)]
    )
    distance_m = IntegerField(
        "Distance (metres)", validators=[Optional(), NumberRange(1, MAX_DISTANCE_M)]
    )
    rest_seconds = IntegerField(
        "Rest between sets (seconds)",
        validators=[InputRequired("Give the rest time."), NumberRange(0, MAX_REST_SECONDS)],
    )
    side = SelectField("Side", choices=SIDES)
    load = StringField("Load", validators=[Optional(), Length(max=80)])

    def validate_reps_per_set(self, field: StringField) -> None:
        from wtforms.validators import ValidationError

        try:
            parse_pyramid(field.data)
        except ValueError:
            raise ValidationError(
                "Write whole numbers separated by commas, e.g. 5, 3, 1."
            ) from None

    def fill_dosage(self, source: DosageMixin) -> None:
        """Show an exercise's or an item's dosage in the fields."""
        for field in (
            "sets",
            "reps",
            "hold_seconds",
            "duration_seconds",
            "distance_m",
            "rest_seconds",
            "load",
        ):
            getattr(self, field).data = getattr(source, field)
        self.side.data = source.side.value
        self.reps_per_set.data = ", ".join(map(str, source.reps_per_set or []))

    def dosage(self) -> dict:
        return {
            "sets": self.sets.data,
            "reps": self.reps.data,
            "reps_per_set": parse_pyramid(self.reps_per_set.data),
            "hold_seconds": self.hold_seconds.data,
            "duration_seconds": self.duration_seconds.data,
            "distance_m": self.distance_m.data,
            "rest_seconds": self.rest_seconds.data,
            "side": self.side.data,
            "load": self.load.data,
        }


class ItemDosageForm(DosageFields, FlaskForm):
    pass


class ExerciseForm(DosageFields, FlaskForm):
    name = StringField(
        "Name", validators=[DataRequired("Give the exercise a name."), Length(max=120)]
    )
    target = StringField(
        "Target", validators=[DataRequired("Say what it trains."), Length(max=120)]
    )
    summary = TextAreaField("What it is for", validators=[Optional(), Length(max=500)])
    position = TextAreaField("Starting position", validators=[Optional(), Length(max=500)])
    steps = TextAreaField(
        "Steps (one per line)",
        validators=[DataRequired("Write at least one step."), Length(max=3000)],
    )
    cues = TextAreaField("Cues (one per line)", validators=[Optional(), Length(max=1000)])
    safety = TextAreaField("Safety", validators=[Optional(), Length(max=500)])
    stage_from = SelectField("From stage", choices=STAGES, coerce=int)
    stage_to = SelectField("To stage", choices=STAGES, coerce=int)
    easier_note = TextAreaField("Easier variant", validators=[Optional(), Length(max=500)])
    harder_note = TextAreaField("Harder variant", validators=[Optional(), Length(max=500)])
    # The figure: none, a built-in exercise's ("builtin:<slug>"), or two library poses.
    figure = SelectField("Figure", validate_choice=False, default="")
    figure_start = SelectField("Start pose", validate_choice=False, default="supine-knees-bent")
    figure_end = SelectField("End pose", validate_choice=False, default="bridge")

    def figure_choice(self) -> dict[str, str] | None:
        """The figure as the exercise stores it (checked by the library service)."""
        source = self.figure.data or ""
        if source.startswith("builtin:"):
            return {"slug": source.removeprefix("builtin:")}
        if source == "poses":
            return {"start": self.figure_start.data or "", "end": self.figure_end.data or ""}
        return None

    def fill_figure(self, choice: dict[str, str] | None) -> None:
        if not choice:
            self.figure.data = ""
        elif "slug" in choice:
            self.figure.data = f"builtin:{choice['slug']}"
        else:
            self.figure.data = "poses"
            self.figure_start.data = choice.get("start")
            self.figure_end.data = choice.get("end")


class ArchiveForm(FlaskForm):
    """A button that archives or restores an exercise."""


class AssignForm(FlaskForm):
    template = HiddenField(default="low-back-core-stability")
    stage = SelectField("Stage", choices=STAGES, coerce=int)
    sessions_per_week = IntegerField(
        "Sessions per week",
        validators=[Optional(), NumberRange(1, 7, "Choose between 1 and 7.")],
        description="Leave empty to use the stage's usual frequency.",
    )
    weekdays = MultiCheckboxField(
        "Weekdays",
        choices=WEEKDAYS,
        coerce=int,
        validators=[Optional()],
        description="Leave all unticked to use the usual days for that many sessions.",
    )
    start_date = DateField("Start date", validators=[Optional()])
    new_episode = BooleanField("Start a new episode of care (new baseline)")


class StageForm(FlaskForm):
    stage = SelectField("New stage", choices=STAGES, coerce=int)
    reason = TextAreaField(
        "Reason", validators=[DataRequired("Give a reason for the change."), Length(max=1000)]
    )


class AddItemForm(FlaskForm):
    exercise_id = SelectField("Exercise", coerce=int)


class ScheduleForm(FlaskForm):
    weekdays = MultiCheckboxField(
        "Weekdays",
        choices=WEEKDAYS,
        coerce=int,
        validators=[DataRequired("Pick at least one day.")],
    )
    effective_date = DateField("From", validators=[Optional()])


class ReasonForm(FlaskForm):
    reason = StringField("Reason", validators=[Optional(), Length(max=1000)])


class ButtonForm(FlaskForm):
    """A one-button POST form (CSRF only)."""

"""Forms of the patient's pages: the plain (no-JavaScript) player, check-in and symptom screen."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.clinical.red_flags import BY_ID, WEEKLY_IDS
from app.i18n import LANGUAGE_NAMES
from app.patient.check_ins import SELF_CARE
from app.patient.sessions import MAX_NOTES, MAX_SKIP_REASON

PAIN_CHOICES = [SelectChoice(value, str(value)) for value in range(11)]
STATUS_CHOICES = [
    SelectChoice("done", _l("Done")),
    SelectChoice("partial", _l("Partly")),
    SelectChoice("skipped", _l("Skipped")),
]
SELF_CARE_LABELS = {
    "ice": _l("Ice"),
    "heat": _l("Heat"),
    "medication": _l("Medication"),
    "walking": _l("Walking"),
    "other": _l("Something else"),
}
YES_NO = [SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))]


def int_or_none(value: Any) -> int | None:
    if value in (None, ""):
        return None
    return int(value)


def pain_field(label: str | LazyString, required: bool = False) -> RadioField:
    validators = [InputRequired(_l("Choose a number from 0 to 10."))] if required else [Optional()]
    return RadioField(label, choices=PAIN_CHOICES, coerce=int_or_none, validators=validators)


def valid_uuid(form: Form, field: HiddenField) -> None:
    try:
        uuid.UUID(str(field.data))
    except ValueError:
        raise ValidationError(_("Reload the page and try again.")) from None


class ExerciseForm(Form):
    """One exercise of the plain player: how it went, and the pain during it."""

    item_id = HiddenField()
    status = RadioField(
        _l("How did it go?"),
        choices=STATUS_CHOICES,
        validators=[InputRequired(_l("Choose done, partly or skipped."))],
    )
    skip_reason = StringField(
        _l("Reason (if partly or skipped)"),
        validators=[Optional(), Length(max=MAX_SKIP_REASON)],
    )
    pain_during = SelectField(
        _l("Worst pain during it: 0 none, 1–3 mild, 4–6 moderate, 7–10 severe (optional)"),
        choices=[SelectChoice("", "—"), *(SelectChoice(v, str(v)) for v in range(11))],
        coerce=int_or_none,
        validators=[Optional()],
    )
    sets_done = IntegerField(validators=[Optional()])
    reps_done = IntegerField(validators=[Optional()])
    hold_seconds = IntegerField(validators=[Optional()])


class PlayerForm(FlaskForm):
    """The whole session as one form: it works without JavaScript (DESIGN §3)."""

    client_id = HiddenField(validators=[valid_uuid])
    started_at = HiddenField()
    pain_before = pain_field(_l("How bad is your back pain right now?"), required=True)
    pain_after = pain_field(_l("How bad is your back pain now, after the session?"))
    effort = RadioField(
        _l("How hard was that? (0 very easy – 10 hardest)"),
        choices=PAIN_CHOICES,
        coerce=int_or_none,
        validators=[Optional()],
    )
    notes = TextAreaField(
        _l("Anything to tell your therapist? (optional)"), [Length(max=MAX_NOTES)]
    )

    @classmethod
    def for_items(cls, item_ids: Sequence[int], **kwargs: Any) -> PlayerForm:
        """Build the form with one exercise sub-form per program item."""
        attrs = {f"ex{item_id}": FormField(ExerciseForm) for item_id in item_ids}
        form_class = type("SessionPlayerForm", (cls,), attrs)
        form = form_class(**kwargs)
        form.item_ids = list(item_ids)
        for item_id in item_ids:
            form[f"ex{item_id}"].item_id.data = str(item_id)
        return form

    def error_field(self, name: str) -> Any:
        """Return the field a service message about ``name`` belongs on ("exercises[0].x")."""
        if not name.startswith("exercises["):
            return getattr(self, name, None)
        index = int(name[len("exercises[") : name.index("]")])
        ids = getattr(self, "item_ids", [])
        if index >= len(ids):
            return None
        return getattr(self[f"ex{ids[index]}"].form, name.rsplit(".", 1)[-1], None)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RedFlagForm(FlaskForm):
    """Red-flag questions (CLINICAL §6): each asked one is answered, but a yes is never held back.

    A screen with a yes is accepted even when other questions are still open; those are left
    out ("only those asked"). `asked` carries the questions the page showed, so an answer is
    never dropped because the due list changed between showing and sending.
    """

    client_id = HiddenField(validators=[valid_uuid])
    asked = HiddenField()

    @property
    def question_ids(self) -> tuple[str, ...]:
        asked = set((self.asked.data or "").split())
        return tuple(q for q in WEEKLY_IDS if q in asked)

    def questions(self) -> list[RadioField]:
        return [self[q] for q in self.question_ids]

    def answered(self) -> dict[str, bool]:
        return {q: self[q].data == "yes" for q in WEEKLY_IDS if self[q].data in ("yes", "no")}

    def has_yes(self) -> bool:
        return any(self.answered().values())

    def check_questions(self) -> bool:
        answers = self.answered()
        if any(answers.values()):
            return True
        missing = [q for q in self.question_ids if q not in answers]
        for question in missing:
            self[question].errors = [_("Answer yes or no.")]
        return not missing


for _question in WEEKLY_IDS:
    setattr(
        RedFlagForm,
        _question,
        # The English wording is the msgid (red_flags marks it); the label is read in the
        # language of the request that renders the form.
        RadioField(_l(BY_ID[_question].text), choices=YES_NO, validators=[Optional()]),
    )


class CheckInForm(RedFlagForm):
    """Next-morning check-in: pain this morning, self-care, and the red flags when due."""

    morning_pain = pain_field(_l("How bad is your back pain this morning?"), required=True)
    self_care = MultiCheckboxField(
        _l("What did you use for your back since yesterday? (optional)"),
        choices=[SelectChoice(word, SELF_CARE_LABELS[word]) for word in SELF_CARE],
        validators=[Optional()],
    )

    def validate(self, extra_validators: Any = None) -> bool:
        fields_ok = super().validate(extra_validators)
        if self.has_yes() and not self.client_id.errors:
            # A red-flag yes goes through even without a morning pain (CLINICAL §6).
            self.morning_pain.errors = []
            return True
        return self.check_questions() and fields_ok


class SymptomForm(RedFlagForm):
    """The red-flag screen, at any time ("I have a new symptom")."""

    def validate(self, extra_validators: Any = None) -> bool:
        return super().validate(extra_validators) and self.check_questions()


class LanguageForm(FlaskForm):
    """The language of the patient's pages and messages (DESIGN §4 "Language"); each language
    is offered under its own name, so a patient who cannot read this page still finds theirs."""

    language = RadioField(
        _l("Language"),
        choices=[
            SelectChoice("", _l("The language of this phone")),
            *(SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()),
        ],
        default="",
        validators=[Optional()],
    )

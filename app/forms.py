"""Small helpers shared by the HTML views."""

from collections.abc import Callable, Iterable
from typing import Any

from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

from app.errors import ValidationFailed
from app.extensions import db


def show_errors(form: FlaskForm, error: ValidationFailed, fallback: str | None = None) -> None:
    """Attach a service's field messages to the form's fields (or a fallback field)."""
    for name, message in error.errors.items():
        field = getattr(form, name.split(".")[0].split("[")[0], None)
        if field is None and fallback:
            field = getattr(form, fallback)
        if field is not None:
            field.errors = [*field.errors, message] if isinstance(field.errors, list) else [message]
        else:
            form.form_errors.append(message)


def choices(pairs: Iterable[tuple[Any, str]]) -> list[SelectChoice]:
    """Build WTForms choices (tuples are deprecated in WTForms 3.3)."""
    return [SelectChoice(value, label) for value, label in pairs]


def save(form: FlaskForm, call: Callable[[], Any], *, fallback: str | None = None) -> bool:
    """Run a service call for a validated form: commit it, or roll it back and show why.

    Bad input changes nothing: on ValidationFailed the transaction is rolled back and the
    service's field messages go on the form.
    """
    try:
        call()
    except ValidationFailed as error:
        db.session.rollback()
        show_errors(form, error, fallback=fallback)
        return False
    db.session.commit()
    return True

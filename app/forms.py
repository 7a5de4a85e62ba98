"""Small helpers shared by the HTML views."""

from collections.abc import Callable, Iterable
from typing import Any

from flask import flash
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

from app.errors import Conflict, ValidationFailed
from app.extensions import db


def show_errors(form: FlaskForm, error: ValidationFailed, fallback: str | None = None) -> None:
    """Attach a service's field messages to the form's fields (or a fallback field)."""
    for name, message in error.errors.items():
        if hasattr(form, "error_field"):  # a form with sub-forms says where a message goes
            field = form.error_field(name)
        else:
            # "referral.to" is the form's referral_to; "exercises[0].x" falls back to "exercises".
            field = getattr(form, name.replace(".", "_"), None) or getattr(
                form, name.split(".")[0].split("[")[0], None
            )
        if field is None and fallback:
            field = getattr(form, fallback)
        if field is not None:
            field.errors = [*field.errors, message] if isinstance(field.errors, list) else [message]
        else:
            flash(message, "error")


def choices(pairs: Iterable[tuple[Any, str]]) -> list[SelectChoice]:
    """Build WTForms choices (tuples are deprecated in WTForms 3.3)."""
    return [SelectChoice(value, label) for value, label in pairs]


def save(form: FlaskForm | None, call: Callable[[], Any], *, fallback: str | None = None) -> bool:
    """Run a service call for a submitted form; say whether it went through.

    The one place a service's refusal meets a page (the API maps them in one error handler):
    bad input changes nothing — the work is rolled back, ValidationFailed's field messages go on
    the form (or are flashed without one), a Conflict is flashed. The request's commit path
    commits what succeeded.
    """
    try:
        call()
    except ValidationFailed as error:
        db.session.rollback()
        if form is None:
            flash(" ".join(error.errors.values()) or error.detail, "error")
        else:
            show_errors(form, error, fallback=fallback)
        return False
    except Conflict as error:
        db.session.rollback()
        flash(error.detail, "error")
        return False
    return True

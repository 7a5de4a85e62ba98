"""Helpful error pages for people, problem+json for the API."""

from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.extensions import db
from app.i18n import N_
from app.problems import problem

# Marked for the catalogue (issue 16): a page says them in its language, problem+json's title
# stays English (the detail follows the request, as for every patient-facing text).
MESSAGES = {
    400: (
        N_("That request could not be used"),
        N_("The page may have been open too long. Go back, reload it and try again."),
    ),
    403: (N_("You cannot open this page"), N_("Your account does not give access to this page.")),
    404: (
        N_("Page not found"),
        N_("The page you asked for does not exist or is not yours to see."),
    ),
    405: (N_("That did not work"), N_("This page cannot be used that way.")),
    413: (N_("That was too large"), N_("What was sent is larger than 1 MB; nothing was saved.")),
    429: (N_("Too many attempts"), N_("Please wait a minute before trying again.")),
    500: (
        N_("Something went wrong on our side"),
        N_("Nothing you did caused this. Your data is safe; please try again in a moment."),
    ),
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):  # type: ignore[no-untyped-def]
        return _render(
            400, N_("The form expired or was sent from somewhere else. Reload and retry.")
        )

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):  # type: ignore[no-untyped-def]
        status = error.code or 500
        if status >= 500:
            db.session.rollback()  # an unhandled error arrives here as a 500
        return _render(status)


def _render(status: int, detail: str | None = None):  # type: ignore[no-untyped-def]
    title, text = MESSAGES.get(status, MESSAGES[400 if status < 500 else 500])
    if wants_json():
        return problem(status, title, _(detail or text))
    page = render_template(
        "errors/error.html", status=status, title=_(title), text=_(detail or text)
    )
    return page, status

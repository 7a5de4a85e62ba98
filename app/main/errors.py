"""Helpful error pages for people, problem+json for the API."""

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.extensions import db
from app.problems import problem

MESSAGES = {
    400: (
        "That request could not be used",
        "The page may have been open too long. Go back, reload it and try again.",
    ),
    403: ("You cannot open this page", "Your account does not give access to this page."),
    404: ("Page not found", "The page you asked for does not exist or is not yours to see."),
    405: ("That did not work", "This page cannot be used that way."),
    413: ("That was too large", "What was sent is larger than 1 MB; nothing was saved."),
    429: ("Too many attempts", "Please wait a minute before trying again."),
    500: (
        "Something went wrong on our side",
        "Nothing you did caused this. Your data is safe; please try again in a moment.",
    ),
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):  # type: ignore[no-untyped-def]
        return _render(400, "The form expired or was sent from somewhere else. Reload and retry.")

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):  # type: ignore[no-untyped-def]
        status = error.code or 500
        if status >= 500:
            db.session.rollback()  # an unhandled error arrives here as a 500
        return _render(status)


def _render(status: int, detail: str | None = None):  # type: ignore[no-untyped-def]
    title, text = MESSAGES.get(status, MESSAGES[400 if status < 500 else 500])
    if wants_json():
        return problem(status, title, detail or text)
    page = render_template("errors/error.html", status=status, title=title, text=detail or text)
    return page, status

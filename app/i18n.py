"""Languages (issue 16, DESIGN §4 "Language"): patient pages, messages and content in English and
Spanish.

The locale of a request is the patient's saved `language`, else the best match of the browser's
`Accept-Language`; clinicians' pages stay English for now (their templates are plain English, and
the selector is the one place that would change to let them follow). Outside a request — the
reminder run, a notice sent after a commit — `force_locale(language_of(patient))` speaks the
patient's language.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Flask, Response, has_request_context, request
from flask_babel import Babel, force_locale, get_locale
from flask_login import current_user

if TYPE_CHECKING:
    from app.patient.models import Patient

LANGUAGES = ("en", "es")
DEFAULT = "en"
# The names a language is offered under, each in its own language (a patient who cannot read the
# current one still finds theirs).
LANGUAGE_NAMES = {"en": "English", "es": "Español"}

babel = Babel()

__all__ = [
    "DEFAULT",
    "LANGUAGES",
    "LANGUAGE_NAMES",
    "N_",
    "browser_language",
    "current_language",
    "force_locale",
    "init_app",
    "language_of",
    "localized",
]


def N_(text: str) -> str:
    """Mark a text for the catalogue and keep it English here: it is stored, compared or exported
    as it is (a red-flag question, a light's message), and `gettext` says it where it is shown."""
    return text


def browser_language() -> str:
    """The browser's preferred language among ours, or English."""
    if not has_request_context():
        return DEFAULT
    return request.accept_languages.best_match(LANGUAGES, default=DEFAULT) or DEFAULT


def language_of(patient: Patient | None, fallback: str = DEFAULT) -> str:
    """The language to write to a patient in (mail, push): theirs, else ``fallback`` (the
    browser asking, when one is); a clinician (no patient) is written to in English."""
    if patient is None:
        return DEFAULT
    return patient.language if patient.language in LANGUAGES else fallback


def select_locale() -> str:
    """The patient's saved language, else `?lang=` (the service worker fetches the offline shells
    without cookies, in the language of the page that registered it), else the browser's."""
    if not has_request_context():
        return DEFAULT
    if current_user.is_authenticated:
        if current_user.is_clinician:
            return DEFAULT
        patient = current_user.patient
        if patient is not None and patient.language in LANGUAGES:
            return patient.language
    asked = request.args.get("lang")
    return asked if asked in LANGUAGES else browser_language()


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None and locale.language in LANGUAGES else DEFAULT


def localized(source: Any, field: str, language: str | None = None) -> Any:
    """A patient-facing field of content (an exercise, a stage) in the current language: its
    `translations[lang][field]` when the content gives it, else the English original."""
    language = language or current_language()
    translations = getattr(source, "translations", None)
    original = getattr(source, field, None)
    if language != DEFAULT and translations:
        value = (translations.get(language) or {}).get(field)
        if value not in (None, "", []):
            return value
    return original


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(app.root_path) + "/translations")
    babel.init_app(app, locale_selector=select_locale)

    @app.after_request
    def _content_language(response: Response) -> Response:
        # Pages and the API's answers say their language (static files are the same in both).
        if request.endpoint != "static":
            response.headers.setdefault("Content-Language", current_language())
            response.vary.add("Accept-Language")
        return response

    app.jinja_env.globals.update(
        current_language=current_language, localized=localized, LANGUAGE_NAMES=LANGUAGE_NAMES
    )

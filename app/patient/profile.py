"""The patient's own settings that are not reminders: the language of their pages (issue 16)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _

from app import audit
from app.errors import ValidationFailed
from app.i18n import LANGUAGES
from app.patient.models import Patient


def set_language(patient: Patient, language: str | None, *, now: datetime) -> Patient:
    """Save the patient's language; None follows the phone's language again (DESIGN §4)."""
    if language is not None and language not in LANGUAGES:
        raise ValidationFailed({"language": _("Choose English or Spanish.")})
    if patient.language != language:
        patient.language = language
        audit.record(
            "patient.language",
            actor=patient.user,
            patient=patient,
            details={"language": language},
            now=now,
        )
    return patient

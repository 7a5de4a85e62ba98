"""How patients come to exist: a profile, a single-use invitation, intake red flags.

Pages, the JSON API, ``users create`` and the demo all enrol through ``invite_patient``, which
also emails the link (after the transaction commits) and writes the audit event.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from app import audit
from app.admin.settings import check_phone
from app.alerts.engine import evaluate_patients
from app.auth.models import Clinic, User
from app.auth.services import (
    check_email,
    create_user,
    issue_invitation,
    link_lifetime,
    normalise_email,
)
from app.clinical import red_flags
from app.enums import CheckInKind, Role
from app.errors import ValidationFailed
from app.extensions import db
from app.i18n import LANGUAGES, force_locale, language_of
from app.links import invitation_url
from app.mail import send_after_commit
from app.patient.check_ins import CheckInReport, record_check_in
from app.patient.models import Patient
from app.patient.sessions import pain_error
from app.programs.services import Assignment, assign_program
from app.timeutil import is_timezone

MAX_NAME = 120
MAX_GOALS = 2000


@dataclass(frozen=True)
class NewPatient:
    name: str
    timezone: str
    email: str | None = None
    phone: str | None = None
    date_of_birth: date | None = None
    intake_pain: int | None = None
    goals: str = ""
    intake_red_flags: Mapping[str, bool] = field(default_factory=dict)
    # Admins (and the command line) may assign another therapist of the clinic by email.
    therapist_email: str | None = None
    # "en" or "es"; None follows the browser (DESIGN §4 "Language").
    language: str | None = None


@dataclass(frozen=True)
class Invited:
    """A new patient, their invitation token (shown once) and whether it was emailed."""

    patient: Patient
    token: str
    emailed: bool


def birth_date_error(born: date | None, now: datetime) -> str | None:
    """A date of birth is optional; when given it lies in the last 120 years."""
    if born is None:
        return None
    if not isinstance(born, date) or isinstance(born, datetime):
        return "Enter the date of birth as a date, e.g. 1961-04-23."
    if born > now.date() or born.year < now.year - 120:
        return "Enter a date of birth in the past 120 years."
    return None


def invite_patient(
    clinic: Clinic,
    data: NewPatient,
    *,
    by: User | None,
    now: datetime,
    program: Assignment | None = None,
) -> Invited:
    """Create a patient with a single-use invitation, email it, audit it.

    The patient belongs to ``by`` unless an admin (or the command line, ``by`` None) names
    another therapist of the clinic. The address goes on the invitation, not the account: the
    patient confirms it on accepting, so the answer is the same whether or not the address
    already has an account anywhere (DESIGN §6). Intake red-flag answers (RF9, RF12) are
    recorded as an intake check-in, so a yes raises the same screen result as any other
    (CLINICAL §6). With ``program`` the routine is assigned in the same step, so the patient
    who accepts sees exercises, not "No exercises yet".
    """
    errors: dict[str, str] = {}
    name = (data.name or "").strip()
    if not name:
        errors["name"] = "Enter the patient's name."
    elif len(name) > MAX_NAME:
        errors["name"] = f"Keep the name under {MAX_NAME} characters."
    if not is_timezone(data.timezone):
        errors["timezone"] = "Choose a timezone from the list, such as Europe/London."
    if (message := pain_error(data.intake_pain)) is not None:
        errors["intake_pain"] = message
    if len(data.goals or "") > MAX_GOALS:
        errors["goals"] = f"Keep the goals under {MAX_GOALS} characters."
    unknown = set(data.intake_red_flags) - set(red_flags.INTAKE_IDS)
    if unknown:
        errors["intake_red_flags"] = "Only RF9 and RF12 are asked at intake."
    elif any(not isinstance(answer, bool) for answer in data.intake_red_flags.values()):
        errors["intake_red_flags"] = "Answer each intake question with yes (true) or no (false)."
    if data.language is not None and data.language not in LANGUAGES:
        errors["language"] = "Choose English or Spanish, or leave it to the patient's phone."
    email = None
    if data.email and data.email.strip():
        try:
            email = check_email(data.email.strip())
        except ValidationFailed as exc:
            errors.update(exc.errors)
    phone = None
    try:
        phone = check_phone(data.phone)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if (message := birth_date_error(data.date_of_birth, now)) is not None:
        errors["date_of_birth"] = message
    therapist = _therapist(clinic, data.therapist_email, by, errors)
    if errors:
        raise ValidationFailed(errors)
    assert therapist is not None

    user = create_user(
        clinic=clinic,
        role=Role.PATIENT,
        name=name,
        email=None,
        password=None,
        now=now,
        created_by=by,
    )
    patient = Patient(
        user=user,
        clinic_id=clinic.id,
        therapist_id=therapist.id,
        timezone=data.timezone,
        phone=phone,
        date_of_birth=data.date_of_birth,
        intake_pain=data.intake_pain,
        goals=(data.goals or "").strip(),
        risk_modifier=bool(data.intake_red_flags.get("RF12")),
        language=data.language,
        created_at=now,
    )
    db.session.add(patient)
    db.session.flush()
    token = issue_invitation(user, created_by=by, now=now, email=email)
    audit.record(
        "patient.create", actor=by, patient=patient, object_type="patient", object_id=patient.id
    )
    if data.intake_red_flags:
        record_check_in(
            patient,
            CheckInReport(
                id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"homestretch:intake:{patient.id}")),
                recorded_at=now,
                red_flags=dict(data.intake_red_flags),
                kind=CheckInKind.INTAKE,
            ),
            now=now,
        )
    if program is not None:
        assign_program(patient, program, by=by, now=now)
    evaluate_patients([patient.id], now)
    emailed = False
    if email:
        # The patient's invitation, in their language (not the enrolling clinician's).
        with force_locale(language_of(patient)):
            subject = _("Your exercise program is ready")
            body = (
                _("Your therapist has set up your exercises in Homestretch.")
                + "\n\n"
                + _("Open this link on your phone to start: %(link)s", link=invitation_url(token))
                + f"\n\n{link_lifetime()}"
            )
        emailed = send_after_commit(email, subject, body)
    return Invited(patient, token, emailed)


def _therapist(
    clinic: Clinic, therapist_email: str | None, by: User | None, errors: dict[str, str]
) -> User | None:
    """Return the patient's therapist: ``by``, or the one an admin or the command line names."""
    if therapist_email:
        if by is not None and by.role is not Role.ADMIN:
            errors["therapist_email"] = "Leave this out; your patients are assigned to you."
            return None
        therapist = db.session.scalar(
            sa.select(User).where(
                User.email == normalise_email(therapist_email),
                User.clinic_id == clinic.id,
                User.role.in_((Role.THERAPIST, Role.ADMIN)),
            )
        )
        if therapist is None:
            errors["therapist_email"] = "No therapist of your clinic has this email."
        return therapist
    if by is None or by.clinic_id != clinic.id or not by.is_clinician:
        errors["therapist_email"] = "Choose a therapist of this clinic."
        return None
    return by

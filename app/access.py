"""Role guards and the one object-level access rule every patient-scoped query goes through.

A therapist reaches only their clinic's patients assigned to them, an admin the whole clinic,
a patient only themselves (DESIGN §1). Nothing crosses clinics.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import abort
from flask_login import current_user, login_required

from app.auth.models import User
from app.enums import Role
from app.extensions import db
from app.patient.models import Patient
from app.programs.models import Program

F = TypeVar("F", bound=Callable[..., Any])


def patient_scope(user: User) -> sa.ColumnElement[bool]:
    """Return the WHERE clause that limits Patient rows to those `user` may see."""
    if user.role is Role.ADMIN:
        return Patient.clinic_id == user.clinic_id
    if user.role is Role.THERAPIST:
        return sa.and_(Patient.clinic_id == user.clinic_id, Patient.therapist_id == user.id)
    return Patient.user_id == user.id


def visible_patients(user: User) -> sa.Select[tuple[Patient]]:
    return sa.select(Patient).where(patient_scope(user), Patient.archived_at.is_(None))


def get_patient_or_404(user: User, patient_id: int, *options: Any) -> Patient:
    """Load a patient the user may see; anything else is 404 so existence does not leak."""
    patient = db.session.scalar(
        sa.select(Patient).where(Patient.id == patient_id, patient_scope(user)).options(*options)
    )
    if patient is None:
        abort(404)
    return patient


def get_program_or_404(user: User, program_id: int) -> Program:
    """Load a program of a patient the user may see, else 404."""
    program = db.session.scalar(
        sa.select(Program)
        .join(Patient, Patient.id == Program.patient_id)
        .where(Program.id == program_id, patient_scope(user))
    )
    if program is None:
        abort(404)
    return program


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Allow a view only to logged-in users with one of `roles`; others get 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


clinician_required = roles_required(Role.ADMIN, Role.THERAPIST)
patient_required = roles_required(Role.PATIENT)
admin_required = roles_required(Role.ADMIN)

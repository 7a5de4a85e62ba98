"""The clinic admin's side: the clinic's people and the audit log."""

import sqlalchemy as sa
from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy.orm import aliased

from app.access import admin_required
from app.admin.models import AuditEvent
from app.auth.models import User
from app.enums import Role
from app.extensions import db
from app.patient.models import Patient

bp = Blueprint("admin", __name__)


@bp.route("/")
@admin_required
def index():
    """Show the clinic's clinicians with their caseload size, and the latest audit events."""
    clinic_id = current_user.clinic_id
    caseload = (
        sa.select(Patient.therapist_id, sa.func.count(Patient.id).label("patients"))
        .where(Patient.clinic_id == clinic_id, Patient.archived_at.is_(None))
        .group_by(Patient.therapist_id)
        .subquery()
    )
    clinicians = db.session.execute(
        sa.select(User, sa.func.coalesce(caseload.c.patients, 0).label("patients"))
        .outerjoin(caseload, caseload.c.therapist_id == User.id)
        .where(User.clinic_id == clinic_id, User.role.in_([Role.ADMIN, Role.THERAPIST]))
        .order_by(User.role, User.name)
    ).all()
    actor = aliased(User)
    events = db.session.execute(
        sa.select(AuditEvent, actor.name.label("actor_name"))
        .outerjoin(actor, actor.id == AuditEvent.actor_id)
        .where(AuditEvent.clinic_id == clinic_id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(50)
    ).all()
    return render_template("admin/index.html", clinicians=clinicians, events=events)

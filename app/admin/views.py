"""The clinic admin's side: the clinic's people and the audit log."""

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import aliased
from wtforms import StringField
from wtforms.validators import InputRequired

from app.access import admin_required
from app.admin.models import AuditEvent
from app.admin.policy import LABELS, SETTINGS, clinic_policy, show, update_policy
from app.auth.models import User
from app.auth.services import create_user, issue_invitation
from app.caseload.forms import InviteTherapistForm
from app.clinical.policy import Policy
from app.db import utcnow
from app.enums import Role
from app.errors import ValidationFailed
from app.extensions import db
from app.forms import show_errors
from app.links import invitation_url
from app.mail import mail_configured, send_mail
from app.patient.models import Patient
from app.qr import qr_svg

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


@bp.route("/therapists/new", methods=["GET", "POST"])
@admin_required
def invite_therapist():
    """Invite a therapist with the same single-use link as patients."""
    form = InviteTherapistForm()
    if form.validate_on_submit():
        now = utcnow()
        try:
            user = create_user(
                clinic=current_user.clinic,
                role=Role.THERAPIST,
                name=form.name.data,
                email=form.email.data,
                password=None,
                now=now,
                created_by=current_user,
            )
        except ValidationFailed as exc:
            db.session.rollback()
            show_errors(form, exc, fallback="email")
        else:
            token = issue_invitation(user, created_by=current_user, now=now)
            db.session.commit()
            url = invitation_url(token)
            if mail_configured():
                send_mail(
                    user.email,
                    "You are invited to Homestretch",
                    f"{current_user.name} invited you to {current_user.clinic.name} on "
                    f"Homestretch.\n\nSet your password here: {url}\n\nThe link works once.",
                )
            return render_template(
                "admin/therapist_invited.html",
                user=user,
                url=url,
                qr=qr_svg(url, f"QR code of the invitation link for {user.name}"),
            )
    return render_template("admin/invite_therapist.html", form=form)


def policy_form_class() -> type[FlaskForm]:
    """A form with one text field per threshold (built from the Policy's fields)."""
    fields = {
        name: StringField(LABELS.get(name, (None, name))[1], validators=[InputRequired()])
        for name in SETTINGS
    }
    return type("PolicyForm", (FlaskForm,), fields)


@bp.route("/policy", methods=["GET", "POST"])
@admin_required
def policy():
    """See and change the clinic's alert thresholds (defaults from CLINICAL.md)."""
    clinic = current_user.clinic
    current = clinic_policy(clinic)
    defaults = Policy()
    form = policy_form_class()()
    if request.method == "GET":
        for name in SETTINGS:
            getattr(form, name).data = show(getattr(current, name))
    if form.validate_on_submit():
        try:
            update_policy(
                clinic,
                {name: getattr(form, name).data for name in SETTINGS},
                by=current_user,
                now=utcnow(),
            )
        except ValidationFailed as exc:
            db.session.rollback()
            show_errors(form, exc)
        else:
            db.session.commit()
            flash("Thresholds saved; they apply from the next evaluation.", "success")
            return redirect(url_for("admin.policy"))
    groups: dict[str, list] = {}
    for name in SETTINGS:
        groups.setdefault(LABELS.get(name, ("Other", name))[0], []).append(
            (getattr(form, name), show(getattr(defaults, name)))
        )
    page = render_template("admin/policy.html", groups=groups, form=form, version=current.version)
    return page, 422 if form.errors else 200

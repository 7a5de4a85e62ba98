"""The clinic admin's side: the clinic's people and the audit log."""

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import aliased
from wtforms import BooleanField, SelectMultipleField, StringField
from wtforms.validators import InputRequired
from wtforms.widgets import CheckboxInput, ListWidget

from app import audit
from app.access import admin_required
from app.admin.audit_log import audit_csv, audit_page, parse_filters
from app.admin.models import AuditEvent
from app.admin.policy import LABELS, SETTINGS, show, update_policy
from app.admin.settings import switchable_questionnaires, update_clinic_settings
from app.assessment import policy_for
from app.auth import services as accounts
from app.auth.models import User
from app.auth.services import InvitedClinician
from app.auth.two_factor import admin_reset_second_factor, clinic_requires_2fa
from app.caseload.forms import InvitationForm, InviteTherapistForm
from app.clinical.policy import Policy
from app.db import utcnow
from app.enums import Role
from app.extensions import db
from app.forms import save
from app.links import invitation_url
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
    invited: list[InvitedClinician] = []
    if form.validate_on_submit() and save(
        form,
        lambda: invited.append(
            accounts.invite_therapist(
                current_user.clinic,
                name=form.name.data,
                email=form.email.data,
                by=current_user,
                now=utcnow(),
            )
        ),
        fallback="email",
    ):
        flash(f"{invited[0].user.name} is invited.", "success")
        return redirect(url_for("admin.therapist_invitation", user_id=invited[0].user.id))
    page = render_template("admin/invite_therapist.html", form=form)
    return page, 422 if form.errors else 200


def _clinician_or_404(user_id: int) -> User:
    user = db.session.scalar(
        sa.select(User).where(
            User.id == user_id,
            User.clinic_id == current_user.clinic_id,
            User.role.in_([Role.ADMIN, Role.THERAPIST]),
        )
    )
    if user is None:
        abort(404)
    return user


@bp.route("/therapists/<int:user_id>/invitation")
@admin_required
def therapist_invitation(user_id: int):
    """Show a clinician's invitation: its link and QR code once, then reissue."""
    user = _clinician_or_404(user_id)
    now = utcnow()
    pending = accounts.open_invitation(user)
    token = accounts.reveal_invitation(pending, current_user, now) if pending else None
    url = invitation_url(token) if token else None
    return render_template(
        "admin/therapist_invited.html",
        user=user,
        invitation=pending if pending is not None and pending.is_usable(now) else None,
        accepted=user.password_hash is not None,
        url=url,
        qr=qr_svg(url, f"QR code of the invitation link for {user.name}") if url else None,
        form=InvitationForm(),
    )


@bp.route("/therapists/<int:user_id>/invitation/reissue", methods=["POST"])
@admin_required
def reissue_therapist_invitation(user_id: int):
    user = _clinician_or_404(user_id)
    if not InvitationForm().validate_on_submit():
        abort(400)
    if save(None, lambda: accounts.reissue_invitation(user, by=current_user, now=utcnow())):
        flash("A new link is ready; the old one no longer works.", "success")
    return redirect(url_for("admin.therapist_invitation", user_id=user.id))


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
    current = policy_for(clinic)
    defaults = Policy()
    form = policy_form_class()()
    if request.method == "GET":
        for name in SETTINGS:
            getattr(form, name).data = show(getattr(current, name))
    if form.validate_on_submit() and save(
        form,
        lambda: update_policy(
            clinic,
            {name: getattr(form, name).data for name in SETTINGS},
            by=current_user,
            now=utcnow(),
        ),
    ):
        flash("Thresholds saved; every patient's numbers and alerts now follow them.", "success")
        return redirect(url_for("admin.policy"))
    groups: dict[str, list] = {}
    for name in SETTINGS:
        groups.setdefault(LABELS.get(name, ("Other", name))[0], []).append(
            (getattr(form, name), show(getattr(defaults, name)))
        )
    page = render_template("admin/policy.html", groups=groups, form=form, version=current.version)
    return page, 422 if form.errors else 200


class SettingsForm(FlaskForm):
    phone = StringField(
        "Clinic phone",
        description="Patients who report an urgent symptom are shown this number to call.",
    )
    emergency_number = StringField(
        "Local emergency number",
        description="Patients who report an emergency symptom get a button to call it "
        "(999 in the UK, 911 in the US, 112 in the EU).",
    )
    require_2fa = BooleanField(
        "Clinicians need a second factor",
        description="Therapists and admins set up an authenticator app before they see any "
        "patient data. Patients are never asked.",
    )
    questionnaires_off = SelectMultipleField(
        "Questionnaires this clinic does not offer",
        description="Switched off, a questionnaire is no longer asked of your patients; the "
        "answers already given stay in their records.",
        choices=[],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=False,  # the service names a bad value
    )


@bp.route("/settings", methods=["GET", "POST"])
@admin_required
def settings():
    """The numbers patients are given after a red-flag answer (DESIGN §4 clinic settings)."""
    clinic = current_user.clinic
    form = SettingsForm()
    form.questionnaires_off.choices = list(switchable_questionnaires().items())
    if request.method == "GET":
        form.phone.data = clinic.phone
        form.emergency_number.data = clinic.emergency_number
        form.require_2fa.data = clinic_requires_2fa(clinic)
        form.questionnaires_off.data = list(clinic.questionnaires_off or ())
    if form.validate_on_submit() and save(
        form,
        lambda: update_clinic_settings(
            clinic,
            {
                "phone": form.phone.data,
                "emergency_number": form.emergency_number.data,
                "require_2fa": bool(form.require_2fa.data),
                "questionnaires_off": list(form.questionnaires_off.data or ()),
            },
            by=current_user,
            now=utcnow(),
        ),
    ):
        flash("Settings saved.", "success")
        return redirect(url_for("admin.settings"))
    page = render_template("admin/settings.html", form=form)
    return page, 422 if form.errors else 200


@bp.route("/audit")
@admin_required
def audit_log():
    """The clinic's audit log with filters (patient, user, action, dates) and paging."""
    filters = parse_filters(request.args)
    page_number = request.args.get("page", "1")
    page = audit_page(
        current_user.clinic_id,
        filters,
        int(page_number) if page_number.isdigit() and len(page_number) < 7 else 1,
    )
    audit.record(
        "audit.read",
        actor=current_user,
        details={**filters.described(), "page": page.page},
    )
    clinicians = db.session.execute(
        sa.select(User.id, User.name)
        .where(User.clinic_id == current_user.clinic_id, User.role != Role.PATIENT)
        .order_by(User.name)
    ).all()
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template(
        "admin/audit.html", page=page, filters=filters, clinicians=clinicians, args=args
    )


@bp.route("/audit.csv")
@admin_required
def audit_csv_export():
    """The filtered audit log as CSV (formula-safe)."""
    filters = parse_filters(request.args)
    body = audit_csv(current_user.clinic_id, filters)
    audit.record("audit.export", actor=current_user, details=filters.described())
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'},
    )


@bp.route("/users/<int:user_id>/2fa/reset", methods=["POST"])
@admin_required
def reset_two_factor(user_id: int):
    """Turn another clinician's second factor off (they set up a new one); audited."""
    user = _clinician_or_404(user_id)
    if not InvitationForm().validate_on_submit():
        abort(400)
    if save(None, lambda: admin_reset_second_factor(user, by=current_user, now=utcnow())):
        flash(f"{user.name}'s second factor is reset; they set up a new one.", "success")
    return redirect(url_for("admin.index"))

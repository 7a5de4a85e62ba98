"""The therapist's side: the caseload, inviting patients, one patient's record."""

from __future__ import annotations

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from app import audit
from app.access import clinician_required, get_patient_or_404
from app.auth.models import Invitation
from app.auth.services import issue_invitation, revoke_invitations
from app.auth.sessions import token_digest
from app.caseload.forms import InvitationForm, InvitePatientForm, timezone_choices
from app.caseload.queries import CaseloadFilter, caseload
from app.caseload.queries import patient_detail as load_patient_detail
from app.db import utcnow
from app.errors import ValidationFailed
from app.extensions import db
from app.forms import show_errors
from app.links import invitation_url
from app.mail import mail_configured, send_mail
from app.patient.services import NewPatient, create_patient
from app.qr import qr_svg

bp = Blueprint("caseload", __name__)


@bp.route("/")
@clinician_required
def index():
    """The caseload: patients who need attention first, with filters and search."""
    stage = request.args.get("stage", type=int)
    filters = CaseloadFilter(
        search=request.args.get("q", "").strip()[:80],
        stage=stage if stage in (1, 2, 3, 4) else None,
        attention=request.args.get("show") == "attention",
        inactive=request.args.get("show") == "inactive",
    )
    rows = caseload(current_user, utcnow(), filters)
    return render_template(
        "caseload/index.html", rows=rows, filters=filters, show=request.args.get("show", "")
    )


@bp.route("/patients/new", methods=["GET", "POST"])
@clinician_required
def invite():
    """Create a patient and a single-use invitation shown as a link and a QR code."""
    form = InvitePatientForm()
    form.timezone.choices = timezone_choices()
    if request.method == "GET":
        form.timezone.data = current_app.config["DEFAULT_TIMEZONE"]
    if form.validate_on_submit():
        now = utcnow()
        try:
            patient, token = create_patient(
                current_user.clinic,
                current_user,
                NewPatient(
                    name=form.name.data,
                    timezone=form.timezone.data,
                    email=form.email.data or None,
                    intake_pain=form.intake_pain.data,
                    goals=form.goals.data or "",
                    intake_red_flags=form.intake_red_flags(),
                ),
                by=current_user,
                now=now,
            )
        except ValidationFailed as exc:
            db.session.rollback()
            show_errors(form, exc, fallback="name")
        else:
            db.session.commit()
            _remember_token(patient.id, token)
            if patient.user.email and mail_configured():
                _mail_invitation(patient.user.email, token)
            flash(f"{patient.name} is invited.", "success")
            return redirect(url_for("caseload.invitation", patient_id=patient.id))
    return render_template("caseload/invite.html", form=form), 200 if not form.errors else 422


def _remember_token(patient_id: int, token: str) -> None:
    # The token is shown once to the inviting clinician; only its hash is stored.
    session[f"invite-{patient_id}"] = token


def _mail_invitation(email: str, token: str) -> None:
    send_mail(
        email,
        "Your exercise program is ready",
        "Your therapist has set up your exercises in Homestretch.\n\n"
        f"Open this link on your phone to start: {invitation_url(token)}\n\n"
        f"The link works once and expires in {current_app.config['INVITATION_HOURS']} hours.",
    )


@bp.route("/patients/<int:patient_id>/invitation")
@clinician_required
def invitation(patient_id: int):
    """Show the patient's invitation link and QR code, with reissue and revoke."""
    patient = get_patient_or_404(current_user, patient_id)
    token = session.get(f"invite-{patient.id}")
    pending = db.session.scalar(
        sa.select(Invitation)
        .where(
            Invitation.user_id == patient.user_id,
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .order_by(Invitation.created_at.desc())
    )
    now = utcnow()
    if (
        pending is None
        or not pending.is_usable(now)
        or (token is not None and pending.token_hash != token_digest(token))
    ):
        token = None  # expired, or a colleague has issued a newer link since
    url = invitation_url(token) if token else None
    return render_template(
        "caseload/invitation.html",
        patient=patient,
        invitation=pending,
        accepted=patient.user.password_hash is not None,
        url=url,
        qr=qr_svg(url, f"QR code of the invitation link for {patient.name}") if url else None,
        form=InvitationForm(),
        now=now,
    )


@bp.route("/patients/<int:patient_id>/invitation/reissue", methods=["POST"])
@clinician_required
def reissue_invitation(patient_id: int):
    patient = get_patient_or_404(current_user, patient_id)
    if not InvitationForm().validate_on_submit():
        abort(400)
    if patient.user.password_hash is not None:
        flash(f"{patient.name} has already set a password.", "info")
    else:
        token = issue_invitation(patient.user, created_by=current_user, now=utcnow())
        audit.record(
            "invitation.issue",
            actor=current_user,
            patient=patient,
            object_type="user",
            object_id=patient.user_id,
        )
        db.session.commit()
        _remember_token(patient.id, token)
        flash("A new link is ready; the old one no longer works.", "success")
    return redirect(url_for("caseload.invitation", patient_id=patient.id))


@bp.route("/patients/<int:patient_id>/invitation/revoke", methods=["POST"])
@clinician_required
def revoke_invitation(patient_id: int):
    patient = get_patient_or_404(current_user, patient_id)
    if not InvitationForm().validate_on_submit():
        abort(400)
    revoke_invitations(patient.user, utcnow())
    audit.record(
        "invitation.revoke",
        actor=current_user,
        patient=patient,
        object_type="user",
        object_id=patient.user_id,
    )
    db.session.commit()
    session.pop(f"invite-{patient.id}", None)
    flash("The invitation link no longer works.", "info")
    return redirect(url_for("caseload.invitation", patient_id=patient.id))


@bp.route("/patients/<int:patient_id>")
@clinician_required
def patient_detail(patient_id: int):
    """One patient's record: pain chart, adherence, sessions, check-ins, stages, alerts."""
    patient = get_patient_or_404(current_user, patient_id)
    detail = load_patient_detail(patient, utcnow())
    audit.record(
        "patient.read",
        actor=current_user,
        patient=patient,
        object_type="patient",
        object_id=patient.id,
    )
    db.session.commit()
    return render_template("caseload/patient_detail.html", d=detail)

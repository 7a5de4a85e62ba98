"""The therapist's side: the caseload, inviting patients, one patient's record."""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy.orm import joinedload

from app import audit
from app.access import clinician_required, get_patient_or_404
from app.auth import services as accounts
from app.caseload.forms import (
    ASSIGN_LATER,
    InvitationForm,
    InvitePatientForm,
    timezone_choices,
)
from app.caseload.queries import CaseloadFilter, caseload
from app.caseload.record import patient_record
from app.db import utcnow
from app.forms import save
from app.inputs import query_int, search_text
from app.links import invitation_url
from app.measures.views import measures_panel
from app.messages.views import record_panel
from app.patient.enrolment import Invited, NewPatient, invite_patient
from app.patient.models import Patient
from app.programs.content import BUILTIN_TEMPLATE
from app.programs.queries import current_program
from app.programs.services import Assignment
from app.qr import qr_svg

bp = Blueprint("caseload", __name__)


@bp.route("/")
@clinician_required
def index():
    """The caseload: patients who need attention first, with filters and search."""
    stage = query_int("stage")
    search = search_text(request.args.get("q"))
    filters = CaseloadFilter(
        search=search or "",
        matches_nothing=search is None,
        stage=stage if stage in (1, 2, 3, 4) else None,
        attention=request.args.get("show") == "attention",
        inactive=request.args.get("show") == "inactive",
        messages=request.args.get("show") == "messages",
    )
    rows = caseload(current_user, utcnow(), filters)
    audit.record_list_read("caseload.read", current_user, (row.id for row in rows))
    return render_template(
        "caseload/index.html", rows=rows, filters=filters, show=request.args.get("show", "")
    )


@bp.route("/patients/new", methods=["GET", "POST"])
@clinician_required
def invite():
    """Create a patient and a single-use invitation shown as a link and a QR code."""
    form = InvitePatientForm()
    if request.method == "GET":
        form.timezone.data = current_app.config["DEFAULT_TIMEZONE"]
    invited: list[Invited] = []
    if form.validate_on_submit() and save(
        form,
        lambda: invited.append(
            invite_patient(
                current_user.clinic,
                NewPatient(
                    name=form.name.data,
                    timezone=(form.timezone.data or "").strip().replace(" ", "_"),
                    email=form.email.data or None,
                    phone=form.phone.data or None,
                    date_of_birth=form.date_of_birth.data,
                    intake_pain=form.intake_pain.data,
                    goals=form.goals.data or "",
                    intake_red_flags=form.intake_red_flags(),
                    language=form.language.data or None,
                ),
                by=current_user,
                now=utcnow(),
                program=Assignment(
                    template=BUILTIN_TEMPLATE,
                    stage=form.stage.data,
                    sessions_per_week=form.sessions_per_week.data,
                )
                if form.stage.data != ASSIGN_LATER
                else None,
            )
        ),
        fallback="name",
    ):
        patient = invited[0].patient
        flash(f"{patient.name} is invited.", "success")
        return redirect(url_for("caseload.invitation", patient_id=patient.id))
    page = render_template("caseload/invite.html", form=form, timezones=timezone_choices())
    return page, 200 if not form.errors else 422


def _patient(patient_id: int) -> Patient:
    return get_patient_or_404(current_user, patient_id, joinedload(Patient.user))


@bp.route("/patients/<int:patient_id>/invitation")
@clinician_required
def invitation(patient_id: int):
    """Show the patient's invitation: its link and QR code once, then reissue or revoke."""
    patient = _patient(patient_id)
    now = utcnow()
    pending = accounts.open_invitation(patient.user)
    token = accounts.reveal_invitation(pending, current_user, now) if pending is not None else None
    url = invitation_url(token) if token else None
    return render_template(
        "caseload/invitation.html",
        patient=patient,
        invitation=pending if pending is not None and pending.is_usable(now) else None,
        accepted=patient.user.password_hash is not None,
        url=url,
        qr=qr_svg(url, f"QR code of the invitation link for {patient.name}") if url else None,
        form=InvitationForm(),
        program=current_program(patient),
        now=now,
    )


@bp.route("/patients/<int:patient_id>/invitation/reissue", methods=["POST"])
@clinician_required
def reissue_invitation(patient_id: int):
    patient = _patient(patient_id)
    if not InvitationForm().validate_on_submit():
        abort(400)
    if save(None, lambda: accounts.reissue_invitation(patient.user, by=current_user, now=utcnow())):
        flash("A new link is ready; the old one no longer works.", "success")
    return redirect(url_for("caseload.invitation", patient_id=patient.id))


@bp.route("/patients/<int:patient_id>/invitation/revoke", methods=["POST"])
@clinician_required
def revoke_invitation(patient_id: int):
    patient = _patient(patient_id)
    if not InvitationForm().validate_on_submit():
        abort(400)
    accounts.withdraw_invitation(patient.user, by=current_user, now=utcnow())
    flash("The invitation link no longer works.", "info")
    return redirect(url_for("caseload.invitation", patient_id=patient.id))


@bp.route("/patients/<int:patient_id>")
@clinician_required
def patient_detail(patient_id: int):
    """One patient's record: pain chart, adherence, sessions, check-ins, stages, alerts."""
    patient = get_patient_or_404(
        current_user, patient_id, joinedload(Patient.user), joinedload(Patient.therapist)
    )
    until = _date_arg("until")
    record = patient_record(patient, utcnow(), until)
    audit.record(
        "patient.read",
        actor=current_user,
        patient=patient,
        object_type="patient",
        object_id=patient.id,
    )
    return render_template(
        "caseload/patient_detail.html",
        d=record,
        messages_panel=record_panel(patient),
        measures_panel=measures_panel(patient),
    )


def _date_arg(name: str) -> date | None:
    """Read an ISO date from the query string; anything else is ignored."""
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None

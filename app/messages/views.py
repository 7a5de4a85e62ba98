"""Message pages: the patient's thread with their therapist, and the therapist's side of it
(a page of its own and a panel on the patient's record)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from app import audit
from app.access import clinician_required, get_patient_or_404, patient_required
from app.db import utcnow
from app.extensions import db
from app.forms import save
from app.inputs import query_int
from app.messages.forms import MessageForm
from app.messages.services import (
    MessageReport,
    Thread,
    marks_read,
    read_thread,
    send_message,
    unread_for_clinician,
)
from app.patient.models import Patient
from app.programs.models import Exercise, Program, ProgramItem
from app.reminders.services import ReminderStatus, reminder_status

bp = Blueprint("messages", __name__)


@bp.app_context_processor
def _navigation_unread() -> dict[str, Any]:
    """Give the clinician's navigation its unread count, queried only when a page shows it."""
    return {"nav_unread_messages": lambda: unread_for_clinician(current_user)}


PANEL_MESSAGES = 10  # the latest messages on the patient's record; the thread page has all


def _send(form: MessageForm, patient: Patient) -> bool:
    report = MessageReport(id=form.client_id.data, body=form.text)
    sent = save(
        form,
        lambda: send_message(patient, current_user, report, now=utcnow()),
        fallback="body",
    )
    if not sent:
        form.fresh()  # nothing was stored under that id; a corrected message gets a new one
    return sent


# ---------------------------------------------------------------------------- patient


def _about(patient: Patient, slug: str | None) -> str | None:
    """Return the name of an exercise of the patient's program ("ask about this exercise")."""
    if not slug or len(slug) > 80:
        return None
    return db.session.scalar(
        sa.select(Exercise.name)
        .join(ProgramItem, ProgramItem.exercise_id == Exercise.id)
        .join(Program, Program.id == ProgramItem.program_id)
        .where(
            Program.patient_id == patient.id,
            Program.status != "ended",
            ProgramItem.removed_at.is_(None),
            Exercise.slug == slug,
        )
        .limit(1)
    )


@bp.route("/messages", methods=["GET", "POST"])
@patient_required
def thread():
    """The patient's messages with their therapist, and a form to write one."""
    patient = current_user.patient
    if patient is None:
        abort(404)
    form = MessageForm()
    if form.validate_on_submit():
        if _send(form, patient):
            flash(_("Sent. Your therapist will read it in Homestretch."), "success")
            return redirect(url_for("messages.thread") + "#latest")
    elif request.method == "GET":
        form.fresh()
        about = _about(patient, request.args.get("about"))
        if about:
            form.body.data = _("About %(exercise)s: ", exercise=about)
    elif form.client_id.errors:
        form.fresh()
    view = read_thread(patient, current_user, now=utcnow(), before=query_int("before"))
    page = render_template(
        "patient/messages.html",
        thread=view,
        form=form,
        clinic=patient.clinic,
        therapist=patient.therapist.name if patient.therapist else None,
    )
    return page, 422 if form.errors else 200


# ---------------------------------------------------------------------------- therapist


@bp.route("/caseload/patients/<int:patient_id>/messages", methods=["GET", "POST"])
@clinician_required
def patient_thread(patient_id: int):
    """The whole conversation with one patient (paging back), and the reply form."""
    patient = get_patient_or_404(
        current_user, patient_id, joinedload(Patient.user), joinedload(Patient.therapist)
    )
    form = MessageForm()
    if request.method == "POST":
        back_to_record = form.return_to.data == "record"
        if form.validate_on_submit() and _send(form, patient):
            flash("Sent. The patient is told a message is waiting (never its text).", "success")
            endpoint = "caseload.patient_detail" if back_to_record else "messages.patient_thread"
            return redirect(url_for(endpoint, patient_id=patient.id) + "#messages")
        if back_to_record:
            # The record is another view's page: say there what went wrong.
            for message in form.body.errors or ["The message could not be sent; try again."]:
                flash(message, "error")
            target = url_for("caseload.patient_detail", patient_id=patient.id)
            return redirect(target + "#messages")
        if form.client_id.errors:
            form.fresh()
    else:
        form.fresh()
    view = read_thread(patient, current_user, now=utcnow(), before=query_int("before"))
    audit.record(
        "messages.read",
        actor=current_user,
        patient=patient,
        object_type="patient",
        object_id=patient.id,
    )
    page = render_template(
        "caseload/messages.html",
        patient=patient,
        thread=view,
        form=form,
        reminders=reminder_status(patient),
        marks_read=marks_read(patient, current_user),
    )
    return page, 422 if form.errors else 200


@dataclass(frozen=True)
class MessagesPanel:
    """What the patient's record shows of the conversation and of the reminders."""

    patient: Patient
    thread: Thread
    form: MessageForm
    reminders: ReminderStatus
    marks_read: bool


def record_panel(patient: Patient) -> MessagesPanel:
    """What the patient's record (caseload.patient_detail) shows of the conversation.

    Two queries, whatever the length of the thread (DESIGN §5); the template
    (templates/caseload/_messages.html) only formats it.
    """
    form = MessageForm(formdata=None).fresh()
    form.return_to.data = "record"
    return MessagesPanel(
        patient=patient,
        thread=read_thread(patient, current_user, now=utcnow(), limit=PANEL_MESSAGES),
        form=form,
        reminders=reminder_status(patient),
        marks_read=marks_read(patient, current_user),
    )

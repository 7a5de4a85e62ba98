"""The patient's side: today's session."""

from flask import Blueprint, abort, render_template
from flask_login import current_user

from app.access import patient_required
from app.db import utcnow
from app.patient.queries import today_view

bp = Blueprint("patient", __name__)


@bp.route("/today")
@patient_required
def today():
    patient = current_user.patient
    if patient is None:
        abort(404)
    return render_template("patient/today.html", view=today_view(patient, utcnow()))

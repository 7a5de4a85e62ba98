"""The therapist's side: the caseload and one patient's record."""

from flask import Blueprint, render_template
from flask_login import current_user

from app.access import clinician_required
from app.caseload.queries import patient_rows

bp = Blueprint("caseload", __name__)


@bp.route("/")
@clinician_required
def index():
    """Show the therapist's patients (an admin sees the whole clinic)."""
    return render_template("caseload/index.html", rows=patient_rows(current_user))

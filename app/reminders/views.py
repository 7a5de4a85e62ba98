"""The patient's reminder settings page and the one-click unsubscribe link of every email.

``register_blueprints`` also registers the messages blueprint and settles the VAPID keys, so
``create_app`` needs two lines for reminders and messages together.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from app.access import patient_required
from app.db import utcnow
from app.extensions import csrf
from app.forms import save
from app.i18n import browser_language, force_locale, language_of
from app.patient.models import Patient
from app.reminders.forms import FOLLOW_PROGRAM, OWN_DAYS, WEEKDAYS, ReminderForm, time_choices
from app.reminders.notifiers import EMAIL, PUSH
from app.reminders.services import (
    UNSET,
    ReminderChange,
    patient_for_token,
    reminder_view,
    unsubscribe_email,
    update_reminders,
)
from app.reminders.vapid import configure_vapid, vapid_settings

bp = Blueprint("reminders", __name__)


def _patient() -> Patient:
    patient = current_user.patient
    if patient is None:
        abort(404)
    return patient


@bp.route("/reminders", methods=["GET", "POST"])
@patient_required
def settings():
    """Reminder days, time and channels; without JavaScript a plain form."""
    patient = _patient()
    view = reminder_view(patient)
    form = ReminderForm()
    form.time.choices = time_choices(view.time)
    if request.method == "GET":
        form.enabled.data = view.enabled
        form.which_days.data = FOLLOW_PROGRAM if view.follows_program else OWN_DAYS
        form.days.data = list(view.days)
        form.time.data = f"{view.time:%H:%M}"
        form.email.data = EMAIL in view.channels
        form.push.data = PUSH in view.channels
    # Offer only the channels that can reach the patient (an address, a subscribed phone).
    offered = [c for c, ok in ((EMAIL, view.has_email), (PUSH, view.push_devices)) if ok]
    if form.validate_on_submit():
        chosen = [c for c in offered if getattr(form, c).data]
        change = ReminderChange(
            enabled=form.enabled.data,
            days=None if form.which_days.data == FOLLOW_PROGRAM else tuple(form.days.data),
            time=form.chosen_time(),
            channels=chosen if offered else UNSET,
        )
        if save(form, lambda: update_reminders(patient, change, now=utcnow()), fallback="email"):
            saved = _("Reminders saved.") if form.enabled.data else _("Reminders are off.")
            flash(saved, "success")
            return redirect(url_for("reminders.settings"))
    page = render_template(
        "patient/reminders.html",
        form=form,
        view=view,
        weekdays=WEEKDAYS,
        offered=offered,
        push_ready=vapid_settings() is not None,
    )
    return page, 422 if form.errors else 200


@bp.route("/reminders/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: the mail provider's one-click POST carries no CSRF token
def unsubscribe(token: str):
    """Stop reminder emails from a signed link: GET asks, POST (one click) unsubscribes."""
    patient = patient_for_token(token)
    if patient is None:
        page = render_template(
            "errors/error.html",
            status=404,
            title=_("This link does not work"),
            text=_(
                "The unsubscribe link is not complete or not valid. Copy the whole link from "
                "the email, or change your reminders after logging in."
            ),
        )
        return page, 404
    done = False
    if request.method == "POST":
        unsubscribe_email(patient, now=utcnow())
        done = True
    unsubscribed = done or reminder_view(patient).email_unsubscribed
    # The page a reminder email links to speaks that email's language (no login here).
    language = language_of(patient, fallback=browser_language())
    with force_locale(language):
        response = make_response(
            render_template(
                "reminders/unsubscribe.html",
                clinic=patient.clinic.name,
                done=done,
                unsubscribed=unsubscribed,
            )
        )
    response.headers["Content-Language"] = language
    return response


def register_blueprints(app: Flask) -> None:
    """Register the reminders and messages blueprints and settle the VAPID keys."""
    from app.messages.views import bp as messages_bp

    configure_vapid(app)
    app.register_blueprint(bp)
    app.register_blueprint(messages_bp)

"""The patient's side: today, the guided player, check-in, red-flag screen, progress, and the
pieces that make it an installable offline app (manifest, service worker, offline page)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from functools import cache
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user

from app.access import patient_required
from app.clinical import red_flags
from app.clinical.traffic_light import MESSAGES
from app.db import utcnow
from app.enums import CheckInKind, ProgramStatus
from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.forms import save, show_errors
from app.i18n import DEFAULT, LANGUAGES, current_language
from app.inputs import parse_instant
from app.measures.views import due_links, psfs_trend
from app.messages.forms import MessageForm
from app.messages.models import Side
from app.messages.services import unread_count
from app.patient.check_ins import CheckInReport, instruction_for, record_check_in, red_flags_due
from app.patient.forms import CheckInForm, LanguageForm, PlayerForm, SymptomForm
from app.patient.models import CheckIn, Patient
from app.patient.profile import set_language
from app.patient.queries import (
    dose_of,
    find_check_in,
    find_session,
    own_program,
    per_side,
    player_view,
    progress_view,
    sided_slugs,
    today_view,
)
from app.patient.sessions import ExerciseResult, SessionReport, log_session
from app.programs.queries import current_program
from app.programs.services import recently_discharged
from app.timeutil import local_date

bp = Blueprint("patient", __name__)

# Static files the service worker keeps for offline use (STACK "Offline").
SHELL_ASSETS = (
    "css/app.css",
    "css/patient.css",
    "css/checkin.css",
    "js/outbox.js",
    "js/player.js",
    "js/voice.js",
    "js/checkin.js",
    "js/attention.js",
    "js/offline-session.js",
    "js/results.js",
    "js/keep.js",
    "js/i18n.js",
    # The scripts' words in every language (a few KB), so a change of language works offline.
    *(f"js/words/{language}.js" for language in LANGUAGES if language != DEFAULT),
    "img/icon.svg",
    "img/icon-192.png",
)


def _patient() -> Patient:
    patient = current_user.patient
    if patient is None:
        abort(404)
    return patient


LEVELS = {question.id: question.level for question in red_flags.QUESTIONS}


def _instructions(patient: Patient | None = None) -> dict[str, red_flags.Instruction]:
    """The red-flag instructions JavaScript shows before (or without) the server's answer.

    For a patient, with their clinic's numbers and their therapist's name; the offline pages
    (no personal data) carry the plain texts and take the numbers from the kept program.
    """
    return {
        level.value: instruction_for(patient, level) if patient else red_flags.instruction(level)
        for level in red_flags.INSTRUCTIONS
    }


# ---------------------------------------------------------------------------- today


@bp.route("/today")
@patient_required
def today():
    patient = _patient()
    now = utcnow()
    view = today_view(patient, now)
    discharged = view.status == "none" and (
        recently_discharged(patient, local_date(now, patient.timezone)) is not None
    )
    return render_template(
        "patient/today.html",
        view=view,
        discharged=discharged,
        dose_of=dose_of,
        contact=instruction_for(patient, red_flags.RedFlagLevel.URGENT).call,
        emergency=instruction_for(patient, red_flags.RedFlagLevel.EMERGENCY).call,
        therapist=patient.therapist.name if patient.therapist else None,
        unread=unread_count(patient.id, Side.THERAPIST),
        measures_due=due_links(patient),
    )


# ---------------------------------------------------------------------------- player


@bp.route("/session/<int:program_id>", methods=["GET", "POST"])
@patient_required
def player(program_id: int):
    """Guide one session; without JavaScript it is one plain form that logs the session."""
    patient = _patient()
    now = utcnow()
    program = own_program(patient, program_id)
    if program is None:
        abort(404)
    view = player_view(patient, program, now)
    item_ids = [step.item.id for step in view.steps]
    form = PlayerForm.for_items(
        item_ids, client_id=str(uuid.uuid4()), started_at=now.isoformat(timespec="seconds")
    )
    active = program.status is ProgramStatus.ACTIVE
    if active and item_ids and form.validate_on_submit():
        stored = find_session(patient, form.client_id.data)
        if stored is not None:  # the same form sent twice: one session
            return redirect(url_for(".summary", program_id=program.id, client_id=stored.client_id))
        try:
            logged = log_session(patient, _session_report(form, program.id, item_ids, now), now=now)
        except ValidationFailed as error:
            db.session.rollback()
            show_errors(form, error)
        except Conflict:
            # The same form sent twice, racing itself: show the one session that was stored.
            db.session.rollback()
            stored = find_session(patient, form.client_id.data)
            if stored is None:
                raise
            return redirect(url_for(".summary", program_id=program.id, client_id=stored.client_id))
        else:
            return redirect(
                url_for(".summary", program_id=program.id, client_id=logged.obj.client_id)
            )
    page = render_template(
        "patient/player.html",
        view=view,
        form=form,
        active=active,
        dose_of=dose_of,
        per_side=per_side,
        ask=url_for("messages.thread"),  # "ask about this exercise" quotes it in a message
    )
    return page, 422 if form.errors else 200


def _session_report(
    form: PlayerForm, program_id: int, item_ids: list[int], now: datetime
) -> SessionReport:
    exercises = []
    for item_id in item_ids:
        sub = form[f"ex{item_id}"].form
        exercises.append(
            ExerciseResult(
                program_item_id=item_id,
                status=sub.status.data,
                sets_done=sub.sets_done.data,
                reps_done=sub.reps_done.data,
                hold_seconds=sub.hold_seconds.data,
                pain_during=sub.pain_during.data,
                skip_reason=(sub.skip_reason.data or "").strip() or None,
            )
        )
    started = parse_instant(form.started_at.data)
    return SessionReport(
        id=form.client_id.data,
        program_id=program_id,
        completed_at=now,
        started_at=started if started and started <= now else None,
        pain_before=form.pain_before.data,
        pain_after=form.pain_after.data,
        effort=form.effort.data,
        notes=form.notes.data or "",
        exercises=tuple(exercises),
    )


@bp.route("/session/<int:program_id>/done/<client_id>")
@patient_required
def summary(program_id: int, client_id: str):
    """Show a logged session with its traffic light and its message (CLINICAL §4)."""
    patient = _patient()
    session = find_session(patient, client_id)
    if session is None or session.program_id != program_id:
        abort(404)
    return render_template(
        "patient/summary.html",
        session=session,
        message=_(MESSAGES[session.light]),
        red_flags_due=red_flags_due(patient, utcnow()),
    )


# ---------------------------------------------------------------------------- check-in


@bp.route("/checkin", methods=["GET", "POST"])
@patient_required
def checkin():
    """Next-morning check-in, with the red-flag screen when it is due (CLINICAL §1, §6)."""
    patient = _patient()
    now = utcnow()
    due = red_flags_due(patient, now)
    form = CheckInForm(client_id=str(uuid.uuid4()), asked=" ".join(due))
    if form.validate_on_submit():
        report = CheckInReport(
            id=form.client_id.data,
            recorded_at=now,
            morning_pain=form.morning_pain.data,
            red_flags=form.answered(),
            self_care=tuple(form.self_care.data or ()),
        )
        return _record(patient, form, report, now, "patient/checkin.html")
    return render_template("patient/checkin.html", **_screen(patient, form))


@bp.route("/checkin/symptom", methods=["GET", "POST"])
@patient_required
def symptom():
    """ "I have a new symptom": the red-flag screen at any time (CLINICAL §6)."""
    patient = _patient()
    now = utcnow()
    form = SymptomForm(client_id=str(uuid.uuid4()), asked=" ".join(red_flags.WEEKLY_IDS))
    if form.validate_on_submit():
        report = CheckInReport(
            id=form.client_id.data,
            recorded_at=now,
            red_flags=form.answered(),
            kind=CheckInKind.SYMPTOM,
        )
        return _record(patient, form, report, now, "patient/symptom.html")
    return render_template("patient/symptom.html", **_screen(patient, form))


def _screen(patient: Patient, form) -> dict:  # type: ignore[no-untyped-def]
    # "Something else": a symptom the questions do not name goes to the therapist as a message.
    something_else = MessageForm(formdata=None, subject="symptom").fresh()
    return {
        "form": form,
        "instructions": _instructions(patient),
        "levels": LEVELS,
        "risk": patient.risk_modifier,
        "something_else": something_else,
        "therapist": patient.therapist.name if patient.therapist else None,
    }


def _record(patient: Patient, form, report: CheckInReport, now: datetime, template: str):  # type: ignore[no-untyped-def]
    """Record the check-in (a form sent twice is one check-in) and show what to do next."""
    stored = find_check_in(patient, report.id)
    if stored is None:
        recorded: list[CheckIn] = []
        if not save(
            form, lambda: recorded.append(record_check_in(patient, report, now=now).check_in)
        ):
            return render_template(template, **_screen(patient, form)), 422
        stored = recorded[0]
    return redirect(url_for(".checkin_result", client_id=stored.client_id))


@bp.route("/checkin/done/<client_id>")
@patient_required
def checkin_result(client_id: str):
    """Show what to do after a check-in: the red-flag instruction at its level (CLINICAL §6)."""
    patient = _patient()
    check_in = find_check_in(patient, client_id)
    if check_in is None:
        abort(404)
    instruction = instruction_for(patient, check_in.red_flag_level)
    return render_template(
        "patient/checkin_result.html",
        check_in=check_in,
        instruction=instruction,
        program=current_program(patient),
    )


# ---------------------------------------------------------------------------- progress


@bp.route("/progress")
@patient_required
def progress():
    patient = _patient()
    return render_template(
        "patient/progress.html",
        view=progress_view(patient, utcnow()),
        psfs_trend=psfs_trend(patient),
    )


@bp.route("/account", methods=["GET", "POST"])
@patient_required
def account():
    """The patient's own details and language, their reminders and messages, and their data to
    take away."""
    from app.reminders.services import reminder_status

    patient = _patient()
    form = LanguageForm(language=patient.language or "")
    if form.validate_on_submit() and save(
        form, lambda: set_language(patient, form.language.data or None, now=utcnow())
    ):
        refresh()  # said in the language just chosen
        flash(_("Language saved."), "success")
        return redirect(url_for(".account"))
    return render_template(
        "patient/account.html", patient=patient, reminders=reminder_status(patient), form=form
    )


# ---------------------------------------------------------------------------- offline app


@cache
def _asset_version(static_folder: str, debug: bool) -> str:
    digest = hashlib.sha256()
    for name in SHELL_ASSETS:
        path = Path(static_folder) / name
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def asset_version() -> str:
    version = _asset_version(current_app.static_folder or "", current_app.debug)
    if current_app.debug or current_app.testing:
        _asset_version.cache_clear()  # files change while developing
    return version


@bp.route("/offline")
def offline():
    """The app shell the service worker shows when the network is gone: no personal data."""
    return render_template(
        "patient/offline.html",
        instructions=_instructions(),
        questions=[red_flags.BY_ID[q] for q in red_flags.WEEKLY_IDS],
    )


@bp.route("/offline/session")
def offline_session():
    """The player shell the service worker keeps: it starts a session with no signal from the
    program kept on the phone (STACK "Offline"). No personal data: the page is the same for all."""
    form = PlayerForm.for_items([0], client_id="", started_at="")
    return render_template("patient/offline_session.html", form=form, sided=sided_slugs())


@bp.route("/sw.js")
def service_worker() -> Response:
    """Serve the service worker from the site root so its scope covers every patient page."""
    body = render_template(
        "patient/sw.js",
        version=asset_version(),
        lang=current_language(),  # the page registers the worker with its language (?lang=)
        assets=[url_for("static", filename=name) for name in SHELL_ASSETS],
        offline_url=url_for(".offline"),
        session_url=url_for(".offline_session"),
        manifest_url=url_for(".manifest"),
    )
    response = Response(body, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/manifest.webmanifest")
def manifest() -> Response:
    """The web app manifest (STACK "Offline"): installable, opens on /today."""
    icon = url_for("static", filename="img/icon.svg")
    body = {
        "name": "Homestretch",
        "short_name": "Homestretch",
        "description": _("Your home exercises for low back pain, one guided session at a time."),
        "start_url": url_for(".today"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#f7f7f5",
        "theme_color": "#0b5cad",
        "icons": [
            {
                "src": url_for("static", filename="img/icon-192.png"),
                "sizes": "192x192",
                "type": "image/png",
            },
            {
                "src": url_for("static", filename="img/icon-512.png"),
                "sizes": "512x512",
                "type": "image/png",
            },
            {
                "src": url_for("static", filename="img/icon-maskable.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
            {"src": icon, "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    response = current_app.json.response(body)
    response.mimetype = "application/manifest+json"
    response.headers["Cache-Control"] = "no-cache"
    return response

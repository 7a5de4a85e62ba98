"""Outcome-measure pages: the patient's questionnaires and the clinic outcomes report.

``/measures`` lists what is due and, with ``?instrument=``, shows one questionnaire (one question
per screen with JavaScript, resumable and sent through the offline outbox; one plain form
without it). ``/admin/outcomes`` is the monthly report for the clinic manager (CLINICAL §8).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField

from app import audit
from app.access import (
    admin_required,
    clinician_required,
    get_patient_or_404,
    patient_required,
)
from app.db import utcnow
from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.forms import save
from app.measures.catalog import available_instruments
from app.measures.instruments import Instrument, ItemKind
from app.measures.report_data import clinic_outcomes, outcomes_csv
from app.measures.services import (
    MeasureReport,
    MeasureView,
    carried_for,
    due_for,
    patient_measures,
    request_measure,
    submit_measure,
)
from app.patient.idempotency import client_id, find_reported
from app.patient.models import OutcomeResponse, Patient
from app.programs.services import current_episode
from app.timeutil import local_date

bp = Blueprint("measures", __name__)


@dataclass(frozen=True)
class DueLink:
    instrument: str
    name: str
    reason: str


@dataclass(frozen=True)
class TrendPoint:
    day: date
    score: Fraction
    x: float
    y: float


@dataclass(frozen=True)
class PsfsTrend:
    """The patient's own PSFS means this episode, placed on a 320 × 160 chart (0–10)."""

    points: tuple[TrendPoint, ...]
    change: Fraction | None
    mic_met: bool | None

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x},{p.y}" for p in self.points)


def psfs_trend(patient: Patient, views: list[MeasureView] | None = None) -> PsfsTrend | None:
    """Return the PSFS trend of the current episode, or None before the first PSFS.

    ``views`` are the current episode's measures when the caller loaded them already.
    """
    if views is None:
        episode = current_episode(patient)
        if episode is None:
            return None
        views = [v for v in patient_measures(patient) if v.response.episode_id == episode.id]
    views = [v for v in views if v.response.instrument == "psfs"]
    if not views:
        return None
    count = len(views)
    points = tuple(
        TrendPoint(
            v.response.local_date,
            v.score.score,
            round(24 + (272 * i / (count - 1) if count > 1 else 136), 1),
            round(12 + float(10 - v.score.score) / 10 * 136, 1),
        )
        for i, v in enumerate(views)
    )
    last = views[-1]
    return PsfsTrend(points, None if last.change is None else last.change.points, last.mic_met)


@dataclass(frozen=True)
class InstrumentSummary:
    """One instrument on the therapist's panel: its latest score and change against the first."""

    instrument: Instrument
    latest: MeasureView
    count: int


@dataclass(frozen=True)
class MeasuresPanel:
    patient: Patient
    summaries: tuple[InstrumentSummary, ...]
    trend: PsfsTrend | None
    high_risk: str | None  # STarT Back high risk: the NG59 advice
    due: tuple[DueLink, ...]
    instruments: tuple[Instrument, ...]


def measures_panel(patient: Patient) -> MeasuresPanel:
    """Gather the patient's measures for the therapist (CLINICAL §8) in three queries."""
    instruments = available_instruments(patient.clinic)
    episode = current_episode(patient)
    views = [
        v
        for v in patient_measures(patient)
        if episode is not None and v.response.episode_id == episode.id
    ]
    summaries = []
    for slug, instrument in instruments.items():
        mine = [v for v in views if v.response.instrument == slug]
        if mine:
            summaries.append(InstrumentSummary(instrument, mine[-1], len(mine)))
    risk = next((s for s in summaries if s.instrument.slug == "start-back"), None)
    band = risk.latest.score.interpretation if risk is not None else None
    due = due_for(patient, utcnow(), loaded=(episode, [v.response for v in views]))
    return MeasuresPanel(
        patient,
        tuple(summaries),
        psfs_trend(patient, views),
        band.text if band is not None and band.band == "high" else None,
        tuple(DueLink(d.instrument, instruments[d.instrument].name, d.reason) for d in due),
        tuple(instruments.values()),
    )


def due_links(patient: Patient) -> list[DueLink]:
    """The questionnaires due today, as /today lists them (templates/measures/_due.html)."""
    instruments = available_instruments(patient.clinic)
    return [
        DueLink(d.instrument, instruments[d.instrument].name, d.reason)
        for d in due_for(patient, utcnow())
    ]


class MeasureForm(FlaskForm):
    """The questionnaire's fixed fields; the answers are read per the instrument's file."""

    id = HiddenField()
    instrument = HiddenField()


def _patient() -> Patient:
    patient = current_user.patient
    if patient is None:
        abort(404)
    return patient


def answers_from(instrument, formdata) -> list[dict]:  # type: ignore[no-untyped-def]
    """Read the answers of a questionnaire form: ``a-<item>`` values, ``l-<item>`` labels."""
    answers = []
    for item_id in instrument.item_ids:
        raw = (formdata.get(f"a-{item_id}") or "").strip()
        label = " ".join((formdata.get(f"l-{item_id}") or "").split())
        if instrument.patient_named is not None:
            if not raw and not label:
                continue  # an activity slot left empty (PSFS: 3 to 5 of them)
        elif not raw:
            continue
        item = instrument.item(item_id)
        # A scale answer is a whole number; a choice answer is its option's key, even "3".
        scale = item is None or item.kind is ItemKind.SCALE
        value: int | str = int(raw) if scale and raw.isdigit() and len(raw) <= 3 else raw
        answer: dict = {"item": item_id, "value": value}
        if instrument.patient_named is not None:
            answer["label"] = label
        answers.append(answer)
    return answers


def _item_errors(instrument, answers, errors: dict[str, str]) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Map the service's "answers[2].value" messages to the item they are about."""
    found: dict[str, str] = {}
    for field, message in errors.items():
        if field.startswith("answers[") and "]" in field:
            index = int(field[len("answers[") : field.index("]")])
            if index < len(answers):
                found.setdefault(answers[index]["item"], message)
                continue
        found.setdefault("form", message)
    return found


def _done(patient: Patient, instrument: Instrument, response_id: int) -> str:
    view = next(
        v for v in patient_measures(patient, instrument.slug) if v.response.id == response_id
    )
    return render_template("measures/done.html", instrument=instrument, view=view)


@bp.route("/measures", methods=["GET", "POST"])
@patient_required
def answer() -> str | tuple[str, int]:
    """List the questionnaires due, or show (and take) one of them."""
    patient = _patient()
    now = utcnow()
    instruments = available_instruments(patient.clinic)
    slug = request.values.get("instrument")
    instrument = instruments.get(slug) if slug else None
    if instrument is None:
        return render_template(
            "measures/index.html",
            due=due_for(patient, now),
            instruments=instruments,
        )
    form = MeasureForm()
    errors: dict[str, str] = {}
    answers: list[dict] = []
    if form.validate_on_submit():
        answers = answers_from(instrument, request.form)
        try:
            logged = submit_measure(
                patient,
                MeasureReport(
                    id=form.id.data or "",
                    instrument=instrument.slug,
                    completed_at=now,
                    answers=tuple(answers),
                ),
                by=current_user,
                now=now,
            )
        except ValidationFailed as exc:
            db.session.rollback()
            errors = _item_errors(instrument, answers, exc.errors)
        except Conflict:
            # The same form sent twice (a double tap, a resend after a slow answer): its
            # questionnaire is stored already, under this form's id; show it, store nothing.
            db.session.rollback()
            stored = find_reported(OutcomeResponse, patient.id, client_id(form.id.data))
            if stored is not None and stored.instrument == instrument.slug:
                return _done(patient, instrument, stored.id)
            flash(_("That questionnaire was already sent; here it is again to fill in."), "error")
            return redirect(url_for("measures.answer", instrument=instrument.slug))
        else:
            return _done(patient, instrument, logged.obj.id)
    if not form.id.data:
        form.id.data = str(uuid.uuid4())
    form.instrument.data = instrument.slug
    given = {a["item"]: a for a in answers}
    page = render_template(
        "measures/answer.html",
        instrument=instrument,
        form=form,
        carried=carried_for(patient, instrument),
        given=given,
        errors=errors,
        patient=patient,
    )
    return (page, 422) if errors else page


# ---------------------------------------------------------------------------- the therapist


class RequestForm(FlaskForm):
    instrument = HiddenField()


@bp.route("/measures/patients/<int:patient_id>")
@clinician_required
def patient_page(patient_id: int) -> str:
    """Show a patient's measures: scores, change against the MIC, the PSFS chart, what is due."""
    patient = get_patient_or_404(current_user, patient_id)
    audit.record(
        "measures.read",
        actor=current_user,
        patient=patient,
        object_type="patient",
        object_id=patient.id,
    )
    return render_template(
        "measures/patient.html",
        patient=patient,
        form=RequestForm(),
        measures_panel=measures_panel(patient),
    )


@bp.route("/measures/patients/<int:patient_id>/request", methods=["POST"])
@clinician_required
def request_page(patient_id: int) -> Response:
    """Ask the patient to complete a questionnaire now (it shows on their /today)."""
    patient = get_patient_or_404(current_user, patient_id)
    form = RequestForm()
    if form.validate_on_submit() and save(
        None,
        lambda: request_measure(patient, form.instrument.data or "", by=current_user, now=utcnow()),
    ):
        flash("Asked: it is on the patient's Today page now.", "success")
    return redirect(url_for("measures.patient_page", patient_id=patient.id))


# ---------------------------------------------------------------------------- the report


def _period() -> tuple[date, date, int | None]:
    """Read the period (default: the last 30 days up to today) and the therapist filter."""
    today = local_date(utcnow(), "UTC")
    end = _date_arg("end") or today
    start = _date_arg("start") or end - timedelta(days=29)
    if start > end:
        start, end = end, start
    therapist = request.args.get("therapist", type=int)
    return start, end, therapist


def _date_arg(name: str) -> date | None:
    try:
        value = date.fromisoformat(request.args.get(name) or "")
    except ValueError:
        return None
    return value if 2000 <= value.year <= 2100 else None


@bp.route("/admin/outcomes")
@admin_required
def outcomes() -> str:
    """Show the clinic's outcomes for a period, overall and per therapist."""
    start, end, therapist = _period()
    data = clinic_outcomes(current_user.clinic, start, end, utcnow(), therapist_id=therapist)
    return render_template("measures/outcomes.html", data=data, therapist=therapist)


@bp.route("/admin/outcomes.csv", endpoint="outcomes_csv")
@admin_required
def outcomes_csv_view() -> Response:
    """Download the outcomes report as CSV (safe from formula injection)."""
    start, end, therapist = _period()
    data = clinic_outcomes(current_user.clinic, start, end, utcnow(), therapist_id=therapist)
    name = f"outcomes-{start.isoformat()}-{end.isoformat()}.csv"
    return Response(
        outcomes_csv(data),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )

"""Record outcome measures once, say which are due, and compare scores (CLINICAL §8).

HTML pages, the JSON API, the demo seed and the alert loader all go through these functions;
the pure parts (scoring, schedule, change) live in ``app.measures``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from app import audit
from app.auth.models import User
from app.db import utcnow
from app.enums import Role
from app.errors import ValidationFailed
from app.extensions import db
from app.measures.catalog import available_instruments, instrument_or_error, rounded
from app.measures.instruments import (
    Change,
    Domain,
    Instrument,
    MeasureValidationError,
    Score,
    carried_activities,
    change,
    score,
    shipped_instruments,
)
from app.measures.schedule import REQUESTED, Due, due_measures
from app.patient.idempotency import (
    Logged,
    client_id,
    find_reported,
    insert_once,
    iso,
    payload_hash,
    replay,
)
from app.patient.models import MeasureRequest, OutcomeResponse, Patient
from app.patient.sessions import check_time
from app.programs.models import EpisodeOfCare
from app.programs.services import current_episode, recently_discharged
from app.timeutil import local_date, local_midnight

# ---------------------------------------------------------------------------- recording


@dataclass(frozen=True)
class MeasureReport:
    """A completed questionnaire as the phone (or the clinician) sends it (DESIGN §4)."""

    id: str
    instrument: str
    completed_at: datetime
    answers: Sequence[Mapping[str, Any]] = field(default_factory=tuple)

    def canonical(self) -> dict[str, Any]:
        """Return the report as plain data, times in UTC, for the idempotency hash."""
        return {
            "id": self.id,
            "instrument": self.instrument,
            "completed_at": iso(self.completed_at),
            "answers": [dict(answer) for answer in self.answers],
        }


def episode_responses(episode_id: int, instrument: str | None = None) -> list[OutcomeResponse]:
    """Return an episode's responses (of one instrument), oldest first."""
    query = sa.select(OutcomeResponse).where(OutcomeResponse.episode_id == episode_id)
    if instrument is not None:
        query = query.where(OutcomeResponse.instrument == instrument)
    return list(db.session.scalars(query.order_by(OutcomeResponse.recorded_at, OutcomeResponse.id)))


def stored_score(response: OutcomeResponse) -> Score:
    return Score.from_dict(response.result)


def measured_episode(patient: Patient, now: datetime) -> EpisodeOfCare | None:
    """The episode a questionnaire answered now belongs to: the current one, or the one a
    discharge has just ended (its discharge measures, CLINICAL §8)."""
    return current_episode(patient) or recently_discharged(
        patient, local_date(now, patient.timezone)
    )


def carried_for(patient: Patient, instrument: Instrument) -> tuple[tuple[str, str], ...]:
    """Return the (item, activity) pairs the patient named last time in this episode (PSFS)."""
    episode = measured_episode(patient, utcnow())
    if episode is None or instrument.patient_named is None:
        return ()
    previous = episode_responses(episode.id, instrument.slug)
    return carried_activities(instrument, stored_score(previous[-1]) if previous else None)


def submit_measure(patient: Patient, report: MeasureReport, *, by: User, now: datetime) -> Logged:
    """Score and store a completed questionnaire exactly once (idempotent by its client UUID).

    The same id with the same content returns the stored response (created=False), the same id
    with other content raises Conflict; any bad answer raises ValidationFailed naming each one
    ("answers[2].value") and nothing is stored. ``by`` is the patient, or the clinician entering
    it in clinic.
    """
    key = client_id(report.id)
    report_hash = payload_hash({**report.canonical(), "id": key})
    existing = find_reported(OutcomeResponse, patient.id, key)
    if existing is not None:
        return replay(existing, report_hash, "questionnaire")

    instrument = instrument_or_error(report.instrument, available_instruments(patient.clinic))
    errors: dict[str, str] = {}
    episode = measured_episode(patient, now)
    if episode is None:
        errors["completed_at"] = _("Questionnaires start with the first program.")
    else:
        started = local_midnight(episode.start_date, patient.timezone)
        check_time(
            errors,
            "completed_at",
            report.completed_at,
            now,
            not_before=started,
            too_early=_("This time is before the episode of care started."),
        )
    result: Score | None = None
    try:
        result = score(instrument, list(report.answers))
    except MeasureValidationError as exc:
        errors.update(exc.errors)
    if result is not None and episode is not None:
        errors.update(_carried_errors(patient, instrument, report.answers))
    if errors or result is None or episode is None:
        raise ValidationFailed(errors, _("Some answers need your attention."))

    first_subscale = next(iter(result.subscores.values()), None)
    response = OutcomeResponse(
        patient_id=patient.id,
        episode_id=episode.id,
        client_id=key,
        instrument=instrument.slug,
        version=instrument.version,
        answers={"answers": [dict(answer) for answer in report.answers]},
        result=result.to_dict(),
        score=rounded(result.score),
        subscale_score=rounded(first_subscale),
        recorded_at=report.completed_at,
        local_date=local_date(report.completed_at, patient.timezone),
        entered_by_id=by.id,
        in_clinic=by.role is not Role.PATIENT,
        payload_hash=report_hash,
        created_at=now,
    )
    stored = insert_once(response)
    if stored is not response:
        return replay(stored, report_hash, "questionnaire")
    # Every change is audited (DESIGN §6), the patient's own answers too.
    audit.record(
        "measure.create",
        actor=by,
        patient=patient,
        object_type="outcome_response",
        object_id=response.id,
        details={"instrument": instrument.slug},
        now=now,
    )
    if instrument.domain is Domain.FUNCTION:
        # CLINICAL §5: a function gain changes NON_RESPONSE_6W's severity at once.
        from app.alerts.engine import evaluate_patients

        evaluate_patients([patient.id], now)
    return Logged(response, True)


def _carried_errors(
    patient: Patient, instrument: Instrument, answers: Sequence[Mapping[str, Any]]
) -> dict[str, str]:
    """PSFS re-rates the activities named the first time (CLINICAL §8): refuse others."""
    carried = dict(carried_for(patient, instrument))
    if not carried:
        return {}
    errors: dict[str, str] = {}
    given = {str(answer.get("item")): index for index, answer in enumerate(answers)}
    for index, answer in enumerate(answers):
        item = str(answer.get("item"))
        label = " ".join(str(answer.get("label") or "").split())
        if item not in carried:
            errors[f"answers[{index}].item"] = _(
                "rate the same activities as last time (items %(items)s)",
                items=", ".join(sorted(carried)),
            )
        elif label.casefold() != carried[item].casefold():
            errors[f"answers[{index}].label"] = _(
                'item "%(item)s" is "%(activity)s", the activity you named last time',
                item=item,
                activity=carried[item],
            )
    missing = [item for item in carried if item not in given]
    if missing:
        listed = ", ".join(f'"{carried[item]}"' for item in missing)
        errors["answers"] = _(
            "rate every activity you named last time: %(activities)s missing", activities=listed
        )
    return errors


# ---------------------------------------------------------------------------- due and requested


def due_for(
    patient: Patient,
    now: datetime,
    *,
    loaded: tuple[EpisodeOfCare | None, Sequence[OutcomeResponse]] | None = None,
) -> list[Due]:
    """Return the measures due today for the patient's current episode (CLINICAL §8).

    A therapist's request is pending until a response recorded after it was made (by instant:
    a PSFS done this morning does not answer a request made this afternoon). A caller that has
    already loaded the current episode and its responses passes them as ``loaded``.
    """
    current, responses = loaded if loaded is not None else (current_episode(patient), None)
    today = local_date(now, patient.timezone)
    discharge_on = None
    if current is None:
        # CLINICAL §8: after a discharge, the measures due at discharge, for a while.
        current, responses = recently_discharged(patient, today), None
        if current is None:
            return []
        discharge_on = current.ended_on
    if responses is None:
        completed = db.session.execute(
            sa.select(
                OutcomeResponse.instrument, OutcomeResponse.local_date, OutcomeResponse.recorded_at
            ).where(OutcomeResponse.episode_id == current.id)
        ).all()
    else:
        completed = [
            (r.instrument, r.local_date, r.recorded_at)
            for r in responses
            if r.episode_id == current.id
        ]
    requests = db.session.execute(
        sa.select(
            MeasureRequest.instrument, MeasureRequest.requested_on, MeasureRequest.created_at
        ).where(MeasureRequest.episode_id == current.id, MeasureRequest.requested_on <= today)
    ).all()
    instruments = available_instruments(patient.clinic)
    if discharge_on is not None:  # only the measures due at discharge, once the episode ended
        instruments = {k: i for k, i in instruments.items() if i.schedule.discharge}
    due = due_measures(
        instruments.values(),
        current.start_date,
        today,
        [(r[0], r[1]) for r in completed],
        discharge_on=discharge_on,
    )
    listed = {entry.instrument for entry in due}
    for slug, requested_on, asked_at in sorted(requests, key=lambda r: r[2], reverse=True):
        if slug in listed or slug not in instruments:
            continue
        if not any(r[0] == slug and r[2] >= asked_at for r in completed):
            due.append(Due(slug, requested_on, REQUESTED))
        listed.add(slug)  # the latest request of an instrument decides
    return sorted(due, key=lambda entry: entry.due_date)


def request_measure(patient: Patient, slug: str, *, by: User, now: datetime) -> MeasureRequest:
    """Ask the patient to complete a measure now; it is due from today (their local date)."""
    instrument = instrument_or_error(slug, available_instruments(patient.clinic))
    episode = current_episode(patient)
    if episode is None:
        raise ValidationFailed(
            {"instrument": "Assign a program first: measures belong to an episode of care."}
        )
    request = MeasureRequest(
        patient_id=patient.id,
        episode_id=episode.id,
        instrument=instrument.slug,
        requested_on=local_date(now, patient.timezone),
        requested_by_id=by.id,
        created_at=now,
    )
    db.session.add(request)
    db.session.flush()
    audit.record(
        "measure.request",
        actor=by,
        patient=patient,
        object_type="measure_request",
        object_id=request.id,
        details={"instrument": instrument.slug},
        now=now,
    )
    return request


# ---------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class MeasureView:
    """A stored response with its exact score and its change against the episode's first."""

    response: OutcomeResponse
    instrument: Instrument | None
    score: Score
    change: Change | None  # None for the first of its instrument in the episode

    @property
    def mic_met(self) -> bool | None:
        return None if self.change is None else self.change.mic_met


def measure_views(responses: Iterable[OutcomeResponse]) -> list[MeasureView]:
    """Return responses (oldest first) each compared with the first of its kind in its episode."""
    instruments = dict(shipped_instruments()) | dict(available_instruments())
    firsts: dict[tuple[int | None, str], Score] = {}
    views = []
    ordered = sorted(responses, key=lambda r: (r.recorded_at, r.id))
    for response in ordered:
        result = stored_score(response)
        group = (response.episode_id, response.instrument)
        instrument = instruments.get(response.instrument)
        found = None
        if group in firsts and instrument is not None and instrument.slug == result.instrument:
            found = change(instrument, firsts[group], result)
        firsts.setdefault(group, result)
        views.append(MeasureView(response, instrument, result, found))
    return views


def patient_measures(patient: Patient, instrument: str | None = None) -> list[MeasureView]:
    """Return the patient's measures, oldest first, with change against the episode's first."""
    query = sa.select(OutcomeResponse).where(OutcomeResponse.patient_id == patient.id)
    if instrument is not None:
        query = query.where(OutcomeResponse.instrument == instrument)
    return measure_views(db.session.scalars(query))


def latest_in_episode(patient: Patient, instrument: str) -> MeasureView | None:
    """Return the latest response of an instrument in the current episode, if any."""
    episode = current_episode(patient)
    if episode is None:
        return None
    responses = episode_responses(episode.id, instrument)
    return measure_views(responses)[-1] if responses else None

"""Fill the export's plain records from the database, in a fixed handful of queries.

The numbers are the pages' own: adherence comes from the patient's one assessment, dosage text
from the formatter the builder and the handout use. The export holds the whole history of the
patient (every program, every reading), since it is the record that leaves with them.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.alerts.models import Alert
from app.assessment import assess_patient
from app.enums import OPEN_ALERT_STATUSES
from app.export.records import (
    AdherenceRecord,
    AlertRecord,
    AnswerOption,
    ClinicRecord,
    ExportRecords,
    InstrumentItem,
    InstrumentRecord,
    MeasureAnswer,
    MeasureRecord,
    PainKind,
    PainReading,
    PatientRecord,
    ProgramItemRecord,
    ProgramRecord,
    RedFlagScreenRecord,
    Source,
    StageChangeRecord,
    StatusChangeRecord,
)
from app.extensions import db
from app.formatting import dose_label
from app.measures.catalog import available_instruments
from app.measures.instruments import Instrument, ItemKind
from app.patient.models import CheckIn, OutcomeResponse, Patient, Session, SessionExercise
from app.programs.models import Program, ProgramItem


def _name(user: object | None) -> str | None:
    return getattr(user, "name", None)


def _program(program: Program) -> ProgramRecord:
    stage = program.template.stage(program.stage) if program.template else None
    items = program.items if program.status.value != "ended" else program.all_items
    return ProgramRecord(
        id=program.id,
        title=program.template.name if program.template else "Custom program",
        status=program.status.value,
        stage=program.stage,
        stage_name=stage.name if stage else None,
        start_date=program.start_date,
        end_date=program.ended_at.date() if program.ended_at else None,
        created_at=program.created_at,
        weekdays=tuple(program.weekdays),
        sessions_per_week=program.sessions_per_week,
        items=tuple(
            ProgramItemRecord(
                id=item.id,
                exercise_slug=item.exercise.slug,
                exercise_name=item.exercise.name,
                dosage_text=dose_label(item) or item.exercise.name,
                position=item.position,
            )
            for item in items
        ),
        stage_history=tuple(
            StageChangeRecord(
                to_stage=c.to_stage,
                from_stage=c.from_stage,
                direction=c.direction.value,
                effective_date=c.effective_date,
                reason=c.reason,
                changed_by=_name(c.changed_by),
            )
            for c in program.stage_changes
        ),
        status_history=tuple(
            StatusChangeRecord(
                status=c.status.value,
                local_date=c.local_date,
                reason=c.reason,
                changed_by=_name(c.changed_by),
            )
            for c in program.status_changes
        ),
    )


def _session_readings(session: Session) -> list[PainReading]:
    common = {
        "instant": session.completed_at,
        "source": Source.SESSION,
        "source_id": session.client_id,
        "program_id": session.program_id,
    }
    readings = [PainReading(kind=PainKind.BEFORE, value=session.pain_before, **common)]
    for result in session.exercises:
        if result.pain_during is not None:
            readings.append(
                PainReading(
                    kind=PainKind.DURING,
                    value=result.pain_during,
                    item_id=result.program_item_id,
                    exercise_name=result.program_item.exercise.name,
                    **common,
                )
            )
    if session.pain_after is not None:
        readings.append(PainReading(kind=PainKind.AFTER, value=session.pain_after, **common))
    return readings


def instrument_record(instrument: Instrument) -> InstrumentRecord:
    """Describe an instrument file for the export's Questionnaire (CLINICAL §8, §9)."""
    named = instrument.patient_named
    if named is not None:
        # PSFS: each slot is an activity the patient names; the answer carries its name.
        items = tuple(InstrumentItem(slot, named.question, "integer") for slot in named.slots)
    else:
        items = tuple(
            InstrumentItem(item.id, item.text, "integer")
            if item.kind is ItemKind.SCALE
            else InstrumentItem(
                item.id,
                item.text,
                "choice",
                tuple(AnswerOption(o.value, o.label) for o in item.options),
            )
            for item in instrument.items
        )
    return InstrumentRecord(
        instrument.slug, instrument.name, instrument.version, items, instrument.licence
    )


def _measures(patient: Patient) -> tuple[MeasureRecord, ...]:
    instruments = available_instruments()
    records = []
    for response in db.session.scalars(
        sa.select(OutcomeResponse)
        .where(OutcomeResponse.patient_id == patient.id)
        .order_by(OutcomeResponse.recorded_at, OutcomeResponse.id)
    ):
        instrument = instruments.get(response.instrument)
        if instrument is None or instrument.version != response.version:
            continue  # an instrument the deployment no longer describes: nothing to map it to
        records.append(
            MeasureRecord(
                id=response.client_id,
                instrument=instrument_record(instrument),
                recorded_at=response.recorded_at,
                answers=tuple(
                    MeasureAnswer(str(a["item"]), a["value"], a.get("label"))
                    for a in response.answers.get("answers", [])
                ),
                score=response.score,
                subscale_score=response.subscale_score,
            )
        )
    return tuple(records)


def export_records(patient: Patient, now: datetime) -> ExportRecords:
    """Everything one patient's export holds, read in eight queries whatever the history."""
    programs = list(
        db.session.scalars(
            sa.select(Program)
            .where(Program.patient_id == patient.id)
            .options(
                selectinload(Program.template),
                selectinload(Program.all_items).selectinload(ProgramItem.exercise),
                selectinload(Program.items).selectinload(ProgramItem.exercise),
                selectinload(Program.stage_changes),
                selectinload(Program.status_changes),
            )
            .order_by(Program.created_at, Program.id)
        )
    )
    sessions = db.session.scalars(
        sa.select(Session)
        .where(Session.patient_id == patient.id)
        .options(
            selectinload(Session.exercises)
            .selectinload(SessionExercise.program_item)
            .selectinload(ProgramItem.exercise)
        )
        .order_by(Session.completed_at, Session.id)
    )
    check_ins = list(
        db.session.scalars(
            sa.select(CheckIn)
            .where(CheckIn.patient_id == patient.id)
            .options(selectinload(CheckIn.red_flags))
            .order_by(CheckIn.recorded_at, CheckIn.id)
        )
    )
    alerts = db.session.scalars(
        sa.select(Alert)
        .where(Alert.patient_id == patient.id, Alert.status.in_(OPEN_ALERT_STATUSES))
        .order_by(Alert.created_at, Alert.id)
    )
    readings = [reading for session in sessions for reading in _session_readings(session)]
    readings += [
        PainReading(
            kind=PainKind.MORNING,
            value=c.morning_pain,
            instant=c.recorded_at,
            source=Source.CHECK_IN,
            source_id=c.client_id,
        )
        for c in check_ins
        if c.morning_pain is not None
    ]
    assessment = assess_patient(patient, now)
    adherence = assessment.adherence
    current = next((p for p in programs if p.status.value != "ended"), None)
    return ExportRecords(
        patient=PatientRecord(
            id=patient.id,
            name=patient.name,
            email=patient.user.email,
            phone=patient.phone,
            active=patient.archived_at is None,
        ),
        clinic=ClinicRecord(
            id=patient.clinic_id, name=patient.clinic.name, phone=patient.clinic.phone
        ),
        programs=tuple(_program(p) for p in programs),
        pain_readings=tuple(readings),
        measures=_measures(patient),
        adherence=AdherenceRecord(
            value=adherence.ratio,
            window_start=adherence.window_start,
            window_end=adherence.window_end,
            computed_at=now,
            completed_sessions=adherence.completed,
            scheduled_sessions=adherence.scheduled,
            program_id=current.id if current else None,
        )
        if adherence is not None
        else None,
        red_flag_screens=tuple(
            RedFlagScreenRecord(
                id=c.client_id,
                recorded_at=c.recorded_at,
                answers={answer.question: answer.answer for answer in c.red_flags},
            )
            for c in check_ins
            if c.red_flags
        ),
        alerts=tuple(
            AlertRecord(
                id=a.id,
                kind=a.kind.value,
                severity=a.severity.value,
                status=a.status.value,
                reason=a.reason,
                created_at=a.created_at,
            )
            for a in alerts
        ),
    )

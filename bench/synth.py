"""Synthetic clinics for the benchmarks: many patients with long, realistic histories.

History rows are bulk-inserted (a year for 300 patients is ~200,000 rows; replaying them one by
one through the services would take hours), then the engine computes summaries and alerts the
same way the nightly sweep does. The benchmarks measure the pages and commands, not this setup.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.auth.models import Clinic, User
from app.auth.passwords import hash_password
from app.enums import CheckInKind, ItemStatus, Light, ProgramStatus, Role, StageDirection
from app.extensions import db
from app.patient.models import CheckIn, Patient, Session, SessionExercise
from app.programs.content import BUILTIN_TEMPLATE, load_builtin_content
from app.programs.models import (
    EpisodeOfCare,
    Program,
    ProgramItem,
    ProgramStatusChange,
    RoutineTemplate,
    ScheduleChange,
    StageChange,
)

PASSWORD = "benchmark-password"
TZ = "Europe/London"
WEEKDAYS = [0, 1, 2, 3, 4]


@dataclass
class Synthetic:
    clinic: Clinic
    therapist: User
    patient_ids: list[int]


def bench_app(url: str):  # type: ignore[no-untyped-def]
    """An app on `url` with the schema built, cheap hashing and no CSRF or rate limits."""
    from app import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": False,
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_KIB": 1024,
        }
    )
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    return app


def _at(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(TZ)).astimezone(UTC)


def build_clinic(
    patients: int,
    days: int,
    now: datetime,
    *,
    seed: int = 7,
    with_exercise_rows: bool = True,
    name: str = "Benchmark Clinic",
) -> Synthetic:
    """Create a clinic whose therapist has `patients` patients with `days` days of history."""
    rng = random.Random(seed)
    load_builtin_content(now)
    template = db.session.scalar(
        sa.select(RoutineTemplate).where(RoutineTemplate.slug == BUILTIN_TEMPLATE)
    )
    stage = template.stage(2)
    exercises = [link.exercise for link in stage.default_exercises]
    clinic = Clinic(name=name, created_at=now)
    db.session.add(clinic)
    db.session.flush()
    therapist = User(
        clinic_id=clinic.id,
        role=Role.THERAPIST,
        name="Bench Therapist",
        email=f"bench-{seed}-{uuid.uuid4().hex[:6]}@example.org",
        password_hash=hash_password(PASSWORD),
        last_login_at=now,
        created_at=now,
    )
    db.session.add(therapist)
    db.session.flush()
    today = now.astimezone(ZoneInfo(TZ)).date()
    start = today - timedelta(days=days - 1)
    ids: list[int] = []
    for n in range(patients):
        user = User(
            clinic_id=clinic.id,
            role=Role.PATIENT,
            name=f"Patient {n:05d} {rng.choice('ABCDEFGHJKLMNPRSTVW')}.",
            email=f"p{seed}-{n}-{uuid.uuid4().hex[:6]}@example.org",
            password_hash="x",
            last_login_at=now,
            created_at=now,
        )
        db.session.add(user)
        db.session.flush()
        patient = Patient(
            user_id=user.id,
            clinic_id=clinic.id,
            therapist_id=therapist.id,
            timezone=TZ,
            intake_pain=rng.randint(3, 8),
            created_at=_at(start, 9, 0),
        )
        db.session.add(patient)
        db.session.flush()
        ids.append(patient.id)
        episode = EpisodeOfCare(
            patient_id=patient.id,
            start_date=start,
            created_by_id=therapist.id,
            created_at=_at(start, 9, 0),
        )
        db.session.add(episode)
        db.session.flush()
        program = Program(
            patient_id=patient.id,
            episode_id=episode.id,
            template_id=template.id,
            stage=2,
            sessions_per_week=5,
            weekdays=WEEKDAYS,
            start_date=start,
            stage_started_on=start,
            status=ProgramStatus.ACTIVE,
            created_by_id=therapist.id,
            created_at=_at(start, 9, 0),
        )
        db.session.add(program)
        db.session.flush()
        db.session.add_all(
            [
                StageChange(
                    program_id=program.id,
                    to_stage=2,
                    direction=StageDirection.ASSIGN,
                    reason="Assigned",
                    effective_date=start,
                    changed_by_id=therapist.id,
                    created_at=_at(start, 9, 0),
                ),
                ScheduleChange(
                    program_id=program.id,
                    sessions_per_week=5,
                    weekdays=WEEKDAYS,
                    effective_date=start,
                    changed_by_id=therapist.id,
                    created_at=_at(start, 9, 0),
                ),
                ProgramStatusChange(
                    program_id=program.id,
                    status=ProgramStatus.ACTIVE,
                    reason="Assigned",
                    local_date=start,
                    changed_by_id=therapist.id,
                    created_at=_at(start, 9, 0),
                ),
            ]
        )
        items = []
        for position, exercise in enumerate(exercises, start=1):
            item = ProgramItem(
                program_id=program.id,
                exercise_id=exercise.id,
                position=position,
                added_at=_at(start, 0, 0),
                **exercise.copy_dosage(),
            )
            items.append(item)
        db.session.add_all(items)
        db.session.flush()
        _history(patient.id, program.id, items, start, today, now, rng, with_exercise_rows)
    db.session.flush()
    return Synthetic(clinic, therapist, ids)


def _history(
    patient_id: int,
    program_id: int,
    items: list[ProgramItem],
    start: date,
    today: date,
    now: datetime,
    rng: random.Random,
    with_exercise_rows: bool,
) -> None:
    """Bulk-insert a varied history: improving, flat, worsening or fading adherence."""
    shape = rng.choice(("improving", "flat", "worsening", "fading", "improving", "flat"))
    first = rng.randint(4, 8)
    adherence = rng.uniform(0.55, 0.98)
    days = (today - start).days + 1
    sessions, check_ins = [], []
    for offset in range(days):
        day = start + timedelta(days=offset)
        progress = offset / max(1, days - 1)
        pain = {
            "improving": first - 3 * progress,
            "flat": first,
            "worsening": first + 2 * progress,
            "fading": first - 1 * progress,
        }[shape]
        p = adherence * (0.3 if shape == "fading" and progress > 0.7 else 1)
        if day.weekday() in WEEKDAYS and rng.random() < p:
            completed_at = _at(day, 18, rng.randint(0, 59))
            if completed_at <= now:
                before = max(0, min(10, round(pain + rng.choice((-1, 0, 0, 1)))))
                sessions.append(
                    {
                        "patient_id": patient_id,
                        "program_id": program_id,
                        "client_id": str(uuid.uuid4()),
                        "started_at": completed_at - timedelta(minutes=15),
                        "completed_at": completed_at,
                        "local_date": day,
                        "stage": 2,
                        "pain_before": before,
                        "pain_after": before,
                        "peak_pain": min(10, before + rng.choice((0, 0, 1))),
                        "effort": rng.randint(2, 7),
                        "notes": "",
                        "prescribed_items": len(items),
                        "completed_items": len(items),
                        "completed": True,
                        "light": rng.choice((Light.GREEN, Light.GREEN, Light.AMBER)),
                        "light_provisional": False,
                        "payload_hash": hashlib.sha256(str(rng.random()).encode()).hexdigest(),
                        "created_at": completed_at,
                    }
                )
        if rng.random() < 0.7:
            recorded_at = _at(day, 8, rng.randint(0, 59))
            if recorded_at <= now:
                check_ins.append(
                    {
                        "patient_id": patient_id,
                        "client_id": str(uuid.uuid4()),
                        "kind": CheckInKind.MORNING,
                        "recorded_at": recorded_at,
                        "local_date": day,
                        "morning_pain": max(0, min(10, round(pain + rng.choice((-1, 0, 1))))),
                        "self_care": [],
                        "red_flag_level": "none",
                        "full_screen": False,
                        "payload_hash": hashlib.sha256(str(rng.random()).encode()).hexdigest(),
                        "created_at": recorded_at,
                    }
                )
    if sessions:
        db.session.execute(sa.insert(Session), sessions)
    if check_ins:
        db.session.execute(sa.insert(CheckIn), check_ins)
    if with_exercise_rows and sessions:
        ids = db.session.scalars(
            sa.select(Session.id).where(Session.patient_id == patient_id).order_by(Session.id)
        ).all()
        rows = [
            {
                "session_id": sid,
                "program_item_id": item.id,
                "exercise_id": item.exercise_id,
                "position": position,
                "status": ItemStatus.DONE,
                "sets_done": item.sets,
            }
            for sid in ids
            for position, item in enumerate(items, start=1)
        ]
        db.session.execute(sa.insert(SessionExercise), rows)


__all__ = ["PASSWORD", "Synthetic", "build_clinic"]

"""The demo clinic: people and weeks of realistic history, replayed through the services.

Every event goes through the same services as the app (create patient, assign program, change
stage, log session, record check-in), each with the `now` at which it happened, so the history
is what real use would have stored. Nothing is written around the services. Re-running changes
nothing: an existing demo clinic is left alone.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from app.alerts.engine import active_patient_ids, evaluate_patients
from app.alerts.models import Alert
from app.alerts.services import acknowledge_alert, resolve_alert
from app.auth.models import Clinic, User
from app.auth.services import (
    Acceptance,
    accept_invitation,
    create_user,
    find_invitation,
    get_or_create_clinic,
)
from app.clinical.red_flags import WEEKLY_IDS
from app.enums import (
    OPEN_ALERT_STATUSES,
    AlertAction,
    AlertKind,
    AlertStatus,
    ProgramStatus,
    Role,
)
from app.extensions import db
from app.measures.services import MeasureReport, submit_measure
from app.patient.check_ins import CheckInReport, record_check_in
from app.patient.enrolment import NewPatient, invite_patient
from app.patient.models import Patient
from app.patient.sessions import ExerciseResult, SessionReport, log_session
from app.programs.content import BUILTIN_TEMPLATE, load_builtin_content
from app.programs.models import Program
from app.programs.services import Assignment, assign_program, change_stage
from app.timeutil import at_local, local_date

DEMO_CLINIC = "Homestretch Demo Clinic"
DEMO_PASSWORD = "homestretch-demo"
ADMIN = ("admin@example.com", "Dana Reyes")
THERAPISTS = (("alex@example.com", "Alex Morgan"), ("sam@example.com", "Sam Patel"))
SKIP_REASONS = ("Too sore today", "Ran out of time", "Could not get down to the floor")
NOTES = (
    "Felt stiff at the start, easier by the end.",
    "Did it after work, a bit tired.",
    "Back felt looser afterwards.",
    "Hard to keep breathing during the holds.",
    "Walked the dog before the session.",
)


def _linear(start: float, end: float, over: int) -> Callable[[int], float]:
    """Pain that moves from `start` to `end` over `over` days, then stays."""
    return lambda day: start + (end - start) * min(day, over) / over


def _flat(value: float) -> Callable[[int], float]:
    return lambda _day: value


@dataclass(frozen=True)
class Persona:
    """One demo patient and the shape of their history."""

    key: str
    name: str
    therapist: int
    days: int  # program days so far; today is day `days` (0-based)
    pain: Callable[[int], float]
    timezone: str = "Europe/London"
    intake_pain: int | None = None
    adherence: Callable[[int], float] = lambda _day: 0.92
    response: Callable[[int], int] = lambda _day: 0  # points exercise adds to resting pain
    effort: Callable[[int], int] = lambda _day: 4
    stage: int = 1
    sessions_per_week: int | None = None
    stage_changes: tuple[tuple[int, int, str], ...] = ()
    red_flags: tuple[tuple[int, dict[str, bool]], ...] = ()
    intake_red_flags: dict[str, bool] = field(default_factory=dict)
    morning: Callable[[int], int | None] = lambda _day: None  # a forced morning pain
    has_email: bool = True
    accepts: bool = True
    goals: str = ""


def personas() -> tuple[Persona, ...]:
    return (
        Persona(
            "maria",
            "Maria Lopez",
            0,
            56,
            _linear(6, 2, 35),
            intake_pain=6,
            stage_changes=((21, 2, "Good control, green sessions"), (42, 3, "Ready for load")),
            goals="Garden for an hour without pain.",
        ),
        Persona(
            "james",
            "James Okafor",
            0,
            26,
            _flat(6),
            intake_pain=6,
            adherence=lambda _d: 0.97,
            response=lambda d: d % 2,
            effort=lambda _d: 5,
            goals="Sit through a full working day.",
        ),
        Persona(
            "priya",
            "Priya Shah",
            0,
            46,
            _flat(6.2),
            intake_pain=6,
            adherence=lambda _d: 0.96,
            response=lambda d: 1 if d % 3 == 0 else 0,
            stage_changes=((24, 2, "Completing stage 1 easily"),),
            goals="Pick up my daughter.",
        ),
        Persona(
            "tom",
            "Tom Becker",
            0,
            45,
            lambda d: 4 if d < 20 else min(7.0, 4 + (d - 20) * 0.14),
            intake_pain=4,
            adherence=lambda _d: 0.85,
            response=lambda _d: 1,
            goals="Get back to five-a-side football.",
        ),
        Persona(
            "aisha",
            "Aisha Karim",
            0,
            44,
            _linear(4.4, 3.6, 30),
            intake_pain=5,
            response=lambda d: 4 if d >= 40 else 0,
            morning=lambda d: 8 if d == 43 else None,
            stage_changes=((22, 2, "Steady progress"),),
            goals="Carry the shopping home.",
        ),
        Persona(
            "liam",
            "Liam Walsh",
            0,
            43,
            _linear(5, 4, 30),
            intake_pain=5,
            adherence=lambda d: 0.85 if d < 14 else 0.08,
            goals="Sleep through the night.",
        ),
        Persona(
            "sofia",
            "Sofia Rossi",
            0,
            30,
            _linear(5, 4, 30),
            intake_pain=5,
            red_flags=((29, {**dict.fromkeys(WEEKLY_IDS, False), "RF2": True}),),
            goals="Walk to work again.",
        ),
        Persona(
            "daniel",
            "Daniel Kim",
            1,
            48,
            _linear(5, 3.5, 40),
            intake_pain=5,
            red_flags=((46, {**dict.fromkeys(WEEKLY_IDS, False), "RF7": True}),),
            stage_changes=((23, 2, "Ready for isometric work"),),
            goals="Play with the kids on the floor.",
        ),
        Persona(
            "grace",
            "Grace Hughes",
            1,
            44,
            _linear(5, 3, 35),
            intake_pain=5,
            red_flags=((41, {**dict.fromkeys(WEEKLY_IDS, False), "RF10": True}),),
            intake_red_flags={"RF9": False, "RF12": False},
            goals="Drive for an hour.",
        ),
        Persona(
            "omar",
            "Omar Haddad",
            1,
            50,
            _linear(5, 2, 30),
            intake_pain=5,
            adherence=lambda _d: 0.98,
            effort=lambda _d: 3,
            stage_changes=((30, 2, "Braced holds 10 × 10 s with normal breathing confirmed"),),
            goals="Return to the gym.",
        ),
        Persona(
            "eva",
            "Eva Novak",
            1,
            45,
            _linear(6, 5.2, 40),
            intake_pain=6,
            adherence=lambda _d: 0.6,
            response=lambda d: 1 if d % 2 else 0,
            goals="Stand at work without a break.",
        ),
        Persona(
            "noah",
            "Noah Fischer",
            1,
            84,
            _linear(4, 1, 50),
            timezone="America/New_York",
            intake_pain=4,
            adherence=lambda _d: 0.95,
            effort=lambda _d: 3,
            stage_changes=(
                (14, 2, "Braced holds confirmed"),
                (35, 3, "Green sessions, low effort"),
                (56, 4, "Ready for function"),
            ),
            goals="Lift boxes at work.",
        ),
        Persona(
            "ben",
            "Ben Carter",
            1,
            49,
            _linear(7, 4, 42),
            timezone="America/Chicago",
            intake_pain=7,
            stage=2,
            sessions_per_week=3,
            intake_red_flags={"RF9": False, "RF12": True},
            goals="Mow the lawn.",
        ),
        Persona(
            "chloe",
            "Chloe Martin",
            0,
            0,
            _flat(5),
            intake_pain=5,
            has_email=False,
            accepts=False,
            goals="Understand what helps.",
        ),
    )


@dataclass
class SeedResult:
    created: bool
    logins: list[tuple[str, str]]
    patients: int = 0
    sessions: int = 0
    check_ins: int = 0
    measures: int = 0
    invitation_token: str | None = None


def demo_logins() -> list[tuple[str, str]]:
    return [
        ("admin", ADMIN[0]),
        *(("therapist", email) for email, _ in THERAPISTS),
        ("patient", "maria@example.com"),
        ("patient", "james@example.com"),
    ]


def seed_demo(now: datetime) -> SeedResult:
    """Create the demo clinic as of `now`, or do nothing if it exists."""
    if db.session.scalar(sa.select(Clinic.id).where(Clinic.name == DEMO_CLINIC)):
        return SeedResult(created=False, logins=demo_logins())
    load_builtin_content(now)
    setup = now - timedelta(days=120)
    clinic = get_or_create_clinic(DEMO_CLINIC, setup)
    # Numbers from Ofcom's drama range: a real clinic sets its own in /admin/settings.
    clinic.phone = "+44 20 7946 0018"
    clinic.emergency_number = "999"
    admin = create_user(
        clinic=clinic,
        role=Role.ADMIN,
        name=ADMIN[1],
        email=ADMIN[0],
        password=DEMO_PASSWORD,
        now=setup,
    )
    therapists = [
        create_user(
            clinic=clinic,
            role=Role.THERAPIST,
            name=name,
            email=email,
            password=DEMO_PASSWORD,
            now=setup,
            created_by=admin,
        )
        for email, name in THERAPISTS
    ]
    result = SeedResult(created=True, logins=demo_logins())
    for persona in personas():
        token = _replay(persona, clinic, therapists[persona.therapist], now, result)
        if token:
            result.invitation_token = token
        result.patients += 1
    # Every event above already re-evaluated its patient; one sweep at the final `now` moves
    # day-dependent rules (adherence, progress) to today, as the nightly sweep would.
    db.session.flush()
    evaluate_patients(active_patient_ids(), now)
    return result


class _History:
    """Deterministic randomness for one persona."""

    def __init__(self, key: str) -> None:
        self.rng = random.Random(f"homestretch-demo-{key}")
        self.last_before: int | None = None

    def noise(self) -> int:
        return self.rng.choice((-1, 0, 0, 0, 1))

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def minutes(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)


def _clamp(value: float) -> int:
    return max(0, min(10, round(value)))


def _uuid(persona: Persona, what: str, day: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"homestretch-demo:{persona.key}:{what}:{day}"))


def _replay(
    persona: Persona, clinic: Clinic, therapist: User, now: datetime, result: SeedResult
) -> str | None:
    tz = persona.timezone
    today = local_date(now, tz)
    start = today - timedelta(days=persona.days)
    history = _History(persona.key)
    intake_at = min(at_local(start - timedelta(days=3), 10, 0, tz), now - timedelta(minutes=30))
    invited = invite_patient(
        clinic,
        NewPatient(
            name=persona.name,
            timezone=tz,
            email=f"{persona.key}@example.com" if persona.has_email else None,
            intake_pain=persona.intake_pain,
            goals=persona.goals,
            intake_red_flags=persona.intake_red_flags,
        ),
        by=therapist,
        now=intake_at,
    )
    patient, token = invited.patient, invited.token
    if persona.accepts:
        invitation = find_invitation(token, intake_at)
        assert invitation is not None
        accept_invitation(
            invitation, Acceptance(password=DEMO_PASSWORD), intake_at + timedelta(minutes=20)
        )
        token = None
    assign_at = min(at_local(start, 9, 30, tz), now - timedelta(minutes=10))
    program = assign_program(
        patient,
        Assignment(
            template=BUILTIN_TEMPLATE,
            stage=persona.stage,
            sessions_per_week=persona.sessions_per_week,
            start_date=start,
        ),
        by=therapist,
        now=assign_at,
    )
    stage_changes = {day: (stage, reason) for day, stage, reason in persona.stage_changes}
    red_flags = dict(persona.red_flags)
    for day in range(persona.days + 1):
        on = start + timedelta(days=day)
        if day in stage_changes:
            stage, reason = stage_changes[day]
            at = at_local(on, 8, 15, tz)
            if at <= now:
                _advance(patient, program, stage, reason, therapist, at)
        if not persona.accepts:
            continue  # no account yet: nothing can be logged, whatever the time of day
        if day > 0:
            result.check_ins += _morning(persona, patient, history, day, on, red_flags, now)
        db.session.refresh(program, ["status"])
        if program.status is ProgramStatus.ACTIVE:
            result.sessions += _session(persona, patient, program, history, day, on, now)
        if day in MEASURE_DAYS:
            result.measures += _measures(persona, patient, day, on, now)
        review_at = at_local(on + timedelta(days=1), 12, 30, tz)
        if review_at <= now:
            _review_alerts(patient, therapist, review_at)
    return token


def _advance(
    patient: Patient, program: Program, stage: int, reason: str, therapist: User, at: datetime
) -> None:
    """Change stage the way a therapist would: through the ready-to-progress alert if open."""
    ready = db.session.scalar(
        sa.select(Alert).where(
            Alert.patient_id == patient.id,
            Alert.kind == AlertKind.READY_TO_PROGRESS,
            Alert.status.in_(OPEN_ALERT_STATUSES),
        )
    )
    if ready is not None and stage == program.stage + 1:
        resolve_alert(ready, AlertAction.PROGRESSED.value, reason, by=therapist, now=at)
    else:
        change_stage(program, stage, reason=reason, by=therapist, now=at)


def _review_alerts(patient: Patient, therapist: User, at: datetime) -> None:
    """The therapist's daily look: close alerts whose condition cleared, acknowledge the rest."""
    for alert in db.session.scalars(
        sa.select(Alert).where(
            Alert.patient_id == patient.id, Alert.status.in_(OPEN_ALERT_STATUSES)
        )
    ):
        if alert.condition_cleared_at is not None:
            resolve_alert(
                alert,
                AlertAction.NO_ACTION.value,
                "Reviewed; the condition has cleared.",
                by=therapist,
                now=at,
            )
        elif alert.status is AlertStatus.OPEN and at - alert.created_at > timedelta(days=2):
            acknowledge_alert(alert, by=therapist, now=at)


# CLINICAL §8: intake (program day 1), weeks 3, 6 and 12 — as 0-based days of the replay.
MEASURE_DAYS = (0, 20, 41, 83)
ACTIVITIES = (
    "Sitting through a film",
    "Lifting the shopping",
    "Putting on socks",
    "Walking to the shops",
    "Gardening for an hour",
    "Getting out of the car",
)


def _measures(persona: Persona, patient: Patient, day: int, on: date, now: datetime) -> int:
    """Answer the questionnaires due on this day in the evening, as the patient would.

    A separate random stream, so the sessions and check-ins stay as they were. PSFS follows
    the pain trend (less pain, more function); STarT Back at intake is higher for the flat ones.
    """
    rng = random.Random(f"homestretch-demo-measures-{persona.key}-{day}")
    at = at_local(on, 19, 30, persona.timezone)
    if at > now:
        return 0
    pain = persona.pain(day)
    picked = random.Random(f"homestretch-demo-activities-{persona.key}").sample(ACTIVITIES, 3)
    reports = [
        (
            "psfs",
            [
                {"item": str(n), "value": _clamp(9.5 - pain + rng.choice((-1, 0, 1))), "label": a}
                for n, a in enumerate(picked, start=1)
            ],
        )
    ]
    if day == 0:
        reports.append(("nprs", [{"item": "1", "value": _clamp(pain)}]))
        worried = persona.pain(persona.days) >= pain - 0.5  # those whose pain will not settle
        agree = [rng.random() < (0.7 if n <= 4 else 0.75 if worried else 0.2) for n in range(1, 9)]
        answers = [
            {"item": str(n), "value": "agree" if yes else "disagree"}
            for n, yes in enumerate(agree, start=1)
        ]
        answers.append({"item": "9", "value": "very much" if worried else "moderately"})
        reports.append(("start-back", answers))
    for offset, (slug, answers) in enumerate(reports):
        submit_measure(
            patient,
            MeasureReport(
                id=_uuid(persona, f"measure-{slug}", day),
                instrument=slug,
                completed_at=at + timedelta(minutes=offset),
                answers=answers,
            ),
            by=patient.user,
            now=at + timedelta(minutes=offset, seconds=30),
        )
    return len(reports)


def _morning(
    persona: Persona,
    patient: Patient,
    history: _History,
    day: int,
    on: date,
    red_flags: dict[int, dict[str, bool]],
    now: datetime,
) -> int:
    answers = red_flags.get(day)
    forced = persona.morning(day)
    weekly = day % 7 == 1
    if answers is None and forced is None and not history.chance(0.75):
        return 0
    at = at_local(on, 7, history.minutes(10, 55), persona.timezone)
    if at > now:
        return 0
    if answers is None and weekly:
        answers = dict.fromkeys(WEEKLY_IDS, False)
    pain = forced if forced is not None else _clamp(persona.pain(day) + history.noise())
    if forced is None and persona.response(day - 1) == 0 and history.last_before is not None:
        # A well-dosed session settles by the next morning (CLINICAL §4).
        pain = min(pain, history.last_before)
    record_check_in(
        patient,
        CheckInReport(
            id=_uuid(persona, "check-in", day),
            recorded_at=at,
            morning_pain=pain,
            red_flags=answers or {},
            self_care=("heat",) if pain >= 6 and history.chance(0.5) else (),
        ),
        now=at + timedelta(minutes=1),
    )
    return 1


def _session(
    persona: Persona,
    patient: Patient,
    program: Program,
    history: _History,
    day: int,
    on: date,
    now: datetime,
) -> int:
    scheduled = on.weekday() in program.weekdays
    if not history.chance(persona.adherence(day) if scheduled else 0.04):
        return 0
    started = at_local(on, 17, 0, persona.timezone) + timedelta(minutes=history.minutes(0, 150))
    completed = started + timedelta(minutes=history.minutes(9, 22))
    if completed > now:
        return 0
    before = _clamp(persona.pain(day) + history.noise())
    history.last_before = before
    response = persona.response(day)
    results = []
    for item in program.items:
        roll = history.rng.random()
        status = "done" if roll > 0.08 else ("partial" if roll > 0.03 else "skipped")
        pain_during = None
        if status != "skipped" and history.chance(0.6):
            pain_during = _clamp(before + response + history.rng.choice((-1, 0, 0, 0)))
        results.append(
            ExerciseResult(
                program_item_id=item.id,
                status=status,
                sets_done=item.sets if status == "done" else max(1, item.sets - 1),
                pain_during=pain_during,
                skip_reason=history.rng.choice(SKIP_REASONS) if status == "skipped" else None,
            )
        )
    log_session(
        patient,
        SessionReport(
            id=_uuid(persona, "session", day),
            program_id=program.id,
            started_at=started,
            completed_at=completed,
            pain_before=before,
            pain_after=_clamp(before + max(0, response - 1) + history.rng.choice((-1, 0, 0))),
            effort=max(0, min(10, persona.effort(day) + history.noise())),
            notes=history.rng.choice(NOTES) if history.chance(0.12) else "",
            exercises=tuple(results),
        ),
        now=completed + timedelta(minutes=1),
    )
    return 1
